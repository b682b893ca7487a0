//! `POST /api/v1/verify`: anyone (no account) verifies a credential.
//!
//! The body is the credential as JSON, a baked badge or a transcript PDF as a raw upload
//! (`image/png`, `image/svg+xml`, `application/pdf`, `application/octet-stream`), or `multipart/form-data` with a `file` (or a
//! `credential` text field). The answer is the verdict with every named check (200), whether
//! the credential verified or not; a problem+json is kept for input that could not be processed
//! at all (not a credential, an image without one, over a limit) — never mixed with a verdict.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, State};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{AppError, PROBLEM_TYPE_PREFIX, ProblemDoc};
use crate::state::AppState;

pub mod local;
pub mod service;

use service::{MAX_UPLOAD_BYTES, Verdict, VerifyError};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify))
        // Uploads are bigger than the general body limit; `read_upload` enforces its own.
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
}

/// Why an upload could not be verified, as problem+json with a stable code.
#[derive(Debug)]
pub enum VerifyProblem {
    /// The general problems (413 `payload-too-large`, 400 …).
    App(AppError),
    /// 422 with one of the verification codes.
    Unprocessable(&'static str, &'static str, String),
}

impl From<AppError> for VerifyProblem {
    fn from(e: AppError) -> Self {
        VerifyProblem::App(e)
    }
}

impl From<VerifyError> for VerifyProblem {
    fn from(e: VerifyError) -> Self {
        use tessera_bake::BakeError;
        let (code, title) = match &e {
            VerifyError::NotACredential(_) => ("not-a-credential", "Not a credential"),
            VerifyError::Bake(BakeError::NoCredential(_)) => {
                ("no-baked-credential", "No credential in the image")
            }
            VerifyError::Bake(BakeError::SeveralCredentials(_)) => (
                "several-baked-credentials",
                "More than one credential in the image",
            ),
            VerifyError::Bake(BakeError::NotSvg(_)) => ("not-a-credential", "Not a credential"),
            VerifyError::Bake(_) => ("damaged-image", "Damaged badge image"),
            VerifyError::Pdf(tessera_render::Error::NoAttachment(_)) => (
                "no-attached-transcript",
                "No transcript attached to the PDF",
            ),
            VerifyError::Pdf(_) => ("damaged-pdf", "Damaged or unreadable PDF"),
            VerifyError::VcJwt => (
                "unsupported-credential-format",
                "Unsupported credential format",
            ),
            VerifyError::CannotProcess(_) => {
                ("cannot-process", "Credential could not be processed")
            }
        };
        VerifyProblem::Unprocessable(code, title, e.to_string())
    }
}

impl VerifyProblem {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyProblem::App(e) => e.code(),
            VerifyProblem::Unprocessable(code, ..) => code,
        }
    }

    /// What went wrong, for a person.
    pub fn detail(&self) -> String {
        match self {
            VerifyProblem::App(e) => e.to_string(),
            VerifyProblem::Unprocessable(_, _, detail) => detail.clone(),
        }
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    type_: String,
    code: &'a str,
    title: &'a str,
    status: u16,
    detail: &'a str,
}

impl IntoResponse for VerifyProblem {
    fn into_response(self) -> Response {
        match self {
            VerifyProblem::App(e) => e.into_response(),
            VerifyProblem::Unprocessable(code, title, detail) => {
                let status = StatusCode::UNPROCESSABLE_ENTITY;
                let body = serde_json::to_vec(&Problem {
                    type_: format!("{PROBLEM_TYPE_PREFIX}{code}"),
                    code,
                    title,
                    status: status.as_u16(),
                    detail: &detail,
                })
                .unwrap_or_default();
                let mut response = (status, body).into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/problem+json"),
                );
                response
            }
        }
    }
}

