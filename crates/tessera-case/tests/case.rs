//! Import, validation, mapping and round-trip tests against the fixtures in `tests/fixtures`.

use serde::Deserialize;
use serde_json::Value;
use tessera_case::{
    CaseError, CaseVersion, CfPackage, Framework, Parent, ValidationOptions, export, generate,
    import, to_json, validate,
};

const V1P1: &str = include_str!("fixtures/case-1.1-fractions.json");
const V1P0: &str = include_str!("fixtures/case-1.0-science.json");

fn opts() -> ValidationOptions {
    ValidationOptions::default()
}

fn import_ok(json: &str) -> Framework {
    match import(json.as_bytes(), &opts()) {
        Ok(f) => f,
        Err(e) => panic!("expected a valid package, got {e}\n{:#?}", e.violations()),
    }
}

fn uuid(text: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(text).unwrap()
}

/// Sorts every array of objects that carry an `identifier`, recursively, so two JSON documents
/// that differ only in list order compare equal, and drops empty lists (CASE gives `[]` and an
/// absent list the same meaning; export omits empty lists).
fn normalize(value: &mut Value) {
    match value {
        Value::Array(list) => {
            list.iter_mut().for_each(normalize);
            if list.iter().all(|v| v.get("identifier").is_some()) {
                list.sort_by(|a, b| {
                    a["identifier"]
                        .to_string()
                        .cmp(&b["identifier"].to_string())
                });
            }
        }
        Value::Object(map) => {
            map.retain(|_, v| !matches!(v, Value::Array(list) if list.is_empty()));
            map.values_mut().for_each(normalize);
        }
        _ => {}
    }
}

fn json_of(package: &CfPackage) -> Value {
    serde_json::from_slice(&to_json(package).unwrap()).unwrap()
}

#[test]
fn a_case_1_1_package_maps_hierarchy_prerequisites_and_keeps_everything_else() {
    let fw = import_ok(V1P1);
    assert_eq!(fw.case_version, CaseVersion::V1_1);
    assert_eq!(fw.id, uuid("5d3e0000-0000-4000-8000-000000000001"));
    assert_eq!(fw.document.title, "Grade 5 Mathematics: Fractions");
    assert_eq!(fw.document.framework_type.as_deref(), Some("Competencies"));
    assert_eq!(fw.competencies.len(), 9);
    assert_eq!(
        fw.hierarchy.len(),
        9,
        "every isChildOf inside the framework"
    );
    // Three precedes between items of the package; the fourth points to another framework and
    // stays an ordinary association.
    assert_eq!(fw.prerequisites.len(), 3);
    let kinds: Vec<&str> = fw
        .associations
        .iter()
        .map(|a| a.association_type.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "exactMatchOf",
            "isRelatedTo",
            "isTranslationOf",
            "ext:alignsToCourse",
            "precedes"
        ]
    );

    let s1 = fw
        .competencies
        .iter()
        .find(|c| c.code.as_deref() == Some("5.NF.A.1"))
        .unwrap();
    let s2 = fw
        .competencies
        .iter()
        .find(|c| c.code.as_deref() == Some("5.NF.A.2"))
        .unwrap();
    assert!(
        fw.prerequisites
            .iter()
            .any(|p| p.before == s1.id && p.after == s2.id),
        "5.NF.A.1 precedes 5.NF.A.2"
    );
    let domain = fw
        .competencies
        .iter()
        .find(|c| c.code.as_deref() == Some("5.NF"))
        .unwrap();
    assert_eq!(fw.children(Parent::Document), vec![domain.id]);
    let clusters: Vec<Option<&str>> = fw
        .children(Parent::Competency(domain.id))
        .into_iter()
        .map(|id| fw.competency(id).unwrap().code.as_deref())
        .collect();
    assert_eq!(
        clusters,
        [Some("5.NF.A"), Some("5.NF.B")],
        "ordered by sequenceNumber"
    );

    // 1.1 extensions and rubrics are kept.
    assert!(
        s2.item
            .extensions
            .as_ref()
            .unwrap()
            .contains_key("https://tessera.example/ext/difficulty")
    );
    assert_eq!(fw.rubrics.len(), 1);
    assert_eq!(fw.rubrics[0].criteria.len(), 2);
    assert_eq!(fw.rubrics[0].criteria[0].levels.len(), 4);
    assert_eq!(fw.definitions.as_ref().unwrap().item_types.len(), 3);
    assert!(fw.package_extensions.is_some());
}

