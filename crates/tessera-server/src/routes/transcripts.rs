//! Mastery transcripts in the service: a signed CLR 2.0 `ClrCredential` assembled from the store
//! (the learner's issued credentials as their exact bytes, the registry's hierarchy and
//! prerequisites, the mastery record), signed with the organisation's current issuer key, kept
//! as the exact signed bytes, and served as JSON, as a PDF with the signed JSON attached, and as
//! an HTML page (the pages module) rendered from the school's `transcript-templates/`.
//!
//! # Who may do what
//! - The learner makes transcripts of their own record: everything, one framework, or chosen
//!   competencies (`partial` in the CLR when that leaves something out). The choice is stored.
//! - Teachers and admins make an `official` transcript of the full record for the
//!   organisation's own records.
//! - Reading (list, JSON, PDF) follows [`may_read_learner`]: the learner and the organisation's
//!   staff; anyone else, another learner included, gets 404.
//!
//! What is assembled and signed is decided by `tessera-transcript` (pure); rendering by
//! `tessera-render`. Both are CPU work and run in `spawn_blocking`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::account::Role;
use tessera_review::MasteryState;
use tessera_store::accounts::Org;
use tessera_store::registry::{Competency, CompetencySearch};
use tessera_store::share_links::{NewShareLink, ShareKind, ShareLink};
use tessera_store::transcripts::{NewTranscript, Transcript};
use tessera_transcript::{
    AssociationType, CompetencyRecord, Learner, NodeKind, RegistryAssociation, RegistryNode,
    Selection, TranscriptRequest,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Caller};
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::PageQuery;
use crate::routes::evidence::may_read_learner;
use crate::routes::issuing;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_transcript, list_transcripts))
        .routes(routes!(get_transcript))
        .routes(routes!(get_transcript_pdf))
        .routes(routes!(create_share_link, list_share_links))
        .routes(routes!(revoke_share_link))
}

/// The school's template folder, loaded once per process on first use. The verify URL printed
/// on transcripts (and in their QR code) is this service's `/verify` page, whatever the folder's
/// `theme.toml` says, so that a transcript made here points at the place that verifies it.
#[derive(Debug)]
pub struct TranscriptTemplates {
    dir: PathBuf,
    loaded: OnceLock<Result<Arc<tessera_render::Templates>, String>>,
}

impl TranscriptTemplates {
    /// `transcript_templates` (`TESSERA_TRANSCRIPT_TEMPLATES`) if set; else
    /// `<data dir>/transcript-templates` when it exists; else the folder shipped with the source.
    pub fn from_config(config: &crate::Config) -> Self {
        let dir = config
            .transcript_templates
            .clone()
            .or_else(|| {
                let own = config.data_dir.join("transcript-templates");
                own.is_dir().then_some(own)
            })
            .unwrap_or_else(tessera_render::Templates::shipped_dir);
        Self {
            dir,
            loaded: OnceLock::new(),
        }
    }

    /// The loaded folder. A broken folder (a template error names file and line) is a 500 whose
    /// cause is logged for the school to fix.
    pub fn get(&self, public_url: &str) -> Result<Arc<tessera_render::Templates>, AppError> {
        self.loaded
            .get_or_init(|| {
                tessera_render::Templates::load(&self.dir)
                    .map(|t| {
                        Arc::new(t.with_verify_url(format!(
                            "{}/verify?transcript={{id}}",
                            public_url.trim_end_matches('/')
                        )))
                    })
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| AppError::internal(std::io::Error::other(e)))
    }
}

/// What the learner chose to put in the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The whole record.
    Everything,
    /// One framework's competencies (`framework_id`).
    Framework,
    /// Chosen competencies (`competency_ids`).
    Competencies,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Everything => "everything",
            Scope::Framework => "framework",
            Scope::Competencies => "competencies",
        }
    }
}

/// Who a transcript is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TranscriptKind {
    /// The learner's own, of what they chose.
    Learner,
    /// The organisation's record of the full transcript (teachers and admins).
    Official,
}

/// A request for a transcript.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTranscript {
    /// `learner` (default for the learner themself) or `official` (default for staff; always
    /// the full record).
    pub kind: Option<TranscriptKind>,
    /// What goes in (default `everything`).
    pub scope: Option<Scope>,
    /// The framework, for scope `framework`.
    pub framework_id: Option<String>,
    /// The competencies, for scope `competencies`.
    pub competency_ids: Option<Vec<String>>,
}

