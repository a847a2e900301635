//! What a cart costs by the shop's stored rules: the cart's discount code, the shipping
//! method, the country's tax rate, fed to the one pricing function. `Cart.totals` quotes
//! with it and checkout prices the order with it inside its transaction, so the two can
//! only differ when a rule changed in between (and then checkout refuses rather than
//! charge what was not shown: a code that no longer applies is BAD_USER_INPUT).

use chrono::Utc;
use entity::{cart, discount_code, shipping_method};
use sea_orm::ConnectionTrait;

use crate::{
    domain::{
        Country, Discount, Money, OrderTotals, PriceRules, ShippingRate, TaxMode, price, subtotal,
    },
    error::{AppError, AppResult},
    service::{
        cart::CartLine,
        discounts,
        shipping::{self, IfOmitted},
        tax,
    },
};

/// What the totals are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Shown before checkout: without a shipping method named, the cheapest; a discount
    /// code that no longer applies is left out (the cart still names it, checkout says why).
    Preview,
    /// The order about to be placed: a shipping method must be named where one ships,
    /// and a discount code that no longer applies is refused.
    Order,
}

/// Where an order would ship, for pricing: the country and the shipping method asked for.
#[derive(Clone, Copy, Debug)]
pub struct Destination<'a> {
    pub country: &'a Country,
    pub shipping_method: Option<i32>,
}

/// The totals, with the stored rules that made them (their names go into the order).
#[derive(Clone, Debug)]
pub struct Quote {
    pub totals: OrderTotals,
    pub shipping_method: Option<shipping_method::Model>,
    pub discount_code: Option<discount_code::Model>,
}

/// Prices `lines` of `cart` for `destination` (none yet: nothing to ship or tax).
pub async fn quote(
    db: &impl ConnectionTrait,
    cart: &cart::Model,
    lines: &[CartLine],
    destination: Option<Destination<'_>>,
    purpose: Purpose,
    tax_mode: TaxMode,
) -> AppResult<Quote> {
    let too_large =
        |err: crate::domain::TotalTooLarge| AppError::bad_input("cart", err.to_string());
    let line_totals = || lines.iter().map(CartLine::total);
    let subtotal = subtotal(line_totals()).map_err(too_large)?;
    let discount_code = applicable_code(db, cart, subtotal, purpose).await?;
    let (shipping_method, tax_rate) = match destination {
        Some(to) => {
            let if_omitted = match purpose {
                Purpose::Preview => IfOmitted::Cheapest,
                Purpose::Order => IfOmitted::Required,
            };
            (
                shipping::select(db, to.country, to.shipping_method, if_omitted).await?,
                tax::rate_for(db, to.country).await?,
            )
        }
        None => (None, None),
    };
    let rules = PriceRules {
        discount: discount_code
            .as_ref()
            .map(|code| {
                Ok::<_, AppError>(Discount {
                    reduction: discounts::value(code)?,
                    min_subtotal: discounts::min_subtotal(code),
                })
            })
            .transpose()?,
        shipping: shipping_method.as_ref().map(|method| ShippingRate {
            price: Money::from_cents(method.price_cents),
            free_over: method.free_over_cents.map(Money::from_cents),
        }),
        tax_rate,
        tax_mode,
    };
    let totals = price(line_totals(), &rules).map_err(too_large)?;
    Ok(Quote {
        totals,
        shipping_method,
        discount_code,
    })
}

/// The cart's discount code, if it applies to `subtotal` now; one that does not is left
/// out of a preview and refused for an order.
async fn applicable_code(
    db: &impl ConnectionTrait,
    cart: &cart::Model,
    subtotal: Money,
    purpose: Purpose,
) -> AppResult<Option<discount_code::Model>> {
    let Some(id) = cart.discount_code_id else {
        return Ok(None);
    };
    let Some(code) = discounts::find(db, id).await? else {
        return Ok(None);
    };
    let usable = discounts::check_for(db, &code, cart.user_id, subtotal, Utc::now()).await?;
    match (usable, purpose) {
        (Ok(()), _) => Ok(Some(code)),
        (Err(_), Purpose::Preview) => Ok(None),
        (Err(refusal), Purpose::Order) => Err(refusal.into()),
    }
}
