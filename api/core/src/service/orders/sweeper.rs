//! The sweeper: settles what a crash or a lost gateway answer left behind.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::{
    order,
    payment::{self, PaymentKind, PaymentStatus},
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{
    AskedBy, PaymentState, complete_payment,
    ledger::{RefundOutcome, charges_of, send_refund},
    mark_paid, release,
};
use crate::{
    db,
    domain::OrderStatus,
    error::AppResult,
    payments::{PaymentError, Payments},
};

/// What one sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Abandoned orders cancelled with their stock returned.
    pub released: usize,
    /// Abandoned orders whose payment turned out to have succeeded, now PAID.
    pub completed: usize,
    /// Refunds retried successfully.
    pub refunded: usize,
}

/// Settles what a crash or a lost gateway answer left behind: PENDING orders past their
/// expiry are completed if the gateway did charge them, else cancelled with their stock
/// returned; refunds whose outcome is unknown are asked for again. Safe to run from every process at once.
pub async fn sweep(
    db: &DatabaseConnection,
    payments: &Payments,
    now: DateTime<Utc>,
) -> AppResult<Swept> {
    let mut swept = Swept::default();
    let stale = order::Entity::find()
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .filter(order::Column::ExpiresAt.lt(now))
        .order_by_asc(order::Column::Id)
        .limit(100)
        .all(db)
        .await?;
    let ids: Vec<i32> = stale.iter().map(|order| order.id).collect();
    let charges: HashMap<i32, payment::Model> = charges_of(db, &ids)
        .await?
        .into_iter()
        .map(|charge| (charge.order_id, charge))
        .collect();
    for order in stale {
        let charge = charges.get(&order.id);
        if charge.is_some_and(|charge| charge.status == PaymentStatus::RequiresAction) {
            // Its customer had to act: the gateway says whether they did in time.
            let before = order.id;
            match complete_payment(db, payments, order, AskedBy::Sweeper).await? {
                PaymentState::Succeeded => swept.completed += 1,
                PaymentState::Failed => swept.released += 1,
                state => tracing::debug!(
                    order_id = before,
                    ?state,
                    "a waiting payment is not settled yet"
                ),
            }
            continue;
        }
        // Asked of the gateway the checkout charged through; one this server cannot reach
        // leaves the order PENDING (logged) until it is configured again.
        let found = match charge.map(|charge| &charge.gateway) {
            Some(code) => match payments.gateways.settling(code) {
                Ok(gateway) => gateway.find_charge(&order.number).await,
                Err(unreachable) => Err(unreachable),
            },
            // No charge row: nothing was ever sent to a gateway.
            None => Ok(None),
        };
        match found {
            Ok(Some(receipt)) => {
                if db::write(db, async |txn| mark_paid(txn, order.id, &receipt).await)
                    .await?
                    .is_some()
                {
                    swept.completed += 1;
                }
            }
            Ok(None) | Err(PaymentError::Declined(_)) => {
                if db::write(db, async |txn| release(txn, order.id).await).await? {
                    swept.released += 1;
                }
            }
            Err(err) => {
                tracing::warn!(order = %order.number, error = %err, "cannot settle an abandoned order yet")
            }
        }
    }

    // Refunds whose answer never came (the gateway did not answer, or the process died
    // before asking): asked again under their own keys, so none is paid out twice.
    // Declined refunds are final (failed, their amount given back) and not retried.
    let owed = payment::Entity::find()
        .filter(payment::Column::Kind.eq(PaymentKind::Refund))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending))
        .filter(payment::Column::IdempotencyKey.is_not_null())
        .filter(payment::Column::UpdatedAt.lt(now - Duration::seconds(30)))
        .order_by_asc(payment::Column::Id)
        .limit(100)
        .all(db)
        .await?;
    for refund in owed {
        if send_refund(db, payments, &refund).await? == RefundOutcome::Succeeded {
            swept.refunded += 1;
        }
    }
    Ok(swept)
}
