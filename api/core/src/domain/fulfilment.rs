//! What an admin records about an order after it was paid: where its parcel is, and why
//! part of it was refunded.

use super::text::{bounded, required};
use crate::error::AppError;

/// The longest carrier name, tracking number and tracking URL kept.
pub const MAX_CARRIER_CHARS: usize = 50;
pub const MAX_TRACKING_NUMBER_CHARS: usize = 100;
pub const MAX_TRACKING_URL_CHARS: usize = 2_000;
/// The longest refund reason kept.
pub const MAX_REFUND_REASON_CHARS: usize = 500;

/// Where a shipped parcel is: its carrier and tracking number, one line each, and
/// perhaps the carrier's tracking page, an absolute http(s) URL (sent in the shipped email,
/// so nothing else, such as `javascript:`, may get in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracking {
    carrier: String,
    number: String,
    url: Option<String>,
}

impl Tracking {
    /// Refusals name the field of the tracking input: `carrier`, `number` or `url`. A
    /// blank URL is no URL.
    pub fn parse(carrier: &str, number: &str, url: Option<&str>) -> Result<Self, AppError> {
        Ok(Self {
            carrier: required("carrier", carrier, MAX_CARRIER_CHARS)?,
            number: required("number", number, MAX_TRACKING_NUMBER_CHARS)?,
            url: url
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .map(tracking_url)
                .transpose()?,
        })
    }

    pub fn carrier(&self) -> &str {
        &self.carrier
    }

    pub fn number(&self) -> &str {
        &self.number
    }

    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
}

/// An absolute http(s) URL with a host, in the form the URL standard writes it.
fn tracking_url(raw: &str) -> Result<String, AppError> {
    let invalid = || {
        AppError::bad_input(
            "url",
            "must be an absolute http or https URL, such as \"https://carrier.example/track/1Z999\"",
        )
    };
    // The URL parser silently drops tabs and newlines; a URL that holds any is not one.
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid());
    }
    let url = url::Url::parse(raw).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid());
    }
    let url = String::from(url);
    if url.chars().count() > MAX_TRACKING_URL_CHARS {
        return Err(AppError::bad_input(
            "url",
            format!("must be at most {MAX_TRACKING_URL_CHARS} characters long"),
        ));
    }
    Ok(url)
}

/// Why an admin refunded, for the customer to read: up to 500 characters, several lines
/// allowed. Blank is no reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundReason(String);

impl RefundReason {
    pub fn parse(raw: &str, field: &str) -> Result<Option<Self>, AppError> {
        let reason = bounded(field, raw, MAX_REFUND_REASON_CHARS, true)?;
        Ok((!reason.is_empty()).then_some(Self(reason)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_keeps_trimmed_parts_and_a_normalised_url() {
        let tracking = Tracking::parse(
            " UPS ",
            " 1Z999 ",
            Some(" HTTPS://ups.example/track?n=1Z999 "),
        )
        .expect("valid");
        assert_eq!(tracking.carrier(), "UPS");
        assert_eq!(tracking.number(), "1Z999");
        assert_eq!(tracking.url(), Some("https://ups.example/track?n=1Z999"));
        let without = Tracking::parse("UPS", "1", Some("  ")).expect("a blank URL is none");
        assert_eq!(without.url(), None);
    }

    #[test]
    fn tracking_names_the_part_that_is_empty_or_too_long() {
        let long = |n| "x".repeat(n);
        for (carrier, number, field) in [
            ("", "1", "carrier"),
            (&long(51) as &str, "1", "carrier"),
            ("UPS", " ", "number"),
            ("UPS", &long(101), "number"),
        ] {
            let err = Tracking::parse(carrier, number, None).expect_err(field);
            assert_eq!(err.bad_input_field(), Some(field));
        }
        assert!(Tracking::parse(&long(50), &long(100), None).is_ok());
    }

    #[test]
    fn a_tracking_url_is_an_absolute_http_url_of_at_most_two_thousand_characters() {
        for bad in [
            "ups.example/track",
            "/track/1",
            "javascript:alert(1)",
            "ftp://ups.example/1",
            "mailto:track@ups.example",
            "https://",
            "https://ups.example/a b",
            "https://ups.example/a\tb",
            "http://[::1",
        ] {
            let err = Tracking::parse("UPS", "1", Some(bad)).expect_err(bad);
            assert_eq!(err.bad_input_field(), Some("url"), "{bad}");
        }
        let prefix = "https://ups.example/";
        let longest = format!(
            "{prefix}{}",
            "a".repeat(MAX_TRACKING_URL_CHARS - prefix.len())
        );
        assert!(Tracking::parse("UPS", "1", Some(&longest)).is_ok());
        let too_long = format!("{longest}a");
        let err = Tracking::parse("UPS", "1", Some(&too_long)).expect_err("too long");
        assert_eq!(err.bad_input_field(), Some("url"));
    }

    #[test]
    fn a_refund_reason_is_optional_multiline_and_bounded() {
        assert_eq!(RefundReason::parse("  ", "reason").expect("blank"), None);
        let reason = RefundReason::parse(" Scratched lid.\nSorry! ", "reason")
            .expect("valid")
            .expect("given");
        assert_eq!(reason.as_str(), "Scratched lid.\nSorry!");
        assert!(RefundReason::parse(&"x".repeat(500), "reason").is_ok());
        let err = RefundReason::parse(&"x".repeat(501), "reason").expect_err("too long");
        assert_eq!(err.bad_input_field(), Some("reason"));
        let err = RefundReason::parse("a\u{0}b", "reason").expect_err("control");
        assert_eq!(err.bad_input_field(), Some("reason"));
    }
}
