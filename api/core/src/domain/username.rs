use std::fmt;

use crate::error::AppError;

/// 3 to 32 ASCII letters, digits, `_`, `.` or `-`. ASCII only, so that two names that look
/// alike are also equal after case folding; that also keeps out every character free text
/// refuses ([`super::text::bounded`]: invisible or direction-changing ones), a property
/// test holds the two rules together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 32;

    /// `field` is the input the name came in, for the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
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
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(AppError::bad_input(
                field,
                "may contain only letters, digits, '_', '.' and '-'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form that uniqueness is decided on.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_names_of_three_to_thirty_two_allowed_characters() {
        for ok in ["abc", "a.b", "A_b-c.9", &"x".repeat(32)] {
            assert_eq!(
                Username::parse(ok, "username").map(|u| u.0).ok().as_deref(),
                Some(ok)
            );
        }
    }

    #[test]
    fn rejects_names_too_short_too_long_or_with_other_characters() {
        for bad in [
            "",
            "ab",
            &"x".repeat(33),
            "has space",
            "ünï",
            "semi;colon",
            "a@b",
        ] {
            assert!(
                Username::parse(bad, "username").is_err(),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn surrounding_whitespace_is_ignored_and_the_key_is_case_folded() {
        let name = Username::parse("  Alice  ", "username").expect("valid");
        assert_eq!(name.as_str(), "Alice");
        assert_eq!(name.key(), "alice");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::{
        strategies::{any_text, near},
        text,
    };

    fn allowed(c: char) -> bool {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
    }

    proptest! {
        #[test]
        fn an_accepted_username_is_3_to_32_letters_digits_underscores_dots_or_hyphens(
            raw in prop_oneof![any_text(), near("[A-Za-z0-9_.-]{1,34}".prop_map(String::from))],
        ) {
            if let Ok(name) = Username::parse(&raw, "username") {
                let len = name.as_str().chars().count();
                prop_assert!((Username::MIN_LEN..=Username::MAX_LEN).contains(&len));
                prop_assert!(name.as_str().chars().all(allowed), "{name}");
                prop_assert_eq!(name.as_str(), raw.trim());
            }
        }

        #[test]
        fn every_name_of_allowed_characters_and_length_is_accepted_as_it_is(
            name in "[A-Za-z0-9_.-]{3,32}",
            padding in "[ \\t\\n]{0,3}",
        ) {
            let parsed = Username::parse(&format!("{padding}{name}{padding}"), "username");
            prop_assert_eq!(parsed.ok().map(|u| u.to_string()), Some(name));
        }

        #[test]
        fn parsing_a_username_s_own_text_is_identity(raw in near("[A-Za-z0-9_.-]{3,32}")) {
            if let Ok(name) = Username::parse(&raw, "username") {
                prop_assert_eq!(Username::parse(name.as_str(), "username").ok(), Some(name.clone()));
                prop_assert_eq!(name.to_string(), name.as_str());
            }
        }

        #[test]
        fn a_username_is_also_acceptable_free_text(
            raw in prop_oneof![any_text(), near("[A-Za-z0-9_.-]{3,32}".prop_map(String::from))],
        ) {
            if let Ok(name) = Username::parse(&raw, "username") {
                let as_text = text::required("username", name.as_str(), Username::MAX_LEN).ok();
                prop_assert_eq!(as_text.as_deref(), Some(name.as_str()));
            }
        }

        #[test]
        fn names_that_differ_only_in_case_share_a_lower_case_key(name in "[A-Za-z0-9_.-]{3,32}") {
            let upper = Username::parse(&name.to_ascii_uppercase(), "username").expect("valid");
            let lower = Username::parse(&name.to_ascii_lowercase(), "username").expect("valid");
            prop_assert_eq!(upper.key(), lower.key());
            prop_assert_eq!(upper.key(), name.to_ascii_lowercase());
        }
    }
}
