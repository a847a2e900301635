//! Payments that wait for their customer: a card that needs 3-D Secure (the test gateway's
//! `tok_threeDSecureRequired`, Stripe's `requires_action`). Checkout answers the order
//! PENDING with its stock taken and `payment { status: REQUIRES_ACTION }` saying what to do;
//! the order is then settled exactly once, by whichever comes first of the authentication
//! (the test gateway's page, Stripe's webhook), `confirmPayment`, and the sweeper once the
//! order's window has passed.

use chrono::{Duration, Utc};
use entity::{
    order,
    outbox_message::{self, MessageKind},
    payment::{self, PaymentKind, PaymentStatus},
    product,
};
use futures_util::future::join_all;
use reqwest::{StatusCode, header, redirect::Policy};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shop::{config::PaymentGatewayKind, service::orders};

use crate::{
    store::{Shop, address, db_id, open_shop, open_shop_on, text},
    stripe::{MockStripe, Plan, SECRET_KEY, WEBHOOK_SECRET, deliver, event},
    support::{Session, spawn_app_with},
};

const THREE_D_SECURE: &str = "tok_threeDSecureRequired";
const ORDER_FIELDS: &str = "id number status total { amount } payment { method status amount { amount } clientSecret redirectUrl }";
const CONFIRM: &str = "mutation($number: String!) { confirmPayment(orderNumber: $number) }";

/// A customer with 2 of a new product (stock 5) in the cart; the product.
pub(crate) async fn customer_with_cart(shop: &Shop, who: &str) -> (Session, String) {
    let product = shop.product(&format!("Kettle {who}"), "20.00", 5).await;
    let buyer = shop.register(who).await;
    shop.put_in_cart(&buyer, &product, 2).await;
    (buyer, product)
}

async fn checkout(
    shop: &Shop,
    who: &Session,
    token: &str,
    key: Option<&str>,
) -> crate::support::Gql {
    let mut input = json!({ "shippingAddress": address(), "paymentToken": token });
    if let Some(key) = key {
        input["idempotencyKey"] = json!(key);
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

/// A checkout whose card needs 3-D Secure; the PENDING order it answers.
async fn awaiting_authentication(shop: &Shop, who: &Session) -> Value {
    checkout(shop, who, THREE_D_SECURE, None).await.data()["checkout"].clone()
}

async fn confirm(shop: &Shop, number: &str) -> crate::support::Gql {
    shop.gql(CONFIRM, json!({ "number": number })).await
}

pub(crate) async fn confirmed(shop: &Shop, number: &str) -> String {
    text(&confirm(shop, number).await.data()["confirmPayment"]).to_owned()
}

pub(crate) async fn read(shop: &Shop, order: &str) -> Value {
    shop.gql_as(
        &shop.admin,
        &format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"),
        json!({ "id": order }),
    )
    .await
    .data()["order"]
        .clone()
}

pub(crate) async fn stock(shop: &Shop, product_id: &str) -> i32 {
    product::Entity::find_by_id(db_id(product_id))
        .one(&shop.db)
        .await
        .expect("read")
        .expect("the product")
        .stock
}

/// How many order status emails the order has queued.
pub(crate) async fn status_mails(shop: &Shop, order: &str) -> u64 {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::OrderId.eq(db_id(order)))
        .filter(outbox_message::Column::Kind.eq(MessageKind::OrderStatus))
        .count(&shop.db)
        .await
        .expect("the outbox")
}

pub(crate) async fn charge_row(shop: &Shop, order: &str) -> payment::Model {
    payment::Entity::find()
        .filter(payment::Column::OrderId.eq(db_id(order)))
        .filter(payment::Column::Kind.eq(PaymentKind::Charge))
        .one(&shop.db)
        .await
        .expect("read")
        .expect("a charge")
}

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("a client")
}

/// The customer's answer on the test gateway's page: the response (a 303, normally).
async fn answer_page(url: &str, outcome: &str) -> reqwest::Response {
    browser()
        .post(url)
        .form(&[("outcome", outcome)])
        .send()
        .await
        .expect("posted")
}

fn redirect_url(order: &Value) -> &str {
    text(&order["payment"]["redirectUrl"])
}

pub(crate) async fn sweep_after_the_window(shop: &Shop) -> orders::Swept {
    orders::sweep(&shop.db, &shop.payments, Utc::now() + Duration::minutes(16))
        .await
        .expect("swept")
}

