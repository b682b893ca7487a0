//! Inter-rater agreement between two reviewers on ordinal rubric levels: percent agreement
//! (exact and adjacent), Cohen's kappa and weighted kappa with linear (Cicchetti–Allison) and
//! quadratic (Fleiss–Cohen) weights.
//!
//! With agreement weights `w_ij` (1 on the diagonal), `p_o = Σ w_ij p_ij`,
//! `p_e = Σ w_ij p_i. p_.j` and `κ_w = (p_o − p_e) / (1 − p_e)` (Cohen 1968). Kappa is undefined
//! when `p_e = 1` (both reviewers used one single level throughout); it is then `None`, not a
//! made-up number.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::rubric::Rubric;

/// Why agreement cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum AgreementProblem {
    /// A scale needs at least two categories.
    TooFewCategories {
        /// Categories given.
        categories: usize,
    },
    /// A table that is not square k × k.
    NotSquare,
    /// A rating outside `0..categories`.
    OutOfRange {
        /// The rating.
        rating: usize,
        /// The number of categories.
        categories: usize,
    },
    /// A double rating names a criterion or level not in the rubric.
    UnknownLevel {
        /// Criterion.
        criterion: String,
        /// Level.
        level: String,
    },
    /// A double rating for another rubric.
    OtherRubric {
        /// Its rubric id.
        rubric: String,
    },
    /// A reviewer paired with themself.
    SameReviewer {
        /// The reviewer.
        reviewer: String,
    },
}

impl fmt::Display for AgreementProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgreementProblem::TooFewCategories { categories } => {
                write!(f, "a scale needs at least 2 categories, got {categories}")
            }
            AgreementProblem::NotSquare => write!(f, "the table must be square"),
            AgreementProblem::OutOfRange { rating, categories } => {
                write!(f, "rating {rating} is outside 0..{categories}")
            }
            AgreementProblem::UnknownLevel { criterion, level } => {
                write!(
                    f,
                    "level `{level}` of criterion `{criterion}` is not in the rubric"
                )
            }
            AgreementProblem::OtherRubric { rubric } => {
                write!(f, "rating for another rubric `{rubric}`")
            }
            AgreementProblem::SameReviewer { reviewer } => {
                write!(f, "reviewer `{reviewer}` cannot be paired with themself")
            }
        }
    }
}

/// A k × k table of counts: rows are reviewer A's levels, columns reviewer B's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    k: usize,
    counts: Vec<u64>,
}

/// Disagreement weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weights {
    /// Only exact agreement counts (Cohen 1960).
    Unweighted,
    /// `1 − |i−j|/(k−1)` (Cicchetti–Allison; SAS default, R vcd "Equal-Spacing").
    Linear,
    /// `1 − (i−j)²/(k−1)²` (Fleiss–Cohen).
    Quadratic,
}

impl ConfusionMatrix {
    /// An empty table for a `k`-level scale.
    pub fn new(k: usize) -> Result<Self, Error> {
        if k < 2 {
            return Err(Error::Agreement(AgreementProblem::TooFewCategories {
                categories: k,
            }));
        }
        Ok(ConfusionMatrix {
            k,
            counts: vec![0; k * k],
        })
    }

    /// A table from rows of counts.
    pub fn from_rows(rows: &[&[u64]]) -> Result<Self, Error> {
        let mut m = ConfusionMatrix::new(rows.len())?;
        for (i, row) in rows.iter().enumerate() {
            if row.len() != m.k {
                return Err(Error::Agreement(AgreementProblem::NotSquare));
            }
            m.counts[i * m.k..(i + 1) * m.k].copy_from_slice(row);
        }
        Ok(m)
    }

    /// Record one double rating (level indices, 0 = lowest).
    pub fn add(&mut self, a: usize, b: usize) -> Result<(), Error> {
        for r in [a, b] {
            if r >= self.k {
                return Err(Error::Agreement(AgreementProblem::OutOfRange {
                    rating: r,
                    categories: self.k,
                }));
            }
        }
        self.counts[a * self.k + b] += 1;
        Ok(())
    }

    /// Number of categories.
    pub fn categories(&self) -> usize {
        self.k
    }

