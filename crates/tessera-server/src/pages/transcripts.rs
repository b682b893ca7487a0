//! Transcript pages: a learner's transcripts with the form to make one (everything, one
//! framework, or chosen competencies), the transcript itself rendered from the school's
//! `transcript-templates/`, and the stylesheet that page links.
//!
//! The transcript page is the school's template, not ours: it is served under the same strict
//! Content-Security-Policy as every page, so its style comes from `transcript.css` as a separate
//! stylesheet (same origin) rather than inline, and it has no script. Downloads (JSON, PDF) are
//! the API's routes, which accept the session cookie.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_review::MasteryState;

use super::{PageError, Viewer, render, see_other};
use crate::error::AppError;
use crate::routes::evidence::may_read_learner;
use crate::routes::transcripts::{
    Choice, CreateTranscript, Scope, TranscriptKind, make_share_link, make_transcript, may_create,
    own_transcript,
};
use crate::state::AppState;
use tessera_store::share_links::{ShareKind, ShareLink, ShareLinkLookup};
use tessera_store::transcripts::Transcript;

/// Where the transcript page's stylesheet is served.
pub const TRANSCRIPT_CSS_PATH: &str = "/transcript.css";

struct Row {
    id: String,
    created: String,
    kind: &'static str,
    scope: String,
    credentials: i64,
    partial: bool,
    links: Vec<LinkRow>,
}

struct LinkRow {
    id: String,
    label: String,
    state: String,
    opens: i64,
    last_opened: String,
}

struct SelectOption {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "transcripts.html")]
struct TranscriptsPage {
    chrome: super::Chrome,
    org_slug: String,
    org_name: String,
    learner_id: String,
    learner_name: String,
    is_self: bool,
    /// The viewer may make an official transcript.
    official: bool,
    rows: Vec<Row>,
    frameworks: Vec<SelectOption>,
    competencies: Vec<SelectOption>,
    error: Option<String>,
    /// The URL of a link just made (shown this once).
    new_link: Option<String>,
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
    learner: &str,
    error: Option<String>,
) -> Result<TranscriptsPage, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    may_read_learner(&viewer.caller, &org.id, learner)?;
    if viewer.caller.user_id() != learner && !state.store.is_member(&org.id, learner).await? {
        return Err(AppError::NotFound.into());
    }
    let is_self = viewer.caller.user_id() == learner;
    let official = viewer.caller.is_platform_admin()
        || viewer.caller.roles_in(&org.id).any(|r| {
            matches!(
                r,
                tessera_core::account::Role::Teacher | tessera_core::account::Role::Admin
            )
        });
    // The learner's share links (only the learner sees and manages them).
    let now = state.clock.now();
    let mut links: std::collections::HashMap<String, Vec<LinkRow>> = Default::default();
    if is_self {
        for l in state
            .store
            .share_links(learner, Some(ShareKind::Transcript), None)
            .await?
        {
            let st = if l.revoked_at.is_some() {
                "revoked".to_owned()
            } else if !l.is_open(now) {
                "expired".to_owned()
            } else if let Some(e) = l.expires_at {
                format!("open until {}", e.format("%Y-%m-%d"))
            } else {
                "open".to_owned()
            };
            links.entry(l.target_id.clone()).or_default().push(LinkRow {
                label: l.label.clone().unwrap_or_default(),
                state: st,
                opens: l.open_count,
                last_opened: l
                    .last_opened_at
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_else(|| "never".into()),
                id: l.id,
            });
        }
    }
    let rows = state
        .store
        .learner_transcripts(&org.id, learner, 200, 0)
        .await?
        .into_iter()
        .map(|t| Row {
            links: links.remove(&t.id).unwrap_or_default(),
            created: t.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            kind: if t.kind == "official" {
                "Official (full record)"
            } else {
                "Learner's own"
            },
            scope: match t.scope.as_str() {
                "framework" => "One framework".to_owned(),
                "competencies" => {
                    format!("{} chosen competencies", t.selected_competencies().len())
                }
                _ => "Everything".to_owned(),
            },
            credentials: t.credentials,
            partial: t.partial,
            id: t.id,
        })
        .collect();
    // The choice offers what the record holds: competencies worked on, and their frameworks.
    let (mut frameworks, mut competencies) = (Vec::new(), Vec::new());
    if is_self {
        let record = state.store.learner_record(&org.id, learner).await?;
        let ids: Vec<String> = record
            .competencies
            .iter()
            .filter(|(_, r)| r.first_activity.is_some())
            .map(|(c, _)| c.clone())
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for chunk in ids.chunks(tessera_store::views::MAX_IDS) {
            for (id, c) in state.store.competency_labels(chunk).await? {
                let mastered = record
                    .competencies
                    .get(&id)
                    .is_some_and(|r| r.state == MasteryState::Mastered);
                competencies.push(SelectOption {
                    label: format!(
                        "{}{}{}",
                        c.code
                            .as_deref()
                            .map(|c| format!("{c} "))
                            .unwrap_or_default(),
                        c.statement,
                        if mastered { " (mastered)" } else { "" }
                    ),
                    value: id,
                });
                if seen.insert(c.framework_id.clone()) {
                    frameworks.push(SelectOption {
                        value: c.framework_id.clone(),
                        label: c.framework_title.clone(),
                    });
                }
            }
        }
        competencies.sort_by(|a, b| a.label.cmp(&b.label));
        frameworks.sort_by(|a, b| a.label.cmp(&b.label));
    }
    Ok(TranscriptsPage {
        chrome: viewer.chrome.clone(),
        org_slug: org.slug,
        org_name: org.name,
        learner_id: learner.to_owned(),
        learner_name: state.store.user(learner).await?.name,
        is_self,
        official,
        rows,
        frameworks,
        competencies,
        error,
        new_link: None,
    })
}

