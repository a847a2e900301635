//! Payments through Stripe, against a mock of Stripe's API served by the test itself, and
//! Stripe's webhook, with deliveries signed the way Stripe signs them.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Form, Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use entity::{
    order,
    order_status::OrderStatus,
    outbox_message::{self, MessageKind},
    payment::{self, PaymentKind, PaymentStatus},
    webhook_event,
};
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shop::{
    config::{Config, PaymentGatewayKind},
    db,
    domain::{Currency, GlobalId, Money, PostalAddress},
    payments::{
        ChargeRequest, PaymentError, PaymentGateway, StripeGateway,
        stripe::{SecretKey, StripeSettings, WebhookSecret, sign},
    },
    server::Server,
    service::{checkout, orders},
};

use crate::support::{Session, TestApp, TestDatabase, spawn_app_with};

pub(crate) const SECRET_KEY: &str = "sk_test_mock_0123456789";
pub(crate) const WEBHOOK_SECRET: &str = "whsec_mock_signing_secret";

const CHECKOUT: &str = "mutation($input: CheckoutInput!) { checkout(input: $input) { id number status total { amount currencyCode } } }";
const CANCEL: &str = "mutation($id: ID!) { cancelOrder(id: $id) { id status } }";

/// What the mock does with the next PaymentIntent it is asked to create.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Plan {
    /// Charges and answers `succeeded`.
    Succeed,
    /// Answers 402 with a card_error, as for `tok_chargeDeclined`.
    Decline,
    /// Charges nothing and answers this status.
    Fail(u16),
    /// Charges, then answers 500: the answer is lost, the money is not.
    SucceedButAnswer500,
    /// Charges, delivers `payment_intent.succeeded` to the shop's webhook, and only then
    /// answers: the webhook wins the race against the checkout that asked.
    SucceedAfterWebhook,
    /// Does not answer for longer than any test client waits.
    Hang,
    /// Charges nothing yet and answers `requires_action` with a client secret: the card
    /// needs 3-D Secure ([`MockStripe::authenticate`] finishes it).
    RequireAction,
}

/// What the mock does with the next refund it is asked for.
#[derive(Clone, Copy, Debug)]
enum RefundPlan {
    /// Answers this HTTP status: 200 refunds, anything else fails without refunding.
    Status(u16),
    /// Answers a refund whose status is `failed`, as Stripe does when the card's bank
    /// refuses it.
    Refused,
}

/// One request the mock received.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    path: &'static str,
    headers: HeaderMap,
    params: HashMap<String, String>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Mock {
    seen: Vec<Seen>,
    charges: VecDeque<Plan>,
    refunds: VecDeque<RefundPlan>,
    /// Refunds made, by idempotency key, as Stripe replays them.
    refunds_made: HashMap<String, Value>,
    /// PaymentIntents by idempotency key, as Stripe replays them.
    intents: HashMap<String, Value>,
    /// Where the shop's webhook is, for `SucceedAfterWebhook`.
    shop_url: Option<String>,
}

/// A stand-in for api.stripe.com on a random local port.
#[derive(Clone)]
pub(crate) struct MockStripe {
    pub(crate) url: String,
    state: Arc<Mutex<Mock>>,
}

impl MockStripe {
    pub(crate) async fn start() -> Self {
        let state = Arc::new(Mutex::new(Mock::default()));
        let app = Router::new()
            .route("/v1/payment_intents", post(create_intent))
            .route("/v1/payment_intents/search", get(search_intents))
            .route("/v1/payment_intents/{id}", get(read_intent))
            .route("/v1/payment_intents/{id}/cancel", post(cancel_intent))
            .route("/v1/refunds", post(create_refund))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the mock");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("mock serves");
        });
        Self { url, state }
    }

    pub(crate) fn plan_charges(&self, plans: &[Plan]) {
        self.lock().charges.extend(plans);
    }

    fn plan_refunds(&self, statuses: &[u16]) {
        self.lock()
            .refunds
            .extend(statuses.iter().map(|status| RefundPlan::Status(*status)));
    }

    fn plan_refused_refund(&self) {
        self.lock().refunds.push_back(RefundPlan::Refused);
    }

    /// The customer's 3-D Secure check of the order's PaymentIntent: it succeeds (the
    /// money is taken) or fails (the intent wants another payment method, as Stripe's does).
    pub(crate) fn authenticate(&self, order_number: &str, succeed: bool) -> Value {
        let mut mock = self.lock();
        let intent = mock
            .intents
            .values_mut()
            .find(|intent| intent["metadata"]["order_number"] == order_number)
            .expect("a PaymentIntent of the order");
        if succeed {
            intent["status"] = json!("succeeded");
        } else {
            intent["status"] = json!("requires_payment_method");
            intent["last_payment_error"] = json!({
                "type": "card_error", "code": "payment_intent_authentication_failure",
                "message": "We are unable to authenticate your payment method."
            });
        }
        intent.clone()
    }

    pub(crate) fn tell_shop(&self, app: &TestApp) {
        self.lock().shop_url = Some(app.url("/webhooks/stripe"));
    }

    pub(crate) fn seen(&self, path: &str) -> Vec<Seen> {
        self.lock()
            .seen
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Mock> {
        self.state.lock().expect("mock state")
    }
}

fn record(
    state: &Mutex<Mock>,
    path: &'static str,
    headers: HeaderMap,
    params: HashMap<String, String>,
) {
    state.lock().expect("mock state").seen.push(Seen {
        path,
        headers,
        params,
    });
}

