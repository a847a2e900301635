//! The status machine: one conditional transition; the two ends of a payment (PAID, or
//! released back to stock); and the two ways an order is moved on purpose (fulfilment by
//! an admin, cancellation by its owner or an admin).

use chrono::Utc;
use entity::{order, payment::PaymentStatus};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, sea_query::Expr,
};

use super::{
    find_visible,
    ledger::{charges_of, owe_the_rest, settle_charge, settle_refund},
    release::{empty_bought_lines, release_cart, restock},
    reload,
};
use crate::{
    db,
    domain::{OrderStatus, Tracking},
    error::{AppError, AppResult, Refusal},
    payments::{Payments, Receipt},
    service::{
        discounts,
        events::{self, OrderEvent},
        outbox::{self, Notice},
        run_to_completion,
        viewer::{Viewer, require_admin},
    },
};

/// Moves an order from `from` to `to` if it is still in `from`. Answers the order as it
/// moved (read back by the update itself), or `None` when it was no longer in `from`.
/// The move writes its outbox message on the same connection, so when `db` is the
/// transaction of the change, the announcement commits or rolls back with it.
pub async fn transition(
    db: &impl ConnectionTrait,
    id: i32,
    from: OrderStatus,
    to: OrderStatus,
) -> AppResult<Option<order::Model>> {
    let moved = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(to))
        .col_expr(order::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::Status.eq(from))
        .exec_with_returning(db)
        .await?
        .pop();
    let Some(order) = moved else {
        return Ok(None);
    };
    if from == OrderStatus::Pending {
        release_cart(db, id).await?;
    }
    outbox::enqueue(
        db,
        order.user_id,
        Some(id),
        Notice::OrderStatus { from, to },
    )
    .await?;
    events::notify(
        db,
        OrderEvent {
            order_id: id,
            user_id: order.user_id,
            status: to,
        },
    )
    .await?;
    Ok(Some(order))
}

/// Marks a PENDING order PAID with its charge and takes what it bought out of the cart, in
/// the caller's transaction (a webhook commits the event it applied with it; others run it
/// on its own with [`db::write`](crate::db::write)). Answers the PAID order, or `None`
/// when it had already left PENDING (cancelled or expired meanwhile): the caller must then
/// refund.
pub async fn mark_paid(
    txn: &DatabaseTransaction,
    order_id: i32,
    receipt: &Receipt,
) -> AppResult<Option<order::Model>> {
    settle_paid(txn, order_id, Some(&receipt.reference)).await
}

/// Marks a PENDING order whose total is zero PAID (a discount took all of it and shipping
/// was free): there was nothing to charge, so its ledger's charge of 0 has no gateway
/// reference. As [`mark_paid`] otherwise.
pub async fn mark_paid_without_charge(
    txn: &DatabaseTransaction,
    order_id: i32,
) -> AppResult<Option<order::Model>> {
    settle_paid(txn, order_id, None).await
}

async fn settle_paid(
    txn: &DatabaseTransaction,
    order_id: i32,
    reference: Option<&str>,
) -> AppResult<Option<order::Model>> {
    let Some(order) = transition(txn, order_id, OrderStatus::Pending, OrderStatus::Paid).await?
    else {
        return Ok(None);
    };
    settle_charge(txn, order_id, PaymentStatus::Succeeded, reference).await?;
    empty_bought_lines(txn, &order).await?;
    Ok(Some(order))
}

/// Cancels a PENDING order whose payment did not happen, and gives its stock back, in the
/// caller's transaction (a webhook commits the event it applied with it; the sweeper runs
/// it on its own with [`db::write`](crate::db::write)). Answers whether this call did it.
pub async fn release(txn: &DatabaseTransaction, order_id: i32) -> AppResult<bool> {
    let cancelled = transition(txn, order_id, OrderStatus::Pending, OrderStatus::Cancelled).await?;
    if cancelled.is_none() {
        return Ok(false);
    }
    restock(txn, order_id).await?;
    discounts::give_back(txn, order_id).await?;
    settle_charge(txn, order_id, PaymentStatus::Failed, None).await?;
    Ok(true)
}

