//! `GET /metrics`: what an operator's Prometheus scrapes. Counters live in one recorder
//! per process, shared by every test server running alongside, so tests compare a series
//! before and after their own requests and expect it to have grown by at least as much;
//! gauges of the database are each server's own, so they are exact.

use std::collections::HashMap;

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::{
    notifications::eventually,
    store::{DECLINED, PROCESSING_ERROR, VISA, open_shop},
    support::{TestApp, smtp::SmtpServer, spawn_app, spawn_app_with},
};

/// One scrape of `/metrics`.
pub(crate) struct Scrape {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Scrape {
    /// The value of the sample `name` whose labels include `labels`; `None` when there is
    /// no such sample (yet).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.body
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(parse_sample)
            .find(|(sample, sample_labels, _)| {
                sample == name
                    && labels
                        .iter()
                        .all(|(k, v)| sample_labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, value)| value)
    }

    /// A counter's value, 0 before it was first incremented.
    pub(crate) fn count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels).unwrap_or(0.0)
    }
}

/// `name{a="x",b="y"} 12` as its name, labels and value.
fn parse_sample(line: &str) -> Option<(String, HashMap<String, String>, f64)> {
    let (series, value) = line.rsplit_once(' ')?;
    let value = value.parse().ok()?;
    let (name, labels) = match series.split_once('{') {
        None => (series, HashMap::new()),
        Some((name, rest)) => {
            let labels = rest
                .strip_suffix('}')?
                .split("\",")
                .filter(|pair| !pair.is_empty())
                .filter_map(|pair| {
                    let (key, value) = pair.split_once("=\"")?;
                    Some((key.to_owned(), value.trim_end_matches('"').to_owned()))
                })
                .collect();
            (name, labels)
        }
    };
    Some((name.to_owned(), labels, value))
}

pub(crate) async fn scrape(app: &TestApp) -> Scrape {
    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.text().await.expect("a text body");
    Scrape {
        status,
        content_type,
        body,
    }
}

