//! Evidence: a learner submits text, links and files for a competency; each submission is an
//! attempt, and opens a pending review.
//!
//! The body is `multipart/form-data` (fields `rubric`, optional `rubric_version`, `text`,
//! repeated `link`, repeated `file`) or JSON (`{"rubric", "rubric_version", "text", "links"}`,
//! no files). Files are checked twice: the declared media type must be one of the allowed ones
//! and the bytes must look like it (magic numbers; text must be UTF-8), otherwise 415. Each file
//! may be at most `evidence_max_bytes` (`TESSERA_EVIDENCE_MAX_BYTES`), otherwise 413. Accepted
//! files are stored by SHA-256 under `<data_dir>/evidence/`, once per content.
//!
//! Mastery before progression: when the competency's framework gates prerequisites (the
//! default) and the learner has no exception, a submission while a prerequisite is not mastered
//! is refused with 409 `prerequisites-not-mastered`, naming each one.
//!
//! Only the learner themself, and the organisation's reviewers and teachers, may read a
//! learner's submissions or download their files; anyone else gets 404. A download is always an
//! attachment of its checked media type with `X-Content-Type-Options: nosniff`, so a file
//! crafted to look like HTML or script is never rendered in the service's origin.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, State};
use axum::http::{Request, StatusCode, header};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tessera_core::account::Role;
use tessera_store::evidence::{NewFile, NewSubmission, Submission};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Caller};
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath};
use crate::state::AppState;

/// The media types evidence files may have.
pub const ALLOWED_MEDIA_TYPES: [&str; 11] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/gif",
    "audio/mpeg",
    "video/mp4",
    "video/webm",
    "audio/ogg",
    "video/ogg",
    "text/plain",
];

/// Most links per submission, and longest link/text.
const MAX_LINKS: usize = 20;
const MAX_LINK_LEN: usize = 2048;
const MAX_TEXT_LEN: usize = 100_000;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_evidence))
        .routes(routes!(list_submissions))
        .routes(routes!(download_file))
        // Files are bigger than the general body limit; the handler enforces its own.
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// A submission without files.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonEvidence {
    /// The rubric id to be scored against (must assess the competency).
    pub rubric: String,
    /// Its version (default: the newest).
    pub rubric_version: Option<String>,
    /// Text evidence.
    pub text: Option<String>,
    /// Links (http or https).
    #[serde(default)]
    pub links: Vec<String>,
}