#[tokio::test]
async fn a_card_that_needs_authentication_leaves_the_order_pending_with_a_page_to_finish_on() {
    let shop = open_shop().await;
    let (buyer, kettle) = customer_with_cart(&shop, "ann").await;

    let order = awaiting_authentication(&shop, &buyer).await;

    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["payment"]["status"], "REQUIRES_ACTION");
    assert_eq!(order["payment"]["method"], "test");
    assert_eq!(order["payment"]["amount"]["amount"], "40.00");
    assert_eq!(order["payment"]["clientSecret"], Value::Null);
    let page = redirect_url(&order);
    assert!(
        page.starts_with(&shop.url("/payments/test/authenticate/test_pa_")),
        "{page}"
    );
    assert_eq!(stock(&shop, &kettle).await, 3, "the stock is held");
    assert_eq!(read(&shop, text(&order["id"])).await, order);

    let shown = browser().get(page).send().await.expect("fetched");
    assert_eq!(shown.status(), StatusCode::OK);
    assert_eq!(
        shown.headers()[header::CACHE_CONTROL]
            .to_str()
            .expect("ascii"),
        "no-store"
    );
    let html = shown.text().await.expect("a page");
    assert!(html.contains(text(&order["number"])), "{html}");
    assert!(html.contains("40.00 USD"), "{html}");
    assert!(html.contains("value=\"succeed\"") && html.contains("value=\"fail\""));

    // Asking changes nothing while the customer has not answered.
    assert_eq!(
        confirmed(&shop, text(&order["number"])).await,
        "REQUIRES_ACTION"
    );
    assert_eq!(read(&shop, text(&order["id"])).await["status"], "PENDING");
    assert_eq!(status_mails(&shop, text(&order["id"])).await, 0);
}

#[tokio::test]
async fn authenticating_on_the_page_pays_the_order_and_sends_the_customer_back_to_it() {
    let shop = open_shop().await;
    let (buyer, kettle) = customer_with_cart(&shop, "ann").await;
    let order = awaiting_authentication(&shop, &buyer).await;
    let (id, number) = (text(&order["id"]), text(&order["number"]));

    let answered = answer_page(redirect_url(&order), "succeed").await;

    assert_eq!(answered.status(), StatusCode::SEE_OTHER);
    let back = answered.headers()[header::LOCATION]
        .to_str()
        .expect("ascii");
    assert!(back.ends_with(&format!("/orders/{number}")), "{back}");
    let paid = read(&shop, id).await;
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["payment"]["status"], "SUCCEEDED");
    assert_eq!(paid["payment"]["redirectUrl"], Value::Null);
    assert_eq!(confirmed(&shop, number).await, "SUCCEEDED");
    assert_eq!(stock(&shop, &kettle).await, 3);
    assert_eq!(
        shop.cart(&buyer).await["totalQuantity"],
        0,
        "the cart is bought"
    );
    assert_eq!(status_mails(&shop, id).await, 1, "one confirmation");
    assert!(
        charge_row(&shop, id)
            .await
            .reference
            .is_some_and(|r| r.starts_with("test_ch_")),
        "the ledger keeps the charge, not the authentication"
    );

    // A second answer (the back button, a double click) changes nothing.
    let again = answer_page(redirect_url(&order), "fail").await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(read(&shop, id).await["status"], "PAID");
    assert_eq!(status_mails(&shop, id).await, 1);
}

#[tokio::test]
async fn a_failed_authentication_cancels_the_order_and_gives_the_stock_back() {
    let shop = open_shop().await;
    let (buyer, kettle) = customer_with_cart(&shop, "ann").await;
    let order = awaiting_authentication(&shop, &buyer).await;
    let (id, number) = (text(&order["id"]), text(&order["number"]));

    let answered = answer_page(redirect_url(&order), "fail").await;
    let succeed_after = answer_page(redirect_url(&order), "succeed").await;

    assert_eq!(answered.status(), StatusCode::SEE_OTHER);
    assert_eq!(succeed_after.status(), StatusCode::SEE_OTHER);
    let cancelled = read(&shop, id).await;
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["payment"]["status"], "FAILED");
    assert_eq!(confirmed(&shop, number).await, "FAILED");
    assert_eq!(stock(&shop, &kettle).await, 5);
    assert_eq!(
        shop.cart(&buyer).await["totalQuantity"],
        2,
        "the cart keeps its lines"
    );
    let charged = shop
        .payments
        .gateways
        .settling("test")
        .expect("the test gateway")
        .find_charge(number)
        .await
        .expect("asked");
    assert_eq!(charged, None, "nothing was charged");
    // The cart is free again: the customer can try another card.
    let retried = checkout(&shop, &buyer, "tok_visa", None).await;
    assert_eq!(retried.data()["checkout"]["status"], "PAID");
}

