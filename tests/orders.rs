//! Orders after checkout: the customer's own history, the admin's list of all orders,
//! fulfilment that only moves forward, cancellation with a refund and the stock back,
//! ownership on every path to an order, and the sweeper that releases checkouts whose
//! payment never completed.

use chrono::{Duration, Utc};
use entity::{
    order_status::OrderStatus,
    payment::{PaymentKind, PaymentStatus},
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use shop::{
    payments::ChargeRequest,
    service::{checkout, orders},
};

use crate::store::{Shop, VISA, db_id, missing_order, open_shop, postal_address, text};
use crate::support::Session;

const HISTORY: &str = "query($first: Int, $after: String, $last: Int, $before: String) { orders(first: $first, after: $after, last: $last, before: $before) { totalCount nodes { id number } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
const ALL_ORDERS: &str = "query($status: OrderStatus) { allOrders(first: 50, status: $status) { totalCount nodes { id status user { id } } } }";

/// The order IDs on a page of a connection.
fn ids(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|order| text(&order["id"]).to_owned())
        .collect()
}

/// The ID of an order bought with `quantity` of `product`.
async fn bought(shop: &Shop, who: &Session, product: &str, quantity: i32) -> String {
    text(&shop.buy(who, product, quantity).await["id"]).to_owned()
}

/// An order left PENDING as by a crash between taking the stock and paying: the first
/// step of checkout, called directly. Answers its global ID.
async fn abandoned(shop: &Shop, who: &Session, product: &str, quantity: i32) -> String {
    shop.put_in_cart(who, product, quantity).await;
    let order = checkout::reserve(
        &shop.db,
        &shop.payments,
        db_id(&who.id),
        &postal_address(),
        None,
    )
    .await
    .expect("stock reserved");
    assert_eq!(order.status, OrderStatus::Pending);
    shop::domain::GlobalId::new(shop::domain::NodeKind::Order, order.id).to_string()
}

async fn status_of(shop: &Shop, id: &str) -> String {
    let response = shop.order(&shop.admin, id).await;
    text(&response.data()["order"]["status"]).to_owned()
}

/// The text in one column of every row `sql` selects, as the database holds it.
async fn stored_text(shop: &Shop, sql: &str) -> Vec<String> {
    let statement = Statement::from_string(shop.db.get_database_backend(), sql);
    shop.db
        .query_all_raw(statement)
        .await
        .expect("query")
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a text column"))
        .collect()
}

/// States are enums in the code, stored under the names earlier releases wrote, so that
/// existing rows need no migration: a change writes exactly those names, and a row
/// written with them reads back as the same state.
#[tokio::test]
async fn states_are_stored_under_the_names_earlier_releases_wrote() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 100).await;
    let order = bought(&shop, &alice, &tea, 1).await;

    assert_eq!(
        stored_text(&shop, "SELECT status FROM orders").await,
        ["PAID"]
    );
    assert_eq!(
        stored_text(&shop, "SELECT kind FROM payments").await,
        ["charge"]
    );
    assert_eq!(
        stored_text(&shop, "SELECT status FROM payments").await,
        ["succeeded"]
    );
    // The admin's welcome and Alice's, and the confirmation of her order.
    let mut kinds = stored_text(&shop, "SELECT kind FROM outbox").await;
    kinds.sort();
    assert_eq!(kinds, ["order_status", "welcome", "welcome"]);
    for state in stored_text(&shop, "SELECT status FROM outbox").await {
        assert!(["pending", "sent"].contains(&state.as_str()), "{state}");
    }

    shop.db
        .execute_unprepared("UPDATE orders SET status = 'SHIPPED'")
        .await
        .expect("an order shipped as an earlier release wrote it");
    shop.db
        .execute_unprepared("UPDATE payments SET kind = 'refund', status = 'failed'")
        .await
        .expect("a ledger row as an earlier release wrote it");

    assert_eq!(shop.stored_orders().await[0].status, OrderStatus::Shipped);
    assert_eq!(status_of(&shop, &order).await, "SHIPPED");
    let ledger = shop.ledger().await;
    assert_eq!(
        (ledger[0].kind, ledger[0].status),
        (PaymentKind::Refund, PaymentStatus::Failed)
    );
}

