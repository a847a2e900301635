//! Stripe, through its PaymentIntents API: one PaymentIntent per order, created and
//! confirmed in one call, found again by the order number kept in its metadata.
//!
//! The client's payment form sends either a PaymentMethod (`pm_...`, from Stripe.js or a
//! mobile PaymentSheet) or a legacy card token (`tok_...`).
//!
//! How Stripe's answers map:
//! - `succeeded`: charged.
//! - `requires_action` (3-D Secure): [`Charge::ActionRequired`] with the PaymentIntent's
//!   client secret, which the client hands to Stripe.js (`handleNextAction`) or the
//!   PaymentSheet; [`StripeGateway::complete`] (or the webhook) learns the outcome.
//! - 402 / `card_error`, or a PaymentIntent left needing another payment method:
//!   [`PaymentError::Declined`], nothing charged.
//! - Any other 4xx except 409 and 429: Stripe refused the request without acting (a bad
//!   key, an invalid token, an amount too small), so nothing was charged either; Declined,
//!   with a message for the buyer and Stripe's own in the log.
//! - Timeouts, connection errors, 409, 429, 5xx, bodies that do not parse, and a
//!   PaymentIntent still `processing`: [`PaymentError::Unavailable`], outcome unknown.
//!
//! Every POST carries an `Idempotency-Key`, so a repeated request returns the first one's
//! result instead of acting twice. That makes it safe to resend a request whose answer was
//! lost on the wire, which the client does a couple of times before giving up: a replay
//! under the same key is the only strongly consistent way to learn what happened (the
//! search API behind [`StripeGateway::find_charge`] lags behind writes by up to a minute).

mod signature;

use std::{fmt, time::Duration};

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Deserialize;

use super::{
    AwaitingCustomer, Charge, ChargeRequest, Completion, CustomerAction, PaymentError,
    PaymentGateway, Receipt, RefundRequest,
};
use crate::domain::{Currency, Money};

pub use signature::{SIGNATURE_TOLERANCE_SECS, SignatureError, WebhookSecret, sign, verify};

/// Where Stripe's API lives.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// The API version the requests and the parsing here are written against. Pinned, so that
/// a change of the account's default version in the dashboard cannot change the shape of
/// the answers under a running server.
pub const API_VERSION: &str = "2024-06-20";

/// How long to wait for a TCP + TLS connection to Stripe.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take in all. Below the server's 30 s request budget, so that
/// a checkout still has time to ask what happened to a charge that timed out.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Attempts per call when the answer says (or the failure shows) that retrying is safe.
const MAX_ATTEMPTS: u32 = 3;
/// The wait before the first retry; doubled before each further one.
const RETRY_BACKOFF: Duration = Duration::from_millis(200);
/// The longest message of Stripe's that is passed on to a buyer.
const MAX_MESSAGE_CHARS: usize = 200;

/// A Stripe secret key (`sk_...`, or a restricted `rk_...`). Its `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("pk_") {
            return Err(
                "SHOP_STRIPE_SECRET_KEY holds a publishable key (pk_...); the server needs \
                 the secret key (sk_...) or a restricted key (rk_...)"
                    .into(),
            );
        }
        if !(raw.starts_with("sk_") || raw.starts_with("rk_")) || raw.len() < 8 {
            return Err(
                "SHOP_STRIPE_SECRET_KEY must be a Stripe secret key (sk_...) or restricted \
                 key (rk_...)"
                    .into(),
            );
        }
        Ok(Self(raw.to_owned()))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// How to reach Stripe.
#[derive(Clone, Debug)]
pub struct StripeSettings {
    pub secret_key: SecretKey,
    /// `https://api.stripe.com`, or a mock in tests.
    pub api_base: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl StripeSettings {
    /// Settings with the default timeouts. The base must be an http(s) URL.
    pub fn new(secret_key: SecretKey, api_base: &str) -> Result<Self, String> {
        Ok(Self {
            secret_key,
            api_base: super::api_base("SHOP_STRIPE_API_BASE", api_base)?,
            connect_timeout: CONNECT_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
        })
    }
}

/// Takes payments with Stripe.
pub struct StripeGateway {
    client: reqwest::Client,
    api_base: String,
    secret_key: SecretKey,
}

impl fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeGateway")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl StripeGateway {
    pub fn new(settings: StripeSettings) -> anyhow::Result<Self> {
        Ok(Self {
            client: super::api_client(settings.connect_timeout, settings.request_timeout)?,
            api_base: settings.api_base,
            secret_key: settings.secret_key,
        })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        // bearer_auth marks the header sensitive, so it never appears in reqwest's Debug.
        self.client
            .request(method, format!("{}{path}", self.api_base))
            .bearer_auth(&self.secret_key.0)
            .header("Stripe-Version", API_VERSION)
    }

