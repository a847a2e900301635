//! PayPal, through its Orders v2 API. A charge creates a PayPal order (intent CAPTURE) and
//! sends the buyer to PayPal's page to approve it; the money is taken only when the shop
//! captures the approved order, which [`PayPalGateway::complete`] does (asked by
//! `confirmPayment` when the buyer returns, by the `CHECKOUT.ORDER.APPROVED` webhook when
//! they never do, or by the sweeper). Refunds go through the captures refund API.
//!
//! Every POST carries a `PayPal-Request-Id` derived from the order number (or the refund's
//! own key), so a repeated request returns the first one's result instead of acting twice,
//! and the order number is the PayPal order's `invoice_id`, which PayPal refuses to be paid
//! twice: two safety nets under "never charged twice for one order".
//!
//! How PayPal's answers map:
//! - A new order (`PAYER_ACTION_REQUIRED`, or `CREATED` with an `approve` link):
//!   [`Charge::ActionRequired`] with the approval page as the redirect.
//! - Capture `COMPLETED`: paid. A capture PayPal declines (`INSTRUMENT_DECLINED` and its
//!   kin, a capture `DECLINED` or `FAILED`), or an order `VOIDED`: failed, nothing taken.
//!   A capture still `PENDING` (an eCheck, a review): unknown, settled later by the
//!   `PAYMENT.CAPTURE.COMPLETED` or `.DENIED` webhook.
//! - 400 and 422 on creating or refunding: PayPal refused without acting (declined).
//!   401 and 403: the credentials are wrong (declined, logged as an error).
//! - Timeouts, connection errors, 409, 429, 5xx, bodies that do not parse: unavailable,
//!   outcome unknown; resent a couple of times first under the same request id.

use std::{
    fmt,
    time::{Duration, Instant},
};

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::{
    AwaitingCustomer, Charge, ChargeRequest, Completion, CustomerAction, PaymentError,
    PaymentGateway, Receipt, RefundRequest,
};
use crate::domain::{Currency, Money};

/// Where PayPal's live API lives; its sandbox is `https://api-m.sandbox.paypal.com`.
pub const DEFAULT_API_BASE: &str = "https://api-m.paypal.com";

/// The code the ledger keeps for PayPal's charges.
pub const CODE: &str = "paypal";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Below the server's 30 s request budget, like Stripe's.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
const MAX_ATTEMPTS: u32 = 3;
const RETRY_BACKOFF: Duration = Duration::from_millis(200);
/// An access token is renewed this long before PayPal says it expires, so that no request
/// leaves with a token that expires on the way.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);
const MAX_MESSAGE_CHARS: usize = 200;

/// The capture errors after which the money will never be taken for this order: the
/// buyer's funding source was refused, or PayPal will not let this payer pay.
const DECLINED_ISSUES: &[&str] = &[
    "INSTRUMENT_DECLINED",
    "PAYER_CANNOT_PAY",
    "TRANSACTION_REFUSED",
    "PAYEE_BLOCKED_TRANSACTION",
    "PAYER_ACCOUNT_LOCKED_OR_CLOSED",
    "PAYER_ACCOUNT_RESTRICTED",
    "COMPLIANCE_VIOLATION",
    "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED",
    "DUPLICATE_INVOICE_ID",
];

/// A credential that must never be shown: the REST app's secret. Its `Debug` hides it.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("SHOP_PAYPAL_CLIENT_SECRET is empty".into());
        }
        Ok(Self(raw.to_owned()))
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// How to reach PayPal: a REST app's client id and secret, and the API's base URL.
#[derive(Clone, Debug)]
pub struct PayPalSettings {
    pub client_id: String,
    pub client_secret: ClientSecret,
    /// `https://api-m.paypal.com`, the sandbox, or a mock in tests.
    pub api_base: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl PayPalSettings {
    pub fn new(
        client_id: &str,
        client_secret: ClientSecret,
        api_base: &str,
    ) -> Result<Self, String> {
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Err("SHOP_PAYPAL_CLIENT_ID is empty".into());
        }
        Ok(Self {
            client_id: client_id.to_owned(),
            client_secret,
            api_base: super::api_base("SHOP_PAYPAL_API_BASE", api_base)?,
            connect_timeout: CONNECT_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
        })
    }
}

