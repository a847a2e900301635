//! GraphiQL at `GET /`, with every file it needs embedded in the binary and served under
//! `/graphiql/`: async-graphql's own page loads React and GraphiQL from unpkg, which leaves
//! a blank page without internet. api/assets/graphiql/README.md says what is vendored and
//! how to update it.

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// The page itself: ours, wiring GraphiQL to `/graphql` and `/graphql/ws`.
const PAGE: &str = include_str!("../../assets/graphiql/index.html");

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Every file under `/graphiql/`, by name, with its content type. The names carry the
/// package's version, so a file under a name never changes.
const ASSETS: [(&str, &str, &[u8]); 7] = [
    (
        "graphiql-3.8.3.min.js",
        JAVASCRIPT,
        include_bytes!("../../assets/graphiql/graphiql-3.8.3.min.js"),
    ),
    (
        "graphiql-3.8.3.min.css",
        CSS,
        include_bytes!("../../assets/graphiql/graphiql-3.8.3.min.css"),
    ),
    (
        "react-18.3.1.production.min.js",
        JAVASCRIPT,
        include_bytes!("../../assets/graphiql/react-18.3.1.production.min.js"),
    ),
    (
        "react-dom-18.3.1.production.min.js",
        JAVASCRIPT,
        include_bytes!("../../assets/graphiql/react-dom-18.3.1.production.min.js"),
    ),
    (
        "graphiql-3.8.3.LICENSE.txt",
        TEXT,
        include_bytes!("../../assets/graphiql/graphiql-3.8.3.LICENSE.txt"),
    ),
    (
        "react-18.3.1.LICENSE.txt",
        TEXT,
        include_bytes!("../../assets/graphiql/react-18.3.1.LICENSE.txt"),
    ),
    (
        "react-dom-18.3.1.LICENSE.txt",
        TEXT,
        include_bytes!("../../assets/graphiql/react-dom-18.3.1.LICENSE.txt"),
    ),
];

/// A year, and `immutable`: a new release of a package comes under a new name, so a
/// browser never needs to ask again.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// `GET /`. Revalidated on every load (it is small), so that a new shop release points
/// browsers at its new asset names at once.
pub async fn page() -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
        Html(PAGE),
    )
        .into_response()
}

/// `GET /graphiql/{file}`: one of the embedded files, or 404.
pub async fn asset(Path(file): Path<String>) -> Response {
    let Some((_, content_type, body)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(CACHE_FOREVER),
            ),
            // The content type is the only one a browser may use: a licence file is
            // never run as a script.
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        *body,
    )
        .into_response()
}
