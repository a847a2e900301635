use std::fmt;

use crate::error::AppError;

/// A country, as its ISO 3166-1 alpha-2 code ("GB", "DE", "US"): accepted in any case,
/// always held and written upper case.
///
/// The codes are the `celes` crate's table: the 249 codes ISO 3166-1 assigns, and XK,
/// which ISO leaves to its users and the European Commission, carriers and payment
/// gateways use for Kosovo, so that a customer there can be shipped to. Exceptionally
/// reserved codes ("UK" for the United Kingdom, "EL" for Greece) are not countries: GB
/// and GR are.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country(&'static str);

impl Country {
    /// `raw`, trimmed, when it is the alpha-2 code of a country in either case; else
    /// BAD_USER_INPUT naming `field`.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let code = raw.trim();
        // Only two ASCII letters can be a code. Checked before the (case-insensitive)
        // lookup, so that no Unicode lower-casing can turn other text into a code: the
        // Kelvin sign U+212A lower-cases to "k", and "\u{212A}R" would be Korea.
        let two_letters = code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic());
        match celes::Country::from_alpha2(code) {
            Ok(country) if two_letters => Ok(Self(country.alpha2)),
            _ => Err(AppError::bad_input(
                field,
                "must be an ISO 3166-1 alpha-2 country code, such as GB, DE or US",
            )),
        }
    }

    /// The upper-case alpha-2 code.
    pub fn code(self) -> &'static str {
        self.0
    }

    /// Every country there is a code for.
    pub fn all() -> impl Iterator<Item = Self> {
        celes::Country::get_countries()
            .into_iter()
            .map(|country| Self(country.alpha2))
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Country({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(raw: &str) -> Option<&'static str> {
        Country::parse(raw, "country").ok().map(Country::code)
    }

    #[test]
    fn a_code_is_accepted_in_any_case_and_given_back_upper_case() {
        for raw in ["GB", "gb", "Gb", "gB", " gb ", "\tgb\n"] {
            assert_eq!(code(raw), Some("GB"), "{raw:?}");
        }
        assert_eq!(code("de"), Some("DE"));
        assert_eq!(code("us"), Some("US"));
        assert_eq!(code("NL"), Some("NL"));
    }

    #[test]
    fn names_alpha3_and_numeric_codes_and_made_up_countries_name_the_field() {
        for raw in [
            "Narnia",
            "Netherlands",
            "United Kingdom",
            "GBR",
            "USA",
            "826",
            "",
            "  ",
            "G",
            "G B",
            "ZZ",
            "AA",
            "G1",
        ] {
            let err = Country::parse(raw, "country").expect_err(raw);
            assert_eq!(err.bad_input_field(), Some("country"), "{raw:?}");
        }
        let err = Country::parse("Narnia", "countries").expect_err("not a code");
        assert_eq!(err.bad_input_field(), Some("countries"));
    }

    #[test]
    fn exceptionally_reserved_codes_are_not_countries() {
        assert_eq!(code("UK"), None, "the United Kingdom is GB");
        assert_eq!(code("EL"), None, "Greece is GR");
        assert_eq!(code("EU"), None);
    }

    #[test]
    fn kosovo_s_user_assigned_code_is_accepted() {
        assert_eq!(code("xk"), Some("XK"));
    }

    #[test]
    fn no_unicode_case_folding_turns_other_text_into_a_code() {
        // U+212A KELVIN SIGN lower-cases to "k"; U+0130 to "i̇"; fullwidth letters are
        // letters, but not ASCII ones.
        for raw in [
            "\u{212A}R",
            "\u{212A}r",
            "\u{0130}T",
            "ＧＢ",
            "gb\u{200B}",
            "\u{FEFF}gb",
        ] {
            assert_eq!(code(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn there_is_a_country_for_each_of_the_249_assigned_codes_and_kosovo() {
        let all: Vec<Country> = Country::all().collect();
        assert_eq!(all.len(), 250);
        let mut codes: Vec<&str> = all.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 250, "no code twice");
    }

    #[test]
    fn a_country_writes_its_code() {
        let country = Country::parse("fr", "country").expect("a code");
        assert_eq!(country.to_string(), "FR");
        assert_eq!(format!("{country:?}"), "Country(FR)");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::{any_text, near};

    fn any_country() -> impl Strategy<Value = Country> {
        let all: Vec<Country> = Country::all().collect();
        prop::sample::select(all)
    }

    /// A code as a client might type it: each letter in either case.
    fn typed(country: Country, upper: [bool; 2]) -> String {
        country
            .code()
            .chars()
            .zip(upper)
            .map(|(c, up)| if up { c } else { c.to_ascii_lowercase() })
            .collect()
    }

    proptest! {
        #[test]
        fn every_country_parses_from_its_code_in_any_case(
            country in any_country(),
            upper in any::<[bool; 2]>(),
        ) {
            let raw = typed(country, upper);
            prop_assert_eq!(Country::parse(&raw, "country").ok(), Some(country));
        }

        #[test]
        fn an_accepted_country_is_two_upper_case_ascii_letters_and_parses_to_itself(
            raw in prop_oneof![any_text(), near("[A-Za-z]{2}"), "[A-Za-z]{2}"],
        ) {
            if let Ok(country) = Country::parse(&raw, "country") {
                let code = country.code();
                prop_assert_eq!(code.len(), 2);
                prop_assert!(code.bytes().all(|b| b.is_ascii_uppercase()), "{code}");
                prop_assert_eq!(raw.trim().to_ascii_uppercase(), code);
                prop_assert_eq!(Country::parse(code, "country").ok(), Some(country));
                prop_assert_eq!(
                    Country::parse(&raw.to_ascii_lowercase(), "country").ok(),
                    Some(country)
                );
            }
        }

        #[test]
        fn a_refused_country_names_its_field(raw in any_text()) {
            if let Err(err) = Country::parse(&raw, "country") {
                prop_assert_eq!(err.bad_input_field(), Some("country"));
            }
        }
    }
}
