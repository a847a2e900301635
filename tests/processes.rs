//! Several real `shop serve` processes on one database, as behind a load balancer: stock,
//! mail, live order updates, tokens and login throttling behave as in one process, because
//! all of it is decided in the database.
//!
//! With SHOP_TEST_POSTGRES_URL set, the processes share a fresh PostgreSQL database (the
//! deployment docs/deploy.md describes). Without it they share one SQLite file in WAL mode,
//! which SQLite supports across processes: write transactions begin IMMEDIATE and queue
//! on the file's lock, and each process reads order events from the outbox table. Nothing
//! here is PostgreSQL-only, so every test runs on both.

use std::collections::{HashMap, HashSet};

use entity::{
    order, order_item,
    order_status::OrderStatus,
    outbox_message::{self, DeliveryState},
    product,
};
use futures_util::future::join_all;
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
use serde_json::{Value, json};
use shop::{db, domain::GlobalId};

use crate::{
    notifications::eventually,
    subscriptions::{ORDER_UPDATED, Subscriber},
    support::{
        self, AUTH_FIELDS, Gql, PASSWORD, Session, TestDatabase,
        process::ShopProcess,
        session_from,
        smtp::{MAIL_TIMEOUT, SmtpServer},
    },
};

/// The payment token the test gateway charges.
pub const VISA: &str = "tok_visa";
const WRONG_PASSWORD: &str = "not the password";

/// A database shared by processes, migrated once before any of them starts (as an
/// operator runs `shop migrate` before starting several), and the test's own connection
/// to it for reading what was stored.
pub struct SharedDatabase {
    pub db: DatabaseConnection,
    database: TestDatabase,
}

impl SharedDatabase {
    pub async fn create() -> Self {
        let database = TestDatabase::create().await;
        let db = db::connect(database.url(), 4)
            .await
            .expect("connect to the test database");
        db::migrate(&db).await.expect("migrate the test database");
        Self { db, database }
    }

    pub fn url(&self) -> &str {
        self.database.url()
    }

    /// An admin, created as an operator would (`shop create-admin`).
    pub async fn create_admin(&self, username: &str) {
        support::create_admin(&self.db, username).await;
    }
}

/// The settings every test process gets: mail through `smtp`, looked for every 20 ms so
/// that the processes' workers compete for the same messages, and a modest pool each.
pub fn process_settings(smtp: &SmtpServer) -> Vec<(&'static str, String)> {
    vec![
        ("SHOP_SMTP_URL", smtp.url()),
        ("SHOP_PUBLIC_URL", "https://shop.example.test".into()),
        ("SHOP_MAIL_POLL_MS", "20".into()),
        ("SHOP_MAIL_RETRY_MS", "50".into()),
        ("SHOP_DB_MAX_CONNECTIONS", "8".into()),
    ]
}

/// Two `shop serve` processes on one database, with the same JWT secret, mailing to one
/// SMTP server, and an admin logged in.
struct Cluster {
    // Declared first, so dropped (killed) before the database goes.
    processes: [ShopProcess; 2],
    admin: Session,
    smtp: SmtpServer,
    shared: SharedDatabase,
}

impl Cluster {
    async fn start() -> Self {
        let smtp = SmtpServer::start().await;
        let shared = SharedDatabase::create().await;
        shared.create_admin("root").await;
        let settings = process_settings(&smtp);
        let (a, b) = tokio::join!(
            ShopProcess::start("process A", shared.url(), &settings),
            ShopProcess::start("process B", shared.url(), &settings),
        );
        let admin = session_from(&a.login("root", PASSWORD).await.data()["login"]);
        Self {
            processes: [a, b],
            admin,
            smtp,
            shared,
        }
    }

    /// The process the `i`th request goes to: alternately A and B, as a round-robin
    /// balancer would send them.
    fn process(&self, i: usize) -> &ShopProcess {
        &self.processes[i % 2]
    }

    fn db(&self) -> &DatabaseConnection {
        &self.shared.db
    }
}

pub fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
}

/// The database id inside a global ID.
pub fn db_id(global_id: &str) -> i32 {
    GlobalId::parse(global_id, "id").expect("a global ID").id
}

