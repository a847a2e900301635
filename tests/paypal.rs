//! Payments through PayPal's Orders v2 API, against a mock of PayPal served by the test:
//! checkout sends the buyer to PayPal's approval page; the shop captures once the buyer
//! approved (asked by `confirmPayment`, the `CHECKOUT.ORDER.APPROVED` webhook or the
//! sweeper), hears about captures it did not see finish from `PAYMENT.CAPTURE.COMPLETED`,
//! and refunds through the captures refund API. Webhook deliveries are genuine only when
//! the mock, as PayPal, vouches for them.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use entity::{
    payment::{self, PaymentKind, PaymentStatus},
    webhook_event,
};
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shop::{
    config::{Config, PaymentGatewayKind},
    server::Server,
};

use crate::{
    metrics::scrape,
    store::{Shop, address, db_id, open_shop_on, text},
    support::{Session, TestDatabase, spawn_app_with},
    three_d_secure::{
        charge_row, confirmed, customer_with_cart, read, status_mails, stock,
        sweep_after_the_window,
    },
};

const CLIENT_ID: &str = "AZmockClientId";
const CLIENT_SECRET: &str = "EFmockClientSecret";
const WEBHOOK_ID: &str = "8PT597110X687430LKGECATA";
const ACCESS_TOKEN: &str = "A21AAmockAccessToken";

const ORDER_FIELDS: &str = "id number status total { amount currencyCode } payment { method status amount { amount } clientSecret redirectUrl }";
const REFUND: &str = "mutation($id: ID!, $amount: Decimal!) { refundOrder(id: $id, amount: $amount) { id status refundedTotal { amount } } }";

/// What the mock does with the next capture of an approved order.
#[derive(Clone, Copy, Debug)]
enum CapturePlan {
    /// Captures and answers COMPLETED.
    Succeed,
    /// Refuses with 422 INSTRUMENT_DECLINED: the buyer's funding source was declined.
    Decline,
    /// Captures, then answers 500: the money is taken, the answer lost.
    SucceedButAnswer500,
}

/// A PayPal order as the mock keeps it.
#[derive(Clone, Debug)]
struct MockOrder {
    status: &'static str,
    custom_id: String,
    amount: Value,
    capture: Option<Value>,
}

#[derive(Default)]
struct Mock {
    orders: HashMap<String, MockOrder>,
    /// Answers by `PayPal-Request-Id`, replayed as PayPal does.
    replays: HashMap<String, (StatusCode, Value)>,
    capture_plans: VecDeque<CapturePlan>,
    /// Order creations received (their bodies), replays included.
    created: Vec<(Option<String>, Value)>,
    /// Captures actually made (not replays).
    captures_made: u32,
    /// Capture requests received, by their `PayPal-Request-Id`.
    capture_requests: Vec<Option<String>>,
    /// Refunds made: capture id, value, request id.
    refunds: Vec<(String, String, Option<String>)>,
    tokens_issued: u32,
    /// Deliveries the mock "sent", by transmission id: the body it signed.
    transmissions: HashMap<String, Vec<u8>>,
    next_id: u32,
}

/// A stand-in for api-m.paypal.com on a random local port.
#[derive(Clone)]
struct MockPayPal {
    url: String,
    state: Arc<Mutex<Mock>>,
}

