//! Stripe's webhook signatures: `Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...]`,
//! where each `v1` is HMAC-SHA256 of `"<t>.<raw body>"` under the endpoint's signing
//! secret. Several `v1` entries appear while a secret is being rolled; any one matching is
//! enough. The timestamp is signed too, so a captured delivery cannot be replayed later
//! than the tolerance.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a signature's timestamp may be from our clock, as Stripe's own libraries allow.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// At most this many `v1` entries are tried: a real header has one or two, and each costs
/// an HMAC comparison.
const MAX_SIGNATURES: usize = 8;

/// An endpoint's signing secret (`whsec_...`), used as-is as the HMAC key. Its `Debug`
/// never shows it, so it cannot leak through a logged configuration.
#[derive(Clone)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("the Stripe webhook secret is empty".into());
        }
        Ok(Self(raw.to_owned()))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// Why a delivery was not accepted as coming from Stripe.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("no v1 signature matches the payload")]
    Mismatch,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
}

/// The parts of a `Stripe-Signature` header.
#[derive(Debug, PartialEq, Eq)]
struct SignatureHeader {
    timestamp: i64,
    signatures: Vec<Vec<u8>>,
}

/// Reads a header, tolerating what Stripe may add (other schemes such as `v0`, spaces)
/// and refusing anything ambiguous (two timestamps) or empty.
fn parse(header: &str) -> Result<SignatureHeader, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.split_once('=') else {
            return Err(SignatureError::Malformed);
        };
        match key.trim() {
            "t" => {
                let parsed = value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| SignatureError::Malformed)?;
                if timestamp.replace(parsed).is_some() {
                    return Err(SignatureError::Malformed);
                }
            }
            // An entry that is not hex cannot match; the others still may.
            "v1" if signatures.len() < MAX_SIGNATURES => {
                if let Ok(signature) = hex::decode(value.trim()) {
                    signatures.push(signature);
                }
            }
            _ => {}
        }
    }
    match timestamp {
        Some(timestamp) if !signatures.is_empty() => Ok(SignatureHeader {
            timestamp,
            signatures,
        }),
        _ => Err(SignatureError::Malformed),
    }
}

/// Checks that `payload` was signed with `secret` at a time within the tolerance of `now`
/// (unix seconds). Comparisons are constant-time.
pub fn verify(
    secret: &WebhookSecret,
    header: Option<&str>,
    payload: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let header = parse(header.ok_or(SignatureError::Missing)?)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.0.as_bytes())
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(header.timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    let matches = header
        .signatures
        .iter()
        .any(|signature| mac.clone().verify_slice(signature).is_ok());
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    // Checked after the signature, so only a genuine delivery learns that it was late.
    if now.abs_diff(header.timestamp) > SIGNATURE_TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// The header Stripe would send for `payload` at `timestamp`: for tests and tools that
/// play Stripe.
pub fn sign(secret: &WebhookSecret, payload: &[u8], timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.0.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    fn secret() -> WebhookSecret {
        WebhookSecret::parse("whsec_test_secret").expect("valid")
    }

    #[test]
    fn a_header_signed_with_the_secret_is_accepted() {
        let header = sign(&secret(), BODY, NOW);
        assert_eq!(verify(&secret(), Some(&header), BODY, NOW), Ok(()));
    }

    #[test]
    fn any_one_of_several_v1_signatures_may_match() {
        let good = sign(&secret(), BODY, NOW);
        let good_v1 = good.split_once(",v1=").expect("v1").1;
        let header = format!(
            "t={NOW},v1={},v0=abcdef, v1 = {good_v1},v1={}",
            "00".repeat(32),
            "zz-not-hex"
        );
        assert_eq!(verify(&secret(), Some(&header), BODY, NOW), Ok(()));
    }

    #[test]
    fn a_header_known_from_stripe_s_documentation_format_parses() {
        let parsed = parse("t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39")
            .expect("parses");
        assert_eq!(parsed.timestamp, 1_492_774_577);
        assert_eq!(parsed.signatures.len(), 1);
        assert_eq!(parsed.signatures[0].len(), 32);
    }

    #[test]
    fn a_changed_body_timestamp_or_secret_is_a_mismatch() {
        let header = sign(&secret(), BODY, NOW);
        assert_eq!(
            verify(&secret(), Some(&header), b"{}", NOW),
            Err(SignatureError::Mismatch)
        );
        let moved = header.replacen(&NOW.to_string(), &(NOW + 1).to_string(), 1);
        assert_eq!(
            verify(&secret(), Some(&moved), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        let other = WebhookSecret::parse("whsec_other").expect("valid");
        assert_eq!(
            verify(&other, Some(&header), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn timestamps_beyond_five_minutes_either_way_are_stale() {
        let old = sign(&secret(), BODY, NOW - 301);
        assert_eq!(
            verify(&secret(), Some(&old), BODY, NOW),
            Err(SignatureError::Stale)
        );
        let future = sign(&secret(), BODY, NOW + 301);
        assert_eq!(
            verify(&secret(), Some(&future), BODY, NOW),
            Err(SignatureError::Stale)
        );
        let edge = sign(&secret(), BODY, NOW - 300);
        assert_eq!(verify(&secret(), Some(&edge), BODY, NOW), Ok(()));
    }

    #[test]
    fn a_missing_header_is_missing() {
        assert_eq!(
            verify(&secret(), None, BODY, NOW),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn garbage_headers_are_malformed_and_never_panic() {
        let long = "v1=".repeat(10_000);
        let cases = [
            "",
            ",",
            "=",
            "t",
            "t=",
            "t=abc,v1=00",
            "v1=00",
            "t=1",
            "t=1,t=2,v1=00",
            "t=99999999999999999999999,v1=00",
            "t=-9223372036854775808,v1=zz",
            "t=1,v1=",
            "t=1,,v1=00",
            "\u{0}\u{ffff}=é",
            long.as_str(),
        ];
        for header in cases {
            let result = verify(&secret(), Some(header), BODY, NOW);
            assert!(result.is_err(), "{header:?} was accepted");
        }
        // Extreme timestamps must not overflow the tolerance check.
        for timestamp in [i64::MIN, i64::MAX] {
            let header = sign(&secret(), BODY, timestamp);
            assert_eq!(
                verify(&secret(), Some(&header), BODY, NOW),
                Err(SignatureError::Stale)
            );
        }
    }

    #[test]
    fn an_empty_secret_is_refused_and_a_secret_never_shows_in_debug() {
        assert!(WebhookSecret::parse("  ").is_err());
        assert_eq!(format!("{:?}", secret()), "WebhookSecret(..)");
    }
}
