//! Several payment gateways at once: `paymentMethods` lists the enabled ones, checkout
//! pays through the one the buyer names (the first by default), and everything after the
//! charge (cancellations, refunds, the sweeper, webhooks) goes through the gateway that
//! took the money, whatever the server's default is now. `Order.payment` says which,
//! and where the payment stands.

use entity::payment::{self, PaymentKind, PaymentStatus};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use shop::{
    config::{Config, PaymentGatewayKind},
    domain::{GlobalId, Money, NodeKind},
    payments::ChargeRequest,
    server::Server,
    service::{checkout, orders},
};

use crate::{
    store::{Shop, VISA, address, db_id, open_shop_on, postal_address},
    stripe::{MockStripe, Plan, SECRET_KEY, WEBHOOK_SECRET, deliver, event, intent_of},
    support::{Session, TestDatabase, spawn_app_with},
};

use PaymentGatewayKind::{Stripe, Test};

const PAYMENT_FIELDS: &str = "id number status total { amount } refundedTotal { amount } payment { method status amount { amount currencyCode } clientSecret redirectUrl }";

/// A shop with these gateways enabled, in this order, taking Stripe's payments through
/// `stripe`'s mock (whose key is set, so Stripe is on standby when not enabled).
async fn shop_with(gateways: &[PaymentGatewayKind], stripe: &MockStripe) -> Shop {
    let (gateways, url) = (gateways.to_vec(), stripe.url.clone());
    let app = spawn_app_with(move |config| {
        config.payment_gateways = Some(gateways);
        config.stripe_secret_key = Some(SECRET_KEY.into());
        config.stripe_api_base = url;
        config.stripe_webhook_secret = Some(WEBHOOK_SECRET.into());
    })
    .await;
    stripe.tell_shop(&app);
    open_shop_on(app).await
}

/// `checkout` of the buyer's cart with `method` (left out when `None`) and `token`.
async fn checkout_with(
    shop: &Shop,
    who: &Session,
    method: Option<&str>,
    token: Option<&str>,
) -> crate::support::Gql {
    let mut input = json!({ "shippingAddress": address() });
    if let Some(method) = method {
        input["paymentMethod"] = json!(method);
    }
    if let Some(token) = token {
        input["paymentToken"] = json!(token);
    }
    shop.gql_as(
        who,
        &format!(
            "mutation($input: CheckoutInput!) {{ checkout(input: $input) {{ {PAYMENT_FIELDS} }} }}"
        ),
        json!({ "input": input }),
    )
    .await
}

/// A new customer with 2 of `product` in the cart who pays with `method`; the order.
async fn bought_with(shop: &Shop, who: &str, product: &str, method: Option<&str>) -> Value {
    let buyer = shop.register(who).await;
    shop.put_in_cart(&buyer, product, 2).await;
    checkout_with(shop, &buyer, method, Some(VISA)).await.data()["checkout"].clone()
}

/// The order with [`PAYMENT_FIELDS`], as the admin reads it.
async fn read(shop: &Shop, order: &str) -> Value {
    shop.gql_as(
        &shop.admin,
        &format!("query($id: ID!) {{ order(id: $id) {{ {PAYMENT_FIELDS} }} }}"),
        json!({ "id": order }),
    )
    .await
    .data()["order"]
        .clone()
}

