//! The store's one error type, and the one place database errors are classified.
//!
//! Callers never see a raw driver message as a client error: a uniqueness violation becomes
//! [`StoreError::Conflict`], a missing row [`StoreError::NotFound`], and everything else stays
//! [`StoreError::Database`], which the server turns into a generic 500 and logs.

use sqlx::error::ErrorKind;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist (or is not visible in this context).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken: the slug, e-mail or identifier is taken, or a one-time
    /// token was already used.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A reference points at something that does not exist or may not be used
    /// (a parent in another framework, a retired framework …).
    #[error("invalid reference: {0}")]
    InvalidReference(&'static str),
    /// A domain rule was broken (for example a prerequisite cycle).
    #[error(transparent)]
    Domain(#[from] tessera_core::DomainError),
    /// A review-domain rule was broken (invalid mastery transition, a rubric version reused
    /// with other content, a review that does not fit its rubric …).
    #[error(transparent)]
    Review(#[from] tessera_review::Error),
    /// The database URL or options are unusable.
    #[error("database configuration: {0}")]
    Config(String),
    /// Applying migrations failed.
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database failure. Its text may contain SQL and must never reach a client.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// A stored value could not be read back (a bug or a hand-edited database).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation => Self::Conflict("already exists"),
                ErrorKind::ForeignKeyViolation => {
                    Self::InvalidReference("referenced row does not exist")
                }
                _ => Self::Database(e),
            },
            _ => Self::Database(e),
        }
    }
}

/// Names a uniqueness conflict at the call site, where we know what was duplicated
/// (`.on_conflict("slug is taken")`).
pub trait ResultExt<T> {
    /// Replaces a generic [`StoreError::Conflict`] with one that says what is taken.
    fn on_conflict(self, what: &'static str) -> Result<T, StoreError>;
}

impl<T> ResultExt<T> for Result<T, StoreError> {
    fn on_conflict(self, what: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict(what),
            other => other,
        })
    }
}

impl<T> ResultExt<T> for Result<T, sqlx::Error> {
    fn on_conflict(self, what: &'static str) -> Result<T, StoreError> {
        self.map_err(StoreError::from).on_conflict(what)
    }
}
