//! The payment ledger of an order: its one charge, and its refunds. A refund is first
//! written PENDING, together with the change of `orders.refunded_cents` that makes room
//! for it, and only then sent to the gateway (outside any transaction) under the row's own
//! idempotency key, so that a retry can never pay out twice:
//! - the gateway refunded: the row is SUCCEEDED, with the gateway's reference;
//! - the gateway declined: the row is FAILED and its amount is given back to the order;
//! - no answer (outcome unknown): the row stays PENDING, and the sweeper asks again with
//!   the same key.

use chrono::Utc;
use entity::{
    order,
    payment::{self, PaymentKind, PaymentStatus},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
    sea_query::{Expr, ExprTrait},
};

use super::reload;
use crate::{
    db,
    domain::{Currency, Money, OrderStatus},
    error::{AppError, AppResult},
    payments::{AwaitingCustomer, CustomerAction, PaymentError, Payments, Receipt, RefundRequest},
    service::outbox::{self, Notice},
};

/// The idempotency key of the refund that settles an order's cancellation or a payment
/// that came after it: at most one per order. It is also the key the release before
/// partial refunds gave every refund, so the refunds it left pending keep theirs.
pub(super) fn settlement_key(order: &order::Model) -> String {
    format!("refund-{}", order.number)
}

/// A fresh key for one more refund of `order` by an admin.
fn new_refund_key(order: &order::Model) -> String {
    format!("refund-{}-{:016x}", order.number, rand::random::<u64>())
}

/// The charge of each of these orders (one per order), in whatever state.
pub async fn charges_of(
    db: &impl ConnectionTrait,
    order_ids: &[i32],
) -> AppResult<Vec<payment::Model>> {
    Ok(payment::Entity::find()
        .filter(payment::Column::OrderId.is_in(order_ids.iter().copied()))
        .filter(payment::Column::Kind.eq(PaymentKind::Charge))
        .all(db)
        .await?)
}

/// An order's charge if it succeeded: what a refund goes back against.
pub async fn succeeded_charge(
    db: &impl ConnectionTrait,
    order_id: i32,
) -> AppResult<Option<payment::Model>> {
    Ok(charges_of(db, &[order_id])
        .await?
        .into_iter()
        .find(|charge| charge.status == PaymentStatus::Succeeded))
}

/// The code of the gateway an order's charge went (or is going) to, as its ledger keeps
/// it: every later step of the order (settling, refunds) goes through that gateway.
pub async fn gateway_of(db: &impl ConnectionTrait, order_id: i32) -> AppResult<String> {
    charges_of(db, &[order_id])
        .await?
        .into_iter()
        .next()
        .map(|charge| charge.gateway)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("order {order_id} has no charge")))
}

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

/// Records that an order's charge waits for its customer, and what they must do, in the
/// caller's transaction. Conditional on the order still being PENDING with its charge not
/// yet answered: answers false when it was settled meanwhile (cancelled by its customer).
pub async fn await_customer(
    txn: &DatabaseTransaction,
    order_id: i32,
    awaiting: &AwaitingCustomer,
) -> AppResult<bool> {
    let (client_secret, redirect_url) = match &awaiting.action {
        CustomerAction::ClientSecret(secret) => (Some(secret.as_str()), None),
        CustomerAction::Redirect(url) => (None, Some(url.as_str())),
    };
    let pending = order::Entity::find_by_id(order_id)
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .one(txn)
        .await?
        .is_some();
    if !pending {
        return Ok(false);
    }
    let recorded = payment::Entity::update_many()
        .col_expr(
            payment::Column::Status,
            Expr::value(PaymentStatus::RequiresAction),
        )
        .col_expr(
            payment::Column::Reference,
            Expr::value(awaiting.reference.as_str()),
        )
        .col_expr(payment::Column::ClientSecret, Expr::value(client_secret))
        .col_expr(payment::Column::RedirectUrl, Expr::value(redirect_url))
        .col_expr(payment::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payment::Column::OrderId.eq(order_id))
        .filter(payment::Column::Kind.eq(PaymentKind::Charge))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(recorded == 1)
}

/// Whether an order's charge waits for its customer.
pub async fn awaits_customer(db: &impl ConnectionTrait, order_id: i32) -> AppResult<bool> {
    Ok(charges_of(db, &[order_id])
        .await?
        .iter()
        .any(|charge| charge.status == PaymentStatus::RequiresAction))
}

