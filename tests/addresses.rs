//! The address book (issue 14): countries are ISO 3166-1 alpha-2 codes, a user with
//! addresses has exactly one default, addresses can be changed, and checkout can ship to a
//! saved address by its id. Nobody can see, change or ship to another user's address.

use entity::address;
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use serde_json::{Value, json};
use shop::domain::{GlobalId, NodeKind};

use crate::{
    store::{Shop, VISA, db_id, open_shop, text},
    support::{Gql, Session, TestApp, spawn_app},
};

/// Every field of an address a test looks at.
const ADDRESS_FIELDS: &str = "id fullName line1 line2 city postalCode country isDefault";

const ADD: &str = "mutation($input: AddressInput!) { addAddress(input: $input) { id fullName line1 line2 city postalCode country isDefault } }";
const UPDATE: &str = "mutation($id: ID!, $input: AddressInput!) { updateAddress(id: $id, input: $input) { id fullName line1 line2 city postalCode country isDefault } }";
const SET_DEFAULT: &str =
    "mutation($id: ID!) { setDefaultAddress(id: $id) { id fullName country isDefault } }";
const DELETE: &str = "mutation($id: ID!) { deleteAddress(id: $id) }";
const CHECKOUT: &str = "mutation($input: CheckoutInput!) { checkout(input: $input) { id status shippingAddress { id fullName line1 line2 city postalCode country isDefault } } }";

/// An address in the Netherlands for `name`, as `addAddress` takes it, with its country
/// spelled `country`.
fn address_in(name: &str, country: &str) -> Value {
    json!({
        "fullName": name,
        "line1": "Keizersgracht 123",
        "line2": null,
        "city": "Amsterdam",
        "postalCode": "1015 CJ",
        "country": country,
    })
}

/// An address for `name` in the Netherlands.
fn address(name: &str) -> Value {
    address_in(name, "NL")
}

/// What a user's address book looks like to the user.
async fn book(app: &TestApp, who: &Session) -> Value {
    app.gql_as(
        who,
        &format!(
            "{{ me {{ addresses {{ {ADDRESS_FIELDS} }} defaultAddress {{ {ADDRESS_FIELDS} }} }} }}"
        ),
        json!({}),
    )
    .await
    .data()["me"]
        .clone()
}

/// The names on a user's addresses, oldest first, and the name on the default.
async fn names(app: &TestApp, who: &Session) -> (Vec<String>, Option<String>) {
    let me = book(app, who).await;
    let all = me["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .map(|a| text(&a["fullName"]).to_owned())
        .collect();
    let default = me["defaultAddress"]["fullName"].as_str().map(str::to_owned);
    (all, default)
}

/// Adds an address, which must succeed; answers it.
async fn add(app: &TestApp, who: &Session, input: Value) -> Value {
    app.gql_as(who, ADD, json!({ "input": input })).await.data()["addAddress"].clone()
}

/// Adds an address for `name`; answers its id.
async fn add_named(app: &TestApp, who: &Session, name: &str) -> String {
    text(&add(app, who, address(name)).await["id"]).to_owned()
}

/// How many of the user's rows the database holds as the default.
async fn defaults_stored(app: &TestApp, who: &Session) -> u64 {
    address::Entity::find()
        .filter(address::Column::UserId.eq(db_id(&who.id)))
        .filter(address::Column::IsDefault.eq(true))
        .count(&app.db)
        .await
        .expect("count defaults")
}

/// A shop with a product in stock, and a customer with one of it in the cart.
async fn shop_with_a_full_cart() -> (Shop, Session, String) {
    let shop = open_shop().await;
    let product = shop.product("Linen tee", "25.00", 100).await;
    let customer = shop.register("ada").await;
    shop.put_in_cart(&customer, &product, 1).await;
    (shop, customer, product)
}

async fn checkout(app: &TestApp, who: &Session, input: Value) -> Gql {
    app.gql_as(who, CHECKOUT, json!({ "input": input })).await
}

// Countries

#[tokio::test]
async fn a_country_code_is_taken_in_any_case_and_given_back_upper_case() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;

    for (typed, code) in [("gb", "GB"), ("De", "DE"), (" nl ", "NL"), ("US", "US")] {
        let added = add(&app, &ada, address_in("Ada", typed)).await;
        assert_eq!(added["country"], code, "{typed:?}");
    }
}

