//! The catalog as admins manage it: categories and products created, changed and removed
//! through the API, every validation rule, and reading them back by id, slug and node.

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};

use crate::{
    store::{VISA, address},
    support::{Gql, Session, TestApp, spawn_app},
};

/// Every field of a product, as the create and update mutations and the readers select it.
macro_rules! product_fields {
    () => {
        "id name slug description sku price { amount currencyCode } stock inStock category { id } imageUrls archived createdAt updatedAt"
    };
}
/// Every field of a category except its products.
macro_rules! category_fields {
    () => {
        "id name slug description parent { id } children { id }"
    };
}

const CREATE_PRODUCT: &str = concat!(
    "mutation($input: CreateProductInput!) { createProduct(input: $input) { ",
    product_fields!(),
    " } }"
);
const UPDATE_PRODUCT: &str = concat!(
    "mutation($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { ",
    product_fields!(),
    " } }"
);
const DELETE_PRODUCT: &str = "mutation($id: ID!) { deleteProduct(id: $id) }";
const PRODUCT_BY_ID: &str = concat!(
    "query($id: ID) { product(id: $id) { ",
    product_fields!(),
    " } }"
);
const PRODUCT_BY_SLUG: &str = concat!(
    "query($slug: String) { product(slug: $slug) { ",
    product_fields!(),
    " } }"
);
const PRODUCT_NODE: &str = concat!(
    "query($id: ID!) { node(id: $id) { __typename ... on Product { ",
    product_fields!(),
    " } } }"
);
const ALL_PRODUCTS: &str = concat!(
    "{ products(first: 100, filter: { includeArchived: true }) { totalCount nodes { ",
    product_fields!(),
    " } } }"
);

const CREATE_CATEGORY: &str = concat!(
    "mutation($input: CreateCategoryInput!) { createCategory(input: $input) { ",
    category_fields!(),
    " } }"
);
const UPDATE_CATEGORY: &str = concat!(
    "mutation($id: ID!, $input: UpdateCategoryInput!) { updateCategory(id: $id, input: $input) { ",
    category_fields!(),
    " } }"
);
const DELETE_CATEGORY: &str = "mutation($id: ID!) { deleteCategory(id: $id) }";
const CATEGORY_BY_ID: &str = concat!(
    "query($id: ID) { category(id: $id) { ",
    category_fields!(),
    " } }"
);
const CATEGORY_BY_SLUG: &str = concat!(
    "query($slug: String) { category(slug: $slug) { ",
    category_fields!(),
    " } }"
);
/// The whole category tree, three levels deep: enough for every tree these tests build.
const CATEGORY_TREE: &str = "{ categories { id name slug description children { id name slug description children { id name slug description children { id } } } } }";

/// `input` with the required product fields it leaves out filled with plain defaults.
pub fn product_input(input: Value) -> Value {
    let mut full =
        json!({ "name": "Plain Product", "description": "", "price": "10.00", "stock": 1 });
    for (key, value) in input.as_object().expect("an input object") {
        full[key] = value.clone();
    }
    full
}

/// `base` with one field replaced.
fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut input = base.clone();
    input[key] = value;
    input
}

/// The `id` of a JSON object, as a string.
pub fn id_of(object: &Value) -> String {
    object["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {object:#}"))
        .to_owned()
}

/// Sends `createProduct`, with the required fields `input` leaves out filled in.
pub async fn try_create_product(app: &TestApp, session: &Session, input: Value) -> Gql {
    app.gql_as(
        session,
        CREATE_PRODUCT,
        json!({ "input": product_input(input) }),
    )
    .await
}

/// Creates a product as `admin` and returns it with every field.
pub async fn create_product(app: &TestApp, admin: &Session, input: Value) -> Value {
    try_create_product(app, admin, input).await.data()["createProduct"].clone()
}

pub async fn try_update_product(app: &TestApp, session: &Session, id: &str, input: Value) -> Gql {
    app.gql_as(session, UPDATE_PRODUCT, json!({ "id": id, "input": input }))
        .await
}

/// Changes a product as `admin` and returns it with every field.
pub async fn update_product(app: &TestApp, admin: &Session, id: &str, input: Value) -> Value {
    try_update_product(app, admin, id, input).await.data()["updateProduct"].clone()
}

pub async fn try_create_category(app: &TestApp, session: &Session, input: Value) -> Gql {
    app.gql_as(session, CREATE_CATEGORY, json!({ "input": input }))
        .await
}

/// Creates a category as `admin` and returns it.
pub async fn create_category(app: &TestApp, admin: &Session, input: Value) -> Value {
    try_create_category(app, admin, input).await.data()["createCategory"].clone()
}

async fn try_update_category(app: &TestApp, admin: &Session, id: &str, input: Value) -> Gql {
    app.gql_as(admin, UPDATE_CATEGORY, json!({ "id": id, "input": input }))
        .await
}

/// Every product, archived ones included, oldest first, as an admin sees them.
pub async fn all_products(app: &TestApp, admin: &Session) -> Value {
    app.gql_as(admin, ALL_PRODUCTS, json!({})).await.data()["products"]["nodes"].clone()
}

async fn category_tree(app: &TestApp) -> Value {
    app.gql(CATEGORY_TREE, json!({})).await.data()["categories"].clone()
}

async fn product_by_id(app: &TestApp, session: Option<&Session>, id: &str) -> Value {
    let vars = json!({ "id": id });
    let response = match session {
        Some(session) => app.gql_as(session, PRODUCT_BY_ID, vars).await,
        None => app.gql(PRODUCT_BY_ID, vars).await,
    };
    response.data()["product"].clone()
}