async fn create_intent(
    State(state): State<Arc<Mutex<Mock>>>,
    headers: HeaderMap,
    Form(params): Form<HashMap<String, String>>,
) -> Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    record(&state, "/v1/payment_intents", headers, params.clone());
    let (plan, replay, shop_url) = {
        let mut mock = state.lock().expect("mock state");
        let plan = mock.charges.pop_front().unwrap_or(Plan::Succeed);
        (plan, mock.intents.get(&key).cloned(), mock.shop_url.clone())
    };
    // Stripe answers a repeated idempotency key with the first result.
    if let Some(intent) = replay {
        return Json(intent).into_response();
    }
    let charge = |state: &Mutex<Mock>| {
        let intent = json!({
            "id": format!("pi_mock_{}", rand::random::<u32>()),
            "object": "payment_intent",
            "status": "succeeded",
            "amount": params.get("amount").and_then(|a| a.parse::<i64>().ok()),
            "currency": params.get("currency"),
            "metadata": { "order_number": params.get("metadata[order_number]") },
        });
        state
            .lock()
            .expect("mock state")
            .intents
            .insert(key.clone(), intent.clone());
        intent
    };
    match plan {
        Plan::Succeed => Json(charge(&state)).into_response(),
        Plan::Decline => (
            StatusCode::PAYMENT_REQUIRED,
            Json(json!({ "error": {
                "type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                "message": "Your card was declined."
            }})),
        )
            .into_response(),
        Plan::Fail(status) => stripe_failure(status),
        Plan::SucceedButAnswer500 => {
            charge(&state);
            stripe_failure(500)
        }
        Plan::SucceedAfterWebhook => {
            let intent = charge(&state);
            let shop_url = shop_url.expect("tell_shop first");
            let event = event("evt_race", "payment_intent.succeeded", intent.clone());
            let status = deliver_to(&shop_url, &event, now()).await;
            assert_eq!(status, StatusCode::OK);
            Json(intent).into_response()
        }
        Plan::Hang => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            stripe_failure(500)
        }
        Plan::RequireAction => {
            let id = format!("pi_mock_{}", rand::random::<u32>());
            let intent = json!({
                "id": id,
                "object": "payment_intent",
                "status": "requires_action",
                "client_secret": format!("{id}_secret_mock"),
                "next_action": { "type": "use_stripe_sdk" },
                "amount": params.get("amount").and_then(|a| a.parse::<i64>().ok()),
                "currency": params.get("currency"),
                "metadata": { "order_number": params.get("metadata[order_number]") },
            });
            state
                .lock()
                .expect("mock state")
                .intents
                .insert(key.clone(), intent.clone());
            Json(intent).into_response()
        }
    }
}

/// `GET /v1/payment_intents/{id}`.
async fn read_intent(
    State(state): State<Arc<Mutex<Mock>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    record(&state, "/v1/payment_intents/{id}", headers, HashMap::new());
    let mock = state.lock().expect("mock state");
    match mock
        .intents
        .values()
        .find(|intent| intent["id"] == id.as_str())
    {
        Some(intent) => Json(intent.clone()).into_response(),
        None => stripe_failure(404),
    }
}

/// `POST /v1/payment_intents/{id}/cancel`: only an intent not yet paid can be cancelled.
async fn cancel_intent(
    State(state): State<Arc<Mutex<Mock>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(params): Form<HashMap<String, String>>,
) -> Response {
    record(&state, "/v1/payment_intents/{id}/cancel", headers, params);
    let mut mock = state.lock().expect("mock state");
    let Some(intent) = mock
        .intents
        .values_mut()
        .find(|intent| intent["id"] == id.as_str())
    else {
        return stripe_failure(404);
    };
    if intent["status"] == "succeeded" {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": { "type": "invalid_request_error",
                "code": "payment_intent_unexpected_state",
                "message": "This PaymentIntent's status is succeeded." } })),
        )
            .into_response();
    }
    intent["status"] = json!("canceled");
    Json(intent.clone()).into_response()
}

fn stripe_failure(status: u16) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        Json(json!({ "error": { "type": "api_error", "message": "mock failure" } })),
    )
        .into_response()
}

async fn search_intents(
    State(state): State<Arc<Mutex<Mock>>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Json<Value> {
    record(
        &state,
        "/v1/payment_intents/search",
        headers,
        params.clone(),
    );
    let query = params.get("query").cloned().unwrap_or_default();
    let mock = state.lock().expect("mock state");
    let found: Vec<Value> = mock
        .intents
        .values()
        .filter(|intent| {
            let number = intent["metadata"]["order_number"]
                .as_str()
                .unwrap_or_default();
            query == format!("metadata['order_number']:'{number}'")
        })
        .cloned()
        .collect();
    Json(json!({ "object": "search_result", "data": found, "has_more": false }))
}

async fn create_refund(
    State(state): State<Arc<Mutex<Mock>>>,
    headers: HeaderMap,
    Form(params): Form<HashMap<String, String>>,
) -> Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    record(&state, "/v1/refunds", headers, params.clone());
    let mut mock = state.lock().expect("mock state");
    // Stripe answers a repeated idempotency key with the first result.
    if let Some(refund) = mock.refunds_made.get(&key) {
        return Json(refund.clone()).into_response();
    }
    let refund = |status: &str| {
        json!({
            "id": format!("re_mock_{}", rand::random::<u32>()),
            "object": "refund",
            "status": status,
            "amount": params.get("amount").and_then(|a| a.parse::<i64>().ok()),
            "payment_intent": params.get("payment_intent"),
            "metadata": { "shop_refund_key": params.get("metadata[shop_refund_key]") },
        })
    };
    match mock.refunds.pop_front() {
        Some(RefundPlan::Status(status)) if status != 200 => stripe_failure(status),
        Some(RefundPlan::Refused) => {
            let refused = refund("failed");
            mock.refunds_made.insert(key, refused.clone());
            Json(refused).into_response()
        }
        _ => {
            let made = refund("succeeded");
            mock.refunds_made.insert(key, made.clone());
            Json(made).into_response()
        }
    }
}

