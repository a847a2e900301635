//! The HTTP surface: routes, limits, tracing, and turning a bearer token into a viewer.

mod authentication_page;
mod caching;
mod graphiql;
mod media;
pub mod persisted;
mod storefront;
mod websocket;

pub use persisted::PersistedQueries;

pub use websocket::MAX_SUBSCRIPTIONS_PER_CONNECTION;

pub use storefront::STOREFRONT_PATH;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use async_graphql::{
    Executor, ServerError,
    http::ALL_WEBSOCKET_PROTOCOLS,
    parser::{parse_query, types::OperationType},
};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLWebSocket};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{ConnectInfo, FromRequest, Query, Request, State, WebSocketUpgrade},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use sea_orm::DatabaseConnection;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::{
        CompressionLayer, Predicate,
        predicate::{NotForContentType, SizeAbove},
    },
    cors::{AllowOrigin, Any, CorsLayer},
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    sensitive_headers::SetSensitiveRequestHeadersLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use tracing::Span;

use crate::{
    auth::{AccessGrant, AccessTokens},
    db,
    error::{AppError, ErrorCode},
    graphql::{RequestContext, ShopExecutor},
    payments::{
        Payments, TestGateway, paypal::Transmission, stripe::WebhookSecret,
        test_gateway::AUTHENTICATION_PATH,
    },
    service::{
        Viewer,
        webhooks::{self, PayPalWebhook},
    },
    telemetry::Metrics,
};
use media::ResponseMedia;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// A request that takes longer than this is cut off.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    /// Runs every GraphQL document, over HTTP and the WebSocket.
    pub executor: ShopExecutor,
    pub db: DatabaseConnection,
    pub tokens: AccessTokens,
    pub trust_forwarded_for: bool,
    pub payments: Payments,
    /// Set when Stripe's webhook is configured; `/webhooks/stripe` answers 404 otherwise.
    pub stripe_webhook_secret: Option<WebhookSecret>,
    /// Set when PayPal's webhook is configured; `/webhooks/paypal` answers 404 otherwise.
    pub paypal_webhook: Option<PayPalWebhook>,
    /// Set while the test gateway is enabled: it serves the 3-D Secure authentication
    /// page of its payments (404 otherwise).
    pub test_gateway: Option<Arc<TestGateway>>,
    /// Set unless SHOP_METRICS is off; `/metrics` answers 404 otherwise.
    pub metrics: Option<Metrics>,
    /// Backs `/readyz`.
    pub readiness: db::Readiness,
    /// Documents of Apollo's automatic persisted queries, by hash.
    pub persisted_queries: PersistedQueries,
    /// How long anonymous catalog GETs may be cached; 0 keeps every answer private.
    pub http_cache_max_age_secs: u32,
    /// Whether `/store` serves the embedded storefront (404 there otherwise).
    pub storefront: bool,
}

pub fn router(
    state: AppState,
    cors_origins: &[String],
    cors_allow_headers: &[HeaderName],
) -> anyhow::Result<Router> {
    let request_id = header::HeaderName::from_static("x-request-id");
    let storefront = storefront::routes(state.storefront);
    let app = Router::new()
        .route("/", get(graphiql::page))
        .route("/graphiql/{file}", get(graphiql::asset))
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/webhooks/stripe", post(stripe_webhook))
        .route("/webhooks/paypal", post(paypal_webhook))
        .route(
            &format!("{AUTHENTICATION_PATH}/{{reference}}"),
            get(authentication_page::show).post(authentication_page::answer),
        )
        .merge(storefront)
        .with_state(state)
        .layer(cors(cors_origins, cors_allow_headers)?)
        // async-graphql reads the body as a stream, so axum's DefaultBodyLimit never sees
        // it; this layer limits the stream itself.
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // The layer refuses a declared Content-Length over the limit on its own, with a
        // plain-text body; that gets the same GraphQL-shaped 413 as a stream cut short.
        .layer(axum::middleware::map_response(graphql_shaped_413))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            error_response(
                ResponseMedia::Json,
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalServerError,
                "internal error",
            )
        }))
        // Outside the panic handler, so its answer is compressed too; the predicate keeps
        // small bodies (and the WebSocket upgrade, which has none) as they are.
        .layer(CompressionLayer::new().compress_when(compressible()))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                // One line per request, written once the status is known: no "started"
                // line, and no second "failed" line for a 5xx (the status says it).
                .on_request(())
                .on_response(log_response)
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        // Marked sensitive, these never reach a log line, even at trace level.
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::HeaderName::from_static("stripe-signature"),
            header::HeaderName::from_static("paypal-transmission-sig"),
        ]));
    Ok(app)
}

