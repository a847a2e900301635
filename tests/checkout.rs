//! Checkout: the cart's items become a PAID order with snapshots of names, prices and the
//! address, or, when anything is wrong (an empty cart, too little stock, a declined or
//! failed payment), nothing at all happens: no order, no charge, no stock taken, the cart
//! as it was.

use std::collections::HashSet;

use entity::{
    order_status::OrderStatus,
    payment::{PaymentKind, PaymentStatus},
};
use serde_json::{Value, json};
use shop::{
    domain::{GlobalId, NodeKind},
    service::checkout,
};

use crate::store::{
    DECLINED, PROCESSING_ERROR, Shop, VISA, address, db_id, lines, open_shop, postal_address, text,
};
use crate::support::Session;

/// Asserts that nothing of a checkout happened: no order in the history or the database,
/// nothing in the payment ledger.
async fn assert_no_order(shop: &Shop, who: &Session) {
    let history = shop
        .gql_as(
            who,
            "{ orders(first: 10) { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(history.data()["orders"]["totalCount"], 0);
    assert_eq!(shop.stored_orders().await, vec![]);
    assert_eq!(shop.stored_order_items().await, vec![]);
    assert_eq!(shop.ledger().await, vec![]);
}

#[tokio::test]
async fn anonymous_callers_cannot_check_out() {
    let shop = open_shop().await;

    let response = shop
        .gql(
            "mutation($input: CheckoutInput!) { checkout(input: $input) { id } }",
            json!({ "input": { "shippingAddress": address(), "paymentToken": VISA } }),
        )
        .await;

    assert_eq!(response.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn checking_out_an_empty_cart_is_bad_user_input_on_the_cart() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    // Bob's cart holds only a saved line, which checkout does not buy.
    shop.put_in_cart(&bob, &tea, 1).await;
    shop.save_for_later(&bob, &tea).await.data();

    for who in [&alice, &bob] {
        let response = shop.checkout(who, VISA, None).await;

        assert_eq!(response.code(), "BAD_USER_INPUT");
        assert_eq!(response.field(), "cart");
    }
    assert_no_order(&shop, &alice).await;
    assert_eq!(shop.stock(&tea).await, 10);
}

#[tokio::test]
async fn a_checkout_without_a_payment_token_or_with_a_bad_address_is_bad_user_input() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 1).await;
    let mut nameless = address();
    nameless["fullName"] = json!("  ");
    let cases = [
        (address(), "", "paymentToken"),
        (nameless, VISA, "fullName"),
    ];

    for (shipping_address, token, field) in cases {
        let response = shop
            .gql_as(
                &alice,
                "mutation($input: CheckoutInput!) { checkout(input: $input) { id } }",
                json!({ "input": { "shippingAddress": shipping_address, "paymentToken": token } }),
            )
            .await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{field}");
        assert_eq!(response.field(), field);
    }
    assert_no_order(&shop, &alice).await;
    assert_eq!(shop.stock(&tea).await, 10);
}

#[tokio::test]
async fn a_successful_checkout_is_paid_and_snapshots_names_prices_and_the_address() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "19.99", 5).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.put_in_cart(&alice, &jam, 3).await;

    let response = shop.checkout(&alice, VISA, None).await;

    let order = &response.data()["checkout"];
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["user"]["id"], alice.id.as_str());
    let number = text(&order["number"]);
    assert!(
        number.starts_with("SO-") && number.len() == 13,
        "a readable order number: {number}"
    );
    assert_eq!(
        order["total"],
        json!({ "amount": "68.37", "currencyCode": "USD" })
    );
    assert_eq!(
        order["items"],
        json!([
            {
                "product": { "id": tea, "name": "Tea", "price": { "amount": "4.20" } },
                "productName": "Tea",
                "unitPrice": { "amount": "4.20", "currencyCode": "USD" },
                "quantity": 2,
                "lineTotal": { "amount": "8.40", "currencyCode": "USD" },
            },
            {
                "product": { "id": jam, "name": "Jam", "price": { "amount": "19.99" } },
                "productName": "Jam",
                "unitPrice": { "amount": "19.99", "currencyCode": "USD" },
                "quantity": 3,
                "lineTotal": { "amount": "59.97", "currencyCode": "USD" },
            },
        ])
    );
    let mut shipped_to = order["shippingAddress"].clone();
    shipped_to.as_object_mut().expect("an address").remove("id");
    assert_eq!(shipped_to, address());

    // The database agrees: stock taken, one order, one succeeded charge of the total.
    assert_eq!(shop.stock(&tea).await, 8);
    assert_eq!(shop.stock(&jam).await, 2);
    let stored = shop.stored_orders().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, db_id(text(&order["id"])));
    assert_eq!(stored[0].status, OrderStatus::Paid);
    assert_eq!(stored[0].total_cents, 6837);
    let ledger = shop.ledger().await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].order_id, stored[0].id);
    assert_eq!(ledger[0].kind, PaymentKind::Charge);
    assert_eq!(ledger[0].status, PaymentStatus::Succeeded);
    assert_eq!(ledger[0].amount_cents, 6837);
    assert!(
        ledger[0].reference.is_some(),
        "the gateway's charge id is kept"
    );
}

