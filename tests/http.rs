//! The HTTP surface around GraphQL: health and readiness, the GraphiQL page, the body
//! limit, requests that are not GraphQL requests, GET, request ids and CORS.

use entity::write_probe;
use reqwest::{Method, StatusCode, header};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait, sea_query::OnConflict};
use serde_json::{Value, json};
use shop::db;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Gql, PASSWORD, TestApp, spawn_app, spawn_app_with};

/// The request body limit of the server (256 KiB).
const LIMIT: usize = 256 * 1024;

pub(crate) const REGISTER: &str =
    "mutation Register($input: RegisterInput!) { register(input: $input) { user { id } } }";

/// The variables of [`REGISTER`] for a valid new user.
pub(crate) fn registration(username: &str) -> Value {
    json!({ "input": {
        "username": username,
        "email": format!("{username}@example.com"),
        "password": PASSWORD,
    }})
}

/// How many users the server's database holds.
pub(crate) async fn users_in(app: &TestApp) -> u64 {
    entity::user::Entity::find()
        .count(&app.db)
        .await
        .expect("users counted")
}

/// The codes of the public contract.
const CODES: [&str; 12] = [
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "OUT_OF_STOCK",
    "PAYMENT_DECLINED",
    "RATE_LIMITED",
    "INTERNAL_SERVER_ERROR",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "PERSISTED_QUERY_NOT_FOUND",
];

/// Asserts that `body` holds at least one error, and that every one of them carries one of
/// the contract's codes in `extensions.code`.
pub(crate) fn assert_errors_all_have_a_code(body: &Value) {
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("expected errors, got: {body:#}"));
    assert!(!errors.is_empty(), "an empty error list: {body:#}");
    for error in errors {
        let code = error["extensions"]["code"].as_str();
        assert!(
            code.is_some_and(|code| CODES.contains(&code)),
            "an error without a contract code: {error:#}"
        );
    }
}

/// Reads a GraphQL-shaped answer from any response.
pub(crate) async fn gql_from(response: reqwest::Response) -> Gql {
    let status = response.status();
    let body = response.json().await.expect("a JSON body");
    Gql { status, body }
}

/// A GET /graphql request with these query-string parameters.
async fn get_graphql(app: &TestApp, params: &[(&str, &str)]) -> Gql {
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(params)
        .send()
        .await
        .expect("request sent");
    gql_from(response).await
}

/// A POST /graphql request with this raw body and content type.
async fn post_raw(app: &TestApp, content_type: &str, body: impl Into<reqwest::Body>) -> Gql {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .expect("request sent");
    gql_from(response).await
}

/// A JSON GraphQL request for `{ __typename }`, padded with a comment to exactly `len`
/// bytes.
fn padded_request(len: usize) -> Vec<u8> {
    let prefix = r#"{"query":"{ __typename } #"#;
    let suffix = r#""}"#;
    let padding = len - prefix.len() - suffix.len();
    let body = format!("{prefix}{}{suffix}", "x".repeat(padding));
    assert_eq!(body.len(), len);
    body.into_bytes()
}

/// Sends `body` to POST /graphql over a plain TCP connection with `Transfer-Encoding:
/// chunked` and no Content-Length, so the server cannot know the size up front and has to
/// stop reading the stream itself. Returns the status and the JSON body of the answer.
async fn post_streamed(app: &TestApp, body: &[u8]) -> (StatusCode, Value) {
    let mut stream = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connected");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");
    // The server may answer and hang up before it has read everything: a failed write is
    // expected then, and the answer is still there to be read.
    for chunk in body.chunks(8 * 1024) {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(chunk);
        frame.extend_from_slice(b"\r\n");
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;

    let mut response = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&buffer[..n]),
        }
    }
    parse_http_response(&response)
}

