use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::hash_secret;

/// Seconds a just-rotated refresh token may be presented again and get the same successor.
pub const DEFAULT_REUSE_GRACE_SECS: u32 = 30;

/// A new refresh token: 256 random bits, shown to the client once. The database keeps only
/// its hash, so a leaked database cannot be replayed as sessions.
pub struct RefreshToken {
    pub token: String,
    pub hash: String,
}

impl RefreshToken {
    pub fn generate() -> Self {
        Self::from_bytes(&rand::random::<[u8; 32]>())
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_secret(&token);
        Self { token, hash }
    }
}

/// How refresh tokens rotate: the key that makes each token's successor, and how long a
/// just-rotated token may be presented again.
///
/// The successor of a token is HMAC-SHA256(key, token) rather than random, so a token
/// presented a second time (two tabs refreshing at once) can be answered with the same
/// successor without the database ever holding a token in clear: the server recomputes it
/// and checks it against the stored hash. Without the key, a token says nothing about its
/// successor.
#[derive(Clone)]
pub struct RefreshRotation {
    key: [u8; 32],
    pub reuse_grace: chrono::Duration,
}

impl RefreshRotation {
    /// Keyed by `secret` (the access-token secret), so every process that shares
    /// SHOP_JWT_SECRET computes the same successors, and there is no second secret to
    /// configure, rotate and leak. The key is derived under a label of its own, so it is
    /// never the key that signs access tokens.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac_sha256(secret, b"shop refresh-token successor v1"),
            reuse_grace: chrono::Duration::seconds(i64::from(DEFAULT_REUSE_GRACE_SECS)),
        }
    }

    /// The token that replaces `token` when it is rotated.
    pub fn successor_of(&self, token: &str) -> RefreshToken {
        RefreshToken::from_bytes(&hmac_sha256(&self.key, token.as_bytes()))
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_successor_is_the_same_each_time_and_differs_from_its_token() {
        let rotation = RefreshRotation::new(&[7; 32]);
        let token = RefreshToken::generate();

        let first = rotation.successor_of(&token.token);
        let again = rotation.successor_of(&token.token);

        assert_eq!(first.token, again.token);
        assert_eq!(first.hash, hash_secret(&first.token));
        assert_ne!(first.token, token.token);
        assert_eq!(
            first.token.len(),
            token.token.len(),
            "same shape as a random token"
        );
    }

    #[test]
    fn another_key_makes_another_successor() {
        let token = RefreshToken::generate();

        let one = RefreshRotation::new(&[1; 32]).successor_of(&token.token);
        let other = RefreshRotation::new(&[2; 32]).successor_of(&token.token);

        assert_ne!(one.token, other.token);
    }
}