/// A product the admin creates through `process`; answers its global ID.
pub async fn stock_product(
    process: &ShopProcess,
    admin: &Session,
    name: &str,
    stock: i32,
) -> String {
    let response = process
        .gql_as(
            admin,
            "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
            json!({ "input": { "name": name, "description": "", "price": "12.50", "stock": stock } }),
        )
        .await;
    text(&response.data()["createProduct"]["id"]).to_owned()
}

pub const ADD_TO_CART: &str = "mutation($product: ID!, $quantity: Int!) { addToCart(productId: $product, quantity: $quantity) { totalQuantity } }";
pub const CHECKOUT: &str =
    "mutation($input: CheckoutInput!) { checkout(input: $input) { id number status } }";

/// The variables of a checkout with `token` to the test address.
pub fn checkout_input(token: &str) -> Value {
    json!({ "input": {
        "shippingAddress": {
            "fullName": "Ada Lovelace",
            "line1": "12 St James's Square",
            "city": "London",
            "postalCode": "SW1Y 4JH",
            "country": "GB",
        },
        "paymentToken": token,
    }})
}

async fn add_to_cart(process: &ShopProcess, who: &Session, product: &str, quantity: i32) {
    process
        .gql_as(
            who,
            ADD_TO_CART,
            json!({ "product": product, "quantity": quantity }),
        )
        .await
        .data();
}

async fn checkout(process: &ShopProcess, who: &Session) -> Gql {
    process.gql_as(who, CHECKOUT, checkout_input(VISA)).await
}

/// Buys one `product` through `process`: the PAID order's (global ID, number).
async fn buy(process: &ShopProcess, who: &Session, product: &str) -> (String, String) {
    add_to_cart(process, who, product, 1).await;
    let response = checkout(process, who).await;
    let order = &response.data()["checkout"];
    assert_eq!(order["status"], "PAID");
    (
        text(&order["id"]).to_owned(),
        text(&order["number"]).to_owned(),
    )
}

async fn set_status(process: &ShopProcess, admin: &Session, order: &str, status: &str) -> Gql {
    process
        .gql_as(
            admin,
            "mutation($id: ID!, $status: OrderStatus!) { updateOrderStatus(id: $id, status: $status) { id status } }",
            json!({ "id": order, "status": status }),
        )
        .await
}

/// Every outbox row, oldest first.
pub async fn outbox_rows(db: &DatabaseConnection) -> Vec<outbox_message::Model> {
    outbox_message::Entity::find()
        .order_by_asc(outbox_message::Column::Id)
        .all(db)
        .await
        .expect("read the outbox")
}

#[tokio::test]
async fn checkouts_spread_over_two_processes_never_oversell() {
    let cluster = &Cluster::start().await;
    let lamp = stock_product(cluster.process(0), &cluster.admin, "Last lamps", 10).await;
    let buyers = join_all(
        (0..40).map(|i| async move { cluster.process(i).register(&format!("buyer{i}")).await }),
    )
    .await;
    join_all(
        buyers
            .iter()
            .enumerate()
            .map(|(i, buyer)| add_to_cart(cluster.process(i), buyer, &lamp, 1)),
    )
    .await;

    // All at once, each through the other process than the one that filled the cart.
    let responses = join_all(
        buyers
            .iter()
            .enumerate()
            .map(|(i, buyer)| checkout(cluster.process(i + 1), buyer)),
    )
    .await;

    let mut paid = Vec::new();
    let mut out_of_stock = 0;
    for response in &responses {
        if response.body.get("errors").is_none() {
            let order = &response.data()["checkout"];
            assert_eq!(order["status"], "PAID", "{:#}", response.body);
            paid.push(db_id(text(&order["id"])));
        } else {
            assert_eq!(response.code(), "OUT_OF_STOCK", "{:#}", response.body);
            out_of_stock += 1;
        }
    }
    assert_eq!(paid.len(), 10);
    assert_eq!(out_of_stock, 30);
    let stock = product::Entity::find_by_id(db_id(&lamp))
        .one(cluster.db())
        .await
        .expect("read the product")
        .expect("the product exists")
        .stock;
    assert_eq!(stock, 0);
    let orders = order::Entity::find()
        .all(cluster.db())
        .await
        .expect("read orders");
    assert_eq!(orders.len(), 10);
    assert!(orders.iter().all(|order| order.status == OrderStatus::Paid));
    assert_eq!(
        orders.iter().map(|o| o.id).collect::<HashSet<_>>(),
        paid.into_iter().collect::<HashSet<_>>()
    );
    assert_eq!(
        orders
            .iter()
            .map(|o| o.user_id)
            .collect::<HashSet<_>>()
            .len(),
        10,
        "one order per buyer"
    );
    let items = order_item::Entity::find()
        .all(cluster.db())
        .await
        .expect("read order lines");
    assert_eq!(items.len(), 10);
    assert_eq!(items.iter().map(|item| item.quantity).sum::<i32>(), 10);
}

