//! The equity audit: mastery rates and time to mastery by subgroup, with small cells suppressed.
//!
//! # What is counted
//! The unit is a learner × competency record with at least one mastery event (the learner has
//! *started* it). SQL reduces each record's events to its first event (the start of the time to
//! mastery, as in `tessera_review::MasteryRecord::time_to_mastery`) and its last event (the
//! current state; a record that is mastered now became so with its last event, because every
//! event after a mastery leads away from it), joined with the learner's answer for the
//! attribute. The medians are computed here, in Rust: neither SQLite nor the SQL both databases
//! share has a median, and timestamp arithmetic differs between them.
//!
//! For each section (all competencies in view, then each framework, or each competency of the
//! chosen framework) and each group (every offered answer, then "not stated" for learners who
//! gave none, so the groups partition the learners):
//! - **learners**: distinct learners with a started record in the section;
//! - **mastery rate**: mastered records / started records (for one competency: the share of
//!   its learners who master it now);
//! - **median days to mastery**: over the records mastered now, from first event to mastery.
//!
//! # Suppression ([`THRESHOLD`] = 10)
//! 1. A cell with fewer than 10 learners (0 included) shows none of its figures, only "fewer
//!    than 10"; so does the total when it is under 10.
//! 2. The groups add up to the total, so one suppressed cell could be recomputed as the total
//!    minus the others. When exactly one cell of a section is suppressed with learners in it,
//!    the next smallest shown cell is suppressed too ("suppressed to protect a small group"),
//!    so only the sum of two unknown cells can be derived. Empty cells are suppressed as well
//!    but never count as that protection: a reader who knows a group is empty would otherwise
//!    learn the other cell exactly. If no cell can be added the total is suppressed instead.
//! 3. A median rests on the mastered records: with fewer than 10 learners among them it is not
//!    shown either (medians do not add up, so no second suppression is needed for them).
//!
//! Known limits, written down rather than hidden: the guard holds within one table (one
//! section of one attribute). Differences between tables — a framework against its
//! competencies, or two downloads before and after one learner answers or withdraws — are not
//! controlled, and when two suppressed cells together have a rate of 0 % or 100 % that rate is
//! implied for both.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::subgroups::AttributeDefinition;
use crate::{Store, StoreError, read};

/// The smallest number of learners a figure may rest on.
pub const THRESHOLD: u32 = 10;

/// The group of learners who gave no answer for the attribute.
pub const NOT_STATED: &str = "not stated";

/// One started learner × competency record, reduced by SQL.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordFact {
    /// The learner.
    pub learner_id: String,
    /// The competency.
    pub competency_id: String,
    /// Its framework.
    pub framework_id: String,
    /// The first event.
    pub first_at: DateTime<Utc>,
    /// The last event.
    pub last_at: DateTime<Utc>,
    /// The state after the last event.
    pub state: String,
    /// The learner's answer for the attribute, if they gave one.
    pub value: Option<String>,
}

impl RecordFact {
    /// Seconds from first event to mastery, when mastered now.
    fn mastered_after(&self) -> Option<i64> {
        (self.state == "mastered").then(|| (self.last_at - self.first_at).num_seconds().max(0))
    }
}

/// Why a cell shows no figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Suppression {
    /// Fewer than [`THRESHOLD`] learners.
    FewerThanThreshold,
    /// Enough learners, hidden so a small cell cannot be recomputed from the total.
    Complementary,
}

/// One group's figures in one section. Suppressed cells carry no figures at all.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cell {
    /// The answer, [`NOT_STATED`], or `total`.
    pub group: String,
    /// Why the figures are hidden (absent when shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    /// Distinct learners with a started record.
    pub learners: Option<u32>,
    /// Mastered records per started record, in percent (one decimal).
    pub mastery_rate_percent: Option<f64>,
    /// Median days from first activity to mastery (one decimal).
    pub median_days_to_mastery: Option<f64>,
    /// The median is hidden because fewer than [`THRESHOLD`] learners mastered.
    pub median_suppressed: bool,
}