#[tokio::test]
async fn metrics_describe_the_process_and_the_build_beside_the_shop() {
    let app = spawn_app().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();

    let scrape = scrape(&app).await;

    let value = |name: &str| {
        scrape
            .value(name, &[])
            .unwrap_or_else(|| panic!("no {name} in:\n{}", scrape.body))
    };
    assert!(value("process_resident_memory_bytes") > 1_000_000.0);
    assert!(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"));
    // The database, the listener and the test client hold some at least.
    assert!(value("process_open_fds") >= 3.0);
    assert!(value("process_cpu_seconds_total") >= 0.0);
    assert!(
        scrape
            .body
            .contains("# TYPE process_cpu_seconds_total counter\n")
    );
    // This test process started in the last hour, and not in the future (ticks round).
    let started = value("process_start_time_seconds");
    assert!(
        started > now - 3_600.0 && started <= now + 1.0,
        "{started} vs {now}"
    );
    let build = scrape
        .body
        .lines()
        .find(|line| line.starts_with("shop_build_info{"))
        .unwrap_or_else(|| panic!("no shop_build_info in:\n{}", scrape.body));
    let (name, labels, value) = parse_sample(build).expect("a sample");
    assert_eq!(name, "shop_build_info");
    assert_eq!(value, 1.0);
    assert_eq!(labels["version"], env!("CARGO_PKG_VERSION"));
    assert!(!labels["commit"].is_empty(), "{build}");
}

const REQUESTS: &str = "shop_graphql_requests_total";
const DURATIONS: &str = "shop_graphql_request_duration_seconds_count";
const CHECKOUTS: &str = "shop_checkouts_total";
const COMPLETIONS: &str = "shop_payment_completions_total";

#[tokio::test]
async fn metrics_answer_in_prometheus_text_format_with_the_pool_and_the_outbox() {
    let app = spawn_app().await;

    let scrape = scrape(&app).await;

    assert_eq!(scrape.status, StatusCode::OK);
    assert!(
        scrape.content_type.starts_with("text/plain"),
        "{}",
        scrape.content_type
    );
    assert!(scrape.content_type.contains("version=0.0.4"));
    assert!(
        scrape.body.contains("# TYPE shop_outbox_messages gauge\n"),
        "{}",
        scrape.body
    );
    assert_eq!(
        scrape.value("shop_outbox_messages", &[("state", "pending")]),
        Some(0.0)
    );
    assert_eq!(
        scrape.value("shop_outbox_messages", &[("state", "dead")]),
        Some(0.0)
    );
    assert_eq!(
        scrape.value("shop_db_pool_max_connections", &[]),
        Some(16.0)
    );
    let open = scrape
        .value("shop_db_pool_connections", &[])
        .expect("the pool size");
    let idle = scrape
        .value("shop_db_pool_idle_connections", &[])
        .expect("the idle connections");
    assert!((1.0..=16.0).contains(&open), "{open}");
    assert!(idle <= open, "{idle} idle of {open}");
}

#[tokio::test]
async fn a_products_query_is_counted_and_timed_under_its_root_field() {
    let app = spawn_app().await;
    let ok = [("operation", "query:products"), ("outcome", "ok")];
    let timed = [("operation", "query:products")];
    let before = scrape(&app).await;

    app.gql("{ products(first: 5) { totalCount } }", json!({}))
        .await
        .data();

    let after = scrape(&app).await;
    assert!(after.count(REQUESTS, &ok) >= before.count(REQUESTS, &ok) + 1.0);
    assert!(after.count(DURATIONS, &timed) >= before.count(DURATIONS, &timed) + 1.0);
    assert!(
        after
            .body
            .contains("shop_graphql_request_duration_seconds_bucket{operation=\"query:products\",le=\"0.005\"}"),
        "latencies are a histogram with buckets:\n{}",
        after.body
    );
}

#[tokio::test]
async fn an_error_is_counted_under_its_final_code() {
    let app = spawn_app().await;
    let customer = app.register("mallory").await;
    let forbidden = [
        ("operation", "mutation:createProduct"),
        ("outcome", "FORBIDDEN"),
    ];
    // A document that fails validation gets its code from the error extension only.
    let bad_input = [
        ("operation", "query:me"),
        ("outcome", "GRAPHQL_VALIDATION_FAILED"),
    ];
    let before = scrape(&app).await;

    let refused = app
        .gql_as(
            &customer,
            "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
            json!({ "input": {
                "name": "Contraband",
                "description": "not for sale",
                "price": "1.00",
                "stock": 1,
            }}),
        )
        .await;
    let invalid = app
        .gql_as(&customer, "{ me { passwordHash } }", json!({}))
        .await;

    assert_eq!(refused.code(), "FORBIDDEN");
    assert_eq!(invalid.code(), "GRAPHQL_VALIDATION_FAILED");
    let after = scrape(&app).await;
    assert!(after.count(REQUESTS, &forbidden) >= before.count(REQUESTS, &forbidden) + 1.0);
    assert!(after.count(REQUESTS, &bad_input) >= before.count(REQUESTS, &bad_input) + 1.0);
}

#[tokio::test]
async fn neither_an_operation_name_nor_a_field_a_client_makes_up_becomes_a_label() {
    let app = spawn_app().await;
    let invalid = [
        ("operation", "invalid"),
        ("outcome", "GRAPHQL_VALIDATION_FAILED"),
    ];
    let before = scrape(&app).await;

    let named = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({
            "query": "query ClientChosenNameXyzzy { products(first: 1) { totalCount } }",
            "operationName": "ClientChosenNameXyzzy",
        }))
        .send()
        .await
        .expect("request sent");
    assert_eq!(named.status(), StatusCode::OK);
    let made_up = app.gql("{ clientInventedFieldPlugh }", json!({})).await;
    assert_eq!(made_up.code(), "GRAPHQL_VALIDATION_FAILED");

    let after = scrape(&app).await;
    assert!(!after.body.contains("Xyzzy"), "{}", after.body);
    assert!(!after.body.contains("Plugh"), "{}", after.body);
    assert!(after.count(REQUESTS, &invalid) >= before.count(REQUESTS, &invalid) + 1.0);
}

#[tokio::test]
async fn checkouts_are_counted_by_how_they_ended_and_the_method_they_paid_with() {
    let shop = open_shop().await;
    let product = shop.product("Teapot", "20.00", 10).await;
    let alice = shop.register("alice").await;
    // Every checkout here pays with the only method, the test gateway.
    let outcome = |name| [("outcome", name), ("method", "test")];
    let before = scrape(&shop).await;

    shop.buy(&alice, &product, 1).await;
    shop.put_in_cart(&alice, &product, 1).await;
    assert_eq!(
        shop.checkout(&alice, DECLINED, None).await.code(),
        "PAYMENT_DECLINED"
    );
    assert_eq!(
        shop.checkout(&alice, PROCESSING_ERROR, None).await.code(),
        "PAYMENT_DECLINED"
    );
    shop.checkout(&alice, VISA, Some("once")).await.data();
    shop.put_in_cart(&alice, &product, 1).await;
    shop.checkout(&alice, VISA, Some("once")).await.data();
    shop.change_product(&product, json!({ "stock": 0 })).await;
    assert_eq!(
        shop.checkout(&alice, VISA, None).await.code(),
        "OUT_OF_STOCK"
    );

    let after = scrape(&shop).await;
    for (name, at_least) in [
        ("paid", 2.0),
        ("declined", 1.0),
        ("payment_error", 1.0),
        ("replayed", 1.0),
        ("out_of_stock", 1.0),
    ] {
        let grown =
            after.count(CHECKOUTS, &outcome(name)) - before.count(CHECKOUTS, &outcome(name));
        assert!(grown >= at_least, "{name}: grew by {grown}");
    }
}