/// A shop that takes payments through `stripe` and accepts its webhook.
async fn spawn_shop(stripe: &MockStripe) -> TestApp {
    let url = stripe.url.clone();
    let app = spawn_app_with(|config| {
        config.payment_gateway = PaymentGatewayKind::Stripe;
        config.stripe_secret_key = Some(SECRET_KEY.into());
        config.stripe_api_base = url;
        config.stripe_webhook_secret = Some(WEBHOOK_SECRET.into());
    })
    .await;
    stripe.tell_shop(&app);
    app
}

/// A product at 12.50 with 5 in stock, and a buyer with 2 of it in the cart.
async fn buyer_with_cart(app: &TestApp) -> (Session, String) {
    let admin = app.admin("boss").await;
    let created = app
        .gql_as(
            &admin,
            "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
            json!({ "input": { "name": "Walnut Lamp", "description": "A lamp.", "price": "12.50", "stock": 5 } }),
        )
        .await;
    let product = created.data()["createProduct"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let buyer = app.register("bob").await;
    app.gql_as(
        &buyer,
        "mutation($id: ID!) { addToCart(productId: $id, quantity: 2) { totalQuantity } }",
        json!({ "id": product }),
    )
    .await
    .data();
    (buyer, product)
}

fn checkout_input(token: &str) -> Value {
    json!({ "input": {
        "shippingAddress": { "fullName": "Bob Buyer", "line1": "1 Main St", "city": "Springfield",
                             "postalCode": "12345", "country": "US" },
        "paymentToken": token,
    }})
}

fn address() -> PostalAddress {
    PostalAddress::parse("Bob Buyer", "1 Main St", None, "Springfield", "12345", "US")
        .expect("an address")
}

async fn stock(app: &TestApp, product: &str) -> i64 {
    let response = app
        .gql(
            "query($id: ID!) { product(id: $id) { stock } }",
            json!({ "id": product }),
        )
        .await;
    response.data()["product"]["stock"].as_i64().expect("stock")
}

async fn cart_quantity(app: &TestApp, buyer: &Session) -> i64 {
    let response = app
        .gql_as(buyer, "{ cart { totalQuantity } }", json!({}))
        .await;
    response.data()["cart"]["totalQuantity"]
        .as_i64()
        .expect("a quantity")
}

async fn order_count(app: &TestApp) -> u64 {
    order::Entity::find().count(&app.db).await.expect("count")
}

async fn order_row(app: &TestApp, id: i32) -> order::Model {
    order::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("the order")
}

async fn ledger(app: &TestApp, order_id: i32, kind: PaymentKind) -> Option<payment::Model> {
    payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order_id))
        .filter(payment::Column::Kind.eq(kind))
        .one(&app.db)
        .await
        .expect("query")
}

/// A PENDING order of the buyer's cart, as a checkout leaves it before the gateway answers.
async fn pending_order(app: &TestApp, buyer: &Session) -> order::Model {
    let user_id = GlobalId::parse(&buyer.id, "id").expect("a user id").id;
    checkout::reserve(&app.db, &app.payments, user_id, &address(), None)
        .await
        .expect("reserved")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) fn event(id: &str, kind: &str, object: Value) -> Value {
    json!({ "id": id, "object": "event", "type": kind, "data": { "object": object } })
}

pub(crate) fn intent_of(order: &order::Model, id: &str) -> Value {
    json!({
        "id": id,
        "object": "payment_intent",
        "amount": order.total_cents,
        "currency": order.currency.to_lowercase(),
        "status": "succeeded",
        "metadata": { "order_number": order.number },
    })
}

/// Posts `event` to a shop's webhook, signed at `timestamp` as Stripe would.
async fn deliver_to(url: &str, event: &Value, timestamp: i64) -> StatusCode {
    let body = serde_json::to_vec(event).expect("json");
    let secret = WebhookSecret::parse(WEBHOOK_SECRET).expect("secret");
    let signature = sign(&secret, &body, timestamp);
    send_webhook(url, body, Some(&signature)).await
}

async fn send_webhook(url: &str, body: Vec<u8>, signature: Option<&str>) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(signature) = signature {
        request = request.header("Stripe-Signature", signature);
    }
    request.send().await.expect("delivered").status()
}

pub(crate) async fn deliver(app: &TestApp, event: &Value) -> StatusCode {
    deliver_to(&app.url("/webhooks/stripe"), event, now()).await
}

async fn handled_events(app: &TestApp) -> u64 {
    webhook_event::Entity::find()
        .count(&app.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_checkout_through_stripe_is_paid_by_one_payment_intent_for_the_order_total() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, product) = buyer_with_cart(&app).await;

    let response = app
        .gql_as(&buyer, CHECKOUT, checkout_input("tok_visa"))
        .await;

    let order = &response.data()["checkout"];
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["total"]["amount"], "25.00");
    let number = order["number"].as_str().expect("a number");
    let charges = stripe.seen("/v1/payment_intents");
    assert_eq!(charges.len(), 1);
    let charge = &charges[0];
    assert_eq!(charge.param("amount"), Some("2500"));
    assert_eq!(charge.param("currency"), Some("usd"));
    assert_eq!(charge.param("confirm"), Some("true"));
    assert_eq!(charge.param("payment_method_data[type]"), Some("card"));
    assert_eq!(
        charge.param("payment_method_data[card][token]"),
        Some("tok_visa")
    );
    assert_eq!(charge.param("metadata[order_number]"), Some(number));
    // Cards only: 3-D Secure finishes in the client with the client secret, never by a
    // redirect to a bank and back (which would need a return_url).
    assert_eq!(charge.param("payment_method_types[]"), Some("card"));
    assert_eq!(charge.param("return_url"), None);
    assert_eq!(charge.header("idempotency-key"), Some(number));
    assert_eq!(
        charge.header("authorization"),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    assert!(charge.header("stripe-version").is_some());
    assert!(stripe.seen("/v1/payment_intents/search").is_empty());
    assert_eq!(stock(&app, &product).await, 3);
    assert_eq!(cart_quantity(&app, &buyer).await, 0);
    let id = GlobalId::parse(order["id"].as_str().expect("id"), "id")
        .expect("an order id")
        .id;
    let charge_row = ledger(&app, id, PaymentKind::Charge)
        .await
        .expect("a charge");
    assert_eq!(charge_row.gateway, "stripe");
    assert_eq!(charge_row.status, PaymentStatus::Succeeded);
    assert!(
        charge_row
            .reference
            .as_deref()
            .is_some_and(|r| r.starts_with("pi_mock_"))
    );
}