/// The learner's choice, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Everything.
    Everything,
    /// One framework (its id).
    Framework(String),
    /// These competencies (their ids).
    Competencies(Vec<String>),
}

impl Choice {
    /// Reads the request's choice; 422 `validation-failed` naming the field at fault.
    pub fn from_request(body: &CreateTranscript) -> Result<Self, AppError> {
        match body.scope.unwrap_or(Scope::Everything) {
            Scope::Everything => Ok(Choice::Everything),
            Scope::Framework => body
                .framework_id
                .as_deref()
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(|f| Choice::Framework(f.to_owned()))
                .ok_or(AppError::Validation {
                    field: "framework_id",
                    reason: "scope \"framework\" needs a framework_id".into(),
                }),
            Scope::Competencies => {
                let ids: BTreeSet<String> = body
                    .competency_ids
                    .iter()
                    .flatten()
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
                    .collect();
                if ids.is_empty() || ids.len() > 5_000 {
                    return Err(AppError::Validation {
                        field: "competency_ids",
                        reason: "scope \"competencies\" needs 1 to 5000 competency ids".into(),
                    });
                }
                Ok(Choice::Competencies(ids.into_iter().collect()))
            }
        }
    }

    fn scope(&self) -> Scope {
        match self {
            Choice::Everything => Scope::Everything,
            Choice::Framework(_) => Scope::Framework,
            Choice::Competencies(_) => Scope::Competencies,
        }
    }
}

fn is_staff_issuer(r: Role) -> bool {
    matches!(r, Role::Teacher | Role::Admin)
}

/// The registry node id of a competency, area or framework: the `Achievement.id` that
/// credentials issued here give the competency (`issue_for_mastery`), so the transcript's
/// definitions and the embedded credentials name the same thing.
pub fn node_id(public_url: &str, slug: &str, id: &str) -> String {
    issuing::achievement_id(public_url, slug, id)
}

/// The level a credential records: the name of the achieved rubric level (the criteria's
/// levels, distinct, joined), or `None` when it carries no rubric result.
fn credential_level(credential: &Value) -> Option<String> {
    let subject = credential.get("credentialSubject")?;
    let descriptions = subject
        .pointer("/achievement/resultDescription")?
        .as_array()?;
    let mut names: Vec<String> = Vec::new();
    for result in subject.get("result")?.as_array()? {
        let Some(achieved) = result.get("achievedLevel").and_then(Value::as_str) else {
            continue;
        };
        let name = descriptions
            .iter()
            .filter_map(|d| d.get("rubricCriterionLevel").and_then(Value::as_array))
            .flatten()
            .find(|l| l.get("id").and_then(Value::as_str) == Some(achieved))
            .and_then(|l| l.get("name").and_then(Value::as_str));
        if let Some(name) = name
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_owned());
        }
    }
    (!names.is_empty()).then(|| names.join(" / "))
}

