//! Upgrading a shop that has data in it (issue 13): a database built by the previous
//! release's migrations and filled the way that release stored a customer, products, a
//! cart with a saved item and a paid order, then opened by this release's server, which
//! migrates it as it starts. Every product must come out with one default variant, and
//! the cart, its saved items and the order must point at it.
//!
//! The old rows are written with raw SQL, not with the entities: the entities describe
//! this release's schema, and the point is to start from the one before it.

use chrono::{DateTime, Duration, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use serde_json::{Value as Json, json};
use shop::{
    auth::PasswordHasher,
    db,
    domain::{GlobalId, NodeKind, Password, Username, new_order_number},
};

use crate::{
    store::{VISA, address, text},
    support::{PASSWORD, Session, TestApp, TestDatabase, session_from, spawn_app_on},
};

/// How many migrations the previous release shipped, the last of them
/// `m20261202_093000_record_refresh_token_successors`. The variants migration is the
/// first one after them. Fixed on purpose: this file tests the upgrade from that release,
/// whatever migrations later releases add.
const PREVIOUS_RELEASE_MIGRATIONS: u32 = 8;

/// The customer of the old data (password [`PASSWORD`]).
const CUSTOMER: &str = "ada";

/// A product with a sku: 2 in the old order, 3 in the cart.
const TEE: OldProduct = OldProduct {
    name: "Linen tee",
    slug: "linen-tee",
    sku: Some("TEE-LINEN-01"),
    price_cents: 2450,
    price: "24.50",
    // What was left after the old order took its 2.
    stock: 7,
};

/// A product without a sku: 1 in the old order, 2 saved for later.
const MUG: OldProduct = OldProduct {
    name: "Stoneware mug",
    slug: "stoneware-mug",
    sku: None,
    price_cents: 1200,
    price: "12.00",
    // What was left after the old order took its 1.
    stock: 3,
};

/// Units of each product in the old order, and its total (2 x 24.50 + 1 x 12.00).
const ORDER_TEES: i32 = 2;
const ORDER_MUGS: i32 = 1;
const ORDER_TOTAL: &str = "61.00";

/// Units of the tee in the cart, and of the mug saved for later.
const CART_TEES: i32 = 3;
const SAVED_MUGS: i32 = 2;

/// What a product and its variants look like to anyone.
const PRODUCT_FIELDS: &str = "id name sku price { amount } stock inStock imageUrls \
     options { name values } \
     variants { id title sku price { amount } stock inStock selectedOptions { name value } }";

/// What a cart line looks like to its customer.
const LINE_FIELDS: &str = "product { id } variant { id title } quantity lineTotal { amount }";

/// What an order looks like to its customer and to an admin.
const ORDER_FIELDS: &str = "id number status total { amount } \
     items { product { id } variant { id } productName variantTitle sku \
     unitPrice { amount } quantity lineTotal { amount } }";

struct OldProduct {
    name: &'static str,
    slug: &'static str,
    sku: Option<&'static str>,
    price_cents: i64,
    /// The price as the API writes it.
    price: &'static str,
    stock: i32,
}

/// A shop of the previous release, upgraded by starting this release's server on it.
struct Upgraded {
    app: TestApp,
    customer: Session,
    tee: String,
    mug: String,
    /// The customer's PAID order.
    order: String,
}

impl Upgraded {
    /// The previous release's database with its data, and this release's server on it.
    async fn start() -> Self {
        let database = TestDatabase::create().await;
        let old = fill_previous_release(&database).await;
        let app = spawn_app_on(database, |_| {}).await;
        let login = app.login(CUSTOMER, PASSWORD).await;
        let customer = session_from(&login.data()["login"]);
        Self {
            app,
            customer,
            tee: GlobalId::new(NodeKind::Product, old.tee).to_string(),
            mug: GlobalId::new(NodeKind::Product, old.mug).to_string(),
            order: GlobalId::new(NodeKind::Order, old.order).to_string(),
        }
    }

    /// `product(id:)`, as the customer sees it.
    async fn product(&self, id: &str) -> Json {
        self.app
            .gql_as(
                &self.customer,
                &format!("query($id: ID!) {{ product(id: $id) {{ {PRODUCT_FIELDS} }} }}"),
                json!({ "id": id }),
            )
            .await
            .data()["product"]
            .clone()
    }

    /// The one variant of a product, after asserting it has exactly one.
    async fn default_variant(&self, product: &str) -> Json {
        let product = self.product(product).await;
        let variants = product["variants"]
            .as_array()
            .unwrap_or_else(|| panic!("no variants in {product:#}"));
        assert_eq!(variants.len(), 1, "one variant: {product:#}");
        variants[0].clone()
    }

    /// The customer's cart.
    async fn cart(&self) -> Json {
        self.app
            .gql_as(
                &self.customer,
                &format!(
                    "{{ cart {{ items {{ {LINE_FIELDS} }} savedItems {{ {LINE_FIELDS} }} \
                     totalQuantity subtotal {{ amount }} }} }}"
                ),
                json!({}),
            )
            .await
            .data()["cart"]
            .clone()
    }

    /// `order(id:)` as `who`.
    async fn order_as(&self, who: &Session, id: &str) -> Json {
        self.app
            .gql_as(
                who,
                &format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"),
                json!({ "id": id }),
            )
            .await
            .data()["order"]
            .clone()
    }
}

/// The ids of the old rows a test looks at.
struct OldRows {
    tee: i32,
    mug: i32,
    order: i32,
}

/// Builds `database` with the previous release's migrations and writes what a customer of
/// that release left in it: two products, a PAID order of both (with its succeeded
/// charge), and a cart holding one line to buy and one saved for later. Stocks are what
/// was left after the order took its units.
async fn fill_previous_release(database: &TestDatabase) -> OldRows {
    let db = db::connect(database.url(), 1)
        .await
        .expect("connect to the test database");
    Migrator::up(&db, Some(PREVIOUS_RELEASE_MIGRATIONS))
        .await
        .expect("the previous release's migrations");

    let bought_at = Utc::now() - Duration::days(2);
    let added_at = Utc::now() - Duration::days(1);
    let customer = insert(&db, "users", customer_row(bought_at).await).await;
    let tee = insert(&db, "products", product_row(&TEE, bought_at)).await;
    let mug = insert(&db, "products", product_row(&MUG, bought_at)).await;

    let total_cents =
        i64::from(ORDER_TEES) * TEE.price_cents + i64::from(ORDER_MUGS) * MUG.price_cents;
    let order = insert(
        &db,
        "orders",
        vec![
            ("number", new_order_number().into()),
            ("user_id", customer.into()),
            ("status", "PAID".into()),
            ("total_cents", total_cents.into()),
            ("currency", "USD".into()),
            ("ship_full_name", "Ada Lovelace".into()),
            ("ship_line1", "12 St James's Square".into()),
            ("ship_line2", Value::String(None)),
            ("ship_city", "London".into()),
            ("ship_postal_code", "SW1Y 4JH".into()),
            ("ship_country", "GB".into()),
            ("idempotency_key", "checkout-before-the-upgrade".into()),
            ("expires_at", (bought_at + Duration::minutes(15)).into()),
            ("placed_at", bought_at.into()),
            ("updated_at", bought_at.into()),
        ],
    )
    .await;
    for (product, old, quantity) in [(tee, &TEE, ORDER_TEES), (mug, &MUG, ORDER_MUGS)] {
        insert(
            &db,
            "order_items",
            vec![
                ("order_id", order.into()),
                ("product_id", product.into()),
                ("product_name", old.name.into()),
                ("unit_price_cents", old.price_cents.into()),
                ("quantity", quantity.into()),
                (
                    "line_total_cents",
                    (i64::from(quantity) * old.price_cents).into(),
                ),
            ],
        )
        .await;
    }
    insert(
        &db,
        "payments",
        vec![
            ("order_id", order.into()),
            ("kind", "charge".into()),
            ("gateway", "test".into()),
            ("reference", "test_ch_00000000000000a1".into()),
            ("amount_cents", total_cents.into()),
            ("status", "succeeded".into()),
            ("created_at", bought_at.into()),
            ("updated_at", bought_at.into()),
        ],
    )
    .await;

    // Paying emptied the cart of what the order bought; these came after.
    let cart = insert(
        &db,
        "carts",
        vec![
            ("user_id", customer.into()),
            ("checkout_order_id", Value::Int(None)),
            ("created_at", bought_at.into()),
            ("updated_at", added_at.into()),
        ],
    )
    .await;
    for (product, quantity, saved_for_later) in [(tee, CART_TEES, false), (mug, SAVED_MUGS, true)] {
        insert(
            &db,
            "cart_items",
            vec![
                ("cart_id", cart.into()),
                ("product_id", product.into()),
                ("quantity", quantity.into()),
                ("saved_for_later", saved_for_later.into()),
                ("created_at", added_at.into()),
                ("updated_at", added_at.into()),
            ],
        )
        .await;
    }

    db.close()
        .await
        .expect("close the old release's connection");
    OldRows { tee, mug, order }
}

/// The customer's row, with a password hash made by the shop's own hasher, so the
/// customer can log in after the upgrade.
async fn customer_row(at: DateTime<Utc>) -> Vec<(&'static str, Value)> {
    let username = Username::parse(CUSTOMER, "username").expect("a valid username");
    let password = Password::parse(PASSWORD, &username, "password").expect("a valid password");
    let hash = PasswordHasher::new()
        .expect("a hasher")
        .hash(&password)
        .await
        .expect("a hash");
    let email = format!("{CUSTOMER}@example.com");
    vec![
        ("username", CUSTOMER.into()),
        ("username_key", CUSTOMER.into()),
        ("email", email.clone().into()),
        ("email_key", email.into()),
        ("password_hash", hash.into()),
        ("is_admin", false.into()),
        ("created_at", at.into()),
        ("updated_at", at.into()),
    ]
}

/// A product's row: no category, one image, not archived.
fn product_row(product: &OldProduct, at: DateTime<Utc>) -> Vec<(&'static str, Value)> {
    let image = format!("https://img.example.com/{}.jpg", product.slug);
    vec![
        ("name", product.name.into()),
        ("slug", product.slug.into()),
        (
            "description",
            format!("{}, sold before variants", product.name).into(),
        ),
        ("sku", product.sku.map(str::to_owned).into()),
        ("price_cents", product.price_cents.into()),
        ("stock", product.stock.into()),
        ("image_urls", json!([image]).to_string().into()),
        ("archived", false.into()),
        ("created_at", at.into()),
        ("updated_at", at.into()),
    ]
}

/// Inserts one row with raw SQL and answers its id (from RETURNING, which both databases
/// have: explicit ids would leave PostgreSQL's sequences behind the rows).
pub async fn insert(db: &DatabaseConnection, table: &str, row: Vec<(&str, Value)>) -> i32 {
    let backend = db.get_database_backend();
    let (columns, values): (Vec<&str>, Vec<Value>) = row.into_iter().unzip();
    let placeholders: Vec<String> = (1..=columns.len())
        .map(|n| match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({}) RETURNING id",
        columns.join(", "),
        placeholders.join(", ")
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .unwrap_or_else(|err| panic!("insert into {table}: {err}"))
        .unwrap_or_else(|| panic!("insert into {table} returned no row"));
    row.try_get("", "id")
        .unwrap_or_else(|err| panic!("the id of the row in {table}: {err}"))
}

/// Asserts that `variant` is the default variant an old product becomes.
fn assert_default_variant_of(variant: &Json, old: &OldProduct, stock: i32) {
    assert_eq!(variant["title"], "Default", "{variant:#}");
    assert_eq!(variant["sku"], json!(old.sku), "{variant:#}");
    assert_eq!(variant["price"]["amount"], old.price, "{variant:#}");
    assert_eq!(variant["stock"], stock, "{variant:#}");
    assert_eq!(variant["inStock"], stock > 0, "{variant:#}");
    assert_eq!(variant["selectedOptions"], json!([]), "{variant:#}");
}

#[tokio::test]
async fn each_product_of_the_previous_release_becomes_one_default_variant_with_its_price_stock_and_sku()
 {
    let shop = Upgraded::start().await;

    for (id, old) in [(&shop.tee, &TEE), (&shop.mug, &MUG)] {
        let product = shop.product(id).await;
        assert_eq!(product["name"], old.name);
        assert_eq!(product["sku"], json!(old.sku));
        assert_eq!(product["price"]["amount"], old.price);
        assert_eq!(product["stock"], old.stock);
        assert_eq!(product["inStock"], true);
        assert_eq!(
            product["imageUrls"],
            json!([format!("https://img.example.com/{}.jpg", old.slug)]),
            "images stay on the product"
        );
        assert_eq!(product["options"], json!([]), "{product:#}");
        let variants = product["variants"].as_array().expect("variants");
        assert_eq!(variants.len(), 1, "{product:#}");
        assert_default_variant_of(&variants[0], old, old.stock);
    }
}

#[tokio::test]
async fn cart_and_saved_lines_of_the_previous_release_hold_the_default_variant_of_their_product() {
    let shop = Upgraded::start().await;
    let tee_variant = shop.default_variant(&shop.tee).await;
    let mug_variant = shop.default_variant(&shop.mug).await;

    let cart = shop.cart().await;

    assert_eq!(
        cart["items"],
        json!([{
            "product": { "id": shop.tee },
            "variant": { "id": tee_variant["id"], "title": "Default" },
            "quantity": CART_TEES,
            "lineTotal": { "amount": "73.50" },
        }])
    );
    assert_eq!(
        cart["savedItems"],
        json!([{
            "product": { "id": shop.mug },
            "variant": { "id": mug_variant["id"], "title": "Default" },
            "quantity": SAVED_MUGS,
            "lineTotal": { "amount": "24.00" },
        }])
    );
    assert_eq!(cart["totalQuantity"], CART_TEES);
    assert_eq!(cart["subtotal"]["amount"], "73.50");
}

#[tokio::test]
async fn order_lines_of_the_previous_release_point_at_the_default_variant_with_its_title_and_sku() {
    let shop = Upgraded::start().await;
    let admin = shop.app.admin("root").await;
    let tee_variant = shop.default_variant(&shop.tee).await;
    let mug_variant = shop.default_variant(&shop.mug).await;

    let own = shop.order_as(&shop.customer, &shop.order).await;
    let history = shop
        .app
        .gql_as(
            &shop.customer,
            &format!("{{ orders(first: 10) {{ nodes {{ {ORDER_FIELDS} }} }} }}"),
            json!({}),
        )
        .await;
    let as_admin = shop.order_as(&admin, &shop.order).await;
    let all = shop
        .app
        .gql_as(
            &admin,
            &format!("{{ allOrders(first: 10, status: PAID) {{ nodes {{ {ORDER_FIELDS} }} }} }}"),
            json!({}),
        )
        .await;

    assert_eq!(own["status"], "PAID");
    assert_eq!(own["total"]["amount"], ORDER_TOTAL);
    assert_eq!(
        own["items"],
        json!([
            {
                "product": { "id": shop.tee },
                "variant": { "id": tee_variant["id"] },
                "productName": TEE.name,
                "variantTitle": "Default",
                "sku": TEE.sku,
                "unitPrice": { "amount": TEE.price },
                "quantity": ORDER_TEES,
                "lineTotal": { "amount": "49.00" },
            },
            {
                "product": { "id": shop.mug },
                "variant": { "id": mug_variant["id"] },
                "productName": MUG.name,
                "variantTitle": "Default",
                "sku": null,
                "unitPrice": { "amount": MUG.price },
                "quantity": ORDER_MUGS,
                "lineTotal": { "amount": "12.00" },
            },
        ])
    );
    assert_eq!(history.data()["orders"]["nodes"], json!([own.clone()]));
    assert_eq!(
        as_admin, own,
        "the admin sees the order as its customer does"
    );
    assert_eq!(all.data()["allOrders"]["nodes"], json!([own]));
}

#[tokio::test]
async fn a_cart_of_the_previous_release_checks_out_taking_stock_from_the_default_variant() {
    let shop = Upgraded::start().await;
    let tee_variant = shop.default_variant(&shop.tee).await;
    let mug_variant = shop.default_variant(&shop.mug).await;

    let checkout = shop
        .app
        .gql_as(
            &shop.customer,
            &format!(
                "mutation($input: CheckoutInput!) {{ checkout(input: $input) {{ {ORDER_FIELDS} }} }}"
            ),
            json!({ "input": { "shippingAddress": address(), "paymentToken": VISA } }),
        )
        .await;

    let order = &checkout.data()["checkout"];
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["total"]["amount"], "73.50");
    assert_eq!(
        order["items"],
        json!([{
            "product": { "id": shop.tee },
            "variant": { "id": tee_variant["id"] },
            "productName": TEE.name,
            "variantTitle": "Default",
            "sku": TEE.sku,
            "unitPrice": { "amount": TEE.price },
            "quantity": CART_TEES,
            "lineTotal": { "amount": "73.50" },
        }])
    );
    let left = TEE.stock - CART_TEES;
    let tee = shop.product(&shop.tee).await;
    assert_eq!(tee["stock"], left);
    assert_default_variant_of(&tee["variants"][0], &TEE, left);
    let mug = shop.product(&shop.mug).await;
    assert_eq!(mug["stock"], MUG.stock, "the saved mug was not bought");
    assert_default_variant_of(&mug["variants"][0], &MUG, MUG.stock);
    let cart = shop.cart().await;
    assert_eq!(cart["items"], json!([]));
    assert_eq!(
        cart["savedItems"],
        json!([{
            "product": { "id": shop.mug },
            "variant": { "id": mug_variant["id"], "title": "Default" },
            "quantity": SAVED_MUGS,
            "lineTotal": { "amount": "24.00" },
        }])
    );
}

#[tokio::test]
async fn cancelling_a_paid_order_of_the_previous_release_restocks_the_default_variants() {
    let shop = Upgraded::start().await;
    let admin = shop.app.admin("root").await;

    let cancelled = shop
        .app
        .gql_as(
            &admin,
            &format!("mutation($id: ID!) {{ cancelOrder(id: $id) {{ {ORDER_FIELDS} }} }}"),
            json!({ "id": shop.order }),
        )
        .await;

    assert_eq!(cancelled.data()["cancelOrder"]["status"], "CANCELLED");
    for (id, old, returned) in [(&shop.tee, &TEE, ORDER_TEES), (&shop.mug, &MUG, ORDER_MUGS)] {
        let product = shop.product(id).await;
        let restocked = old.stock + returned;
        assert_eq!(product["stock"], restocked, "{}", text(&product["name"]));
        let variants = product["variants"].as_array().expect("variants");
        assert_eq!(variants.len(), 1, "{product:#}");
        assert_default_variant_of(&variants[0], old, restocked);
    }
    let own = shop.order_as(&shop.customer, &shop.order).await;
    assert_eq!(own["status"], "CANCELLED");
}
