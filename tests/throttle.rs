//! Login throttling: 5 failures per account and 20 per client address within 15 minutes,
//! then RATE_LIMITED with `retryAfter`. Registration throttling: 5 accounts per client
//! address per hour by default.

use entity::{
    outbox_message::{self, MessageKind},
    user,
};
use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use shop::{config::Config, service::throttle};

use crate::support::{
    Gql, PASSWORD, TestApp, TestDatabase, login_operation, process::ShopProcess,
    register_operation, spawn_app, spawn_app_with,
};

const WRONG: &str = "not the password";
const ACCOUNT_LIMIT: usize = 5;
const CLIENT_LIMIT: usize = 20;
const WINDOW_SECS: u64 = 15 * 60;
const REGISTER_LIMIT: usize = 5;
const REGISTER_WINDOW_SECS: u64 = 60 * 60;

/// Sends an operation with an `X-Forwarded-For` header, as a request through a load
/// balancer would.
async fn send_forwarded_for(
    app: &TestApp,
    forwarded_for: &str,
    (query, variables): (String, Value),
) -> Gql {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    let body = response.json().await.expect("a JSON body");
    Gql { status, body }
}

/// Logs in with an `X-Forwarded-For` header.
async fn login_forwarded_for(
    app: &TestApp,
    forwarded_for: &str,
    username: &str,
    password: &str,
) -> Gql {
    send_forwarded_for(app, forwarded_for, login_operation(username, password)).await
}

/// A server with the shop's own register limit, not the test kit's generous one.
async fn spawn_app_with_default_register_limit(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(|config| {
        config.registrations_per_hour = throttle::DEFAULT_REGISTRATIONS_PER_HOUR;
        adjust(config);
    })
    .await
}

/// Registers `username` anonymously, answering what the server said.
async fn try_register(app: &TestApp, username: &str) -> Gql {
    let (query, variables) = register_operation(username);
    app.gql(&query, variables).await
}

/// How many accounts exist, and how many welcome emails are queued or sent.
async fn accounts_and_welcomes(app: &TestApp) -> (u64, u64) {
    let users = user::Entity::find()
        .count(&app.db)
        .await
        .expect("count users");
    let welcomes = outbox_message::Entity::find()
        .all(&app.db)
        .await
        .expect("read the outbox")
        .iter()
        .filter(|message| message.kind == MessageKind::Welcome)
        .count() as u64;
    (users, welcomes)
}

/// Fails `count` logins of `username`, asserting each was a plain failure.
async fn fail_logins(app: &TestApp, username: &str, count: usize) {
    for attempt in 1..=count {
        let response = app.login(username, WRONG).await;
        assert_eq!(response.code(), "UNAUTHENTICATED", "attempt {attempt}");
    }
}

/// Asserts a RATE_LIMITED answer whose `retryAfter` lies within the login window.
fn assert_rate_limited(response: &Gql) {
    assert_rate_limited_within(response, WINDOW_SECS);
}