/// What a section covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// Every competency in view.
    All,
    /// One framework.
    Framework,
    /// One competency.
    Competency,
}

/// One table of the audit: a scope, a cell per group and the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Section {
    /// What it covers.
    pub scope: ScopeKind,
    /// The framework or competency id (absent for `all`).
    pub id: Option<String>,
    /// The competency's human code, if any.
    pub code: Option<String>,
    /// The framework title or competency statement.
    pub title: String,
    /// One cell per group, in [`EquityReport::groups`] order.
    pub cells: Vec<Cell>,
    /// All learners of the section.
    pub total: Cell,
}

/// The audit for one attribute.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EquityReport {
    /// The attribute's key.
    pub attribute: String,
    /// Its question.
    pub label: String,
    /// The framework in view (absent: every framework of the organisation).
    pub framework_id: Option<String>,
    /// The suppression threshold.
    pub threshold: u32,
    /// The groups: the offered answers, then [`NOT_STATED`].
    pub groups: Vec<String>,
    /// The whole view first, then each framework (or each competency of the framework).
    pub sections: Vec<Section>,
}

/// Names for the sections.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Competency id → (framework id, code, statement).
    pub competencies: HashMap<String, (String, Option<String>, String)>,
    /// Framework id → title.
    pub frameworks: HashMap<String, String>,
}

/// Accumulates one cell.
#[derive(Default)]
struct Tally {
    learners: BTreeSet<String>,
    started: u64,
    mastered: u64,
    mastered_learners: BTreeSet<String>,
    seconds: Vec<i64>,
}

impl Tally {
    fn add(&mut self, f: &RecordFact) {
        if !self.learners.contains(&f.learner_id) {
            self.learners.insert(f.learner_id.clone());
        }
        self.started += 1;
        if let Some(s) = f.mastered_after() {
            self.mastered += 1;
            self.seconds.push(s);
            if !self.mastered_learners.contains(&f.learner_id) {
                self.mastered_learners.insert(f.learner_id.clone());
            }
        }
    }

