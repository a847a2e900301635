//! PayPal's webhook. Subscribe it to:
//! - `CHECKOUT.ORDER.APPROVED`: the buyer approved on PayPal's page but may never come
//!   back to the shop; the shop captures now, exactly as `confirmPayment` would.
//! - `PAYMENT.CAPTURE.COMPLETED`: the money is taken (a capture whose answer was lost, or
//!   one that was pending); the order is paid.
//! - `PAYMENT.CAPTURE.DENIED`: a pending capture was refused; the order is cancelled.
//!
//! A delivery is genuine only when PayPal itself says so: its transmission headers and the
//! body go to PayPal's verify-webhook-signature API with the webhook's id.

use chrono::{DateTime, Utc};
use entity::order;
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::{Delivery, Outcome, order_paid_through, settle_failed, settle_paid};
use crate::{
    domain::{Currency, Money, OrderStatus},
    error::{AppError, AppResult},
    payments::{
        PaymentError, Payments, Receipt,
        paypal::{self, PayPalGateway, Transmission, WebhookId},
    },
    service::orders::{self, AskedBy},
};

/// What verifies PayPal's deliveries: the gateway that asks PayPal, and the webhook's id.
#[derive(Clone)]
pub struct PayPalWebhook {
    pub gateway: std::sync::Arc<PayPalGateway>,
    pub webhook_id: WebhookId,
}

#[derive(Deserialize)]
struct Event {
    id: String,
    event_type: String,
    resource: serde_json::Value,
}

impl Event {
    fn delivery(&self) -> Delivery<'_> {
        Delivery {
            id: &self.id,
            kind: &self.event_type,
        }
    }

    fn resource<T: for<'de> Deserialize<'de>>(&self) -> AppResult<T> {
        serde_json::from_value(self.resource.clone())
            .map_err(|_| AppError::bad_input("body", format!("not a {} event", self.event_type)))
    }
}

/// The fields of a capture the shop reads.
#[derive(Deserialize)]
struct Capture {
    id: String,
    amount: Amount,
    /// The shop's order number, set when the PayPal order was created.
    custom_id: Option<String>,
}

#[derive(Deserialize)]
struct Amount {
    currency_code: String,
    value: String,
}

/// The fields of a PayPal order the shop reads.
#[derive(Deserialize)]
struct PayPalOrder {
    #[serde(default)]
    purchase_units: Vec<PurchaseUnit>,
}

#[derive(Deserialize)]
struct PurchaseUnit {
    custom_id: Option<String>,
}

/// Handles one delivery to `/webhooks/paypal`: `transmission` holds its `PAYPAL-*`
/// headers and `payload` the body exactly as received. A delivery PayPal does not vouch
/// for is UNAUTHENTICATED, a body that is not an event BAD_USER_INPUT, both before
/// anything is written; when PayPal cannot be asked, the error is internal (a 5xx), so
/// that PayPal delivers again later.
pub async fn receive_paypal(
    db: &DatabaseConnection,
    payments: &Payments,
    webhook: &PayPalWebhook,
    transmission: &Transmission,
    payload: &[u8],
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    match webhook
        .gateway
        .verify_webhook(&webhook.webhook_id, transmission, payload)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("refused a PayPal webhook delivery PayPal does not vouch for");
            return Err(AppError::Unauthenticated(
                "PayPal does not vouch for this webhook delivery",
            ));
        }
        Err(PaymentError::Declined(reason) | PaymentError::Unavailable(reason)) => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "cannot verify a PayPal webhook delivery: {reason}"
            )));
        }
    }
    let event: Event = serde_json::from_slice(payload)
        .map_err(|_| AppError::bad_input("body", "not a PayPal event"))?;
    if !event.delivery().is_plausible() {
        return Err(AppError::bad_input("body", "not a PayPal event"));
    }
    let outcome = match event.event_type.as_str() {
        "CHECKOUT.ORDER.APPROVED" => order_approved(db, payments, &event).await?,
        "PAYMENT.CAPTURE.COMPLETED" => capture_completed(db, payments, &event, now).await?,
        "PAYMENT.CAPTURE.DENIED" => capture_denied(db, &event, now).await?,
        _ => Outcome::Ignored,
    };
    tracing::info!(event = %event.id, kind = %event.event_type, ?outcome, "PayPal webhook");
    Ok(outcome)
}

