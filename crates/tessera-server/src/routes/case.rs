//! CASE 1.0/1.1 in the service: import and export under `/api/v1`, and the public CASE 1.1 read
//! API under `/ims/case/v1p1` so other CASE consumers can read our frameworks.
//!
//! - `POST /api/v1/orgs/{slug}/case-packages`: import a CFPackage (the request body). Admins and
//!   teachers of the organisation. The package is validated by `tessera-case` (Tessera's CASE
//!   JSON Schema plus semantic rules) and written in one transaction; re-importing the same
//!   CFDocument updates it. An invalid package is a 422 problem+json with code
//!   `case-invalid-package` and an `errors` list of `{path, rule, message}`, and writes nothing.
//!   The body may be up to `import_max_body_bytes` (64 MiB by default), not the general 1 MiB.
//! - `GET /api/v1/frameworks/{id}/case-package`: the framework as a CFPackage. Members.
//! - `GET /ims/case/v1p1/CFDocuments` (paging with `limit`/`offset`, `X-Total-Count`, `Link`),
//!   `/CFDocuments/{id}`, `/CFPackages/{id}`, `/CFItems/{id}`, `/CFAssociations/{id}`: public,
//!   active frameworks only; errors are CASE `imsx_StatusInfo` payloads as the binding requires.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tessera_case::rest::{self, Paging, StatusInfo};
use tessera_case::{CaseError, ValidationOptions};
use tessera_core::account::Role;
use tessera_store::StoreError;
use tessera_store::case::CaseImportReport;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{AppError, PROBLEM_TYPE_PREFIX, ProblemDoc};
use crate::extract::AppPath;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_package))
        .routes(routes!(export_package))
        .routes(routes!(cf_documents))
        .routes(routes!(cf_document))
        .routes(routes!(cf_package))
        .routes(routes!(cf_item))
        .routes(routes!(cf_association))
}

/// The outcome of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    /// The framework (CFDocument identifier).
    pub framework_id: String,
    /// `true` when the framework is new, `false` when an existing one was updated.
    pub created: bool,
    /// The framework's revision after the import.
    pub revision: i64,
    /// The CASE version the package was validated against (`1.0` or `1.1`).
    pub case_version: String,
    /// Competencies written.
    pub competencies: usize,
    /// Competencies no longer in the package, now retired.
    pub retired: usize,
    /// Associations written.
    pub associations: usize,
    /// Rubrics written.
    pub rubrics: usize,
}

/// Errors of the import route: the app's own, or an invalid package with its violation list.
enum ImportError {
    App(AppError),
    Case(CaseError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        Self::App(e.into())
    }
}

#[derive(Serialize)]
struct ViolationDoc<'a> {
    path: &'a str,
    rule: String,
    message: &'a str,
}

impl IntoResponse for ImportError {
    fn into_response(self) -> Response {
        let e = match self {
            Self::App(e) => return e.into_response(),
            Self::Case(e) => e,
        };
        let (status, title, version, truncated) = match &e {
            CaseError::Json { .. } => {
                (StatusCode::BAD_REQUEST, "The body is not JSON", None, false)
            }
            CaseError::Invalid {
                version, truncated, ..
            } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "The CASE package is not valid",
                Some(version.as_str()),
                *truncated,
            ),
            CaseError::Serialize(_) => {
                return AppError::Internal(Box::new(e)).into_response();
            }
        };
        let errors: Vec<ViolationDoc<'_>> = e
            .violations()
            .iter()
            .map(|v| ViolationDoc {
                path: &v.path,
                rule: v.rule.code(),
                message: &v.message,
            })
            .collect();
        let body = serde_json::json!({
            "type": format!("{PROBLEM_TYPE_PREFIX}{}", e.code()),
            "code": e.code(),
            "title": title,
            "status": status.as_u16(),
            "detail": e.to_string(),
            "case_version": version,
            "errors": errors,
            "truncated": truncated,
        });
        let mut response = (status, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// Imports a CASE 1.0 or 1.1 CFPackage into the organisation (or updates the framework with
/// the same CFDocument identifier). Admins and teachers.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/case-packages", tag = "registry",
    params(("slug" = String, Path)),
    request_body(content = String, description = "A CASE CFPackage (JSON)", content_type = "application/json"),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = ImportResponse, description = "A new framework"),
        (status = 200, body = ImportResponse, description = "An existing framework was updated"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn import_package(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<(StatusCode, axum::Json<ImportResponse>), ImportError> {
    let org = state
        .store
        .org_by_slug(&slug)
        .await
        .map_err(AppError::from)?;
    caller.require_role(&org.id, Role::can_edit_registry)?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let mime = v.split(';').next().unwrap_or("").trim();
            mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
        });
    if !json {
        return Err(AppError::UnsupportedMediaType.into());
    }
    // The general body limit is 1 MiB; frameworks are bigger, so this route reads the raw body
    // under its own limit.
    let bytes = axum::body::to_bytes(body, state.config.import_max_body_bytes)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    // Parsing and validating 5,000 items takes a noticeable slice of a core: off the reactor.
    let framework = tokio::task::spawn_blocking(move || {
        tessera_case::import(&bytes, &ValidationOptions::default())
    })
    .await
    .map_err(AppError::internal)?
    .map_err(ImportError::Case)?;
    let version = framework.case_version.as_str().to_owned();
    let report: CaseImportReport = state
        .store
        .import_case(&org.id, &framework, state.clock.now())
        .await?;
    tracing::info!(
        framework = %report.framework_id,
        created = report.created,
        competencies = report.competencies,
        "CASE package imported"
    );
    let status = if report.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(ImportResponse {
            framework_id: report.framework_id,
            created: report.created,
            revision: report.revision,
            case_version: version,
            competencies: report.competencies,
            retired: report.retired,
            associations: report.associations,
            rubrics: report.rubrics,
        }),
    ))
}

