use super::{
    country::Country,
    text::{bounded, required},
};
use crate::error::AppError;

/// A postal address whose parts are present, trimmed and of sane length, in a country
/// with an ISO 3166-1 alpha-2 code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostalAddress {
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: Country,
}

impl PostalAddress {
    pub fn parse(
        full_name: &str,
        line1: &str,
        line2: Option<&str>,
        city: &str,
        postal_code: &str,
        country: &str,
    ) -> Result<Self, AppError> {
        Ok(Self {
            full_name: required("fullName", full_name, 200)?,
            line1: required("line1", line1, 200)?,
            line2: line2
                .map(|line| bounded("line2", line, 200, false))
                .transpose()?
                .filter(|line| !line.is_empty()),
            city: required("city", city, 100)?,
            postal_code: required("postalCode", postal_code, 20)?,
            country: Country::parse(country, "country")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_parts_and_drops_an_empty_second_line() {
        let address =
            PostalAddress::parse(" Ann ", "1 Road", Some("  "), "Town", "123", "NL").expect("ok");
        assert_eq!(address.full_name, "Ann");
        assert_eq!(address.line2, None);
    }

    #[test]
    fn names_the_field_that_is_empty_too_long_or_has_control_characters() {
        let err = PostalAddress::parse("Ann", "", None, "Town", "1", "NL").expect_err("empty");
        assert_eq!(err.bad_input_field(), Some("line1"));
        let long = "x".repeat(21);
        let err = PostalAddress::parse("Ann", "1", None, "Town", &long, "NL").expect_err("long");
        assert_eq!(err.bad_input_field(), Some("postalCode"));
        let err = PostalAddress::parse("Ann", "1", None, "To\u{0}wn", "1", "NL").expect_err("nul");
        assert_eq!(err.bad_input_field(), Some("city"));
    }

    #[test]
    fn names_the_field_that_is_invisible_or_flips_the_text_direction() {
        let err = PostalAddress::parse("\u{200B}\u{200B}", "1", None, "Town", "1", "NL")
            .expect_err("zero-width");
        assert_eq!(err.bad_input_field(), Some("fullName"));
        let err = PostalAddress::parse("Ann", "1", Some("\u{FEFF}"), "Town", "1", "NL")
            .expect_err("zero-width second line");
        assert_eq!(err.bad_input_field(), Some("line2"));
        let err = PostalAddress::parse("Ann", "1 \u{202E}daoR", None, "Town", "1", "NL")
            .expect_err("override");
        assert_eq!(err.bad_input_field(), Some("line1"));
    }

    #[test]
    fn the_country_is_a_code_in_any_case_and_anything_else_names_the_country() {
        let address = PostalAddress::parse("Ann", "1", None, "Town", "1", " nl ").expect("ok");
        assert_eq!(address.country.code(), "NL");
        for bad in ["Narnia", "Netherlands", "NLD", "", "UK"] {
            let err = PostalAddress::parse("Ann", "1", None, "Town", "1", bad).expect_err(bad);
            assert_eq!(err.bad_input_field(), Some("country"), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::{
        strategies::any_text,
        text::{flips_direction, is_invisible},
    };

    fn part() -> impl Strategy<Value = String> {
        prop_oneof![any_text(), "[ ]?\\PC{1,30}[ ]?", "[ ]{0,3}"]
    }

    /// A country as a client might send it: mostly a code, in any case and perhaps
    /// padded, or anything else.
    fn country_part() -> impl Strategy<Value = String> {
        let codes: Vec<&str> = Country::all().map(Country::code).collect();
        let code = (prop::sample::select(codes), any::<bool>(), "[ ]{0,2}").prop_map(
            |(code, lower, pad)| {
                let code = if lower {
                    code.to_ascii_lowercase()
                } else {
                    code.to_owned()
                };
                format!("{pad}{code}{pad}")
            },
        );
        prop_oneof![3 => code, 1 => "[ ]?[A-Za-z]{2}[ ]?", 1 => part()]
    }

    proptest! {
        #[test]
        fn an_accepted_address_is_trimmed_bounded_and_parses_to_itself(
            full_name in part(),
            line1 in part(),
            line2 in proptest::option::of(part()),
            city in part(),
            postal_code in part(),
            country in country_part(),
        ) {
            let parsed =
                PostalAddress::parse(&full_name, &line1, line2.as_deref(), &city, &postal_code, &country);
            if let Ok(address) = parsed {
                for (text, max) in [
                    (&address.full_name, 200),
                    (&address.line1, 200),
                    (&address.city, 100),
                    (&address.postal_code, 20),
                ] {
                    prop_assert!(!text.is_empty() && text.chars().count() <= max);
                    prop_assert_eq!(text.as_str(), text.trim());
                    prop_assert!(!text.contains(char::is_control));
                }
                if let Some(line2) = &address.line2 {
                    prop_assert!(!line2.is_empty() && line2.chars().count() <= 200);
                }
                prop_assert_eq!(address.country.code(), country.trim().to_ascii_uppercase());
                let parts = [
                    &address.full_name,
                    &address.line1,
                    &address.city,
                    &address.postal_code,
                ];
                for text in parts.into_iter().chain(&address.line2) {
                    prop_assert!(!text.contains(flips_direction), "{text:?}");
                    prop_assert!(!text.chars().all(is_invisible), "{text:?}");
                }
                let again = PostalAddress::parse(
                    &address.full_name,
                    &address.line1,
                    address.line2.as_deref(),
                    &address.city,
                    &address.postal_code,
                    address.country.code(),
                );
                prop_assert_eq!(again.ok(), Some(address));
            }
        }
    }
}
