//! The Tessera terms the time-variable record needs, which neither CLR 2.0 nor OB 3.0 defines.
//!
//! They are written as absolute IRIs, so the signed document is lossless JSON-LD ("safe mode")
//! with only the bundled W3C/1EdTech contexts: no undefined term, no inline context (which would
//! also push canonicalization off the fast compiled path). When a Tessera context that defines
//! these IRIs is bundled in `tessera-vc`, the same graph can be written with short terms; the
//! RDF, and so the signature, is identical either way. `context-terms.json` beside this crate's
//! `Cargo.toml` holds the term definitions to merge into that context.

/// The namespace of every Tessera transcript term.
pub const NS: &str = "https://w3id.org/tessera/v1#";

macro_rules! terms {
    ($($(#[$doc:meta])* $name:ident = $local:literal;)*) => {
        $($(#[$doc])* pub const $name: &str = concat!("https://w3id.org/tessera/v1#", $local);)*
        /// Every term: `(local name, IRI)`.
        pub const ALL: &[(&str, &str)] = &[$(($local, $name)),*];
    };
}

terms! {
    /// On the ClrSubject: the per-competency records (a list of [`COMPETENCY_RECORD`] nodes).
    TIME_VARIABLE_RECORD = "timeVariableRecord";
    /// The type of one competency's record.
    COMPETENCY_RECORD = "CompetencyRecord";
    /// The competency (Achievement id) a record is about.
    COMPETENCY = "competency";
    /// When the learner first worked on the competency (xsd:dateTime).
    FIRST_ACTIVITY = "firstActivity";
    /// How many attempts (reviewed submissions) it took (xsd:integer).
    ATTEMPTS = "attempts";
    /// When mastery was decided (xsd:dateTime); absent while in progress.
    MASTERED_AT = "masteredAt";
    /// From first activity to mastery (xsd:duration).
    TIME_TO_MASTERY = "timeToMastery";
    /// The rubric level reached (its name).
    LEVEL = "level";
    /// On the ClrSubject: the period the transcript covers (a [`PERIOD`] node).
    COVERS = "covers";
    /// The type of the period node.
    PERIOD = "Period";
    /// Start of the period (xsd:dateTime).
    START = "start";
    /// End of the period (xsd:dateTime).
    END = "end";
    /// On the ClrSubject: the pacing summary (a [`PACING_SUMMARY`] node).
    PACING = "pacing";
    /// The type of the pacing summary.
    PACING_SUMMARY = "PacingSummary";
    /// Competencies mastered in the period (xsd:integer).
    MASTERED_COUNT = "masteredCount";
    /// Competencies worked on but not yet mastered (xsd:integer).
    IN_PROGRESS_COUNT = "inProgressCount";
    /// Median time to mastery (xsd:duration).
    MEDIAN_TIME_TO_MASTERY = "medianTimeToMastery";
    /// Mean attempts per mastered competency, as a decimal string (xsd:decimal).
    MEAN_ATTEMPTS = "meanAttempts";
    /// Masteries per 30 days over the period, as a decimal string (xsd:decimal).
    MASTERIES_PER_MONTH = "masteriesPerMonth";
    /// On the ClrSubject: what the learner chose to include (a [`SELECTION`] node).
    SELECTED = "selected";
    /// The type of the selection node.
    SELECTION = "Selection";
    /// `everything`, `framework` or `competencies`.
    SCOPE = "scope";
    /// The framework chosen, or the competencies chosen (IRIs).
    INCLUDES = "includes";
}

/// XML Schema datatypes used in typed literals.
pub mod xsd {
    /// xsd:dateTime.
    pub const DATE_TIME: &str = "http://www.w3.org/2001/XMLSchema#dateTime";
    /// xsd:duration.
    pub const DURATION: &str = "http://www.w3.org/2001/XMLSchema#duration";
    /// xsd:decimal.
    pub const DECIMAL: &str = "http://www.w3.org/2001/XMLSchema#decimal";
}