fn timestamp(value: &Value) -> DateTime<FixedOffset> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is no string"));
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Strings and lists every product rule refuses, with the field the error must name.
fn invalid_product_fields() -> Vec<(&'static str, Value)> {
    vec![
        ("name", json!("")),
        ("name", json!("   ")),
        ("name", json!("n".repeat(201))),
        ("name", json!("é".repeat(201))),
        ("name", json!("a\u{7}bell")),
        ("name", json!("two\nlines")),
        ("description", json!("d".repeat(10_001))),
        ("description", json!("a\u{0}nul")),
        ("name", json!("\u{200B}\u{200C}\u{200D}")),
        ("name", json!("Mug \u{202E}gpj.exe")),
        ("description", json!("\u{FEFF}\u{2060}")),
        ("description", json!("Great\u{2067} mug")),
        ("price", json!("-1")),
        ("price", json!("-0.01")),
        ("price", json!("1.999")),
        ("price", json!("1000000.01")),
        ("price", json!("99999999999999999999")),
        ("price", json!("abc")),
        ("price", json!("")),
        ("price", json!("1e3")),
        ("price", json!("1,00")),
        ("price", json!(".5")),
        ("price", json!("NaN")),
        ("price", json!(-5)),
        ("stock", json!(-1)),
        ("stock", json!(1_000_001)),
        ("sku", json!("")),
        ("sku", json!("a b")),
        ("sku", json!("ü-1")),
        ("sku", json!("a/b")),
        ("sku", json!("s".repeat(65))),
        ("slug", json!("")),
        ("slug", json!("Blue")),
        ("slug", json!("a--b")),
        ("slug", json!("-a")),
        ("slug", json!("a-")),
        ("slug", json!("a b")),
        ("slug", json!("crème")),
        ("slug", json!("s".repeat(121))),
        ("imageUrls", json!(["ftp://cdn.example.com/a.png"])),
        ("imageUrls", json!(["/relative.png"])),
        ("imageUrls", json!(["javascript:alert(1)"])),
        ("imageUrls", json!(["data:image/png;base64,AA"])),
        ("imageUrls", json!(["https://"])),
        (
            "imageUrls",
            json!(["https://cdn.example.com/ok.png", "not a url"]),
        ),
        (
            "imageUrls",
            json!(vec!["https://cdn.example.com/a.png"; 21]),
        ),
        ("categoryId", json!("not an id")),
    ]
}

// ---------------------------------------------------------------------------------------
// Products: create, read back, update, delete
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_admin_creates_a_product_and_reads_it_back_by_id_slug_and_node() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let category = create_category(&app, &admin, json!({ "name": "Kitchen" })).await;

    let created = create_product(
        &app,
        &admin,
        json!({
            "name": "  Blue Mug  ",
            "description": "Holds coffee.\nDishwasher safe.",
            "price": "19.9",
            "stock": 3,
            "sku": "mug-blue.01_x",
            "categoryId": id_of(&category),
            "imageUrls": ["https://cdn.example.com/mug.png", "http://cdn.example.com/mug-2.png"],
        }),
    )
    .await;

    assert_eq!(created["name"], "Blue Mug");
    assert_eq!(created["slug"], "blue-mug");
    assert_eq!(created["description"], "Holds coffee.\nDishwasher safe.");
    assert_eq!(created["sku"], "MUG-BLUE.01_X");
    assert_eq!(
        created["price"],
        json!({ "amount": "19.90", "currencyCode": "USD" })
    );
    assert_eq!(created["stock"], 3);
    assert_eq!(created["inStock"], true);
    assert_eq!(created["category"]["id"], category["id"]);
    assert_eq!(
        created["imageUrls"],
        json!([
            "https://cdn.example.com/mug.png",
            "http://cdn.example.com/mug-2.png"
        ])
    );
    assert_eq!(created["archived"], false);
    assert_eq!(
        timestamp(&created["createdAt"]),
        timestamp(&created["updatedAt"])
    );
    let id = id_of(&created);
    let by_id = app.gql(PRODUCT_BY_ID, json!({ "id": id })).await;
    let by_slug = app
        .gql(PRODUCT_BY_SLUG, json!({ "slug": "blue-mug" }))
        .await;
    let by_node = app.gql(PRODUCT_NODE, json!({ "id": id })).await;
    assert_eq!(by_id.data()["product"], created);
    assert_eq!(by_slug.data()["product"], created);
    let mut node = by_node.data()["node"].clone();
    assert_eq!(node["__typename"], "Product");
    node.as_object_mut()
        .expect("an object")
        .remove("__typename");
    assert_eq!(node, created);
}

#[tokio::test]
async fn a_product_created_with_only_the_required_fields_has_no_sku_category_or_images() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;

    let created = create_product(
        &app,
        &admin,
        json!({ "name": "Plain Plate", "description": "", "price": "0", "stock": 0 }),
    )
    .await;

    assert_eq!(created["slug"], "plain-plate");
    assert_eq!(created["description"], "");
    assert_eq!(created["sku"], Value::Null);
    assert_eq!(created["category"], Value::Null);
    assert_eq!(created["imageUrls"], json!([]));
    assert_eq!(
        created["price"],
        json!({ "amount": "0.00", "currencyCode": "USD" })
    );
    assert_eq!(created["inStock"], false);
}

#[tokio::test]
async fn prices_are_exact_decimals_with_two_places_whatever_form_they_were_sent_in() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;

    let mut amounts = Vec::new();
    for price in [
        json!("19.9"),
        json!("19.99"),
        json!("007.05"),
        json!(" 3 "),
        json!(7),
        json!("0.1"),
        json!("1000000.00"),
    ] {
        let product = create_product(&app, &admin, json!({ "price": price })).await;
        amounts.push(product["price"]["amount"].clone());
    }

    assert_eq!(
        amounts,
        [
            "19.90",
            "19.99",
            "7.05",
            "3.00",
            "7.00",
            "0.10",
            "1000000.00"
        ]
    );
}

#[tokio::test]
async fn the_edges_of_every_product_rule_are_accepted() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let images = vec!["https://cdn.example.com/a.png"; 20];

    let created = create_product(
        &app,
        &admin,
        json!({
            "name": "é".repeat(200),
            "description": "d".repeat(10_000),
            "price": "1000000.00",
            "stock": 1_000_000,
            "sku": "s".repeat(64),
            "slug": "s".repeat(120),
            "imageUrls": images,
        }),
    )
    .await;
    let empty = create_product(
        &app,
        &admin,
        json!({ "name": "x", "description": "", "price": "0", "stock": 0 }),
    )
    .await;

    assert_eq!(created["name"], "é".repeat(200));
    assert_eq!(created["description"], "d".repeat(10_000));
    assert_eq!(created["price"]["amount"], "1000000.00");
    assert_eq!(created["stock"], 1_000_000);
    assert_eq!(created["sku"], "S".repeat(64));
    assert_eq!(created["slug"], "s".repeat(120));
    assert_eq!(created["imageUrls"].as_array().map(Vec::len), Some(20));
    assert_eq!(empty["price"]["amount"], "0.00");
    assert_eq!(empty["stock"], 0);
}