#[tokio::test]
async fn checkout_empties_the_bought_lines_and_keeps_the_saved_ones() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "3.10", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.put_in_cart(&alice, &jam, 1).await;
    shop.save_for_later(&alice, &jam).await.data();

    let order = shop.checkout(&alice, VISA, None).await.data()["checkout"].clone();

    assert_eq!(order["items"].as_array().map(Vec::len), Some(1));
    let cart = shop.cart(&alice).await;
    assert_eq!(cart["items"], json!([]));
    assert_eq!(cart["totalQuantity"], 0);
    assert_eq!(cart["subtotal"]["amount"], "0.00");
    assert_eq!(lines(&cart["savedItems"]), vec![(jam.clone(), 1)]);
    assert_eq!(shop.stock(&tea).await, 8);
    assert_eq!(shop.stock(&jam).await, 10, "a saved line is not bought");
}

/// A cart of two products, a payment that does not go through, and proof that nothing
/// changed: the same code for a refusal and for a gateway failure, because in both cases
/// nothing was charged.
async fn assert_failed_payment_changes_nothing(token: &str) {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "3.10", 3).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.put_in_cart(&alice, &jam, 3).await;
    let cart_before = shop.cart(&alice).await;

    let response = shop.checkout(&alice, token, None).await;

    assert_eq!(response.code(), "PAYMENT_DECLINED", "{token}");
    assert_eq!(response.codes().len(), 1);
    assert_eq!(shop.stock(&tea).await, 10, "{token}");
    assert_eq!(shop.stock(&jam).await, 3, "{token}");
    assert_eq!(shop.cart(&alice).await, cart_before, "{token}");
    assert_no_order(&shop, &alice).await;

    // The cart is intact, so paying with a card that works simply succeeds.
    let retry = shop.checkout(&alice, VISA, None).await;
    assert_eq!(retry.data()["checkout"]["status"], "PAID");
    assert_eq!(shop.stock(&jam).await, 0);
}

#[tokio::test]
async fn a_declined_payment_leaves_stock_cart_and_order_history_unchanged() {
    assert_failed_payment_changes_nothing(DECLINED).await;
}

#[tokio::test]
async fn a_payment_failing_at_the_gateway_leaves_stock_cart_and_order_history_unchanged() {
    assert_failed_payment_changes_nothing(PROCESSING_ERROR).await;
}

#[tokio::test]
async fn a_line_whose_stock_fell_is_out_of_stock_and_nothing_is_taken_or_charged() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    // Created first, so its stock is taken first and must be given back.
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "3.10", 5).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.put_in_cart(&alice, &jam, 3).await;
    shop.change_product(&jam, json!({ "stock": 2 })).await;

    let response = shop.checkout(&alice, VISA, None).await;

    assert_eq!(response.code(), "OUT_OF_STOCK");
    assert_eq!(response.error()["extensions"]["productId"], jam.as_str());
    assert_eq!(response.error()["extensions"]["available"], 2);
    assert_eq!(shop.stock(&tea).await, 10);
    assert_eq!(shop.stock(&jam).await, 2);
    assert_no_order(&shop, &alice).await;
    assert_eq!(
        lines(&shop.cart(&alice).await["items"]),
        vec![(tea, 2), (jam, 3)]
    );
}

#[tokio::test]
async fn a_line_whose_product_was_archived_is_out_of_stock_and_nothing_is_taken_or_charged() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "3.10", 5).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.put_in_cart(&alice, &jam, 3).await;
    shop.change_product(&jam, json!({ "archived": true })).await;

    let response = shop.checkout(&alice, VISA, None).await;

    assert_eq!(response.code(), "OUT_OF_STOCK");
    assert_eq!(response.error()["extensions"]["productId"], jam.as_str());
    assert_eq!(response.error()["extensions"]["available"], 0);
    assert_eq!(shop.stock(&tea).await, 10);
    assert_eq!(shop.stock(&jam).await, 5);
    assert_no_order(&shop, &alice).await;
}

