//! What a checkout is given besides the address: how to pay, and a key that makes
//! repeating it safe.

use crate::{
    domain::{bounded, required},
    error::AppError,
};

/// The most characters a payment token or an idempotency key may have.
const MAX_CHARS: usize = 255;

/// The token of a payment method, as the payment form produced it (e.g. `tok_visa`):
/// handed to the gateway as it is, trimmed; 1 to 255 characters, none of them control
/// characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentToken(String);

impl PaymentToken {
    /// Parses the token the client sent as `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, AppError> {
        required(field, raw, MAX_CHARS).map(Self)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The client's key for one purchase attempt (trimmed, at most 255 characters): a checkout
/// repeated with the same key answers the same order and charges once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses the key the client sent as `field`, if any: an absent or blank key is none.
    pub fn parse(field: &str, raw: Option<&str>) -> Result<Option<Self>, AppError> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let key = bounded(field, raw, MAX_CHARS, false)?;
        Ok((!key.is_empty()).then_some(Self(key)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_token_is_trimmed_and_holds_1_to_255_characters() {
        let token =
            PaymentToken::parse("paymentToken", "  tok_visa ").map(PaymentToken::into_string);
        assert_eq!(token.ok().as_deref(), Some("tok_visa"));
        assert!(PaymentToken::parse("paymentToken", &"t".repeat(255)).is_ok());
        for bad in ["", "   ", &"t".repeat(256), "tok\u{0}visa", "tok\nvisa"] {
            assert_eq!(
                PaymentToken::parse("paymentToken", bad)
                    .err()
                    .as_ref()
                    .and_then(AppError::bad_input_field),
                Some("paymentToken"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn an_absent_or_blank_idempotency_key_is_no_key() {
        for none in [None, Some(""), Some("   ")] {
            assert_eq!(
                IdempotencyKey::parse("idempotencyKey", none).ok(),
                Some(None)
            );
        }
    }

    #[test]
    fn an_idempotency_key_is_trimmed_and_holds_at_most_255_characters() {
        let key = IdempotencyKey::parse("idempotencyKey", Some(" k-1 "))
            .ok()
            .flatten();
        assert_eq!(key.as_ref().map(IdempotencyKey::as_str), Some("k-1"));
        let longest = "k".repeat(255);
        assert!(matches!(
            IdempotencyKey::parse("idempotencyKey", Some(&longest)),
            Ok(Some(_))
        ));
        for bad in ["k".repeat(256), "k\u{7}".into(), "\u{202E}k".into()] {
            assert_eq!(
                IdempotencyKey::parse("idempotencyKey", Some(&bad))
                    .err()
                    .as_ref()
                    .and_then(AppError::bad_input_field),
                Some("idempotencyKey"),
                "{bad:?}"
            );
        }
    }
}
