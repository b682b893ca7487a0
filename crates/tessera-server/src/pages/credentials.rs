//! Credential pages: a learner's credentials with their downloads, one credential (image, name,
//! description, issuer, date, status, criteria, results, evidence references), the learner's
//! share links with when each was opened, the staff form to revoke, suspend or reinstate with a
//! reason, and the public page a share link opens.
//!
//! Who sees what is the API's rule: the learner and the organisation's reviewers, teachers and
//! admins read a credential ([`may_read_learner`]); only the learner makes and revokes share
//! links to it ([`own_credential`]); only teachers and admins change its status. A share link
//! shows that one credential and its downloads to anyone holding it, and nothing else of the
//! learner: not their name, not their other credentials, not the reason of a status change.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use tessera_core::account::Role;
use tessera_store::accounts::Org;
use tessera_store::credentials::{Credential, StatusAction};
use tessera_store::share_links::{ShareKind, ShareLink, ShareLinkLookup};

use super::learning::{day, moment};
use super::{Chrome, MaybeViewer, PageError, PageForm, Viewer, render, see_other};
use crate::error::AppError;
use crate::routes::badges::{BadgeLook, Download, badge_svg, download_response};
use crate::routes::evidence::may_read_learner;
use crate::routes::sharing::{make_credential_link, own_credential};
use crate::state::AppState;

/// One result of the credential: a rubric criterion and the level reached.
pub(super) struct ResultRow {
    criterion: String,
    level: String,
}

/// One evidence reference (never the evidence itself). Its URL is not shown: it points into
/// the school's API (readable only there) and names the learner's account.
pub(super) struct EvidenceRow {
    name: String,
    digest: String,
    media_type: Option<String>,
}

/// What a credential says, read from its signed JSON (so the page shows what was signed), with
/// its current status from the store.
pub(super) struct CredentialView {
    id: String,
    name: String,
    code: Option<String>,
    description: Option<String>,
    criteria: Option<String>,
    framework: Option<String>,
    issuer_name: String,
    issuer_id: String,
    valid_from: String,
    subject_id: String,
    started: Option<String>,
    mastered: Option<String>,
    attempts: Option<u64>,
    time_to_mastery: Option<String>,
    by_override: bool,
    results: Vec<ResultRow>,
    evidence: Vec<EvidenceRow>,
    status: &'static str,
    status_class: &'static str,
    status_since: Option<String>,
    /// The reason of the last status change: shown to the learner and staff, never on a share
    /// page (it may say something personal).
    status_reason: Option<String>,
    /// The generated badge, inline (our own markup, its text escaped).
    image_svg: String,
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned).filter(|s| !s.is_empty())
}

/// `2026-11-23` from an XSD dateTime, or the text as it is.
fn date_of(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    Some(
        DateTime::parse_from_rfc3339(s)
            .map(|d| day(d.with_timezone(&Utc)))
            .unwrap_or_else(|_| s.to_owned()),
    )
}

/// An `xsd:duration` as people read it: its two largest units ("5 days 3 hours"), "less than
/// a minute" below that; anything with years or months, or unreadable, as written.
fn duration_words(s: &str) -> String {
    let Some(rest) = s.strip_prefix('P') else {
        return s.to_owned();
    };
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut parts: Vec<(u64, &str)> = Vec::new();
    for (text, units) in [
        (date, &[('D', "day")][..]),
        (time, &[('H', "hour"), ('M', "minute"), ('S', "second")][..]),
    ] {
        let mut number = String::new();
        for ch in text.chars() {
            if ch.is_ascii_digit() || ch == '.' {
                number.push(ch);
                continue;
            }
            let Some((_, unit)) = units.iter().find(|(u, _)| *u == ch) else {
                return s.to_owned();
            };
            let Ok(n) = number.split('.').next().unwrap_or("").parse::<u64>() else {
                return s.to_owned();
            };
            parts.push((n, unit));
            number.clear();
        }
        if !number.is_empty() {
            return s.to_owned();
        }
    }
    let words: Vec<String> = parts
        .into_iter()
        .filter(|(n, unit)| *n > 0 && *unit != "second")
        .take(2)
        .map(|(n, unit)| {
            if n == 1 {
                format!("1 {unit}")
            } else {
                format!("{n} {unit}s")
            }
        })
        .collect();
    if words.is_empty() {
        "less than a minute".into()
    } else {
        words.join(" ")
    }
}

