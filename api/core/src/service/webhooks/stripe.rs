//! Stripe's webhook: `payment_intent.succeeded` and `.payment_failed` settle an order whose
//! checkout did not see the outcome, `charge.refunded` completes refunds. Deliveries are
//! verified by their `Stripe-Signature` (see [`stripe::verify`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    order,
    payment::{self, PaymentKind, PaymentStatus},
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set, sea_query::Expr,
};
use serde::Deserialize;

use super::{Delivery, Outcome, claim, order_paid_through, settle_failed, settle_paid};
use crate::{
    db,
    domain::{Currency, Money},
    error::{AppError, AppResult},
    payments::{
        Payments, Receipt,
        stripe::{self, WebhookSecret},
    },
    service::orders,
};

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

impl Event {
    fn delivery(&self) -> Delivery<'_> {
        Delivery {
            id: &self.id,
            kind: &self.kind,
        }
    }
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

/// The fields of a PaymentIntent the shop reads.
#[derive(Deserialize)]
struct PaymentIntent {
    id: String,
    amount: i64,
    currency: String,
    #[serde(default)]
    metadata: HashMap<String, String>,
}

/// The fields of a Charge the shop reads.
#[derive(Deserialize)]
struct Charge {
    id: String,
    payment_intent: Option<String>,
    #[serde(default)]
    refunded: bool,
    /// Only present when the endpoint's API version includes it.
    refunds: Option<RefundList>,
}

#[derive(Deserialize)]
struct RefundList {
    data: Vec<RefundId>,
}

#[derive(Deserialize)]
struct RefundId {
    id: String,
}

/// Handles one delivery to `/webhooks/stripe`: `signature` is the `Stripe-Signature`
/// header and `payload` the body exactly as received (the signature covers its bytes).
/// A bad signature is UNAUTHENTICATED and a body that is not an event BAD_USER_INPUT,
/// both before anything is read or written.
pub async fn receive_stripe(
    db: &DatabaseConnection,
    payments: &Payments,
    secret: &WebhookSecret,
    signature: Option<&str>,
    payload: &[u8],
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    stripe::verify(secret, signature, payload, now.timestamp()).map_err(|err| {
        tracing::warn!(error = %err, "refused a Stripe webhook delivery");
        AppError::Unauthenticated("the Stripe-Signature header does not verify")
    })?;
    let event: Event = serde_json::from_slice(payload)
        .map_err(|_| AppError::bad_input("body", "not a Stripe event"))?;
    if !event.delivery().is_plausible() {
        return Err(AppError::bad_input("body", "not a Stripe event"));
    }
    let outcome = match event.kind.as_str() {
        "payment_intent.succeeded" => {
            payment_succeeded(db, payments, &event, parse(&event)?, now).await?
        }
        "payment_intent.payment_failed" => payment_failed(db, &event, parse(&event)?, now).await?,
        "charge.refunded" => charge_refunded(db, &event, parse(&event)?, now).await?,
        _ => Outcome::Ignored,
    };
    tracing::info!(event = %event.id, kind = %event.kind, ?outcome, "Stripe webhook");
    Ok(outcome)
}

fn parse<T: for<'de> Deserialize<'de>>(event: &Event) -> AppResult<T> {
    serde_json::from_value(event.data.object.clone())
        .map_err(|_| AppError::bad_input("body", format!("not a {} event", event.kind)))
}

/// The order a PaymentIntent was made for, when the shop made it through Stripe.
async fn order_of(
    db: &DatabaseConnection,
    intent: &PaymentIntent,
) -> AppResult<Option<order::Model>> {
    match intent.metadata.get("order_number") {
        Some(number) => order_paid_through(db, number, STRIPE).await,
        None => Ok(None),
    }
}

/// The code the ledger keeps for Stripe's charges.
const STRIPE: &str = "stripe";

/// Whether a PaymentIntent is for exactly what the order costs: money that does not
/// match is for a human to look at, never to settle an order with.
fn amount_matches(order: &order::Model, intent: &PaymentIntent) -> bool {
    let Ok(currency) = Currency::parse(&order.currency) else {
        return false;
    };
    intent.currency.eq_ignore_ascii_case(currency.as_str())
        && stripe::stripe_amount(Money::from_cents(order.total_cents), &currency)
            == Some(intent.amount)
}

