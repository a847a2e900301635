//! Login throttling: 5 failures per account and 20 per client address within 15 minutes,
//! then RATE_LIMITED with `retryAfter`.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{AUTH_FIELDS, Gql, PASSWORD, TestApp, spawn_app, spawn_app_with};

const WRONG: &str = "not the password";
const ACCOUNT_LIMIT: usize = 5;
const CLIENT_LIMIT: usize = 20;
const WINDOW_SECS: u64 = 15 * 60;

/// Logs in with an `X-Forwarded-For` header, as a request through a load balancer would.
async fn login_forwarded_for(
    app: &TestApp,
    forwarded_for: &str,
    username: &str,
    password: &str,
) -> Gql {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({
            "query": format!("mutation($input: LoginInput!) {{ login(input: $input) {{ {AUTH_FIELDS} }} }}"),
            "variables": { "input": { "username": username, "password": password } },
        }))
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    let body = response.json().await.expect("a JSON body");
    Gql { status, body }
}

/// Fails `count` logins of `username`, asserting each was a plain failure.
async fn fail_logins(app: &TestApp, username: &str, count: usize) {
    for attempt in 1..=count {
        let response = app.login(username, WRONG).await;
        assert_eq!(response.code(), "UNAUTHENTICATED", "attempt {attempt}");
    }
}

/// Asserts a RATE_LIMITED answer whose `retryAfter` lies within the window.
fn assert_rate_limited(response: &Gql) {
    // A refusal is a GraphQL error in an ordinary 200 response, like every other error.
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.code(), "RATE_LIMITED", "{:#}", response.body);
    let retry_after = response.error()["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_else(|| panic!("no retryAfter: {:#}", response.body));
    assert!(
        (1..=WINDOW_SECS).contains(&retry_after),
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
