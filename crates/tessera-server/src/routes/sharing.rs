//! What a learner controls about their credentials: share links and their own DID.
//!
//! - **Share links** (`/api/v1/orgs/{slug}/credentials/{id}/share-links`, `/api/v1/me/share-links`):
//!   only the learner a credential was issued to makes links to it (staff who may read it get
//!   403, anyone else 404), lists their own links with how often and when each was opened, and
//!   revokes them. The token is in the returned URL once and never again (only its SHA-256 is
//!   stored). Opening a link needs no account: `GET /share/c/{token}` (a page, see
//!   [`crate::pages`]) shows that one credential and its downloads, nothing else of the learner.
//! - **The learner's own DID** (`/api/v1/me/did`): a did:key or did:web the learner controls;
//!   credentials issued after it is set name it as their subject (issuing reads it through
//!   `Store::credential_subject_id`), earlier ones keep the subject they were signed with.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_core::account::Role;
use tessera_store::credentials::Credential;
use tessera_store::share_links::{NewShareLink, ShareKind, ShareLink};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Caller};
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath};
use crate::routes::evidence::may_read_learner;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_credential_link))
        .routes(routes!(my_share_links))
        .routes(routes!(revoke_link))
        .routes(routes!(get_did, put_did, delete_did))
}

/// Where a credential share link opens.
pub fn credential_share_url(public_url: &str, token: &str) -> String {
    format!("{}/share/c/{token}", public_url.trim_end_matches('/'))
}

/// A new share link.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShareLinkRequest {
    /// A note for yourself ("for the Acme application"), up to 200 characters.
    pub label: Option<String>,
    /// When the link stops working (RFC 3339, in the future); never when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A share link just made: the only time its URL (with the token) is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedShareLink {
    /// The link.
    pub link: ShareLink,
    /// The URL to hand out; anyone holding it sees this credential.
    pub url: String,
}

/// The credential `id` of organisation `slug`, if `caller` is the learner it was issued to.
/// Staff who may read it get 403 (it is not theirs to share); anyone else 404.
pub async fn own_credential(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    id: &str,
) -> Result<Credential, AppError> {
    let org = state.store.org_by_slug(slug).await?;
    caller.require_member(&org.id)?;
    let credential = state.store.credential(id).await?;
    if credential.org_id != org.id {
        return Err(AppError::NotFound);
    }
    may_read_learner(caller, &org.id, &credential.learner_id)?;
    if credential.learner_id != caller.user_id() {
        return Err(AppError::Forbidden);
    }
    Ok(credential)
}

/// Makes a share link for `credential` (already checked to be the caller's).
pub async fn make_credential_link(
    state: &AppState,
    credential: &Credential,
    label: Option<&str>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<CreatedShareLink, AppError> {
    if credential.status == "revoked" {
        return Err(AppError::Conflict(
            "the credential is revoked; there is nothing to share",
        ));
    }
    let now = state.clock.now();
    let (link, token) = state
        .store
        .create_share_link(
            &NewShareLink {
                org_id: &credential.org_id,
                owner_id: &credential.learner_id,
                kind: ShareKind::Credential,
                target_id: &credential.id,
                label,
                expires_at,
            },
            now,
        )
        .await
        .map_err(|e| match e {
            tessera_store::StoreError::InvalidReference(why) => AppError::Validation {
                field: if why.contains("label") {
                    "label"
                } else {
                    "expires_at"
                },
                reason: why.into(),
            },
            other => other.into(),
        })?;
    Ok(CreatedShareLink {
        link,
        url: credential_share_url(&state.config.public_url, &token),
    })
}

/// Makes a share link to one of your credentials: anyone with the URL sees that credential and
/// its downloads, nothing else. The learner it was issued to only (staff get 403, others 404).
/// 409 `conflict` for a revoked credential; 422 `validation-failed` for an expiry not in the
/// future or a label over 200 characters.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/credentials/{id}/share-links", tag = "credentials",
    params(("slug" = String, Path), ("id" = String, Path)),
    request_body = NewShareLinkRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = CreatedShareLink),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn create_credential_link(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
    AppJson(body): AppJson<NewShareLinkRequest>,
) -> Result<(StatusCode, AppJson<CreatedShareLink>), AppError> {
    let credential = own_credential(&state, &caller, &slug, &id).await?;
    let created =
        make_credential_link(&state, &credential, body.label.as_deref(), body.expires_at).await?;
    Ok((StatusCode::CREATED, AppJson(created)))
}

