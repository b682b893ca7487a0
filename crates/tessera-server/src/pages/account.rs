//! Signing in and out, the first-run setup page and accepting an invitation. The logic is the
//! API's own (`start_session`, `complete_setup`, `accept`); only the presentation differs.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{
    Chrome, MaybeViewer, PageError, PageForm, Viewer, check_form_token, form_token, render,
    safe_next, see_other,
};
use crate::auth::{SESSION_COOKIE, clear_session_cookie, cookie, hash_secret};
use crate::error::AppError;
use crate::routes::orgs::{AcceptRequest, accept as accept_invitation};
use crate::routes::session::{ClientIp, start_session};
use crate::routes::setup::{SetupRequest, complete_setup};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    form_token: String,
    next: String,
    email: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

/// `?next=` and notices on the login page.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    done: Option<String>,
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Adds `Set-Cookie` when a new form token was made.
fn with_cookie(mut response: Response, set: Option<HeaderValue>) -> Response {
    if let Some(v) = set {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `GET /login`.
pub async fn login_form(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(q.next.as_deref());
    if viewer.is_some() {
        return Ok(see_other(&next));
    }
    let (token, set) = form_token(&headers, state.config.secure_cookies())?;
    let notice = match q.done.as_deref() {
        Some("setup") => Some("The administrator account is ready. Log in with it."),
        Some("logout") => Some("You have logged out."),
        _ => None,
    };
    let page = LoginPage {
        chrome: Chrome::anonymous(),
        form_token: token,
        next,
        email: String::new(),
        error: None,
        notice,
    };
    Ok(with_cookie(render(StatusCode::OK, &page), set))
}

/// `POST /login`: a session cookie and a redirect to where the visitor was going, or the form
/// again with the problem.
pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, PageError> {
    check_form_token(&headers, &form.csrf_token)?;
    let next = safe_next(Some(&form.next));
    match start_session(&state, &ip.0, form.email.trim(), form.password).await {
        Ok((cookie, _)) => {
            let mut response = see_other(&next);
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            Ok(response)
        }
        Err(e) => {
            let (status, message) = match e {
                AppError::InvalidCredentials => (
                    StatusCode::UNAUTHORIZED,
                    "Wrong e-mail or password.".to_owned(),
                ),
                AppError::RateLimited(secs) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("Too many attempts. Try again in {secs} seconds."),
                ),
                other => return Err(other.into()),
            };
            let page = LoginPage {
                chrome: Chrome::anonymous(),
                form_token: form.csrf_token,
                next,
                email: form.email,
                error: Some(message),
                notice: None,
            };
            Ok(render(status, &page))
        }
    }
}

/// A form with only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /logout`: ends the session.
pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        state.store.delete_session(&hash_secret(secret)).await?;
    }
    let mut response = see_other("/login?done=logout");
    let clear = HeaderValue::from_str(&clear_session_cookie(state.config.secure_cookies()))
        .map_err(AppError::internal)?;
    response.headers_mut().insert(header::SET_COOKIE, clear);
    Ok(response)
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    chrome: Chrome,
    form_token: String,
    token: String,
    name: String,
    email: String,
    error: Option<String>,
}

/// `?token=` of one-time links.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// `GET /setup?token=…`: the link printed at first start.
pub async fn setup_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let (form_token, set) = form_token(&headers, state.config.secure_cookies())?;
    let page = SetupPage {
        chrome: Chrome::anonymous(),
        form_token,
        token: q.token,
        name: String::new(),
        email: String::new(),
        error: None,
    };
    Ok(with_cookie(render(StatusCode::OK, &page), set))
}

/// The setup form's fields.
#[derive(Debug, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// A plain-words sentence for a form problem, or the error itself when it is not one.
pub fn form_problem(e: AppError) -> Result<(StatusCode, String), PageError> {
    let message = match &e {
        AppError::Validation { field, reason } => format!("{}: {reason}.", field_label(field)),
        AppError::InvalidToken => {
            "This link is invalid, already used or expired. Ask for a new one.".to_owned()
        }
        AppError::InvalidCredentials => "Wrong password.".to_owned(),
        AppError::Conflict(what) => format!("That did not work: {what}."),
        AppError::InvalidReference(what) => format!("That did not work: {what}."),
        AppError::Cycle(cycle) => format!(
            "This would make a loop: {}. Remove one of these links.",
            cycle.join(" → ")
        ),
        _ => return Err(e.into()),
    };
    Ok((e.status(), message))
}

/// Field names as people read them.
fn field_label(field: &str) -> String {
    let s = field.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => s,
    }
}

/// `POST /setup`: creates the platform admin, then asks them to log in.
pub async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<SetupForm>,
) -> Result<Response, PageError> {
    check_form_token(&headers, &form.csrf_token)?;
    let request = SetupRequest {
        token: form.token.clone(),
        email: form.email.clone(),
        name: form.name.clone(),
        password: form.password,
    };
    match complete_setup(&state, request).await {
        Ok(_) => Ok(see_other("/login?done=setup")),
        Err(e) => {
            let (status, error) = form_problem(e)?;
            let page = SetupPage {
                chrome: Chrome::anonymous(),
                form_token: form.csrf_token,
                token: form.token,
                name: form.name,
                email: form.email,
                error: Some(error),
            };
            Ok(render(status, &page))
        }
    }
}

#[derive(Template)]
#[template(path = "accept.html")]
struct AcceptPage {
    chrome: Chrome,
    form_token: String,
    token: String,
    name: String,
    error: Option<String>,
    done: Option<String>,
}

/// `GET /invitations/accept?token=…`: the link an admin handed out.
pub async fn accept_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let (form_token, set) = form_token(&headers, state.config.secure_cookies())?;
    let page = AcceptPage {
        chrome: Chrome::anonymous(),
        form_token,
        token: q.token,
        name: String::new(),
        error: None,
        done: None,
    };
    Ok(with_cookie(render(StatusCode::OK, &page), set))
}

/// The invitation form's fields.
#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// `POST /invitations/accept`.
pub async fn accept(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<AcceptForm>,
) -> Result<Response, PageError> {
    check_form_token(&headers, &form.csrf_token)?;
    let name = form.name.trim();
    let request = AcceptRequest {
        token: form.token.clone(),
        name: (!name.is_empty()).then(|| name.to_owned()),
        password: form.password,
    };
    let (status, error, done) = match accept_invitation(&state, request).await {
        Ok(r) => {
            let org = state.store.org_by_slug(&r.org).await?;
            (
                StatusCode::OK,
                None,
                Some(format!(
                    "Done: you are now {} of {}.",
                    article_role(r.role.as_str()),
                    org.name
                )),
            )
        }
        Err(e) => {
            let (status, error) = form_problem(e)?;
            (status, Some(error), None)
        }
    };
    let page = AcceptPage {
        chrome: Chrome::anonymous(),
        form_token: form.csrf_token,
        token: form.token,
        name: form.name,
        error,
        done,
    };
    Ok(render(status, &page).into_response())
}

/// "an admin", "a teacher".
fn article_role(role: &str) -> String {
    if role.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {role}")
    } else {
        format!("a {role}")
    }
}