#[tokio::test]
async fn payments_that_wait_for_their_customer_are_counted_as_they_start_and_as_they_end() {
    let shop = open_shop().await;
    let product = shop.product("Teapot", "20.00", 10).await;
    let alice = shop.register("alice").await;
    let completions = |by, outcome| [("by", by), ("outcome", outcome)];
    let waiting = [("outcome", "requires_action"), ("method", "test")];
    let before = scrape(&shop).await;

    shop.put_in_cart(&alice, &product, 1).await;
    let order = shop
        .checkout(&alice, "tok_threeDSecureRequired", None)
        .await
        .data()["checkout"]
        .clone();
    let number = order["number"].as_str().expect("a number");
    let confirm = "mutation($n: String!) { confirmPayment(orderNumber: $n) }";
    shop.gql(confirm, json!({ "n": number })).await.data();
    let page = shop
        .gql_as(
            &alice,
            "query($id: ID!) { order(id: $id) { payment { redirectUrl } } }",
            json!({ "id": order["id"] }),
        )
        .await
        .data()["order"]["payment"]["redirectUrl"]
        .as_str()
        .expect("a page")
        .to_owned();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    no_redirects
        .post(page)
        .form(&[("outcome", "succeed")])
        .send()
        .await
        .expect("answered");

    let after = scrape(&shop).await;
    let grown =
        |name, labels: &[(&str, &str)]| after.count(name, labels) - before.count(name, labels);
    assert!(grown(CHECKOUTS, &waiting) >= 1.0);
    assert!(grown(COMPLETIONS, &completions("confirm_payment", "waiting")) >= 1.0);
    assert!(grown(COMPLETIONS, &completions("authentication_page", "paid")) >= 1.0);
}

#[tokio::test]
async fn logins_refused_by_throttling_are_counted() {
    let app = spawn_app().await;
    app.register("alice").await;
    let login = [("scope", "login")];
    let before = scrape(&app).await;

    for _ in 0..5 {
        assert_eq!(
            app.login("alice", "not the password").await.code(),
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(
        app.login("alice", "not the password").await.code(),
        "RATE_LIMITED"
    );

    let after = scrape(&app).await;
    assert!(
        after.count("shop_throttled_total", &login)
            >= before.count("shop_throttled_total", &login) + 1.0
    );
}

#[tokio::test]
async fn mail_given_up_on_shows_as_dead_in_the_outbox_and_its_deliveries() {
    let smtp = SmtpServer::refusing_first(3).await;
    let url = smtp.url();
    let app = spawn_app_with(|config| {
        config.smtp_url = Some(url);
        config.mail_poll_ms = 50;
        config.mail_retry_ms = 50;
        config.mail_max_attempts = 3;
    })
    .await;
    let deliveries = "shop_outbox_deliveries_total";
    let before = scrape(&app).await;

    app.register("alice").await;

    // The worker counts a delivery just after it commits the message's new state, so a
    // scrape in between sees the message dead but not yet its delivery: wait for both.
    let after = eventually("the welcome mail is given up on and counted", async || {
        let scrape = scrape(&app).await;
        let dead = scrape.value("shop_outbox_messages", &[("state", "dead")]) == Some(1.0);
        let counted = scrape.count(deliveries, &[("outcome", "dead")])
            > before.count(deliveries, &[("outcome", "dead")]);
        (dead && counted).then_some(scrape)
    })
    .await;
    assert_eq!(
        after.value("shop_outbox_messages", &[("state", "pending")]),
        Some(0.0)
    );
    let grown = |outcome| {
        after.count(deliveries, &[("outcome", outcome)])
            - before.count(deliveries, &[("outcome", outcome)])
    };
    assert!(
        grown("retrying") >= 2.0,
        "retrying grew by {}",
        grown("retrying")
    );
    assert!(grown("dead") >= 1.0, "dead grew by {}", grown("dead"));
}

#[tokio::test]
async fn with_metrics_off_there_is_no_metrics_route() {
    let app = spawn_app_with(|config| config.metrics = false).await;

    let scrape = scrape(&app).await;

    assert_eq!(scrape.status, StatusCode::NOT_FOUND);
}