/// Asserts a RATE_LIMITED answer whose `retryAfter` lies within `window_secs`.
fn assert_rate_limited_within(response: &Gql, window_secs: u64) {
    // A refusal is a GraphQL error in an ordinary 200 response, like every other error.
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.code(), "RATE_LIMITED", "{:#}", response.body);
    let retry_after = response.error()["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_else(|| panic!("no retryAfter: {:#}", response.body));
    assert!(
        (1..=window_secs).contains(&retry_after),
        "retryAfter {retry_after}"
    );
}

#[tokio::test]
async fn after_five_failures_even_the_right_password_is_rate_limited() {
    let app = spawn_app().await;
    app.register("alice").await;
    fail_logins(&app, "alice", ACCOUNT_LIMIT).await;

    let response = app.login("alice", PASSWORD).await;

    assert_rate_limited(&response);
    assert!(response.body["data"].is_null());
}

#[tokio::test]
async fn a_locked_account_does_not_lock_out_other_accounts_of_the_same_client() {
    let app = spawn_app().await;
    app.register("alice").await;
    app.register("bob").await;
    fail_logins(&app, "alice", ACCOUNT_LIMIT).await;
    assert_rate_limited(&app.login("alice", PASSWORD).await);

    let bob = app.login("bob", PASSWORD).await;

    assert_eq!(bob.data()["login"]["user"]["username"], "bob");
}

#[tokio::test]
async fn the_account_limit_counts_the_username_and_the_email_together() {
    let app = spawn_app().await;
    app.register("alice").await;
    for (attempt, login) in [
        "alice",
        "alice@example.com",
        "ALICE",
        "Alice@Example.com",
        "alice",
    ]
    .into_iter()
    .enumerate()
    {
        let response = app.login(login, WRONG).await;
        assert_eq!(response.code(), "UNAUTHENTICATED", "attempt {attempt}");
    }

    let by_email = app.login("alice@example.com", PASSWORD).await;
    let by_name = app.login("alice", PASSWORD).await;

    assert_rate_limited(&by_email);
    assert_rate_limited(&by_name);
}

#[tokio::test]
async fn a_successful_login_before_the_limit_resets_the_accounts_failures() {
    let app = spawn_app().await;
    app.register("alice").await;
    fail_logins(&app, "alice", ACCOUNT_LIMIT - 1).await;
    app.login("alice", PASSWORD).await.data();

    fail_logins(&app, "alice", ACCOUNT_LIMIT - 1).await;
    let response = app.login("alice", PASSWORD).await;

    assert_eq!(response.data()["login"]["user"]["username"], "alice");
}

#[tokio::test]
async fn every_aliased_login_in_one_document_counts_as_an_attempt() {
    let app = spawn_app().await;
    app.register("alice").await;
    let aliases: String = (1..=ACCOUNT_LIMIT + 1)
        .map(|i| {
            format!(
                "a{i}: login(input: {{ username: \"alice\", password: \"{WRONG}\" }}) {{ accessToken }} "
            )
        })
        .collect();

    let response = app
        .gql(&format!("mutation {{ {aliases}}}"), json!({}))
        .await;

    // Mutations run one after another, so the errors come in alias order.
    let paths: Vec<_> = response.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| error["path"][0].clone())
        .collect();
    let aliases: Vec<_> = (1..=ACCOUNT_LIMIT + 1)
        .map(|i| json!(format!("a{i}")))
        .collect();
    assert_eq!(paths, aliases);
    let mut expected = vec!["UNAUTHENTICATED"; ACCOUNT_LIMIT];
    expected.push("RATE_LIMITED");
    assert_eq!(response.codes(), expected);
    let retry_after = &response.body["errors"][ACCOUNT_LIMIT]["extensions"]["retryAfter"];
    assert!(
        retry_after
            .as_u64()
            .is_some_and(|s| (1..=WINDOW_SECS).contains(&s)),
        "{retry_after}"
    );
    assert_rate_limited(&app.login("alice", PASSWORD).await);
}

#[tokio::test]
async fn twenty_failures_from_one_client_rate_limit_its_logins_to_any_account() {
    let app = spawn_app().await;
    app.register("carol").await;
    for i in 0..CLIENT_LIMIT {
        let response = app.login(&format!("ghost{i}"), WRONG).await;
        assert_eq!(response.code(), "UNAUTHENTICATED", "attempt {i}");
    }

    let response = app.login("carol", PASSWORD).await;

    assert_rate_limited(&response);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_limit_applies_per_forwarded_address() {
    let app = spawn_app_with(|config| config.trust_forwarded_for = true).await;
    app.register("carol").await;
    let attacker = "203.0.113.7";
    for i in 0..CLIENT_LIMIT {
        let response = login_forwarded_for(&app, attacker, &format!("ghost{i}"), WRONG).await;
        assert_eq!(response.code(), "UNAUTHENTICATED", "attempt {i}");
    }

    let from_attacker = login_forwarded_for(&app, attacker, "carol", PASSWORD).await;
    // The balancer appends the real address last; what the client put before it is ignored.
    let spoofed_prefix = login_forwarded_for(
        &app,
        &format!("198.51.100.1, {attacker}"),
        "carol",
        PASSWORD,
    )
    .await;
    let from_elsewhere = login_forwarded_for(&app, "198.51.100.9", "carol", PASSWORD).await;

    assert_rate_limited(&from_attacker);
    assert_rate_limited(&spoofed_prefix);
    assert_eq!(from_elsewhere.data()["login"]["user"]["username"], "carol");
}

#[tokio::test]
async fn without_a_trusted_proxy_a_spoofed_forwarded_for_does_not_escape_the_client_limit() {
    let app = spawn_app().await;
    app.register("carol").await;
    for i in 0..CLIENT_LIMIT {
        let response = login_forwarded_for(
            &app,
            &format!("198.51.100.{i}"),
            &format!("ghost{i}"),
            WRONG,
        )
        .await;
        assert_eq!(response.code(), "UNAUTHENTICATED", "attempt {i}");
    }

    let response = login_forwarded_for(&app, "192.0.2.250", "carol", PASSWORD).await;

    assert_rate_limited(&response);
}

#[tokio::test]
async fn the_account_limit_holds_across_client_addresses() {
    let app = spawn_app_with(|config| config.trust_forwarded_for = true).await;
    app.register("alice").await;
    for i in 0..ACCOUNT_LIMIT {
        let response =
            login_forwarded_for(&app, &format!("198.51.100.{}", i + 1), "alice", WRONG).await;
        assert_eq!(response.code(), "UNAUTHENTICATED", "attempt {i}");
    }

    let response = login_forwarded_for(&app, "192.0.2.1", "alice", PASSWORD).await;

    assert_rate_limited(&response);
}

#[tokio::test]
async fn a_sixth_registration_from_one_address_within_an_hour_is_rate_limited() {
    let app = spawn_app_with_default_register_limit(|_| {}).await;
    for i in 0..REGISTER_LIMIT {
        let response = try_register(&app, &format!("member{i}")).await;
        assert!(response.data()["register"]["accessToken"].is_string());
    }

    let response = try_register(&app, "one_too_many").await;

    assert_rate_limited_within(&response, REGISTER_WINDOW_SECS);
    assert!(response.body["data"].is_null());
    assert_eq!(
        app.login("one_too_many", PASSWORD).await.code(),
        "UNAUTHENTICATED"
    );
    let count = REGISTER_LIMIT as u64;
    assert_eq!(accounts_and_welcomes(&app).await, (count, count));
}

#[tokio::test]
async fn aliased_registrations_in_one_document_create_no_more_accounts_than_the_limit() {
    let limit = 2;
    let app = spawn_app_with(|config| config.registrations_per_hour = limit).await;
    let aliases: String = (1..=limit + 2)
        .map(|i| {
            format!(
                "r{i}: register(input: {{ username: \"farmed{i}\", email: \"farmed{i}@example.com\", \
                 password: \"{PASSWORD}\" }}) {{ accessToken }} "
            )
        })
        .collect();

    let response = app
        .gql(&format!("mutation {{ {aliases}}}"), json!({}))
        .await;

    assert_eq!(
        response.codes(),
        ["RATE_LIMITED", "RATE_LIMITED"],
        "{:#}",
        response.body
    );
    let refused: Vec<_> = response.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| error["path"][0].clone())
        .collect();
    assert_eq!(refused, [json!("r3"), json!("r4")]);
    let limit = u64::from(limit);
    assert_eq!(accounts_and_welcomes(&app).await, (limit, limit));
}