fn list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Status words as people read them, and the badge class.
fn status_words(status: &str) -> (&'static str, &'static str) {
    match status {
        "active" => ("Valid", "st-ok"),
        "suspended" => ("Suspended", "st-wait"),
        "revoked" => ("Revoked", "st-notyet"),
        _ => ("Unknown", "st-none"),
    }
}

impl CredentialView {
    /// A short name for breadcrumbs: the code, or the name cut to 60 characters.
    fn short_name(&self) -> String {
        match &self.code {
            Some(code) => code.clone(),
            None if self.name.chars().count() > 60 => {
                format!("{}…", self.name.chars().take(59).collect::<String>())
            }
            None => self.name.clone(),
        }
    }

    pub(super) fn of(c: &Credential) -> Self {
        let doc: Value = serde_json::from_str(&c.signed).unwrap_or(Value::Null);
        let subject = &doc["credentialSubject"];
        let achievement = &subject["achievement"];
        let descriptions = list(&achievement["resultDescription"]);
        let results = list(&subject["result"])
            .into_iter()
            .filter_map(|r| {
                let rd_id = r["resultDescription"].as_str()?;
                let rd = descriptions.iter().find(|d| d["id"] == rd_id);
                let criterion = rd
                    .and_then(|d| text(&d["name"]))
                    .unwrap_or_else(|| rd_id.to_owned());
                let level_id = r["achievedLevel"].as_str().unwrap_or_default();
                let level = rd
                    .and_then(|d| {
                        list(&d["rubricCriterionLevel"])
                            .into_iter()
                            .find(|l| l["id"] == level_id)
                            .and_then(|l| text(&l["name"]))
                    })
                    .or_else(|| text(&r["achievedLevel"]))
                    .unwrap_or_default();
                Some(ResultRow { criterion, level })
            })
            .collect();
        let evidence = list(&doc["evidence"])
            .into_iter()
            .map(|e| EvidenceRow {
                name: text(&e["name"]).unwrap_or_else(|| "Evidence".into()),
                digest: text(&e["digestSRI"]).unwrap_or_default(),
                media_type: text(&e["mediaType"]),
            })
            .collect();
        let issuer = &doc["issuer"];
        let (status, status_class) = status_words(&c.status);
        Self {
            id: c.id.clone(),
            name: text(&achievement["name"])
                .or_else(|| text(&doc["name"]))
                .unwrap_or_else(|| "Credential".into()),
            code: text(&achievement["humanCode"]),
            description: text(&achievement["description"]),
            criteria: text(&achievement["criteria"]["narrative"]),
            framework: list(&achievement["alignment"])
                .into_iter()
                .find_map(|a| text(&a["targetFramework"])),
            issuer_name: text(&issuer["name"]).unwrap_or_else(|| c.issuer_id.clone()),
            issuer_id: text(&issuer["id"])
                .or_else(|| text(issuer))
                .unwrap_or_else(|| c.issuer_id.clone()),
            valid_from: date_of(&doc["validFrom"]).unwrap_or_else(|| day(c.valid_from)),
            subject_id: text(&subject["id"]).unwrap_or_else(|| c.subject_id.clone()),
            started: date_of(&subject["activityStartDate"]),
            mastered: date_of(&subject["activityEndDate"]),
            attempts: subject["attemptsToMastery"].as_u64(),
            time_to_mastery: subject["timeToMastery"].as_str().map(duration_words),
            by_override: subject["masteryByOverride"].as_bool().unwrap_or(false),
            results,
            evidence,
            status,
            status_class,
            status_since: c.status_changed_at.map(day),
            status_reason: c.status_reason.clone(),
            image_svg: badge_svg(&BadgeLook::of(&doc), "badge-"),
        }
    }
}

/// A download link.
pub(super) struct DownloadLink {
    label: &'static str,
    href: String,
    hint: &'static str,
}

