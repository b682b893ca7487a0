//! The time-variable mastery record of one learner for one competency, as an explicit state
//! machine folded over dated events.
//!
//! ```text
//!  not_started --start--> in_progress --submit--> submitted --review--> mastered | not_yet
//!  not_yet --submit--> submitted            (resubmission, no deadline)
//!  submitted | not_yet --override(mastered, reason)--> mastered
//!  submitted | mastered --override(not_yet, reason)--> not_yet
//!  mastered --withdraw(reason)--> not_yet
//! ```
//!
//! Every other transition is refused with [`Error::InvalidTransition`], naming the state it was
//! in, the state it would have led to and the states the event is allowed from. Time is never read
//! from a clock here: every event carries its timestamp, and the fold derives first activity,
//! attempts, mastery date, attempts to mastery and time to mastery from them.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::rubric::RubricRef;
use crate::scoring::{Outcome, ScoredReview};

/// Where a learner stands on one competency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MasteryState {
    /// No activity yet.
    NotStarted,
    /// Working on it; nothing submitted (or waiting to resubmit is `NotYet`).
    InProgress,
    /// Evidence submitted, awaiting review.
    Submitted,
    /// Mastery shown.
    Mastered,
    /// Reviewed, not mastered yet; the learner may resubmit.
    NotYet,
}

impl MasteryState {
    /// The snake_case name used in storage and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            MasteryState::NotStarted => "not_started",
            MasteryState::InProgress => "in_progress",
            MasteryState::Submitted => "submitted",
            MasteryState::Mastered => "mastered",
            MasteryState::NotYet => "not_yet",
        }
    }

    /// Where `event` leads from here, or the error naming from, to and what is allowed.
    pub fn next(self, event: &EventKind, competency: &str) -> Result<MasteryState, Error> {
        let (to, allowed): (MasteryState, &[MasteryState]) = match event {
            EventKind::Started => (MasteryState::InProgress, &[MasteryState::NotStarted]),
            EventKind::Submitted { .. } => (
                MasteryState::Submitted,
                &[MasteryState::InProgress, MasteryState::NotYet],
            ),
            EventKind::Reviewed(r) => (r.outcome.into(), &[MasteryState::Submitted]),
            EventKind::Overridden {
                to: Outcome::Mastered,
                ..
            } => (
                MasteryState::Mastered,
                &[MasteryState::Submitted, MasteryState::NotYet],
            ),
            EventKind::Overridden {
                to: Outcome::NotYet,
                ..
            } => (
                MasteryState::NotYet,
                &[MasteryState::Submitted, MasteryState::Mastered],
            ),
            EventKind::Withdrawn { .. } => (MasteryState::NotYet, &[MasteryState::Mastered]),
        };
        if allowed.contains(&self) {
            Ok(to)
        } else {
            Err(Error::InvalidTransition {
                competency: competency.to_owned(),
                from: self,
                to,
                event: event.name(),
                allowed_from: allowed.to_vec(),
            })
        }
    }
}

impl fmt::Display for MasteryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Outcome> for MasteryState {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Mastered => MasteryState::Mastered,
            Outcome::NotYet => MasteryState::NotYet,
        }
    }
}

/// The level given for one criterion, as kept in the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelAchieved {
    /// Criterion id.
    pub criterion: String,
    /// Level id.
    pub level: String,
}

/// The final decision of a (possibly moderated) review, as the record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDecision {
    /// The rubric version used.
    pub rubric: RubricRef,
    /// Outcome under the rubric's rule.
    pub outcome: Outcome,
    /// Levels per criterion.
    pub levels: Vec<LevelAchieved>,
    /// Weighted total.
    pub total_points: u64,
    /// Whether it was borderline.
    pub borderline: bool,
    /// Whether a second reviewer or moderator was involved.
    pub moderated: bool,
    /// Pseudonymous id of the reviewer whose decision stands.
    pub reviewer: String,
}

