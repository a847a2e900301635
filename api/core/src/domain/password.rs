use std::fmt;

use crate::error::{AppError, Refusal};

use super::Username;

/// A new password: 8 to 128 characters and not the username. Never printed: its `Debug`
/// is redacted, so it cannot leak into a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 128;

    /// A password for the account named `username`. `field` is the input field the
    /// password came in (`password`, `newPassword`).
    pub fn parse(raw: &str, username: &Username, field: &str) -> Result<Self, AppError> {
        CandidatePassword::parse(raw, field)?
            .for_user(username.as_str())
            .map_err(|refusal| AppError::bad_input(field, refusal.to_string()))
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

/// A password of the right length whose account's username is not at hand yet: a
/// password change or reset, where the name is stored. [`Self::for_user`] turns it into a
/// [`Password`] once the name is known. Redacted in `Debug` like a password.
#[derive(Clone, PartialEq, Eq)]
pub struct CandidatePassword(String);

impl CandidatePassword {
    /// `field` is the input field the password came in.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let len = raw.chars().count();
        if !(Password::MIN_LEN..=Password::MAX_LEN).contains(&len) {
            return Err(AppError::bad_input(
                field,
                format!(
                    "must be {} to {} characters long",
                    Password::MIN_LEN,
                    Password::MAX_LEN
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password of the account named `username`, unless it is that name (in any case,
    /// ignoring surrounding white space).
    pub fn for_user(self, username: &str) -> Result<Password, Refusal> {
        if self.0.trim().eq_ignore_ascii_case(username) {
            return Err(Refusal::PasswordIsUsername);
        }
        Ok(Password(self.0))
    }
}

impl fmt::Debug for CandidatePassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CandidatePassword(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Username {
        Username::parse("alice", "username").expect("valid")
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
        let long_name = Username::parse("alice_the_great", "username").expect("valid");
        assert!(Password::parse("ALICE_the_great", &long_name, "password").is_err());
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let password = Password::parse("s3cret-value", &alice(), "password").expect("valid");
        assert!(!format!("{password:?}").contains("s3cret"));
        let candidate = CandidatePassword::parse("s3cret-value", "newPassword").expect("valid");
        assert!(!format!("{candidate:?}").contains("s3cret"));
    }

    #[test]
    fn a_candidate_names_its_field_for_its_length_and_becomes_a_password_unless_it_is_the_username()
    {
        let err = CandidatePassword::parse("short", "newPassword").expect_err("too short");
        assert!(matches!(err, AppError::BadUserInput { ref field, .. } if field == "newPassword"));

        let candidate = CandidatePassword::parse(" Alice_The_Great ", "newPassword").expect("long");
        assert_eq!(
            candidate.clone().for_user("alice_the_great").err(),
            Some(Refusal::PasswordIsUsername)
        );
        let password = candidate.for_user("bob").expect("not bob's name");
        assert_eq!(password.expose(), " Alice_The_Great ");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::any_text;

    fn username() -> impl Strategy<Value = Username> {
        "[A-Za-z0-9_.-]{3,32}".prop_map(|name| Username::parse(&name, "username").expect("valid"))
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
            let username = Username::parse(&name, "username").expect("valid");
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
            let username = Username::parse("someone", "username").expect("valid");
            prop_assume!(!"Password(<redacted>)".contains(raw.as_str()));
            if let Ok(password) = Password::parse(&raw, &username, "password") {
                let debug = format!("{password:?}");
                prop_assert!(!debug.contains(raw.as_str()));
            }
        }
    }
}