/// An order's ledger rows, oldest first.
async fn ledger_of(shop: &Shop, order: &str) -> Vec<payment::Model> {
    payment::Entity::find()
        .filter(payment::Column::OrderId.eq(db_id(order)))
        .order_by_asc(payment::Column::Id)
        .all(&shop.db)
        .await
        .expect("ledger read")
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

async fn refund(shop: &Shop, order: &str, amount: &str) -> crate::support::Gql {
    shop.gql_as(
        &shop.admin,
        "mutation($id: ID!, $amount: Decimal!) { refundOrder(id: $id, amount: $amount) { id status } }",
        json!({ "id": order, "amount": amount }),
    )
    .await
}

#[tokio::test]
async fn payment_methods_lists_the_enabled_gateways_in_the_configured_order() {
    let stripe = MockStripe::start().await;
    let both = shop_with(&[Stripe, Test], &stripe).await;
    let reversed = shop_with(&[Test, Stripe], &stripe).await;
    let default = open_shop_on(spawn_app_with(|_| {}).await).await;
    let query = "{ paymentMethods { code name } }";

    let listed = both.gql(query, json!({})).await;
    let listed_reversed = reversed.gql(query, json!({})).await;
    let listed_default = default.gql(query, json!({})).await;

    assert_eq!(
        listed.data()["paymentMethods"],
        json!([{ "code": "stripe", "name": "Card" }, { "code": "test", "name": "Test card" }])
    );
    assert_eq!(
        listed_reversed.data()["paymentMethods"],
        json!([{ "code": "test", "name": "Test card" }, { "code": "stripe", "name": "Card" }])
    );
    assert_eq!(
        listed_default.data()["paymentMethods"],
        json!([{ "code": "test", "name": "Test card" }])
    );
}

#[tokio::test]
async fn a_checkout_pays_through_the_method_it_names_and_the_ledger_says_so() {
    let stripe = MockStripe::start().await;
    let shop = shop_with(&[Stripe, Test], &stripe).await;
    let tea = shop.product("Tea", "4.00", 10).await;

    let by_test = bought_with(&shop, "alice", &tea, Some("test")).await;
    let charges_after_test = stripe.seen("/v1/payment_intents").len();
    let by_stripe = bought_with(&shop, "bob", &tea, Some("stripe")).await;

    assert_eq!(by_test["status"], "PAID");
    assert_eq!(charges_after_test, 0, "the test order never reached Stripe");
    let test_ledger = ledger_of(&shop, text(&by_test["id"])).await;
    assert_eq!(test_ledger.len(), 1);
    assert_eq!(test_ledger[0].gateway, "test");
    assert_eq!(test_ledger[0].status, PaymentStatus::Succeeded);
    assert!(
        test_ledger[0]
            .reference
            .as_deref()
            .is_some_and(|r| r.starts_with("test_ch_"))
    );
    assert_eq!(
        by_test["payment"],
        json!({ "method": "test", "status": "SUCCEEDED",
                "amount": { "amount": "8.00", "currencyCode": "USD" },
                "clientSecret": null, "redirectUrl": null })
    );

    assert_eq!(by_stripe["status"], "PAID");
    let charges = stripe.seen("/v1/payment_intents");
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].param("amount"), Some("800"));
    assert_eq!(
        charges[0].param("metadata[order_number]"),
        by_stripe["number"].as_str()
    );
    let stripe_ledger = ledger_of(&shop, text(&by_stripe["id"])).await;
    assert_eq!(stripe_ledger[0].gateway, "stripe");
    assert!(
        stripe_ledger[0]
            .reference
            .as_deref()
            .is_some_and(|r| r.starts_with("pi_mock_"))
    );
    assert_eq!(by_stripe["payment"]["method"], "stripe");
    assert_eq!(by_stripe["payment"]["status"], "SUCCEEDED");
}

#[tokio::test]
async fn a_checkout_without_a_method_pays_with_the_first_enabled_one() {
    let stripe = MockStripe::start().await;
    let stripe_first = shop_with(&[Stripe, Test], &stripe).await;
    let tea = stripe_first.product("Tea", "4.00", 10).await;

    let order = bought_with(&stripe_first, "alice", &tea, None).await;

    assert_eq!(order["payment"]["method"], "stripe");
    assert_eq!(stripe.seen("/v1/payment_intents").len(), 1);
    assert_eq!(
        ledger_of(&stripe_first, text(&order["id"])).await[0].gateway,
        "stripe"
    );

    let other_stripe = MockStripe::start().await;
    let test_first = shop_with(&[Test, Stripe], &other_stripe).await;
    let tea = test_first.product("Tea", "4.00", 10).await;

    let order = bought_with(&test_first, "alice", &tea, None).await;

    assert_eq!(order["payment"]["method"], "test");
    assert!(other_stripe.seen("/v1/payment_intents").is_empty());
}

