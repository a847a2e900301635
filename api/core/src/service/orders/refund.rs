//! An admin's refund of part (or all) of a paid order, through the payment gateway.

use entity::order;
use sea_orm::DatabaseConnection;

use super::{
    ledger::{RefundOutcome, gateway_of, owe_refund, send_refund},
    reload,
};
use crate::{
    domain::{Money, OrderStatus, RefundReason},
    error::{AppError, AppResult, Refusal},
    payments::Payments,
    service::{
        run_to_completion,
        viewer::{Viewer, require_admin},
    },
};

/// Refunds `amount` of an order that is PAID, SHIPPED or DELIVERED (admin), never more
/// than was paid and not refunded yet, however many refunds race. The refund is written
/// to the ledger first and then sent to the gateway under its own idempotency key:
/// - refunded: the order answers with it counted, and the customer gets a refund email;
/// - declined: PAYMENT_DECLINED with the gateway's message, and nothing counted;
/// - no answer: the order answers with it counted, pending, and the sweeper asks the
///   gateway again with the same key (so it is never paid out twice).
///
/// Like a cancellation it runs to the end even if the caller goes away.
pub async fn refund(
    db: &DatabaseConnection,
    payments: &Payments,
    viewer: &Viewer,
    order_id: i32,
    amount: Money,
    reason: Option<RefundReason>,
) -> AppResult<order::Model> {
    let (db, payments, viewer) = (db.clone(), payments.clone(), *viewer);
    run_to_completion(
        async move { refund_now(&db, &payments, &viewer, order_id, amount, reason).await },
    )
    .await
}

async fn refund_now(
    db: &DatabaseConnection,
    payments: &Payments,
    viewer: &Viewer,
    order_id: i32,
    amount: Money,
    reason: Option<RefundReason>,
) -> AppResult<order::Model> {
    require_admin(db, viewer).await?;
    let order = reload(db, order_id).await?;
    if !OrderStatus::REFUNDABLE.contains(&order.status) {
        return Err(Refusal::NotRefundable(order.status).into());
    }
    if amount.cents() <= 0 {
        return Err(Refusal::RefundNotPositive.into());
    }
    // Through the gateway that took the money. One this server cannot reach is refused
    // before anything is written: an admin is waiting, and can configure it again.
    let gateway = gateway_of(db, order.id).await?;
    if payments.gateways.settling(&gateway).is_err() {
        return Err(AppError::PaymentDeclined(format!(
            "this order was paid through the payment gateway {gateway:?}, which this server \
             is not configured for; nothing was refunded"
        )));
    }
    let reason = reason.map(|reason| reason.as_str().to_owned());
    let owed = owe_refund(
        db,
        &order,
        &gateway,
        amount,
        reason,
        &OrderStatus::REFUNDABLE,
    )
    .await?;
    let Some(refund) = owed else {
        // Nothing was written: say why, as the order is now.
        let current = reload(db, order_id).await?;
        if !OrderStatus::REFUNDABLE.contains(&current.status) {
            return Err(Refusal::NotRefundable(current.status).into());
        }
        let left = Money::from_cents((current.total_cents - current.refunded_cents).max(0));
        return Err(Refusal::RefundTooLarge {
            left: format!("{left} {}", current.currency),
        }
        .into());
    };
    match send_refund(db, payments, &refund).await? {
        RefundOutcome::Succeeded | RefundOutcome::Unknown => reload(db, order_id).await,
        RefundOutcome::Declined(message) => Err(AppError::PaymentDeclined(message)),
    }
}
