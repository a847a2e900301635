//! The request log of a real `shop serve` process, as an operator's log shipper reads it
//! from stderr: one line per request, JSON when asked for, never a colour code in a pipe,
//! never a token or a password.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    PASSWORD, TestDatabase,
    process::{ShopProcess, serve_command},
};

/// How long a request's line may take to reach the test through the pipe.
const LOG_TIMEOUT: Duration = Duration::from_secs(10);

/// `shop serve` with its stderr a pipe and the test kit's NO_COLOR taken away: only the
/// server's own check can keep colour codes out.
async fn start(database: &TestDatabase, env: &[(&str, String)]) -> ShopProcess {
    let mut command = serve_command(database.url(), env);
    command.env_remove("NO_COLOR");
    ShopProcess::start_command("logging shop", command).await
}

/// The log lines that mention `needle`, once there is at least one.
async fn lines_with(shop: &ShopProcess, needle: &str) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + LOG_TIMEOUT;
    loop {
        let lines: Vec<String> = shop
            .log()
            .lines()
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect();
        if !lines.is_empty() {
            return lines;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no log line mentions {needle}:\n{}",
            shop.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends `query` with a request id and a bearer token; answers the HTTP status.
async fn send(
    shop: &ShopProcess,
    request_id: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> u16 {
    shop.client
        .post(shop.url("/graphql"))
        .bearer_auth(token)
        .header("x-request-id", request_id)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request sent")
        .status()
        .as_u16()
}

#[tokio::test]
async fn with_json_logs_each_request_is_one_json_line_with_its_operation_and_no_secret() {
    let database = TestDatabase::create().await;
    let shop = start(&database, &[("SHOP_LOG_FORMAT", "json".into())]).await;
    let session = shop.register("logged_alice").await;
    let change = "mutation ChangePassword($input: UpdateAccountInput!) { \
        updateAccount(input: $input) { id } }";
    let secret = "a-new-secret-password-never-logged";
    let variables = json!({ "input": { "currentPassword": PASSWORD, "newPassword": secret } });

    let me = send(
        &shop,
        "log-me-1",
        &session.access_token,
        "query WhoAmI { me { username } }",
        json!({}),
    )
    .await;
    send(
        &shop,
        "log-change-1",
        &session.access_token,
        change,
        variables,
    )
    .await;

    assert_eq!(me, 200);
    let lines = lines_with(&shop, "log-me-1").await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let line: Value = serde_json::from_str(&lines[0]).expect("a JSON object");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["status"], 200);
    assert!(line["duration_ms"].as_f64().is_some(), "{line}");
    let span = &line["span"];
    assert_eq!(span["method"], "POST");
    assert_eq!(span["path"], "/graphql");
    assert_eq!(span["request_id"], "log-me-1");
    assert_eq!(span["operation_type"], "query");
    assert_eq!(span["operation_name"], "WhoAmI");
    let change_line: Value =
        serde_json::from_str(&lines_with(&shop, "log-change-1").await[0]).expect("JSON");
    assert_eq!(change_line["span"]["operation_type"], "mutation");
    assert_eq!(change_line["span"]["operation_name"], "ChangePassword");

    let log = shop.log();
    for line in log.lines() {
        assert!(
            serde_json::from_str::<Value>(line).is_ok_and(|v| v.is_object()),
            "{line}"
        );
    }
    for secret in [
        session.access_token.as_str(),
        &session.refresh_token,
        PASSWORD,
        secret,
    ] {
        assert!(!log.contains(secret), "{secret} was logged:\n{log}");
    }
}

#[tokio::test]
async fn text_logs_into_a_pipe_have_no_colour_codes_and_one_line_per_request() {
    let database = TestDatabase::create().await;
    let shop = start(&database, &[]).await;
    let session = shop.register("logged_bob").await;

    send(
        &shop,
        "log-text-1",
        &session.access_token,
        "query Me { me { id } }",
        json!({}),
    )
    .await;

    let lines = lines_with(&shop, "log-text-1").await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let parts = [
        "method=POST",
        "path=/graphql",
        "status=200",
        "duration_ms=",
        "operation_type=query",
        "operation_name=Me",
    ];
    for part in parts {
        assert!(lines[0].contains(part), "{part} missing from {}", lines[0]);
    }
    let log = shop.log();
    assert!(!log.contains('\u{1b}'), "colour codes in a pipe:\n{log}");
    assert!(!log.contains(&session.access_token), "{log}");
}