/// Everything the store holds that a transcript of `learner_id` is made from.
pub async fn transcript_request(
    state: &AppState,
    org: &Org,
    learner_id: &str,
    choice: &Choice,
    id: &str,
    issuer: Value,
) -> Result<TranscriptRequest, AppError> {
    let store = &state.store;
    let public = state.config.public_url.trim_end_matches('/');
    let now = state.clock.now();
    let node = |id: &str| node_id(public, &org.slug, id);

    // Credentials as issued; the latest per competency (a mastery withdrawn and regained was
    // issued again: the newer one stands).
    let mut by_competency: BTreeMap<String, String> = BTreeMap::new();
    for (competency, signed) in store.transcript_credentials(&org.id, learner_id).await? {
        by_competency.insert(competency, signed);
    }
    let record = store.learner_record(&org.id, learner_id).await?;

    let mut universe: BTreeSet<String> = by_competency.keys().cloned().collect();
    universe.extend(
        record
            .competencies
            .iter()
            .filter(|(_, r)| r.first_activity.is_some())
            .map(|(c, _)| c.clone()),
    );

    // The registry around them: each framework's competencies in one paged read.
    let mut competencies: HashMap<String, Competency> = HashMap::new();
    let mut frameworks: BTreeSet<String> = BTreeSet::new();
    for id in &universe {
        if competencies.contains_key(id) {
            continue;
        }
        let c = store.competency(id).await?;
        if c.org_id != org.id {
            continue;
        }
        if frameworks.insert(c.framework_id.clone()) {
            let search = CompetencySearch {
                include_retired: true,
                ..Default::default()
            };
            let mut offset = Some(0);
            while let Some(at) = offset {
                let page = store
                    .competencies(&c.framework_id, &search, 500, at)
                    .await?;
                for item in page.items {
                    competencies.insert(item.id.clone(), item);
                }
                offset = page.next_offset;
            }
        }
        competencies.entry(id.clone()).or_insert(c);
    }

    let mut nodes = Vec::new();
    let mut associations = Vec::new();
    for fid in &frameworks {
        let f = store.framework(fid).await?;
        nodes.push(RegistryNode {
            id: node(fid),
            framework_id: node(fid),
            kind: NodeKind::Framework,
            code: None,
            name: f.title.clone(),
            statement: f.description.clone().unwrap_or_else(|| f.title.clone()),
        });
    }
    let mut areas: BTreeSet<String> = BTreeSet::new();
    for id in universe.iter().filter(|id| competencies.contains_key(*id)) {
        let c = &competencies[id];
        nodes.push(RegistryNode {
            id: node(id),
            framework_id: node(&c.framework_id),
            kind: NodeKind::Competency,
            code: c.code.clone(),
            name: c
                .abbreviated_statement
                .clone()
                .unwrap_or_else(|| c.statement.clone()),
            statement: c.statement.clone(),
        });
        // The parent in the hierarchy is the competency's area, unless the learner worked on
        // it too (then it is a competency of its own, and the child sits under the framework).
        let parent = c
            .parent_id
            .as_ref()
            .filter(|p| !universe.contains(*p) && competencies.contains_key(*p));
        let target = match parent {
            Some(p) => {
                if areas.insert(p.clone()) {
                    let a = &competencies[p];
                    nodes.push(RegistryNode {
                        id: node(p),
                        framework_id: node(&a.framework_id),
                        kind: NodeKind::Area,
                        code: a.code.clone(),
                        name: a
                            .abbreviated_statement
                            .clone()
                            .unwrap_or_else(|| a.statement.clone()),
                        statement: a.statement.clone(),
                    });
                    associations.push(RegistryAssociation {
                        source: node(p),
                        kind: AssociationType::IsChildOf,
                        target: node(&a.framework_id),
                    });
                }
                node(p)
            }
            None => node(&c.framework_id),
        };
        associations.push(RegistryAssociation {
            source: node(id),
            kind: AssociationType::IsChildOf,
            target,
        });
        for before in store.prerequisites(id).await? {
            if universe.contains(&before) {
                associations.push(RegistryAssociation {
                    source: node(&before),
                    kind: AssociationType::Precedes,
                    target: node(id),
                });
            }
        }
    }

    let mut credentials = Vec::with_capacity(by_competency.len());
    let mut levels: HashMap<String, String> = HashMap::new();
    for (competency, signed) in &by_competency {
        let value: Value = serde_json::from_str(signed).map_err(AppError::internal)?;
        if let Some(level) = credential_level(&value) {
            levels.insert(competency.clone(), level);
        }
        credentials.push(value);
    }
    let records = record
        .competencies
        .iter()
        .filter(|(c, _)| competencies.contains_key(*c))
        .filter_map(|(c, r)| {
            let first = r.first_activity?;
            let mastered = r.state == MasteryState::Mastered;
            Some(CompetencyRecord {
                competency_id: node(c),
                first_activity: first,
                attempts: u32::try_from(r.attempts.len()).unwrap_or(u32::MAX),
                mastered_at: if mastered { r.mastered_at } else { None },
                level: if mastered {
                    Some(levels.get(c).cloned().unwrap_or_else(|| "Mastered".into()))
                } else {
                    None
                },
            })
        })
        .collect();

    let selection = match choice {
        Choice::Everything => Selection::Everything,
        Choice::Framework(f) => {
            let fw = store.framework(f).await.map_err(|_| AppError::Validation {
                field: "framework_id",
                reason: format!("there is no framework {f}"),
            })?;
            if fw.org_id != org.id || !frameworks.contains(f) {
                return Err(AppError::Validation {
                    field: "framework_id",
                    reason: format!("framework {f} holds none of the learner's competencies"),
                });
            }
            Selection::Framework(node(f))
        }
        Choice::Competencies(ids) => {
            if let Some(unknown) = ids.iter().find(|c| !universe.contains(*c)) {
                return Err(AppError::Validation {
                    field: "competency_ids",
                    reason: format!("competency {unknown} is not in the learner's record"),
                });
            }
            Selection::Competencies(ids.iter().map(|c| node(c)).collect())
        }
    };

    let name = store.user(learner_id).await?.name;
    let subject = store
        .credential_subject_id(&org.id, learner_id, now)
        .await?;
    Ok(TranscriptRequest {
        id: format!("urn:uuid:{id}"),
        issuer,
        name: None,
        description: Some(format!(
            "Competencies mastered at {}, with when and how.",
            org.name
        )),
        learner: Learner {
            id: Some(subject),
            name,
            identifiers: Vec::new(),
        },
        issued_at: now,
        period_start: None,
        nodes,
        associations,
        records,
        credentials,
        selection,
    })
}

