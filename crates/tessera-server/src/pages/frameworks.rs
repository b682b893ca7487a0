//! Framework pages: an organisation's frameworks, a framework's competency tree with search,
//! and the competency forms (create, edit, retire/restore).
//!
//! Reading needs any role in the owning organisation, changing needs admin or teacher there:
//! the same [`Caller`](crate::auth::Caller) checks as the registry API. Edits carry the
//! framework revision the form was made from, so two people editing at once get "changed since
//! you opened the form" instead of overwriting each other.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tessera_core::account::Role;
use tessera_core::registry::{self as reg, Status, limits};
use tessera_store::registry::{
    Competency, CompetencyFields, CompetencySearch, Framework, FrameworkFields,
};

use super::account::form_problem;
use super::{Chrome, PageError, PageForm, Viewer, render, see_other};
use crate::error::AppError;
use crate::state::AppState;

/// The most competencies a framework page reads (a 5,000-item framework fits).
const TREE_LIMIT: i64 = 20_000;
/// Above this many competencies a tree page shows two levels and links to the parts below,
/// so that a page stays light on a school connection.
const FULL_TREE: usize = 300;

#[derive(Template)]
#[template(path = "frameworks.html")]
struct ListPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    frameworks: Vec<Framework>,
    can_edit: bool,
    error: Option<String>,
    title: String,
    description: String,
}

/// `GET /orgs/{slug}/frameworks`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let page = list_page(&state, viewer, &slug, None, NewFrameworkForm::default()).await?;
    Ok(render(StatusCode::OK, &page))
}

async fn list_page(
    state: &AppState,
    viewer: Viewer,
    slug: &str,
    error: Option<String>,
    form: NewFrameworkForm,
) -> Result<ListPage, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    viewer.caller.require_member(&org.id)?;
    let can_edit = viewer
        .caller
        .require_role(&org.id, Role::can_edit_registry)
        .is_ok();
    let frameworks = state.store.frameworks(&org.id, true, 500, 0).await?.items;
    Ok(ListPage {
        chrome: viewer.chrome,
        org_name: org.name,
        org_slug: org.slug,
        frameworks,
        can_edit,
        error,
        title: form.title,
        description: form.description,
    })
}

/// The new-framework form.
#[derive(Debug, Default, Deserialize)]
pub struct NewFrameworkForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
}

/// `POST /orgs/{slug}/frameworks`: admins and teachers start an empty framework.
pub async fn create_framework(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<NewFrameworkForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer
        .caller
        .require_role(&org.id, Role::can_edit_registry)?;
    let result = async {
        let fields = FrameworkFields {
            title: reg::required_text("title", &form.title, limits::TITLE)?,
            description: reg::optional_text(
                "description",
                Some(form.description.as_str()),
                limits::DESCRIPTION,
            )?,
            ..FrameworkFields::default()
        };
        Ok::<_, AppError>(
            state
                .store
                .create_framework(&org.id, &fields, &state.uris, state.clock.now())
                .await?,
        )
    }
    .await;
    match result {
        Ok(fw) => Ok(see_other(&format!("/frameworks/{}", fw.id))),
        Err(e) => {
            let (status, message) = form_problem(e)?;
            let page = list_page(&state, viewer, &slug, Some(message), form).await?;
            Ok(render(status, &page))
        }
    }
}

/// A prerequisite as shown under a competency.
#[derive(Clone)]
struct PrereqLink {
    /// Where it is shown, when it is in this framework.
    href: Option<String>,
    label: String,
}

/// One competency of the tree, in depth-first order. The template opens a nested `<ul>` after
/// a node with children and closes `closes` levels after a leaf, which yields properly nested
/// lists without recursion in the template.
struct Node {
    c: Competency,
    retired: bool,
    prereqs: Vec<PrereqLink>,
    has_children: bool,
    /// Descendants not shown on this page (big trees are cut below the second level).
    hidden: usize,
    closes: usize,
}

/// A search hit.
struct Hit {
    id: String,
    code: Option<String>,
    statement: String,
}

