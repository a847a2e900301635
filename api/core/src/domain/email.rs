use std::fmt;

use crate::error::AppError;

/// An email address that is valid by the WHATWG HTML definition (what browsers accept in
/// `<input type=email>`), with a dot in the domain and at most 254 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    /// `field` is the input the address came in, for the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        let invalid = || AppError::bad_input(field, "is not a valid email address");
        if raw.len() > Self::MAX_LEN {
            return Err(invalid());
        }
        let (local, domain) = raw.split_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form that uniqueness and look-ups are decided on.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "a@b.co",
            "first.last+tag@example.com",
            "x_y@sub.example-mail.org",
        ] {
            assert!(Email::parse(ok, "email").is_ok(), "{ok:?} was refused");
        }
    }

    #[test]
    fn rejects_addresses_without_a_dotted_domain_or_with_bad_characters() {
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@-x.com",
            "a@x-.com",
            "a@x..com",
            "a b@x.com",
            "a@b@c.com",
            "<a>@x.com",
            long.as_str(),
        ] {
            assert!(Email::parse(bad, "email").is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_key_is_case_folded() {
        assert_eq!(
            Email::parse("Alice@Example.COM", "email")
                .expect("valid")
                .key(),
            "alice@example.com"
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::{any_text, near};

    const LOCAL_CHARS: &str = ".!#$%&'*+/=?^_`{|}~-";

    /// Addresses valid by the rules: a local part of allowed characters and a domain of
    /// two to four dotted labels, none starting or ending with a hyphen.
    fn valid_email() -> impl Strategy<Value = String> {
        let local = "[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}";
        let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
        (local, prop::collection::vec(label, 2..=4))
            .prop_map(|(local, labels)| format!("{local}@{}", labels.join(".")))
            .prop_filter("at most 254 characters", |email| {
                email.len() <= Email::MAX_LEN
            })
    }

    proptest! {
        #[test]
        fn an_accepted_address_has_one_at_sign_a_dotted_domain_and_at_most_254_characters(
            raw in prop_oneof![any_text(), near(valid_email())],
        ) {
            if let Ok(email) = Email::parse(&raw, "email") {
                let text = email.as_str();
                prop_assert_eq!(text, raw.trim());
                prop_assert!(text.len() <= Email::MAX_LEN);
                prop_assert!(text.is_ascii() && !text.contains(char::is_whitespace));
                let (local, domain) = text.split_once('@').expect("an @");
                prop_assert!((1..=64).contains(&local.len()));
                prop_assert!(
                    local.chars().all(|c| c.is_ascii_alphanumeric() || LOCAL_CHARS.contains(c))
                );
                prop_assert!(!domain.contains('@'));
                let labels: Vec<&str> = domain.split('.').collect();
                prop_assert!(labels.len() >= 2);
                for label in labels {
                    prop_assert!((1..=63).contains(&label.len()));
                    prop_assert!(!label.starts_with('-') && !label.ends_with('-'));
                }
            }
        }

        #[test]
        fn every_valid_address_is_accepted_as_it_is(email in valid_email(), padding in "[ \\t]{0,2}") {
            let parsed = Email::parse(&format!("{padding}{email}{padding}"), "email");
            prop_assert_eq!(parsed.ok().map(|e| e.to_string()), Some(email));
        }

        #[test]
        fn parsing_an_address_s_own_text_is_identity(raw in near(valid_email())) {
            if let Ok(email) = Email::parse(&raw, "email") {
                prop_assert_eq!(Email::parse(email.as_str(), "email").ok(), Some(email.clone()));
            }
        }

        #[test]
        fn addresses_that_differ_only_in_case_share_a_lower_case_key(email in valid_email()) {
            let upper = Email::parse(&email.to_ascii_uppercase(), "email").expect("valid");
            let lower = Email::parse(&email.to_ascii_lowercase(), "email").expect("valid");
            prop_assert_eq!(upper.key(), lower.key());
        }
    }
}