/// Maps what stops a transcript from being assembled to the caller's problem.
fn assembly_error(e: tessera_transcript::Error) -> AppError {
    use tessera_transcript::Error as E;
    match e {
        E::Empty => AppError::Validation {
            field: "scope",
            reason: "the choice holds no issued credential: a transcript carries at least one"
                .into(),
        },
        E::UnknownCompetency(c) => AppError::Validation {
            field: "competency_ids",
            reason: format!("competency {c} is not in the learner's record"),
        },
        E::UnknownFramework(f) => AppError::Validation {
            field: "framework_id",
            reason: format!("framework {f} holds none of the learner's competencies"),
        },
        other => AppError::internal(other),
    }
}

/// Assembles, signs and stores a transcript of `learner_id`'s record.
pub async fn make_transcript(
    state: &AppState,
    org: &Org,
    learner_id: &str,
    kind: TranscriptKind,
    choice: &Choice,
    created_by: &str,
) -> Result<Transcript, AppError> {
    let now = state.clock.now();
    let master = state.issuing.master_key(&state.config.data_dir)?;
    let (key, pair) = issuing::current_key(&state.store, master, &org.id, now).await?;
    let issuing::SigningIdentity {
        id: issuer_id,
        method,
        ..
    } = issuing::issuer_of(state, org, &key).await?;
    let issuer = json!({
        "id": issuer_id,
        "type": ["Profile"],
        "name": org.name,
        "url": state.config.public_url,
    });
    let id = uuid::Uuid::new_v4().to_string();
    let request = transcript_request(state, org, learner_id, choice, &id, issuer).await?;
    let credentials = request.credentials.len();
    let (signed, partial) = tokio::task::spawn_blocking(move || {
        let unsigned = tessera_transcript::assemble(&request).map_err(assembly_error)?;
        let signed =
            tessera_transcript::sign(&unsigned, &pair, &method, now).map_err(AppError::internal)?;
        let partial = signed
            .get("partial")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let text = serde_json::to_string(&signed).map_err(AppError::internal)?;
        Ok::<_, AppError>((text, partial))
    })
    .await
    .map_err(AppError::internal)??;
    let embedded = serde_json::from_str::<Value>(&signed)
        .ok()
        .and_then(|v| {
            v.pointer("/credentialSubject/verifiableCredential")
                .and_then(Value::as_array)
                .map(Vec::len)
        })
        .unwrap_or(credentials);
    let (framework_id, competency_ids) = match choice {
        Choice::Everything => (None, None),
        Choice::Framework(f) => (Some(f.as_str()), None),
        Choice::Competencies(ids) => (None, Some(ids.as_slice())),
    };
    Ok(state
        .store
        .insert_transcript(
            &NewTranscript {
                id: &id,
                org_id: &org.id,
                learner_id,
                kind: match kind {
                    TranscriptKind::Learner => "learner",
                    TranscriptKind::Official => "official",
                },
                scope: choice.scope().as_str(),
                framework_id,
                competency_ids,
                partial,
                credentials: i64::try_from(embedded).unwrap_or(i64::MAX),
                key_id: &key.id,
                signed: &signed,
                created_by,
            },
            now,
        )
        .await?)
}