#[tokio::test]
async fn stripe_charges_the_order_total_with_shipping_tax_and_discount() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, _) = buyer_with_cart(&app).await;
    let admin = app.admin("boss").await;
    for (query, variables) in [
        (
            "mutation($input: CreateShippingMethodInput!) { createShippingMethod(input: $input) { id } }",
            json!({ "input": { "name": "Ground", "price": "5.00" } }),
        ),
        (
            "mutation { setTaxRate(country: \"US\", rate: \"8.25\") { rate } }",
            json!({}),
        ),
        (
            "mutation($input: CreateDiscountCodeInput!) { createDiscountCode(input: $input) { id } }",
            json!({ "input": { "code": "TENOFF", "percentOff": "10" } }),
        ),
    ] {
        app.gql_as(&admin, query, variables).await.data();
    }
    app.gql_as(
        &buyer,
        "mutation { applyDiscountCode(code: \"tenoff\") { discountCode } }",
        json!({}),
    )
    .await
    .data();
    let method = app
        .gql("{ shippingMethods(country: \"US\") { id } }", json!({}))
        .await;
    let mut input = checkout_input("tok_visa");
    input["input"]["shippingMethodId"] = method.data()["shippingMethods"][0]["id"].clone();

    let response = app.gql_as(&buyer, CHECKOUT, input).await;

    // 25.00 less 2.50, plus 5.00 shipping: 27.50, and 8.25% of it (2.26875) is 2.27.
    assert_eq!(response.data()["checkout"]["total"]["amount"], "29.77");
    let charges = stripe.seen("/v1/payment_intents");
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].param("amount"), Some("2977"));
}

#[tokio::test]
async fn a_card_error_is_payment_declined_and_leaves_stock_and_cart_unchanged() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, product) = buyer_with_cart(&app).await;
    stripe.plan_charges(&[Plan::Decline]);

    let response = app
        .gql_as(&buyer, CHECKOUT, checkout_input("tok_chargeDeclined"))
        .await;

    assert_eq!(response.code(), "PAYMENT_DECLINED");
    assert!(
        response.error()["message"]
            .as_str()
            .is_some_and(|m| m.contains("Your card was declined."))
    );
    assert_eq!(stripe.seen("/v1/payment_intents").len(), 1);
    // A decline is certain: there is nothing to look for.
    assert!(stripe.seen("/v1/payment_intents/search").is_empty());
    assert_eq!(stock(&app, &product).await, 5);
    assert_eq!(cart_quantity(&app, &buyer).await, 2);
    assert_eq!(order_count(&app).await, 0);
}

#[tokio::test]
async fn a_stripe_server_error_with_no_charge_found_is_payment_declined_and_changes_nothing() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, product) = buyer_with_cart(&app).await;
    stripe.plan_charges(&[Plan::Fail(500)]);

    let response = app
        .gql_as(&buyer, CHECKOUT, checkout_input("tok_visa"))
        .await;

    assert_eq!(response.code(), "PAYMENT_DECLINED");
    // Stripe stores a 500 under the idempotency key, so it is not resent; the shop asks
    // instead whether a charge exists for the order.
    let charges = stripe.seen("/v1/payment_intents");
    assert_eq!(charges.len(), 1);
    let number = charges[0].param("metadata[order_number]").expect("number");
    let searches = stripe.seen("/v1/payment_intents/search");
    assert_eq!(searches.len(), 1);
    assert_eq!(
        searches[0].param("query"),
        Some(format!("metadata['order_number']:'{number}'").as_str())
    );
    assert_eq!(stock(&app, &product).await, 5);
    assert_eq!(cart_quantity(&app, &buyer).await, 2);
    assert_eq!(order_count(&app).await, 0);
}

#[tokio::test]
async fn a_charge_whose_answer_was_lost_is_found_by_its_order_number_and_paid() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, product) = buyer_with_cart(&app).await;
    stripe.plan_charges(&[Plan::SucceedButAnswer500]);

    let response = app
        .gql_as(&buyer, CHECKOUT, checkout_input("tok_visa"))
        .await;

    assert_eq!(response.data()["checkout"]["status"], "PAID");
    assert_eq!(stripe.seen("/v1/payment_intents").len(), 1);
    assert_eq!(stripe.seen("/v1/payment_intents/search").len(), 1);
    assert_eq!(stock(&app, &product).await, 3);
    assert_eq!(cart_quantity(&app, &buyer).await, 0);
}

#[tokio::test]
async fn a_briefly_unavailable_stripe_is_asked_again_with_the_same_idempotency_key() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, _) = buyer_with_cart(&app).await;
    stripe.plan_charges(&[Plan::Fail(503), Plan::Fail(409), Plan::Succeed]);

    let response = app
        .gql_as(&buyer, CHECKOUT, checkout_input("tok_visa"))
        .await;

    let number = response.data()["checkout"]["number"]
        .as_str()
        .expect("a number")
        .to_owned();
    assert_eq!(response.data()["checkout"]["status"], "PAID");
    let charges = stripe.seen("/v1/payment_intents");
    assert_eq!(charges.len(), 3);
    for charge in &charges {
        assert_eq!(charge.header("idempotency-key"), Some(number.as_str()));
    }
}