#[tokio::test]
async fn each_message_is_delivered_exactly_once_though_both_processes_deliver() {
    let cluster = &Cluster::start().await;
    let mug = stock_product(cluster.process(0), &cluster.admin, "Mug", 100).await;
    // 30 new customers, then 10 orders and 5 shipments, each made through either process
    // while both workers poll the outbox.
    let customers = join_all(
        (0..30).map(|i| async move { cluster.process(i).register(&format!("customer{i}")).await }),
    )
    .await;
    let orders = join_all(
        customers
            .iter()
            .take(10)
            .enumerate()
            .map(|(i, who)| buy(cluster.process(i), who, &mug)),
    )
    .await;
    for (i, (id, _)) in orders.iter().take(5).enumerate() {
        set_status(cluster.process(i + 1), &cluster.admin, id, "SHIPPED")
            .await
            .data();
    }

    let rows = eventually("every message is sent", async || {
        let rows = outbox_rows(cluster.db()).await;
        rows.iter()
            .all(|row| row.status == DeliveryState::Sent)
            .then_some(rows)
    })
    .await;
    let mail = cluster.smtp.wait_for(rows.len()).await;

    // 31 welcome messages (the admin's included), 10 confirmations, 5 shipping notices.
    assert_eq!(rows.len(), 46);
    // Claimed once each: a second claim, by either process, would have counted a second
    // attempt; with every message accepted at the first, one attempt is all there was.
    for row in &rows {
        assert_eq!(row.attempts, 1, "message {} was claimed again", row.id);
    }
    // And received once each, under the Message-ID of its row.
    let mut received: HashMap<&str, usize> = HashMap::new();
    for message in &mail {
        *received.entry(message.message_id()).or_default() += 1;
    }
    assert_eq!(mail.len(), rows.len(), "as many messages as outbox rows");
    for row in &rows {
        assert_eq!(
            received.get(row.message_id.as_str()),
            Some(&1),
            "message {} ({:?}) received once",
            row.id,
            row.kind
        );
    }
    // One confirmation per order, one shipping notice per shipped order.
    for (i, (_, number)) in orders.iter().enumerate() {
        let about = |subject: &str| {
            mail.iter()
                .filter(|m| m.subject() == format!("Order {number} {subject}"))
                .count()
        };
        assert_eq!(about("confirmed"), 1, "{number}");
        assert_eq!(about("has shipped"), usize::from(i < 5), "{number}");
    }
}

#[tokio::test]
async fn a_status_change_made_through_one_process_reaches_a_subscriber_on_the_other() {
    let cluster = Cluster::start().await;
    let [a, b] = &cluster.processes;
    let mug = stock_product(a, &cluster.admin, "Mug", 100).await;
    let alice = a.register("alice").await;
    let mut subscriber = Subscriber::connect_to(b.addr, &alice).await;
    subscriber.subscribe("1", ORDER_UPDATED, json!({})).await;

    // A subscription listens only once its resolver has run, which the protocol does not
    // acknowledge, and process B's count of listeners is out of the test's reach. So
    // Alice buys through A until B tells her of a purchase: from then on it listens.
    let mut bought = Vec::new();
    let deadline = tokio::time::Instant::now() + MAIL_TIMEOUT;
    let first_heard = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "process B never told the subscriber of a purchase made through A"
        );
        bought.push(buy(a, &alice, &mug).await);
        let wait = std::time::Duration::from_millis(500);
        if let Some(update) = subscriber.next_update_within(wait).await {
            break update;
        }
    };
    let numbers: Vec<&str> = bought.iter().map(|(_, number)| number.as_str()).collect();
    let (of, (number, status)) = &first_heard;
    assert_eq!((of.as_str(), status.as_str()), ("1", "PAID"));
    assert!(numbers.contains(&number.as_str()), "{number}");

    let (shipped_id, shipped_number) = &bought[0];
    set_status(a, &cluster.admin, shipped_id, "SHIPPED")
        .await
        .data();

    // Purchases made before the subscription listened may still be announced; anything
    // else before the shipment would be wrong.
    let shipped = loop {
        let (of, (number, status)) = subscriber.next_update_of_any().await;
        assert_eq!(of, "1");
        if status == "PAID" {
            assert!(numbers.contains(&number.as_str()), "{number}");
            continue;
        }
        break (number, status);
    };
    assert_eq!(shipped, (shipped_number.clone(), "SHIPPED".to_owned()));
}

