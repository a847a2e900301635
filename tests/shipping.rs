//! Shipping methods and tax rates (issue 15): admins offer shipping methods to countries
//! and set one tax rate per country; anyone lists the methods of a country, cheapest
//! first; carts and checkout pick the method of an order with `service::shipping::select`
//! and its rate with `service::tax::rate_for`.

use entity::{shipping_method, tax_rate};
use futures_util::future::join_all;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
use serde_json::{Value, json};
use shop::{
    db,
    domain::{Country, GlobalId, NodeKind, Percent},
    error::{AppError, Refusal},
    service::{
        demo::{self, SeededShipping},
        shipping::{self, IfOmitted},
        tax,
    },
};

use crate::{
    store::{Shop, db_id, open_shop, text},
    support::{Gql, Session},
};

/// Every field of a shipping method.
const METHOD_FIELDS: &str =
    "id name price { amount currencyCode } freeOver { amount } countries minDays maxDays";

const CREATE: &str = "mutation($input: CreateShippingMethodInput!) { createShippingMethod(input: $input) { id name price { amount currencyCode } freeOver { amount } countries minDays maxDays } }";
const UPDATE: &str = "mutation($id: ID!, $input: UpdateShippingMethodInput!) { updateShippingMethod(id: $id, input: $input) { id name price { amount currencyCode } freeOver { amount } countries minDays maxDays } }";
const DELETE: &str = "mutation($id: ID!) { deleteShippingMethod(id: $id) }";
const SET_RATE: &str = "mutation($country: String!, $rate: Decimal!) { setTaxRate(country: $country, rate: $rate) { country rate } }";
const DELETE_RATE: &str = "mutation($country: String!) { deleteTaxRate(country: $country) }";
const RATES: &str = "{ taxRates { country rate } }";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `createShippingMethod` as the shop's admin.
async fn try_create(shop: &Shop, input: Value) -> Gql {
    shop.gql_as(&shop.admin, CREATE, json!({ "input": input }))
        .await
}

/// Creates a shipping method and answers it.
async fn create(shop: &Shop, input: Value) -> Value {
    try_create(shop, input.clone()).await.data()["createShippingMethod"].clone()
}

/// Creates a shipping method and answers its ID.
async fn create_id(shop: &Shop, name: &str, price: &str, countries: &[&str]) -> String {
    let method = create(
        shop,
        json!({ "name": name, "price": price, "countries": countries }),
    )
    .await;
    text(&method["id"]).to_owned()
}

async fn try_update(shop: &Shop, id: &str, input: Value) -> Gql {
    shop.gql_as(&shop.admin, UPDATE, json!({ "id": id, "input": input }))
        .await
}

async fn update(shop: &Shop, id: &str, input: Value) -> Value {
    try_update(shop, id, input).await.data()["updateShippingMethod"].clone()
}

/// `shippingMethods(country:)`, anonymously.
async fn methods_for(shop: &Shop, country: &str) -> Gql {
    shop.gql(
        &format!("query($country: String!) {{ shippingMethods(country: $country) {{ {METHOD_FIELDS} }} }}"),
        json!({ "country": country }),
    )
    .await
}

/// The names of the methods of `country`, in the order listed.
async fn names_for(shop: &Shop, country: &str) -> Vec<String> {
    methods_for(shop, country).await.data()["shippingMethods"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|method| text(&method["name"]).to_owned())
        .collect()
}

async fn set_rate(shop: &Shop, who: &Session, country: &str, rate: &str) -> Gql {
    shop.gql_as(who, SET_RATE, json!({ "country": country, "rate": rate }))
        .await
}

/// `setTaxRate` as the shop's admin, with any JSON as the rate.
async fn set_rate_raw(shop: &Shop, country: &str, rate: Value) -> Gql {
    shop.gql_as(
        &shop.admin,
        SET_RATE,
        json!({ "country": country, "rate": rate }),
    )
    .await
}

async fn stored_methods(shop: &Shop) -> Vec<shipping_method::Model> {
    shipping_method::Entity::find()
        .order_by_asc(shipping_method::Column::Id)
        .all(&shop.db)
        .await
        .expect("shipping methods")
}