impl MockPayPal {
    async fn start() -> Self {
        let state = Arc::new(Mutex::new(Mock::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the mock");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let app = Router::new()
            .route("/v1/oauth2/token", post(issue_token))
            .route("/v2/checkout/orders", post(create_order))
            .route("/v2/checkout/orders/{id}", get(read_order))
            .route("/v2/checkout/orders/{id}/capture", post(capture_order))
            .route("/v2/payments/captures/{id}/refund", post(refund_capture))
            .route(
                "/v1/notifications/verify-webhook-signature",
                post(verify_signature),
            )
            .with_state((state.clone(), url.clone()));
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("mock serves");
        });
        Self { url, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Mock> {
        self.state.lock().expect("mock state")
    }

    fn plan_captures(&self, plans: &[CapturePlan]) {
        self.lock().capture_plans.extend(plans);
    }

    /// The buyer approves the payment on PayPal's page.
    fn approve(&self, paypal_order: &str) {
        let mut mock = self.lock();
        let order = mock.orders.get_mut(paypal_order).expect("a PayPal order");
        order.status = "APPROVED";
    }

    fn captures_made(&self) -> u32 {
        self.lock().captures_made
    }

    /// The PayPal order made for the shop's order `number`.
    fn order_for(&self, number: &str) -> String {
        self.lock()
            .orders
            .iter()
            .find(|(_, order)| order.custom_id == number)
            .map(|(id, _)| id.clone())
            .expect("a PayPal order for the shop's order")
    }

    fn capture_id(&self, paypal_order: &str) -> String {
        let mock = self.lock();
        let capture = mock.orders[paypal_order]
            .capture
            .as_ref()
            .expect("captured");
        text(&capture["id"]).to_owned()
    }

    /// Signs `event` as PayPal would and delivers it to the shop's webhook.
    async fn deliver(&self, shop: &Shop, event: &Value) -> StatusCode {
        let body = serde_json::to_vec(event).expect("json");
        let transmission_id = {
            let mut mock = self.lock();
            let id = format!("tx-{}", mock.transmissions.len() + 1);
            mock.transmissions.insert(id.clone(), body.clone());
            id
        };
        let signature = format!("sig-{transmission_id}");
        send_webhook(shop, body, Some((&transmission_id, &signature))).await
    }
}

/// Posts a body to the shop's PayPal webhook, with PayPal's transmission headers when
/// `signed` gives a transmission id and signature.
async fn send_webhook(shop: &Shop, body: Vec<u8>, signed: Option<(&str, &str)>) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(shop.url("/webhooks/paypal"))
        .header("content-type", "application/json")
        .body(body);
    if let Some((id, signature)) = signed {
        request = request
            .header("PAYPAL-AUTH-ALGO", "SHA256withRSA")
            .header(
                "PAYPAL-CERT-URL",
                "https://api-m.paypal.com/v1/notifications/certs/CERT-360caa42",
            )
            .header("PAYPAL-TRANSMISSION-ID", id)
            .header("PAYPAL-TRANSMISSION-SIG", signature)
            .header("PAYPAL-TRANSMISSION-TIME", "2026-12-03T07:00:00Z");
    }
    request.send().await.expect("delivered").status()
}

type MockState = State<(Arc<Mutex<Mock>>, String)>;

fn paypal_error(status: StatusCode, issue: &str, description: &str) -> Response {
    (
        status,
        Json(json!({
            "name": "UNPROCESSABLE_ENTITY",
            "message": "The requested action could not be performed.",
            "debug_id": "f1mock",
            "details": [{ "issue": issue, "description": description }],
        })),
    )
        .into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {ACCESS_TOKEN}"))
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("paypal-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn issue_token(State((state, _)): MockState, headers: HeaderMap) -> Response {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    state.lock().expect("mock").tokens_issued += 1;
    Json(json!({ "access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 32400 }))
        .into_response()
}

/// An order as PayPal's API shows it.
fn representation(url: &str, id: &str, order: &MockOrder) -> Value {
    let mut unit = json!({ "reference_id": order.custom_id, "custom_id": order.custom_id, "amount": order.amount });
    if let Some(capture) = &order.capture {
        unit["payments"] = json!({ "captures": [capture] });
    }
    json!({
        "id": id,
        "status": order.status,
        "purchase_units": [unit],
        "links": [
            { "href": format!("{url}/v2/checkout/orders/{id}"), "rel": "self", "method": "GET" },
            { "href": format!("{url}/checkoutnow?token={id}"), "rel": "payer-action", "method": "GET" },
        ],
    })
}

async fn create_order(
    State((state, url)): MockState,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let key = request_id(&headers);
    let mut mock = state.lock().expect("mock");
    mock.created.push((key.clone(), body.clone()));
    if let Some((status, answer)) = key.as_ref().and_then(|k| mock.replays.get(k)) {
        return (*status, Json(answer.clone())).into_response();
    }
    mock.next_id += 1;
    let id = format!("5O{:08}", mock.next_id);
    let unit = &body["purchase_units"][0];
    let order = MockOrder {
        status: "PAYER_ACTION_REQUIRED",
        custom_id: text(&unit["custom_id"]).to_owned(),
        amount: unit["amount"].clone(),
        capture: None,
    };
    let answer = representation(&url, &id, &order);
    mock.orders.insert(id, order);
    if let Some(key) = key {
        mock.replays.insert(key, (StatusCode::OK, answer.clone()));
    }
    Json(answer).into_response()
}

async fn read_order(
    State((state, url)): MockState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mock = state.lock().expect("mock");
    match mock.orders.get(&id) {
        Some(order) => Json(representation(&url, &id, order)).into_response(),
        None => paypal_error(
            StatusCode::NOT_FOUND,
            "INVALID_RESOURCE_ID",
            "no such order",
        ),
    }
}

async fn capture_order(
    State((state, url)): MockState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let key = request_id(&headers);
    let mut mock = state.lock().expect("mock");
    mock.capture_requests.push(key.clone());
    if let Some((status, answer)) = key.as_ref().and_then(|k| mock.replays.get(k)) {
        return (*status, Json(answer.clone())).into_response();
    }
    let Some(order) = mock.orders.get(&id).cloned() else {
        return paypal_error(
            StatusCode::NOT_FOUND,
            "INVALID_RESOURCE_ID",
            "no such order",
        );
    };
    match order.status {
        "APPROVED" => {}
        "COMPLETED" => {
            return paypal_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ORDER_ALREADY_CAPTURED",
                "Order already captured.",
            );
        }
        _ => {
            return paypal_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ORDER_NOT_APPROVED",
                "Payer has not yet approved the Order for payment.",
            );
        }
    }
    let plan = mock
        .capture_plans
        .pop_front()
        .unwrap_or(CapturePlan::Succeed);
    if let CapturePlan::Decline = plan {
        return paypal_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INSTRUMENT_DECLINED",
            "The instrument presented was either declined by the processor or bank, or it can't be used for this payment.",
        );
    }
    mock.captures_made += 1;
    let capture_id = format!("3C{:08}", mock.captures_made);
    let captured = MockOrder {
        status: "COMPLETED",
        capture: Some(json!({ "id": capture_id, "status": "COMPLETED", "amount": order.amount })),
        ..order
    };
    let answer = representation(&url, &id, &captured);
    mock.orders.insert(id, captured);
    if let CapturePlan::SucceedButAnswer500 = plan {
        return paypal_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "An internal server error occurred.",
        );
    }
    if let Some(key) = key {
        mock.replays
            .insert(key, (StatusCode::CREATED, answer.clone()));
    }
    (StatusCode::CREATED, Json(answer)).into_response()
}

async fn refund_capture(
    State((state, _)): MockState,
    headers: HeaderMap,
    Path(capture): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let key = request_id(&headers);
    let mut mock = state.lock().expect("mock");
    if let Some((status, answer)) = key.as_ref().and_then(|k| mock.replays.get(k)) {
        return (*status, Json(answer.clone())).into_response();
    }
    let value = text(&body["amount"]["value"]).to_owned();
    mock.refunds.push((capture, value, key.clone()));
    let answer = json!({ "id": format!("RF{:08}", mock.refunds.len()), "status": "COMPLETED" });
    if let Some(key) = key {
        mock.replays
            .insert(key, (StatusCode::CREATED, answer.clone()));
    }
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// SUCCESS only for a delivery the mock sent: its transmission id, its signature, the
/// shop's webhook id and the very body it signed.
async fn verify_signature(
    State((state, _)): MockState,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mock = state.lock().expect("mock");
    let id = body["transmission_id"].as_str().unwrap_or_default();
    let genuine = mock.transmissions.get(id).is_some_and(|sent| {
        serde_json::from_slice::<Value>(sent).ok().as_ref() == Some(&body["webhook_event"])
    }) && body["transmission_sig"] == json!(format!("sig-{id}"))
        && body["webhook_id"] == json!(WEBHOOK_ID)
        && body["auth_algo"].is_string()
        && body["cert_url"].is_string()
        && body["transmission_time"].is_string();
    let status = if genuine { "SUCCESS" } else { "FAILURE" };
    Json(json!({ "verification_status": status })).into_response()
}

// --- the shop --------------------------------------------------------------------------

fn use_paypal(config: &mut Config, paypal: &MockPayPal, webhook: bool) {
    config.payment_gateways = Some(vec![PaymentGatewayKind::Test, PaymentGatewayKind::PayPal]);
    config.paypal_client_id = Some(CLIENT_ID.into());
    config.paypal_client_secret = Some(CLIENT_SECRET.into());
    config.paypal_api_base = paypal.url.clone();
    config.paypal_webhook_id = webhook.then(|| WEBHOOK_ID.into());
}

/// A shop that offers the test gateway's cards and PayPal, with PayPal's webhook.
async fn paypal_shop(paypal: &MockPayPal) -> Shop {
    let paypal = paypal.clone();
    open_shop_on(spawn_app_with(move |config| use_paypal(config, &paypal, true)).await).await
}

async fn checkout_with(shop: &Shop, who: &Session, extra: Value) -> crate::support::Gql {
    let mut input = json!({ "shippingAddress": address(), "paymentMethod": "paypal" });
    for (name, value) in extra.as_object().expect("an object") {
        input[name] = value.clone();
    }
    shop.gql_as(
        who,
        &format!(
            "mutation($input: CheckoutInput!) {{ checkout(input: $input) {{ {ORDER_FIELDS} }} }}"
        ),
        json!({ "input": input }),
    )
    .await
}

/// A checkout paid with PayPal; the PENDING order it answers.
async fn awaiting_approval(shop: &Shop, who: &Session) -> Value {
    checkout_with(shop, who, json!({})).await.data()["checkout"].clone()
}

fn approved_event(id: &str, paypal_order: &str, number: &str) -> Value {
    json!({
        "id": id,
        "event_version": "1.0",
        "event_type": "CHECKOUT.ORDER.APPROVED",
        "resource_type": "checkout-order",
        "resource": { "id": paypal_order, "status": "APPROVED", "intent": "CAPTURE",
                      "purchase_units": [{ "reference_id": number, "custom_id": number }] },
    })
}

fn capture_event(id: &str, kind: &str, capture: &str, number: &str, value: &str) -> Value {
    json!({
        "id": id,
        "event_version": "1.0",
        "event_type": kind,
        "resource_type": "capture",
        "resource": { "id": capture, "status": "COMPLETED", "custom_id": number,
                      "amount": { "currency_code": "USD", "value": value } },
    })
}

async fn handled_events(shop: &Shop) -> u64 {
    webhook_event::Entity::find()
        .count(&shop.db)
        .await
        .expect("read")
}

// --- the buyer's road ------------------------------------------------------------------

#[tokio::test]
async fn a_paypal_checkout_sends_the_buyer_to_approve_and_confirm_payment_then_captures_the_total()
{
    let paypal = MockPayPal::start().await;
    let shop = paypal_shop(&paypal).await;
    let (buyer, kettle) = customer_with_cart(&shop, "ann").await;

    let methods = shop
        .gql("{ paymentMethods { code name requiresToken } }", json!({}))
        .await
        .data()["paymentMethods"]
        .clone();
    assert_eq!(
        methods,
        json!([
            { "code": "test", "name": "Test card", "requiresToken": true },
            { "code": "paypal", "name": "PayPal", "requiresToken": false },
        ])
    );

    let order = awaiting_approval(&shop, &buyer).await;
    let (id, number) = (text(&order["id"]), text(&order["number"]));
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["payment"]["method"], "paypal");
    assert_eq!(order["payment"]["status"], "REQUIRES_ACTION");
    assert_eq!(order["payment"]["clientSecret"], Value::Null);
    let paypal_order = paypal.order_for(number);
    assert_eq!(
        order["payment"]["redirectUrl"],
        json!(format!("{}/checkoutnow?token={paypal_order}", paypal.url))
    );
    assert_eq!(stock(&shop, &kettle).await, 3, "the stock is held");

    // What PayPal was asked for: the order's total, under the order's number.
    let (key, created) = paypal.lock().created[0].clone();
    assert_eq!(key.as_deref(), Some(number));
    assert_eq!(created["intent"], "CAPTURE");
    let unit = &created["purchase_units"][0];
    assert_eq!(
        unit["amount"],
        json!({ "currency_code": "USD", "value": "40.00" })
    );
    assert_eq!(unit["custom_id"], json!(number));
    assert_eq!(unit["invoice_id"], json!(number));
    let back = &created["payment_source"]["paypal"]["experience_context"]["return_url"];
    assert!(
        text(back).ends_with(&format!("/orders/{number}")),
        "returns to the order's page: {back}"
    );

    // Not approved yet: nothing is captured.
    assert_eq!(confirmed(&shop, number).await, "REQUIRES_ACTION");
    assert_eq!(paypal.captures_made(), 0);

    paypal.approve(&paypal_order);
    assert_eq!(confirmed(&shop, number).await, "SUCCEEDED");
    assert_eq!(confirmed(&shop, number).await, "SUCCEEDED");

    assert_eq!(paypal.captures_made(), 1, "captured once");
    assert_eq!(
        paypal.lock().capture_requests,
        vec![Some(format!("capture-{number}"))],
        "asked once, with a request id of the order"
    );
    let paid = read(&shop, id).await;
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["payment"]["status"], "SUCCEEDED");
    assert_eq!(paid["payment"]["redirectUrl"], Value::Null);
    let charge = charge_row(&shop, id).await;
    assert_eq!(charge.gateway, "paypal");
    assert_eq!(
        charge.reference.as_deref(),
        Some(paypal.capture_id(&paypal_order).as_str())
    );
    assert_eq!(stock(&shop, &kettle).await, 3);
    assert_eq!(status_mails(&shop, id).await, 1, "one 'paid' email");
    assert_eq!(
        paypal.lock().tokens_issued,
        1,
        "one access token, reused for every call"
    );
}

