//! Credentials in the API: issuing for a mastery (teachers and admins), reading the exact signed
//! bytes (the learner themself and the organisation's staff), revoking, suspending and
//! reinstating with a reason (teachers and admins), and the issuer: settings and key rotation
//! (admins).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tessera_core::account::Role;
use tessera_issue::did::{did_web, method_id};
use tessera_store::credentials::{Credential, StatusAction};
use tessera_store::issuer_keys::IssuerSettings;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath};
use crate::routes::evidence::may_read_learner;
use crate::routes::issuing::{self, IssuingError};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_credential))
        .routes(routes!(learner_credentials))
        .routes(routes!(get_credential))
        .routes(routes!(change_status))
        .routes(routes!(get_issuer, put_issuer))
        .routes(routes!(rotate_key))
}

fn is_issuer_role(r: Role) -> bool {
    matches!(r, Role::Teacher | Role::Admin)
}

/// Issues the Open Badges 3.0 credential for the learner's current mastery of the competency
/// (teachers and admins of the organisation). Idempotent: 201 with the new credential, or 200
/// with the one already issued for this mastery. 409 `conflict` if the competency is not
/// mastered.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/credential", tag = "credentials",
    params(("slug" = String, Path), ("user" = String, Path), ("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = Credential), (status = 200, body = Credential),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn issue_credential(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user, competency)): AppPath<(String, String, String)>,
) -> Result<(StatusCode, AppJson<Credential>), AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, is_issuer_role)?;
    if !state.store.is_member(&org.id, &user).await? {
        return Err(AppError::NotFound);
    }
    let (credential, created) =
        issuing::issue_for_mastery(&state, &org, &user, &competency, Some(caller.user_id()))
            .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, AppJson(credential)))
}

/// A learner's credentials in the organisation, newest first. The learner themself and the
/// organisation's reviewers, teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/learners/{user}/credentials", tag = "credentials",
    params(("slug" = String, Path), ("user" = String, Path), crate::routes::PageQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<Credential>),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn learner_credentials(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user)): AppPath<(String, String)>,
    crate::extract::AppQuery(page): crate::extract::AppQuery<crate::routes::PageQuery>,
) -> Result<AppJson<Vec<Credential>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    may_read_learner(&caller, &org.id, &user)?;
    let (limit, offset) = page.bounds()?;
    Ok(AppJson(
        state
            .store
            .credentials(&org.id, Some(&user), limit, offset)
            .await?,
    ))
}

/// The credential, exactly the bytes that were signed (never re-serialised). The learner it
/// was issued to and the organisation's reviewers, teachers and admins; 404 for anyone else.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/credentials/{id}", tag = "credentials",
    params(("slug" = String, Path), ("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The signed AchievementCredential", content_type = "application/vc+ld+json"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_credential(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
) -> Result<Response, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_member(&org.id)?;
    let credential = state.store.credential(&id).await?;
    if credential.org_id != org.id {
        return Err(AppError::NotFound);
    }
    may_read_learner(&caller, &org.id, &credential.learner_id)?;
    Ok((
        [(header::CONTENT_TYPE, "application/vc+ld+json")],
        credential.signed,
    )
        .into_response())
}

/// A status change.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusChangeAction {
    /// Permanent.
    Revoke,
    /// Until reinstated.
    Suspend,
    /// Lifts a suspension.
    Reinstate,
}

/// A status change with its reason (kept in the audit log).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChangeRequest {
    /// What to do.
    pub action: StatusChangeAction,
    /// Why (required).
    pub reason: String,
}

