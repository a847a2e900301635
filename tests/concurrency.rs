//! Money and stock under concurrency: many independent customers, each with a cart of
//! their own, fire their requests at once. Every test counts the outcomes twice, from
//! the responses and from the database afterwards, and every failure must be the one
//! expected error: a race may only ever be lost cleanly.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use entity::{
    order_status::OrderStatus,
    payment::{PaymentKind, PaymentStatus},
};
use futures_util::future::join_all;
use serde_json::{Value, json};
use shop::service::{checkout, orders};

use crate::store::{DECLINED, Shop, VISA, db_id, lines, open_shop, postal_address, text};
use crate::support::{Gql, Session};

/// Splits the answers of concurrent checkouts into the orders made and the errors, after
/// checking that each answer is one or the other, never both, never several errors.
pub fn outcomes(responses: &[Gql]) -> (Vec<&Value>, Vec<&Value>) {
    let mut orders = Vec::new();
    let mut errors = Vec::new();
    for response in responses {
        match response.body.get("errors") {
            None => orders.push(&response.data()["checkout"]),
            Some(list) => {
                assert_eq!(response.codes().len(), 1, "{:#}", response.body);
                assert!(response.body["data"].is_null(), "{:#}", response.body);
                errors.push(&list[0]);
            }
        }
    }
    (orders, errors)
}

/// Asserts that `error` is OUT_OF_STOCK for `product` with `available` units left.
fn assert_out_of_stock(error: &Value, product: &str, available: i64) {
    assert_eq!(error["extensions"]["code"], "OUT_OF_STOCK", "{error:#}");
    assert_eq!(error["extensions"]["productId"], product, "{error:#}");
    assert_eq!(error["extensions"]["available"], available, "{error:#}");
}

/// `count` customers, each with `quantity` of `product` in a cart of their own.
async fn buyers(shop: &Shop, count: usize, product: &str, quantity: i32) -> Vec<Session> {
    let buyers = shop.customers("buyer", count).await;
    join_all(
        buyers
            .iter()
            .map(|buyer| shop.put_in_cart(buyer, product, quantity)),
    )
    .await;
    buyers
}

/// Every buyer checks out at once.
async fn check_out_together(shop: &Shop, buyers: &[Session], token: &str) -> Vec<Gql> {
    join_all(buyers.iter().map(|buyer| shop.checkout(buyer, token, None))).await
}

/// Asserts that the database holds exactly `paid` PAID orders of `quantity` units of one
/// product at `unit_cents` each, each with one succeeded charge of its total, and nothing
/// else: no pending, cancelled or half-written order, no refund.
async fn assert_stored_orders(
    shop: &Shop,
    answered: &[&Value],
    paid: usize,
    quantity: i32,
    unit_cents: i64,
) {
    let stored = shop.stored_orders().await;
    assert_eq!(stored.len(), paid);
    assert!(stored.iter().all(|order| order.status == OrderStatus::Paid));
    let stored_ids: HashSet<i32> = stored.iter().map(|order| order.id).collect();
    let answered_ids: HashSet<i32> = answered
        .iter()
        .map(|order| db_id(text(&order["id"])))
        .collect();
    assert_eq!(stored_ids, answered_ids);
    let items = shop.stored_order_items().await;
    assert_eq!(items.len(), paid);
    assert!(items.iter().all(|item| item.quantity == quantity));
    let ledger = shop.ledger().await;
    assert_eq!(ledger.len(), paid, "{ledger:?}");
    assert!(
        ledger.iter().all(|row| row.kind == PaymentKind::Charge
            && row.status == PaymentStatus::Succeeded
            && row.amount_cents == i64::from(quantity) * unit_cents),
        "{ledger:?}"
    );
    let charged: HashSet<i32> = ledger.iter().map(|row| row.order_id).collect();
    assert_eq!(charged, stored_ids, "one charge per order");
}