#[tokio::test]
async fn a_checkout_whose_order_the_webhook_paid_first_is_paid_and_not_refunded() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, product) = buyer_with_cart(&app).await;
    stripe.plan_charges(&[Plan::SucceedAfterWebhook]);

    let response = app
        .gql_as(&buyer, CHECKOUT, checkout_input("tok_visa"))
        .await;

    assert_eq!(response.data()["checkout"]["status"], "PAID");
    assert!(stripe.seen("/v1/refunds").is_empty());
    assert_eq!(handled_events(&app).await, 1);
    assert_eq!(stock(&app, &product).await, 3);
    assert_eq!(cart_quantity(&app, &buyer).await, 0);
}

#[tokio::test]
async fn cancelling_a_paid_order_sends_one_refund_with_an_idempotency_key() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, product) = buyer_with_cart(&app).await;
    let paid = app
        .gql_as(&buyer, CHECKOUT, checkout_input("tok_visa"))
        .await;
    let order = paid.data()["checkout"].clone();

    let cancelled = app
        .gql_as(&buyer, CANCEL, json!({ "id": order["id"] }))
        .await;
    let again = app
        .gql_as(&buyer, CANCEL, json!({ "id": order["id"] }))
        .await;

    assert_eq!(cancelled.data()["cancelOrder"]["status"], "CANCELLED");
    assert_eq!(again.code(), "CONFLICT");
    let refunds = stripe.seen("/v1/refunds");
    assert_eq!(refunds.len(), 1);
    let id = GlobalId::parse(order["id"].as_str().expect("id"), "id")
        .expect("an order id")
        .id;
    let charge = ledger(&app, id, PaymentKind::Charge)
        .await
        .expect("a charge");
    assert_eq!(
        refunds[0].param("payment_intent"),
        charge.reference.as_deref()
    );
    assert_eq!(refunds[0].param("amount"), Some("2500"));
    let number = order["number"].as_str().expect("a number");
    assert_eq!(
        refunds[0].header("idempotency-key"),
        Some(format!("refund-{number}").as_str())
    );
    let refund = ledger(&app, id, PaymentKind::Refund)
        .await
        .expect("a refund");
    assert_eq!(refund.status, PaymentStatus::Succeeded);
    assert!(
        refund
            .reference
            .as_deref()
            .is_some_and(|r| r.starts_with("re_mock_"))
    );
    assert_eq!(stock(&app, &product).await, 5);
}

#[tokio::test]
async fn a_signed_payment_intent_succeeded_event_marks_a_pending_order_paid() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, product) = buyer_with_cart(&app).await;
    let order = pending_order(&app, &buyer).await;

    let status = deliver(
        &app,
        &event(
            "evt_paid",
            "payment_intent.succeeded",
            intent_of(&order, "pi_hook"),
        ),
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(order_row(&app, order.id).await.status, OrderStatus::Paid);
    let charge = ledger(&app, order.id, PaymentKind::Charge)
        .await
        .expect("a charge");
    assert_eq!(charge.status, PaymentStatus::Succeeded);
    assert_eq!(charge.reference.as_deref(), Some("pi_hook"));
    assert_eq!(stock(&app, &product).await, 3);
    assert_eq!(handled_events(&app).await, 1);
}

#[tokio::test]
async fn the_same_event_delivered_twice_or_at_once_acts_once() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, product) = buyer_with_cart(&app).await;
    let order = pending_order(&app, &buyer).await;
    let failed = event(
        "evt_failed",
        "payment_intent.payment_failed",
        intent_of(&order, "pi_hook"),
    );

    let concurrent = join_all((0..4).map(|_| deliver(&app, &failed))).await;
    let later = deliver(&app, &failed).await;

    assert!(concurrent.iter().all(|s| *s == StatusCode::OK));
    assert_eq!(later, StatusCode::OK);
    assert_eq!(handled_events(&app).await, 1);
    assert_eq!(
        order_row(&app, order.id).await.status,
        OrderStatus::Cancelled
    );
    assert_eq!(stock(&app, &product).await, 5);

    let paid = pending_order(&app, &buyer).await;
    let succeeded = event(
        "evt_paid",
        "payment_intent.succeeded",
        intent_of(&paid, "pi_hook_2"),
    );
    assert_eq!(deliver(&app, &succeeded).await, StatusCode::OK);
    assert_eq!(deliver(&app, &succeeded).await, StatusCode::OK);
    assert_eq!(handled_events(&app).await, 2);
    assert_eq!(order_row(&app, paid.id).await.status, OrderStatus::Paid);
    assert!(stripe.seen("/v1/refunds").is_empty());
}

#[tokio::test]
async fn a_webhook_with_a_missing_or_bad_signature_is_refused_and_changes_nothing() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, _) = buyer_with_cart(&app).await;
    let order = pending_order(&app, &buyer).await;
    let body = serde_json::to_vec(&event(
        "evt_forged",
        "payment_intent.succeeded",
        intent_of(&order, "pi_forged"),
    ))
    .expect("json");
    let wrong_secret = WebhookSecret::parse("whsec_someone_else").expect("secret");
    let url = app.url("/webhooks/stripe");

    let cases = [
        None,
        Some("garbage".to_owned()),
        Some(format!("t={},v1={}", now(), "ab".repeat(32))),
        Some(sign(&wrong_secret, &body, now())),
        Some(sign(
            &WebhookSecret::parse(WEBHOOK_SECRET).expect("secret"),
            b"another body",
            now(),
        )),
    ];
    for signature in cases {
        let status = send_webhook(&url, body.clone(), signature.as_deref()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{signature:?}");
    }

    assert_eq!(order_row(&app, order.id).await.status, OrderStatus::Pending);
    assert_eq!(handled_events(&app).await, 0);
}

#[tokio::test]
async fn a_webhook_signed_more_than_five_minutes_ago_is_refused() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, _) = buyer_with_cart(&app).await;
    let order = pending_order(&app, &buyer).await;
    let replayed = event(
        "evt_old",
        "payment_intent.succeeded",
        intent_of(&order, "pi_old"),
    );

    let status = deliver_to(&app.url("/webhooks/stripe"), &replayed, now() - 301).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(order_row(&app, order.id).await.status, OrderStatus::Pending);
    assert_eq!(handled_events(&app).await, 0);
}