#[tokio::test]
async fn the_order_history_lists_own_orders_newest_first_in_pages() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let tea = shop.product("Tea", "4.20", 100).await;
    let first = bought(&shop, &alice, &tea, 1).await;
    bought(&shop, &bob, &tea, 1).await;
    let second = bought(&shop, &alice, &tea, 2).await;
    let third = bought(&shop, &alice, &tea, 3).await;

    let page_one = shop
        .gql_as(&alice, HISTORY, json!({ "first": 2 }))
        .await
        .data()["orders"]
        .clone();
    let page_two = shop
        .gql_as(
            &alice,
            HISTORY,
            json!({ "first": 2, "after": page_one["pageInfo"]["endCursor"] }),
        )
        .await
        .data()["orders"]
        .clone();
    let oldest = shop
        .gql_as(&alice, HISTORY, json!({ "last": 1 }))
        .await
        .data()["orders"]
        .clone();

    assert_eq!(page_one["totalCount"], 3);
    assert_eq!(ids(&page_one), vec![third, second]);
    assert_eq!(page_one["pageInfo"]["hasNextPage"], true);
    assert_eq!(ids(&page_two), vec![first.clone()]);
    assert_eq!(page_two["pageInfo"]["hasNextPage"], false);
    assert_eq!(ids(&oldest), vec![first]);
}

#[tokio::test]
async fn a_customer_without_orders_has_an_empty_history_and_anonymous_callers_none() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let tea = shop.product("Tea", "4.20", 100).await;
    bought(&shop, &bob, &tea, 1).await;

    let alices = shop.gql_as(&alice, HISTORY, json!({})).await;
    let anonymous = shop.gql(HISTORY, json!({})).await;

    assert_eq!(alices.data()["orders"]["totalCount"], 0);
    assert_eq!(alices.data()["orders"]["nodes"], json!([]));
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn all_orders_is_for_admins_and_filters_by_status() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let tea = shop.product("Tea", "4.20", 100).await;
    let alices_paid = bought(&shop, &alice, &tea, 1).await;
    let bobs_shipped = bought(&shop, &bob, &tea, 1).await;
    shop.set_status(&shop.admin, &bobs_shipped, "SHIPPED")
        .await
        .data();
    let alices_cancelled = bought(&shop, &alice, &tea, 1).await;
    shop.cancel(&alice, &alices_cancelled).await.data();
    let bobs_paid = bought(&shop, &bob, &tea, 1).await;

    let customer = shop.gql_as(&alice, ALL_ORDERS, json!({})).await;
    let anonymous = shop.gql(ALL_ORDERS, json!({})).await;
    assert_eq!(customer.code(), "FORBIDDEN");
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");

    let all = shop.gql_as(&shop.admin, ALL_ORDERS, json!({})).await;
    assert_eq!(all.data()["allOrders"]["totalCount"], 4);
    assert_eq!(
        ids(&all.data()["allOrders"]),
        vec![
            bobs_paid.clone(),
            alices_cancelled.clone(),
            bobs_shipped.clone(),
            alices_paid.clone()
        ]
    );
    for (status, expected) in [
        ("PAID", vec![bobs_paid, alices_paid]),
        ("SHIPPED", vec![bobs_shipped]),
        ("CANCELLED", vec![alices_cancelled]),
        ("PENDING", vec![]),
        ("DELIVERED", vec![]),
    ] {
        let filtered = shop
            .gql_as(&shop.admin, ALL_ORDERS, json!({ "status": status }))
            .await;
        let filtered = &filtered.data()["allOrders"];
        assert_eq!(ids(filtered), expected, "{status}");
        assert_eq!(filtered["totalCount"], expected.len(), "{status}");
    }
}

#[tokio::test]
async fn an_order_moves_forward_from_paid_to_shipped_to_delivered() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let order = bought(&shop, &alice, &tea, 1).await;

    let shipped = shop.set_status(&shop.admin, &order, "SHIPPED").await;
    assert_eq!(shipped.data()["updateOrderStatus"]["status"], "SHIPPED");
    let delivered = shop.set_status(&shop.admin, &order, "DELIVERED").await;
    assert_eq!(delivered.data()["updateOrderStatus"]["status"], "DELIVERED");

    let seen_by_owner = shop.order(&alice, &order).await;
    assert_eq!(seen_by_owner.data()["order"]["status"], "DELIVERED");
    // Fulfilment moves no stock.
    assert_eq!(shop.stock(&tea).await, 9);
}

