use std::fmt;

use crate::error::AppError;

/// An amount of money in minor units (cents). Never a float: it is parsed from and
/// printed as an exact decimal string such as "19.99".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    /// The highest price a product may have: 1,000,000.00.
    pub const MAX_PRICE: Money = Money(100_000_000);

    pub const fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// A price: a decimal string with at most two decimals, from 0 to [`Self::MAX_PRICE`].
    pub fn parse_price(raw: &str, field: &str) -> Result<Self, AppError> {
        let money = Self::parse(raw, field)?;
        if money > Self::MAX_PRICE {
            return Err(AppError::bad_input(
                field,
                format!("must be at most {}", Self::MAX_PRICE),
            ));
        }
        Ok(money)
    }

    /// A non-negative decimal string with at most two decimals.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        if raw.starts_with('-') {
            return Err(AppError::bad_input(field, "must not be negative"));
        }
        let invalid = || {
            AppError::bad_input(
                field,
                "must be a decimal amount with at most two decimals, such as \"19.99\"",
            )
        };
        let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > 12
            || !digits(whole)
            || fraction.len() > 2
            || !digits(fraction)
            || (raw.ends_with('.'))
        {
            return Err(invalid());
        }
        let whole: i64 = whole.parse().map_err(|_| invalid())?;
        let fraction: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| invalid())? * 10,
            _ => fraction.parse().map_err(|_| invalid())?,
        };
        whole
            .checked_mul(100)
            .and_then(|cents| cents.checked_add(fraction))
            .map(Self)
            .ok_or_else(invalid)
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Self)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Money> {
        self.0.checked_mul(factor).map(Self)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// The prices a product list is narrowed to: from `min` up to `max`, both included, either
/// end open. A low end above the high end is refused rather than left to match nothing,
/// which a client could not tell from an empty catalog.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PriceBounds {
    pub min: Option<Money>,
    pub max: Option<Money>,
}

impl PriceBounds {
    /// The bounds of `minPrice` and `maxPrice`, each a decimal amount as [`Money::parse`]
    /// reads it; BAD_USER_INPUT on the field at fault.
    pub fn parse(min: Option<&str>, max: Option<&str>) -> Result<Self, AppError> {
        let min = min.map(|raw| Money::parse(raw, "minPrice")).transpose()?;
        let max = max.map(|raw| Money::parse(raw, "maxPrice")).transpose()?;
        if let (Some(low), Some(high)) = (min, max)
            && low > high
        {
            return Err(AppError::bad_input(
                "minPrice",
                format!("must not be above maxPrice ({high})"),
            ));
        }
        Ok(Self { min, max })
    }

    /// Whether `price` lies within the bounds.
    pub fn contains(&self, price: Money) -> bool {
        self.min.is_none_or(|min| min <= price) && self.max.is_none_or(|max| price <= max)
    }
}

