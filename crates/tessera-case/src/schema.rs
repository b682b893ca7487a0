//! Validation against Tessera's own CASE CFPackage JSON Schemas.
//!
//! The schemas in `schemas/` were written by the Tessera project from the CASE 1.0 and 1.1
//! information models (<https://www.imsglobal.org/spec/case/v1p1/infomodel/>); they are not the
//! official 1EdTech schema files (see `schemas/README.md`). They check structure, required
//! properties, types, formats and the association vocabulary; what a schema cannot express
//! (uniqueness, reference resolution, cycles) is in [`crate::check`].
//!
//! The schemas are compiled once per process. Two things are added on top of plain schema
//! validation, both deliberate:
//!
//! - `format` is **asserted** (`uuid`, `date`, `date-time`, `uri`). Draft 2020-12 treats `format`
//!   as an annotation by default, which would let `"identifier": "not-a-uuid"` through; the CASE
//!   information model clearly means these as constraints.
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

/// Tessera's JSON Schema (draft 2020-12) for a CASE 1.1 CFPackage, written from the CASE 1.1
/// information model. `$id`: [`TESSERA_CASE_V1P1_SCHEMA_ID`].
pub const TESSERA_CASE_V1P1_CFPACKAGE_SCHEMA: &str =
    include_str!("../schemas/tessera-case-v1p1-cfpackage.schema.json");

/// Tessera's JSON Schema (draft 2020-12) for a CASE 1.0 CFPackage, written from the CASE 1.0
/// information model. `$id`: [`TESSERA_CASE_V1P0_SCHEMA_ID`].
pub const TESSERA_CASE_V1P0_CFPACKAGE_SCHEMA: &str =
    include_str!("../schemas/tessera-case-v1p0-cfpackage.schema.json");

/// `$id` of [`TESSERA_CASE_V1P1_CFPACKAGE_SCHEMA`].
pub const TESSERA_CASE_V1P1_SCHEMA_ID: &str = "urn:tessera:schema:case:v1p1:cfpackage";