fn downloads(base: &str) -> Vec<DownloadLink> {
    vec![
        DownloadLink {
            label: "Badge image (PNG)",
            href: format!("{base}/badge.png"),
            hint: "for profiles and posts; the credential is inside the picture",
        },
        DownloadLink {
            label: "Badge image (SVG)",
            href: format!("{base}/badge.svg"),
            hint: "the same, as a vector image",
        },
        DownloadLink {
            label: "Credential (JSON)",
            href: format!("{base}/download.json"),
            hint: "the signed credential itself, for wallets and verifiers",
        },
    ]
}

/// One of the learner's share links as listed to them.
pub(super) struct LinkRow {
    id: String,
    label: String,
    created: String,
    expires: Option<String>,
    state: &'static str,
    state_class: &'static str,
    opens: i64,
    last_opened: Option<String>,
    active: bool,
}

impl LinkRow {
    fn of(l: &ShareLink, now: DateTime<Utc>) -> Self {
        let (state, state_class) = if l.revoked_at.is_some() {
            ("Revoked", "st-notyet")
        } else if !l.is_open(now) {
            ("Expired", "st-none")
        } else {
            ("Active", "st-ok")
        };
        Self {
            id: l.id.clone(),
            label: l.label.clone().unwrap_or_default(),
            created: moment(l.created_at),
            expires: l.expires_at.map(moment),
            state,
            state_class,
            opens: l.open_count,
            last_opened: l.last_opened_at.map(moment),
            active: l.is_open(now),
        }
    }
}

/// The credential page, for the learner and staff.
#[derive(Template)]
#[template(path = "credential.html")]
pub(super) struct CredentialPage {
    chrome: Chrome,
    org_slug: String,
    org_name: String,
    learner_id: String,
    learner_name: String,
    is_owner: bool,
    c: CredentialView,
    downloads: Vec<DownloadLink>,
    links: Vec<LinkRow>,
    /// A link just made: its URL is shown this once.
    new_link: Option<String>,
    link_error: Option<String>,
    link_label: String,
    link_days: String,
    can_change_status: bool,
    status_error: Option<String>,
    status_reason_sent: String,
    notice: Option<&'static str>,
}

/// The credential `id` of `slug`, if the viewer may read it.
async fn readable(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
    id: &str,
) -> Result<(Org, Credential), PageError> {
    let org = state.store.org_by_slug(slug).await?;
    viewer.caller.require_member(&org.id)?;
    let credential = state.store.credential(id).await?;
    if credential.org_id != org.id {
        return Err(AppError::NotFound.into());
    }
    may_read_learner(&viewer.caller, &org.id, &credential.learner_id)?;
    Ok((org, credential))
}

fn is_issuer_role(r: Role) -> bool {
    matches!(r, Role::Teacher | Role::Admin)
}

async fn credential_page(
    state: &AppState,
    viewer: &Viewer,
    org: &Org,
    credential: &Credential,
) -> Result<CredentialPage, PageError> {
    let is_owner = viewer.caller.user_id() == credential.learner_id;
    let now = state.clock.now();
    let links = if is_owner {
        state
            .store
            .share_links(
                viewer.caller.user_id(),
                Some(ShareKind::Credential),
                Some(&credential.id),
            )
            .await?
            .iter()
            .map(|l| LinkRow::of(l, now))
            .collect()
    } else {
        Vec::new()
    };
    let learner = state.store.user(&credential.learner_id).await?;
    let can_change_status =
        viewer.caller.is_platform_admin() || viewer.caller.roles_in(&org.id).any(is_issuer_role);
    Ok(CredentialPage {
        chrome: viewer.chrome.clone(),
        org_slug: org.slug.clone(),
        org_name: org.name.clone(),
        learner_id: credential.learner_id.clone(),
        learner_name: learner.name,
        is_owner,
        c: CredentialView::of(credential),
        downloads: downloads(&format!(
            "/api/v1/orgs/{}/credentials/{}",
            org.slug, credential.id
        )),
        links,
        new_link: None,
        link_error: None,
        link_label: String::new(),
        link_days: String::new(),
        can_change_status,
        status_error: None,
        status_reason_sent: String::new(),
        notice: None,
    })
}