/// An ISO 4217 currency code: three upper-case letters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() == 3 && raw.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "{raw:?} is not an ISO 4217 currency code such as USD"
            ))
        }
    }

    /// The US dollar, the default currency: a code known to be valid needs no parse.
    pub fn usd() -> Self {
        Self("USD".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_amounts_with_up_to_two_decimals() {
        for (raw, cents) in [
            ("0", 0),
            ("19.99", 1999),
            ("19.9", 1990),
            ("7", 700),
            ("007.05", 705),
            ("1000000.00", 100_000_000),
        ] {
            assert_eq!(
                Money::parse_price(raw, "price").ok(),
                Some(Money(cents)),
                "{raw}"
            );
        }
    }

    #[test]
    fn rejects_negative_imprecise_and_malformed_amounts() {
        for raw in [
            "-1",
            "1.999",
            "1e3",
            "",
            ".5",
            "5.",
            "1,00",
            "NaN",
            "1.2.3",
            " ",
            "+1",
            "1000000.01",
            "99999999999999999999",
        ] {
            assert!(
                Money::parse_price(raw, "price").is_err(),
                "{raw:?} was accepted"
            );
        }
    }

    #[test]
    fn prints_two_decimals() {
        assert_eq!(Money(5).to_string(), "0.05");
        assert_eq!(Money(1999).to_string(), "19.99");
        assert_eq!(Money(-250).to_string(), "-2.50");
    }

    #[test]
    fn printing_and_parsing_round_trip() {
        for cents in [0, 1, 10, 99, 100, 12_345, 100_000_000] {
            let money = Money(cents);
            assert_eq!(Money::parse(&money.to_string(), "x").ok(), Some(money));
        }
    }

    #[test]
    fn price_bounds_may_be_open_equal_or_ordered_but_not_reversed() {
        let bounds = |min, max| PriceBounds::parse(min, max);
        assert_eq!(bounds(None, None).ok(), Some(PriceBounds::default()));
        assert!(bounds(Some("10"), Some("10.00")).is_ok());
        assert!(bounds(Some("9.99"), Some("10")).is_ok());
        assert!(bounds(Some("50"), None).is_ok());
        assert!(bounds(None, Some("0")).is_ok());
        let err = bounds(Some("50"), Some("10")).expect_err("reversed");
        assert!(matches!(err, AppError::BadUserInput { field, .. } if field == "minPrice"));
        let err = bounds(Some("10.01"), Some("10")).expect_err("reversed by a cent");
        assert!(matches!(err, AppError::BadUserInput { field, .. } if field == "minPrice"));
    }

    #[test]
    fn a_malformed_price_bound_is_named_before_the_order_is_checked() {
        let err = PriceBounds::parse(Some("50"), Some("ten")).expect_err("malformed");
        assert!(matches!(err, AppError::BadUserInput { field, .. } if field == "maxPrice"));
        let err = PriceBounds::parse(Some("-1"), Some("10")).expect_err("negative");
        assert!(matches!(err, AppError::BadUserInput { field, .. } if field == "minPrice"));
    }

    #[test]
    fn currency_codes_are_three_upper_case_letters() {
        assert!(Currency::parse("EUR").is_ok());
        for bad in ["eur", "EU", "EURO", "E1R"] {
            assert!(Currency::parse(bad).is_err());
        }
        assert_eq!(Currency::parse("USD"), Ok(Currency::usd()));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::{any_text, near};

    /// The largest amount [`Money::parse`] reads: twelve nines, and two decimals.
    const MAX_PARSEABLE_CENTS: i64 = 99_999_999_999_999;

    /// What a decimal string means, worked out independently of the parser: `None` unless
    /// it is digits with at most one point followed by one or two digits.
    fn cents_of(text: &str) -> Option<u128> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 2 {
            return None;
        }
        if text.ends_with('.') {
            return None;
        }
        let whole: u128 = whole.parse().ok()?;
        let fraction: u128 = format!("{fraction:0<2}").parse().ok()?;
        whole.checked_mul(100)?.checked_add(fraction)
    }

    /// Amounts as a client might type them, right or nearly right.
    fn amount_text() -> impl Strategy<Value = String> {
        near("[ ]{0,2}[-+]?[0-9]{0,15}(\\.[0-9]{0,4})?[ ]{0,2}")
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(raw in any_text()) {
            let _ = Money::parse(&raw, "price");
            let _ = Money::parse_price(&raw, "price");
        }

        #[test]
        fn a_price_survives_formatting_and_parsing(cents in 0..=Money::MAX_PRICE.cents()) {
            let price = Money::from_cents(cents);
            prop_assert_eq!(Money::parse_price(&price.to_string(), "price").ok(), Some(price));
        }

        #[test]
        fn any_amount_survives_formatting_and_parsing(cents in 0..=MAX_PARSEABLE_CENTS) {
            let money = Money::from_cents(cents);
            prop_assert_eq!(Money::parse(&money.to_string(), "amount").ok(), Some(money));
        }

        #[test]
        fn an_accepted_price_is_what_its_text_says_with_at_most_two_decimals_and_in_bounds(
            raw in amount_text(),
        ) {
            if let Ok(price) = Money::parse_price(&raw, "price") {
                let text = raw.trim();
                let decimals = text.split_once('.').map_or(0, |(_, fraction)| fraction.len());
                prop_assert!(decimals <= 2, "{raw:?} has {decimals} decimals");
                prop_assert!(
                    (0..=Money::MAX_PRICE.cents()).contains(&price.cents()),
                    "{raw:?} is {price}"
                );
                prop_assert_eq!(cents_of(text), Some(u128::from(price.cents().unsigned_abs())));
            }
        }

        #[test]
        fn every_plain_decimal_within_bounds_is_accepted(raw in amount_text()) {
            let text = raw.trim();
            let max = u128::from(Money::MAX_PRICE.cents().unsigned_abs());
            // Leading zeros past twelve digits are refused even though the value is small.
            let short = text.split('.').next().is_some_and(|whole| whole.len() <= 12);
            if let Some(cents) = cents_of(text).filter(|&c| c <= max && short) {
                let price = Money::parse_price(&raw, "price");
                prop_assert_eq!(price.ok().map(|p| u128::from(p.cents().unsigned_abs())), Some(cents));
            }
        }

        #[test]
        fn more_than_two_decimals_or_a_sign_is_refused(
            whole in "[0-9]{1,6}",
            fraction in "[0-9]{3,6}",
            sign in "[-+]",
        ) {
            let imprecise = format!("{whole}.{fraction}");
            let signed = format!("{sign}{whole}");
            prop_assert!(Money::parse(&imprecise, "price").is_err());
            prop_assert!(Money::parse(&signed, "price").is_err());
        }

        #[test]
        fn price_bounds_are_accepted_exactly_when_some_price_lies_within_them(
            min in proptest::option::of(0..=Money::MAX_PRICE.cents()),
            max in proptest::option::of(0..=Money::MAX_PRICE.cents()),
        ) {
            let text = |cents: Option<i64>| cents.map(|c| Money::from_cents(c).to_string());
            let (min_text, max_text) = (text(min), text(max));
            let bounds = PriceBounds::parse(min_text.as_deref(), max_text.as_deref());
            let lowest_inside = Money::from_cents(min.unwrap_or(0));
            let satisfiable = max.is_none_or(|max| min.unwrap_or(0) <= max);
            match bounds {
                Ok(bounds) => {
                    prop_assert!(satisfiable);
                    prop_assert_eq!(bounds.min.map(Money::cents), min);
                    prop_assert_eq!(bounds.max.map(Money::cents), max);
                    prop_assert!(bounds.contains(lowest_inside));
                }
                Err(AppError::BadUserInput { field, .. }) => {
                    prop_assert!(!satisfiable);
                    prop_assert_eq!(field, "minPrice");
                }
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }

        #[test]
        fn price_bounds_of_any_text_never_panic_and_blame_a_field_they_were_given(
            min in proptest::option::of(amount_text()),
            max in proptest::option::of(amount_text()),
        ) {
            if let Err(AppError::BadUserInput { field, .. }) =
                PriceBounds::parse(min.as_deref(), max.as_deref())
            {
                let given = if field == "minPrice" { min.is_some() } else { max.is_some() };
                prop_assert!(given, "{field} was not given");
            }
        }

        #[test]
        fn any_amount_prints_with_exactly_two_decimals(cents in any::<i64>()) {
            let text = Money::from_cents(cents).to_string();
            let unsigned = text.strip_prefix('-').unwrap_or(&text);
            prop_assert_eq!(text.starts_with('-'), cents < 0);
            let (whole, fraction) = unsigned.split_once('.').expect("a decimal point");
            prop_assert!(!whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(fraction.len() == 2 && fraction.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
