//! Learner rights (issue 7): consents, the staff access log, the data export, erasure,
//! retention settings and the privacy and AI-use note.
//!
//! # Who may do what
//! - **Consents**: the learner grants and withdraws their own; they and the organisation's
//!   admins (who must know what they may share) read them.
//! - **Access log**: only the learner reads who read their data.
//! - **Export** (`GET /api/v1/me/export`): every signed-in person, of their own data only.
//! - **Erasure**, on the learner's request: the learner themself (with their password), an
//!   admin of the organisation when the account is only a learner there and nowhere else, or a
//!   platform admin. Everyone else gets 404. Platform admins cannot be erased.
//! - **Privacy note**: public; admins edit it and the retention settings.
//!
//! # The access log
//! [`may_read_learner`](super::evidence::may_read_learner) and
//! [`may_read_evidence`](super::evidence::may_read_evidence) call [`note_access`] when they let
//! someone other than the learner in. The note goes into a per-request list (a task-local set
//! up by the [`record_access`] middleware around every API and page request); when the response
//! is a success, the middleware writes the list in one transaction. If that write fails the
//! response becomes a 500: a read that cannot be logged is not served. One entry per learner
//! per request, with the first kind noted (a record page that also checks evidence links counts
//! as a record read).

use std::cell::RefCell;
use std::io::Write;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tessera_core::account::Role;
use tessera_store::erasure::{Erasure, LearnerExport};
use tessera_store::learner_rights::{AccessEntry, Consent, ConsentScope, NewAccess, Retention};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Caller, MaybeAuth, verify_password};
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::PageQuery;
use crate::state::AppState;

tokio::task_local! {
    /// Reads of learners' data noted during the current request.
    static ACCESSES: RefCell<Vec<NewAccess>>;
}

/// Notes that `caller` was let in to `learner_id`'s data (`what`: `record` or `evidence`).
/// Nothing is noted for the learner themself, or outside a request (tests calling checks
/// directly).
pub fn note_access(caller: &Caller, org_id: &str, learner_id: &str, what: &'static str) {
    if caller.user_id() == learner_id {
        return;
    }
    let _ = ACCESSES.try_with(|list| {
        let mut list = list.borrow_mut();
        if list
            .iter()
            .any(|a| a.org_id == org_id && a.learner_id == learner_id)
        {
            return;
        }
        let mut roles: Vec<&str> = caller.roles_in(org_id).map(Role::as_str).collect();
        if caller.is_platform_admin() {
            roles.push("platform admin");
        }
        list.push(NewAccess {
            org_id: org_id.to_owned(),
            learner_id: learner_id.to_owned(),
            staff_id: caller.user_id().to_owned(),
            staff_roles: roles.join(", "),
            what,
            method: String::new(),
            path: String::new(),
        });
    });
}

/// Middleware: collects [`note_access`] calls during the request and logs them when the
/// response is a success.
pub async fn record_access(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let (response, noted) = ACCESSES
        .scope(RefCell::new(Vec::new()), async move {
            let response = next.run(request).await;
            let noted = ACCESSES.with(|l| std::mem::take(&mut *l.borrow_mut()));
            (response, noted)
        })
        .await;
    let status = response.status();
    if noted.is_empty() || !(status.is_success() || status.is_redirection()) {
        return response;
    }
    let entries: Vec<NewAccess> = noted
        .into_iter()
        .map(|mut a| {
            a.method = method.clone();
            a.path = path.clone();
            a
        })
        .collect();
    match state.store.log_access(&entries, state.clock.now()).await {
        Ok(()) => response,
        Err(e) => AppError::from(e).into_response(),
    }
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_consents, grant_consent))
        .routes(routes!(withdraw_consent))
        .routes(routes!(access_log))
        .routes(routes!(export))
        .routes(routes!(erase))
        .routes(routes!(privacy, set_privacy))
        .routes(routes!(set_retention))
}

