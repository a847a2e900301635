//! Orders after checkout: history, fulfilment, cancellation with refund and restock, and
//! the sweeper that settles orders whose payment outcome was lost.
//!
//! Every status change is a conditional update (`... WHERE status = <expected>`), so of
//! two racing changes exactly one applies; stock moves only in the transaction of the
//! change that won.

use chrono::{DateTime, Duration, Utc};
use entity::{
    cart, cart_item, order, order_item,
    payment::{self, PaymentKind, PaymentStatus},
    product,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    db,
    domain::{Currency, Money, OrderStatus},
    error::{AppError, AppResult},
    payments::{PaymentError, Payments, Receipt, RefundRequest},
    service::{
        events::{self, OrderEvent},
        outbox::{self, Notice},
        pagination::{Page, PageArgs, page_by_id},
        viewer::{Viewer, current_user, require_admin},
    },
};

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
    let user_id = viewer.user_id()?;
    let order = order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    if order.user_id == user_id || current_user(db, viewer).await?.is_admin {
        Ok(order)
    } else {
        Err(AppError::NotFound("order"))
    }
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

pub async fn reload(db: &impl ConnectionTrait, id: i32) -> AppResult<order::Model> {
    order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("order"))
}

/// Moves an order from `from` to `to` if it is still in `from`. Answers whether it moved.
/// The move writes its outbox message on the same connection, so when `db` is the
/// transaction of the change, the announcement commits or rolls back with it.
pub async fn transition(
    db: &impl ConnectionTrait,
    id: i32,
    from: OrderStatus,
    to: OrderStatus,
) -> AppResult<bool> {
    let moved = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(to))
        .col_expr(order::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::Status.eq(from))
        .exec(db)
        .await?
        .rows_affected;
    if moved != 1 {
        return Ok(false);
    }
    let order = reload(db, id).await?;
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
    Ok(true)
}

