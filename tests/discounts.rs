//! Discount codes: admins create, change and page through them; anyone with a cart applies
//! one (in any case) or takes it off, and every reason a code does not apply is
//! BAD_USER_INPUT on `code` with the cart unchanged. A use is taken in a checkout's
//! transaction (`discounts::redeem`): a usage limit is never exceeded however many
//! checkouts race, a once-per-customer code is used once per customer, and a use given
//! back (`discounts::give_back`) comes back exactly once.

use std::collections::HashSet;

use chrono::{SubsecRound, TimeDelta, Utc};
use entity::{cart, discount_code, discount_redemption};
use futures_util::future::join_all;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};
use shop::{
    db,
    domain::{Customer, Email, GlobalId, Money, NodeKind},
    error::{AppError, AppResult, DiscountRefusal, Refusal},
    service::discounts,
};

use crate::store::{Shop, db_id, open_shop, text};
use crate::support::{Gql, Session};

/// Every field of a discount code a test may look at.
const CODE_FIELDS: &str = "id code percentOff amountOff { amount currencyCode } minSubtotal { amount currencyCode } usageLimit timesUsed oncePerCustomer startsAt endsAt active createdAt";

/// The fields of a cart these tests look at.
const CART_FIELDS: &str = "id discountCode subtotal { amount } items { quantity }";

/// `createDiscountCode` as `who`.
async fn create_as(shop: &Shop, who: Option<&Session>, input: Value) -> Gql {
    shop.send(
        who.map(|who| who.access_token.as_str()),
        &format!(
            "mutation($input: CreateDiscountCodeInput!) {{ createDiscountCode(input: $input) {{ {CODE_FIELDS} }} }}"
        ),
        json!({ "input": input }),
    )
    .await
}

/// `createDiscountCode` as the admin, which must succeed; answers the code.
async fn create_code(shop: &Shop, input: Value) -> Value {
    create_as(shop, Some(&shop.admin), input).await.data()["createDiscountCode"].clone()
}

/// `updateDiscountCode` as `who`.
async fn update_as(shop: &Shop, who: &Session, id: &str, input: Value) -> Gql {
    shop.gql_as(
        who,
        &format!(
            "mutation($id: ID!, $input: UpdateDiscountCodeInput!) {{ updateDiscountCode(id: $id, input: $input) {{ {CODE_FIELDS} }} }}"
        ),
        json!({ "id": id, "input": input }),
    )
    .await
}

/// `applyDiscountCode` as `who` (`None`: anonymously) on `cart` (`None`: the own cart).
async fn apply(shop: &Shop, who: Option<&Session>, cart: Option<&str>, code: &str) -> Gql {
    shop.send(
        who.map(|who| who.access_token.as_str()),
        &format!(
            "mutation($code: String!, $cart: ID) {{ applyDiscountCode(code: $code, cartId: $cart) {{ {CART_FIELDS} }} }}"
        ),
        json!({ "code": code, "cart": cart }),
    )
    .await
}

/// `removeDiscountCode` as `who` (`None`: anonymously) on `cart` (`None`: the own cart).
async fn remove(shop: &Shop, who: Option<&Session>, cart: Option<&str>) -> Gql {
    shop.send(
        who.map(|who| who.access_token.as_str()),
        &format!("mutation($cart: ID) {{ removeDiscountCode(cartId: $cart) {{ {CART_FIELDS} }} }}"),
        json!({ "cart": cart }),
    )
    .await
}

/// `cart(id:)` as `who`, which must load.
async fn read_cart(shop: &Shop, who: Option<&Session>, cart: Option<&str>) -> Value {
    shop.send(
        who.map(|who| who.access_token.as_str()),
        &format!("query($cart: ID) {{ cart(id: $cart) {{ {CART_FIELDS} }} }}"),
        json!({ "cart": cart }),
    )
    .await
    .data()["cart"]
        .clone()
}

/// Every discount code as stored, oldest first.
async fn stored_codes(shop: &Shop) -> Vec<discount_code::Model> {
    discount_code::Entity::find()
        .order_by_asc(discount_code::Column::Id)
        .all(&shop.db)
        .await
        .expect("codes read")
}

