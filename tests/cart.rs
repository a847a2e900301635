//! The cart: lines at the products' current prices with an exact subtotal, quantities
//! from 1 to 999 and never more than the stock, at most 100 lines, lines saved for later,
//! and one cart per customer that outlives their sessions.

use serde_json::json;

use crate::{
    store::{db_id, lines, missing_product, open_shop, text},
    support::PASSWORD,
};

#[tokio::test]
async fn anonymous_callers_get_unauthenticated_from_every_cart_operation() {
    let shop = open_shop().await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let product = json!({ "product": tea });
    let operations = [
        ("{ cart { totalQuantity } }", json!({})),
        (
            "mutation($product: ID!) { addToCart(productId: $product, quantity: 1) { totalQuantity } }",
            product.clone(),
        ),
        (
            "mutation($product: ID!) { updateCartItem(productId: $product, quantity: 2) { totalQuantity } }",
            product.clone(),
        ),
        (
            "mutation($product: ID!) { removeFromCart(productId: $product) { totalQuantity } }",
            product.clone(),
        ),
        (
            "mutation($product: ID!) { saveForLater(productId: $product) { totalQuantity } }",
            product.clone(),
        ),
        (
            "mutation($product: ID!) { moveToCart(productId: $product) { totalQuantity } }",
            product,
        ),
    ];

    for (query, variables) in operations {
        let response = shop.gql(query, variables).await;

        assert_eq!(response.code(), "UNAUTHENTICATED", "{query}");
    }
    assert_eq!(shop.stored_cart_items().await, vec![]);
}

#[tokio::test]
async fn a_new_customer_has_an_empty_cart() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;

    let cart = shop.cart(&alice).await;

    assert_eq!(cart["items"], json!([]));
    assert_eq!(cart["savedItems"], json!([]));
    assert_eq!(cart["totalQuantity"], 0);
    assert_eq!(
        cart["subtotal"],
        json!({ "amount": "0.00", "currencyCode": "USD" })
    );
}

#[tokio::test]
async fn an_added_product_shows_as_a_line_at_its_current_price() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;

    let response = shop.add(&alice, &tea, 2).await;

    let cart = &response.data()["addToCart"];
    let line = &cart["items"][0];
    assert_eq!(line["product"]["id"], tea.as_str());
    assert_eq!(line["product"]["name"], "Tea");
    assert_eq!(line["quantity"], 2);
    assert_eq!(
        line["lineTotal"],
        json!({ "amount": "8.40", "currencyCode": "USD" })
    );
    assert_eq!(cart["totalQuantity"], 2);
    assert_eq!(cart["subtotal"]["amount"], "8.40");
    // Adding to the cart reserves nothing: stock is taken at checkout.
    assert_eq!(shop.stock(&tea).await, 10);
}

#[tokio::test]
async fn cart_lines_follow_the_current_price_of_their_product() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 3).await;

    shop.change_product(&tea, json!({ "price": "5.05" })).await;

    let cart = shop.cart(&alice).await;
    assert_eq!(cart["items"][0]["product"]["price"]["amount"], "5.05");
    assert_eq!(cart["items"][0]["lineTotal"]["amount"], "15.15");
    assert_eq!(cart["subtotal"]["amount"], "15.15");
}

#[tokio::test]
async fn adding_a_product_already_in_the_cart_adds_to_its_line() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;

    let response = shop.add(&alice, &tea, 3).await;

    let cart = &response.data()["addToCart"];
    assert_eq!(lines(&cart["items"]), vec![(tea, 5)]);
    assert_eq!(cart["subtotal"]["amount"], "21.00");
}