/// Passes only for the learner themself, as a member of the organisation; 404 otherwise.
fn require_self(caller: &Caller, org_id: &str, learner_id: &str) -> Result<(), AppError> {
    caller.require_member(org_id)?;
    if caller.user_id() == learner_id && caller.roles_in(org_id).next().is_some() {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The learner themself, or the organisation's admins and platform admins; 404 otherwise.
pub fn may_read_consents(caller: &Caller, org_id: &str, learner_id: &str) -> Result<(), AppError> {
    caller.require_member(org_id)?;
    let admin = caller.is_platform_admin() || caller.roles_in(org_id).any(|r| r == Role::Admin);
    if admin || caller.user_id() == learner_id {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// A consent to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsent {
    /// What it covers: `record`, `evidence`, `credentials`, `transcripts`,
    /// `subgroup_attributes` or `research`.
    pub scope: String,
    /// With whom (1–200 characters).
    pub recipient: String,
    /// What for (optional, at most 500 characters).
    pub purpose: Option<String>,
}

/// Checks a consent's fields; the scope parsed.
pub fn check_consent(c: &NewConsent) -> Result<(ConsentScope, String, Option<String>), AppError> {
    let scope = ConsentScope::parse(&c.scope).ok_or_else(|| AppError::Validation {
        field: "scope",
        reason: format!(
            "must be one of {}",
            ConsentScope::ALL.map(ConsentScope::as_str).join(", ")
        ),
    })?;
    let recipient = c.recipient.trim();
    if recipient.is_empty() || recipient.chars().count() > 200 {
        return Err(AppError::Validation {
            field: "recipient",
            reason: "say with whom, in 1 to 200 characters".into(),
        });
    }
    let purpose = c
        .purpose
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if purpose.is_some_and(|p| p.chars().count() > 500) {
        return Err(AppError::Validation {
            field: "purpose",
            reason: "at most 500 characters".into(),
        });
    }
    Ok((scope, recipient.to_owned(), purpose.map(str::to_owned)))
}

/// A learner's consents, the whole history (withdrawn ones too), oldest first. The learner
/// and the organisation's admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/learners/{user}/consents", tag = "rights",
    params(("slug" = String, Path), ("user" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<Consent>), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_consents(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user)): AppPath<(String, String)>,
) -> Result<AppJson<Vec<Consent>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    may_read_consents(&caller, &org.id, &user)?;
    Ok(AppJson(state.store.consents(&org.id, &user).await?))
}

/// Records a consent the learner gives now. Only the learner themself.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/learners/{user}/consents", tag = "rights",
    params(("slug" = String, Path), ("user" = String, Path)),
    request_body = NewConsent,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = Consent), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn grant_consent(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user)): AppPath<(String, String)>,
    AppJson(body): AppJson<NewConsent>,
) -> Result<(StatusCode, AppJson<Consent>), AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    require_self(&caller, &org.id, &user)?;
    let (scope, recipient, purpose) = check_consent(&body)?;
    let consent = state
        .store
        .grant_consent(
            &org.id,
            &user,
            scope,
            &recipient,
            purpose.as_deref(),
            state.clock.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, AppJson(consent)))
}

/// Withdraws one of the learner's consents (it stays in the history). Only the learner
/// themself; 409 if it was already withdrawn.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/learners/{user}/consents/{id}/withdraw", tag = "rights",
    params(("slug" = String, Path), ("user" = String, Path), ("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Consent), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn withdraw_consent(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user, id)): AppPath<(String, String, String)>,
) -> Result<AppJson<Consent>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    require_self(&caller, &org.id, &user)?;
    Ok(AppJson(
        state
            .store
            .withdraw_consent(&org.id, &user, &id, state.clock.now())
            .await?,
    ))
}

/// Who among staff read the learner's record or evidence, and when, newest first. Only the
/// learner themself.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/learners/{user}/access-log", tag = "rights",
    params(("slug" = String, Path), ("user" = String, Path), PageQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<AccessEntry>), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn access_log(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user)): AppPath<(String, String)>,
    AppQuery(page): AppQuery<PageQuery>,
) -> Result<AppJson<Vec<AccessEntry>>, AppError> {
    let (limit, offset) = page.bounds()?;
    let org = state.store.org_by_slug(&slug).await?;
    require_self(&caller, &org.id, &user)?;
    Ok(AppJson(
        state
            .store
            .access_log(&org.id, &user, limit, offset)
            .await?,
    ))
}

