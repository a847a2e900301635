//! Upgrading a shop whose addresses and orders hold free-text countries (issue 14): a
//! database built by the migrations of the release before issue 14, with address books
//! and orders as customers of that release typed them ("Netherlands", "UK", "USA",
//! "Deutschland", "Narnia"), then opened by this release's server, which migrates it as
//! it starts.
//!
//! What names a country becomes its ISO 3166-1 alpha-2 code; what does not is kept as it
//! was, in address books and in orders; a saved address without a code cannot be shipped
//! to until its owner updates it. Every address book gets its newest address as default.
//!
//! The old rows are written with raw SQL (see `upgrade.rs`), in the schema of the release
//! before, not with this release's entities.

use chrono::{Duration, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{DatabaseConnection, Value};
use serde_json::{Value as Json, json};
use shop::{
    db,
    domain::{GlobalId, NodeKind, new_order_number},
};

use crate::{
    store::VISA,
    support::{PASSWORD, Session, TestApp, TestDatabase, session_from, spawn_app_on},
    upgrade::{insert, user_row},
};

/// How many migrations the release before issue 14 shipped, the last of them
/// `m20261202_120000_give_products_variants`. Fixed on purpose: the rows below are written
/// in that release's schema, whatever migrations later releases add.
const RELEASE_BEFORE_COUNTRY_CODES: u32 = 9;

/// Ada's address book as that release stored it, oldest first: the name on each address,
/// its country as typed, and the code it must come out with (the text itself when it
/// names no country).
const ADA_BOOK: [(&str, &str, &str); 9] = [
    ("Canal house", "Netherlands", "NL"),
    ("Boat", "the netherlands", "NL"),
    ("Studio", "nl", "NL"),
    ("London flat", "United Kingdom", "GB"),
    ("Cottage", "UK", "GB"),
    ("Wardrobe", "Narnia", "Narnia"),
    ("New York loft", "USA", "US"),
    ("Chalet", "Österreich", "AT"),
    ("Berlin office", "Deutschland", "DE"),
];

/// Ada's orders as that release stored them: where each shipped, as typed, and what it
/// must read after the upgrade.
const ADA_ORDERS: [(&str, &str); 3] = [
    ("Netherlands", "NL"),
    ("U.S.A.", "US"),
    ("Narnia", "Narnia"),
];

/// The old shop, upgraded by this release's server.
struct Upgraded {
    app: TestApp,
    ada: Session,
    bob: Session,
    carol: Session,
    /// Ada's address whose country names none.
    narnia: String,
    /// Ada's orders, in [`ADA_ORDERS`]' order.
    orders: Vec<String>,
}

impl Upgraded {
    async fn start() -> Self {
        let database = TestDatabase::create().await;
        let old = fill_release_before(&database).await;
        let app = spawn_app_on(database, |_| {}).await;
        let login = |name: &'static str| {
            let app = &app;
            async move { session_from(&app.login(name, PASSWORD).await.data()["login"]) }
        };
        let (ada, bob, carol) = (login("ada").await, login("bob").await, login("carol").await);
        Self {
            ada,
            bob,
            carol,
            narnia: GlobalId::new(NodeKind::Address, old.narnia).to_string(),
            orders: old
                .orders
                .iter()
                .map(|id| GlobalId::new(NodeKind::Order, *id).to_string())
                .collect(),
            app,
        }
    }

    async fn me(&self, who: &Session) -> Json {
        self.app
            .gql_as(
                who,
                "{ me { addresses { id fullName country isDefault } \
                 defaultAddress { fullName country isDefault } } }",
                json!({}),
            )
            .await
            .data()["me"]
            .clone()
    }
}

struct OldRows {
    narnia: i32,
    orders: Vec<i32>,
}

/// Builds `database` with the migrations of the release before and writes three
/// customers: Ada with [`ADA_BOOK`] and [`ADA_ORDERS`], Bob with one address, Carol with
/// none.
async fn fill_release_before(database: &TestDatabase) -> OldRows {
    let db = db::connect(database.url(), 1)
        .await
        .expect("connect to the test database");
    Migrator::up(&db, Some(RELEASE_BEFORE_COUNTRY_CODES))
        .await
        .expect("the migrations of the release before");

    let then = Utc::now() - Duration::days(30);
    let ada = insert(&db, "users", user_row("ada", then).await).await;
    let bob = insert(&db, "users", user_row("bob", then).await).await;
    insert(&db, "users", user_row("carol", then).await).await;

    let mut narnia = None;
    for (name, country, _) in ADA_BOOK {
        let id = insert_address(&db, ada, name, country).await;
        if country == "Narnia" {
            narnia = Some(id);
        }
    }
    insert_address(&db, bob, "Bob's place", "united states").await;

    let mut orders = Vec::new();
    for (i, (country, _)) in ADA_ORDERS.iter().enumerate() {
        let placed = then + Duration::days(i64::try_from(i).expect("few"));
        orders.push(
            insert(
                &db,
                "orders",
                vec![
                    ("number", new_order_number().into()),
                    ("user_id", ada.into()),
                    ("status", "DELIVERED".into()),
                    ("total_cents", 1000i64.into()),
                    ("currency", "USD".into()),
                    ("ship_full_name", "Ada Lovelace".into()),
                    ("ship_line1", "1 Old Road".into()),
                    ("ship_line2", Value::String(None)),
                    ("ship_city", "Oldtown".into()),
                    ("ship_postal_code", "1234".into()),
                    ("ship_country", (*country).into()),
                    ("idempotency_key", Value::String(None)),
                    ("expires_at", (placed + Duration::minutes(15)).into()),
                    ("placed_at", placed.into()),
                    ("updated_at", placed.into()),
                ],
            )
            .await,
        );
    }

    db.close().await.expect("close the old connection");
    OldRows {
        narnia: narnia.expect("the Narnia address"),
        orders,
    }
}