#[derive(Template)]
#[template(path = "framework.html")]
struct TreePage {
    chrome: Chrome,
    fw: Framework,
    org_name: String,
    org_slug: String,
    retired_fw: bool,
    can_edit: bool,
    nodes: Vec<Node>,
    total: usize,
    q: String,
    hits: Option<Vec<Hit>>,
    show_retired: bool,
    notice: Option<String>,
    /// The competency whose part of the tree is shown, if not the whole.
    focus: Option<String>,
    /// Whether deeper levels were cut.
    capped: bool,
}

/// Search and display options of the tree page.
#[derive(Debug, Deserialize)]
pub struct TreeQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    retired: Option<String>,
    done: Option<String>,
    /// Show only the part of the tree under this competency.
    root: Option<String>,
}

/// `GET /frameworks/{id}`: the competency tree, a search box and its results.
pub async fn tree(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<TreeQuery>,
) -> Result<Response, PageError> {
    let fw = state.store.framework(&id).await?;
    viewer.caller.require_member(&fw.org_id)?;
    let can_edit = viewer
        .caller
        .require_role(&fw.org_id, Role::can_edit_registry)
        .is_ok();
    let org = state.store.org(&fw.org_id).await?;
    let show_retired = query.retired.as_deref() == Some("1");
    let all = state
        .store
        .competencies(
            &id,
            &CompetencySearch {
                include_retired: show_retired,
                ..CompetencySearch::default()
            },
            TREE_LIMIT,
            0,
        )
        .await?
        .items;
    let order = state.store.hierarchy(&id).await?;
    let mut walk = walk_tree(&all, &order);
    let focus = match query.root.as_deref().filter(|r| !r.is_empty()) {
        None => None,
        Some(root) => {
            let index = all
                .iter()
                .position(|c| c.id == root)
                .ok_or(AppError::NotFound)?;
            walk = subtree(&walk, index).ok_or(AppError::NotFound)?;
            Some(label(&all[index]))
        }
    };
    let (kept, capped) = cap(walk, FULL_TREE);
    // Prerequisites only of what is shown.
    let mut prereqs = Vec::with_capacity(kept.len());
    for (i, _, _) in &kept {
        prereqs.push(state.store.prerequisites(&all[*i].id).await?);
    }
    let total = all.len();
    let tree_url = format!("/frameworks/{id}");
    // Prerequisites not among the competencies read: retired ones of this framework (while they
    // are hidden) or competencies of other frameworks of the organisation.
    let mut outside: HashMap<String, PrereqLink> = HashMap::new();
    let known: std::collections::HashSet<&str> = all.iter().map(|c| c.id.as_str()).collect();
    for p in prereqs.iter().flatten() {
        if known.contains(p.as_str()) || outside.contains_key(p) {
            continue;
        }
        let link = match state.store.competency(p).await {
            Ok(c) if c.framework_id == id => PrereqLink {
                href: Some(format!("{tree_url}?retired=1#c-{p}")),
                label: format!("{} (retired)", label(&c)),
            },
            Ok(c) if c.org_id == fw.org_id => PrereqLink {
                href: Some(format!("/frameworks/{}?root={p}#c-{p}", c.framework_id)),
                label: format!("{} (another framework)", label(&c)),
            },
            Ok(_) | Err(tessera_store::StoreError::NotFound) => PrereqLink {
                href: None,
                label: format!("{p} (not available)"),
            },
            Err(e) => return Err(e.into()),
        };
        outside.insert(p.clone(), link);
    }
    let nodes = shape(all, &kept, prereqs, &tree_url, &outside);
    let q = query.q.trim().to_owned();
    let hits = if q.is_empty() {
        None
    } else if q.chars().count() > 200 {
        return Err(
            AppError::InvalidParameter("the search text is over 200 characters".into()).into(),
        );
    } else {
        let found = state
            .store
            .competencies(
                &id,
                &CompetencySearch {
                    text: Some(q.clone()),
                    include_retired: show_retired,
                    ..CompetencySearch::default()
                },
                100,
                0,
            )
            .await?
            .items;
        Some(
            found
                .into_iter()
                .map(|c| Hit {
                    id: c.id,
                    code: c.code,
                    statement: c.statement,
                })
                .collect(),
        )
    };
    let notice = match query.done.as_deref() {
        Some("created") => Some("The competency was added.".to_owned()),
        Some("saved") => Some("The competency was saved.".to_owned()),
        Some("retired") => Some("The competency was retired.".to_owned()),
        Some("restored") => Some("The competency is active again.".to_owned()),
        _ => None,
    };
    let page = TreePage {
        chrome: viewer.chrome,
        retired_fw: fw.status == Status::Retired,
        total,
        focus,
        capped,
        fw,
        org_name: org.name,
        org_slug: org.slug,
        can_edit,
        nodes,
        q,
        hits,
        show_retired,
        notice,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Orders competencies depth-first by the hierarchy (siblings in CASE sequence order, then by
/// code): `(index into all, depth)` pairs. A competency whose parent is not shown (retired, or
/// in a loop) is placed at the top so nothing disappears.
fn walk_tree(all: &[Competency], order: &[(String, String)]) -> Vec<(usize, usize)> {
    let position: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .rev()
        .map(|(i, (child, _))| (child.as_str(), i))
        .collect();
    let index: HashMap<&str, usize> = all
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, c) in all.iter().enumerate() {
        let parent = c
            .parent_id
            .as_deref()
            .and_then(|p| index.get(p).copied())
            .filter(|p| *p != i);
        children.entry(parent).or_default().push(i);
    }
    let sort_key = |i: &usize| {
        let c = &all[*i];
        (
            position.get(c.id.as_str()).copied().unwrap_or(usize::MAX),
            c.code.clone().unwrap_or_default(),
        )
    };
    for list in children.values_mut() {
        list.sort_by_key(sort_key);
    }
    // `seen` keeps a corrupt (cyclic) hierarchy from looping, and whatever a loop left
    // unreachable is walked from the top afterwards.
    let mut walk: Vec<(usize, usize)> = Vec::with_capacity(all.len());
    let mut seen = vec![false; all.len()];
    let roots = children.get(&None).cloned().unwrap_or_default();
    for start in roots.into_iter().chain(0..all.len()) {
        let mut stack = vec![(start, 0usize)];
        while let Some((i, depth)) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            walk.push((i, depth));
            if let Some(kids) = children.get(&Some(i)) {
                stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
            }
        }
    }
    walk
}

/// The part of a walk under (and including) the competency at `root`, its depths counted from
/// it; `None` if it is not in the walk.
fn subtree(walk: &[(usize, usize)], root: usize) -> Option<Vec<(usize, usize)>> {
    let start = walk.iter().position(|(i, _)| *i == root)?;
    let base = walk[start].1;
    let mut out = vec![(root, 0)];
    out.extend(
        walk[start + 1..]
            .iter()
            .take_while(|(_, d)| *d > base)
            .map(|(i, d)| (*i, d - base)),
    );
    Some(out)
}

/// Big trees are cut below the second level so a page stays light; each cut node counts what
/// it hides: `(index, depth, hidden descendants)`.
fn cap(walk: Vec<(usize, usize)>, limit: usize) -> (Vec<(usize, usize, usize)>, bool) {
    if walk.len() <= limit {
        return (walk.into_iter().map(|(i, d)| (i, d, 0)).collect(), false);
    }
    let mut kept: Vec<(usize, usize, usize)> = Vec::new();
    for (i, d) in walk {
        if d <= 1 {
            kept.push((i, d, 0));
        } else if let Some(last) = kept.last_mut() {
            // In depth-first order the last kept node is this one's ancestor at depth 1.
            last.2 += 1;
        }
    }
    (kept, true)
}

/// The nodes to render, in order, with where nested lists open and close. The template opens a
/// nested `<ul>` after a node with children and closes `closes` levels after a leaf, which
/// yields properly nested lists without recursion in the template.
fn shape(
    all: Vec<Competency>,
    kept: &[(usize, usize, usize)],
    prereqs: Vec<Vec<String>>,
    tree_url: &str,
    outside: &HashMap<String, PrereqLink>,
) -> Vec<Node> {
    let labels: HashMap<String, String> = all.iter().map(|c| (c.id.clone(), label(c))).collect();
    let shown: std::collections::HashSet<&str> =
        kept.iter().map(|(i, _, _)| all[*i].id.as_str()).collect();
    let links: Vec<Vec<PrereqLink>> = prereqs
        .into_iter()
        .map(|list| {
            list.into_iter()
                .map(|p| match labels.get(p.as_str()) {
                    Some(l) if shown.contains(p.as_str()) => PrereqLink {
                        href: Some(format!("#c-{p}")),
                        label: l.clone(),
                    },
                    Some(l) => PrereqLink {
                        href: Some(format!("{tree_url}?root={p}#c-{p}")),
                        label: l.clone(),
                    },
                    None => match outside.get(&p) {
                        Some(link) => link.clone(),
                        None => PrereqLink {
                            href: None,
                            label: p,
                        },
                    },
                })
                .collect()
        })
        .collect();
    let mut slots: Vec<Option<Competency>> = all.into_iter().map(Some).collect();
    let mut nodes = Vec::with_capacity(kept.len());
    for (n, ((i, depth, hidden), prereqs)) in kept.iter().zip(links).enumerate() {
        let next = kept.get(n + 1).map_or(0, |k| k.1);
        let has_children = next > *depth;
        let Some(c) = slots[*i].take() else { continue };
        nodes.push(Node {
            retired: c.status == Status::Retired,
            c,
            prereqs,
            has_children,
            hidden: *hidden,
            closes: if has_children {
                0
            } else {
                depth - next.min(*depth)
            },
        });
    }
    nodes
}

/// How a competency is named in links: its code, else the start of its statement.
fn label(c: &Competency) -> String {
    match &c.code {
        Some(code) => code.clone(),
        None => c.statement.chars().take(40).collect(),
    }
}

/// The competency form, for both new and existing competencies.
#[derive(Debug, Default, Deserialize)]
pub struct CompetencyForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    revision: i64,
    #[serde(default)]
    code: String,
    #[serde(default)]
    statement: String,
    #[serde(default)]
    abbreviated_statement: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    item_type: String,
    #[serde(default)]
    language: String,
    /// The parent's code (or identifier); empty for the top level.
    #[serde(default)]
    parent: String,
    /// Codes (or identifiers) of prerequisites, separated by commas or spaces.
    #[serde(default)]
    prerequisites: String,
}