/// Cancels an order (its owner or an admin) while it is PENDING or PAID: the stock goes
/// back and a paid order is refunded what is left of it (its total less the refunds made
/// before), exactly once however many cancellations race. It runs to the end even if the
/// caller goes away: a cancellation dropped between asking for the refund and recording it
/// would leave the refund to the sweeper.
pub async fn cancel(
    db: &DatabaseConnection,
    payments: &Payments,
    viewer: &Viewer,
    id: i32,
) -> AppResult<order::Model> {
    let (db, payments, viewer) = (db.clone(), payments.clone(), *viewer);
    run_to_completion(async move { cancel_now(&db, &payments, &viewer, id).await }).await
}

async fn cancel_now(
    db: &DatabaseConnection,
    payments: &Payments,
    viewer: &Viewer,
    id: i32,
) -> AppResult<order::Model> {
    let order = find_visible(db, viewer, id).await?;
    // A PENDING order may have been charged by a checkout that died (or lost the
    // gateway's answer) before recording it. Ask the gateway first: if it did charge,
    // the order is PAID and the cancellation below refunds it.
    // A payment still waiting for its customer is called off first, so that they cannot
    // finish paying for an order they cancelled (should it get through all the same, it
    // is found below and refunded).
    if order.status == OrderStatus::Pending {
        let charge = charges_of(db, &[id]).await?.into_iter().next();
        let Some(charge) = charge else {
            return Err(AppError::internal(anyhow::anyhow!(
                "order {id} has no charge"
            )));
        };
        let found = match payments.gateways.settling(&charge.gateway) {
            Ok(gateway) => {
                if charge.status == PaymentStatus::RequiresAction
                    && let Some(reference) = &charge.reference
                    && let Err(err) = gateway.abandon(reference).await
                {
                    tracing::warn!(order = %order.number, error = %err, "could not call off a payment of a cancelled order");
                }
                gateway.find_charge(&order.number).await
            }
            Err(unreachable) => Err(unreachable),
        };
        match found {
            Ok(Some(receipt)) => {
                db::write(db, async |txn| mark_paid(txn, id, &receipt).await).await?;
            }
            Ok(None) => {}
            Err(err) => {
                return Err(AppError::internal(anyhow::anyhow!(
                    "cannot tell whether order {} was charged: {err}",
                    order.number
                )));
            }
        }
    }
    let txn = db::begin_write(db).await?;
    let mut cancelled_from = None;
    for from in OrderStatus::CANCELLABLE {
        if transition(&txn, id, from, OrderStatus::Cancelled)
            .await?
            .is_some()
        {
            cancelled_from = Some(from);
            break;
        }
    }
    let Some(from) = cancelled_from else {
        let current = reload(&txn, id).await?;
        return Err(Refusal::NotCancellable(current.status).into());
    };
    restock(&txn, id).await?;
    discounts::give_back(&txn, id).await?;
    if from == OrderStatus::Paid {
        owe_the_rest(&txn, id).await?;
    } else {
        settle_charge(&txn, id, PaymentStatus::Failed, None).await?;
    }
    txn.commit().await?;
    if from == OrderStatus::Paid {
        settle_refund(db, payments, id).await?;
    }
    reload(db, id).await
}

/// Moves an order forward in fulfilment (admin): PAID -> SHIPPED -> DELIVERED only. A
/// shipment may come with its tracking, stored with the move (and shown in the shipped
/// email); tracking with any other status is refused.
pub async fn update_status(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i32,
    status: OrderStatus,
    tracking: Option<Tracking>,
) -> AppResult<order::Model> {
    require_admin(db, viewer).await?;
    if tracking.is_some() && status != OrderStatus::Shipped {
        return Err(Refusal::TrackingNotShipping.into());
    }
    let current = reload(db, id).await?;
    let conflict = |from: OrderStatus| AppError::from(Refusal::NotNextStatus { from, to: status });
    let Some(from) = status.fulfilment_predecessor() else {
        return Err(conflict(current.status));
    };
    let txn = db::begin_write(db).await?;
    if transition(&txn, id, from, status).await?.is_none() {
        return Err(conflict(reload(&txn, id).await?.status));
    }
    if let Some(tracking) = tracking {
        order::Entity::update_many()
            .col_expr(
                order::Column::TrackingCarrier,
                Expr::value(tracking.carrier()),
            )
            .col_expr(
                order::Column::TrackingNumber,
                Expr::value(tracking.number()),
            )
            .col_expr(order::Column::TrackingUrl, Expr::value(tracking.url()))
            .filter(order::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    reload(db, id).await
}
