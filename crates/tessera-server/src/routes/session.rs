//! Login, logout, "who am I" and personal API tokens.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tessera_core::account::Email;
use tessera_core::registry::required_text;
use tessera_store::accounts::{Membership, User};
use tessera_store::auth::ApiToken;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{
    API_TOKEN_PREFIX, Auth, SESSION_COOKIE, clear_session_cookie, cookie, hash_secret, new_secret,
    session_cookie, verify_password,
};
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// The client's IP address as the listener saw it ("unknown" in in-process tests).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string()),
        ))
    }
}

/// E-mail and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The login e-mail.
    pub email: String,
    /// The password.
    pub password: String,
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Who logged in.
    pub user: User,
    /// Send this as `x-csrf-token` on every cookie-authenticated request that changes something.
    pub csrf_token: String,
}

/// The caller and their roles.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The user.
    pub user: User,
    /// Their roles per organisation.
    pub memberships: Vec<Membership>,
}

/// A new API token's name and optional lifetime.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// A label, e.g. "grading script".
    pub name: String,
    /// Days until it stops working (1–3650); none means until revoked.
    pub expires_in_days: Option<u32>,
}

/// A created API token: the secret is shown this once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewTokenResponse {
    /// The token's record.
    pub token: ApiToken,
    /// The secret, `tsk_` + 64 hex digits. Send as `Authorization: Bearer <secret>`.
    pub secret: String,
}

/// Logs in with e-mail and password: sets the session cookie and returns the CSRF token.
/// Rate-limited per account and per IP (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
              (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    AppJson(req): AppJson<LoginRequest>,
) -> Result<Response, AppError> {
    let (cookie, body) = start_session(&state, &ip.0, &req.email, req.password).await?;
    let mut response = AppJson(body).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Checks the password (rate-limited) and records a session; gives the cookie and the body.
/// Shared with the login page.
pub async fn start_session(
    state: &AppState,
    ip: &str,
    email: &str,
    password: String,
) -> Result<(HeaderValue, LoginResponse), AppError> {
    let now = state.clock.now();
    let email = Email::parse(email).map_err(|_| AppError::InvalidCredentials)?;
    state
        .login_limiter
        .check(email.as_str(), ip, now)
        .map_err(AppError::RateLimited)?;
    let credentials = state.store.credentials_by_email(email.as_str()).await?;
    let (user_id, hash) = match credentials {
        Some(c) => (Some(c.id), Some(c.password_hash)),
        None => (None, None),
    };
    if !verify_password(password, hash).await? {
        tracing::info!("login failed");
        return Err(AppError::InvalidCredentials);
    }
    let user_id = user_id.ok_or(AppError::InvalidCredentials)?;
    let secret = new_secret("")?;
    let csrf_token = new_secret("")?;
    let hours = state.config.session_hours;
    state
        .store
        .create_session(
            &hash_secret(&secret),
            &user_id,
            &csrf_token,
            now,
            now + chrono::Duration::hours(hours),
        )
        .await?;
    let user = state.store.user(&user_id).await?;
    tracing::info!(user = %user.id, "login");
    let cookie = HeaderValue::from_str(&session_cookie(
        &secret,
        hours * 3600,
        state.config.secure_cookies(),
    ))
    .map_err(AppError::internal)?;
    Ok((cookie, LoginResponse { user, csrf_token }))
}

/// Ends the session (if the caller used one) and clears the cookie. Needs the CSRF token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    responses((status = 204), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn logout(
    State(state): State<AppState>,
    Auth(_caller): Auth,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        state.store.delete_session(&hash_secret(secret)).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let clear = HeaderValue::from_str(&clear_session_cookie(state.config.secure_cookies()))
        .map_err(AppError::internal)?;
    response.headers_mut().insert(header::SET_COOKIE, clear);
    Ok(response)
}

/// The caller and their roles.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Me), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn me(State(state): State<AppState>, Auth(caller): Auth) -> Result<AppJson<Me>, AppError> {
    let user = state.store.user(caller.user_id()).await?;
    let memberships = state.store.memberships(caller.user_id()).await?;
    Ok(AppJson(Me { user, memberships }))
}

/// The caller's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "accounts", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<ApiToken>), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_tokens(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<AppJson<Vec<ApiToken>>, AppError> {
    Ok(AppJson(state.store.api_tokens(caller.user_id()).await?))
}

/// Creates a personal API token; the secret is in this response only.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "accounts", request_body = NewTokenRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = NewTokenResponse), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn create_token(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppJson(req): AppJson<NewTokenRequest>,
) -> Result<(StatusCode, AppJson<NewTokenResponse>), AppError> {
    let name = required_text("name", &req.name, 200)?;
    let now = state.clock.now();
    let expires_at = match req.expires_in_days {
        None => None,
        Some(d @ 1..=3650) => Some(now + chrono::Duration::days(i64::from(d))),
        Some(_) => {
            return Err(AppError::Validation {
                field: "expires_in_days",
                reason: "must be 1 to 3650".into(),
            });
        }
    };
    let secret = new_secret(API_TOKEN_PREFIX)?;
    let token = state
        .store
        .create_api_token(
            caller.user_id(),
            &name,
            &hash_secret(&secret),
            now,
            expires_at,
        )
        .await?;
    tracing::info!(token = %token.id, "API token created");
    Ok((
        StatusCode::CREATED,
        AppJson(NewTokenResponse { token, secret }),
    ))
}

/// Revokes one of the caller's API tokens.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "accounts",
    params(("id" = String, Path, description = "The token's id")), security(("bearer" = []), ("session" = [])),
    responses((status = 204), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn revoke_token(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
) -> Result<StatusCode, AppError> {
    state
        .store
        .revoke_api_token(caller.user_id(), &id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
