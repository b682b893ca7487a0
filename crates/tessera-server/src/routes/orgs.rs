//! Organisations, their members and invitations, and user profiles.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_core::account::{DisplayName, Email, OrgKind, Role, Slug, check_password};
use tessera_store::StoreError;
use tessera_store::accounts::{Invitation, Member, NewInvitation, NewUser, Org, User};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, hash_password, hash_secret, new_secret, verify_password};
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(get_org))
        .routes(routes!(list_members))
        .routes(routes!(remove_role))
        .routes(routes!(list_invitations, invite))
        .routes(routes!(revoke_invitation))
        .routes(routes!(accept_invitation))
        .routes(routes!(get_user))
}

/// A new organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrgRequest {
    /// URL name: 2–63 of `a-z`, `0-9`, `-`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// School, district, university or employer.
    pub kind: OrgKind,
}

/// An invitation to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// Who to invite.
    pub email: String,
    /// The role they will get.
    pub role: Role,
}

/// A sent invitation: the link is shown this once (deliver it to the invitee).
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteResponse {
    /// The invitation's record.
    pub invitation: Invitation,
    /// The one-time link, `<public_url>/invitations/accept?token=…`.
    pub link: String,
    /// The token in the link (for API clients).
    pub token: String,
}

/// Accepting an invitation: new users give a name and a password; existing users prove who
/// they are with their password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// The token from the link.
    pub token: String,
    /// Needed when no account exists for the invited e-mail.
    pub name: Option<String>,
    /// The new password, or the existing account's password.
    pub password: String,
}

/// The result of accepting.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptResponse {
    /// The user who now holds the role.
    pub user_id: String,
    /// The organisation's slug.
    pub org: String,
    /// The role granted.
    pub role: Role,
}

async fn org_for(state: &AppState, slug: &str) -> Result<Org, AppError> {
    Ok(state.store.org_by_slug(slug).await?)
}

/// The organisations the caller belongs to (all of them for platform admins).
#[utoipa::path(get, path = "/api/v1/orgs", tag = "accounts", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<Org>), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_orgs(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<AppJson<Vec<Org>>, AppError> {
    let filter = (!caller.is_platform_admin()).then_some(caller.user_id());
    Ok(AppJson(state.store.list_orgs(filter).await?))
}

/// Creates an organisation. Platform admins only.
#[utoipa::path(post, path = "/api/v1/orgs", tag = "accounts", request_body = NewOrgRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = Org), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn create_org(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppJson(req): AppJson<NewOrgRequest>,
) -> Result<(StatusCode, AppJson<Org>), AppError> {
    if !caller.is_platform_admin() {
        return Err(AppError::Forbidden);
    }
    let slug = Slug::parse(&req.slug)?;
    let name = DisplayName::parse("name", &req.name)?;
    let org = state
        .store
        .create_org(slug.as_str(), name.as_str(), req.kind, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, AppJson(org)))
}

/// One organisation. Members and platform admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}", tag = "accounts", params(("slug" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Org), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_org(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
) -> Result<AppJson<Org>, AppError> {
    let org = org_for(&state, &slug).await?;
    caller.require_member(&org.id)?;
    Ok(AppJson(org))
}

/// The members of an organisation, one row per role. Organisation admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/members", tag = "accounts", params(("slug" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<Member>), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_members(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
) -> Result<AppJson<Vec<Member>>, AppError> {
    let org = org_for(&state, &slug).await?;
    caller.require_role(&org.id, Role::can_manage_members)?;
    Ok(AppJson(state.store.members(&org.id).await?))
}

/// Takes one role away from a member. Organisation admins.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/members/{user_id}/roles/{role}", tag = "accounts",
    params(("slug" = String, Path), ("user_id" = String, Path), ("role" = Role, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn remove_role(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user_id, role)): AppPath<(String, String, Role)>,
) -> Result<StatusCode, AppError> {
    let org = org_for(&state, &slug).await?;
    caller.require_role(&org.id, Role::can_manage_members)?;
    state
        .store
        .remove_membership(&org.id, &user_id, role)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An organisation's invitations, newest first. Organisation admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/invitations", tag = "accounts", params(("slug" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<Invitation>), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_invitations(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
) -> Result<AppJson<Vec<Invitation>>, AppError> {
    let org = org_for(&state, &slug).await?;
    caller.require_role(&org.id, Role::can_manage_members)?;
    Ok(AppJson(state.store.invitations(&org.id).await?))
}