#[tokio::test]
async fn the_sweeper_cancels_an_order_never_authenticated_and_the_page_then_refuses_it() {
    let shop = open_shop().await;
    let (buyer, kettle) = customer_with_cart(&shop, "ann").await;
    let order = awaiting_authentication(&shop, &buyer).await;
    let id = text(&order["id"]);

    let swept = sweep_after_the_window(&shop).await;
    let too_late = answer_page(redirect_url(&order), "succeed").await;

    assert_eq!(swept.released, 1);
    assert_eq!(too_late.status(), StatusCode::SEE_OTHER);
    let cancelled = read(&shop, id).await;
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["payment"]["status"], "FAILED");
    assert_eq!(stock(&shop, &kettle).await, 5);
    let page = browser()
        .get(redirect_url(&order))
        .send()
        .await
        .expect("fetched")
        .text()
        .await
        .expect("a page");
    assert!(page.contains("expired"), "{page}");
    assert!(!page.contains("<form"), "{page}");
    assert_eq!(status_mails(&shop, id).await, 1, "one cancellation");
}

#[tokio::test]
async fn a_customer_may_cancel_an_order_waiting_for_authentication_and_can_no_longer_pay_it() {
    let shop = open_shop().await;
    let (buyer, kettle) = customer_with_cart(&shop, "ann").await;
    let order = awaiting_authentication(&shop, &buyer).await;
    let id = text(&order["id"]);
    let held = shop.update_line(&buyer, &kettle, 1).await;

    let cancelled = shop.cancel(&buyer, id).await;
    let too_late = answer_page(redirect_url(&order), "succeed").await;

    assert_eq!(
        held.code(),
        "CONFLICT",
        "the cart is held while its payment waits"
    );
    assert_eq!(cancelled.data()["cancelOrder"]["status"], "CANCELLED");
    assert_eq!(too_late.status(), StatusCode::SEE_OTHER);
    assert_eq!(read(&shop, id).await["status"], "CANCELLED");
    assert_eq!(confirmed(&shop, text(&order["number"])).await, "FAILED");
    assert_eq!(stock(&shop, &kettle).await, 5);
    let another_card = checkout(&shop, &buyer, "tok_visa", None).await;
    assert_eq!(another_card.data()["checkout"]["status"], "PAID");
}

#[tokio::test]
async fn a_repeated_checkout_answers_the_order_waiting_for_authentication_at_once() {
    let shop = open_shop().await;
    let (buyer, _) = customer_with_cart(&shop, "ann").await;

    let first = checkout(&shop, &buyer, THREE_D_SECURE, Some("k-1")).await;
    let started = std::time::Instant::now();
    let again = checkout(&shop, &buyer, THREE_D_SECURE, Some("k-1")).await;

    assert_eq!(again.data()["checkout"], first.data()["checkout"]);
    // A replay waits while a payment is being charged, never for a customer: this one
    // answers well before the replay's patience (15 s) would run out.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let orders = order::Entity::find().count(&shop.db).await.expect("count");
    assert_eq!(orders, 1);
}

#[tokio::test]
async fn confirm_payment_of_an_unknown_order_is_not_found_and_misses_are_throttled() {
    let shop = open_shop().await;

    let unknown = confirm(&shop, "SO-0000000000").await;
    let mut codes = Vec::new();
    for _ in 0..25 {
        codes.push(confirm(&shop, "SO-0000000001").await.code().to_owned());
    }

    assert_eq!(unknown.code(), "NOT_FOUND");
    assert!(codes.iter().any(|code| code == "RATE_LIMITED"), "{codes:?}");
}

#[tokio::test]
async fn confirm_payment_of_an_order_paid_at_once_says_so_and_changes_nothing() {
    let shop = open_shop().await;
    let (buyer, _) = customer_with_cart(&shop, "ann").await;
    let order = checkout(&shop, &buyer, "tok_visa", None).await.data()["checkout"].clone();

    assert_eq!(order["payment"]["status"], "SUCCEEDED");
    assert_eq!(
        confirmed(&shop, &text(&order["number"]).to_lowercase()).await,
        "SUCCEEDED"
    );
    assert_eq!(status_mails(&shop, text(&order["id"])).await, 1);
}

