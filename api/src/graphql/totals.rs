//! What an order costs, part by part: the cart's quote and the order's snapshot alike.

use async_graphql::Object;

use super::money::MoneyValue;
use crate::domain::{self, Currency};

/// The parts of a total in one currency.
pub struct OrderTotals {
    totals: domain::OrderTotals,
    currency: Currency,
}

impl OrderTotals {
    pub fn new(totals: domain::OrderTotals, currency: Currency) -> Self {
        Self { totals, currency }
    }

    fn money(&self, amount: domain::Money) -> MoneyValue {
        MoneyValue::new(amount, self.currency.clone())
    }
}

/// What an order costs: `total = subtotal - discount + shipping + tax`, except that tax
/// already included in the prices (a shop run with `SHOP_PRICES_INCLUDE_TAX`) is part of
/// the subtotal and not added again. The discount and the tax are each rounded half-up
/// to the cent, once per order.
#[Object]
impl OrderTotals {
    /// The sum of the lines at their prices.
    async fn subtotal(&self) -> MoneyValue {
        self.money(self.totals.subtotal)
    }
    /// What the discount code takes off the subtotal.
    async fn discount(&self) -> MoneyValue {
        self.money(self.totals.discount)
    }
    /// The shipping method's price; zero when it ships free.
    async fn shipping(&self) -> MoneyValue {
        self.money(self.totals.shipping)
    }
    /// The tax on the discounted subtotal plus shipping: added on top, or, when prices
    /// include tax, the part of the total that is tax.
    async fn tax(&self) -> MoneyValue {
        self.money(self.totals.tax)
    }
    /// What is (or was) charged.
    async fn total(&self) -> MoneyValue {
        self.money(self.totals.total)
    }
}