/// Asserts that every buyer whose checkout succeeded has an empty cart, and every other
/// still has `product` x `quantity` in theirs.
async fn assert_carts(
    shop: &Shop,
    buyers: &[Session],
    responses: &[Gql],
    product: &str,
    quantity: i64,
) {
    let carts = join_all(buyers.iter().map(|buyer| shop.cart(buyer))).await;
    for (cart, response) in carts.iter().zip(responses) {
        let expected = if response.body.get("errors").is_none() {
            vec![]
        } else {
            vec![(product.to_owned(), quantity)]
        };
        assert_eq!(lines(&cart["items"]), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_buyers_of_the_last_ten_units_make_exactly_ten_paid_orders() {
    let shop = open_shop().await;
    let product = shop.product("Last units", "12.50", 10).await;
    let buyers = buyers(&shop, 40, &product, 1).await;

    let responses = check_out_together(&shop, &buyers, VISA).await;

    let (paid, errors) = outcomes(&responses);
    assert_eq!(paid.len(), 10);
    assert_eq!(errors.len(), 30);
    for order in &paid {
        assert_eq!(order["status"], "PAID");
        assert_eq!(order["items"][0]["quantity"], 1);
        assert_eq!(order["total"]["amount"], "12.50");
    }
    for error in errors {
        assert_out_of_stock(error, &product, 0);
    }
    assert_eq!(shop.stock(&product).await, 0);
    assert_stored_orders(&shop, &paid, 10, 1, 1250).await;
    assert_carts(&shop, &buyers, &responses, &product, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_buyers_of_three_units_share_ten_units_as_three_orders_and_one_left() {
    let shop = open_shop().await;
    let product = shop.product("Three-pack", "12.50", 10).await;
    let buyers = buyers(&shop, 30, &product, 3).await;

    let responses = check_out_together(&shop, &buyers, VISA).await;

    let (paid, errors) = outcomes(&responses);
    assert_eq!(paid.len(), 3);
    assert_eq!(errors.len(), 27);
    for order in &paid {
        assert_eq!(order["status"], "PAID");
        assert_eq!(order["items"][0]["quantity"], 3);
        assert_eq!(order["total"]["amount"], "37.50");
    }
    for error in errors {
        assert_out_of_stock(error, &product, 1);
    }
    assert_eq!(shop.stock(&product).await, 1);
    assert_stored_orders(&shop, &paid, 3, 3, 1250).await;
    assert_carts(&shop, &buyers, &responses, &product, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn carts_holding_the_same_products_in_opposite_orders_check_out_together_without_deadlock() {
    // Half the carts hold {A, B}, half {B, A}: a checkout that took row locks in cart
    // order would deadlock on PostgreSQL. The stock is exactly enough for everyone, so
    // any error at all is a failure.
    let shop = open_shop().await;
    let a = shop.product("Product A", "2.00", 20).await;
    let b = shop.product("Product B", "3.00", 20).await;
    let buyers = shop.customers("buyer", 20).await;
    let shop = &shop;
    join_all(buyers.iter().enumerate().map(|(i, buyer)| {
        let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        async move {
            shop.put_in_cart(buyer, first, 1).await;
            shop.put_in_cart(buyer, second, 1).await;
        }
    }))
    .await;

    let responses = check_out_together(shop, &buyers, VISA).await;

    for response in &responses {
        let order = &response.data()["checkout"];
        assert_eq!(order["status"], "PAID");
        assert_eq!(order["total"]["amount"], "5.00");
    }
    assert_eq!(shop.stock(&a).await, 0);
    assert_eq!(shop.stock(&b).await, 0);
    let stored = shop.stored_orders().await;
    assert_eq!(stored.len(), 20);
    assert!(stored.iter().all(|order| order.status == OrderStatus::Paid));
    assert_eq!(shop.stored_order_items().await.len(), 40);
    let ledger = shop.ledger().await;
    assert_eq!(ledger.len(), 20);
    assert!(
        ledger
            .iter()
            .all(|row| row.status == PaymentStatus::Succeeded)
    );
    assert_eq!(shop.stored_cart_items().await, vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_checkouts_with_one_idempotency_key_make_one_order_and_take_the_stock_once()
{
    // The first product's stock is exactly what the cart holds: a retry that tried to
    // buy again instead of answering the first order would find it sold out.
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let scarce = shop.product("Scarce", "7.00", 2).await;
    let plenty = shop.product("Plenty", "1.25", 10).await;
    shop.put_in_cart(&alice, &scarce, 2).await;
    shop.put_in_cart(&alice, &plenty, 1).await;

    let responses =
        join_all((0..10).map(|_| shop.checkout(&alice, VISA, Some("one-purchase")))).await;

    let first = &responses[0].data()["checkout"];
    assert_eq!(first["status"], "PAID");
    assert_eq!(first["total"]["amount"], "15.25");
    for response in &responses {
        assert_eq!(&response.data()["checkout"], first);
    }
    assert_eq!(shop.stock(&scarce).await, 0);
    assert_eq!(shop.stock(&plenty).await, 9);
    let stored = shop.stored_orders().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, db_id(text(&first["id"])));
    assert_eq!(shop.stored_order_items().await.len(), 2);
    let ledger = shop.ledger().await;
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert_eq!(ledger[0].status, PaymentStatus::Succeeded);
    assert_eq!(ledger[0].amount_cents, 1525);
    assert_eq!(shop.cart(&alice).await["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_cancellations_refund_and_restock_once() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let order = shop.buy(&alice, &tea, 3).await;
    let id = text(&order["id"]);
    assert_eq!(shop.stock(&tea).await, 7);

    // The owner and an admin, four times each.
    let responses = join_all((0..8).map(|i| {
        let who = if i % 2 == 0 { &alice } else { &shop.admin };
        shop.cancel(who, id)
    }))
    .await;

    let mut cancelled = 0;
    for response in &responses {
        match response.body.get("errors") {
            None => {
                assert_eq!(response.data()["cancelOrder"]["status"], "CANCELLED");
                cancelled += 1;
            }
            Some(_) => assert_eq!(response.codes(), ["CONFLICT"], "{:#}", response.body),
        }
    }
    assert_eq!(cancelled, 1);
    assert_eq!(shop.stock(&tea).await, 10);
    let stored = shop.stored_orders().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].status, OrderStatus::Cancelled);
    let ledger = shop.ledger().await;
    let refunds: Vec<_> = ledger
        .iter()
        .filter(|row| row.kind == PaymentKind::Refund)
        .collect();
    assert_eq!(refunds.len(), 1, "{ledger:?}");
    assert_eq!(refunds[0].status, PaymentStatus::Succeeded);
    assert_eq!(refunds[0].amount_cents, 1260);
    assert_eq!(ledger.len(), 2, "one charge, one refund: {ledger:?}");
}

/// Leaves an order PENDING for each of `count` customers, as a crash between taking the
/// stock and paying would: the first step of checkout, called directly.
async fn abandoned_checkouts(shop: &Shop, count: usize, product: &str, quantity: i32) {
    let buyers = buyers(shop, count, product, quantity).await;
    for buyer in &buyers {
        checkout::reserve(
            &shop.db,
            &shop.payments,
            db_id(&buyer.id),
            &postal_address(),
            None,
        )
        .await
        .expect("stock reserved");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sweeps_release_each_abandoned_checkout_and_restock_it_once() {
    let shop = open_shop().await;
    let tea = shop.product("Tea", "4.20", 20).await;
    abandoned_checkouts(&shop, 5, &tea, 2).await;
    assert_eq!(shop.stock(&tea).await, 10);
    let later = Utc::now() + Duration::minutes(16);

    let sweeps = join_all((0..3).map(|_| {
        let (db, payments) = (shop.db.clone(), shop.payments.clone());
        tokio::spawn(async move { orders::sweep(&db, &payments, later).await })
    }))
    .await;

    let released: usize = sweeps
        .into_iter()
        .map(|sweep| sweep.expect("sweep ran").expect("sweep succeeded").released)
        .sum();
    assert_eq!(released, 5);
    assert_eq!(shop.stock(&tea).await, 20);
    let stored = shop.stored_orders().await;
    assert_eq!(stored.len(), 5);
    assert!(
        stored
            .iter()
            .all(|order| order.status == OrderStatus::Cancelled)
    );
    assert!(
        shop.ledger()
            .await
            .iter()
            .all(|row| row.kind == PaymentKind::Charge && row.status == PaymentStatus::Failed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancellation_racing_the_sweeper_restocks_once() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 4).await;
    let order = checkout::reserve(
        &shop.db,
        &shop.payments,
        db_id(&alice.id),
        &postal_address(),
        None,
    )
    .await
    .expect("stock reserved");
    let id = shop::domain::GlobalId::new(shop::domain::NodeKind::Order, order.id).to_string();
    let (db, payments) = (shop.db.clone(), shop.payments.clone());
    let sweep = tokio::spawn(async move {
        orders::sweep(&db, &payments, Utc::now() + Duration::minutes(16)).await
    });

    let (cancel, sweep) = tokio::join!(shop.cancel(&alice, &id), sweep);

    let swept = sweep.expect("sweep ran").expect("sweep succeeded");
    let cancelled = match cancel.body.get("errors") {
        None => 1,
        Some(_) => {
            assert_eq!(cancel.codes(), ["CONFLICT"], "{:#}", cancel.body);
            0
        }
    };
    assert_eq!(swept.released + cancelled, 1);
    assert_eq!(shop.stock(&tea).await, 10);
    assert_eq!(shop.stored_orders().await[0].status, OrderStatus::Cancelled);
}

/// Every buyer checks out at once, those at even places with a card that is declined.
async fn check_out_half_declined(shop: &Shop, buyers: &[Session]) -> Vec<Gql> {
    join_all(buyers.iter().enumerate().map(|(i, buyer)| {
        let token = if i % 2 == 0 { DECLINED } else { VISA };
        shop.checkout(buyer, token, None)
    }))
    .await
}

/// The orders paid among the answers of [`check_out_half_declined`], after checking that
/// no declined card bought anything and that every other answer is PAYMENT_DECLINED (for
/// a declined card) or OUT_OF_STOCK on `product`.
fn paid_when_half_declined<'a>(responses: &'a [Gql], product: &str) -> Vec<&'a Value> {
    let mut paid = Vec::new();
    for (i, response) in responses.iter().enumerate() {
        let declining = i % 2 == 0;
        match response.body.get("errors") {
            None => {
                assert!(!declining, "a declined card bought something");
                paid.push(&response.data()["checkout"]);
            }
            Some(_) if declining && response.codes() == ["PAYMENT_DECLINED"] => {}
            Some(_) => {
                assert_eq!(response.codes(), ["OUT_OF_STOCK"], "{:#}", response.body);
                assert_eq!(response.error()["extensions"]["productId"], product);
            }
        }
    }
    paid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn declined_payments_racing_paid_ones_give_back_exactly_what_they_took() {
    // Half the buyers pay with a card that is declined. Their checkouts hold stock for a
    // moment, so how many of the others get served depends on timing; what may not
    // depend on it is that every unit is either on the shelf or in a PAID order.
    let shop = open_shop().await;
    let product = shop.product("Contested", "12.50", 5).await;
    let buyers = buyers(&shop, 20, &product, 1).await;

    let responses = check_out_half_declined(&shop, &buyers).await;

    let paid = paid_when_half_declined(&responses, &product);
    assert!(paid.len() <= 5, "{} orders of 5 units", paid.len());
    let stock = shop.stock(&product).await;
    assert_eq!(usize::try_from(stock).expect("stock >= 0") + paid.len(), 5);
    assert_stored_orders(&shop, &paid, paid.len(), 1, 1250).await;
    assert_carts(&shop, &buyers, &responses, &product, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn declined_payments_racing_paid_ones_with_one_code_give_back_its_uses_and_the_stock() {
    // A paid checkout takes its product's stock and then its code's use; a declined one
    // gives both back in that same order. Taken in opposite orders, PostgreSQL finds two
    // of these transactions waiting on each other and aborts one: a checkout fails with
    // an internal error (as it did here when the checkout took the code's use first).
    let shop = open_shop().await;
    let product = shop.product("Shared deal", "20.00", 6).await;
    let code = shop
        .discount_code(json!({ "code": "RACE10", "percentOff": "10" }))
        .await;
    let buyers = buyers(&shop, 20, &product, 1).await;
    for buyer in &buyers {
        let applied = shop.apply_code(buyer, "race10").await;
        assert_eq!(
            applied.data()["applyDiscountCode"]["discountCode"],
            "RACE10"
        );
    }

    let responses = check_out_half_declined(&shop, &buyers).await;

    let paid = paid_when_half_declined(&responses, &product);
    let stock = shop.stock(&product).await;
    assert_eq!(usize::try_from(stock).expect("stock >= 0") + paid.len(), 6);
    assert_stored_orders(&shop, &paid, paid.len(), 1, 1800).await;
    assert_eq!(
        shop.times_used(&code).await,
        i64::try_from(paid.len()).expect("a few orders")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_of_one_product_add_up_on_one_line() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 100).await;

    let responses = join_all((0..10).map(|_| shop.add(&alice, &tea, 1))).await;

    for response in &responses {
        response.data();
    }
    assert_eq!(lines(&shop.cart(&alice).await["items"]), vec![(tea, 10)]);
    assert_eq!(shop.stored_cart_items().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_to_a_nearly_full_cart_never_make_more_than_100_lines() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let mut products = Vec::new();
    for i in 0..105 {
        products.push(shop.product(&format!("Sweet {i}"), "1.00", 5).await);
    }
    for product in &products[..95] {
        shop.put_in_cart(&alice, product, 1).await;
    }

    let responses = join_all(products[95..].iter().map(|p| shop.add(&alice, p, 1))).await;

    let mut added = 0;
    for response in &responses {
        match response.body.get("errors") {
            None => added += 1,
            Some(_) => {
                assert_eq!(response.codes(), ["BAD_USER_INPUT"], "{:#}", response.body);
                assert_eq!(response.field(), "productId");
            }
        }
    }
    assert_eq!(added, 5);
    assert_eq!(shop.stored_cart_items().await.len(), 100);
    assert_eq!(
        shop.cart(&alice).await["items"].as_array().map(Vec::len),
        Some(100)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_checkouts_of_one_cart_without_a_key_buy_it_once() {
    // A double click without an idempotency key. Run one after the other, the second
    // checkout finds the cart empty; run together, they may not buy the same lines twice.
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;

    let responses = join_all((0..5).map(|_| shop.checkout(&alice, VISA, None))).await;

    let (paid, errors) = outcomes(&responses);
    assert_eq!(paid.len(), 1, "{responses:#?}");
    for error in errors {
        let code = &error["extensions"]["code"];
        assert!(code == "CONFLICT" || code == "BAD_USER_INPUT", "{error:#}");
        assert_eq!(error["extensions"]["field"], "cart", "{error:#}");
    }
    assert_eq!(shop.stock(&tea).await, 8);
    assert_stored_orders(&shop, &paid, 1, 2, 420).await;
    assert_eq!(shop.cart(&alice).await["items"], json!([]));
}