    /// Sends a request, resending it while the failure is one a resend can fix. `build`
    /// makes the same request each time (same Idempotency-Key), so a resend never acts twice.
    async fn send(
        &self,
        what: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Answer, PaymentError> {
        let mut attempt = 1;
        loop {
            let outcome = match build().send().await {
                Ok(response) => Answer::read(response).await,
                Err(err) => Err(err),
            };
            let retry = match &outcome {
                Ok(answer) => answer.should_retry(),
                // A timed-out request may still be running at Stripe; a resend would only
                // meet it (409) after the caller's time is gone. The caller settles it.
                Err(err) => !err.is_timeout(),
            };
            if !retry || attempt >= MAX_ATTEMPTS {
                return outcome.map_err(|err| {
                    tracing::warn!(what, error = %without_url(&err), "Stripe could not be reached");
                    PaymentError::Unavailable(format!(
                        "Stripe could not be reached: {}",
                        without_url(&err)
                    ))
                });
            }
            tokio::time::sleep(RETRY_BACKOFF * 2u32.pow(attempt - 1)).await;
            attempt += 1;
        }
    }
}

/// reqwest's errors name the URL, whose query can hold an order number; the kind of
/// failure is what matters in a log line.
fn without_url(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else if err.is_body() || err.is_decode() {
        "the answer could not be read"
    } else {
        "request failed"
    };
    match std::error::Error::source(err) {
        Some(source) => format!("{kind}: {source}"),
        None => kind.to_owned(),
    }
}

/// A complete HTTP answer from Stripe.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    /// Stripe's `Request-Id`, which its support asks for.
    request_id: String,
    /// Stripe's own verdict on whether a retry can succeed, when it gives one.
    should_retry: Option<bool>,
}

impl Answer {
    async fn read(response: reqwest::Response) -> Result<Self, reqwest::Error> {
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header("request-id").unwrap_or_else(|| "-".into());
        let should_retry = header("stripe-should-retry").map(|v| v == "true");
        let body = response.bytes().await?.to_vec();
        Ok(Self {
            status,
            body,
            request_id,
            should_retry,
        })
    }

    /// Stripe's advice when it gives it; otherwise, the statuses that mean "not done, try
    /// again": a concurrent request holding the idempotency key, rate limiting, and a
    /// proxy or Stripe itself being briefly unavailable. A 500 is not retried: Stripe
    /// stores it under the idempotency key and would only replay it.
    fn should_retry(&self) -> bool {
        self.should_retry
            .unwrap_or(matches!(self.status.as_u16(), 409 | 429 | 502 | 503 | 504))
    }

    fn parse<T: for<'de> Deserialize<'de>>(&self, what: &str) -> Result<T, PaymentError> {
        serde_json::from_slice(&self.body).map_err(|err| {
            tracing::error!(what, request_id = %self.request_id, error = %err, "Stripe's answer does not parse");
            PaymentError::Unavailable(format!("Stripe's answer to {what} does not parse"))
        })
    }