/// Writes a PENDING refund row, in the transaction that made room for it in
/// `orders.refunded_cents`.
async fn insert_refund(
    txn: &DatabaseTransaction,
    order: &order::Model,
    gateway: &str,
    amount: Money,
    idempotency_key: String,
    reason: Option<String>,
) -> AppResult<Option<payment::Model>> {
    let now = Utc::now();
    let row = payment::ActiveModel {
        order_id: Set(order.id),
        kind: Set(PaymentKind::Refund),
        gateway: Set(gateway.into()),
        reference: Set(None),
        amount_cents: Set(amount.cents()),
        status: Set(PaymentStatus::Pending),
        idempotency_key: Set(Some(idempotency_key.clone())),
        reason: Set(reason),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    // ON CONFLICT DO NOTHING rather than catching the unique violation: on PostgreSQL a
    // failed statement poisons the rest of the transaction.
    payment::Entity::insert(row)
        .on_conflict_do_nothing_on([payment::Column::IdempotencyKey])
        .exec_without_returning(txn)
        .await?;
    Ok(payment::Entity::find()
        .filter(payment::Column::IdempotencyKey.eq(idempotency_key))
        .one(txn)
        .await?)
}

/// Owes the customer what is left of an order's charge (its total less what was refunded
/// before), in the transaction that cancelled it or that found its late payment: the
/// order counts it as refunded, and a PENDING refund row under the order's
/// [`settlement_key`] says it must be sent. Nothing when everything was refunded already.
///
/// Called after the order left the refundable statuses in this transaction, or found it
/// cancelled: no refund of an admin can take room any more, so what is read here stays
/// true. The update is conditional all the same, so two settlements racing (two
/// deliveries of one late payment) owe it once.
pub(super) async fn owe_the_rest(txn: &DatabaseTransaction, order_id: i32) -> AppResult<()> {
    let order = reload(txn, order_id).await?;
    let rest = order.total_cents - order.refunded_cents;
    if rest <= 0 {
        return Ok(());
    }
    let claimed = order::Entity::update_many()
        .col_expr(
            order::Column::RefundedCents,
            Expr::col(order::Column::TotalCents),
        )
        .filter(order::Column::Id.eq(order.id))
        .filter(order::Column::RefundedCents.eq(order.refunded_cents))
        .exec(txn)
        .await?
        .rows_affected;
    if claimed != 1 {
        tracing::warn!(order = %order.number, "the rest of an order was owed by a concurrent settlement");
        return Ok(());
    }
    // Refunded through the gateway that took the money.
    let gateway = gateway_of(txn, order.id).await?;
    insert_refund(
        txn,
        &order,
        &gateway,
        Money::from_cents(rest),
        settlement_key(&order),
        None,
    )
    .await?;
    Ok(())
}

/// Makes room for a refund of `amount` of an order that is `refundable` and records it
/// PENDING, in one transaction: the conditional update of `refunded_cents` is what keeps
/// concurrent refunds within what was paid, on both databases and across processes.
/// Answers `None` (and writes nothing) when the order has less than `amount` left to
/// refund or has left the refundable statuses; the caller tells which.
pub(super) async fn owe_refund(
    db: &DatabaseConnection,
    order: &order::Model,
    gateway: &str,
    amount: Money,
    reason: Option<String>,
    refundable: &[entity::order_status::OrderStatus],
) -> AppResult<Option<payment::Model>> {
    let key = new_refund_key(order);
    db::write(db, async |txn| {
        let room = order::Entity::update_many()
            .col_expr(
                order::Column::RefundedCents,
                Expr::col(order::Column::RefundedCents).add(amount.cents()),
            )
            .col_expr(order::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(order::Column::Id.eq(order.id))
            .filter(order::Column::Status.is_in(refundable.iter().copied()))
            .filter(
                Expr::col(order::Column::RefundedCents)
                    .add(amount.cents())
                    .lte(Expr::col(order::Column::TotalCents)),
            )
            .exec(txn)
            .await?
            .rows_affected;
        if room != 1 {
            return Ok(None);
        }
        insert_refund(txn, order, gateway, amount, key.clone(), reason.clone()).await
    })
    .await
}

/// What the gateway said to one refund.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum RefundOutcome {
    /// Refunded (now, or by an earlier attempt or another process).
    Succeeded,
    /// Refused: the row is failed and its amount given back to the order.
    Declined(String),
    /// No answer: the row stays pending for the sweeper.
    Unknown,
}

/// Sends one PENDING refund row to the gateway under its key and records the answer.
pub(super) async fn send_refund(
    db: &DatabaseConnection,
    payments: &Payments,
    refund: &payment::Model,
) -> AppResult<RefundOutcome> {
    let order = reload(db, refund.order_id).await?;
    let Some(key) = refund.idempotency_key.clone() else {
        return Err(AppError::internal(anyhow::anyhow!(
            "refund {} of order {} has no idempotency key",
            refund.id,
            order.number
        )));
    };
    let charge = succeeded_charge(db, order.id).await?;
    let Some(charge_reference) = charge.and_then(|charge| charge.reference) else {
        tracing::warn!(order = %order.number, "a refund is owed of a charge not recorded yet");
        touch(db, refund).await?;
        return Ok(RefundOutcome::Unknown);
    };
    let request = RefundRequest {
        charge_reference,
        amount: Money::from_cents(refund.amount_cents),
        currency: Currency::parse(&order.currency)
            .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?,
        idempotency_key: key,
    };
    // Through the gateway that took the money, which the refund row names.
    let answer = match payments.gateways.settling(&refund.gateway) {
        Ok(gateway) => gateway.refund(&request).await,
        Err(unreachable) => Err(unreachable),
    };
    match answer {
        Ok(receipt) => {
            db::write(db, async |txn| {
                complete_refund(txn, refund, Some(&receipt.reference)).await
            })
            .await?;
            Ok(RefundOutcome::Succeeded)
        }
        Err(PaymentError::Declined(message)) => {
            if refund.idempotency_key.as_deref() == Some(settlement_key(&order).as_str()) {
                // No admin is waiting for this answer, and a cancelled order cannot be
                // refunded through the API: someone must look at it.
                tracing::error!(order = %order.number, refund = refund.id, %message,
                    "the gateway declined the refund of a cancelled order; refund it by hand");
            } else {
                tracing::warn!(order = %order.number, refund = refund.id, %message, "the gateway declined a refund");
            }
            db::write(db, async |txn| decline_refund(txn, refund).await).await?;
            Ok(RefundOutcome::Declined(message))
        }
        Err(err @ PaymentError::Unavailable(_)) => {
            tracing::warn!(order = %order.number, refund = refund.id, error = %err, "refund outcome unknown; the sweeper asks again");
            touch(db, refund).await?;
            Ok(RefundOutcome::Unknown)
        }
    }
}

/// Marks a pending refund done, once: the first of the answer, a retry and Stripe's
/// webhook to get here records it, and only it announces an admin's refund to the
/// customer, in the same transaction. `reference` is the gateway's id of the refund, when
/// known. Answers whether this call completed it.
pub async fn complete_refund(
    txn: &DatabaseTransaction,
    refund: &payment::Model,
    reference: Option<&str>,
) -> AppResult<bool> {
    let mut update = payment::Entity::update_many()
        .col_expr(
            payment::Column::Status,
            Expr::value(PaymentStatus::Succeeded),
        )
        .col_expr(payment::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payment::Column::Id.eq(refund.id))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending));
    if let Some(reference) = reference {
        update = update.col_expr(payment::Column::Reference, Expr::value(reference));
    }
    if update.exec(txn).await?.rows_affected != 1 {
        return Ok(false);
    }
    let order = reload(txn, refund.order_id).await?;
    // The refund that settles a cancellation is announced by the cancellation's mail.
    if refund.idempotency_key.as_deref() != Some(settlement_key(&order).as_str()) {
        outbox::enqueue(
            txn,
            order.user_id,
            Some(order.id),
            Notice::OrderRefund {
                amount_cents: refund.amount_cents,
                reason: refund.reason.clone(),
            },
        )
        .await?;
    }
    Ok(true)
}

