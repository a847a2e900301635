//! Mail: every message is written to the outbox in the transaction of the change it
//! announces, delivered through lettre's real SMTP transport to a listener the test runs,
//! retried under one Message-ID, given up on after the maximum attempts; and each kind of
//! message says what the customer needs to know.

use std::time::Duration;

use chrono::Utc;
use entity::outbox_message::{self, DeliveryState, MessageKind};
use futures_util::future::join_all;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};
use shop::{
    db,
    domain::{OrderStatus, PostalAddress},
    service::{
        checkout, orders,
        outbox::{self, Notice},
    },
};

use crate::{
    store::{DECLINED, VISA, address, db_id},
    support::{
        Gql, Session, TestApp,
        smtp::{MAIL_TIMEOUT, Mail, SmtpServer, unescape_html},
        spawn_app_with,
    },
};

/// Where links in messages must point: not the server's own address.
pub const PUBLIC_URL: &str = "https://shop.example.test";

/// A server whose mail goes to `smtp`. It looks at its outbox every 50 ms and retries a
/// refused message after 50 ms (then 100, 200, ...), so that tests run quickly.
pub async fn spawn_app_mailing_to(smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    spawn_app_with(|config| {
        config.smtp_url = Some(url);
        config.public_url = Some(PUBLIC_URL.into());
        config.mail_poll_ms = 50;
        config.mail_retry_ms = 50;
    })
    .await
}

/// Polls `check` until it answers something, failing the test after a generous deadline.
pub async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + MAIL_TIMEOUT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A product the admin stocks; answers its global ID.
pub async fn stock_product(
    app: &TestApp,
    admin: &Session,
    name: &str,
    price: &str,
    stock: i32,
) -> String {
    let response = app
        .gql_as(
            admin,
            "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
            json!({ "input": { "name": name, "description": "", "price": price, "stock": stock } }),
        )
        .await;
    text(&response.data()["createProduct"]["id"])
}

pub async fn add_to_cart(app: &TestApp, who: &Session, product: &str, quantity: i32) {
    app.gql_as(
        who,
        "mutation($product: ID!, $quantity: Int!) { addToCart(productId: $product, quantity: $quantity) { totalQuantity } }",
        json!({ "product": product, "quantity": quantity }),
    )
    .await
    .data();
}

const ORDER_FIELDS: &str = "id number status total { amount currencyCode }";

/// Checks out the cart of `who` with `token` (and `key` as idempotency key, if any).
pub async fn checkout_with(app: &TestApp, who: &Session, token: &str, key: Option<&str>) -> Gql {
    app.gql_as(
        who,
        &format!("mutation($input: CheckoutInput!) {{ checkout(input: $input) {{ {ORDER_FIELDS} }} }}"),
        json!({ "input": { "shippingAddress": address(), "paymentToken": token, "idempotencyKey": key } }),
    )
    .await
}

/// An order as the tests name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub number: String,
}

impl Order {
    fn from(order: &Value) -> Self {
        Self {
            id: text(&order["id"]),
            number: text(&order["number"]),
        }
    }

    pub fn db_id(&self) -> i32 {
        db_id(&self.id)
    }
}

/// Puts `quantity` of `product` in the cart of `who` and checks out: a PAID order.
pub async fn buy(app: &TestApp, who: &Session, product: &str, quantity: i32) -> Order {
    add_to_cart(app, who, product, quantity).await;
    let response = checkout_with(app, who, VISA, None).await;
    let order = &response.data()["checkout"];
    assert_eq!(order["status"], "PAID");
    Order::from(order)
}

/// The admin moves an order forward (SHIPPED, DELIVERED).
pub async fn set_status(app: &TestApp, admin: &Session, order: &Order, status: &str) -> Gql {
    app.gql_as(
        admin,
        "mutation($id: ID!, $status: OrderStatus!) { updateOrderStatus(id: $id, status: $status) { id status } }",
        json!({ "id": order.id, "status": status }),
    )
    .await
}

