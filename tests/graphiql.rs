//! GraphiQL at `GET /` works without internet: the page and every file it names come from
//! shop itself, and a headless Chromium that may reach nothing else runs a query and a
//! subscription in it.
//!
//! The browser tests need Node.js, `npm ci --prefix tests/browser` (playwright-core, with no
//! browser download) and Debian's Chromium at /usr/bin/chromium (or $CHROMIUM); .ci/run
//! installs all three. A machine without them skips those tests with a message, except
//! under CI, where they fail. With SHOP_GRAPHIQL_SCREENSHOT=<file.png> set, the query test
//! saves a screenshot of the page there.

use std::path::{Path, PathBuf};

use reqwest::{StatusCode, header};
use serde::Deserialize;
use serde_json::json;

use crate::{
    notifications::{buy, eventually, stock_product},
    support::{TestApp, spawn_app},
};

/// Every `src="..."` and `href="..."` of an HTML page, in order.
fn referenced_urls(page: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| {
            page.match_indices(attribute).filter_map(move |(at, _)| {
                let rest = &page[at + attribute.len()..];
                rest.find('"').map(|end| rest[..end].to_owned())
            })
        })
        .collect()
}

/// The content type a file under this name must be served with.
fn expected_content_type(path: &str) -> &'static str {
    match Path::new(path).extension().and_then(|e| e.to_str()) {
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("txt") => "text/plain",
        _ => "no file of this kind belongs to the page",
    }
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .send()
        .await
        .expect("request sent")
}

fn header_of(response: &reqwest::Response, name: header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_graphiql_page_names_no_other_host() {
    let app = spawn_app().await;

    let response = get(&app, "/").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(header_of(&response, header::CONTENT_TYPE).starts_with("text/html"));
    let page = response.text().await.expect("a body");
    for outside in [
        "https://",
        "http://",
        "unpkg",
        "cdn",
        "jsdelivr",
        "src=\"//",
        "href=\"//",
    ] {
        assert!(
            !page.contains(outside),
            "the page names {outside:?}:\n{page}"
        );
    }
}

#[tokio::test]
async fn every_file_the_graphiql_page_names_is_served_by_shop_with_its_content_type() {
    let app = spawn_app().await;
    let page = get(&app, "/").await.text().await.expect("a body");

    let urls = referenced_urls(&page);

    let kinds: Vec<&str> = urls.iter().map(|url| expected_content_type(url)).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| **kind == "text/javascript")
            .count(),
        3,
        "React, ReactDOM and GraphiQL: {urls:?}"
    );
    assert!(kinds.contains(&"text/css"), "{urls:?}");
    assert!(kinds.contains(&"text/plain"), "the licences: {urls:?}");
    for url in &urls {
        assert!(url.starts_with("/graphiql/"), "{url} is not one of shop's");
        let response = get(&app, url).await;
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let content_type = header_of(&response, header::CONTENT_TYPE);
        assert!(
            content_type.starts_with(expected_content_type(url)),
            "{url}: {content_type}"
        );
        let cache = header_of(&response, header::CACHE_CONTROL);
        assert!(cache.contains("immutable"), "{url}: {cache}");
        let body = response.text().await.expect("a body");
        assert!(body.len() > 500, "{url} is nearly empty");
        if url.ends_with(".css") {
            assert_stylesheet_loads_nothing_from_elsewhere(url, &body);
        }
    }
}

/// The stylesheet's fonts and images are inline (`data:`) and it imports nothing, so it
/// asks no host for anything.
fn assert_stylesheet_loads_nothing_from_elsewhere(url: &str, css: &str) {
    assert!(!css.contains("@import"), "{url} imports another stylesheet");
    let fetched: Vec<&str> = css
        .match_indices("url(")
        .map(|(at, _)| css[at + 4..].trim_start_matches(['"', '\'']))
        .filter(|target| !target.starts_with("data:"))
        .map(|target| &target[..target.len().min(60)])
        .collect();
    assert_eq!(fetched, Vec::<&str>::new(), "{url} fetches these");
}

#[tokio::test]
async fn a_file_graphiql_does_not_have_is_not_found() {
    let app = spawn_app().await;

    let unknown = get(&app, "/graphiql/graphiql-0.0.1.min.js").await;
    let escape = get(&app, "/graphiql/..%2FCargo.toml").await;

    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(escape.status(), StatusCode::NOT_FOUND);
}