/// Who may make which transcript of `learner_id`: the learner their own (`learner`, any
/// choice); teachers and admins an `official` full one. Others who may read the record
/// (reviewers) get 403; anyone else 404.
pub fn may_create(
    caller: &Caller,
    org_id: &str,
    learner_id: &str,
    body: &CreateTranscript,
) -> Result<(TranscriptKind, Choice), AppError> {
    may_read_learner(caller, org_id, learner_id)?;
    let own = caller.user_id() == learner_id;
    let staff = caller.is_platform_admin() || caller.roles_in(org_id).any(is_staff_issuer);
    let kind = body.kind.unwrap_or(if own {
        TranscriptKind::Learner
    } else {
        TranscriptKind::Official
    });
    match kind {
        TranscriptKind::Learner if own => Ok((kind, Choice::from_request(body)?)),
        TranscriptKind::Learner => Err(AppError::Forbidden),
        TranscriptKind::Official if !staff => Err(AppError::Forbidden),
        TranscriptKind::Official => {
            if body.scope.is_some_and(|s| s != Scope::Everything) {
                return Err(AppError::Validation {
                    field: "scope",
                    reason: "an official transcript holds the full record (scope \"everything\")"
                        .into(),
                });
            }
            Ok((kind, Choice::Everything))
        }
    }
}

/// Makes a signed transcript (CLR 2.0) of the learner's record. The learner for themself, of
/// everything, one framework or chosen competencies (`partial` when that leaves something out);
/// teachers and admins an `official` one of the full record. 422 `validation-failed` for a
/// choice naming what is not in the record, or one holding no issued credential.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/learners/{user}/transcripts", tag = "transcripts",
    params(("slug" = String, Path), ("user" = String, Path)),
    request_body = CreateTranscript, security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = Transcript),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn create_transcript(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user)): AppPath<(String, String)>,
    AppJson(body): AppJson<CreateTranscript>,
) -> Result<(StatusCode, AppJson<Transcript>), AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    let (kind, choice) = may_create(&caller, &org.id, &user, &body)?;
    if !state.store.is_member(&org.id, &user).await? {
        return Err(AppError::NotFound);
    }
    let t = make_transcript(&state, &org, &user, kind, &choice, caller.user_id()).await?;
    Ok((StatusCode::CREATED, AppJson(t)))
}

/// A learner's transcripts, newest first. The learner and the organisation's staff.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/learners/{user}/transcripts", tag = "transcripts",
    params(("slug" = String, Path), ("user" = String, Path), PageQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<Transcript>),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_transcripts(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user)): AppPath<(String, String)>,
    AppQuery(page): AppQuery<PageQuery>,
) -> Result<AppJson<Vec<Transcript>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    may_read_learner(&caller, &org.id, &user)?;
    let (limit, offset) = page.bounds()?;
    Ok(AppJson(
        state
            .store
            .learner_transcripts(&org.id, &user, limit, offset)
            .await?,
    ))
}

/// The transcript `id` of the organisation, if `caller` may read it (else 404).
pub async fn readable(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    id: &str,
) -> Result<(Org, Transcript), AppError> {
    let org = state.store.org_by_slug(slug).await?;
    caller.require_member(&org.id)?;
    let t = state.store.transcript(id).await?;
    if t.org_id != org.id {
        return Err(AppError::NotFound);
    }
    may_read_learner(caller, &org.id, &t.learner_id)?;
    Ok((org, t))
}

/// The signed transcript as JSON: exactly the bytes that were signed.
pub fn json_response(signed: String, id: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/vc+ld+json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"transcript-{id}.json\""),
            ),
        ],
        signed,
    )
        .into_response()
}