#[tokio::test]
async fn every_invalid_product_field_is_bad_user_input_naming_it_and_nothing_is_created() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let valid = product_input(json!({ "name": "Valid", "description": "fine" }));

    for (field, value) in invalid_product_fields() {
        let response = try_create_product(&app, &admin, with(&valid, field, value.clone())).await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{field} = {value}");
        assert_eq!(response.field(), field, "{field} = {value}");
    }

    assert_eq!(all_products(&app, &admin).await, json!([]));
}

#[tokio::test]
async fn a_price_sent_as_a_json_float_is_refused_and_nothing_is_created() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;

    let as_variable = try_create_product(&app, &admin, json!({ "price": 19.99 })).await;
    let inline = app
        .gql_as(
            &admin,
            "mutation { createProduct(input: { name: \"Mug\", description: \"\", price: 19.99, stock: 1 }) { id } }",
            json!({}),
        )
        .await;
    let whole_float = try_create_product(&app, &admin, json!({ "price": 20.0 })).await;

    assert_eq!(as_variable.code(), "BAD_USER_INPUT");
    assert_eq!(inline.code(), "BAD_USER_INPUT");
    assert_eq!(whole_float.code(), "BAD_USER_INPUT");
    assert_eq!(all_products(&app, &admin).await, json!([]));
}

#[tokio::test]
async fn creating_a_product_in_an_unknown_category_is_not_found_and_creates_nothing() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let product = create_product(&app, &admin, json!({ "name": "Existing" })).await;

    let unknown = try_create_product(
        &app,
        &admin,
        json!({ "name": "Orphan", "categoryId": global_id("Category", 999_999) }),
    )
    .await;
    let not_a_category = try_create_product(
        &app,
        &admin,
        json!({ "name": "Orphan", "categoryId": id_of(&product) }),
    )
    .await;

    assert_eq!(unknown.code(), "NOT_FOUND");
    assert_eq!(not_a_category.code(), "NOT_FOUND");
    assert_eq!(
        all_products(&app, &admin).await.as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn skus_are_unique_regardless_of_case_and_a_duplicate_is_a_conflict_naming_sku() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    create_product(&app, &admin, json!({ "name": "First", "sku": "abc-1" })).await;
    let second = create_product(&app, &admin, json!({ "name": "Second", "sku": "xyz-2" })).await;
    let before = all_products(&app, &admin).await;

    let same_case =
        try_create_product(&app, &admin, json!({ "name": "Third", "sku": "abc-1" })).await;
    let other_case =
        try_create_product(&app, &admin, json!({ "name": "Third", "sku": "ABC-1" })).await;
    let padded =
        try_create_product(&app, &admin, json!({ "name": "Third", "sku": " Abc-1 " })).await;
    let by_update =
        try_update_product(&app, &admin, &id_of(&second), json!({ "sku": "aBc-1" })).await;

    for response in [&same_case, &other_case, &padded, &by_update] {
        assert_eq!(response.code(), "CONFLICT", "{:#}", response.body);
        assert_eq!(response.field(), "sku");
    }
    assert_eq!(all_products(&app, &admin).await, before);
}

#[tokio::test]
async fn a_product_may_keep_its_own_sku_and_slug_when_updated() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let product = create_product(
        &app,
        &admin,
        json!({ "name": "Kettle", "sku": "KT-1", "slug": "kettle" }),
    )
    .await;

    let updated = update_product(
        &app,
        &admin,
        &id_of(&product),
        json!({ "sku": "kt-1", "slug": "kettle" }),
    )
    .await;

    assert_eq!(updated["sku"], "KT-1");
    assert_eq!(updated["slug"], "kettle");
}

#[tokio::test]
async fn product_slugs_are_made_from_names_transliterated_and_numbered_when_taken() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;

    let mut slugs = Vec::new();
    for name in [
        "Crème Brûlée Set!",
        "Crème Brûlée Set",
        "crème brûlée set",
        "Ünïcode -- Mug",
        "Straße Lamp",
        "!!!",
        "???",
        "Mug",
    ] {
        let product = create_product(&app, &admin, json!({ "name": name })).await;
        slugs.push(product["slug"].clone());
    }
    // An explicit slug that looks like a generated one is honoured, and generation skips it.
    let explicit = create_product(&app, &admin, json!({ "name": "Cup", "slug": "cup-2" })).await;
    let first_cup = create_product(&app, &admin, json!({ "name": "Cup" })).await;
    let second_cup = create_product(&app, &admin, json!({ "name": "Cup" })).await;

    assert_eq!(
        slugs,
        [
            "creme-brulee-set",
            "creme-brulee-set-2",
            "creme-brulee-set-3",
            "unicode-mug",
            "strasse-lamp",
            "product",
            "product-2",
            "mug",
        ]
    );
    assert_eq!(explicit["slug"], "cup-2");
    assert_eq!(first_cup["slug"], "cup");
    assert_eq!(second_cup["slug"], "cup-3");
}

#[tokio::test]
async fn products_and_categories_created_at_once_under_one_name_each_get_a_slug_of_their_own() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;

    let products = futures_util::future::join_all(
        (0..6).map(|_| try_create_product(&app, &admin, json!({ "name": "Mug" }))),
    )
    .await;
    let categories = futures_util::future::join_all(
        (0..6).map(|_| try_create_category(&app, &admin, json!({ "name": "Mugs" }))),
    )
    .await;

    let slugs = |responses: &[Gql], field: &str| -> HashSet<String> {
        responses
            .iter()
            .map(|r| r.data()[field]["slug"].as_str().expect("a slug").to_owned())
            .collect()
    };
    let expected = |base: &str| -> HashSet<String> {
        std::iter::once(base.to_owned())
            .chain((2..=6).map(|n| format!("{base}-{n}")))
            .collect()
    };
    assert_eq!(slugs(&products, "createProduct"), expected("mug"));
    assert_eq!(slugs(&categories, "createCategory"), expected("mugs"));
}

#[tokio::test]
async fn a_taken_product_slug_is_a_conflict_naming_slug_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    create_product(&app, &admin, json!({ "name": "Mug" })).await;
    let plate = create_product(&app, &admin, json!({ "name": "Plate" })).await;
    let before = all_products(&app, &admin).await;

    let on_create = try_create_product(&app, &admin, json!({ "name": "Cup", "slug": "mug" })).await;
    let on_update =
        try_update_product(&app, &admin, &id_of(&plate), json!({ "slug": "mug" })).await;

    for response in [&on_create, &on_update] {
        assert_eq!(response.code(), "CONFLICT");
        assert_eq!(response.field(), "slug");
    }
    assert_eq!(all_products(&app, &admin).await, before);
}

