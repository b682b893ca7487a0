//! Dashboard flags: plain rules that point a teacher at a learner × competency worth a look,
//! each with its reason in plain words ("3 attempts without mastery over 21 days on C.4; its
//! prerequisite C.2 is not mastered").
//!
//! Flags only inform. Nothing here changes a record or blocks a learner: a teacher reads the
//! reason and decides, and may dismiss a flag (it comes back if something new happens on that
//! competency) or override it (it stays set aside until the teacher clears the override), always
//! with a note. Thresholds are per course (framework); a rule with no threshold is off.
//!
//! Every function is pure: the caller passes the facts, the thresholds and "now".

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::mastery::MasteryState;

/// What one learner × competency looks like to the dashboard (read from the mastery events in
/// one aggregated query, not from the full fold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellFacts {
    /// Current state.
    pub state: MasteryState,
    /// Submissions so far.
    pub attempts: u32,
    /// First event.
    pub first_activity: Option<DateTime<Utc>>,
    /// Latest event.
    pub last_activity: Option<DateTime<Utc>>,
    /// The learner's (or a teacher's) target date, if any.
    pub target: Option<NaiveDate>,
    /// When that target date was set.
    pub target_set_at: Option<DateTime<Utc>>,
}

impl CellFacts {
    /// A cell with no activity and no target.
    pub fn empty() -> Self {
        Self {
            state: MasteryState::NotStarted,
            attempts: 0,
            first_activity: None,
            last_activity: None,
            target: None,
            target_set_at: None,
        }
    }

    /// When the facts a flag reads last changed (newest activity or target date).
    pub fn changed_at(&self) -> Option<DateTime<Utc>> {
        self.last_activity.max(self.target_set_at)
    }
}

/// Per-course thresholds. `None` switches a rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Flag when this many attempts have not led to mastery (1–100).
    pub attempts_without_mastery: Option<u32>,
    /// Flag work in progress (or not yet) with no activity for this many days (1–365).
    pub days_without_activity: Option<u32>,
    /// Flag a competency not mastered more than this many days after its target date (0–365).
    pub days_past_target: Option<u32>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            attempts_without_mastery: Some(3),
            days_without_activity: Some(14),
            days_past_target: Some(0),
        }
    }
}

impl Thresholds {
    /// Checks the ranges; the error names the field and the allowed range.
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        let in_range = |v: Option<u32>, lo: u32, hi: u32| v.is_none_or(|v| (lo..=hi).contains(&v));
        if !in_range(self.attempts_without_mastery, 1, 100) {
            return Err((
                "attempts_without_mastery",
                "must be 1 to 100, or null (off)",
            ));
        }
        if !in_range(self.days_without_activity, 1, 365) {
            return Err(("days_without_activity", "must be 1 to 365, or null (off)"));
        }
        if !in_range(self.days_past_target, 0, 365) {
            return Err(("days_past_target", "must be 0 to 365, or null (off)"));
        }
        Ok(())
    }
}

/// Which rule raised a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// Several attempts, no mastery.
    AttemptsWithoutMastery,
    /// Work started, then nothing for a while.
    NoRecentActivity,
    /// The target date passed without mastery.
    PastTarget,
}

impl FlagKind {
    /// Every kind, in display order.
    pub const ALL: [FlagKind; 3] = [
        FlagKind::AttemptsWithoutMastery,
        FlagKind::NoRecentActivity,
        FlagKind::PastTarget,
    ];

    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::AttemptsWithoutMastery => "attempts_without_mastery",
            FlagKind::NoRecentActivity => "no_recent_activity",
            FlagKind::PastTarget => "past_target",
        }
    }

    /// Parses a stored or API name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A raised flag with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// The rule.
    pub kind: FlagKind,
    /// Why, in plain words.
    pub reason: String,
}

/// What a teacher did with a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Not a concern now; the flag comes back if anything new happens on the competency
    /// (an attempt, a review, a new target date).
    Dismissed,
    /// The teacher disagrees with the rule for this learner and competency: the flag stays set
    /// aside until the override is cleared.
    Overridden,
}

impl DecisionKind {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Dismissed => "dismissed",
            DecisionKind::Overridden => "overridden",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "dismissed" => Some(DecisionKind::Dismissed),
            "overridden" => Some(DecisionKind::Overridden),
            _ => None,
        }
    }
}