#[tokio::test]
async fn an_unknown_or_disabled_payment_method_is_bad_user_input_and_nothing_is_written() {
    let stripe = MockStripe::start().await;
    // Stripe's key is set, so Stripe is on standby for settling old orders: still not a
    // method a buyer may choose.
    let shop = shop_with(&[Test], &stripe).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    let alice = shop.register("alice").await;
    shop.put_in_cart(&alice, &tea, 2).await;

    for method in ["stripe", "paypal", "", "TEST", "test,stripe"] {
        let refused = checkout_with(&shop, &alice, Some(method), Some(VISA)).await;

        assert_eq!(refused.code(), "BAD_USER_INPUT", "{method:?}");
        assert_eq!(refused.field(), "paymentMethod", "{method:?}");
    }
    assert!(shop.stored_orders().await.is_empty());
    assert!(shop.ledger().await.is_empty());
    assert_eq!(shop.stock(&tea).await, 10);
    assert_eq!(shop.cart(&alice).await["totalQuantity"], 2);
    assert!(stripe.seen("/v1/payment_intents").is_empty());
    // The same cart then buys with a method the shop takes.
    let paid = checkout_with(&shop, &alice, Some("test"), Some(VISA)).await;
    assert_eq!(paid.data()["checkout"]["status"], "PAID");
}

#[tokio::test]
async fn a_token_method_without_a_token_is_bad_user_input_and_nothing_is_written() {
    let stripe = MockStripe::start().await;
    let shop = shop_with(&[Stripe, Test], &stripe).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    let alice = shop.register("alice").await;
    shop.put_in_cart(&alice, &tea, 2).await;

    for method in [None, Some("stripe"), Some("test")] {
        let refused = checkout_with(&shop, &alice, method, None).await;

        assert_eq!(refused.code(), "BAD_USER_INPUT", "{method:?}");
        assert_eq!(refused.field(), "paymentToken", "{method:?}");
    }
    let blank = checkout_with(&shop, &alice, Some("test"), Some("  ")).await;
    assert_eq!(blank.field(), "paymentToken");
    assert!(shop.stored_orders().await.is_empty());
    assert!(shop.ledger().await.is_empty());
    assert_eq!(shop.stock(&tea).await, 10);
    assert!(stripe.seen("/v1/payment_intents").is_empty());
}

#[tokio::test]
async fn a_payment_method_of_stripe_sent_to_the_test_gateway_is_declined_and_nothing_is_kept() {
    let stripe = MockStripe::start().await;
    let shop = shop_with(&[Stripe, Test], &stripe).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    let alice = shop.register("alice").await;
    shop.put_in_cart(&alice, &tea, 2).await;

    let declined = checkout_with(&shop, &alice, Some("test"), Some("pm_card_visa")).await;

    assert_eq!(declined.code(), "PAYMENT_DECLINED");
    assert!(shop.stored_orders().await.is_empty());
    assert!(shop.ledger().await.is_empty());
    assert_eq!(shop.stock(&tea).await, 10);
    assert!(stripe.seen("/v1/payment_intents").is_empty());
}

