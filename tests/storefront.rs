//! The storefront at `/store`: served from the binary with its content types and a strict
//! Content-Security-Policy, deep links answered with the page, 404 when turned off; and in a
//! real browser, a customer's journeys on the demo catalog.
//!
//! The browser tests need what tests/graphiql.rs's do (Node.js, `npm ci --prefix
//! tests/browser`, Debian's Chromium) and skip the same way without them, except under CI.
//! With SHOP_STOREFRONT_SCREENSHOTS=<folder> set, they save screenshots of the main pages
//! there.

use std::{path::PathBuf, process::Stdio};

use reqwest::{StatusCode, header};
use serde::Deserialize;
use serde_json::json;
use shop::{config::Config, service::demo};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::{
    notifications::eventually,
    support::{TestApp, smtp::SmtpServer, spawn_app, spawn_app_with},
};

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

/// Every `src="..."` and `href="..."` of a page that points into the storefront's files.
fn storefront_files(page: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| {
            page.match_indices(attribute).filter_map(move |(at, _)| {
                let rest = &page[at + attribute.len()..];
                rest.find('"').map(|end| rest[..end].to_owned())
            })
        })
        .filter(|url| url.starts_with("/store/assets/"))
        .collect()
}

/// The policy allows scripts, styles and connections from shop alone, and nothing inline.
fn assert_strict_policy(response: &reqwest::Response) {
    let policy = header_of(response, header::CONTENT_SECURITY_POLICY);
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    for loose in [
        "unsafe-inline",
        "unsafe-eval",
        "script-src",
        "connect-src",
        "*",
    ] {
        assert!(!policy.contains(loose), "{loose} in {policy}");
    }
    assert_eq!(
        header_of(response, header::X_CONTENT_TYPE_OPTIONS),
        "nosniff"
    );
    assert_eq!(header_of(response, header::REFERRER_POLICY), "no-referrer");
}

#[tokio::test]
async fn the_storefront_is_served_at_store_as_html_under_a_strict_policy() {
    let app = spawn_app().await;

    let response = get(&app, "/store").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(header_of(&response, header::CONTENT_TYPE).starts_with("text/html"));
    assert_strict_policy(&response);
    let page = response.text().await.expect("a body");
    assert!(page.contains("/store/assets/app.js"), "{page}");
    assert!(!page.contains("<script>"), "no inline script: {page}");
}

#[tokio::test]
async fn a_deep_link_into_the_storefront_serves_the_same_page() {
    let app = spawn_app().await;
    let home = get(&app, "/store").await.text().await.expect("a body");

    for path in [
        "/store/",
        "/store/products/a-product",
        "/store/orders/SO-7K2M9QXA4B",
        "/store/reset-password?token=abc",
    ] {
        let response = get(&app, path).await;

        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(header_of(&response, header::CONTENT_TYPE).starts_with("text/html"));
        assert_strict_policy(&response);
        assert_eq!(response.text().await.expect("a body"), home, "{path}");
    }
}

#[tokio::test]
async fn every_file_the_storefront_names_is_served_with_its_content_type() {
    let app = spawn_app().await;
    let page = get(&app, "/store").await.text().await.expect("a body");
    let mut files = storefront_files(&page);
    // Modules the entry imports, and one the router loads later.
    files.extend(["/store/assets/cart.js", "/store/assets/pages/checkout.js"].map(String::from));

    assert!(files.iter().any(|file| file.ends_with(".css")), "{files:?}");
    for file in &files {
        let response = get(&app, file).await;
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        let content_type = header_of(&response, header::CONTENT_TYPE);
        let expected = match file.rsplit('.').next() {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            Some("svg") => "image/svg+xml",
            _ => panic!("{file} is of no kind the storefront has"),
        };
        assert!(content_type.starts_with(expected), "{file}: {content_type}");
        assert_strict_policy(&response);
        assert!(!response.text().await.expect("a body").is_empty(), "{file}");
    }
}

#[tokio::test]
async fn an_unchanged_storefront_file_is_answered_not_modified() {
    let app = spawn_app().await;
    let first = get(&app, "/store/assets/app.js").await;
    let etag = header_of(&first, header::ETAG);
    assert!(!etag.is_empty(), "no ETag");

    let again = app
        .client
        .get(app.url("/store/assets/app.js"))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("request sent");

    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header_of(&again, header::CACHE_CONTROL), "no-cache");
}