pub async fn cancel(app: &TestApp, who: &Session, order: &Order) -> Gql {
    app.gql_as(
        who,
        "mutation($id: ID!) { cancelOrder(id: $id) { id status } }",
        json!({ "id": order.id }),
    )
    .await
}

/// Every outbox row, oldest first.
pub async fn outbox_rows(app: &TestApp) -> Vec<outbox_message::Model> {
    outbox_message::Entity::find()
        .order_by_asc(outbox_message::Column::Id)
        .all(&app.db)
        .await
        .expect("read the outbox")
}

pub async fn outbox_count(app: &TestApp) -> u64 {
    outbox_message::Entity::find()
        .count(&app.db)
        .await
        .expect("count the outbox")
}

/// The outbox row that went out as `mail`.
async fn row_of(app: &TestApp, mail: &Mail) -> outbox_message::Model {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::MessageId.eq(mail.message_id()))
        .one(&app.db)
        .await
        .expect("read the outbox")
        .unwrap_or_else(|| panic!("no outbox row has the Message-ID {}", mail.message_id()))
}

/// Waits until no message is waiting for delivery, and answers the outbox.
async fn settled_outbox(app: &TestApp) -> Vec<outbox_message::Model> {
    eventually("every message is sent or given up", async || {
        let rows = outbox_rows(app).await;
        rows.iter()
            .all(|row| row.status != DeliveryState::Pending)
            .then_some(rows)
    })
    .await
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
        .to_owned()
}

/// The one message whose subject names `order`.
fn about<'a>(messages: &'a [Mail], order: &Order) -> Vec<&'a Mail> {
    messages
        .iter()
        .filter(|mail| mail.subject().contains(&order.number))
        .collect()
}

/// The line of `body` that mentions `needle`.
fn line_with<'a>(body: &'a str, needle: &str) -> &'a str {
    body.lines()
        .find(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("no line mentions {needle:?} in:\n{body}"))
}

#[tokio::test]
async fn registering_mails_a_welcome_to_the_new_user_through_smtp() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;

    app.register("alice").await;

    let messages = smtp.wait_for(1).await;
    let mail = &messages[0];
    assert!(mail.is_to("alice@example.com"), "{}", mail.raw);
    assert!(
        mail.header("from")
            .is_some_and(|from| from.contains("no-reply@shop.localhost")),
        "{}",
        mail.raw
    );
    assert!(!mail.subject().is_empty());
    assert!(mail.text.contains("alice") && unescape_html(&mail.html).contains("alice"));
    let rows = settled_outbox(&app).await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.kind, MessageKind::Welcome);
    assert_eq!(mail.message_id(), row.message_id);
    assert_eq!(row.status, DeliveryState::Sent);
    assert_eq!(row.attempts, 1);
    assert!(row.sent_at.is_some());
}

#[tokio::test]
async fn every_message_carries_a_message_id_of_its_own() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;

    for name in ["alice", "bob", "carol"] {
        app.register(name).await;
    }

    let messages = smtp.wait_for(3).await;
    let mut ids: Vec<&str> = messages.iter().map(Mail::message_id).collect();
    for mail in &messages {
        assert_eq!(mail.message_id(), row_of(&app, mail).await.message_id);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "{ids:?}");
}

#[tokio::test]
async fn a_message_the_smtp_server_refuses_twice_is_delivered_once_under_one_message_id() {
    let smtp = SmtpServer::refusing_first(2).await;
    let app = spawn_app_mailing_to(&smtp).await;

    app.register("alice").await;

    let delivered = smtp.wait_for(1).await;
    let row = &settled_outbox(&app).await[0];
    assert_eq!(row.status, DeliveryState::Sent);
    assert_eq!(row.attempts, 3);
    let attempts = smtp.attempts();
    assert_eq!(attempts.len(), 3);
    for attempt in &attempts {
        assert!(attempt.is_to("alice@example.com"));
        assert_eq!(attempt.message_id(), row.message_id);
    }
    assert_eq!(delivered[0].message_id(), row.message_id);

    // Once delivered it is never sent again: the next message is the next one out.
    app.register("bob").await;
    let messages = smtp.wait_for(2).await;
    assert_eq!(messages.len(), 2);
    assert!(messages[1].is_to("bob@example.com"));
    assert_eq!(
        messages
            .iter()
            .filter(|mail| mail.message_id() == row.message_id)
            .count(),
        1
    );
}