/// Puts the units of an order's lines back on the shelf, in product order.
pub async fn restock(txn: &DatabaseTransaction, order_id: i32) -> AppResult<()> {
    let mut items = items_of(txn, &[order_id]).await?;
    items.sort_by_key(|item| item.product_id);
    for item in items {
        product::Entity::update_many()
            .col_expr(
                product::Column::Stock,
                Expr::col(product::Column::Stock).add(item.quantity),
            )
            .filter(product::Column::Id.eq(item.product_id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Sets the status of an order's charge in the ledger.
pub async fn settle_charge(
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

/// Marks a PENDING order PAID with its charge and takes what it bought out of the cart.
/// Answers false when the order had already left PENDING (cancelled or expired
/// meanwhile): the caller must then refund.
pub async fn complete_payment(
    db: &DatabaseConnection,
    order: &order::Model,
    receipt: &Receipt,
) -> AppResult<bool> {
    let txn = db::begin_write(db).await?;
    let paid = mark_paid(&txn, order.id, receipt).await?;
    txn.commit().await?;
    Ok(paid)
}

/// [`complete_payment`] inside the caller's transaction, for callers that must commit
/// something else with it (a webhook recording the event it applied).
pub async fn mark_paid(
    txn: &DatabaseTransaction,
    order_id: i32,
    receipt: &Receipt,
) -> AppResult<bool> {
    if !transition(txn, order_id, OrderStatus::Pending, OrderStatus::Paid).await? {
        return Ok(false);
    }
    settle_charge(
        txn,
        order_id,
        PaymentStatus::Succeeded,
        Some(&receipt.reference),
    )
    .await?;
    empty_bought_lines(txn, order_id).await?;
    Ok(true)
}

/// Frees the cart that the checkout of `order_id` held.
pub async fn release_cart(db: &impl ConnectionTrait, order_id: i32) -> AppResult<()> {
    cart::Entity::update_many()
        .col_expr(
            cart::Column::CheckoutOrderId,
            Expr::value(Option::<i32>::None),
        )
        .filter(cart::Column::CheckoutOrderId.eq(order_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes what an order bought from its buyer's cart, in the transaction that marks it
/// paid; saved lines and products added since stay.
async fn empty_bought_lines(db: &impl ConnectionTrait, order_id: i32) -> AppResult<()> {
    let order = reload(db, order_id).await?;
    let Some(cart) = cart::Entity::find()
        .filter(cart::Column::UserId.eq(order.user_id))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let bought: Vec<i32> = items_of(db, &[order_id])
        .await?
        .into_iter()
        .map(|item| item.product_id)
        .collect();
    cart_item::Entity::delete_many()
        .filter(cart_item::Column::CartId.eq(cart.id))
        .filter(cart_item::Column::SavedForLater.eq(false))
        .filter(cart_item::Column::ProductId.is_in(bought))
        .exec(db)
        .await?;
    Ok(())
}

/// Cancels a PENDING order whose payment did not happen, and gives its stock back.
/// Answers whether this call did it.
pub async fn release(db: &DatabaseConnection, order_id: i32) -> AppResult<bool> {
    let txn = db::begin_write(db).await?;
    let released = release_in(&txn, order_id).await?;
    txn.commit().await?;
    Ok(released)
}

/// [`release`] inside the caller's transaction.
pub async fn release_in(txn: &DatabaseTransaction, order_id: i32) -> AppResult<bool> {
    if !transition(txn, order_id, OrderStatus::Pending, OrderStatus::Cancelled).await? {
        return Ok(false);
    }
    restock(txn, order_id).await?;
    settle_charge(txn, order_id, PaymentStatus::Failed, None).await?;
    Ok(true)
}

/// Records that an order's charge must be refunded, once: the ledger's unique
/// (order, kind) index makes a second record impossible.
async fn record_refund(
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

/// [`cancel`], run to the end even if the client goes away (it may be refunding).
pub async fn cancel_detached(
    db: DatabaseConnection,
    payments: Payments,
    viewer: Viewer,
    id: i32,
) -> AppResult<order::Model> {
    tokio::spawn(async move { cancel(&db, &payments, &viewer, id).await }).await?
}

/// Cancels an order (its owner or an admin) while it is PENDING or PAID: the stock goes
/// back and a paid order is refunded, exactly once however many cancellations race.
pub async fn cancel(
    db: &DatabaseConnection,
    payments: &Payments,
    viewer: &Viewer,
    id: i32,
) -> AppResult<order::Model> {
    let order = find_visible(db, viewer, id).await?;
    // A PENDING order may have been charged by a checkout that died (or lost the
    // gateway's answer) before recording it. Ask the gateway first: if it did charge,
    // the order is PAID and the cancellation below refunds it.
    if order.status == OrderStatus::Pending {
        match payments.gateway.find_charge(&order.number).await {
            Ok(Some(receipt)) => {
                complete_payment(db, &order, &receipt).await?;
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
        if transition(&txn, id, from, OrderStatus::Cancelled).await? {
            cancelled_from = Some(from);
            break;
        }
    }
    let Some(from) = cancelled_from else {
        let current = reload(&txn, id).await?;
        return Err(AppError::conflict(
            "id",
            format!("an order that is {} cannot be cancelled", current.status),
        ));
    };
    restock(&txn, id).await?;
    if from == OrderStatus::Paid {
        record_refund(&txn, &order, payments.gateway.name()).await?;
    } else {
        settle_charge(&txn, id, PaymentStatus::Failed, None).await?;
    }
    txn.commit().await?;
    if from == OrderStatus::Paid {
        settle_refund(db, payments, id).await?;
    }
    reload(db, id).await
}

/// Moves an order forward in fulfilment (admin): PAID -> SHIPPED -> DELIVERED only.
pub async fn update_status(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i32,
    status: OrderStatus,
) -> AppResult<order::Model> {
    require_admin(db, viewer).await?;
    let current = reload(db, id).await?;
    let conflict = |current: OrderStatus| {
        AppError::conflict(
            "status",
            format!("an order that is {current} cannot become {status}"),
        )
    };
    let Some(from) = status.fulfilment_predecessor() else {
        return Err(conflict(current.status));
    };
    let txn = db::begin_write(db).await?;
    if !transition(&txn, id, from, status).await? {
        return Err(conflict(reload(&txn, id).await?.status));
    }
    txn.commit().await?;
    reload(db, id).await
}

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
                if complete_payment(db, &order, &receipt).await? {
                    swept.completed += 1;
                }
            }
            Ok(None) => {
                if release(db, order.id).await? {
                    swept.released += 1;
                }
            }
            Err(PaymentError::Declined(_)) => {
                if release(db, order.id).await? {
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

/// A charge that succeeded after its order was already cancelled (it expired while the
/// gateway was answering): record it and refund it.
pub async fn cancel_after_late_payment(
    db: &DatabaseConnection,
    payments: &Payments,
    order: &order::Model,
    receipt: &Receipt,
) -> AppResult<()> {
    let txn = db::begin_write(db).await?;
    owe_refund_of_late_payment(&txn, order, receipt, payments.gateway.name()).await?;
    txn.commit().await?;
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