    /// What a non-2xx answer means; see the module documentation.
    fn failure(&self, what: &str) -> PaymentError {
        let error = serde_json::from_slice::<ErrorBody>(&self.body)
            .map(|body| body.error)
            .unwrap_or_default();
        let status = self.status.as_u16();
        let kind = error.kind.as_deref().unwrap_or("-");
        let code = error.code.as_deref().unwrap_or("-");
        let message = error.message.as_deref().unwrap_or("-");
        let log = || {
            tracing::warn!(what, status, kind, code, decline_code = error.decline_code.as_deref().unwrap_or("-"),
                request_id = %self.request_id, message, "Stripe refused a request");
        };
        if status == 402 || kind == "card_error" {
            log();
            return PaymentError::Declined(buyer_message(error.message.as_deref()));
        }
        let unknown_outcome = matches!(status, 409 | 429) || status >= 500 || !(400..500).contains(&status)
            // The key was used before with other parameters: whatever that request did
            // stands, and this one cannot tell what it was.
            || kind == "idempotency_error";
        if unknown_outcome {
            tracing::warn!(what, status, kind, code, request_id = %self.request_id, message, "Stripe failed");
            return PaymentError::Unavailable(format!(
                "Stripe answered {status} ({kind}) to {what}"
            ));
        }
        if matches!(status, 401 | 403) {
            tracing::error!(what, status, request_id = %self.request_id, message,
                "Stripe refused the API key: check SHOP_STRIPE_SECRET_KEY");
            return PaymentError::Declined(
                "payments cannot be taken at the moment; nothing was charged".into(),
            );
        }
        log();
        PaymentError::Declined(format!(
            "the payment method was not accepted ({})",
            error.code.as_deref().unwrap_or("invalid request")
        ))
    }
}

/// Stripe's card messages are written for buyers ("Your card was declined."); bounded, in
/// case one is not.
fn buyer_message(message: Option<&str>) -> String {
    match message.map(str::trim).filter(|m| !m.is_empty()) {
        Some(message) => message.chars().take(MAX_MESSAGE_CHARS).collect(),
        None => "your card was declined".into(),
    }
}

#[derive(Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: StripeError,
}

#[derive(Default, Deserialize)]
struct StripeError {
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<String>,
    decline_code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct PaymentIntent {
    id: String,
    status: String,
    last_payment_error: Option<StripeError>,
    /// Returned to the secret key's owner; what the client finishes a payment with.
    client_secret: Option<String>,
}

impl PaymentIntent {
    /// Why a PaymentIntent failed, in words for its buyer.
    fn failure(&self) -> String {
        buyer_message(
            self.last_payment_error
                .as_ref()
                .and_then(|e| e.message.as_deref()),
        )
    }
}

/// How a charge pays: a PaymentMethod from Stripe.js or a PaymentSheet (`pm_...`), or a
/// legacy card token (`tok_...`), as Stripe's form fields.
fn payment_method_fields(token: String) -> Vec<(&'static str, String)> {
    // Cards only: 3-D Secure finishes in the client (Stripe.js, PaymentSheet) with the
    // client secret, never by sending the buyer to a bank's page and back, so no
    // `return_url` is needed.
    let card_only = ("payment_method_types[]", "card".into());
    if token.starts_with("pm_") {
        vec![("payment_method", token), card_only]
    } else {
        vec![
            ("payment_method_data[type]", "card".into()),
            ("payment_method_data[card][token]", token),
            card_only,
        ]
    }
}

#[derive(Deserialize)]
struct Refund {
    id: String,
    status: Option<String>,
    #[serde(default)]
    amount: Option<i64>,
    #[serde(default)]
    metadata: std::collections::HashMap<String, String>,
}

/// The metadata key under which a refund carries the shop's idempotency key, so that the
/// refund can be found again when its key has expired at Stripe (after 24 hours). A refund
/// of the release before sent no metadata: retried within 24 hours of its first attempt,
/// Stripe refuses the changed parameters under the same key (an `idempotency_error`, an
/// unknown outcome), and the sweeper's next attempt after the key expired goes through.
const REFUND_KEY_METADATA: &str = "shop_refund_key";

#[derive(Deserialize)]
struct List<T> {
    data: Vec<T>,
}

/// Currencies Stripe counts in whole units (no minor unit): the shop's cents must be
/// divided by 100, or a 100.00 JPY order would be charged 10,000 yen.
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
/// Currencies Stripe counts in thousandths.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// An amount in the smallest unit Stripe counts `currency` in.
pub fn stripe_amount(amount: Money, currency: &Currency) -> Option<i64> {
    let cents = amount.cents();
    if ZERO_DECIMAL.contains(&currency.as_str()) {
        (cents % 100 == 0).then_some(cents / 100)
    } else if THREE_DECIMAL.contains(&currency.as_str()) {
        cents.checked_mul(10)
    } else {
        Some(cents)
    }
}

/// A search-query string literal: Stripe's syntax escapes quotes with a backslash.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[async_trait::async_trait]
impl PaymentGateway for StripeGateway {
    fn code(&self) -> &'static str {
        "stripe"
    }