/// `$id` of [`TESSERA_CASE_V1P0_CFPACKAGE_SCHEMA`].
pub const TESSERA_CASE_V1P0_SCHEMA_ID: &str = "urn:tessera:schema:case:v1p0:cfpackage";

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
        CaseVersion::V1_0 => (&V1P0, TESSERA_CASE_V1P0_CFPACKAGE_SCHEMA),
        CaseVersion::V1_1 => (&V1P1, TESSERA_CASE_V1P1_CFPACKAGE_SCHEMA),
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

    const DOC: &str = "5d3e0000-0000-4000-8000-000000000001";
    const ITEM: &str = "5d3e0000-0000-4000-8000-000000000002";

    /// A small package that both schemas accept.
    fn minimal() -> Value {
        serde_json::json!({
            "CFDocument": {
                "identifier": DOC, "uri": format!("https://x.example/uri/{DOC}"),
                "creator": "Tessera", "title": "T", "lastChangeDateTime": "2025-01-01T00:00:00Z"
            },
            "CFItems": [{
                "identifier": ITEM, "uri": format!("https://x.example/uri/{ITEM}"),
                "fullStatement": "S", "lastChangeDateTime": "2025-01-01T00:00:00Z"
            }],
            "CFAssociations": [{
                "identifier": "5d3e0000-0000-4000-8000-000000000003",
                "uri": "https://x.example/uri/5d3e0000-0000-4000-8000-000000000003",
                "associationType": "isChildOf",
                "originNodeURI": {"title": "S", "identifier": ITEM, "uri": "https://x.example/i"},
                "destinationNodeURI": {"title": "T", "identifier": DOC, "uri": "https://x.example/d"},
                "lastChangeDateTime": "2025-01-01T00:00:00Z"
            }]
        })
    }

    /// (path, rule code) of every schema violation of `package` under `version`.
    fn problems(package: &Value, version: CaseVersion) -> Vec<(String, String)> {
        let mut out = Violations::default();
        validate(package, version, &ValidationOptions::default(), &mut out);
        out.list
            .into_iter()
            .map(|v| (v.path, v.rule.code()))
            .collect()
    }

    fn one(path: &str, code: &str) -> Vec<(String, String)> {
        vec![(path.to_owned(), code.to_owned())]
    }

    #[test]
    fn the_minimal_package_is_valid_in_both_versions() {
        for version in [CaseVersion::V1_0, CaseVersion::V1_1] {
            assert_eq!(problems(&minimal(), version), [], "{version}");
        }
    }

    #[test]
    fn every_class_requires_what_the_information_model_requires() {
        let mut p = minimal();
        p["CFDefinitions"] = serde_json::json!({
            "CFConcepts": [{}], "CFSubjects": [{}], "CFLicenses": [{}], "CFItemTypes": [{}],
            "CFAssociationGroupings": [{}]
        });
        p["CFRubrics"] =
            serde_json::json!([{"CFRubricCriteria": [{"CFRubricCriterionLevels": [{}]}]}]);
        p["CFItems"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({}));
        p["CFAssociations"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({}));
        p["CFDocument"]["licenseURI"] = serde_json::json!({});
        let expected: &[(&str, &[&str])] = &[
            ("$.CFDocument.licenseURI", &["title", "identifier", "uri"]),
            (
                "$.CFItems[1]",
                &["identifier", "fullStatement", "uri", "lastChangeDateTime"],
            ),
            (
                "$.CFAssociations[1]",
                &[
                    "identifier",
                    "associationType",
                    "uri",
                    "originNodeURI",
                    "destinationNodeURI",
                    "lastChangeDateTime",
                ],
            ),
            (
                "$.CFDefinitions.CFConcepts[0]",
                &[
                    "identifier",
                    "uri",
                    "title",
                    "hierarchyCode",
                    "lastChangeDateTime",
                ],
            ),
            (
                "$.CFDefinitions.CFSubjects[0]",
                &[
                    "identifier",
                    "uri",
                    "title",
                    "hierarchyCode",
                    "lastChangeDateTime",
                ],
            ),
            (
                "$.CFDefinitions.CFLicenses[0]",
                &[
                    "identifier",
                    "uri",
                    "title",
                    "licenseText",
                    "lastChangeDateTime",
                ],
            ),
            (
                "$.CFDefinitions.CFItemTypes[0]",
                &[
                    "identifier",
                    "uri",
                    "title",
                    "description",
                    "hierarchyCode",
                    "lastChangeDateTime",
                ],
            ),
            (
                "$.CFDefinitions.CFAssociationGroupings[0]",
                &["identifier", "uri", "title", "lastChangeDateTime"],
            ),
            (
                "$.CFRubrics[0]",
                &["identifier", "uri", "lastChangeDateTime"],
            ),
            (
                "$.CFRubrics[0].CFRubricCriteria[0]",
                &["identifier", "uri", "lastChangeDateTime"],
            ),
            (
                "$.CFRubrics[0].CFRubricCriteria[0].CFRubricCriterionLevels[0]",
                &["identifier", "uri", "lastChangeDateTime"],
            ),
        ];
        let mut want: Vec<(String, String)> = expected
            .iter()
            .flat_map(|(base, names)| {
                names
                    .iter()
                    .map(move |n| (format!("{base}.{n}"), "schema.required".to_owned()))
            })
            .collect();
        want.sort();
        for version in [CaseVersion::V1_0, CaseVersion::V1_1] {
            let mut got = problems(&p, version);
            got.sort();
            assert_eq!(got, want, "{version}");
        }
    }

    #[test]
    fn association_types_follow_each_version_vocabulary() {
        let with = |kind: &str| {
            let mut p = minimal();
            p["CFAssociations"][0]["associationType"] = Value::from(kind);
            p
        };
        let path = "$.CFAssociations[0].associationType";
        for kind in [
            "isChildOf",
            "isPeerOf",
            "isPartOf",
            "exactMatchOf",
            "precedes",
            "isRelatedTo",
            "replacedBy",
            "exemplar",
            "hasSkillLevel",
        ] {
            assert_eq!(problems(&with(kind), CaseVersion::V1_0), [], "{kind}");
            assert_eq!(problems(&with(kind), CaseVersion::V1_1), [], "{kind}");
        }
        assert_eq!(problems(&with("isTranslationOf"), CaseVersion::V1_1), []);
        assert_eq!(problems(&with("ext:alignsTo"), CaseVersion::V1_1), []);
        assert_eq!(
            problems(&with("isTranslationOf"), CaseVersion::V1_0),
            one(path, "schema.enum")
        );
        assert_eq!(
            problems(&with("ext:alignsTo"), CaseVersion::V1_0),
            one(path, "schema.enum")
        );
        for bad in ["ext:", "ext: spaced", "IsChildOf", "alignsTo"] {
            assert_eq!(
                problems(&with(bad), CaseVersion::V1_1),
                one(path, "schema.oneOf"),
                "{bad}"
            );
        }
    }

    #[test]
    fn formats_are_asserted() {
        let cases: &[(&str, &[&str], &str)] = &[
            (
                "$.CFDocument.identifier",
                &["CFDocument", "identifier"],
                "not-a-uuid",
            ),
            ("$.CFDocument.uri", &["CFDocument", "uri"], "no scheme"),
            (
                "$.CFDocument.officialSourceURL",
                &["CFDocument", "officialSourceURL"],
                "www.example.org",
            ),
            (
                "$.CFDocument.lastChangeDateTime",
                &["CFDocument", "lastChangeDateTime"],
                "2025-01-01",
            ),
            (
                "$.CFDocument.statusStartDate",
                &["CFDocument", "statusStartDate"],
                "2025-13-01",
            ),
            (
                "$.CFItems[0].statusEndDate",
                &["CFItems", "0", "statusEndDate"],
                "1 June 2025",
            ),
        ];
        for version in [CaseVersion::V1_0, CaseVersion::V1_1] {
            for (path, at, bad) in cases {
                let mut p = minimal();
                let (last, parents) = at.split_last().unwrap();
                let mut node = &mut p;
                for key in parents {
                    node = match key.parse::<usize>() {
                        Ok(i) => &mut node[i],
                        Err(_) => &mut node[*key],
                    };
                }
                node[*last] = Value::from(*bad);
                assert_eq!(
                    problems(&p, version),
                    one(path, "schema.format"),
                    "{version} {path}"
                );
            }
            // A link to a CASE object names it by UUID.
            let mut p = minimal();
            p["CFItems"][0]["CFItemTypeURI"] = serde_json::json!({"title": "Standard", "identifier": "Standard", "uri": "https://x.example/t"});
            assert_eq!(
                problems(&p, version),
                one("$.CFItems[0].CFItemTypeURI.identifier", "schema.format")
            );
            // An association end need not: it may name a node outside CASE (resolved in `check`).
            let mut p = minimal();
            p["CFAssociations"][0]["destinationNodeURI"] =
                serde_json::json!({"title": "NGSS", "identifier": "MS-PS1-1", "uri": "/relative"});
            assert_eq!(problems(&p, version), []);
        }
    }

    #[test]
    fn properties_new_in_1_1_are_unknown_to_1_0() {
        let mut p = minimal();
        p["CFDocument"]["caseVersion"] = Value::from("1.1");
        p["CFDocument"]["frameworkType"] = Value::from("Competencies");
        p["CFItems"][0]["subject"] = serde_json::json!(["Math"]);
        p["CFAssociations"][0]["notes"] = Value::from("n");
        p["CFAssociations"][0]["originNodeURI"]["targetType"] = Value::from("CASE");
        p["extensions"] = serde_json::json!({"x": 1});
        assert_eq!(problems(&p, CaseVersion::V1_1), []);
        let mut got = problems(&p, CaseVersion::V1_0);
        got.sort();
        let mut want: Vec<(String, String)> = [
            "$.extensions",
            "$.CFDocument.caseVersion",
            "$.CFDocument.frameworkType",
            "$.CFItems[0].subject",
            "$.CFAssociations[0].notes",
            "$.CFAssociations[0].originNodeURI.targetType",
        ]
        .iter()
        .map(|p| ((*p).to_owned(), "schema.additionalProperties".to_owned()))
        .collect();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn target_type_is_case_or_an_extension_term() {
        let mut p = minimal();
        p["CFAssociations"][0]["destinationNodeURI"]["targetType"] = Value::from("ext:Course");
        assert_eq!(problems(&p, CaseVersion::V1_1), []);
        p["CFAssociations"][0]["destinationNodeURI"]["targetType"] = Value::from("Course");
        assert_eq!(
            problems(&p, CaseVersion::V1_1),
            one(
                "$.CFAssociations[0].destinationNodeURI.targetType",
                "schema.anyOf"
            )
        );
    }

    #[test]
    fn legacy_links_are_tolerated_only_where_case_1_0_providers_put_them() {
        let link =
            serde_json::json!({"title": "T", "identifier": DOC, "uri": "https://x.example/d"});
        let mut p = minimal();
        p["CFDocument"]["CFPackageURI"] = link.clone();
        p["CFItems"][0]["CFDocumentURI"] = link.clone();
        p["CFItems"][0]["CFItemAssociationURI"] = link.clone();
        p["CFAssociations"][0]["CFDocumentURI"] = link.clone();
        assert_eq!(problems(&p, CaseVersion::V1_0), []);
        // The same names elsewhere are still unknown properties.
        p["CFItems"][0]["CFPackageURI"] = link;
        assert_eq!(
            problems(&p, CaseVersion::V1_0),
            one("$.CFItems[0].CFPackageURI", "schema.additionalProperties")
        );
    }

    #[test]
    fn both_schemas_are_valid_draft_2020_12_under_tessera_ids() {
        for (text, id) in [
            (
                TESSERA_CASE_V1P0_CFPACKAGE_SCHEMA,
                TESSERA_CASE_V1P0_SCHEMA_ID,
            ),
            (
                TESSERA_CASE_V1P1_CFPACKAGE_SCHEMA,
                TESSERA_CASE_V1P1_SCHEMA_ID,
            ),
        ] {
            let schema: Value = serde_json::from_str(text).unwrap();
            assert_eq!(schema["$id"], id);
            assert_eq!(
                schema["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
            jsonschema::meta::validate(&schema).unwrap();
        }
    }
}