#[tokio::test]
async fn a_country_that_is_not_an_iso_alpha2_code_is_bad_user_input_on_country() {
    let (shop, ada, _) = shop_with_a_full_cart().await;
    let home = add_named(&shop, &ada, "Ada Home").await;

    for country in ["Narnia", "Netherlands", "NLD", "UK", "528", "", "ZZ"] {
        let added = shop
            .gql_as(&ada, ADD, json!({ "input": address_in("Ada", country) }))
            .await;
        let updated = shop
            .gql_as(
                &ada,
                UPDATE,
                json!({ "id": home, "input": address_in("Ada", country) }),
            )
            .await;
        let checked_out = checkout(
            &shop,
            &ada,
            json!({ "shippingAddress": address_in("Ada", country), "paymentToken": VISA }),
        )
        .await;

        for response in [&added, &updated, &checked_out] {
            assert_eq!(
                response.code(),
                "BAD_USER_INPUT",
                "{country:?}: {response:?}"
            );
            assert_eq!(response.field(), "country", "{country:?}");
        }
    }
    let me = book(&shop, &ada).await;
    assert_eq!(me["addresses"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        me["addresses"][0]["country"], "NL",
        "the address is unchanged"
    );
    let orders = shop
        .gql_as(&ada, "{ orders(first: 5) { totalCount } }", json!({}))
        .await;
    assert_eq!(orders.data()["orders"]["totalCount"], 0);
}

// The default address

#[tokio::test]
async fn the_first_address_becomes_the_default_and_later_ones_do_not() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    assert_eq!(book(&app, &ada).await["defaultAddress"], json!(null));

    let first = add(&app, &ada, address("Home")).await;
    let second = add(&app, &ada, address("Work")).await;

    assert_eq!(first["isDefault"], true);
    assert_eq!(second["isDefault"], false);
    let me = book(&app, &ada).await;
    assert_eq!(me["defaultAddress"]["id"], first["id"]);
    assert_eq!(me["defaultAddress"]["isDefault"], true);
    assert_eq!(
        me["addresses"]
            .as_array()
            .expect("addresses")
            .iter()
            .map(|a| a["isDefault"].clone())
            .collect::<Vec<_>>(),
        vec![json!(true), json!(false)]
    );
}

#[tokio::test]
async fn set_default_address_moves_the_default_and_the_old_one_stops_being_it() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    add_named(&app, &ada, "Home").await;
    let work = add_named(&app, &ada, "Work").await;

    let set = app.gql_as(&ada, SET_DEFAULT, json!({ "id": work })).await;
    let again = app.gql_as(&ada, SET_DEFAULT, json!({ "id": work })).await;

    assert_eq!(set.data()["setDefaultAddress"]["id"], json!(work));
    assert_eq!(set.data()["setDefaultAddress"]["isDefault"], true);
    assert_eq!(
        again.data()["setDefaultAddress"]["isDefault"],
        true,
        "choosing the default again changes nothing"
    );
    assert_eq!(
        names(&app, &ada).await,
        (vec!["Home".into(), "Work".into()], Some("Work".into()))
    );
    assert_eq!(defaults_stored(&app, &ada).await, 1);
}

#[tokio::test]
async fn deleting_the_default_makes_the_newest_remaining_address_the_default() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let home = add_named(&app, &ada, "Home").await;
    add_named(&app, &ada, "Work").await;
    add_named(&app, &ada, "Holiday").await;

    let deleted = app.gql_as(&ada, DELETE, json!({ "id": home })).await;

    assert_eq!(deleted.data()["deleteAddress"], true);
    assert_eq!(
        names(&app, &ada).await,
        (
            vec!["Work".into(), "Holiday".into()],
            Some("Holiday".into())
        )
    );
}

