//! The crate's one error type.
//!
//! Error policy: every function that takes input from outside (a rubric file, a CASE document, a
//! teacher's review, a stored event or audit row) returns [`Error`]; nothing here panics on bad input.
//! Variants carry the values a caller needs to render a precise message or to map the error to an
//! HTTP status (rubric and review problems are the client's; a broken chain is a verdict, not a
//! crash). Messages never contain learner personal data: they name ids, levels and sequence numbers.

use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::agreement::AgreementProblem;
use crate::audit::ChainFault;
use crate::mastery::{EventName, MasteryState};
use crate::rubric::RubricRef;
use crate::scoring::ReviewProblem;

/// Everything that can go wrong in `tessera-review`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rubric file could not be read (HTTP: not applicable; CLI: exit 1).
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// Why the read failed.
        #[source]
        source: std::io::Error,
    },
    /// A rubric (TOML file or CASE CFRubric) is invalid. Every problem found is listed, in source
    /// order, each with its own location (HTTP 422).
    #[error("{0}")]
    InvalidRubric(Diagnostics),
    /// A rubric version number was reused for different content. Versions are immutable: an edit
    /// must be published as a new version (HTTP 409).
    #[error(
        "rubric `{id}` version {version} already exists with different content (stored digest {stored}, offered {offered}); publish the edit as a new version"
    )]
    VersionReused {
        /// Rubric id.
        id: String,
        /// The reused version.
        version: String,
        /// Digest of the stored content.
        stored: String,
        /// Digest of the offered content.
        offered: String,
    },
    /// A new rubric version is not greater than the newest stored version (HTTP 409).
    #[error("rubric `{id}` version {offered} is not newer than the stored version {latest}")]
    VersionNotNewer {
        /// Rubric id.
        id: String,
        /// The newest stored version.
        latest: String,
        /// The offered version.
        offered: String,
    },
    /// The rubric does not assess the competency the evidence was submitted for (HTTP 422).
    #[error("rubric {rubric} does not assess competency `{competency}`")]
    CompetencyNotAssessed {
        /// The rubric used.
        rubric: RubricRef,
        /// The competency of the submission.
        competency: String,
    },
    /// Two reviews of one attempt were scored against different rubric versions (HTTP 409).
    #[error("the reviews were scored against different rubric versions: {first} and {second}")]
    RubricMismatch {
        /// The first review's rubric.
        first: Box<RubricRef>,
        /// The second review's rubric.
        second: Box<RubricRef>,
    },
    /// A review's scores do not fit the rubric; every problem is listed (HTTP 422).
    #[error("review does not fit rubric {rubric}: {}", join(problems))]
    InvalidReview {
        /// The rubric the review was scored against.
        rubric: RubricRef,
        /// What is wrong, one entry per criterion concerned.
        problems: Vec<ReviewProblem>,
    },
    /// A mastery-record event is not allowed in the record's current state (HTTP 409).
    #[error(
        "competency `{competency}`: cannot go from {from} to {to} by `{event}` (allowed from: {})",
        join(allowed_from)
    )]
    InvalidTransition {
        /// The competency whose record was being changed.
        competency: String,
        /// The record's state before the event.
        from: MasteryState,
        /// The state the event would have led to.
        to: MasteryState,
        /// The event that was refused.
        event: EventName,
        /// The states from which this event is allowed.
        allowed_from: Vec<MasteryState>,
    },
    /// A teacher override or withdrawal without a written reason (HTTP 422).
    #[error("competency `{competency}`: `{event}` needs a written reason")]
    ReasonRequired {
        /// The competency concerned.
        competency: String,
        /// The override or withdrawal.
        event: EventName,
    },
    /// Events were given out of time order (HTTP 500 when read from the store: the log is corrupt).
    #[error(
        "competency `{competency}`: event at {at} comes before the previous event at {previous}"
    )]
    EventOutOfOrder {
        /// The competency concerned.
        competency: String,
        /// The out-of-order event's time.
        at: DateTime<Utc>,
        /// The time of the event before it.
        previous: DateTime<Utc>,
    },
    /// Inter-rater agreement could not be computed from the input (HTTP 422).
    #[error("cannot compute agreement: {0}")]
    Agreement(AgreementProblem),
    /// The audit chain is broken: the entry at `seq` was edited, deleted, reordered or inserted.
    #[error("audit chain broken at seq {seq}: {fault}")]
    ChainBroken {
        /// The first sequence number at which the chain stops verifying.
        seq: u64,
        /// What was found there.
        fault: ChainFault,
    },
    /// An audit subject id that does not look like an opaque pseudonymous id (an e-mail address,
    /// a name with spaces...). Personal data must stay out of the hashed chain.
    #[error(
        "audit subject id `{0}` is not an opaque pseudonymous id (allowed: 1-128 of A-Z a-z 0-9 : . _ -)"
    )]
    NotPseudonymous(String),
    /// A value read back from storage is not a valid encoding (hash, kind).
    #[error("invalid stored {what}: `{value}`")]
    InvalidStoredValue {
        /// Which field.
        what: &'static str,
        /// The offending value.
        value: String,
    },
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(&item.to_string());
    }
    out
}

