//! Payment gateways behind one trait, so checkout never knows which one it talks to.
//!
//! Gateways are called outside database transactions (a slow gateway must never hold
//! locks), and always with an idempotency key that is stable per order, so a retried
//! call can never charge or refund twice.

pub mod stripe;
mod test_gateway;

use std::sync::Arc;

use crate::domain::{Currency, Money, TaxMode};

pub use stripe::StripeGateway;
pub use test_gateway::TestGateway;

/// A charge to authorize and capture at once.
#[derive(Clone, Debug)]
pub struct ChargeRequest {
    pub amount: Money,
    pub currency: Currency,
    /// What the client's payment form produced (e.g. a Stripe token such as `tok_visa`).
    pub token: String,
    /// Stable per order: the same key never charges twice.
    pub idempotency_key: String,
    pub description: String,
}

/// A refund of (part of) a charge.
#[derive(Clone, Debug)]
pub struct RefundRequest {
    /// The gateway's reference of the charge.
    pub charge_reference: String,
    pub amount: Money,
    pub currency: Currency,
    pub idempotency_key: String,
}

/// What the gateway calls a completed charge or refund.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub reference: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// The gateway refused: nothing was charged. The message may be shown to the buyer.
    #[error("{0}")]
    Declined(String),
    /// The gateway could not be reached or failed; whether it acted is unknown, so the
    /// caller must settle it with the same idempotency key.
    #[error("payment gateway error: {0}")]
    Unavailable(String),
}

#[async_trait::async_trait]
pub trait PaymentGateway: Send + Sync + 'static {
    /// The gateway's name, as kept in the payment ledger.
    fn name(&self) -> &'static str;

    async fn charge(&self, request: &ChargeRequest) -> Result<Receipt, PaymentError>;

    async fn refund(&self, request: &RefundRequest) -> Result<Receipt, PaymentError>;

    /// The completed charge made with `idempotency_key`, if there is one: how an order
    /// whose payment outcome was lost (a crash, a timeout) is settled later.
    async fn find_charge(&self, idempotency_key: &str) -> Result<Option<Receipt>, PaymentError>;
}

/// The gateway the server was configured with.
pub type Gateway = Arc<dyn PaymentGateway>;

/// How checkout takes money: the gateway, the shop's currency, whether its prices include
/// tax, and how long an order may stay PENDING before the sweeper gives its stock back.
#[derive(Clone)]
pub struct Payments {
    pub gateway: Gateway,
    pub currency: Currency,
    pub pending_order_ttl: chrono::Duration,
    pub tax_mode: TaxMode,
}
