//! Safe mode (strict expansion): undefined terms, dropped values and relative IRIs are errors
//! naming the JSON path; and bad input costs bounded time and memory.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_vc::canon::{CanonError, canonicalize, to_nquads};

fn ob3() -> Value {
    serde_json::from_str(include_str!("vectors/1edtech-ob3/unsigned.json")).expect("vector")
}

fn alumni() -> Value {
    serde_json::from_str(include_str!("vectors/w3c-vc-di-eddsa/unsigned.json")).expect("vector")
}

#[track_caller]
fn expect_safe_mode(doc: &Value, want_path: &str) -> String {
    match canonicalize(doc) {
        Err(CanonError::SafeMode { path, reason }) => {
            assert_eq!(path, want_path, "reason: {reason}");
            let msg = CanonError::SafeMode {
                path: path.clone(),
                reason: reason.clone(),
            }
            .to_string();
            assert!(msg.contains(want_path), "message names the path: {msg}");
            reason
        }
        other => panic!("expected SafeMode at {want_path}, got {other:?}"),
    }
}

#[test]
fn undefined_property_is_rejected_naming_its_path() {
    let mut doc = ob3();
    doc["credentialSubject"]["favouriteColour"] = json!("green");
    let reason = expect_safe_mode(&doc, "$.credentialSubject.favouriteColour");
    assert!(reason.contains("favouriteColour"), "{reason}");
}

#[test]
fn undefined_nested_property_is_rejected_naming_its_path() {
    let mut doc = ob3();
    doc["credentialSubject"]["achievement"]["foo"] = json!("bar");
    expect_safe_mode(&doc, "$.credentialSubject.achievement.foo");
}

#[test]
fn undefined_top_level_property_is_rejected() {
    let mut doc = ob3();
    doc["notInAnyContext"] = json!(1);
    expect_safe_mode(&doc, "$.notInAnyContext");
}

#[test]
fn a_context_with_vocab_defines_every_term() {
    // The W3C examples context has `@vocab`, so nothing is undefined under it: that is the
    // context's choice, not a dropped value.
    let mut doc = alumni();
    doc["notInAnyContext"] = json!(1);
    let canon = canonicalize(&doc).expect("defined through @vocab");
    assert!(canon.contains("<https://www.w3.org/ns/credentials/examples#notInAnyContext>"));
}

#[test]
fn undefined_type_is_rejected_naming_its_path() {
    let mut doc = ob3();
    doc["type"] = json!([
        "VerifiableCredential",
        "OpenBadgeCredential",
        "MadeUpCredential"
    ]);
    expect_safe_mode(&doc, "$.type[2]");
}

#[test]
fn type_from_a_missing_extension_context_is_rejected() {
    // The pitfall from the standards notes: OB's schema validator type lives in extensions.json.
    let mut doc = ob3();
    doc["credentialSchema"] = json!([{
        "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
        "type": "1EdTechJsonSchemaValidator2019"
    }]);
    expect_safe_mode(&doc, "$.credentialSchema[0].type");
    // With the extensions context it is defined, and canonicalizes.
    doc["@context"].as_array_mut().expect("array").push(json!(
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
    ));
    let canon = canonicalize(&doc).expect("defined with extensions.json");
    assert!(canon.contains("1EdTechJsonSchemaValidator2019"));
}

#[test]
fn relative_node_id_is_rejected_naming_its_path() {
    let mut doc = ob3();
    doc["id"] = json!("credentials/3527");
    let reason = expect_safe_mode(&doc, "$.id");
    assert!(reason.contains("credentials/3527"), "{reason}");
}

#[test]
fn relative_iri_in_an_id_coerced_property_is_rejected() {
    let mut doc = alumni();
    doc["issuer"] = json!("issuers/5678");
    expect_safe_mode(&doc, "$.issuer");
}

#[test]
fn relative_subject_id_is_rejected() {
    let mut doc = ob3();
    doc["credentialSubject"]["achievement"]["id"] = json!("achievements/teamwork");
    expect_safe_mode(&doc, "$.credentialSubject.achievement.id");
}

#[test]
fn an_ok_document_still_canonicalizes_after_those_checks() {
    assert!(canonicalize(&ob3()).is_ok());
    assert!(to_nquads(&ob3()).is_ok());
}

#[test]
fn non_objects_and_junk_are_errors_not_panics() {
    for doc in [
        json!([1, 2, 3]),
        json!({"@context": 5}),
        json!({"@context": [{"@version": 2.0}]}),
        json!({"@context": "https://www.w3.org/ns/credentials/v2", "@type": 5}),
        json!({"@context": "https://www.w3.org/ns/credentials/v2", "id": 5}),
        json!({"@context": "https://www.w3.org/ns/credentials/v2", "@list": {}}),
        json!({"@context": "https://www.w3.org/ns/credentials/v2", "name": {"@value": "x", "@language": 5}}),
    ] {
        // None of these is a valid, non-empty JSON-LD document.
        let r = canonicalize(&doc);
        assert!(r.is_err(), "{doc} -> {r:?}");
    }
}