/// Marks a pending refund failed and gives its amount back to the order, once.
async fn decline_refund(txn: &DatabaseTransaction, refund: &payment::Model) -> AppResult<()> {
    let failed = payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::value(PaymentStatus::Failed))
        .col_expr(payment::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payment::Column::Id.eq(refund.id))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending))
        .exec(txn)
        .await?
        .rows_affected;
    if failed != 1 {
        return Ok(());
    }
    order::Entity::update_many()
        .col_expr(
            order::Column::RefundedCents,
            Expr::col(order::Column::RefundedCents).sub(refund.amount_cents),
        )
        .col_expr(order::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(order::Column::Id.eq(refund.order_id))
        .filter(order::Column::RefundedCents.gte(refund.amount_cents))
        .exec(txn)
        .await?;
    Ok(())
}

/// Notes an attempt on a pending refund, so the sweeper waits before the next one.
async fn touch(db: &DatabaseConnection, refund: &payment::Model) -> AppResult<()> {
    payment::Entity::update_many()
        .col_expr(payment::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payment::Column::Id.eq(refund.id))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending))
        .exec(db)
        .await?;
    Ok(())
}

/// An order's refunds still owed (PENDING), oldest first.
async fn pending_refunds(db: &DatabaseConnection, order_id: i32) -> AppResult<Vec<payment::Model>> {
    Ok(payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order_id))
        .filter(payment::Column::Kind.eq(PaymentKind::Refund))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending))
        .filter(payment::Column::IdempotencyKey.is_not_null())
        .order_by_asc(payment::Column::Id)
        .all(db)
        .await?)
}