async fn stored_rates(shop: &Shop) -> Vec<tax_rate::Model> {
    tax_rate::Entity::find()
        .order_by_asc(tax_rate::Column::Country)
        .all(&shop.db)
        .await
        .expect("tax rates")
}

/// Asserts that `response` was refused with `code`, naming `field`, with no data.
fn assert_refused(response: &Gql, code: &str, field: &str, what: &str) {
    assert_eq!(response.code(), code, "{what}: {:#}", response.body);
    assert_eq!(response.field(), field, "{what}: {:#}", response.body);
    assert!(
        response.body["data"].is_null(),
        "{what} returned data: {:#}",
        response.body
    );
}

/// `base` with one field replaced.
fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut input = base.clone();
    input[key] = value;
    input
}

fn country(code: &str) -> Country {
    Country::parse(code, "country").expect("a country code")
}

/// The global ID of a shipping method that does not exist.
fn missing_method() -> String {
    GlobalId::new(NodeKind::ShippingMethod, 999_999).to_string()
}

/// The refusal inside a service's error.
fn refusal(err: AppError) -> Refusal {
    match err {
        AppError::Refused(refusal) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Shipping methods through the API
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_admin_creates_reads_updates_and_deletes_a_shipping_method() {
    let shop = open_shop().await;

    let created = create(
        &shop,
        json!({ "name": "  Express  ", "price": "14.95", "freeOver": "100",
                "countries": ["us", "GB", "de", "gb"], "minDays": 1, "maxDays": 2 }),
    )
    .await;
    let id = text(&created["id"]).to_owned();

    assert_eq!(
        created,
        json!({ "id": id, "name": "Express",
                "price": { "amount": "14.95", "currencyCode": "USD" },
                "freeOver": { "amount": "100.00" }, "countries": ["DE", "GB", "US"],
                "minDays": 1, "maxDays": 2 })
    );
    let stored = stored_methods(&shop).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, db_id(&id));
    assert_eq!(stored[0].price_cents, 1495);
    assert_eq!(stored[0].free_over_cents, Some(10_000));
    assert_eq!(stored[0].countries, r#"["DE","GB","US"]"#);

    let node = shop
        .gql(
            &format!("query($id: ID!) {{ node(id: $id) {{ __typename ... on ShippingMethod {{ {METHOD_FIELDS} }} }} }}"),
            json!({ "id": id }),
        )
        .await;
    let mut expected = created.clone();
    expected["__typename"] = json!("ShippingMethod");
    assert_eq!(node.data()["node"], expected);
    let nodes = shop
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on ShippingMethod { name } } }",
            json!({ "ids": [id, missing_method(), id] }),
        )
        .await;
    assert_eq!(
        nodes.data()["nodes"],
        json!([{ "id": id, "name": "Express" }, null, { "id": id, "name": "Express" }])
    );

    let updated = update(
        &shop,
        &id,
        json!({ "name": "Next day", "price": "19.00", "countries": ["fr"] }),
    )
    .await;
    assert_eq!(updated["name"], "Next day");
    assert_eq!(updated["price"]["amount"], "19.00");
    assert_eq!(updated["countries"], json!(["FR"]));
    assert_eq!(updated["freeOver"]["amount"], "100.00", "kept");
    assert_eq!(
        (&updated["minDays"], &updated["maxDays"]),
        (&json!(1), &json!(2))
    );

    let deleted = shop.gql_as(&shop.admin, DELETE, json!({ "id": id })).await;
    assert_eq!(deleted.data()["deleteShippingMethod"], true);
    assert!(stored_methods(&shop).await.is_empty());
    let node = shop
        .gql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(node.data()["node"], Value::Null);
    let again = shop.gql_as(&shop.admin, DELETE, json!({ "id": id })).await;
    assert_eq!(again.code(), "NOT_FOUND", "{:#}", again.body);
}

