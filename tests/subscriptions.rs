//! Live order updates over a real WebSocket (graphql-transport-ws at /graphql/ws): each
//! subscriber hears every status change of their own orders as it commits, admins hear
//! all, nobody hears anyone else's, and a change that rolls back is never announced.
//!
//! A subscription is only listening once its resolver has run, which the protocol does
//! not acknowledge; tests wait for the server's count of listening subscriptions before
//! they change anything. And on SQLite, where each server reads committed changes from
//! the outbox a moment later, a subscription may still hear a change that committed just
//! before it was opened; tests open theirs before the changes they are about, or after
//! another subscription has heard the earlier ones.

use std::{
    net::SocketAddr,
    time::{SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use shop::{db, domain::OrderStatus, service::orders};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::{
    notifications::{
        Order, buy, cancel, eventually, set_status, spawn_app_mailing_to, stock_product,
    },
    support::{
        JWT_SECRET, PASSWORD, Session, TestApp, session_from,
        smtp::{MAIL_TIMEOUT, SmtpServer},
    },
};

pub const ORDER_UPDATED: &str = "subscription { orderUpdated { number status } }";
const ONE_ORDER_UPDATED: &str =
    "subscription($id: ID) { orderUpdated(orderId: $id) { number status } }";
const SET_ADMIN: &str = "mutation($userId: ID!, $isAdmin: Boolean!) { setAdmin(userId: $userId, isAdmin: $isAdmin) { isAdmin } }";
const LOGOUT: &str = "mutation($token: String!) { logout(refreshToken: $token) }";
const CHANGE_PASSWORD: &str =
    "mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { id } }";

/// What the server sent next.
#[derive(Debug)]
pub enum Frame {
    /// A graphql-transport-ws message.
    Message(Value),
    /// The server closed the connection, with this close code if it gave one.
    Closed(Option<u16>),
}

/// A graphql-transport-ws client on a real WebSocket.
pub struct Subscriber {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Subscriber {
    /// Opens a WebSocket speaking graphql-transport-ws and sends connection_init with
    /// `payload`; the caller reads the server's answer.
    async fn open(app: &TestApp, payload: Value) -> Self {
        Self::open_at(app.addr, payload).await
    }

    /// [`Self::open`] on the server at `addr` (e.g. a `shop serve` process).
    async fn open_at(addr: SocketAddr, payload: Value) -> Self {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .expect("a WebSocket request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, response) = connect_async(request).await.expect("the handshake");
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some("graphql-transport-ws")
        );
        let mut subscriber = Self { socket };
        subscriber
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        subscriber
    }

    /// A connection authenticated as `who`, acknowledged by the server.
    async fn connect_as(app: &TestApp, who: &Session) -> Self {
        Self::connect_to(app.addr, who).await
    }

    /// [`Self::connect_as`] on the server at `addr`.
    pub async fn connect_to(addr: SocketAddr, who: &Session) -> Self {
        let authorization = format!("Bearer {}", who.access_token);
        let mut subscriber = Self::open_at(addr, json!({ "authorization": authorization })).await;
        subscriber.expect_ack().await;
        subscriber
    }

    async fn expect_ack(&mut self) {
        match self.receive().await {
            Frame::Message(message) if message["type"] == "connection_ack" => {}
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send on the WebSocket");
    }

    /// The next frame from the server; fails the test if none comes in time.
    async fn receive(&mut self) -> Frame {
        loop {
            let next = tokio::time::timeout(MAIL_TIMEOUT, self.socket.next())
                .await
                .expect("the server answered in time");
            let message = match next {
                None | Some(Err(_)) => return Frame::Closed(None),
                Some(Ok(message)) => message,
            };
            match message {
                Message::Text(text) => {
                    let message: Value = serde_json::from_str(&text).expect("JSON");
                    if message["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Frame::Message(message);
                }
                Message::Close(frame) => {
                    return Frame::Closed(frame.map(|frame| u16::from(frame.code)));
                }
                _ => {}
            }
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": query, "variables": variables },
        }))
        .await;
    }

    /// The next order update of any subscription, as (subscription id, (number, status)).
    pub async fn next_update_of_any(&mut self) -> (String, (String, String)) {
        match self.receive().await {
            Frame::Message(message) if message["type"] == "next" => {
                let payload = &message["payload"];
                assert!(payload.get("errors").is_none(), "{payload:#}");
                let order = &payload["data"]["orderUpdated"];
                let text = |value: &Value| value.as_str().expect("a string").to_owned();
                (
                    text(&message["id"]),
                    (text(&order["number"]), text(&order["status"])),
                )
            }
            other => panic!("expected an order update, got {other:?}"),
        }
    }

    /// The next order update of any subscription, if one arrives within `wait`: for
    /// probing whether a subscription listens yet. Reading a WebSocket can be cut short
    /// without losing a frame.
    pub async fn next_update_within(
        &mut self,
        wait: std::time::Duration,
    ) -> Option<(String, (String, String))> {
        tokio::time::timeout(wait, self.next_update_of_any())
            .await
            .ok()
    }

    /// The next order update, which must be of subscription `id`, as (number, status).
    pub async fn next_update(&mut self, id: &str) -> (String, String) {
        let (of, update) = self.next_update_of_any().await;
        assert_eq!(of, id, "an update of another subscription: {update:?}");
        update
    }

    /// The error code subscription `id` ended with.
    async fn error_code(&mut self, id: &str) -> String {
        let message = match self.receive().await {
            Frame::Message(message) if message["id"] == id => message,
            other => panic!("expected an answer to subscription {id}, got {other:?}"),
        };
        let errors = match message["type"].as_str() {
            Some("next") => &message["payload"]["errors"],
            Some("error") => &message["payload"],
            _ => panic!("expected an error, got {message:#}"),
        };
        errors[0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("an error without a code: {message:#}"))
            .to_owned()
    }

    /// The error code subscription `id` ended with while it ran: an error event, then the
    /// server's `complete`, so the subscription is over rather than merely quiet.
    async fn ended_with(&mut self, id: &str) -> String {
        let code = self.error_code(id).await;
        match self.receive().await {
            Frame::Message(message) if message["type"] == "complete" && message["id"] == id => {}
            other => panic!("expected subscription {id} complete, got {other:?}"),
        }
        code
    }
}

/// Waits until exactly `count` subscriptions of the server listen for order events.
async fn listening(app: &TestApp, count: usize) {
    eventually(&format!("{count} subscriptions listen"), async || {
        (app.events.subscribers() == count).then_some(())
    })
    .await;
}

fn update(order: &Order, status: &str) -> (String, String) {
    (order.number.clone(), status.to_owned())
}

/// A shop with an admin, a mug on the shelf, and mail going to `smtp`.
async fn open_shop(smtp: &SmtpServer) -> (TestApp, Session, String) {
    let app = spawn_app_mailing_to(smtp).await;
    let admin = app.admin("root").await;
    let mug = stock_product(&app, &admin, "Mug", "9.50", 100).await;
    (app, admin, mug)
}

#[tokio::test]
async fn a_subscriber_hears_their_order_become_paid_then_shipped_then_delivered() {
    let smtp = SmtpServer::start().await;
    let (app, admin, mug) = open_shop(&smtp).await;
    let alice = app.register("alice").await;
    let mut subscriber = Subscriber::connect_as(&app, &alice).await;
    subscriber.subscribe("1", ORDER_UPDATED, json!({})).await;
    listening(&app, 1).await;

    let order = buy(&app, &alice, &mug, 1).await;
    let paid = subscriber.next_update("1").await;
    set_status(&app, &admin, &order, "SHIPPED").await.data();
    let shipped = subscriber.next_update("1").await;
    set_status(&app, &admin, &order, "DELIVERED").await.data();
    let delivered = subscriber.next_update("1").await;

    assert_eq!(paid, update(&order, "PAID"));
    assert_eq!(shipped, update(&order, "SHIPPED"));
    assert_eq!(delivered, update(&order, "DELIVERED"));
}

#[tokio::test]
async fn changes_in_quick_succession_are_each_heard_with_the_status_they_set() {
    let smtp = SmtpServer::start().await;
    let (app, admin, mug) = open_shop(&smtp).await;
    let alice = app.register("alice").await;
    let mut subscriber = Subscriber::connect_as(&app, &alice).await;
    subscriber.subscribe("1", ORDER_UPDATED, json!({})).await;
    listening(&app, 1).await;

    let order = buy(&app, &alice, &mug, 1).await;
    set_status(&app, &admin, &order, "SHIPPED").await.data();
    set_status(&app, &admin, &order, "DELIVERED").await.data();

    assert_eq!(subscriber.next_update("1").await, update(&order, "PAID"));
    assert_eq!(subscriber.next_update("1").await, update(&order, "SHIPPED"));
    assert_eq!(
        subscriber.next_update("1").await,
        update(&order, "DELIVERED")
    );
}

#[tokio::test]
async fn a_subscriber_hears_nothing_of_another_users_orders() {
    let smtp = SmtpServer::start().await;
    let (app, admin, mug) = open_shop(&smtp).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut alices = Subscriber::connect_as(&app, &alice).await;
    let mut bobs = Subscriber::connect_as(&app, &bob).await;
    alices.subscribe("1", ORDER_UPDATED, json!({})).await;
    bobs.subscribe("1", ORDER_UPDATED, json!({})).await;
    listening(&app, 2).await;

    let alices_order = buy(&app, &alice, &mug, 1).await;
    set_status(&app, &admin, &alices_order, "SHIPPED")
        .await
        .data();
    assert_eq!(alices.next_update("1").await, update(&alices_order, "PAID"));
    assert_eq!(
        alices.next_update("1").await,
        update(&alices_order, "SHIPPED")
    );
    let bobs_order = buy(&app, &bob, &mug, 1).await;

    // Events reach every subscription in commit order: if any of Alice's had got through
    // to Bob, it would come before his own.
    assert_eq!(bobs.next_update("1").await, update(&bobs_order, "PAID"));
}

#[tokio::test]
async fn an_admin_subscriber_hears_every_users_orders() {
    let smtp = SmtpServer::start().await;
    let (app, admin, mug) = open_shop(&smtp).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut admins = Subscriber::connect_as(&app, &admin).await;
    admins.subscribe("all", ORDER_UPDATED, json!({})).await;
    listening(&app, 1).await;

    let alices_order = buy(&app, &alice, &mug, 1).await;
    let bobs_order = buy(&app, &bob, &mug, 1).await;

    assert_eq!(
        admins.next_update("all").await,
        update(&alices_order, "PAID")
    );
    assert_eq!(admins.next_update("all").await, update(&bobs_order, "PAID"));
}

#[tokio::test]
async fn a_subscription_to_one_order_hears_only_that_order() {
    let smtp = SmtpServer::start().await;
    let (app, admin, mug) = open_shop(&smtp).await;
    let alice = app.register("alice").await;
    let mut subscriber = Subscriber::connect_as(&app, &alice).await;
    subscriber.subscribe("all", ORDER_UPDATED, json!({})).await;
    listening(&app, 1).await;
    let first = buy(&app, &alice, &mug, 1).await;
    let second = buy(&app, &alice, &mug, 1).await;
    // Heard: from here on, the purchases cannot reach a subscription opened now.
    assert_eq!(subscriber.next_update("all").await, update(&first, "PAID"));
    assert_eq!(subscriber.next_update("all").await, update(&second, "PAID"));
    subscriber
        .subscribe("second", ONE_ORDER_UPDATED, json!({ "id": second.id }))
        .await;
    listening(&app, 2).await;

    set_status(&app, &admin, &first, "SHIPPED").await.data();
    cancel(&app, &alice, &second).await.data();

    let mut heard = Vec::new();
    for _ in 0..3 {
        heard.push(subscriber.next_update_of_any().await);
    }
    let of = |id: &str| {
        heard
            .iter()
            .filter(|(of, _)| of == id)
            .map(|(_, update)| update.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(of("second"), [update(&second, "CANCELLED")]);
    assert_eq!(
        of("all"),
        [update(&first, "SHIPPED"), update(&second, "CANCELLED")]
    );
}

#[tokio::test]
async fn subscribing_to_someone_elses_order_is_not_found() {
    let smtp = SmtpServer::start().await;
    let (app, _admin, mug) = open_shop(&smtp).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let alices_order = buy(&app, &alice, &mug, 1).await;
    let mut bobs = Subscriber::connect_as(&app, &bob).await;

    bobs.subscribe("1", ONE_ORDER_UPDATED, json!({ "id": alices_order.id }))
        .await;

    assert_eq!(bobs.error_code("1").await, "NOT_FOUND");
    assert_eq!(app.events.subscribers(), 0);
}

#[tokio::test]
async fn an_invalid_token_in_connection_init_closes_the_connection() {
    let smtp = SmtpServer::start().await;
    let (app, _admin, _mug) = open_shop(&smtp).await;
    let alice = app.register("alice").await;
    let tampered = format!("{}x", alice.access_token);

    for authorization in [
        "Bearer not-a-token".to_owned(),
        format!("Bearer {tampered}"),
        format!("Token {}", alice.access_token),
    ] {
        let mut subscriber =
            Subscriber::open(&app, json!({ "authorization": authorization })).await;
        match subscriber.receive().await {
            Frame::Closed(code) => assert_ne!(code, Some(1000), "{authorization}"),
            other => panic!("expected the connection closed for {authorization}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_anonymous_subscription_is_unauthenticated() {
    let smtp = SmtpServer::start().await;
    let (app, _admin, _mug) = open_shop(&smtp).await;
    let mut anonymous = Subscriber::open(&app, json!({})).await;
    anonymous.expect_ack().await;

    anonymous.subscribe("1", ORDER_UPDATED, json!({})).await;

    assert_eq!(anonymous.error_code("1").await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_status_change_that_rolls_back_is_never_announced() {
    let smtp = SmtpServer::start().await;
    let (app, admin, mug) = open_shop(&smtp).await;
    let alice = app.register("alice").await;
    let mut subscriber = Subscriber::connect_as(&app, &alice).await;
    subscriber.subscribe("1", ORDER_UPDATED, json!({})).await;
    listening(&app, 1).await;
    let order = buy(&app, &alice, &mug, 1).await;
    assert_eq!(subscriber.next_update("1").await, update(&order, "PAID"));

    let txn = db::begin_write(&app.db).await.expect("begin");
    let moved = orders::transition(
        &txn,
        order.db_id(),
        OrderStatus::Paid,
        OrderStatus::Cancelled,
    )
    .await
    .expect("transition");
    assert!(moved.is_some());
    txn.rollback().await.expect("rollback");
    set_status(&app, &admin, &order, "SHIPPED").await.data();
    set_status(&app, &admin, &order, "DELIVERED").await.data();

    // An announced cancellation would have come first, and shifted everything after it.
    assert_eq!(subscriber.next_update("1").await, update(&order, "SHIPPED"));
    assert_eq!(
        subscriber.next_update("1").await,
        update(&order, "DELIVERED")
    );
}

// ---------------------------------------------------------------------------------------
// Rights are checked per event, not only when the connection opens
// ---------------------------------------------------------------------------------------

/// `session` with its access token re-signed (with the test servers' secret) to expire
/// `secs` seconds from now; every other claim, the session it names included, is kept.
fn expiring_in(session: &Session, secs: u64) -> Session {
    let payload = session
        .access_token
        .split('.')
        .nth(1)
        .expect("a JWT payload");
    let bytes = URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    let mut claims: Value = serde_json::from_slice(&bytes).expect("JSON claims");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + secs);
    let access_token = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("signed");
    Session {
        access_token,
        ..session.clone()
    }
}

#[tokio::test]
async fn a_demoted_admins_subscription_to_all_orders_ends_forbidden_before_another_order_reaches_it()
 {
    let smtp = SmtpServer::start().await;
    let (app, root, mug) = open_shop(&smtp).await;
    let ops = app.admin("ops").await;
    let alice = app.register("alice").await;
    let mut admins = Subscriber::connect_as(&app, &ops).await;
    admins.subscribe("all", ORDER_UPDATED, json!({})).await;
    listening(&app, 1).await;

    let demoted = app
        .gql_as(
            &root,
            SET_ADMIN,
            json!({ "userId": ops.id, "isAdmin": false }),
        )
        .await;
    assert_eq!(demoted.data()["setAdmin"]["isAdmin"], false);
    buy(&app, &alice, &mug, 1).await;

    assert_eq!(admins.ended_with("all").await, "FORBIDDEN");
    listening(&app, 0).await;
}

#[tokio::test]
async fn a_demoted_admins_subscription_to_another_users_order_ends_forbidden() {
    let smtp = SmtpServer::start().await;
    let (app, root, mug) = open_shop(&smtp).await;
    let ops = app.admin("ops").await;
    let alice = app.register("alice").await;
    let order = buy(&app, &alice, &mug, 1).await;
    let mut admins = Subscriber::connect_as(&app, &ops).await;
    admins
        .subscribe("one", ONE_ORDER_UPDATED, json!({ "id": order.id }))
        .await;
    listening(&app, 1).await;
    // Heard while still an admin. On SQLite the purchase's PAID, committed just before the
    // subscription opened, may come first.
    set_status(&app, &root, &order, "SHIPPED").await.data();
    while admins.next_update("one").await != update(&order, "SHIPPED") {}

    app.gql_as(
        &root,
        SET_ADMIN,
        json!({ "userId": ops.id, "isAdmin": false }),
    )
    .await
    .data();
    set_status(&app, &root, &order, "DELIVERED").await.data();

    assert_eq!(admins.ended_with("one").await, "FORBIDDEN");
}

#[tokio::test]
async fn a_subscription_ends_unauthenticated_when_its_token_expires_even_if_no_event_comes() {
    let smtp = SmtpServer::start().await;
    let (app, _admin, _mug) = open_shop(&smtp).await;
    let alice = app.register("alice").await;
    let short_lived = expiring_in(&alice, 2);
    let mut subscriber = Subscriber::connect_as(&app, &short_lived).await;
    subscriber.subscribe("1", ORDER_UPDATED, json!({})).await;
    listening(&app, 1).await;

    let ended_with = subscriber.ended_with("1").await;
    // The connection's token is spent: a new subscription on it is refused too, so the
    // client has to reconnect with a fresh one.
    subscriber.subscribe("2", ORDER_UPDATED, json!({})).await;
    let refused_with = subscriber.error_code("2").await;

    assert_eq!(ended_with, "UNAUTHENTICATED");
    assert_eq!(refused_with, "UNAUTHENTICATED");
    assert_eq!(app.events.subscribers(), 0);
}

#[tokio::test]
async fn logging_out_ends_that_sessions_subscription_at_the_next_event_and_no_other() {
    let smtp = SmtpServer::start().await;
    let (app, _admin, mug) = open_shop(&smtp).await;
    let alice = app.register("alice").await;
    let laptop = session_from(&app.login("alice", PASSWORD).await.data()["login"]);
    let mut phones = Subscriber::connect_as(&app, &alice).await;
    let mut laptops = Subscriber::connect_as(&app, &laptop).await;
    phones.subscribe("1", ORDER_UPDATED, json!({})).await;
    laptops.subscribe("1", ORDER_UPDATED, json!({})).await;
    listening(&app, 2).await;

    let logout = app
        .gql(LOGOUT, json!({ "token": alice.refresh_token }))
        .await;
    assert_eq!(logout.data()["logout"], true);
    let order = buy(&app, &laptop, &mug, 1).await;

    assert_eq!(phones.ended_with("1").await, "UNAUTHENTICATED");
    assert_eq!(laptops.next_update("1").await, update(&order, "PAID"));
}

#[tokio::test]
async fn changing_the_password_ends_the_accounts_subscriptions_at_the_next_event() {
    let smtp = SmtpServer::start().await;
    let (app, admin, mug) = open_shop(&smtp).await;
    let alice = app.register("alice").await;
    let mut subscriber = Subscriber::connect_as(&app, &alice).await;
    subscriber.subscribe("1", ORDER_UPDATED, json!({})).await;
    listening(&app, 1).await;
    let order = buy(&app, &alice, &mug, 1).await;
    assert_eq!(subscriber.next_update("1").await, update(&order, "PAID"));

    let input = json!({ "newPassword": "a brand new passphrase", "currentPassword": PASSWORD });
    app.gql_as(&alice, CHANGE_PASSWORD, json!({ "input": input }))
        .await
        .data();
    set_status(&app, &admin, &order, "SHIPPED").await.data();

    assert_eq!(subscriber.ended_with("1").await, "UNAUTHENTICATED");
}

// --- what the WebSocket serves ------------------------------------------------------------

#[tokio::test]
async fn queries_and_mutations_over_the_websocket_are_refused_and_run_nothing() {
    let app = crate::support::spawn_app().await;
    let (register, variables) = crate::support::register_operation("mallory");
    let mut refused = Vec::new();

    for (query, variables) in [
        ("{ __typename }", json!({})),
        (register.as_str(), variables),
    ] {
        let mut anonymous = Subscriber::open(&app, json!({})).await;
        anonymous.expect_ack().await;
        anonymous.subscribe("1", query, variables).await;
        refused.push(anonymous.error_code("1").await);
    }
    let [query, mutation] = [&refused[0], &refused[1]];

    assert_eq!(query, "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(mutation, "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(crate::http::users_in(&app).await, 0);
}

#[tokio::test]
async fn a_subscription_that_does_not_fit_the_schema_is_refused_with_the_code_of_whose_mistake_it_is()
 {
    let app = crate::support::spawn_app().await;
    let alice = app.register("alice").await;
    let mut subscriber = Subscriber::connect_as(&app, &alice).await;

    subscriber
        .subscribe(
            "field",
            "subscription { orderUpdated { passwordHash } }",
            json!({}),
        )
        .await;
    let unknown_field = subscriber.ended_with("field").await;
    subscriber
        .subscribe(
            "value",
            ONE_ORDER_UPDATED,
            json!({ "id": { "not": "an id" } }),
        )
        .await;
    let wrong_value = subscriber.ended_with("value").await;

    // The client's code asked for a field that does not exist; the user's input was wrong.
    assert_eq!(unknown_field, "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(wrong_value, "BAD_USER_INPUT");
    assert_eq!(app.events.subscribers(), 0);
}

#[tokio::test]
async fn a_subscription_whose_fragments_double_at_each_level_is_refused_at_once() {
    let app = crate::support::spawn_app().await;
    let alice = app.register("alice").await;
    let mut subscriber = Subscriber::connect_as(&app, &alice).await;
    let mut document = String::from("subscription { ...F0 }\n");
    for level in 0..30 {
        let next = level + 1;
        document.push_str(&format!(
            "fragment F{level} on Subscription {{ ...F{next} ...F{next} }}\n"
        ));
    }
    document.push_str("fragment F30 on Subscription { orderUpdated { number } }\n");

    subscriber.subscribe("1", &document, json!({})).await;

    // `receive` fails the test if no answer comes in time.
    assert_eq!(
        subscriber.error_code("1").await,
        "GRAPHQL_VALIDATION_FAILED"
    );
}

#[tokio::test]
async fn a_websocket_message_over_the_body_limit_closes_the_connection() {
    let app = crate::support::spawn_app().await;
    let mut anonymous = Subscriber::open(&app, json!({})).await;
    anonymous.expect_ack().await;
    let padding = " ".repeat(shop::http::MAX_BODY_BYTES);

    anonymous
        .subscribe(
            "1",
            &format!("subscription {{ orderUpdated {{ number }} {padding}}}"),
            json!({}),
        )
        .await;

    match anonymous.receive().await {
        Frame::Closed(code) => assert_ne!(code, Some(1000)),
        other => panic!("expected the connection closed, got {other:?}"),
    }
}

#[tokio::test]
async fn a_connection_holds_a_bounded_number_of_subscriptions() {
    let app = crate::support::spawn_app().await;
    let alice = app.register("alice").await;
    let mut subscriber = Subscriber::connect_as(&app, &alice).await;
    let limit = shop::http::MAX_SUBSCRIPTIONS_PER_CONNECTION;
    for id in 0..limit {
        subscriber
            .subscribe(&id.to_string(), ORDER_UPDATED, json!({}))
            .await;
    }
    listening(&app, limit).await;

    subscriber
        .subscribe("one more", ORDER_UPDATED, json!({}))
        .await;
    assert_eq!(subscriber.error_code("one more").await, "BAD_USER_INPUT");

    subscriber
        .send(json!({ "id": "0", "type": "complete" }))
        .await;
    listening(&app, limit - 1).await;
    subscriber
        .subscribe("in its place", ORDER_UPDATED, json!({}))
        .await;
    listening(&app, limit).await;
}
