//! The equity pages: a learner's own subgroup answers (given with consent, withdrawn at any
//! time), the admins' list of subgroup attributes, and the audit for teachers and admins with
//! server-rendered SVG charts and a CSV download.
//!
//! Same rules and the same store calls as `routes/equity.rs`; the suppression is decided once,
//! in `tessera_store::equity`, and the page, the charts and the CSV only print what it left.

use std::fmt::Write as _;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tessera_core::account::Role;
use tessera_store::StoreError;
use tessera_store::equity::{Cell, EquityReport, Section, THRESHOLD};
use tessera_store::subgroups::{AttributeDefinition, LearnerSubgroup};

use super::{Chrome, PageError, PageForm, Viewer, render, see_other};
use crate::error::AppError;
use crate::routes::equity::{csv_response, hidden_text, is_auditor, load_report, require_learner};
use crate::state::AppState;

/// A notice after a saved form.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// A learner's own answers.

struct AnswerChoice {
    value: String,
    selected: bool,
}

struct AttributeRow {
    name: String,
    label: String,
    choices: Vec<AnswerChoice>,
    current: Option<LearnerSubgroup>,
}

#[derive(Template)]
#[template(path = "equity_subgroups.html")]
struct MySubgroupsPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    rows: Vec<AttributeRow>,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn my_page(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
) -> Result<MySubgroupsPage, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    require_learner(&viewer.caller, &org.id)?;
    let defs = state.store.subgroup_attributes(&org.id).await?;
    let mine = state
        .store
        .learner_subgroups(&org.id, viewer.caller.user_id())
        .await?;
    let rows = defs
        .into_iter()
        .map(|d| {
            let current = mine.iter().find(|m| m.attribute == d.name).cloned();
            AttributeRow {
                choices: d
                    .values
                    .iter()
                    .map(|v| AnswerChoice {
                        selected: current.as_ref().is_some_and(|c| &c.value == v),
                        value: v.clone(),
                    })
                    .collect(),
                name: d.name,
                label: d.label,
                current,
            }
        })
        .collect();
    Ok(MySubgroupsPage {
        chrome: viewer.chrome.clone(),
        org_name: org.name,
        org_slug: org.slug,
        rows,
        notice: None,
        error: None,
    })
}