#[tokio::test]
async fn a_capture_paypal_declines_cancels_the_order_and_gives_the_stock_back() {
    let paypal = MockPayPal::start().await;
    let shop = paypal_shop(&paypal).await;
    let (buyer, kettle) = customer_with_cart(&shop, "ann").await;
    let order = awaiting_approval(&shop, &buyer).await;
    let (id, number) = (text(&order["id"]), text(&order["number"]));
    paypal.approve(&paypal.order_for(number));
    paypal.plan_captures(&[CapturePlan::Decline]);

    assert_eq!(confirmed(&shop, number).await, "FAILED");

    let cancelled = read(&shop, id).await;
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["payment"]["status"], "FAILED");
    assert_eq!(stock(&shop, &kettle).await, 5);
    assert_eq!(paypal.captures_made(), 0);
    // Asked again, the shop does not try to capture a cancelled order.
    assert_eq!(confirmed(&shop, number).await, "FAILED");
    assert_eq!(paypal.lock().capture_requests.len(), 1);
}

#[tokio::test]
async fn a_capture_whose_answer_was_lost_is_paid_when_asked_again() {
    let paypal = MockPayPal::start().await;
    let shop = paypal_shop(&paypal).await;
    let (buyer, _) = customer_with_cart(&shop, "ann").await;
    let order = awaiting_approval(&shop, &buyer).await;
    let (id, number) = (text(&order["id"]), text(&order["number"]));
    paypal.approve(&paypal.order_for(number));
    paypal.plan_captures(&[CapturePlan::SucceedButAnswer500]);

    assert_eq!(
        confirmed(&shop, number).await,
        "PENDING",
        "the outcome is not known yet"
    );
    assert_eq!(read(&shop, id).await["status"], "PENDING");

    assert_eq!(confirmed(&shop, number).await, "SUCCEEDED");
    assert_eq!(read(&shop, id).await["status"], "PAID");
    assert_eq!(paypal.captures_made(), 1);
}

