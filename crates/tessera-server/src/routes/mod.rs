//! The routes, one module per area; each owns its `router()`. They are combined here with
//! utoipa-axum, so a route exists only together with its OpenAPI operation: the document at
//! `/api/v1/openapi.json` lists every route there is (the authorization matrix test relies on it).
//!
//! To add an area: write `routes/<area>.rs` with `pub fn router() -> OpenApiRouter<AppState>`
//! whose handlers carry `#[utoipa::path]`, merge it in [`api`], and add its rows to the matrix in
//! `tests/service_api.rs`.

use serde::Deserialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::AppError;
use crate::state::AppState;

pub mod badges;
pub mod bulk;
pub mod case;
pub mod credentials;
pub mod dashboards;
pub mod did;
pub mod equity;
pub mod evidence;
pub mod issuing;
pub mod mastery;
pub mod ops;
pub mod orgs;
pub mod registry;
pub mod reviews;
pub mod rights;
pub mod rubrics;
pub mod session;
pub mod setup;
pub mod sharing;
pub mod transcripts;
pub mod verify;

/// The OpenAPI document's fixed parts; the paths come from the routers.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera API", description = "Competency registry, accounts and credentials."),
    modifiers(&Security),
    components(schemas(crate::error::ProblemDoc)),
    tags(
        (name = "ops", description = "Health, metrics and this document"),
        (name = "accounts", description = "Setup, login, organisations, members, invitations, API tokens"),
        (name = "registry", description = "Frameworks and competencies")
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
                utoipa::openapi::security::ApiKeyValue::new(crate::auth::SESSION_COOKIE),
            )),
        );
    }
}

/// Every route with its documentation.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::router())
        .merge(setup::router())
        .merge(session::router())
        .merge(orgs::router())
        .merge(registry::router())
        .merge(case::router())
        .merge(rubrics::router())
        .merge(evidence::router())
        .merge(equity::router())
        .merge(reviews::router())
        .merge(mastery::router())
        .merge(credentials::router())
        .merge(dashboards::router())
        .merge(badges::router())
        .merge(sharing::router())
        .merge(bulk::router())
        .merge(did::router())
        .merge(verify::router())
        .merge(rights::router())
        .merge(transcripts::router())
}

/// Paging for list endpoints: `limit` (1–500, default 50) and `offset`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// How many items (1–500, default 50).
    pub limit: Option<u32>,
    /// How many items to skip (default 0).
    pub offset: Option<u32>,
}

/// The largest page.
pub const MAX_PAGE: u32 = 500;

impl PageQuery {
    /// The checked (limit, offset).
    pub fn bounds(&self) -> Result<(i64, i64), AppError> {
        let limit = self.limit.unwrap_or(50);
        if limit == 0 || limit > MAX_PAGE {
            return Err(AppError::InvalidParameter(format!(
                "limit must be 1 to {MAX_PAGE}"
            )));
        }
        Ok((i64::from(limit), i64::from(self.offset.unwrap_or(0))))
    }
}

/// Reads an optional-and-nullable JSON field: absent → `None` (keep), `null` → `Some(None)`
/// (clear), a value → `Some(Some(v))`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