/// `?done=…` after a form.
#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// `GET /orgs/{slug}/credentials/{credential}`: one credential.
pub async fn credential(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, id)): Path<(String, String)>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let (org, c) = readable(&state, &viewer, &slug, &id).await?;
    let mut page = credential_page(&state, &viewer, &org, &c).await?;
    page.notice = match done.done.as_deref() {
        Some("status") => Some("The status was changed. Verifiers see it at once."),
        Some("revoked") => Some("The link was revoked: it no longer opens."),
        _ => None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A row of the credentials list.
pub(super) struct ListRow {
    id: String,
    name: String,
    code: Option<String>,
    issued: String,
    status: &'static str,
    status_class: &'static str,
    downloads: Vec<DownloadLink>,
    active_links: usize,
}

/// A learner's credentials.
#[derive(Template)]
#[template(path = "credentials.html")]
struct CredentialsPage {
    chrome: Chrome,
    org_slug: String,
    org_name: String,
    learner_name: String,
    is_self: bool,
    rows: Vec<ListRow>,
    /// The learner's own DID (shown to themself only).
    did: Option<String>,
    did_sent: String,
    did_error: Option<String>,
    notice: Option<&'static str>,
}

/// `GET /orgs/{slug}/my-credentials`: the viewer's own credentials.
pub async fn my_credentials(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    super::to_own_page(&state, &viewer, &slug, "/credentials").await
}

/// The most credentials listed on one page (a learner has one per mastered competency).
const LIST_LIMIT: i64 = 500;

/// `GET /orgs/{slug}/learners/{user}/credentials`: a learner's credentials with downloads.
pub async fn learner_credentials(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, learner)): Path<(String, String)>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let mut page = credentials_page(&state, &viewer, &slug, &learner).await?;
    page.notice = match done.done.as_deref() {
        Some("did") => Some("Your DID was saved: credentials issued from now on name it."),
        Some("did-cleared") => {
            Some("Your DID was removed: new credentials name you by a private identifier.")
        }
        _ => None,
    };
    Ok(render(StatusCode::OK, &page))
}

async fn credentials_page(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
    learner: &str,
) -> Result<CredentialsPage, PageError> {
    let learner = learner.to_owned();
    let org = state.store.org_by_slug(slug).await?;
    may_read_learner(&viewer.caller, &org.id, &learner)?;
    let is_self = viewer.caller.user_id() == learner;
    let credentials = state
        .store
        .credentials(&org.id, Some(&learner), LIST_LIMIT, 0)
        .await?;
    let now = state.clock.now();
    let links = if is_self {
        state
            .store
            .share_links(&learner, Some(ShareKind::Credential), None)
            .await?
    } else {
        Vec::new()
    };
    let rows = credentials
        .iter()
        .map(|c| {
            let v = CredentialView::of(c);
            ListRow {
                downloads: downloads(&format!("/api/v1/orgs/{}/credentials/{}", org.slug, c.id)),
                active_links: links
                    .iter()
                    .filter(|l| l.target_id == c.id && l.is_open(now))
                    .count(),
                id: v.id,
                name: v.name,
                code: v.code,
                issued: day(c.issued_at),
                status: v.status,
                status_class: v.status_class,
            }
        })
        .collect();
    let learner_name = state.store.user(&learner).await?.name;
    let did = if is_self {
        state.store.learner_did(&learner).await?.map(|d| d.did)
    } else {
        None
    };
    Ok(CredentialsPage {
        chrome: viewer.chrome.clone(),
        org_slug: org.slug,
        org_name: org.name,
        learner_name,
        is_self,
        rows,
        did_sent: did.clone().unwrap_or_default(),
        did,
        did_error: None,
        notice: None,
    })
}

/// The DID form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DidForm {
    csrf_token: String,
    /// Empty to remove it.
    did: String,
}