#[tokio::test]
async fn a_paypal_checkout_with_a_card_token_is_declined_and_keeps_nothing() {
    let paypal = MockPayPal::start().await;
    let shop = paypal_shop(&paypal).await;
    let (buyer, kettle) = customer_with_cart(&shop, "ann").await;

    let refused = checkout_with(&shop, &buyer, json!({ "paymentToken": "tok_visa" })).await;

    assert_eq!(refused.code(), "PAYMENT_DECLINED");
    assert_eq!(stock(&shop, &kettle).await, 5);
    assert_eq!(shop.cart(&buyer).await["totalQuantity"], 2);
    assert!(paypal.lock().created.is_empty(), "PayPal was never asked");
}

// --- the webhook -----------------------------------------------------------------------

#[tokio::test]
async fn the_approved_webhook_captures_for_a_buyer_who_never_came_back_once_however_often_delivered()
 {
    let paypal = MockPayPal::start().await;
    let shop = paypal_shop(&paypal).await;
    let (buyer, _) = customer_with_cart(&shop, "ann").await;
    let before = scrape(&shop).await;
    let order = awaiting_approval(&shop, &buyer).await;
    let (id, number) = (text(&order["id"]), text(&order["number"]));
    let paypal_order = paypal.order_for(number);
    paypal.approve(&paypal_order);

    let event = approved_event("WH-1", &paypal_order, number);
    let delivered = join_all((0..3).map(|_| paypal.deliver(&shop, &event))).await;
    assert!(delivered.iter().all(|status| *status == StatusCode::OK));
    assert_eq!(paypal.deliver(&shop, &event).await, StatusCode::OK);

    assert_eq!(read(&shop, id).await["status"], "PAID");
    assert_eq!(paypal.captures_made(), 1);
    assert_eq!(status_mails(&shop, id).await, 1);
    let after = scrape(&shop).await;
    let grown =
        |name, labels: &[(&str, &str)]| after.count(name, labels) - before.count(name, labels);
    let waiting = [("outcome", "requires_action"), ("method", "paypal")];
    assert!(grown("shop_checkouts_total", &waiting) >= 1.0);
    let paid_by_webhook = [("by", "webhook"), ("outcome", "paid")];
    assert!(grown("shop_payment_completions_total", &paid_by_webhook) >= 1.0);
}

