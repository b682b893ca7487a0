//! Server-rendered HTML pages: login, first-run setup, invitations, organisation and member
//! admin, framework browse and edit, CASE import, and the review flow (a learner's record and
//! evidence, the review queue and scoring, teacher overrides).
//!
//! # Principles
//! - **No JavaScript needed.** Every action is a plain `<form>`; a POST answers with a redirect
//!   (303, POST/redirect/GET) or, when the form has a problem, the same form again with the
//!   problem written next to it in plain words.
//! - **Same access rules as the API.** Pages call the same [`Caller`] checks
//!   (`require_member`, `require_role`) as the `/api/v1` handlers; an anonymous visitor is sent
//!   to `/login` with the page to come back to.
//! - **CSRF.** Signed-in forms carry the session's synchronizer token in a `csrf_token` field;
//!   forms used before there is a session (login, setup, accepting an invitation) carry a
//!   double-submit token that must equal the `tessera_form` cookie (SameSite=Strict, HttpOnly),
//!   which stops login-CSRF.
//! - **Light.** One small stylesheet served with a long max-age under a content-hash query
//!   string; no web fonts, no images. One small script, only as progressive enhancement (the
//!   evidence form keeps a draft in the browser); every page works without it. Pages themselves
//!   are `no-store` (they carry tokens and private data) and go out with a strict
//!   Content-Security-Policy.
//! - Templates are askama files in `crates/tessera-server/templates/`, checked at compile time.

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use tessera_store::StoreError;

use crate::auth::{Caller, SESSION_COOKIE, constant_time_eq, cookie, hash_secret, new_secret};
use crate::error::AppError;
use crate::state::AppState;

mod account;
mod agreement;
mod assets;
mod credentials;
mod dashboards;
mod equity;
mod frameworks;
#[cfg(test)]
mod http_tests;
mod import;
mod issuance;
mod learning;
mod orgs;
mod review;
mod rights;
mod transcripts;
mod verify;

/// One page route: a method, a path pattern and its handler. Every page route is a row of
/// [`page_routes`], which both [`router`] and the page authorization matrix
/// (`http_tests.rs`) read, so a route added without a matrix row fails the tests.
pub struct PageRoute {
    /// `GET` or `POST`.
    pub method: Method,
    /// The path pattern, with a distinct name for each kind of parameter (`{slug}`, `{user}`,
    /// `{competency}`, …) so the matrix can fill them in.
    pub path: &'static str,
    handler: MethodRouter<AppState>,
}