/// Your share links (credentials and transcripts), newest first, each with how many times it
/// was opened and when last. Never the token.
#[utoipa::path(get, path = "/api/v1/me/share-links", tag = "credentials",
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<ShareLink>),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn my_share_links(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<AppJson<Vec<ShareLink>>, AppError> {
    Ok(AppJson(
        state
            .store
            .share_links(caller.user_id(), None, None)
            .await?,
    ))
}

/// Revokes one of your share links: it stops working at once (opening it says it was
/// withdrawn). Revoking twice is harmless. 404 for a link that is not yours.
#[utoipa::path(post, path = "/api/v1/me/share-links/{id}/revoke", tag = "credentials",
    params(("id" = String, Path)), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ShareLink),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn revoke_link(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<ShareLink>, AppError> {
    Ok(AppJson(
        state
            .store
            .revoke_share_link(caller.user_id(), &id, state.clock.now())
            .await?,
    ))
}

/// The longest DID accepted.
pub const MAX_DID_LEN: usize = 2048;

/// Checks a learner's DID: a `did:key` (an Ed25519 one must be a valid key, read by tessera-vc's
/// did:key resolver; other key types are checked for multibase syntax) or a `did:web` (the
/// method's syntax: a host, an optional `%3A` port and `:`-separated path, mapped to its
/// `https` document URL the way verification maps it). Returns the trimmed DID.
pub fn parse_learner_did(text: &str) -> Result<String, AppError> {
    let did = text.trim();
    let bad = |reason: &str| AppError::Validation {
        field: "did",
        reason: reason.into(),
    };
    if did.is_empty() || did.len() > MAX_DID_LEN {
        return Err(bad("a DID of 1 to 2048 characters is required"));
    }
    if did.contains(['#', '?', '/']) || did.chars().any(char::is_whitespace) {
        return Err(bad(
            "a DID names you, not a key or a page: no '#', '?', '/' or spaces",
        ));
    }
    if let Some(multibase) = did.strip_prefix("did:key:") {
        const BASE58: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        let body = multibase
            .strip_prefix('z')
            .ok_or_else(|| bad("a did:key is 'did:key:z…' (base58btc multibase)"))?;
        if body.len() < 32 || !body.chars().all(|c| BASE58.contains(c)) {
            return Err(bad("the did:key's key is not base58btc multibase"));
        }
        if multibase.starts_with("z6Mk") {
            tessera_vc::did::ControllerDocument::for_did_key(did)
                .map_err(|e| bad(&format!("not a valid Ed25519 did:key: {e}")))?;
        }
        return Ok(did.to_owned());
    }
    if let Some(rest) = did.strip_prefix("did:web:") {
        let idchar = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '%');
        let segments: Vec<&str> = rest.split(':').collect();
        let host = segments[0].replace("%3A", ":").replace("%3a", ":");
        let (name, port) = host.split_once(':').unwrap_or((host.as_str(), ""));
        let host_ok = !name.is_empty()
            && name.contains('.')
            && name
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            && (port.is_empty() || (port.len() <= 5 && port.chars().all(|c| c.is_ascii_digit())));
        let path_ok = segments[1..]
            .iter()
            .all(|s| !s.is_empty() && s.chars().all(idchar));
        let pct_ok = rest
            .split('%')
            .skip(1)
            .all(|p| p.len() >= 2 && p.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit));
        if !(host_ok && path_ok && pct_ok) {
            return Err(bad(
                "a did:web is 'did:web:host.example[%3Aport][:path…]' (a domain name, then \
                 ':'-separated path segments)",
            ));
        }
        crate::routes::verify::service::controller_url(did, false).map_err(|e| bad(&e))?;
        return Ok(did.to_owned());
    }
    Err(bad("only did:key and did:web DIDs are accepted"))
}

