//! Learner rights pages: "My data" (consents, the staff access log, the export, erasing one's
//! own account), an admin's erasure of a learner on their request, and the public privacy and
//! AI-use note with the retention settings (edited by admins on the same page).
//!
//! Same rules as the API (`routes/rights.rs`): everyone sees only their own data; erasure
//! needs the account's e-mail typed again (and, for one's own account, the password).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_core::account::Role;
use tessera_store::learner_rights::{ConsentScope, Retention};

use super::{Chrome, MaybeViewer, PageError, PageForm, Viewer, render, see_other};
use crate::auth::clear_session_cookie;
use crate::error::AppError;
use crate::routes::rights::{
    EraseRequest, NewConsent, check_consent, check_privacy_body, check_retention, erase_member,
    erase_self, export_response, privacy_doc,
};
use crate::state::AppState;

fn date_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

struct ConsentRow {
    id: String,
    scope: String,
    recipient: String,
    purpose: String,
    granted: String,
    withdrawn: Option<String>,
}

struct AccessRow {
    who: String,
    roles: String,
    what: &'static str,
    path: String,
    when: String,
}

struct ScopeChoice {
    value: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "rights_my_data.html")]
struct MyDataPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    consents: Vec<ConsentRow>,
    scopes: Vec<ScopeChoice>,
    accesses: Vec<AccessRow>,
    error: Option<String>,
    recipient: String,
    purpose: String,
    notice: Option<&'static str>,
}

/// `?done=` notices.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// Only a member of the organisation, for their own data (platform admins who are not members
/// have no data there).
async fn own_org(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
) -> Result<tessera_store::accounts::Org, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    if viewer.caller.roles_in(&org.id).next().is_none() {
        return Err(AppError::NotFound.into());
    }
    Ok(org)
}

async fn my_data_page(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
) -> Result<MyDataPage, PageError> {
    let org = own_org(state, viewer, slug).await?;
    let me = viewer.caller.user_id();
    let consents = state
        .store
        .consents(&org.id, me)
        .await?
        .into_iter()
        .rev()
        .map(|c| ConsentRow {
            scope: ConsentScope::parse(&c.scope)
                .map_or_else(|| c.scope.clone(), |s| s.label().to_owned()),
            id: c.id,
            recipient: c.recipient,
            purpose: c.purpose.unwrap_or_default(),
            granted: date_time(c.granted_at),
            withdrawn: c.withdrawn_at.map(date_time),
        })
        .collect();
    let accesses = state
        .store
        .access_log(&org.id, me, 200, 0)
        .await?
        .into_iter()
        .map(|a| AccessRow {
            who: a.staff_name,
            roles: a.staff_roles,
            what: if a.what == "evidence" {
                "your evidence"
            } else {
                "your record"
            },
            path: a.path,
            when: date_time(a.at),
        })
        .collect();
    Ok(MyDataPage {
        chrome: viewer.chrome.clone(),
        org_name: org.name,
        org_slug: org.slug,
        consents,
        scopes: ConsentScope::ALL
            .into_iter()
            .map(|s| ScopeChoice {
                value: s.as_str(),
                label: s.label(),
            })
            .collect(),
        accesses,
        error: None,
        recipient: String::new(),
        purpose: String::new(),
        notice: None,
    })
}

/// `GET /orgs/{slug}/my-data`: the member's consents, who read their data, the export and
/// the way to erase their account.
pub async fn my_data(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let mut page = my_data_page(&state, &viewer, &slug).await?;
    page.notice = match q.done.as_deref() {
        Some("granted") => Some("Your consent was recorded."),
        Some("withdrawn") => Some("Your consent was withdrawn. It stays in the history below."),
        _ => None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The consent form.
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    purpose: String,
}

/// `POST /orgs/{slug}/my-data/consents`: records a consent.
pub async fn grant_consent(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<ConsentForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = own_org(&state, &viewer, &slug).await?;
    let request = NewConsent {
        scope: form.scope.clone(),
        recipient: form.recipient.clone(),
        purpose: Some(form.purpose.clone()),
    };
    match check_consent(&request) {
        Ok((scope, recipient, purpose)) => {
            state
                .store
                .grant_consent(
                    &org.id,
                    viewer.caller.user_id(),
                    scope,
                    &recipient,
                    purpose.as_deref(),
                    state.clock.now(),
                )
                .await?;
            Ok(see_other(&format!(
                "/orgs/{}/my-data?done=granted#consents",
                org.slug
            )))
        }
        Err(e) => {
            let mut page = my_data_page(&state, &viewer, &slug).await?;
            page.error = Some(match e {
                AppError::Validation { field: "scope", .. } => {
                    "Choose what you agree to share.".to_owned()
                }
                AppError::Validation {
                    field: "recipient", ..
                } => "Say with whom you agree to share it (1 to 200 characters).".to_owned(),
                other => other.to_string(),
            });
            page.recipient = form.recipient;
            page.purpose = form.purpose;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// A form with only its token.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /orgs/{slug}/my-data/consents/{consent}/withdraw`.
pub async fn withdraw_consent(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, consent)): Path<(String, String)>,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = own_org(&state, &viewer, &slug).await?;
    state
        .store
        .withdraw_consent(
            &org.id,
            viewer.caller.user_id(),
            &consent,
            state.clock.now(),
        )
        .await?;
    Ok(see_other(&format!(
        "/orgs/{}/my-data?done=withdrawn#consents",
        org.slug
    )))
}

/// `GET /me/export`: the signed-in person's data as one zip.
pub async fn export(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    Ok(export_response(&state, viewer.caller.user_id()).await?)
}

#[derive(Template)]
#[template(path = "rights_erase.html")]
struct ErasePage {
    chrome: Chrome,
    /// `None` for one's own account.
    org: Option<(String, String)>,
    target_id: String,
    target_name: String,
    is_self: bool,
    platform_admin: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "rights_erased.html")]
struct ErasedPage {
    chrome: Chrome,
    is_self: bool,
    back: String,
    audit_seq: i64,
    payloads: u64,
}

/// The erasure form.
#[derive(Debug, Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    confirm_email: String,
    #[serde(default)]
    password: String,
}