#[tokio::test]
async fn every_other_status_change_is_a_conflict_and_changes_nothing() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 100).await;
    let paid = bought(&shop, &alice, &tea, 1).await;
    let shipped = bought(&shop, &alice, &tea, 1).await;
    shop.set_status(&shop.admin, &shipped, "SHIPPED")
        .await
        .data();
    let delivered = bought(&shop, &alice, &tea, 1).await;
    shop.set_status(&shop.admin, &delivered, "SHIPPED")
        .await
        .data();
    shop.set_status(&shop.admin, &delivered, "DELIVERED")
        .await
        .data();
    let cancelled = bought(&shop, &alice, &tea, 1).await;
    shop.cancel(&alice, &cancelled).await.data();
    let pending = abandoned(&shop, &alice, &tea, 1).await;
    let stock_before = shop.stock(&tea).await;
    let cases = [
        (
            &pending,
            "PENDING",
            ["PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"].as_slice(),
        ),
        (
            &paid,
            "PAID",
            &["PENDING", "PAID", "DELIVERED", "CANCELLED"],
        ),
        (
            &shipped,
            "SHIPPED",
            &["PENDING", "PAID", "SHIPPED", "CANCELLED"],
        ),
        (
            &delivered,
            "DELIVERED",
            &["PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"],
        ),
        (
            &cancelled,
            "CANCELLED",
            &["PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"],
        ),
    ];

    for (order, from, targets) in cases {
        for to in targets {
            let response = shop.set_status(&shop.admin, order, to).await;
            assert_eq!(response.code(), "CONFLICT", "{from} -> {to}");
            assert_eq!(status_of(&shop, order).await, from, "{from} -> {to}");
        }
    }
    // Once shipped, an order can no longer be cancelled, by its owner or an admin.
    for order in [&shipped, &delivered, &cancelled] {
        for who in [&alice, &shop.admin] {
            assert_eq!(shop.cancel(who, order).await.code(), "CONFLICT");
        }
    }
    assert_eq!(status_of(&shop, &shipped).await, "SHIPPED");
    assert_eq!(status_of(&shop, &delivered).await, "DELIVERED");
    assert_eq!(shop.stock(&tea).await, stock_before);
    assert!(
        shop.ledger()
            .await
            .iter()
            .all(|row| row.kind == PaymentKind::Charge || row.order_id == db_id(&cancelled)),
        "only the cancelled order was refunded"
    );
}

#[tokio::test]
async fn customers_cannot_change_the_status_of_an_order_even_their_own() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let order = bought(&shop, &alice, &tea, 1).await;

    let response = shop.set_status(&alice, &order, "SHIPPED").await;

    assert_eq!(response.code(), "FORBIDDEN");
    assert_eq!(status_of(&shop, &order).await, "PAID");
}

#[tokio::test]
async fn changing_the_status_of_a_missing_order_is_not_found() {
    let shop = open_shop().await;

    let response = shop
        .set_status(&shop.admin, &missing_order(), "SHIPPED")
        .await;

    assert_eq!(response.code(), "NOT_FOUND");
}

#[tokio::test]
async fn cancelling_a_paid_order_refunds_it_once_and_puts_the_stock_back() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "3.10", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.put_in_cart(&alice, &jam, 3).await;
    let order = shop.checkout(&alice, VISA, None).await.data()["checkout"].clone();
    let id = text(&order["id"]);
    assert_eq!((shop.stock(&tea).await, shop.stock(&jam).await), (8, 7));

    let response = shop.cancel(&alice, id).await;

    let cancelled = &response.data()["cancelOrder"];
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["total"], order["total"]);
    assert_eq!(cancelled["items"], order["items"]);
    assert_eq!((shop.stock(&tea).await, shop.stock(&jam).await), (10, 10));
    let ledger = shop.ledger().await;
    let refunds: Vec<_> = ledger
        .iter()
        .filter(|row| row.kind == PaymentKind::Refund)
        .collect();
    assert_eq!(refunds.len(), 1, "{ledger:?}");
    assert_eq!(refunds[0].order_id, db_id(id));
    assert_eq!(refunds[0].status, PaymentStatus::Succeeded);
    assert_eq!(refunds[0].amount_cents, 1770);
    assert!(refunds[0].reference.is_some());
    let charges: Vec<_> = ledger
        .iter()
        .filter(|row| row.kind == PaymentKind::Charge)
        .collect();
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].status, PaymentStatus::Succeeded);

    // A second cancellation is refused and refunds nothing more.
    assert_eq!(shop.cancel(&alice, id).await.code(), "CONFLICT");
    assert_eq!(shop.ledger().await, ledger);
    assert_eq!((shop.stock(&tea).await, shop.stock(&jam).await), (10, 10));
}

