//! HTTP caching of GraphQL responses: which ones a CDN or browser may keep, for how long,
//! and the ETag that lets a client revalidate one for a 304 instead of the whole body.
//!
//! Only a GET of an anonymous, successful query of the public catalog is shareable: its
//! answer is the same for every anonymous caller. Everything else (POST, any request with
//! an Authorization header, `me`, `cart`, an answer with errors, a refusal) keeps the
//! `private, no-store` that every GraphQL response starts with.

use std::collections::HashSet;

use async_graphql::{
    Value,
    parser::{
        parse_query,
        types::{ExecutableDocument, Field, OperationType, Selection, SelectionSet},
    },
};
use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use crate::domain::{GlobalId, NodeKind};

/// Root fields whose answer depends only on the catalog, never on who asks: the one list
/// of what may be cached publicly. `node` counts only with the ID of a product or a
/// category (see [`is_public_node`]).
pub const PUBLIC_ROOT_FIELDS: [&str; 6] = [
    "products",
    "product",
    "categories",
    "category",
    "node",
    "__typename",
];

/// What every GraphQL response carries unless [`public`] replaces it.
pub const PRIVATE: HeaderValue = HeaderValue::from_static("private, no-store");
/// The response changes with the media type asked for and with the caller.
pub const VARY: HeaderValue = HeaderValue::from_static("Accept, Authorization");

/// Whether the operation `request` selects reads only [`PUBLIC_ROOT_FIELDS`]. A document
/// that does not parse, names no single operation, or is not a query, is not public.
pub fn is_public_catalog(request: &async_graphql::Request) -> bool {
    let Ok(document) = parse_query(&request.query) else {
        return false;
    };
    let mut operations = document.operations.iter().filter(|(name, _)| {
        request.operation_name.is_none()
            || name.map(|n| n.as_str()) == request.operation_name.as_deref()
    });
    let (Some((_, operation)), None) = (operations.next(), operations.next()) else {
        return false;
    };
    operation.node.ty == OperationType::Query
        && RootFields {
            document: &document,
            request,
            spread: HashSet::new(),
        }
        .all_public(&operation.node.selection_set.node)
}

/// A walk over a root selection set, through its inline fragments and spreads. Each
/// fragment is walked once, so a cycle (refused later by validation) cannot loop here.
struct RootFields<'d> {
    document: &'d ExecutableDocument,
    request: &'d async_graphql::Request,
    spread: HashSet<&'d str>,
}

impl<'d> RootFields<'d> {
    fn all_public(&mut self, set: &'d SelectionSet) -> bool {
        set.items.iter().all(|selection| match &selection.node {
            Selection::Field(field) => self.is_public(&field.node),
            Selection::InlineFragment(inline) => self.all_public(&inline.node.selection_set.node),
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if !self.spread.insert(name) {
                    return true;
                }
                self.document
                    .fragments
                    .get(&spread.node.fragment_name.node)
                    .is_some_and(|fragment| self.all_public(&fragment.node.selection_set.node))
            }
        })
    }

    fn is_public(&self, field: &Field) -> bool {
        let name = field.name.node.as_str();
        PUBLIC_ROOT_FIELDS.contains(&name) && (name != "node" || self.is_public_node(field))
    }

    /// `node(id:)` with the ID of a product or a category, given inline or as a variable.
    fn is_public_node(&self, field: &Field) -> bool {
        let id = field.get_argument("id").and_then(|argument| {
            argument
                .node
                .clone()
                .into_const_with(|name| self.request.variables.get(&name).cloned().ok_or(()))
                .ok()
        });
        let Some(Value::String(id)) = id else {
            return false;
        };
        GlobalId::parse(&id, "id")
            .is_ok_and(|id| matches!(id.kind, NodeKind::Product | NodeKind::Category))
    }
}

/// Makes a successful response shareable for `max_age_secs`, with a weak ETag of its
/// body; answers 304 with no body when `request_headers`' If-None-Match names that ETag.
pub async fn public(
    response: Response,
    max_age_secs: u32,
    request_headers: &HeaderMap,
) -> Response {
    let (mut parts, body) = response.into_parts();
    // The body is already one buffer in memory (`ResponseMedia::respond` serialised it),
    // so collecting it allocates nothing new and needs no limit of its own.
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let etag = etag(&body);
    let cache_control = format!("public, max-age={max_age_secs}");
    parts.headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&cache_control).unwrap_or(PRIVATE),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, value);
    }
    if is_fresh(request_headers, &etag) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(body))
}

/// The same JSON always gets the same tag, and any change a new one; 128 bits of SHA-256
/// are plenty against accidental collisions. The tag is weak (`W/`) because the
/// compression layer sends the same JSON as different bytes per `Accept-Encoding`, and a
/// strong tag promises the very same bytes.
fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("W/\"{}\"", hex::encode(&digest[..16]))
}

/// Whether If-None-Match lists `etag` (or `*`). It compares weakly, as RFC 9110 says
/// for If-None-Match: a `W/` prefix a proxy added does not matter.
fn is_fresh(request_headers: &HeaderMap, etag: &str) -> bool {
    request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || opaque(tag) == opaque(etag))
}

/// A tag without its weakness prefix.
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(query: &str, variables: serde_json::Value) -> bool {
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        is_public_catalog(&request)
    }

    fn id(raw: &str) -> String {
        use base64::{Engine, engine::general_purpose::STANDARD};
        STANDARD.encode(raw)
    }

    #[test]
    fn catalog_queries_are_public_and_anything_about_the_caller_is_not() {
        let none = serde_json::json!({});
        assert!(public(
            "{ products(first: 5) { nodes { name } } }",
            none.clone()
        ));
        assert!(public(
            "query Shop { categories { name } ...More } fragment More on Query { product(slug: \"x\") { name } }",
            none.clone()
        ));
        assert!(!public(
            "{ products(first: 5) { nodes { name } } me { id } }",
            none.clone()
        ));
        assert!(!public("{ ... on Query { cart { id } } }", none.clone()));
        assert!(!public("mutation { logout }", none.clone()));
        assert!(!public("{ products { totalCount ", none));
    }

    #[test]
    fn node_is_public_only_for_a_product_or_a_category() {
        let query = "query($id: ID!) { node(id: $id) { id } }";
        assert!(public(query, serde_json::json!({ "id": id("Product:1") })));
        assert!(public(query, serde_json::json!({ "id": id("Category:2") })));
        assert!(!public(query, serde_json::json!({ "id": id("Order:1") })));
        assert!(!public(query, serde_json::json!({})));
        assert!(!public(
            &format!("{{ node(id: \"{}\") {{ id }} }}", id("User:1")),
            serde_json::json!({})
        ));
    }

    #[test]
    fn if_none_match_matches_any_listed_tag_weakly() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(is_fresh(&headers, "\"b\""));
        assert!(is_fresh(&headers, "W/\"a\""));
        assert!(!is_fresh(&headers, "W/\"c\""));
        assert!(!is_fresh(&HeaderMap::new(), "\"b\""));
    }
}