#[tokio::test]
async fn deleting_another_address_leaves_the_default_and_deleting_the_last_leaves_none() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let home = add_named(&app, &ada, "Home").await;
    let work = add_named(&app, &ada, "Work").await;

    app.gql_as(&ada, DELETE, json!({ "id": work })).await.data();
    assert_eq!(
        names(&app, &ada).await,
        (vec!["Home".into()], Some("Home".into()))
    );

    app.gql_as(&ada, DELETE, json!({ "id": home })).await.data();
    assert_eq!(names(&app, &ada).await, (vec![], None));
    let next = add(&app, &ada, address("New home")).await;
    assert_eq!(
        next["isDefault"], true,
        "an empty book's first address is the default again"
    );
}

#[tokio::test]
async fn update_address_replaces_every_part_and_keeps_whether_it_is_the_default() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let home = add(
        &app,
        &ada,
        json!({
            "fullName": "Ada Lovelace", "line1": "12 St James's Square", "line2": "Flat 3",
            "city": "London", "postalCode": "SW1Y 4JH", "country": "GB",
        }),
    )
    .await;
    let work = add_named(&app, &ada, "Work").await;

    let updated = app
        .gql_as(
            &ada,
            UPDATE,
            json!({ "id": home["id"], "input": {
                "fullName": "Ada King", "line1": "Rue de Rivoli 1", "line2": null,
                "city": "Paris", "postalCode": "75001", "country": "fr",
            }}),
        )
        .await;
    let work_updated = app
        .gql_as(
            &ada,
            UPDATE,
            json!({ "id": work, "input": address_in("Office", "be") }),
        )
        .await;

    assert_eq!(
        updated.data()["updateAddress"],
        json!({
            "id": home["id"], "fullName": "Ada King", "line1": "Rue de Rivoli 1", "line2": null,
            "city": "Paris", "postalCode": "75001", "country": "FR", "isDefault": true,
        })
    );
    assert_eq!(work_updated.data()["updateAddress"]["isDefault"], false);
    assert_eq!(work_updated.data()["updateAddress"]["country"], "BE");
    let me = book(&app, &ada).await;
    assert_eq!(me["defaultAddress"], updated.data()["updateAddress"]);
    assert_eq!(me["addresses"][1]["fullName"], "Office");
}

#[tokio::test]
async fn an_invalid_part_of_an_updated_address_names_its_field_and_changes_nothing() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let home = add(&app, &ada, address("Home")).await;
    let mut input = address("Home");
    input["postalCode"] = json!("  ");

    let response = app
        .gql_as(&ada, UPDATE, json!({ "id": home["id"], "input": input }))
        .await;

    assert_eq!(response.code(), "BAD_USER_INPUT");
    assert_eq!(response.field(), "postalCode");
    assert_eq!(book(&app, &ada).await["addresses"][0], home);
}

#[tokio::test]
async fn another_users_address_cannot_be_updated_made_default_or_shipped_to() {
    let (shop, mallory, _) = shop_with_a_full_cart().await;
    let alice = shop.register("alice").await;
    let alices = add_named(&shop, &alice, "Alice Home").await;
    add_named(&shop, &mallory, "Mallory Home").await;

    let update = shop
        .gql_as(
            &mallory,
            UPDATE,
            json!({ "id": alices, "input": address("Mallory") }),
        )
        .await;
    let set_default = shop
        .gql_as(&mallory, SET_DEFAULT, json!({ "id": alices }))
        .await;
    let delete = shop.gql_as(&mallory, DELETE, json!({ "id": alices })).await;
    let ship = checkout(
        &shop,
        &mallory,
        json!({ "shippingAddressId": alices, "paymentToken": VISA }),
    )
    .await;
    let missing = GlobalId::new(NodeKind::Address, 999_999).to_string();
    let ship_to_none = checkout(
        &shop,
        &mallory,
        json!({ "shippingAddressId": missing, "paymentToken": VISA }),
    )
    .await;

    for response in [&update, &set_default, &delete, &ship, &ship_to_none] {
        assert_eq!(response.code(), "NOT_FOUND", "{response:?}");
    }
    assert_eq!(
        ship.error()["message"],
        ship_to_none.error()["message"],
        "another user's address reads as one that does not exist"
    );
    assert_eq!(
        names(&shop, &alice).await,
        (vec!["Alice Home".into()], Some("Alice Home".into()))
    );
    assert_eq!(
        names(&shop, &mallory).await,
        (vec!["Mallory Home".into()], Some("Mallory Home".into()))
    );
    let cart = shop.cart(&mallory).await;
    assert_eq!(cart["totalQuantity"], 1, "nothing was bought");
}

