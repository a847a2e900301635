//! Payments that wait for their customer (3-D Secure, a gateway's own page): how the order
//! learns what the customer did. Four roads lead here: the customer's client calling
//! `confirmPayment` on their return, the test gateway's authentication page, the sweeper
//! once the order's window has passed, and the gateways' webhooks (PayPal's approval comes
//! through here; Stripe's payment events settle through the same conditional
//! transitions). Each asks the gateway, never the caller, what happened, so calling `confirmPayment` proves nothing by itself and is safe for anyone.
//! However they race, exactly one of them moves the order out of PENDING: the transitions
//! are conditional on PENDING, and a payment that arrives for an order another road
//! already cancelled is refunded.

use entity::{
    order,
    payment::{self, PaymentStatus},
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{PaymentState, cancel_after_late_payment, charges_of, mark_paid, payment_of, release};
use crate::{
    db,
    domain::OrderStatus,
    error::{AppError, AppResult},
    payments::{Completion, PaymentError, Payments, Receipt},
    service::throttle,
};

/// The counter of completions of payments that waited for their customer, by who asked
/// (`by`) and what the gateway said (`outcome`).
pub const COMPLETIONS: &str = "shop_payment_completions_total";

/// Who asks the gateway about a waiting payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AskedBy {
    /// The customer's client, through `confirmPayment`.
    Customer,
    /// The test gateway's authentication page, once the customer chose.
    AuthenticationPage,
    /// The sweeper, when the order's window has passed.
    Sweeper,
    /// A gateway's webhook saying the customer acted (PayPal's `CHECKOUT.ORDER.APPROVED`).
    Webhook,
}

impl AskedBy {
    fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "confirm_payment",
            Self::AuthenticationPage => "authentication_page",
            Self::Sweeper => "sweeper",
            Self::Webhook => "webhook",
        }
    }
}

/// `confirmPayment`: where the payment of the order with this number stands, after asking
/// its gateway when it waits for the customer (and settling the order accordingly: PAID,
/// or CANCELLED with its stock back). A number that is not an order's is NOT_FOUND, and
/// counts as a miss against the client address (RATE_LIMITED past the limit), so numbers
/// cannot be probed.
pub async fn confirm_payment(
    db: &DatabaseConnection,
    payments: &Payments,
    client_addr: &str,
    number: &str,
) -> AppResult<PaymentState> {
    let number = number.trim().to_ascii_uppercase();
    let attempt = throttle::begin_limited(db, throttle::ORDER_LOOKUP, &number, client_addr).await?;
    let Some(order) = find(db, &number).await? else {
        return Err(AppError::NotFound("order"));
    };
    attempt.succeeded(db).await?;
    complete_payment(db, payments, order, AskedBy::Customer).await
}

/// Settles the order with this number if its payment waits for its customer and the
/// gateway knows the outcome; answers where its payment stands. For the callers that know
/// the number from the gateway itself (the test gateway's page).
pub async fn complete_payment_of(
    db: &DatabaseConnection,
    payments: &Payments,
    number: &str,
    asked_by: AskedBy,
) -> AppResult<PaymentState> {
    let order = find(db, number).await?.ok_or(AppError::NotFound("order"))?;
    complete_payment(db, payments, order, asked_by).await
}

async fn find(db: &DatabaseConnection, number: &str) -> AppResult<Option<order::Model>> {
    Ok(order::Entity::find()
        .filter(order::Column::Number.eq(number))
        .one(db)
        .await?)
}

/// Asks the gateway about `order`'s payment when it waits for its customer, and settles
/// the order by the answer; answers where the payment stands then. Any other payment is
/// left alone (one being charged right now is its checkout's to settle).
pub async fn complete_payment(
    db: &DatabaseConnection,
    payments: &Payments,
    order: order::Model,
    asked_by: AskedBy,
) -> AppResult<PaymentState> {
    let Some(charge) = charge_of(db, &order).await? else {
        return Err(AppError::NotFound("payment"));
    };
    let waiting =
        order.status == OrderStatus::Pending && charge.status == PaymentStatus::RequiresAction;
    let Some(reference) = charge.reference.as_deref().filter(|_| waiting) else {
        return Ok(payment_of(&order, &charge).state);
    };
    let answer = match payments.gateways.settling(&charge.gateway) {
        Ok(gateway) => gateway.complete(reference, &order.number).await,
        Err(unreachable) => Err(unreachable),
    };
    let outcome = match answer {
        Ok(Completion::Paid(receipt)) => {
            settle_paid(db, payments, &order, &receipt).await?;
            "paid"
        }
        Ok(Completion::Failed(reason)) | Err(PaymentError::Declined(reason)) => {
            tracing::info!(order = %order.number, %reason, "a payment the customer had to finish failed");
            db::write(db, async |txn| release(txn, order.id).await).await?;
            "failed"
        }
        Ok(Completion::Waiting) => {
            if asked_by == AskedBy::Sweeper {
                give_up(db, payments, &order, &charge.gateway, reference).await?;
            }
            "waiting"
        }
        Err(PaymentError::Unavailable(reason)) => {
            tracing::warn!(order = %order.number, %reason, "cannot learn how a payment the customer had to finish ended");
            metrics::counter!(COMPLETIONS, "by" => asked_by.as_str(), "outcome" => "unknown")
                .increment(1);
            // Not known yet: the client asks again later, the sweeper in any case.
            return Ok(PaymentState::Pending);
        }
    };
    metrics::counter!(COMPLETIONS, "by" => asked_by.as_str(), "outcome" => outcome).increment(1);
    let order = super::reload(db, order.id).await?;
    let charge = charge_of(db, &order).await?.unwrap_or(charge);
    Ok(payment_of(&order, &charge).state)
}

async fn charge_of(
    db: &DatabaseConnection,
    order: &order::Model,
) -> AppResult<Option<payment::Model>> {
    Ok(charges_of(db, &[order.id]).await?.into_iter().next())
}

/// The gateway took the money: the order is PAID, unless another road cancelled it first,
/// in which case the money goes back (the customer was told the order failed).
async fn settle_paid(
    db: &DatabaseConnection,
    payments: &Payments,
    order: &order::Model,
    receipt: &Receipt,
) -> AppResult<()> {
    if db::write(db, async |txn| mark_paid(txn, order.id, receipt).await)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let current = super::reload(db, order.id).await?;
    let charged = super::succeeded_charge(db, order.id).await?.is_some();
    if current.status == OrderStatus::Cancelled && !charged {
        tracing::warn!(order = %order.number, "a payment was finished for a cancelled order; refunding it");
        cancel_after_late_payment(db, payments, &current, receipt).await?;
    }
    Ok(())
}

/// The order's window passed with its customer not done: the order is cancelled and its
/// stock goes back, and the gateway is told, so the customer can no longer finish paying.
async fn give_up(
    db: &DatabaseConnection,
    payments: &Payments,
    order: &order::Model,
    gateway: &str,
    reference: &str,
) -> AppResult<()> {
    if !db::write(db, async |txn| release(txn, order.id).await).await? {
        return Ok(());
    }
    let abandoned = match payments.gateways.settling(gateway) {
        Ok(gateway) => gateway.abandon(reference).await,
        Err(unreachable) => Err(unreachable),
    };
    if let Err(err) = abandoned {
        // Should the customer still pay, the payment of a cancelled order is refunded.
        tracing::warn!(order = %order.number, error = %err, "could not call off a payment of an expired order");
    }
    Ok(())
}