/// `POST /orgs/{slug}/my-did`: a learner sets (or, empty, removes) their own DID, the subject
/// of credentials issued to them from then on. Learners of the organisation only.
pub async fn set_did(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<DidForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_member(&org.id)?;
    if !viewer.caller.roles_in(&org.id).any(|r| r == Role::Learner) {
        return Err(AppError::Forbidden.into());
    }
    let me = viewer.caller.user_id().to_owned();
    let back = format!("/orgs/{}/learners/{me}/credentials", org.slug);
    if form.did.trim().is_empty() {
        state.store.clear_learner_did(&me).await?;
        return Ok(see_other(&format!("{back}?done=did-cleared")));
    }
    match crate::routes::sharing::parse_learner_did(&form.did) {
        Ok(did) => {
            state
                .store
                .set_learner_did(&me, &did, state.clock.now())
                .await?;
            Ok(see_other(&format!("{back}?done=did")))
        }
        Err(AppError::Validation { reason, .. }) => {
            let mut page = credentials_page(&state, &viewer, &org.slug, &me).await?;
            page.did_error = Some(reason);
            page.did_sent = form.did;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}

/// The staff status form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatusForm {
    csrf_token: String,
    action: String,
    reason: String,
}

/// `POST /orgs/{slug}/credentials/{credential}/status`: revoke, suspend or reinstate with a
/// reason (teachers and admins, as the API).
pub async fn change_status(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, id)): Path<(String, String)>,
    PageForm(form): PageForm<StatusForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_role(&org.id, is_issuer_role)?;
    let (org, credential) = readable(&state, &viewer, &org.slug, &id).await?;
    let reason = form.reason.trim();
    let action = match form.action.as_str() {
        "revoke" => Some(StatusAction::Revoke),
        "suspend" => Some(StatusAction::Suspend),
        "reinstate" => Some(StatusAction::Reinstate),
        _ => None,
    };
    let problem = match (action, reason.chars().count()) {
        (None, _) => Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose what to do: revoke, suspend or reinstate.".to_owned(),
        )),
        (_, 0) => Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            "Write the reason: it is kept in the audit log.".to_owned(),
        )),
        (_, n) if n > 2000 => Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            "The reason is longer than 2000 characters.".to_owned(),
        )),
        (Some(action), _) => {
            match state
                .store
                .change_credential_status(
                    &credential.id,
                    action,
                    reason,
                    viewer.caller.user_id(),
                    state.clock.now(),
                )
                .await
            {
                Ok(_) => {
                    state.issuing.forget_lists(&org.slug);
                    return Ok(see_other(&format!(
                        "/orgs/{}/credentials/{}?done=status",
                        org.slug, credential.id
                    )));
                }
                Err(tessera_store::StoreError::Conflict(why)) => {
                    Some((StatusCode::CONFLICT, format!("This cannot be done: {why}.")))
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let (status, message) = problem.unwrap_or((StatusCode::OK, String::new()));
    let credential = state.store.credential(&credential.id).await?;
    let mut page = credential_page(&state, &viewer, &org, &credential).await?;
    page.status_error = Some(message);
    page.status_reason_sent = form.reason;
    Ok(render(status, &page))
}

/// The share link form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkForm {
    csrf_token: String,
    label: String,
    /// Days until it expires; empty for never.
    days: String,
}

/// The longest expiry offered (ten years).
const MAX_LINK_DAYS: i64 = 3650;

/// `POST /orgs/{slug}/credentials/{credential}/share-links`: the learner makes a link; the page
/// comes back showing its URL this once (never in a redirect, so it stays out of the history).
pub async fn create_link(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, id)): Path<(String, String)>,
    PageForm(form): PageForm<LinkForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let credential = own_credential(&state, &viewer.caller, &slug, &id).await?;
    let org = state.store.org_by_slug(&slug).await?;
    let days = form.days.trim();
    let expires = if days.is_empty() {
        Ok(None)
    } else {
        match days.parse::<i64>() {
            Ok(d) if (1..=MAX_LINK_DAYS).contains(&d) => {
                Ok(Some(state.clock.now() + chrono::Duration::days(d)))
            }
            _ => Err(format!(
                "Days until it expires: a whole number from 1 to {MAX_LINK_DAYS}, or empty for \
                 never."
            )),
        }
    };
    let label = form.label.trim();
    let outcome = match expires {
        Ok(expires) => make_credential_link(&state, &credential, Some(label), expires)
            .await
            .map_err(|e| match e {
                AppError::Validation { reason, .. } => reason,
                AppError::Conflict(why) => why.to_owned(),
                other => other.to_string(),
            }),
        Err(message) => Err(message),
    };
    let (status, new_link, link_error) = match outcome {
        Ok(created) => (StatusCode::CREATED, Some(created.url), None),
        Err(message) => (StatusCode::UNPROCESSABLE_ENTITY, None, Some(message)),
    };
    let mut page = credential_page(&state, &viewer, &org, &credential).await?;
    if link_error.is_some() {
        page.link_label = label.to_owned();
        page.link_days = days.to_owned();
    }
    page.new_link = new_link;
    page.link_error = link_error;
    Ok(render(status, &page))
}