/// The order was charged. A PENDING order becomes PAID. An order cancelled meanwhile (the
/// sweeper gave up on it, or its checkout gave up) keeps its cancellation, and the money
/// is refunded: the buyer was told the purchase failed.
async fn payment_succeeded(
    db: &DatabaseConnection,
    payments: &Payments,
    event: &Event,
    intent: PaymentIntent,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let Some(order) = order_of(db, &intent).await? else {
        if let Some(number) = intent.metadata.get("order_number") {
            // The checkout declined and forgot the order while the charge went through
            // (Stripe's search had not caught up), the number is another system's, or
            // the order was paid through another gateway. Which one only a human can
            // tell, so nothing is refunded automatically.
            tracing::error!(payment_intent = %intent.id, order = %number,
                "a payment succeeded for an order that does not exist or was not paid through Stripe; check it in Stripe");
        }
        return Ok(Outcome::Ignored);
    };
    if !amount_matches(&order, &intent) {
        tracing::error!(payment_intent = %intent.id, order = %order.number, amount = intent.amount,
            currency = %intent.currency, "a payment does not match its order's total; check it in Stripe");
        return Ok(Outcome::Ignored);
    }
    let receipt = Receipt {
        reference: intent.id.clone(),
    };
    settle_paid(db, payments, &event.delivery(), &order, &receipt, now).await
}

/// The charge failed: a PENDING order is cancelled and its stock goes back.
async fn payment_failed(
    db: &DatabaseConnection,
    event: &Event,
    intent: PaymentIntent,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    match order_of(db, &intent).await? {
        Some(order) => settle_failed(db, &event.delivery(), &order, now).await,
        None => Ok(Outcome::Ignored),
    }
}

/// A charge was refunded in full: every refund of its order still pending is done (the
/// money is all back), and what the shop had not asked for itself (a refund made in the
/// dashboard) is recorded too, so that no later refund or cancellation asks for it again.
/// A partial refund cannot be told apart from the order's own refunds by this event; a
/// pending refund of the shop is settled by asking Stripe again under its key instead.
async fn charge_refunded(
    db: &DatabaseConnection,
    event: &Event,
    charge: Charge,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let Some(payment_intent) = charge.payment_intent.as_deref() else {
        return Ok(Outcome::Ignored);
    };
    let Some(charge_row) = payment::Entity::find()
        .filter(payment::Column::Kind.eq(PaymentKind::Charge))
        .filter(payment::Column::Reference.eq(payment_intent))
        .one(db)
        .await?
    else {
        return Ok(Outcome::Ignored);
    };
    if !charge.refunded {
        tracing::warn!(order_id = charge_row.order_id, charge = %charge.id,
            "a charge was partly refunded; the shop's pending refunds are settled by asking Stripe");
        return Ok(Outcome::Ignored);
    }
    let refund_id = charge
        .refunds
        .and_then(|refunds| refunds.data.into_iter().next())
        .map(|refund| refund.id);

    let txn = db::begin_write(db).await?;
    if !claim(&txn, &event.delivery(), now).await? {
        return Ok(Outcome::Duplicate);
    }
    let pending = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(charge_row.order_id))
        .filter(payment::Column::Kind.eq(PaymentKind::Refund))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending))
        .order_by_asc(payment::Column::Id)
        .all(&txn)
        .await?;
    let mut applied = false;
    // The refund's id in the event is the newest one's: it names the pending refund only
    // when there is just one.
    let only = pending.len() == 1;
    for row in &pending {
        let reference = row.reference.clone().or(refund_id.clone().filter(|_| only));
        applied |= orders::complete_refund(&txn, row, reference.as_deref()).await?;
    }
    let order = order::Entity::find_by_id(charge_row.order_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    let outside = order.total_cents - order.refunded_cents;
    if outside > 0 {
        tracing::warn!(order_id = order.id, charge = %charge.id,
            "a charge was refunded outside the shop; recording it");
        let counted = order::Entity::update_many()
            .col_expr(
                order::Column::RefundedCents,
                Expr::col(order::Column::TotalCents),
            )
            .filter(order::Column::Id.eq(order.id))
            .filter(order::Column::RefundedCents.eq(order.refunded_cents))
            .exec(&txn)
            .await?
            .rows_affected;
        if counted == 1 {
            payment::Entity::insert(payment::ActiveModel {
                order_id: Set(order.id),
                kind: Set(PaymentKind::Refund),
                gateway: Set(charge_row.gateway.clone()),
                reference: Set(refund_id.filter(|_| pending.is_empty())),
                amount_cents: Set(outside),
                status: Set(PaymentStatus::Succeeded),
                // Never sent by the shop, so no key of its own.
                idempotency_key: Set(None),
                reason: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            applied = true;
        }
    }
    txn.commit().await?;
    Ok(if applied {
        Outcome::Applied
    } else {
        Outcome::AlreadySettled
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::service::webhooks::tests::order;

    fn intent(amount: i64, currency: &str) -> PaymentIntent {
        PaymentIntent {
            id: "pi_1".into(),
            amount,
            currency: currency.into(),
            metadata: HashMap::new(),
        }
    }

    #[test]
    fn a_payment_settles_an_order_only_for_its_exact_total_and_currency() {
        assert!(amount_matches(&order(1999, "USD"), &intent(1999, "usd")));
        assert!(!amount_matches(&order(1999, "USD"), &intent(1998, "usd")));
        assert!(!amount_matches(&order(1999, "USD"), &intent(1999, "eur")));
        assert!(amount_matches(&order(50_000, "JPY"), &intent(500, "jpy")));
    }
}