#[test]
fn a_case_1_0_package_with_legacy_link_fields_imports_and_keeps_them() {
    let fw = import_ok(V1P0);
    assert_eq!(fw.case_version, CaseVersion::V1_0);
    assert_eq!(fw.competencies.len(), 4);
    assert_eq!(fw.hierarchy.len(), 4);
    assert_eq!(fw.prerequisites.len(), 1);
    assert_eq!(fw.associations.len(), 1, "the exactMatchOf to NGSS");
    assert!(fw.document.extra.contains_key("CFPackageURI"));
    assert!(fw.competencies[0].item.extra.contains_key("CFDocumentURI"));
    let out = json_of(&export(&fw));
    assert!(out["CFItems"][0]["CFDocumentURI"].is_object());
    assert!(out["CFDocument"]["CFPackageURI"].is_object());
    assert!(
        out["CFDocument"].get("caseVersion").is_none(),
        "a 1.0 package stays 1.0"
    );
}

#[test]
fn legacy_link_fields_are_rejected_when_tolerance_is_off() {
    let strict = ValidationOptions {
        legacy_links: false,
        ..ValidationOptions::default()
    };
    let err = validate(V1P0.as_bytes(), &strict).unwrap_err();
    let paths: Vec<&str> = err.violations().iter().map(|v| v.path.as_str()).collect();
    assert!(paths.contains(&"$.CFDocument.CFPackageURI"), "{paths:?}");
    assert!(paths.contains(&"$.CFItems[0].CFDocumentURI"), "{paths:?}");
    assert!(
        paths.contains(&"$.CFAssociations[5].CFDocumentURI"),
        "{paths:?}"
    );
}

/// (fixture, expected JSON path, expected rule code)
const INVALID: &[(&str, &str, &str)] = &[
    (
        "missing-required-field",
        "$.CFItems[2].fullStatement",
        "schema.required",
    ),
    ("bad-uuid", "$.CFItems[3].identifier", "schema.format"),
    (
        "wrong-type",
        "$.CFAssociations[2].sequenceNumber",
        "schema.type",
    ),
    (
        "dangling-association",
        "$.CFAssociations[3].destinationNodeURI",
        "dangling-reference",
    ),
    ("ischildof-cycle", "$.CFAssociations[2]", "hierarchy-cycle"),
    (
        "precedes-cycle",
        "$.CFAssociations[17]",
        "prerequisite-cycle",
    ),
    (
        "unknown-field",
        "$.CFItems[0].colour",
        "schema.additionalProperties",
    ),
    (
        "duplicate-identifier",
        "$.CFAssociations[4].identifier",
        "duplicate-identifier",
    ),
    (
        "unsupported-case-version",
        "$.CFDocument.caseVersion",
        "schema.enum",
    ),
    (
        "unknown-association-type",
        "$.CFAssociations[0].associationType",
        "schema.oneOf",
    ),
    (
        "v1p0-bad-date-time",
        "$.CFItems[1].lastChangeDateTime",
        "schema.format",
    ),
];

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/invalid/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_invalid_fixture_is_rejected_naming_the_path_and_rule() {
    for (name, path, rule) in INVALID {
        let err = match import(&fixture(name), &opts()) {
            Ok(_) => panic!("{name}: accepted an invalid package"),
            Err(e) => e,
        };
        assert_eq!(err.code(), "case-invalid-package", "{name}: {err}");
        // Each fixture breaks exactly one rule, and only that one is reported.
        let got: Vec<(&str, String)> = err
            .violations()
            .iter()
            .map(|v| (v.path.as_str(), v.rule.code()))
            .collect();
        assert_eq!(got, [(*path, rule.to_string())], "{name}: {err}");
        // And the message names the path too, so a CLI user sees where.
        assert!(err.to_string().contains("$."), "{name}: {err}");
    }
}

#[test]
fn cycles_are_reported_naming_the_items_on_them() {
    let err = import(&fixture("ischildof-cycle"), &opts()).unwrap_err();
    let v = err
        .violations()
        .iter()
        .find(|v| v.rule.code() == "hierarchy-cycle")
        .unwrap();
    assert!(v.message.contains("5.NF.A ("), "{}", v.message);
    assert!(v.message.contains("5.NF.A.1 ("), "{}", v.message);
    assert!(v.path.starts_with("$.CFAssociations["), "{}", v.path);

    let err = import(&fixture("precedes-cycle"), &opts()).unwrap_err();
    let v = err
        .violations()
        .iter()
        .find(|v| v.rule.code() == "prerequisite-cycle")
        .unwrap();
    for code in ["5.NF.A.1", "5.NF.A.2", "5.NF.B.4"] {
        assert!(v.message.contains(code), "{}", v.message);
    }
}

