//! What shipping and tax an order pays: the shipping methods customers choose from and
//! the tax rate of each country, both set by admins.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use entity::{shipping_method, tax_rate};

use super::{
    context::ContextExt,
    guards::AdminGuard,
    ids::{node_id, required_id},
    input::{optional, patch, patch_value},
    money::{Decimal, MoneyValue, price},
};
use crate::{
    domain::{
        Countries, Country, Days, DeliveryDays, Money, NodeKind, Percent, ShippingMethodName,
    },
    error::AppResult,
    service::{
        shipping::{self, NewShippingMethod, ShippingMethodChanges},
        tax,
    },
};

pub struct ShippingMethod(pub shipping_method::Model);

/// A way of delivering an order, at a price, to some countries: what a customer chooses
/// at checkout (`shippingMethodId`).
#[Object]
impl ShippingMethod {
    /// The shipping method's globally unique ID.
    pub async fn id(&self) -> ID {
        node_id(NodeKind::ShippingMethod, self.0.id)
    }
    /// What the customer reads, e.g. "Standard" or "Express".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What shipping an order costs with this method, unless `freeOver` makes it free.
    async fn price(&self, ctx: &Context<'_>) -> Result<MoneyValue> {
        let price = Money::from_cents(self.0.price_cents);
        Ok(MoneyValue::new(price, ctx.currency()?.clone()))
    }
    /// Shipping is free when the order's subtotal after its discount reaches this; null:
    /// never free.
    async fn free_over(&self, ctx: &Context<'_>) -> Result<Option<MoneyValue>> {
        let currency = ctx.currency()?;
        Ok(self
            .0
            .free_over_cents
            .map(|cents| MoneyValue::new(Money::from_cents(cents), currency.clone())))
    }
    /// The ISO 3166-1 alpha-2 codes of the countries it delivers to, sorted; [] means
    /// everywhere.
    async fn countries(&self) -> Vec<String> {
        Countries::from_stored(&self.0.countries)
    }
    /// The fewest days a delivery takes, when known.
    async fn min_days(&self) -> Option<i32> {
        self.0.min_days
    }
    /// The most days a delivery takes, when known; never less than `minDays`.
    async fn max_days(&self) -> Option<i32> {
        self.0.max_days
    }
}

pub struct TaxRate {
    country: String,
    rate: Percent,
}

impl TaxRate {
    fn of(row: tax_rate::Model) -> AppResult<Self> {
        Ok(Self {
            rate: tax::stored_rate(&row)?,
            country: row.country,
        })
    }
}

/// The tax rate of one country.
#[Object]
impl TaxRate {
    /// The country's ISO 3166-1 alpha-2 code, e.g. "GB".
    async fn country(&self) -> &str {
        &self.country
    }
    /// The rate in percent with two decimals, e.g. "20.00".
    async fn rate(&self) -> Decimal {
        Decimal(self.rate.to_string())
    }
}

/// A new shipping method.
#[derive(InputObject)]
pub struct CreateShippingMethodInput {
    /// 1 to 100 characters, e.g. "Standard".
    name: String,
    /// From "0" to "1000000.00", at most two decimals.
    price: Decimal,
    /// Shipping is free from this discounted subtotal on; from "0" to "1000000.00".
    free_over: Option<Decimal>,
    /// ISO 3166-1 alpha-2 codes, in any case; repeats count once. Left out or []:
    /// everywhere.
    countries: Option<Vec<String>>,
    /// The fewest days a delivery takes, 0 to 365.
    min_days: Option<i32>,
    /// The most days a delivery takes, 0 to 365, not less than `minDays`.
    max_days: Option<i32>,
}

/// Changes to a shipping method: fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateShippingMethodInput {
    /// 1 to 100 characters.
    name: Option<String>,
    /// From "0" to "1000000.00", at most two decimals.
    price: Option<Decimal>,
    /// A new free-shipping threshold; null: never free.
    free_over: MaybeUndefined<Decimal>,
    /// Replaces the countries; [] means everywhere (null is the same as leaving it out).
    countries: Option<Vec<String>>,
    /// 0 to 365; null: unknown.
    min_days: MaybeUndefined<i32>,
    /// 0 to 365, not less than the minimum; null: unknown.
    max_days: MaybeUndefined<i32>,
}

fn method_id(id: &ID) -> AppResult<i32> {
    required_id(id, "id", NodeKind::ShippingMethod, "shipping method")
}

#[derive(Default)]
pub struct ShippingQuery;