#[tokio::test]
async fn a_session_issued_by_one_process_is_honoured_by_the_other() {
    let cluster = Cluster::start().await;
    let [a, b] = &cluster.processes;
    let alice = a.register("alice").await;
    let me = "{ me { id username } }";
    let refresh = format!(
        "mutation($token: String!) {{ refreshToken(refreshToken: $token) {{ {AUTH_FIELDS} }} }}"
    );

    // A's access token works on B.
    let on_b = b.gql_as(&alice, me, json!({})).await;
    // A's refresh token is exchanged on B, and B's new access token works on A.
    let renewed = b
        .gql(&refresh, json!({ "token": alice.refresh_token }))
        .await;
    let renewed = session_from(&renewed.data()["refreshToken"]);
    let on_a = a.gql_as(&renewed, me, json!({})).await;
    // The refresh token spent on B is spent on A too: presented again at once, A hands out
    // the same successor B did (both derive it with the shared secret), not a new one.
    let again = a
        .gql(&refresh, json!({ "token": alice.refresh_token }))
        .await;

    assert_eq!(on_b.data()["me"]["id"], alice.id.as_str());
    assert_eq!(on_b.data()["me"]["username"], "alice");
    assert_eq!(on_a.data()["me"]["id"], alice.id.as_str());
    assert_eq!(
        session_from(&again.data()["refreshToken"]).refresh_token,
        renewed.refresh_token
    );
}

#[tokio::test]
async fn a_process_with_another_jwt_secret_refuses_a_just_rotated_token_without_ending_the_session()
{
    // As after a restart with a random secret: the successor cannot be recomputed, so the
    // second presentation is refused, but it is no evidence of theft.
    let smtp = SmtpServer::start().await;
    let shared = SharedDatabase::create().await;
    let settings = process_settings(&smtp);
    let mut other_secret = settings.clone();
    other_secret.push((
        "SHOP_JWT_SECRET",
        "another-secret-for-another-process-of-more-than-32-bytes".into(),
    ));
    let (a, b) = tokio::join!(
        ShopProcess::start("process A", shared.url(), &settings),
        ShopProcess::start("process B", shared.url(), &other_secret),
    );
    let alice = a.register("alice").await;
    let refresh = format!(
        "mutation($token: String!) {{ refreshToken(refreshToken: $token) {{ {AUTH_FIELDS} }} }}"
    );
    let renewed = a
        .gql(&refresh, json!({ "token": alice.refresh_token }))
        .await;
    let renewed = session_from(&renewed.data()["refreshToken"]);

    let on_b = b
        .gql(&refresh, json!({ "token": alice.refresh_token }))
        .await;

    assert_eq!(on_b.code(), "UNAUTHENTICATED");
    let next = a
        .gql(&refresh, json!({ "token": renewed.refresh_token }))
        .await;
    let next = session_from(&next.data()["refreshToken"]);
    let me = a.gql_as(&next, "{ me { id } }", json!({})).await;
    assert_eq!(me.data()["me"]["id"], alice.id.as_str());
}