/// The discount code as stored under its global ID.
async fn stored_code(shop: &Shop, id: &str) -> discount_code::Model {
    discount_code::Entity::find_by_id(db_id(id))
        .one(&shop.db)
        .await
        .expect("code read")
        .expect("the code exists")
}

/// `code` as stored now.
async fn reload(shop: &Shop, code: &discount_code::Model) -> discount_code::Model {
    discount_code::Entity::find_by_id(code.id)
        .one(&shop.db)
        .await
        .expect("code read")
        .expect("the code exists")
}

/// Every redemption as stored, oldest first.
async fn stored_redemptions(shop: &Shop) -> Vec<discount_redemption::Model> {
    discount_redemption::Entity::find()
        .order_by_asc(discount_redemption::Column::Id)
        .all(&shop.db)
        .await
        .expect("redemptions read")
}

/// Every cart as stored, oldest first.
async fn stored_carts(shop: &Shop) -> Vec<cart::Model> {
    cart::Entity::find()
        .order_by_asc(cart::Column::Id)
        .all(&shop.db)
        .await
        .expect("carts read")
}

/// `count` orders of `who`, bought through the API with the test gateway; answers their
/// database ids.
async fn orders_of(shop: &Shop, who: &Session, count: usize) -> Vec<i32> {
    let product = shop.product("Tea", "10.00", 1_000).await;
    let mut orders = Vec::new();
    for _ in 0..count {
        let order = shop.buy(who, &product, 1).await;
        orders.push(db_id(text(&order["id"])));
    }
    orders
}