#[Object]
impl ShippingQuery {
    /// The shipping methods that deliver to a country, cheapest first: those listing it
    /// and those for everywhere. Empty when the shop has none for it.
    async fn shipping_methods(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An ISO 3166-1 alpha-2 code, in any case, e.g. \"GB\".")] country: String,
    ) -> Result<Vec<ShippingMethod>> {
        let country = Country::parse(&country, "country")?;
        let methods = shipping::for_country(ctx.db()?, &country).await?;
        Ok(methods.into_iter().map(ShippingMethod).collect())
    }

    /// Every country's tax rate, by country code (admin). A country without one is not
    /// taxed.
    #[graphql(guard = "AdminGuard")]
    async fn tax_rates(&self, ctx: &Context<'_>) -> Result<Vec<TaxRate>> {
        let rates = tax::rates(ctx.db()?, ctx.viewer()?).await?;
        Ok(rates
            .into_iter()
            .map(TaxRate::of)
            .collect::<AppResult<_>>()?)
    }
}

#[derive(Default)]
pub struct ShippingMutation;

#[Object]
impl ShippingMutation {
    /// Offers a new shipping method (admin).
    #[graphql(guard = "AdminGuard")]
    async fn create_shipping_method(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The method to offer.")] input: CreateShippingMethodInput,
    ) -> Result<ShippingMethod> {
        let input = NewShippingMethod {
            name: ShippingMethodName::parse(&input.name, "name")?,
            price: price(&input.price, "price")?,
            free_over: optional(input.free_over.as_ref(), "freeOver", price)?,
            countries: Countries::parse(
                input.countries.as_deref().unwrap_or_default(),
                "countries",
            )?,
            days: DeliveryDays::parse(input.min_days, input.max_days, "minDays", "maxDays")?,
        };
        let method = shipping::create(ctx.db()?, ctx.viewer()?, input).await?;
        Ok(ShippingMethod(method))
    }

    /// Changes a shipping method (admin). Orders already placed keep what they paid.
    #[graphql(guard = "AdminGuard")]
    async fn update_shipping_method(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shipping method's ID.")] id: ID,
        #[graphql(desc = "The changes.")] input: UpdateShippingMethodInput,
    ) -> Result<ShippingMethod> {
        let id = method_id(&id)?;
        let changes = ShippingMethodChanges {
            name: optional(input.name.as_deref(), "name", ShippingMethodName::parse)?,
            price: optional(input.price.as_ref(), "price", price)?,
            free_over: patch(
                &input.free_over.map_value(|amount| amount.0),
                "freeOver",
                Money::parse_price,
            )?,
            countries: optional(input.countries.as_deref(), "countries", Countries::parse)?,
            min_days: patch_value(input.min_days, "minDays", Days::parse)?,
            max_days: patch_value(input.max_days, "maxDays", Days::parse)?,
        };
        let method = shipping::update(ctx.db()?, ctx.viewer()?, id, changes).await?;
        Ok(ShippingMethod(method))
    }

    /// Stops offering a shipping method (admin). Orders shipped with it keep its name.
    #[graphql(guard = "AdminGuard")]
    async fn delete_shipping_method(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shipping method's ID.")] id: ID,
    ) -> Result<bool> {
        let id = method_id(&id)?;
        Ok(shipping::delete(ctx.db()?, ctx.viewer()?, id).await?)
    }

    /// Sets a country's tax rate, replacing the one it had (admin).
    #[graphql(guard = "AdminGuard")]
    async fn set_tax_rate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An ISO 3166-1 alpha-2 code, in any case, e.g. \"GB\".")] country: String,
        #[graphql(desc = "Percent from \"0\" to \"100\", at most two decimals, e.g. \"20.00\".")]
        rate: Decimal,
    ) -> Result<TaxRate> {
        let country = Country::parse(&country, "country")?;
        let rate = Percent::parse(&rate.0, "rate")?;
        let stored = tax::set_rate(ctx.db()?, ctx.viewer()?, country, rate).await?;
        Ok(TaxRate::of(stored)?)
    }

    /// Removes a country's tax rate, so its orders are not taxed (admin); NOT_FOUND when
    /// it has none.
    #[graphql(guard = "AdminGuard")]
    async fn delete_tax_rate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An ISO 3166-1 alpha-2 code, in any case, e.g. \"GB\".")] country: String,
    ) -> Result<bool> {
        let country = Country::parse(&country, "country")?;
        Ok(tax::delete_rate(ctx.db()?, ctx.viewer()?, country).await?)
    }
}