#[tokio::test]
async fn a_method_created_with_only_a_name_and_a_price_goes_everywhere_and_is_never_free() {
    let shop = open_shop().await;

    let created = create(&shop, json!({ "name": "Post", "price": "0" })).await;

    assert_eq!(created["price"]["amount"], "0.00");
    assert_eq!(created["countries"], json!([]));
    assert_eq!(created["freeOver"], Value::Null);
    assert_eq!(created["minDays"], Value::Null);
    assert_eq!(created["maxDays"], Value::Null);
    assert_eq!(stored_methods(&shop).await[0].countries, "[]");
    assert_eq!(names_for(&shop, "NZ").await, ["Post"]);
}

#[tokio::test]
async fn a_country_lists_the_methods_listing_it_and_those_for_everywhere_cheapest_first() {
    let shop = open_shop().await;
    create_id(&shop, "Express", "14.95", &["GB", "DE"]).await;
    create_id(&shop, "Standard", "4.95", &[]).await;
    create_id(&shop, "Economy", "2.00", &["US"]).await;
    // As cheap as Standard, and newer: listed after it.
    create_id(&shop, "Courier", "4.95", &["gb"]).await;
    create_id(&shop, "Island post", "3.00", &["GG", "JE"]).await;

    assert_eq!(
        names_for(&shop, "GB").await,
        ["Standard", "Courier", "Express"]
    );
    assert_eq!(names_for(&shop, " gb ").await, names_for(&shop, "GB").await);
    assert_eq!(names_for(&shop, "DE").await, ["Standard", "Express"]);
    assert_eq!(names_for(&shop, "US").await, ["Economy", "Standard"]);
    assert_eq!(names_for(&shop, "JE").await, ["Island post", "Standard"]);
    // "G" and "E" are in listed codes, but no listed code is "GE" (Georgia).
    assert_eq!(names_for(&shop, "GE").await, ["Standard"]);
}

#[tokio::test]
async fn a_country_no_method_delivers_to_lists_none() {
    let shop = open_shop().await;
    assert!(names_for(&shop, "GB").await.is_empty(), "none configured");

    create_id(&shop, "Express", "14.95", &["DE"]).await;

    assert!(names_for(&shop, "GB").await.is_empty());
    assert_eq!(names_for(&shop, "DE").await, ["Express"]);
}

#[tokio::test]
async fn listing_the_methods_of_something_that_is_no_country_names_the_argument() {
    let shop = open_shop().await;
    create_id(&shop, "Standard", "4.95", &[]).await;

    for bad in ["UK", "GBR", "Germany", "", "g"] {
        let response = methods_for(&shop, bad).await;
        assert_refused(&response, "BAD_USER_INPUT", "country", bad);
    }
}

#[tokio::test]
async fn an_update_keeps_what_is_left_out_and_clears_what_is_null() {
    let shop = open_shop().await;
    let method = create(
        &shop,
        json!({ "name": "Standard", "price": "4.95", "freeOver": "50", "countries": ["GB"],
                "minDays": 3, "maxDays": 5 }),
    )
    .await;
    let id = text(&method["id"]).to_owned();

    let unchanged = update(&shop, &id, json!({})).await;
    assert_eq!(unchanged, method, "nothing given, nothing changed");

    let cleared = update(
        &shop,
        &id,
        json!({ "freeOver": null, "minDays": null, "name": null, "price": null, "countries": null }),
    )
    .await;
    assert_eq!(cleared["freeOver"], Value::Null);
    assert_eq!(cleared["minDays"], Value::Null);
    assert_eq!(cleared["maxDays"], 5, "left out: kept");
    assert_eq!(cleared["name"], "Standard", "null name: kept");
    assert_eq!(cleared["price"]["amount"], "4.95", "null price: kept");
    assert_eq!(cleared["countries"], json!(["GB"]), "null countries: kept");

    let everywhere = update(
        &shop,
        &id,
        json!({ "countries": [], "maxDays": null, "freeOver": "75.5" }),
    )
    .await;
    assert_eq!(everywhere["countries"], json!([]));
    assert_eq!(everywhere["maxDays"], Value::Null);
    assert_eq!(everywhere["freeOver"]["amount"], "75.50");
    assert_eq!(names_for(&shop, "FR").await, ["Standard"]);

    let days = update(&shop, &id, json!({ "minDays": 0, "maxDays": 0 })).await;
    assert_eq!((&days["minDays"], &days["maxDays"]), (&json!(0), &json!(0)));
    let stored = &stored_methods(&shop).await[0];
    assert_eq!((stored.min_days, stored.max_days), (Some(0), Some(0)));
    assert_eq!(stored.free_over_cents, Some(7550));
    assert!(stored.updated_at >= stored.created_at);
}