/// `GET /orgs/{slug}/my-transcripts`: the viewer's own transcripts.
pub async fn my_transcripts(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    super::to_own_page(&state, &viewer, &slug, "/transcripts").await
}

/// `GET /orgs/{slug}/learners/{user}/transcripts`: the list, downloads, and the form.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, learner)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let view = page(&state, &viewer, &slug, &learner, None).await?;
    Ok(render(StatusCode::OK, &view))
}

/// `POST /orgs/{slug}/learners/{user}/transcripts`: make one, then back to the list (or the
/// form again with the problem in words). The form repeats `competency_ids`, so it is read as
/// name/value pairs rather than into a struct.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, learner)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let mut csrf = String::new();
    let mut request = CreateTranscript {
        kind: None,
        scope: None,
        framework_id: None,
        competency_ids: None,
    };
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "csrf_token" => csrf = v.into_owned(),
            "kind" => {
                request.kind = match v.as_ref() {
                    "official" => Some(TranscriptKind::Official),
                    _ => Some(TranscriptKind::Learner),
                }
            }
            "scope" => {
                request.scope = Some(match v.as_ref() {
                    "framework" => Scope::Framework,
                    "competencies" => Scope::Competencies,
                    _ => Scope::Everything,
                })
            }
            "framework_id" if !v.is_empty() => request.framework_id = Some(v.into_owned()),
            "competency_ids" => request
                .competency_ids
                .get_or_insert_with(Vec::new)
                .push(v.into_owned()),
            _ => {}
        }
    }
    viewer.check_csrf(&csrf)?;
    let org = state.store.org_by_slug(&slug).await?;
    let outcome = async {
        let (kind, choice): (TranscriptKind, Choice) =
            may_create(&viewer.caller, &org.id, &learner, &request)?;
        if !state.store.is_member(&org.id, &learner).await? {
            return Err(AppError::NotFound);
        }
        make_transcript(
            &state,
            &org,
            &learner,
            kind,
            &choice,
            viewer.caller.user_id(),
        )
        .await
    }
    .await;
    match outcome {
        Ok(t) => Ok(see_other(&format!(
            "/orgs/{}/transcripts/{}",
            org.slug, t.id
        ))),
        Err(AppError::Validation { reason, .. }) => {
            let view = page(&state, &viewer, &slug, &learner, Some(reason)).await?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &view))
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /orgs/{slug}/transcripts/{transcript}`: the transcript as the school's template renders
/// it, from the signed bytes.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (_, t) = crate::routes::transcripts::readable(&state, &viewer.caller, &slug, &id).await?;
    Ok(transcript_html(&state, &t.id).await?)
}

/// The transcript page for stored transcript `id`, its style linked from
/// [`TRANSCRIPT_CSS_PATH`].
pub async fn transcript_html(state: &AppState, id: &str) -> Result<Response, AppError> {
    let signed = state.store.transcript_bytes(id).await?;
    let templates = state.transcript_templates.get(&state.config.public_url)?;
    let html = tokio::task::spawn_blocking(move || {
        tessera_render::render_html_linked(signed.as_bytes(), &templates, TRANSCRIPT_CSS_PATH)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response())
}

/// `GET /transcript.css`: the transcript page's style (the school's `transcript.css`).
pub async fn stylesheet(State(state): State<AppState>) -> Result<Response, PageError> {
    let templates = state.transcript_templates.get(&state.config.public_url)?;
    let css = tessera_render::render_css(&templates).map_err(AppError::internal)?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        css,
    )
        .into_response())
}

/// A stored transcript of `learner_id` for the page matrix (the sample CLR: valid, renders),
/// stored under the organisation's current key, with a share link: (transcript id, the link's
/// token, the link's id).
#[cfg(test)]
pub(super) async fn fixture(
    state: &AppState,
    org_id: &str,
    learner_id: &str,
) -> (String, String, String) {
    let now = state.clock.now();
    let master = state.issuing.master_key(&state.config.data_dir).unwrap();
    let (key, _) = crate::routes::issuing::current_key(&state.store, master, org_id, now)
        .await
        .unwrap();
    let request = tessera_transcript::sample::request(2, false).unwrap();
    let clr = tessera_transcript::sample::signed_transcript(&request).unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    let id = state
        .store
        .insert_transcript(
            &tessera_store::transcripts::NewTranscript {
                id: &id,
                org_id,
                learner_id,
                kind: "learner",
                scope: "everything",
                framework_id: None,
                competency_ids: None,
                partial: false,
                credentials: 2,
                key_id: &key.id,
                signed: &clr.to_string(),
                created_by: learner_id,
            },
            now,
        )
        .await
        .unwrap()
        .id;
    let (link, token) = state
        .store
        .create_share_link(
            &tessera_store::share_links::NewShareLink {
                org_id,
                owner_id: learner_id,
                kind: ShareKind::Transcript,
                target_id: &id,
                label: None,
                expires_at: None,
            },
            now,
        )
        .await
        .unwrap();
    (id, token, link.id)
}

// ---------------------------------------------------------------------------------------------
// Share links: made and revoked by the learner on their transcripts page; opened by anyone.

/// `POST /orgs/{slug}/transcripts/{transcript}/share-links`: a new link; the list page again,
/// showing the URL this once.
pub async fn create_link(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, id)): Path<(String, String)>,
    super::PageForm(form): super::PageForm<LinkForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let t = own_transcript(&state, &viewer.caller, &slug, &id).await?;
    let expires_at = match form
        .days
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => None,
        Some(d) => match d.parse::<i64>() {
            Ok(n) if (1..=3650).contains(&n) => Some(state.clock.now() + chrono::Duration::days(n)),
            _ => {
                let view = page(
                    &state,
                    &viewer,
                    &slug,
                    &t.learner_id,
                    Some("Days until the link stops working: a whole number from 1 to 3650, or empty for never.".into()),
                )
                .await?;
                return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &view));
            }
        },
    };
    match make_share_link(&state, &t, form.label.as_deref(), expires_at).await {
        Ok(created) => {
            let mut view = page(&state, &viewer, &slug, &t.learner_id, None).await?;
            view.new_link = Some(created.url);
            Ok(render(StatusCode::OK, &view))
        }
        Err(AppError::Validation { reason, .. }) => {
            let view = page(&state, &viewer, &slug, &t.learner_id, Some(reason)).await?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &view))
        }
        Err(e) => Err(e.into()),
    }
}

/// The share link form.
#[derive(Debug, serde::Deserialize)]
pub struct LinkForm {
    csrf_token: String,
    label: Option<String>,
    /// Days until it expires; empty for never.
    days: Option<String>,
}

/// The revoke form.
#[derive(Debug, serde::Deserialize)]
pub struct RevokeForm {
    csrf_token: String,
}

/// `POST /orgs/{slug}/transcripts/{transcript}/share-links/{link}/revoke`.
pub async fn revoke_link(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, id, link)): Path<(String, String, String)>,
    super::PageForm(form): super::PageForm<RevokeForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let t = own_transcript(&state, &viewer.caller, &slug, &id).await?;
    let existing = state.store.share_link(&t.learner_id, &link).await?;
    if existing.target_id != t.id {
        return Err(AppError::NotFound.into());
    }
    state
        .store
        .revoke_share_link(&t.learner_id, &link, state.clock.now())
        .await?;
    Ok(see_other(&format!(
        "/orgs/{slug}/learners/{}/transcripts",
        t.learner_id
    )))
}

#[derive(Template)]
#[template(path = "shared_transcript.html")]
struct SharedPage {
    chrome: super::Chrome,
    token: String,
    /// `None` when the link does not open (then `gone` says why).
    t: Option<tessera_transcript::TranscriptView>,
    gone: &'static str,
}

/// The transcript a share token opens, or the page saying it does not (404 unknown, 410
/// revoked or expired).
async fn shared(
    state: &AppState,
    token: &str,
) -> Result<Result<(ShareLink, Transcript), Response>, PageError> {
    let gone = |status: StatusCode, why: &'static str| {
        render(
            status,
            &SharedPage {
                chrome: super::Chrome::anonymous(),
                token: String::new(),
                t: None,
                gone: why,
            },
        )
    };
    let link = match state
        .store
        .find_share_link(ShareKind::Transcript, token, state.clock.now())
        .await?
    {
        ShareLinkLookup::Open(link) => link,
        ShareLinkLookup::NotFound => {
            return Ok(Err(gone(
                StatusCode::NOT_FOUND,
                "There is no shared transcript at this address.",
            )));
        }
        ShareLinkLookup::Revoked => {
            return Ok(Err(gone(
                StatusCode::GONE,
                "The learner stopped sharing this transcript.",
            )));
        }
        ShareLinkLookup::Expired => {
            return Ok(Err(gone(StatusCode::GONE, "This link has expired.")));
        }
    };
    let t = state.store.transcript(&link.target_id).await?;
    Ok(Ok((link, t)))
}

/// `GET /share/t/{token}`: the shared transcript (what it says, read from the signed bytes)
/// with its PDF and JSON. No account; nothing else of the learner.
pub async fn open_shared(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    let (link, t) = match shared(&state, &token).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    if super::counts_as_open(&headers) {
        state
            .store
            .record_share_link_open(&link.id, state.clock.now())
            .await?;
    }
    let signed = state.store.transcript_bytes(&t.id).await?;
    let value: serde_json::Value = serde_json::from_str(&signed).map_err(AppError::internal)?;
    let view = tessera_transcript::TranscriptView::from_clr(&value).map_err(AppError::internal)?;
    Ok(render(
        StatusCode::OK,
        &SharedPage {
            chrome: super::Chrome::anonymous(),
            token,
            t: Some(view),
            gone: "",
        },
    ))
}

/// `GET /share/t/{token}/view`: the shared transcript as the school's page.
pub async fn shared_view(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match shared(&state, &token).await? {
        Ok((_, t)) => Ok(transcript_html(&state, &t.id).await?),
        Err(page) => Ok(page),
    }
}

/// `GET /share/t/{token}/transcript.pdf`.
pub async fn shared_pdf(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match shared(&state, &token).await? {
        Ok((_, t)) => Ok(crate::routes::transcripts::pdf_response(&state, &t.id).await?),
        Err(page) => Ok(page),
    }
}

/// `GET /share/t/{token}/transcript.json`: the exact signed bytes.
pub async fn shared_json(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match shared(&state, &token).await? {
        Ok((_, t)) => Ok(crate::routes::transcripts::json_response(
            state.store.transcript_bytes(&t.id).await?,
            &t.id,
        )),
        Err(page) => Ok(page),
    }
}
