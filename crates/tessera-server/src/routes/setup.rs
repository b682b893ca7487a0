//! First-run setup: the one-time link printed at start creates the platform admin.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tessera_core::account::{DisplayName, Email, check_password};
use tessera_store::StoreError;
use tessera_store::accounts::{NewUser, User};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{hash_password, hash_secret};
use crate::error::{AppError, ProblemDoc};
use crate::extract::AppJson;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(setup))
}

/// Creates the platform admin with the setup link's token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The token from the setup link printed at first start.
    pub token: String,
    /// The admin's e-mail (their login).
    pub email: String,
    /// The admin's name.
    pub name: String,
    /// At least 10 characters.
    pub password: String,
}

/// Creates the platform admin. Anyone holding the setup token may call it, once.
#[utoipa::path(post, path = "/api/v1/setup", tag = "accounts", request_body = SetupRequest,
    responses((status = 201, body = User),
              (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn setup(
    State(state): State<AppState>,
    AppJson(req): AppJson<SetupRequest>,
) -> Result<(StatusCode, AppJson<User>), AppError> {
    let user = complete_setup(&state, req).await?;
    Ok((StatusCode::CREATED, AppJson(user)))
}

/// The setup logic, shared with the setup page.
pub async fn complete_setup(state: &AppState, req: SetupRequest) -> Result<User, AppError> {
    let email = Email::parse(&req.email)?;
    let name = DisplayName::parse("name", &req.name)?;
    check_password(&req.password)?;
    let password_hash = hash_password(req.password).await?;
    let user = NewUser {
        email: email.as_str().to_owned(),
        name: name.as_str().to_owned(),
        password_hash,
    };
    match state
        .store
        .complete_setup(&hash_secret(&req.token), state.clock.now(), user)
        .await
    {
        Err(StoreError::NotFound) => Err(AppError::InvalidToken),
        other => Ok(other?),
    }
}
