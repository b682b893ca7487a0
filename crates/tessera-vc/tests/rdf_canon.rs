//! The W3C rdf-canon test suite (tests/rdfc10 at 15619df2), driven by its manifest: every
//! `RDFC10EvalTest` (canonical N-Quads), every `RDFC10MapTest` (issued identifier map) and the
//! `RDFC10NegativeEvalTest` (poison graph, rejected in bounded time).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use tessera_vc::canon::{CanonError, RdfcHash, canonicalize_nquads_with, issued_identifiers};

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/rdf-canon")
}

fn read(rel: &str) -> String {
    let path = suite_dir().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hash_of(entry: &Value) -> RdfcHash {
    match entry.get("hashAlgorithm").and_then(Value::as_str) {
        None | Some("SHA256") => RdfcHash::Sha256,
        Some("SHA384") => RdfcHash::Sha384,
        Some(other) => panic!("unknown hashAlgorithm {other}"),
    }
}

#[test]
fn every_manifest_entry_passes() {
    let manifest: Value = serde_json::from_str(&read("manifest.jsonld")).expect("manifest");
    let entries = manifest["entries"].as_array().expect("entries");
    let (mut eval, mut map, mut negative) = (0, 0, 0);
    let mut failures = Vec::new();
    for entry in entries {
        let id = entry["id"].as_str().expect("id");
        let kind = entry["type"].as_str().expect("type");
        let input = read(entry["action"].as_str().expect("action"));
        let hash = hash_of(entry);
        match kind {
            "rdfc:RDFC10EvalTest" => {
                eval += 1;
                let expected = read(entry["result"].as_str().expect("result"));
                match canonicalize_nquads_with(&input, hash) {
                    Ok(out) if out == expected => {}
                    Ok(out) => failures.push(format!("{id}: got\n{out}expected\n{expected}")),
                    Err(e) => failures.push(format!("{id}: {e}")),
                }
            }
            "rdfc:RDFC10MapTest" => {
                map += 1;
                let expected: BTreeMap<String, String> =
                    serde_json::from_str(&read(entry["result"].as_str().expect("result")))
                        .expect("map json");
                match issued_identifiers(&input, hash) {
                    Ok(out) if out == expected => {}
                    Ok(out) => failures.push(format!("{id}: got {out:?}, expected {expected:?}")),
                    Err(e) => failures.push(format!("{id}: {e}")),
                }
            }
            "rdfc:RDFC10NegativeEvalTest" => {
                negative += 1;
                let start = Instant::now();
                let result = canonicalize_nquads_with(&input, hash);
                let took = start.elapsed();
                match result {
                    Err(CanonError::Poison { .. }) if took < Duration::from_secs(2) => {}
                    Err(CanonError::Poison { .. }) => {
                        failures.push(format!("{id}: rejected, but only after {took:?}"))
                    }
                    other => failures.push(format!("{id}: expected Poison, got {other:?}")),
                }
            }
            other => failures.push(format!("{id}: entry type {other} not exercised")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every entry was exercised, and the suite is the one we expect (not silently truncated).
    assert_eq!(eval + map + negative, entries.len());
    assert_eq!((eval, map, negative), (64, 21, 1));
}

#[test]
fn every_rdfc10_file_is_referenced_by_the_manifest() {
    let manifest = read("manifest.jsonld");
    let mut unreferenced = Vec::new();
    for f in std::fs::read_dir(suite_dir().join("rdfc10")).expect("rdfc10 dir") {
        let name = f
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8 name");
        if !manifest.contains(&format!("rdfc10/{name}")) {
            unreferenced.push(name);
        }
    }
    assert!(
        unreferenced.is_empty(),
        "files not in the manifest: {unreferenced:?}"
    );
}

#[test]
fn malformed_nquads_are_typed_errors() {
    for bad in [
        "<http://a> <http://b> .\n",
        "<http://a> <http://b> \"x\n",
        "<rel> <http://b> <http://c> .\n",
        "<http://a> <http://b> \"x\"^^<http://d> <http://g> . junk\n",
        "_: <http://b> <http://c> .\n",
        "<http://a> <http://b> \"\\q\" .\n",
    ] {
        match tessera_vc::canon::canonicalize_nquads(bad) {
            Err(CanonError::InvalidNQuads { .. }) => {}
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

/// The first-degree shortcut (taken when every blank node has its own first-degree hash) and the
/// full algorithm give the same canonical N-Quads on every eval input of the suite, and on the
/// quads of every credential fixture; the shortcut is taken for the fixtures.
#[test]
fn the_first_degree_shortcut_agrees_with_the_full_algorithm() {
    let manifest: Value = serde_json::from_str(&read("manifest.jsonld")).expect("manifest");
    let mut inputs: Vec<(String, String, RdfcHash)> = Vec::new();
    for entry in manifest["entries"].as_array().expect("entries") {
        if entry["type"] == "rdfc:RDFC10EvalTest" {
            let action = entry["action"].as_str().expect("action");
            inputs.push((action.to_owned(), read(action), hash_of(entry)));
        }
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut credentials = 0;
    for f in std::fs::read_dir(&fixtures).expect("fixtures") {
        let path = f.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        if doc.get("@context").is_none() {
            continue;
        }
        let nquads = tessera_vc::canon::to_nquads(&doc).expect("quads");
        inputs.push((path.display().to_string(), nquads, RdfcHash::Sha256));
        credentials += 1;
    }
    assert!(credentials >= 3, "only {credentials} credential fixtures");
    for (name, input, hash) in &inputs {
        let full = tessera_vc::canon::canonicalize_nquads_full(input, *hash)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let fast = canonicalize_nquads_with(input, hash.to_owned())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(fast, full, "{name}");
    }
}
