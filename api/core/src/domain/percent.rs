use std::fmt;

use crate::error::AppError;

/// A percentage from 0 to 100 with at most two decimals, such as a tax rate ("20.00") or a
/// discount ("12.5"). Kept exactly, in hundredths of a percent (basis points), so that
/// what is charged never depends on a float.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(u32);

impl Percent {
    /// 100%.
    pub const WHOLE: Percent = Percent(10_000);

    pub const fn from_basis_points(basis_points: u32) -> Option<Self> {
        if basis_points <= Self::WHOLE.0 {
            Some(Self(basis_points))
        } else {
            None
        }
    }

    /// Hundredths of a percent: "20.00" is 2000.
    pub const fn basis_points(self) -> u32 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// A decimal string from "0" to "100" with at most two decimals; BAD_USER_INPUT on
    /// `field` otherwise.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let invalid = || {
            AppError::bad_input(
                field,
                "must be a percentage from 0 to 100 with at most two decimals, such as \"20.00\"",
            )
        };
        let raw = raw.trim();
        let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > 3
            || !digits(whole)
            || fraction.len() > 2
            || !digits(fraction)
            || raw.ends_with('.')
        {
            return Err(invalid());
        }
        let whole: u32 = whole.parse().map_err(|_| invalid())?;
        let fraction: u32 = format!("{fraction:0<2}").parse().map_err(|_| invalid())?;
        Self::from_basis_points(whole * 100 + fraction).ok_or_else(invalid)
    }
}

/// Two decimals, as the contract's `Decimal` scalar shows rates: "20.00", "7.50".
impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::{any_text, near};

    #[test]
    fn reads_percentages_with_up_to_two_decimals() {
        for (raw, basis_points) in [
            ("0", 0),
            ("20", 2000),
            ("20.00", 2000),
            ("7.5", 750),
            ("0.01", 1),
            (" 19.6 ", 1960),
            ("100", 10_000),
            ("100.00", 10_000),
        ] {
            let percent = Percent::parse(raw, "rate").expect(raw);
            assert_eq!(percent.basis_points(), basis_points, "{raw}");
        }
    }

    #[test]
    fn refuses_more_than_a_whole_negative_imprecise_and_malformed_percentages() {
        for raw in [
            "100.01", "101", "-1", "1.005", "", ".5", "5.", "1e2", "20%", "1,5", "+3", "NaN",
        ] {
            let err = Percent::parse(raw, "rate").expect_err(raw);
            assert!(
                matches!(&err, AppError::BadUserInput { field, .. } if field == "rate"),
                "{raw}: {err:?}"
            );
        }
    }

    #[test]
    fn prints_two_decimals() {
        assert_eq!(Percent(2000).to_string(), "20.00");
        assert_eq!(Percent(750).to_string(), "7.50");
        assert_eq!(Percent(1).to_string(), "0.01");
        assert_eq!(Percent::WHOLE.to_string(), "100.00");
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(raw in any_text()) {
            let _ = Percent::parse(&raw, "rate");
        }

        #[test]
        fn every_percentage_survives_printing_and_parsing(basis_points in 0..=10_000u32) {
            let percent = Percent::from_basis_points(basis_points).expect("in range");
            prop_assert_eq!(Percent::parse(&percent.to_string(), "rate").ok(), Some(percent));
        }

        #[test]
        fn an_accepted_percentage_is_never_above_a_whole(raw in near("[0-9]{1,3}(\\.[0-9]{1,2})?")) {
            if let Ok(percent) = Percent::parse(&raw, "rate") {
                prop_assert!(percent <= Percent::WHOLE);
            }
        }
    }
}