fn cors(origins: &[String], allow_headers: &[HeaderName]) -> anyhow::Result<CorsLayer> {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(allow_headers.to_vec())
        // Without it, a browser hides the id from the page's script, and a support request
        // could not quote the id the server logged.
        .expose_headers([header::HeaderName::from_static("x-request-id")])
        .max_age(Duration::from_secs(3600));
    Ok(match origins {
        [] => CorsLayer::new(),
        [any] if any == "*" => layer.allow_origin(Any),
        origins => {
            let origins = origins
                .iter()
                .map(|origin| HeaderValue::from_str(origin.trim()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| anyhow::anyhow!("SHOP_CORS_ORIGINS holds an invalid origin"))?;
            layer.allow_origin(AllowOrigin::list(origins))
        }
    })
}

/// Responses of at least this many bytes are compressed, when the client accepts it.
/// Below it, the encoding's framing and the CPU are not worth the few bytes saved.
const MIN_COMPRESSED_BYTES: u16 = 1024;

/// tower-http's default predicate, with a larger minimum size.
fn compressible() -> impl Predicate {
    SizeAbove::new(MIN_COMPRESSED_BYTES)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
}

/// The request's span. The operation fields stay empty until GraphQL has parsed the
/// document (see `graphql::request_span`); no header but the request id is ever recorded,
/// so no token can reach a log line.
fn request_span(request: &Request) -> Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
        operation_type = tracing::field::Empty,
        operation_name = tracing::field::Empty,
    )
}

/// The request's one log line, inside its span (which names method, path, request id and
/// operation). The duration runs until the response head, which for GraphQL is the whole
/// execution: its body is complete by then.
fn log_response<B>(response: &axum::http::Response<B>, latency: Duration, _span: &Span) {
    let status = response.status().as_u16();
    let duration_ms = latency.as_secs_f64() * 1000.0;
    if response.status().is_server_error() {
        tracing::error!(status, duration_ms, "request answered");
    } else {
        tracing::info!(status, duration_ms, "request answered");
    }
}

async fn healthz() -> &'static str {
    "ok"
}

/// 200 while the database answers and takes writes; 503 with a short reason otherwise.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.readiness.check().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(not_ready) => (StatusCode::SERVICE_UNAVAILABLE, not_ready.reason()),
    }
}

/// Prometheus's scrape, in its text exposition format (version 0.0.4).
async fn metrics(State(state): State<AppState>) -> Response {
    let Some(metrics) = &state.metrics else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render().await,
    )
        .into_response()
}

/// Stripe's webhook deliveries. The body is taken as raw bytes, because the signature
/// covers them exactly.
async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secret) = &state.stripe_webhook_secret else {
        return (StatusCode::NOT_FOUND, "no Stripe webhook is configured").into_response();
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|value| value.to_str().ok());
    let received = webhooks::receive_stripe(
        &state.db,
        &state.payments,
        secret,
        signature,
        &body,
        chrono::Utc::now(),
    )
    .await;
    webhook_answer("Stripe", received)
}

/// PayPal's webhook deliveries, with the transmission headers PayPal is asked to vouch
/// for and the body exactly as received.
async fn paypal_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(webhook) = &state.paypal_webhook else {
        return (StatusCode::NOT_FOUND, "no PayPal webhook is configured").into_response();
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let transmission = Transmission {
        auth_algo: header("paypal-auth-algo"),
        cert_url: header("paypal-cert-url"),
        transmission_id: header("paypal-transmission-id"),
        transmission_sig: header("paypal-transmission-sig"),
        transmission_time: header("paypal-transmission-time"),
    };
    let received = webhooks::receive_paypal(
        &state.db,
        &state.payments,
        webhook,
        &transmission,
        &body,
        chrono::Utc::now(),
    )
    .await;
    webhook_answer("PayPal", received)
}