/// A form with only its token.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    csrf_token: String,
}

/// `POST /orgs/{slug}/share-links/{link}/revoke`: the learner revokes one of their links.
pub async fn revoke_link(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, link_id)): Path<(String, String)>,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_member(&org.id)?;
    let link = state
        .store
        .share_link(viewer.caller.user_id(), &link_id)
        .await?;
    if link.org_id != org.id {
        return Err(AppError::NotFound.into());
    }
    state
        .store
        .revoke_share_link(viewer.caller.user_id(), &link.id, state.clock.now())
        .await?;
    let back = match link.kind {
        ShareKind::Credential => format!(
            "/orgs/{}/credentials/{}?done=revoked",
            org.slug, link.target_id
        ),
        ShareKind::Transcript => format!("/orgs/{}", org.slug),
    };
    Ok(see_other(&back))
}

/// The page a credential share link opens.
#[derive(Template)]
#[template(path = "share_credential.html")]
struct SharedPage {
    chrome: Chrome,
    c: CredentialView,
    downloads: Vec<DownloadLink>,
}

/// A share link that does not open.
#[derive(Template)]
#[template(path = "share_gone.html")]
struct GonePage {
    chrome: Chrome,
    title: &'static str,
    message: &'static str,
}

fn gone(status: StatusCode, title: &'static str, message: &'static str) -> Response {
    let mut r = render(
        status,
        &GonePage {
            chrome: Chrome::anonymous(),
            title,
            message,
        },
    );
    no_index(&mut r);
    r
}

/// Share pages stay out of search engines, whoever posted the link.
fn no_index(r: &mut Response) {
    r.headers_mut().insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
}

