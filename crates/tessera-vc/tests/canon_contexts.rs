//! The bundled contexts: exact bytes pinned by SHA-256 (against `contexts/SOURCES.md` and
//! `contexts/index.json`), and the offline-only loader.

use std::collections::BTreeMap;

use serde_json::json;
use sha2::{Digest, Sha256};
use tessera_vc::canon::{CanonError, canonicalize};
use tessera_vc::contexts::{CONTEXTS, bundled};

const SOURCES_MD: &str = include_str!("../contexts/SOURCES.md");
const INDEX_JSON: &str = include_str!("../contexts/index.json");

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The digests are written here a second time on purpose: editing a context file or the listing
/// alone must fail this test.
const PINNED: &[(&str, &str)] = &[
    (
        "credentials-v2.jsonld",
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
    ),
    (
        "credentials-v1.jsonld",
        "ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc",
    ),
    (
        "credentials-examples-v2.jsonld",
        "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c",
    ),
    (
        "credentials-status-v1.jsonld",
        "fda5add353231e6a6884a46b12e6c75464281900cb348284d9c360f62381d9f7",
    ),
    (
        "data-integrity-v2.jsonld",
        "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4",
    ),
    (
        "data-integrity-v1.jsonld",
        "b5d829bd09aa7c42abc6efa0c8ed7635313b5487f37ccfce3ecd149ca9418554",
    ),
    (
        "multikey-v1.jsonld",
        "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597",
    ),
    (
        "ed25519-2020-v1.jsonld",
        "b9e1ab971fd8bf2c7553e0c4a9438e0b9450afde1ea1ca5b2492368b9f549588",
    ),
    (
        "security-v1.jsonld",
        "e2d146cd556f6fa5f14996c6f1749667d5a14073fa30f0643990068e2c0b1bac",
    ),
    (
        "security-v2.jsonld",
        "4cb186bc29c08af6e40c58178c22dd84d542f2871a063afed6e648b47abc3cf6",
    ),
    (
        "did-v1.jsonld",
        "62c1054bf404d6dd3a4b26b64f830fd72095f6a26edc4469908c94351352ce5f",
    ),
    (
        "ob-v3p0-context-3.0.3.json",
        "3d34f4d4ef1bce691106e63798beb5e7b862ba841423f5ee1e53ab7ddf3bca84",
    ),
    (
        "ob-v3p0-context-3.0.2.json",
        "00666ad080ba407687ed1846b7f5e7495f5019042b202a727de47c48a1755c53",
    ),
    (
        "ob-v3p0-context-3.0.1.json",
        "d582f3564282fb3b709136d28412e78e70b678b4dbc2f0221f67d84932748355",
    ),
    (
        "ob-v3p0-context-3.0.0.json",
        "b077fa134d909d92c1dcd1c153f2af1b244aeb415967fdc1467d7fc5dd48ac10",
    ),
    (
        "ob-v3p0-extensions.json",
        "146f85aa16effd7ca1da8056eb443f53ce1eca8a34186cb062832c0a97d889c3",
    ),
    (
        "clr-v2p0-context-2.0.1.json",
        "880f1902d4158f2f33ce06af41b90719977cd1ea337a9de2e41edb3ff5e543d6",
    ),
    (
        "clr-v2p0-context-2.0.0.json",
        "e198d7b517d74c5036434ce495086f67b10244709e9a3df9dcb7f8b1579b6167",
    ),
    (
        "citizenship-v4rc1.jsonld",
        "5038c7383afd7ab2158f1b997913a8f60978a0abcf96e0b0d08e29f146d2db1e",
    ),
    (
        "tessera-v1.jsonld",
        "02343e5fbb91c1f03470a657a9e5c687317e871555ae97674218fd9c935d8bf0",
    ),
];

#[test]
fn every_bundled_context_matches_its_pinned_sha256() {
    assert_eq!(CONTEXTS.len(), PINNED.len());
    for (url, file, listed) in CONTEXTS {
        let text = bundled(url).unwrap_or_else(|| panic!("{url} not bundled"));
        let actual = sha256_hex(text);
        let pinned = PINNED
            .iter()
            .find(|(f, _)| f == file)
            .unwrap_or_else(|| panic!("{file} has no pinned digest"))
            .1;
        assert_eq!(actual, pinned, "{file}: bytes changed");
        assert_eq!(*listed, pinned, "{file}: CONTEXTS lists a different digest");
    }
}