/// The id PayPal gave the webhook that posts to `/webhooks/paypal`: what its deliveries
/// are verified against.
#[derive(Clone, Debug)]
pub struct WebhookId(String);

impl WebhookId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 100 || !raw.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(
                "SHOP_PAYPAL_WEBHOOK_ID must be the webhook's id from PayPal's \
                        developer dashboard (letters and digits)"
                    .into(),
            );
        }
        Ok(Self(raw.to_owned()))
    }
}

/// The headers PayPal signs a webhook delivery with, as received.
#[derive(Clone, Debug, Default)]
pub struct Transmission {
    pub auth_algo: Option<String>,
    pub cert_url: Option<String>,
    pub transmission_id: Option<String>,
    pub transmission_sig: Option<String>,
    pub transmission_time: Option<String>,
}

/// Takes payments with PayPal.
pub struct PayPalGateway {
    client: reqwest::Client,
    api_base: String,
    client_id: String,
    client_secret: ClientSecret,
    /// The OAuth access token, shared by every request until shortly before it expires.
    token: tokio::sync::Mutex<Option<AccessToken>>,
}

struct AccessToken {
    value: String,
    renew_at: Instant,
}

impl fmt::Debug for PayPalGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayPalGateway")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl PayPalGateway {
    pub fn new(settings: PayPalSettings) -> anyhow::Result<Self> {
        Ok(Self {
            client: super::api_client(settings.connect_timeout, settings.request_timeout)?,
            api_base: settings.api_base,
            client_id: settings.client_id,
            client_secret: settings.client_secret,
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// A valid access token: the cached one, or a new one from the client credentials.
    /// The lock is held while asking, so that a burst of checkouts asks once.
    async fn access_token(&self) -> Result<String, PaymentError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| t.renew_at > Instant::now()) {
            return Ok(token.value.clone());
        }
        let url = format!("{}/v1/oauth2/token", self.api_base);
        let answer = send_with_retries("an access token", || {
            self.client
                .post(&url)
                .basic_auth(&self.client_id, Some(&self.client_secret.0))
                .form(&[("grant_type", "client_credentials")])
        })
        .await?;
        if matches!(answer.status.as_u16(), 400 | 401 | 403) {
            return Err(answer.credentials_refused("an access token"));
        }
        if !answer.status.is_success() {
            return Err(answer.unavailable("an access token"));
        }
        #[derive(Deserialize)]
        struct Token {
            access_token: String,
            expires_in: u64,
        }
        let token: Token = answer.parse("an access token")?;
        let lifetime = Duration::from_secs(token.expires_in).saturating_sub(TOKEN_MARGIN);
        *cached = Some(AccessToken {
            value: token.access_token.clone(),
            renew_at: Instant::now() + lifetime,
        });
        Ok(token.access_token)
    }

    /// Sends an authorized request, resending it while a resend can help. `request_id`
    /// makes a resent POST return the first one's result. A 401 means the cached token
    /// was revoked or expired early: it is dropped and the request sent once more.
    async fn call(
        &self,
        what: &str,
        method: Method,
        path: &str,
        request_id: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, PaymentError> {
        let body = body.map(serde_json::Value::to_string);
        self.send_json(what, method, path, request_id, body).await
    }

    /// [`Self::call`] with a body already written as JSON text.
    async fn send_json(
        &self,
        what: &str,
        method: Method,
        path: &str,
        request_id: Option<&str>,
        body: Option<String>,
    ) -> Result<Answer, PaymentError> {
        let url = format!("{}{path}", self.api_base);
        let mut renewed = false;
        loop {
            let token = self.access_token().await?;
            let answer = send_with_retries(what, || {
                let mut request = self
                    .client
                    .request(method.clone(), &url)
                    .bearer_auth(&token);
                if let Some(id) = request_id {
                    request = request.header("PayPal-Request-Id", id);
                }
                if let Some(body) = &body {
                    request = request
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .header("Prefer", "return=representation")
                        .body(body.clone());
                }
                request
            })
            .await?;
            if answer.status == StatusCode::UNAUTHORIZED && !renewed {
                *self.token.lock().await = None;
                renewed = true;
                continue;
            }
            return Ok(answer);
        }
    }

    /// Asks PayPal whether a webhook delivery is genuine, as PayPal documents: the
    /// transmission headers, the webhook's id and the event exactly as received go to
    /// `/v1/notifications/verify-webhook-signature`, which answers SUCCESS or FAILURE.
    /// `Ok(false)` for a delivery that is not genuine (or lacks a header); an error when
    /// PayPal cannot be asked (the delivery is then answered 5xx and PayPal retries it).
    pub async fn verify_webhook(
        &self,
        webhook_id: &WebhookId,
        transmission: &Transmission,
        payload: &[u8],
    ) -> Result<bool, PaymentError> {
        let (
            Some(auth_algo),
            Some(cert_url),
            Some(transmission_id),
            Some(transmission_sig),
            Some(transmission_time),
        ) = (
            transmission.auth_algo.as_deref(),
            transmission.cert_url.as_deref(),
            transmission.transmission_id.as_deref(),
            transmission.transmission_sig.as_deref(),
            transmission.transmission_time.as_deref(),
        )
        else {
            return Ok(false);
        };
        // The event goes back as the very text received: PayPal checks its signature
        // over what it sent, which a re-serialized copy might not reproduce.
        let Ok(event) = std::str::from_utf8(payload) else {
            return Ok(false);
        };
        if serde_json::from_str::<serde::de::IgnoredAny>(event).is_err() {
            return Ok(false);
        }
        let headers = json!({
            "auth_algo": auth_algo,
            "cert_url": cert_url,
            "transmission_id": transmission_id,
            "transmission_sig": transmission_sig,
            "transmission_time": transmission_time,
            "webhook_id": webhook_id.0,
        })
        .to_string();
        // `headers` is an object, so it ends with its closing brace.
        let body = format!(
            "{},\"webhook_event\":{event}}}",
            &headers[..headers.len() - 1]
        );
        let answer = self
            .send_json(
                "a webhook verification",
                Method::POST,
                "/v1/notifications/verify-webhook-signature",
                None,
                Some(body),
            )
            .await?;
        if !answer.status.is_success() {
            // A 400 here is PayPal refusing the headers we passed on: not genuine.
            if answer.status == StatusCode::BAD_REQUEST {
                return Ok(false);
            }
            return Err(answer.unavailable("a webhook verification"));
        }
        #[derive(Deserialize)]
        struct Verification {
            verification_status: String,
        }
        let verification: Verification = answer.parse("a webhook verification")?;
        Ok(verification.verification_status == "SUCCESS")
    }

    /// Reads a PayPal order.
    async fn order(&self, id: &str) -> Result<Order, PaymentError> {
        let answer = self
            .call(
                "an order lookup",
                Method::GET,
                &format!("/v2/checkout/orders/{id}"),
                None,
                None,
            )
            .await?;
        if !answer.status.is_success() {
            return Err(answer.unavailable("an order lookup"));
        }
        answer.parse("an order lookup")
    }

    /// Captures an approved PayPal order under a request id of the shop's order, so that
    /// however many roads ask at once, PayPal captures once.
    async fn capture(&self, id: &str, order_number: &str) -> Result<Completion, PaymentError> {
        let answer = self
            .call(
                "a capture",
                Method::POST,
                &format!("/v2/checkout/orders/{id}/capture"),
                Some(&format!("capture-{order_number}")),
                Some(&json!({})),
            )
            .await?;
        if answer.status.is_success() {
            let order: Order = answer.parse("a capture")?;
            return order.completion();
        }
        let error = answer.error();
        match error.issue() {
            Some("ORDER_NOT_APPROVED" | "PAYER_ACTION_REQUIRED") => Ok(Completion::Waiting),
            // Captured by an earlier request whose answer was lost: the order says how.
            Some("ORDER_ALREADY_CAPTURED") => self.order(id).await?.completion(),
            Some(issue) if DECLINED_ISSUES.contains(&issue) => {
                tracing::info!(paypal_order = id, issue, debug_id = %answer.debug_id, "PayPal declined a capture");
                Ok(Completion::Failed(error.buyer_message()))
            }
            _ => Err(answer.unavailable("a capture")),
        }
    }
}

/// Sends a request, resending it while the failure is one a resend can fix (a connection
/// refused or reset, 429, 502, 503, 504). A timed-out request is not resent: it may still
/// be running at PayPal, and the caller settles it.
async fn send_with_retries(
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
            Ok(answer) => matches!(answer.status.as_u16(), 429 | 502 | 503 | 504),
            Err(err) => !err.is_timeout(),
        };
        if !retry || attempt >= MAX_ATTEMPTS {
            return outcome.map_err(|err| {
                let kind = if err.is_timeout() {
                    "timed out"
                } else if err.is_connect() {
                    "connection failed"
                } else {
                    "request failed"
                };
                tracing::warn!(what, kind, "PayPal could not be reached");
                PaymentError::Unavailable(format!("PayPal could not be reached: {kind}"))
            });
        }
        tokio::time::sleep(RETRY_BACKOFF * 2u32.pow(attempt - 1)).await;
        attempt += 1;
    }
}