#[tokio::test]
async fn the_subtotal_is_exact_to_the_cent() {
    // Amounts that binary floating point cannot add up exactly: 3 x 0.10 is not 0.30 in
    // an f64, and neither is 999 x 0.07 equal to 69.93.
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let dime = shop.product("Dime sweet", "0.10", 5000).await;
    let twenty = shop.product("Twenty sweet", "0.20", 5000).await;
    let jam = shop.product("Jam", "19.99", 5000).await;
    let seven = shop.product("Seven sweet", "0.07", 5000).await;
    shop.put_in_cart(&alice, &dime, 3).await;
    shop.put_in_cart(&alice, &twenty, 1).await;
    shop.put_in_cart(&alice, &jam, 3).await;

    let cart = shop.add(&alice, &seven, 999).await.data()["addToCart"].clone();

    let totals: Vec<&str> = cart["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|line| text(&line["lineTotal"]["amount"]))
        .collect();
    assert_eq!(totals, ["0.30", "0.20", "59.97", "69.93"]);
    assert_eq!(cart["subtotal"]["amount"], "130.40");
    assert_eq!(cart["totalQuantity"], 1006);
}

#[tokio::test]
async fn quantities_outside_1_to_999_per_line_are_bad_user_input() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 5000).await;

    for quantity in [0, -1, 1000, i32::MAX] {
        let response = shop.add(&alice, &tea, quantity).await;
        assert_eq!(response.code(), "BAD_USER_INPUT", "add {quantity}");
        assert_eq!(response.field(), "quantity", "add {quantity}");
    }
    assert_eq!(shop.cart(&alice).await["items"], json!([]));

    shop.put_in_cart(&alice, &tea, 999).await;
    // One more would make the line hold 1000.
    let one_more = shop.add(&alice, &tea, 1).await;
    assert_eq!(one_more.code(), "BAD_USER_INPUT");
    assert_eq!(one_more.field(), "quantity");
    for quantity in [-1, 1000] {
        let response = shop.update_line(&alice, &tea, quantity).await;
        assert_eq!(response.code(), "BAD_USER_INPUT", "update {quantity}");
        assert_eq!(response.field(), "quantity", "update {quantity}");
    }

    assert_eq!(
        lines(&shop.cart(&alice).await["items"]),
        vec![(tea.clone(), 999)]
    );
    let response = shop.update_line(&alice, &tea, 1).await;
    assert_eq!(
        lines(&response.data()["updateCartItem"]["items"]),
        vec![(tea, 1)]
    );
}

#[tokio::test]
async fn asking_for_more_than_the_stock_is_out_of_stock_naming_the_product_and_what_is_left() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 5).await;

    let too_many = shop.add(&alice, &tea, 6).await;
    assert_eq!(too_many.code(), "OUT_OF_STOCK");
    assert_eq!(too_many.error()["extensions"]["productId"], tea.as_str());
    assert_eq!(too_many.error()["extensions"]["available"], 5);
    assert_eq!(shop.cart(&alice).await["items"], json!([]));

    // What is already in the line counts.
    shop.put_in_cart(&alice, &tea, 3).await;
    let three_more = shop.add(&alice, &tea, 3).await;
    assert_eq!(three_more.code(), "OUT_OF_STOCK");
    assert_eq!(three_more.error()["extensions"]["productId"], tea.as_str());
    assert_eq!(three_more.error()["extensions"]["available"], 5);

    let update = shop.update_line(&alice, &tea, 6).await;
    assert_eq!(update.code(), "OUT_OF_STOCK");
    assert_eq!(update.error()["extensions"]["productId"], tea.as_str());
    assert_eq!(update.error()["extensions"]["available"], 5);

    assert_eq!(
        lines(&shop.cart(&alice).await["items"]),
        vec![(tea.clone(), 3)]
    );
    // Exactly the stock is fine.
    let all_of_it = shop.update_line(&alice, &tea, 5).await;
    assert_eq!(
        lines(&all_of_it.data()["updateCartItem"]["items"]),
        vec![(tea, 5)]
    );
}

#[tokio::test]
async fn archived_unknown_and_non_product_ids_are_not_found() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let archived = shop.product("Old tea", "4.20", 10).await;
    shop.change_product(&archived, json!({ "archived": true }))
        .await;

    for product in [archived.as_str(), &missing_product(), &alice.id] {
        let response = shop.add(&alice, product, 1).await;
        assert_eq!(response.code(), "NOT_FOUND", "{product}");
    }
    let malformed = shop.add(&alice, "not an id", 1).await;
    assert_eq!(malformed.code(), "BAD_USER_INPUT");
    assert_eq!(malformed.field(), "productId");

    assert_eq!(shop.cart(&alice).await["items"], json!([]));
}