#[tokio::test]
async fn updating_a_product_changes_only_the_given_fields_and_moves_updated_at() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let kitchen = create_category(&app, &admin, json!({ "name": "Kitchen" })).await;
    let garden = create_category(&app, &admin, json!({ "name": "Garden" })).await;
    let product = create_product(
        &app,
        &admin,
        json!({
            "name": "Kettle",
            "description": "Boils water.",
            "price": "25.00",
            "stock": 4,
            "sku": "KT-1",
            "categoryId": id_of(&kitchen),
            "imageUrls": ["https://cdn.example.com/kettle.png"],
        }),
    )
    .await;
    let id = id_of(&product);

    let renamed = update_product(&app, &admin, &id, json!({ "name": "Steel Kettle" })).await;
    let changed = update_product(
        &app,
        &admin,
        &id,
        json!({
            "description": "Boils water fast.",
            "price": "19.5",
            "stock": 0,
            "sku": "kt-2",
            "slug": "steel-kettle",
            "categoryId": id_of(&garden),
            "imageUrls": [],
        }),
    )
    .await;

    // A new name keeps the slug: links to the product keep working.
    assert_eq!(renamed["name"], "Steel Kettle");
    assert_eq!(renamed["slug"], "kettle");
    assert_eq!(renamed["description"], "Boils water.");
    assert_eq!(renamed["price"]["amount"], "25.00");
    assert_eq!(renamed["sku"], "KT-1");
    assert_eq!(renamed["category"]["id"], kitchen["id"]);
    assert_eq!(renamed["createdAt"], product["createdAt"]);
    assert!(timestamp(&renamed["updatedAt"]) > timestamp(&product["updatedAt"]));
    assert_eq!(changed["name"], "Steel Kettle");
    assert_eq!(changed["description"], "Boils water fast.");
    assert_eq!(
        changed["price"],
        json!({ "amount": "19.50", "currencyCode": "USD" })
    );
    assert_eq!(changed["stock"], 0);
    assert_eq!(changed["inStock"], false);
    assert_eq!(changed["sku"], "KT-2");
    assert_eq!(changed["slug"], "steel-kettle");
    assert_eq!(changed["category"]["id"], garden["id"]);
    assert_eq!(changed["imageUrls"], json!([]));
    assert_eq!(changed["createdAt"], product["createdAt"]);
    assert!(timestamp(&changed["updatedAt"]) > timestamp(&renamed["updatedAt"]));
    assert_eq!(product_by_id(&app, None, &id).await, changed);
}

#[tokio::test]
async fn a_null_sku_clears_it_and_a_null_category_detaches_the_product() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let kitchen = create_category(&app, &admin, json!({ "name": "Kitchen" })).await;
    let product = create_product(
        &app,
        &admin,
        json!({ "name": "Kettle", "sku": "KT-1", "categoryId": id_of(&kitchen) }),
    )
    .await;

    let cleared = update_product(
        &app,
        &admin,
        &id_of(&product),
        json!({ "sku": null, "categoryId": null }),
    )
    .await;
    // With the SKU gone, another product may take it.
    let other = create_product(&app, &admin, json!({ "name": "Other", "sku": "kt-1" })).await;

    assert_eq!(cleared["sku"], Value::Null);
    assert_eq!(cleared["category"], Value::Null);
    assert_eq!(product_by_id(&app, None, &id_of(&product)).await, cleared);
    assert_eq!(other["sku"], "KT-1");
    let in_kitchen = app
        .gql(
            "query($id: ID) { category(id: $id) { products { totalCount } } }",
            json!({ "id": id_of(&kitchen) }),
        )
        .await;
    assert_eq!(in_kitchen.data()["category"]["products"]["totalCount"], 0);
}

#[tokio::test]
async fn fields_left_out_of_an_update_keep_their_values() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let kitchen = create_category(&app, &admin, json!({ "name": "Kitchen" })).await;
    let product = create_product(
        &app,
        &admin,
        json!({ "name": "Kettle", "sku": "KT-1", "categoryId": id_of(&kitchen), "imageUrls": ["https://cdn.example.com/k.png"] }),
    )
    .await;

    let updated = update_product(&app, &admin, &id_of(&product), json!({ "stock": 9 })).await;

    assert_eq!(updated["stock"], 9);
    for field in [
        "name",
        "slug",
        "description",
        "sku",
        "price",
        "category",
        "imageUrls",
        "archived",
        "createdAt",
    ] {
        assert_eq!(updated[field], product[field], "{field}");
    }
}

#[tokio::test]
async fn every_invalid_update_is_bad_user_input_naming_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let product = create_product(
        &app,
        &admin,
        json!({ "name": "Kettle", "description": "Boils water.", "sku": "KT-1" }),
    )
    .await;
    let id = id_of(&product);

    for (field, value) in invalid_product_fields() {
        let response = try_update_product(&app, &admin, &id, json!({ field: value.clone() })).await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{field} = {value}");
        assert_eq!(response.field(), field, "{field} = {value}");
    }
    // One bad field among good ones spoils the whole update.
    let mixed = try_update_product(
        &app,
        &admin,
        &id,
        json!({ "name": "New Name", "stock": 5, "price": "1.999" }),
    )
    .await;

    assert_eq!(mixed.field(), "price");
    assert_eq!(product_by_id(&app, Some(&admin), &id).await, product);
}

#[tokio::test]
async fn updating_an_unknown_product_or_moving_it_to_an_unknown_category_is_not_found() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let product = create_product(&app, &admin, json!({ "name": "Kettle" })).await;

    let unknown_product = try_update_product(
        &app,
        &admin,
        &global_id("Product", 999_999),
        json!({ "name": "Ghost" }),
    )
    .await;
    let unknown_category = try_update_product(
        &app,
        &admin,
        &id_of(&product),
        json!({ "categoryId": global_id("Category", 999_999) }),
    )
    .await;
    let malformed_id =
        try_update_product(&app, &admin, "garbage", json!({ "name": "Ghost" })).await;

    assert_eq!(unknown_product.code(), "NOT_FOUND");
    assert_eq!(unknown_category.code(), "NOT_FOUND");
    assert_eq!(malformed_id.code(), "BAD_USER_INPUT");
    assert_eq!(malformed_id.field(), "id");
    assert_eq!(product_by_id(&app, None, &id_of(&product)).await, product);
}