// --- in a real browser ----------------------------------------------------------------

/// What tests/browser/graphiql.mjs saw.
#[derive(Debug, Deserialize)]
struct BrowserReport {
    /// The text of GraphiQL's result pane.
    result: Option<String>,
    /// Requests for another host (all refused).
    outside: Vec<String>,
    /// Requests of the page that failed or answered 4xx/5xx.
    failed: Vec<String>,
    /// Uncaught errors in the page, and the script's own (a timeout).
    errors: Vec<String>,
}

fn browser_script() -> Option<PathBuf> {
    crate::support::browser::browser_script("graphiql.mjs", "GraphiQL")
}

/// Opens GraphiQL on `document` (its `query` parameter), types `headers` (if any) into its
/// headers editor, presses run, and waits until the result pane shows `expected`.
async fn run_in_browser(
    script: &Path,
    app: &TestApp,
    document: &str,
    headers: Option<&str>,
    expected: &str,
    screenshot: Option<PathBuf>,
) -> BrowserReport {
    let mut page = url::Url::parse(&app.url("/")).expect("the server's URL");
    page.query_pairs_mut().append_pair("query", document);
    let mut command = tokio::process::Command::new("node");
    command.arg(script).arg(page.as_str()).arg(expected);
    if let Some(headers) = headers {
        command.env("GRAPHIQL_HEADERS", headers);
    }
    if let Some(screenshot) = screenshot {
        command.arg(screenshot);
    }
    let output = command.output().await.expect("node ran");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "{err}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn assert_offline_and_clean(report: &BrowserReport) {
    assert_eq!(report.outside, Vec::<String>::new(), "asked another host");
    assert_eq!(report.failed, Vec::<String>::new(), "requests failed");
    assert_eq!(report.errors, Vec::<String>::new(), "{:?}", report.result);
}

#[tokio::test]
async fn graphiql_runs_a_query_in_chromium_with_no_other_host_reachable() {
    let Some(script) = browser_script() else {
        return;
    };
    let app = spawn_app().await;
    let screenshot = std::env::var_os("SHOP_GRAPHIQL_SCREENSHOT").map(PathBuf::from);

    let report = run_in_browser(
        &script,
        &app,
        "{ __typename }",
        None,
        "\"Query\"",
        screenshot,
    )
    .await;

    assert_offline_and_clean(&report);
    let result = report.result.unwrap_or_default();
    assert!(result.contains("\"__typename\": \"Query\""), "{result}");
}

/// Subscriptions go over the WebSocket at /graphql/ws: the answer to an anonymous one is
/// the server's UNAUTHENTICATED, not a socket error or the HTTP endpoint's refusal.
#[tokio::test]
async fn graphiql_sends_a_subscription_over_the_websocket() {
    let Some(script) = browser_script() else {
        return;
    };
    let app = spawn_app().await;

    let report = run_in_browser(
        &script,
        &app,
        "subscription { orderUpdated { number } }",
        None,
        "UNAUTHENTICATED",
        None,
    )
    .await;

    assert_offline_and_clean(&report);
    let result = report.result.unwrap_or_default();
    assert!(result.contains("\"code\": \"UNAUTHENTICATED\""), "{result}");
}

/// With the access token in the headers editor (which GraphiQL sends as the
/// connection_init payload), a subscription hears the caller's order become PAID.
#[tokio::test]
async fn graphiql_hears_an_order_update_with_the_token_in_its_headers_editor() {
    let Some(script) = browser_script() else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let mug = stock_product(&app, &admin, "Mug", "9.50", 100).await;
    let alice = app.register("alice").await;
    let headers = json!({ "authorization": format!("Bearer {}", alice.access_token) }).to_string();

    let (report, order) = tokio::join!(
        run_in_browser(
            &script,
            &app,
            "subscription { orderUpdated { number status } }",
            Some(&headers),
            "PAID",
            None,
        ),
        async {
            eventually("GraphiQL's subscription listens", async || {
                (app.events.subscribers() == 1).then_some(())
            })
            .await;
            buy(&app, &alice, &mug, 1).await
        }
    );

    assert_offline_and_clean(&report);
    let result = report.result.unwrap_or_default();
    assert!(result.contains(&order.number), "{result}");
    assert!(result.contains("\"status\": \"PAID\""), "{result}");
}
