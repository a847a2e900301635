//! Exact money on the wire: the Decimal scalar and the Money object.

use async_graphql::{InputValueError, InputValueResult, Object, Scalar, ScalarType, Value};

use crate::domain::{Currency, Money};

/// An exact decimal number sent as a JSON string, e.g. "19.99". Whole numbers may also be
/// sent as JSON integers; floats are refused, since they cannot hold money exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decimal(pub String);

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

/// An amount of money in the shop's currency.
pub struct MoneyValue {
    pub amount: Money,
    pub currency: Currency,
}

#[Object(name = "Money")]
impl MoneyValue {
    /// The exact amount, e.g. "19.99".
    async fn amount(&self) -> Decimal {
        Decimal(self.amount.to_string())
    }
    /// The ISO 4217 currency code, e.g. "USD".
    async fn currency_code(&self) -> &str {
        self.currency.as_str()
    }
}
