//! Discount codes: the code a customer types, what a code is worth, how often and when it
//! may be used, and who used it.

use std::fmt;

use chrono::{DateTime, SubsecRound, Utc};

use super::{Email, Money, Percent};
use crate::error::AppError;

/// A discount code as typed: trimmed and upper-cased (codes match in any case), 3 to 32
/// letters A-Z, digits, `-` or `_`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DiscountCodeText(String);

impl DiscountCodeText {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 32;

    /// `field` is the input the code came in, for the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let code = raw.trim().to_ascii_uppercase();
        let valid = (Self::MIN_LEN..=Self::MAX_LEN).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'));
        if valid {
            Ok(Self(code))
        } else {
            Err(AppError::bad_input(
                field,
                format!(
                    "must be {} to {} letters, digits, '-' or '_'",
                    Self::MIN_LEN,
                    Self::MAX_LEN
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DiscountCodeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a discount code takes off: a percentage of the subtotal, or a fixed amount. Never
/// both, never nothing, never zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscountValue {
    /// Above 0%, at most 100%.
    PercentOff(Percent),
    /// Above 0, at most [`Money::MAX_PRICE`].
    AmountOff(Money),
}

impl DiscountValue {
    /// Exactly one of `percentOff` (a percentage above 0, at most 100, with at most two
    /// decimals) and `amountOff` (a price above 0). Neither or both is BAD_USER_INPUT on
    /// `percentOff`; a bad value, on its own field.
    pub fn parse(percent_off: Option<&str>, amount_off: Option<&str>) -> Result<Self, AppError> {
        match (percent_off, amount_off) {
            (Some(percent), None) => {
                let percent = Percent::parse(percent, "percentOff")?;
                if percent.is_zero() {
                    return Err(AppError::bad_input("percentOff", "must be above 0"));
                }
                Ok(Self::PercentOff(percent))
            }
            (None, Some(amount)) => {
                let amount = Money::parse_price(amount, "amountOff")?;
                if amount.cents() == 0 {
                    return Err(AppError::bad_input("amountOff", "must be above 0"));
                }
                Ok(Self::AmountOff(amount))
            }
            _ => Err(AppError::bad_input(
                "percentOff",
                "give exactly one of percentOff and amountOff",
            )),
        }
    }

    /// The value as stored (`percent_off_bp`, `amount_off_cents`); `None` for a pair the
    /// table's CHECKs do not allow.
    pub fn from_stored(percent_off_bp: Option<i32>, amount_off_cents: Option<i64>) -> Option<Self> {
        match (percent_off_bp, amount_off_cents) {
            (Some(basis_points), None) => u32::try_from(basis_points)
                .ok()
                .and_then(Percent::from_basis_points)
                .filter(|percent| !percent.is_zero())
                .map(Self::PercentOff),
            (None, Some(cents)) if cents > 0 => Some(Self::AmountOff(Money::from_cents(cents))),
            _ => None,
        }
    }

    /// The `percent_off_bp` column.
    pub fn percent_off_bp(self) -> Option<i32> {
        match self {
            // At most 10,000: it fits.
            Self::PercentOff(percent) => Some(percent.basis_points() as i32),
            Self::AmountOff(_) => None,
        }
    }

    /// The `amount_off_cents` column.
    pub fn amount_off_cents(self) -> Option<i64> {
        match self {
            Self::PercentOff(_) => None,
            Self::AmountOff(amount) => Some(amount.cents()),
        }
    }
}

/// How many times a code may be used in all: at least once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UsageLimit(i32);

impl UsageLimit {
    /// `field` is the input the number came in, for the error.
    pub fn parse(uses: i32, field: &str) -> Result<Self, AppError> {
        if uses >= 1 {
            Ok(Self(uses))
        } else {
            Err(AppError::bad_input(field, "must be at least 1"))
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// When a code may be used: from `starts_at` (open: at once) until before `ends_at` (open:
/// for ever). A period that ends before it starts could never be used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
}

impl Period {
    /// An end at or before the start is BAD_USER_INPUT on `endsAt`. Both are kept to the
    /// microsecond, as the databases store them (see [`to_stored_precision`]).
    pub fn new(
        starts_at: Option<DateTime<Utc>>,
        ends_at: Option<DateTime<Utc>>,
    ) -> Result<Self, AppError> {
        let starts_at = starts_at.map(to_stored_precision);
        let ends_at = ends_at.map(to_stored_precision);
        if let (Some(start), Some(end)) = (starts_at, ends_at)
            && end <= start
        {
            return Err(AppError::bad_input("endsAt", "must be after startsAt"));
        }
        Ok(Self { starts_at, ends_at })
    }

    pub fn starts_at(self) -> Option<DateTime<Utc>> {
        self.starts_at
    }

    pub fn ends_at(self) -> Option<DateTime<Utc>> {
        self.ends_at
    }
}

/// `at` to the microsecond, which is what PostgreSQL keeps of a timestamp: an instant is
/// compared with another as it will be stored, so that an end one nanosecond after its
/// start is refused rather than stored equal to it.
pub fn to_stored_precision(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// Who uses a code, for once-per-customer codes: a user, or a guest by the email of the
/// order (ignoring case).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Customer {
    User(i32),
    Email(Email),
}

impl Customer {
    /// The key a use is stored under: `user:<id>` or `email:<lower-cased address>`.
    pub fn key(&self) -> String {
        match self {
            Self::User(id) => format!("user:{id}"),
            Self::Email(email) => format!("email:{}", email.key()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::any_text;

    fn field_of(err: &AppError) -> Option<&str> {
        err.bad_input_field()
    }

    #[test]
    fn codes_are_trimmed_and_upper_cased() {
        let (longest, longest_upper) = ("x".repeat(32), "X".repeat(32));
        for (raw, code) in [
            ("summer-10", "SUMMER-10"),
            ("  welcome_5 ", "WELCOME_5"),
            ("abc", "ABC"),
            (longest.as_str(), longest_upper.as_str()),
        ] {
            let parsed = DiscountCodeText::parse(raw, "code").expect(raw);
            assert_eq!(parsed.as_str(), code);
        }
    }

    #[test]
    fn codes_that_are_short_long_or_hold_other_characters_are_refused_on_their_field() {
        let too_long = "x".repeat(33);
        for raw in [
            "",
            "ab",
            "   ",
            too_long.as_str(),
            "two words",
            "SALE!",
            "ÉTÉ-10",
            "a.b.c",
            "1\u{200b}23",
        ] {
            let err = DiscountCodeText::parse(raw, "code").expect_err(raw);
            assert_eq!(field_of(&err), Some("code"), "{raw:?}");
        }
    }

    #[test]
    fn a_value_is_a_percentage_or_an_amount() {
        assert_eq!(
            DiscountValue::parse(Some("12.5"), None).ok(),
            Some(DiscountValue::PercentOff(
                Percent::from_basis_points(1250).expect("in range")
            ))
        );
        assert_eq!(
            DiscountValue::parse(Some("100"), None).ok(),
            Some(DiscountValue::PercentOff(Percent::WHOLE))
        );
        assert_eq!(
            DiscountValue::parse(None, Some("5")).ok(),
            Some(DiscountValue::AmountOff(Money::from_cents(500)))
        );
    }

    #[test]
    fn neither_both_zero_or_out_of_range_values_are_refused_on_the_right_field() {
        for (percent, amount, field) in [
            (None, None, "percentOff"),
            (Some("10"), Some("5"), "percentOff"),
            (Some("0"), None, "percentOff"),
            (Some("0.00"), None, "percentOff"),
            (Some("100.01"), None, "percentOff"),
            (Some("-5"), None, "percentOff"),
            (Some("ten"), None, "percentOff"),
            (None, Some("0"), "amountOff"),
            (None, Some("-1"), "amountOff"),
            (None, Some("1.001"), "amountOff"),
            (None, Some("1000000.01"), "amountOff"),
        ] {
            let err = DiscountValue::parse(percent, amount).expect_err("refused");
            assert_eq!(field_of(&err), Some(field), "{percent:?} {amount:?}");
        }
    }

    #[test]
    fn a_value_survives_its_columns_and_bad_columns_are_no_value() {
        for value in [
            DiscountValue::PercentOff(Percent::from_basis_points(1).expect("in range")),
            DiscountValue::PercentOff(Percent::WHOLE),
            DiscountValue::AmountOff(Money::from_cents(1)),
        ] {
            assert_eq!(
                DiscountValue::from_stored(value.percent_off_bp(), value.amount_off_cents()),
                Some(value)
            );
        }
        for (percent, amount) in [
            (None, None),
            (Some(1000), Some(100)),
            (Some(0), None),
            (Some(10_001), None),
            (Some(-1), None),
            (None, Some(0)),
            (None, Some(-5)),
        ] {
            assert_eq!(DiscountValue::from_stored(percent, amount), None);
        }
    }

    #[test]
    fn a_usage_limit_is_at_least_one() {
        assert_eq!(
            UsageLimit::parse(1, "usageLimit").map(UsageLimit::get).ok(),
            Some(1)
        );
        for uses in [0, -1, i32::MIN] {
            let err = UsageLimit::parse(uses, "usageLimit").expect_err("refused");
            assert_eq!(field_of(&err), Some("usageLimit"));
        }
    }

    #[test]
    fn a_period_ends_after_it_starts_or_is_open() {
        let now = Utc::now().trunc_subsecs(6);
        let later = now + TimeDelta::hours(1);
        assert!(Period::new(None, None).is_ok());
        assert!(Period::new(Some(now), None).is_ok());
        assert!(Period::new(None, Some(now)).is_ok());
        let period = Period::new(Some(now), Some(later)).expect("ordered");
        assert_eq!(
            (period.starts_at(), period.ends_at()),
            (Some(now), Some(later))
        );
        for end in [now, now - TimeDelta::seconds(1)] {
            let err = Period::new(Some(now), Some(end)).expect_err("not after the start");
            assert_eq!(field_of(&err), Some("endsAt"));
        }
    }

    #[test]
    fn instants_are_kept_to_the_microsecond_as_stored() {
        let start = DateTime::parse_from_rfc3339("2026-12-02T10:00:00.123456789Z")
            .expect("valid")
            .with_timezone(&Utc);
        let period = Period::new(Some(start), None).expect("open");
        assert_eq!(
            period.starts_at().map(|at| at.to_rfc3339()).as_deref(),
            Some("2026-12-02T10:00:00.123456+00:00")
        );
        // Within the same microsecond: no later once stored.
        let err = Period::new(Some(start), Some(start + TimeDelta::nanoseconds(100)))
            .expect_err("the same instant once stored");
        assert_eq!(field_of(&err), Some("endsAt"));
    }

    #[test]
    fn customers_are_keyed_by_user_id_or_lower_cased_email() {
        assert_eq!(Customer::User(42).key(), "user:42");
        let email = Email::parse("Ada.Lovelace@Example.COM", "email").expect("valid");
        assert_eq!(
            Customer::Email(email).key(),
            "email:ada.lovelace@example.com"
        );
    }

    proptest! {
        #[test]
        fn parsing_any_code_never_panics_and_accepts_only_the_code_alphabet(raw in any_text()) {
            if let Ok(code) = DiscountCodeText::parse(&raw, "code") {
                prop_assert!((3..=32).contains(&code.as_str().len()));
                prop_assert!(code.as_str().bytes().all(|b| b.is_ascii_uppercase()
                    || b.is_ascii_digit() || b == b'-' || b == b'_'));
                prop_assert_eq!(code.as_str(), raw.trim().to_ascii_uppercase());
            }
        }

        #[test]
        fn a_code_in_any_case_is_the_same_code(raw in "[a-zA-Z0-9_-]{3,32}") {
            let lower = DiscountCodeText::parse(&raw.to_ascii_lowercase(), "code");
            let upper = DiscountCodeText::parse(&raw.to_ascii_uppercase(), "code");
            prop_assert_eq!(lower.ok(), upper.ok());
        }
    }
}