/// Where in its source a rubric problem is. Ordered by file, line and column, or by document and
/// pointer with array indices compared as numbers (`/2` before `/10`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// A text file: 1-based line and column (columns count characters, not bytes).
    Source {
        /// The file name as given by the caller.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
    },
    /// A JSON document (a CASE CFRubric): an RFC 6901 JSON pointer.
    Json {
        /// A name for the document (for example its CASE identifier).
        document: String,
        /// RFC 6901 pointer, e.g. `/CFRubricCriteria/0/CFRubricCriterionLevels/2/score`.
        pointer: String,
    },
}

impl Ord for Location {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (
                Location::Source {
                    file: f1,
                    line: l1,
                    column: c1,
                },
                Location::Source {
                    file: f2,
                    line: l2,
                    column: c2,
                },
            ) => (f1, l1, c1).cmp(&(f2, l2, c2)),
            (
                Location::Json {
                    document: d1,
                    pointer: p1,
                },
                Location::Json {
                    document: d2,
                    pointer: p2,
                },
            ) => d1.cmp(d2).then_with(|| {
                let key = |p: &str| -> Vec<(u64, String)> {
                    p.split('/')
                        .map(|seg| match seg.parse::<u64>() {
                            Ok(n) => (n, String::new()),
                            Err(_) => (u64::MAX, seg.to_owned()),
                        })
                        .collect()
                };
                key(p1).cmp(&key(p2))
            }),
            (Location::Source { .. }, Location::Json { .. }) => Ordering::Less,
            (Location::Json { .. }, Location::Source { .. }) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Location {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Source { file, line, column } => write!(f, "{file}:{line}:{column}"),
            Location::Json { document, pointer } => write!(f, "{document}#{pointer}"),
        }
    }
}

/// One problem in a rubric, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is.
    pub location: Location,
    /// What the problem is.
    pub problem: Problem,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.problem)
    }
}