#[tokio::test]
async fn anonymous_callers_cannot_update_or_choose_a_default_address() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let home = add_named(&app, &ada, "Home").await;

    let update = app
        .gql(UPDATE, json!({ "id": home, "input": address("Anon") }))
        .await;
    let set_default = app.gql(SET_DEFAULT, json!({ "id": home })).await;

    assert_eq!(update.code(), "UNAUTHENTICATED");
    assert_eq!(set_default.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_address_id_that_is_malformed_or_of_another_kind_is_refused() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;

    let malformed = app
        .gql_as(&ada, SET_DEFAULT, json!({ "id": "not-an-id" }))
        .await;
    let a_user = app.gql_as(&ada, SET_DEFAULT, json!({ "id": ada.id })).await;

    assert_eq!(malformed.code(), "BAD_USER_INPUT");
    assert_eq!(malformed.field(), "id");
    assert_eq!(a_user.code(), "NOT_FOUND");
}

// Checkout with a saved address

#[tokio::test]
async fn checkout_ships_to_a_saved_address_named_by_its_id_and_keeps_a_copy() {
    let (shop, ada, _) = shop_with_a_full_cart().await;
    add_named(&shop, &ada, "Ada Home").await;
    let work = add(&shop, &ada, address_in("Ada at Work", "be")).await;

    let order = checkout(
        &shop,
        &ada,
        json!({ "shippingAddressId": work["id"], "paymentToken": VISA }),
    )
    .await;
    shop.gql_as(
        &ada,
        UPDATE,
        json!({ "id": work["id"], "input": address_in("Somebody else", "DE") }),
    )
    .await
    .data();

    let order = &order.data()["checkout"];
    assert_eq!(order["status"], "PAID");
    let shipped_to = &order["shippingAddress"];
    assert_eq!(shipped_to["fullName"], "Ada at Work");
    assert_eq!(shipped_to["country"], "BE");
    assert_eq!(shipped_to["isDefault"], false);
    assert_ne!(
        shipped_to["id"], work["id"],
        "the order's copy is its own node"
    );
    let now = shop.order(&ada, text(&order["id"])).await;
    assert_eq!(
        now.data()["order"]["shippingAddress"]["fullName"],
        "Ada at Work",
        "changing the saved address does not change where the order went"
    );
    assert_eq!(now.data()["order"]["shippingAddress"]["country"], "BE");
}

#[tokio::test]
async fn a_checkout_needs_exactly_one_of_shipping_address_and_shipping_address_id() {
    let (shop, ada, _) = shop_with_a_full_cart().await;
    let home = add_named(&shop, &ada, "Ada Home").await;

    let neither = checkout(&shop, &ada, json!({ "paymentToken": VISA })).await;
    let both = checkout(
        &shop,
        &ada,
        json!({ "shippingAddress": address("Ada"), "shippingAddressId": home, "paymentToken": VISA }),
    )
    .await;
    let malformed = checkout(
        &shop,
        &ada,
        json!({ "shippingAddressId": "not-an-id", "paymentToken": VISA }),
    )
    .await;

    assert_eq!(neither.code(), "BAD_USER_INPUT");
    assert_eq!(neither.field(), "shippingAddress");
    assert_eq!(both.code(), "BAD_USER_INPUT");
    assert_eq!(both.field(), "shippingAddressId");
    assert_eq!(malformed.code(), "BAD_USER_INPUT");
    assert_eq!(malformed.field(), "shippingAddressId");
    assert_eq!(
        shop.cart(&ada).await["totalQuantity"],
        1,
        "nothing was bought"
    );
    let orders = shop
        .gql_as(&ada, "{ orders(first: 5) { totalCount } }", json!({}))
        .await;
    assert_eq!(orders.data()["orders"]["totalCount"], 0);
}

