//! `nodes(ids:)` (issue 14): many objects by global ID at once, for clients that refetch
//! what they show. In the order given; each entry what `node(id:)` answers for its ID
//! (null where that is null, and where that is an error, null with the error at the
//! entry's index); at most 100 IDs; a malformed one refuses the list as `node(id:)`
//! refuses it; and one lookup per kind of object, however many IDs.

use serde_json::{Value, json};
use shop::domain::{GlobalId, NodeKind};

use crate::{
    store::{Shop, address, missing_order, missing_product, open_shop, text},
    support::{Gql, Session, spawn_app},
};

/// What the tests read of any node.
const NODE_FIELDS: &str = "__typename id \
     ... on Product { name } \
     ... on Category { name } \
     ... on ProductVariant { title } \
     ... on User { username } \
     ... on Address { fullName } \
     ... on Order { number }";

async fn nodes(shop: &Shop, who: Option<&Session>, ids: &[&str]) -> Gql {
    let query = format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {NODE_FIELDS} }} }}");
    shop.send(
        who.map(|s| s.access_token.as_str()),
        &query,
        json!({ "ids": ids }),
    )
    .await
}

async fn node(shop: &Shop, who: Option<&Session>, id: &str) -> Gql {
    let query = format!("query($id: ID!) {{ node(id: $id) {{ {NODE_FIELDS} }} }}");
    shop.send(
        who.map(|s| s.access_token.as_str()),
        &query,
        json!({ "id": id }),
    )
    .await
}