async fn insert_address(db: &DatabaseConnection, user: i32, name: &str, country: &str) -> i32 {
    insert(
        db,
        "addresses",
        vec![
            ("user_id", user.into()),
            ("full_name", name.into()),
            ("line1", "1 Old Road".into()),
            ("line2", Value::String(None)),
            ("city", "Oldtown".into()),
            ("postal_code", "1234".into()),
            ("country", country.into()),
            ("created_at", Utc::now().into()),
        ],
    )
    .await
}

#[tokio::test]
async fn stored_countries_that_name_a_country_become_codes_and_the_rest_stay_as_typed() {
    let shop = Upgraded::start().await;

    let me = shop.me(&shop.ada).await;

    let book: Vec<(String, String)> = me["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .map(|a| {
            (
                a["fullName"].as_str().expect("name").to_owned(),
                a["country"].as_str().expect("country").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = ADA_BOOK
        .iter()
        .map(|(name, _, code)| ((*name).to_owned(), (*code).to_owned()))
        .collect();
    assert_eq!(book, expected);
    assert_eq!(shop.me(&shop.bob).await["addresses"][0]["country"], "US");
}

#[tokio::test]
async fn order_snapshots_get_codes_where_their_country_maps_and_keep_their_text_where_not() {
    let shop = Upgraded::start().await;

    for (id, (typed, expected)) in shop.orders.iter().zip(ADA_ORDERS) {
        let order = shop
            .app
            .gql_as(
                &shop.ada,
                "query($id: ID!) { order(id: $id) { shippingAddress { country isDefault } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            order.data()["order"]["shippingAddress"],
            json!({ "country": expected, "isDefault": false }),
            "{typed:?}"
        );
    }
}

#[tokio::test]
async fn every_address_book_gets_its_newest_address_as_its_one_default() {
    let shop = Upgraded::start().await;

    let ada = shop.me(&shop.ada).await;
    let bob = shop.me(&shop.bob).await;
    let carol = shop.me(&shop.carol).await;

    let (newest, _, code) = ADA_BOOK[ADA_BOOK.len() - 1];
    assert_eq!(
        ada["defaultAddress"],
        json!({ "fullName": newest, "country": code, "isDefault": true })
    );
    let flags: Vec<bool> = ada["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .map(|a| a["isDefault"] == true)
        .collect();
    assert_eq!(flags.iter().filter(|f| **f).count(), 1, "{ada:#}");
    assert_eq!(flags.last(), Some(&true));
    assert_eq!(bob["defaultAddress"]["fullName"], "Bob's place");
    assert_eq!(carol["addresses"], json!([]));
    assert_eq!(carol["defaultAddress"], json!(null));
}

#[tokio::test]
async fn a_saved_address_without_a_country_code_is_shipped_to_only_once_it_is_updated() {
    let shop = Upgraded::start().await;
    let admin = shop.app.admin("root").await;
    let product = shop
        .app
        .gql_as(
            &admin,
            "mutation { createProduct(input: { name: \"Lamp\", description: \"A lamp.\", price: \"30.00\", stock: 5 }) { id } }",
            json!({}),
        )
        .await
        .data()["createProduct"]["id"]
        .clone();
    shop.app
        .gql_as(
            &shop.ada,
            "mutation($p: ID!) { addToCart(productId: $p) { totalQuantity } }",
            json!({ "p": product }),
        )
        .await
        .data();
    let checkout = "mutation($input: CheckoutInput!) { checkout(input: $input) { status shippingAddress { fullName country } } }";
    let input = json!({ "input": { "shippingAddressId": shop.narnia, "paymentToken": VISA } });

    let refused = shop.app.gql_as(&shop.ada, checkout, input.clone()).await;
    let updated = shop
        .app
        .gql_as(
            &shop.ada,
            "mutation($id: ID!, $input: AddressInput!) { updateAddress(id: $id, input: $input) { country } }",
            json!({ "id": shop.narnia, "input": {
                "fullName": "Wardrobe", "line1": "1 Old Road", "city": "Oldtown",
                "postalCode": "1234", "country": "gb",
            }}),
        )
        .await;
    let shipped = shop.app.gql_as(&shop.ada, checkout, input).await;

    assert_eq!(refused.code(), "BAD_USER_INPUT");
    assert_eq!(refused.field(), "shippingAddressId");
    assert_eq!(updated.data()["updateAddress"]["country"], "GB");
    assert_eq!(
        shipped.data()["checkout"],
        json!({ "status": "PAID", "shippingAddress": { "fullName": "Wardrobe", "country": "GB" } })
    );
}
