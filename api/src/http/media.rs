//! The media types of GraphQL over HTTP: what a request must be sent as, what the
//! response is sent as, and the status a response gets.

use async_graphql::Response as GraphqlResponse;

use super::caching;
use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

const JSON: &str = "application/json";
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// Whether a POST body is sent as a type that a browser cannot send cross-site without a
/// CORS preflight. `text/plain`, form encodings and a missing type are "simple requests":
/// any web page could make its visitors' browsers post them, so they run nothing.
pub fn is_json_request(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    let utf8 = parts.all(|parameter| match parameter.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    });
    utf8 && (essence.eq_ignore_ascii_case(JSON)
        || essence.eq_ignore_ascii_case(GRAPHQL_RESPONSE_JSON))
}

/// The media type a response is sent as, chosen by the request's Accept header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMedia {
    /// `application/json`: every GraphQL response answers 200, as legacy clients expect.
    Json,
    /// `application/graphql-response+json`: a request that ran nothing (it did not parse,
    /// did not validate, its variables did not fit) answers 400.
    GraphqlResponseJson,
}

impl ResponseMedia {
    /// `application/graphql-response+json` when the client asks for it at least as much as
    /// for `application/json`; `application/json` otherwise, including for a missing Accept,
    /// `*/*`, and an Accept that names neither (GraphQL over HTTP, "Legacy watershed").
    pub fn negotiate(headers: &HeaderMap) -> Self {
        let mut json = 0.0_f32;
        let mut graphql = 0.0_f32;
        let accepted = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','));
        for range in accepted {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|parameter| parameter.split_once('='))
                .find(|(name, _)| name.trim() == "q")
                .and_then(|(_, q)| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                GRAPHQL_RESPONSE_JSON => graphql = graphql.max(quality),
                JSON | "application/*" | "*/*" => json = json.max(quality),
                _ => {}
            }
        }
        if graphql > 0.0 && graphql >= json {
            Self::GraphqlResponseJson
        } else {
            Self::Json
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Json => "application/json; charset=utf-8",
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
        })
    }

    /// The HTTP response for a GraphQL response.
    pub fn respond(self, response: GraphqlResponse) -> Response {
        let ran = !is_request_error(&response);
        let status = if ran || self == Self::Json {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        let headers = response.http_headers.clone();
        // A request error ran nothing, so its result has no `data` entry at all (GraphQL,
        // "Response Format"): `"data": null` would claim that execution began.
        let body = if ran {
            serde_json::to_vec(&response)
        } else {
            serde_json::to_vec(&RequestError {
                errors: &response.errors,
                extensions: &response.extensions,
            })
        };
        let Ok(body) = body else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let mut http = (status, body).into_response();
        self.set_headers(&mut http);
        http.headers_mut().extend(headers);
        http
    }

    /// A GraphQL-shaped response for a request refused before GraphQL ran.
    pub fn refuse(self, status: StatusCode, body: serde_json::Value) -> Response {
        let mut http = (status, body.to_string()).into_response();
        self.set_headers(&mut http);
        http
    }

    /// Every GraphQL response starts private and uncacheable: only the HTTP layer, which
    /// knows the method and the caller, may make one public (`caching::public`). A refusal
    /// stays private too, so a CDN never keeps a PERSISTED_QUERY_NOT_FOUND for a hash.
    fn set_headers(self, http: &mut Response) {
        let headers = http.headers_mut();
        headers.insert(header::CONTENT_TYPE, self.content_type());
        headers.insert(header::CACHE_CONTROL, caching::PRIVATE);
        headers.insert(header::VARY, caching::VARY);
    }
}

#[derive(serde::Serialize)]
struct RequestError<'r> {
    errors: &'r [async_graphql::ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'r std::collections::BTreeMap<String, async_graphql::Value>,
}

/// Whether a response is a request error: refused before execution (parse, validation,
/// variables, operation selection). Execution errors always carry the path of their field;
/// those of a request error never do.
fn is_request_error(response: &GraphqlResponse) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_static(value));
        headers
    }

    fn accepting(value: &'static str) -> ResponseMedia {
        ResponseMedia::negotiate(&headers(header::ACCEPT, value))
    }

    #[test]
    fn the_response_media_type_follows_the_accept_header() {
        use ResponseMedia::{GraphqlResponseJson, Json};
        assert_eq!(ResponseMedia::negotiate(&HeaderMap::new()), Json);
        assert_eq!(accepting("*/*"), Json);
        assert_eq!(accepting("application/json"), Json);
        assert_eq!(accepting("text/html"), Json);
        assert_eq!(
            accepting("application/graphql-response+json"),
            GraphqlResponseJson
        );
        assert_eq!(
            accepting("application/graphql-response+json, application/json;q=0.9"),
            GraphqlResponseJson
        );
        assert_eq!(
            accepting("application/graphql-response+json;q=0.5, application/json"),
            Json
        );
        assert_eq!(accepting("application/graphql-response+json;q=0"), Json);
    }

    #[test]
    fn only_json_bodies_in_utf8_count_as_graphql_requests() {
        let json = |value| is_json_request(&headers(header::CONTENT_TYPE, value));
        assert!(json("application/json"));
        assert!(json("Application/JSON; charset=UTF-8"));
        assert!(json("application/graphql-response+json"));
        assert!(!json("application/json; charset=latin1"));
        assert!(!json("text/plain"));
        assert!(!json("application/x-www-form-urlencoded"));
        assert!(!json("multipart/form-data; boundary=x"));
        assert!(!is_json_request(&HeaderMap::new()));
    }
}
