use crate::error::AppError;

/// How many units of one product a cart line holds: 1 to 999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(i32);

impl Quantity {
    pub const MAX: i32 = 999;

    pub fn parse(raw: i32) -> Result<Self, AppError> {
        if (1..=Self::MAX).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err(AppError::bad_input(
                "quantity",
                format!("must be from 1 to {}", Self::MAX),
            ))
        }
    }

    /// A line's new quantity, where 0 means no line at all: `None` for 0, and otherwise as
    /// [`Quantity::parse`].
    pub fn parse_allowing_zero(raw: i32) -> Result<Option<Self>, AppError> {
        if raw == 0 {
            return Ok(None);
        }
        Self::parse(raw).map(Some)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_nine_hundred_ninety_nine_units_fit_a_line() {
        assert_eq!(Quantity::parse(1).map(Quantity::get).ok(), Some(1));
        assert_eq!(Quantity::parse(999).map(Quantity::get).ok(), Some(999));
        for bad in [i32::MIN, -1, 0, 1000] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_new_quantity_of_zero_means_no_line() {
        assert_eq!(Quantity::parse_allowing_zero(0).ok(), Some(None));
        assert_eq!(
            Quantity::parse_allowing_zero(5)
                .ok()
                .flatten()
                .map(Quantity::get),
            Some(5)
        );
        for bad in [i32::MIN, -1, 1000] {
            assert!(Quantity::parse_allowing_zero(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_quantity_is_accepted_exactly_from_1_to_999_and_keeps_its_value(raw in any::<i32>()) {
            match Quantity::parse(raw) {
                Ok(quantity) => {
                    prop_assert!((1..=Quantity::MAX).contains(&raw));
                    prop_assert_eq!(quantity.get(), raw);
                }
                Err(_) => prop_assert!(!(1..=Quantity::MAX).contains(&raw)),
            }
        }

        #[test]
        fn every_quantity_in_bounds_survives_parsing(raw in 1..=Quantity::MAX) {
            prop_assert_eq!(Quantity::parse(raw).map(Quantity::get).ok(), Some(raw));
        }
    }
}