#[tokio::test]
async fn a_test_gateway_order_is_refunded_through_the_test_gateway_where_stripe_is_the_default() {
    let stripe = MockStripe::start().await;
    let shop = shop_with(&[Stripe, Test], &stripe).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    let refunded = bought_with(&shop, "alice", &tea, Some("test")).await;
    let cancelled = bought_with(&shop, "bob", &tea, Some("test")).await;
    let alice_refund = text(&refunded["id"]).to_owned();

    refund(&shop, &alice_refund, "3.00").await.data();
    let cancel = shop.cancel(&shop.admin, text(&cancelled["id"])).await;

    assert_eq!(cancel.data()["cancelOrder"]["status"], "CANCELLED");
    assert!(stripe.seen("/v1/refunds").is_empty(), "Stripe was asked");
    for (order, amount) in [
        (&alice_refund, 300),
        (&text(&cancelled["id"]).to_owned(), 800),
    ] {
        let ledger = ledger_of(&shop, order).await;
        let refund = ledger
            .iter()
            .find(|row| row.kind == PaymentKind::Refund)
            .expect("a refund");
        assert_eq!(refund.gateway, "test");
        assert_eq!(refund.status, PaymentStatus::Succeeded);
        assert_eq!(refund.amount_cents, amount);
        assert!(
            refund
                .reference
                .as_deref()
                .is_some_and(|r| r.starts_with("test_re_"))
        );
    }
}

#[tokio::test]
async fn a_stripe_order_is_refunded_through_stripe_where_the_test_gateway_is_the_default() {
    let stripe = MockStripe::start().await;
    let shop = shop_with(&[Test, Stripe], &stripe).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    let refunded = bought_with(&shop, "alice", &tea, Some("stripe")).await;
    let cancelled = bought_with(&shop, "bob", &tea, Some("stripe")).await;

    refund(&shop, text(&refunded["id"]), "3.00").await.data();
    shop.cancel(&shop.admin, text(&cancelled["id"]))
        .await
        .data();

    let refunds = stripe.seen("/v1/refunds");
    assert_eq!(refunds.len(), 2);
    assert_eq!(refunds[0].param("amount"), Some("300"));
    assert_eq!(refunds[1].param("amount"), Some("800"));
    let charge = &ledger_of(&shop, text(&cancelled["id"])).await[0];
    assert_eq!(
        refunds[1].param("payment_intent"),
        charge.reference.as_deref()
    );
    for order in [&refunded, &cancelled] {
        let ledger = ledger_of(&shop, text(&order["id"])).await;
        assert!(
            ledger
                .iter()
                .all(|row| row.gateway == "stripe" && row.status == PaymentStatus::Succeeded),
            "{ledger:?}"
        );
    }
}

#[tokio::test]
async fn an_order_paid_through_a_gateway_since_disabled_is_refunded_through_it() {
    // Test-card orders of a shop that now takes Stripe only: the test gateway stays on
    // standby, so they cancel and refund as before (no money ever moved through it).
    let stripe = MockStripe::start().await;
    let shop = shop_with(&[Stripe], &stripe).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    let order = bought_with(&shop, "alice", &tea, None).await;
    let id = db_id(text(&order["id"]));
    shop.db
        .execute_unprepared(&format!(
            "UPDATE payments SET gateway = 'test', reference = 'test_ch_old' WHERE order_id = {id}"
        ))
        .await
        .expect("the order was paid with the test gateway");
    let methods = shop.gql("{ paymentMethods { code } }", json!({})).await;

    let cancelled = shop.cancel(&shop.admin, text(&order["id"])).await;

    assert_eq!(
        methods.data()["paymentMethods"],
        json!([{ "code": "stripe" }])
    );
    assert_eq!(cancelled.data()["cancelOrder"]["status"], "CANCELLED");
    assert!(stripe.seen("/v1/refunds").is_empty());
    let ledger = ledger_of(&shop, text(&order["id"])).await;
    assert_eq!(ledger[1].kind, PaymentKind::Refund);
    assert_eq!(ledger[1].gateway, "test");
    assert_eq!(ledger[1].status, PaymentStatus::Succeeded);
    assert_eq!(
        read(&shop, text(&order["id"])).await["payment"]["status"],
        "REFUNDED"
    );
}