impl ReviewDecision {
    /// The decision from a scored review.
    pub fn from_scored(
        scored: &ScoredReview,
        reviewer: impl Into<String>,
        moderated: bool,
    ) -> Self {
        ReviewDecision {
            rubric: scored.rubric.clone(),
            outcome: scored.outcome,
            levels: scored
                .criteria
                .iter()
                .map(|c| LevelAchieved {
                    criterion: c.criterion.clone(),
                    level: c.level.clone(),
                })
                .collect(),
            total_points: scored.total_points,
            borderline: scored.borderline,
            moderated,
            reviewer: reviewer.into(),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The learner started working on the competency (first activity).
    Started,
    /// Evidence submitted: a new attempt.
    Submitted {
        /// The submission's id.
        submission: String,
    },
    /// The review of the pending attempt was finalised.
    Reviewed(ReviewDecision),
    /// A teacher set the outcome against the rubric's rule.
    Overridden {
        /// The outcome set.
        to: Outcome,
        /// The written reason (required, shown wherever the outcome is).
        reason: String,
        /// Pseudonymous id of the teacher.
        by: String,
    },
    /// A teacher withdrew a mastery.
    Withdrawn {
        /// The written reason (required).
        reason: String,
        /// Pseudonymous id of the teacher.
        by: String,
    },
}

/// The name of an event kind, for errors and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventName {
    /// [`EventKind::Started`].
    Start,
    /// [`EventKind::Submitted`].
    Submit,
    /// [`EventKind::Reviewed`].
    Review,
    /// [`EventKind::Overridden`] to mastered.
    OverrideMastered,
    /// [`EventKind::Overridden`] to not yet.
    OverrideNotYet,
    /// [`EventKind::Withdrawn`].
    Withdraw,
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EventName::Start => "start",
            EventName::Submit => "submit",
            EventName::Review => "review",
            EventName::OverrideMastered => "override to mastered",
            EventName::OverrideNotYet => "override to not yet",
            EventName::Withdraw => "withdraw mastery",
        })
    }
}

impl EventKind {
    /// The event's name.
    pub fn name(&self) -> EventName {
        match self {
            EventKind::Started => EventName::Start,
            EventKind::Submitted { .. } => EventName::Submit,
            EventKind::Reviewed(_) => EventName::Review,
            EventKind::Overridden {
                to: Outcome::Mastered,
                ..
            } => EventName::OverrideMastered,
            EventKind::Overridden {
                to: Outcome::NotYet,
                ..
            } => EventName::OverrideNotYet,
            EventKind::Withdrawn { .. } => EventName::Withdraw,
        }
    }
}

/// A dated event for one learner × competency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasteryEvent {
    /// When it happened (from the caller's clock).
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
}

/// A teacher override or withdrawal, kept so it is shown as such wherever the outcome is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideRecord {
    /// Which kind.
    pub event: EventName,
    /// The state it led to.
    pub to: MasteryState,
    /// The written reason.
    pub reason: String,
    /// Pseudonymous teacher id.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The attempt it applied to (1-based), if any.
    pub attempt: Option<u32>,
}

/// One submission and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based attempt number.
    pub number: u32,
    /// Submission id.
    pub submission: String,
    /// When submitted.
    pub submitted_at: DateTime<Utc>,
    /// When the review was finalised.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The review decision.
    pub review: Option<ReviewDecision>,
    /// A teacher override of this attempt's outcome.
    pub overridden: Option<OverrideRecord>,
}

impl Attempt {
    /// The outcome that stands for this attempt: the override if any, else the review's.
    pub fn outcome(&self) -> Option<Outcome> {
        match &self.overridden {
            Some(o) if o.to == MasteryState::Mastered => Some(Outcome::Mastered),
            Some(_) => Some(Outcome::NotYet),
            None => self.review.as_ref().map(|r| r.outcome),
        }
    }
}

/// One learner's record for one competency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MasteryRecord {
    /// The competency.
    pub competency: String,
    /// Current state.
    pub state: MasteryState,
    /// First event of any kind.
    pub first_activity: Option<DateTime<Utc>>,
    /// Latest event.
    pub last_activity: Option<DateTime<Utc>>,
    /// Every attempt, oldest first.
    pub attempts: Vec<Attempt>,
    /// When the current mastery was reached (cleared if withdrawn).
    pub mastered_at: Option<DateTime<Utc>>,
    /// How many attempts it took (the number of the attempt that gave mastery).
    pub attempts_to_mastery: Option<u32>,
    /// From first activity to mastery.
    #[serde(serialize_with = "ser_delta")]
    pub time_to_mastery: Option<TimeDelta>,
    /// The rubric version of the review that gave mastery.
    pub rubric: Option<RubricRef>,
    /// Whether the current mastery (or not-yet) stands by teacher override rather than the rule.
    pub by_override: bool,
    /// Every override and withdrawal, oldest first.
    pub overrides: Vec<OverrideRecord>,
}

fn ser_delta<S: serde::Serializer>(d: &Option<TimeDelta>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.num_seconds()),
        None => s.serialize_none(),
    }
}

impl MasteryRecord {
    /// An empty record.
    pub fn new(competency: impl Into<String>) -> Self {
        MasteryRecord {
            competency: competency.into(),
            state: MasteryState::NotStarted,
            first_activity: None,
            last_activity: None,
            attempts: Vec::new(),
            mastered_at: None,
            attempts_to_mastery: None,
            time_to_mastery: None,
            rubric: None,
            by_override: false,
            overrides: Vec::new(),
        }
    }