#[tokio::test]
async fn an_admin_can_cancel_any_customers_order() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let order = bought(&shop, &alice, &tea, 4).await;

    let response = shop.cancel(&shop.admin, &order).await;

    assert_eq!(response.data()["cancelOrder"]["status"], "CANCELLED");
    assert_eq!(shop.stock(&tea).await, 10);
    let refunds = shop
        .ledger()
        .await
        .into_iter()
        .filter(|row| row.kind == PaymentKind::Refund && row.status == PaymentStatus::Succeeded)
        .count();
    assert_eq!(refunds, 1);
}

#[tokio::test]
async fn cancelling_a_pending_order_puts_the_stock_back_without_a_refund() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let order = abandoned(&shop, &alice, &tea, 3).await;
    assert_eq!(shop.stock(&tea).await, 7);

    let response = shop.cancel(&alice, &order).await;

    assert_eq!(response.data()["cancelOrder"]["status"], "CANCELLED");
    assert_eq!(shop.stock(&tea).await, 10);
    let ledger = shop.ledger().await;
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert_eq!(ledger[0].kind, PaymentKind::Charge);
    assert_eq!(ledger[0].status, PaymentStatus::Failed);
}

#[tokio::test]
async fn another_customers_order_is_not_found_exactly_like_a_missing_one_on_every_path() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let mallory = shop.register("mallory").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let order = shop.buy(&alice, &tea, 2).await;
    let id = text(&order["id"]);
    let address_id = text(&order["shippingAddress"]["id"]);
    let missing = missing_order();
    let paths = [
        (
            "query($id: ID!) { order(id: $id) { id status } }",
            json!({ "id": id }),
            json!({ "id": missing }),
        ),
        (
            "query($id: ID!) { node(id: $id) { id ... on Order { status } } }",
            json!({ "id": id }),
            json!({ "id": missing }),
        ),
        (
            "mutation($id: ID!) { cancelOrder(id: $id) { id status } }",
            json!({ "id": id }),
            json!({ "id": missing }),
        ),
        (
            "query($id: ID!) { node(id: $id) { id ... on Address { fullName } } }",
            json!({ "id": address_id }),
            // The shipping address of an order that does not exist.
            json!({ "id": shop::domain::GlobalId::new(shop::domain::NodeKind::OrderAddress, 999_999).to_string() }),
        ),
    ];

    for (query, theirs, nobodys) in paths {
        let foreign = shop.gql_as(&mallory, query, theirs).await;
        let absent = shop.gql_as(&mallory, query, nobodys).await;

        assert_eq!(foreign.code(), "NOT_FOUND", "{query}");
        assert_eq!(foreign.body, absent.body, "{query}");
    }
    // Mallory's attempt changed nothing.
    assert_eq!(status_of(&shop, id).await, "PAID");
    assert_eq!(shop.stock(&tea).await, 8);
    assert!(
        shop.ledger()
            .await
            .iter()
            .all(|row| row.kind == PaymentKind::Charge)
    );
}

