//! The start page (the caller's organisations; platform admins create new ones) and an
//! organisation's page (its frameworks; for its admins, members, roles and invitations).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tessera_core::account::{DisplayName, Email, OrgKind, Role, Slug};
use tessera_store::accounts::{Invitation, Member, NewInvitation, Org};

use super::account::form_problem;
use super::{Chrome, PageError, PageForm, Viewer, render, see_other};
use crate::auth::{hash_secret, new_secret};
use crate::error::AppError;
use crate::state::AppState;

/// The organisation kinds offered in the form.
const KINDS: [&str; 4] = ["school", "district", "university", "employer"];
/// The roles offered in forms.
const ROLES: [&str; 4] = ["admin", "teacher", "reviewer", "learner"];

/// One `<option>` of a `<select>`.
pub struct Opt {
    /// The value and label.
    pub value: &'static str,
    /// Whether it is the chosen one.
    pub selected: bool,
}

/// The options of a `<select>` with `current` chosen.
fn options(values: &[&'static str], current: &str) -> Vec<Opt> {
    values
        .iter()
        .map(|v| Opt {
            value: v,
            selected: *v == current,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    orgs: Vec<Org>,
    kinds: Vec<Opt>,
    error: Option<String>,
    slug: String,
    name: String,
}

/// `GET /`: the organisations the caller can see.
pub async fn home(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let page = home_page(&state, viewer, None, NewOrgForm::default()).await?;
    Ok(render(StatusCode::OK, &page))
}

async fn home_page(
    state: &AppState,
    viewer: Viewer,
    error: Option<String>,
    form: NewOrgForm,
) -> Result<HomePage, PageError> {
    let filter = (!viewer.caller.is_platform_admin()).then_some(viewer.caller.user_id());
    let orgs = state.store.list_orgs(filter).await?;
    Ok(HomePage {
        chrome: viewer.chrome,
        orgs,
        kinds: options(&KINDS, &form.kind),
        error,
        slug: form.slug,
        name: form.name,
    })
}

/// The new-organisation form.
#[derive(Debug, Default, Deserialize)]
pub struct NewOrgForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
}

/// `POST /orgs`: platform admins create an organisation.
pub async fn create_org(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<NewOrgForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    if !viewer.caller.is_platform_admin() {
        return Err(AppError::Forbidden.into());
    }
    let result = async {
        let slug = Slug::parse(form.slug.trim())?;
        let name = DisplayName::parse("name", &form.name)?;
        let kind = OrgKind::parse(&form.kind)?;
        Ok::<_, AppError>(
            state
                .store
                .create_org(slug.as_str(), name.as_str(), kind, state.clock.now())
                .await?,
        )
    }
    .await;
    match result {
        Ok(org) => Ok(see_other(&format!("/orgs/{}", org.slug))),
        Err(e) => {
            let (status, message) = form_problem(e)?;
            let page = home_page(&state, viewer, Some(message), form).await?;
            Ok(render(status, &page))
        }
    }
}

/// One member's row: a user with one role.
struct MemberRow {
    member: Member,
    is_self: bool,
    options: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    chrome: Chrome,
    org: Org,
    my_roles: String,
    can_manage: bool,
    can_edit: bool,
    members: Vec<MemberRow>,
    invitations: Vec<Invitation>,
    invite_roles: Vec<Opt>,
    notice: Option<String>,
    invite_error: Option<String>,
    invite_email: String,
    invite_link: Option<String>,
    role_error: Option<String>,
}

/// Notices after a redirect.
#[derive(Debug, Deserialize)]
pub struct OrgQuery {
    done: Option<String>,
}

/// `GET /orgs/{slug}`: members see the organisation; its admins also manage members.
pub async fn org_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<OrgQuery>,
) -> Result<Response, PageError> {
    let mut page = org_page_data(&state, viewer, &slug).await?;
    page.notice = match q.done.as_deref() {
        Some("role") => Some("The role was changed.".to_owned()),
        _ => None,
    };
    Ok(render(StatusCode::OK, &page))
}

async fn org_page_data(state: &AppState, viewer: Viewer, slug: &str) -> Result<OrgPage, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    let caller = &viewer.caller;
    caller.require_member(&org.id)?;
    let can_manage = caller
        .require_role(&org.id, Role::can_manage_members)
        .is_ok();
    let can_edit = caller
        .require_role(&org.id, Role::can_edit_registry)
        .is_ok();
    let mut my_roles: Vec<&str> = caller.roles_in(&org.id).map(Role::as_str).collect();
    if caller.is_platform_admin() {
        my_roles.push("platform admin");
    }
    let (members, invitations) = if can_manage {
        let now = state.clock.now();
        let members = state
            .store
            .members(&org.id)
            .await?
            .into_iter()
            .map(|m| MemberRow {
                is_self: m.user_id == caller.user_id(),
                options: options(&ROLES, m.role.as_str()),
                member: m,
            })
            .collect();
        let invitations = state
            .store
            .invitations(&org.id)
            .await?
            .into_iter()
            .filter(|i| i.accepted_at.is_none() && i.revoked_at.is_none() && i.expires_at > now)
            .collect();
        (members, invitations)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(OrgPage {
        chrome: viewer.chrome,
        org,
        my_roles: my_roles.join(", "),
        can_manage,
        can_edit,
        members,
        invitations,
        invite_roles: options(&ROLES, "learner"),
        notice: None,
        invite_error: None,
        invite_email: String::new(),
        invite_link: None,
        role_error: None,
    })
}

/// The invitation form.
#[derive(Debug, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// `POST /orgs/{slug}/invitations`: an admin invites someone; the page shows the one-time
/// link (it is not stored, so this answer is the only place it appears).
pub async fn invite(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<InviteForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer
        .caller
        .require_role(&org.id, Role::can_manage_members)?;
    let user_id = viewer.caller.user_id().to_owned();
    let result = async {
        let email = Email::parse(form.email.trim())?;
        let role = Role::parse(&form.role)?;
        let token = new_secret("")?;
        let now = state.clock.now();
        state
            .store
            .create_invitation(
                &NewInvitation {
                    org_id: org.id.clone(),
                    email: email.as_str().to_owned(),
                    role,
                    token_hash: hash_secret(&token),
                    created_by: user_id,
                    expires_at: now + chrono::Duration::hours(state.config.invitation_hours),
                },
                now,
            )
            .await?;
        Ok::<_, AppError>(format!(
            "{}/invitations/accept?token={token}",
            state.config.public_url.trim_end_matches('/')
        ))
    }
    .await;
    let (status, error, link) = match result {
        Ok(link) => (StatusCode::OK, None, Some(link)),
        Err(e) => {
            let (status, message) = form_problem(e)?;
            (status, Some(message), None)
        }
    };
    let mut page = org_page_data(&state, viewer, &slug).await?;
    if link.is_none() {
        page.invite_email = form.email;
        page.invite_roles = options(&ROLES, &form.role);
    }
    page.invite_error = error;
    page.invite_link = link;
    Ok(render(status, &page))
}

/// The change-role form of one member row.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `POST /orgs/{slug}/members/{user_id}/role`: replaces one of a member's roles with another.
/// An admin cannot take away their own admin role (that could leave nobody to manage the
/// organisation); another admin or a platform admin can.
pub async fn change_role(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, member_id)): Path<(String, String)>,
    PageForm(form): PageForm<RoleForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer
        .caller
        .require_role(&org.id, Role::can_manage_members)?;
    let result = async {
        let from = Role::parse(&form.from)?;
        let to = Role::parse(&form.to)?;
        if from == to {
            return Ok(());
        }
        if from == Role::Admin
            && member_id == viewer.caller.user_id()
            && !viewer.caller.is_platform_admin()
        {
            return Err(AppError::Validation {
                field: "role",
                reason: "you cannot remove your own admin role; ask another admin".into(),
            });
        }
        if !state.store.is_member(&org.id, &member_id).await? {
            return Err(AppError::NotFound);
        }
        state
            .store
            .add_membership(&org.id, &member_id, to, state.clock.now())
            .await?;
        state
            .store
            .remove_membership(&org.id, &member_id, from)
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/orgs/{slug}?done=role"))),
        Err(e) => {
            let (status, message) = form_problem(e)?;
            let mut page = org_page_data(&state, viewer, &slug).await?;
            page.role_error = Some(message);
            Ok(render(status, &page))
        }
    }
}