#[tokio::test]
async fn an_order_paid_through_a_gateway_this_server_cannot_reach_is_not_refunded_and_stays_owed() {
    // A shop that took Stripe payments, restarted with the test gateway only and no
    // Stripe key: an admin's refund is refused before anything is written; a cancellation
    // goes through and owes the refund, which stays PENDING (never marked done) until the
    // gateway is configured again.
    let app = spawn_app_with(|config| config.payment_gateways = Some(vec![Test])).await;
    let shop = open_shop_on(app).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    let order = bought_with(&shop, "alice", &tea, None).await;
    let order_id = text(&order["id"]).to_owned();
    shop.db
        .execute_unprepared(&format!(
            "UPDATE payments SET gateway = 'stripe', reference = 'pi_old' WHERE order_id = {}",
            db_id(&order_id)
        ))
        .await
        .expect("the order was paid through Stripe");

    let refused = refund(&shop, &order_id, "1.00").await;

    assert_eq!(refused.code(), "PAYMENT_DECLINED");
    assert_eq!(ledger_of(&shop, &order_id).await.len(), 1);
    assert_eq!(shop.stored_orders().await[0].refunded_cents, 0);

    let cancelled = shop.cancel(&shop.admin, &order_id).await;
    let swept = orders::sweep(
        &shop.db,
        &shop.payments,
        chrono::Utc::now() + chrono::Duration::minutes(5),
    )
    .await
    .expect("swept");

    assert_eq!(cancelled.data()["cancelOrder"]["status"], "CANCELLED");
    assert_eq!(swept.refunded, 0);
    let ledger = ledger_of(&shop, &order_id).await;
    assert_eq!(ledger.len(), 2);
    assert_eq!(ledger[1].gateway, "stripe");
    assert_eq!(ledger[1].status, PaymentStatus::Pending, "owed, not done");
}

#[tokio::test]
async fn the_sweeper_settles_an_abandoned_order_through_its_gateway_not_the_default() {
    // The test gateway is the default; this order's checkout went to Stripe, which took
    // the money, and its answer was lost. Only Stripe knows: asking the default would
    // release an order that was paid.
    let stripe = MockStripe::start().await;
    let shop = shop_with(&[Test, Stripe], &stripe).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    let (_, pending) = charged_at_stripe_but_pending(&shop, &tea).await;

    let swept = orders::sweep(
        &shop.db,
        &shop.payments,
        chrono::Utc::now() + chrono::Duration::minutes(16),
    )
    .await
    .expect("swept");

    assert_eq!(swept.completed, 1);
    assert_eq!(swept.released, 0);
    assert_eq!(stripe.seen("/v1/payment_intents/search").len(), 1);
    let ledger = shop.ledger().await;
    assert_eq!(ledger[0].status, PaymentStatus::Succeeded);
    assert!(
        ledger[0]
            .reference
            .as_deref()
            .is_some_and(|r| r.starts_with("pi_mock_"))
    );
    let id = GlobalId::new(NodeKind::Order, pending.id).to_string();
    let view = read(&shop, &id).await;
    assert_eq!(view["status"], "PAID");
    assert_eq!(view["payment"]["method"], "stripe");
    assert_eq!(shop.stock(&tea).await, 8);
}

#[tokio::test]
async fn a_lost_answer_at_checkout_is_asked_of_the_chosen_gateway() {
    // Stripe took the money and its answer was lost (a 500): checkout asks Stripe what
    // happened under the order number, not the default test gateway (which would know of
    // no charge, and the buyer would be told the payment failed).
    let stripe = MockStripe::start().await;
    let shop = shop_with(&[Test, Stripe], &stripe).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    stripe.plan_charges(&[Plan::SucceedButAnswer500]);

    let order = bought_with(&shop, "alice", &tea, Some("stripe")).await;

    assert_eq!(order["status"], "PAID");
    assert_eq!(order["payment"]["method"], "stripe");
    assert_eq!(stripe.seen("/v1/payment_intents/search").len(), 1);
}

