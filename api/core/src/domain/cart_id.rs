//! How a client names a cart: a guest cart by its secret, a user's cart by its ID.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::{
    global_id::{GlobalId, NodeKind},
    secret::hash_secret,
};
use crate::error::AppError;

/// What every guest cart's secret starts with, so it is told apart from a user's cart ID.
const GUEST_PREFIX: &str = "guest_";
/// Random bytes in a guest cart's secret: 192 bits, base64url in 32 characters.
const SECRET_BYTES: usize = 24;

/// The secret that addresses a guest cart: whoever holds it may use the cart. Only its
/// hash is stored, so a leaked database does not hand out carts, and it is never logged
/// (its `Debug` hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct GuestSecret(String);

impl GuestSecret {
    pub fn generate() -> Self {
        let bytes: [u8; SECRET_BYTES] = rand::random();
        Self(format!("{GUEST_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A guest cart's secret, or `None` when `raw` cannot be one.
    fn parse(raw: &str) -> Option<Self> {
        let encoded = raw.strip_prefix(GUEST_PREFIX)?;
        let decoded = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        (decoded.len() == SECRET_BYTES).then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the database keeps of it.
    pub fn hash(&self) -> String {
        hash_secret(&self.0)
    }
}

impl fmt::Debug for GuestSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GuestSecret(..)")
    }
}

/// A cart as a client names it in a `cartId` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CartId {
    /// A guest's cart, by its secret.
    Guest(GuestSecret),
    /// A user's cart, by its ID (only its owner may use it).
    User(i32),
}

impl CartId {
    /// Anything that names no cart is NOT_FOUND, malformed or not: a client holding a
    /// cart id it did not get from the server has no cart, whatever the id looks like.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        if let Some(secret) = GuestSecret::parse(raw) {
            return Ok(Self::Guest(secret));
        }
        match GlobalId::parse(raw, "cartId") {
            Ok(GlobalId {
                kind: NodeKind::Cart,
                id,
            }) => Ok(Self::User(id)),
            _ => Err(AppError::NotFound("cart")),
        }
    }

    /// The guest cart's secret; a user's cart ID is NOT_FOUND where only a guest cart will
    /// do (merging).
    pub fn into_guest(self) -> Result<GuestSecret, AppError> {
        match self {
            Self::Guest(secret) => Ok(secret),
            Self::User(_) => Err(AppError::NotFound("cart")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_secret_is_random_prefixed_and_parses_back() {
        let secret = GuestSecret::generate();

        assert!(secret.as_str().starts_with("guest_"));
        assert_eq!(secret.as_str().len(), GUEST_PREFIX.len() + 32);
        assert_ne!(secret, GuestSecret::generate());
        assert_eq!(
            CartId::parse(secret.as_str()).ok(),
            Some(CartId::Guest(secret.clone()))
        );
        assert_eq!(secret.hash().len(), 64);
        assert!(!format!("{secret:?}").contains(&secret.as_str()[6..]));
    }

    #[test]
    fn a_users_cart_is_named_by_its_global_id() {
        let id = GlobalId::new(NodeKind::Cart, 7).to_string();

        assert_eq!(CartId::parse(&id).ok(), Some(CartId::User(7)));
    }

    #[test]
    fn anything_else_is_not_found() {
        let product = GlobalId::new(NodeKind::Product, 7).to_string();
        for raw in [
            "",
            "guest_",
            "guest_short",
            "nonsense",
            &product,
            "guest_!!!!",
        ] {
            assert!(
                matches!(CartId::parse(raw), Err(AppError::NotFound("cart"))),
                "{raw:?}"
            );
        }
    }
}