#[tokio::test]
async fn a_payment_failed_event_cancels_a_pending_order_and_returns_its_stock() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, product) = buyer_with_cart(&app).await;
    let order = pending_order(&app, &buyer).await;
    assert_eq!(stock(&app, &product).await, 3);

    let status = deliver(
        &app,
        &event(
            "evt_failed",
            "payment_intent.payment_failed",
            intent_of(&order, "pi_failed"),
        ),
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        order_row(&app, order.id).await.status,
        OrderStatus::Cancelled
    );
    assert_eq!(stock(&app, &product).await, 5);
    let charge = ledger(&app, order.id, PaymentKind::Charge)
        .await
        .expect("a charge");
    assert_eq!(charge.status, PaymentStatus::Failed);
}

#[tokio::test]
async fn a_payment_failed_event_leaves_a_paid_order_alone() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, product) = buyer_with_cart(&app).await;
    let paid = app
        .gql_as(&buyer, CHECKOUT, checkout_input("tok_visa"))
        .await;
    let id = GlobalId::parse(paid.data()["checkout"]["id"].as_str().expect("id"), "id")
        .expect("an order id")
        .id;
    let order = order_row(&app, id).await;

    let status = deliver(
        &app,
        &event(
            "evt_late_failure",
            "payment_intent.payment_failed",
            intent_of(&order, "pi_other"),
        ),
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(order_row(&app, id).await.status, OrderStatus::Paid);
    assert_eq!(stock(&app, &product).await, 3);
}

#[tokio::test]
async fn a_payment_for_an_order_cancelled_meanwhile_is_refunded() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, product) = buyer_with_cart(&app).await;
    let order = pending_order(&app, &buyer).await;
    // The sweeper gave up on the order before Stripe's answer came.
    let released = db::write(&app.db, async |txn| orders::release(txn, order.id).await);
    assert!(released.await.expect("released"));

    let status = deliver(
        &app,
        &event(
            "evt_late",
            "payment_intent.succeeded",
            intent_of(&order, "pi_late"),
        ),
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        order_row(&app, order.id).await.status,
        OrderStatus::Cancelled
    );
    assert_eq!(stock(&app, &product).await, 5);
    // The refund is asked for after the delivery is answered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while ledger(&app, order.id, PaymentKind::Refund)
        .await
        .is_none_or(|r| r.status != PaymentStatus::Succeeded)
    {
        assert!(tokio::time::Instant::now() < deadline, "no refund in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refunds = stripe.seen("/v1/refunds");
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].param("payment_intent"), Some("pi_late"));
    let charge = ledger(&app, order.id, PaymentKind::Charge)
        .await
        .expect("a charge");
    assert_eq!(charge.status, PaymentStatus::Succeeded);
    assert_eq!(charge.reference.as_deref(), Some("pi_late"));
}

#[tokio::test]
async fn a_payment_that_does_not_match_the_order_total_settles_nothing() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, _) = buyer_with_cart(&app).await;
    let order = pending_order(&app, &buyer).await;
    let mut intent = intent_of(&order, "pi_short");
    intent["amount"] = json!(order.total_cents - 1);

    let status = deliver(
        &app,
        &event("evt_short", "payment_intent.succeeded", intent),
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(order_row(&app, order.id).await.status, OrderStatus::Pending);
}

#[tokio::test]
async fn a_charge_refunded_event_completes_a_refund_the_shop_saw_fail() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, _) = buyer_with_cart(&app).await;
    let paid = app
        .gql_as(&buyer, CHECKOUT, checkout_input("tok_visa"))
        .await;
    let order_id = paid.data()["checkout"]["id"].clone();
    let id = GlobalId::parse(order_id.as_str().expect("id"), "id")
        .expect("an order id")
        .id;
    // The refund's answer is lost: the ledger says pending (outcome unknown), yet Stripe
    // did refund.
    stripe.plan_refunds(&[500]);
    let cancelled = app.gql_as(&buyer, CANCEL, json!({ "id": order_id })).await;
    assert_eq!(cancelled.data()["cancelOrder"]["status"], "CANCELLED");
    assert_eq!(
        ledger(&app, id, PaymentKind::Refund)
            .await
            .expect("a refund")
            .status,
        PaymentStatus::Pending
    );
    let charge = ledger(&app, id, PaymentKind::Charge)
        .await
        .expect("a charge");

    let status = deliver(
        &app,
        &event(
            "evt_refunded",
            "charge.refunded",
            json!({
                "id": "ch_mock", "object": "charge", "payment_intent": charge.reference,
                "amount": 2500, "amount_refunded": 2500, "refunded": true,
                "refunds": { "object": "list", "data": [{ "id": "re_from_stripe" }] },
            }),
        ),
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    let refund = ledger(&app, id, PaymentKind::Refund)
        .await
        .expect("a refund");
    assert_eq!(refund.status, PaymentStatus::Succeeded);
    assert_eq!(refund.reference.as_deref(), Some("re_from_stripe"));
    // Nothing is owed any more, so the sweeper has no refund to retry.
    let swept = orders::sweep(
        &app.db,
        &app.payments,
        chrono::Utc::now() + chrono::Duration::minutes(1),
    )
    .await
    .expect("swept");
    assert_eq!(swept.refunded, 0);
    assert_eq!(stripe.seen("/v1/refunds").len(), 1);
}

#[tokio::test]
async fn events_of_other_types_are_acknowledged_and_ignored() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;

    let status = deliver(
        &app,
        &event("evt_other", "customer.created", json!({ "id": "cus_1" })),
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(handled_events(&app).await, 0);
}