/// Your DID as Tessera uses it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LearnerDidView {
    /// Your DID, or none: then credentials name you by a pairwise `urn:uuid:` per organisation.
    pub did: Option<String>,
    /// When it was set.
    pub set_at: Option<DateTime<Utc>>,
}

/// A DID to use.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LearnerDidRequest {
    /// `did:key:z…` or `did:web:…`.
    pub did: String,
}

/// Only learners (of any organisation) have a subject DID.
fn require_learner(caller: &Caller) -> Result<(), AppError> {
    if caller.0.roles.iter().any(|(_, r)| *r == Role::Learner) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Your own DID, if you gave one. Learners only (403 otherwise).
#[utoipa::path(get, path = "/api/v1/me/did", tag = "credentials",
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = LearnerDidView),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_did(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<AppJson<LearnerDidView>, AppError> {
    require_learner(&caller)?;
    let did = state.store.learner_did(caller.user_id()).await?;
    Ok(AppJson(LearnerDidView {
        set_at: did.as_ref().map(|d| d.created_at),
        did: did.map(|d| d.did),
    }))
}

/// Sets your DID: credentials issued to you from now on name it as their subject (those
/// already issued keep theirs). Learners only. 422 `validation-failed` for anything but a
/// well-formed did:key or did:web.
#[utoipa::path(put, path = "/api/v1/me/did", tag = "credentials",
    request_body = LearnerDidRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = LearnerDidView),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn put_did(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppJson(body): AppJson<LearnerDidRequest>,
) -> Result<AppJson<LearnerDidView>, AppError> {
    require_learner(&caller)?;
    let did = parse_learner_did(&body.did)?;
    let now = state.clock.now();
    state
        .store
        .set_learner_did(caller.user_id(), &did, now)
        .await?;
    Ok(AppJson(LearnerDidView {
        did: Some(did),
        set_at: Some(now),
    }))
}

/// Forgets your DID: later credentials name you by your pairwise `urn:uuid:` again. 204 even
/// when there was none. Learners only.
#[utoipa::path(delete, path = "/api/v1/me/did", tag = "credentials",
    security(("bearer" = []), ("session" = [])),
    responses((status = 204),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn delete_did(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<StatusCode, AppError> {
    require_learner(&caller)?;
    state.store.clear_learner_did(caller.user_id()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dids_of_the_two_methods_pass_and_others_are_refused() {
        let key = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        assert_eq!(parse_learner_did(&format!("  {key} ")).unwrap(), key);
        for ok in [
            "did:web:learner.example",
            "did:web:learner.example%3A8443",
            "did:web:example.org:people:ann-b",
            // A P-256 did:key: syntax only.
            "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",
        ] {
            assert_eq!(parse_learner_did(ok).unwrap(), ok);
        }
        for bad in [
            "",
            "urn:uuid:5f1c",
            "did:example:123",
            "did:key:6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doX0",
            "did:key:z6Mkshort",
            "did:web:",
            "did:web:localhost",
            "did:web:a.example::x",
            "did:web:a.example/path",
            "did:web:a.example#key-1",
            "did:web:a.example:%zz",
            "did:web:a.example%3A99999999",
            &format!("did:web:{}.example", "a".repeat(2100)),
        ] {
            assert!(
                matches!(
                    parse_learner_did(bad),
                    Err(AppError::Validation { field: "did", .. })
                ),
                "{bad}"
            );
        }
    }
}
