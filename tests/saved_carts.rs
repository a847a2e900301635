//! Saved carts (issue 14): a user puts the whole cart aside under a name, finds it in
//! `me.savedCarts`, and restores it another day, its lines added to the cart. Users only;
//! another user's saved cart is NOT_FOUND, as one that does not exist.

use serde_json::{Value, json};

use crate::{
    store::{Shop, lines, open_shop, text},
    support::{Gql, Session},
};

const SAVED: &str =
    "id name createdAt items { product { id } variant { title } quantity lineTotal { amount } }";

async fn save_cart(shop: &Shop, who: Option<&Session>, name: &str) -> Gql {
    shop.send(
        who.map(|who| who.access_token.as_str()),
        &format!("mutation($name: String!) {{ saveCart(name: $name) {{ {SAVED} }} }}"),
        json!({ "name": name }),
    )
    .await
}

async fn restore(shop: &Shop, who: Option<&Session>, id: &str) -> Gql {
    shop.send(
        who.map(|who| who.access_token.as_str()),
        "mutation($id: ID!) { restoreSavedCart(id: $id) { items { product { id } quantity } savedItems { product { id } quantity } } }",
        json!({ "id": id }),
    )
    .await
}

async fn delete(shop: &Shop, who: Option<&Session>, id: &str) -> Gql {
    shop.send(
        who.map(|who| who.access_token.as_str()),
        "mutation($id: ID!) { deleteSavedCart(id: $id) }",
        json!({ "id": id }),
    )
    .await
}

async fn saved_carts(shop: &Shop, who: &Session) -> Value {
    shop.gql_as(
        who,
        &format!("{{ me {{ savedCarts {{ {SAVED} }} }} }}"),
        json!({}),
    )
    .await
    .data()["me"]["savedCarts"]
        .clone()
}

#[tokio::test]
async fn saving_puts_the_carts_items_aside_under_a_name_and_empties_the_cart() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let jam = shop.product("Jam", "3.10", 10).await;
    let mug = shop.product("Mug", "9.00", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.put_in_cart(&alice, &jam, 1).await;
    shop.put_in_cart(&alice, &mug, 1).await;
    shop.save_for_later(&alice, &mug).await.data();

    let saved = save_cart(&shop, Some(&alice), "  Picnic ").await;

    let saved = &saved.data()["saveCart"];
    assert_eq!(saved["name"], "Picnic");
    assert_eq!(lines(&saved["items"]), [(tea.clone(), 2), (jam.clone(), 1)]);
    assert_eq!(saved["items"][0]["lineTotal"]["amount"], "8.40");
    let cart = shop.cart(&alice).await;
    assert_eq!(cart["items"], json!([]));
    assert_eq!(
        lines(&cart["savedItems"]),
        [(mug, 1)],
        "saved for later stays"
    );
    assert_eq!(saved_carts(&shop, &alice).await, json!([saved]));
}

#[tokio::test]
async fn saved_carts_are_listed_newest_first_at_current_prices_and_resolve_as_nodes() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 1).await;
    let first =
        text(&save_cart(&shop, Some(&alice), "First").await.data()["saveCart"]["id"]).to_owned();
    shop.put_in_cart(&alice, &tea, 3).await;
    let second =
        text(&save_cart(&shop, Some(&alice), "Second").await.data()["saveCart"]["id"]).to_owned();
    shop.change_product(&tea, json!({ "price": "5.00" })).await;

    let listed = saved_carts(&shop, &alice).await;

    let names: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| text(&s["name"]))
        .collect();
    assert_eq!(names, ["Second", "First"]);
    assert_eq!(listed[0]["items"][0]["lineTotal"]["amount"], "15.00");
    let node = shop
        .gql_as(
            &alice,
            "query($id: ID!) { node(id: $id) { ... on SavedCart { name } } }",
            json!({ "id": first }),
        )
        .await;
    assert_eq!(node.data()["node"]["name"], "First");
    let bob = shop.register("bob").await;
    let others = shop
        .gql_as(
            &bob,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": second }),
        )
        .await;
    assert!(others.data()["node"].is_null());
}