/// Words for a refused erasure, next to the form.
fn erase_problem(e: &AppError) -> String {
    match e {
        AppError::Validation {
            field: "confirm_email",
            ..
        } => "Type the account's e-mail address exactly to confirm.".to_owned(),
        AppError::Validation {
            field: "password", ..
        } => "Enter your password to confirm.".to_owned(),
        AppError::InvalidCredentials => "That password is not right.".to_owned(),
        other => other.to_string(),
    }
}

/// `GET /me/erase`: the form to erase one's own account.
pub async fn erase_self_form(
    State(_state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    Ok(render(
        StatusCode::OK,
        &ErasePage {
            platform_admin: viewer.caller.is_platform_admin(),
            target_name: viewer.chrome.user_name.clone().unwrap_or_default(),
            target_id: viewer.caller.user_id().to_owned(),
            chrome: viewer.chrome,
            org: None,
            is_self: true,
            error: None,
        },
    ))
}

/// `POST /me/erase`: erases one's own account, ends the session and says what happened.
pub async fn erase_self_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<EraseForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let request = EraseRequest {
        confirm_email: form.confirm_email,
        password: Some(form.password),
    };
    match erase_self(&state, &viewer.caller, &request).await {
        Ok(erasure) => {
            let mut response = render(
                StatusCode::OK,
                &ErasedPage {
                    chrome: Chrome::anonymous(),
                    is_self: true,
                    back: "/".to_owned(),
                    audit_seq: erasure.audit_seq,
                    payloads: erasure.audit_payloads_removed,
                },
            );
            let clear = HeaderValue::from_str(&clear_session_cookie(state.config.secure_cookies()))
                .map_err(AppError::internal)?;
            response.headers_mut().insert(header::SET_COOKIE, clear);
            Ok(response)
        }
        Err(
            e
            @ (AppError::Validation { .. } | AppError::InvalidCredentials | AppError::Conflict(_)),
        ) => Ok(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ErasePage {
                platform_admin: viewer.caller.is_platform_admin(),
                target_name: viewer.chrome.user_name.clone().unwrap_or_default(),
                target_id: viewer.caller.user_id().to_owned(),
                chrome: viewer.chrome,
                org: None,
                is_self: true,
                error: Some(erase_problem(&e)),
            },
        )),
        Err(e) => Err(e.into()),
    }
}

/// An admin's erasure page: admins of the organisation and platform admins, for a member of
/// it (not themselves: they use `/me/erase`).
async fn admin_erase_page(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
    user: &str,
) -> Result<ErasePage, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    viewer.caller.require_member(&org.id)?;
    let admin = viewer.caller.is_platform_admin()
        || viewer.caller.roles_in(&org.id).any(|r| r == Role::Admin);
    if !admin || viewer.caller.user_id() == user || !state.store.is_member(&org.id, user).await? {
        return Err(AppError::NotFound.into());
    }
    let target = state.store.user(user).await?;
    Ok(ErasePage {
        chrome: viewer.chrome.clone(),
        org: Some((org.name, org.slug)),
        target_id: target.id,
        target_name: target.name,
        is_self: false,
        platform_admin: false,
        error: None,
    })
}

/// `GET /orgs/{slug}/learners/{user}/erase`: the confirmation form.
pub async fn erase_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, user)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let page = admin_erase_page(&state, &viewer, &slug, &user).await?;
    Ok(render(StatusCode::OK, &page))
}