fn json_response(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A framework as a CASE CFPackage (its own CASE version). Members of the organisation.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/case-package", tag = "registry",
    params(("id" = String, Path)), security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "A CASE CFPackage", content_type = "application/json"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn export_package(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
) -> Result<Response, AppError> {
    let id = id.to_lowercase();
    let org_id = state.store.framework_org(&id).await?;
    caller.require_member(&org_id)?;
    let framework = state.store.export_case(&id).await?;
    let bytes =
        tessera_case::to_json(&tessera_case::export(&framework)).map_err(AppError::internal)?;
    Ok(json_response(StatusCode::OK, bytes))
}

/// A CASE error payload with its status.
fn status_info(info: StatusInfo) -> Response {
    let status =
        StatusCode::from_u16(info.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let bytes = serde_json::to_vec(&info).unwrap_or_default();
    json_response(status, bytes)
}

/// Store errors on the public read API, as CASE payloads. Internal causes are logged, not sent.
fn read_error(e: StoreError, id: &str) -> Response {
    match e {
        StoreError::NotFound => status_info(StatusInfo::unknown_object(id)),
        other => {
            tracing::error!(error = %other, "CASE read API");
            status_info(StatusInfo::internal_server_error())
        }
    }
}

/// Lower-case UUID for lookups, or the CASE "Invalid UUID" answer.
fn sourced_id(raw: &str) -> Result<String, StatusInfo> {
    tessera_case::check::parse_case_uuid(raw)
        .map(|u| u.to_string())
        .ok_or_else(|| StatusInfo::invalid_uuid(raw))
}

fn serialize<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => json_response(StatusCode::OK, bytes),
        Err(e) => {
            tracing::error!(error = %e, "CASE read API serialisation");
            status_info(StatusInfo::internal_server_error())
        }
    }
}

/// CASE 1.1 `getAllCFDocuments`: the active frameworks of every organisation, by title.
/// `limit` (default 100, at most 1,000) and `offset`; `X-Total-Count` and `Link` headers.
#[utoipa::path(get, path = "/ims/case/v1p1/CFDocuments", tag = "case",
    params(("limit" = Option<u64>, Query), ("offset" = Option<u64>, Query)),
    responses((status = 200, description = "CFDocumentSet", content_type = "application/json"),
        (status = 400, description = "imsx_StatusInfo (invalid_selection_field)", content_type = "application/json")))]
#[tracing::instrument(skip_all)]
async fn cf_documents(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(other) = query.keys().find(|k| *k != "limit" && *k != "offset") {
        return status_info(StatusInfo::invalid_selection_field(
            other,
            "only limit and offset are supported on this service",
        ));
    }
    let paging = match Paging::parse(
        query.get("limit").map(String::as_str),
        query.get("offset").map(String::as_str),
    ) {
        Ok(p) => p,
        Err(info) => return status_info(info),
    };
    let (limit, offset) = (
        i64::try_from(paging.limit).unwrap_or(i64::MAX),
        i64::try_from(paging.offset).unwrap_or(i64::MAX),
    );
    let (documents, total) = match state.store.case_documents(limit, offset).await {
        Ok(v) => v,
        Err(e) => return read_error(e, "CFDocuments"),
    };
    let base = state.config.public_url.trim_end_matches('/').to_owned();
    let documents = documents
        .iter()
        .map(|d| {
            rest::document_payload(
                d,
                &format!("{base}/ims/case/v1p1/CFPackages/{}", d.identifier),
            )
        })
        .collect();
    let mut response = serialize(&rest::CfDocumentSet { documents });
    let total = u64::try_from(total).unwrap_or(0);
    let link = paging.link_header(&format!("{base}/ims/case/v1p1/CFDocuments"), total);
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        response.headers_mut().insert("x-total-count", v);
    }
    if let Ok(v) = HeaderValue::from_str(&link) {
        response.headers_mut().insert(header::LINK, v);
    }
    response
}

