//! The crate's one error type: every way a plain value can fail to be a domain value.

/// A value that is not a valid domain value. Each variant names the field at fault so that the
/// server can point the caller at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field is empty, too long or has the wrong shape.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field name as the API spells it.
        field: &'static str,
        /// What is wrong, in words a user understands.
        reason: String,
    },
    /// Adding the prerequisites would close a cycle; `cycle` lists the nodes in order and
    /// ends where it started.
    #[error("prerequisites would form a cycle: {}", .cycle.join(" → "))]
    Cycle {
        /// Labels (codes where they exist) of the nodes on the cycle, first node repeated last.
        cycle: Vec<String>,
    },
}

impl DomainError {
    /// Shorthand for [`DomainError::Invalid`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