/// The body of an upload: the raw bytes, or the `file` / `credential` part of a form.
pub async fn read_upload(
    state: &AppState,
    request: Request<Body>,
) -> Result<Vec<u8>, VerifyProblem> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES as u64) {
        return Err(AppError::PayloadTooLarge.into());
    }
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let bytes = if is_multipart {
        let mut form = Multipart::from_request(request, state)
            .await
            .map_err(|e| multipart_error(e.status(), e.body_text()))?;
        let mut found = Vec::new();
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| multipart_error(e.status(), e.body_text()))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            if name != "file" && name != "credential" {
                continue;
            }
            let data = field
                .bytes()
                .await
                .map_err(|e| multipart_error(e.status(), e.body_text()))?;
            if found.is_empty() && !data.trim_ascii().is_empty() {
                found = data.to_vec();
            }
        }
        found
    } else {
        axum::body::to_bytes(request.into_body(), MAX_UPLOAD_BYTES)
            .await
            .map_err(|_| AppError::PayloadTooLarge)?
            .to_vec()
    };
    if bytes.trim_ascii().is_empty() {
        return Err(VerifyError::NotACredential(
            "nothing was sent: paste a credential or choose a file".into(),
        )
        .into());
    }
    Ok(bytes)
}

fn multipart_error(status: StatusCode, text: String) -> VerifyProblem {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge.into()
    } else {
        AppError::InvalidParameter(format!("the form upload is malformed: {text}")).into()
    }
}

/// Verifies `upload` with the app's verifier: our own documents from the store, others' over
/// the network. The same call serves the API and the verify page.
pub async fn verify_upload(state: &AppState, upload: &[u8]) -> Result<Verdict, VerifyProblem> {
    let local = local::StoreDocuments::new(state);
    Ok(state
        .verifier
        .verify(
            upload,
            state.clock.as_ref(),
            &state.config.public_url,
            &local,
        )
        .await?)
}

/// A verdict, for the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerdictDoc {
    /// `verified`, `verified_with_warnings` or `not_verified`.
    pub verdict: String,
    /// `json`, `png`, `svg` or `pdf`: what the credential came in.
    pub format: String,
    /// True when the proof passed and no check failed.
    pub verified: bool,
    /// The credential's id.
    pub id: Option<String>,
    /// The issuer's id.
    pub issuer: Option<String>,
    /// The credential's types.
    pub types: Vec<String>,
    /// The named checks, in a fixed order.
    pub checks: Vec<CheckDoc>,
    /// For a CLR transcript: what it says (learner name, areas, competencies with level, first
    /// activity, mastery date and attempts, the pace), read from the signed JSON.
    pub transcript: Option<serde_json::Value>,
    /// For a CLR transcript: the embedded credentials that did not verify (`path`, `id`,
    /// `name`, `failed_checks`).
    pub failed_credentials: Vec<serde_json::Value>,
}

/// One named check.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckDoc {
    /// `json`, `contexts`, `safe_mode`, `proof`, `issuer_binding`, `validity_period`, `status`,
    /// `shape`, `embedded_credentials`.
    pub code: String,
    /// `passed`, `failed`, `warning` or `not_checked`.
    pub status: String,
    /// One sentence for a person.
    pub message: String,
    /// Itemized findings.
    pub details: Vec<String>,
}

/// Verify a credential: JSON, a baked PNG or SVG badge, or a mastery transcript PDF (through the
/// signed CLR attached to it; the answer then also carries `transcript`, what it says, and
/// `failed_credentials`, the embedded ones that fail, by name), raw or as a form upload. No account
/// needed. A 200 carries the verdict whether or not the credential verified.
#[utoipa::path(
    post,
    path = "/api/v1/verify",
    tag = "verify",
    request_body(
        description = "The credential (application/json), a baked badge (image/png, image/svg+xml), a transcript PDF (application/pdf), or multipart/form-data with `file` or `credential`",
        content_type = "application/json",
        content = serde_json::Value
    ),
    responses(
        (status = 200, description = "The verdict and every named check", body = VerdictDoc),
        (status = 413, description = "Over the upload limit (32 MiB)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Not a credential, an image without one, a PDF without an attached transcript (`no-attached-transcript`), damaged, or over a processing limit", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn verify(
    State(state): State<AppState>,
    request: Request<Body>,
) -> Result<Response, VerifyProblem> {
    let upload = read_upload(&state, request).await?;
    let verdict = verify_upload(&state, &upload).await?;
    let body = serde_json::to_vec(&verdict).map_err(AppError::internal)?;
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
