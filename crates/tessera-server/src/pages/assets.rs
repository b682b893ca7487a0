//! The static assets: the one stylesheet and the evidence form's draft keeper (a small script,
//! progressive enhancement only). Each is compiled into the binary, addressed by a hash of its
//! content (`?v=…`) and served with a year-long `immutable` max-age, so a browser fetches it
//! once per release; `ETag`/`If-None-Match` covers clients that revalidate anyway.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Where the stylesheet is served.
pub const CSS_PATH: &str = "/static/tessera.css";

const CSS: &str = include_str!("../../static/tessera.css");

/// The first 16 hex digits of the stylesheet's SHA-256.
static CSS_HASH: LazyLock<String> =
    LazyLock::new(|| hex::encode(Sha256::digest(CSS.as_bytes()))[..16].to_owned());

static CSS_URL: LazyLock<String> = LazyLock::new(|| format!("{CSS_PATH}?v={}", *CSS_HASH));

/// The stylesheet's versioned URL, for the layout.
pub fn css_url() -> &'static str {
    CSS_URL.as_str()
}

/// Where the draft keeper is served.
pub const DRAFT_JS_PATH: &str = "/static/draft.js";

const DRAFT_JS: &str = include_str!("../../static/draft.js");

static DRAFT_JS_HASH: LazyLock<String> =
    LazyLock::new(|| hex::encode(Sha256::digest(DRAFT_JS.as_bytes()))[..16].to_owned());

static DRAFT_JS_URL: LazyLock<String> =
    LazyLock::new(|| format!("{DRAFT_JS_PATH}?v={}", *DRAFT_JS_HASH));

/// The draft keeper's versioned URL, for the evidence form's page.
pub fn draft_js_url() -> &'static str {
    DRAFT_JS_URL.as_str()
}

/// `GET /static/draft.js`.
pub async fn draft_script(headers: HeaderMap) -> Response {
    serve(
        &headers,
        &DRAFT_JS_HASH,
        "text/javascript; charset=utf-8",
        DRAFT_JS,
    )
}

/// `GET /static/tessera.css`.
pub async fn stylesheet(headers: HeaderMap) -> Response {
    serve(&headers, &CSS_HASH, "text/css; charset=utf-8", CSS)
}

/// An immutable asset: 304 when the browser already holds this version, else the bytes.
fn serve(
    headers: &HeaderMap,
    hash: &str,
    content_type: &'static str,
    body: &'static str,
) -> Response {
    let etag = format!("\"{hash}\"");
    let cache = HeaderValue::from_static("public, max-age=31536000, immutable");
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"asset\""));
    if matches {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}
