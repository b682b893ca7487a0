//! Moderation for teachers: inter-rater agreement per rubric version and reviewer pair (percent
//! agreement, agreement within one level, Cohen's kappa unweighted and weighted), and the share
//! of first reviews sampled for a second review.
//!
//! Same rules as the API: the agreement figures are for the organisation's teachers and admins
//! (moderators); the sampling share is set by its admins, always audited by the store.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tessera_core::account::Role;
use tessera_store::StoreError;
use tessera_store::reviews::ReviewSettings;

use super::{Chrome, PageError, PageForm, Viewer, render, see_other};
use crate::state::AppState;

/// Who sees the figures: the moderators.
fn moderates(r: Role) -> bool {
    matches!(r, Role::Teacher | Role::Admin)
}

/// A share as a percentage with one decimal, or a dash when it is undefined (no ratings, or
/// a kappa whose expected agreement is 1).
fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |v| format!("{:.1} %", v * 100.0))
}

fn kappa(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}"))
}

struct PairRow {
    reviewers: String,
    ratings: u64,
    exact: String,
    adjacent: String,
    kappa: String,
    kappa_linear: String,
    kappa_quadratic: String,
}

struct RubricTable {
    id: String,
    title: String,
    version: String,
    reviews: u64,
    pairs: Vec<PairRow>,
}

#[derive(Template)]
#[template(path = "review_agreement.html")]
struct AgreementPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    rubrics: Vec<RubricTable>,
    share_percent: String,
    share_value: String,
    can_set_share: bool,
    share_error: Option<String>,
    notice: Option<&'static str>,
}

/// The notice after saving the share.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn agreement_page(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
) -> Result<AgreementPage, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    viewer.caller.require_role(&org.id, moderates)?;
    let figures = state.store.review_agreement(&org.id, None).await?;
    let mut ids: Vec<String> = figures
        .iter()
        .flat_map(|r| r.pairs.iter())
        .flat_map(|p| [p.reviewer_a.clone(), p.reviewer_b.clone()])
        .collect();
    ids.sort();
    ids.dedup();
    let names = state.store.user_names(&ids).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let titles: HashMap<String, String> = state
        .store
        .rubric_choices(&org.id)
        .await?
        .into_iter()
        .map(|r| (r.id, r.title))
        .collect();
    let rubrics = figures
        .into_iter()
        .map(|r| RubricTable {
            title: titles
                .get(&r.rubric_id)
                .cloned()
                .unwrap_or_else(|| r.rubric_id.clone()),
            id: r.rubric_id,
            version: r.rubric_version,
            reviews: r.double_rated_reviews,
            pairs: r
                .pairs
                .iter()
                .map(|p| PairRow {
                    reviewers: format!("{} and {}", name(&p.reviewer_a), name(&p.reviewer_b)),
                    ratings: p.agreement.n,
                    exact: percent(p.agreement.exact),
                    adjacent: percent(p.agreement.adjacent),
                    kappa: kappa(p.agreement.kappa),
                    kappa_linear: kappa(p.agreement.kappa_linear),
                    kappa_quadratic: kappa(p.agreement.kappa_quadratic),
                })
                .collect(),
        })
        .collect();
    let share = state.store.review_settings(&org.id).await?.sample_per_mille;
    Ok(AgreementPage {
        chrome: viewer.chrome.clone(),
        org_name: org.name,
        org_slug: org.slug,
        rubrics,
        share_percent: per_mille_as_percent(share),
        share_value: per_mille_as_percent(share),
        can_set_share: viewer
            .caller
            .require_role(&org.id, |r| r == Role::Admin)
            .is_ok(),
        share_error: None,
        notice: None,
    })
}

/// 125 ‰ → "12.5", 100 ‰ → "10".
fn per_mille_as_percent(share: u16) -> String {
    if share.is_multiple_of(10) {
        format!("{}", share / 10)
    } else {
        format!("{}.{}", share / 10, share % 10)
    }
}

/// "12.5" → 125 ‰; at most one decimal, 0 to 100.
fn percent_as_per_mille(s: &str) -> Option<u16> {
    let s = s.trim().trim_end_matches('%').trim().replace(',', ".");
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty() || whole.len() > 3 || frac.len() > 1 {
        return None;
    }
    if !whole
        .bytes()
        .chain(frac.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let v = whole.parse::<u16>().ok()? * 10 + frac.parse::<u16>().unwrap_or(0);
    (v <= 1000).then_some(v)
}

/// `GET /orgs/{slug}/agreement`: the figures and the sampling share.
pub async fn agreement(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let mut page = agreement_page(&state, &viewer, &slug).await?;
    if q.done.as_deref() == Some("share") {
        page.notice = Some("The share of reviews sent to a second reviewer was saved.");
    }
    Ok(render(StatusCode::OK, &page))
}

/// The sampling form.
#[derive(Debug, Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    percent: String,
}

/// `POST /orgs/{slug}/review-settings`: admins set the share of (non-borderline) first
/// reviews that also go to a second reviewer.
pub async fn set_share(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<ShareForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_role(&org.id, |r| r == Role::Admin)?;
    let Some(share) = percent_as_per_mille(&form.percent) else {
        let mut page = agreement_page(&state, &viewer, &slug).await?;
        page.share_error = Some(
            "Give a percentage from 0 to 100, with at most one decimal (for example 10 or 12.5)."
                .to_owned(),
        );
        page.share_value = form.percent;
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    match state
        .store
        .set_review_settings(
            &org.id,
            ReviewSettings {
                sample_per_mille: share,
            },
            viewer.caller.user_id(),
            state.clock.now(),
        )
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/orgs/{}/agreement?done=share#sampling",
            org.slug
        ))),
        Err(StoreError::Domain(e)) => {
            let mut page = agreement_page(&state, &viewer, &slug).await?;
            page.share_error = Some(e.to_string());
            page.share_value = form.percent;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_read_and_print_as_percentages() {
        assert_eq!(percent_as_per_mille("12.5"), Some(125));
        assert_eq!(percent_as_per_mille(" 10 % "), Some(100));
        assert_eq!(percent_as_per_mille("0"), Some(0));
        assert_eq!(percent_as_per_mille("100"), Some(1000));
        assert_eq!(percent_as_per_mille("7,5"), Some(75));
        for bad in ["", "101", "12.55", "-1", "ten", ".5", "1e2"] {
            assert_eq!(percent_as_per_mille(bad), None, "{bad:?}");
        }
        assert_eq!(per_mille_as_percent(125), "12.5");
        assert_eq!(per_mille_as_percent(100), "10");
        assert_eq!(per_mille_as_percent(5), "0.5");
    }
}