fn at_get<H, T>(path: &'static str, handler: H) -> PageRoute
where
    H: Handler<T, AppState>,
    T: 'static,
{
    PageRoute {
        method: Method::GET,
        path,
        handler: get(handler),
    }
}

fn at_post<H, T>(path: &'static str, handler: H) -> PageRoute
where
    H: Handler<T, AppState>,
    T: 'static,
{
    PageRoute {
        method: Method::POST,
        path,
        handler: post(handler),
    }
}

/// A POST that reads its own (larger) body limit, for file uploads.
fn at_upload<H, T>(path: &'static str, handler: H) -> PageRoute
where
    H: Handler<T, AppState>,
    T: 'static,
{
    PageRoute {
        method: Method::POST,
        path,
        handler: post(handler).layer(DefaultBodyLimit::disable()),
    }
}

/// Every page route (the stylesheet aside).
pub fn page_routes() -> Vec<PageRoute> {
    vec![
        at_get("/", orgs::home),
        at_get("/login", account::login_form),
        at_post("/login", account::login),
        at_post("/logout", account::logout),
        at_get("/setup", account::setup_form),
        at_post("/setup", account::setup),
        at_get("/invitations/accept", account::accept_form),
        at_post("/invitations/accept", account::accept),
        at_post("/orgs", orgs::create_org),
        at_get("/orgs/{slug}", orgs::org_page),
        at_post("/orgs/{slug}/invitations", orgs::invite),
        at_post("/orgs/{slug}/members/{member}/role", orgs::change_role),
        at_get("/orgs/{slug}/frameworks", frameworks::list),
        at_post("/orgs/{slug}/frameworks", frameworks::create_framework),
        at_get("/orgs/{slug}/import", import::form),
        at_upload("/orgs/{slug}/import", import::upload),
        at_get("/frameworks/{framework}", frameworks::tree),
        at_get(
            "/frameworks/{framework}/competencies/new",
            frameworks::new_competency_form,
        ),
        at_post(
            "/frameworks/{framework}/competencies/new",
            frameworks::create_competency,
        ),
        at_get(
            "/competencies/{competency}/edit",
            frameworks::edit_competency_form,
        ),
        at_post(
            "/competencies/{competency}/edit",
            frameworks::update_competency,
        ),
        at_post("/competencies/{competency}/status", frameworks::set_status),
        // The review flow: learners, their records and evidence; reviewers and the queue.
        at_get("/orgs/{slug}/my-competencies", learning::my_competencies),
        at_get("/orgs/{slug}/learners", learning::learners),
        at_get("/orgs/{slug}/learners/{user}", learning::record),
        at_get(
            "/orgs/{slug}/learners/{user}/competencies/{competency}",
            learning::competency,
        ),
        at_upload(
            "/orgs/{slug}/learners/{user}/competencies/{competency}/evidence",
            learning::submit_evidence,
        ),
        at_post(
            "/orgs/{slug}/learners/{user}/competencies/{competency}/override",
            learning::override_outcome,
        ),
        at_post(
            "/orgs/{slug}/learners/{user}/competencies/{competency}/exception",
            learning::grant_exception,
        ),
        at_post(
            "/orgs/{slug}/learners/{user}/competencies/{competency}/target",
            learning::set_target,
        ),
        at_get(
            "/orgs/{slug}/submissions/{submission}/files/{file}",
            learning::evidence_file,
        ),
        at_get("/orgs/{slug}/reviews", review::queue),
        at_get("/orgs/{slug}/reviews/{review}", review::score_form),
        at_post("/orgs/{slug}/reviews/{review}", review::score),
        at_get("/orgs/{slug}/agreement", agreement::agreement),
        at_post("/orgs/{slug}/review-settings", agreement::set_share),
        // The equity audit: a learner's own subgroup answers, the admins' attributes, the audit.
        at_get("/orgs/{slug}/my-subgroups", equity::my_subgroups),
        at_post("/orgs/{slug}/my-subgroups", equity::save_my_subgroup),
        at_post(
            "/orgs/{slug}/my-subgroups/withdraw",
            equity::withdraw_my_subgroup,
        ),
        at_get("/orgs/{slug}/subgroup-attributes", equity::attributes),
        at_post("/orgs/{slug}/subgroup-attributes", equity::save_attribute),
        at_post(
            "/orgs/{slug}/subgroup-attributes/remove",
            equity::remove_attribute,
        ),
        at_get("/orgs/{slug}/equity", equity::audit),
        at_get("/orgs/{slug}/equity.csv", equity::audit_csv),
        // Issuing: approvals, per-framework issuance, bulk upload and its progress.
        at_get("/orgs/{slug}/issuance", issuance::page),
        at_post("/orgs/{slug}/issuance/issue", issuance::issue),
        at_post(
            "/orgs/{slug}/issuance/frameworks/{framework}",
            issuance::set_framework,
        ),
        at_upload("/orgs/{slug}/issue-batches", issuance::upload),
        at_get("/orgs/{slug}/issue-batches/{batch}", issuance::batch),
        // Learner rights: one's own data, consents, export and erasure; an admin's erasure on
        // a learner's request; the public privacy and AI-use note with retention.
        at_get("/orgs/{slug}/my-data", rights::my_data),
        at_post("/orgs/{slug}/my-data/consents", rights::grant_consent),
        at_post(
            "/orgs/{slug}/my-data/consents/{consent}/withdraw",
            rights::withdraw_consent,
        ),
        at_get("/me/export", rights::export),
        at_get("/me/erase", rights::erase_self_form),
        at_post("/me/erase", rights::erase_self_submit),
        at_get("/orgs/{slug}/learners/{user}/erase", rights::erase_form),
        at_post("/orgs/{slug}/learners/{user}/erase", rights::erase_submit),
        at_get("/orgs/{slug}/privacy", rights::privacy),
        at_post("/orgs/{slug}/privacy", rights::set_privacy),
        at_post("/orgs/{slug}/retention", rights::set_retention),
        // Mastery transcripts (pages/transcripts.rs): the learner's list and form, the
        // transcript page from the school's templates, and that page's stylesheet.
        at_get("/orgs/{slug}/my-transcripts", transcripts::my_transcripts),
        at_get(
            "/orgs/{slug}/learners/{user}/transcripts",
            transcripts::list,
        ),
        at_post(
            "/orgs/{slug}/learners/{user}/transcripts",
            transcripts::create,
        ),
        at_get("/orgs/{slug}/transcripts/{transcript}", transcripts::show),
        at_get(transcripts::TRANSCRIPT_CSS_PATH, transcripts::stylesheet),
        at_post(
            "/orgs/{slug}/transcripts/{transcript}/share-links",
            transcripts::create_link,
        ),
        at_post(
            "/orgs/{slug}/transcripts/{transcript}/share-links/{transcript_link}/revoke",
            transcripts::revoke_link,
        ),
        // A transcript share link: no account; that transcript only.
        at_get("/share/t/{transcript_token}", transcripts::open_shared),
        at_get("/share/t/{transcript_token}/view", transcripts::shared_view),
        at_get(
            "/share/t/{transcript_token}/transcript.pdf",
            transcripts::shared_pdf,
        ),
        at_get(
            "/share/t/{transcript_token}/transcript.json",
            transcripts::shared_json,
        ),
        // Credentials: a learner's list and downloads, one credential, share links, status.
        at_get("/orgs/{slug}/my-credentials", credentials::my_credentials),
        at_post("/orgs/{slug}/my-did", credentials::set_did),
        at_get(
            "/orgs/{slug}/learners/{user}/credentials",
            credentials::learner_credentials,
        ),
        at_get(
            "/orgs/{slug}/credentials/{credential}",
            credentials::credential,
        ),
        at_post(
            "/orgs/{slug}/credentials/{credential}/status",
            credentials::change_status,
        ),
        at_post(
            "/orgs/{slug}/credentials/{credential}/share-links",
            credentials::create_link,
        ),
        at_post(
            "/orgs/{slug}/share-links/{share_link}/revoke",
            credentials::revoke_link,
        ),
        // A credential share link: no account; that credential and its downloads only.
        at_get("/share/c/{credential_token}", credentials::shared),
        at_get(
            "/share/c/{credential_token}/download.json",
            credentials::shared_json,
        ),
        at_get(
            "/share/c/{credential_token}/badge.png",
            credentials::shared_png,
        ),
        at_get(
            "/share/c/{credential_token}/badge.svg",
            credentials::shared_svg,
        ),
        // Verification for anyone (no account, no CSRF: read-only).
        // Progress dashboards (pages/dashboards.rs).
        at_get("/orgs/{slug}/my-progress", dashboards::my_progress),
        at_get(
            "/orgs/{slug}/learners/{user}/progress",
            dashboards::learner_progress,
        ),
        at_get("/orgs/{slug}/progress", dashboards::teacher),
        at_post(
            "/orgs/{slug}/learners/{user}/competencies/{competency}/flag",
            dashboards::decide_flag,
        ),
        at_post(
            "/frameworks/{framework}/flag-thresholds",
            dashboards::set_thresholds,
        ),
        at_get("/orgs/{slug}/cohorts", dashboards::cohorts),
        at_post("/orgs/{slug}/cohorts", dashboards::create_cohort),
        at_post("/orgs/{slug}/cohort-members", dashboards::set_members),
        at_get("/verify", verify::form),
        verify::post_route(),
    ]
}

/// Every page route. Merged into the application next to the API (see [`crate::app`]).
pub fn router() -> Router<AppState> {
    page_routes()
        .into_iter()
        .fold(Router::new(), |r, route| r.route(route.path, route.handler))
        .layer(axum::middleware::from_fn(page_headers))
        .route(assets::CSS_PATH, get(assets::stylesheet))
        .route(assets::DRAFT_JS_PATH, get(assets::draft_script))
}

/// The cookie holding the double-submit token of forms used before login.
const FORM_COOKIE: &str = "tessera_form";

/// Headers every page gets: no caching (pages carry CSRF tokens and private data), a CSP that
/// allows nothing but our own stylesheet, our own script files (never inline: the evidence
/// form's draft keeper, see `assets.rs`) and forms to ourselves, and no referrer (setup and
/// invitation links carry secrets in the query).
async fn page_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// What the page layout needs: the stylesheet URL, who is signed in, and the token for the
/// logout form.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// `/static/tessera.css?v=<hash>`.
    pub css: &'static str,
    /// The signed-in user's display name.
    pub user_name: Option<String>,
    /// The session's CSRF token (empty when signed out).
    pub csrf: String,
    /// Whether the signed-in user runs the platform.
    pub platform_admin: bool,
}

impl Chrome {
    /// The layout for an anonymous visitor.
    pub fn anonymous() -> Self {
        Self {
            css: assets::css_url(),
            user_name: None,
            csrf: String::new(),
            platform_admin: false,
        }
    }
}

/// A signed-in visitor of a page: their access rights and the layout data.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The same caller the API checks.
    pub caller: Caller,
    /// The layout.
    pub chrome: Chrome,
}

impl Viewer {
    /// Fails unless `sent` is this session's CSRF token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        let expected = self.caller.0.csrf_token.as_deref().unwrap_or("");
        if !expected.is_empty() && constant_time_eq(sent, expected) {
            Ok(())
        } else {
            Err(PageError::Csrf)
        }
    }
}