#[tokio::test]
async fn the_page_refuses_unknown_payments_and_outcomes() {
    let shop = open_shop().await;
    let (buyer, _) = customer_with_cart(&shop, "ann").await;
    let order = awaiting_authentication(&shop, &buyer).await;

    let unknown = browser()
        .get(shop.url("/payments/test/authenticate/test_pa_0000"))
        .send()
        .await
        .expect("fetched");
    let unknown_answer = answer_page(
        &shop.url("/payments/test/authenticate/test_pa_0000"),
        "succeed",
    )
    .await;
    let bad_outcome = answer_page(redirect_url(&order), "maybe").await;

    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown_answer.status(), StatusCode::NOT_FOUND);
    assert_eq!(bad_outcome.status(), StatusCode::BAD_REQUEST);
    assert_eq!(read(&shop, text(&order["id"])).await["status"], "PENDING");
}

#[tokio::test]
async fn the_page_is_not_served_while_the_test_gateway_is_off() {
    let stripe = MockStripe::start().await;
    let url = stripe.url.clone();
    let shop = open_shop_on(
        spawn_app_with(move |config| {
            config.payment_gateways = Some(vec![PaymentGatewayKind::Stripe]);
            config.stripe_secret_key = Some(SECRET_KEY.into());
            config.stripe_api_base = url;
        })
        .await,
    )
    .await;

    let page = browser()
        .get(shop.url("/payments/test/authenticate/test_pa_0000"))
        .send()
        .await
        .expect("fetched");

    assert_eq!(page.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn however_the_page_confirm_payment_and_the_sweeper_race_each_order_is_settled_once() {
    let shop = open_shop().await;
    let test_gateway = shop
        .payments
        .gateways
        .settling("test")
        .expect("test")
        .clone();
    for round in 0..6 {
        let (buyer, kettle) = customer_with_cart(&shop, &format!("racer{round}")).await;
        let order = awaiting_authentication(&shop, &buyer).await;
        let (id, number) = (
            text(&order["id"]).to_owned(),
            text(&order["number"]).to_owned(),
        );
        let page = redirect_url(&order).to_owned();

        let approve = async {
            answer_page(&page, "succeed").await;
        };
        let confirms = join_all((0..3).map(|_| confirm(&shop, &number)));
        let sweep = async {
            if round % 2 == 0 {
                sweep_after_the_window(&shop).await;
            }
        };
        tokio::join!(approve, confirms, sweep);
        // Whatever is left (the sweeper may have lost to nothing), settled by asking.
        confirm(&shop, &number).await;

        let settled = read(&shop, &id).await;
        let status = text(&settled["status"]).to_owned();
        assert!(
            matches!(status.as_str(), "PAID" | "CANCELLED"),
            "{round}: {status}"
        );
        assert_eq!(status_mails(&shop, &id).await, 1, "{round}: one email");
        let charged = test_gateway.find_charge(&number).await.expect("asked");
        if status == "PAID" {
            assert_eq!(stock(&shop, &kettle).await, 3, "{round}");
            assert_eq!(settled["payment"]["status"], "SUCCEEDED", "{round}");
            assert!(charged.is_some(), "{round}");
        } else {
            assert_eq!(stock(&shop, &kettle).await, 5, "{round}");
            // The sweeper cancelled first; a payment that still got through went back.
            if charged.is_some() {
                let refunds = payment::Entity::find()
                    .filter(payment::Column::OrderId.eq(db_id(&id)))
                    .filter(payment::Column::Kind.eq(PaymentKind::Refund))
                    .filter(payment::Column::Status.eq(PaymentStatus::Succeeded))
                    .all(&shop.db)
                    .await
                    .expect("read");
                assert_eq!(refunds.len(), 1, "{round}: refunded once");
                assert_eq!(refunds[0].amount_cents, 4000, "{round}");
            }
        }
    }
}

/// A shop that takes cards through Stripe's mock.
async fn stripe_shop(stripe: &MockStripe) -> Shop {
    let url = stripe.url.clone();
    let app = spawn_app_with(move |config| {
        config.payment_gateways = Some(vec![PaymentGatewayKind::Stripe]);
        config.stripe_secret_key = Some(SECRET_KEY.into());
        config.stripe_api_base = url;
        config.stripe_webhook_secret = Some(WEBHOOK_SECRET.into());
    })
    .await;
    stripe.tell_shop(&app);
    open_shop_on(app).await
}

/// A customer's checkout with a Stripe card that needs 3-D Secure (2 of a new product,
/// stock 5): the product and the PENDING order.
async fn awaiting_stripe_authentication(
    shop: &Shop,
    stripe: &MockStripe,
    who: &str,
) -> (String, Value) {
    let (buyer, kettle) = customer_with_cart(shop, who).await;
    stripe.plan_charges(&[Plan::RequireAction]);
    let order = checkout(shop, &buyer, "pm_card_threeDSecure2Required", None)
        .await
        .data()["checkout"]
        .clone();
    (kettle, order)
}

#[tokio::test]
async fn a_stripe_card_needing_3d_secure_hands_the_client_its_secret_and_confirm_payment_settles_it()
 {
    let stripe = MockStripe::start().await;
    let shop = stripe_shop(&stripe).await;
    let (buyer, kettle) = customer_with_cart(&shop, "ann").await;
    stripe.plan_charges(&[Plan::RequireAction]);

    let order = checkout(&shop, &buyer, "pm_card_threeDSecure2Required", None)
        .await
        .data()["checkout"]
        .clone();
    let (id, number) = (text(&order["id"]), text(&order["number"]));

    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["payment"]["status"], "REQUIRES_ACTION");
    assert_eq!(order["payment"]["redirectUrl"], Value::Null);
    let secret = text(&order["payment"]["clientSecret"]);
    assert!(
        secret.starts_with("pi_mock_") && secret.contains("_secret_"),
        "{secret}"
    );
    let sent = &stripe.seen("/v1/payment_intents")[0];
    assert_eq!(
        sent.param("payment_method"),
        Some("pm_card_threeDSecure2Required")
    );
    assert_eq!(sent.param("payment_method_types[]"), Some("card"));
    assert_eq!(stock(&shop, &kettle).await, 3);

    assert_eq!(confirmed(&shop, number).await, "REQUIRES_ACTION");
    stripe.authenticate(number, true);
    assert_eq!(confirmed(&shop, number).await, "SUCCEEDED");
    assert_eq!(confirmed(&shop, number).await, "SUCCEEDED");

    let paid = read(&shop, id).await;
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["payment"]["clientSecret"], Value::Null);
    assert_eq!(status_mails(&shop, id).await, 1);
    assert_eq!(
        stripe.seen("/v1/payment_intents/{id}").len(),
        2,
        "asked until it was settled, not after"
    );
}