#[test]
fn malformed_json_is_a_json_error_with_position() {
    let err = import(b"{\n  \"CFDocument\": {,\n}", &opts()).unwrap_err();
    match err {
        CaseError::Json { line, .. } => assert_eq!(line, 2),
        other => panic!("expected a JSON error, got {other}"),
    }
}

#[test]
fn json_that_is_not_an_object_is_rejected_at_the_root() {
    let err = import(b"[1, 2, 3]", &opts()).unwrap_err();
    assert_eq!(err.violations()[0].path, "$");
    assert_eq!(err.violations()[0].rule.code(), "schema.type");
}

#[test]
fn a_1_0_identifier_with_a_uuid_inside_it_is_not_a_uuid() {
    // "x<uuid>" contains a UUID but is not one; the 1.0 schema checks the whole value (the
    // semantic check would catch it too, see `check::tests`).
    let mut v: Value = serde_json::from_str(V1P0).unwrap();
    v["CFItems"][2]["identifier"] = Value::from("x1a2b0000-0000-4000-9000-000000000012");
    let err = import(&serde_json::to_vec(&v).unwrap(), &opts()).unwrap_err();
    assert_eq!(err.violations().len(), 1, "{:#?}", err.violations());
    assert_eq!(err.violations()[0].path, "$.CFItems[2].identifier");
    assert_eq!(err.violations()[0].rule.code(), "schema.format");
}

fn assert_round_trip(original: &str) {
    let first = import_ok(original);
    let exported = export(&first);
    let bytes = to_json(&exported).unwrap();
    let second = import(&bytes, &opts()).expect("exported package re-imports");
    assert_eq!(second.case_version, first.case_version);

    // Typed: the package read from the original equals the exported one, modulo order.
    let original_value: Value = serde_json::from_str(original).unwrap();
    let mut a = CfPackage::deserialize(&original_value).unwrap();
    let mut b = export(&second);
    a.normalize_order();
    b.normalize_order();
    assert_eq!(a, b);

    // JSON: nothing renamed, dropped or respelled (numbers included), modulo order.
    let mut x = original_value;
    let mut y = json_of(&b);
    normalize(&mut x);
    normalize(&mut y);
    assert_eq!(x, y);
}

#[test]
fn import_export_import_round_trips_the_1_1_fixture() {
    assert_round_trip(V1P1);
}

#[test]
fn import_export_import_round_trips_the_1_0_fixture() {
    assert_round_trip(V1P0);
}

#[test]
fn import_export_import_round_trips_a_generated_5000_item_framework() {
    assert_round_trip(&generate::package_json(5_000));
}

#[test]
fn registry_edits_win_on_export() {
    let mut fw = import_ok(V1P1);
    let s5 = fw
        .competencies
        .iter()
        .position(|c| c.code.as_deref() == Some("5.NF.B.4a"))
        .unwrap();
    fw.competencies[s5].statement = "Edited in Tessera.".into();
    let s5_id = fw.competencies[s5].id;
    let c1 = fw
        .competencies
        .iter()
        .find(|c| c.code.as_deref() == Some("5.NF.A"))
        .unwrap()
        .id;
    // Move 5.NF.B.4a from under 5.NF.B.4 to under 5.NF.A.
    let link = fw.hierarchy.iter_mut().find(|l| l.child == s5_id).unwrap();
    link.parent = Parent::Competency(c1);
    link.sequence_number = Some(9);

    let package = export(&fw);
    let item = package
        .items
        .iter()
        .find(|i| i.human_coding_scheme.as_deref() == Some("5.NF.B.4a"))
        .unwrap();
    assert_eq!(item.full_statement, "Edited in Tessera.");
    let a = package
        .associations
        .iter()
        .find(|a| a.association_type == "isChildOf" && a.origin.identifier == s5_id.to_string())
        .unwrap();
    assert_eq!(a.destination.identifier, c1.to_string());
    assert_eq!(a.destination.title, "5.NF.A");
    assert_eq!(a.sequence_number, Some(9));

    let again = import(&to_json(&package).unwrap(), &opts()).unwrap();
    assert_eq!(again.children(Parent::Competency(c1)).last(), Some(&s5_id));
}

#[test]
fn the_generated_framework_has_the_documented_shape() {
    let fw = import_ok(&generate::package_json(5_000));
    assert_eq!(fw.competencies.len(), 5_000);
    assert_eq!(fw.hierarchy.len(), 5_000);
    // Per cluster of 10 (including the domain-headed first one): standards 2..9 each precede.
    assert_eq!(fw.prerequisites.len(), 5_000 / 10 * 8);
    assert_eq!(
        fw.associations.len(),
        100,
        "one exactMatchOf every 50 items"
    );
    assert_eq!(fw.children(Parent::Document).len(), 50);
}