/// The session's caller, if the request carries a valid session cookie. Pages never accept API
/// tokens: a browser only has cookies.
async fn session_caller(parts: &Parts, state: &AppState) -> Result<Option<Caller>, PageError> {
    let Some(secret) = cookie(&parts.headers, SESSION_COOKIE).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let principal = state
        .store
        .principal_by_session(&hash_secret(secret), state.clock.now())
        .await
        .map_err(AppError::from)?;
    Ok(principal.map(Caller))
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let Some(caller) = session_caller(parts, state).await? else {
            let back = parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            return Err(PageError::SignIn(back));
        };
        let user = state
            .store
            .user(caller.user_id())
            .await
            .map_err(AppError::from)?;
        let chrome = Chrome {
            css: assets::css_url(),
            user_name: Some(user.name),
            csrf: caller.0.csrf_token.clone().unwrap_or_default(),
            platform_admin: caller.is_platform_admin(),
        };
        Ok(Self { caller, chrome })
    }
}

/// Whether a visitor is signed in (for pages that look different then, like `/login`).
#[derive(Debug, Clone)]
pub struct MaybeViewer(pub Option<Viewer>);

impl FromRequestParts<AppState> for MaybeViewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        match Viewer::from_request_parts(parts, state).await {
            Ok(v) => Ok(Self(Some(v))),
            Err(PageError::SignIn(_)) => Ok(Self(None)),
            Err(e) => Err(e),
        }
    }
}

