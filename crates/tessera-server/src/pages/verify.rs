//! The public verify page (`/verify`): anyone pastes a credential or uploads a file (JSON, or a
//! baked PNG or SVG badge) and sees each named check in plain words. Same reading and the same
//! verification as `POST /api/v1/verify` ([`crate::routes::verify`]); works without JavaScript
//! (a multipart form; a urlencoded one with `credential` works too).
//!
//! No CSRF token: the form is anonymous, changes nothing and shows its answer only to whoever
//! sent it. Abuse is bounded by the upload limit and the verifier's own fetch limits.

use askama::Template;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use tessera_vc::{CheckCode, CheckStatus, VerificationReport};

use super::{Chrome, MaybeViewer, PageError, PageRoute, render};
use crate::error::AppError;
use crate::routes::verify::service::{MAX_UPLOAD_BYTES, Verdict};
use crate::routes::verify::{VerifyProblem, read_upload, verify_upload};
use crate::state::AppState;

/// Pasted text longer than this is not written back into the form.
const ECHO_LIMIT: usize = 64 * 1024;

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    chrome: Chrome,
    error: Option<String>,
    result: Option<ResultView>,
    pasted: String,
    limit_mib: usize,
}

struct ResultView {
    headline: &'static str,
    class: &'static str,
    summary: String,
    name: Option<String>,
    issuer: Option<String>,
    id: Option<String>,
    format: &'static str,
    checks: Vec<CheckView>,
    embedded: Vec<EmbeddedView>,
    transcript: Option<TranscriptSummary>,
}

/// What a verified (or not) CLR transcript says, read from its signed JSON.
struct TranscriptSummary {
    learner: String,
    title: String,
    issuer: String,
    issued: String,
    period: Option<String>,
    partial: bool,
    mastered: u64,
    in_progress: u64,
    rows: Vec<TranscriptRow>,
}

struct TranscriptRow {
    area: String,
    code: String,
    name: String,
    level: String,
    started: String,
    mastered: String,
    attempts: u64,
    /// This competency's credential failed verification.
    failed: bool,
}

struct CheckView {
    code: &'static str,
    label: &'static str,
    word: &'static str,
    class: &'static str,
    message: String,
    details: Vec<String>,
}

struct EmbeddedView {
    path: String,
    id: Option<String>,
    name: Option<String>,
    word: &'static str,
    class: &'static str,
    problems: String,
}

fn page(chrome: Chrome) -> VerifyPage {
    VerifyPage {
        chrome,
        error: None,
        result: None,
        pasted: String::new(),
        limit_mib: MAX_UPLOAD_BYTES / (1024 * 1024),
    }
}

fn chrome(viewer: MaybeViewer) -> Chrome {
    viewer.0.map_or_else(Chrome::anonymous, |v| v.chrome)
}

/// `POST /verify`, with the upload limit of the API (not the general form limit, and not
/// unlimited like the other uploads: this form is open to anyone).
pub(super) fn post_route() -> PageRoute {
    PageRoute {
        method: Method::POST,
        path: "/verify",
        handler: post(verify).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    }
}

/// `GET /verify`: the empty form.
pub async fn form(viewer: MaybeViewer) -> Response {
    render(StatusCode::OK, &page(chrome(viewer)))
}

/// `POST /verify`: the verdict with every check, or the form again with what went wrong.
pub async fn verify(
    State(state): State<AppState>,
    viewer: MaybeViewer,
    request: Request,
) -> Result<Response, PageError> {
    let mut view = page(chrome(viewer));
    let upload = match read_form(&state, request).await {
        Ok(bytes) => bytes,
        Err(problem) => return Ok(problem_page(view, problem)),
    };
    if upload.len() <= ECHO_LIMIT
        && tessera_bake::sniff(&upload) == tessera_bake::Format::Json
        && let Ok(text) = std::str::from_utf8(&upload)
    {
        view.pasted = text.to_owned();
    }
    match verify_upload(&state, &upload).await {
        Ok(verdict) => {
            view.result = Some(result_view(&verdict));
            Ok(render(StatusCode::OK, &view))
        }
        Err(problem) => Ok(problem_page(view, problem)),
    }
}

/// The upload: a multipart form through the API's reader, or a urlencoded `credential` field.
async fn read_form(state: &AppState, request: Request) -> Result<Vec<u8>, VerifyProblem> {
    let urlencoded = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !urlencoded {
        return read_upload(state, request).await;
    }
    let body = axum::body::to_bytes(request.into_body(), MAX_UPLOAD_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let credential = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "credential")
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default();
    if credential.trim_ascii().is_empty() {
        return Err(crate::routes::verify::service::VerifyError::NotACredential(
            "nothing was sent: paste a credential or choose a file".into(),
        )
        .into());
    }
    Ok(credential)
}