/// Renders the PDF of a stored transcript (the signed bytes attached).
pub async fn pdf_response(state: &AppState, id: &str) -> Result<Response, AppError> {
    let signed = state.store.transcript_bytes(id).await?;
    let templates = state.transcript_templates.get(&state.config.public_url)?;
    let pdf = tokio::task::spawn_blocking(move || {
        tessera_render::render_pdf(signed.as_bytes(), &templates)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"transcript-{id}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}

/// The signed transcript (CLR 2.0 JSON), exactly the bytes that were signed. The learner and
/// the organisation's staff; 404 for anyone else.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/transcripts/{id}", tag = "transcripts",
    params(("slug" = String, Path), ("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The signed ClrCredential", content_type = "application/vc+ld+json"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_transcript(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
) -> Result<Response, AppError> {
    let (_, t) = readable(&state, &caller, &slug, &id).await?;
    Ok(json_response(
        state.store.transcript_bytes(&t.id).await?,
        &t.id,
    ))
}

/// The transcript as a PDF rendered from the school's templates, with the signed JSON attached
/// (`tessera verify transcript.pdf` checks it offline). The learner and the organisation's
/// staff; 404 for anyone else.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/transcripts/{id}/pdf", tag = "transcripts",
    params(("slug" = String, Path), ("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_transcript_pdf(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
) -> Result<Response, AppError> {
    let (_, t) = readable(&state, &caller, &slug, &id).await?;
    pdf_response(&state, &t.id).await
}

/// Where a transcript share link opens (a page; no account needed).
pub fn transcript_share_url(public_url: &str, token: &str) -> String {
    format!("{}/share/t/{token}", public_url.trim_end_matches('/'))
}

/// A new share link to a transcript.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTranscriptLink {
    /// A note for yourself ("for the admissions office"), up to 200 characters.
    pub label: Option<String>,
    /// When the link stops working (RFC 3339, in the future); never when absent.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A share link just made: the only time its URL (with the token) is shown.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CreatedTranscriptLink {
    /// The link.
    pub link: ShareLink,
    /// The URL to hand out; anyone holding it sees this transcript and nothing else.
    pub url: String,
}

/// The transcript `id`, if `caller` is the learner it is about: only they share it. Staff who
/// may read it get 403; anyone else 404.
pub async fn own_transcript(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    id: &str,
) -> Result<Transcript, AppError> {
    let (_, t) = readable(state, caller, slug, id).await?;
    if t.learner_id != caller.user_id() {
        return Err(AppError::Forbidden);
    }
    Ok(t)
}

/// Makes a share link to the caller's own transcript.
pub async fn make_share_link(
    state: &AppState,
    t: &Transcript,
    label: Option<&str>,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<CreatedTranscriptLink, AppError> {
    let (link, token) = state
        .store
        .create_share_link(
            &NewShareLink {
                org_id: &t.org_id,
                owner_id: &t.learner_id,
                kind: ShareKind::Transcript,
                target_id: &t.id,
                label,
                expires_at,
            },
            state.clock.now(),
        )
        .await
        .map_err(|e| match e {
            tessera_store::StoreError::InvalidReference(reason) => AppError::Validation {
                field: if reason.contains("label") {
                    "label"
                } else {
                    "expires_at"
                },
                reason: reason.into(),
            },
            other => other.into(),
        })?;
    Ok(CreatedTranscriptLink {
        url: transcript_share_url(&state.config.public_url, &token),
        link,
    })
}

/// Makes a share link to one of your transcripts (the learner it is about only): whoever holds
/// the URL sees that transcript and its PDF and JSON, nothing else, without an account. The URL
/// (with its token) is returned this once.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/transcripts/{id}/share-links", tag = "transcripts",
    params(("slug" = String, Path), ("id" = String, Path)),
    request_body = NewTranscriptLink, security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = CreatedTranscriptLink),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn create_share_link(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
    AppJson(body): AppJson<NewTranscriptLink>,
) -> Result<(StatusCode, AppJson<CreatedTranscriptLink>), AppError> {
    let t = own_transcript(&state, &caller, &slug, &id).await?;
    let created = make_share_link(&state, &t, body.label.as_deref(), body.expires_at).await?;
    Ok((StatusCode::CREATED, AppJson(created)))
}

/// The share links of one of your transcripts, newest first, with how often and when each was
/// opened (never their tokens).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/transcripts/{id}/share-links", tag = "transcripts",
    params(("slug" = String, Path), ("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<ShareLink>),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_share_links(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
) -> Result<AppJson<Vec<ShareLink>>, AppError> {
    let t = own_transcript(&state, &caller, &slug, &id).await?;
    Ok(AppJson(
        state
            .store
            .share_links(&t.learner_id, Some(ShareKind::Transcript), Some(&t.id))
            .await?,
    ))
}

/// Revokes a share link of one of your transcripts: it stops opening at once (410 for whoever
/// holds it).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/transcripts/{id}/share-links/{link}/revoke", tag = "transcripts",
    params(("slug" = String, Path), ("id" = String, Path), ("link" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ShareLink),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn revoke_share_link(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id, link)): AppPath<(String, String, String)>,
) -> Result<AppJson<ShareLink>, AppError> {
    let t = own_transcript(&state, &caller, &slug, &id).await?;
    let existing = state.store.share_link(&t.learner_id, &link).await?;
    if existing.kind != ShareKind::Transcript || existing.target_id != t.id {
        return Err(AppError::NotFound);
    }
    Ok(AppJson(
        state
            .store
            .revoke_share_link(&t.learner_id, &link, state.clock.now())
            .await?,
    ))
}