#[tokio::test]
async fn a_message_refused_on_every_attempt_is_marked_dead_and_never_tried_again() {
    let smtp = SmtpServer::refusing_first(3).await;
    let url = smtp.url();
    let app = spawn_app_with(|config| {
        config.smtp_url = Some(url);
        config.mail_poll_ms = 50;
        config.mail_retry_ms = 50;
        config.mail_max_attempts = 3;
    })
    .await;

    app.register("alice").await;

    let row = &settled_outbox(&app).await[0];
    assert_eq!(row.status, DeliveryState::Dead);
    assert_eq!(row.attempts, 3);
    assert!(row.last_error.is_some());
    assert!(row.sent_at.is_none());
    assert_eq!(outbox::counts(&app.db).await.expect("counts"), (0, 1));

    // The server accepts mail again: the next message goes out, the dead one does not.
    app.register("bob").await;
    let messages = smtp.wait_for(1).await;
    assert!(messages[0].is_to("bob@example.com"));
    let alices = smtp
        .attempts()
        .iter()
        .filter(|mail| mail.message_id() == row.message_id)
        .count();
    assert_eq!(alices, 3);
    assert_eq!(outbox_rows(&app).await[0].status, DeliveryState::Dead);
}

#[tokio::test]
async fn a_declined_checkout_leaves_no_outbox_row_and_sends_nothing() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let admin = app.admin("root").await;
    let alice = app.register("alice").await;
    let mug = stock_product(&app, &admin, "Mug", "9.50", 5).await;
    smtp.wait_for(2).await;
    add_to_cart(&app, &alice, &mug, 1).await;
    let before = outbox_count(&app).await;

    let declined = checkout_with(&app, &alice, DECLINED, None).await;

    assert_eq!(declined.code(), "PAYMENT_DECLINED");
    assert_eq!(outbox_count(&app).await, before);
    // The next message out is the confirmation of a checkout that succeeds.
    let paid = Order::from(&checkout_with(&app, &alice, VISA, None).await.data()["checkout"]);
    let messages = smtp.wait_for(3).await;
    assert_eq!(messages.len(), 3);
    assert!(messages[2].subject().contains(&paid.number));
    assert_eq!(outbox_count(&app).await, before + 1);
}

#[tokio::test]
async fn a_paid_order_is_confirmed_with_its_number_lines_totals_and_shipping_address() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let admin = app.admin("root").await;
    let alice = app.register("alice").await;
    let cup = stock_product(&app, &admin, "Espresso Cup", "12.50", 5).await;
    let tea = stock_product(&app, &admin, "Tea Tin", "3.25", 5).await;
    add_to_cart(&app, &alice, &cup, 2).await;

    let order = buy(&app, &alice, &tea, 1).await;

    let messages = smtp.wait_for(3).await;
    let confirmations = about(&messages, &order);
    assert_eq!(confirmations.len(), 1);
    let mail = confirmations[0];
    assert!(mail.is_to("alice@example.com"));
    let html = unescape_html(&mail.html);
    for body in [&mail.text, &html] {
        assert!(body.contains(&order.number));
        assert!(body.contains("28.25 USD"), "the total in:\n{body}");
        for part in [
            "Ada Lovelace",
            "12 St James's Square",
            "Flat 3",
            "London",
            "SW1Y 4JH",
            "GB",
        ] {
            assert!(body.contains(part), "{part:?} in:\n{body}");
        }
    }
    let cups = line_with(&mail.text, "Espresso Cup");
    assert!(cups.contains("2 x") && cups.contains("12.50 USD") && cups.contains("25.00 USD"));
    let tins = line_with(&mail.text, "Tea Tin");
    assert!(tins.contains("1 x") && tins.contains("3.25 USD"));
    let cups_row = line_with(&html, "Espresso Cup");
    assert!(
        cups_row.contains(">2<")
            && cups_row.contains("12.50 USD")
            && cups_row.contains("25.00 USD")
    );
}