#[tokio::test]
async fn deleting_an_unreferenced_product_removes_it_even_for_admins() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let kettle = create_product(&app, &admin, json!({ "name": "Kettle", "sku": "KT-1" })).await;
    let mug = create_product(&app, &admin, json!({ "name": "Mug" })).await;

    let deleted = app
        .gql_as(&admin, DELETE_PRODUCT, json!({ "id": id_of(&kettle) }))
        .await;

    assert_eq!(deleted.data()["deleteProduct"], true);
    assert_eq!(
        product_by_id(&app, Some(&admin), &id_of(&kettle)).await,
        Value::Null
    );
    let node = app
        .gql_as(
            &admin,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id_of(&kettle) }),
        )
        .await;
    assert_eq!(node.data()["node"], Value::Null);
    assert_eq!(all_products(&app, &admin).await, json!([mug]));
    let search = app
        .gql(
            "{ products(filter: { search: \"kettle\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(search.data()["products"]["totalCount"], 0);
    // Its slug and SKU are free again.
    let again = create_product(&app, &admin, json!({ "name": "Kettle", "sku": "kt-1" })).await;
    assert_eq!(again["slug"], "kettle");
    let twice = app
        .gql_as(&admin, DELETE_PRODUCT, json!({ "id": id_of(&kettle) }))
        .await;
    assert_eq!(twice.code(), "NOT_FOUND");
}

/// A product an order bought cannot be deleted without rewriting history: the database
/// refuses (the order line's foreign key restricts it), and the product is archived.
#[tokio::test]
async fn deleting_a_product_that_an_order_bought_archives_it_instead() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let customer = app.register("alice").await;
    let kettle = create_product(&app, &admin, json!({ "name": "Kettle", "stock": 3 })).await;
    app.gql_as(
        &customer,
        "mutation($id: ID!) { addToCart(productId: $id) { totalQuantity } }",
        json!({ "id": id_of(&kettle) }),
    )
    .await
    .data();
    let bought = app
        .gql_as(
            &customer,
            "mutation($input: CheckoutInput!) { checkout(input: $input) { status } }",
            json!({ "input": { "shippingAddress": address(), "paymentToken": VISA } }),
        )
        .await;
    assert_eq!(bought.data()["checkout"]["status"], "PAID");

    let deleted = app
        .gql_as(&admin, DELETE_PRODUCT, json!({ "id": id_of(&kettle) }))
        .await;

    assert_eq!(deleted.data()["deleteProduct"], true);
    let for_admin = product_by_id(&app, Some(&admin), &id_of(&kettle)).await;
    assert_eq!(for_admin["archived"], true);
    assert_eq!(for_admin["name"], "Kettle");
    assert!(timestamp(&for_admin["updatedAt"]) > timestamp(&kettle["updatedAt"]));
    assert_eq!(
        product_by_id(&app, Some(&customer), &id_of(&kettle)).await,
        Value::Null
    );
    assert_eq!(
        product_by_id(&app, None, &id_of(&kettle)).await,
        Value::Null
    );
    let listed = app.gql("{ products { totalCount } }", json!({})).await;
    assert_eq!(listed.data()["products"]["totalCount"], 0);
}

// ---------------------------------------------------------------------------------------
// Categories
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_admin_builds_a_category_tree_and_everyone_reads_it_back() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;

    let electronics = create_category(
        &app,
        &admin,
        json!({ "name": "Electronics", "description": "Things with plugs." }),
    )
    .await;
    let laptops = create_category(
        &app,
        &admin,
        json!({ "name": "Laptops", "parentId": id_of(&electronics) }),
    )
    .await;
    let audio = create_category(
        &app,
        &admin,
        json!({ "name": "Audio", "parentId": id_of(&electronics), "slug": "sound" }),
    )
    .await;
    let home = create_category(&app, &admin, json!({ "name": "Home & Kitchen" })).await;
    let apparel = create_category(
        &app,
        &admin,
        json!({ "name": "Apparel", "description": "" }),
    )
    .await;

    assert_eq!(electronics["slug"], "electronics");
    assert_eq!(electronics["description"], "Things with plugs.");
    assert_eq!(electronics["parent"], Value::Null);
    assert_eq!(laptops["parent"]["id"], electronics["id"]);
    assert_eq!(audio["slug"], "sound");
    assert_eq!(home["slug"], "home-kitchen");
    assert_eq!(apparel["description"], Value::Null);
    let roots = app
        .gql(
            "{ categories { name children { name parent { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        roots.data()["categories"],
        json!([
            { "name": "Apparel", "children": [] },
            { "name": "Electronics", "children": [
                { "name": "Audio", "parent": { "name": "Electronics" } },
                { "name": "Laptops", "parent": { "name": "Electronics" } },
            ] },
            { "name": "Home & Kitchen", "children": [] },
        ])
    );
    let by_id = app
        .gql(CATEGORY_BY_ID, json!({ "id": id_of(&laptops) }))
        .await;
    let by_slug = app
        .gql(CATEGORY_BY_SLUG, json!({ "slug": "electronics" }))
        .await;
    assert_eq!(by_id.data()["category"], laptops);
    assert_eq!(by_slug.data()["category"]["id"], electronics["id"]);
    assert_eq!(
        by_slug.data()["category"]["children"],
        json!([{ "id": audio["id"] }, { "id": laptops["id"] }])
    );
    let missing = app
        .gql(CATEGORY_BY_SLUG, json!({ "slug": "nothing-here" }))
        .await;
    let wrong_kind = app
        .gql(CATEGORY_BY_ID, json!({ "id": global_id("Product", 1) }))
        .await;
    let unknown = app
        .gql(
            CATEGORY_BY_ID,
            json!({ "id": global_id("Category", 999_999) }),
        )
        .await;
    assert_eq!(missing.data()["category"], Value::Null);
    assert_eq!(wrong_kind.data()["category"], Value::Null);
    assert_eq!(unknown.data()["category"], Value::Null);
}

