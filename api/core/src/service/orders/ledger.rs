//! The payment ledger of an order: its charge, and the refund owed when a paid order is
//! cancelled or a payment arrives too late. One row of each kind per order at most.

use chrono::Utc;
use entity::{
    order,
    payment::{self, PaymentKind, PaymentStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, Set, sea_query::Expr,
};

use super::reload;
use crate::{
    db,
    domain::{Currency, Money},
    error::{AppError, AppResult},
    payments::{Payments, Receipt, RefundRequest},
};

/// Sets the status of an order's charge in the ledger.
pub(super) async fn settle_charge(
    db: &impl ConnectionTrait,
    order_id: i32,
    status: PaymentStatus,
    reference: Option<&str>,
) -> AppResult<()> {
    let mut update = payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::value(status))
        .col_expr(payment::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payment::Column::OrderId.eq(order_id))
        .filter(payment::Column::Kind.eq(PaymentKind::Charge));
    if let Some(reference) = reference {
        update = update.col_expr(payment::Column::Reference, Expr::value(reference));
    }
    update.exec(db).await?;
    Ok(())
}

/// Records that an order's charge must be refunded, once: the ledger's unique
/// (order, kind) index makes a second record impossible.
pub(super) async fn record_refund(
    txn: &DatabaseTransaction,
    order: &order::Model,
    gateway: &str,
) -> AppResult<()> {
    let now = Utc::now();
    payment::Entity::insert(payment::ActiveModel {
        order_id: Set(order.id),
        kind: Set(PaymentKind::Refund),
        gateway: Set(gateway.into()),
        reference: Set(None),
        amount_cents: Set(order.total_cents),
        status: Set(PaymentStatus::Pending),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([payment::Column::OrderId, payment::Column::Kind])
    .exec(txn)
    .await?;
    Ok(())
}

/// Asks the gateway for the refund an order's ledger says is owed, and records the
/// answer. A failure leaves the refund pending for the sweeper to retry.
pub async fn settle_refund(
    db: &DatabaseConnection,
    payments: &Payments,
    order_id: i32,
) -> AppResult<bool> {
    let rows = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order_id))
        .all(db)
        .await?;
    let charge = rows
        .iter()
        .find(|p| p.kind == PaymentKind::Charge && p.status == PaymentStatus::Succeeded);
    let refund = rows
        .iter()
        .find(|p| p.kind == PaymentKind::Refund && p.status != PaymentStatus::Succeeded);
    let (Some(charge), Some(refund)) = (charge, refund) else {
        return Ok(false);
    };
    let Some(charge_reference) = charge.reference.clone() else {
        return Ok(false);
    };
    let order = reload(db, order_id).await?;
    let request = RefundRequest {
        charge_reference,
        amount: Money::from_cents(refund.amount_cents),
        currency: Currency::parse(&order.currency)
            .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?,
        idempotency_key: format!("refund-{}", order.number),
    };
    let (status, reference) = match payments.gateway.refund(&request).await {
        Ok(receipt) => (PaymentStatus::Succeeded, Some(receipt.reference)),
        Err(err) => {
            tracing::warn!(order = %order.number, error = %err, "refund failed; the sweeper retries it");
            (PaymentStatus::Failed, None)
        }
    };
    let mut row: payment::ActiveModel = refund.clone().into();
    row.status = Set(status);
    row.reference = Set(reference);
    row.updated_at = Set(Utc::now());
    row.update(db).await?;
    Ok(status == PaymentStatus::Succeeded)
}

/// A charge that succeeded after its order was already cancelled (it expired while the
/// gateway was answering): record it and refund it.
pub async fn cancel_after_late_payment(
    db: &DatabaseConnection,
    payments: &Payments,
    order: &order::Model,
    receipt: &Receipt,
) -> AppResult<()> {
    let gateway = payments.gateway.name();
    db::write(db, async |txn| {
        owe_refund_of_late_payment(txn, order, receipt, gateway).await
    })
    .await?;
    settle_refund(db, payments, order.id).await?;
    Ok(())
}

/// The ledger half of [`cancel_after_late_payment`], inside the caller's transaction: the
/// charge recorded as succeeded, and a refund of it owed. [`settle_refund`] (or the
/// sweeper) then asks the gateway.
pub async fn owe_refund_of_late_payment(
    txn: &DatabaseTransaction,
    order: &order::Model,
    receipt: &Receipt,
    gateway: &str,
) -> AppResult<()> {
    settle_charge(
        txn,
        order.id,
        PaymentStatus::Succeeded,
        Some(&receipt.reference),
    )
    .await?;
    record_refund(txn, order, gateway).await
}
