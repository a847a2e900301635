use std::fmt;

use crate::error::AppError;

/// An email address that is valid by the WHATWG HTML definition (what browsers accept in
/// `<input type=email>`), with a dot in the domain and at most 254 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        let invalid = || AppError::bad_input("email", "is not a valid email address");
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
            assert!(Email::parse(ok).is_ok(), "{ok:?} was refused");
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
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_key_is_case_folded() {
        assert_eq!(
            Email::parse("Alice@Example.COM").expect("valid").key(),
            "alice@example.com"
        );
    }
}
