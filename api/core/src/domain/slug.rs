use std::fmt;

use crate::error::AppError;

/// A URL-safe identifier: 1 to 120 lower-case ASCII letters, digits and single hyphens,
/// neither starting nor ending with a hyphen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 120;

    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        let valid = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--");
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(AppError::bad_input(
                field,
                "must be 1 to 120 lower-case letters, digits and single hyphens",
            ))
        }
    }

    /// A slug made from a name: transliterated to ASCII, lower-cased, words joined by
    /// hyphens, leaving room for a numeric suffix. A name with no letters or digits
    /// becomes `fallback`.
    pub fn from_name(name: &str, fallback: &str) -> Self {
        let mut slug = slug::slugify(name);
        slug.truncate(Self::MAX_LEN - 8);
        let slug = slug.trim_end_matches('-').to_owned();
        if slug.is_empty() {
            Self(fallback.to_owned())
        } else {
            Self(slug)
        }
    }

    /// This slug with `-n` appended, for the n-th product of the same name.
    pub fn with_suffix(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_url_safe_slugs() {
        assert_eq!(
            Slug::from_name("Crème Brûlée Set!", "x").as_str(),
            "creme-brulee-set"
        );
        assert_eq!(
            Slug::from_name("  Ünïcode -- Mug  ", "x").as_str(),
            "unicode-mug"
        );
        assert_eq!(Slug::from_name("!!!", "product").as_str(), "product");
        let long = Slug::from_name(&"word ".repeat(100), "x");
        assert!(long.as_str().len() <= Slug::MAX_LEN - 8);
        assert!(Slug::parse(long.with_suffix(9999999).as_str(), "slug").is_ok());
    }

    #[test]
    fn explicit_slugs_must_already_be_url_safe() {
        assert!(Slug::parse("blue-mug-2", "slug").is_ok());
        for bad in ["", "Blue", "a b", "-a", "a-", "a--b", "ü", &"a".repeat(121)] {
            assert!(Slug::parse(bad, "slug").is_err(), "{bad:?} was accepted");
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::{any_text, near};

    /// The rules a slug keeps, written out again: 1 to 120 lower-case letters, digits and
    /// single hyphens, not at either end.
    fn follows_the_rules(slug: &str) -> bool {
        (1..=Slug::MAX_LEN).contains(&slug.len())
            && slug.split('-').all(|word| {
                !word.is_empty()
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
    }

    fn valid_slug() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,12}(-[a-z0-9]{1,12}){0,12}"
            .prop_map(String::from)
            .prop_filter("at most 120 characters", |s| s.len() <= Slug::MAX_LEN)
    }

    proptest! {
        #[test]
        fn an_accepted_slug_follows_the_rules_and_parses_to_itself(
            raw in prop_oneof![any_text(), near(valid_slug())],
        ) {
            if let Ok(slug) = Slug::parse(&raw, "slug") {
                prop_assert!(follows_the_rules(slug.as_str()), "{slug}");
                prop_assert_eq!(slug.as_str(), raw.trim());
                prop_assert_eq!(Slug::parse(slug.as_str(), "slug").ok(), Some(slug.clone()));
            }
        }

        #[test]
        fn every_slug_that_follows_the_rules_is_accepted(slug in valid_slug()) {
            prop_assert_eq!(Slug::parse(&slug, "slug").ok().map(|s| s.to_string()), Some(slug));
        }

        #[test]
        fn any_name_becomes_a_valid_slug_with_room_for_a_suffix(
            name in prop_oneof![any_text(), "[A-Za-z0-9 éüß&!-]{0,200}"],
            n in 2..=9_999_999u32,
        ) {
            let slug = Slug::from_name(&name, "product");
            prop_assert!(follows_the_rules(slug.as_str()), "{name:?} became {slug}");
            prop_assert!(slug.as_str().len() <= Slug::MAX_LEN - 8);
            let suffixed = slug.with_suffix(n);
            prop_assert!(Slug::parse(suffixed.as_str(), "slug").is_ok(), "{suffixed}");
        }
    }
}
