//! Exact money on the wire: the Decimal scalar and the Money object.

use async_graphql::{InputValueError, InputValueResult, Object, Scalar, ScalarType, Value};

use crate::{
    domain::{Currency, Money},
    error::AppResult,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decimal(pub String);

/// An exact decimal number sent as a JSON string, e.g. "19.99". Whole numbers may also be
/// sent as JSON integers; floats are refused, since they cannot hold money exactly.
#[Scalar]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(text) => Ok(Self(text)),
            Value::Number(number) if number.is_i64() || number.is_u64() => {
                Ok(Self(number.to_string()))
            }
            _ => Err(InputValueError::custom(
                "a Decimal is a string such as \"19.99\"",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

impl From<Money> for Decimal {
    fn from(amount: Money) -> Self {
        Self(amount.to_string())
    }
}

#[derive(Clone)]
pub struct MoneyValue {
    amount: Money,
    currency: Currency,
}

impl MoneyValue {
    pub fn new(amount: Money, currency: Currency) -> Self {
        Self { amount, currency }
    }
}

/// An exact amount of money in the shop's currency: an `amount` of "19.99" with the
/// `currencyCode` "USD" is nineteen dollars and ninety-nine cents.
#[Object(name = "Money")]
impl MoneyValue {
    /// The exact amount, e.g. "19.99".
    async fn amount(&self) -> Decimal {
        Decimal::from(self.amount)
    }
    /// The ISO 4217 currency code, e.g. "USD".
    async fn currency_code(&self) -> &str {
        self.currency.as_str()
    }
}

/// A price given as the input `field`.
pub fn price(price: &Decimal, field: &str) -> AppResult<Money> {
    Money::parse_price(&price.0, field)
}

#[cfg(test)]
mod properties {
    use async_graphql::Number;
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::any_text;

    /// Any GraphQL input value a client could put where a Decimal goes.
    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any_text().prop_map(Value::String),
            any::<i64>().prop_map(|n| Value::Number(n.into())),
            any::<u64>().prop_map(|n| Value::Number(n.into())),
            any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            any::<bool>().prop_map(Value::Boolean),
            Just(Value::Null),
        ];
        leaf.prop_recursive(2, 8, 4, |inner| {
            prop::collection::vec(inner, 0..4).prop_map(Value::List)
        })
    }

    proptest! {
        #[test]
        fn a_decimal_is_a_string_kept_verbatim_or_a_whole_number(value in any_value()) {
            let parsed = <Decimal as ScalarType>::parse(value.clone());
            match value {
                Value::String(text) => prop_assert_eq!(parsed.ok(), Some(Decimal(text))),
                Value::Number(n) if n.is_i64() || n.is_u64() => {
                    prop_assert_eq!(parsed.ok(), Some(Decimal(n.to_string())));
                }
                _ => prop_assert!(parsed.is_err()),
            }
        }

        #[test]
        fn a_price_survives_the_decimal_scalar(cents in 0..=Money::MAX_PRICE.cents()) {
            let price = Money::from_cents(cents);
            let sent = Decimal::from(price).to_value();
            let received = <Decimal as ScalarType>::parse(sent).expect("a Decimal");
            prop_assert_eq!(Money::parse_price(&received.0, "price").ok(), Some(price));
        }

        #[test]
        fn a_whole_number_sent_as_an_integer_is_that_many_units(units in 0..=1_000_000i64) {
            let received =
                <Decimal as ScalarType>::parse(Value::Number(units.into())).expect("a Decimal");
            let price = Money::parse_price(&received.0, "price").expect("a price");
            prop_assert_eq!(price.cents(), units * 100);
        }
    }
}
