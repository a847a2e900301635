//! Payment gateways behind one trait, so checkout never knows which one it talks to.
//! Several may be enabled at once ([`Gateways`]); the buyer picks one by its code, and
//! every later step of an order (settling a lost answer, refunds, webhooks) goes through
//! the gateway its ledger names, never "the configured one".
//!
//! Gateways are called outside database transactions (a slow gateway must never hold
//! locks), and always with an idempotency key that is stable per order, so a retried
//! call can never charge or refund twice.

pub mod paypal;
pub mod stripe;
pub mod test_gateway;

use std::sync::Arc;

use crate::domain::{Currency, Money, TaxMode};

pub use paypal::PayPalGateway;
pub use stripe::StripeGateway;
pub use test_gateway::TestGateway;

/// A charge to authorize and capture at once.
#[derive(Clone, Debug)]
pub struct ChargeRequest {
    pub amount: Money,
    pub currency: Currency,
    /// What the client's payment form produced (e.g. a Stripe token such as `tok_visa`);
    /// always present for a gateway whose [`PaymentGateway::requires_token`] is true
    /// (checkout refuses the request before anything is written otherwise).
    pub token: Option<String>,
    /// Stable per order: the same key never charges twice.
    pub idempotency_key: String,
    pub description: String,
    /// Where a gateway that sends the customer to its own page sends them back to
    /// afterwards (the storefront's page of the order).
    pub return_url: String,
}

/// What a charge came to when the gateway did not refuse it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charge {
    /// The money is taken.
    Paid(Receipt),
    /// The gateway takes the money only once the customer acts (3-D Secure, approving on
    /// the gateway's page). Nothing is taken yet; [`PaymentGateway::complete`] says later
    /// whether it was.
    ActionRequired(AwaitingCustomer),
}

/// A charge that waits for its customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwaitingCustomer {
    /// The gateway's id of the payment (a PaymentIntent, a PayPal order), by which
    /// [`PaymentGateway::complete`] and [`PaymentGateway::abandon`] find it again.
    pub reference: String,
    pub action: CustomerAction,
}

/// What the customer must do to finish paying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerAction {
    /// Finish in the client with the gateway's SDK (Stripe.js `handleNextAction`, a
    /// mobile PaymentSheet), which needs this secret.
    ClientSecret(String),
    /// Go to this page of the gateway, which sends the customer back to the
    /// [`ChargeRequest::return_url`].
    Redirect(String),
}

/// Where a charge that waited for its customer stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completion {
    /// The customer did their part and the money is taken.
    Paid(Receipt),
    /// The customer has not acted yet (or the gateway is still deciding).
    Waiting,
    /// It will never be taken: the customer failed or refused the authentication, or
    /// the payment was cancelled. The message may be shown to the customer.
    Failed(String),
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

/// One payment gateway: the one place a new one (Adyen, Mollie, ...) plugs in. Checkout,
/// cancellations, refunds and the sweeper only ever call these methods, and always with
/// an idempotency key, so each may be retried.
#[async_trait::async_trait]
pub trait PaymentGateway: Send + Sync + 'static {
    /// The gateway's code: what `SHOP_PAYMENT_GATEWAYS` lists, what a buyer sends as
    /// `CheckoutInput.paymentMethod`, and what the payment ledger keeps in `gateway`
    /// (so it must never change once orders were paid with it).
    fn code(&self) -> &'static str;

    /// What a buyer sees in `paymentMethods`, e.g. "Card".
    fn name(&self) -> &'static str;

    /// Whether a charge needs `paymentToken` from the client's payment form. Gateways
    /// that send the buyer to their own page instead (PayPal) need none.
    fn requires_token(&self) -> bool;

    /// Charges, or starts a charge the customer must finish ([`Charge::ActionRequired`]).
    async fn charge(&self, request: &ChargeRequest) -> Result<Charge, PaymentError>;

    /// Where a charge that waited for its customer stands now. A gateway that takes the
    /// money only when asked after the customer approved (PayPal's capture) takes it here,
    /// under `idempotency_key` (the order number), so a repeated call never takes it
    /// twice. `Declined` means the same as [`Completion::Failed`].
    async fn complete(
        &self,
        reference: &str,
        idempotency_key: &str,
    ) -> Result<Completion, PaymentError>;

    /// Gives up on a charge that waited for its customer too long (its order is
    /// cancelled), so that the customer can no longer finish it. Best effort: a payment
    /// that still gets through is refunded as any payment of a cancelled order is.
    async fn abandon(&self, reference: &str) -> Result<(), PaymentError>;

    async fn refund(&self, request: &RefundRequest) -> Result<Receipt, PaymentError>;

    /// The completed charge made with `idempotency_key`, if there is one: how an order
    /// whose payment outcome was lost (a crash, a timeout) is settled later.
    async fn find_charge(&self, idempotency_key: &str) -> Result<Option<Receipt>, PaymentError>;
}