/// Applies `edit` to the 1.1 fixture and imports it.
fn import_edited(edit: impl FnOnce(&mut Value)) -> Result<Framework, CaseError> {
    let mut v: Value = serde_json::from_str(V1P1).unwrap();
    edit(&mut v);
    import(&serde_json::to_vec(&v).unwrap(), &opts())
}

fn only_violation(result: Result<Framework, CaseError>) -> (String, String) {
    let err = match result {
        Ok(_) => panic!("accepted an invalid package"),
        Err(e) => e,
    };
    assert_eq!(err.violations().len(), 1, "{:#?}", err.violations());
    let v = &err.violations()[0];
    (v.path.clone(), v.rule.code())
}

#[test]
fn an_end_named_only_by_uri_resolves_inside_the_package() {
    // The child is named by a non-UUID identifier but the item's URI: it still resolves, and
    // becomes a hierarchy link.
    let fw = import_edited(|v| {
        v["CFAssociations"][2]["originNodeURI"]["identifier"] = Value::from("5.NF.A.1");
    })
    .unwrap();
    assert_eq!(fw.hierarchy.len(), 9);
}

#[test]
fn an_association_between_two_outside_nodes_is_dangling() {
    let outside = |id: &str| serde_json::json!({"title": "X", "identifier": id, "uri": format!("https://elsewhere.example/uri/{id}")});
    let got = only_violation(import_edited(|v| {
        v["CFAssociations"][12]["originNodeURI"] = outside("8f2b3c4d-1a2b-4c3d-9e8f-a1b2c3d4e5f7");
    }));
    assert_eq!(
        got,
        ("$.CFAssociations[12]".into(), "dangling-reference".into())
    );
}

#[test]
fn the_document_cannot_be_a_child() {
    let got = only_violation(import_edited(|v| {
        let doc = v["CFAssociations"][0]["destinationNodeURI"].clone();
        v["CFAssociations"][0]["originNodeURI"] = doc;
        v["CFAssociations"][0]["destinationNodeURI"] =
            v["CFAssociations"][1]["originNodeURI"].clone();
    }));
    assert_eq!(
        got,
        (
            "$.CFAssociations[0].originNodeURI".into(),
            "dangling-reference".into()
        )
    );
}

#[test]
fn a_parent_outside_the_package_is_dangling_even_with_an_absolute_uri() {
    let got = only_violation(import_edited(|v| {
        v["CFAssociations"][3]["destinationNodeURI"] = serde_json::json!({
            "title": "gone", "identifier": "5d3e0000-0000-4000-8000-000000000fff",
            "uri": "https://frameworks.example-district.org/uri/5d3e0000-0000-4000-8000-000000000fff"
        });
    }));
    assert_eq!(
        got,
        (
            "$.CFAssociations[3].destinationNodeURI".into(),
            "dangling-reference".into()
        )
    );
}

#[test]
fn two_items_with_one_uri_are_rejected() {
    let got = only_violation(import_edited(|v| {
        v["CFItems"][4]["uri"] = v["CFItems"][3]["uri"].clone();
    }));
    assert_eq!(got, ("$.CFItems[4].uri".into(), "duplicate-uri".into()));
}

#[test]
fn a_self_parent_is_a_hierarchy_cycle() {
    let got = only_violation(import_edited(|v| {
        v["CFAssociations"][2]["destinationNodeURI"] =
            v["CFAssociations"][2]["originNodeURI"].clone();
    }));
    assert_eq!(
        got,
        ("$.CFAssociations[2]".into(), "hierarchy-cycle".into())
    );
}

#[test]
fn an_item_may_sit_under_two_parents() {
    // CASE lets a publisher reuse an item in two places; that is not a cycle.
    let fw = import_edited(|v| {
        let mut extra = v["CFAssociations"][7].clone(); // 5.NF.B.4a isChildOf 5.NF.B.4
        extra["identifier"] = Value::from("5d3e0000-0000-4000-8000-0000000005ff");
        extra["uri"] = Value::from(
            "https://frameworks.example-district.org/uri/5d3e0000-0000-4000-8000-0000000005ff",
        );
        extra["destinationNodeURI"] = v["CFAssociations"][5]["destinationNodeURI"].clone();
        v["CFAssociations"].as_array_mut().unwrap().push(extra);
    })
    .unwrap();
    assert_eq!(fw.hierarchy.len(), 10);
}
