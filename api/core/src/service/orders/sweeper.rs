//! The sweeper: settles what a crash or a lost gateway answer left behind.

use chrono::{DateTime, Duration, Utc};
use entity::{
    order,
    payment::{self, PaymentKind, PaymentStatus},
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{mark_paid, release, settle_refund};
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
/// returned; refunds that failed are retried. Safe to run from every process at once.
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
    for order in stale {
        match payments.gateway.find_charge(&order.number).await {
            Ok(Some(receipt)) => {
                if db::write(db, async |txn| mark_paid(txn, order.id, &receipt).await).await? {
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

    // Refunds whose first attempt failed, or whose process died before asking.
    let owed: Vec<i32> = payment::Entity::find()
        .select_only()
        .column(payment::Column::OrderId)
        .filter(payment::Column::Kind.eq(PaymentKind::Refund))
        .filter(payment::Column::Status.ne(PaymentStatus::Succeeded))
        .filter(payment::Column::UpdatedAt.lt(now - Duration::seconds(30)))
        .limit(100)
        .into_tuple()
        .all(db)
        .await?;
    for order_id in owed {
        if settle_refund(db, payments, order_id).await? {
            swept.refunded += 1;
        }
    }
    Ok(swept)
}