#[tokio::test]
async fn restoring_adds_the_lines_to_the_cart_and_deletes_the_saved_cart() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 2000).await;
    let jam = shop.product("Jam", "3.10", 10).await;
    shop.put_in_cart(&alice, &tea, 600).await;
    shop.put_in_cart(&alice, &jam, 2).await;
    let saved =
        text(&save_cart(&shop, Some(&alice), "Big").await.data()["saveCart"]["id"]).to_owned();
    shop.put_in_cart(&alice, &tea, 500).await;

    let restored = restore(&shop, Some(&alice), &saved).await;

    let cart = &restored.data()["restoreSavedCart"];
    assert_eq!(
        lines(&cart["items"]),
        [(tea, 999), (jam, 2)],
        "quantities add up, to at most 999"
    );
    assert_eq!(saved_carts(&shop, &alice).await, json!([]));
    assert_eq!(
        restore(&shop, Some(&alice), &saved).await.code(),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn deleting_removes_a_saved_cart_and_only_its_owner_may() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 1).await;
    let saved =
        text(&save_cart(&shop, Some(&alice), "Mine").await.data()["saveCart"]["id"]).to_owned();

    assert_eq!(restore(&shop, Some(&bob), &saved).await.code(), "NOT_FOUND");
    assert_eq!(delete(&shop, Some(&bob), &saved).await.code(), "NOT_FOUND");
    assert_eq!(shop.cart(&bob).await["items"], json!([]));
    assert_eq!(
        saved_carts(&shop, &alice).await.as_array().map(Vec::len),
        Some(1)
    );

    let deleted = delete(&shop, Some(&alice), &saved).await;

    assert_eq!(deleted.data()["deleteSavedCart"], true);
    assert_eq!(saved_carts(&shop, &alice).await, json!([]));
    assert_eq!(
        delete(&shop, Some(&alice), &saved).await.code(),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn saved_carts_are_for_users_only() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 1).await;
    let saved =
        text(&save_cart(&shop, Some(&alice), "Mine").await.data()["saveCart"]["id"]).to_owned();

    for response in [
        save_cart(&shop, None, "Guest's").await,
        restore(&shop, None, &saved).await,
        delete(&shop, None, &saved).await,
    ] {
        assert_eq!(response.code(), "UNAUTHENTICATED", "{:#}", response.body);
    }
    assert_eq!(
        saved_carts(&shop, &alice).await.as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn an_empty_cart_a_bad_name_and_a_full_shelf_are_bad_user_input() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 100).await;

    let empty = save_cart(&shop, Some(&alice), "Nothing").await;
    assert_eq!((empty.code(), empty.field()), ("BAD_USER_INPUT", "cart"));
    shop.put_in_cart(&alice, &tea, 1).await;
    for name in ["", "   ", &"x".repeat(101)] {
        let response = save_cart(&shop, Some(&alice), name).await;
        assert_eq!(
            (response.code(), response.field()),
            ("BAD_USER_INPUT", "name"),
            "{name:?}"
        );
    }
    for i in 0..20 {
        save_cart(&shop, Some(&alice), &format!("Cart {i}"))
            .await
            .data();
        shop.put_in_cart(&alice, &tea, 1).await;
    }

    let full = save_cart(&shop, Some(&alice), "One too many").await;

    assert_eq!((full.code(), full.field()), ("BAD_USER_INPUT", "name"));
    assert_eq!(
        lines(&shop.cart(&alice).await["items"]),
        [(tea, 1)],
        "the cart is kept"
    );
    assert_eq!(
        saved_carts(&shop, &alice).await.as_array().map(Vec::len),
        Some(20)
    );
}