/// The status and JSON body of a raw HTTP/1.1 response.
fn parse_http_response(raw: &[u8]) -> (StatusCode, Value) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("an HTTP response, got: {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or_else(|| panic!("a status line, got: {head:?}"));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("a JSON body: {body:?}"));
    (status, json)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

// --- health and readiness -------------------------------------------------------------

#[tokio::test]
async fn healthz_answers_200() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("request sent");

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn readyz_answers_200_while_the_database_is_reachable_and_503_once_it_is_not() {
    let app = spawn_app().await;
    let readyz = || async {
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("request sent")
            .status()
    };
    assert_eq!(readyz().await, StatusCode::OK);

    // `app.db` is a clone of the server's own connection: closing it closes the pool the
    // server pings, exactly as a database that went away would leave it.
    app.db.clone().close().await.expect("pool closed");

    assert!(
        app.db.ping().await.is_err(),
        "the shared pool must be closed"
    );
    assert_eq!(readyz().await, StatusCode::SERVICE_UNAVAILABLE);
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "liveness does not depend on the database"
    );
}

/// `/readyz` answers whether a write commits, not only whether the database answers: a
/// database that reads but cannot write (here: its write lock held elsewhere, as a stuck
/// process would hold it) must take the process out of rotation, and only until it can
/// write again. On SQLite the lock is the file's; on PostgreSQL, the probe row's.
#[tokio::test]
async fn readyz_answers_503_while_no_write_can_commit_and_200_again_once_one_can() {
    let app = spawn_app().await;
    assert_eq!(readyz(&app).await, (StatusCode::OK, "ready".to_owned()));

    let blocker = db::begin_write(&app.db).await.expect("write begun");
    write_probe::Entity::insert(write_probe::ActiveModel {
        id: Set(1),
        probed_at: Set(chrono::Utc::now()),
    })
    .on_conflict(
        OnConflict::column(write_probe::Column::Id)
            .update_column(write_probe::Column::ProbedAt)
            .to_owned(),
    )
    .exec_without_returning(&blocker)
    .await
    .expect("the probe row locked");

    let (_, reason) = readyz_becomes(&app, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(reason, "database write timed out");
    blocker.rollback().await.expect("rolled back");
    let (_, reason) = readyz_becomes(&app, StatusCode::OK).await;
    assert_eq!(reason, "ready");
}

async fn readyz(app: &TestApp) -> (StatusCode, String) {
    let response = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

/// Polls `/readyz` until it answers `status`: the server writes at most every couple of
/// seconds and gives a write a few seconds to commit, so this takes up to about five.
async fn readyz_becomes(app: &TestApp, status: StatusCode) -> (StatusCode, String) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let answer = readyz(app).await;
        if answer.0 == status {
            return answer;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz still answers {answer:?}, not {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

// --- GraphiQL -------------------------------------------------------------------------

#[tokio::test]
async fn the_root_serves_the_graphiql_page_pointing_at_the_graphql_endpoint() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/"))
        .send()
        .await
        .expect("request sent");

    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.expect("a body");
    assert!(page.to_lowercase().contains("graphiql"), "{page}");
    assert!(page.contains("/graphql"), "{page}");
}

// --- the body limit -------------------------------------------------------------------

#[tokio::test]
async fn a_body_over_256_kib_with_a_content_length_is_refused_with_413() {
    let app = spawn_app().await;

    let response = post_raw(&app, "application/json", padded_request(LIMIT + 1)).await;

    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.code(), "BAD_USER_INPUT");
    assert_errors_all_have_a_code(&response.body);
}

#[tokio::test]
async fn a_streamed_body_over_256_kib_without_a_content_length_is_refused_with_413() {
    let app = spawn_app().await;

    let (status, body) = post_streamed(&app, &padded_request(LIMIT + 16 * 1024)).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_errors_all_have_a_code(&body);
}

#[tokio::test]
async fn a_body_just_under_256_kib_is_processed() {
    let app = spawn_app().await;

    let response = post_raw(&app, "application/json", padded_request(LIMIT - 1)).await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.data()["__typename"], "Query");
}

#[tokio::test]
async fn a_streamed_body_just_under_256_kib_is_processed() {
    let app = spawn_app().await;

    let (status, body) = post_streamed(&app, &padded_request(LIMIT - 1)).await;

    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body, json!({ "data": { "__typename": "Query" } }));
}

// --- bodies that are not one GraphQL request ------------------------------------------

#[tokio::test]
async fn malformed_json_is_a_400_with_a_graphql_shaped_bad_user_input_error() {
    let app = spawn_app().await;

    for body in [
        r#"{"query": "{ __typename }""#,
        "not json at all",
        "",
        "[{]",
    ] {
        let response = post_raw(&app, "application/json", body).await;

        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(response.code(), "BAD_USER_INPUT", "{body:?}");
        assert_errors_all_have_a_code(&response.body);
    }
}