/// A gateway retries anything but a 2xx, so only a failure on our side is a 5xx; a
/// delivery that is not genuine gets 400 and is never retried into success.
fn webhook_answer(gateway: &str, received: Result<webhooks::Outcome, AppError>) -> Response {
    match received {
        Ok(_) => (
            StatusCode::OK,
            Json(serde_json::json!({ "received": true })),
        )
            .into_response(),
        Err(err) => {
            let status = match err.code() {
                ErrorCode::Unauthenticated | ErrorCode::BadUserInput => StatusCode::BAD_REQUEST,
                _ => {
                    tracing::error!(gateway, error = ?err, "a webhook delivery failed; the gateway retries it");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            };
            // An internal error shows only "internal error"; it is logged in full above.
            (
                status,
                Json(serde_json::json!({ "error": err.to_string() })),
            )
                .into_response()
        }
    }
}

async fn graphql_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let media = ResponseMedia::negotiate(request.headers());
    if !media::is_json_request(request.headers()) {
        return error_response(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "send the request as application/json",
        );
    }
    let caller = match Caller::from_request(&state, request.headers(), peer, media) {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let mut graphql = match GraphQLRequest::<BadRequest>::from_request(request, &()).await {
        Ok(graphql) => graphql.into_inner(),
        Err(rejection) => return rejection.into_response(),
    };
    if let Err(refusal) = state.persisted_queries.resolve(&mut graphql) {
        return persisted_refusal(media, &refusal);
    }
    match execute(&state, graphql, caller).await {
        Ok(response) => media.respond(response),
        Err(refusal) => refusal.into_response(media),
    }
}

/// Queries may come over GET (cacheable); mutations only over POST, so that a link or an
/// image tag can never change anything. A persisted query's hash is resolved first: what
/// it stands for decides whether it may run here, and whether its answer may be cached.
async fn graphql_get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let media = ResponseMedia::negotiate(request.headers());
    let caller = match Caller::from_request(&state, request.headers(), peer, media) {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let query = request.uri().query().unwrap_or("");
    let mut graphql = match (
        async_graphql::http::parse_query_string(query),
        Query::<OperationName>::try_from_uri(request.uri()),
    ) {
        (Ok(mut graphql), Ok(Query(name))) => {
            if name.operation_name.is_some() {
                graphql.operation_name = name.operation_name;
            }
            graphql
        }
        _ => {
            return error_response(
                media,
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the query string is not a GraphQL request",
            );
        }
    };
    if let Err(refusal) = state.persisted_queries.resolve(&mut graphql) {
        return persisted_refusal(media, &refusal);
    }
    if !is_query(&graphql.query, graphql.operation_name.as_deref()) {
        return error_response(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            "only queries may be sent with GET; send mutations with POST",
        );
    }
    // Anything but an anonymous catalog query is answered private, so there is no need
    // to look at the document again for the others. (An Authorization header that is
    // present always makes a user: an invalid one was refused above.)
    let shareable = state.http_cache_max_age_secs > 0
        && caller.viewer == Viewer::Anonymous
        && caching::is_public_catalog(&graphql);
    let response = match execute(&state, graphql, caller).await {
        Ok(response) => response,
        Err(refusal) => return refusal.into_response(media),
    };
    let succeeded = response.errors.is_empty();
    let http = media.respond(response);
    if shareable && succeeded && http.status() == StatusCode::OK {
        return caching::public(http, state.http_cache_max_age_secs, request.headers()).await;
    }
    http
}

/// What a request whose `extensions.persistedQuery` cannot be used gets. An unknown hash
/// is no fault of the client's: it answers 200 under `application/json`, because older
/// Apollo links give up on persisted queries for good after a 400; under
/// `application/graphql-response+json` it is a 404, as Apollo's router answers.
fn persisted_refusal(media: ResponseMedia, refusal: &persisted::Refusal) -> Response {
    let (status, code) = match (refusal, media) {
        (persisted::Refusal::NotFound, ResponseMedia::Json) => {
            (StatusCode::OK, ErrorCode::PersistedQueryNotFound)
        }
        (persisted::Refusal::NotFound, ResponseMedia::GraphqlResponseJson) => {
            (StatusCode::NOT_FOUND, ErrorCode::PersistedQueryNotFound)
        }
        (persisted::Refusal::HashMismatch | persisted::Refusal::Malformed, _) => {
            (StatusCode::BAD_REQUEST, ErrorCode::BadUserInput)
        }
    };
    let field = (code == ErrorCode::BadUserInput).then_some("extensions.persistedQuery");
    field_error_response(media, status, code, field, &refusal.to_string())
}

/// The operation to run, under the name GraphQL over HTTP gives it in a query string;
/// async-graphql's parser reads only `operation_name`, and ignoring `operationName` would
/// run (or refuse) the wrong operation of a multi-operation document.
#[derive(serde::Deserialize)]
struct OperationName {
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
}

/// Subscriptions over the graphql-transport-ws (and legacy graphql-ws) protocol. The
/// access token comes in the connection_init payload, `{"authorization": "Bearer ..."}`;
/// an invalid one closes the connection, as an invalid header fails an HTTP request.
async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // The HTTP body limit, for every message: a frame of megabytes is never a
        // subscription document.
        .max_message_size(MAX_BODY_BYTES)
        .max_frame_size(MAX_BODY_BYTES)
        .on_upgrade(move |socket| {
            let executor = websocket::SubscriptionsOnly::new(state.executor.clone());
            GraphQLWebSocket::new(socket, executor, protocol)
                .on_connection_init(move |payload| async move {
                    let (viewer, grant) = ws_viewer(&state.tokens, &payload)?;
                    let mut data = async_graphql::Data::default();
                    data.insert(RequestContext::new(
                        state.db.clone(),
                        viewer,
                        peer.ip().to_string(),
                    ));
                    // Kept for the connection's lifetime: subscriptions check it again on
                    // every event and end when it expires or its session is revoked.
                    if let Some(grant) = grant {
                        data.insert(grant);
                    }
                    Ok(data)
                })
                .serve()
        })
}

