//! What a shipping method is made of: a name, the countries it delivers to and how many
//! days delivery takes.

use super::{country::Country, text::Name};
use crate::error::AppError;

/// A shipping method's name, as the customer reads it at checkout: 1 to 100 characters.
pub type ShippingMethodName = Name<100>;

/// The countries a shipping method delivers to: none listed means everywhere. Held sorted
/// by code and without repeats, so that one set of countries has one stored form (the
/// JSON array [`Countries::to_stored`] writes, which `service::shipping` searches).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Countries(Vec<Country>);

impl Countries {
    /// Every country: the empty list.
    pub fn everywhere() -> Self {
        Self::default()
    }

    /// ISO 3166-1 alpha-2 codes in any case; repeats collapse. An entry that is no code
    /// is BAD_USER_INPUT naming `field`, saying which entry it is.
    pub fn parse<S: AsRef<str>>(raw: &[S], field: &str) -> Result<Self, AppError> {
        let mut countries = raw
            .iter()
            .enumerate()
            .map(|(index, raw)| {
                Country::parse(raw.as_ref(), field).map_err(|_| {
                    AppError::bad_input(
                        field,
                        format!(
                            "the entry at index {index} is not an ISO 3166-1 alpha-2 country \
                             code, such as GB, DE or US"
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        countries.sort_unstable_by_key(|country| country.code());
        countries.dedup();
        Ok(Self(countries))
    }

    /// Whether the list is empty, which means every country.
    pub fn is_everywhere(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a method with these countries delivers to `country`.
    pub fn includes(&self, country: Country) -> bool {
        self.is_everywhere() || self.0.contains(&country)
    }

    pub fn as_slice(&self) -> &[Country] {
        &self.0
    }

    /// The countries as a row holds them: a JSON array of codes, `["DE","GB"]`.
    pub fn to_stored(&self) -> String {
        let codes: Vec<&str> = self.0.iter().map(|country| country.code()).collect();
        serde_json::to_string(&codes).unwrap_or_else(|_| "[]".into())
    }

    /// The codes a row holds. A row only ever holds what [`Countries::to_stored`] wrote.
    pub fn from_stored(stored: &str) -> Vec<String> {
        serde_json::from_str(stored).unwrap_or_default()
    }

    /// The text a row of a method delivering to `country` holds, quotes included
    /// (`"GB"`): a search for it inside the stored array cannot match part of another
    /// code.
    pub fn stored_entry(country: Country) -> String {
        format!("\"{}\"", country.code())
    }
}

/// A number of days a delivery takes: 0 (same day) to 365.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Days(u16);

impl Days {
    pub const MAX: i32 = 365;

    /// BAD_USER_INPUT naming `field` outside 0..=365.
    pub fn parse(raw: i32, field: &str) -> Result<Self, AppError> {
        u16::try_from(raw)
            .ok()
            .filter(|days| i32::from(*days) <= Self::MAX)
            .map(Self)
            .ok_or_else(|| {
                AppError::bad_input(field, format!("must be from 0 to {} days", Self::MAX))
            })
    }

    pub fn get(self) -> i32 {
        i32::from(self.0)
    }
}

/// How long a delivery takes: from `min` to `max` days, either end unknown; never a `max`
/// below the `min`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryDays {
    min: Option<Days>,
    max: Option<Days>,
}

impl DeliveryDays {
    /// `None` when both are given and `max` is below `min`.
    pub fn new(min: Option<Days>, max: Option<Days>) -> Option<Self> {
        match (min, max) {
            (Some(min), Some(max)) if max < min => None,
            _ => Some(Self { min, max }),
        }
    }

    /// Parses both ends of an input: each from 0 to 365 (BAD_USER_INPUT on its own field),
    /// and `max` not below `min` (BAD_USER_INPUT on `max_field`).
    pub fn parse(
        min: Option<i32>,
        max: Option<i32>,
        min_field: &str,
        max_field: &str,
    ) -> Result<Self, AppError> {
        let min = min.map(|days| Days::parse(days, min_field)).transpose()?;
        let max = max.map(|days| Days::parse(days, max_field)).transpose()?;
        Self::new(min, max).ok_or_else(|| reversed(max_field, min_field))
    }

    pub fn min(self) -> Option<Days> {
        self.min
    }

    pub fn max(self) -> Option<Days> {
        self.max
    }
}

/// The refusal of a delivery that would end before it starts.
fn reversed(max_field: &str, min_field: &str) -> AppError {
    AppError::bad_input(max_field, format!("must not be less than {min_field}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(countries: &Countries) -> Vec<&'static str> {
        countries.as_slice().iter().map(|c| c.code()).collect()
    }

    #[test]
    fn countries_are_upper_cased_sorted_and_repeats_collapse() {
        let countries =
            Countries::parse(&["us", "GB", " de ", "gb", "US"], "countries").expect("valid codes");
        assert_eq!(codes(&countries), ["DE", "GB", "US"]);
        assert_eq!(countries.to_stored(), r#"["DE","GB","US"]"#);
        assert_eq!(
            Countries::from_stored(&countries.to_stored()),
            ["DE", "GB", "US"]
        );
    }

    #[test]
    fn no_countries_means_everywhere() {
        let countries = Countries::parse::<&str>(&[], "countries").expect("empty is fine");
        assert!(countries.is_everywhere());
        assert_eq!(countries, Countries::everywhere());
        assert_eq!(countries.to_stored(), "[]");
        let gb = Country::parse("GB", "country").expect("a code");
        assert!(countries.includes(gb));
    }

    #[test]
    fn a_listed_method_includes_only_its_countries() {
        let countries = Countries::parse(&["DE", "FR"], "countries").expect("valid");
        let country = |code| Country::parse(code, "country").expect("a code");
        assert!(countries.includes(country("DE")));
        assert!(countries.includes(country("FR")));
        assert!(!countries.includes(country("GB")));
    }

    #[test]
    fn one_entry_that_is_no_code_refuses_the_list_naming_its_field_and_index() {
        for bad in ["UK", "", "GBR", "Germany", "g b"] {
            let err = Countries::parse(&["DE", bad], "countries").expect_err(bad);
            assert_eq!(err.bad_input_field(), Some("countries"), "{bad:?}");
            assert!(err.to_string().contains("index 1"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn a_stored_entry_is_the_quoted_code() {
        let gb = Country::parse("gb", "country").expect("a code");
        assert_eq!(Countries::stored_entry(gb), "\"GB\"");
        let stored = Countries::parse(&["GB"], "countries")
            .expect("valid")
            .to_stored();
        assert!(stored.contains(&Countries::stored_entry(gb)));
    }

    #[test]
    fn days_run_from_zero_to_a_year_naming_their_field() {
        for days in [0, 1, 365] {
            assert_eq!(Days::parse(days, "minDays").map(Days::get).ok(), Some(days));
        }
        for days in [-1, 366, i32::MIN, i32::MAX, 65_536] {
            let err = Days::parse(days, "minDays").expect_err("out of range");
            assert_eq!(err.bad_input_field(), Some("minDays"), "{days}");
        }
    }

    #[test]
    fn a_delivery_never_ends_before_it_starts() {
        let parse = |min, max| DeliveryDays::parse(min, max, "minDays", "maxDays");
        let days = parse(Some(3), Some(5)).expect("in order");
        assert_eq!(days.min().map(Days::get), Some(3));
        assert_eq!(days.max().map(Days::get), Some(5));
        assert!(parse(Some(2), Some(2)).is_ok());
        assert!(parse(None, Some(2)).is_ok());
        assert!(parse(Some(9), None).is_ok());
        assert_eq!(parse(None, None).ok(), Some(DeliveryDays::default()));

        let err = parse(Some(5), Some(3)).expect_err("reversed");
        assert_eq!(err.bad_input_field(), Some("maxDays"));
        let err = parse(Some(400), Some(3)).expect_err("min out of range first");
        assert_eq!(err.bad_input_field(), Some("minDays"));
        let err = parse(Some(1), Some(-3)).expect_err("max out of range");
        assert_eq!(err.bad_input_field(), Some("maxDays"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::{any_text, near};

    proptest! {
        #[test]
        fn accepted_countries_are_sorted_unique_codes_and_survive_storing(
            raw in prop::collection::vec(
                prop_oneof![near("[A-Za-z]{2}"), "[A-Za-z]{2}", any_text()],
                0..12,
            ),
        ) {
            if let Ok(countries) = Countries::parse(&raw, "countries") {
                let codes: Vec<&str> = countries.as_slice().iter().map(|c| c.code()).collect();
                let mut sorted = codes.clone();
                sorted.sort_unstable();
                sorted.dedup();
                prop_assert_eq!(&codes, &sorted);
                prop_assert_eq!(codes.is_empty(), raw.is_empty());
                let stored = Countries::from_stored(&countries.to_stored());
                prop_assert_eq!(Countries::parse(&stored, "countries").ok(), Some(countries));
            } else {
                let err = Countries::parse(&raw, "countries").expect_err("refused");
                prop_assert_eq!(err.bad_input_field(), Some("countries"));
            }
        }

        #[test]
        fn accepted_delivery_days_are_in_range_and_in_order(
            min in prop::option::of(-10..400i32),
            max in prop::option::of(-10..400i32),
        ) {
            match DeliveryDays::parse(min, max, "minDays", "maxDays") {
                Ok(days) => {
                    prop_assert_eq!(days.min().map(Days::get), min);
                    prop_assert_eq!(days.max().map(Days::get), max);
                    if let (Some(min), Some(max)) = (min, max) {
                        prop_assert!(min <= max);
                    }
                }
                Err(err) => {
                    let in_range = |d: Option<i32>| d.is_none_or(|d| (0..=365).contains(&d));
                    let field = err.bad_input_field();
                    prop_assert!(field == Some("minDays") || field == Some("maxDays"));
                    let reversed = matches!((min, max), (Some(min), Some(max)) if min > max);
                    prop_assert!(!in_range(min) || !in_range(max) || reversed);
                }
            }
        }
    }
}