/// All problems found in one rubric, in source order. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The diagnostics, in source order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// What is wrong with a rubric, one kind per mistake a teacher can make.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The file is not valid TOML (or not JSON for a CASE document).
    Syntax {
        /// The parser's description.
        message: String,
    },
    /// A required field is absent from the table that starts here.
    MissingField {
        /// The missing key.
        field: &'static str,
        /// Which table (`rubric`, `criteria[2]`, `criteria[2].levels[0]`, `mastery`).
        table: String,
    },
    /// A key that the format does not define (a typo, usually).
    UnknownField {
        /// The key as written.
        field: String,
        /// Which table.
        table: String,
        /// The keys this table allows.
        allowed: &'static [&'static str],
    },
    /// A value of the wrong TOML/JSON type.
    WrongType {
        /// The key.
        field: String,
        /// What the format wants.
        expected: &'static str,
        /// What was written.
        found: &'static str,
    },
    /// A string or list that must not be empty is empty.
    Empty {
        /// The key.
        field: String,
    },
    /// The version is not `MAJOR.MINOR.PATCH` (digits, no leading zeros).
    BadVersion {
        /// The version as written.
        value: String,
    },
    /// An id with characters outside `A-Z a-z 0-9 . _ -`, or longer than 64 characters.
    BadId {
        /// The key.
        field: String,
        /// The id as written.
        value: String,
    },
    /// Two criteria with the same id.
    DuplicateCriterion {
        /// The repeated id.
        id: String,
        /// Line (or pointer) of the first one.
        first: Location,
    },
    /// Two levels with the same id in one criterion.
    DuplicateLevel {
        /// The criterion.
        criterion: String,
        /// The repeated level id.
        id: String,
    },
    /// A competency listed twice.
    DuplicateCompetency {
        /// The repeated competency.
        id: String,
    },
    /// Levels must be listed from lowest to highest with strictly increasing points.
    LevelsNotAscending {
        /// The criterion.
        criterion: String,
        /// The level out of order.
        level: String,
        /// Its points.
        points: u64,
        /// The level listed before it.
        previous: String,
        /// That level's points.
        previous_points: u64,
    },
    /// A criterion needs at least two levels to be a scale.
    TooFewLevels {
        /// The criterion.
        criterion: String,
    },
    /// The mastery rule (or a criterion's `required_level`) names a level the criterion lacks.
    UnknownLevel {
        /// The criterion without that level.
        criterion: String,
        /// The level named.
        level: String,
        /// The criterion's levels.
        known: Vec<String>,
    },
    /// `min_total_points` is above the most points the rubric can give.
    ThresholdUnreachable {
        /// The threshold.
        min_total_points: u64,
        /// The maximum possible total (weights applied).
        max_points: u64,
    },
    /// The mastery rule has neither a level condition nor a points condition.
    NoMasteryCondition,
    /// A value outside its allowed range.
    OutOfRange {
        /// The key.
        field: String,
        /// The value as written.
        value: String,
        /// What is allowed.
        allowed: &'static str,
    },
    /// A string value that is not one of the allowed words.
    BadChoice {
        /// The key.
        field: String,
        /// The value as written.
        value: String,
        /// The allowed words.
        allowed: &'static [&'static str],
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Syntax { message } => write!(f, "syntax error: {message}"),
            Problem::MissingField { field, table } => {
                write!(f, "missing field `{field}` in {table}")
            }
            Problem::UnknownField {
                field,
                table,
                allowed,
            } => write!(
                f,
                "unknown field `{field}` in {table}; allowed: {}",
                allowed.join(", ")
            ),
            Problem::WrongType {
                field,
                expected,
                found,
            } => {
                write!(f, "`{field}` must be {expected}, found {found}")
            }
            Problem::Empty { field } => write!(f, "`{field}` must not be empty"),
            Problem::BadVersion { value } => write!(
                f,
                "bad version `{value}`: expected MAJOR.MINOR.PATCH, e.g. \"1.0.0\" (digits, no leading zeros)"
            ),
            Problem::BadId { field, value } => write!(
                f,
                "bad {field} `{value}`: use 1-64 of A-Z a-z 0-9 . _ - (starting with a letter or digit)"
            ),
            Problem::DuplicateCriterion { id, first } => {
                write!(
                    f,
                    "duplicate criterion id `{id}` (first defined at {first})"
                )
            }
            Problem::DuplicateLevel { criterion, id } => {
                write!(f, "duplicate level id `{id}` in criterion `{criterion}`")
            }
            Problem::DuplicateCompetency { id } => write!(f, "competency `{id}` is listed twice"),
            Problem::LevelsNotAscending {
                criterion,
                level,
                points,
                previous,
                previous_points,
            } => write!(
                f,
                "levels of criterion `{criterion}` must be listed lowest first with strictly increasing points: `{level}` (points = {points}) follows `{previous}` (points = {previous_points})"
            ),
            Problem::TooFewLevels { criterion } => {
                write!(f, "criterion `{criterion}` needs at least two levels")
            }
            Problem::UnknownLevel {
                criterion,
                level,
                known,
            } => write!(
                f,
                "level `{level}` is not a level of criterion `{criterion}` (levels: {})",
                known.join(", ")
            ),
            Problem::ThresholdUnreachable {
                min_total_points,
                max_points,
            } => write!(
                f,
                "min_total_points = {min_total_points} is above the maximum possible total of {max_points} points"
            ),
            Problem::NoMasteryCondition => write!(
                f,
                "the mastery rule needs `every_criterion_at_least`, `min_total_points`, or a criterion `required_level`"
            ),
            Problem::OutOfRange {
                field,
                value,
                allowed,
            } => {
                write!(f, "`{field}` = {value} is out of range ({allowed})")
            }
            Problem::BadChoice {
                field,
                value,
                allowed,
            } => write!(
                f,
                "`{field}` = \"{value}\" is not one of: {}",
                allowed.join(", ")
            ),
        }
    }
}