/// The viewer a connection_init payload names, and what its token grants: anonymous
/// without an `authorization`.
fn ws_viewer(
    tokens: &AccessTokens,
    payload: &serde_json::Value,
) -> async_graphql::Result<(Viewer, Option<AccessGrant>)> {
    let authorization = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(|value| value.as_str());
    let Some(authorization) = authorization else {
        return Ok((Viewer::Anonymous, None));
    };
    let token = bearer_token(
        Some(authorization),
        "the authorization must be `Bearer <accessToken>`",
    )?;
    let grant = tokens.grant(token)?;
    Ok((Viewer::User { id: grant.user_id }, Some(grant)))
}

/// The access token of an authorization value, `Bearer <accessToken>`. Anything else (a
/// header value that is not text included) is UNAUTHENTICATED with `refusal`, worded for
/// where the value came from: the header, or the WebSocket's connection_init payload.
fn bearer_token<'a>(
    authorization: Option<&'a str>,
    refusal: &'static str,
) -> Result<&'a str, AppError> {
    authorization
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(AppError::Unauthenticated(refusal))
}

/// Whether the operation a GET request would run is a query. A document that does not
/// parse is let through: executing it reports the syntax error properly.
fn is_query(document: &str, operation_name: Option<&str>) -> bool {
    let Ok(document) = parse_query(document) else {
        return true;
    };
    document.operations.iter().all(|(name, operation)| {
        let selected = operation_name.is_none() || name.map(|n| n.as_str()) == operation_name;
        !selected || operation.node.ty == OperationType::Query
    })
}

/// Who sent a request, before GraphQL runs.
struct Caller {
    viewer: Viewer,
    client_addr: String,
}