#[tokio::test]
async fn a_request_without_a_query_is_a_400() {
    let app = spawn_app().await;

    let post = post_raw(&app, "application/json", "{}").await;
    let misspelt = post_raw(&app, "application/json", r#"{"qeury": "{ __typename }"}"#).await;
    let get = get_graphql(&app, &[("operationName", "Nothing")]).await;

    for response in [post, misspelt, get] {
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert_eq!(response.code(), "BAD_USER_INPUT");
        assert_errors_all_have_a_code(&response.body);
        assert_eq!(response.body["data"], Value::Null);
    }
}

#[tokio::test]
async fn a_json_array_batch_is_a_400_and_executes_nothing() {
    let app = spawn_app().await;
    let batch = json!([
        { "query": REGISTER, "variables": registration("alice") },
        { "query": REGISTER, "variables": registration("bob") },
    ]);

    let response = post_raw(&app, "application/json", batch.to_string()).await;

    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.code(), "BAD_USER_INPUT");
    assert_errors_all_have_a_code(&response.body);
    assert_eq!(users_in(&app).await, 0);
}

#[tokio::test]
async fn a_multipart_request_is_refused_with_415_and_executes_nothing() {
    let app = spawn_app().await;
    // A GraphQL multipart request (the upload spec's shape) that would register a user.
    let operations = json!({ "query": REGISTER, "variables": registration("alice") });
    let body = format!(
        "--boundary\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n\
         --boundary\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{}}\r\n\
         --boundary--\r\n"
    );

    let response = post_raw(&app, "multipart/form-data; boundary=boundary", body).await;

    assert_eq!(response.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(response.code(), "BAD_USER_INPUT");
    assert_errors_all_have_a_code(&response.body);
    assert_eq!(users_in(&app).await, 0);
}

/// A browser sends these cross-site without asking (no CORS preflight): a form on any web
/// page could make its visitors' browsers run a mutation with them.
#[tokio::test]
async fn a_post_that_is_not_json_is_refused_with_415_and_executes_nothing() {
    let app = spawn_app().await;
    let body = json!({ "query": REGISTER, "variables": registration("alice") }).to_string();

    for content_type in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("application/json; charset=iso-8859-1"),
        None,
    ] {
        let mut request = app.client.post(app.url("/graphql")).body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let response = gql_from(request.send().await.expect("request sent")).await;

        assert_eq!(
            response.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(response.code(), "BAD_USER_INPUT", "{content_type:?}");
    }
    assert_eq!(users_in(&app).await, 0);
}

/// POST /graphql with `accept`, and the response's media type, status and body.
async fn post_accepting(app: &TestApp, accept: Option<&str>, query: &str) -> (String, Gql) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }));
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    let response = request.send().await.expect("request sent");
    let media = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (media, gql_from(response).await)
}

#[tokio::test]
async fn the_response_media_type_follows_the_accept_header() {
    let app = spawn_app().await;
    let json_media = "application/json; charset=utf-8";
    let graphql_media = "application/graphql-response+json; charset=utf-8";

    for (accept, expected) in [
        (None, json_media),
        (Some("*/*"), json_media),
        (Some("application/json"), json_media),
        (Some("application/graphql-response+json"), graphql_media),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            graphql_media,
        ),
    ] {
        let (media, response) = post_accepting(&app, accept, "{ __typename }").await;

        assert_eq!(media, expected, "{accept:?}");
        assert_eq!(response.status, StatusCode::OK, "{accept:?}");
        assert_eq!(response.data()["__typename"], "Query");
    }
}