/// CASE 1.1 `getCFDocument`.
#[utoipa::path(get, path = "/ims/case/v1p1/CFDocuments/{sourcedId}", tag = "case",
    params(("sourcedId" = String, Path)),
    responses((status = 200, description = "CFDocument", content_type = "application/json"),
        (status = 404, description = "imsx_StatusInfo (unknownobject, invaliduuid)", content_type = "application/json")))]
#[tracing::instrument(skip_all)]
async fn cf_document(State(state): State<AppState>, AppPath(raw): AppPath<String>) -> Response {
    let id = match sourced_id(&raw) {
        Ok(id) => id,
        Err(info) => return status_info(info),
    };
    match state.store.case_document(&id).await {
        Ok(doc) => {
            let base = state.config.public_url.trim_end_matches('/');
            serialize(&rest::document_payload(
                &doc,
                &format!("{base}/ims/case/v1p1/CFPackages/{id}"),
            ))
        }
        Err(e) => read_error(e, &raw),
    }
}

/// CASE 1.1 `getCFPackage`: the whole framework.
#[utoipa::path(get, path = "/ims/case/v1p1/CFPackages/{sourcedId}", tag = "case",
    params(("sourcedId" = String, Path)),
    responses((status = 200, description = "CFPackage", content_type = "application/json"),
        (status = 404, description = "imsx_StatusInfo (unknownobject, invaliduuid)", content_type = "application/json")))]
#[tracing::instrument(skip_all)]
async fn cf_package(State(state): State<AppState>, AppPath(raw): AppPath<String>) -> Response {
    let id = match sourced_id(&raw) {
        Ok(id) => id,
        Err(info) => return status_info(info),
    };
    match state.store.export_case(&id).await {
        Ok(framework) => match tessera_case::to_json(&tessera_case::export(&framework)) {
            Ok(bytes) => json_response(StatusCode::OK, bytes),
            Err(e) => {
                tracing::error!(error = %e, "CASE export");
                status_info(StatusInfo::internal_server_error())
            }
        },
        Err(e) => read_error(e, &raw),
    }
}

/// CASE 1.1 `getCFItem`.
#[utoipa::path(get, path = "/ims/case/v1p1/CFItems/{sourcedId}", tag = "case",
    params(("sourcedId" = String, Path)),
    responses((status = 200, description = "CFItem", content_type = "application/json"),
        (status = 404, description = "imsx_StatusInfo (unknownobject, invaliduuid)", content_type = "application/json")))]
#[tracing::instrument(skip_all)]
async fn cf_item(State(state): State<AppState>, AppPath(raw): AppPath<String>) -> Response {
    let id = match sourced_id(&raw) {
        Ok(id) => id,
        Err(info) => return status_info(info),
    };
    match state.store.case_item(&id).await {
        Ok((item, document)) => serialize(&rest::item_payload(&item, &document)),
        Err(e) => read_error(e, &raw),
    }
}

/// CASE 1.1 `getCFAssociation`.
#[utoipa::path(get, path = "/ims/case/v1p1/CFAssociations/{sourcedId}", tag = "case",
    params(("sourcedId" = String, Path)),
    responses((status = 200, description = "CFAssociation", content_type = "application/json"),
        (status = 404, description = "imsx_StatusInfo (unknownobject, invaliduuid)", content_type = "application/json")))]
#[tracing::instrument(skip_all)]
async fn cf_association(State(state): State<AppState>, AppPath(raw): AppPath<String>) -> Response {
    let id = match sourced_id(&raw) {
        Ok(id) => id,
        Err(info) => return status_info(info),
    };
    match state.store.case_association(&id).await {
        Ok((association, document)) => {
            serialize(&rest::association_payload(&association, &document))
        }
        Err(e) => read_error(e, &raw),
    }
}