/// A line names the variant bought beside its product, unless the product has only its
/// "Default" one.
#[tokio::test]
async fn a_confirmation_names_the_variant_of_each_line() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let admin = app.admin("root").await;
    let alice = app.register("alice").await;
    let tee = stock_product(&app, &admin, "Linen Tee", "20.00", 5).await;
    let tea = stock_product(&app, &admin, "Tea Tin", "3.25", 5).await;
    app.gql_as(
        &admin,
        "mutation($id: ID!) { setProductOptions(productId: $id, options: [{ name: \"Size\", values: [\"M\"] }]) { id } }",
        json!({ "id": tee }),
    )
    .await
    .data();
    add_to_cart(&app, &alice, &tee, 1).await;

    let order = buy(&app, &alice, &tea, 1).await;

    let messages = smtp.wait_for(3).await;
    let mail = about(&messages, &order)[0];
    let html = unescape_html(&mail.html);
    for body in [mail.text.as_str(), html.as_str()] {
        assert!(
            line_with(body, "Linen Tee").contains("Linen Tee (M)"),
            "{body}"
        );
        assert!(!line_with(body, "Tea Tin").contains("Default"), "{body}");
    }
}

#[tokio::test]
async fn shipping_delivering_and_cancelling_paid_orders_each_mail_the_buyer() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let admin = app.admin("root").await;
    let alice = app.register("alice").await;
    let mug = stock_product(&app, &admin, "Mug", "9.50", 5).await;
    let shipped = buy(&app, &alice, &mug, 1).await;
    let cancelled = buy(&app, &alice, &mug, 2).await;

    set_status(&app, &admin, &shipped, "SHIPPED").await.data();
    set_status(&app, &admin, &shipped, "DELIVERED").await.data();
    cancel(&app, &alice, &cancelled).await.data();

    // Two welcomes, two confirmations, shipped, delivered, cancelled.
    let messages = smtp.wait_for(7).await;
    assert_eq!(messages.len(), 7);
    let about_shipped = about(&messages, &shipped);
    let about_cancelled = about(&messages, &cancelled);
    assert_eq!(about_shipped.len(), 3);
    assert_eq!(about_cancelled.len(), 2);
    for mail in about_shipped.iter().chain(&about_cancelled) {
        assert!(mail.is_to("alice@example.com"));
    }
    let [confirmed, on_its_way, arrived] = about_shipped[..] else {
        unreachable!()
    };
    assert!(on_its_way.subject().to_lowercase().contains("shipped"));
    assert!(arrived.subject().to_lowercase().contains("delivered"));
    let subjects = [confirmed, on_its_way, arrived].map(Mail::subject);
    assert!(subjects[0] != subjects[1] && subjects[1] != subjects[2]);
    let refund = about_cancelled[1];
    assert!(refund.subject().to_lowercase().contains("cancelled"));
    assert!(
        refund.text.to_lowercase().contains("refund") && refund.text.contains("19.00 USD"),
        "the refund and its amount in:\n{}",
        refund.text
    );
}