#[test]
fn digests_agree_with_sources_md() {
    // Each table row of SOURCES.md: | URL(s) | file(s) | source | SHA-256 (maybe abbreviated "…") | … |
    let mut checked = 0;
    for line in SOURCES_MD.lines().filter(|l| l.starts_with("| http")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let files: Vec<&str> = cells[2].split(',').map(str::trim).collect();
        let digests: Vec<&str> = cells[4].split(',').map(str::trim).collect();
        assert_eq!(files.len(), digests.len(), "row: {line}");
        for (file, digest) in files.iter().zip(digests) {
            let prefix = digest.trim_end_matches('…');
            assert!(prefix.len() >= 8, "{file}: digest cell {digest:?}");
            let (url, _, _) = CONTEXTS
                .iter()
                .find(|(_, f, _)| f == file)
                .unwrap_or_else(|| panic!("SOURCES.md lists {file}, which is not bundled"));
            let actual = sha256_hex(bundled(url).expect("bundled"));
            assert!(
                actual.starts_with(prefix),
                "{file}: SOURCES.md says {digest}, bytes hash to {actual}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 18, "every SOURCES.md row checked");
}

#[test]
fn listing_agrees_with_index_json() {
    let index: BTreeMap<String, String> = serde_json::from_str(INDEX_JSON).expect("index.json");
    assert_eq!(index.len(), 18);
    for (url, file) in &index {
        let (_, f, _) = CONTEXTS
            .iter()
            .find(|(u, _, _)| u == url)
            .expect("indexed URL bundled");
        assert_eq!(f, file, "{url}");
    }
    // Beyond index.json: the context the W3C `employ` vector needs, and Tessera's own.
    let extra: Vec<&str> = CONTEXTS
        .iter()
        .map(|(u, _, _)| *u)
        .filter(|u| !index.contains_key(*u))
        .collect();
    assert_eq!(
        extra,
        [
            "https://w3id.org/citizenship/v4rc1",
            "https://w3id.org/tessera/v1"
        ]
    );
}

#[test]
fn every_bundled_context_is_valid_json() {
    for (url, file, _) in CONTEXTS {
        let v: serde_json::Value = serde_json::from_str(bundled(url).expect("bundled"))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(v.get("@context").is_some(), "{file} has no @context");
    }
}

#[test]
fn near_miss_urls_are_not_bundled() {
    assert!(bundled("https://www.w3.org/ns/credentials/v2").is_some());
    assert!(bundled("https://www.w3.org/ns/credentials/v2/").is_none());
    assert!(bundled("http://www.w3.org/ns/credentials/v2").is_none());
    assert!(bundled("").is_none());
}

fn expect_unknown(doc: serde_json::Value, url: &str) {
    match canonicalize(&doc) {
        Err(CanonError::UnknownContext { url: u }) => {
            assert_eq!(u, url);
            let msg = CanonError::UnknownContext { url: u }.to_string();
            assert!(msg.contains(url), "message names the URL: {msg}");
        }
        other => panic!("expected UnknownContext({url}), got {other:?}"),
    }
}

#[test]
fn unknown_top_level_context_is_refused_naming_the_url() {
    expect_unknown(
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx.jsonld"],
            "type": "VerifiableCredential"
        }),
        "https://evil.example/ctx.jsonld",
    );
}

#[test]
fn unknown_nested_and_imported_contexts_are_refused() {
    expect_unknown(
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": "VerifiableCredential",
            "credentialSubject": {"@context": "https://nested.example/c", "id": "did:example:1"}
        }),
        "https://nested.example/c",
    );
    expect_unknown(
        json!({
            "@context": [{"@import": "https://import.example/c", "x": "https://ex.org/x"}],
            "x": "1"
        }),
        "https://import.example/c",
    );
    // A trailing slash is a different document.
    expect_unknown(
        json!({"@context": "https://www.w3.org/ns/credentials/v2/", "type": "VerifiableCredential"}),
        "https://www.w3.org/ns/credentials/v2/",
    );
}
