//! Scoring a review against a rubric: per-criterion levels in, outcome out.
//!
//! The outcome is [`Outcome::Mastered`] or [`Outcome::NotYet`]; there is no "fail" in
//! competency-based learning, only evidence that does not show mastery *yet*. A review is
//! *borderline* when a small change in one rating would flip the outcome (see
//! [`crate::rubric::Borderline`]); moderation sends those to a second reviewer.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::rubric::{Combine, Rubric, RubricRef};

/// A reviewer's rating of one criterion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionScore {
    /// Criterion id.
    pub criterion: String,
    /// Level id given.
    pub level: String,
    /// Feedback for the learner on this criterion.
    pub comment: Option<String>,
}

impl CriterionScore {
    /// A rating without a comment.
    pub fn new(criterion: impl Into<String>, level: impl Into<String>) -> Self {
        CriterionScore {
            criterion: criterion.into(),
            level: level.into(),
            comment: None,
        }
    }
}

/// The result of a review under the rubric's mastery rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The evidence shows mastery.
    Mastered,
    /// Not yet: the learner gets feedback and may resubmit, with no deadline.
    NotYet,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Mastered => "mastered",
            Outcome::NotYet => "not yet",
        })
    }
}

/// Why a review does not fit its rubric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ReviewProblem {
    /// A criterion the rubric does not have.
    UnknownCriterion {
        /// As given.
        criterion: String,
    },
    /// A level that is not one of the criterion's levels.
    UnknownLevel {
        /// The criterion.
        criterion: String,
        /// As given.
        level: String,
        /// The criterion's levels, lowest first.
        allowed: Vec<String>,
    },
    /// A criterion rated twice.
    DuplicateCriterion {
        /// The criterion.
        criterion: String,
    },
    /// A criterion left unrated.
    MissingCriterion {
        /// The criterion.
        criterion: String,
    },
}

impl fmt::Display for ReviewProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReviewProblem::UnknownCriterion { criterion } => {
                write!(f, "criterion `{criterion}` is not in the rubric")
            }
            ReviewProblem::UnknownLevel {
                criterion,
                level,
                allowed,
            } => write!(
                f,
                "level `{level}` is not a level of criterion `{criterion}` (levels: {})",
                allowed.join(", ")
            ),
            ReviewProblem::DuplicateCriterion { criterion } => {
                write!(f, "criterion `{criterion}` is rated more than once")
            }
            ReviewProblem::MissingCriterion { criterion } => {
                write!(f, "criterion `{criterion}` is not rated")
            }
        }
    }
}

/// One criterion of a scored review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoredCriterion {
    /// Criterion id.
    pub criterion: String,
    /// Level id achieved.
    pub level: String,
    /// Position of that level, 0 = lowest.
    pub level_index: usize,
    /// Weighted points.
    pub points: u64,
    /// The level this criterion had to reach, if the rule has a level condition for it.
    pub required_level: Option<String>,
    /// Whether it reached it (`None` when there is no level condition for this criterion).
    pub meets_required: Option<bool>,
    /// The reviewer's comment.
    pub comment: Option<String>,
}

/// A review scored against a rubric version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoredReview {
    /// The exact rubric version.
    pub rubric: RubricRef,
    /// Mastered or not yet, under the rubric's rule.
    pub outcome: Outcome,
    /// Weighted total.
    pub total_points: u64,
    /// Highest possible weighted total.
    pub max_points: u64,
    /// Whether the level condition held (`None` if the rule has none).
    pub levels_met: Option<bool>,
    /// Whether the points condition held (`None` if the rule has none).
    pub points_met: Option<bool>,
    /// Whether moderation should treat this review as borderline.
    pub borderline: bool,
    /// Per criterion, in rubric order.
    pub criteria: Vec<ScoredCriterion>,
}

/// The outcome for a vector of level indices (one per criterion, rubric order).
fn decide(rubric: &Rubric, idx: &[usize]) -> (Outcome, u64, Option<bool>, Option<bool>) {
    let rule = &rubric.mastery;
    let mut total = 0u64;
    let mut has_level_condition = false;
    let mut levels_ok = true;
    for (c, &i) in rubric.criteria.iter().zip(idx) {
        let points = c.levels.get(i).map_or(0, |l| l.points);
        total = total.saturating_add(points.saturating_mul(c.weight));
        if let Some(req) = c.required_index(rule) {
            has_level_condition = true;
            levels_ok &= i >= req;
        }
    }
    let levels_met = has_level_condition.then_some(levels_ok);
    let points_met = rule.min_total_points.map(|min| total >= min);
    let conditions = [levels_met, points_met];
    let present = conditions.iter().flatten();
    let mastered = match rule.combine {
        Combine::All => present.clone().all(|&b| b),
        Combine::Any => present.clone().any(|&b| b),
    } && present.count() > 0;
    let outcome = if mastered {
        Outcome::Mastered
    } else {
        Outcome::NotYet
    };
    (outcome, total, levels_met, points_met)
}