fn problem_page(mut view: VerifyPage, problem: VerifyProblem) -> Response {
    let status = match problem.code() {
        "payload-too-large" => StatusCode::PAYLOAD_TOO_LARGE,
        "internal" | "unavailable" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    view.error = Some(match problem.code() {
        "payload-too-large" => format!(
            "This is too large: a credential or badge image may be at most {} MiB.",
            view.limit_mib
        ),
        _ => format!("This could not be checked: {}", problem.detail()),
    });
    render(status, &view)
}

fn label(code: CheckCode) -> &'static str {
    match code {
        CheckCode::Json => "Readable credential",
        CheckCode::Contexts => "Known vocabularies",
        CheckCode::SafeMode => "Every term defined",
        CheckCode::Proof => "Signature",
        CheckCode::IssuerBinding => "Signed by the issuer",
        CheckCode::ValidityPeriod => "Dates of validity",
        CheckCode::Status => "Revocation and suspension",
        CheckCode::Shape => "Structure",
        CheckCode::EmbeddedCredentials => "Credentials inside",
        _ => "Other check",
    }
}

fn word(status: CheckStatus) -> (&'static str, &'static str) {
    match status {
        CheckStatus::Passed => ("Passed", "st-ok"),
        CheckStatus::Failed => ("Failed", "st-notyet"),
        CheckStatus::Warning => ("Warning", "st-wait"),
        CheckStatus::NotChecked => ("Not checked", "st-none"),
    }
}

fn result_view(verdict: &Verdict) -> ResultView {
    let report = &verdict.report;
    let (headline, class, summary) = match verdict.verdict {
        "verified" => (
            "Verified",
            "ok",
            "The signature is the issuer's, nothing was changed since it was signed, and every check passed.".to_owned(),
        ),
        "verified_with_warnings" => (
            "Verified, with warnings",
            "note",
            "The signature is the issuer's and nothing was changed since it was signed, but some checks could not be completed: read the warnings below.".to_owned(),
        ),
        _ => (
            "Not verified",
            "error",
            format!(
                "Do not rely on this credential: {} failed.",
                failed_labels(report)
            ),
        ),
    };
    ResultView {
        headline,
        class,
        summary,
        name: verdict.name.clone(),
        issuer: report.issuer.clone(),
        id: report.id.clone(),
        format: match verdict.format {
            "png" => "a baked PNG badge",
            "svg" => "a baked SVG badge",
            "pdf" => "a transcript PDF (the signed transcript attached to it was checked)",
            _ => "JSON",
        },
        checks: report
            .checks
            .iter()
            .map(|c| {
                let (word, class) = word(c.status);
                CheckView {
                    code: c.code.as_str(),
                    label: label(c.code),
                    word,
                    class,
                    message: c.message.clone(),
                    details: c.details.clone(),
                }
            })
            .collect(),
        embedded: report
            .embedded
            .iter()
            .map(|e| {
                let (word, class) = if e.report.verified {
                    ("Verified", "st-ok")
                } else {
                    ("Not verified", "st-notyet")
                };
                EmbeddedView {
                    name: verdict
                        .failed_credentials
                        .iter()
                        .find(|f| f.path == e.path)
                        .and_then(|f| f.name.clone()),
                    path: e.path.clone(),
                    id: e.report.id.clone(),
                    word,
                    class,
                    problems: e
                        .report
                        .failed()
                        .into_iter()
                        .map(label)
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })
            .collect(),
        transcript: verdict
            .transcript
            .as_ref()
            .map(|t| transcript_summary(t, verdict)),
    }
}

fn day(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn transcript_summary(
    t: &tessera_transcript::TranscriptView,
    verdict: &Verdict,
) -> TranscriptSummary {
    let failed_ids: Vec<&str> = verdict
        .failed_credentials
        .iter()
        .filter_map(|f| f.id.as_deref())
        .collect();
    TranscriptSummary {
        learner: t.learner_name.clone(),
        title: t.title.clone(),
        issuer: t.issuer_name.clone(),
        issued: day(Some(t.issued_at)),
        period: t
            .period_start
            .map(|s| format!("{} to {}", day(Some(s)), day(t.period_end))),
        partial: t.partial,
        mastered: t.pacing.mastered,
        in_progress: t.pacing.in_progress,
        rows: t
            .areas
            .iter()
            .flat_map(|a| {
                a.competencies.iter().map(|c| TranscriptRow {
                    area: a.name.clone(),
                    code: c.code.clone().unwrap_or_default(),
                    name: c.name.clone(),
                    level: c.level.clone().unwrap_or_else(|| {
                        if c.mastered_at.is_some() {
                            "Mastered".into()
                        } else {
                            "In progress".into()
                        }
                    }),
                    started: day(c.first_activity),
                    mastered: day(c.mastered_at),
                    attempts: c.attempts,
                    failed: c
                        .credential_id
                        .as_deref()
                        .is_some_and(|id| failed_ids.contains(&id)),
                })
            })
            .collect(),
    }
}

fn failed_labels(report: &VerificationReport) -> String {
    let failed: Vec<&str> = report.failed().into_iter().map(label).collect();
    if failed.is_empty() {
        // Not verified without a failed check: the proof was not checked.
        label(CheckCode::Proof).to_owned()
    } else {
        failed.join(", ")
    }
}