#[tokio::test]
async fn every_bad_input_to_create_a_method_names_its_field_and_writes_nothing() {
    let shop = open_shop().await;
    let valid = json!({ "name": "Standard", "price": "4.95", "freeOver": "50",
                        "countries": ["GB"], "minDays": 3, "maxDays": 5 });
    let cases = [
        ("name", json!("")),
        ("name", json!("   ")),
        ("name", json!("x".repeat(101))),
        ("name", json!("Fast\u{202E}tsaf")),
        ("name", json!("two\nlines")),
        ("price", json!("-1")),
        ("price", json!("4.955")),
        ("price", json!("four")),
        ("price", json!("1000000.01")),
        ("freeOver", json!("-0.01")),
        ("freeOver", json!("50.001")),
        ("countries", json!(["GB", "UK"])),
        ("countries", json!(["Germany"])),
        ("countries", json!([""])),
        ("minDays", json!(-1)),
        ("minDays", json!(366)),
        ("maxDays", json!(-1)),
        ("maxDays", json!(366)),
        ("maxDays", json!(2)),
    ];

    for (field, value) in cases {
        let response = try_create(&shop, with(&valid, field, value.clone())).await;
        assert_refused(
            &response,
            "BAD_USER_INPUT",
            field,
            &format!("{field}: {value}"),
        );
    }

    assert!(stored_methods(&shop).await.is_empty());
    assert_eq!(
        create(&shop, valid).await["name"],
        "Standard",
        "the base is valid"
    );
}

#[tokio::test]
async fn every_bad_input_to_update_a_method_names_its_field_and_changes_nothing() {
    let shop = open_shop().await;
    let method = create(
        &shop,
        json!({ "name": "Standard", "price": "4.95", "countries": ["GB"], "minDays": 3,
                "maxDays": 5 }),
    )
    .await;
    let id = text(&method["id"]).to_owned();
    let before = stored_methods(&shop).await;
    let cases = [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "y".repeat(101) }), "name"),
        (json!({ "price": "-4" }), "price"),
        (json!({ "price": "1.001" }), "price"),
        (json!({ "freeOver": "abc" }), "freeOver"),
        (json!({ "countries": ["DE", "EU"] }), "countries"),
        (json!({ "minDays": 400 }), "minDays"),
        (json!({ "maxDays": -2 }), "maxDays"),
        // Against what is stored: 3 to 5 days.
        (json!({ "maxDays": 2 }), "maxDays"),
        (json!({ "minDays": 6 }), "maxDays"),
        (json!({ "minDays": 6, "maxDays": 4 }), "maxDays"),
        // A valid change beside a bad one is not made either.
        (json!({ "name": "Renamed", "price": "x" }), "price"),
    ];

    for (input, field) in cases {
        let response = try_update(&shop, &id, input.clone()).await;
        assert_refused(&response, "BAD_USER_INPUT", field, &input.to_string());
    }

    assert_eq!(stored_methods(&shop).await, before);
    // The stored days are checked as they will be, not as they were.
    let widened = update(&shop, &id, json!({ "minDays": 6, "maxDays": null })).await;
    assert_eq!(
        (&widened["minDays"], &widened["maxDays"]),
        (&json!(6), &Value::Null)
    );
}