#[tokio::test]
async fn category_slugs_are_generated_numbered_and_unique() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;

    let first = create_category(&app, &admin, json!({ "name": "Tops" })).await;
    let second = create_category(&app, &admin, json!({ "name": "TOPS" })).await;
    let accented = create_category(&app, &admin, json!({ "name": "Über Straße" })).await;
    let symbols = create_category(&app, &admin, json!({ "name": "***" })).await;
    let before = category_tree(&app).await;
    let taken_on_create =
        try_create_category(&app, &admin, json!({ "name": "Shirts", "slug": "tops" })).await;
    let taken_on_update =
        try_update_category(&app, &admin, &id_of(&accented), json!({ "slug": "tops-2" })).await;

    assert_eq!(first["slug"], "tops");
    assert_eq!(second["slug"], "tops-2");
    assert_eq!(accented["slug"], "uber-strasse");
    assert_eq!(symbols["slug"], "category");
    for response in [&taken_on_create, &taken_on_update] {
        assert_eq!(response.code(), "CONFLICT");
        assert_eq!(response.field(), "slug");
    }
    assert_eq!(category_tree(&app).await, before);
}

#[tokio::test]
async fn a_category_slug_may_repeat_a_product_slug() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    create_product(&app, &admin, json!({ "name": "Lamps" })).await;

    let category = create_category(&app, &admin, json!({ "name": "Lamps" })).await;

    assert_eq!(category["slug"], "lamps");
}

#[tokio::test]
async fn every_invalid_category_field_is_bad_user_input_naming_it_and_nothing_is_created() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let cases = [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "   " }), "name"),
        (json!({ "name": "n".repeat(101) }), "name"),
        (json!({ "name": "a\u{7}b" }), "name"),
        (
            json!({ "name": "ok", "description": "d".repeat(2_001) }),
            "description",
        ),
        (json!({ "name": "ok", "slug": "Not A Slug" }), "slug"),
        (json!({ "name": "ok", "slug": "a--b" }), "slug"),
        (json!({ "name": "ok", "slug": "" }), "slug"),
        (json!({ "name": "ok", "parentId": "garbage" }), "parentId"),
    ];

    for (input, field) in cases {
        let response = try_create_category(&app, &admin, input.clone()).await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{input}");
        assert_eq!(response.field(), field, "{input}");
    }

    assert_eq!(category_tree(&app).await, json!([]));
}

#[tokio::test]
async fn invisible_or_direction_flipping_text_is_bad_user_input_for_products_and_categories() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let product = create_product(&app, &admin, json!({ "name": "Mug" })).await;
    let category = create_category(&app, &admin, json!({ "name": "Kitchen" })).await;
    let (products_before, tree_before) =
        (all_products(&app, &admin).await, category_tree(&app).await);
    let cases = [
        ("name", json!("\u{200B}")),
        ("name", json!(" \u{200B}\u{FEFF} ")),
        ("name", json!("\u{3164}")),
        ("name", json!("Sale\u{202E}!")),
        ("description", json!("\u{200D}\u{200D}")),
        ("description", json!("line one\n\u{2066}line two")),
    ];

    for (field, value) in cases {
        let input = json!({ field: value.clone() });
        let new_product = try_create_product(&app, &admin, input.clone()).await;
        let changed_product =
            try_update_product(&app, &admin, &id_of(&product), input.clone()).await;
        let mut category_input = json!({ "name": "Garden" });
        category_input[field] = value.clone();
        let new_category = try_create_category(&app, &admin, category_input).await;
        let changed_category =
            try_update_category(&app, &admin, &id_of(&category), input.clone()).await;

        for response in [new_product, changed_product, new_category, changed_category] {
            assert_eq!(response.code(), "BAD_USER_INPUT", "{field} = {value:?}");
            assert_eq!(response.field(), field, "{field} = {value:?}");
        }
    }

    assert_eq!(all_products(&app, &admin).await, products_before);
    assert_eq!(category_tree(&app).await, tree_before);
}

#[tokio::test]
async fn zero_width_joiners_and_marks_inside_visible_text_are_kept() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    // Emoji sequences need U+200D, Persian needs U+200C, mixed Hebrew needs U+200F.
    let name = "Family 👨\u{200D}👩\u{200D}👧 mug";
    let description = "می\u{200C}خواهم — שלום\u{200F}!";

    let product = create_product(
        &app,
        &admin,
        json!({ "name": name, "description": description }),
    )
    .await;

    assert_eq!(product["name"], name);
    assert_eq!(product["description"], description);
}

#[tokio::test]
async fn the_edges_of_every_category_rule_are_accepted() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;

    let category = create_category(
        &app,
        &admin,
        json!({ "name": "ü".repeat(100), "description": "d".repeat(2_000), "slug": "s".repeat(120) }),
    )
    .await;

    assert_eq!(category["name"], "ü".repeat(100));
    assert_eq!(category["description"], "d".repeat(2_000));
    assert_eq!(category["slug"], "s".repeat(120));
}

#[tokio::test]
async fn a_category_under_an_unknown_parent_is_not_found_and_nothing_is_created() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let product = create_product(&app, &admin, json!({ "name": "Kettle" })).await;

    let unknown = try_create_category(
        &app,
        &admin,
        json!({ "name": "Lost", "parentId": global_id("Category", 999_999) }),
    )
    .await;
    let not_a_category = try_create_category(
        &app,
        &admin,
        json!({ "name": "Lost", "parentId": id_of(&product) }),
    )
    .await;

    assert_eq!(unknown.code(), "NOT_FOUND");
    assert_eq!(not_a_category.code(), "NOT_FOUND");
    assert_eq!(category_tree(&app).await, json!([]));
}