/// Under the newer media type a request that ran nothing is a 400 without `data`; legacy
/// `application/json` clients get 200 for every GraphQL response, as they expect.
#[tokio::test]
async fn a_document_that_runs_nothing_is_a_400_only_under_the_graphql_response_media_type() {
    let app = spawn_app().await;
    let graphql = Some("application/graphql-response+json");

    for (query, code) in [
        ("{ me { id }", "GRAPHQL_PARSE_FAILED"),
        ("{ me { passwordHash } }", "GRAPHQL_VALIDATION_FAILED"),
    ] {
        let (_, strict) = post_accepting(&app, graphql, query).await;
        let (_, legacy) = post_accepting(&app, Some("application/json"), query).await;

        assert_eq!(strict.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(strict.code(), code);
        assert!(strict.body.get("data").is_none(), "{:#}", strict.body);
        assert_eq!(legacy.status, StatusCode::OK, "{query}");
        assert_eq!(legacy.code(), code);
    }

    // A field error is not a request error: the operation ran, and `data` says what it got.
    let (_, field_error) = post_accepting(&app, graphql, "{ cart { updatedAt } }").await;
    assert_eq!(field_error.status, StatusCode::OK);
    assert_eq!(field_error.code(), "UNAUTHENTICATED");
}

// --- GET ------------------------------------------------------------------------------

#[tokio::test]
async fn a_query_over_get_is_answered() {
    let app = spawn_app().await;

    let response = get_graphql(
        &app,
        &[
            (
                "query",
                "query Who($id: ID!) { me { id } node(id: $id) { id } }",
            ),
            ("variables", r#"{"id": "VXNlcjo0Mg=="}"#),
        ],
    )
    .await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.data()["me"], Value::Null);
}

#[tokio::test]
async fn a_mutation_over_get_is_refused_with_405_and_creates_nothing() {
    let app = spawn_app().await;
    let variables = registration("alice").to_string();

    let response = get_graphql(&app, &[("query", REGISTER), ("variables", &variables)]).await;

    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.code(), "BAD_USER_INPUT");
    assert_errors_all_have_a_code(&response.body);
    assert_eq!(users_in(&app).await, 0);
}

#[tokio::test]
async fn get_refuses_an_operation_name_that_selects_the_mutation_of_a_multi_operation_document() {
    let app = spawn_app().await;
    let document = format!("query Harmless {{ __typename }} {REGISTER}");
    let variables = registration("alice").to_string();

    let mutation = get_graphql(
        &app,
        &[
            ("query", &document),
            ("variables", &variables),
            ("operationName", "Register"),
        ],
    )
    .await;
    let unnamed = get_graphql(&app, &[("query", &document), ("variables", &variables)]).await;

    assert_eq!(mutation.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(mutation.code(), "BAD_USER_INPUT");
    assert_errors_all_have_a_code(&mutation.body);
    assert_eq!(unnamed.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_errors_all_have_a_code(&unnamed.body);
    assert_eq!(users_in(&app).await, 0);

    // The query of the same document is fine over GET.
    let query = get_graphql(&app, &[("query", &document), ("operationName", "Harmless")]).await;
    assert_eq!(query.status, StatusCode::OK);
    assert_eq!(query.data()["__typename"], "Query");
}

#[tokio::test]
async fn over_get_the_operation_name_parameter_selects_which_query_of_a_document_runs() {
    let app = spawn_app().await;
    let document = "query Typename { __typename } query Me { me { id } }";

    let me = get_graphql(&app, &[("query", document), ("operationName", "Me")]).await;
    let typename = get_graphql(&app, &[("query", document), ("operationName", "Typename")]).await;

    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.data(), &json!({ "me": null }));
    assert_eq!(typename.status, StatusCode::OK);
    assert_eq!(typename.data(), &json!({ "__typename": "Query" }));
}

#[tokio::test]
async fn a_get_request_that_is_not_a_graphql_request_is_a_400_bad_user_input() {
    let app = spawn_app().await;

    for params in [
        &[("query", "{ __typename }"), ("variables", "{not json")][..],
        &[("query", "{ __typename }"), ("variables", "[1, 2]")][..],
        &[
            ("query", "{ __typename }"),
            ("operationName", "A"),
            ("operationName", "B"),
        ][..],
    ] {
        let response = get_graphql(&app, params).await;

        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{params:?}");
        assert_eq!(response.code(), "BAD_USER_INPUT", "{params:?}");
        assert_errors_all_have_a_code(&response.body);
    }
}

// --- request ids ----------------------------------------------------------------------

#[tokio::test]
async fn every_response_carries_an_x_request_id() {
    let app = spawn_app().await;
    let requests = [
        app.client.get(app.url("/healthz")),
        app.client.get(app.url("/readyz")),
        app.client.get(app.url("/")),
        app.client.get(app.url("/no-such-page")),
        app.client
            .post(app.url("/graphql"))
            .json(&json!({ "query": "{ __typename }" })),
        app.client
            .post(app.url("/graphql"))
            .header(header::CONTENT_TYPE, "application/json")
            .body("{"),
        app.client
            .get(app.url("/graphql"))
            .query(&[("query", "mutation { logout(refreshToken: \"x\") }")]),
        app.client
            .post(app.url("/graphql"))
            .body(padded_request(LIMIT + 1)),
    ];

    let mut ids = Vec::new();
    for request in requests {
        let response = request.send().await.expect("request sent");
        let id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no x-request-id on {}", response.url()))
            .to_owned();
        assert!(!id.is_empty());
        ids.push(id);
    }

    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "ids are unique: {ids:?}");
}