#[tokio::test]
async fn a_capture_completed_event_pays_an_order_whose_capture_answer_was_lost_once_if_delivered_twice()
 {
    let paypal = MockPayPal::start().await;
    let shop = paypal_shop(&paypal).await;
    let (buyer, _) = customer_with_cart(&shop, "ann").await;
    let order = awaiting_approval(&shop, &buyer).await;
    let (id, number) = (text(&order["id"]), text(&order["number"]));
    let paypal_order = paypal.order_for(number);
    paypal.approve(&paypal_order);
    paypal.plan_captures(&[CapturePlan::SucceedButAnswer500]);
    assert_eq!(confirmed(&shop, number).await, "PENDING");
    let capture = paypal.capture_id(&paypal_order);

    let event = capture_event(
        "WH-2",
        "PAYMENT.CAPTURE.COMPLETED",
        &capture,
        number,
        "40.00",
    );
    let (first, second) =
        tokio::join!(paypal.deliver(&shop, &event), paypal.deliver(&shop, &event));

    assert_eq!((first, second), (StatusCode::OK, StatusCode::OK));
    assert_eq!(read(&shop, id).await["status"], "PAID");
    assert_eq!(
        charge_row(&shop, id).await.reference.as_deref(),
        Some(capture.as_str())
    );
    assert_eq!(handled_events(&shop).await, 1, "the event is handled once");
    assert_eq!(status_mails(&shop, id).await, 1);
    assert_eq!(paypal.captures_made(), 1);
}