#[tokio::test]
async fn a_refused_registration_uses_up_none_of_the_allowance() {
    let app = spawn_app_with(|config| config.registrations_per_hour = 2).await;
    app.register("alice").await;
    let taken = try_register(&app, "alice").await;
    let invalid = try_register(&app, "x").await;

    let bob = try_register(&app, "bob").await;
    let carol = try_register(&app, "carol").await;

    assert_eq!(taken.code(), "CONFLICT");
    assert_eq!(invalid.code(), "BAD_USER_INPUT");
    assert_eq!(bob.data()["register"]["user"]["username"], "bob");
    assert_rate_limited_within(&carol, REGISTER_WINDOW_SECS);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_register_limit_applies_per_forwarded_address() {
    let app =
        spawn_app_with_default_register_limit(|config| config.trust_forwarded_for = true).await;
    let office = "203.0.113.7";
    for i in 0..REGISTER_LIMIT {
        let response =
            send_forwarded_for(&app, office, register_operation(&format!("clerk{i}"))).await;
        assert!(
            response.data()["register"]["accessToken"].is_string(),
            "clerk{i}"
        );
    }

    let from_office = send_forwarded_for(&app, office, register_operation("intern")).await;
    let from_home = send_forwarded_for(&app, "198.51.100.9", register_operation("neighbour")).await;

    assert_rate_limited_within(&from_office, REGISTER_WINDOW_SECS);
    assert_eq!(
        from_home.data()["register"]["user"]["username"],
        "neighbour"
    );
}

#[tokio::test]
async fn registrations_sent_at_once_create_no_more_accounts_than_the_limit() {
    let app = spawn_app_with_default_register_limit(|_| {}).await;

    let responses = join_all((0..3 * REGISTER_LIMIT).map(|i| {
        let app = &app;
        async move { try_register(app, &format!("rush{i}")).await }
    }))
    .await;

    let created = responses
        .iter()
        .filter(|r| r.body.get("errors").is_none())
        .count();
    for refused in responses.iter().filter(|r| r.body.get("errors").is_some()) {
        assert_rate_limited_within(refused, REGISTER_WINDOW_SECS);
    }
    assert!(created <= REGISTER_LIMIT, "{created} accounts were created");
    let created = created as u64;
    assert_eq!(accounts_and_welcomes(&app).await, (created, created));
}

#[tokio::test]
async fn registrations_through_two_processes_count_against_one_limit() {
    let database = TestDatabase::create().await;
    let settings = [("SHOP_REGISTRATIONS_PER_HOUR", "3".to_owned())];
    let (a, b) = tokio::join!(
        ShopProcess::start("process A", database.url(), &settings),
        ShopProcess::start("process B", database.url(), &settings),
    );
    a.register("first").await;
    b.register("second").await;
    a.register("third").await;

    let (query, variables) = register_operation("fourth");
    let on_b = b.gql(&query, variables.clone()).await;
    let on_a = a.gql(&query, variables).await;

    assert_rate_limited_within(&on_b, REGISTER_WINDOW_SECS);
    assert_rate_limited_within(&on_a, REGISTER_WINDOW_SECS);
}