/// A PENDING order whose checkout chose Stripe on a shop whose default is the test
/// gateway, and which Stripe charged before the answer was lost.
async fn charged_at_stripe_but_pending(shop: &Shop, tea: &str) -> (Session, entity::order::Model) {
    let buyer = shop.register("alice").await;
    shop.put_in_cart(&buyer, tea, 2).await;
    let pending = checkout::reserve(
        &shop.db,
        &shop.payments,
        db_id(&buyer.id),
        &postal_address(),
        None,
    )
    .await
    .expect("a pending order");
    shop.db
        .execute_unprepared(&format!(
            "UPDATE payments SET gateway = 'stripe' WHERE order_id = {}",
            pending.id
        ))
        .await
        .expect("the checkout chose Stripe");
    let stripe_gateway = shop.payments.gateways.settling("stripe").expect("stripe");
    stripe_gateway
        .charge(&ChargeRequest {
            amount: Money::from_cents(pending.total_cents),
            currency: shop.payments.currency.clone(),
            token: Some(VISA.into()),
            idempotency_key: pending.number.clone(),
            description: format!("Order {}", pending.number),
            return_url: "http://store.example/orders".into(),
        })
        .await
        .expect("charged at Stripe");
    (buyer, pending)
}

#[tokio::test]
async fn cancelling_a_pending_order_asks_and_refunds_through_its_gateway_not_the_default() {
    let stripe = MockStripe::start().await;
    let shop = shop_with(&[Test, Stripe], &stripe).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    let (buyer, pending) = charged_at_stripe_but_pending(&shop, &tea).await;
    let id = GlobalId::new(NodeKind::Order, pending.id).to_string();

    let cancelled = shop.cancel(&buyer, &id).await;

    assert_eq!(cancelled.data()["cancelOrder"]["status"], "CANCELLED");
    let refunds = stripe.seen("/v1/refunds");
    assert_eq!(
        refunds.len(),
        1,
        "the charge Stripe took is refunded by Stripe"
    );
    assert_eq!(refunds[0].param("amount"), Some("800"));
    assert_eq!(read(&shop, &id).await["payment"]["status"], "REFUNDED");
    assert_eq!(shop.stock(&tea).await, 10);
}

#[tokio::test]
async fn a_stripe_event_about_an_order_paid_through_another_gateway_changes_nothing() {
    let stripe = MockStripe::start().await;
    let shop = shop_with(&[Test, Stripe], &stripe).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    let buyer = shop.register("alice").await;
    shop.put_in_cart(&buyer, &tea, 2).await;
    let pending = checkout::reserve(
        &shop.db,
        &shop.payments,
        db_id(&buyer.id),
        &postal_address(),
        None,
    )
    .await
    .expect("a pending test-gateway order");

    let failed = deliver(
        &shop,
        &event(
            "evt_failed_elsewhere",
            "payment_intent.payment_failed",
            intent_of(&pending, "pi_elsewhere"),
        ),
    )
    .await;
    let succeeded = deliver(
        &shop,
        &event(
            "evt_paid_elsewhere",
            "payment_intent.succeeded",
            intent_of(&pending, "pi_elsewhere"),
        ),
    )
    .await;

    assert_eq!(failed, StatusCode::OK);
    assert_eq!(succeeded, StatusCode::OK);
    let stored = shop.stored_orders().await.remove(0);
    assert_eq!(stored.status, shop::domain::OrderStatus::Pending);
    assert_eq!(shop.ledger().await[0].status, PaymentStatus::Pending);
    assert_eq!(shop.stock(&tea).await, 8);
}

