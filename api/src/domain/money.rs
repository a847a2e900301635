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
    fn currency_codes_are_three_upper_case_letters() {
        assert!(Currency::parse("EUR").is_ok());
        for bad in ["eur", "EU", "EURO", "E1R"] {
            assert!(Currency::parse(bad).is_err());
        }
    }
}
