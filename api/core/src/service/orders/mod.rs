//! Orders after checkout: history, fulfilment, cancellation with refund and restock, and
//! the sweeper that settles orders whose payment outcome was lost.
//!
//! Every status change is a conditional update (`... WHERE status = <expected>`), so of
//! two racing changes exactly one applies; stock moves only in the transaction of the
//! change that won.
//!
//! This file answers questions about orders; the changes are split by concern:
//! - `lifecycle`: the status machine (a transition, fulfilment, cancellation);
//! - `ledger`: the payment rows of an order (its charge, its refunds, late payments);
//! - `completion`: payments that wait for their customer, and how they are settled;
//! - `payment`: an order's payment as its buyer sees it;
//! - `refund`: an admin's refund of part or all of an order;
//! - `release`: what a PENDING order holds (stock, the cart) and how it lets go;
//! - `sweeper`: settling what a crash or a lost gateway answer left behind.

mod completion;
mod ledger;
mod lifecycle;
mod payment;
mod refund;
mod release;
mod sweeper;

use entity::{order, order_item};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder,
};

use crate::{
    domain::OrderStatus,
    error::{AppError, AppResult},
    service::{
        pagination::{Page, PageArgs, page_by_id},
        throttle,
        viewer::{Viewer, current_user, require_admin},
    },
};

pub use completion::{
    AskedBy, COMPLETIONS, complete_payment, complete_payment_of, confirm_payment,
};
pub use ledger::{
    await_customer, awaits_customer, cancel_after_late_payment, charges_of, complete_refund,
    gateway_of, owe_refund_of_late_payment, refunds_of, settle_refund, settlement_of,
    succeeded_charge,
};
pub use lifecycle::{
    cancel, mark_paid, mark_paid_without_charge, release, transition, update_status,
};
pub use payment::{PaymentState, PaymentView, payment_of};
pub use refund::refund;
pub use release::{release_cart, restock};
pub use sweeper::{Swept, sweep};

/// The caller's own orders, newest first.
pub async fn list_own(
    db: &DatabaseConnection,
    viewer: &Viewer,
    args: &PageArgs,
) -> AppResult<Page<order::Model>> {
    let user_id = viewer.user_id()?;
    let query = order::Entity::find().filter(order::Column::UserId.eq(user_id));
    page_by_id(db, query, order::Column::Id, Order::Desc, args, |o| o.id).await
}

/// Every order, newest first, optionally of one status (admin).
pub async fn list_all(
    db: &DatabaseConnection,
    viewer: &Viewer,
    status: Option<OrderStatus>,
    args: &PageArgs,
) -> AppResult<Page<order::Model>> {
    require_admin(db, viewer).await?;
    let mut query = order::Entity::find();
    if let Some(status) = status {
        query = query.filter(order::Column::Status.eq(status));
    }
    page_by_id(db, query, order::Column::Id, Order::Desc, args, |o| o.id).await
}

/// An order its owner or an admin asks for. Anyone else gets NOT_FOUND, exactly as for an
/// order that does not exist, so order ids cannot be probed.
pub async fn find_visible(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i32,
) -> AppResult<order::Model> {
    visible_by_ids(db, viewer, &[id])
        .await?
        .pop()
        .ok_or(AppError::NotFound("order"))
}

/// Of the orders `ids`, those the caller may see (see [`find_visible`]; UNAUTHENTICATED
/// when anonymous): one query, and one more for the admin flag when some are someone
/// else's.
pub async fn visible_by_ids(
    db: &DatabaseConnection,
    viewer: &Viewer,
    ids: &[i32],
) -> AppResult<Vec<order::Model>> {
    let user_id = viewer.user_id()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = order::Entity::find()
        .filter(order::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    if found.iter().any(|order| order.user_id != Some(user_id))
        && !current_user(db, viewer).await?.is_admin
    {
        found.retain(|order| order.user_id == Some(user_id));
    }
    Ok(found)
}

/// The order with this number, for whoever also knows the email it was placed with
/// (ignoring case): how a guest finds their order. A wrong number and a wrong email get
/// the same answer, `None`, and count as a miss against the number and the client address
/// (RATE_LIMITED past the limit), so neither can be guessed.
pub async fn by_number(
    db: &DatabaseConnection,
    client_addr: &str,
    number: &str,
    email: &str,
) -> AppResult<Option<order::Model>> {
    let number = number.trim().to_ascii_uppercase();
    let attempt = throttle::begin_limited(db, throttle::ORDER_LOOKUP, &number, client_addr).await?;
    let order = order::Entity::find()
        .filter(order::Column::Number.eq(number.as_str()))
        .one(db)
        .await?
        .filter(|order| order.email.to_lowercase() == email.trim().to_lowercase());
    if order.is_some() {
        attempt.succeeded(db).await?;
    }
    Ok(order)
}

/// The lines of many orders (for the DataLoader).
pub async fn items_of(
    db: &impl ConnectionTrait,
    order_ids: &[i32],
) -> AppResult<Vec<order_item::Model>> {
    Ok(order_item::Entity::find()
        .filter(order_item::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(order_item::Column::Id)
        .all(db)
        .await?)
}

/// An order as it is now.
pub async fn reload(db: &impl ConnectionTrait, id: i32) -> AppResult<order::Model> {
    order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("order"))
}

/// Orders for unit tests, which set the fields they are about with struct update syntax.
#[cfg(test)]
pub(crate) mod fixture {
    use chrono::Utc;
    use entity::order;

    use crate::domain::OrderStatus;

    /// A PENDING order of 1.00 USD, placed now, shipping to a Dutch address.
    pub(crate) fn order() -> order::Model {
        let now = Utc::now();
        order::Model {
            id: 1,
            number: "SO-1".into(),
            user_id: Some(1),
            email: "ann@example.com".into(),
            status: OrderStatus::Pending,
            total_cents: 100,
            currency: "USD".into(),
            ship_full_name: "Ann".into(),
            ship_line1: "1 Road".into(),
            ship_line2: None,
            ship_city: "Town".into(),
            ship_postal_code: "1".into(),
            ship_country: "NL".into(),
            idempotency_key: None,
            cart_id: None,
            subtotal_cents: 100,
            discount_cents: 0,
            shipping_cents: 0,
            tax_cents: 0,
            tax_included: false,
            shipping_method: None,
            discount_code: None,
            expires_at: now,
            tracking_carrier: None,
            tracking_number: None,
            tracking_url: None,
            refunded_cents: 0,
            placed_at: now,
            updated_at: now,
        }
    }
}