#[tokio::test]
async fn a_capture_event_for_another_amount_or_a_denied_capture_is_handled_as_paypal_means_it() {
    let paypal = MockPayPal::start().await;
    let shop = paypal_shop(&paypal).await;
    let (buyer, kettle) = customer_with_cart(&shop, "ann").await;
    let order = awaiting_approval(&shop, &buyer).await;
    let (id, number) = (text(&order["id"]), text(&order["number"]));

    let wrong = capture_event("WH-3", "PAYMENT.CAPTURE.COMPLETED", "3CX", number, "0.01");
    assert_eq!(paypal.deliver(&shop, &wrong).await, StatusCode::OK);
    assert_eq!(
        read(&shop, id).await["status"],
        "PENDING",
        "money that does not match settles nothing"
    );

    let denied = capture_event("WH-4", "PAYMENT.CAPTURE.DENIED", "3CY", number, "40.00");
    assert_eq!(paypal.deliver(&shop, &denied).await, StatusCode::OK);
    assert_eq!(read(&shop, id).await["status"], "CANCELLED");
    assert_eq!(stock(&shop, &kettle).await, 5);
}

#[tokio::test]
async fn a_forged_or_unsigned_paypal_webhook_is_refused_and_changes_nothing() {
    let paypal = MockPayPal::start().await;
    let shop = paypal_shop(&paypal).await;
    let (buyer, _) = customer_with_cart(&shop, "ann").await;
    let order = awaiting_approval(&shop, &buyer).await;
    let (id, number) = (text(&order["id"]), text(&order["number"]));
    let paypal_order = paypal.order_for(number);
    paypal.approve(&paypal_order);
    let event = approved_event("WH-5", &paypal_order, number);
    let body = serde_json::to_vec(&event).expect("json");

    let unsigned = send_webhook(&shop, body.clone(), None).await;
    let forged = send_webhook(&shop, body.clone(), Some(("tx-forged", "sig-tx-forged"))).await;
    // The headers of a genuine delivery (the first, tx-1), replayed onto another body.
    let ping = json!({ "id": "WH-0", "event_type": "PING", "resource": {} });
    assert_eq!(paypal.deliver(&shop, &ping).await, StatusCode::OK);
    let replayed_onto_another_body = send_webhook(&shop, body, Some(("tx-1", "sig-tx-1"))).await;

    for status in [unsigned, forged, replayed_onto_another_body] {
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(read(&shop, id).await["status"], "PENDING");
    assert_eq!(paypal.captures_made(), 0);
}

#[tokio::test]
async fn the_paypal_webhook_is_not_found_without_a_webhook_id() {
    let paypal = MockPayPal::start().await;
    let mock = paypal.clone();
    let shop =
        open_shop_on(spawn_app_with(move |config| use_paypal(config, &mock, false)).await).await;

    let status = paypal
        .deliver(
            &shop,
            &json!({ "id": "WH-6", "event_type": "PING", "resource": {} }),
        )
        .await;

    assert_eq!(status, StatusCode::NOT_FOUND);
}

// --- races, the sweeper, refunds -------------------------------------------------------

#[tokio::test]
async fn confirm_payment_the_webhook_and_the_sweeper_racing_capture_once() {
    let paypal = MockPayPal::start().await;
    let shop = paypal_shop(&paypal).await;
    for round in 0..4 {
        let (buyer, kettle) = customer_with_cart(&shop, &format!("racer{round}")).await;
        let order = awaiting_approval(&shop, &buyer).await;
        let (id, number) = (text(&order["id"]), text(&order["number"]));
        let paypal_order = paypal.order_for(number);
        paypal.approve(&paypal_order);
        let before = paypal.captures_made();

        let event = approved_event(&format!("WH-R{round}"), &paypal_order, number);
        let confirms = join_all((0..3).map(|_| confirmed(&shop, number)));
        let webhook = paypal.deliver(&shop, &event);
        let sweep = async {
            if round % 2 == 0 {
                sweep_after_the_window(&shop).await;
            }
        };
        tokio::join!(confirms, webhook, sweep);
        confirmed(&shop, number).await;

        assert_eq!(read(&shop, id).await["status"], "PAID", "{round}");
        assert_eq!(paypal.captures_made() - before, 1, "{round}: one capture");
        assert_eq!(status_mails(&shop, id).await, 1, "{round}: one email");
        assert_eq!(stock(&shop, &kettle).await, 3, "{round}");
    }
}

#[tokio::test]
async fn the_sweeper_cancels_an_order_never_approved_and_a_late_approval_takes_nothing() {
    let paypal = MockPayPal::start().await;
    let shop = paypal_shop(&paypal).await;
    let (buyer, kettle) = customer_with_cart(&shop, "ann").await;
    let order = awaiting_approval(&shop, &buyer).await;
    let (id, number) = (text(&order["id"]), text(&order["number"]));

    sweep_after_the_window(&shop).await;
    assert_eq!(read(&shop, id).await["status"], "CANCELLED");
    assert_eq!(stock(&shop, &kettle).await, 5);

    let paypal_order = paypal.order_for(number);
    paypal.approve(&paypal_order);
    assert_eq!(confirmed(&shop, number).await, "FAILED");
    assert_eq!(
        paypal
            .deliver(&shop, &approved_event("WH-7", &paypal_order, number))
            .await,
        StatusCode::OK
    );
    assert_eq!(
        paypal.captures_made(),
        0,
        "a cancelled order is never captured"
    );
}

#[tokio::test]
async fn partial_refunds_and_a_cancellation_go_back_through_the_capture_under_their_own_keys() {
    let paypal = MockPayPal::start().await;
    let shop = paypal_shop(&paypal).await;
    let (buyer, _) = customer_with_cart(&shop, "ann").await;
    let order = awaiting_approval(&shop, &buyer).await;
    let (id, number) = (text(&order["id"]), text(&order["number"]));
    let paypal_order = paypal.order_for(number);
    paypal.approve(&paypal_order);
    assert_eq!(confirmed(&shop, number).await, "SUCCEEDED");
    let capture = paypal.capture_id(&paypal_order);

    let refunded = shop
        .gql_as(&shop.admin, REFUND, json!({ "id": id, "amount": "15.00" }))
        .await;
    assert_eq!(
        refunded.data()["refundOrder"]["refundedTotal"]["amount"],
        "15.00"
    );
    shop.cancel(&buyer, id).await.data();

    let refunds = paypal.lock().refunds.clone();
    let sent: Vec<(&str, &str)> = refunds
        .iter()
        .map(|(capture, value, _)| (capture.as_str(), value.as_str()))
        .collect();
    assert_eq!(
        sent,
        [(capture.as_str(), "15.00"), (capture.as_str(), "25.00")]
    );
    let keys: Vec<_> = refunds.iter().map(|(_, _, key)| key.clone()).collect();
    assert!(keys.iter().all(Option::is_some), "each under a request id");
    assert_ne!(keys[0], keys[1], "each refund its own");
    let cancelled = read(&shop, id).await;
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["payment"]["status"], "REFUNDED");
    let succeeded_refunds = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(db_id(id)))
        .filter(payment::Column::Kind.eq(PaymentKind::Refund))
        .filter(payment::Column::Status.eq(PaymentStatus::Succeeded))
        .count(&shop.db)
        .await
        .expect("read");
    assert_eq!(succeeded_refunds, 2);
}

#[tokio::test]
async fn the_server_refuses_to_start_with_paypal_and_no_credentials() {
    let database = TestDatabase::create().await;
    let mut config = Config::with_database(database.url());
    config.listen = "127.0.0.1:0".parse().expect("an address");
    config.payment_gateways = Some(vec![PaymentGatewayKind::PayPal]);

    let refused = Server::build(&config).await.err().expect("refused");

    assert!(
        refused.to_string().contains("SHOP_PAYPAL_CLIENT_ID"),
        "{refused}"
    );
}