/// Every piece of the caller's own data in one zip: `data.json` (profile, memberships, and per
/// organisation the mastery record and events, submissions, reviews with comments, target
/// dates, exceptions, credential metadata, consents, the staff access log),
/// `credentials/<id>.json` and `transcripts/<id>.json` (the exact signed bytes, verifiable as
/// they are) and `evidence/<sha256>/<file name>` (the files submitted).
#[utoipa::path(get, path = "/api/v1/me/export", tag = "rights",
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The zip, as an attachment", content_type = "application/zip"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn export(State(state): State<AppState>, Auth(caller): Auth) -> Result<Response, AppError> {
    export_response(&state, caller.user_id()).await
}

/// The export zip of `user_id` as a download (shared with the page).
pub async fn export_response(state: &AppState, user_id: &str) -> Result<Response, AppError> {
    let now = state.clock.now();
    let export = state.store.learner_export(user_id, now).await?;
    let root = state.config.data_dir.clone();
    let bytes = tokio::task::spawn_blocking(move || build_zip(&export, &root))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let name = format!("tessera-export-{}.zip", now.format("%Y-%m-%d"));
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        Body::from(bytes),
    )
        .into_response())
}

const EXPORT_README: &str = "Your data from Tessera\n\
\n\
data.json          everything stored about you: profile, memberships and, per organisation,\n\
                   your mastery record and its events, your submissions, the reviews of them\n\
                   (with reviewers' comments), target dates, prerequisite exceptions,\n\
                   credential details, your consents and the log of staff who read your data.\n\
credentials/       each credential issued to you, the exact signed JSON: anyone can verify it\n\
                   as it is (tessera verify FILE, or the /verify page of any Tessera).\n\
transcripts/       your signed transcripts (CLR 2.0), exact bytes.\n\
evidence/          the files you submitted, by content digest and your file name.\n";

/// A file name safe inside a zip: the last path part, without control characters.
fn zip_name(name: Option<&str>) -> String {
    let base = name
        .and_then(|n| n.rsplit(['/', '\\']).next())
        .map(str::trim)
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .unwrap_or("file");
    base.chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .collect()
}

fn build_zip(export: &LearnerExport, root: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let deflated = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    // Evidence is mostly already compressed (PDF, images, video): stored as is.
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let err = std::io::Error::other;
    zip.start_file("README.txt", deflated).map_err(err)?;
    zip.write_all(EXPORT_README.as_bytes())?;
    zip.start_file("data.json", deflated).map_err(err)?;
    let json = serde_json::to_vec_pretty(&export.data).map_err(std::io::Error::other)?;
    zip.write_all(&json)?;
    for (id, signed) in &export.credentials {
        zip.start_file(format!("credentials/{id}.json"), deflated)
            .map_err(err)?;
        zip.write_all(signed.as_bytes())?;
    }
    for (id, signed) in &export.transcripts {
        zip.start_file(format!("transcripts/{id}.json"), deflated)
            .map_err(err)?;
        zip.write_all(signed.as_bytes())?;
    }
    let mut seen = std::collections::HashSet::new();
    for (sha, _media_type, filename) in &export.files {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let entry = format!("evidence/{sha}/{}", zip_name(filename.as_deref()));
        if !seen.insert(entry.clone()) {
            continue;
        }
        let path = root.join("evidence").join(&sha[..2]).join(sha);
        // A file retention already deleted is simply absent (data.json says so).
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        zip.start_file(entry, stored).map_err(err)?;
        zip.write_all(&bytes)?;
    }
    Ok(zip.finish().map_err(err)?.into_inner())
}

/// An erasure request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// The e-mail address of the account to erase, typed again to confirm.
    pub confirm_email: String,
    /// The learner's password, when they erase their own account.
    pub password: Option<String>,
}

/// Erases a person's personal data on their request: their name, e-mail and password are
/// replaced, their evidence (and files), the reviews of it, their mastery events, notes about
/// them, consents, access log, sessions and memberships deleted. Credentials issued to them
/// keep verifying and the audit chain stays intact. The learner themself (with their
/// password), an admin of the organisation when the account is only a learner there, or a
/// platform admin; 409 when an organisation admin may not (another organisation or a staff
/// role: a platform admin does it), or for a platform admin's account.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/learners/{user}/erase", tag = "rights",
    params(("slug" = String, Path), ("user" = String, Path)),
    request_body = EraseRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Erasure), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn erase(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user)): AppPath<(String, String)>,
    AppJson(body): AppJson<EraseRequest>,
) -> Result<AppJson<Erasure>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    let erasure = erase_member(&state, &caller, &org.id, &user, &body).await?;
    Ok(AppJson(erasure))
}