/// `discounts::redeem` of `code` for `order` by `customer`, in a write transaction of its
/// own that commits when the use is taken, as a checkout's would.
async fn redeem(
    shop: &Shop,
    code: &discount_code::Model,
    order: i32,
    customer: &Customer,
) -> AppResult<()> {
    let txn = db::begin_write(&shop.db).await?;
    discounts::redeem(
        &txn,
        code,
        order,
        customer,
        Money::from_cents(1_000),
        Utc::now(),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// `discounts::give_back` for `order`, in a write transaction of its own.
async fn give_back(shop: &Shop, order: i32) {
    let txn = db::begin_write(&shop.db).await.expect("write begun");
    discounts::give_back(&txn, order).await.expect("given back");
    txn.commit().await.expect("committed");
}

/// The reason a discount refusal gives.
fn reason(result: &AppResult<()>) -> Option<DiscountRefusal> {
    match result {
        Err(AppError::Refused(Refusal::DiscountNotApplicable(why))) => Some(why.clone()),
        _ => None,
    }
}

/// An RFC 3339 time `hours` from now, to the microsecond (as the databases keep it).
fn hours_from_now(hours: i64) -> String {
    (Utc::now() + TimeDelta::hours(hours))
        .trunc_subsecs(6)
        .to_rfc3339()
}

#[tokio::test]
async fn admins_create_percent_and_amount_codes_stored_upper_case() {
    let shop = open_shop().await;
    let (starts, ends) = (hours_from_now(-1), hours_from_now(24));

    let percent = create_code(
        &shop,
        json!({ "code": " summer-10 ", "percentOff": "12.5" }),
    )
    .await;
    let amount = create_code(
        &shop,
        json!({
            "code": "Welcome_5",
            "amountOff": "5",
            "minSubtotal": "20.00",
            "usageLimit": 100,
            "oncePerCustomer": true,
            "startsAt": starts,
            "endsAt": ends,
        }),
    )
    .await;

    assert_eq!(percent["code"], "SUMMER-10");
    assert_eq!(percent["percentOff"], "12.50");
    assert_eq!(percent["amountOff"], Value::Null);
    assert_eq!(percent["minSubtotal"], Value::Null);
    assert_eq!(percent["usageLimit"], Value::Null);
    assert_eq!(percent["timesUsed"], 0);
    assert_eq!(percent["oncePerCustomer"], false);
    assert_eq!(percent["startsAt"], Value::Null);
    assert_eq!(percent["endsAt"], Value::Null);
    assert_eq!(percent["active"], true);
    assert_eq!(amount["code"], "WELCOME_5");
    assert_eq!(amount["percentOff"], Value::Null);
    assert_eq!(
        amount["amountOff"],
        json!({ "amount": "5.00", "currencyCode": "USD" })
    );
    assert_eq!(amount["minSubtotal"]["amount"], "20.00");
    assert_eq!(amount["usageLimit"], 100);
    assert_eq!(amount["oncePerCustomer"], true);
    let stored = stored_codes(&shop).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(
        (
            stored[0].code.as_str(),
            stored[0].percent_off_bp,
            stored[0].amount_off_cents
        ),
        ("SUMMER-10", Some(1250), None)
    );
    assert_eq!(
        (
            stored[1].code.as_str(),
            stored[1].amount_off_cents,
            stored[1].min_subtotal_cents
        ),
        ("WELCOME_5", Some(500), Some(2_000))
    );
    assert_eq!(
        stored[1].starts_at.map(|at| at.to_rfc3339()),
        Some(starts),
        "the start is kept exactly"
    );
}

#[tokio::test]
async fn a_code_is_a_node_for_admins_and_nothing_for_anyone_else() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let code = create_code(&shop, json!({ "code": "NODE1", "percentOff": "10" })).await;
    let id = text(&code["id"]);
    let query = "query($id: ID!) { node(id: $id) { id ... on DiscountCode { code } } nodes(ids: [$id]) { id } }";

    let as_admin = shop.gql_as(&shop.admin, query, json!({ "id": id })).await;
    let as_customer = shop.gql_as(&alice, query, json!({ "id": id })).await;
    let anonymously = shop.gql(query, json!({ "id": id })).await;

    assert_eq!(
        as_admin.data()["node"],
        json!({ "id": id, "code": "NODE1" })
    );
    assert_eq!(as_admin.data()["nodes"], json!([{ "id": id }]));
    for answer in [as_customer, anonymously] {
        assert_eq!(answer.data()["node"], Value::Null);
        assert_eq!(answer.data()["nodes"], json!([null]));
    }
}

#[tokio::test]
async fn codes_are_listed_newest_first_in_pages() {
    let shop = open_shop().await;
    for n in 1..=5 {
        create_code(
            &shop,
            json!({ "code": format!("PAGE{n}"), "amountOff": "1" }),
        )
        .await;
    }
    let page = |args: &str| {
        format!(
            "{{ discountCodes({args}) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage endCursor startCursor }} edges {{ cursor node {{ code }} }} nodes {{ code }} }} }}"
        )
    };
    let codes = |answer: &Value| -> Vec<String> {
        answer["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|node| text(&node["code"]).to_owned())
            .collect()
    };

    let first = shop.gql_as(&shop.admin, &page("first: 2"), json!({})).await;
    let first = &first.data()["discountCodes"];
    let after = format!("first: 2, after: {}", first["pageInfo"]["endCursor"]);
    let second = shop.gql_as(&shop.admin, &page(&after), json!({})).await;
    let second = &second.data()["discountCodes"];
    let last = shop.gql_as(&shop.admin, &page("last: 2"), json!({})).await;
    let last = &last.data()["discountCodes"];

    assert_eq!(first["totalCount"], 5);
    assert_eq!(codes(first), ["PAGE5", "PAGE4"]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["edges"][0]["node"]["code"], "PAGE5");
    assert_eq!(codes(second), ["PAGE3", "PAGE2"]);
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(codes(last), ["PAGE2", "PAGE1"]);
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(last["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn only_admins_create_change_and_list_codes() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let code = create_code(&shop, json!({ "code": "ADMINONLY", "percentOff": "10" })).await;
    let id = text(&code["id"]);
    let before = stored_codes(&shop).await;
    let input = json!({ "code": "MINE", "percentOff": "100" });

    let created_by_customer = create_as(&shop, Some(&alice), input.clone()).await;
    let created_anonymously = create_as(&shop, None, input).await;
    let updated_by_customer = update_as(&shop, &alice, id, json!({ "usageLimit": 1 })).await;
    let listed_by_customer = shop
        .gql_as(&alice, "{ discountCodes { totalCount } }", json!({}))
        .await;
    let listed_anonymously = shop
        .gql("{ discountCodes { totalCount } }", json!({}))
        .await;

    assert_eq!(created_by_customer.code(), "FORBIDDEN");
    assert_eq!(created_anonymously.code(), "UNAUTHENTICATED");
    assert_eq!(updated_by_customer.code(), "FORBIDDEN");
    assert_eq!(listed_by_customer.code(), "FORBIDDEN");
    assert_eq!(listed_anonymously.code(), "UNAUTHENTICATED");
    assert_eq!(stored_codes(&shop).await, before);
}

#[tokio::test]
async fn bad_codes_are_refused_on_their_field_and_nothing_is_written() {
    let shop = open_shop().await;
    let (now, later) = (hours_from_now(0), hours_from_now(1));
    let cases = [
        (
            json!({ "code": "BOTH", "percentOff": "10", "amountOff": "5" }),
            "percentOff",
        ),
        (json!({ "code": "NEITHER" }), "percentOff"),
        (json!({ "code": "ZERO", "percentOff": "0" }), "percentOff"),
        (
            json!({ "code": "TOOMUCH", "percentOff": "100.01" }),
            "percentOff",
        ),
        (
            json!({ "code": "FINE", "percentOff": "12.345" }),
            "percentOff",
        ),
        (json!({ "code": "NOTHING", "amountOff": "0" }), "amountOff"),
        (
            json!({ "code": "NEGATIVE", "amountOff": "-1" }),
            "amountOff",
        ),
        (json!({ "code": "ab", "amountOff": "1" }), "code"),
        (json!({ "code": "two words", "amountOff": "1" }), "code"),
        (json!({ "code": "X".repeat(33), "amountOff": "1" }), "code"),
        (
            json!({ "code": "MIN", "amountOff": "1", "minSubtotal": "-1" }),
            "minSubtotal",
        ),
        (
            json!({ "code": "LIMIT", "amountOff": "1", "usageLimit": 0 }),
            "usageLimit",
        ),
        (
            json!({ "code": "BACKWARDS", "amountOff": "1", "startsAt": later, "endsAt": now }),
            "endsAt",
        ),
        (
            json!({ "code": "INSTANT", "amountOff": "1", "startsAt": now, "endsAt": now }),
            "endsAt",
        ),
    ];

    for (input, field) in cases {
        let response = create_as(&shop, Some(&shop.admin), input.clone()).await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{input}");
        assert_eq!(response.field(), field, "{input}");
    }
    assert_eq!(stored_codes(&shop).await, vec![]);
}

#[tokio::test]
async fn a_code_taken_in_another_case_is_a_conflict_on_code() {
    let shop = open_shop().await;
    create_code(&shop, json!({ "code": "SPRING", "percentOff": "10" })).await;
    let before = stored_codes(&shop).await;

    let response = create_as(
        &shop,
        Some(&shop.admin),
        json!({ "code": "spring", "amountOff": "3" }),
    )
    .await;

    assert_eq!(response.code(), "CONFLICT");
    assert_eq!(response.field(), "code");
    assert_eq!(stored_codes(&shop).await, before);
}

#[tokio::test]
async fn an_update_changes_what_is_given_keeps_what_is_left_out_and_clears_what_is_null() {
    let shop = open_shop().await;
    let ends = hours_from_now(48);
    let code = create_code(
        &shop,
        json!({ "code": "CHANGE", "amountOff": "2", "usageLimit": 5, "minSubtotal": "10", "endsAt": ends }),
    )
    .await;
    let id = text(&code["id"]);

    let deactivated = update_as(&shop, &shop.admin, id, json!({ "active": false })).await;
    let deactivated = deactivated.data()["updateDiscountCode"].clone();
    let cleared = update_as(
        &shop,
        &shop.admin,
        id,
        json!({ "usageLimit": null, "endsAt": null, "minSubtotal": null }),
    )
    .await;
    let cleared = cleared.data()["updateDiscountCode"].clone();
    let later = hours_from_now(72);
    let set = update_as(
        &shop,
        &shop.admin,
        id,
        json!({ "active": true, "usageLimit": 3, "minSubtotal": "25.5", "endsAt": later }),
    )
    .await;
    let set = set.data()["updateDiscountCode"].clone();

    assert_eq!(deactivated["active"], false);
    assert_eq!(deactivated["usageLimit"], 5);
    assert_eq!(deactivated["minSubtotal"]["amount"], "10.00");
    assert_eq!(deactivated["endsAt"], code["endsAt"]);
    assert_eq!(cleared["active"], false);
    assert_eq!(cleared["usageLimit"], Value::Null);
    assert_eq!(cleared["minSubtotal"], Value::Null);
    assert_eq!(cleared["endsAt"], Value::Null);
    assert_eq!(set["active"], true);
    assert_eq!(set["usageLimit"], 3);
    assert_eq!(set["minSubtotal"]["amount"], "25.50");
    assert_eq!(set["code"], "CHANGE");
    assert_eq!(set["amountOff"]["amount"], "2.00");
    let stored = stored_code(&shop, id).await;
    assert_eq!(
        (stored.active, stored.usage_limit, stored.min_subtotal_cents),
        (true, Some(3), Some(2_550))
    );
    assert_eq!(stored.ends_at.map(|at| at.to_rfc3339()), Some(later));
}

#[tokio::test]
async fn bad_updates_are_refused_on_their_field_and_change_nothing() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let starts = hours_from_now(1);
    let code = create_code(
        &shop,
        json!({ "code": "USED", "percentOff": "5", "usageLimit": 10, "startsAt": hours_from_now(-1) }),
    )
    .await;
    let id = text(&code["id"]).to_owned();
    let later = create_code(
        &shop,
        json!({ "code": "LATER", "percentOff": "5", "startsAt": starts }),
    )
    .await;
    let later_id = text(&later["id"]).to_owned();
    let model = stored_code(&shop, &id).await;
    for order in orders_of(&shop, &alice, 2).await {
        redeem(&shop, &model, order, &Customer::User(db_id(&alice.id)))
            .await
            .expect("redeemed");
    }
    let before = stored_codes(&shop).await;
    let cases = [
        (id.clone(), json!({ "usageLimit": 1 }), "usageLimit"),
        (id.clone(), json!({ "usageLimit": 0 }), "usageLimit"),
        (id.clone(), json!({ "minSubtotal": "ten" }), "minSubtotal"),
        (id.clone(), json!({ "minSubtotal": "-5" }), "minSubtotal"),
        (later_id.clone(), json!({ "endsAt": starts }), "endsAt"),
        (
            later_id.clone(),
            json!({ "endsAt": hours_from_now(0) }),
            "endsAt",
        ),
    ];

    for (id, input, field) in cases {
        let response = update_as(&shop, &shop.admin, &id, input.clone()).await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{input}");
        assert_eq!(response.field(), field, "{input}");
    }
    let missing = GlobalId::new(NodeKind::DiscountCode, 999_999).to_string();
    let unknown = update_as(&shop, &shop.admin, &missing, json!({ "active": false })).await;
    let not_a_code = update_as(&shop, &shop.admin, &alice.id, json!({ "active": false })).await;
    assert_eq!(unknown.code(), "NOT_FOUND");
    assert_eq!(not_a_code.code(), "NOT_FOUND");
    assert_eq!(stored_codes(&shop).await, before);
    // The limit may come down to exactly the uses there are.
    let lowered = update_as(&shop, &shop.admin, &id, json!({ "usageLimit": 2 })).await;
    assert_eq!(lowered.data()["updateDiscountCode"]["usageLimit"], 2);
}

#[tokio::test]
async fn a_customer_applies_a_code_in_any_case_and_removes_it() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    create_code(&shop, json!({ "code": "SAVE10", "percentOff": "10" })).await;
    create_code(&shop, json!({ "code": "OTHER", "amountOff": "1" })).await;

    let applied = apply(&shop, Some(&alice), None, " save10 ").await;
    let read = read_cart(&shop, Some(&alice), None).await;
    let replaced = apply(&shop, Some(&alice), None, "Other").await;
    let removed = remove(&shop, Some(&alice), None).await;
    let removed_again = remove(&shop, Some(&alice), None).await;

    assert_eq!(
        applied.data()["applyDiscountCode"]["discountCode"],
        "SAVE10"
    );
    assert_eq!(
        applied.data()["applyDiscountCode"]["subtotal"]["amount"],
        "8.40"
    );
    assert_eq!(read["discountCode"], "SAVE10");
    assert_eq!(
        replaced.data()["applyDiscountCode"]["discountCode"],
        "OTHER"
    );
    assert_eq!(
        removed.data()["removeDiscountCode"]["discountCode"],
        Value::Null
    );
    assert_eq!(
        removed.data()["removeDiscountCode"]["items"],
        json!([{ "quantity": 2 }])
    );
    assert_eq!(
        removed_again.data()["removeDiscountCode"]["discountCode"],
        Value::Null
    );
    assert_eq!(
        read_cart(&shop, Some(&alice), None).await["discountCode"],
        Value::Null
    );
    assert!(
        stored_carts(&shop)
            .await
            .iter()
            .all(|cart| cart.discount_code_id.is_none())
    );
}

#[tokio::test]
async fn a_guest_applies_and_removes_a_code_on_their_cart() {
    let shop = open_shop().await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let created = shop.gql("mutation { createCart { id } }", json!({})).await;
    let cart = text(&created.data()["createCart"]["id"]).to_owned();
    shop.gql(
        "mutation($cart: ID, $product: ID) { addToCart(cartId: $cart, productId: $product) { id } }",
        json!({ "cart": cart, "product": tea }),
    )
    .await
    .data();
    let code = create_code(&shop, json!({ "code": "GUEST5", "amountOff": "5" })).await;

    let applied = apply(&shop, None, Some(&cart), "guest5").await;
    let read = read_cart(&shop, None, Some(&cart)).await;
    let removed = remove(&shop, None, Some(&cart)).await;

    assert_eq!(
        applied.data()["applyDiscountCode"]["discountCode"],
        "GUEST5"
    );
    assert_eq!(applied.data()["applyDiscountCode"]["id"], cart.as_str());
    assert_eq!(read["discountCode"], "GUEST5");
    assert_eq!(
        removed.data()["removeDiscountCode"]["discountCode"],
        Value::Null
    );
    assert_eq!(
        read_cart(&shop, None, Some(&cart)).await["discountCode"],
        Value::Null
    );
    assert_eq!(stored_code(&shop, text(&code["id"])).await.times_used, 0);
}

#[tokio::test]
async fn a_cart_is_needed_to_apply_a_code() {
    let shop = open_shop().await;
    create_code(&shop, json!({ "code": "ANYONE", "percentOff": "10" })).await;
    let unknown_cart = "an-unknown-guest-cart-secret-of-sufficient-length-0000";

    let without_cart = apply(&shop, None, None, "ANYONE").await;
    let removing_without_cart = remove(&shop, None, None).await;
    let on_an_unknown_cart = apply(&shop, None, Some(unknown_cart), "ANYONE").await;

    assert_eq!(without_cart.code(), "UNAUTHENTICATED");
    assert_eq!(removing_without_cart.code(), "UNAUTHENTICATED");
    assert_eq!(on_an_unknown_cart.code(), "NOT_FOUND");
    assert_eq!(stored_carts(&shop).await, vec![]);
}

#[tokio::test]
async fn each_reason_a_code_does_not_apply_is_bad_user_input_on_code_and_changes_nothing() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    // Orders to use codes up with, bought before anything is in the carts under test.
    let orders = orders_of(&shop, &alice, 2).await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 2).await;
    let good = create_code(&shop, json!({ "code": "GOOD", "percentOff": "10" })).await;
    let inactive = create_code(&shop, json!({ "code": "OFF", "percentOff": "10" })).await;
    update_as(
        &shop,
        &shop.admin,
        text(&inactive["id"]),
        json!({ "active": false }),
    )
    .await
    .data();
    create_code(
        &shop,
        json!({ "code": "SOON", "percentOff": "10", "startsAt": hours_from_now(1) }),
    )
    .await;
    create_code(
        &shop,
        json!({ "code": "GONE", "percentOff": "10", "startsAt": hours_from_now(-2), "endsAt": hours_from_now(-1) }),
    )
    .await;
    let used_up = create_code(
        &shop,
        json!({ "code": "LAST1", "percentOff": "10", "usageLimit": 1 }),
    )
    .await;
    let once = create_code(
        &shop,
        json!({ "code": "ONCE", "percentOff": "10", "oncePerCustomer": true }),
    )
    .await;
    create_code(
        &shop,
        json!({ "code": "BIGSPEND", "amountOff": "5", "minSubtotal": "8.41" }),
    )
    .await;
    let alice_customer = Customer::User(db_id(&alice.id));
    redeem(
        &shop,
        &stored_code(&shop, text(&used_up["id"])).await,
        orders[0],
        &alice_customer,
    )
    .await
    .expect("the last use taken");
    redeem(
        &shop,
        &stored_code(&shop, text(&once["id"])).await,
        orders[1],
        &alice_customer,
    )
    .await
    .expect("alice's one use taken");
    apply(&shop, Some(&alice), None, "good").await.data();
    let carts_before = stored_carts(&shop).await;
    let codes_before = stored_codes(&shop).await;

    let mut messages = HashSet::new();
    for code in [
        "NOPE-404", "off", "Soon", "gone", "last1", "once", "bigspend", "x",
    ] {
        let response = apply(&shop, Some(&alice), None, code).await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{code}");
        assert_eq!(response.field(), "code", "{code}");
        messages.insert(text(&response.error()["message"]).to_owned());
    }
    assert_eq!(
        messages.len(),
        8,
        "each reason says what it is: {messages:?}"
    );
    assert_eq!(stored_carts(&shop).await, carts_before);
    assert_eq!(stored_codes(&shop).await, codes_before);
    assert_eq!(
        read_cart(&shop, Some(&alice), None).await["discountCode"],
        "GOOD"
    );
    assert_eq!(text(&good["code"]), "GOOD");
    // Bob has not used ONCE, and 8.41 is within reach of a bigger cart.
    shop.put_in_cart(&bob, &tea, 1).await;
    let bobs = apply(&shop, Some(&bob), None, "once").await;
    assert_eq!(bobs.data()["applyDiscountCode"]["discountCode"], "ONCE");
    shop.put_in_cart(&alice, &tea, 1).await;
    let bigger = apply(&shop, Some(&alice), None, "bigspend").await;
    assert_eq!(
        bigger.data()["applyDiscountCode"]["discountCode"],
        "BIGSPEND"
    );
}