#[tokio::test]
async fn updating_a_category_renames_moves_and_detaches_it() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let clothing = create_category(&app, &admin, json!({ "name": "Clothing" })).await;
    let outdoor = create_category(&app, &admin, json!({ "name": "Outdoor" })).await;
    let jackets = create_category(
        &app,
        &admin,
        json!({ "name": "Jackets", "description": "Warm.", "parentId": id_of(&clothing) }),
    )
    .await;
    let id = id_of(&jackets);

    let renamed = try_update_category(
        &app,
        &admin,
        &id,
        json!({ "name": "Coats", "slug": "coats" }),
    )
    .await;
    let moved =
        try_update_category(&app, &admin, &id, json!({ "parentId": id_of(&outdoor) })).await;
    let kept = try_update_category(&app, &admin, &id, json!({ "name": "Rain Coats" })).await;
    let rooted = try_update_category(
        &app,
        &admin,
        &id,
        json!({ "parentId": null, "description": null }),
    )
    .await;

    let renamed = &renamed.data()["updateCategory"];
    assert_eq!(renamed["name"], "Coats");
    assert_eq!(renamed["slug"], "coats");
    assert_eq!(renamed["description"], "Warm.");
    assert_eq!(renamed["parent"]["id"], clothing["id"]);
    assert_eq!(
        moved.data()["updateCategory"]["parent"]["id"],
        outdoor["id"]
    );
    assert_eq!(kept.data()["updateCategory"]["parent"]["id"], outdoor["id"]);
    assert_eq!(kept.data()["updateCategory"]["description"], "Warm.");
    let rooted = &rooted.data()["updateCategory"];
    assert_eq!(rooted["parent"], Value::Null);
    assert_eq!(rooted["description"], Value::Null);
    assert_eq!(rooted["name"], "Rain Coats");
    let roots = app
        .gql("{ categories { name children { name } } }", json!({}))
        .await;
    assert_eq!(
        roots.data()["categories"],
        json!([
            { "name": "Clothing", "children": [] },
            { "name": "Outdoor", "children": [] },
            { "name": "Rain Coats", "children": [] },
        ])
    );
}

#[tokio::test]
async fn every_invalid_category_update_is_bad_user_input_naming_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let category = create_category(
        &app,
        &admin,
        json!({ "name": "Tools", "description": "Hammers." }),
    )
    .await;
    let id = id_of(&category);
    let before = category_tree(&app).await;
    let cases = [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "n".repeat(101) }), "name"),
        (json!({ "description": "d".repeat(2_001) }), "description"),
        (json!({ "slug": "Bad Slug" }), "slug"),
        (json!({ "parentId": "garbage" }), "parentId"),
        (json!({ "name": "Fine", "slug": "-bad" }), "slug"),
    ];

    for (input, field) in cases {
        let response = try_update_category(&app, &admin, &id, input.clone()).await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{input}");
        assert_eq!(response.field(), field, "{input}");
    }
    let unknown_parent = try_update_category(
        &app,
        &admin,
        &id,
        json!({ "parentId": global_id("Category", 999_999) }),
    )
    .await;
    let unknown_category = try_update_category(
        &app,
        &admin,
        &global_id("Category", 999_999),
        json!({ "name": "Ghost" }),
    )
    .await;

    assert_eq!(unknown_parent.code(), "NOT_FOUND");
    assert_eq!(unknown_category.code(), "NOT_FOUND");
    assert_eq!(category_tree(&app).await, before);
}

#[tokio::test]
async fn moving_a_category_under_itself_or_a_descendant_is_bad_user_input_naming_parent_id() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let top = create_category(&app, &admin, json!({ "name": "Top" })).await;
    let middle = create_category(
        &app,
        &admin,
        json!({ "name": "Middle", "parentId": id_of(&top) }),
    )
    .await;
    let bottom = create_category(
        &app,
        &admin,
        json!({ "name": "Bottom", "parentId": id_of(&middle) }),
    )
    .await;
    let before = category_tree(&app).await;

    let under_itself = try_update_category(
        &app,
        &admin,
        &id_of(&top),
        json!({ "parentId": id_of(&top) }),
    )
    .await;
    let under_child = try_update_category(
        &app,
        &admin,
        &id_of(&top),
        json!({ "parentId": id_of(&middle) }),
    )
    .await;
    let under_grandchild = try_update_category(
        &app,
        &admin,
        &id_of(&top),
        json!({ "parentId": id_of(&bottom) }),
    )
    .await;
    let middle_under_bottom = try_update_category(
        &app,
        &admin,
        &id_of(&middle),
        json!({ "parentId": id_of(&bottom) }),
    )
    .await;

    for response in [
        &under_itself,
        &under_child,
        &under_grandchild,
        &middle_under_bottom,
    ] {
        assert_eq!(response.code(), "BAD_USER_INPUT", "{:#}", response.body);
        assert_eq!(response.field(), "parentId");
    }
    assert_eq!(category_tree(&app).await, before);
    // Moving down to a sibling branch or up is fine.
    let bottom_to_top = try_update_category(
        &app,
        &admin,
        &id_of(&bottom),
        json!({ "parentId": id_of(&top) }),
    )
    .await;
    assert_eq!(
        bottom_to_top.data()["updateCategory"]["parent"]["id"],
        top["id"]
    );
}

#[tokio::test]
async fn deleting_a_category_with_subcategories_or_products_is_a_conflict() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let parent = create_category(&app, &admin, json!({ "name": "Parent" })).await;
    create_category(
        &app,
        &admin,
        json!({ "name": "Child", "parentId": id_of(&parent) }),
    )
    .await;
    let stocked = create_category(&app, &admin, json!({ "name": "Stocked" })).await;
    let product = create_product(
        &app,
        &admin,
        json!({ "name": "Kettle", "categoryId": id_of(&stocked) }),
    )
    .await;
    let archived_only = create_category(&app, &admin, json!({ "name": "Archived Only" })).await;
    let archived = create_product(
        &app,
        &admin,
        json!({ "name": "Old", "categoryId": id_of(&archived_only) }),
    )
    .await;
    update_product(&app, &admin, &id_of(&archived), json!({ "archived": true })).await;
    let before = category_tree(&app).await;

    let with_child = app
        .gql_as(&admin, DELETE_CATEGORY, json!({ "id": id_of(&parent) }))
        .await;
    let with_product = app
        .gql_as(&admin, DELETE_CATEGORY, json!({ "id": id_of(&stocked) }))
        .await;
    let with_archived = app
        .gql_as(
            &admin,
            DELETE_CATEGORY,
            json!({ "id": id_of(&archived_only) }),
        )
        .await;

    for response in [&with_child, &with_product, &with_archived] {
        assert_eq!(response.code(), "CONFLICT", "{:#}", response.body);
    }
    assert_eq!(category_tree(&app).await, before);
    assert_eq!(
        product_by_id(&app, None, &id_of(&product)).await["category"]["id"],
        stocked["id"]
    );
}