#[tokio::test]
async fn html_bodies_escape_what_admins_and_customers_typed() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let admin = app.admin("root").await;
    let alice = app.register("alice").await;
    let name = r#"<script>alert("x")</script> & <b>Bold</b> Mug"#;
    let mug = stock_product(&app, &admin, name, "9.50", 5).await;
    add_to_cart(&app, &alice, &mug, 1).await;
    let mut typed_address = address();
    typed_address["fullName"] = json!("<em>Ada</em>");

    let response = app
        .gql_as(
            &alice,
            "mutation($input: CheckoutInput!) { checkout(input: $input) { id number } }",
            json!({ "input": { "shippingAddress": typed_address, "paymentToken": VISA } }),
        )
        .await;
    let order = Order::from(&response.data()["checkout"]);

    let messages = smtp.wait_for(3).await;
    let mail = about(&messages, &order)[0];
    for markup in ["<script>", "<b>", "<em>"] {
        assert!(!mail.html.contains(markup), "{markup} in:\n{}", mail.html);
    }
    let shown = unescape_html(&mail.html);
    assert!(shown.contains(name), "{name} in:\n{shown}");
    assert!(shown.contains("<em>Ada</em>"));
    assert!(
        mail.text.contains(name),
        "plain text is not escaped:\n{}",
        mail.text
    );
}

#[tokio::test]
async fn links_in_messages_point_at_the_public_url() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(|config| {
        config.smtp_url = Some(url);
        // A trailing slash must not double up in links.
        config.public_url = Some(format!("{PUBLIC_URL}/"));
        config.mail_poll_ms = 50;
    })
    .await;
    let admin = app.admin("root").await;
    let alice = app.register("alice").await;
    let mug = stock_product(&app, &admin, "Mug", "9.50", 5).await;

    let order = buy(&app, &alice, &mug, 1).await;

    let messages = smtp.wait_for(3).await;
    let welcome = &messages[1];
    assert!(welcome.is_to("alice@example.com"));
    assert!(welcome.text.contains(PUBLIC_URL));
    assert!(welcome.html.contains(&format!("href=\"{PUBLIC_URL}")));
    let confirmation = about(&messages, &order)[0];
    let order_url = format!("{PUBLIC_URL}/orders/{}", order.number);
    assert!(
        confirmation.text.contains(&order_url),
        "{}",
        confirmation.text
    );
    assert!(confirmation.html.contains(&format!("href=\"{order_url}\"")));
    let own_address = app.addr.to_string();
    for mail in &messages {
        assert!(!mail.text.contains(&format!("{PUBLIC_URL}//")));
        assert!(!mail.text.contains(&own_address) && !mail.html.contains(&own_address));
    }
}

#[tokio::test]
async fn order_links_follow_the_configured_template_with_the_number_encoded() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(|config| {
        config.smtp_url = Some(url);
        config.public_url = Some(PUBLIC_URL.into());
        config.order_url_template = "{public_url}/account/orders?number={number}".into();
        config.mail_poll_ms = 50;
    })
    .await;
    let admin = app.admin("root").await;
    let alice = app.register("alice").await;
    let mug = stock_product(&app, &admin, "Mug", "9.50", 5).await;

    let order = buy(&app, &alice, &mug, 1).await;

    let messages = smtp.wait_for(3).await;
    let confirmation = about(&messages, &order)[0];
    let order_url = format!("{PUBLIC_URL}/account/orders?number={}", order.number);
    assert!(
        confirmation.text.contains(&order_url),
        "{}",
        confirmation.text
    );
    assert!(confirmation.html.contains(&format!("href=\"{order_url}\"")));
    assert!(!confirmation.text.contains(&format!("{PUBLIC_URL}/orders/")));
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_outbox_row_and_a_committed_one_is_delivered() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let admin = app.admin("root").await;
    let alice = app.register("alice").await;
    let mug = stock_product(&app, &admin, "Mug", "9.50", 5).await;
    let order = buy(&app, &alice, &mug, 1).await;
    smtp.wait_for(3).await;
    let before = outbox_count(&app).await;

    let txn = db::begin_write(&app.db).await.expect("begin");
    let moved = orders::transition(&txn, order.db_id(), OrderStatus::Paid, OrderStatus::Shipped)
        .await
        .expect("transition");
    assert!(moved.is_some());
    outbox::enqueue(
        &txn,
        Some(db_id(&alice.id)),
        None,
        Notice::Welcome { verification: None },
    )
    .await
    .expect("enqueue");
    txn.rollback().await.expect("rollback");

    assert_eq!(outbox_count(&app).await, before);

    let txn = db::begin_write(&app.db).await.expect("begin");
    orders::transition(&txn, order.db_id(), OrderStatus::Paid, OrderStatus::Shipped)
        .await
        .expect("transition");
    txn.commit().await.expect("commit");

    assert_eq!(outbox_count(&app).await, before + 1);
    let messages = smtp.wait_for(4).await;
    assert_eq!(messages.len(), 4);
    assert!(messages[3].subject().contains(&order.number));
    assert!(messages[3].subject().to_lowercase().contains("shipped"));
}

