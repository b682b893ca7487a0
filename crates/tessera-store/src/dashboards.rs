//! The progress dashboards: the learner's own (every competency with its standing, attempts,
//! elapsed time, pace against target dates, and what to work on next) and the teacher's
//! (learners × competencies of a course, optionally one cohort, with flags and their reasons).
//!
//! # Cost
//! The teacher dashboard is a fixed number of queries, whatever the cohort size: one aggregated
//! query over `mastery_events` gives every learner × competency's current state, attempt count,
//! first and last activity from `mastery_cells` (one row per cell, kept beside the events by the
//! triggers of migration 0008), and one query each reads the learners, the
//! competencies, the prerequisites, the target dates and the teachers' flag decisions. The rest
//! is [`assemble`], plain code over those rows with the pure rules of
//! `tessera_review::flags`. Flags are computed on every read and never stored; only what a
//! teacher decided about one is (see [`Store::decide_flag`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tessera_review::flags::{self, CellFacts, DecisionKind, FlagKind, Thresholds};
use tessera_review::progress::{self, Standing};
use tessera_review::{AuditKind, MasteryState};

use crate::audit::append_audit;
use crate::mastery::subject;
use crate::{Store, StoreError, read, write};

/// Longest note on a flag decision.
pub const MAX_NOTE: usize = 2000;

// ---------------------------------------------------------------------------------------------
// Rows as read.

/// One learner × competency with activity, aggregated from its events.
#[derive(Debug, Clone)]
pub struct CellRow {
    /// The learner.
    pub learner_id: String,
    /// The competency.
    pub competency_id: String,
    /// The state after the latest event.
    pub state: String,
    /// Submissions.
    pub attempts: i64,
    /// First event.
    pub first_at: DateTime<Utc>,
    /// Latest event.
    pub last_at: DateTime<Utc>,
}

/// A learner of the organisation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LearnerRow {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A competency of the course.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashCompetency {
    /// Id.
    pub id: String,
    /// Code, if any.
    pub code: Option<String>,
    /// Statement.
    pub statement: String,
}

impl DashCompetency {
    /// The code, or the statement when there is none.
    pub fn label(&self) -> String {
        self.code.clone().unwrap_or_else(|| self.statement.clone())
    }
}

/// A `precedes` association: `origin` is a prerequisite of `destination`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PrereqRow {
    /// The prerequisite.
    pub origin_id: String,
    /// Its code, if any.
    pub origin_code: Option<String>,
    /// Its statement.
    pub origin_statement: String,
    /// The competency it gates.
    pub destination_id: String,
}

impl PrereqRow {
    fn label(&self) -> String {
        self.origin_code
            .clone()
            .unwrap_or_else(|| self.origin_statement.clone())
    }
}

/// A target date.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TargetRow {
    /// The learner.
    pub learner_id: String,
    /// The competency.
    pub competency_id: String,
    /// `YYYY-MM-DD`.
    pub target_date: String,
    /// When it was set.
    pub set_at: DateTime<Utc>,
}

/// A teacher's standing decision on a flag.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagDecision {
    /// The learner.
    pub learner_id: String,
    /// The competency.
    pub competency_id: String,
    /// The rule (`attempts_without_mastery`, `no_recent_activity`, `past_target`).
    pub kind: String,
    /// `dismissed` or `overridden`.
    pub decision: String,
    /// The flag's reason as the teacher saw it.
    pub reason: String,
    /// The teacher's note.
    pub note: String,
    /// The teacher.
    pub decided_by: String,
    /// The teacher's name.
    pub decided_by_name: Option<String>,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// Everything the teacher dashboard is made from.
#[derive(Debug, Clone)]
pub struct TeacherFacts {
    /// Learners (of the cohort, if one was named), by name.
    pub learners: Vec<LearnerRow>,
    /// The course's active competencies, by code.
    pub competencies: Vec<DashCompetency>,
    /// Aggregated activity.
    pub cells: Vec<CellRow>,
    /// Prerequisites of the course's competencies.
    pub prerequisites: Vec<PrereqRow>,
    /// Target dates on the course's competencies.
    pub targets: Vec<TargetRow>,
    /// Standing flag decisions on the course's competencies.
    pub decisions: Vec<FlagDecision>,
    /// The course's thresholds.
    pub thresholds: Thresholds,
}