#[tokio::test]
async fn the_webhook_is_not_found_when_no_signing_secret_is_configured() {
    let stripe = MockStripe::start().await;
    let url = stripe.url.clone();
    let app = spawn_app_with(|config| {
        config.payment_gateway = PaymentGatewayKind::Stripe;
        config.stripe_secret_key = Some(SECRET_KEY.into());
        config.stripe_api_base = url;
    })
    .await;

    let status = deliver(&app, &event("evt_1", "payment_intent.succeeded", json!({}))).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_server_refuses_to_start_with_stripe_and_no_secret_key() {
    let database = TestDatabase::create().await;
    let mut config = Config::with_database(database.url());
    config.listen = "127.0.0.1:0".parse().expect("an address");
    config.payment_gateway = PaymentGatewayKind::Stripe;

    let refused = Server::build(&config).await;

    let message = refused.err().expect("refused").to_string();
    assert!(message.contains("SHOP_STRIPE_SECRET_KEY"), "{message}");

    config.stripe_secret_key = Some("pk_test_publishable".into());
    let message = Server::build(&config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(message.contains("publishable"), "{message}");
}

#[tokio::test]
async fn a_stripe_that_does_not_answer_in_time_leaves_the_outcome_unknown() {
    let stripe = MockStripe::start().await;
    stripe.plan_charges(&[Plan::Hang]);
    let mut settings =
        StripeSettings::new(SecretKey::parse(SECRET_KEY).expect("a key"), &stripe.url)
            .expect("settings");
    settings.request_timeout = Duration::from_millis(300);
    let gateway = StripeGateway::new(settings).expect("a client");

    let outcome = gateway
        .charge(&ChargeRequest {
            amount: Money::from_cents(2500),
            currency: Currency::parse("USD").expect("USD"),
            token: Some("tok_visa".into()),
            idempotency_key: "ORD-TIMEOUT".into(),
            description: "Order ORD-TIMEOUT".into(),
            return_url: "http://store.example/orders".into(),
        })
        .await;

    assert!(
        matches!(outcome, Err(PaymentError::Unavailable(_))),
        "{outcome:?}"
    );
    // A timed-out request may still be running at Stripe: it is not resent.
    assert_eq!(stripe.seen("/v1/payment_intents").len(), 1);
}

const REFUND_ORDER: &str = "mutation($id: ID!, $amount: Decimal!) { refundOrder(id: $id, amount: $amount) { id status refundedTotal { amount } refunds { amount { amount } } } }";

/// A PAID order of 25.00 through Stripe, the admin who may refund it, and the order's
/// global ID and number.
async fn paid_through_stripe(app: &TestApp) -> (Session, Session, String, String) {
    let (buyer, _) = buyer_with_cart(app).await;
    let paid = app
        .gql_as(&buyer, CHECKOUT, checkout_input("tok_visa"))
        .await;
    let order = paid.data()["checkout"].clone();
    let admin = app.login("boss", crate::support::PASSWORD).await;
    let admin = crate::support::session_from(&admin.data()["login"]);
    (
        buyer,
        admin,
        order["id"].as_str().expect("an id").to_owned(),
        order["number"].as_str().expect("a number").to_owned(),
    )
}

#[tokio::test]
async fn a_partial_refund_sends_its_amount_under_its_own_key_and_a_cancellation_the_rest() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, admin, order, number) = paid_through_stripe(&app).await;

    let refunded = app
        .gql_as(
            &admin,
            REFUND_ORDER,
            json!({ "id": order, "amount": "5.00" }),
        )
        .await;
    let cancelled = app.gql_as(&buyer, CANCEL, json!({ "id": order })).await;

    assert_eq!(
        refunded.data()["refundOrder"]["refundedTotal"]["amount"],
        "5.00"
    );
    assert_eq!(cancelled.data()["cancelOrder"]["status"], "CANCELLED");
    let refunds = stripe.seen("/v1/refunds");
    assert_eq!(refunds.len(), 2);
    let charge = ledger(
        &app,
        GlobalId::parse(&order, "id").expect("id").id,
        PaymentKind::Charge,
    )
    .await
    .expect("a charge");
    for refund in &refunds {
        assert_eq!(refund.param("payment_intent"), charge.reference.as_deref());
        // The key travels in the metadata too, to find the refund again once Stripe has
        // forgotten the key.
        assert_eq!(
            refund.param("metadata[shop_refund_key]"),
            refund.header("idempotency-key")
        );
    }
    assert_eq!(refunds[0].param("amount"), Some("500"));
    let partial_key = refunds[0].header("idempotency-key").expect("a key");
    assert!(
        partial_key.starts_with(&format!("refund-{number}-")),
        "{partial_key}"
    );
    assert_eq!(refunds[1].param("amount"), Some("2000"));
    assert_eq!(
        refunds[1].header("idempotency-key"),
        Some(format!("refund-{number}").as_str())
    );
}

#[tokio::test]
async fn a_refund_stripe_does_not_answer_stays_owed_and_the_sweeper_completes_it_under_its_key() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (_, admin, order, _) = paid_through_stripe(&app).await;
    stripe.plan_refunds(&[500]);

    let answer = app
        .gql_as(
            &admin,
            REFUND_ORDER,
            json!({ "id": order, "amount": "7.50" }),
        )
        .await;

    // Counted (pending), so no other refund can take its room meanwhile.
    assert_eq!(
        answer.data()["refundOrder"]["refundedTotal"]["amount"],
        "7.50"
    );
    let id = GlobalId::parse(&order, "id").expect("id").id;
    let owed = ledger(&app, id, PaymentKind::Refund)
        .await
        .expect("a refund");
    assert_eq!(owed.status, PaymentStatus::Pending);
    let swept = orders::sweep(
        &app.db,
        &app.payments,
        chrono::Utc::now() + chrono::Duration::minutes(1),
    )
    .await
    .expect("swept");
    let again = orders::sweep(
        &app.db,
        &app.payments,
        chrono::Utc::now() + chrono::Duration::minutes(2),
    )
    .await
    .expect("swept again");

    assert_eq!((swept.refunded, again.refunded), (1, 0));
    let refunds = stripe.seen("/v1/refunds");
    assert_eq!(refunds.len(), 2);
    assert_eq!(
        refunds[0].header("idempotency-key"),
        refunds[1].header("idempotency-key")
    );
    assert_eq!(refunds[1].param("amount"), Some("750"));
    let done = ledger(&app, id, PaymentKind::Refund)
        .await
        .expect("a refund");
    assert_eq!(done.status, PaymentStatus::Succeeded);
    assert!(done.reference.is_some_and(|r| r.starts_with("re_mock_")));
    assert_eq!(order_row(&app, id).await.refunded_cents, 750);
}