/// Invites someone to a role; returns the one-time link. Organisation admins.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/invitations", tag = "accounts", params(("slug" = String, Path)),
    request_body = InviteRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = InviteResponse), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn invite(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppJson(req): AppJson<InviteRequest>,
) -> Result<(StatusCode, AppJson<InviteResponse>), AppError> {
    let org = org_for(&state, &slug).await?;
    caller.require_role(&org.id, Role::can_manage_members)?;
    let email = Email::parse(&req.email)?;
    let token = new_secret("")?;
    let now = state.clock.now();
    let invitation = state
        .store
        .create_invitation(
            &NewInvitation {
                org_id: org.id.clone(),
                email: email.as_str().to_owned(),
                role: req.role,
                token_hash: hash_secret(&token),
                created_by: caller.user_id().to_owned(),
                expires_at: now + chrono::Duration::hours(state.config.invitation_hours),
            },
            now,
        )
        .await?;
    let link = format!(
        "{}/invitations/accept?token={token}",
        state.config.public_url
    );
    tracing::info!(invitation = %invitation.id, "invitation created");
    Ok((
        StatusCode::CREATED,
        AppJson(InviteResponse {
            invitation,
            link,
            token,
        }),
    ))
}

/// Withdraws an unused invitation. Organisation admins.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/invitations/{id}", tag = "accounts",
    params(("slug" = String, Path), ("id" = String, Path)), security(("bearer" = []), ("session" = [])),
    responses((status = 204), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn revoke_invitation(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
) -> Result<StatusCode, AppError> {
    let org = org_for(&state, &slug).await?;
    caller.require_role(&org.id, Role::can_manage_members)?;
    state
        .store
        .revoke_invitation(&org.id, &id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accepts an invitation with its token. Anyone holding the token, once.
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "accounts", request_body = AcceptRequest,
    responses((status = 200, body = AcceptResponse), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn accept_invitation(
    State(state): State<AppState>,
    AppJson(req): AppJson<AcceptRequest>,
) -> Result<AppJson<AcceptResponse>, AppError> {
    Ok(AppJson(accept(&state, req).await?))
}

/// The accept logic, shared with the page.
pub async fn accept(state: &AppState, req: AcceptRequest) -> Result<AcceptResponse, AppError> {
    let now = state.clock.now();
    let invitation = match state
        .store
        .open_invitation(&hash_secret(&req.token), now)
        .await
    {
        Err(StoreError::NotFound) => return Err(AppError::InvalidToken),
        other => other?,
    };
    let existing = state.store.credentials_by_email(&invitation.email).await?;
    let user_id = match existing {
        Some(c) => {
            if !verify_password(req.password, Some(c.password_hash)).await? {
                return Err(AppError::InvalidCredentials);
            }
            state
                .store
                .accept_invitation(&invitation.id, Some(&c.id), None, now)
                .await
        }
        None => {
            let name = DisplayName::parse("name", req.name.as_deref().unwrap_or(""))?;
            check_password(&req.password)?;
            let user = NewUser {
                email: invitation.email.clone(),
                name: name.as_str().to_owned(),
                password_hash: hash_password(req.password).await?,
            };
            state
                .store
                .accept_invitation(&invitation.id, None, Some(&user), now)
                .await
        }
    };
    let user_id = match user_id {
        Err(StoreError::NotFound) => return Err(AppError::InvalidToken),
        other => other?,
    };
    let org = state.store.org(&invitation.org_id).await?;
    Ok(AcceptResponse {
        user_id,
        org: org.slug,
        role: invitation.role,
    })
}

/// A user's profile: themselves, platform admins, and admins of an organisation the user
/// belongs to. Anyone else gets 404 (a learner cannot look up another learner).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "accounts", params(("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = User), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<User>, AppError> {
    let allowed = caller.user_id() == id || caller.is_platform_admin() || {
        let theirs = state.store.memberships(&id).await?;
        theirs
            .iter()
            .any(|m| caller.roles_in(&m.org_id).any(Role::can_manage_members))
    };
    if !allowed {
        return Err(AppError::NotFound);
    }
    Ok(AppJson(state.store.user(&id).await?))
}
