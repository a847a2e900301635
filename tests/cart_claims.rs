//! One cart is bought once: a checkout claims the cart until its payment is settled.

use chrono::{Duration, Utc};
use serde_json::json;
use shop::{
    domain::PostalAddress,
    service::{checkout, orders},
};

use crate::support::{Session, TestApp, spawn_app};

const CHECKOUT: &str = "mutation($input: CheckoutInput!) { checkout(input: $input) { number status items { quantity } } }";

fn address() -> serde_json::Value {
    json!({ "fullName": "Ann Buyer", "line1": "1 Road", "city": "Town", "postalCode": "123", "country": "NL" })
}

async fn product_with_stock(app: &TestApp, admin: &Session, stock: i32) -> String {
    let created = app
        .gql_as(
            admin,
            "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
            json!({ "input": { "name": "Lamp", "description": "A lamp.", "price": "12.50", "stock": stock } }),
        )
        .await;
    created.data()["createProduct"]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

async fn stock_of(app: &TestApp, product: &str) -> i64 {
    let response = app
        .gql(
            "query($id: ID!) { product(id: $id) { stock } }",
            json!({ "id": product }),
        )
        .await;
    response.data()["product"]["stock"].as_i64().expect("stock")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_checkouts_of_one_cart_without_a_key_buy_it_once() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let product = product_with_stock(&app, &admin, 10).await;
    let ann = app.register("ann").await;
    app.gql_as(
        &ann,
        "mutation($p: ID!) { addToCart(productId: $p, quantity: 2) { totalQuantity } }",
        json!({ "p": product }),
    )
    .await
    .data();

    let attempts = (0..6).map(|_| {
        app.gql_as(
            &ann,
            CHECKOUT,
            json!({ "input": { "shippingAddress": address(), "paymentToken": "tok_visa" } }),
        )
    });
    let responses = futures_util::future::join_all(attempts).await;

    let paid: Vec<_> = responses
        .iter()
        .filter(|r| r.body.get("errors").is_none())
        .collect();
    assert_eq!(paid.len(), 1, "{responses:#?}");
    assert_eq!(
        paid[0].data()["checkout"]["items"],
        json!([{ "quantity": 2 }])
    );
    for refused in responses.iter().filter(|r| r.body.get("errors").is_some()) {
        // Either it met the claim, or it came after the purchase and found the cart empty.
        assert!(
            matches!(refused.code(), "CONFLICT" | "BAD_USER_INPUT"),
            "{:#}",
            refused.body
        );
        assert_eq!(refused.field(), "cart");
    }
    assert_eq!(stock_of(&app, &product).await, 8);
    let history = app
        .gql_as(&ann, "{ orders { totalCount } }", json!({}))
        .await;
    assert_eq!(history.data()["orders"]["totalCount"], 1);
}

#[tokio::test]
async fn a_cart_held_by_an_unsettled_checkout_refuses_changes_until_the_sweeper_frees_it() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let product = product_with_stock(&app, &admin, 5).await;
    let ann = app.register("ann").await;
    let add = "mutation($p: ID!) { addToCart(productId: $p) { totalQuantity } }";
    app.gql_as(&ann, add, json!({ "p": product })).await.data();
    let me = app.gql_as(&ann, "{ me { id } }", json!({})).await;
    let user_id = shop::domain::GlobalId::parse(me.data()["me"]["id"].as_str().expect("id"), "id")
        .expect("a user id")
        .id;
    let shipping = PostalAddress::parse("Ann", "1 Road", None, "Town", "123", "NL").expect("valid");
    // A checkout whose process died after taking the stock, before the payment result.
    checkout::reserve(&app.db, &app.payments, user_id, &shipping, None)
        .await
        .expect("reserved");

    let during = app.gql_as(&ann, add, json!({ "p": product })).await;
    let second = app
        .gql_as(
            &ann,
            CHECKOUT,
            json!({ "input": { "shippingAddress": address(), "paymentToken": "tok_visa" } }),
        )
        .await;
    assert_eq!(during.code(), "CONFLICT");
    assert_eq!(second.code(), "CONFLICT");
    assert_eq!(stock_of(&app, &product).await, 4);

    let swept = orders::sweep(&app.db, &app.payments, Utc::now() + Duration::minutes(16))
        .await
        .expect("swept");
    assert_eq!(swept.released, 1);
    assert_eq!(stock_of(&app, &product).await, 5);
    let after = app.gql_as(&ann, add, json!({ "p": product })).await;
    assert_eq!(after.data()["addToCart"]["totalQuantity"], 2);
}