    /// Fold events, oldest first, into a record.
    pub fn fold(
        competency: impl Into<String>,
        events: impl IntoIterator<Item = MasteryEvent>,
    ) -> Result<Self, Error> {
        let mut r = MasteryRecord::new(competency);
        for e in events {
            r.apply(e)?;
        }
        Ok(r)
    }

    /// Apply one event. On error the record is unchanged.
    ///
    /// Takes the event by value: the fold moves review decisions into the record instead of
    /// copying them (see the `review` benchmark).
    pub fn apply(&mut self, e: MasteryEvent) -> Result<(), Error> {
        if let Some(prev) = self.last_activity
            && e.at < prev
        {
            return Err(Error::EventOutOfOrder {
                competency: self.competency.clone(),
                at: e.at,
                previous: prev,
            });
        }
        if let EventKind::Overridden { reason, .. } | EventKind::Withdrawn { reason, .. } = &e.kind
            && reason.trim().is_empty()
        {
            return Err(Error::ReasonRequired {
                competency: self.competency.clone(),
                event: e.kind.name(),
            });
        }
        let to = self.state.next(&e.kind, &self.competency)?;
        let from = self.state;
        let name = e.kind.name();
        self.first_activity.get_or_insert(e.at);
        self.last_activity = Some(e.at);
        match e.kind {
            EventKind::Started => {}
            EventKind::Submitted { submission } => {
                let number = u32::try_from(self.attempts.len() + 1).unwrap_or(u32::MAX);
                self.attempts.push(Attempt {
                    number,
                    submission,
                    submitted_at: e.at,
                    reviewed_at: None,
                    review: None,
                    overridden: None,
                });
            }
            EventKind::Reviewed(decision) => {
                if let Some(a) = self.attempts.last_mut() {
                    a.reviewed_at = Some(e.at);
                    a.review = Some(decision);
                }
                self.by_override = false;
            }
            EventKind::Overridden { reason, by, .. } | EventKind::Withdrawn { reason, by } => {
                let record = OverrideRecord {
                    event: name,
                    to,
                    reason,
                    by,
                    at: e.at,
                    attempt: self.attempts.last().map(|a| a.number),
                };
                // An override decides the pending or latest attempt; a withdrawal is about the
                // competency, not one attempt.
                if name != EventName::Withdraw
                    && let Some(a) = self.attempts.last_mut()
                {
                    if from == MasteryState::Submitted {
                        a.reviewed_at = Some(e.at);
                    }
                    a.overridden = Some(record.clone());
                }
                self.overrides.push(record);
                self.by_override = true;
            }
        }
        self.state = to;
        if to == MasteryState::Mastered && from != MasteryState::Mastered {
            self.mastered_at = Some(e.at);
            let last = self.attempts.last();
            self.attempts_to_mastery = last.map(|a| a.number);
            self.rubric = last
                .and_then(|a| a.review.as_ref())
                .map(|r| r.rubric.clone());
            self.time_to_mastery = self.first_activity.map(|f| e.at - f);
        } else if to != MasteryState::Mastered {
            self.mastered_at = None;
            self.attempts_to_mastery = None;
            self.time_to_mastery = None;
            self.rubric = None;
        }
        Ok(())
    }
}

/// A learner's whole record: one [`MasteryRecord`] per competency with any activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LearnerRecord {
    /// Records by competency id.
    pub competencies: BTreeMap<String, MasteryRecord>,
}

impl LearnerRecord {
    /// Fold a learner's events (any competency order; oldest first within a competency), as one
    /// query returns them.
    pub fn fold<C: AsRef<str> + Into<String>>(
        events: impl IntoIterator<Item = (C, MasteryEvent)>,
    ) -> Result<Self, Error> {
        let mut competencies: BTreeMap<String, MasteryRecord> = BTreeMap::new();
        for (competency, e) in events {
            match competencies.get_mut(competency.as_ref()) {
                Some(r) => r.apply(e)?,
                None => {
                    let key: String = competency.into();
                    let mut r = MasteryRecord::new(key.clone());
                    r.apply(e)?;
                    competencies.insert(key, r);
                }
            }
        }
        Ok(LearnerRecord { competencies })
    }

    /// Competencies currently mastered, with their dates.
    pub fn mastered(&self) -> impl Iterator<Item = (&str, DateTime<Utc>)> {
        self.competencies
            .values()
            .filter_map(|r| r.mastered_at.map(|at| (r.competency.as_str(), at)))
    }
}
