//! The learner dashboard's reading of a record: where the learner stands on each competency
//! (mastered, in progress, open now, not started), pace against their own target dates, and
//! what to work on next with the reason in plain words.
//!
//! Suggestions only inform: the learner chooses. Pure functions; "today" is passed in.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::mastery::MasteryState;

/// Where a learner stands on one competency, as the dashboard groups it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Mastery shown.
    Mastered,
    /// Started, submitted, or reviewed "not yet".
    InProgress,
    /// Not started, and every prerequisite is mastered (or waived, or the course does not gate).
    OpenNow,
    /// Not started, and a prerequisite is not mastered yet.
    NotStarted,
}

impl Standing {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Mastered => "mastered",
            Standing::InProgress => "in_progress",
            Standing::OpenNow => "open_now",
            Standing::NotStarted => "not_started",
        }
    }

    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            Standing::Mastered => "Mastered",
            Standing::InProgress => "In progress",
            Standing::OpenNow => "Open now",
            Standing::NotStarted => "Not started",
        }
    }
}

/// The standing of a competency in `state`, given whether its prerequisites are met.
pub fn standing(state: MasteryState, prerequisites_met: bool) -> Standing {
    match state {
        MasteryState::Mastered => Standing::Mastered,
        MasteryState::InProgress | MasteryState::Submitted | MasteryState::NotYet => {
            Standing::InProgress
        }
        MasteryState::NotStarted if prerequisites_met => Standing::OpenNow,
        MasteryState::NotStarted => Standing::NotStarted,
    }
}

/// How a competency stands against its target date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaceKind {
    /// Mastered on or before the target date, or not mastered with time left.
    OnTrack,
    /// Mastered after the target date, or not mastered and the date has passed.
    Behind,
}

/// Pace against a target date, with a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pace {
    /// On track or behind.
    pub kind: PaceKind,
    /// In plain words.
    pub text: String,
}