async fn order_numbered(
    db: &DatabaseConnection,
    number: Option<&str>,
) -> AppResult<Option<order::Model>> {
    match number {
        Some(number) => order_paid_through(db, number, paypal::CODE).await,
        None => Ok(None),
    }
}

/// The buyer approved: the shop captures, through the same road as `confirmPayment`
/// (conditional on the order waiting, under the order's capture request id), so a
/// delivery that arrives twice, or races the buyer's return, captures once. Not claimed
/// in `webhook_events`: the capture itself is what must happen once.
async fn order_approved(
    db: &DatabaseConnection,
    payments: &Payments,
    event: &Event,
) -> AppResult<Outcome> {
    let approved: PayPalOrder = event.resource()?;
    let number = approved
        .purchase_units
        .first()
        .and_then(|unit| unit.custom_id.as_deref());
    let Some(order) = order_numbered(db, number).await? else {
        return Ok(Outcome::Ignored);
    };
    if order.status != OrderStatus::Pending {
        return Ok(Outcome::AlreadySettled);
    }
    let id = order.id;
    orders::complete_payment(db, payments, order, AskedBy::Webhook).await?;
    let settled = orders::reload(db, id).await?.status != OrderStatus::Pending;
    Ok(if settled {
        Outcome::Applied
    } else {
        Outcome::AlreadySettled
    })
}

/// Whether a capture is for exactly what the order costs: money that does not match is
/// for a human to look at, never to settle an order with.
fn amount_matches(order: &order::Model, amount: &Amount) -> bool {
    let Ok(currency) = Currency::parse(&order.currency) else {
        return false;
    };
    amount.currency_code.eq_ignore_ascii_case(currency.as_str())
        && paypal::paypal_value(Money::from_cents(order.total_cents), &currency).as_deref()
            == Some(amount.value.as_str())
}

async fn capture_completed(
    db: &DatabaseConnection,
    payments: &Payments,
    event: &Event,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let capture: Capture = event.resource()?;
    let Some(order) = order_numbered(db, capture.custom_id.as_deref()).await? else {
        if let Some(number) = &capture.custom_id {
            tracing::error!(capture = %capture.id, order = %number,
                "a PayPal capture completed for an order that does not exist or was not paid through PayPal; check it in PayPal");
        }
        return Ok(Outcome::Ignored);
    };
    if !amount_matches(&order, &capture.amount) {
        tracing::error!(capture = %capture.id, order = %order.number, amount = %capture.amount.value,
            currency = %capture.amount.currency_code, "a PayPal capture does not match its order's total; check it in PayPal");
        return Ok(Outcome::Ignored);
    }
    let receipt = Receipt {
        reference: capture.id.clone(),
    };
    settle_paid(db, payments, &event.delivery(), &order, &receipt, now).await
}

async fn capture_denied(
    db: &DatabaseConnection,
    event: &Event,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let capture: Capture = event.resource()?;
    match order_numbered(db, capture.custom_id.as_deref()).await? {
        Some(order) => settle_failed(db, &event.delivery(), &order, now).await,
        None => Ok(Outcome::Ignored),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::service::webhooks::tests::order;

    fn amount(value: &str, currency: &str) -> Amount {
        Amount {
            currency_code: currency.into(),
            value: value.into(),
        }
    }

    #[test]
    fn a_capture_settles_an_order_only_for_its_exact_total_and_currency() {
        assert!(amount_matches(&order(1999, "USD"), &amount("19.99", "USD")));
        assert!(!amount_matches(
            &order(1999, "USD"),
            &amount("19.98", "USD")
        ));
        assert!(!amount_matches(
            &order(1999, "USD"),
            &amount("19.99", "EUR")
        ));
        assert!(amount_matches(&order(50_000, "JPY"), &amount("500", "JPY")));
    }
}
