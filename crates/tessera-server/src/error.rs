//! The service's one error type and how it is shown.
//!
//! # Error policy
//! - Every failure a client sees is an RFC 9457 `application/problem+json` body with a stable
//!   `type` (`urn:tessera:problem:<code>`) and the same `code` as a member, so clients branch on
//!   the code, never on the wording of `title` or `detail`.
//! - Each variant's doc names its status and code; [`AppError::status`] and [`AppError::code`]
//!   are the only places they are decided.
//! - A 5xx body never carries internal text (SQL, paths, driver messages). The cause travels in
//!   the response's extensions as [`ErrorCause`] and is logged by
//!   [`crate::middleware::log_errors`] inside the request's trace span.
//! - Store and domain errors become `AppError` in one `From` each, below.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use tessera_core::DomainError;
use tessera_store::StoreError;
use tessera_store::gating::UnmetPrerequisite;

/// The problem type URI prefix; the code follows it.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:tessera:problem:";

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 `malformed-json`: the body is not JSON.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// 422 `invalid-body`: JSON of the wrong shape (wrong types, missing or unknown fields).
    #[error("the request body does not have the expected shape: {0}")]
    InvalidBody(String),
    /// 415 `unsupported-media-type`: the body is not declared as `application/json`.
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// 413 `payload-too-large`: the body is over the configured limit.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// 400 `invalid-parameter`: a path or query parameter does not parse.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// 422 `validation-failed`: a field has an unusable value.
    #[error("{field}: {reason}")]
    Validation {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// 422 `prerequisite-cycle`: the change would make prerequisites (or the hierarchy) cyclic.
    #[error("this would create a cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    /// 422 `invalid-reference`: the body points at something that does not exist or cannot be
    /// used here.
    #[error("{0}")]
    InvalidReference(&'static str),
    /// 401 `unauthenticated`: no valid session or API token.
    #[error("authentication required")]
    Unauthenticated,
    /// 401 `invalid-credentials`: wrong e-mail or password.
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    /// 403 `csrf-failed`: a cookie-authenticated change without the session's CSRF token.
    #[error("missing or wrong CSRF token")]
    CsrfFailed,
    /// 403 `forbidden`: authenticated but not allowed.
    #[error("you may not do this")]
    Forbidden,
    /// 404 `not-found`: no such thing, or not visible to the caller.
    #[error("not found")]
    NotFound,
    /// 400 `invalid-token`: a setup or invitation link that is unknown, used or expired.
    #[error("this link is invalid, used or expired")]
    InvalidToken,
    /// 409 `conflict`: taken, already done, or changed since it was read.
    #[error("{0}")]
    Conflict(&'static str),
    /// 429 `rate-limited`: too many attempts; retry after the given seconds.
    #[error("too many attempts; try again in {0} seconds")]
    RateLimited(u64),
    /// 503 `unavailable`: the database does not answer.
    #[error("the service is temporarily unavailable")]
    Unavailable,
    /// 415 `unsupported-evidence-type`: an evidence file of a media type that is not allowed,
    /// or whose bytes are not what it claims.
    #[error("{0}")]
    EvidenceTypeNotAllowed(String),
    /// 413 `payload-too-large`: an evidence file over the configured evidence limit (bytes).
    #[error("an evidence file may be at most {0} bytes")]
    EvidenceTooLarge(usize),
    /// 409 `prerequisites-not-mastered`: the competency's framework gates submissions and these
    /// prerequisites are not mastered (member `unmet`: id, code, statement, state of each).
    #[error("the prerequisites {} are not mastered yet", unmet_names(.0))]
    PrerequisitesNotMastered(Vec<UnmetPrerequisite>),
    /// 409 `second-reviewer-required`: the second review (or moderation) of a review must be
    /// by someone other than its earlier reviewers.
    #[error("{0}")]
    SameReviewer(&'static str),
    /// A review-domain rule, with its own status and code: 422 `invalid-rubric` (member
    /// `errors`: `FILE:LINE:COLUMN: message`), 409 `rubric-version-conflict` (`rubric`,
    /// `version`), 422 `rubric-not-for-competency` (`rubric`, `competency`), 422
    /// `invalid-review` (`problems`), 409 `invalid-transition` (`from`, `to`, `event`,
    /// `allowed_from`), 422 `reason-required`; any other review error is a 500 `internal`.
    #[error(transparent)]
    Review(tessera_review::Error),
    /// 500 `internal`: a bug or an infrastructure failure. The cause is logged, not shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn unmet_names(unmet: &[UnmetPrerequisite]) -> String {
    unmet
        .iter()
        .map(|u| u.code.clone().unwrap_or_else(|| u.id.clone()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Status, code and title of a review-domain error that is the client's; `None` for the rest.
fn review_problem(e: &tessera_review::Error) -> Option<(StatusCode, &'static str, &'static str)> {
    use tessera_review::Error as E;
    Some(match e {
        E::InvalidRubric(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-rubric",
            "Invalid rubric",
        ),
        E::VersionReused { .. } | E::VersionNotNewer { .. } => (
            StatusCode::CONFLICT,
            "rubric-version-conflict",
            "Rubric version conflict",
        ),
        E::CompetencyNotAssessed { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "rubric-not-for-competency",
            "Rubric does not assess this competency",
        ),
        E::InvalidReview { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-review",
            "Review does not fit the rubric",
        ),
        E::InvalidTransition { .. } => (
            StatusCode::CONFLICT,
            "invalid-transition",
            "Invalid mastery transition",
        ),
        E::ReasonRequired { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason-required",
            "A written reason is required",
        ),
        _ => return None,
    })
}

/// The extra problem members of a review-domain error.
fn review_members(e: &tessera_review::Error) -> Value {
    use tessera_review::Error as E;
    match e {
        E::InvalidRubric(diagnostics) => {
            let errors: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
            json!({ "errors": errors })
        }
        E::VersionReused { id, version, .. }
        | E::VersionNotNewer {
            id,
            offered: version,
            ..
        } => json!({ "rubric": id, "version": version }),
        E::CompetencyNotAssessed { rubric, competency } => {
            json!({ "rubric": rubric, "competency": competency })
        }
        E::InvalidReview { problems, .. } => json!({ "problems": problems }),
        E::InvalidTransition {
            from,
            to,
            event,
            allowed_from,
            ..
        } => json!({ "from": from, "to": to, "event": event, "allowed_from": allowed_from }),
        _ => Value::Null,
    }
}

/// The internal cause of a 5xx, carried in response extensions for logging.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub Arc<dyn std::error::Error + Send + Sync>);

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    type_: String,
    code: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cycle: Option<&'a [String]>,
}

impl AppError {
    /// Wraps any error as an internal one.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(e))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) | Self::InvalidParameter(_) | Self::InvalidToken => {
                StatusCode::BAD_REQUEST
            }
            Self::InvalidBody(_)
            | Self::Validation { .. }
            | Self::Cycle(_)
            | Self::InvalidReference(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthenticated | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::CsrfFailed | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::EvidenceTypeNotAllowed(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::EvidenceTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::PrerequisitesNotMastered(_) | Self::SameReviewer(_) => StatusCode::CONFLICT,
            Self::Review(e) => review_problem(e).map_or(StatusCode::INTERNAL_SERVER_ERROR, |p| p.0),
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine code (also the last part of the problem `type`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed-json",
            Self::InvalidBody(_) => "invalid-body",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::PayloadTooLarge => "payload-too-large",
            Self::InvalidParameter(_) => "invalid-parameter",
            Self::Validation { .. } => "validation-failed",
            Self::Cycle(_) => "prerequisite-cycle",
            Self::InvalidReference(_) => "invalid-reference",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid-credentials",
            Self::CsrfFailed => "csrf-failed",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not-found",
            Self::InvalidToken => "invalid-token",
            Self::Conflict(_) => "conflict",
            Self::RateLimited(_) => "rate-limited",
            Self::Unavailable => "unavailable",
            Self::EvidenceTypeNotAllowed(_) => "unsupported-evidence-type",
            Self::EvidenceTooLarge(_) => "payload-too-large",
            Self::PrerequisitesNotMastered(_) => "prerequisites-not-mastered",
            Self::SameReviewer(_) => "second-reviewer-required",
            Self::Review(e) => review_problem(e).map_or("internal", |p| p.1),
            Self::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "Malformed JSON",
            Self::InvalidBody(_) => "Invalid request body",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::PayloadTooLarge => "Request body too large",
            Self::InvalidParameter(_) => "Invalid parameter",
            Self::Validation { .. } => "Validation failed",
            Self::Cycle(_) => "Prerequisite cycle",
            Self::InvalidReference(_) => "Invalid reference",
            Self::Unauthenticated => "Authentication required",
            Self::InvalidCredentials => "Invalid credentials",
            Self::CsrfFailed => "CSRF check failed",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "Not found",
            Self::InvalidToken => "Invalid or expired link",
            Self::Conflict(_) => "Conflict",
            Self::RateLimited(_) => "Too many requests",
            Self::Unavailable => "Service unavailable",
            Self::EvidenceTypeNotAllowed(_) => "Evidence file type not allowed",
            Self::EvidenceTooLarge(_) => "Request body too large",
            Self::PrerequisitesNotMastered(_) => "Prerequisites not mastered",
            Self::SameReviewer(_) => "Another reviewer is required",
            Self::Review(e) => review_problem(e).map_or("Internal server error", |p| p.2),
            Self::Internal(_) => "Internal server error",
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (field, cycle) = match &self {
            Self::Validation { field, .. } => (Some(*field), None),
            Self::Cycle(c) => (None, Some(c.as_slice())),
            _ => (None, None),
        };
        // 5xx: a fixed sentence; the real cause goes to the log via the extension.
        let detail = if status.is_server_error() {
            self.title().to_owned()
        } else {
            self.to_string()
        };
        let problem = Problem {
            type_: format!("{PROBLEM_TYPE_PREFIX}{}", self.code()),
            code: self.code(),
            title: self.title(),
            status: status.as_u16(),
            detail,
            field,
            cycle,
        };
        let extra = match &self {
            Self::Review(e) => review_members(e),
            Self::PrerequisitesNotMastered(unmet) => json!({ "unmet": unmet }),
            _ => Value::Null,
        };
        let body = match (serde_json::to_value(&problem), extra) {
            (Ok(Value::Object(mut members)), Value::Object(extra)) => {
                members.extend(extra);
                serde_json::to_vec(&members).unwrap_or_default()
            }
            _ => serde_json::to_vec(&problem).unwrap_or_default(),
        };
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Self::RateLimited(secs) = &self
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let Self::Unauthenticated = &self {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        match self {
            Self::Internal(cause) => {
                response
                    .extensions_mut()
                    .insert(ErrorCause(Arc::from(cause)));
            }
            Self::Review(e) if status.is_server_error() => {
                response.extensions_mut().insert(ErrorCause(Arc::new(e)));
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::InvalidReference(what) => Self::InvalidReference(what),
            StoreError::Domain(d) => d.into(),
            StoreError::Review(r) => Self::Review(r),
            other => Self::internal(other),
        }
    }
}

impl From<tessera_review::Error> for AppError {
    fn from(e: tessera_review::Error) -> Self {
        Self::Review(e)
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, reason } => Self::Validation { field, reason },
            DomainError::Cycle { cycle } => Self::Cycle(cycle),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonSyntaxError(e) => Self::MalformedJson(e.body_text()),
            JsonRejection::JsonDataError(e) => Self::InvalidBody(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::PayloadTooLarge
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            other => Self::MalformedJson(other.body_text()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        Self::InvalidParameter(r.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        Self::InvalidParameter(r.body_text())
    }
}

/// The problem+json body, for the OpenAPI document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemDoc {
    /// `urn:tessera:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The stable machine code, e.g. `prerequisite-cycle`.
    pub code: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong in this case (generic for 5xx).
    pub detail: String,
    /// The field at fault, for `validation-failed`.
    pub field: Option<String>,
    /// The cycle, for `prerequisite-cycle`: labels in order, first repeated last.
    pub cycle: Option<Vec<String>>,
}