/// `GET /orgs/{slug}/my-subgroups`: the learner's own answers. Learners of the organisation.
pub async fn my_subgroups(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let mut page = my_page(&state, &viewer, &slug).await?;
    page.notice = match q.done.as_deref() {
        Some("saved") => Some("Your answer was saved. You can withdraw it at any time."),
        Some("withdrawn") => Some("Your answer was withdrawn and deleted."),
        _ => None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The answer form.
#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    attribute: String,
    #[serde(default)]
    value: String,
    /// A checkbox: present (`yes`) only when ticked.
    #[serde(default)]
    consent: Option<String>,
}

/// `POST /orgs/{slug}/my-subgroups`: give or change one answer, with consent.
pub async fn save_my_subgroup(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<AnswerForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    require_learner(&viewer.caller, &org.id)?;
    let problem = if form.attribute.is_empty() || form.value.is_empty() {
        Some("Choose an answer before saving.".to_owned())
    } else if form.consent.is_none() {
        Some("Tick the consent box to save an answer: it is stored only with your consent.".into())
    } else {
        match state
            .store
            .set_learner_subgroup(
                &org.id,
                viewer.caller.user_id(),
                &form.attribute,
                &form.value,
                state.clock.now(),
            )
            .await
        {
            Ok(_) => None,
            Err(StoreError::NotFound | StoreError::InvalidReference(_)) => {
                Some("That answer is not offered (any more). Choose one from the list.".into())
            }
            Err(e) => return Err(e.into()),
        }
    };
    match problem {
        None => Ok(see_other(&format!(
            "/orgs/{}/my-subgroups?done=saved",
            org.slug
        ))),
        Some(p) => {
            let mut page = my_page(&state, &viewer, &slug).await?;
            page.error = Some(p);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// The withdrawal form.
#[derive(Debug, Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    attribute: String,
}

/// `POST /orgs/{slug}/my-subgroups/withdraw`: withdraw (delete) one answer.
pub async fn withdraw_my_subgroup(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<WithdrawForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    require_learner(&viewer.caller, &org.id)?;
    if form.attribute.is_empty() {
        let mut page = my_page(&state, &viewer, &slug).await?;
        page.error = Some("Choose which answer to withdraw.".into());
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    state
        .store
        .withdraw_learner_subgroup(&org.id, viewer.caller.user_id(), &form.attribute)
        .await?;
    Ok(see_other(&format!(
        "/orgs/{}/my-subgroups?done=withdrawn",
        org.slug
    )))
}

// ---------------------------------------------------------------------------------------------
// The admins' attribute list.

#[derive(Template)]
#[template(path = "equity_attributes.html")]
struct AttributesPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    attributes: Vec<AttributeDefinition>,
    notice: Option<String>,
    error: Option<String>,
    name: String,
    label: String,
    values: String,
}

async fn attributes_page(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
) -> Result<AttributesPage, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    viewer.caller.require_role(&org.id, |r| r == Role::Admin)?;
    Ok(AttributesPage {
        chrome: viewer.chrome.clone(),
        attributes: state.store.subgroup_attributes(&org.id).await?,
        org_name: org.name,
        org_slug: org.slug,
        notice: None,
        error: None,
        name: String::new(),
        label: String::new(),
        values: String::new(),
    })
}

/// `GET /orgs/{slug}/subgroup-attributes`: the attributes learners may answer. Admins.
pub async fn attributes(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let mut page = attributes_page(&state, &viewer, &slug).await?;
    page.notice = match q.done.as_deref() {
        Some("saved") => Some("The attribute was saved.".into()),
        Some("removed") => Some("The attribute and every answer to it were deleted.".into()),
        _ => None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The attribute form.
#[derive(Debug, Deserialize)]
pub struct AttributeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    label: String,
    /// One answer per line.
    #[serde(default)]
    values: String,
}

/// `POST /orgs/{slug}/subgroup-attributes`: define or replace an attribute. Admins.
pub async fn save_attribute(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<AttributeForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_role(&org.id, |r| r == Role::Admin)?;
    match AttributeDefinition::parse(&form.name, &form.label, form.values.lines()) {
        Ok(def) => {
            state
                .store
                .put_subgroup_attribute(&org.id, &def, state.clock.now())
                .await?;
            Ok(see_other(&format!(
                "/orgs/{}/subgroup-attributes?done=saved",
                org.slug
            )))
        }
        Err(e) => {
            let mut page = attributes_page(&state, &viewer, &slug).await?;
            page.error = Some(format!(
                "{}: {}",
                match e.field {
                    "name" => "Key",
                    "label" => "Question",
                    _ => "Answers",
                },
                e.reason
            ));
            page.name = form.name;
            page.label = form.label;
            page.values = form.values;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// The removal form.
#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
}

/// `POST /orgs/{slug}/subgroup-attributes/remove`: delete an attribute and its answers. Admins.
pub async fn remove_attribute(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<RemoveForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_role(&org.id, |r| r == Role::Admin)?;
    match state
        .store
        .delete_subgroup_attribute(&org.id, &form.name)
        .await
    {
        Ok(()) => Ok(see_other(&format!(
            "/orgs/{}/subgroup-attributes?done=removed",
            org.slug
        ))),
        Err(StoreError::NotFound) => {
            let mut page = attributes_page(&state, &viewer, &slug).await?;
            page.error = Some("There is no such attribute (any more).".into());
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The audit.

/// Which audit (both optional on the page: the first attribute, every framework).
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    attribute: Option<String>,
    framework: Option<String>,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// One table row: every figure already text, a hidden one as its words.
struct RowView {
    group: String,
    learners: String,
    rate: String,
    median: String,
    hidden: bool,
}

struct SectionView {
    heading: String,
    rows: Vec<RowView>,
    total: RowView,
}

#[derive(Template)]
#[template(path = "equity.html")]
struct AuditPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    attributes: Vec<Choice>,
    frameworks: Vec<Choice>,
    label: String,
    csv_href: String,
    threshold: u32,
    rate_chart: String,
    median_chart: String,
    sections: Vec<SectionView>,
    can_define: bool,
}

fn row_view(c: &Cell) -> RowView {
    if let Some(why) = c.suppressed {
        let t = hidden_text(why);
        return RowView {
            group: c.group.clone(),
            learners: t.clone(),
            rate: t.clone(),
            median: t,
            hidden: true,
        };
    }
    RowView {
        group: c.group.clone(),
        learners: c.learners.map(|n| n.to_string()).unwrap_or_default(),
        rate: c
            .mastery_rate_percent
            .map_or_else(|| "—".to_owned(), |r| format!("{r:.1} %")),
        median: match c.median_days_to_mastery {
            Some(d) => format!("{d:.1} days"),
            None if c.median_suppressed => format!("fewer than {THRESHOLD} mastered"),
            None => "—".to_owned(),
        },
        hidden: false,
    }
}

fn section_view(s: &Section) -> SectionView {
    let heading = match &s.code {
        Some(code) if !code.is_empty() => format!("{code} {}", s.title),
        _ => s.title.clone(),
    };
    SectionView {
        heading,
        rows: s.cells.iter().map(row_view).collect(),
        total: row_view(&s.total),
    }
}

/// Escapes text for XML (SVG text nodes and attributes).
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A horizontal bar chart as inline SVG: one bar per shown cell; a hidden cell gets its words
/// and no bar, so the chart can never show what the table does not. Colours are presentation
/// attributes (the page's CSP allows no inline style).
fn bar_chart(
    id: &str,
    title: &str,
    rows: &[(&str, Option<f64>, Option<String>)],
    unit: &str,
) -> String {
    const LABEL_W: u32 = 170;
    const BAR_W: u32 = 300;
    const ROW_H: u32 = 24;
    let width = LABEL_W + BAR_W + 130;
    let height = ROW_H * u32::try_from(rows.len()).unwrap_or(0) + 30;
    let max = rows
        .iter()
        .filter_map(|(_, v, _)| *v)
        .fold(0.0_f64, f64::max)
        .max(if unit == "%" { 100.0 } else { 1.0 });
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" class=\"chart\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-labelledby=\"{id}-t\">\
         <title id=\"{id}-t\">{}</title>\
         <text x=\"0\" y=\"16\" font-size=\"14\" font-weight=\"bold\" fill=\"currentColor\">{}</text>",
        xml(title),
        xml(title)
    );
    for (i, (label, value, hidden)) in rows.iter().enumerate() {
        let y = 30 + ROW_H * u32::try_from(i).unwrap_or(0);
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"13\" text-anchor=\"end\" fill=\"currentColor\">{}</text>",
            LABEL_W - 8,
            y + 15,
            xml(label)
        );
        match (value, hidden) {
            (Some(v), None) => {
                // Rounded to whole pixels; a zero value still gets a hairline so it reads as 0.
                let w = ((v / max) * f64::from(BAR_W)).round().max(1.0);
                let shown = if unit == "%" {
                    format!("{v:.1} %")
                } else {
                    format!("{v:.1} {unit}")
                };
                let _ = write!(
                    svg,
                    "<rect x=\"{LABEL_W}\" y=\"{}\" width=\"{w}\" height=\"{}\" fill=\"#0b4f9c\"/>\
                     <text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"currentColor\">{}</text>",
                    y + 3,
                    ROW_H - 8,
                    f64::from(LABEL_W) + w + 6.0,
                    y + 15,
                    xml(&shown)
                );
            }
            (_, Some(words)) => {
                let _ = write!(
                    svg,
                    "<text x=\"{LABEL_W}\" y=\"{}\" font-size=\"13\" font-style=\"italic\" fill=\"#6b6b6b\">{}</text>",
                    y + 15,
                    xml(words)
                );
            }
            (None, None) => {
                let _ = write!(
                    svg,
                    "<text x=\"{LABEL_W}\" y=\"{}\" font-size=\"13\" fill=\"#6b6b6b\">no figure</text>",
                    y + 15
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The two charts of the whole view: mastery rate and median days to mastery per group.
fn charts(report: &EquityReport) -> (String, String) {
    let Some(all) = report.sections.first() else {
        return (String::new(), String::new());
    };
    let cells: Vec<&Cell> = all.cells.iter().chain([&all.total]).collect();
    let rates: Vec<(&str, Option<f64>, Option<String>)> = cells
        .iter()
        .map(|c| {
            (
                c.group.as_str(),
                c.mastery_rate_percent,
                c.suppressed.map(hidden_text),
            )
        })
        .collect();
    let medians: Vec<(&str, Option<f64>, Option<String>)> = cells
        .iter()
        .map(|c| {
            let words = match c.suppressed {
                Some(why) => Some(hidden_text(why)),
                None if c.median_suppressed => Some(format!("fewer than {THRESHOLD} mastered")),
                None => None,
            };
            (c.group.as_str(), c.median_days_to_mastery, words)
        })
        .collect();
    (
        bar_chart("chart-rate", "Mastery rate by group", &rates, "%"),
        bar_chart(
            "chart-median",
            "Median days to mastery by group",
            &medians,
            "days",
        ),
    )
}

/// `GET /orgs/{slug}/equity`: the audit. Teachers and admins.
pub async fn audit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_role(&org.id, is_auditor)?;
    let defs = state.store.subgroup_attributes(&org.id).await?;
    let frameworks = state.store.frameworks(&org.id, true, 500, 0).await?.items;
    let framework = q.framework.filter(|f| !f.is_empty());
    let chosen = match q.attribute.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => Some(
            defs.iter()
                .find(|d| d.name == a)
                .ok_or(AppError::NotFound)?
                .clone(),
        ),
        None => defs.first().cloned(),
    };
    let report = match &chosen {
        Some(d) => {
            Some(load_report(&state, &viewer.caller, &slug, &d.name, framework.as_deref()).await?)
        }
        None => None,
    };
    let (rate_chart, median_chart) = report.as_ref().map(charts).unwrap_or_default();
    let csv_href = match &chosen {
        Some(d) => {
            let mut h = format!(
                "/orgs/{}/equity.csv?attribute={}",
                org.slug,
                super::encode_component(&d.name)
            );
            if let Some(f) = &framework {
                h.push_str(&format!("&framework={}", super::encode_component(f)));
            }
            h
        }
        None => String::new(),
    };
    let page = AuditPage {
        chrome: viewer.chrome.clone(),
        can_define: viewer.caller.is_platform_admin()
            || viewer.caller.roles_in(&org.id).any(|r| r == Role::Admin),
        attributes: defs
            .iter()
            .map(|d| Choice {
                selected: chosen.as_ref().is_some_and(|c| c.name == d.name),
                value: d.name.clone(),
                label: d.label.clone(),
            })
            .collect(),
        frameworks: frameworks
            .into_iter()
            .map(|f| Choice {
                selected: framework.as_deref() == Some(f.id.as_str()),
                value: f.id,
                label: f.title,
            })
            .collect(),
        label: chosen.map(|d| d.label).unwrap_or_default(),
        csv_href,
        threshold: THRESHOLD,
        rate_chart,
        median_chart,
        sections: report
            .as_ref()
            .map(|r| r.sections.iter().map(section_view).collect())
            .unwrap_or_default(),
        org_name: org.name,
        org_slug: org.slug,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `GET /orgs/{slug}/equity.csv`: the audit as CSV, same suppression. Teachers and admins.
/// Without an attribute (none defined yet) it is the header row alone.
pub async fn audit_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_role(&org.id, is_auditor)?;
    let framework = q.framework.filter(|f| !f.is_empty());
    let attribute = match q.attribute.filter(|a| !a.is_empty()) {
        Some(a) => Some(a),
        None => state
            .store
            .subgroup_attributes(&org.id)
            .await?
            .into_iter()
            .next()
            .map(|d| d.name),
    };
    let report = match &attribute {
        Some(a) => load_report(&state, &viewer.caller, &slug, a, framework.as_deref()).await?,
        None => EquityReport {
            attribute: String::new(),
            label: String::new(),
            framework_id: None,
            threshold: THRESHOLD,
            groups: Vec::new(),
            sections: Vec::new(),
        },
    };
    Ok(csv_response(
        &report,
        &format!("equity-{}-{}.csv", org.slug, attribute.unwrap_or_default()),
    ))
}

#[cfg(test)]
mod tests {
    use tessera_store::equity::Suppression;

    use super::*;

    #[test]
    fn charts_draw_no_bar_for_a_hidden_cell_and_escape_labels() {
        let svg = bar_chart(
            "c",
            "T",
            &[
                ("<en>", Some(50.0), None),
                (
                    "fr",
                    None,
                    Some(hidden_text(Suppression::FewerThanThreshold)),
                ),
            ],
            "%",
        );
        assert_eq!(svg.matches("<rect").count(), 1);
        assert!(svg.contains("&lt;en&gt;") && svg.contains("fewer than 10"));
        assert!(svg.contains("50.0 %") && !svg.contains(" style="));
    }
}