/// Does `bytes` look like `media_type`? (Magic numbers; text must be UTF-8 without NUL.)
pub fn content_matches(media_type: &str, bytes: &[u8]) -> bool {
    let starts = |m: &[u8]| bytes.starts_with(m);
    match media_type {
        "application/pdf" => starts(b"%PDF-"),
        "image/png" => starts(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => starts(&[0xFF, 0xD8, 0xFF]),
        "image/gif" => starts(b"GIF87a") || starts(b"GIF89a"),
        "image/webp" => starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP"),
        "audio/mpeg" => {
            starts(b"ID3") || (bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
        }
        "video/mp4" => bytes.get(4..8) == Some(b"ftyp"),
        "video/webm" => starts(&[0x1A, 0x45, 0xDF, 0xA3]),
        "audio/ogg" | "video/ogg" => starts(b"OggS"),
        "text/plain" => std::str::from_utf8(bytes).is_ok_and(|t| !t.contains('\0')),
        _ => false,
    }
}

fn unsupported(detail: String) -> AppError {
    AppError::EvidenceTypeNotAllowed(detail)
}

fn too_large(limit: usize) -> AppError {
    AppError::EvidenceTooLarge(limit)
}

/// Writes `bytes` at `<root>/evidence/<ab>/<sha256>` unless that content is already there.
pub(crate) fn store_blob(root: &Path, sha256: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let dir = root.join("evidence").join(&sha256[..2]);
    let path = dir.join(sha256);
    if path.exists() {
        return Ok(path);
    }
    std::fs::create_dir_all(&dir)?;
    // Write then rename, so a crash never leaves a partial file under the final name.
    let tmp = dir.join(format!("{sha256}.{}.tmp", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

struct Parsed {
    rubric: Option<String>,
    rubric_version: Option<String>,
    text: Option<String>,
    links: Vec<String>,
    files: Vec<(String, Option<String>, Vec<u8>)>,
}

async fn parse_multipart(mut mp: Multipart, limit: usize) -> Result<Parsed, AppError> {
    let mut p = Parsed {
        rubric: None,
        rubric_version: None,
        text: None,
        links: Vec::new(),
        files: Vec::new(),
    };
    let bad = |e: axum::extract::multipart::MultipartError| -> AppError {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(limit)
        } else {
            AppError::InvalidBody(e.body_text())
        }
    };
    while let Some(mut field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            let media_type = field
                .content_type()
                .map(|m| {
                    m.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                .unwrap_or_default();
            let filename = field.file_name().map(str::to_owned);
            if !ALLOWED_MEDIA_TYPES.contains(&media_type.as_str()) {
                return Err(unsupported(format!(
                    "`{media_type}` is not allowed; allowed: {}",
                    ALLOWED_MEDIA_TYPES.join(", ")
                )));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if bytes.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                bytes.extend_from_slice(&chunk);
            }
            if !content_matches(&media_type, &bytes) {
                return Err(unsupported(format!(
                    "the file's content is not {media_type}"
                )));
            }
            p.files.push((media_type, filename, bytes));
        } else {
            let text = field.text().await.map_err(bad)?;
            match name.as_str() {
                "rubric" => p.rubric = Some(text),
                "rubric_version" => p.rubric_version = Some(text),
                "text" => p.text = Some(text),
                "link" => p.links.push(text),
                other => {
                    return Err(AppError::InvalidBody(format!("unknown field `{other}`")));
                }
            }
        }
    }
    Ok(p)
}

/// Submits evidence for a competency: a new attempt. Learners of the organisation.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/competencies/{id}/evidence", tag = "review",
    params(("slug" = String, Path), ("id" = String, Path)),
    request_body(content = JsonEvidence, description = "JSON, or multipart/form-data with files"),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = Submission), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn submit_evidence(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, competency_id)): AppPath<(String, String)>,
    request: Request<Body>,
) -> Result<(StatusCode, AppJson<Submission>), AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| r == Role::Learner)?;
    if caller.is_platform_admin() && !caller.roles_in(&org.id).any(|r| r == Role::Learner) {
        // Evidence is a learner's own; nobody submits on someone else's behalf.
        return Err(AppError::Forbidden);
    }
    let competency = state.store.competency(&competency_id).await?;
    if competency.org_id != org.id {
        return Err(AppError::NotFound);
    }
    let unmet = state
        .store
        .unmet_prerequisites(&competency.framework_id, caller.user_id(), &competency.id)
        .await?;
    if !unmet.is_empty() {
        return Err(AppError::PrerequisitesNotMastered(unmet));
    }
    let limit = state.config.evidence_max_bytes;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let parsed = if content_type.starts_with("multipart/form-data") {
        let (parts, body) = request.into_parts();
        // The whole body: the files' limit plus room for the text fields.
        let body = Body::new(http_body_util::Limited::new(
            body,
            limit.saturating_mul(4).saturating_add(1 << 20),
        ));
        let mp = Multipart::from_request(Request::from_parts(parts, body), &state)
            .await
            .map_err(|e| AppError::InvalidBody(e.body_text()))?;
        parse_multipart(mp, limit).await?
    } else if content_type.starts_with("application/json") {
        let bytes = axum::body::to_bytes(request.into_body(), state.config.max_body_bytes)
            .await
            .map_err(|_| AppError::PayloadTooLarge)?;
        let j: JsonEvidence = serde_json::from_slice(&bytes).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                AppError::MalformedJson(e.to_string())
            } else {
                AppError::InvalidBody(e.to_string())
            }
        })?;
        Parsed {
            rubric: Some(j.rubric),
            rubric_version: j.rubric_version,
            text: j.text,
            links: j.links,
            files: Vec::new(),
        }
    } else {
        return Err(AppError::UnsupportedMediaType);
    };

    let rubric_id = parsed.rubric.ok_or(AppError::Validation {
        field: "rubric",
        reason: "the rubric to be scored against is required".into(),
    })?;
    let text = parsed.text.filter(|t| !t.trim().is_empty());
    if text.as_ref().is_some_and(|t| t.len() > MAX_TEXT_LEN) {
        return Err(AppError::Validation {
            field: "text",
            reason: format!("at most {MAX_TEXT_LEN} bytes"),
        });
    }
    if parsed.links.len() > MAX_LINKS {
        return Err(AppError::Validation {
            field: "links",
            reason: format!("at most {MAX_LINKS} links"),
        });
    }
    for link in &parsed.links {
        let ok = (link.starts_with("https://") || link.starts_with("http://"))
            && link.len() <= MAX_LINK_LEN
            && !link.chars().any(char::is_whitespace);
        if !ok {
            return Err(AppError::Validation {
                field: "links",
                reason: "each link must be an http(s) URL without spaces, at most 2048 characters"
                    .into(),
            });
        }
    }
    if text.is_none() && parsed.links.is_empty() && parsed.files.is_empty() {
        return Err(AppError::Validation {
            field: "text",
            reason: "evidence needs text, a link or a file".into(),
        });
    }
    let (rubric_row, rubric) = state
        .store
        .rubric(&org.id, &rubric_id, parsed.rubric_version.as_deref())
        .await
        .map_err(|e| match e {
            tessera_store::StoreError::NotFound => {
                AppError::InvalidReference("no such rubric version")
            }
            other => other.into(),
        })?;
    let assesses = [
        Some(competency.id.as_str()),
        Some(competency.uri.as_str()),
        competency.code.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|c| rubric.assesses(c));
    if !assesses {
        return Err(tessera_review::Error::CompetencyNotAssessed {
            rubric: rubric.reference(),
            competency: competency.code.clone().unwrap_or(competency.id.clone()),
        }
        .into());
    }

    let mut files = Vec::with_capacity(parsed.files.len());
    for (media_type, filename, bytes) in parsed.files {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let root = state.config.data_dir.clone();
        let digest = sha256.clone();
        let size = bytes.len();
        tokio::task::spawn_blocking(move || store_blob(&root, &digest, &bytes))
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)?;
        files.push(NewFile {
            sha256,
            media_type,
            filename,
            size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
        });
    }
    let submission = state
        .store
        .submit_evidence(
            &NewSubmission {
                org_id: org.id.clone(),
                learner_id: caller.user_id().to_owned(),
                competency_id: competency.id.clone(),
                rubric_id: rubric_row.id,
                rubric_version: rubric_row.version,
                text,
                links: parsed.links,
                files,
            },
            state.clock.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, AppJson(submission)))
}

