//! 1EdTech CASE 1.0 / 1.1: read, validate, map and write `CFPackage`s.
//!
//! Pure: no I/O, no database, no clock. The registry (`tessera-store`) calls [`import`] to get a
//! validated [`Framework`] and [`export`] to turn a stored one back into a [`CfPackage`].
//!
//! ```
//! let json = tessera_case::generate::package_json(20);
//! let framework = tessera_case::import(json.as_bytes(), &Default::default()).unwrap();
//! assert_eq!(framework.competencies.len(), 20);
//! let again = tessera_case::export(&framework);
//! assert_eq!(again.items.len(), 20);
//! ```
//!
//! # Pipeline
//! 1. [`parse`]: bytes → JSON (a syntax error is [`CaseError::Json`] with line and column).
//! 2. [`validate_value`]: pick the version ([`version::detect`]), validate against Tessera's
//!    CASE JSON Schema for that version ([`schema`]), decode into the typed [`package`] model,
//!    then run the semantic checks the schema cannot express ([`check`]). Any problem is
//!    [`CaseError::Invalid`] listing *every* violation with its JSON path.
//! 3. Map into the neutral [`Framework`] (`isChildOf` → hierarchy, `precedes` → prerequisites).
//!
//! # Layout
//! - [`package`]: serde types for the CFPackage JSON binding (1.0 and 1.1 in one model).
//! - [`schema`]: Tessera's bundled CASE 1.0 / 1.1 JSON Schemas and validation against them.
//! - [`check`]: UUIDs, uniqueness, reference resolution, cycle detection.
//! - [`framework`]: the registry model, the mapping, and [`export`].
//! - [`rest`]: CASE REST binding shapes: stand-alone payloads, paging, `imsx_StatusInfo`.
//! - [`generate`]: deterministic large frameworks for tests and benchmarks.
//! - `error`: [`CaseError`], [`Violation`], [`Rule`].

mod association;
pub mod check;
mod error;
pub mod framework;
pub mod generate;
mod graph;
pub mod package;
pub mod rest;
pub mod schema;
pub mod version;

use serde::Deserialize;
use serde_json::Value;

pub use association::AssociationType;
pub use error::{CaseError, MAX_VIOLATIONS, Rule, Violation};
pub use framework::{Competency, Framework, HierarchyLink, Parent, PrerequisiteLink, export};
pub use package::CfPackage;
pub use schema::ValidationOptions;
pub use version::CaseVersion;

use error::Violations;

/// Parses bytes as JSON.
///
/// # Errors
/// [`CaseError::Json`] when the bytes are not JSON.
pub fn parse(bytes: &[u8]) -> Result<Value, CaseError> {
    serde_json::from_slice(bytes).map_err(|e| CaseError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// A package that passed schema and semantic validation.
#[derive(Debug, Clone)]
pub struct ValidPackage {
    /// The version it was validated against.
    pub version: CaseVersion,
    /// The typed package.
    pub package: CfPackage,
    resolution: check::Resolution,
}

impl ValidPackage {
    /// Maps the package into the registry model.
    #[must_use]
    pub fn into_framework(self) -> Framework {
        Framework::from_checked(self.package, self.version, self.resolution)
    }
}

/// Validates a parsed package: schema first (stopping there if it fails, since semantic rules
/// on a structurally broken package would only add noise), then decoding and semantic checks.
///
/// # Errors
/// [`CaseError::Invalid`] with every violation found (up to [`MAX_VIOLATIONS`]).
pub fn validate_value(
    value: &Value,
    options: &ValidationOptions,
) -> Result<ValidPackage, CaseError> {
    let version = options
        .force_version
        .unwrap_or_else(|| version::detect(value));
    let mut out = Violations::default();
    schema::validate(value, version, options, &mut out);
    if !out.list.is_empty() {
        return Err(invalid(version, out));
    }
    let package = match CfPackage::deserialize(value) {
        Ok(package) => package,
        Err(e) => {
            out.push("$", Rule::Decode, e.to_string());
            return Err(invalid(version, out));
        }
    };
    match check::check(&package, &mut out) {
        Some(resolution) if out.list.is_empty() => Ok(ValidPackage {
            version,
            package,
            resolution,
        }),
        _ => Err(invalid(version, out)),
    }
}

fn invalid(version: CaseVersion, out: Violations) -> CaseError {
    CaseError::Invalid {
        version,
        violations: out.list,
        truncated: out.truncated,
    }
}

/// Parses and validates bytes.
///
/// # Errors
/// [`CaseError::Json`] or [`CaseError::Invalid`].
pub fn validate(bytes: &[u8], options: &ValidationOptions) -> Result<ValidPackage, CaseError> {
    validate_value(&parse(bytes)?, options)
}

/// The whole import pipeline: parse, validate, map.
///
/// # Errors
/// [`CaseError::Json`] or [`CaseError::Invalid`].
pub fn import(bytes: &[u8], options: &ValidationOptions) -> Result<Framework, CaseError> {
    Ok(validate(bytes, options)?.into_framework())
}

/// Serialises a package as compact JSON.
///
/// # Errors
/// [`CaseError::Serialize`] (only for non-finite numbers a caller put into extension data).
pub fn to_json(package: &CfPackage) -> Result<Vec<u8>, CaseError> {
    serde_json::to_vec(package).map_err(|e| CaseError::Serialize(e.to_string()))
}