#[tokio::test]
async fn concurrent_cancellations_of_one_order_mail_one_cancellation() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let admin = app.admin("root").await;
    let alice = app.register("alice").await;
    let mug = stock_product(&app, &admin, "Mug", "9.50", 5).await;
    let order = buy(&app, &alice, &mug, 1).await;

    let answers = join_all((0..4).map(|_| cancel(&app, &alice, &order))).await;

    let succeeded = answers
        .iter()
        .filter(|answer| answer.body.get("errors").is_none())
        .count();
    assert_eq!(succeeded, 1);
    for answer in answers.iter().filter(|a| a.body.get("errors").is_some()) {
        assert_eq!(answer.code(), "CONFLICT");
    }
    let rows = settled_outbox(&app).await;
    let about_the_order = rows
        .iter()
        .filter(|row| row.order_id == Some(order.db_id()))
        .count();
    assert_eq!(about_the_order, 2, "the confirmation and one cancellation");
    let messages = smtp.wait_for(4).await;
    assert_eq!(messages.len(), 4);
    assert_eq!(about(&messages, &order).len(), 2);
}

#[tokio::test]
async fn checking_out_again_with_one_idempotency_key_confirms_the_order_once() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let admin = app.admin("root").await;
    let alice = app.register("alice").await;
    let mug = stock_product(&app, &admin, "Mug", "9.50", 5).await;
    add_to_cart(&app, &alice, &mug, 1).await;

    let first = checkout_with(&app, &alice, VISA, Some("order-1")).await;
    let again = checkout_with(&app, &alice, VISA, Some("order-1")).await;

    let order = Order::from(&first.data()["checkout"]);
    assert_eq!(Order::from(&again.data()["checkout"]), order);
    // A later message shows nothing else was on its way.
    app.register("bob").await;
    let messages = smtp.wait_for(4).await;
    assert_eq!(messages.len(), 4);
    assert_eq!(about(&messages, &order).len(), 1);
    assert!(messages[3].is_to("bob@example.com"));
}

#[tokio::test]
async fn an_abandoned_order_released_by_the_sweeper_mails_nothing() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let admin = app.admin("root").await;
    let alice = app.register("alice").await;
    let mug = stock_product(&app, &admin, "Mug", "9.50", 5).await;
    add_to_cart(&app, &alice, &mug, 1).await;
    let address = PostalAddress::parse(
        "Ada Lovelace",
        "12 St James's Square",
        None,
        "London",
        "SW1Y 4JH",
        "GB",
    )
    .expect("an address");
    // A checkout whose process died before it asked for the payment.
    let pending = checkout::reserve(&app.db, &app.payments, db_id(&alice.id), &address, None)
        .await
        .expect("reserved");

    let swept = orders::sweep(
        &app.db,
        &app.payments,
        Utc::now() + chrono::Duration::hours(1),
    )
    .await
    .expect("swept");

    assert_eq!(swept.released, 1);
    let rows = settled_outbox(&app).await;
    let release = rows
        .iter()
        .find(|row| row.order_id == Some(pending.id))
        .expect("the release is in the outbox");
    assert_eq!(release.status, DeliveryState::Sent);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 2, "only the welcomes");
    assert!(
        messages
            .iter()
            .all(|mail| !mail.raw.contains(&pending.number))
    );
}