/// The checks and the erasure, shared with the pages.
pub async fn erase_member(
    state: &AppState,
    caller: &Caller,
    org_id: &str,
    user_id: &str,
    request: &EraseRequest,
) -> Result<Erasure, AppError> {
    caller.require_member(org_id)?;
    let is_self = caller.user_id() == user_id;
    let org_admin = caller.roles_in(org_id).any(|r| r == Role::Admin);
    if !(is_self || org_admin || caller.is_platform_admin()) {
        return Err(AppError::NotFound);
    }
    let memberships = state.store.memberships(user_id).await?;
    if !memberships.iter().any(|m| m.org_id == org_id) {
        return Err(AppError::NotFound);
    }
    if is_self {
        return erase_self(state, caller, request).await;
    }
    check_confirmation(state, user_id, request).await?;
    if !caller.is_platform_admin() {
        let only_learner_here = memberships
            .iter()
            .all(|m| m.org_id == org_id && m.role == Role::Learner);
        if !only_learner_here {
            return Err(AppError::Conflict(
                "this account has other roles or organisations: a platform admin erases it",
            ));
        }
    }
    let erasure = state
        .store
        .erase_user(user_id, caller.user_id(), state.clock.now())
        .await?;
    delete_blobs(state, &erasure.orphaned_blobs).await;
    tracing::info!(audit_seq = erasure.audit_seq, "personal data erased");
    Ok(erasure)
}

/// Fails unless the request names the account's e-mail address.
async fn check_confirmation(
    state: &AppState,
    user_id: &str,
    request: &EraseRequest,
) -> Result<tessera_store::accounts::User, AppError> {
    let target = state.store.user(user_id).await?;
    if request
        .confirm_email
        .trim()
        .eq_ignore_ascii_case(&target.email)
    {
        Ok(target)
    } else {
        Err(AppError::Validation {
            field: "confirm_email",
            reason: "type the account's e-mail address to confirm".into(),
        })
    }
}

/// A person erases their own account: the e-mail typed again and their password.
pub async fn erase_self(
    state: &AppState,
    caller: &Caller,
    request: &EraseRequest,
) -> Result<Erasure, AppError> {
    let me = check_confirmation(state, caller.user_id(), request).await?;
    let Some(password) = request.password.clone().filter(|p| !p.is_empty()) else {
        return Err(AppError::Validation {
            field: "password",
            reason: "your password is needed to erase your own account".into(),
        });
    };
    let hash = state
        .store
        .credentials_by_email(&me.email)
        .await?
        .map(|c| c.password_hash);
    if !verify_password(password, hash).await? {
        return Err(AppError::InvalidCredentials);
    }
    let erasure = state
        .store
        .erase_user(caller.user_id(), caller.user_id(), state.clock.now())
        .await?;
    delete_blobs(state, &erasure.orphaned_blobs).await;
    tracing::info!(
        audit_seq = erasure.audit_seq,
        "personal data erased (own request)"
    );
    Ok(erasure)
}

/// Removes evidence files no submission uses any more. A file that cannot be removed is
/// logged (by digest only) and left for an operator; the database no longer points at it.
pub async fn delete_blobs(state: &AppState, shas: &[String]) {
    for sha in shas {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let path = state
            .config
            .data_dir
            .join("evidence")
            .join(&sha[..2])
            .join(sha);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(sha256 = %sha, error = %e, "evidence file not removed"),
        }
    }
}

/// The default privacy and AI-use note, until an admin writes their own.
pub fn default_privacy_note(org_name: &str) -> String {
    format!(
        "{org_name} uses Tessera to record what learners can do: the evidence they submit, the \
reviews of it by teachers and reviewers, the resulting mastery record and the credentials \
issued for it.\n\n\
No automated high-stakes decisions. Every mastery decision is made by a person: a reviewer \
scores evidence against a published rubric, a second reviewer or a moderator checks borderline \
or sampled reviews, and a teacher may override an outcome with a written reason. Dashboards \
may flag a learner who seems stuck, always with the reason in plain words; a flag is a prompt \
for a teacher, never a decision, and teachers may dismiss it. No artificial intelligence model \
scores evidence, ranks learners or decides outcomes.\n\n\
Your data is yours. You can see who among staff read your record or evidence, give and \
withdraw consent to share it, download everything stored about you in one file, and ask for \
your personal data to be erased. Credentials issued to you keep verifying after an erasure.\n\n\
Evidence is read only by you and the organisation's reviewers and teachers. How long evidence \
files and the access log are kept is listed on this page."
    )
}

