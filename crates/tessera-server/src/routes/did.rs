//! What anyone may fetch to verify our credentials, without an account: each organisation's
//! did:web DID document (current and past keys), its signed Bitstring Status Lists (cached,
//! with ETag and Cache-Control) and Tessera's JSON-LD context.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_issue::did::{ListedKey, did_document, did_web};
use tessera_store::status_lists::STATUS_PURPOSES;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{AppError, ProblemDoc};
use crate::extract::AppPath;
use crate::routes::issuing::{self, IssuingError, STATUS_CACHE_CONTROL};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(did_json))
        .routes(routes!(status_list))
        .routes(routes!(tessera_context))
}

/// The organisation's DID document (did:web): every issuer key, current and past, as a
/// Multikey usable for `assertionMethod`. Public. The first key is made if there is none yet.
#[utoipa::path(get, path = "/orgs/{slug}/did.json", tag = "credentials",
    params(("slug" = String, Path)),
    responses((status = 200, description = "DID document", content_type = "application/json"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn did_json(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
) -> Result<Response, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    let mut keys = state.store.issuer_keys(&org.id).await?;
    if keys.is_empty() {
        let master = state.issuing.master_key(&state.config.data_dir)?;
        issuing::current_key(&state.store, master, &org.id, state.clock.now()).await?;
        keys = state.store.issuer_keys(&org.id).await?;
    }
    let did = did_web(&state.config.public_url, &org.slug).map_err(IssuingError::from)?;
    let listed: Vec<ListedKey> = keys
        .into_iter()
        .map(|k| ListedKey {
            seq: k.seq,
            public_key_multibase: k.public_key_multibase,
        })
        .collect();
    let doc = did_document(&did, &listed).map_err(IssuingError::from)?;
    let body = serde_json::to_vec(&doc).map_err(AppError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response())
}

/// A signed `BitstringStatusListCredential` (`purpose`: `revocation` or `suspension`; `seq`:
/// 1, 2, …). Public; served from memory, with `ETag` (304 on `If-None-Match`) and
/// `Cache-Control`.
#[utoipa::path(get, path = "/orgs/{slug}/status/{purpose}/{seq}", tag = "credentials",
    params(("slug" = String, Path), ("purpose" = String, Path), ("seq" = i64, Path)),
    responses((status = 200, description = "BitstringStatusListCredential", content_type = "application/vc+ld+json"),
        (status = 304, description = "Not modified"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
async fn status_list(
    State(state): State<AppState>,
    AppPath((slug, purpose, seq)): AppPath<(String, String, i64)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if !STATUS_PURPOSES.contains(&purpose.as_str()) {
        return Err(AppError::NotFound);
    }
    let list = issuing::status_list(&state, &slug, &purpose, seq).await?;
    let etag = HeaderValue::from_str(&list.etag).map_err(AppError::internal)?;
    let cache = HeaderValue::from_static(STATUS_CACHE_CONTROL);
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == list.etag
        });
    if matches {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/vc+ld+json"),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        list.bytes.clone(),
    )
        .into_response())
}

/// Tessera's JSON-LD context (the terms Open Badges does not define: attempts and time to
/// mastery, mastery by override), byte for byte what credentials pin with `digestSRI`. Public.
#[utoipa::path(get, path = "/contexts/tessera/v1", tag = "credentials",
    responses((status = 200, description = "JSON-LD context", content_type = "application/ld+json")))]
async fn tessera_context() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/ld+json"),
            (header::CACHE_CONTROL, "public, max-age=86400, immutable"),
        ],
        tessera_issue::context::text(),
    )
        .into_response()
}