    fn name(&self) -> &'static str {
        "Card"
    }

    fn requires_token(&self) -> bool {
        true
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<Charge, PaymentError> {
        let Some(token) = request.token.clone() else {
            return Err(PaymentError::Declined("a card token is needed".into()));
        };
        let amount = stripe_amount(request.amount, &request.currency).ok_or_else(|| {
            PaymentError::Declined(format!(
                "{} amounts must be whole units",
                request.currency.as_str()
            ))
        })?;
        let mut form = vec![
            ("amount", amount.to_string()),
            ("currency", request.currency.as_str().to_ascii_lowercase()),
            ("confirm", "true".into()),
            ("description", request.description.clone()),
            ("metadata[order_number]", request.idempotency_key.clone()),
        ];
        form.extend(payment_method_fields(token));
        let answer = self
            .send("a charge", || {
                self.request(Method::POST, "/v1/payment_intents")
                    .header("Idempotency-Key", &request.idempotency_key)
                    .form(&form)
            })
            .await?;
        if !answer.status.is_success() {
            return Err(answer.failure("a charge"));
        }
        let intent: PaymentIntent = answer.parse("a charge")?;
        match intent.status.as_str() {
            "succeeded" => Ok(Charge::Paid(Receipt {
                reference: intent.id,
            })),
            "requires_payment_method" | "canceled" => Err(PaymentError::Declined(intent.failure())),
            "requires_action" | "requires_confirmation" => match intent.client_secret {
                Some(secret) => Ok(Charge::ActionRequired(AwaitingCustomer {
                    reference: intent.id,
                    action: CustomerAction::ClientSecret(secret),
                })),
                None => {
                    tracing::error!(payment_intent = %intent.id, "Stripe sent no client secret for a payment that needs the customer");
                    Err(PaymentError::Unavailable(
                        "Stripe's answer lacks the client secret".into(),
                    ))
                }
            },
            // `processing` (or `requires_capture`, which this request never asks for): the
            // money may still move. The webhook or the sweeper settles the order.
            status => {
                tracing::warn!(payment_intent = %intent.id, status, "a charge is not settled yet");
                Err(PaymentError::Unavailable(format!(
                    "the payment is {status}"
                )))
            }
        }
    }

    async fn complete(
        &self,
        reference: &str,
        _idempotency_key: &str,
    ) -> Result<Completion, PaymentError> {
        // Stripe charges when the customer authenticates; there is nothing to take here,
        // only the PaymentIntent to read.
        let path = format!("/v1/payment_intents/{reference}");
        let answer = self
            .send("a payment lookup", || self.request(Method::GET, &path))
            .await?;
        if !answer.status.is_success() {
            return Err(answer.failure("a payment lookup"));
        }
        let intent: PaymentIntent = answer.parse("a payment lookup")?;
        match intent.status.as_str() {
            "succeeded" => Ok(Completion::Paid(Receipt {
                reference: intent.id,
            })),
            "requires_action" | "requires_confirmation" => Ok(Completion::Waiting),
            // The authentication failed, or the PaymentIntent was cancelled.
            "requires_payment_method" | "canceled" => Ok(Completion::Failed(intent.failure())),
            // `processing`: the money may still move; neither settle nor give up.
            status => Err(PaymentError::Unavailable(format!(
                "payment {} is {status}",
                intent.id
            ))),
        }
    }

    async fn abandon(&self, reference: &str) -> Result<(), PaymentError> {
        let path = format!("/v1/payment_intents/{reference}/cancel");
        let form = [("cancellation_reason", "abandoned")];
        let answer = self
            .send("a payment cancellation", || {
                self.request(Method::POST, &path)
                    .header("Idempotency-Key", format!("cancel-{reference}"))
                    .form(&form)
            })
            .await?;
        if answer.status.is_success() {
            return Ok(());
        }
        Err(answer.failure("a payment cancellation"))
    }

    async fn refund(&self, request: &RefundRequest) -> Result<Receipt, PaymentError> {
        let amount = stripe_amount(request.amount, &request.currency).ok_or_else(|| {
            PaymentError::Declined(format!(
                "{} amounts must be whole units",
                request.currency.as_str()
            ))
        })?;
        let form = [
            ("payment_intent", request.charge_reference.clone()),
            ("amount", amount.to_string()),
            (
                &format!("metadata[{REFUND_KEY_METADATA}]"),
                request.idempotency_key.clone(),
            ),
        ];
        let answer = self
            .send("a refund", || {
                self.request(Method::POST, "/v1/refunds")
                    .header("Idempotency-Key", &request.idempotency_key)
                    .form(&form)
            })
            .await?;
        if !answer.status.is_success() {
            let already = serde_json::from_slice::<ErrorBody>(&answer.body)
                .ok()
                .and_then(|body| body.error.code)
                .is_some_and(|code| code == "charge_already_refunded");
            if already {
                // Refunded in full before: this refund was made by an attempt whose key
                // expired (found by the key in its metadata, or, for a refund of a release
                // that sent none, as the one refund of this amount), or it is one too many.
                return self.existing_refund(request, amount).await;
            }
            return Err(answer.failure("a refund"));
        }
        let refund: Refund = answer.parse("a refund")?;
        match refund.status.as_deref() {
            Some("failed" | "canceled") => Err(PaymentError::Declined(format!(
                "refund {} {}",
                refund.id,
                refund.status.as_deref().unwrap_or_default()
            ))),
            // `pending` included: Stripe has accepted it, and card refunds do not fail after.
            _ => Ok(Receipt {
                reference: refund.id,
            }),
        }
    }

    async fn find_charge(&self, idempotency_key: &str) -> Result<Option<Receipt>, PaymentError> {
        let query = [
            (
                "query",
                format!("metadata['order_number']:{}", quoted(idempotency_key)),
            ),
            ("limit", "10".into()),
        ];
        let answer = self
            .send("a charge search", || {
                self.request(Method::GET, "/v1/payment_intents/search")
                    .query(&query)
            })
            .await?;
        if !answer.status.is_success() {
            // Nothing to decline here: not knowing is all a failed search can say.
            return Err(match answer.failure("a charge search") {
                PaymentError::Declined(reason) | PaymentError::Unavailable(reason) => {
                    PaymentError::Unavailable(reason)
                }
            });
        }
        let found: List<PaymentIntent> = answer.parse("a charge search")?;
        if let Some(intent) = found.data.iter().find(|i| i.status == "succeeded") {
            return Ok(Some(Receipt {
                reference: intent.id.clone(),
            }));
        }
        if let Some(intent) = found
            .data
            .iter()
            .find(|i| matches!(i.status.as_str(), "processing" | "requires_capture"))
        {
            return Err(PaymentError::Unavailable(format!(
                "payment {} is {}",
                intent.id, intent.status
            )));
        }
        Ok(None)
    }
}