#[test]
fn documents_whose_content_is_all_dropped_are_rejected() {
    for (doc, path) in [
        (json!(5), "$"),
        (json!("a string"), "$"),
        (json!(null), "$"),
        (
            json!([{"@context": {"p": "http://example.org/p"}, "p": 1}, 2]),
            "$[1]",
        ),
        // A lone id expands to nothing.
        (
            json!({"@context": "https://www.w3.org/ns/credentials/v2", "id": "urn:uuid:1"}),
            "$",
        ),
        (
            json!({"@context": "https://www.w3.org/ns/credentials/v2", "@list": {}}),
            "$",
        ),
    ] {
        match canonicalize(&doc) {
            Err(CanonError::SafeMode { path: p, .. }) => assert_eq!(p, path, "{doc}"),
            other => panic!("{doc}: {other:?}"),
        }
    }
}

#[test]
fn a_fifty_megabyte_document_is_refused_quickly() {
    let mut doc = alumni();
    doc["credentialSubject"]["name"] = json!("x".repeat(50 * 1024 * 1024));
    let start = Instant::now();
    let r = canonicalize(&doc);
    assert!(matches!(r, Err(CanonError::TooLarge { .. })), "{r:?}");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn many_small_values_over_the_size_limit_are_refused() {
    let mut doc = alumni();
    let big: Vec<Value> = (0..2_000_000).map(|i| json!(i)).collect();
    doc["credentialSubject"]["alumniOf"] = Value::Array(big);
    let r = canonicalize(&doc);
    assert!(matches!(r, Err(CanonError::TooLarge { .. })), "{r:?}");
}

/// Build `{"a": {"a": … }}` 10,000 levels deep without recursion, and take it apart the same way
/// (serde_json's own drop is recursive).
fn deep(levels: usize, doc_root: Value) -> Value {
    let mut v = json!("leaf");
    for _ in 0..levels {
        // Not `json!([v])`: that serializes `v` again, recursively.
        v = Value::Array(vec![v]);
    }
    let mut root = doc_root;
    root["credentialSubject"]["name"] = v;
    root
}

fn dismantle(mut v: Value) {
    let mut stack = vec![];
    loop {
        match &mut v {
            Value::Array(a) => stack.append(a),
            Value::Object(o) => {
                let keys: Vec<String> = o.keys().cloned().collect();
                for k in keys {
                    if let Some(x) = o.remove(&k) {
                        stack.push(x);
                    }
                }
            }
            _ => {}
        }
        match stack.pop() {
            Some(next) => v = next,
            None => break,
        }
    }
}

#[test]
fn nesting_ten_thousand_deep_is_refused_without_recursion() {
    let doc = deep(10_000, alumni());
    let start = Instant::now();
    let r = canonicalize(&doc);
    assert!(matches!(r, Err(CanonError::TooDeep { .. })), "{r:?}");
    assert!(start.elapsed() < Duration::from_secs(1));
    let r = to_nquads(&doc);
    assert!(matches!(r, Err(CanonError::TooDeep { .. })), "{r:?}");
    dismantle(doc);
}

#[test]
fn nesting_just_under_the_limit_does_not_overflow_the_stack() {
    // Runs on a test thread (2 MiB stack by default): the recursive JSON-LD expansion must fit.
    let doc = deep(tessera_vc::canon::MAX_DEPTH - 4, alumni());
    let r = canonicalize(&doc);
    println!("{r:?}");
    let doc = deep(tessera_vc::canon::MAX_DEPTH + 1, alumni());
    assert!(matches!(
        canonicalize(&doc),
        Err(CanonError::TooDeep { .. })
    ));
}

#[test]
fn a_poison_graph_in_json_ld_is_rejected_in_bounded_time() {
    // rdf-canon test074's shape: a 10-node clique of blank nodes, written as JSON-LD.
    let nodes: Vec<Value> = (0..10)
        .map(|i| {
            let others: Vec<Value> = (0..10)
                .filter(|j| *j != i)
                .map(|j| json!(format!("_:n{j}")))
                .collect();
            json!({"@id": format!("_:n{i}"), "p": others})
        })
        .collect();
    let doc = json!({
        "@context": {"p": {"@id": "http://example.org/vocab#p", "@type": "@id"}},
        "@graph": nodes
    });
    let start = Instant::now();
    let r = canonicalize(&doc);
    assert!(matches!(r, Err(CanonError::Poison { .. })), "{r:?}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn keyword_like_keys_that_are_not_keywords_are_rejected() {
    let mut doc = ob3();
    doc["credentialSubject"]["@foo"] = json!("x");
    let reason = expect_safe_mode(&doc, "$.credentialSubject.@foo");
    assert!(reason.contains("@foo"), "{reason}");
}
