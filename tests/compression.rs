//! Response compression: gzip, br and zstd as the client accepts, for bodies of 1 KiB or
//! more; small answers, the WebSocket upgrade and requests that do not ask stay plain.

use std::io::Read;

use reqwest::header;
use serde_json::{Value, json};
use shop::service::demo;

use crate::support::{TestApp, spawn_app};

/// A storefront's list page: 100 products with what a product card shows.
const PAGE_OF_100: &str = "{ products(first: 100) { edges { cursor node { id name slug \
    price { amount currencyCode } inStock category { name slug } } } \
    pageInfo { hasNextPage endCursor } } }";

/// A query answered with about `aliases * 16` bytes of JSON.
fn typenames(aliases: usize) -> String {
    let fields: Vec<String> = (0..aliases)
        .map(|i| format!("a{i:03}: __typename"))
        .collect();
    format!("{{ {} }}", fields.join(" "))
}

/// The raw answer to `query`, sent with `accept-encoding` when given.
async fn post(
    app: &TestApp,
    query: &str,
    accept_encoding: Option<&str>,
) -> (Option<String>, Vec<u8>) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }));
    if let Some(accepted) = accept_encoding {
        request = request.header(header::ACCEPT_ENCODING, accepted);
    }
    let response = request.send().await.expect("request sent");
    assert!(response.status().is_success(), "{}", response.status());
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.bytes().await.expect("body read").to_vec();
    (encoding, body)
}

fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::new();
    match encoding {
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_end(&mut decoded)
            .map(drop),
        "br" => brotli_decompressor::Decompressor::new(body, 4096)
            .read_to_end(&mut decoded)
            .map(drop),
        "zstd" => zstd::stream::decode_all(body).map(|plain| decoded = plain),
        other => panic!("unexpected encoding {other}"),
    }
    .unwrap_or_else(|err| panic!("the {encoding} body does not decode: {err}"));
    decoded
}

#[tokio::test]
async fn a_page_of_100_products_comes_gzip_br_or_zstd_compressed_as_the_client_accepts() {
    let app = spawn_app().await;
    demo::seed_catalog(&app.db, 100)
        .await
        .expect("catalog seeded");
    let (plain_encoding, plain) = post(&app, PAGE_OF_100, None).await;
    let page: Value = serde_json::from_slice(&plain).expect("JSON");
    assert_eq!(
        page["data"]["products"]["edges"].as_array().map(Vec::len),
        Some(100)
    );
    assert_eq!(plain_encoding, None);

    for encoding in ["gzip", "br", "zstd"] {
        let (used, body) = post(&app, PAGE_OF_100, Some(encoding)).await;

        assert_eq!(used.as_deref(), Some(encoding));
        assert_eq!(decode(encoding, &body), plain, "{encoding}");
        assert!(
            body.len() * 4 < plain.len(),
            "{encoding}: {} of {}",
            body.len(),
            plain.len()
        );
        // The figures for the README: cargo test ... -- --nocapture
        println!(
            "100-product page: {} bytes plain, {} bytes {encoding}",
            plain.len(),
            body.len()
        );
    }
    // A client accepting several gets one of them, by its preference.
    let (used, _) = post(&app, PAGE_OF_100, Some("gzip;q=0.5, br;q=1.0")).await;
    assert_eq!(used.as_deref(), Some("br"));
}

#[tokio::test]
async fn only_answers_of_1_kib_or_more_are_compressed() {
    let app = spawn_app().await;

    let (small_encoding, small) = post(&app, &typenames(30), Some("gzip, br, zstd")).await;
    let (large_encoding, large) = post(&app, &typenames(80), Some("gzip")).await;

    assert!((32..1024).contains(&small.len()), "{}", small.len());
    assert_eq!(small_encoding, None);
    assert_eq!(large_encoding.as_deref(), Some("gzip"));
    assert!(decode("gzip", &large).len() >= 1024);
}

#[tokio::test]
async fn a_metrics_scrape_that_does_not_ask_for_compression_is_plain_text() {
    let app = spawn_app().await;
    // Enough traffic that the exposition is well over 1 KiB.
    for _ in 0..3 {
        post(&app, &typenames(1), None).await;
    }

    let plain = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("scraped");
    let gzipped = app
        .client
        .get(app.url("/metrics"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .expect("scraped");

    assert_eq!(plain.headers().get(header::CONTENT_ENCODING), None);
    let text = plain.text().await.expect("text");
    assert!(text.len() >= 1024 && text.contains("# TYPE"), "{text}");
    assert_eq!(
        gzipped
            .headers()
            .get(header::CONTENT_ENCODING)
            .map(|v| v.as_bytes()),
        Some(&b"gzip"[..])
    );
}

#[tokio::test]
async fn a_websocket_upgrade_asking_for_compression_is_still_upgraded() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let app = spawn_app().await;
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .expect("a WebSocket request");
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("value"),
    );
    headers.insert("accept-encoding", "gzip, br, zstd".parse().expect("value"));

    let (_socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgraded");

    assert_eq!(response.status().as_u16(), 101);
    assert_eq!(response.headers().get("content-encoding"), None);
}