#[tokio::test]
async fn a_refund_stripe_refuses_is_payment_declined_and_counts_for_nothing() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (_, admin, order, _) = paid_through_stripe(&app).await;
    stripe.plan_refused_refund();

    let refused = app
        .gql_as(
            &admin,
            REFUND_ORDER,
            json!({ "id": order, "amount": "10.00" }),
        )
        .await;
    let then = app
        .gql_as(
            &admin,
            REFUND_ORDER,
            json!({ "id": order, "amount": "25.00" }),
        )
        .await;

    assert_eq!(refused.code(), "PAYMENT_DECLINED");
    // What the refused refund had taken is free again: the whole total can be refunded.
    assert_eq!(
        then.data()["refundOrder"]["refundedTotal"]["amount"],
        "25.00"
    );
    assert_eq!(
        then.data()["refundOrder"]["refunds"],
        json!([{ "amount": { "amount": "25.00" } }])
    );
    let id = GlobalId::parse(&order, "id").expect("id").id;
    assert_eq!(order_row(&app, id).await.refunded_cents, 2500);
}

#[tokio::test]
async fn a_full_refund_made_in_the_dashboard_leaves_nothing_to_refund_or_cancel() {
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (buyer, admin, order, _) = paid_through_stripe(&app).await;
    app.gql_as(
        &admin,
        REFUND_ORDER,
        json!({ "id": order, "amount": "5.00" }),
    )
    .await
    .data();
    let id = GlobalId::parse(&order, "id").expect("id").id;
    let charge = ledger(&app, id, PaymentKind::Charge)
        .await
        .expect("a charge");

    let status = deliver(
        &app,
        &event(
            "evt_dashboard",
            "charge.refunded",
            json!({
                "id": "ch_mock", "object": "charge", "payment_intent": charge.reference,
                "amount": 2500, "amount_refunded": 2500, "refunded": true,
                "refunds": { "object": "list", "data": [{ "id": "re_dashboard" }] },
            }),
        ),
    )
    .await;
    let more = app
        .gql_as(
            &admin,
            REFUND_ORDER,
            json!({ "id": order, "amount": "0.01" }),
        )
        .await;
    let cancelled = app.gql_as(&buyer, CANCEL, json!({ "id": order })).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(order_row(&app, id).await.refunded_cents, 2500);
    assert_eq!((more.code(), more.field()), ("BAD_USER_INPUT", "amount"));
    assert_eq!(cancelled.data()["cancelOrder"]["status"], "CANCELLED");
    // Only the admin's refund was ever asked of Stripe.
    assert_eq!(stripe.seen("/v1/refunds").len(), 1);
    let outside: Vec<_> = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(id))
        .filter(payment::Column::Kind.eq(PaymentKind::Refund))
        .all(&app.db)
        .await
        .expect("the ledger")
        .into_iter()
        .map(|row| (row.amount_cents, row.status, row.reference))
        .collect();
    assert_eq!(outside.len(), 2);
    assert_eq!(
        outside[1],
        (
            2000,
            PaymentStatus::Succeeded,
            Some("re_dashboard".to_owned())
        )
    );
}

#[tokio::test]
async fn a_charge_refunded_event_completes_an_unanswered_refund_of_the_admin_and_announces_it_once()
{
    let stripe = MockStripe::start().await;
    let app = spawn_shop(&stripe).await;
    let (_, admin, order, _) = paid_through_stripe(&app).await;
    stripe.plan_refunds(&[500]);
    app.gql_as(
        &admin,
        REFUND_ORDER,
        json!({ "id": order, "amount": "25.00" }),
    )
    .await
    .data();
    let id = GlobalId::parse(&order, "id").expect("id").id;
    let charge = ledger(&app, id, PaymentKind::Charge)
        .await
        .expect("a charge");
    let refunded = event(
        "evt_refunded_in_full",
        "charge.refunded",
        json!({
            "id": "ch_mock", "object": "charge", "payment_intent": charge.reference,
            "amount": 2500, "amount_refunded": 2500, "refunded": true,
            "refunds": { "object": "list", "data": [{ "id": "re_lost_answer" }] },
        }),
    );

    assert_eq!(deliver(&app, &refunded).await, StatusCode::OK);
    let swept = orders::sweep(
        &app.db,
        &app.payments,
        chrono::Utc::now() + chrono::Duration::minutes(1),
    )
    .await
    .expect("swept");

    let refund = ledger(&app, id, PaymentKind::Refund)
        .await
        .expect("a refund");
    assert_eq!(refund.status, PaymentStatus::Succeeded);
    assert_eq!(refund.reference.as_deref(), Some("re_lost_answer"));
    assert_eq!(swept.refunded, 0);
    assert_eq!(stripe.seen("/v1/refunds").len(), 1);
    assert_eq!(order_row(&app, id).await.refunded_cents, 2500);
    let announcements = outbox_message::Entity::find()
        .filter(outbox_message::Column::OrderId.eq(id))
        .filter(outbox_message::Column::Kind.eq(MessageKind::OrderRefund))
        .count(&app.db)
        .await
        .expect("the outbox");
    assert_eq!(announcements, 1);
}
