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

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::any_text;

    fn any_secret() -> impl Strategy<Value = WebhookSecret> {
        "whsec_[!-~]{0,40}".prop_map(|raw| WebhookSecret::parse(&raw).expect("not empty"))
    }

    fn payload() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(any::<u8>(), 0..512)
    }

    /// A moment whose tolerance window does not overflow.
    fn timestamp() -> impl Strategy<Value = i64> {
        prop_oneof![
            0..4_000_000_000i64,
            (i64::MIN + SIGNATURE_TOLERANCE_SECS)..=(i64::MAX - SIGNATURE_TOLERANCE_SECS),
        ]
    }

    /// One entry of a header as Stripe or a forger might write it.
    fn entry() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|t| format!("t={t}")),
            "t=[ +-]?[0-9a-z]{0,21}",
            "v1=[0-9a-fA-F]{0,70}",
            "v1=[0-9a-z ]{0,8}",
            "v0=[0-9a-f]{0,64}",
            "[ ]?[a-z0-9]{0,3}[ ]?(=[^,]{0,8})?",
        ]
    }

    fn header() -> impl Strategy<Value = String> {
        prop_oneof![
            any_text(),
            prop::collection::vec(entry(), 0..12).prop_map(|entries| entries.join(",")),
        ]
    }

    proptest! {
        #[test]
        fn checking_any_header_never_panics(
            header in header(),
            payload in payload(),
            now in any::<i64>(),
        ) {
            let _ = verify(&WebhookSecret::parse("whsec_x").expect("valid"), Some(&header), &payload, now);
        }

        #[test]
        fn a_parsed_header_has_one_timestamp_and_one_to_eight_signatures(header in header()) {
            if let Ok(parsed) = parse(&header) {
                let timestamps = header
                    .split(',')
                    .filter(|entry| entry.split_once('=').is_some_and(|(k, _)| k.trim() == "t"))
                    .count();
                prop_assert_eq!(timestamps, 1);
                prop_assert!((1..=MAX_SIGNATURES).contains(&parsed.signatures.len()));
            }
        }

        #[test]
        fn a_payload_signed_with_the_secret_verifies_within_the_tolerance(
            secret in any_secret(),
            payload in payload(),
            signed_at in timestamp(),
            drift in -SIGNATURE_TOLERANCE_SECS..=SIGNATURE_TOLERANCE_SECS,
        ) {
            let header = sign(&secret, &payload, signed_at);
            prop_assert_eq!(verify(&secret, Some(&header), &payload, signed_at + drift), Ok(()));
        }

        #[test]
        fn a_genuine_signature_outside_the_tolerance_is_stale(
            secret in any_secret(),
            payload in payload(),
            signed_at in any::<i64>(),
            now in any::<i64>(),
        ) {
            prop_assume!(now.abs_diff(signed_at) > SIGNATURE_TOLERANCE_SECS.unsigned_abs());
            let header = sign(&secret, &payload, signed_at);
            prop_assert_eq!(
                verify(&secret, Some(&header), &payload, now),
                Err(SignatureError::Stale)
            );
        }

        #[test]
        fn any_single_byte_change_to_the_payload_is_a_mismatch(
            secret in any_secret(),
            payload in prop::collection::vec(any::<u8>(), 1..512),
            at in any::<prop::sample::Index>(),
            new_byte in any::<u8>(),
            signed_at in timestamp(),
        ) {
            let header = sign(&secret, &payload, signed_at);
            let mut changed = payload.clone();
            let i = at.index(changed.len());
            prop_assume!(changed[i] != new_byte);
            changed[i] = new_byte;
            prop_assert_eq!(
                verify(&secret, Some(&header), &changed, signed_at),
                Err(SignatureError::Mismatch)
            );
        }

        #[test]
        fn any_single_byte_change_to_the_header_is_refused_unless_it_recases_a_hex_digit(
            secret in any_secret(),
            payload in payload(),
            signed_at in timestamp(),
            at in any::<prop::sample::Index>(),
            new_byte in 0..0x80u8,
        ) {
            let header = sign(&secret, &payload, signed_at);
            let mut bytes = header.clone().into_bytes();
            let i = at.index(bytes.len());
            let old = bytes[i];
            prop_assume!(old != new_byte);
            bytes[i] = new_byte;
            let changed = String::from_utf8(bytes).expect("ASCII");
            let in_signature = i > header.find("v1=").expect("a v1 entry") + 2;
            let recased = in_signature && old.eq_ignore_ascii_case(&new_byte);
            let result = verify(&secret, Some(&changed), &payload, signed_at);
            prop_assert_eq!(result.is_ok(), recased, "{} verified as {:?}", changed, result);
        }

        #[test]
        fn another_secret_or_timestamp_is_a_mismatch(
            secret in any_secret(),
            other in any_secret(),
            payload in payload(),
            signed_at in timestamp(),
            claimed_at in timestamp(),
        ) {
            let header = sign(&secret, &payload, signed_at);
            if other.0 != secret.0 {
                prop_assert_eq!(
                    verify(&other, Some(&header), &payload, signed_at),
                    Err(SignatureError::Mismatch)
                );
            }
            if claimed_at != signed_at {
                let v1 = header.split_once(",v1=").expect("a v1 entry").1;
                let moved = format!("t={claimed_at},v1={v1}");
                prop_assert_eq!(
                    verify(&secret, Some(&moved), &payload, claimed_at),
                    Err(SignatureError::Mismatch)
                );
            }
        }

        #[test]
        fn a_genuine_signature_is_found_among_up_to_seven_others_and_other_schemes(
            secret in any_secret(),
            payload in payload(),
            signed_at in timestamp(),
            others in prop::collection::vec(
                prop_oneof![
                    "v1=[0-9a-f]{64}",
                    "v1=[0-9a-z]{0,10}",
                    "v0=[0-9a-f]{64}",
                    // Any scheme but a second timestamp, which makes a header ambiguous.
                    "[a-su-z][a-z0-9]{0,3}=[a-z0-9]{0,8}",
                ],
                0..=7,
            ),
            at in any::<prop::sample::Index>(),
            spaces in "[ ]{0,2}",
        ) {
            let header = sign(&secret, &payload, signed_at);
            let good = header.split_once(',').expect("t and v1").1;
            let mut entries = others;
            entries.insert(at.index(entries.len() + 1), format!("{spaces}{good}{spaces}"));
            entries.insert(0, format!("t={signed_at}"));
            let header = entries.join(",");
            prop_assert_eq!(verify(&secret, Some(&header), &payload, signed_at), Ok(()));
        }
    }
}
