//! The storefront at `/store`: a small single-page shop (plain ES modules and CSS, no build
//! step) embedded in the binary, so that `shop serve --demo` ends with a shop a person can
//! click through, and the links in shop's emails have pages to land on. Off with
//! SHOP_STOREFRONT=off (then `/store` is 404).
//!
//! Every path under `/store` that is not a file under `/store/assets/` answers the page
//! itself: its script reads the path (`/store/products/<slug>`, `/store/orders/<number>`)
//! and shows what it names, so deep links and reloads work.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    path::Path as FilePath,
    sync::LazyLock,
};

use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

/// Where the storefront is served; the default SHOP_PUBLIC_URL ends with it.
pub const STOREFRONT_PATH: &str = "/store";

/// Scripts, styles, API calls and the live order socket come from shop alone; nothing
/// runs inline, so injected markup cannot run. Images are the exception: a product's
/// `imageUrls` are absolute https URLs on whatever host the shop keeps them (a CDN).
/// The page may not be framed (a clickjacked "Place order" would pay).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' https:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The page, for every client-side route.
const PAGE: &[u8] = include_bytes!("../../assets/storefront/index.html");

/// Every file under `/store/assets/`, by name (a path below api/assets/storefront/).
macro_rules! assets {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_bytes!(concat!("../../assets/storefront/", $file)).as_slice())),*]
    };
}

const ASSETS: &[(&str, &[u8])] = assets![
    "store.css",
    "placeholder.svg",
    "app.js",
    "cart.js",
    "api.js",
    "session.js",
    "router.js",
    "navigation.js",
    "render.js",
    "format.js",
    "pages/catalog.js",
    "pages/product.js",
    "pages/cart.js",
    "pages/checkout.js",
    "pages/account.js",
    "pages/orders.js",
    "pages/password.js",
    "pages/verify.js",
];

/// The files' names carry no version (there is no build step to add one), so a browser
/// asks again on every load and gets 304 while the file is unchanged: a new release is
/// seen at once, and an unchanged one costs a round trip per file, not its bytes.
const REVALIDATE: &str = "no-cache";

/// The entity tag of each embedded file, the page's last: a hash of its bytes.
static ETAGS: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|(_, body)| *body)
        .chain([PAGE])
        .map(|body| {
            let mut hasher = DefaultHasher::new();
            body.hash(&mut hasher);
            HeaderValue::from_str(&format!("\"{:016x}\"", hasher.finish()))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
        })
        .collect()
});

/// The storefront's routes, or none when it is turned off.
pub fn routes<S: Clone + Send + Sync + 'static>(enabled: bool) -> Router<S> {
    if !enabled {
        return Router::new();
    }
    Router::new()
        .route(STOREFRONT_PATH, get(page))
        .route(&format!("{STOREFRONT_PATH}/"), get(page))
        .route(&format!("{STOREFRONT_PATH}/{{*path}}"), get(file_or_page))
}

/// `GET /store`: the page.
async fn page(headers: HeaderMap) -> Response {
    respond(&headers, "text/html; charset=utf-8", PAGE, ETAGS.len() - 1)
}

/// `GET /store/<path>`: a file under `assets/` (404 when there is none by that name), or
/// the page, whose script shows what the path names.
async fn file_or_page(headers: HeaderMap, Path(path): Path<String>) -> Response {
    let Some(file) = path.strip_prefix("assets/") else {
        return page(headers).await;
    };
    let Some(at) = ASSETS.iter().position(|(name, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    respond(&headers, content_type(file), ASSETS[at].1, at)
}

fn content_type(file: &str) -> &'static str {
    match FilePath::new(file).extension().and_then(|e| e.to_str()) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// The file with the storefront's headers, or 304 when the browser holds this version.
fn respond(
    headers: &HeaderMap,
    content_type: &'static str,
    body: &'static [u8],
    at: usize,
) -> Response {
    let etag = ETAGS[at].clone();
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|held| held.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    // The content type is the only one a browser may use.
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The reset and verification pages carry a token in their address: no image request
    // or link may send it elsewhere.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module added to the folder but not to [`ASSETS`] would be a 404 in the browser.
    #[test]
    fn every_file_of_the_storefront_folder_is_served() {
        let folder = FilePath::new(env!("CARGO_MANIFEST_DIR")).join("assets/storefront");
        let mut found = Vec::new();
        let mut pending = vec![folder.clone()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).expect("the storefront folder") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    let name = path.strip_prefix(&folder).expect("below the folder");
                    found.push(name.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        for name in found {
            let served = name == "index.html" || ASSETS.iter().any(|(file, _)| *file == name);
            assert!(
                served,
                "{name} is in api/assets/storefront/ but not in ASSETS"
            );
        }
    }

    #[test]
    fn every_asset_has_a_content_type_a_browser_runs_or_shows() {
        for (name, _) in ASSETS {
            assert_ne!(content_type(name), "application/octet-stream", "{name}");
        }
    }
}