#[derive(Template)]
#[template(path = "competency_form.html")]
struct FormPage {
    chrome: Chrome,
    fw: Framework,
    /// `None` for a new competency.
    competency_id: Option<String>,
    retired: bool,
    form: CompetencyForm,
    error: Option<String>,
}

fn blank(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

fn fields(form: &CompetencyForm) -> Result<CompetencyFields, AppError> {
    Ok(CompetencyFields {
        code: reg::code(blank(&form.code))?,
        statement: reg::required_text("statement", &form.statement, limits::STATEMENT)?,
        abbreviated_statement: reg::optional_text(
            "abbreviated_statement",
            blank(&form.abbreviated_statement),
            limits::SHORT,
        )?,
        description: reg::optional_text(
            "description",
            blank(&form.description),
            limits::DESCRIPTION,
        )?,
        item_type: reg::optional_text("item_type", blank(&form.item_type), limits::SHORT)?,
        language: reg::language_tag(blank(&form.language))?,
    })
}

/// Finds a competency of framework `fw` by code, or of the organisation by identifier.
async fn resolve(state: &AppState, fw: &Framework, what: &str) -> Result<String, AppError> {
    let by_code = state
        .store
        .competencies(
            &fw.id,
            &CompetencySearch {
                code: Some(what.to_owned()),
                include_retired: true,
                ..CompetencySearch::default()
            },
            2,
            0,
        )
        .await?
        .items;
    match by_code.as_slice() {
        [one] => return Ok(one.id.clone()),
        [_, _, ..] => {
            return Err(AppError::Validation {
                field: "prerequisites",
                reason: format!(
                    "the code {what} is used twice in this framework; give the identifier instead"
                ),
            });
        }
        [] => {}
    }
    match state.store.competency(what).await {
        Ok(c) if c.org_id == fw.org_id => Ok(c.id),
        Ok(_) | Err(tessera_store::StoreError::NotFound) => Err(AppError::Validation {
            field: "code",
            reason: format!("no competency {what} in this framework or organisation"),
        }),
        Err(e) => Err(e.into()),
    }
}

/// How a competency is referred to in the form: its code when it is in `fw`, else its id.
async fn reference(state: &AppState, fw: &Framework, id: &str) -> Result<String, AppError> {
    match state.store.competency(id).await {
        Ok(c) if c.framework_id == fw.id => Ok(c.code.unwrap_or(c.id)),
        Ok(c) => Ok(c.id),
        Err(tessera_store::StoreError::NotFound) => Ok(id.to_owned()),
        Err(e) => Err(e.into()),
    }
}

async fn editable_framework(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<Framework, PageError> {
    let fw = state.store.framework(id).await?;
    viewer
        .caller
        .require_role(&fw.org_id, Role::can_edit_registry)?;
    Ok(fw)
}

/// Parent hint: `?parent=<code>` prefills the form from a tree node's "add below" link.
#[derive(Debug, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    parent: String,
}

/// `GET /frameworks/{id}/competencies/new`.
pub async fn new_competency_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let fw = editable_framework(&state, &viewer, &id).await?;
    let page = FormPage {
        chrome: viewer.chrome,
        form: CompetencyForm {
            revision: fw.revision,
            parent: q.parent,
            ..CompetencyForm::default()
        },
        fw,
        competency_id: None,
        retired: false,
        error: None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /frameworks/{id}/competencies/new`.
pub async fn create_competency(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    PageForm(form): PageForm<CompetencyForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let fw = editable_framework(&state, &viewer, &id).await?;
    let result = async {
        let fields = fields(&form)?;
        let parent = match blank(&form.parent) {
            Some(p) => Some(resolve(&state, &fw, p).await?),
            None => None,
        };
        let prereqs = resolve_all(&state, &fw, &form.prerequisites).await?;
        let c = state
            .store
            .create_competency(
                &fw.id,
                &fields,
                parent.as_deref(),
                &state.uris,
                state.clock.now(),
            )
            .await?;
        if !prereqs.is_empty() {
            state
                .store
                .replace_prerequisites(&c.id, &prereqs, &state.uris, state.clock.now())
                .await?;
        }
        Ok::<_, AppError>(c)
    }
    .await;
    match result {
        Ok(c) => Ok(see_other(&format!(
            "/frameworks/{}?done=created#c-{}",
            fw.id, c.id
        ))),
        Err(e) => {
            let (status, message) = form_problem(e)?;
            let page = FormPage {
                chrome: viewer.chrome,
                fw,
                competency_id: None,
                retired: false,
                form,
                error: Some(message),
            };
            Ok(render(status, &page))
        }
    }
}

async fn resolve_all(
    state: &AppState,
    fw: &Framework,
    list: &str,
) -> Result<Vec<String>, AppError> {
    let mut ids = Vec::new();
    for part in list
        .split([',', ' ', '\n', '\r', '\t'])
        .filter(|p| !p.is_empty())
    {
        if ids.len() >= 1000 {
            return Err(AppError::Validation {
                field: "prerequisites",
                reason: "at most 1000".into(),
            });
        }
        let id = resolve(state, fw, part).await?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// `GET /competencies/{id}/edit`.
pub async fn edit_competency_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let c = state.store.competency(&id).await?;
    let fw = editable_framework(&state, &viewer, &c.framework_id).await?;
    let form = form_for(&state, &fw, &c).await?;
    let page = FormPage {
        chrome: viewer.chrome,
        retired: c.status == Status::Retired,
        competency_id: Some(c.id),
        fw,
        form,
        error: None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The form filled from a stored competency.
async fn form_for(
    state: &AppState,
    fw: &Framework,
    c: &Competency,
) -> Result<CompetencyForm, AppError> {
    let parent = match &c.parent_id {
        Some(p) => reference(state, fw, p).await?,
        None => String::new(),
    };
    let mut prereqs = Vec::new();
    for p in state.store.prerequisites(&c.id).await? {
        prereqs.push(reference(state, fw, &p).await?);
    }
    Ok(CompetencyForm {
        csrf_token: String::new(),
        revision: fw.revision,
        code: c.code.clone().unwrap_or_default(),
        statement: c.statement.clone(),
        abbreviated_statement: c.abbreviated_statement.clone().unwrap_or_default(),
        description: c.description.clone().unwrap_or_default(),
        item_type: c.item_type.clone().unwrap_or_default(),
        language: c.language.clone().unwrap_or_default(),
        parent,
        prerequisites: prereqs.join(", "),
    })
}

/// `POST /competencies/{id}/edit`: saves the fields and parent (checked against the revision
/// the form was made from), then the prerequisites if they changed.
pub async fn update_competency(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    PageForm(form): PageForm<CompetencyForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let c = state.store.competency(&id).await?;
    let fw = editable_framework(&state, &viewer, &c.framework_id).await?;
    let mut saved_prerequisites = false;
    let result = async {
        let fields = fields(&form)?;
        let parent = match blank(&form.parent) {
            Some(p) => Some(resolve(&state, &fw, p).await?),
            None => None,
        };
        let wanted = resolve_all(&state, &fw, &form.prerequisites).await?;
        // The form must be of the current revision, before anything is written.
        if fw.revision != form.revision {
            return Err(AppError::Conflict(
                "the framework changed since it was read",
            ));
        }
        // Prerequisites first: a loop is the likeliest refusal, and it then writes nothing.
        let mut current = state.store.prerequisites(&id).await?;
        let mut sorted = wanted.clone();
        current.sort();
        sorted.sort();
        let mut revision = form.revision;
        if current != sorted {
            state
                .store
                .replace_prerequisites(&id, &wanted, &state.uris, state.clock.now())
                .await?;
            saved_prerequisites = true;
            revision = state.store.framework(&fw.id).await?.revision;
        }
        let unchanged = fields.code == c.code
            && fields.statement == c.statement
            && fields.abbreviated_statement == c.abbreviated_statement
            && fields.description == c.description
            && fields.item_type == c.item_type
            && fields.language == c.language
            && parent == c.parent_id;
        if !unchanged {
            state
                .store
                .update_competency(
                    &id,
                    revision,
                    &fields,
                    c.status,
                    parent.as_deref(),
                    &state.uris,
                    state.clock.now(),
                )
                .await?;
        }
        Ok::<_, AppError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!(
            "/frameworks/{}?done=saved#c-{id}",
            fw.id
        ))),
        Err(e) => {
            let stale = matches!(e, AppError::Conflict(_));
            let (status, mut message) = form_problem(e)?;
            if stale {
                message = "Someone changed this framework after you opened the form. Your text is kept below; check it and save again.".to_owned();
            } else if saved_prerequisites {
                message =
                    format!("The prerequisites were saved, but not the other changes. {message}");
            }
            // A fresh revision so that saving again works once the problem is fixed.
            let fw = state.store.framework(&fw.id).await?;
            let form = CompetencyForm {
                revision: fw.revision,
                ..form
            };
            let page = FormPage {
                chrome: viewer.chrome,
                fw,
                retired: c.status == Status::Retired,
                competency_id: Some(id),
                form,
                error: Some(message),
            };
            Ok(render(status, &page))
        }
    }
}

/// The retire/restore form.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    revision: i64,
    #[serde(default)]
    status: String,
}

/// `POST /competencies/{id}/status`: retire (nothing is deleted; credentials may point at it)
/// or bring back.
pub async fn set_status(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    PageForm(form): PageForm<StatusForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let c = state.store.competency(&id).await?;
    let fw = editable_framework(&state, &viewer, &c.framework_id).await?;
    let status = Status::parse(&form.status).map_err(AppError::from)?;
    let fields = CompetencyFields {
        code: c.code.clone(),
        statement: c.statement.clone(),
        abbreviated_statement: c.abbreviated_statement.clone(),
        description: c.description.clone(),
        item_type: c.item_type.clone(),
        language: c.language.clone(),
    };
    let result = state
        .store
        .update_competency(
            &id,
            form.revision,
            &fields,
            status,
            c.parent_id.as_deref(),
            &state.uris,
            state.clock.now(),
        )
        .await;
    match result {
        Ok(_) => {
            let done = if status == Status::Retired {
                "retired&retired=1"
            } else {
                "restored"
            };
            Ok(see_other(&format!(
                "/frameworks/{}?done={done}#c-{id}",
                fw.id
            )))
        }
        Err(e) => {
            let e = AppError::from(e);
            let stale = matches!(e, AppError::Conflict(_));
            let (status, mut message) = form_problem(e)?;
            if stale {
                message = "Someone changed this framework meanwhile. Nothing was changed; look at it again and retry.".to_owned();
            }
            let form = form_for(&state, &fw, &c).await?;
            let page = FormPage {
                chrome: viewer.chrome,
                retired: c.status == Status::Retired,
                competency_id: Some(id),
                fw,
                form,
                error: Some(message),
            };
            Ok(render(status, &page))
        }
    }
}