/// `POST /orgs/{slug}/learners/{user}/erase`: erases the learner's personal data.
pub async fn erase_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, user)): Path<(String, String)>,
    PageForm(form): PageForm<EraseForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let mut page = admin_erase_page(&state, &viewer, &slug, &user).await?;
    let org = state.store.org_by_slug(&slug).await?;
    let request = EraseRequest {
        confirm_email: form.confirm_email,
        password: None,
    };
    match erase_member(&state, &viewer.caller, &org.id, &user, &request).await {
        Ok(erasure) => Ok(render(
            StatusCode::OK,
            &ErasedPage {
                chrome: viewer.chrome,
                is_self: false,
                back: format!("/orgs/{}/learners", org.slug),
                audit_seq: erasure.audit_seq,
                payloads: erasure.audit_payloads_removed,
            },
        )),
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            page.error = Some(erase_problem(&e));
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    paragraphs: Vec<String>,
    body: String,
    is_default: bool,
    updated: Option<String>,
    evidence_days: String,
    log_days: String,
    can_edit: bool,
    error: Option<String>,
    retention_error: Option<String>,
    notice: Option<&'static str>,
}

async fn privacy_page(
    state: &AppState,
    viewer: Option<&Viewer>,
    slug: &str,
) -> Result<PrivacyPage, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    let doc = privacy_doc(state, &org.id).await?;
    let can_edit = viewer.is_some_and(|v| {
        v.caller.is_platform_admin() || v.caller.roles_in(&org.id).any(|r| r == Role::Admin)
    });
    let days = |d: Option<i64>| d.map(|d| d.to_string()).unwrap_or_default();
    Ok(PrivacyPage {
        chrome: viewer.map_or_else(Chrome::anonymous, |v| v.chrome.clone()),
        org_name: org.name,
        org_slug: org.slug,
        paragraphs: doc
            .body
            .split("\n\n")
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
        body: doc.body,
        is_default: doc.is_default,
        updated: doc.updated_at.map(date_time),
        evidence_days: days(doc.retention.evidence_files_days),
        log_days: days(doc.retention.access_log_days),
        can_edit,
        error: None,
        retention_error: None,
        notice: None,
    })
}

/// `GET /orgs/{slug}/privacy`: the public privacy and AI-use note (and, for admins, the forms
/// to change it and the retention).
pub async fn privacy(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    Path(slug): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let mut page = privacy_page(&state, viewer.as_ref(), &slug).await?;
    page.notice = match q.done.as_deref() {
        Some("note") => Some("The note was saved."),
        Some("retention") => Some("The retention settings were saved."),
        _ => None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The note form.
#[derive(Debug, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    body: String,
}

fn require_admin(viewer: &Viewer, org_id: &str) -> Result<(), PageError> {
    Ok(viewer.caller.require_role(org_id, |r| r == Role::Admin)?)
}

/// `POST /orgs/{slug}/privacy`: admins replace the note.
pub async fn set_privacy(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<NoteForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    require_admin(&viewer, &org.id)?;
    match check_privacy_body(&form.body) {
        Ok(body) => {
            state
                .store
                .set_privacy_note(&org.id, &body, viewer.caller.user_id(), state.clock.now())
                .await?;
            Ok(see_other(&format!("/orgs/{}/privacy?done=note", org.slug)))
        }
        Err(_) => {
            let mut page = privacy_page(&state, Some(&viewer), &slug).await?;
            page.error = Some("Write the note in 1 to 20,000 characters.".to_owned());
            page.body = form.body;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// The retention form (empty: keep).
#[derive(Debug, Deserialize)]
pub struct RetentionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    evidence_files_days: String,
    #[serde(default)]
    access_log_days: String,
}

/// `POST /orgs/{slug}/retention`: admins set how long evidence files and the access log are
/// kept.
pub async fn set_retention(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<RetentionForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    require_admin(&viewer, &org.id)?;
    let parse = |s: &str| -> Result<Option<i64>, ()> {
        let s = s.trim();
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse::<i64>().map(Some).map_err(|_| ())
        }
    };
    let parsed = parse(&form.evidence_files_days).and_then(|e| {
        parse(&form.access_log_days).map(|a| Retention {
            evidence_files_days: e,
            access_log_days: a,
        })
    });
    let checked = parsed
        .map_err(|()| "Give whole numbers of days, or leave a field empty to keep.".to_owned())
        .and_then(|r| {
            check_retention(&r).map_err(|_| {
                "Evidence files: 0 to 36500 days after mastery; access log: 1 to 36500 days."
                    .to_owned()
            })?;
            Ok(r)
        });
    match checked {
        Ok(r) => {
            state
                .store
                .set_retention(&org.id, &r, viewer.caller.user_id(), state.clock.now())
                .await?;
            Ok(see_other(&format!(
                "/orgs/{}/privacy?done=retention#retention",
                org.slug
            )))
        }
        Err(problem) => {
            let mut page = privacy_page(&state, Some(&viewer), &slug).await?;
            page.retention_error = Some(problem);
            page.evidence_days = form.evidence_files_days;
            page.log_days = form.access_log_days;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page).into_response())
        }
    }
}