#[tokio::test]
async fn later_price_and_name_changes_never_change_an_order() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let bought = shop.buy(&alice, &tea, 2).await;

    shop.change_product(&tea, json!({ "name": "Premium tea", "price": "99.00" }))
        .await;
    shop.change_product(&tea, json!({ "archived": true })).await;

    let order = shop.order(&alice, text(&bought["id"])).await;
    let order = &order.data()["order"];
    assert_eq!(order["total"]["amount"], "8.40");
    let item = &order["items"][0];
    assert_eq!(item["productName"], "Tea");
    assert_eq!(item["unitPrice"]["amount"], "4.20");
    assert_eq!(item["lineTotal"]["amount"], "8.40");
    assert_eq!(item["quantity"], 2);
    // The link to the product shows it as it is now.
    assert_eq!(item["product"]["name"], "Premium tea");
    assert_eq!(item["product"]["price"]["amount"], "99.00");
    let mut unchanged = order.clone();
    unchanged["items"][0]["product"] = bought["items"][0]["product"].clone();
    assert_eq!(unchanged, bought);
}

#[tokio::test]
async fn every_order_gets_a_number_of_its_own() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let tea = shop.product("Tea", "4.20", 100).await;
    let mut numbers = Vec::new();

    for who in [&alice, &bob, &alice, &bob, &alice, &bob] {
        let order = shop.buy(who, &tea, 1).await;
        numbers.push(text(&order["number"]).to_owned());
    }

    let distinct: HashSet<&String> = numbers.iter().collect();
    assert_eq!(distinct.len(), numbers.len(), "{numbers:?}");
    let stored: HashSet<String> = shop
        .stored_orders()
        .await
        .into_iter()
        .map(|order| order.number)
        .collect();
    assert_eq!(stored, numbers.iter().cloned().collect());
}

#[tokio::test]
async fn repeating_a_checkout_with_its_idempotency_key_answers_the_same_order_and_charges_once() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "3.10", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    let first = shop.checkout(&alice, VISA, Some("purchase-1")).await;
    let first = first.data()["checkout"].clone();
    // Something else goes in the cart before the client retries.
    shop.put_in_cart(&alice, &jam, 1).await;

    let again = shop.checkout(&alice, VISA, Some("purchase-1")).await;

    assert_eq!(again.data()["checkout"], first);
    assert_eq!(shop.stored_orders().await.len(), 1);
    assert_eq!(shop.ledger().await.len(), 1);
    assert_eq!(shop.stock(&tea).await, 8);
    assert_eq!(shop.stock(&jam).await, 10);
    assert_eq!(lines(&shop.cart(&alice).await["items"]), vec![(jam, 1)]);
}

#[tokio::test]
async fn an_idempotency_key_belongs_to_one_customer() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 1).await;
    shop.put_in_cart(&bob, &tea, 2).await;

    let alices = shop.checkout(&alice, VISA, Some("same-key")).await;
    let bobs = shop.checkout(&bob, VISA, Some("same-key")).await;

    let (alices, bobs) = (&alices.data()["checkout"], &bobs.data()["checkout"]);
    assert_ne!(alices["id"], bobs["id"]);
    assert_eq!(bobs["user"]["id"], bob.id.as_str());
    assert_eq!(bobs["items"][0]["quantity"], 2);
    assert_eq!(shop.stock(&tea).await, 7);
}

#[tokio::test]
async fn a_declined_checkout_can_be_retried_with_the_same_idempotency_key() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 1).await;
    shop.put_in_cart(&alice, &tea, 1).await;

    let declined = shop.checkout(&alice, DECLINED, Some("attempt")).await;
    let retried = shop.checkout(&alice, VISA, Some("attempt")).await;

    assert_eq!(declined.code(), "PAYMENT_DECLINED");
    let order: &Value = &retried.data()["checkout"];
    assert_eq!(order["status"], "PAID");
    assert_eq!(shop.stock(&tea).await, 0);
    assert_eq!(shop.stored_orders().await.len(), 1);
}

#[tokio::test]
async fn a_checkout_while_another_is_pending_is_a_conflict_until_that_order_is_settled() {
    // The first checkout's payment has not completed (here: it crashed), so its lines are
    // still in the cart; buying them again could charge twice.
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    let pending = checkout::reserve(
        &shop.db,
        &shop.payments,
        db_id(&alice.id),
        &postal_address(),
        None,
    )
    .await
    .expect("stock reserved");

    let blocked = shop.checkout(&alice, VISA, None).await;

    assert_eq!(blocked.code(), "CONFLICT");
    assert_eq!(blocked.field(), "cart");
    assert_eq!(shop.stock(&tea).await, 8);
    assert_eq!(shop.stored_orders().await.len(), 1);
    assert_eq!(
        lines(&shop.cart(&alice).await["items"]),
        vec![(tea.clone(), 2)]
    );

    // Once the customer cancels the pending order, the cart can be bought.
    let id = GlobalId::new(NodeKind::Order, pending.id).to_string();
    shop.cancel(&alice, &id).await.data();
    let order = shop.checkout(&alice, VISA, None).await;
    assert_eq!(order.data()["checkout"]["status"], "PAID");
    assert_eq!(shop.stock(&tea).await, 8);
    assert_eq!(shop.cart(&alice).await["items"], json!([]));
}