#[tokio::test]
async fn deleting_an_empty_category_removes_it() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let parent = create_category(&app, &admin, json!({ "name": "Parent" })).await;
    let child = create_category(
        &app,
        &admin,
        json!({ "name": "Child", "parentId": id_of(&parent) }),
    )
    .await;

    let child_deleted = app
        .gql_as(&admin, DELETE_CATEGORY, json!({ "id": id_of(&child) }))
        .await;
    let parent_deleted = app
        .gql_as(&admin, DELETE_CATEGORY, json!({ "id": id_of(&parent) }))
        .await;

    assert_eq!(child_deleted.data()["deleteCategory"], true);
    assert_eq!(parent_deleted.data()["deleteCategory"], true);
    let gone = app
        .gql(CATEGORY_BY_ID, json!({ "id": id_of(&child) }))
        .await;
    assert_eq!(gone.data()["category"], Value::Null);
    assert_eq!(category_tree(&app).await, json!([]));
    let again = app
        .gql_as(&admin, DELETE_CATEGORY, json!({ "id": id_of(&child) }))
        .await;
    assert_eq!(again.code(), "NOT_FOUND");
    let malformed = app
        .gql_as(&admin, DELETE_CATEGORY, json!({ "id": "garbage" }))
        .await;
    assert_eq!(malformed.code(), "BAD_USER_INPUT");
    assert_eq!(malformed.field(), "id");
}

#[tokio::test]
async fn a_category_lists_its_own_and_its_subcategories_products_oldest_first() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let electronics = create_category(&app, &admin, json!({ "name": "Electronics" })).await;
    let laptops = create_category(
        &app,
        &admin,
        json!({ "name": "Laptops", "parentId": id_of(&electronics) }),
    )
    .await;
    let gaming = create_category(
        &app,
        &admin,
        json!({ "name": "Gaming", "parentId": id_of(&laptops) }),
    )
    .await;
    let kitchen = create_category(&app, &admin, json!({ "name": "Kitchen" })).await;
    for (name, category) in [
        ("Cable", &electronics),
        ("Ultrabook", &laptops),
        ("Kettle", &kitchen),
        ("Gaming Laptop", &gaming),
        ("Charger", &electronics),
    ] {
        create_product(
            &app,
            &admin,
            json!({ "name": name, "categoryId": id_of(category) }),
        )
        .await;
    }
    let hidden = create_product(
        &app,
        &admin,
        json!({ "name": "Old Laptop", "categoryId": id_of(&laptops) }),
    )
    .await;
    update_product(&app, &admin, &id_of(&hidden), json!({ "archived": true })).await;
    let query = "query($slug: String) { category(slug: $slug) { products(first: 10) { totalCount nodes { name } pageInfo { hasNextPage } } } }";

    let names = |response: &Gql| -> (Vec<String>, Value) {
        let products = &response.data()["category"]["products"];
        let names = products["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|p| p["name"].as_str().expect("a name").to_owned())
            .collect();
        (names, products["totalCount"].clone())
    };
    let whole = app.gql(query, json!({ "slug": "electronics" })).await;
    let middle = app.gql(query, json!({ "slug": "laptops" })).await;
    let leaf = app.gql(query, json!({ "slug": "gaming" })).await;
    let other = app.gql(query, json!({ "slug": "kitchen" })).await;

    assert_eq!(
        names(&whole),
        (
            vec![
                "Cable".into(),
                "Ultrabook".into(),
                "Gaming Laptop".into(),
                "Charger".into()
            ],
            json!(4)
        )
    );
    assert_eq!(
        names(&middle),
        (vec!["Ultrabook".into(), "Gaming Laptop".into()], json!(2))
    );
    assert_eq!(names(&leaf), (vec!["Gaming Laptop".into()], json!(1)));
    assert_eq!(names(&other), (vec!["Kettle".into()], json!(1)));
    let paged = app
        .gql(
            "{ category(slug: \"electronics\") { products(first: 3) { nodes { name } pageInfo { hasNextPage endCursor } } } }",
            json!({}),
        )
        .await;
    let page = &paged.data()["category"]["products"];
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let rest = app
        .gql(
            "query($after: String) { category(slug: \"electronics\") { products(first: 3, after: $after) { nodes { name } pageInfo { hasNextPage hasPreviousPage } } } }",
            json!({ "after": page["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        rest.data()["category"]["products"],
        json!({ "nodes": [{ "name": "Charger" }], "pageInfo": { "hasNextPage": false, "hasPreviousPage": true } })
    );
}

// ---------------------------------------------------------------------------------------
// node(id)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn node_resolves_products_and_categories_by_their_global_ids() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let category = create_category(&app, &admin, json!({ "name": "Kitchen" })).await;
    let product = create_product(
        &app,
        &admin,
        json!({ "name": "Kettle", "categoryId": id_of(&category) }),
    )
    .await;
    let query = "query($id: ID!) { node(id: $id) { __typename id ... on Product { name category { name } } ... on Category { name slug } } }";

    let as_product = app.gql(query, json!({ "id": id_of(&product) })).await;
    let as_category = app.gql(query, json!({ "id": id_of(&category) })).await;
    let unknown = app
        .gql(query, json!({ "id": global_id("Product", 999_999) }))
        .await;
    let garbage = app.gql(query, json!({ "id": "not an id" })).await;

    assert_eq!(
        as_product.data()["node"],
        json!({ "__typename": "Product", "id": product["id"], "name": "Kettle", "category": { "name": "Kitchen" } })
    );
    assert_eq!(
        as_category.data()["node"],
        json!({ "__typename": "Category", "id": category["id"], "name": "Kitchen", "slug": "kitchen" })
    );
    assert_eq!(unknown.data()["node"], Value::Null);
    assert_eq!(garbage.code(), "BAD_USER_INPUT");
    assert_eq!(garbage.field(), "id");
}

#[tokio::test]
async fn a_product_is_found_by_id_or_slug_but_not_by_an_id_of_another_kind() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let category = create_category(&app, &admin, json!({ "name": "Kitchen" })).await;
    create_product(&app, &admin, json!({ "name": "Kettle" })).await;

    let wrong_kind = app
        .gql(PRODUCT_BY_ID, json!({ "id": id_of(&category) }))
        .await;
    let unknown_slug = app.gql(PRODUCT_BY_SLUG, json!({ "slug": "teapot" })).await;
    let neither = app.gql("{ product { id } }", json!({})).await;

    assert_eq!(wrong_kind.data()["product"], Value::Null);
    assert_eq!(unknown_slug.data()["product"], Value::Null);
    assert_eq!(neither.code(), "BAD_USER_INPUT");
}

/// A global ID as the server spells it; for naming objects that do not exist.
pub fn global_id(kind: &str, id: i32) -> String {
    use base64::{Engine, engine::general_purpose::STANDARD};
    STANDARD.encode(format!("{kind}:{id}"))
}
