//! The one stylesheet. It is compiled into the binary, addressed by a hash of its content
//! (`?v=…`) and served with a year-long `immutable` max-age, so a browser fetches it once per
//! release; `ETag`/`If-None-Match` covers clients that revalidate anyway.

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

/// `GET /static/tessera.css`.
pub async fn stylesheet(headers: HeaderMap) -> Response {
    let etag = format!("\"{}\"", *CSS_HASH);
    let cache = HeaderValue::from_static("public, max-age=31536000, immutable");
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"css\""));
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
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        CSS,
    )
        .into_response()
}