#[tokio::test]
async fn a_client_sent_x_request_id_is_echoed_back() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/graphql"))
        .header("x-request-id", "trace-me-1234")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("request sent");

    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-me-1234")
    );
}

// --- CORS -----------------------------------------------------------------------------

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/graphql"))
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,content-type",
        )
        .send()
        .await
        .expect("request sent")
}

async fn post_from(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .post(app.url("/graphql"))
        .header(header::ORIGIN, origin)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("request sent")
}

fn header_text(response: &reqwest::Response, name: header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_lowercase)
}

fn cors_headers(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

async fn app_allowing_shop_example() -> TestApp {
    spawn_app_with(|config| config.cors_origins = vec!["https://shop.example".into()]).await
}

#[tokio::test]
async fn a_preflight_from_a_configured_origin_is_allowed() {
    let app = app_allowing_shop_example().await;

    let response = preflight(&app, "https://shop.example").await;

    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        header_text(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN).as_deref(),
        Some("https://shop.example")
    );
    let methods = header_text(&response, header::ACCESS_CONTROL_ALLOW_METHODS).unwrap_or_default();
    assert!(methods.contains("post"), "{methods}");
    let headers = header_text(&response, header::ACCESS_CONTROL_ALLOW_HEADERS).unwrap_or_default();
    assert!(headers.contains("authorization"), "{headers}");
    assert!(headers.contains("content-type"), "{headers}");

    let actual = post_from(&app, "https://shop.example").await;
    assert_eq!(
        header_text(&actual, header::ACCESS_CONTROL_ALLOW_ORIGIN).as_deref(),
        Some("https://shop.example")
    );
}

/// A preflight as a browser sends it before a storefront's Apollo Client POST.
async fn preflight_asking_for(app: &TestApp, origin: &str, headers: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/graphql"))
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, headers)
        .send()
        .await
        .expect("request sent")
}

fn allowed_headers(response: &reqwest::Response) -> Vec<String> {
    let mut names: Vec<String> = header_text(response, header::ACCESS_CONTROL_ALLOW_HEADERS)
        .unwrap_or_default()
        .split(',')
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_allows_the_headers_apollo_client_sends() {
    let app = app_allowing_shop_example().await;
    let asked = "authorization,content-type,x-request-id,apollographql-client-name,\
                 apollographql-client-version";

    let response = preflight_asking_for(&app, "https://shop.example", asked).await;

    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        allowed_headers(&response),
        [
            "apollographql-client-name",
            "apollographql-client-version",
            "authorization",
            "content-type",
            "x-request-id",
        ]
    );
}

#[tokio::test]
async fn a_page_from_an_allowed_origin_may_read_the_response_s_request_id() {
    let app = app_allowing_shop_example().await;

    let actual = post_from(&app, "https://shop.example").await;

    assert!(actual.headers().contains_key("x-request-id"));
    assert_eq!(
        header_text(&actual, header::ACCESS_CONTROL_EXPOSE_HEADERS).as_deref(),
        Some("x-request-id")
    );
}

#[tokio::test]
async fn a_configured_list_of_allowed_headers_replaces_the_default_one() {
    let app = spawn_app_with(|config| {
        config.cors_origins = vec!["https://shop.example".into()];
        config.cors_allow_headers = vec![
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-tenant"),
        ];
    })
    .await;

    let response =
        preflight_asking_for(&app, "https://shop.example", "content-type,x-tenant").await;

    assert_eq!(allowed_headers(&response), ["content-type", "x-tenant"]);
}

