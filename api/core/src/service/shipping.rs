//! Shipping methods: admins offer them, at a price, to some countries or everywhere;
//! customers list those of their country; carts and checkout [`select`] the one an order
//! is shipped with.

use chrono::Utc;
use entity::shipping_method;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::{
    db,
    domain::{Countries, Country, Days, DeliveryDays, Money, ShippingMethodName},
    error::{AppError, AppResult, Refusal},
    service::{
        Patch,
        viewer::{Viewer, require_admin},
    },
};

/// A new shipping method.
pub struct NewShippingMethod {
    pub name: ShippingMethodName,
    pub price: Money,
    /// Free when the discounted subtotal reaches this.
    pub free_over: Option<Money>,
    /// Empty: everywhere.
    pub countries: Countries,
    pub days: DeliveryDays,
}

/// Changes to a shipping method; `None` and `Keep` leave a value as it is.
#[derive(Default)]
pub struct ShippingMethodChanges {
    pub name: Option<ShippingMethodName>,
    pub price: Option<Money>,
    pub free_over: Patch<Money>,
    /// `Some(Countries::everywhere())` makes the method deliver everywhere.
    pub countries: Option<Countries>,
    pub min_days: Patch<Days>,
    pub max_days: Patch<Days>,
}

/// Creates a shipping method (admin).
pub async fn create(
    db: &DatabaseConnection,
    viewer: &Viewer,
    input: NewShippingMethod,
) -> AppResult<shipping_method::Model> {
    require_admin(db, viewer).await?;
    let now = Utc::now();
    let created = shipping_method::ActiveModel {
        name: Set(input.name.into_string()),
        price_cents: Set(input.price.cents()),
        free_over_cents: Set(input.free_over.map(Money::cents)),
        countries: Set(input.countries.to_stored()),
        min_days: Set(input.days.min().map(Days::get)),
        max_days: Set(input.days.max().map(Days::get)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(created)
}

/// Changes a shipping method (admin): NOT_FOUND when there is none with this id. Delivery
/// days are checked as they will be stored: a `maxDays` below the `minDays` it keeps (or
/// gets) is refused.
pub async fn update(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i32,
    changes: ShippingMethodChanges,
) -> AppResult<shipping_method::Model> {
    require_admin(db, viewer).await?;
    let txn = db::begin_write(db).await?;
    // Locked on PostgreSQL so that two admins changing the two ends of the delivery days
    // at once cannot each pass the check against the other's old value (SQLite's write
    // transactions run one at a time anyway).
    let current = shipping_method::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("shipping method"))?;
    let min_days = changes.min_days.map(Days::get).applied_to(current.min_days);
    let max_days = changes.max_days.map(Days::get).applied_to(current.max_days);
    if let (Some(min), Some(max)) = (min_days, max_days)
        && max < min
    {
        return Err(Refusal::DeliveryEndsBeforeItStarts.into());
    }

    let mut active = current.into_active_model();
    if let Some(name) = changes.name {
        active.name = Set(name.into_string());
    }
    if let Some(price) = changes.price {
        active.price_cents = Set(price.cents());
    }
    if let Some(free_over) = changes.free_over.change() {
        active.free_over_cents = Set(free_over.map(Money::cents));
    }
    if let Some(countries) = changes.countries {
        active.countries = Set(countries.to_stored());
    }
    active.min_days = Set(min_days);
    active.max_days = Set(max_days);
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes a shipping method (admin): NOT_FOUND when there is none with this id. Orders
/// keep the name of the method they were shipped with, so nothing refers to it.
pub async fn delete(db: &DatabaseConnection, viewer: &Viewer, id: i32) -> AppResult<bool> {
    require_admin(db, viewer).await?;
    let deleted = shipping_method::Entity::delete_by_id(id).exec(db).await?;
    if deleted.rows_affected == 0 {
        return Err(AppError::NotFound("shipping method"));
    }
    Ok(true)
}

/// One shipping method; anyone may see any.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> AppResult<Option<shipping_method::Model>> {
    Ok(shipping_method::Entity::find_by_id(id).one(db).await?)
}

/// Shipping methods by id, in no particular order (for `nodes(ids:)`).
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i32],
) -> AppResult<Vec<shipping_method::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(shipping_method::Entity::find()
        .filter(shipping_method::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The shipping methods that deliver to `country` (those listing it, and those for
/// everywhere), cheapest first; methods of one price by id, the older first.
pub async fn for_country(
    db: &impl ConnectionTrait,
    country: &Country,
) -> AppResult<Vec<shipping_method::Model>> {
    // The stored list is `Countries::to_stored`'s JSON, so a quoted code matches exactly
    // that code ("GB" cannot match inside "GBR" or span two entries), on both databases.
    let listed = format!("%{}%", Countries::stored_entry(*country));
    Ok(shipping_method::Entity::find()
        .filter(
            Condition::any()
                .add(shipping_method::Column::Countries.eq(Countries::everywhere().to_stored()))
                .add(shipping_method::Column::Countries.like(listed)),
        )
        .order_by_asc(shipping_method::Column::PriceCents)
        .order_by_asc(shipping_method::Column::Id)
        .all(db)
        .await?)
}

/// What to do when a customer names no shipping method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfOmitted {
    /// Take the cheapest that applies: for totals shown before the customer has chosen.
    Cheapest,
    /// Refuse while any applies: an order must say how it is shipped.
    Required,
}

/// The shipping method for an address in `country`: `None` when no method is configured at
/// all (shipping is free everywhere, as it was before shipping methods existed).
///
/// Refusals, in this order: methods exist but none applies to the country
/// ([`Refusal::NoShippingToCountry`]); `requested` is unknown or does not apply to the
/// country ([`Refusal::ShippingMethodNotAvailable`], also when no method exists at all:
/// the customer asked for one that is not there); `requested` is `None` with
/// [`IfOmitted::Required`] while some apply ([`Refusal::ShippingMethodRequired`]). With
/// [`IfOmitted::Cheapest`], the first of [`for_country`] is chosen.
///
/// Reads only, through `db`: it can run inside the caller's transaction.
pub async fn select(
    db: &impl ConnectionTrait,
    country: &Country,
    requested: Option<i32>,
    omitted: IfOmitted,
) -> AppResult<Option<shipping_method::Model>> {
    let applying = for_country(db, country).await?;
    if applying.is_empty() {
        let any_configured = shipping_method::Entity::find().count(db).await? > 0;
        return match (any_configured, requested) {
            (true, _) => Err(Refusal::NoShippingToCountry.into()),
            (false, Some(_)) => Err(Refusal::ShippingMethodNotAvailable.into()),
            (false, None) => Ok(None),
        };
    }
    match (requested, omitted) {
        (Some(id), _) => applying
            .into_iter()
            .find(|method| method.id == id)
            .map(Some)
            .ok_or_else(|| Refusal::ShippingMethodNotAvailable.into()),
        (None, IfOmitted::Cheapest) => Ok(applying.into_iter().next()),
        (None, IfOmitted::Required) => Err(Refusal::ShippingMethodRequired.into()),
    }
}
