//! What a cart costs by the shop's stored rules: the shipping method, the country's tax
//! rate and the cart's discount code, fed to the one pricing function. `Cart.totals` quotes
//! with it and checkout prices the order with it inside its transaction, so the two can
//! only differ when a rule changed in between.

use entity::shipping_method;
use sea_orm::ConnectionTrait;

use crate::{
    domain::{Country, Money, OrderTotals, PriceRules, ShippingRate, TaxMode, price},
    error::{AppError, AppResult},
    service::{
        cart::CartLine,
        shipping::{self, IfOmitted},
        tax,
    },
};

/// Where an order would ship, for pricing: the country and the shipping method asked for.
#[derive(Clone, Copy, Debug)]
pub struct Destination<'a> {
    pub country: &'a Country,
    pub shipping_method: Option<i32>,
    /// What a missing `shipping_method` means: the cheapest for a quote, a refusal for an
    /// order.
    pub if_omitted: IfOmitted,
}

/// The totals, with the stored rules that made them (their names go into the order).
#[derive(Clone, Debug)]
pub struct Quote {
    pub totals: OrderTotals,
    pub shipping_method: Option<shipping_method::Model>,
}

/// Prices `lines` for `destination` (none yet: nothing to ship or tax).
pub async fn quote(
    db: &impl ConnectionTrait,
    lines: &[CartLine],
    destination: Option<Destination<'_>>,
    tax_mode: TaxMode,
) -> AppResult<Quote> {
    let (shipping_method, tax_rate) = match destination {
        Some(to) => (
            shipping::select(db, to.country, to.shipping_method, to.if_omitted).await?,
            tax::rate_for(db, to.country).await?,
        ),
        None => (None, None),
    };
    let rules = PriceRules {
        discount: None,
        shipping: shipping_method.as_ref().map(|method| ShippingRate {
            price: Money::from_cents(method.price_cents),
            free_over: method.free_over_cents.map(Money::from_cents),
        }),
        tax_rate,
        tax_mode,
    };
    let totals = price(lines.iter().map(CartLine::total), &rules)
        .map_err(|too_large| AppError::bad_input("cart", too_large.to_string()))?;
    Ok(Quote {
        totals,
        shipping_method,
    })
}