#[tokio::test]
async fn two_admins_moving_the_two_ends_of_the_delivery_days_at_once_never_reverse_them() {
    let shop = open_shop().await;
    let methods = join_all((0..6).map(|i| {
        create(
            &shop,
            json!({ "name": format!("Method {i}"), "price": "1", "minDays": 3, "maxDays": 10 }),
        )
    }))
    .await;

    // Each pair is fine alone and reversed together: one goes first, and the other is
    // checked against what the first left.
    let ids: Vec<&str> = methods.iter().map(|method| text(&method["id"])).collect();
    let answers = join_all(ids.iter().flat_map(|id| {
        [
            try_update(&shop, id, json!({ "minDays": 6 })),
            try_update(&shop, id, json!({ "maxDays": 4 })),
        ]
    }))
    .await;

    for pair in answers.chunks(2) {
        let succeeded = pair
            .iter()
            .filter(|answer| answer.codes().is_empty())
            .count();
        assert_eq!(succeeded, 1, "{:#?}", pair);
        for refused in pair.iter().filter(|answer| !answer.codes().is_empty()) {
            assert_refused(refused, "BAD_USER_INPUT", "maxDays", "the later of the two");
        }
    }
    for stored in stored_methods(&shop).await {
        let (min, max) = (stored.min_days.expect("set"), stored.max_days.expect("set"));
        assert!(min <= max, "{stored:?}");
        assert!((min, max) == (6, 10) || (min, max) == (3, 4), "{stored:?}");
    }
}

#[tokio::test]
async fn changing_or_deleting_a_method_that_is_not_there_is_not_found_and_a_malformed_id_is_bad_input()
 {
    let shop = open_shop().await;
    let id = create_id(&shop, "Standard", "4.95", &[]).await;
    let product_id = GlobalId::new(NodeKind::Product, db_id(&id)).to_string();

    for missing in [missing_method(), product_id] {
        let changed = try_update(&shop, &missing, json!({ "name": "X" })).await;
        assert_eq!(changed.code(), "NOT_FOUND", "{:#}", changed.body);
        let deleted = shop
            .gql_as(&shop.admin, DELETE, json!({ "id": missing }))
            .await;
        assert_eq!(deleted.code(), "NOT_FOUND", "{:#}", deleted.body);
    }
    let changed = try_update(&shop, "not-an-id", json!({ "name": "X" })).await;
    assert_refused(&changed, "BAD_USER_INPUT", "id", "malformed id");
    let deleted = shop
        .gql_as(&shop.admin, DELETE, json!({ "id": "%%%" }))
        .await;
    assert_refused(&deleted, "BAD_USER_INPUT", "id", "malformed id");

    let stored = stored_methods(&shop).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "Standard");
}

#[tokio::test]
async fn only_admins_change_shipping_methods_and_tax_rates_and_see_the_rates() {
    let shop = open_shop().await;
    let customer = shop.register("alice").await;
    let id = create_id(&shop, "Standard", "4.95", &[]).await;
    set_rate(&shop, &shop.admin, "GB", "20").await.data();
    let methods_before = stored_methods(&shop).await;
    let rates_before = stored_rates(&shop).await;
    let calls = [
        (CREATE, json!({ "input": { "name": "Free", "price": "0" } })),
        (UPDATE, json!({ "id": id, "input": { "price": "0" } })),
        (DELETE, json!({ "id": id })),
        (SET_RATE, json!({ "country": "GB", "rate": "0" })),
        (SET_RATE, json!({ "country": "FR", "rate": "20" })),
        (DELETE_RATE, json!({ "country": "GB" })),
        (RATES, json!({})),
    ];

    for (document, variables) in calls {
        let anonymous = shop.gql(document, variables.clone()).await;
        assert_eq!(anonymous.codes(), ["UNAUTHENTICATED"], "{document}");
        assert!(anonymous.body["data"].is_null(), "{document}");
        let by_customer = shop.gql_as(&customer, document, variables).await;
        assert_eq!(by_customer.codes(), ["FORBIDDEN"], "{document}");
        assert!(by_customer.body["data"].is_null(), "{document}");
    }

    assert_eq!(stored_methods(&shop).await, methods_before);
    assert_eq!(stored_rates(&shop).await, rates_before);
    // Listing a country's methods is public, for anyone choosing how to be shipped.
    assert_eq!(names_for(&shop, "GB").await, ["Standard"]);
    let as_customer = shop
        .gql_as(
            &customer,
            "{ shippingMethods(country: \"GB\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(
        as_customer.data()["shippingMethods"],
        json!([{ "name": "Standard" }])
    );
}