/// A complete HTTP answer from PayPal.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    /// PayPal's `Paypal-Debug-Id`, which its support asks for.
    debug_id: String,
}

impl Answer {
    async fn read(response: reqwest::Response) -> Result<Self, reqwest::Error> {
        let status = response.status();
        let debug_id = response
            .headers()
            .get("paypal-debug-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        let body = response.bytes().await?.to_vec();
        Ok(Self {
            status,
            body,
            debug_id,
        })
    }

    fn parse<T: for<'de> Deserialize<'de>>(&self, what: &str) -> Result<T, PaymentError> {
        serde_json::from_slice(&self.body).map_err(|err| {
            tracing::error!(what, debug_id = %self.debug_id, error = %err, "PayPal's answer does not parse");
            PaymentError::Unavailable(format!("PayPal's answer to {what} does not parse"))
        })
    }

    fn error(&self) -> ErrorBody {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    /// A failure whose outcome is unknown.
    fn unavailable(&self, what: &str) -> PaymentError {
        let error = self.error();
        let status = self.status.as_u16();
        tracing::warn!(what, status, name = error.name.as_deref().unwrap_or("-"),
            issue = error.issue().unwrap_or("-"), debug_id = %self.debug_id, "PayPal failed");
        PaymentError::Unavailable(format!("PayPal answered {status} to {what}"))
    }

    /// PayPal refused the shop's client id or secret: nothing can be charged until the
    /// operator fixes them, which the log says; the buyer hears only that.
    fn credentials_refused(&self, what: &str) -> PaymentError {
        tracing::error!(what, status = self.status.as_u16(), debug_id = %self.debug_id,
            "PayPal refused the shop's credentials: check SHOP_PAYPAL_CLIENT_ID and SHOP_PAYPAL_CLIENT_SECRET");
        PaymentError::Declined("payments cannot be taken at the moment; nothing was charged".into())
    }

    /// What a non-2xx answer to a request that changes something means; see the module
    /// documentation.
    fn failure(&self, what: &str) -> PaymentError {
        let status = self.status.as_u16();
        let error = self.error();
        match status {
            401 | 403 => self.credentials_refused(what),
            400 | 404 | 422 => {
                tracing::warn!(what, status, name = error.name.as_deref().unwrap_or("-"),
                    issue = error.issue().unwrap_or("-"), debug_id = %self.debug_id,
                    message = error.message.as_deref().unwrap_or("-"), "PayPal refused a request");
                PaymentError::Declined(error.buyer_message())
            }
            _ => self.unavailable(what),
        }
    }
}

#[derive(Default, Deserialize)]
struct ErrorBody {
    name: Option<String>,
    message: Option<String>,
    #[serde(default)]
    details: Vec<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    issue: Option<String>,
    description: Option<String>,
}

impl ErrorBody {
    fn issue(&self) -> Option<&str> {
        self.details.first().and_then(|d| d.issue.as_deref())
    }

    /// PayPal's description of the first issue, written for developers but plain enough
    /// ("The instrument presented was either declined by the processor or bank..."),
    /// bounded in length.
    fn buyer_message(&self) -> String {
        let text = self
            .details
            .first()
            .and_then(|d| d.description.as_deref())
            .or(self.message.as_deref())
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .unwrap_or("PayPal declined the payment");
        text.chars().take(MAX_MESSAGE_CHARS).collect()
    }
}

/// The fields of a PayPal order the shop reads.
#[derive(Deserialize)]
struct Order {
    id: String,
    status: String,
    #[serde(default)]
    links: Vec<Link>,
    #[serde(default)]
    purchase_units: Vec<PurchaseUnit>,
}

#[derive(Deserialize)]
struct Link {
    href: String,
    rel: String,
}

#[derive(Deserialize)]
struct PurchaseUnit {
    payments: Option<Payments>,
}

#[derive(Deserialize)]
struct Payments {
    #[serde(default)]
    captures: Vec<Capture>,
}

#[derive(Deserialize)]
struct Capture {
    id: String,
    status: String,
}

impl Order {
    /// The page the buyer approves the payment on: `payer-action` when the order was
    /// created with a PayPal payment source, `approve` otherwise.
    fn approval_page(&self) -> Option<&str> {
        ["payer-action", "approve"].iter().find_map(|rel| {
            self.links
                .iter()
                .find(|link| link.rel == *rel)
                .map(|link| link.href.as_str())
        })
    }

    fn capture(&self) -> Option<&Capture> {
        self.purchase_units
            .iter()
            .filter_map(|unit| unit.payments.as_ref())
            .flat_map(|payments| &payments.captures)
            .next()
    }

    /// What a captured (or uncapturable) order came to.
    fn completion(&self) -> Result<Completion, PaymentError> {
        if self.status == "VOIDED" {
            return Ok(Completion::Failed(
                "the PayPal payment was cancelled".into(),
            ));
        }
        let Some(capture) = self.capture() else {
            return match self.status.as_str() {
                "CREATED" | "SAVED" | "APPROVED" | "PAYER_ACTION_REQUIRED" => {
                    Ok(Completion::Waiting)
                }
                status => Err(PaymentError::Unavailable(format!(
                    "PayPal order {} is {status} with no capture",
                    self.id
                ))),
            };
        };
        match capture.status.as_str() {
            "COMPLETED" => Ok(Completion::Paid(Receipt {
                reference: capture.id.clone(),
            })),
            "DECLINED" | "FAILED" => Ok(Completion::Failed("PayPal declined the payment".into())),
            // PENDING: the money may still move; the capture webhooks settle it.
            status => Err(PaymentError::Unavailable(format!(
                "PayPal capture {} is {status}",
                capture.id
            ))),
        }
    }
}

/// The currencies PayPal counts in whole units.
const ZERO_DECIMAL: &[&str] = &["HUF", "JPY", "TWD"];

/// An amount as PayPal writes it for `currency`: "12.34", or "1234" in a currency without
/// a minor unit (None when the amount has cents there).
pub fn paypal_value(amount: Money, currency: &Currency) -> Option<String> {
    if ZERO_DECIMAL.contains(&currency.as_str()) {
        let cents = amount.cents();
        (cents % 100 == 0).then(|| (cents / 100).to_string())
    } else {
        Some(amount.to_string())
    }
}

#[async_trait::async_trait]
impl PaymentGateway for PayPalGateway {
    fn code(&self) -> &'static str {
        CODE
    }

    fn name(&self) -> &'static str {
        "PayPal"
    }