fn days(n: i64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

/// Pace of one competency against its target date (none without a target date).
pub fn pace(
    state: MasteryState,
    mastered_at: Option<DateTime<Utc>>,
    target: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<Pace> {
    let target = target?;
    let (kind, text) = match (state, mastered_at) {
        (MasteryState::Mastered, Some(at)) => {
            let d = (target - at.date_naive()).num_days();
            match d {
                0 => (PaceKind::OnTrack, "Mastered on the target date".to_owned()),
                d if d > 0 => (
                    PaceKind::OnTrack,
                    format!("Mastered {} before the target date", days(d)),
                ),
                d => (
                    PaceKind::Behind,
                    format!("Mastered {} after the target date", days(-d)),
                ),
            }
        }
        _ => {
            let d = (target - today).num_days();
            match d {
                0 => (PaceKind::OnTrack, "The target date is today".to_owned()),
                d if d > 0 => (
                    PaceKind::OnTrack,
                    format!("{} left until the target date", days(d)),
                ),
                d => (
                    PaceKind::Behind,
                    format!("{} past the target date", days(-d)),
                ),
            }
        }
    };
    Some(Pace { kind, text })
}

/// Whole days from first activity to mastery (or to `now` while not mastered): elapsed
/// calendar time, not time on task, which Tessera does not measure.
pub fn elapsed_days(
    first_activity: Option<DateTime<Utc>>,
    mastered_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<i64> {
    let first = first_activity?;
    Some((mastered_at.unwrap_or(now) - first).num_days().max(0))
}

/// One competency as the next-step rule reads it.
#[derive(Debug, Clone)]
pub struct Item {
    /// Competency id.
    pub id: String,
    /// Its code, or its statement.
    pub label: String,
    /// Current state.
    pub state: MasteryState,
    /// Standing (from [`standing`]).
    pub standing: Standing,
    /// When the learner started.
    pub first_activity: Option<DateTime<Utc>>,
    /// Target date, if any.
    pub target: Option<NaiveDate>,
    /// Labels of not-yet-mastered competencies this one is a prerequisite of.
    pub unlocks: Vec<String>,
    /// Whether it has prerequisites at all (for the wording).
    pub has_prerequisites: bool,
}

/// A suggested next step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// The competency.
    pub competency_id: String,
    /// Why, in plain words.
    pub reason: String,
}

fn list(labels: &[String]) -> String {
    match labels {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn target_clause(target: Option<NaiveDate>, today: NaiveDate) -> String {
    match target {
        None => String::new(),
        Some(t) => {
            let d = (t - today).num_days();
            match d {
                0 => format!("; your target date {} is today", t.format("%Y-%m-%d")),
                d if d > 0 => format!(
                    "; your target date is {} ({} away)",
                    t.format("%Y-%m-%d"),
                    days(d)
                ),
                d => format!(
                    "; your target date {} was {} ago",
                    t.format("%Y-%m-%d"),
                    days(-d)
                ),
            }
        }
    }
}

/// Up to `max` next steps, most useful first: resubmit after "not yet", then finish what was
/// started, then start something open now (the nearest target date first, then what unlocks
/// the most). Competencies awaiting review, mastered or still locked are never suggested.
pub fn next_steps(items: &[Item], today: NaiveDate, max: usize) -> Vec<Suggestion> {
    let rank = |i: &Item| match (i.state, i.standing) {
        (MasteryState::NotYet, _) => Some(0),
        (MasteryState::InProgress, _) => Some(1),
        (_, Standing::OpenNow) => Some(2),
        _ => None,
    };
    let mut candidates: Vec<(usize, &Item)> = items
        .iter()
        .filter_map(|i| rank(i).map(|r| (r, i)))
        .collect();
    // Stable: within a rank, the nearest target date, then what unlocks the most, then the
    // order given (the course's order).
    candidates.sort_by(|(ra, a), (rb, b)| {
        ra.cmp(rb)
            .then_with(|| match (a.target, b.target) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| b.unlocks.len().cmp(&a.unlocks.len()))
    });
    candidates
        .into_iter()
        .take(max)
        .map(|(r, i)| {
            let target = target_clause(i.target, today);
            let reason = match r {
                0 => format!(
                    "Resubmit {}: your last attempt was reviewed \"not yet\", and the reviewer's feedback says what to improve{target}.",
                    i.label
                ),
                1 => format!(
                    "Continue {}: you started it{} and have not handed in evidence yet{target}.",
                    i.label,
                    i.first_activity
                        .map(|f| format!(" on {}", f.format("%Y-%m-%d")))
                        .unwrap_or_default()
                ),
                _ => {
                    let why = if i.has_prerequisites {
                        "its prerequisites are mastered"
                    } else {
                        "it has no prerequisites"
                    };
                    let opens = if i.unlocks.is_empty() {
                        String::new()
                    } else {
                        format!(", and it opens {}", list(&i.unlocks))
                    };
                    format!("Start {}: {why}{opens}{target}.", i.label)
                }
            };
            Suggestion {
                competency_id: i.id.clone(),
                reason,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn date(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    fn at(m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, 9, 0, 0).unwrap()
    }

    fn item(id: &str, state: MasteryState, met: bool) -> Item {
        Item {
            id: id.into(),
            label: id.into(),
            state,
            standing: standing(state, met),
            first_activity: (state != MasteryState::NotStarted).then(|| at(11, 2)),
            target: None,
            unlocks: Vec::new(),
            has_prerequisites: true,
        }
    }

    #[test]
    fn standing_separates_open_now_from_locked() {
        assert_eq!(standing(MasteryState::NotStarted, true), Standing::OpenNow);
        assert_eq!(
            standing(MasteryState::NotStarted, false),
            Standing::NotStarted
        );
        assert_eq!(
            standing(MasteryState::Submitted, false),
            Standing::InProgress
        );
        assert_eq!(standing(MasteryState::NotYet, true), Standing::InProgress);
        assert_eq!(standing(MasteryState::Mastered, false), Standing::Mastered);
    }

    #[test]
    fn pace_reads_the_target_date() {
        let today = date(11, 20);
        assert_eq!(pace(MasteryState::InProgress, None, None, today), None);
        let p = pace(MasteryState::InProgress, None, Some(date(11, 25)), today).unwrap();
        assert_eq!(
            (p.kind, p.text.as_str()),
            (PaceKind::OnTrack, "5 days left until the target date")
        );
        let p = pace(MasteryState::NotYet, None, Some(date(11, 19)), today).unwrap();
        assert_eq!(
            (p.kind, p.text.as_str()),
            (PaceKind::Behind, "1 day past the target date")
        );
        let p = pace(
            MasteryState::Mastered,
            Some(at(11, 10)),
            Some(date(11, 12)),
            today,
        )
        .unwrap();
        assert_eq!(p.text, "Mastered 2 days before the target date");
        let p = pace(
            MasteryState::Mastered,
            Some(at(11, 15)),
            Some(date(11, 12)),
            today,
        )
        .unwrap();
        assert_eq!(
            (p.kind, p.text.as_str()),
            (PaceKind::Behind, "Mastered 3 days after the target date")
        );
    }

    #[test]
    fn elapsed_time_runs_to_mastery_or_to_now() {
        assert_eq!(elapsed_days(None, None, at(11, 20)), None);
        assert_eq!(
            elapsed_days(Some(at(11, 1)), Some(at(11, 5)), at(11, 20)),
            Some(4)
        );
        assert_eq!(elapsed_days(Some(at(11, 1)), None, at(11, 20)), Some(19));
    }

    #[test]
    fn resubmitting_comes_first_then_continuing_then_starting() {
        let mut open = item("C.5", MasteryState::NotStarted, true);
        open.unlocks = vec!["C.6".into(), "C.7".into()];
        let items = vec![
            open,
            item("C.9", MasteryState::NotStarted, false),
            item("C.3", MasteryState::InProgress, true),
            item("C.2", MasteryState::Submitted, true),
            item("C.4", MasteryState::NotYet, true),
            item("C.1", MasteryState::Mastered, true),
        ];
        let steps = next_steps(&items, date(11, 20), 5);
        let ids: Vec<&str> = steps.iter().map(|s| s.competency_id.as_str()).collect();
        assert_eq!(ids, ["C.4", "C.3", "C.5"]);
        assert!(
            steps[0]
                .reason
                .starts_with("Resubmit C.4: your last attempt was reviewed")
        );
        assert_eq!(
            steps[1].reason,
            "Continue C.3: you started it on 2026-11-02 and have not handed in evidence yet."
        );
        assert_eq!(
            steps[2].reason,
            "Start C.5: its prerequisites are mastered, and it opens C.6 and C.7."
        );
    }

    #[test]
    fn among_open_competencies_the_nearest_target_wins_then_what_unlocks_most() {
        let mut a = item("A", MasteryState::NotStarted, true);
        a.unlocks = vec!["X".into(), "Y".into()];
        let mut b = item("B", MasteryState::NotStarted, true);
        b.target = Some(date(12, 1));
        b.has_prerequisites = false;
        let c = item("C", MasteryState::NotStarted, true);
        let steps = next_steps(&[c, a, b], date(11, 20), 2);
        assert_eq!(steps[0].competency_id, "B");
        assert_eq!(
            steps[0].reason,
            "Start B: it has no prerequisites; your target date is 2026-12-01 (11 days away)."
        );
        assert_eq!(steps[1].competency_id, "A");
    }

    #[test]
    fn nothing_is_suggested_when_all_is_mastered_locked_or_awaiting_review() {
        let items = vec![
            item("C.1", MasteryState::Mastered, true),
            item("C.2", MasteryState::Submitted, true),
            item("C.3", MasteryState::NotStarted, false),
        ];
        assert!(next_steps(&items, date(11, 20), 3).is_empty());
    }
}