/// The list `nodes` answered, however many errors came with it.
fn entries(answer: &Gql) -> &Vec<Value> {
    answer.body["data"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no list of nodes: {:#}", answer.body))
}

/// The errors of an answer, as (path, code).
fn errors(answer: &Gql) -> Vec<(Value, String)> {
    answer.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| (e["path"].clone(), text(&e["extensions"]["code"]).to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

async fn category(shop: &Shop, name: &str) -> String {
    let created = shop
        .gql_as(
            &shop.admin,
            "mutation($input: CreateCategoryInput!) { createCategory(input: $input) { id } }",
            json!({ "input": { "name": name } }),
        )
        .await;
    text(&created.data()["createCategory"]["id"]).to_owned()
}

#[tokio::test]
async fn each_id_is_answered_in_the_order_given_as_node_answers_it() {
    let shop = open_shop().await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let mug = shop.product("Mug", "9.00", 5).await;
    let gone = shop.product("Discontinued", "1.00", 1).await;
    shop.change_product(&gone, json!({ "archived": true }))
        .await;
    let drinks = category(&shop, "Drinks").await;
    let missing = missing_product();
    let ids = [
        mug.as_str(),
        drinks.as_str(),
        missing.as_str(),
        tea.as_str(),
        gone.as_str(),
        mug.as_str(),
    ];

    let anonymous = nodes(&shop, None, &ids).await;
    let as_admin = nodes(&shop, Some(&shop.admin), &ids).await;

    let names: Vec<&Value> = entries(&anonymous).iter().map(|n| &n["name"]).collect();
    assert_eq!(
        names,
        [
            &json!("Mug"),
            &json!("Drinks"),
            &Value::Null,
            &json!("Tea"),
            &Value::Null,
            &json!("Mug"),
        ]
    );
    assert!(
        anonymous.body.get("errors").is_none(),
        "{:#}",
        anonymous.body
    );
    // Admins see archived products, through node(id:) as through nodes(ids:).
    assert_eq!(as_admin.data()["nodes"][4]["name"], "Discontinued");
    for (who, answer) in [(None, &anonymous), (Some(&shop.admin), &as_admin)] {
        for (index, id) in ids.iter().enumerate() {
            let single = node(&shop, who, id).await;
            assert_eq!(entries(answer)[index], single.data()["node"], "{id}");
        }
    }
}

#[tokio::test]
async fn an_order_that_is_not_the_callers_is_null_with_not_found_at_its_index() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let mallory = shop.register("mallory").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let order = shop.buy(&alice, &tea, 1).await;
    let (order_id, ship_to) = (text(&order["id"]), text(&order["shippingAddress"]["id"]));
    let ids = [tea.as_str(), order_id, ship_to];

    let as_alice = nodes(&shop, Some(&alice), &ids).await;
    let as_admin = nodes(&shop, Some(&shop.admin), &ids).await;
    let as_mallory = nodes(&shop, Some(&mallory), &ids).await;
    let anonymous = nodes(&shop, None, &ids).await;

    for seen in [&as_alice, &as_admin] {
        let found = entries(seen);
        assert_eq!(found[1]["number"], order["number"], "{:#}", seen.body);
        assert_eq!(found[2]["fullName"], address()["fullName"]);
    }
    for (refused, code) in [(&as_mallory, "NOT_FOUND"), (&anonymous, "UNAUTHENTICATED")] {
        let found = entries(refused);
        assert_eq!(found[0]["name"], "Tea", "the rest still resolves");
        assert_eq!(found[1], Value::Null);
        assert_eq!(found[2], Value::Null);
        assert_eq!(
            errors(refused),
            [
                (json!(["nodes", 1]), code.to_owned()),
                (json!(["nodes", 2]), code.to_owned()),
            ]
        );
    }
    // What node(id:) answers for the same order, and for one that does not exist.
    assert_eq!(
        node(&shop, Some(&mallory), order_id).await.code(),
        "NOT_FOUND"
    );
    let missing = missing_order();
    let absent = nodes(&shop, Some(&mallory), &[missing.as_str()]).await;
    assert_eq!(
        errors(&absent),
        [(json!(["nodes", 0]), "NOT_FOUND".to_owned())]
    );
}

/// An address `who` adds to its address book; answers its ID.
async fn add_address(shop: &Shop, who: &Session) -> String {
    let added = shop
        .gql_as(
            who,
            "mutation($input: AddressInput!) { addAddress(input: $input) { id } }",
            json!({ "input": address() }),
        )
        .await;
    text(&added.data()["addAddress"]["id"]).to_owned()
}

#[tokio::test]
async fn accounts_and_addresses_are_seen_by_their_owner_and_admins_only() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let (alices_address, bobs_address) = (
        add_address(&shop, &alice).await,
        add_address(&shop, &bob).await,
    );
    let ids = [
        alice.id.as_str(),
        bob.id.as_str(),
        alices_address.as_str(),
        bobs_address.as_str(),
    ];

    let as_alice = nodes(&shop, Some(&alice), &ids).await;
    let as_admin = nodes(&shop, Some(&shop.admin), &ids).await;
    let anonymous = nodes(&shop, None, &ids).await;

    let seen =
        |answer: &Gql| -> Vec<bool> { entries(answer).iter().map(|n| !n.is_null()).collect() };
    assert_eq!(seen(&as_alice), [true, false, true, false]);
    assert_eq!(seen(&as_admin), [true, true, true, true]);
    assert_eq!(seen(&anonymous), [false, false, false, false]);
    assert_eq!(entries(&as_alice)[0]["username"], "alice");
    assert!(as_alice.body.get("errors").is_none());
}

#[tokio::test]
async fn a_malformed_id_refuses_the_list_as_bad_user_input_on_ids() {
    let shop = open_shop().await;
    let tea = shop.product("Tea", "4.20", 10).await;

    let answer = nodes(&shop, None, &[tea.as_str(), "not-an-id"]).await;
    let single = node(&shop, None, "not-an-id").await;

    assert_eq!(answer.code(), "BAD_USER_INPUT");
    assert_eq!(answer.field(), "ids");
    assert_eq!(single.code(), "BAD_USER_INPUT");
    assert_eq!(answer.body["data"], Value::Null);
}

#[tokio::test]
async fn at_most_a_hundred_ids_are_answered_at_once() {
    let shop = open_shop().await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let hundred = vec![tea.as_str(); 100];
    let hundred_and_one = vec![tea.as_str(); 101];

    let allowed = nodes(&shop, None, &hundred).await;
    let refused = nodes(&shop, None, &hundred_and_one).await;
    let none = nodes(&shop, None, &[]).await;

    assert_eq!(entries(&allowed).len(), 100);
    assert!(entries(&allowed).iter().all(|n| n["name"] == "Tea"));
    assert_eq!(refused.code(), "BAD_USER_INPUT");
    assert_eq!(refused.field(), "ids");
    assert_eq!(none.data()["nodes"], json!([]));
}

/// How many SQL statements an anonymous `nodes` request costs, after checking it answered
/// every ID with an object.
async fn statements_for(shop: &Shop, ids: &[String], fields: &str) -> u64 {
    let query = format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {fields} }} }}");
    let before = shop.statements();
    let answer = shop.gql(&query, json!({ "ids": ids })).await;
    let spent = shop.statements() - before;
    let found = answer.data()["nodes"].as_array().expect("a list").clone();
    assert_eq!(found.len(), ids.len());
    assert!(found.iter().all(|n| !n.is_null()), "{found:?}");
    spent
}