#[tokio::test]
async fn checkout_still_takes_an_address_typed_in_and_the_order_shows_its_code() {
    let (shop, ada, _) = shop_with_a_full_cart().await;

    let order = checkout(
        &shop,
        &ada,
        json!({ "shippingAddress": address_in("Ada", "nl"), "paymentToken": VISA }),
    )
    .await;

    assert_eq!(order.data()["checkout"]["shippingAddress"]["country"], "NL");
    let fetched = shop
        .order(&ada, text(&order.data()["checkout"]["id"]))
        .await;
    assert_eq!(fetched.data()["order"]["shippingAddress"]["country"], "NL");
}

// Races

#[tokio::test]
async fn concurrent_default_changes_never_leave_two_defaults_or_none() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let mut ids = Vec::new();
    for name in ["A", "B", "C", "D", "E"] {
        ids.push(add_named(&app, &ada, name).await);
    }

    let answers = join_all((0..30).map(|i| {
        let (app, ada, id) = (&app, &ada, ids[i % ids.len()].clone());
        async move { app.gql_as(ada, SET_DEFAULT, json!({ "id": id })).await }
    }))
    .await;

    for answer in &answers {
        assert_eq!(answer.data()["setDefaultAddress"]["isDefault"], true);
    }
    assert_eq!(defaults_stored(&app, &ada).await, 1);
    let me = book(&app, &ada).await;
    let flagged: Vec<&Value> = me["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .filter(|a| a["isDefault"] == true)
        .collect();
    assert_eq!(flagged.len(), 1, "{me:#}");
    assert_eq!(me["defaultAddress"]["id"], flagged[0]["id"]);
}

#[tokio::test]
async fn concurrent_first_addresses_make_exactly_one_of_them_the_default() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;

    let added = join_all((0..10).map(|i| {
        let (app, ada) = (&app, &ada);
        async move { add(app, ada, address(&format!("Address {i}"))).await }
    }))
    .await;

    let defaults = added.iter().filter(|a| a["isDefault"] == true).count();
    assert_eq!(defaults, 1, "{added:#?}");
    assert_eq!(defaults_stored(&app, &ada).await, 1);
    let me = book(&app, &ada).await;
    assert_eq!(me["addresses"].as_array().map(Vec::len), Some(10));
    assert_eq!(me["defaultAddress"]["isDefault"], true);
}

#[tokio::test]
async fn concurrent_deletes_and_default_changes_keep_exactly_one_default_while_any_address_is_left()
{
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(add_named(&app, &ada, &format!("Address {i}")).await);
    }

    // Delete half of them while the default is moved among all of them: a choice of a
    // deleted address is NOT_FOUND, anything else succeeds.
    let deletes = ids.iter().step_by(2).map(|id| {
        let (app, ada, id) = (&app, &ada, id.clone());
        async move { app.gql_as(ada, DELETE, json!({ "id": id })).await }
    });
    let choices = ids.iter().rev().map(|id| {
        let (app, ada, id) = (&app, &ada, id.clone());
        async move { app.gql_as(ada, SET_DEFAULT, json!({ "id": id })).await }
    });
    let (deleted, chosen) = tokio::join!(join_all(deletes), join_all(choices));

    for answer in &deleted {
        assert_eq!(answer.data()["deleteAddress"], true);
    }
    for answer in &chosen {
        if answer.body.get("errors").is_some() {
            assert_eq!(answer.code(), "NOT_FOUND", "{answer:?}");
        }
    }
    assert_eq!(defaults_stored(&app, &ada).await, 1);
    let me = book(&app, &ada).await;
    assert_eq!(me["addresses"].as_array().map(Vec::len), Some(4));
    assert_eq!(me["defaultAddress"]["isDefault"], true);
}

#[tokio::test]
async fn the_database_itself_refuses_a_second_default_address_for_a_user() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    add_named(&app, &ada, "Home").await;
    let work = add_named(&app, &ada, "Work").await;
    add_named(&app, &bob, "Bob's home").await;

    let sql = format!(
        "UPDATE addresses SET is_default = TRUE WHERE id = {}",
        db_id(&work)
    );
    let refused = app
        .db
        .execute_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await;

    assert!(refused.is_err(), "a second default was stored");
    assert_eq!(defaults_stored(&app, &ada).await, 1);
    assert_eq!(
        defaults_stored(&app, &bob).await,
        1,
        "each user has a default of their own"
    );
}