// ---------------------------------------------------------------------------------------
// Tax rates through the API
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn setting_a_tax_rate_again_replaces_it_and_deleting_it_leaves_the_country_untaxed() {
    let shop = open_shop().await;

    let set = set_rate(&shop, &shop.admin, "gb", "20").await;
    assert_eq!(
        set.data()["setTaxRate"],
        json!({ "country": "GB", "rate": "20.00" })
    );
    set_rate(&shop, &shop.admin, "DE", "19").await.data();
    let replaced = set_rate(&shop, &shop.admin, " GB ", "17.5").await;
    assert_eq!(
        replaced.data()["setTaxRate"],
        json!({ "country": "GB", "rate": "17.50" })
    );
    set_rate(&shop, &shop.admin, "AT", "0").await.data();

    let rates = shop.gql_as(&shop.admin, RATES, json!({})).await;
    assert_eq!(
        rates.data()["taxRates"],
        json!([
            { "country": "AT", "rate": "0.00" },
            { "country": "DE", "rate": "19.00" },
            { "country": "GB", "rate": "17.50" },
        ])
    );
    let stored = stored_rates(&shop).await;
    assert_eq!(stored.len(), 3, "one row per country");
    assert_eq!(stored[2].rate_basis_points, 1750);
    assert_eq!(
        tax::rate_for(&shop.db, &country("GB")).await.expect("read"),
        Percent::from_basis_points(1750)
    );
    assert_eq!(
        tax::rate_for(&shop.db, &country("AT")).await.expect("read"),
        Some(Percent::default()),
        "a rate of zero is a rate"
    );

    let deleted = shop
        .gql_as(&shop.admin, DELETE_RATE, json!({ "country": "gb" }))
        .await;
    assert_eq!(deleted.data()["deleteTaxRate"], true);
    assert_eq!(
        tax::rate_for(&shop.db, &country("GB")).await.expect("read"),
        None
    );
    let again = shop
        .gql_as(&shop.admin, DELETE_RATE, json!({ "country": "GB" }))
        .await;
    assert_eq!(again.code(), "NOT_FOUND", "{:#}", again.body);
    let never = shop
        .gql_as(&shop.admin, DELETE_RATE, json!({ "country": "FR" }))
        .await;
    assert_eq!(never.code(), "NOT_FOUND", "{:#}", never.body);
    assert_eq!(stored_rates(&shop).await.len(), 2);
}

#[tokio::test]
async fn admins_setting_a_new_country_s_rate_at_once_all_succeed_and_leave_one_rate() {
    let shop = open_shop().await;
    let rates: Vec<String> = (1..=8).map(|percent| format!("{percent}.50")).collect();

    let answers = join_all(
        rates
            .iter()
            .map(|rate| set_rate(&shop, &shop.admin, "FR", rate)),
    )
    .await;

    for answer in &answers {
        assert_eq!(answer.data()["setTaxRate"]["country"], "FR");
    }
    let stored = stored_rates(&shop).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let kept = format!(
        "{}.{:02}",
        stored[0].rate_basis_points / 100,
        stored[0].rate_basis_points % 100
    );
    assert!(rates.contains(&kept), "{kept} is one of the rates set");
}

#[tokio::test]
async fn every_bad_tax_rate_or_country_names_its_field_and_writes_nothing() {
    let shop = open_shop().await;
    set_rate(&shop, &shop.admin, "GB", "20").await.data();
    let before = stored_rates(&shop).await;
    let cases = [
        ("GB", json!("100.01"), "rate"),
        ("GB", json!("-1"), "rate"),
        ("GB", json!("1.005"), "rate"),
        ("GB", json!("twenty"), "rate"),
        ("GB", json!("20%"), "rate"),
        ("GB", json!(101), "rate"),
        ("UK", json!("20"), "country"),
        ("Germany", json!("19"), "country"),
        ("", json!("19"), "country"),
    ];

    for (code, rate, field) in cases {
        let response = set_rate_raw(&shop, code, rate.clone()).await;
        assert_refused(
            &response,
            "BAD_USER_INPUT",
            field,
            &format!("{code} {rate}"),
        );
    }
    let float = set_rate_raw(&shop, "GB", json!(19.5)).await;
    assert_eq!(float.code(), "BAD_USER_INPUT", "{:#}", float.body);
    let deleted = shop
        .gql_as(&shop.admin, DELETE_RATE, json!({ "country": "UK" }))
        .await;
    assert_refused(&deleted, "BAD_USER_INPUT", "country", "deleting UK");

    assert_eq!(stored_rates(&shop).await, before);
}