/// The double-submit token for pre-login forms: the `tessera_form` cookie's value, or a new
/// one with the `Set-Cookie` header to send.
pub fn form_token(
    headers: &HeaderMap,
    secure: bool,
) -> Result<(String, Option<HeaderValue>), PageError> {
    if let Some(existing) = cookie(headers, FORM_COOKIE).filter(|v| v.len() == 64) {
        return Ok((existing.to_owned(), None));
    }
    let token = new_secret("").map_err(PageError::from)?;
    let secure = if secure { "; Secure" } else { "" };
    let value = HeaderValue::from_str(&format!(
        "{FORM_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400{secure}"
    ))
    .map_err(|e| PageError::from(AppError::internal(e)))?;
    Ok((token, Some(value)))
}

/// Fails unless the form's token equals the `tessera_form` cookie.
pub fn check_form_token(headers: &HeaderMap, sent: &str) -> Result<(), PageError> {
    match cookie(headers, FORM_COOKIE) {
        Some(expected) if !expected.is_empty() && constant_time_eq(sent, expected) => Ok(()),
        _ => Err(PageError::Csrf),
    }
}

/// Renders a template into an HTML response with `status`.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => PageError::from(AppError::internal(e)).into_response(),
    }
}

/// A `303 See Other` to `to` (the answer to a successful form).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Link previewers and crawlers fetch a share link when it is pasted into a chat or a post; that
/// is not someone opening it. Matched on the `User-Agent` words these fetchers announce
/// themselves with (lower case). A previewer that poses as a browser is still counted, and a
/// phone whose model name ends in "bot" is not: opens are a hint for the learner, not a statistic.
const PREVIEWERS: [&str; 14] = [
    "bot",
    "crawler",
    "spider",
    "slack",
    "facebookexternalhit",
    "whatsapp",
    "telegram",
    "discord",
    "skypeuripreview",
    "linkedin",
    "embedly",
    "preview",
    "curl/",
    "wget/",
];