#[tokio::test]
async fn a_usage_limit_of_n_is_never_exceeded_by_three_times_n_concurrent_redeems() {
    const LIMIT: usize = 3;
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let code = create_code(
        &shop,
        json!({ "code": "RUSH", "percentOff": "50", "usageLimit": LIMIT }),
    )
    .await;
    let code = stored_code(&shop, text(&code["id"])).await;
    let orders = orders_of(&shop, &alice, 3 * LIMIT).await;
    let customer = Customer::User(db_id(&alice.id));

    let results = join_all(
        orders
            .iter()
            .map(|&order| redeem(&shop, &code, order, &customer)),
    )
    .await;

    let taken = results.iter().filter(|result| result.is_ok()).count();
    assert_eq!(taken, LIMIT, "{results:?}");
    for refused in results.iter().filter(|result| result.is_err()) {
        assert_eq!(
            reason(refused),
            Some(DiscountRefusal::UsedUp),
            "{refused:?}"
        );
    }
    assert_eq!(reload(&shop, &code).await.times_used, LIMIT as i32);
    assert_eq!(stored_redemptions(&shop).await.len(), LIMIT);
}

#[tokio::test]
async fn a_once_per_customer_code_is_refused_to_the_same_customer_the_second_time() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let code = create_code(
        &shop,
        json!({ "code": "ONLYONCE", "amountOff": "3", "oncePerCustomer": true }),
    )
    .await;
    let code = stored_code(&shop, text(&code["id"])).await;
    let orders = orders_of(&shop, &alice, 8).await;
    let alice_customer = Customer::User(db_id(&alice.id));
    let email = |raw: &str| Customer::Email(Email::parse(raw, "email").expect("an email"));

    let first = redeem(&shop, &code, orders[0], &alice_customer).await;
    let second = redeem(&shop, &code, orders[1], &alice_customer).await;
    let guest_first = redeem(&shop, &code, orders[2], &email("Guest@Example.com")).await;
    let guest_again = redeem(&shop, &code, orders[3], &email("guest@example.COM")).await;
    // Four checkouts of one new customer at once: one use.
    let racer = email("racer@example.com");
    let racing = join_all(
        orders[4..]
            .iter()
            .map(|&order| redeem(&shop, &code, order, &racer)),
    )
    .await;

    assert!(first.is_ok(), "{first:?}");
    assert_eq!(reason(&second), Some(DiscountRefusal::AlreadyUsed));
    assert!(guest_first.is_ok(), "{guest_first:?}");
    assert_eq!(reason(&guest_again), Some(DiscountRefusal::AlreadyUsed));
    assert_eq!(
        racing.iter().filter(|result| result.is_ok()).count(),
        1,
        "{racing:?}"
    );
    for refused in racing.iter().filter(|result| result.is_err()) {
        assert_eq!(
            reason(refused),
            Some(DiscountRefusal::AlreadyUsed),
            "{refused:?}"
        );
    }
    let keys: Vec<Option<String>> = stored_redemptions(&shop)
        .await
        .into_iter()
        .map(|redemption| redemption.customer_key)
        .collect();
    assert_eq!(
        keys,
        [
            Some(format!("user:{}", db_id(&alice.id))),
            Some("email:guest@example.com".to_owned()),
            Some("email:racer@example.com".to_owned()),
        ]
    );
    assert_eq!(reload(&shop, &code).await.times_used, 3);
}