#[tokio::test]
async fn a_line_whose_product_was_archived_can_no_longer_be_changed_or_moved_back() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "3.10", 10).await;
    shop.put_in_cart(&alice, &tea, 1).await;
    shop.put_in_cart(&alice, &jam, 1).await;
    shop.save_for_later(&alice, &jam).await.data();

    shop.change_product(&tea, json!({ "archived": true })).await;
    shop.change_product(&jam, json!({ "archived": true })).await;

    assert_eq!(shop.update_line(&alice, &tea, 2).await.code(), "NOT_FOUND");
    assert_eq!(shop.add(&alice, &tea, 1).await.code(), "NOT_FOUND");
    assert_eq!(shop.move_to_cart(&alice, &jam).await.code(), "NOT_FOUND");
    // It can still be taken out.
    let removed = shop.remove_line(&alice, &tea).await;
    assert_eq!(removed.data()["removeFromCart"]["items"], json!([]));
    assert_eq!(
        lines(&removed.data()["removeFromCart"]["savedItems"]),
        vec![(jam, 1)]
    );
}

#[tokio::test]
async fn a_cart_holds_at_most_100_lines_saved_ones_included() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let mut products = Vec::new();
    for i in 0..101 {
        products.push(shop.product(&format!("Sweet {i}"), "1.00", 5).await);
    }
    for product in &products[..100] {
        shop.put_in_cart(&alice, product, 1).await;
    }
    shop.save_for_later(&alice, &products[0]).await.data();

    let one_too_many = shop.add(&alice, &products[100], 1).await;

    assert_eq!(one_too_many.code(), "BAD_USER_INPUT");
    assert_eq!(one_too_many.field(), "productId");
    let cart = shop.cart(&alice).await;
    assert_eq!(cart["items"].as_array().map(Vec::len), Some(99));
    assert_eq!(cart["savedItems"].as_array().map(Vec::len), Some(1));
    assert!(
        !lines(&cart["items"])
            .iter()
            .any(|(product, _)| product == &products[100])
    );
    // More of a product already in the cart is not a new line.
    let more = shop.add(&alice, &products[1], 1).await;
    assert_eq!(more.data()["addToCart"]["items"][0]["quantity"], 2);
}

#[tokio::test]
async fn updating_a_line_sets_its_quantity_and_zero_removes_it() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "3.10", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.put_in_cart(&alice, &jam, 1).await;

    let updated = shop.update_line(&alice, &tea, 7).await;
    let cart = &updated.data()["updateCartItem"];
    assert_eq!(
        lines(&cart["items"]),
        vec![(tea.clone(), 7), (jam.clone(), 1)]
    );
    assert_eq!(cart["subtotal"]["amount"], "32.50");

    let removed = shop.update_line(&alice, &tea, 0).await;
    let cart = &removed.data()["updateCartItem"];
    assert_eq!(lines(&cart["items"]), vec![(jam.clone(), 1)]);
    assert_eq!(cart["totalQuantity"], 1);
    assert_eq!(cart["subtotal"]["amount"], "3.10");

    // A product that is not in the cart has no line to update.
    assert_eq!(shop.update_line(&alice, &tea, 1).await.code(), "NOT_FOUND");
    assert_eq!(lines(&shop.cart(&alice).await["items"]), vec![(jam, 1)]);
}

#[tokio::test]
async fn removing_a_line_takes_it_out_and_a_line_not_in_the_cart_is_not_found() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "3.10", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;

    let removed = shop.remove_line(&alice, &tea).await;
    assert_eq!(removed.data()["removeFromCart"]["items"], json!([]));
    assert_eq!(
        removed.data()["removeFromCart"]["subtotal"]["amount"],
        "0.00"
    );

    assert_eq!(shop.remove_line(&alice, &tea).await.code(), "NOT_FOUND");
    assert_eq!(shop.remove_line(&alice, &jam).await.code(), "NOT_FOUND");
}