// ---------------------------------------------------------------------------------------------
// The teacher dashboard.

/// A raised flag on the dashboard, with what a teacher decided about it (if that still holds).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RaisedFlag {
    /// The competency.
    pub competency_id: String,
    /// The rule.
    pub kind: String,
    /// Why, in plain words.
    pub reason: String,
    /// A teacher's dismissal or override that still sets this flag aside.
    pub decision: Option<FlagDecision>,
}

/// One learner × competency on the grid.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridCell {
    /// `not_started`, `in_progress`, `submitted`, `mastered` or `not_yet`.
    pub state: &'static str,
    /// Submissions.
    pub attempts: u32,
    /// Latest activity.
    pub last_activity: Option<DateTime<Utc>>,
    /// How many flags on this cell are not set aside.
    pub open_flags: u32,
}

/// One learner's row.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridRow {
    /// The learner.
    pub learner_id: String,
    /// Their name.
    pub name: String,
    /// Competencies mastered.
    pub mastered: u32,
    /// Started, submitted or not yet.
    pub in_progress: u32,
    /// One cell per competency, in the dashboard's competency order.
    pub cells: Vec<GridCell>,
    /// Flags, open ones first.
    pub flags: Vec<RaisedFlag>,
    /// Whether any flag is open (not set aside by a teacher).
    pub flagged: bool,
}

/// The whole cohort on one course.
#[derive(Debug, Clone)]
pub struct TeacherDashboard {
    /// Columns.
    pub competencies: Vec<DashCompetency>,
    /// Rows, by learner name.
    pub rows: Vec<GridRow>,
    /// The thresholds used.
    pub thresholds: Thresholds,
}

fn parse_state(s: &str) -> Result<MasteryState, StoreError> {
    Ok(match s {
        "in_progress" => MasteryState::InProgress,
        "submitted" => MasteryState::Submitted,
        "mastered" => MasteryState::Mastered,
        "not_yet" => MasteryState::NotYet,
        other => return Err(StoreError::Corrupt(format!("mastery state {other:?}"))),
    })
}

/// Reads the packed cells of [`Store::teacher_facts`].
fn unpack_cells(packed: Vec<(String, String)>) -> Result<Vec<CellRow>, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("mastery cell: {what}"));
    let time = |s: &str| {
        s.parse::<i64>()
            .ok()
            .and_then(|t| DateTime::from_timestamp(t, 0))
            .ok_or_else(|| corrupt("time"))
    };
    let mut out = Vec::new();
    for (learner_id, cells) in packed {
        for cell in cells.split(';') {
            let mut f = cell.rsplitn(5, ' ');
            let (Some(last), Some(first), Some(attempts), Some(state), Some(competency)) =
                (f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                return Err(corrupt("fields"));
            };
            out.push(CellRow {
                learner_id: learner_id.clone(),
                competency_id: competency.to_owned(),
                state: state.to_owned(),
                attempts: attempts.parse().map_err(|_| corrupt("attempts"))?,
                first_at: time(first)?,
                last_at: time(last)?,
            });
        }
    }
    Ok(out)
}

fn parse_date(s: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("target date: {e}")))
}