#[tokio::test]
async fn giving_a_use_back_frees_it_exactly_once() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let limited = create_code(
        &shop,
        json!({ "code": "ONEUSE", "percentOff": "10", "usageLimit": 1, "oncePerCustomer": true }),
    )
    .await;
    let limited = stored_code(&shop, text(&limited["id"])).await;
    let open = create_code(&shop, json!({ "code": "OPEN", "percentOff": "10" })).await;
    let open = stored_code(&shop, text(&open["id"])).await;
    let orders = orders_of(&shop, &alice, 5).await;
    let customer = Customer::User(db_id(&alice.id));
    let guest = Customer::Email(Email::parse("guest@example.com", "email").expect("an email"));
    redeem(&shop, &limited, orders[0], &customer)
        .await
        .expect("the one use taken");
    let while_used = redeem(&shop, &limited, orders[1], &guest).await;
    for &order in &orders[2..4] {
        redeem(&shop, &open, order, &customer).await.expect("used");
    }

    give_back(&shop, orders[0]).await;
    give_back(&shop, orders[0]).await;
    // An order that used no code has nothing to give back.
    give_back(&shop, orders[4]).await;
    join_all((0..4).map(|_| give_back(&shop, orders[2]))).await;

    assert_eq!(reason(&while_used), Some(DiscountRefusal::UsedUp));
    assert_eq!(reload(&shop, &limited).await.times_used, 0);
    assert_eq!(reload(&shop, &open).await.times_used, 1);
    let remaining: Vec<i32> = stored_redemptions(&shop)
        .await
        .iter()
        .map(|redemption| redemption.order_id)
        .collect();
    assert_eq!(remaining, [orders[3]]);
    // The use is free again, for the same customer too.
    let fresh = reload(&shop, &limited).await;
    redeem(&shop, &fresh, orders[1], &customer)
        .await
        .expect("the freed use taken");
    assert_eq!(reload(&shop, &limited).await.times_used, 1);
}

#[tokio::test]
async fn a_checkout_takes_the_code_off_the_cart_it_bought() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    create_code(&shop, json!({ "code": "TAKEN", "percentOff": "10" })).await;
    for who in [&alice, &bob] {
        shop.put_in_cart(who, &tea, 1).await;
        apply(&shop, Some(who), None, "taken").await.data();
    }
    let carts = stored_carts(&shop).await;
    let alices = carts
        .iter()
        .find(|cart| cart.user_id == Some(db_id(&alice.id)))
        .expect("alice's cart");

    let txn = db::begin_write(&shop.db).await.expect("write begun");
    discounts::clear_from_cart(&*txn, alices.id)
        .await
        .expect("cleared");
    txn.commit().await.expect("committed");

    assert_eq!(
        read_cart(&shop, Some(&alice), None).await["discountCode"],
        Value::Null
    );
    assert_eq!(
        read_cart(&shop, Some(&bob), None).await["discountCode"],
        "TAKEN"
    );
}