/// Revokes (permanently), suspends or reinstates a credential; the organisation's status list
/// changes at once. Teachers and admins. 409 `conflict` when the credential's state does not
/// allow it (revoked is final); 422 `validation-failed` without a reason.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/credentials/{id}/status", tag = "credentials",
    params(("slug" = String, Path), ("id" = String, Path)),
    request_body = StatusChangeRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Credential),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn change_status(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
    AppJson(body): AppJson<StatusChangeRequest>,
) -> Result<AppJson<Credential>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, is_issuer_role)?;
    let credential = state.store.credential(&id).await?;
    if credential.org_id != org.id {
        return Err(AppError::NotFound);
    }
    let reason = body.reason.trim();
    if reason.is_empty() || reason.len() > 2_000 {
        return Err(AppError::Validation {
            field: "reason",
            reason: "a reason of 1 to 2000 characters is required".into(),
        });
    }
    let action = match body.action {
        StatusChangeAction::Revoke => StatusAction::Revoke,
        StatusChangeAction::Suspend => StatusAction::Suspend,
        StatusChangeAction::Reinstate => StatusAction::Reinstate,
    };
    let change = state
        .store
        .change_credential_status(&id, action, reason, caller.user_id(), state.clock.now())
        .await?;
    state.issuing.forget_lists(&org.slug);
    Ok(AppJson(change.credential))
}

/// An issuer key as the API shows it: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerKeyView {
    /// Key id (recorded by each credential it signed).
    pub id: String,
    /// Its number.
    pub seq: i64,
    /// The verification method id under the organisation's did:web.
    pub verification_method: String,
    /// The public key (multibase).
    pub public_key_multibase: String,
    /// `current` or `past`.
    pub status: String,
    /// When it was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was replaced.
    pub retired_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The organisation as an issuer.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerView {
    /// The did:web DID.
    pub did: String,
    /// Where its DID document is served.
    pub did_document_url: String,
    /// Settings.
    pub settings: IssuerSettings,
    /// Keys, oldest first.
    pub keys: Vec<IssuerKeyView>,
}

async fn issuer_view(state: &AppState, org_id: &str, slug: &str) -> Result<IssuerView, AppError> {
    let did = did_web(&state.config.public_url, slug).map_err(IssuingError::from)?;
    let keys = state
        .store
        .issuer_keys(org_id)
        .await?
        .into_iter()
        .map(|k| IssuerKeyView {
            verification_method: method_id(&did, k.seq),
            id: k.id,
            seq: k.seq,
            public_key_multibase: k.public_key_multibase,
            status: k.status,
            created_at: k.created_at,
            retired_at: k.retired_at,
        })
        .collect();
    Ok(IssuerView {
        did_document_url: tessera_issue::did::did_document_url(&state.config.public_url, slug),
        did,
        settings: state.store.issuer_settings(org_id).await?,
        keys,
    })
}

/// The organisation as an issuer: DID, settings and public keys. Admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/issuer", tag = "credentials",
    params(("slug" = String, Path)), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = IssuerView),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_issuer(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
) -> Result<AppJson<IssuerView>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| r == Role::Admin)?;
    Ok(AppJson(issuer_view(&state, &org.id, &org.slug).await?))
}

/// Sets how the organisation issues: `did_method` `web` (default) or `key`; `issuance`
/// `approval` (a teacher issues, default) or `automatic`. Admins.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/issuer", tag = "credentials",
    params(("slug" = String, Path)), request_body = IssuerSettings,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = IssuerView),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn put_issuer(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppJson(settings): AppJson<IssuerSettings>,
) -> Result<AppJson<IssuerView>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| r == Role::Admin)?;
    state
        .store
        .set_issuer_settings(&org.id, &settings, state.clock.now())
        .await?;
    state.issuing.forget_lists(&org.slug);
    Ok(AppJson(issuer_view(&state, &org.id, &org.slug).await?))
}

/// Rotates the organisation's issuer key: a new current key; the old one stays in the DID
/// document so that what it signed keeps verifying. Audited (`IssuerKeyRotated`). Admins.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/issuer/keys", tag = "credentials",
    params(("slug" = String, Path)), security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = IssuerView),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn rotate_key(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
) -> Result<(StatusCode, AppJson<IssuerView>), AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| r == Role::Admin)?;
    let master = state.issuing.master_key(&state.config.data_dir)?;
    issuing::rotate_key(
        &state.store,
        master,
        &org.id,
        Some(caller.user_id()),
        state.clock.now(),
    )
    .await?;
    state.issuing.forget_lists(&org.slug);
    Ok((
        StatusCode::CREATED,
        AppJson(issuer_view(&state, &org.id, &org.slug).await?),
    ))
}
