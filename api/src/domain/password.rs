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

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::any_text;

    fn username() -> impl Strategy<Value = Username> {
        "[A-Za-z0-9_.-]{3,32}".prop_map(|name| Username::parse(&name).expect("valid"))
    }

    proptest! {
        #[test]
        fn an_accepted_password_is_8_to_128_characters_kept_exactly_as_sent(
            raw in any_text(),
            username in username(),
        ) {
            if let Ok(password) = Password::parse(&raw, &username, "password") {
                let len = password.expose().chars().count();
                prop_assert!((Password::MIN_LEN..=Password::MAX_LEN).contains(&len));
                prop_assert_eq!(password.expose(), raw.as_str());
            }
        }

        #[test]
        fn any_8_to_128_characters_other_than_the_username_are_a_password(
            raw in "\\PC{8,128}",
            username in username(),
        ) {
            prop_assume!(!raw.trim().eq_ignore_ascii_case(username.as_str()));
            prop_assert!(Password::parse(&raw, &username, "password").is_ok());
        }

        #[test]
        fn lengths_outside_8_to_128_are_refused_naming_the_field(
            raw in prop_oneof!["\\PC{0,7}", "\\PC{129,300}"],
            username in username(),
        ) {
            let err = Password::parse(&raw, &username, "newPassword").expect_err("refused");
            let names_the_field =
                matches!(err, AppError::BadUserInput { ref field, .. } if field == "newPassword");
            prop_assert!(names_the_field);
        }

        #[test]
        fn the_username_in_any_case_and_padding_is_refused(
            name in "[A-Za-z0-9_.-]{8,32}",
            flips in prop::collection::vec(any::<bool>(), 32),
            padding in "[ \\t]{0,3}",
        ) {
            let username = Username::parse(&name).expect("valid");
            let recased: String = name
                .chars()
                .zip(flips)
                .map(|(c, flip)| if flip { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                .collect();
            let raw = format!("{padding}{recased}{padding}");
            prop_assert!(Password::parse(&raw, &username, "password").is_err());
        }

        #[test]
        fn debug_output_never_shows_the_password(raw in "\\PC{8,64}") {
            let username = Username::parse("someone").expect("valid");
            prop_assume!(!"Password(<redacted>)".contains(raw.as_str()));
            if let Ok(password) = Password::parse(&raw, &username, "password") {
                let debug = format!("{password:?}");
                prop_assert!(!debug.contains(raw.as_str()));
            }
        }
    }
}