#[tokio::test]
async fn a_file_the_storefront_does_not_have_is_not_found() {
    let app = spawn_app().await;

    let unknown = get(&app, "/store/assets/nothing.js").await;
    let escape = get(&app, "/store/assets/..%2F..%2FCargo.toml").await;

    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(escape.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn with_the_storefront_turned_off_store_is_not_found() {
    let app = spawn_app_with(|config| config.storefront = false).await;

    for path in ["/store", "/store/cart", "/store/assets/app.js"] {
        assert_eq!(
            get(&app, path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // The API is unaffected.
    assert_eq!(get(&app, "/healthz").await.status(), StatusCode::OK);
}

// --- in a real browser ----------------------------------------------------------------

/// What tests/browser/storefront.mjs saw.
#[derive(Debug, Deserialize)]
struct Journey {
    /// What the journey read off the pages, by step.
    seen: serde_json::Map<String, serde_json::Value>,
    /// Requests for another host other than product images (all refused).
    outside: Vec<String>,
    /// Requests to shop that failed or answered 4xx/5xx.
    failed: Vec<String>,
    /// Uncaught errors and console errors of the page, and the script's own (a step that
    /// timed out, with the page's text then).
    errors: Vec<String>,
    #[serde(rename = "failedAt")]
    failed_at: Option<serde_json::Value>,
    /// Form controls of the main pages that nothing names (no label, no aria-label).
    unlabelled: Vec<String>,
}

impl Journey {
    fn seen(&self, step: &str) -> &serde_json::Value {
        self.seen
            .get(step)
            .unwrap_or_else(|| panic!("the journey did not get to {step}: {self:#?}"))
    }

    fn text(&self, step: &str) -> String {
        match self.seen(step) {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        }
    }

    fn assert_clean(&self) {
        assert_eq!(self.errors, Vec::<String>::new(), "{:#?}", self.failed_at);
        assert_eq!(self.outside, Vec::<String>::new(), "asked another host");
        assert_eq!(self.failed, Vec::<String>::new(), "requests failed");
        assert_eq!(
            self.unlabelled,
            Vec::<String>::new(),
            "controls without a name"
        );
    }
}

fn browser_script() -> Option<PathBuf> {
    crate::support::browser::browser_script("storefront.mjs", "storefront")
}

/// A shop with the demo catalog (120 products), shipping, tax and WELCOME10, listening on
/// a port chosen before it starts: the 3-D Secure page sends the customer back to
/// SHOP_PUBLIC_URL, whose default is this server's own `/store`, so that default must name
/// the real port (port 0 would not). The port is free when chosen; another process could
/// take it before the server binds, which would fail the start loudly, never silently.
async fn spawn_demo_shop() -> TestApp {
    spawn_demo_shop_with(|_| {}).await
}

/// [`spawn_demo_shop`], with the configuration adjusted first.
async fn spawn_demo_shop_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let app = spawn_app_with(|config| {
        config.listen = format!("127.0.0.1:{port}").parse().expect("valid");
        adjust(config);
    })
    .await;
    demo::seed_catalog(&app.db, 120).await.expect("catalog");
    demo::seed_shipping_and_tax(&app.db)
        .await
        .expect("shipping and tax");
    demo::seed_discount_code(&app.db).await.expect("WELCOME10");
    app
}

/// Runs `journey` of storefront.mjs against `app`. When the journey asks for its order
/// to be shipped, an admin ships it through the API once the page's subscription is
/// listening, with tracking, and tells the journey to carry on; when it asks for an
/// emailed link, the link is read from the mail `smtp` received.
async fn run_journey(
    script: &std::path::Path,
    app: &TestApp,
    journey: &str,
    smtp: Option<&SmtpServer>,
) -> Journey {
    let mut command = tokio::process::Command::new("node");
    command
        .arg(script)
        .arg(app.url("").trim_end_matches('/'))
        .arg(journey)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if let Some(folder) = std::env::var_os("SHOP_STOREFRONT_SCREENSHOTS") {
        command.arg(folder);
    }
    let mut child = command.spawn().expect("node starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut report = None;
    while let Some(line) = lines.next_line().await.expect("node's output") {
        let message: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("{err}: the script printed {line}"));
        if message["waiting"] == "ship" {
            let number = message["order"].as_str().expect("an order number");
            ship_as_admin(app, number).await;
            stdin.write_all(b"shipped\n").await.expect("node reads");
            stdin.flush().await.expect("node reads");
        } else if message["waiting"] == "mail" {
            let smtp = smtp.expect("the journey reads mail: give it an SMTP server");
            let email = message["email"].as_str().expect("an email");
            let page = message["link"].as_str().expect("which link");
            let link = emailed_link(smtp, email, &app.url(&format!("/store/{page}?token="))).await;
            stdin
                .write_all(format!("{link}\n").as_bytes())
                .await
                .expect("node reads");
            stdin.flush().await.expect("node reads");
        } else {
            report = Some(serde_json::from_value(message).expect("a journey report"));
        }
    }
    assert!(child.wait().await.expect("node ran").success());
    report.expect("the journey's report")
}

/// The link starting with `start` in the latest mail to `email`, once one has it.
async fn emailed_link(smtp: &SmtpServer, email: &str, start: &str) -> String {
    eventually(&format!("a mail to {email} links to {start}"), async || {
        smtp.messages()
            .iter()
            .rev()
            .filter(|mail| mail.is_to(email))
            .find_map(|mail| {
                let at = mail.text.find(start)?;
                let link = &mail.text[at..];
                Some(link[..link.find(char::is_whitespace).unwrap_or(link.len())].to_owned())
            })
    })
    .await
}

async fn ship_as_admin(app: &TestApp, number: &str) {
    let admin = app.admin("root").await;
    // The page's subscription is the only one: once the server has it, SHIPPED reaches it.
    eventually("the order page's subscription listens", async || {
        (app.events.subscribers() >= 1).then_some(())
    })
    .await;
    let orders = app
        .gql_as(
            &admin,
            "{ allOrders(first: 10) { nodes { id number } } }",
            json!({}),
        )
        .await;
    let id = orders.data()["allOrders"]["nodes"]
        .as_array()
        .expect("orders")
        .iter()
        .find(|order| order["number"] == number)
        .map(|order| order["id"].clone())
        .unwrap_or_else(|| panic!("no order {number}"));
    let shipped = app
        .gql_as(
            &admin,
            "mutation Ship($id: ID!) { updateOrderStatus(id: $id, status: SHIPPED, \
             tracking: { carrier: \"UPS\", number: \"1Z999AA10123456784\" }) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(shipped.data()["updateOrderStatus"]["status"], "SHIPPED");
}

#[tokio::test]
async fn a_guest_buys_a_variant_with_3d_secure_and_watches_the_order_ship_live() {
    let Some(script) = browser_script() else {
        return;
    };
    let app = spawn_demo_shop().await;

    let journey = run_journey(&script, &app, "guest", None).await;

    journey.assert_clean();
    // Browsing: a page of 24, "Load more" brings the next; the filters are in the address.
    assert_eq!(journey.seen("productsOnFirstPage"), 24);
    assert_eq!(journey.seen("productsAfterLoadMore"), 48);
    let filtered = journey.text("filteredUrl");
    assert!(
        filtered.contains("category=tops") && filtered.contains("inStock=1"),
        "{filtered}"
    );
    // Sold-out variants are shown, labelled, and cannot be chosen.
    assert_eq!(
        journey.seen("soldOutVariants"),
        journey.seen("soldOutLabelled")
    );
    // The guest's cart lives in localStorage, survives a reload, and merges on register.
    assert!(journey.text("guestCartId").starts_with("guest_"));
    assert_eq!(journey.seen("cartLinesAfterReload"), 1);
    assert_eq!(
        journey.seen("guestCartIdAfterRegister"),
        &serde_json::Value::Null
    );
    let product = journey.text("productName");
    let variant = journey.text("variant");
    let checkout_lines = journey.text("checkoutLines");
    assert!(
        checkout_lines.contains(&product) && checkout_lines.contains(&variant),
        "{checkout_lines}"
    );
    // WELCOME10, Express to GB, and GB's tax, in the cart and at checkout.
    for step in ["cartTotals", "checkoutTotals"] {
        let totals = journey.text(step);
        assert!(totals.contains("Discount (WELCOME10)"), "{step}: {totals}");
        assert!(totals.contains("$14.95"), "{step}: {totals}");
    }
    // 3-D Secure, back to the order page: PAID; then SHIPPED with tracking, live.
    assert_eq!(journey.seen("paid"), true);
    assert_eq!(journey.seen("shipped"), true);
    assert!(journey.text("tracking").contains("UPS 1Z999AA10123456784"));
    let number = journey.text("order");
    assert!(journey.text("history").contains(&number));
}

#[tokio::test]
async fn a_declined_card_at_phone_width_says_so_and_keeps_the_cart() {
    let Some(script) = browser_script() else {
        return;
    };
    let app = spawn_demo_shop().await;

    let journey = run_journey(&script, &app, "declined", None).await;

    journey.assert_clean();
    assert_eq!(
        journey.text("focusedAfterQuantity"),
        "Add to cart",
        "by keyboard"
    );
    assert!(journey.text("declineMessage").contains("declined"));
    assert_eq!(journey.text("stillOnCheckout"), "/store/checkout");
    assert_eq!(journey.seen("cartAfter"), journey.seen("cartBefore"));
    assert_eq!(
        journey.seen("pageWiderThanPhone"),
        false,
        "it scrolls sideways"
    );
}

#[tokio::test]
async fn email_links_open_pages_that_verify_and_reset_and_a_user_keeps_lines_and_carts_for_later() {
    let Some(script) = browser_script() else {
        return;
    };
    let smtp = SmtpServer::start().await;
    let app = spawn_demo_shop_with(|config| {
        config.smtp_url = Some(smtp.url());
        config.mail_poll_ms = 50;
    })
    .await;

    let journey = run_journey(&script, &app, "account", Some(&smtp)).await;

    journey.assert_clean();
    // The pages take the token out of the address bar once they hold it.
    assert_eq!(journey.text("verifyAddressAfter"), "");
    assert_eq!(journey.text("resetAddressAfter"), "");
    assert_eq!(journey.seen("signedInWithNewPassword"), true);
    // Signing in merged the guest cart filled just before.
    assert_eq!(journey.seen("linesMergedOnSignIn"), 1);
    // The user's cart: saved for later and back, put aside and restored.
    assert_eq!(journey.seen("savedForLater"), true);
    assert_eq!(journey.seen("cartRestored"), 1);
}