/// Builds the teacher dashboard from its facts: every learner × competency cell, the flags the
/// rules raise with their reasons, and the teachers' decisions that still hold.
pub fn assemble(facts: TeacherFacts, now: DateTime<Utc>) -> Result<TeacherDashboard, StoreError> {
    let col: HashMap<&str, usize> = facts
        .competencies
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let labels: Vec<String> = facts
        .competencies
        .iter()
        .map(DashCompetency::label)
        .collect();
    let row_of: HashMap<&str, usize> = facts
        .learners
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id.as_str(), i))
        .collect();
    let n = facts.competencies.len();
    let mut grid: Vec<Vec<CellFacts>> = vec![vec![CellFacts::empty(); n]; facts.learners.len()];
    for c in &facts.cells {
        let (Some(&r), Some(&k)) = (
            row_of.get(c.learner_id.as_str()),
            col.get(c.competency_id.as_str()),
        ) else {
            continue;
        };
        let cell = &mut grid[r][k];
        cell.state = parse_state(&c.state)?;
        cell.attempts = u32::try_from(c.attempts).unwrap_or(u32::MAX);
        cell.first_activity = Some(c.first_at);
        cell.last_activity = Some(c.last_at);
    }
    for t in &facts.targets {
        let (Some(&r), Some(&k)) = (
            row_of.get(t.learner_id.as_str()),
            col.get(t.competency_id.as_str()),
        ) else {
            continue;
        };
        grid[r][k].target = Some(parse_date(&t.target_date)?);
        grid[r][k].target_set_at = Some(t.set_at);
    }
    // Prerequisites per column: (index in the course, or None for one outside it, label, id).
    let mut prereqs: Vec<Vec<(Option<usize>, String, &str)>> = vec![Vec::new(); n];
    for p in &facts.prerequisites {
        if let Some(&k) = col.get(p.destination_id.as_str()) {
            prereqs[k].push((
                col.get(p.origin_id.as_str()).copied(),
                p.label(),
                &p.origin_id,
            ));
        }
    }
    // Prerequisites outside the course: their states come from the cells query only for the
    // course, so they are read as "not mastered" unless a cell of the course says otherwise.
    let mut decisions: HashMap<(&str, &str, &str), &FlagDecision> = HashMap::new();
    for d in &facts.decisions {
        decisions.insert((&d.learner_id, &d.competency_id, &d.kind), d);
    }
    let mut rows = Vec::with_capacity(facts.learners.len());
    for (r, learner) in facts.learners.iter().enumerate() {
        let cells = &grid[r];
        let mut out_cells = Vec::with_capacity(n);
        let mut flags_out: Vec<RaisedFlag> = Vec::new();
        let (mut mastered, mut in_progress) = (0u32, 0u32);
        for (k, cell) in cells.iter().enumerate() {
            match cell.state {
                MasteryState::Mastered => mastered += 1,
                MasteryState::NotStarted => {}
                _ => in_progress += 1,
            }
            let mut open = 0u32;
            if !matches!(
                cell.state,
                MasteryState::Mastered | MasteryState::NotStarted
            ) || cell.target.is_some()
            {
                let unmet: Vec<String> = prereqs[k]
                    .iter()
                    .filter(|(idx, _, _)| {
                        idx.is_none_or(|i| cells[i].state != MasteryState::Mastered)
                    })
                    .map(|(_, label, _)| label.clone())
                    .collect();
                for f in flags::evaluate(cell, &labels[k], &unmet, &facts.thresholds, now) {
                    let competency_id = &facts.competencies[k].id;
                    let decision = decisions
                        .get(&(learner.id.as_str(), competency_id.as_str(), f.kind.as_str()))
                        .filter(|d| {
                            DecisionKind::parse(&d.decision).is_some_and(|kind| {
                                flags::decision_applies(kind, d.decided_at, cell)
                            })
                        })
                        .map(|d| (*d).clone());
                    if decision.is_none() {
                        open += 1;
                    }
                    flags_out.push(RaisedFlag {
                        competency_id: competency_id.clone(),
                        kind: f.kind.as_str().to_owned(),
                        reason: f.reason,
                        decision,
                    });
                }
            }
            out_cells.push(GridCell {
                state: cell.state.as_str(),
                attempts: cell.attempts,
                last_activity: cell.last_activity,
                open_flags: open,
            });
        }
        flags_out.sort_by_key(|f| f.decision.is_some());
        let flagged = flags_out.iter().any(|f| f.decision.is_none());
        rows.push(GridRow {
            learner_id: learner.id.clone(),
            name: learner.name.clone(),
            mastered,
            in_progress,
            cells: out_cells,
            flags: flags_out,
            flagged,
        });
    }
    Ok(TeacherDashboard {
        competencies: facts.competencies,
        rows,
        thresholds: facts.thresholds,
    })
}