// ---------------------------------------------------------------------------------------
// Choosing the method of an order: service::shipping::select
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn without_any_method_shipping_is_free_everywhere_unless_a_method_is_named() {
    let shop = open_shop().await;
    let gb = country("GB");

    for omitted in [IfOmitted::Cheapest, IfOmitted::Required] {
        let chosen = shipping::select(&shop.db, &gb, None, omitted)
            .await
            .expect("no method is needed");
        assert_eq!(chosen, None, "{omitted:?}");
        let named = shipping::select(&shop.db, &gb, Some(1), omitted)
            .await
            .expect_err("there is no such method");
        assert_eq!(refusal(named), Refusal::ShippingMethodNotAvailable);
    }
}

#[tokio::test]
async fn when_methods_exist_but_none_delivers_to_the_country_the_country_is_refused() {
    let shop = open_shop().await;
    let express = create_id(&shop, "Express", "14.95", &["DE"]).await;

    for requested in [None, Some(db_id(&express))] {
        for omitted in [IfOmitted::Cheapest, IfOmitted::Required] {
            let err = shipping::select(&shop.db, &country("GB"), requested, omitted)
                .await
                .expect_err("nothing ships to GB");
            assert_eq!(refusal(err), Refusal::NoShippingToCountry, "{requested:?}");
        }
    }
}

#[tokio::test]
async fn a_named_method_is_chosen_only_when_it_delivers_to_the_country() {
    let shop = open_shop().await;
    let standard = db_id(&create_id(&shop, "Standard", "4.95", &[]).await);
    let express = db_id(&create_id(&shop, "Express", "14.95", &["GB", "DE"]).await);
    let economy = db_id(&create_id(&shop, "Economy", "2.00", &["US"]).await);

    for omitted in [IfOmitted::Cheapest, IfOmitted::Required] {
        for wanted in [standard, express] {
            let chosen = shipping::select(&shop.db, &country("GB"), Some(wanted), omitted)
                .await
                .expect("it delivers to GB")
                .expect("a method");
            assert_eq!(chosen.id, wanted);
        }
        for unavailable in [economy, 999_999] {
            let err = shipping::select(&shop.db, &country("GB"), Some(unavailable), omitted)
                .await
                .expect_err("not for GB");
            assert_eq!(refusal(err), Refusal::ShippingMethodNotAvailable);
        }
    }
}

#[tokio::test]
async fn a_method_left_out_is_required_or_the_cheapest_that_applies() {
    let shop = open_shop().await;
    create_id(&shop, "Express", "14.95", &["GB"]).await;
    let standard = db_id(&create_id(&shop, "Standard", "4.95", &[]).await);
    let economy = db_id(&create_id(&shop, "Economy", "2.00", &["US"]).await);

    let err = shipping::select(&shop.db, &country("GB"), None, IfOmitted::Required)
        .await
        .expect_err("a method must be chosen");
    assert_eq!(refusal(err), Refusal::ShippingMethodRequired);

    let cheapest = |code: &'static str| {
        let db = shop.db.clone();
        async move {
            shipping::select(&db, &country(code), None, IfOmitted::Cheapest)
                .await
                .expect("one applies")
                .map(|method| method.id)
        }
    };
    assert_eq!(cheapest("GB").await, Some(standard));
    assert_eq!(cheapest("US").await, Some(economy));
    assert_eq!(cheapest("FR").await, Some(standard));
}

#[tokio::test]
async fn choosing_a_method_and_a_rate_works_inside_the_caller_s_write_transaction() {
    let shop = open_shop().await;
    let express = db_id(&create_id(&shop, "Express", "14.95", &["GB"]).await);
    set_rate(&shop, &shop.admin, "GB", "20").await.data();

    let txn = db::begin_write(&shop.db)
        .await
        .expect("a write transaction");
    let chosen = shipping::select(&txn, &country("GB"), Some(express), IfOmitted::Required)
        .await
        .expect("it applies");
    let rate = tax::rate_for(&txn, &country("GB")).await.expect("read");
    let methods = shipping::for_country(&txn, &country("GB"))
        .await
        .expect("read");
    let found = shipping::find(&txn, express).await.expect("read");
    txn.commit().await.expect("committed");

    assert_eq!(chosen.map(|method| method.name).as_deref(), Some("Express"));
    assert_eq!(rate, Percent::from_basis_points(2000));
    assert_eq!(methods.len(), 1);
    assert_eq!(found.map(|method| method.price_cents), Some(1495));
}