/// The credential a credential token opens, or the page saying why not (404 unknown, 410
/// revoked or expired, or the credential is gone).
async fn shared_credential(
    state: &AppState,
    token: &str,
) -> Result<Result<(ShareLink, Credential), Response>, PageError> {
    let now = state.clock.now();
    let link = match state
        .store
        .find_share_link(ShareKind::Credential, token, now)
        .await?
    {
        ShareLinkLookup::Open(link) => link,
        ShareLinkLookup::Revoked => {
            return Ok(Err(gone(
                StatusCode::GONE,
                "This link was withdrawn",
                "The person who shared this credential has revoked the link. Ask them for a new one.",
            )));
        }
        ShareLinkLookup::Expired => {
            return Ok(Err(gone(
                StatusCode::GONE,
                "This link has expired",
                "The link was made to work for a limited time only. Ask the person who shared it for a new one.",
            )));
        }
        ShareLinkLookup::NotFound => {
            return Ok(Err(gone(
                StatusCode::NOT_FOUND,
                "No such link",
                "This share link does not exist. Check that it was copied completely.",
            )));
        }
    };
    match state.store.credential(&link.target_id).await {
        Ok(c) if c.org_id == link.org_id && c.learner_id == link.owner_id => Ok(Ok((link, c))),
        Ok(_) | Err(tessera_store::StoreError::NotFound) => Ok(Err(gone(
            StatusCode::GONE,
            "This credential is no longer here",
            "The credential this link pointed to is no longer kept by the service.",
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `GET /share/c/{token}`: the shared credential, for anyone holding the link. Each opening is
/// recorded (its time only) for the learner, except the learner's own previews and link
/// previewers ([`super::counts_as_open`]).
pub async fn shared(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    Path(token): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    let (link, credential) = match shared_credential(&state, &token).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let own_preview = viewer
        .as_ref()
        .is_some_and(|v| v.caller.user_id() == link.owner_id);
    if !own_preview && super::counts_as_open(&headers) {
        state
            .store
            .record_share_link_open(&link.id, state.clock.now())
            .await?;
    }
    let mut r = render(
        StatusCode::OK,
        &SharedPage {
            chrome: viewer.map_or_else(Chrome::anonymous, |v| v.chrome),
            c: CredentialView::of(&credential),
            downloads: downloads(&format!("/share/c/{token}")),
        },
    );
    no_index(&mut r);
    Ok(r)
}

async fn shared_download(
    state: &AppState,
    token: &str,
    format: Download,
) -> Result<Response, PageError> {
    match shared_credential(state, token).await? {
        Ok((_, credential)) => {
            let mut r = download_response(&credential, format).await?;
            no_index(&mut r);
            Ok(r)
        }
        Err(page) => Ok(page),
    }
}

/// `GET /share/c/{token}/download.json`: the shared credential's signed JSON.
pub async fn shared_json(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    shared_download(&state, &token, Download::Json).await
}

/// `GET /share/c/{token}/badge.png`: the shared credential baked into a PNG.
pub async fn shared_png(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    shared_download(&state, &token, Download::Png).await
}

/// `GET /share/c/{token}/badge.svg`: the shared credential baked into an SVG.
pub async fn shared_svg(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    shared_download(&state, &token, Download::Svg).await
}

/// For the page matrix: a credential of `learner_id` (the shape of an issued one, not signed:
/// pages only read it) and a share link to it. Returns (credential id, link token, link id).
#[cfg(test)]
pub(super) async fn fixture(
    state: &AppState,
    org_id: &str,
    learner_id: &str,
    competency_id: &str,
) -> (String, String, String) {
    let now = state.clock.now();
    let master = state.issuing.master_key(&state.config.data_dir).unwrap();
    let (key, _) = crate::routes::issuing::current_key(&state.store, master, org_id, now)
        .await
        .unwrap();
    let reserved = state
        .store
        .reserve_status_slots(
            org_id,
            1,
            tessera_store::status_lists::STATUS_LIST_SIZE,
            now,
        )
        .await
        .unwrap()
        .pop()
        .unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    let signed = serde_json::json!({
        "id": format!("urn:uuid:{id}"),
        "type": ["VerifiableCredential", "AchievementCredential"],
        "issuer": {"id": "did:web:school.example", "name": "School A"},
        "validFrom": "2026-11-23T09:00:00Z",
        "credentialSubject": {"id": "urn:uuid:subject", "achievement": {
            "id": "https://school.example/a/1", "name": "Reads aloud", "humanCode": "R.1",
            "criteria": {"narrative": "Reads a page aloud."}}},
    })
    .to_string();
    let (credential, _) = state
        .store
        .insert_credential(
            &tessera_store::credentials::NewCredential {
                id: &id,
                org_id,
                learner_id,
                competency_id,
                idempotency_key: &format!("fixture:{id}"),
                key_id: &key.id,
                subject_id: "urn:uuid:subject",
                issuer_id: "did:web:school.example",
                valid_from: now,
                signed: &signed,
                status: &reserved,
                issued_by: None,
            },
            now,
        )
        .await
        .unwrap();
    let (link, token) = state
        .store
        .create_share_link(
            &tessera_store::share_links::NewShareLink {
                org_id,
                owner_id: learner_id,
                kind: ShareKind::Credential,
                target_id: &credential.id,
                label: None,
                expires_at: None,
            },
            now,
        )
        .await
        .unwrap();
    (credential.id, token, link.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words("P5D"), "5 days");
        assert_eq!(duration_words("P1D"), "1 day");
        assert_eq!(duration_words("PT3H"), "3 hours");
        assert_eq!(duration_words("P2DT1H30M"), "2 days 1 hour");
        assert_eq!(duration_words("PT3S"), "less than a minute");
        assert_eq!(duration_words("PT90.5S"), "less than a minute");
        assert_eq!(duration_words("P1Y2M"), "P1Y2M");
        assert_eq!(duration_words("garbage"), "garbage");
    }
}