impl Rubric {
    /// Score a review. Every criterion must be rated exactly once with one of its levels;
    /// otherwise [`Error::InvalidReview`] lists every problem.
    pub fn score(&self, scores: &[CriterionScore]) -> Result<ScoredReview, Error> {
        let mut problems = Vec::new();
        let mut idx: Vec<Option<usize>> = vec![None; self.criteria.len()];
        let mut comments: Vec<Option<String>> = vec![None; self.criteria.len()];
        for s in scores {
            let Some(ci) = self.criteria.iter().position(|c| c.id == s.criterion) else {
                problems.push(ReviewProblem::UnknownCriterion {
                    criterion: s.criterion.clone(),
                });
                continue;
            };
            let c = &self.criteria[ci];
            if idx[ci].is_some() {
                problems.push(ReviewProblem::DuplicateCriterion {
                    criterion: c.id.clone(),
                });
                continue;
            }
            match c.level_index(&s.level) {
                Some(li) => {
                    idx[ci] = Some(li);
                    comments[ci] = s.comment.clone();
                }
                None => {
                    // Mark as rated so it is not also reported missing.
                    idx[ci] = Some(usize::MAX);
                    problems.push(ReviewProblem::UnknownLevel {
                        criterion: c.id.clone(),
                        level: s.level.clone(),
                        allowed: c.levels.iter().map(|l| l.id.clone()).collect(),
                    });
                }
            }
        }
        for (c, i) in self.criteria.iter().zip(&idx) {
            if i.is_none() {
                problems.push(ReviewProblem::MissingCriterion {
                    criterion: c.id.clone(),
                });
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidReview {
                rubric: self.reference(),
                problems,
            });
        }
        let idx: Vec<usize> = idx.into_iter().map(|i| i.unwrap_or(0)).collect();
        let (outcome, total_points, levels_met, points_met) = decide(self, &idx);
        let borderline = self.is_borderline(&idx, outcome, total_points);
        let criteria = self
            .criteria
            .iter()
            .zip(&idx)
            .zip(comments)
            .map(|((c, &i), comment)| {
                let level = &c.levels[i];
                let required = c.required_index(&self.mastery);
                ScoredCriterion {
                    criterion: c.id.clone(),
                    level: level.id.clone(),
                    level_index: i,
                    points: level.points.saturating_mul(c.weight),
                    required_level: required.map(|r| c.levels[r].id.clone()),
                    meets_required: required.map(|r| i >= r),
                    comment,
                }
            })
            .collect();
        Ok(ScoredReview {
            rubric: self.reference(),
            outcome,
            total_points,
            max_points: self.max_points(),
            levels_met,
            points_met,
            borderline,
            criteria,
        })
    }

    /// Score a review of evidence submitted for `competency`, refusing a rubric that does not
    /// assess it ([`Error::CompetencyNotAssessed`]).
    pub fn score_for(
        &self,
        competency: &str,
        scores: &[CriterionScore],
    ) -> Result<ScoredReview, Error> {
        if !self.assesses(competency) {
            return Err(Error::CompetencyNotAssessed {
                rubric: self.reference(),
                competency: competency.to_owned(),
            });
        }
        self.score(scores)
    }

    fn is_borderline(&self, idx: &[usize], outcome: Outcome, total: u64) -> bool {
        let b = self.mastery.borderline;
        if let (Some(within), Some(min)) = (b.within_points, self.mastery.min_total_points)
            && total.abs_diff(min) <= within
        {
            return true;
        }
        let k = usize::try_from(b.within_levels).unwrap_or(usize::MAX);
        if k == 0 {
            return false;
        }
        let mut probe = idx.to_vec();
        for (ci, c) in self.criteria.iter().enumerate() {
            let here = idx[ci];
            let lo = here.saturating_sub(k);
            let hi = here.saturating_add(k).min(c.levels.len() - 1);
            for j in lo..=hi {
                if j == here {
                    continue;
                }
                probe[ci] = j;
                let flipped = decide(self, &probe).0 != outcome;
                probe[ci] = here;
                if flipped {
                    return true;
                }
            }
        }
        false
    }
}