/// Whether a request for a share link counts as an open (a person, not a link previewer).
pub fn counts_as_open(headers: &HeaderMap) -> bool {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    !PREVIEWERS.iter().any(|p| agent.contains(p))
}

/// The "My …" links: a member of the organisation is sent to their own page,
/// `/orgs/{slug}/learners/{their id}{suffix}`.
pub async fn to_own_page(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
    suffix: &str,
) -> Result<Response, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    viewer.caller.require_member(&org.id)?;
    Ok(see_other(&format!(
        "/orgs/{}/learners/{}{suffix}",
        org.slug,
        viewer.caller.user_id()
    )))
}

/// Why a page could not be shown. Form problems are not errors: the form is shown again.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to `/login`, then come back to this path.
    SignIn(String),
    /// The form's CSRF token is missing or wrong (often: the session ended meanwhile).
    Csrf,
    /// Anything from the shared handlers and checks.
    App(AppError),
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthenticated => Self::SignIn("/".into()),
            other => Self::App(other),
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        Self::App(e.into())
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    title: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            Self::SignIn(back) => {
                let to = format!("/login?next={}", encode_component(&back));
                return see_other(&to);
            }
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                "The form has expired",
                "The form was too old or came from another site. Go back, reload the page and try again.".to_owned(),
            ),
            Self::App(e) => {
                let status = e.status();
                let (title, message) = match &e {
                    AppError::NotFound => (
                        "Not found",
                        "There is nothing here, or you may not see it.".to_owned(),
                    ),
                    AppError::Forbidden => (
                        "Not allowed",
                        "Your role in this organisation does not allow this.".to_owned(),
                    ),
                    _ if status.is_server_error() => {
                        tracing::error!(error = %e, "page failed");
                        (
                            "Something went wrong",
                            "The service could not finish this request. Please try again in a moment.".to_owned(),
                        )
                    }
                    _ => ("This did not work", e.to_string()),
                };
                (status, title, message)
            }
        };
        render(
            status,
            &ErrorPage {
                chrome: Chrome::anonymous(),
                title,
                message,
            },
        )
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A local path to return to after login: must start with one `/` (never `//host` or a
/// scheme), so the login form cannot be used to send people elsewhere.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// `axum::Form` whose rejection is an HTML page.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Form), rejection(PageError))]
pub struct PageForm<T>(pub T);

impl From<FormRejection> for PageError {
    fn from(r: FormRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::App(AppError::PayloadTooLarge)
        } else {
            Self::App(AppError::InvalidBody(r.body_text()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_stay_on_this_site() {
        assert_eq!(safe_next(Some("/orgs/a")), "/orgs/a");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn components_are_encoded() {
        assert_eq!(encode_component("/a b?c=d&e"), "/a%20b%3Fc%3Dd%26e");
    }
}