/// The privacy note as served.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrivacyDoc {
    /// The organisation's name.
    pub organisation: String,
    /// The note (plain text; paragraphs separated by blank lines).
    pub body: String,
    /// Whether it is the default text (no admin has written one).
    pub is_default: bool,
    /// When an admin last changed it.
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// How long evidence files and the access log are kept.
    pub retention: Retention,
}

/// The privacy note and retention of an organisation, for the public page and the API.
pub async fn privacy_doc(state: &AppState, org_id: &str) -> Result<PrivacyDoc, AppError> {
    let org = state.store.org(org_id).await?;
    let note = state.store.privacy_note(org_id).await?;
    let retention = state.store.retention(org_id).await?;
    Ok(match note {
        Some(n) => PrivacyDoc {
            organisation: org.name,
            body: n.body,
            is_default: false,
            updated_at: Some(n.updated_at),
            retention,
        },
        None => PrivacyDoc {
            body: default_privacy_note(&org.name),
            organisation: org.name,
            is_default: true,
            updated_at: None,
            retention,
        },
    })
}

/// The organisation's privacy and AI-use note and its retention settings. Public.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/privacy", tag = "rights",
    params(("slug" = String, Path)),
    responses((status = 200, body = PrivacyDoc), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn privacy(
    State(state): State<AppState>,
    MaybeAuth(_): MaybeAuth,
    AppPath(slug): AppPath<String>,
) -> Result<AppJson<PrivacyDoc>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    Ok(AppJson(privacy_doc(&state, &org.id).await?))
}

/// A new privacy note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivacyUpdate {
    /// Plain text, 1–20,000 characters.
    pub body: String,
}

/// Checks a privacy note's text.
pub fn check_privacy_body(body: &str) -> Result<String, AppError> {
    let body = body.trim().replace("\r\n", "\n");
    if body.is_empty() || body.chars().count() > 20_000 {
        return Err(AppError::Validation {
            field: "body",
            reason: "write the note in 1 to 20,000 characters".into(),
        });
    }
    Ok(body)
}

/// Replaces the organisation's privacy and AI-use note. Admins.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/privacy", tag = "rights",
    params(("slug" = String, Path)),
    request_body = PrivacyUpdate,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = PrivacyDoc), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn set_privacy(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppJson(update): AppJson<PrivacyUpdate>,
) -> Result<AppJson<PrivacyDoc>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| r == Role::Admin)?;
    let body = check_privacy_body(&update.body)?;
    state
        .store
        .set_privacy_note(&org.id, &body, caller.user_id(), state.clock.now())
        .await?;
    Ok(AppJson(privacy_doc(&state, &org.id).await?))
}

/// Checks retention values.
pub fn check_retention(r: &Retention) -> Result<(), AppError> {
    if r.evidence_files_days
        .is_some_and(|d| !(0..=36_500).contains(&d))
    {
        return Err(AppError::Validation {
            field: "evidence_files_days",
            reason: "0 to 36500 days, or null to keep files".into(),
        });
    }
    if r.access_log_days
        .is_some_and(|d| !(1..=36_500).contains(&d))
    {
        return Err(AppError::Validation {
            field: "access_log_days",
            reason: "1 to 36500 days, or null to keep the log".into(),
        });
    }
    Ok(())
}

/// Sets how long evidence files (days after mastery) and access log entries are kept; `null`
/// keeps them. Applied by the service's housekeeping. Admins.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/retention", tag = "rights",
    params(("slug" = String, Path)),
    request_body = Retention,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Retention), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn set_retention(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppJson(retention): AppJson<Retention>,
) -> Result<AppJson<Retention>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| r == Role::Admin)?;
    check_retention(&retention)?;
    Ok(AppJson(
        state
            .store
            .set_retention(&org.id, &retention, caller.user_id(), state.clock.now())
            .await?,
    ))
}