#[tokio::test]
async fn twenty_products_cost_as_many_statements_as_two() {
    let shop = open_shop().await;
    let drinks = category(&shop, "Drinks").await;
    let mut products = Vec::new();
    for i in 0..20 {
        let product = shop.product(&format!("Tea {i}"), "4.20", 10).await;
        shop.change_product(&product, json!({ "categoryId": drinks }))
            .await;
        products.push(product);
    }
    let fields = "id ... on Product { name category { name } variants { title } }";

    let two = statements_for(&shop, &products[..2], fields).await;
    let twenty = statements_for(&shop, &products, fields).await;

    assert_eq!(
        two, twenty,
        "the statement count grows with the number of IDs"
    );
    // The products, their categories, their variants.
    assert!(twenty <= 3, "{twenty} statements for one request");
}

#[tokio::test]
async fn each_kind_of_object_costs_one_lookup_however_many_ids_name_it() {
    let shop = open_shop().await;
    let mut few = Vec::new();
    let mut many = Vec::new();
    for i in 0..10 {
        let product = shop.product(&format!("Tea {i}"), "4.20", 10).await;
        let variant = shop.variant_ids(&product).await.remove(0);
        let category = category(&shop, &format!("Shelf {i}")).await;
        if i < 1 {
            few.extend([product.clone(), variant.clone(), category.clone()]);
        }
        many.extend([product, variant, category]);
    }

    let from_three = statements_for(&shop, &few, "id").await;
    let from_thirty = statements_for(&shop, &many, "id").await;

    assert_eq!(from_three, from_thirty);
    assert!(from_thirty <= 3, "{from_thirty} statements for three kinds");
}

#[tokio::test]
async fn a_variant_of_an_archived_product_is_seen_by_admins_only() {
    let shop = open_shop().await;
    let gone = shop.product("Discontinued", "1.00", 1).await;
    let variant = shop.variant_ids(&gone).await.remove(0);
    shop.change_product(&gone, json!({ "archived": true }))
        .await;
    let customer = shop.register("alice").await;

    let as_customer = nodes(&shop, Some(&customer), &[variant.as_str()]).await;
    let as_admin = nodes(&shop, Some(&shop.admin), &[variant.as_str()]).await;

    assert_eq!(entries(&as_customer)[0], Value::Null);
    assert_eq!(entries(&as_admin)[0]["id"], variant);
    assert_eq!(entries(&as_admin)[0]["title"], "Default");
}

#[tokio::test]
async fn ids_of_every_kind_that_name_nothing_are_null() {
    let app = spawn_app().await;
    let ids: Vec<String> = [
        NodeKind::User,
        NodeKind::Address,
        NodeKind::Category,
        NodeKind::Product,
        NodeKind::ProductVariant,
        NodeKind::ShippingMethod,
    ]
    .into_iter()
    .map(|kind| GlobalId::new(kind, 999_999).to_string())
    .collect();

    let answer = app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;

    assert_eq!(
        answer.data()["nodes"],
        json!([null, null, null, null, null, null])
    );
}