    /// Number of double ratings.
    pub fn n(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn cell(&self, i: usize, j: usize) -> u64 {
        self.counts[i * self.k + j]
    }

    fn weight(&self, w: Weights, i: usize, j: usize) -> f64 {
        let d = i.abs_diff(j) as f64 / (self.k - 1) as f64;
        match w {
            Weights::Unweighted => f64::from(u8::from(i == j)),
            Weights::Linear => 1.0 - d,
            Weights::Quadratic => 1.0 - d * d,
        }
    }

    /// Kappa with the given weights; `None` when there are no ratings or chance agreement is 1.
    pub fn kappa(&self, w: Weights) -> Option<f64> {
        let n = self.n();
        if n == 0 {
            return None;
        }
        let n = n as f64;
        let rows: Vec<f64> = (0..self.k)
            .map(|i| (0..self.k).map(|j| self.cell(i, j)).sum::<u64>() as f64 / n)
            .collect();
        let cols: Vec<f64> = (0..self.k)
            .map(|j| (0..self.k).map(|i| self.cell(i, j)).sum::<u64>() as f64 / n)
            .collect();
        let mut po = 0.0;
        let mut pe = 0.0;
        for (i, row) in rows.iter().enumerate() {
            for (j, col) in cols.iter().enumerate() {
                let wij = self.weight(w, i, j);
                po += wij * self.cell(i, j) as f64 / n;
                pe += wij * row * col;
            }
        }
        if (1.0 - pe).abs() < 1e-12 {
            return None;
        }
        Some((po - pe) / (1.0 - pe))
    }

    /// All agreement figures for this table.
    pub fn agreement(&self) -> Agreement {
        let n = self.n();
        let share = |pred: &dyn Fn(usize, usize) -> bool| -> Option<f64> {
            if n == 0 {
                return None;
            }
            let hits: u64 = (0..self.k)
                .flat_map(|i| (0..self.k).map(move |j| (i, j)))
                .filter(|&(i, j)| pred(i, j))
                .map(|(i, j)| self.cell(i, j))
                .sum();
            Some(hits as f64 / n as f64)
        };
        Agreement {
            n,
            exact: share(&|i, j| i == j),
            adjacent: share(&|i, j| i.abs_diff(j) <= 1),
            kappa: self.kappa(Weights::Unweighted),
            kappa_linear: self.kappa(Weights::Linear),
            kappa_quadratic: self.kappa(Weights::Quadratic),
        }
    }
}

/// Agreement figures. Shares are fractions (0.0–1.0); `None` where undefined.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Number of double ratings.
    pub n: u64,
    /// Share of exact agreement (percent agreement / 100).
    pub exact: Option<f64>,
    /// Share of ratings at most one level apart (exact + adjacent), the usual figure for
    /// writing rubrics.
    pub adjacent: Option<f64>,
    /// Cohen's kappa.
    pub kappa: Option<f64>,
    /// Linearly weighted kappa.
    pub kappa_linear: Option<f64>,
    /// Quadratically weighted kappa.
    pub kappa_quadratic: Option<f64>,
}

/// One criterion of one review rated by two reviewers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoubleRating {
    /// Rubric id (all versions with the same scale are pooled; see [`agreement_by_pair`]).
    pub rubric: String,
    /// Criterion id.
    pub criterion: String,
    /// Pseudonymous id of one reviewer.
    pub reviewer_a: String,
    /// Level given by that reviewer.
    pub level_a: String,
    /// Pseudonymous id of the other reviewer.
    pub reviewer_b: String,
    /// Level given by the other reviewer.
    pub level_b: String,
}

/// Agreement of one reviewer pair on one rubric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairAgreement {
    /// Rubric id.
    pub rubric: String,
    /// The reviewer whose id sorts first.
    pub reviewer_a: String,
    /// The other reviewer.
    pub reviewer_b: String,
    /// The figures.
    pub agreement: Agreement,
}

/// Agreement per reviewer pair on `rubric`, from every double-rated criterion. Levels are
/// compared by position in their criterion's scale (0 = lowest); the table has as many
/// categories as the longest scale in the rubric. Pairs are unordered: (A, B) and (B, A) pool.
pub fn agreement_by_pair(
    rubric: &Rubric,
    ratings: &[DoubleRating],
) -> Result<Vec<PairAgreement>, Error> {
    let k = rubric
        .criteria()
        .iter()
        .map(|c| c.levels().len())
        .max()
        .unwrap_or(0);
    let mut tables: BTreeMap<(String, String), ConfusionMatrix> = BTreeMap::new();
    for r in ratings {
        if r.rubric != rubric.id() {
            return Err(Error::Agreement(AgreementProblem::OtherRubric {
                rubric: r.rubric.clone(),
            }));
        }
        if r.reviewer_a == r.reviewer_b {
            return Err(Error::Agreement(AgreementProblem::SameReviewer {
                reviewer: r.reviewer_a.clone(),
            }));
        }
        let index = |level: &str| {
            rubric
                .criterion(&r.criterion)
                .and_then(|c| c.level_index(level))
                .ok_or_else(|| {
                    Error::Agreement(AgreementProblem::UnknownLevel {
                        criterion: r.criterion.clone(),
                        level: level.to_owned(),
                    })
                })
        };
        let (a, b) = (index(&r.level_a)?, index(&r.level_b)?);
        let (key, a, b) = if r.reviewer_a <= r.reviewer_b {
            ((r.reviewer_a.clone(), r.reviewer_b.clone()), a, b)
        } else {
            ((r.reviewer_b.clone(), r.reviewer_a.clone()), b, a)
        };
        let table = match tables.entry(key) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(ConfusionMatrix::new(k)?),
        };
        table.add(a, b)?;
    }
    Ok(tables
        .into_iter()
        .map(|((a, b), t)| PairAgreement {
            rubric: rubric.id().to_owned(),
            reviewer_a: a,
            reviewer_b: b,
            agreement: t.agreement(),
        })
        .collect())
}