#[tokio::test]
async fn a_preflight_from_another_origin_is_not_allowed() {
    let app = app_allowing_shop_example().await;

    for origin in [
        "https://evil.example",
        "http://shop.example",
        "https://shop.example.evil.example",
    ] {
        let response = preflight(&app, origin).await;
        let actual = post_from(&app, origin).await;

        assert_eq!(
            header_text(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN),
            None,
            "{origin}"
        );
        assert_eq!(
            header_text(&actual, header::ACCESS_CONTROL_ALLOW_ORIGIN),
            None,
            "{origin}"
        );
    }
}

#[tokio::test]
async fn without_configured_origins_no_cors_headers_are_sent() {
    let app = spawn_app().await;

    let response = preflight(&app, "https://shop.example").await;
    let actual = post_from(&app, "https://shop.example").await;

    assert_eq!(cors_headers(&response), Vec::<String>::new());
    assert_eq!(cors_headers(&actual), Vec::<String>::new());
}

// --- GraphQL errors -------------------------------------------------------------------

#[tokio::test]
async fn a_syntax_error_is_a_parse_failure_not_bad_user_input() {
    let app = spawn_app().await;

    let response = app.gql("{ me { id }", json!({})).await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.code(), "GRAPHQL_PARSE_FAILED");
    assert_errors_all_have_a_code(&response.body);
}

#[tokio::test]
async fn an_unknown_field_is_a_validation_failure_not_bad_user_input() {
    let app = spawn_app().await;

    let response = app.gql("{ me { id passwordHash } }", json!({})).await;

    assert_eq!(response.code(), "GRAPHQL_VALIDATION_FAILED");
    assert_errors_all_have_a_code(&response.body);
    assert_eq!(
        response.body.get("data").unwrap_or(&Value::Null),
        &Value::Null
    );
}

#[tokio::test]
async fn a_missing_required_variable_is_bad_user_input_and_not_an_internal_error() {
    let app = spawn_app().await;

    let query = app
        .gql("query($id: ID!) { node(id: $id) { id } }", json!({}))
        .await;
    let mutation = app.gql(REGISTER, json!({})).await;

    for response in [query, mutation] {
        assert_eq!(response.code(), "BAD_USER_INPUT");
        assert_errors_all_have_a_code(&response.body);
    }
    assert_eq!(users_in(&app).await, 0);
}

#[tokio::test]
async fn variables_of_the_wrong_type_are_bad_user_input() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;

    let cases = [
        (
            "query($n: Int) { users(first: $n) { totalCount } }",
            json!({ "n": "ten" }),
        ),
        (
            "query($n: Int) { users(first: $n) { totalCount } }",
            json!({ "n": 4_294_967_296_u64 }),
        ),
        (
            "mutation($input: RegisterInput!) { register(input: $input) { user { id } } }",
            json!({ "input": { "username": "alice" } }),
        ),
    ];

    for (query, variables) in cases {
        let response = app.gql_as(&admin, query, variables.clone()).await;
        assert_errors_all_have_a_code(&response.body);
        let codes = response.codes();
        assert!(
            !codes.is_empty() && codes.iter().all(|code| code == "BAD_USER_INPUT"),
            "{query} {variables}: {codes:?}"
        );
    }
    assert_eq!(users_in(&app).await, 1, "only the admin exists");
}

/// A wrong literal, a missing argument or a clash of operation names is in the client's
/// code, not in anything a user typed: the client can tell the two apart by the code.
#[tokio::test]
async fn literals_of_the_wrong_type_and_missing_arguments_fail_validation() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;

    let cases = [
        (
            "{ users(first: \"ten\") { totalCount } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "{ users(first: 1.5) { totalCount } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{ node { id } }", "GRAPHQL_VALIDATION_FAILED"),
        // The parser itself refuses two operations of one name.
        (
            "query Q { me { id } } query Q { me { id } }",
            "GRAPHQL_PARSE_FAILED",
        ),
    ];

    for (query, code) in cases {
        let response = app.gql_as(&admin, query, json!({})).await;
        assert_errors_all_have_a_code(&response.body);
        let codes = response.codes();
        assert!(
            !codes.is_empty() && codes.iter().all(|actual| actual == code),
            "{query}: {codes:?}"
        );
    }
}