#[tokio::test]
async fn owners_and_admins_see_an_order_through_order_and_node() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let order = shop.buy(&alice, &tea, 2).await;
    let id = text(&order["id"]);

    for who in [&alice, &shop.admin] {
        let by_id = shop.order(who, id).await;
        let by_node = shop
            .gql_as(
                who,
                "query($id: ID!) { node(id: $id) { id ... on Order { number status total { amount } } } }",
                json!({ "id": id }),
            )
            .await;

        assert_eq!(by_id.data()["order"], order);
        let node = &by_node.data()["node"];
        assert_eq!(node["id"], id);
        assert_eq!(node["number"], order["number"]);
        assert_eq!(node["total"]["amount"], "8.40");
    }
    let anonymous = shop
        .gql(
            "query($id: ID!) { order(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_sweeper_releases_an_abandoned_checkout_once_it_expires() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let order = abandoned(&shop, &alice, &tea, 4).await;
    assert_eq!(shop.stock(&tea).await, 6);

    let swept = orders::sweep(&shop.db, &shop.payments, Utc::now() + Duration::minutes(16))
        .await
        .expect("sweep");

    assert_eq!(swept.released, 1);
    assert_eq!(swept.completed, 0);
    assert_eq!(status_of(&shop, &order).await, "CANCELLED");
    assert_eq!(shop.stock(&tea).await, 10);
    let ledger = shop.ledger().await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].status, PaymentStatus::Failed);
    // A sweep later finds nothing more to do.
    let again = orders::sweep(&shop.db, &shop.payments, Utc::now() + Duration::minutes(20))
        .await
        .expect("sweep");
    assert_eq!(again, orders::Swept::default());
    assert_eq!(shop.stock(&tea).await, 10);
}

#[tokio::test]
async fn a_sweep_before_the_expiry_changes_nothing() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let order = abandoned(&shop, &alice, &tea, 4).await;

    let swept = orders::sweep(&shop.db, &shop.payments, Utc::now() + Duration::minutes(14))
        .await
        .expect("sweep");

    assert_eq!(swept, orders::Swept::default());
    assert_eq!(status_of(&shop, &order).await, "PENDING");
    assert_eq!(shop.stock(&tea).await, 6);
    assert_eq!(shop.ledger().await[0].status, PaymentStatus::Pending);
}

#[tokio::test]
async fn the_sweeper_completes_an_abandoned_checkout_that_the_gateway_did_charge() {
    // The crash came after the gateway took the money: the order is paid, not released.
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let order = abandoned(&shop, &alice, &tea, 2).await;
    let stored = shop.stored_orders().await.remove(0);
    shop.payments
        .gateways
        .default_gateway()
        .charge(&ChargeRequest {
            amount: shop::domain::Money::from_cents(stored.total_cents),
            currency: shop.payments.currency.clone(),
            token: Some(VISA.into()),
            idempotency_key: stored.number.clone(),
            description: format!("Order {}", stored.number),
            return_url: "http://store.example/orders".into(),
        })
        .await
        .expect("charged");

    let swept = orders::sweep(&shop.db, &shop.payments, Utc::now() + Duration::minutes(16))
        .await
        .expect("sweep");

    assert_eq!(swept.completed, 1);
    assert_eq!(swept.released, 0);
    assert_eq!(status_of(&shop, &order).await, "PAID");
    assert_eq!(shop.stock(&tea).await, 8);
    let ledger = shop.ledger().await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].status, PaymentStatus::Succeeded);
    // What the order bought is no longer in the cart, as after any paid checkout.
    assert_eq!(shop.cart(&alice).await["items"], json!([]));
}

#[tokio::test]
async fn cancelling_a_pending_order_that_the_gateway_did_charge_refunds_the_charge() {
    // The checkout died after the gateway took the money and before it was recorded; the
    // customer, seeing the order PENDING, cancels it. The money must come back.
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let order = abandoned(&shop, &alice, &tea, 2).await;
    let stored = shop.stored_orders().await.remove(0);
    shop.payments
        .gateways
        .default_gateway()
        .charge(&ChargeRequest {
            amount: shop::domain::Money::from_cents(stored.total_cents),
            currency: shop.payments.currency.clone(),
            token: Some(VISA.into()),
            idempotency_key: stored.number.clone(),
            description: format!("Order {}", stored.number),
            return_url: "http://store.example/orders".into(),
        })
        .await
        .expect("charged");

    let response = shop.cancel(&alice, &order).await;

    assert_eq!(response.data()["cancelOrder"]["status"], "CANCELLED");
    assert_eq!(shop.stock(&tea).await, 10);
    let ledger = shop.ledger().await;
    assert_eq!(ledger.len(), 2, "{ledger:?}");
    let charge = ledger
        .iter()
        .find(|row| row.kind == PaymentKind::Charge)
        .expect("a charge");
    assert_eq!(charge.status, PaymentStatus::Succeeded);
    let refund = ledger
        .iter()
        .find(|row| row.kind == PaymentKind::Refund)
        .expect("a refund");
    assert_eq!(refund.status, PaymentStatus::Succeeded);
    assert_eq!(refund.amount_cents, 840);
}