#[tokio::test]
async fn saving_for_later_and_moving_back_move_a_line_between_items_and_saved_items() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "3.10", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.put_in_cart(&alice, &jam, 3).await;

    let saved = shop.save_for_later(&alice, &tea).await;
    let cart = &saved.data()["saveForLater"];
    assert_eq!(lines(&cart["items"]), vec![(jam.clone(), 3)]);
    assert_eq!(lines(&cart["savedItems"]), vec![(tea.clone(), 2)]);
    // Saved lines are not part of what checkout would buy.
    assert_eq!(cart["totalQuantity"], 3);
    assert_eq!(cart["subtotal"]["amount"], "9.30");
    assert_eq!(
        shop.save_for_later(&alice, &tea).await.code(),
        "NOT_FOUND",
        "a saved line cannot be saved again"
    );
    assert_eq!(
        shop.move_to_cart(&alice, &jam).await.code(),
        "NOT_FOUND",
        "a line in the cart cannot be moved to it"
    );

    let moved = shop.move_to_cart(&alice, &tea).await;
    let cart = &moved.data()["moveToCart"];
    assert_eq!(
        lines(&cart["items"]),
        vec![(tea.clone(), 2), (jam.clone(), 3)]
    );
    assert_eq!(cart["savedItems"], json!([]));
    assert_eq!(cart["totalQuantity"], 5);
    assert_eq!(cart["subtotal"]["amount"], "17.70");
}

#[tokio::test]
async fn a_saved_line_moves_back_to_the_cart_only_while_the_stock_covers_it() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 4).await;
    shop.save_for_later(&alice, &tea).await.data();
    shop.change_product(&tea, json!({ "stock": 3 })).await;

    let response = shop.move_to_cart(&alice, &tea).await;

    assert_eq!(response.code(), "OUT_OF_STOCK");
    assert_eq!(response.error()["extensions"]["productId"], tea.as_str());
    assert_eq!(response.error()["extensions"]["available"], 3);
    let cart = shop.cart(&alice).await;
    assert_eq!(cart["items"], json!([]));
    assert_eq!(lines(&cart["savedItems"]), vec![(tea, 4)]);
}

#[tokio::test]
async fn the_cart_persists_across_logins() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "3.10", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.put_in_cart(&alice, &jam, 1).await;
    shop.save_for_later(&alice, &jam).await.data();
    shop.gql(
        "mutation($token: String!) { logout(refreshToken: $token) }",
        json!({ "token": alice.refresh_token }),
    )
    .await
    .data();

    let login = shop.login("alice", PASSWORD).await;
    let again = crate::support::session_from(&login.data()["login"]);

    assert_eq!(db_id(&again.id), db_id(&alice.id));
    let cart = shop.cart(&again).await;
    assert_eq!(lines(&cart["items"]), vec![(tea, 2)]);
    assert_eq!(lines(&cart["savedItems"]), vec![(jam, 1)]);
}

#[tokio::test]
async fn each_customer_has_a_cart_of_their_own() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;

    let bobs_cart = shop.cart(&bob).await;
    let bob_removes = shop.remove_line(&bob, &tea).await;

    assert_eq!(bobs_cart["items"], json!([]));
    assert_eq!(bob_removes.code(), "NOT_FOUND");
    assert_eq!(lines(&shop.cart(&alice).await["items"]), vec![(tea, 2)]);
}

#[tokio::test]
async fn adding_to_a_cart_costs_the_same_few_statements_however_full_the_cart_is() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let mut products = Vec::new();
    for i in 0..21 {
        products.push(shop.product(&format!("Product {i}"), "1.00", 5).await);
    }
    shop.put_in_cart(&alice, &products[0], 1).await;
    for product in &products[..20] {
        shop.put_in_cart(&bob, product, 1).await;
    }
    let add = "mutation($product: ID!) {
        addToCart(productId: $product, quantity: 1) { totalQuantity subtotal { amount } items { quantity } }
    }";
    let last = json!({ "product": products[20] });

    let short = shop.statements_for(Some(&alice), add, last.clone()).await;
    let long = shop.statements_for(Some(&bob), add, last.clone()).await;
    let again = shop.statements_for(Some(&bob), add, last).await;

    assert_eq!(short, long, "the statement count grows with the cart");
    // Besides BEGIN and COMMIT: take the cart's row and read it back, in one statement;
    // the variant with its product; the line if there is one; the line count and the
    // insert; the cart's lines with their products, then their variants.
    assert!(short <= 7, "a new line cost {short} statements");
    // An existing line's update instead of the count and the insert.
    assert!(again <= 6, "adding to a line cost {again} statements");
    assert_eq!(shop.cart(&bob).await["totalQuantity"], 22);
}