/// Asks the gateway for every refund of an order still owed, and records the answers.
/// Answers whether any went through.
pub async fn settle_refund(
    db: &DatabaseConnection,
    payments: &Payments,
    order_id: i32,
) -> AppResult<bool> {
    let mut refunded = false;
    for refund in pending_refunds(db, order_id).await? {
        refunded |= send_refund(db, payments, &refund).await? == RefundOutcome::Succeeded;
    }
    Ok(refunded)
}

/// The refunds of many orders that did not fail (pending or done), oldest first: what
/// `Order.refunds` lists.
pub async fn refunds_of(
    db: &impl ConnectionTrait,
    order_ids: &[i32],
) -> AppResult<Vec<payment::Model>> {
    Ok(payment::Entity::find()
        .filter(payment::Column::OrderId.is_in(order_ids.iter().copied()))
        .filter(payment::Column::Kind.eq(PaymentKind::Refund))
        .filter(payment::Column::Status.ne(PaymentStatus::Failed))
        .order_by_asc(payment::Column::Id)
        .all(db)
        .await?)
}

/// The refund that settled an order's cancellation or late payment, in whatever state,
/// if there was one (none when everything had been refunded before).
pub async fn settlement_of(
    db: &impl ConnectionTrait,
    order: &order::Model,
) -> AppResult<Option<payment::Model>> {
    Ok(payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order.id))
        .filter(payment::Column::IdempotencyKey.eq(settlement_key(order)))
        .one(db)
        .await?)
}

/// A charge that succeeded after its order was already cancelled (it expired while the
/// gateway was answering): record it and refund it.
pub async fn cancel_after_late_payment(
    db: &DatabaseConnection,
    payments: &Payments,
    order: &order::Model,
    receipt: &Receipt,
) -> AppResult<()> {
    db::write(db, async |txn| {
        owe_refund_of_late_payment(txn, order, receipt).await
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
) -> AppResult<()> {
    settle_charge(
        txn,
        order.id,
        PaymentStatus::Succeeded,
        Some(&receipt.reference),
    )
    .await?;
    owe_the_rest(txn, order.id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(number: &str) -> order::Model {
        order::Model {
            number: number.into(),
            user_id: None,
            status: entity::order_status::OrderStatus::Paid,
            ..super::super::fixture::order()
        }
    }

    #[test]
    fn the_settlement_keeps_the_key_of_earlier_releases_and_each_admin_refund_gets_its_own() {
        let order = order("SO-ABC");
        assert_eq!(settlement_key(&order), "refund-SO-ABC");
        let (one, two) = (new_refund_key(&order), new_refund_key(&order));
        assert_ne!(one, two);
        assert!(one.starts_with("refund-SO-ABC-") && one != settlement_key(&order));
        assert!(one.len() <= 255);
    }
}