/// Whether a teacher's decision, taken at `decided_at`, still sets the flag aside.
pub fn decision_applies(kind: DecisionKind, decided_at: DateTime<Utc>, cell: &CellFacts) -> bool {
    match kind {
        DecisionKind::Overridden => true,
        DecisionKind::Dismissed => cell.changed_at().is_none_or(|c| c <= decided_at),
    }
}

/// Whole days from `from` to `to` (0 if `to` is earlier).
fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_days().max(0)
}

fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// "its prerequisite C.2 is not mastered" / "its prerequisites C.2 and C.3 are not mastered".
fn prerequisites_clause(unmet: &[String]) -> Option<String> {
    match unmet {
        [] => None,
        [one] => Some(format!("its prerequisite {one} is not mastered")),
        [init @ .., last] => Some(format!(
            "its prerequisites {} and {last} are not mastered",
            init.join(", ")
        )),
    }
}

/// The flags the rules raise for one cell. `label` names the competency (its code, or its
/// statement), `unmet_prerequisites` labels its prerequisites the learner has not mastered.
/// Mastered and not-started cells never raise a flag; a submission awaiting review is the
/// reviewers' turn, so it raises no activity flag.
pub fn evaluate(
    cell: &CellFacts,
    label: &str,
    unmet_prerequisites: &[String],
    thresholds: &Thresholds,
    now: DateTime<Utc>,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    if matches!(cell.state, MasteryState::Mastered) {
        return flags;
    }
    let with_prereqs = |mut reason: String| {
        if let Some(clause) = prerequisites_clause(unmet_prerequisites) {
            reason.push_str("; ");
            reason.push_str(&clause);
        }
        reason
    };
    if let (Some(limit), Some(first)) = (thresholds.attempts_without_mastery, cell.first_activity)
        && cell.attempts >= limit
    {
        let days = days_between(first, now);
        flags.push(Flag {
            kind: FlagKind::AttemptsWithoutMastery,
            reason: with_prereqs(format!(
                "{} without mastery over {} on {label}",
                plural(i64::from(cell.attempts), "attempt", "attempts"),
                plural(days, "day", "days"),
            )),
        });
    }
    if let (Some(limit), Some(last)) = (thresholds.days_without_activity, cell.last_activity)
        && matches!(cell.state, MasteryState::InProgress | MasteryState::NotYet)
    {
        let days = days_between(last, now);
        if days >= i64::from(limit) {
            let what = if cell.state == MasteryState::NotYet {
                "after a \"not yet\""
            } else {
                "since starting"
            };
            flags.push(Flag {
                kind: FlagKind::NoRecentActivity,
                reason: with_prereqs(format!(
                    "No activity on {label} for {} {what} (last on {})",
                    plural(days, "day", "days"),
                    last.format("%Y-%m-%d"),
                )),
            });
        }
    }
    if let (Some(limit), Some(target)) = (thresholds.days_past_target, cell.target) {
        let late = (now.date_naive() - target).num_days();
        if late > i64::from(limit) {
            flags.push(Flag {
                kind: FlagKind::PastTarget,
                reason: with_prereqs(format!(
                    "Target date {} for {label} passed {} ago without mastery",
                    target.format("%Y-%m-%d"),
                    plural(late, "day", "days"),
                )),
            });
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap()
    }

    fn cell(state: MasteryState, attempts: u32, first: u32, last: u32) -> CellFacts {
        CellFacts {
            state,
            attempts,
            first_activity: Some(at(2026, 11, first)),
            last_activity: Some(at(2026, 11, last)),
            target: None,
            target_set_at: None,
        }
    }

    #[test]
    fn three_attempts_without_mastery_name_the_unmet_prerequisite() {
        let c = cell(MasteryState::NotYet, 3, 1, 20);
        let flags = evaluate(
            &c,
            "C.4",
            &["C.2".into()],
            &Thresholds::default(),
            at(2026, 11, 22),
        );
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].kind, FlagKind::AttemptsWithoutMastery);
        assert_eq!(
            flags[0].reason,
            "3 attempts without mastery over 21 days on C.4; its prerequisite C.2 is not mastered"
        );
    }

    #[test]
    fn fewer_attempts_than_the_threshold_raise_nothing() {
        let c = cell(MasteryState::NotYet, 2, 1, 20);
        assert!(evaluate(&c, "C.4", &[], &Thresholds::default(), at(2026, 11, 22)).is_empty());
        let strict = Thresholds {
            attempts_without_mastery: Some(2),
            ..Thresholds::default()
        };
        assert_eq!(
            evaluate(&c, "C.4", &[], &strict, at(2026, 11, 22))[0].reason,
            "2 attempts without mastery over 21 days on C.4"
        );
    }

    #[test]
    fn mastered_cells_never_raise_a_flag() {
        let mut c = cell(MasteryState::Mastered, 7, 1, 2);
        c.target = Some(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        assert!(evaluate(&c, "C.1", &[], &Thresholds::default(), at(2026, 12, 30)).is_empty());
    }

    #[test]
    fn silence_after_starting_is_flagged_at_the_threshold_and_not_before() {
        let c = cell(MasteryState::InProgress, 0, 1, 1);
        let t = Thresholds::default();
        assert!(evaluate(&c, "C.3", &[], &t, at(2026, 11, 14)).is_empty());
        let flags = evaluate(
            &c,
            "C.3",
            &["C.1".into(), "C.2".into()],
            &t,
            at(2026, 11, 15),
        );
        assert_eq!(
            flags[0].reason,
            "No activity on C.3 for 14 days since starting (last on 2026-11-01); \
             its prerequisites C.1 and C.2 are not mastered"
        );
    }

    #[test]
    fn a_submission_awaiting_review_is_not_the_learners_silence() {
        let c = cell(MasteryState::Submitted, 1, 1, 1);
        assert!(evaluate(&c, "C.3", &[], &Thresholds::default(), at(2026, 12, 30)).is_empty());
    }

    #[test]
    fn a_past_target_date_is_flagged_after_the_grace_days() {
        let mut c = cell(MasteryState::InProgress, 0, 20, 20);
        c.target = Some(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
        let t = Thresholds {
            days_past_target: Some(2),
            ..Thresholds::default()
        };
        assert!(evaluate(&c, "C.5", &[], &t, at(2026, 11, 23)).is_empty());
        let flags = evaluate(&c, "C.5", &[], &t, at(2026, 11, 24));
        assert_eq!(
            flags[0].reason,
            "Target date 2026-11-21 for C.5 passed 3 days ago without mastery"
        );
    }

    #[test]
    fn a_rule_without_threshold_is_off() {
        let c = cell(MasteryState::NotYet, 9, 1, 1);
        let off = Thresholds {
            attempts_without_mastery: None,
            days_without_activity: None,
            days_past_target: None,
        };
        assert!(evaluate(&c, "C.4", &[], &off, at(2026, 12, 30)).is_empty());
    }

    #[test]
    fn thresholds_out_of_range_name_the_field() {
        let bad = Thresholds {
            attempts_without_mastery: Some(0),
            ..Thresholds::default()
        };
        assert_eq!(bad.check().unwrap_err().0, "attempts_without_mastery");
        let bad = Thresholds {
            days_past_target: Some(400),
            ..Thresholds::default()
        };
        assert_eq!(bad.check().unwrap_err().0, "days_past_target");
        assert!(Thresholds::default().check().is_ok());
    }

    #[test]
    fn a_dismissal_lasts_until_something_new_happens_an_override_until_cleared() {
        let mut c = cell(MasteryState::NotYet, 3, 1, 10);
        let decided = at(2026, 11, 12);
        assert!(decision_applies(DecisionKind::Dismissed, decided, &c));
        c.attempts = 4;
        c.last_activity = Some(at(2026, 11, 13));
        assert!(!decision_applies(DecisionKind::Dismissed, decided, &c));
        assert!(decision_applies(DecisionKind::Overridden, decided, &c));
        // A new target date set after the dismissal brings the flag back too.
        let mut c = cell(MasteryState::NotYet, 3, 1, 10);
        c.target_set_at = Some(at(2026, 11, 14));
        assert!(!decision_applies(DecisionKind::Dismissed, decided, &c));
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in FlagKind::ALL {
            assert_eq!(FlagKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(FlagKind::parse("nope"), None);
        for d in [DecisionKind::Dismissed, DecisionKind::Overridden] {
            assert_eq!(DecisionKind::parse(d.as_str()), Some(d));
        }
    }
}