// ---------------------------------------------------------------------------------------------
// The learner dashboard.

/// One competency on the learner's dashboard.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LearnerItem {
    /// Competency id.
    pub id: String,
    /// Code, if any.
    pub code: Option<String>,
    /// Statement.
    pub statement: String,
    /// `mastered`, `in_progress`, `open_now` (not started, prerequisites met) or `not_started`
    /// (a prerequisite is not mastered yet).
    pub standing: &'static str,
    /// The record's state (`submitted` and `not_yet` are both "in progress").
    pub state: &'static str,
    /// Submissions so far.
    pub attempts: u32,
    /// First activity.
    pub first_activity: Option<DateTime<Utc>>,
    /// Latest activity.
    pub last_activity: Option<DateTime<Utc>>,
    /// When mastered.
    pub mastered_at: Option<DateTime<Utc>>,
    /// Calendar days from first activity to mastery (or to today): elapsed time, not time on
    /// task.
    pub days_elapsed: Option<i64>,
    /// The learner's target date.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub target_date: Option<NaiveDate>,
    /// `on_track` or `behind` against the target date.
    pub pace: Option<&'static str>,
    /// The pace in plain words.
    pub pace_text: Option<String>,
    /// Prerequisites not mastered yet (codes or statements), when the course gates.
    pub unmet_prerequisites: Vec<String>,
}

/// A course (framework) on the learner's dashboard.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LearnerCourse {
    /// Framework id.
    pub framework_id: String,
    /// Its title.
    pub title: String,
    /// Its competencies, in the course's order.
    pub competencies: Vec<LearnerItem>,
}

/// A suggested next step.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NextStep {
    /// The competency.
    pub competency_id: String,
    /// Its code or statement.
    pub label: String,
    /// Why, in plain words.
    pub reason: String,
}

/// Counts by standing, and against the personal plan.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LearnerCounts {
    /// Mastered.
    pub mastered: u32,
    /// In progress.
    pub in_progress: u32,
    /// Open now.
    pub open_now: u32,
    /// Not started (prerequisites not met).
    pub not_started: u32,
    /// Competencies with a target date.
    pub planned: u32,
    /// Of those, on track.
    pub on_track: u32,
    /// Of those, behind.
    pub behind: u32,
}

/// The learner's own dashboard.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LearnerDashboard {
    /// The learner.
    pub learner_id: String,
    /// Counts.
    pub counts: LearnerCounts,
    /// What to work on next, most useful first (at most three).
    pub next_steps: Vec<NextStep>,
    /// Courses, by title.
    pub courses: Vec<LearnerCourse>,
}

/// A competency the learner dashboard lists.
#[derive(Debug, Clone, sqlx::FromRow)]
struct OrgCompetencyRow {
    id: String,
    uri: String,
    code: Option<String>,
    statement: String,
    framework_id: String,
    framework_title: String,
    gates: bool,
}

