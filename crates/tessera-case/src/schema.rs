//! Validation against the official CASE JSON Schemas (see `schemas/README.md` for where they
//! come from).
//!
//! The schemas are compiled once per process. Two things are added on top of plain schema
//! validation, both deliberate:
//!
//! - `format` is **asserted** (`uuid`, `date`, `date-time`, `uri`). Draft 2019-09 treats `format`
//!   as an annotation by default, which would let `"identifier": "not-a-uuid"` through the 1.1
//!   schema; the CASE information model clearly means these as constraints.
//! - With [`ValidationOptions::legacy_links`] (on by default) a named list of legacy link
//!   properties is tolerated where CASE 1.0 providers put them in packages: `CFPackageURI` on the
//!   CFDocument, `CFDocumentURI` and `CFItemAssociationURI` on CFItems, `CFDocumentURI` on
//!   CFAssociations. They come from the CASE 1.0 non-package bindings and are emitted by the
//!   widely deployed CASE 1.0 implementations; refusing them would refuse most real-world
//!   frameworks for no gain. They are kept verbatim (in `extra`) and exported again. Any other
//!   unknown property is still an error.

use std::sync::OnceLock;

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::CaseVersion;
use crate::error::{Rule, Violations, pointer_to_path, push_property};

/// The official CASE 1.1 CFPackage JSON Schema (draft 2019-09).
/// `$id`: <https://purl.imsglobal.org/spec/case/v1p1/schema/json/case_v1p1_cfpackage-jsonschema1.json>
pub const CASE_V1P1_CFPACKAGE_SCHEMA: &str = include_str!("../schemas/case-v1p1-cfpackage.json");

/// The CASE 1.0 CFPackage schema, extracted unchanged from the official CASE 1.0 OpenAPI (JSON)
/// definition (draft-04).
pub const CASE_V1P0_CFPACKAGE_SCHEMA: &str = include_str!("../schemas/case-v1p0-cfpackage.json");

/// Options for validating a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationOptions {
    /// Validate against this version instead of detecting it (see [`crate::version::detect`]).
    pub force_version: Option<CaseVersion>,
    /// Tolerate the legacy link properties described in the module docs. Default `true`.
    pub legacy_links: bool,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        ValidationOptions {
            force_version: None,
            legacy_links: true,
        }
    }
}

/// Where each legacy property is tolerated: (parent collection, property).
const LEGACY_LINKS: &[(Parent, &str)] = &[
    (Parent::Document, "CFPackageURI"),
    (Parent::Item, "CFDocumentURI"),
    (Parent::Item, "CFItemAssociationURI"),
    (Parent::Association, "CFDocumentURI"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    Document,
    Item,
    Association,
}

fn parent_of(pointer: &str) -> Option<Parent> {
    let mut parts = pointer.split('/').skip(1);
    match (parts.next(), parts.next(), parts.next()) {
        (Some("CFDocument"), None, None) => Some(Parent::Document),
        (Some("CFItems"), Some(_), None) => Some(Parent::Item),
        (Some("CFAssociations"), Some(_), None) => Some(Parent::Association),
        _ => None,
    }
}

fn validator(version: CaseVersion) -> &'static Validator {
    static V1P0: OnceLock<Validator> = OnceLock::new();
    static V1P1: OnceLock<Validator> = OnceLock::new();
    let (cell, text) = match version {
        CaseVersion::V1_0 => (&V1P0, CASE_V1P0_CFPACKAGE_SCHEMA),
        CaseVersion::V1_1 => (&V1P1, CASE_V1P1_CFPACKAGE_SCHEMA),
    };
    cell.get_or_init(|| {
        // The schema texts are compiled into the binary and covered by tests, so failing here is
        // a build defect, not bad input.
        #[allow(clippy::expect_used)]
        let schema: Value = serde_json::from_str(text).expect("bundled CASE schema is valid JSON");
        #[allow(clippy::expect_used)]
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("bundled CASE schema compiles")
    })
}

/// Validates `package` against the schema of `version`, adding violations to `out`.
pub(crate) fn validate(
    package: &Value,
    version: CaseVersion,
    options: &ValidationOptions,
    out: &mut Violations,
) {
    for error in validator(version).iter_errors(package) {
        if out.is_full() {
            out.truncated = true;
            break;
        }
        let pointer = error.instance_path().as_str();
        let base = pointer_to_path(pointer, package);
        let keyword = error.kind().keyword().to_owned();
        match error.kind() {
            ValidationErrorKind::Required { property } => {
                let mut path = base;
                match property.as_str() {
                    Some(name) => push_property(&mut path, name),
                    None => path.push_str(".?"),
                }
                out.push(
                    path,
                    Rule::Schema(keyword),
                    format!("required property {property} is missing"),
                );
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let parent = parent_of(pointer);
                for name in unexpected {
                    let tolerated = options.legacy_links
                        && LEGACY_LINKS
                            .iter()
                            .any(|(p, n)| Some(*p) == parent && *n == name);
                    if tolerated {
                        continue;
                    }
                    let mut path = base.clone();
                    push_property(&mut path, name);
                    out.push(
                        path,
                        Rule::Schema(keyword.clone()),
                        format!(
                            "property \"{name}\" is not allowed here by the CASE {version} schema"
                        ),
                    );
                }
            }
            _ => {
                out.push(base, Rule::Schema(keyword), shorten(error.to_string()));
            }
        }
    }
}

/// Keeps messages readable when the schema library quotes a whole object.
fn shorten(mut message: String) -> String {
    const LIMIT: usize = 300;
    if message.len() > LIMIT {
        let mut cut = LIMIT;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_bundled_schemas_compile() {
        // Would panic inside `validator` otherwise.
        let empty = serde_json::json!({});
        let mut out = Violations::default();
        validate(
            &empty,
            CaseVersion::V1_0,
            &ValidationOptions::default(),
            &mut out,
        );
        validate(
            &empty,
            CaseVersion::V1_1,
            &ValidationOptions::default(),
            &mut out,
        );
        // Both report the missing CFDocument.
        assert_eq!(out.list.len(), 2, "{:?}", out.list);
        assert!(out.list.iter().all(|v| v.path == "$.CFDocument"));
    }

    #[test]
    fn the_1_1_schema_is_the_official_purl_one() {
        assert!(CASE_V1P1_CFPACKAGE_SCHEMA.contains(
            "https://purl.imsglobal.org/spec/case/v1p1/schema/json/case_v1p1_cfpackage-jsonschema1.json"
        ));
    }
}