#[tokio::test]
async fn failed_logins_spread_over_both_processes_count_together() {
    let cluster = &Cluster::start().await;
    let [a, b] = &cluster.processes;
    a.register("carol").await;
    a.register("dave").await;

    // Five failures, alternating between the processes, are all the account gets...
    for attempt in 0..5 {
        let response = cluster
            .process(attempt)
            .login("carol", WRONG_PASSWORD)
            .await;
        assert_eq!(
            response.code(),
            "UNAUTHENTICATED",
            "attempt {}",
            attempt + 1
        );
    }
    // ...on both of them, even with the right password.
    for process in [a, b] {
        let wrong = process.login("carol", WRONG_PASSWORD).await;
        let right = process.login("carol", PASSWORD).await;
        assert_eq!(
            wrong.code(),
            "RATE_LIMITED",
            "{}: {:#}",
            process.name,
            wrong.body
        );
        assert_eq!(
            right.code(),
            "RATE_LIMITED",
            "{}: {:#}",
            process.name,
            right.body
        );
    }

    // Twelve guesses at once, six through each process: at most five are even checked.
    let burst = join_all(
        (0..12).map(|i| async move { cluster.process(i).login("dave", WRONG_PASSWORD).await }),
    )
    .await;
    let codes: Vec<&str> = burst.iter().map(Gql::code).collect();
    let checked = codes.iter().filter(|&&c| c == "UNAUTHENTICATED").count();
    let refused = codes.iter().filter(|&&c| c == "RATE_LIMITED").count();
    assert_eq!(checked + refused, 12, "{codes:?}");
    assert!(checked <= 5, "{checked} guesses were checked: {codes:?}");
}

#[tokio::test]
async fn processes_started_at_once_on_a_fresh_database_all_start() {
    // No `shop migrate` first: every process migrates as it starts, as a fresh deployment
    // of several replicas does. Without a lock around the migrations, all but one of
    // them failed on `CREATE TABLE` of a table another had just created.
    let database = TestDatabase::create().await;
    let (a, b, c) = tokio::join!(
        ShopProcess::start("process A", database.url(), &[]),
        ShopProcess::start("process B", database.url(), &[]),
        ShopProcess::start("process C", database.url(), &[]),
    );

    let alice = b.register("alice").await;
    let me = c.gql_as(&alice, "{ me { username } }", json!({})).await;
    let login = a.login("alice", PASSWORD).await;

    assert_eq!(me.data()["me"]["username"], "alice");
    assert_eq!(login.data()["login"]["user"]["id"], alice.id.as_str());
}

/// The products a search by relevance finds through `process` (the storefront's search
/// box: each process answers it from its own index), sorted by name, after checking
/// that `totalCount` counts them.
async fn search_box(process: &ShopProcess, words: &str) -> Vec<String> {
    let query = "query($text: String!) { products(first: 50, filter: { search: $text }, \
        sortKey: RELEVANCE) { totalCount nodes { name } } }";
    let response = process.gql(query, json!({ "text": words })).await;
    let products = &response.data()["products"];
    let mut names: Vec<String> = products["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| text(&node["name"]).to_owned())
        .collect();
    assert_eq!(products["totalCount"], names.len(), "{words:?}");
    names.sort();
    names
}

#[tokio::test]
async fn a_catalog_change_made_through_one_process_is_found_by_a_search_on_the_other_at_once() {
    let cluster = Cluster::start().await;
    let [a, b] = &cluster.processes;
    let admin = &cluster.admin;
    let update = "mutation($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id } }";
    let bowl = stock_product(a, admin, "Walnut bowl", 3).await;
    stock_product(a, admin, "Walnut tray", 3).await;
    assert_eq!(
        search_box(b, "walnut").await,
        ["Walnut bowl", "Walnut tray"]
    );

    let renamed = json!({ "id": bowl, "input": { "name": "Oak bowl" } });
    b.gql_as(admin, update, renamed).await.data();
    assert_eq!(search_box(a, "walnut").await, ["Walnut tray"]);
    assert_eq!(search_box(a, "oak").await, ["Oak bowl"]);

    let archived = json!({ "id": bowl, "input": { "archived": true } });
    a.gql_as(admin, update, archived).await.data();
    assert_eq!(search_box(b, "bowl").await, Vec::<String>::new());

    // A process started later builds its index from the catalog as it is.
    let settings = process_settings(&cluster.smtp);
    let c = ShopProcess::start("process C", cluster.shared.url(), &settings).await;
    assert_eq!(search_box(&c, "walnut").await, ["Walnut tray"]);
    assert_eq!(search_box(&c, "bowl").await, Vec::<String>::new());
}
