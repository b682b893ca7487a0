//! Property tests: `verify` never panics, on arbitrary bytes and on mutated credentials; and a
//! mutated credential that still verifies has exactly the same signed bytes as the original
//! (only formatting, key order or JSON-LD-equivalent spellings changed).

mod common;

use std::sync::OnceLock;

use common::*;
use proptest::prelude::*;
use serde_json::Value;
use tessera_vc::VerifyOptions;
use tessera_vc::proof::{self, Cryptosuite};

struct Fixture {
    options: VerifyOptions,
    rdfc: Value,
    rdfc_bytes: Vec<u8>,
    rdfc_signed_bytes: Vec<[u8; 64]>,
    jcs: Value,
    jcs_signed_bytes: Vec<[u8; 64]>,
}

fn fixture_data() -> &'static Fixture {
    static DATA: OnceLock<Fixture> = OnceLock::new();
    DATA.get_or_init(|| {
        let rdfc = signed_ob();
        let jcs = sign_with(
            &fixture("ob3-achievement-credential.json"),
            Cryptosuite::EddsaJcs2022,
            "2025-06-15T12:00:05Z",
        );
        let hashes = |doc: &Value| {
            proof::signing_inputs(doc)
                .unwrap()
                .iter()
                .map(|i| i.hash_data())
                .collect()
        };
        Fixture {
            options: options(),
            rdfc_bytes: serde_json::to_vec_pretty(&rdfc).unwrap(),
            rdfc_signed_bytes: hashes(&rdfc),
            jcs_signed_bytes: hashes(&jcs),
            rdfc,
            jcs,
        }
    })
}

/// If `doc` verified, its signed bytes must be those of the original.
fn assert_verified_means_unchanged(doc: &Value, original: &[[u8; 64]]) {
    let report = tessera_vc::verify(doc, &fixture_data().options);
    if let Ok(report) = report
        && report.verified
    {
        let now: Vec<[u8; 64]> = proof::signing_inputs(doc)
            .unwrap()
            .iter()
            .map(|i| i.hash_data())
            .collect();
        assert_eq!(now, original, "a changed credential verified");
    }
}

/// Every JSON pointer in `doc` (objects and arrays included).
fn pointers(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), doc)];
    while let Some((path, v)) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    stack.push((
                        format!("{path}/{}", k.replace('~', "~0").replace('/', "~1")),
                        x,
                    ));
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    stack.push((format!("{path}/{i}"), x));
                }
            }
            _ => {}
        }
        out.push(path);
    }
    out
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        "[a-zA-Z0-9:/#._ -]{0,24}".prop_map(Value::String),
        Just(Value::String("https://example.com/x".into())),
        Just(Value::String("2030-01-01T00:00:00Z".into())),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z@]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

/// 256 cases per property in the suite; `TESSERA_FUZZ_CASES=N` for a longer, time-boxed run
/// (BENCHMARKS.md, issue 2: the fuzz run).
fn cases() -> u32 {
    std::env::var("TESSERA_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = tessera_vc::verify_bytes(&bytes, &fixture_data().options);
    }

    #[test]
    fn arbitrary_json_never_panics(doc in json_value()) {
        let _ = tessera_vc::verify(&doc, &fixture_data().options);
    }

    #[test]
    fn byte_edits_of_a_signed_credential_never_panic_nor_verify_changed(edits in prop::collection::vec(edit(), 1..4)) {
        let data = fixture_data();
        let mut bytes = data.rdfc_bytes.clone();
        for e in edits {
            let n = bytes.len().max(1);
            match e {
                Edit::Flip(i, b) => { if !bytes.is_empty() { bytes[i % n] ^= b | 1; } }
                Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
                Edit::Delete(i) => { if !bytes.is_empty() { bytes.remove(i % n); } }
            }
        }
        if let Ok(report) = tessera_vc::verify_bytes(&bytes, &data.options)
            && report.verified
        {
            let doc: Value = serde_json::from_slice(&bytes).unwrap();
            assert_verified_means_unchanged(&doc, &data.rdfc_signed_bytes);
        }
    }

    #[test]
    fn value_replacements_never_panic_nor_verify_changed(pick in any::<prop::sample::Index>(), value in json_value(), jcs in any::<bool>()) {
        let data = fixture_data();
        let (original, hashes) = if jcs {
            (&data.jcs, &data.jcs_signed_bytes)
        } else {
            (&data.rdfc, &data.rdfc_signed_bytes)
        };
        let mut doc = original.clone();
        let all = pointers(&doc);
        let pointer = pick.get(&all).clone();
        if let Some(slot) = doc.pointer_mut(&pointer) {
            *slot = value;
        }
        assert_verified_means_unchanged(&doc, hashes);
    }

    #[test]
    fn removals_never_panic_nor_verify_changed(pick in any::<prop::sample::Index>()) {
        let data = fixture_data();
        let mut doc = data.rdfc.clone();
        let all = pointers(&doc);
        let pointer = pick.get(&all).clone();
        if let Some((parent, key)) = pointer.rsplit_once('/') {
            match doc.pointer_mut(parent) {
                Some(Value::Object(m)) => { m.remove(key); }
                Some(Value::Array(a)) => {
                    if let Ok(i) = key.parse::<usize>() && i < a.len() { a.remove(i); }
                }
                _ => {}
            }
        }
        let report = tessera_vc::verify(&doc, &data.options);
        if let Ok(r) = &report && r.verified {
            assert_verified_means_unchanged(&doc, &data.rdfc_signed_bytes);
        }
    }
}