// ---------------------------------------------------------------------------------------
// The tables themselves, and the demo data
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_database_refuses_negative_amounts_reversed_days_and_rates_above_a_whole() {
    let shop = open_shop().await;
    let now = chrono::Utc::now();
    let method = |price: i64, free_over: Option<i64>, min: Option<i32>, max: Option<i32>| {
        shipping_method::ActiveModel {
            name: Set("Raw".into()),
            price_cents: Set(price),
            free_over_cents: Set(free_over),
            countries: Set("[]".into()),
            min_days: Set(min),
            max_days: Set(max),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
    };

    for (what, row) in [
        ("negative price", method(-1, None, None, None)),
        ("negative free-over", method(0, Some(-1), None, None)),
        ("negative min days", method(0, None, Some(-1), None)),
        ("negative max days", method(0, None, None, Some(-1))),
        ("reversed days", method(0, None, Some(5), Some(3))),
    ] {
        assert!(row.insert(&shop.db).await.is_err(), "{what} was stored");
    }
    for basis_points in [-1, 10_001] {
        let row = tax_rate::ActiveModel {
            country: Set("GB".into()),
            rate_basis_points: Set(basis_points),
            updated_at: Set(now),
        };
        assert!(
            row.insert(&shop.db).await.is_err(),
            "{basis_points} was stored"
        );
    }
    assert!(stored_methods(&shop).await.is_empty());
    assert!(stored_rates(&shop).await.is_empty());

    method(0, Some(0), Some(2), Some(2))
        .insert(&shop.db)
        .await
        .expect("a valid row is stored");
}

#[tokio::test]
async fn the_demo_offers_standard_and_express_shipping_and_taxes_its_country_once() {
    let shop = open_shop().await;

    let seeded = demo::seed_shipping_and_tax(&shop.db).await.expect("seeded");
    let again = demo::seed_shipping_and_tax(&shop.db).await.expect("seeded");

    assert_eq!(
        seeded,
        SeededShipping::Added {
            methods: 2,
            tax_rates: 2
        }
    );
    assert_eq!(again, SeededShipping::AlreadyPresent);
    let gb = methods_for(&shop, "GB").await;
    let listed = &gb.data()["shippingMethods"];
    assert_eq!(listed[0]["name"], "Standard");
    assert_eq!(listed[0]["price"]["amount"], "4.95");
    assert_eq!(listed[0]["freeOver"]["amount"], "50.00");
    assert_eq!(listed[0]["countries"], json!([]));
    assert_eq!(
        (&listed[0]["minDays"], &listed[0]["maxDays"]),
        (&json!(3), &json!(5))
    );
    assert_eq!(listed[1]["name"], "Express");
    assert_eq!(listed[1]["price"]["amount"], "14.95");
    assert_eq!(names_for(&shop, "JP").await, ["Standard"]);
    let rates = shop.gql_as(&shop.admin, RATES, json!({})).await;
    assert_eq!(
        rates.data()["taxRates"],
        json!([{ "country": "DE", "rate": "19.00" }, { "country": "GB", "rate": "20.00" }])
    );
    assert_eq!(stored_methods(&shop).await.len(), 2, "not seeded twice");
}

#[tokio::test]
async fn the_demo_leaves_a_shop_with_its_own_shipping_or_tax_alone() {
    let shop = open_shop().await;
    set_rate(&shop, &shop.admin, "FR", "20").await.data();

    let seeded = demo::seed_shipping_and_tax(&shop.db)
        .await
        .expect("checked");

    assert_eq!(seeded, SeededShipping::AlreadyPresent);
    assert!(stored_methods(&shop).await.is_empty());
    assert_eq!(stored_rates(&shop).await.len(), 1);
}