impl Caller {
    /// A present but invalid token fails the whole request: it never quietly becomes an
    /// anonymous call, which would hide an expired session from the client.
    #[allow(clippy::result_large_err)]
    fn from_request(
        state: &AppState,
        headers: &HeaderMap,
        peer: SocketAddr,
        media: ResponseMedia,
    ) -> Result<Self, Response> {
        let viewer = match headers.get(header::AUTHORIZATION) {
            None => Viewer::Anonymous,
            Some(value) => {
                let id = bearer_token(
                    value.to_str().ok(),
                    "the Authorization header must be `Bearer <accessToken>`",
                )
                .and_then(|token| state.tokens.verify(token));
                match id {
                    Ok(id) => Viewer::User { id },
                    Err(err) => {
                        // Legacy JSON clients expect 200 for every GraphQL response; the
                        // newer media type says a request that ran nothing is a 4xx.
                        let status = match media {
                            ResponseMedia::Json => StatusCode::OK,
                            ResponseMedia::GraphqlResponseJson => StatusCode::UNAUTHORIZED,
                        };
                        return Err(error_response(
                            media,
                            status,
                            ErrorCode::Unauthenticated,
                            &err.to_string(),
                        ));
                    }
                }
            }
        };
        Ok(Self {
            viewer,
            client_addr: client_addr(headers, peer, state.trust_forwarded_for),
        })
    }
}

/// The client's address for throttling. Behind a trusted load balancer, that is the last
/// address in X-Forwarded-For (the one the balancer appended); the earlier ones are
/// whatever the client chose to send.
fn client_addr(headers: &HeaderMap, peer: SocketAddr, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| v.parse::<std::net::IpAddr>().is_ok());
        if let Some(addr) = forwarded {
            return addr.to_owned();
        }
    }
    peer.ip().to_string()
}

/// A request with no document at all (not even one a persisted-query hash stands for).
struct NoQuery;

impl NoQuery {
    fn into_response(self, media: ResponseMedia) -> Response {
        error_response(
            media,
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "the request has no `query`",
        )
    }
}

async fn execute(
    state: &AppState,
    request: async_graphql::Request,
    caller: Caller,
) -> Result<async_graphql::Response, NoQuery> {
    // No `query` at all (a misspelt parameter, an empty body object) is a malformed
    // request, like malformed JSON: there is no document to report a syntax error in.
    if request.query.trim().is_empty() {
        return Err(NoQuery);
    }
    let context = RequestContext::new(state.db.clone(), caller.viewer, caller.client_addr);
    Ok(state.executor.execute(request.data(context)).await)
}

/// A GraphQL-shaped error for failures before GraphQL runs. Nothing ran, so there is no
/// `data` entry.
fn error_response(
    media: ResponseMedia,
    status: StatusCode,
    code: ErrorCode,
    message: &str,
) -> Response {
    field_error_response(media, status, code, None, message)
}

/// [`error_response`] naming the part of the request at fault in `extensions.field`.
fn field_error_response(
    media: ResponseMedia,
    status: StatusCode,
    code: ErrorCode,
    field: Option<&str>,
    message: &str,
) -> Response {
    let mut error = ServerError::new(message, None);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code.as_str());
    if let Some(field) = field {
        extensions.set("field", field);
    }
    media.refuse(status, serde_json::json!({ "errors": [error] }))
}

/// Any 413 not already GraphQL-shaped becomes the one the handler gives.
async fn graphql_shaped_413(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return error_response(
            ResponseMedia::Json,
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BadUserInput,
            "the request body is too large",
        );
    }
    response
}

/// What a request that is not a GraphQL request gets: 413 when too large, 400 otherwise,
/// always with a GraphQL-shaped body and never the parser's internals.
struct BadRequest(async_graphql::ParseRequestError);

impl From<async_graphql::ParseRequestError> for BadRequest {
    fn from(err: async_graphql::ParseRequestError) -> Self {
        Self(err)
    }
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        use async_graphql::ParseRequestError as E;
        let too_large = match &self.0 {
            E::PayloadTooLarge => true,
            E::Io(err) => err.to_string().contains("length limit exceeded"),
            _ => false,
        };
        if too_large {
            return error_response(
                ResponseMedia::Json,
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BadUserInput,
                "the request body is too large",
            );
        }
        let message = match self.0 {
            E::UnsupportedBatch => {
                "batched requests are not supported; send one operation per request"
            }
            E::InvalidRequest(_) => "the body is not a valid GraphQL request (JSON with a `query`)",
            _ => "the request could not be read as a GraphQL request",
        };
        error_response(
            ResponseMedia::Json,
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            message,
        )
    }
}