/// Whether `caller` may read `learner_id`'s record (states, dates, outcomes, credentials) in
/// `org_id`: the learner themself (as a member), the organisation's reviewers, teachers and
/// admins, platform admins. Anyone else gets 404, so outsiders do not learn who has a record.
/// The evidence itself has a narrower rule: [`may_read_evidence`].
pub fn may_read_learner(caller: &Caller, org_id: &str, learner_id: &str) -> Result<(), AppError> {
    caller.require_member(org_id)?;
    let staff = caller.is_platform_admin()
        || caller
            .roles_in(org_id)
            .any(|r| matches!(r, Role::Reviewer | Role::Teacher | Role::Admin));
    if staff || caller.user_id() == learner_id {
        // Someone else reading a learner's record is logged for the learner to see.
        crate::routes::rights::note_access(caller, org_id, learner_id, "record");
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Whether `caller` assesses evidence in `org_id`: a reviewer or teacher there. Admins and
/// platform admins run the organisation and the service; they do not read what learners submit.
pub fn assesses(caller: &Caller, org_id: &str) -> bool {
    caller
        .roles_in(org_id)
        .any(|r| matches!(r, Role::Reviewer | Role::Teacher))
}

/// Whether `caller` may read `learner_id`'s evidence (text, links, files) in `org_id`: only the
/// learner themself and the organisation's reviewers and teachers. Anyone else gets 404.
pub fn may_read_evidence(caller: &Caller, org_id: &str, learner_id: &str) -> Result<(), AppError> {
    caller.require_member(org_id)?;
    if assesses(caller, org_id) || caller.user_id() == learner_id {
        crate::routes::rights::note_access(caller, org_id, learner_id, "evidence");
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// A learner's submissions (attempts), oldest first. The learner, and the organisation's
/// reviewers and teachers.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/learners/{user}/evidence", tag = "review",
    params(("slug" = String, Path), ("user" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<Submission>), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_submissions(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user)): AppPath<(String, String)>,
) -> Result<AppJson<Vec<Submission>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    may_read_evidence(&caller, &org.id, &user)?;
    Ok(AppJson(
        state.store.submissions(&org.id, &user, None).await?,
    ))
}

/// The bytes of one evidence file, as an attachment. The learner who submitted it, and the
/// organisation's reviewers and teachers; anyone else gets 404. `position` is the file's
/// 0-based place in the submission (as listed in `files`).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/submissions/{id}/files/{position}", tag = "review",
    params(("slug" = String, Path), ("id" = String, Path), ("position" = u32, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The file, with its media type, as an attachment",
            content_type = "application/octet-stream"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn download_file(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, submission_id, position)): AppPath<(String, String, u32)>,
) -> Result<axum::response::Response, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_member(&org.id)?;
    let stored = state
        .store
        .evidence_file(&submission_id, i64::from(position))
        .await?;
    if stored.org_id != org.id {
        return Err(AppError::NotFound);
    }
    may_read_evidence(&caller, &org.id, &stored.learner_id)?;
    let file = stored.file;
    // The address is ours (hex SHA-256), but check it before it becomes a path.
    if file.sha256.len() != 64 || !file.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::internal(std::io::Error::other(
            "stored evidence digest is not hex SHA-256",
        )));
    }
    let path = state
        .config
        .data_dir
        .join("evidence")
        .join(&file.sha256[..2])
        .join(&file.sha256);
    // Held in memory: files are at most `evidence_max_bytes` (≤ 1 GiB by configuration).
    let bytes = tokio::fs::read(&path).await.map_err(AppError::internal)?;
    let media_type = if ALLOWED_MEDIA_TYPES.contains(&file.media_type.as_str()) {
        if file.media_type == "text/plain" {
            "text/plain; charset=utf-8".to_owned()
        } else {
            file.media_type.clone()
        }
    } else {
        "application/octet-stream".to_owned()
    };
    let disposition = content_disposition(file.filename.as_deref(), &file.sha256);
    let mut response = axum::response::Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    let value = |v: &str| {
        header::HeaderValue::from_str(v).map_err(|e| AppError::internal(std::io::Error::other(e)))
    };
    headers.insert(header::CONTENT_TYPE, value(&media_type)?);
    headers.insert(header::CONTENT_DISPOSITION, value(&disposition)?);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    // A learner's work: never kept by shared caches; never run as a page if opened directly.
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    Ok(response)
}