impl StripeGateway {
    /// The refund already made of a PaymentIntent under `request`'s key.
    async fn existing_refund(
        &self,
        request: &RefundRequest,
        amount: i64,
    ) -> Result<Receipt, PaymentError> {
        let query = [
            ("payment_intent", request.charge_reference.as_str()),
            ("limit", "100"),
        ];
        let answer = self
            .send("a refund lookup", || {
                self.request(Method::GET, "/v1/refunds").query(&query)
            })
            .await?;
        if !answer.status.is_success() {
            return Err(answer.failure("a refund lookup"));
        }
        let refunds: List<Refund> = answer.parse("a refund lookup")?;
        let made: Vec<Refund> = refunds
            .data
            .into_iter()
            .filter(|r| !matches!(r.status.as_deref(), Some("failed" | "canceled")))
            .collect();
        let by_key = made
            .iter()
            .find(|r| r.metadata.get(REFUND_KEY_METADATA) == Some(&request.idempotency_key));
        let legacy = || match made.as_slice() {
            [only] if only.metadata.is_empty() && only.amount == Some(amount) => Some(only),
            _ => None,
        };
        by_key
            .or_else(legacy)
            .map(|r| Receipt {
                reference: r.id.clone(),
            })
            .ok_or_else(|| {
                PaymentError::Declined(format!(
                    "{} is already refunded in full",
                    request.charge_reference
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn currency(code: &str) -> Currency {
        Currency::parse(code).expect("valid")
    }

    #[test]
    fn amounts_are_sent_in_the_unit_stripe_counts_each_currency_in() {
        let amount = Money::from_cents(12_300);
        assert_eq!(stripe_amount(amount, &currency("USD")), Some(12_300));
        assert_eq!(stripe_amount(amount, &currency("JPY")), Some(123));
        assert_eq!(stripe_amount(amount, &currency("KWD")), Some(123_000));
        assert_eq!(
            stripe_amount(Money::from_cents(12_345), &currency("JPY")),
            None
        );
    }

    #[test]
    fn payment_methods_and_legacy_tokens_are_sent_as_stripe_expects_each() {
        let fields = |token: &str| -> Vec<&str> {
            payment_method_fields(token.into())
                .into_iter()
                .map(|(name, _)| name)
                .collect()
        };
        assert_eq!(
            fields("pm_card_visa"),
            ["payment_method", "payment_method_types[]"]
        );
        assert_eq!(
            fields("tok_visa"),
            [
                "payment_method_data[type]",
                "payment_method_data[card][token]",
                "payment_method_types[]"
            ]
        );
    }

    #[test]
    fn search_literals_escape_quotes_and_backslashes() {
        assert_eq!(quoted("ORD-1"), "'ORD-1'");
        assert_eq!(quoted(r"a'b\c"), r"'a\'b\\c'");
    }

    #[test]
    fn only_secret_and_restricted_keys_are_accepted_and_never_shown() {
        assert!(SecretKey::parse("sk_test_123456").is_ok());
        assert!(SecretKey::parse("rk_live_123456").is_ok());
        assert!(SecretKey::parse("pk_test_123456").is_err());
        assert!(SecretKey::parse("").is_err());
        let key = SecretKey::parse("sk_test_123456").expect("valid");
        assert!(!format!("{key:?}").contains("123456"));
    }

    #[test]
    fn the_api_base_must_be_an_http_url() {
        let key = SecretKey::parse("sk_test_123456").expect("valid");
        let settings = StripeSettings::new(key.clone(), "https://api.stripe.com/").expect("ok");
        assert_eq!(settings.api_base, "https://api.stripe.com");
        assert!(StripeSettings::new(key.clone(), "api.stripe.com").is_err());
        assert!(StripeSettings::new(key, "ftp://api.stripe.com").is_err());
    }

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).expect("status"),
            body: body.as_bytes().to_vec(),
            request_id: "req_1".into(),
            should_retry: None,
        }
    }

    #[test]
    fn card_errors_are_declined_with_stripe_s_message() {
        let body = r#"{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}}"#;
        match answer(402, body).failure("a charge") {
            PaymentError::Declined(message) => assert_eq!(message, "Your card was declined."),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn refused_requests_are_declined_and_unknown_outcomes_unavailable() {
        let invalid = r#"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such token: 'tok_x'"}}"#;
        assert!(matches!(
            answer(400, invalid).failure("a charge"),
            PaymentError::Declined(_)
        ));
        assert!(matches!(
            answer(401, "{}").failure("a charge"),
            PaymentError::Declined(_)
        ));
        let idempotency = r#"{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters"}}"#;
        for (status, body) in [
            (500, "{}"),
            (503, "not json"),
            (409, "{}"),
            (429, "{}"),
            (400, idempotency),
            (302, ""),
        ] {
            assert!(
                matches!(
                    answer(status, body).failure("a charge"),
                    PaymentError::Unavailable(_)
                ),
                "{status}"
            );
        }
    }

    #[test]
    fn retries_follow_stripe_s_advice_and_otherwise_the_status() {
        assert!(answer(409, "").should_retry());
        assert!(answer(503, "").should_retry());
        assert!(!answer(500, "").should_retry());
        assert!(!answer(402, "").should_retry());
        let mut advised = answer(500, "");
        advised.should_retry = Some(true);
        assert!(advised.should_retry());
        advised.should_retry = Some(false);
        advised.status = StatusCode::CONFLICT;
        assert!(!advised.should_retry());
    }
}