/// A message row as `enqueue` writes it, but due only at `due`: the server's own worker
/// leaves it alone, so the test can claim it as other workers would.
async fn future_message(app: &TestApp, due: chrono::DateTime<Utc>) -> outbox_message::Model {
    outbox_message::ActiveModel {
        kind: Set(MessageKind::Welcome),
        user_id: Set(Some(1)),
        order_id: Set(None),
        payload: Set(r#"{"kind":"welcome"}"#.into()),
        message_id: Set(format!("<{:032x}@shop.mail>", rand::random::<u128>())),
        status: Set(DeliveryState::Pending),
        attempts: Set(0),
        next_attempt_at: Set(due),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(Utc::now()),
        sent_at: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("insert a message")
}

#[tokio::test]
async fn a_message_claimed_by_a_worker_that_died_is_claimed_again_once_its_lease_ends() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let tomorrow = Utc::now() + chrono::Duration::days(1);
    let message = future_message(&app, tomorrow).await;
    let lease = chrono::Duration::minutes(2);

    let claimed = outbox::claim(&app.db, tomorrow, lease, 10)
        .await
        .expect("claim");
    let during_lease = outbox::claim(&app.db, tomorrow + chrono::Duration::minutes(1), lease, 10)
        .await
        .expect("claim");
    let after_lease = outbox::claim(&app.db, tomorrow + chrono::Duration::minutes(3), lease, 10)
        .await
        .expect("claim");

    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, message.id);
    assert_eq!(claimed[0].attempts, 1);
    assert!(during_lease.is_empty());
    assert_eq!(after_lease.len(), 1);
    assert_eq!(after_lease[0].id, message.id);
    assert_eq!(after_lease[0].attempts, 2);
    assert_eq!(after_lease[0].message_id, message.message_id);
}

#[tokio::test]
async fn a_worker_claims_messages_in_the_order_they_were_written() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let tomorrow = Utc::now() + chrono::Duration::days(1);
    let mut written = Vec::new();
    for _ in 0..16 {
        written.push(future_message(&app, tomorrow).await.id);
    }

    let claimed = outbox::claim(&app.db, tomorrow, chrono::Duration::minutes(2), 16)
        .await
        .expect("claim");

    let claimed: Vec<i32> = claimed.iter().map(|row| row.id).collect();
    assert_eq!(claimed, written);
}

#[tokio::test]
async fn concurrent_workers_never_claim_the_same_message() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let tomorrow = Utc::now() + chrono::Duration::days(1);
    for _ in 0..40 {
        future_message(&app, tomorrow).await;
    }
    let lease = chrono::Duration::minutes(2);

    let batches = join_all((0..4).map(|_| outbox::claim(&app.db, tomorrow, lease, 10))).await;
    let rest = outbox::claim(&app.db, tomorrow, lease, 100)
        .await
        .expect("claim");

    let mut ids: Vec<i32> = batches
        .into_iter()
        .flat_map(|batch| batch.expect("claim"))
        .chain(rest)
        .map(|row| row.id)
        .collect();
    assert_eq!(ids.len(), 40);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40);
}

#[tokio::test]
async fn without_smtp_each_message_is_written_as_an_eml_file() {
    let folder = tempfile::tempdir().expect("a temp dir");
    let mail_dir = folder.path().to_owned();
    let app = spawn_app_with(|config| {
        config.mail_dir = Some(mail_dir);
        config.mail_poll_ms = 50;
    })
    .await;

    app.register("alice").await;

    let rows = settled_outbox(&app).await;
    let files: Vec<_> = std::fs::read_dir(folder.path())
        .expect("the mail folder")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read_to_string(&files[0]).expect("the message");
    let mail = Mail::parse_file(&raw);
    assert!(
        mail.header("to")
            .is_some_and(|to| to.contains("alice@example.com"))
    );
    assert_eq!(mail.message_id(), rows[0].message_id);
}