/// `attachment; filename="…"; filename*=UTF-8''…` for the learner's file name: the plain form
/// keeps printable ASCII other than quotes and backslashes, the encoded form the whole name.
/// Without a name: `evidence-<first 12 hex of the digest>`.
pub fn content_disposition(filename: Option<&str>, sha256: &str) -> String {
    let name = filename
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).trim())
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("evidence-{}", &sha256[..12.min(sha256.len())]));
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn file_names_cannot_break_out_of_the_header() {
        assert_eq!(
            content_disposition(Some("work.pdf"), "ab"),
            "attachment; filename=\"work.pdf\"; filename*=UTF-8''work.pdf"
        );
        assert_eq!(
            content_disposition(Some("../x\"y\r\n.pdf"), "ab"),
            "attachment; filename=\"x_y__.pdf\"; filename*=UTF-8''x%22y%0D%0A.pdf"
        );
        assert_eq!(
            content_disposition(Some("Übung 1.png"), "ab"),
            "attachment; filename=\"_bung 1.png\"; filename*=UTF-8''%C3%9Cbung%201.png"
        );
        assert_eq!(
            content_disposition(None, "0123456789abcdef"),
            "attachment; filename=\"evidence-0123456789ab\"; filename*=UTF-8''evidence-0123456789ab"
        );
    }
}