#[tokio::test]
async fn a_failed_stripe_authentication_cancels_the_order_when_confirmed() {
    let stripe = MockStripe::start().await;
    let shop = stripe_shop(&stripe).await;
    let (kettle, order) = awaiting_stripe_authentication(&shop, &stripe, "ann").await;
    let number = text(&order["number"]);

    stripe.authenticate(number, false);

    assert_eq!(confirmed(&shop, number).await, "FAILED");
    assert_eq!(read(&shop, text(&order["id"])).await["status"], "CANCELLED");
    assert_eq!(stock(&shop, &kettle).await, 5);
}

#[tokio::test]
async fn stripe_s_webhook_and_confirm_payment_racing_settle_the_order_once() {
    let stripe = MockStripe::start().await;
    let shop = stripe_shop(&stripe).await;
    for round in 0..4 {
        let (kettle, order) =
            awaiting_stripe_authentication(&shop, &stripe, &format!("racer{round}")).await;
        let (id, number) = (text(&order["id"]), text(&order["number"]));
        let intent = stripe.authenticate(number, true);

        let succeeded = event(
            &format!("evt_3ds_{round}"),
            "payment_intent.succeeded",
            intent,
        );
        let webhook = deliver(&shop, &succeeded);
        let confirms = join_all((0..3).map(|_| confirm(&shop, number)));
        let (delivered, _) = tokio::join!(webhook, confirms);

        assert_eq!(delivered, StatusCode::OK);
        assert_eq!(read(&shop, id).await["status"], "PAID", "{round}");
        assert_eq!(status_mails(&shop, id).await, 1, "{round}");
        assert_eq!(stock(&shop, &kettle).await, 3, "{round}");
    }
}

#[tokio::test]
async fn the_sweeper_calls_off_a_stripe_payment_never_authenticated() {
    let stripe = MockStripe::start().await;
    let shop = stripe_shop(&stripe).await;
    let (kettle, order) = awaiting_stripe_authentication(&shop, &stripe, "ann").await;

    let swept = sweep_after_the_window(&shop).await;

    assert_eq!(swept.released, 1);
    assert_eq!(read(&shop, text(&order["id"])).await["status"], "CANCELLED");
    assert_eq!(stock(&shop, &kettle).await, 5);
    let cancelled = stripe.seen("/v1/payment_intents/{id}/cancel");
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].param("cancellation_reason"), Some("abandoned"));
}