/// A gateway API's base URL from the setting `setting`: an http(s) URL (https in
/// production, http for a local mock), kept without its trailing slash.
fn api_base(setting: &str, raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw).map_err(|_| format!("{setting} {raw:?} is not a URL"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(format!("{setting} {raw:?} must be an http(s) URL"));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// The client a gateway calls its API with: bounded waits, and a user agent that names
/// the shop's version in the gateway's logs.
fn api_client(
    connect_timeout: std::time::Duration,
    request_timeout: std::time::Duration,
) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(request_timeout)
        .user_agent(concat!("shop/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A gateway the server can talk to.
pub type Gateway = Arc<dyn PaymentGateway>;

/// The gateways of a server: the enabled ones, in the order `paymentMethods` lists them
/// (the first is the default at checkout), and the ones kept only to settle orders they
/// were paid with before they were disabled (see [`Gateways::settling`]).
#[derive(Clone)]
pub struct Gateways {
    enabled: Arc<[Gateway]>,
    standby: Arc<[Gateway]>,
}

impl Gateways {
    /// The enabled gateways, in order, and those kept for settlement only. Refuses an
    /// empty list and a code that appears twice (in either list).
    pub fn new(enabled: Vec<Gateway>, standby: Vec<Gateway>) -> Result<Self, String> {
        if enabled.is_empty() {
            return Err("at least one payment gateway must be enabled".into());
        }
        let mut codes: Vec<&str> = Vec::new();
        for gateway in enabled.iter().chain(&standby) {
            if codes.contains(&gateway.code()) {
                return Err(format!(
                    "the payment gateway {:?} is listed twice",
                    gateway.code()
                ));
            }
            codes.push(gateway.code());
        }
        Ok(Self {
            enabled: enabled.into(),
            standby: standby.into(),
        })
    }

    /// The enabled gateways, in the configured order.
    pub fn enabled(&self) -> &[Gateway] {
        &self.enabled
    }

    /// The default gateway: the first enabled.
    pub fn default_gateway(&self) -> &Gateway {
        // `new` never makes an empty list.
        &self.enabled[0]
    }

    /// The enabled gateway with this code: what a checkout may pay with.
    pub fn offered(&self, code: &str) -> Option<&Gateway> {
        self.enabled.iter().find(|gateway| gateway.code() == code)
    }

    /// The gateway that took an order's money, by the code its ledger keeps: enabled, or
    /// kept for settlement after it was disabled. A gateway this server cannot reach (not
    /// configured at all) answers as an unreachable gateway does, `Unavailable`: the
    /// callers already leave such work owed and retried (a refund stays PENDING and the
    /// sweeper asks again; an abandoned order stays PENDING), until the operator
    /// configures the gateway again.
    pub fn settling(&self, code: &str) -> Result<&Gateway, PaymentError> {
        self.enabled
            .iter()
            .chain(self.standby.iter())
            .find(|gateway| gateway.code() == code)
            .ok_or_else(|| {
                tracing::error!(gateway = code, "an order was paid through a payment gateway this server is not configured for; configure it to settle the order");
                PaymentError::Unavailable(format!(
                    "the payment gateway {code:?} is not configured on this server"
                ))
            })
    }
}

/// How checkout takes money: the gateways, the shop's currency, whether its prices include
/// tax, how long an order may stay PENDING before the sweeper gives its stock back, and
/// where a gateway's page sends the customer back to.
#[derive(Clone)]
pub struct Payments {
    pub gateways: Gateways,
    pub currency: Currency,
    pub pending_order_ttl: chrono::Duration,
    pub tax_mode: TaxMode,
    pub return_url: ReturnUrl,
}

/// The page a gateway sends its customer back to after they paid (or did not): the
/// storefront's page of the order, made from the order number.
#[derive(Clone)]
pub struct ReturnUrl(Arc<dyn Fn(&str) -> String + Send + Sync>);

impl ReturnUrl {
    pub fn new(for_order: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        Self(Arc::new(for_order))
    }

    /// The return page of the order numbered `number`.
    pub fn for_order(&self, number: &str) -> String {
        (self.0)(number)
    }
}

impl std::fmt::Debug for ReturnUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReturnUrl(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test() -> Gateway {
        Arc::new(TestGateway::new("http://127.0.0.1:8000"))
    }

    #[test]
    fn the_first_enabled_gateway_is_the_default_and_only_enabled_ones_are_offered() {
        let gateways = Gateways::new(vec![test()], Vec::new()).expect("valid");
        assert_eq!(gateways.default_gateway().code(), "test");
        assert!(gateways.offered("test").is_some());
        assert!(gateways.offered("stripe").is_none());
        assert!(matches!(
            gateways.settling("stripe"),
            Err(PaymentError::Unavailable(_))
        ));
    }

    fn stripe() -> Gateway {
        let key = stripe::SecretKey::parse("sk_test_0123456789").expect("a key");
        let settings = stripe::StripeSettings::new(key, "http://127.0.0.1:9").expect("settings");
        Arc::new(StripeGateway::new(settings).expect("a client"))
    }

    #[test]
    fn a_gateway_on_standby_settles_but_is_not_offered() {
        let gateways = Gateways::new(vec![stripe()], vec![test()]).expect("valid");

        assert_eq!(gateways.default_gateway().code(), "stripe");
        assert_eq!(gateways.enabled().len(), 1);
        assert!(gateways.offered("test").is_none());
        assert_eq!(
            gateways.settling("test").map(|g| g.code()).ok(),
            Some("test")
        );
        assert_eq!(
            gateways.settling("stripe").map(|g| g.code()).ok(),
            Some("stripe")
        );
    }

    #[test]
    fn no_gateway_or_one_listed_twice_is_refused() {
        assert!(Gateways::new(Vec::new(), vec![test()]).is_err());
        assert!(Gateways::new(vec![test(), test()], Vec::new()).is_err());
        assert!(Gateways::new(vec![test()], vec![test()]).is_err());
    }
}