    fn cell(mut self, group: &str) -> Cell {
        let learners = u32::try_from(self.learners.len()).unwrap_or(u32::MAX);
        let enough_mastered = self.mastered_learners.len() >= THRESHOLD as usize;
        let median = enough_mastered
            .then(|| median_days(&mut self.seconds))
            .flatten();
        Cell {
            group: group.to_owned(),
            suppressed: None,
            learners: Some(learners),
            mastery_rate_percent: (self.started > 0)
                .then(|| round1(self.mastered as f64 * 100.0 / self.started as f64)),
            median_days_to_mastery: median,
            median_suppressed: !enough_mastered,
        }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The median of durations in seconds, as days with one decimal.
fn median_days(seconds: &mut [i64]) -> Option<f64> {
    if seconds.is_empty() {
        return None;
    }
    seconds.sort_unstable();
    let n = seconds.len();
    let mid = if n % 2 == 1 {
        seconds[n / 2] as f64
    } else {
        (seconds[n / 2 - 1] as f64 + seconds[n / 2] as f64) / 2.0
    };
    Some(round1(mid / 86_400.0))
}

impl Cell {
    fn hide(&mut self, why: Suppression) {
        self.suppressed = Some(why);
        self.learners = None;
        self.mastery_rate_percent = None;
        self.median_days_to_mastery = None;
        self.median_suppressed = true;
    }

    /// Whether the cell's figures are shown.
    pub fn is_shown(&self) -> bool {
        self.suppressed.is_none()
    }
}

/// Applies the suppression rules to a section whose groups partition its total.
/// `counts` are the true learner counts of `cells` (the cells still show them on entry).
pub fn suppress(cells: &mut [Cell], total: &mut Cell) {
    let counts: Vec<u32> = cells.iter().map(|c| c.learners.unwrap_or(0)).collect();
    let total_n = total.learners.unwrap_or(0);
    for (c, n) in cells.iter_mut().zip(&counts) {
        if *n < THRESHOLD {
            c.hide(Suppression::FewerThanThreshold);
        }
    }
    if total_n < THRESHOLD {
        total.hide(Suppression::FewerThanThreshold);
        return;
    }
    let hidden_with_learners = cells
        .iter()
        .zip(&counts)
        .filter(|(c, n)| !c.is_shown() && **n > 0)
        .count();
    if hidden_with_learners == 1 {
        let smallest = cells
            .iter()
            .zip(&counts)
            .enumerate()
            .filter(|(_, (c, _))| c.is_shown())
            .min_by_key(|(_, (_, n))| **n)
            .map(|(i, _)| i);
        match smallest {
            Some(i) => cells[i].hide(Suppression::Complementary),
            None => total.hide(Suppression::Complementary),
        }
    }
}

/// Builds the report from the reduced records (pure; the suppression is applied here).
pub fn build_report(
    def: &AttributeDefinition,
    framework_id: Option<&str>,
    facts: &[RecordFact],
    names: &Names,
) -> EquityReport {
    let mut groups = def.values.clone();
    groups.push(NOT_STATED.to_owned());
    // An answer no longer offered cannot be stored (the store deletes it when the offer
    // changes), but a row that slipped through still belongs to "not stated", never to a
    // group of its own.
    let group_of = |f: &RecordFact| -> usize {
        f.value
            .as_deref()
            .and_then(|v| def.values.iter().position(|o| o == v))
            .unwrap_or(def.values.len())
    };
    let sub_key = |f: &RecordFact| -> String {
        if framework_id.is_some() {
            f.competency_id.clone()
        } else {
            f.framework_id.clone()
        }
    };
    let new_tallies = || -> Vec<Tally> { groups.iter().map(|_| Tally::default()).collect() };
    let mut all = new_tallies();
    let mut all_total = Tally::default();
    let mut subs: BTreeMap<String, (Vec<Tally>, Tally)> = BTreeMap::new();
    for f in facts {
        let g = group_of(f);
        all[g].add(f);
        all_total.add(f);
        let (tallies, total) = subs
            .entry(sub_key(f))
            .or_insert_with(|| (new_tallies(), Tally::default()));
        tallies[g].add(f);
        total.add(f);
    }
    let finish = |tallies: Vec<Tally>, total: Tally| -> (Vec<Cell>, Cell) {
        let mut cells: Vec<Cell> = tallies
            .into_iter()
            .zip(&groups)
            .map(|(t, g)| t.cell(g))
            .collect();
        let mut total = total.cell("total");
        suppress(&mut cells, &mut total);
        (cells, total)
    };
    let mut sections = Vec::with_capacity(subs.len() + 1);
    let (cells, total) = finish(all, all_total);
    let all_title = match framework_id {
        Some(id) => names
            .frameworks
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned()),
        None => "All frameworks".to_owned(),
    };
    sections.push(Section {
        scope: ScopeKind::All,
        id: None,
        code: None,
        title: all_title,
        cells,
        total,
    });
    let mut rest: Vec<Section> = subs
        .into_iter()
        .map(|(id, (tallies, total))| {
            let (cells, total) = finish(tallies, total);
            let (scope, code, title) = if framework_id.is_some() {
                match names.competencies.get(&id) {
                    Some((_, code, statement)) => {
                        (ScopeKind::Competency, code.clone(), statement.clone())
                    }
                    None => (ScopeKind::Competency, None, id.clone()),
                }
            } else {
                let title = names.frameworks.get(&id).cloned().unwrap_or(id.clone());
                (ScopeKind::Framework, None, title)
            };
            Section {
                scope,
                id: Some(id),
                code,
                title,
                cells,
                total,
            }
        })
        .collect();
    // Competencies by code (then statement), frameworks by title: the order people look for.
    rest.sort_by(|a, b| (&a.code, &a.title).cmp(&(&b.code, &b.title)));
    sections.extend(rest);
    EquityReport {
        attribute: def.name.clone(),
        label: def.label.clone(),
        framework_id: framework_id.map(str::to_owned),
        threshold: THRESHOLD,
        groups,
        sections,
    }
}

impl Store {
    /// Every started learner × competency record in the organisation (or one framework of it),
    /// reduced to its first and last event, with the learner's answer for `attribute`.
    #[tracing::instrument(skip_all)]
    pub async fn equity_facts(
        &self,
        org_id: &str,
        attribute: &str,
        framework_id: Option<&str>,
    ) -> Result<Vec<RecordFact>, StoreError> {
        // `seq` starts at 1 for every record, and the primary key (learner, competency, seq)
        // makes both joins index lookups.
        Ok(read!(self, |pool| {
            sqlx::query_as(
                "SELECT r.learner_id, r.competency_id, c.framework_id, \
                        f.at AS first_at, l.at AS last_at, l.state, s.value \
                 FROM (SELECT learner_id, competency_id, MAX(seq) AS last_seq \
                       FROM mastery_events WHERE org_id = $1 \
                       GROUP BY learner_id, competency_id) r \
                 JOIN competencies c ON c.id = r.competency_id \
                 JOIN mastery_events f ON f.learner_id = r.learner_id \
                      AND f.competency_id = r.competency_id AND f.seq = 1 \
                 JOIN mastery_events l ON l.learner_id = r.learner_id \
                      AND l.competency_id = r.competency_id AND l.seq = r.last_seq \
                 LEFT JOIN learner_subgroups s ON s.user_id = r.learner_id \
                      AND s.org_id = $1 AND s.attribute = $2 \
                 WHERE CAST($3 AS TEXT) IS NULL OR c.framework_id = $3",
            )
            .bind(org_id)
            .bind(attribute)
            .bind(framework_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The names the report's sections need: the organisation's frameworks and competencies.
    #[tracing::instrument(skip_all)]
    pub async fn equity_names(&self, org_id: &str) -> Result<Names, StoreError> {
        let frameworks: Vec<(String, String)> = read!(self, |pool| {
            sqlx::query_as("SELECT id, title FROM frameworks WHERE org_id = $1")
                .bind(org_id)
                .fetch_all(pool)
                .await?
        });
        let competencies: Vec<(String, String, Option<String>, String)> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT c.id, c.framework_id, c.code, c.statement FROM competencies c \
                 JOIN frameworks f ON f.id = c.framework_id WHERE f.org_id = $1",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await?
        });
        Ok(Names {
            frameworks: frameworks.into_iter().collect(),
            competencies: competencies
                .into_iter()
                .map(|(id, fw, code, statement)| (id, (fw, code, statement)))
                .collect(),
        })
    }

    /// The equity audit for one attribute, over every framework of the organisation or one.
    /// [`StoreError::NotFound`] for an attribute the organisation does not define.
    #[tracing::instrument(skip_all)]
    pub async fn equity_report(
        &self,
        org_id: &str,
        attribute: &str,
        framework_id: Option<&str>,
    ) -> Result<EquityReport, StoreError> {
        let def = self.subgroup_attribute(org_id, attribute).await?;
        let facts = self.equity_facts(org_id, attribute, framework_id).await?;
        let names = self.equity_names(org_id).await?;
        Ok(build_report(&def, framework_id, &facts, &names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(n: u32) -> Cell {
        Cell {
            group: format!("g{n}"),
            suppressed: None,
            learners: Some(n),
            mastery_rate_percent: Some(50.0),
            median_days_to_mastery: Some(3.0),
            median_suppressed: false,
        }
    }

    fn run(ns: &[u32]) -> (Vec<Option<Suppression>>, Option<Suppression>) {
        let mut cells: Vec<Cell> = ns.iter().map(|n| cell(*n)).collect();
        let mut total = cell(ns.iter().sum());
        suppress(&mut cells, &mut total);
        for c in cells.iter().chain([&total]) {
            if !c.is_shown() {
                assert!(c.learners.is_none() && c.mastery_rate_percent.is_none());
                assert!(c.median_days_to_mastery.is_none());
            }
        }
        (
            cells.iter().map(|c| c.suppressed).collect(),
            total.suppressed,
        )
    }

    use Suppression::{Complementary as C, FewerThanThreshold as F};

    #[test]
    fn one_small_cell_takes_the_next_smallest_with_it() {
        assert_eq!(
            run(&[30, 5, 12, 40]),
            (vec![None, Some(F), Some(C), None], None)
        );
    }

    #[test]
    fn two_small_cells_protect_each_other() {
        assert_eq!(
            run(&[30, 5, 3, 40]),
            (vec![None, Some(F), Some(F), None], None)
        );
    }

    #[test]
    fn an_empty_cell_is_hidden_but_protects_nothing() {
        assert_eq!(
            run(&[30, 5, 0, 40]),
            (vec![Some(C), Some(F), Some(F), None], None)
        );
        // Only empty cells hidden: nothing to protect.
        assert_eq!(run(&[30, 0, 40]), (vec![None, Some(F), None], None));
    }

    #[test]
    fn a_small_total_hides_everything() {
        assert_eq!(run(&[4, 5]), (vec![Some(F), Some(F)], Some(F)));
    }

    #[test]
    fn nothing_small_nothing_hidden() {
        assert_eq!(run(&[10, 11]), (vec![None, None], None));
    }

    fn fact(learner: usize, value: Option<&str>, mastered_days: Option<i64>) -> RecordFact {
        let first = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        RecordFact {
            learner_id: format!("l{learner}"),
            competency_id: "c1".into(),
            framework_id: "f1".into(),
            first_at: first,
            last_at: first + chrono::Duration::days(mastered_days.unwrap_or(1)),
            state: if mastered_days.is_some() {
                "mastered".into()
            } else {
                "submitted".into()
            },
            value: value.map(str::to_owned),
        }
    }

    #[test]
    fn report_counts_rates_medians_and_hides_small_groups() {
        let def = AttributeDefinition::parse("lang", "Language", ["en", "fr", "de"]).unwrap();
        let mut facts = Vec::new();
        // 12 "en": 10 mastered in 1..=10 days, 2 not yet.
        for i in 0..12 {
            facts.push(fact(i, Some("en"), (i < 10).then_some(i as i64 + 1)));
        }
        // 3 "fr", all mastered in 2 days.
        for i in 12..15 {
            facts.push(fact(i, Some("fr"), Some(2)));
        }
        // 11 "de", all mastered in 3 days.
        for i in 35..46 {
            facts.push(fact(i, Some("de"), Some(3)));
        }
        // 20 not stated, 5 mastered.
        for i in 15..35 {
            facts.push(fact(i, None, (i < 20).then_some(4)));
        }
        let r = build_report(&def, None, &facts, &Names::default());
        assert_eq!(r.groups, ["en", "fr", "de", NOT_STATED]);
        let all = &r.sections[0];
        let en = &all.cells[0];
        assert_eq!(en.learners, Some(12));
        assert_eq!(en.mastery_rate_percent, Some(83.3));
        assert_eq!(en.median_days_to_mastery, Some(5.5));
        // fr (3) is small; the smallest other cell (de, 11) is hidden with it.
        assert_eq!(all.cells[1].suppressed, Some(F));
        assert_eq!(all.cells[2].suppressed, Some(C));
        assert_eq!(all.cells[2].learners, None);
        let ns = &all.cells[3];
        assert_eq!(ns.learners, Some(20));
        assert_eq!(ns.mastery_rate_percent, Some(25.0));
        assert!(ns.median_suppressed && ns.median_days_to_mastery.is_none());
        assert_eq!(all.total.learners, Some(46));
        // The framework section repeats the same figures.
        assert_eq!(r.sections.len(), 2);
        assert_eq!(r.sections[1].scope, ScopeKind::Framework);
        assert_eq!(r.sections[1].cells, all.cells);
    }
}
