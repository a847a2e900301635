//! Apollo's automatic persisted queries, exactly as its PersistedQueryLink speaks them, and
//! the HTTP caching of anonymous catalog GETs (Cache-Control, Vary, ETag and 304).

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    catalog::create_product,
    http::gql_from,
    support::{Gql, TestApp, spawn_app, spawn_app_with},
};

const PRODUCTS: &str = "query Products { products(first: 10) { nodes { name } } }";

fn sha256(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// A POST as the link sends it: the hash always, the document only when asked for.
async fn post(app: &TestApp, query: Option<&str>, hash: &str) -> Gql {
    let mut body = json!({ "operationName": "Products", "extensions": persisted(hash) });
    if let Some(query) = query {
        body["query"] = json!(query);
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .expect("request sent");
    gql_from(response).await
}

/// A GET as the link sends it with `useGETForHashedQueries`.
async fn get(app: &TestApp, query: Option<&str>, hash: &str) -> Gql {
    let extensions = persisted(hash).to_string();
    let mut params = vec![("extensions", extensions.as_str())];
    if let Some(query) = query {
        params.push(("query", query));
    }
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&params)
        .send()
        .await
        .expect("request sent");
    gql_from(response).await
}

/// A plain GET of `query`, with these extra headers.
async fn get_query(app: &TestApp, query: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", query)]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request sent")
}

fn header(response: &reqwest::Response, name: header::HeaderName) -> Option<&str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn with_a_product(app: &TestApp) {
    let admin = app.admin("alice").await;
    create_product(app, &admin, json!({ "name": "Kayak" })).await;
}

fn assert_not_found(response: &Gql) {
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.code(), "PERSISTED_QUERY_NOT_FOUND");
    // Apollo's links also recognise the error by this message.
    assert_eq!(response.error()["message"], "PersistedQueryNotFound");
}

#[tokio::test]
async fn the_persisted_query_handshake_works_over_post() {
    let app = spawn_app().await;
    with_a_product(&app).await;
    let hash = sha256(PRODUCTS);

    let unknown = post(&app, None, &hash).await;
    let registered = post(&app, Some(PRODUCTS), &hash).await;
    let by_hash = post(&app, None, &hash).await;

    assert_not_found(&unknown);
    assert_eq!(registered.data()["products"]["nodes"][0]["name"], "Kayak");
    assert_eq!(by_hash.data(), registered.data());
}

#[tokio::test]
async fn the_persisted_query_handshake_works_over_get() {
    let app = spawn_app().await;
    with_a_product(&app).await;
    let hash = sha256(PRODUCTS);

    let unknown = get(&app, None, &hash).await;
    let registered = get(&app, Some(PRODUCTS), &hash).await;
    let by_hash = get(&app, None, &hash).await;

    assert_not_found(&unknown);
    assert_eq!(registered.data()["products"]["nodes"][0]["name"], "Kayak");
    assert_eq!(by_hash.data(), registered.data());
}

#[tokio::test]
async fn an_unknown_hash_is_a_404_under_the_graphql_response_media_type() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(header::ACCEPT, "application/graphql-response+json")
        .json(&json!({ "extensions": persisted(&sha256(PRODUCTS)) }))
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        header(&response, header::CACHE_CONTROL),
        Some("private, no-store")
    );
    let response = gql_from(response).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.code(), "PERSISTED_QUERY_NOT_FOUND");
}

#[tokio::test]
async fn a_query_sent_with_a_hash_that_is_not_its_own_is_refused_and_not_stored() {
    let app = spawn_app().await;
    let other = sha256("{ __typename }");

    let forged = post(&app, Some(PRODUCTS), &other).await;
    let afterwards = post(&app, None, &other).await;

    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    assert_eq!(forged.code(), "BAD_USER_INPUT");
    assert_eq!(forged.field(), "extensions.persistedQuery");
    assert_not_found(&afterwards);
}

#[tokio::test]
async fn a_persisted_mutation_is_still_refused_over_get() {
    let app = spawn_app().await;
    let logout = "mutation { logout }";
    let hash = sha256(logout);
    post(&app, Some(logout), &hash).await;

    let by_hash = get(&app, None, &hash).await;

    assert_eq!(by_hash.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(by_hash.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn an_anonymous_catalog_get_is_cacheable_and_its_etag_answers_304() {
    let app = spawn_app().await;
    with_a_product(&app).await;

    let first = get_query(&app, PRODUCTS, &[]).await;
    let etag = header(&first, header::ETAG).expect("an ETag").to_owned();
    let cache_control = header(&first, header::CACHE_CONTROL).map(str::to_owned);
    let vary = header(&first, header::VARY).map(str::to_owned);
    let revalidated = get_query(&app, PRODUCTS, &[("if-none-match", &etag)]).await;
    let stale = get_query(&app, PRODUCTS, &[("if-none-match", "\"elsewhere\"")]).await;

    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(cache_control.as_deref(), Some("public, max-age=60"));
    assert_eq!(vary.as_deref(), Some("Accept, Authorization"));
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&revalidated, header::ETAG), Some(etag.as_str()));
    assert!(revalidated.bytes().await.expect("a body").is_empty());
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(header(&stale, header::ETAG), Some(etag.as_str()));
}

#[tokio::test]
async fn authenticated_and_personal_answers_are_never_cacheable() {
    let app = spawn_app().await;
    with_a_product(&app).await;
    let bob = app.register("bob").await;
    let bearer = format!("Bearer {}", bob.access_token);

    let authenticated = get_query(&app, PRODUCTS, &[("authorization", &bearer)]).await;
    let me = get_query(&app, "{ me { id } products(first: 1) { totalCount } }", &[]).await;
    let over_post = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": PRODUCTS }))
        .send()
        .await
        .expect("request sent");

    for response in [&authenticated, &me, &over_post] {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header(response, header::CACHE_CONTROL),
            Some("private, no-store")
        );
        assert_eq!(header(response, header::ETAG), None);
    }
}

#[tokio::test]
async fn the_cache_max_age_is_configurable_and_zero_turns_public_caching_off() {
    let short = spawn_app_with(|config| config.http_cache_max_age_secs = 5).await;
    let off = spawn_app_with(|config| config.http_cache_max_age_secs = 0).await;

    let from_short = get_query(&short, PRODUCTS, &[]).await;
    let from_off = get_query(&off, PRODUCTS, &[]).await;

    assert_eq!(
        header(&from_short, header::CACHE_CONTROL),
        Some("public, max-age=5")
    );
    assert_eq!(
        header(&from_off, header::CACHE_CONTROL),
        Some("private, no-store")
    );
    assert_eq!(header(&from_off, header::ETAG), None);
}
