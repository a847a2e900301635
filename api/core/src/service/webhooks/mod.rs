//! Payment gateways' webhooks: how the shop hears about payments it did not see finish
//! itself (a checkout that crashed or timed out after charging, a customer who approved a
//! payment and never came back, a refund made in a dashboard).
//!
//! A delivery is trusted only once its gateway's signature checks out. Gateways deliver at
//! least once and may deliver an event twice, even concurrently: each event's id is
//! inserted into `webhook_events` in the same transaction that applies it, so the second
//! delivery finds the id taken and does nothing, and an event that failed to apply is not
//! marked handled (the gateway retries it). Every change is also conditional on the
//! order's current status, so an event racing the checkout that caused it cannot undo it.

mod paypal;
mod stripe;

pub use paypal::{PayPalWebhook, receive_paypal};
pub use stripe::receive_stripe;

use chrono::{DateTime, Utc};
use entity::{order, webhook_event};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, Set,
    TryInsertResult,
};

use crate::{
    db,
    domain::OrderStatus,
    error::AppResult,
    payments::{Payments, Receipt},
    service::orders,
};

/// What a delivery did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The event changed an order or the ledger.
    Applied,
    /// The event was valid, but its order had already moved on (the checkout settled it).
    AlreadySettled,
    /// This event id was handled before.
    Duplicate,
    /// Not an event the shop acts on, or not about one of its orders.
    Ignored,
}

/// The id and type of a delivered event, whatever its gateway.
struct Delivery<'a> {
    id: &'a str,
    kind: &'a str,
}

impl Delivery<'_> {
    /// Whether the id and type fit `webhook_events`; anything longer is no real event.
    fn is_plausible(&self) -> bool {
        !self.id.is_empty() && self.id.len() <= 255 && self.kind.len() <= 100
    }
}

/// Claims the event id in `txn`; false when another delivery already did.
async fn claim(
    txn: &DatabaseTransaction,
    event: &Delivery<'_>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let inserted = webhook_event::Entity::insert(webhook_event::ActiveModel {
        id: Set(event.id.to_owned()),
        kind: Set(event.kind.to_owned()),
        received_at: Set(now),
    })
    // ON CONFLICT DO NOTHING rather than catching the unique violation: on PostgreSQL a
    // failed statement poisons the rest of the transaction.
    .on_conflict_do_nothing()
    .exec_without_returning(txn)
    .await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(1)))
}

/// The order numbered `number`, when the shop took (or is taking) its payment through
/// `gateway`. An order the buyer pays with another gateway is none of this one's business:
/// an event naming it (another system's number, or a forgery signed with a leaked secret)
/// must neither settle nor release it.
async fn order_paid_through(
    db: &DatabaseConnection,
    number: &str,
    gateway: &str,
) -> AppResult<Option<order::Model>> {
    let Some(order) = order::Entity::find()
        .filter(order::Column::Number.eq(number))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let paid_through = orders::gateway_of(db, order.id).await?;
    if paid_through != gateway {
        tracing::warn!(order = %order.number, event_gateway = gateway, %paid_through,
            "a webhook event names an order paid through another gateway; ignored");
        return Ok(None);
    }
    Ok(Some(order))
}

/// The order's charge went through. A PENDING order becomes PAID. An order cancelled
/// meanwhile (the sweeper gave up on it, or its checkout gave up) keeps its cancellation,
/// and the money is refunded: the buyer was told the purchase failed.
async fn settle_paid(
    db: &DatabaseConnection,
    payments: &Payments,
    event: &Delivery<'_>,
    order: &order::Model,
    receipt: &Receipt,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let txn = db::begin_write(db).await?;
    if !claim(&txn, event, now).await? {
        return Ok(Outcome::Duplicate);
    }
    let mut refund_owed = false;
    let outcome = if orders::mark_paid(&txn, order.id, receipt).await?.is_some() {
        Outcome::Applied
    } else if is_unpaid_cancellation(&txn, order).await? {
        orders::owe_refund_of_late_payment(&txn, order, receipt).await?;
        tracing::warn!(order = %order.number, charge = %receipt.reference,
            "a payment arrived for a cancelled order; refunding it");
        refund_owed = true;
        Outcome::Applied
    } else {
        Outcome::AlreadySettled
    };
    txn.commit().await?;
    if refund_owed {
        refund_in_background(db, payments, order.id);
    }
    Ok(outcome)
}

/// The charge failed: a PENDING order is cancelled and its stock goes back. (Its
/// checkout, when still running, has been told the same and does nothing more.)
async fn settle_failed(
    db: &DatabaseConnection,
    event: &Delivery<'_>,
    order: &order::Model,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let txn = db::begin_write(db).await?;
    if !claim(&txn, event, now).await? {
        return Ok(Outcome::Duplicate);
    }
    let outcome = if orders::release(&txn, order.id).await? {
        Outcome::Applied
    } else {
        Outcome::AlreadySettled
    };
    txn.commit().await?;
    Ok(outcome)
}

/// Whether the order is cancelled without its charge ever having been recorded as taken
/// (as opposed to a paid order cancelled later, whose refund is already on its way).
async fn is_unpaid_cancellation(
    txn: &DatabaseTransaction,
    order: &order::Model,
) -> AppResult<bool> {
    let current = order::Entity::find_by_id(order.id).one(txn).await?;
    if current.is_none_or(|o| o.status != OrderStatus::Cancelled) {
        return Ok(false);
    }
    let charged = orders::succeeded_charge(txn, order.id).await?.is_some();
    Ok(!charged)
}

/// Asks the gateway for the refund the ledger now owes, without holding up the delivery
/// (gateways want a quick 2xx). If this fails or the process dies, the refund stays owed
/// in the ledger and the sweeper retries it.
fn refund_in_background(db: &DatabaseConnection, payments: &Payments, order_id: i32) {
    let (db, payments) = (db.clone(), payments.clone());
    tokio::spawn(async move {
        if let Err(err) = orders::settle_refund(&db, &payments, order_id).await {
            tracing::error!(order_id, error = ?err, "refund of a late payment failed; the sweeper retries it");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PENDING order of this total, as the webhooks' amount checks see it.
    pub(super) fn order(total_cents: i64, currency: &str) -> order::Model {
        order::Model {
            number: "ORD-1".into(),
            total_cents,
            subtotal_cents: total_cents,
            currency: currency.into(),
            cart_id: Some(1),
            ..crate::service::orders::fixture::order()
        }
    }
}