impl Store {
    /// The flag thresholds of a course (the defaults when none were set).
    #[tracing::instrument(skip_all)]
    pub async fn flag_thresholds(&self, framework_id: &str) -> Result<Thresholds, StoreError> {
        let row: Option<(Option<i64>, Option<i64>, Option<i64>)> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT attempts_without_mastery, days_without_activity, days_past_target \
                 FROM flag_settings WHERE framework_id = $1",
            )
            .bind(framework_id)
            .fetch_optional(pool)
            .await?
        });
        let conv = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
        Ok(match row {
            None => Thresholds::default(),
            Some((a, d, t)) => Thresholds {
                attempts_without_mastery: conv(a),
                days_without_activity: conv(d),
                days_past_target: conv(t),
            },
        })
    }

    /// Sets a course's flag thresholds (checked; audited).
    #[tracing::instrument(skip_all)]
    pub async fn set_flag_thresholds(
        &self,
        org_id: &str,
        framework_id: &str,
        t: &Thresholds,
        by_user: &str,
        now: DateTime<Utc>,
    ) -> Result<Thresholds, StoreError> {
        t.check()
            .map_err(|(field, reason)| tessera_core::DomainError::invalid(field, reason))?;
        let subjects = [
            subject("org", org_id),
            subject("framework", framework_id),
            subject("user", by_user),
        ];
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO flag_settings (framework_id, attempts_without_mastery, \
                 days_without_activity, days_past_target, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (framework_id) DO UPDATE \
                 SET attempts_without_mastery = $2, days_without_activity = $3, \
                 days_past_target = $4, updated_by = $5, updated_at = $6",
            )
            .bind(framework_id)
            .bind(t.attempts_without_mastery.map(i64::from))
            .bind(t.days_without_activity.map(i64::from))
            .bind(t.days_past_target.map(i64::from))
            .bind(by_user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let payload = serde_json::json!({
                "setting": "flag_thresholds",
                "framework": framework_id,
                "value": t,
            })
            .to_string();
            append_audit!(tx, AuditKind::SettingChanged, &subjects, payload, now);
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(*t)
    }

    /// Records a teacher's decision on a flag, with a required note (audited; the note and the
    /// reason sit beside the chain). A later decision on the same flag replaces it.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(skip_all)]
    pub async fn decide_flag(
        &self,
        org_id: &str,
        learner_id: &str,
        competency_id: &str,
        kind: FlagKind,
        decision: DecisionKind,
        reason: &str,
        note: &str,
        by_user: &str,
        now: DateTime<Utc>,
    ) -> Result<FlagDecision, StoreError> {
        let note = note.trim();
        if note.is_empty() || note.chars().count() > MAX_NOTE {
            return Err(tessera_core::DomainError::invalid(
                "note",
                format!("a note of 1 to {MAX_NOTE} characters is required"),
            )
            .into());
        }
        let subjects = [
            subject("teacher", by_user),
            subject("learner", learner_id),
            subject("competency", competency_id),
        ];
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO flag_decisions (learner_id, competency_id, kind, org_id, decision, \
                 reason, note, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (learner_id, competency_id, kind) DO UPDATE SET decision = $5, \
                 reason = $6, note = $7, decided_by = $8, decided_at = $9",
            )
            .bind(learner_id)
            .bind(competency_id)
            .bind(kind.as_str())
            .bind(org_id)
            .bind(decision.as_str())
            .bind(reason)
            .bind(note)
            .bind(by_user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let payload = serde_json::json!({
                "flag": kind.as_str(),
                "decision": decision.as_str(),
                "reason": reason,
                "note": note,
            })
            .to_string();
            append_audit!(tx, AuditKind::FlagDecided, &subjects, payload, now);
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        let name = self.user(by_user).await.ok().map(|u| u.name);
        Ok(FlagDecision {
            learner_id: learner_id.to_owned(),
            competency_id: competency_id.to_owned(),
            kind: kind.as_str().to_owned(),
            decision: decision.as_str().to_owned(),
            reason: reason.to_owned(),
            note: note.to_owned(),
            decided_by: by_user.to_owned(),
            decided_by_name: name,
            decided_at: now,
        })
    }

    /// Clears a teacher's decision on a flag (audited), so the rule speaks again. Not found when
    /// there is none.
    #[tracing::instrument(skip_all)]
    pub async fn clear_flag_decision(
        &self,
        org_id: &str,
        learner_id: &str,
        competency_id: &str,
        kind: FlagKind,
        by_user: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let subjects = [
            subject("teacher", by_user),
            subject("learner", learner_id),
            subject("competency", competency_id),
        ];
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "DELETE FROM flag_decisions WHERE org_id = $1 AND learner_id = $2 \
                 AND competency_id = $3 AND kind = $4",
            )
            .bind(org_id)
            .bind(learner_id)
            .bind(competency_id)
            .bind(kind.as_str())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            let payload =
                serde_json::json!({ "flag": kind.as_str(), "decision": "cleared" }).to_string();
            append_audit!(tx, AuditKind::FlagDecided, &subjects, payload, now);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Reads what the teacher dashboard of course `framework_id` in `org_id` is made from, for
    /// every learner of the organisation, of one cohort, or one learner: a fixed number of
    /// queries.
    #[tracing::instrument(skip_all)]
    pub async fn teacher_facts(
        &self,
        org_id: &str,
        framework_id: &str,
        cohort_id: Option<&str>,
        learner_id: Option<&str>,
    ) -> Result<TeacherFacts, StoreError> {
        let thresholds = self.flag_thresholds(framework_id).await?;
        read!(self, |pool| {
            let learners: Vec<LearnerRow> = sqlx::query_as(
                "SELECT u.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id \
                 WHERE m.org_id = $1 AND m.role = 'learner' AND ($2 IS NULL OR m.user_id IN \
                 (SELECT learner_id FROM cohort_members WHERE cohort_id = $2)) \
                 AND ($3 IS NULL OR m.user_id = $3) ORDER BY u.name, u.id",
            )
            .bind(org_id)
            .bind(cohort_id)
            .bind(learner_id)
            .fetch_all(pool)
            .await?;
            let competencies: Vec<DashCompetency> = sqlx::query_as(
                "SELECT id, code, statement FROM competencies \
                 WHERE framework_id = $1 AND status = 'active' ORDER BY code, statement, id",
            )
            .bind(framework_id)
            .fetch_all(pool)
            .await?;
            // One row per learner (not per cell: row by row, a driver's cost per row is what
            // dominates), with every cell with activity packed as
            // `competency state attempts first last` (times in Unix seconds) and `;` between
            // cells, from the derived table the triggers of migration 0008 keep beside the
            // events. Competency ids are CASE UUIDs: no spaces, no `;`.
            let packed: Vec<(String, String)> = sqlx::query_as(
                "SELECT m.learner_id, string_agg(m.competency_id || ' ' || m.state || ' ' || \
                 CAST(m.attempts AS TEXT) || ' ' || CAST(m.first_at AS TEXT) || ' ' || \
                 CAST(m.last_at AS TEXT), ';') AS cells FROM mastery_cells m \
                 WHERE m.org_id = $1 \
                 AND m.competency_id IN (SELECT id FROM competencies WHERE framework_id = $2) \
                 AND ($3 IS NULL OR m.learner_id IN \
                   (SELECT learner_id FROM cohort_members WHERE cohort_id = $3)) \
                 AND ($4 IS NULL OR m.learner_id = $4) \
                 GROUP BY m.learner_id",
            )
            .bind(org_id)
            .bind(framework_id)
            .bind(cohort_id)
            .bind(learner_id)
            .fetch_all(pool)
            .await?;
            let cells = unpack_cells(packed)?;
            let prerequisites: Vec<PrereqRow> = sqlx::query_as(
                "SELECT o.id AS origin_id, o.code AS origin_code, o.statement AS origin_statement, \
                 a.destination_id FROM associations a \
                 JOIN competencies d ON d.id = a.destination_id \
                 JOIN competencies o ON o.id = a.origin_id \
                 WHERE d.framework_id = $1 AND a.association_type = 'precedes' \
                 AND o.status = 'active'",
            )
            .bind(framework_id)
            .fetch_all(pool)
            .await?;
            let targets: Vec<TargetRow> = sqlx::query_as(
                "SELECT t.learner_id, t.competency_id, t.target_date, t.set_at \
                 FROM target_dates t JOIN competencies c ON c.id = t.competency_id \
                 WHERE t.org_id = $1 AND c.framework_id = $2",
            )
            .bind(org_id)
            .bind(framework_id)
            .fetch_all(pool)
            .await?;
            let decisions: Vec<FlagDecision> = sqlx::query_as(
                "SELECT d.learner_id, d.competency_id, d.kind, d.decision, d.reason, d.note, \
                 d.decided_by, u.name AS decided_by_name, d.decided_at \
                 FROM flag_decisions d JOIN competencies c ON c.id = d.competency_id \
                 LEFT JOIN users u ON u.id = d.decided_by \
                 WHERE d.org_id = $1 AND c.framework_id = $2",
            )
            .bind(org_id)
            .bind(framework_id)
            .fetch_all(pool)
            .await?;
            Ok(TeacherFacts {
                learners,
                competencies,
                cells,
                prerequisites,
                targets,
                decisions,
                thresholds,
            })
        })
    }

    /// The teacher dashboard: [`Store::teacher_facts`] then [`assemble`]. `learner_id` narrows
    /// it to one learner (to check a flag a teacher decides on).
    pub async fn teacher_dashboard(
        &self,
        org_id: &str,
        framework_id: &str,
        cohort_id: Option<&str>,
        learner_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TeacherDashboard, StoreError> {
        let facts = self
            .teacher_facts(org_id, framework_id, cohort_id, learner_id)
            .await?;
        assemble(facts, now)
    }

    /// The learner's own dashboard in the organisation: every competency of its active courses
    /// that a rubric assesses or the learner has worked on, with standing, attempts, elapsed
    /// time and pace, and up to three next steps with their reasons.
    #[tracing::instrument(skip_all)]
    pub async fn learner_dashboard(
        &self,
        org_id: &str,
        learner_id: &str,
        now: DateTime<Utc>,
    ) -> Result<LearnerDashboard, StoreError> {
        let record = self.learner_record(org_id, learner_id).await?;
        let rubrics = self.rubric_choices(org_id).await?;
        let targets = self.target_dates(org_id, learner_id).await?;
        let exceptions = self.prerequisite_exceptions(org_id, learner_id).await?;
        let (competencies, prereqs): (Vec<OrgCompetencyRow>, Vec<PrereqRow>) =
            read!(self, |pool| {
                let competencies = sqlx::query_as(
                    "SELECT c.id, c.uri, c.code, c.statement, c.framework_id, \
                     f.title AS framework_title, COALESCE(s.gate_prerequisites, TRUE) AS gates \
                     FROM competencies c JOIN frameworks f ON f.id = c.framework_id \
                     LEFT JOIN framework_settings s ON s.framework_id = f.id \
                     WHERE f.org_id = $1 AND f.status = 'active' AND c.status = 'active' \
                     ORDER BY f.title, f.id, c.code, c.statement, c.id",
                )
                .bind(org_id)
                .fetch_all(pool)
                .await?;
                let prereqs = sqlx::query_as(
                    "SELECT o.id AS origin_id, o.code AS origin_code, \
                     o.statement AS origin_statement, a.destination_id FROM associations a \
                     JOIN frameworks f ON f.id = a.framework_id \
                     JOIN competencies o ON o.id = a.origin_id \
                     WHERE f.org_id = $1 AND a.association_type = 'precedes' \
                     AND o.status = 'active'",
                )
                .bind(org_id)
                .fetch_all(pool)
                .await?;
                (competencies, prereqs)
            });
        let today = now.date_naive();
        let state_of = |id: &str| {
            record
                .competencies
                .get(id)
                .map_or(MasteryState::NotStarted, |r| r.state)
        };
        let waived: HashSet<&str> = exceptions
            .iter()
            .map(|e| e.competency_id.as_str())
            .collect();
        let target_of: HashMap<&str, NaiveDate> = targets
            .iter()
            .map(|t| (t.competency_id.as_str(), t.target_date))
            .collect();
        let label_of: HashMap<&str, String> = competencies
            .iter()
            .map(|c| {
                (
                    c.id.as_str(),
                    c.code.clone().unwrap_or_else(|| c.statement.clone()),
                )
            })
            .collect();
        let mut prereqs_of: HashMap<&str, Vec<&PrereqRow>> = HashMap::new();
        let mut unlocks_of: HashMap<&str, Vec<String>> = HashMap::new();
        for p in &prereqs {
            prereqs_of
                .entry(p.destination_id.as_str())
                .or_default()
                .push(p);
            if state_of(&p.destination_id) != MasteryState::Mastered
                && let Some(l) = label_of.get(p.destination_id.as_str())
            {
                unlocks_of
                    .entry(p.origin_id.as_str())
                    .or_default()
                    .push(l.clone());
            }
        }
        let listed = |c: &OrgCompetencyRow| {
            record.competencies.contains_key(&c.id)
                || rubrics.iter().any(|r| {
                    r.competencies.iter().any(|x| {
                        *x == c.id || *x == c.uri || c.code.as_deref().is_some_and(|code| code == x)
                    })
                })
        };
        let mut counts = LearnerCounts::default();
        let mut courses: BTreeMap<(String, String), Vec<LearnerItem>> = BTreeMap::new();
        let mut items = Vec::new();
        for c in competencies.iter().filter(|c| listed(c)) {
            let rec = record.competencies.get(&c.id);
            let state = rec.map_or(MasteryState::NotStarted, |r| r.state);
            let all_prereqs = prereqs_of
                .get(c.id.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let unmet: Vec<String> = if c.gates && !waived.contains(c.id.as_str()) {
                all_prereqs
                    .iter()
                    .filter(|p| state_of(&p.origin_id) != MasteryState::Mastered)
                    .map(|p| p.label())
                    .collect()
            } else {
                Vec::new()
            };
            let standing = progress::standing(state, unmet.is_empty());
            match standing {
                Standing::Mastered => counts.mastered += 1,
                Standing::InProgress => counts.in_progress += 1,
                Standing::OpenNow => counts.open_now += 1,
                Standing::NotStarted => counts.not_started += 1,
            }
            let target = target_of.get(c.id.as_str()).copied();
            let mastered_at = rec.and_then(|r| r.mastered_at);
            let pace = progress::pace(state, mastered_at, target, today);
            if let Some(p) = &pace {
                counts.planned += 1;
                match p.kind {
                    progress::PaceKind::OnTrack => counts.on_track += 1,
                    progress::PaceKind::Behind => counts.behind += 1,
                }
            }
            let label = c.code.clone().unwrap_or_else(|| c.statement.clone());
            let first_activity = rec.and_then(|r| r.first_activity);
            items.push(progress::Item {
                id: c.id.clone(),
                label,
                state,
                standing,
                first_activity,
                target,
                unlocks: unlocks_of.get(c.id.as_str()).cloned().unwrap_or_default(),
                has_prerequisites: !all_prereqs.is_empty(),
            });
            courses
                .entry((c.framework_title.clone(), c.framework_id.clone()))
                .or_default()
                .push(LearnerItem {
                    id: c.id.clone(),
                    code: c.code.clone(),
                    statement: c.statement.clone(),
                    standing: standing.as_str(),
                    state: state.as_str(),
                    attempts: rec
                        .map_or(0, |r| u32::try_from(r.attempts.len()).unwrap_or(u32::MAX)),
                    first_activity,
                    last_activity: rec.and_then(|r| r.last_activity),
                    mastered_at,
                    days_elapsed: progress::elapsed_days(first_activity, mastered_at, now),
                    target_date: target,
                    pace: pace.as_ref().map(|p| match p.kind {
                        progress::PaceKind::OnTrack => "on_track",
                        progress::PaceKind::Behind => "behind",
                    }),
                    pace_text: pace.map(|p| p.text),
                    unmet_prerequisites: unmet,
                });
        }
        let next_steps = progress::next_steps(&items, today, 3)
            .into_iter()
            .map(|s| NextStep {
                label: label_of
                    .get(s.competency_id.as_str())
                    .cloned()
                    .unwrap_or_default(),
                competency_id: s.competency_id,
                reason: s.reason,
            })
            .collect();
        Ok(LearnerDashboard {
            learner_id: learner_id.to_owned(),
            counts,
            next_steps,
            courses: courses
                .into_iter()
                .map(|((title, framework_id), competencies)| LearnerCourse {
                    framework_id,
                    title,
                    competencies,
                })
                .collect(),
        })
    }
}