    fn requires_token(&self) -> bool {
        false
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<Charge, PaymentError> {
        if request.token.is_some() {
            // A card form's token was sent to the wrong gateway: PayPal's buyer pays on
            // PayPal's page, so no token of any kind means anything here.
            return Err(PaymentError::Declined(
                "PayPal takes no payment token: the buyer approves the payment on PayPal's page"
                    .into(),
            ));
        }
        let value = paypal_value(request.amount, &request.currency).ok_or_else(|| {
            PaymentError::Declined(format!(
                "{} amounts must be whole units",
                request.currency.as_str()
            ))
        })?;
        let body = json!({
            "intent": "CAPTURE",
            "purchase_units": [{
                "reference_id": request.idempotency_key,
                "custom_id": request.idempotency_key,
                "invoice_id": request.idempotency_key,
                "description": request.description,
                "amount": { "currency_code": request.currency.as_str(), "value": value },
            }],
            "payment_source": { "paypal": { "experience_context": {
                "return_url": request.return_url,
                "cancel_url": request.return_url,
                "user_action": "PAY_NOW",
                "shipping_preference": "NO_SHIPPING",
            }}},
        });
        let answer = self
            .call(
                "a charge",
                Method::POST,
                "/v2/checkout/orders",
                Some(&request.idempotency_key),
                Some(&body),
            )
            .await?;
        if !answer.status.is_success() {
            return Err(answer.failure("a charge"));
        }
        let order: Order = answer.parse("a charge")?;
        match order.status.as_str() {
            "CREATED" | "SAVED" | "APPROVED" | "PAYER_ACTION_REQUIRED" => {
                let Some(page) = order.approval_page() else {
                    tracing::error!(paypal_order = %order.id, "PayPal sent no approval link");
                    return Err(PaymentError::Unavailable(
                        "PayPal's answer lacks the approval link".into(),
                    ));
                };
                Ok(Charge::ActionRequired(AwaitingCustomer {
                    action: CustomerAction::Redirect(page.to_owned()),
                    reference: order.id,
                }))
            }
            // A replay of a request whose order was approved and captured since.
            "COMPLETED" => match order.completion()? {
                Completion::Paid(receipt) => Ok(Charge::Paid(receipt)),
                Completion::Failed(reason) => Err(PaymentError::Declined(reason)),
                Completion::Waiting => Err(PaymentError::Unavailable(
                    "the PayPal order is completed without a capture".into(),
                )),
            },
            _ => Err(PaymentError::Declined(
                "PayPal cancelled the payment".into(),
            )),
        }
    }

    async fn complete(
        &self,
        reference: &str,
        idempotency_key: &str,
    ) -> Result<Completion, PaymentError> {
        let order = self.order(reference).await?;
        match order.status.as_str() {
            // The buyer approved: the money is taken now.
            "APPROVED" => self.capture(reference, idempotency_key).await,
            _ => order.completion(),
        }
    }

    /// Nothing to call off: PayPal takes the money only when the shop captures, which it
    /// never does for an order it cancelled (an approval that arrives later changes
    /// nothing), and PayPal lets the uncaptured order expire on its own.
    async fn abandon(&self, _reference: &str) -> Result<(), PaymentError> {
        Ok(())
    }

    async fn refund(&self, request: &RefundRequest) -> Result<Receipt, PaymentError> {
        let value = paypal_value(request.amount, &request.currency).ok_or_else(|| {
            PaymentError::Declined(format!(
                "{} amounts must be whole units",
                request.currency.as_str()
            ))
        })?;
        let body = json!({
            "amount": { "currency_code": request.currency.as_str(), "value": value },
        });
        let answer = self
            .call(
                "a refund",
                Method::POST,
                &format!("/v2/payments/captures/{}/refund", request.charge_reference),
                Some(&request.idempotency_key),
                Some(&body),
            )
            .await?;
        if !answer.status.is_success() {
            return Err(answer.failure("a refund"));
        }
        #[derive(Deserialize)]
        struct Refund {
            id: String,
            status: String,
        }
        let refund: Refund = answer.parse("a refund")?;
        match refund.status.as_str() {
            "CANCELLED" | "FAILED" => Err(PaymentError::Declined(format!(
                "PayPal refund {} {}",
                refund.id,
                refund.status.to_ascii_lowercase()
            ))),
            // PENDING included: PayPal accepted it and sends the money when it can.
            _ => Ok(Receipt {
                reference: refund.id,
            }),
        }
    }

    /// None, always: PayPal takes money only when the shop captures an approved order,
    /// and the shop captures only through [`PaymentGateway::complete`], for a charge its
    /// ledger records as waiting for its customer. A charge whose answer was lost never
    /// sent its buyer to PayPal, so nothing can have been taken for it.
    async fn find_charge(&self, _idempotency_key: &str) -> Result<Option<Receipt>, PaymentError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn currency(code: &str) -> Currency {
        Currency::parse(code).expect("valid")
    }

    #[test]
    fn amounts_are_written_as_paypal_counts_each_currency() {
        assert_eq!(
            paypal_value(Money::from_cents(12_345), &currency("USD")).as_deref(),
            Some("123.45")
        );
        assert_eq!(
            paypal_value(Money::from_cents(500), &currency("EUR")).as_deref(),
            Some("5.00")
        );
        assert_eq!(
            paypal_value(Money::from_cents(12_300), &currency("JPY")).as_deref(),
            Some("123")
        );
        assert_eq!(
            paypal_value(Money::from_cents(12_345), &currency("JPY")),
            None
        );
    }

    #[test]
    fn settings_need_an_id_a_secret_and_an_http_base_and_never_show_the_secret() {
        let secret = ClientSecret::parse("EFsecret-value").expect("a secret");
        assert!(!format!("{secret:?}").contains("secret-value"));
        assert!(ClientSecret::parse("  ").is_err());
        let settings = PayPalSettings::new(
            "AZclient",
            secret.clone(),
            "https://api-m.sandbox.paypal.com/",
        )
        .expect("valid");
        assert_eq!(settings.api_base, "https://api-m.sandbox.paypal.com");
        assert!(!format!("{settings:?}").contains("secret-value"));
        assert!(PayPalSettings::new("", secret.clone(), DEFAULT_API_BASE).is_err());
        assert!(PayPalSettings::new("AZclient", secret, "api-m.paypal.com").is_err());
    }

    #[test]
    fn webhook_ids_are_paypal_s_letters_and_digits() {
        assert!(WebhookId::parse("8PT597110X687430LKGECATA").is_ok());
        assert!(WebhookId::parse("").is_err());
        assert!(WebhookId::parse("whsec_abc").is_err());
    }

    fn order(json: serde_json::Value) -> Order {
        serde_json::from_value(json).expect("an order")
    }

    #[test]
    fn an_order_s_completion_follows_its_capture() {
        let captured = |status: &str| {
            order(
                json!({ "id": "5O", "status": "COMPLETED", "purchase_units": [
                    { "payments": { "captures": [{ "id": "3C", "status": status }] } }
                ]}),
            )
        };
        assert_eq!(
            captured("COMPLETED").completion().ok(),
            Some(Completion::Paid(Receipt {
                reference: "3C".into()
            }))
        );
        assert!(matches!(
            captured("DECLINED").completion(),
            Ok(Completion::Failed(_))
        ));
        assert!(matches!(
            captured("PENDING").completion(),
            Err(PaymentError::Unavailable(_))
        ));
        let waiting = order(json!({ "id": "5O", "status": "PAYER_ACTION_REQUIRED" }));
        assert_eq!(waiting.completion().ok(), Some(Completion::Waiting));
        let voided = order(json!({ "id": "5O", "status": "VOIDED" }));
        assert!(matches!(voided.completion(), Ok(Completion::Failed(_))));
    }

    #[test]
    fn the_approval_page_is_the_payer_action_link_or_else_the_approve_link() {
        let links = |rels: &[&str]| {
            let links: Vec<_> = rels
                .iter()
                .map(|rel| json!({ "href": format!("https://paypal.test/{rel}"), "rel": rel }))
                .collect();
            order(json!({ "id": "5O", "status": "CREATED", "links": links }))
        };
        assert_eq!(
            links(&["self", "approve"]).approval_page(),
            Some("https://paypal.test/approve")
        );
        assert_eq!(
            links(&["approve", "payer-action"]).approval_page(),
            Some("https://paypal.test/payer-action")
        );
        assert_eq!(links(&["self"]).approval_page(), None);
    }

    #[test]
    fn refusals_are_declined_with_paypal_s_description_and_the_rest_unavailable() {
        let answer = |status: u16, body: &str| Answer {
            status: StatusCode::from_u16(status).expect("status"),
            body: body.as_bytes().to_vec(),
            debug_id: "d1".into(),
        };
        let unprocessable = r#"{"name":"UNPROCESSABLE_ENTITY","details":[{"issue":"CURRENCY_NOT_SUPPORTED","description":"Currency code is not supported."}]}"#;
        match answer(422, unprocessable).failure("a charge") {
            PaymentError::Declined(message) => {
                assert_eq!(message, "Currency code is not supported.")
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            answer(401, "{}").failure("a charge"),
            PaymentError::Declined(_)
        ));
        for status in [409, 429, 500, 503] {
            assert!(matches!(
                answer(status, "not json").failure("a charge"),
                PaymentError::Unavailable(_)
            ));
        }
    }
}