#[tokio::test]
async fn order_payment_follows_the_order_from_pending_to_paid_failed_and_refunded() {
    let app = spawn_app_with(|_| {}).await;
    let shop = open_shop_on(app).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    let paid = bought_with(&shop, "alice", &tea, None).await;
    let partly = bought_with(&shop, "bob", &tea, None).await;
    let fully = bought_with(&shop, "carol", &tea, None).await;
    let dave = shop.register("dave").await;
    shop.put_in_cart(&dave, &tea, 1).await;
    let pending = checkout::reserve(
        &shop.db,
        &shop.payments,
        db_id(&dave.id),
        &postal_address(),
        None,
    )
    .await
    .expect("a pending order");
    let pending_id = GlobalId::new(NodeKind::Order, pending.id).to_string();

    let pending_view = read(&shop, &pending_id).await;
    refund(&shop, text(&partly["id"]), "1.00").await.data();
    refund(&shop, text(&fully["id"]), "8.00").await.data();
    shop.cancel(&dave, &pending_id).await.data();

    assert_eq!(pending_view["status"], "PENDING");
    assert_eq!(
        pending_view["payment"],
        json!({ "method": "test", "status": "PENDING",
                "amount": { "amount": "4.00", "currencyCode": "USD" },
                "clientSecret": null, "redirectUrl": null })
    );
    let status = async |order: &str| read(&shop, order).await["payment"]["status"].clone();
    assert_eq!(status(text(&paid["id"])).await, "SUCCEEDED");
    assert_eq!(status(text(&partly["id"])).await, "SUCCEEDED");
    assert_eq!(status(text(&fully["id"])).await, "REFUNDED");
    let cancelled = read(&shop, &pending_id).await;
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["payment"]["status"], "FAILED");
    assert_eq!(cancelled["payment"]["method"], "test");
}

#[tokio::test]
async fn a_cancelled_paid_order_shows_its_payment_refunded() {
    let shop = open_shop_on(spawn_app_with(|_| {}).await).await;
    let tea = shop.product("Tea", "4.00", 10).await;
    let order = bought_with(&shop, "alice", &tea, None).await;

    shop.cancel(&shop.admin, text(&order["id"])).await.data();

    let view = read(&shop, text(&order["id"])).await;
    assert_eq!(view["status"], "CANCELLED");
    assert_eq!(view["payment"]["status"], "REFUNDED");
    assert_eq!(view["refundedTotal"]["amount"], "8.00");
}

#[tokio::test]
async fn the_payments_of_a_page_of_orders_cost_the_same_statements_at_any_page_size() {
    let stripe = MockStripe::start().await;
    let shop = shop_with(&[Test, Stripe], &stripe).await;
    let tea = shop.product("Tea", "4.00", 50).await;
    for (who, method) in [
        ("alice", "test"),
        ("bob", "stripe"),
        ("carol", "test"),
        ("dave", "stripe"),
    ] {
        bought_with(&shop, who, &tea, Some(method)).await;
    }
    let query = "query($first: Int) { allOrders(first: $first) { nodes { payment { method status amount { amount } } } } }";
    let cost = async |first: i32| {
        let before = shop.statements();
        let page = shop
            .gql_as(&shop.admin, query, json!({ "first": first }))
            .await;
        let nodes = page.data()["allOrders"]["nodes"].clone();
        assert_eq!(nodes.as_array().map(Vec::len), Some(first as usize));
        assert!(
            nodes
                .as_array()
                .into_iter()
                .flatten()
                .all(|order| order["payment"]["status"] == "SUCCEEDED")
        );
        shop.statements() - before
    };

    let one = cost(1).await;
    let four = cost(4).await;

    assert_eq!(one, four);
}

#[tokio::test]
async fn the_server_refuses_to_start_with_stripe_enabled_and_no_secret_key() {
    let database = TestDatabase::create().await;
    let mut config = Config::with_database(database.url());
    config.listen = "127.0.0.1:0".parse().expect("an address");
    config.payment_gateways = Some(vec![Test, Stripe]);

    let refused = Server::build(&config).await;

    let message = refused.err().expect("refused").to_string();
    assert!(message.contains("SHOP_STRIPE_SECRET_KEY"), "{message}");
}
