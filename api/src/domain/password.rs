use std::fmt;

use crate::error::AppError;

use super::Username;

/// A new password: 8 to 128 characters and not the username. Never printed: its `Debug`
/// is redacted, so it cannot leak into a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 128;

    /// `field` is the input field the password came in (`password`, `newPassword`).
    pub fn parse(raw: &str, username: &Username, field: &str) -> Result<Self, AppError> {
        let len = raw.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(AppError::bad_input(
                field,
                format!(
                    "must be {} to {} characters long",
                    Self::MIN_LEN,
                    Self::MAX_LEN
                ),
            ));
        }
        if raw.trim().eq_ignore_ascii_case(username.as_str()) {
            return Err(AppError::bad_input(field, "must not be the username"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Username {
        Username::parse("alice").expect("valid")
    }

    #[test]
    fn accepts_eight_to_one_hundred_twenty_eight_characters() {
        for ok in ["12345678", &"p".repeat(128), "ünïcödé!"] {
            assert!(Password::parse(ok, &alice(), "password").is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn rejects_short_long_and_username_passwords_naming_the_field() {
        for bad in ["", "1234567", &"p".repeat(129)] {
            let err = Password::parse(bad, &alice(), "newPassword").expect_err("refused");
            assert!(
                matches!(err, AppError::BadUserInput { ref field, .. } if field == "newPassword")
            );
        }
        let long_name = Username::parse("alice_the_great").expect("valid");
        assert!(Password::parse("ALICE_the_great", &long_name, "password").is_err());
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let password = Password::parse("s3cret-value", &alice(), "password").expect("valid");
        assert!(!format!("{password:?}").contains("s3cret"));
    }
}
