//! The domain as pure code: no database, no HTTP, no clock or RNG it was not given.
//!
//! # Layout
//! - [`account`]: organisations, their kinds and slugs, e-mail addresses, roles and the
//!   password policy.
//! - [`registry`]: frameworks and competencies: statuses, association types, and the
//!   validated drafts the store writes.
//! - [`dag`]: the prerequisite graph and cycle detection that names the cycle.
//! - [`clock`]: the time source passed into everything that needs "now".
//! - [`error`]: the crate's one error type.

pub mod account;
pub mod clock;
pub mod dag;
pub mod error;
pub mod registry;

pub use error::DomainError;
