//! The bundled JSON-LD contexts, compiled in, and the offline document loader.
//!
//! Verification must never touch the network: a context is either one of the exact byte strings
//! below (each pinned by SHA-256 in `tests/canon_contexts.rs`), or the document is refused with
//! [`crate::canon::CanonError::UnknownContext`]. Contexts are `@protected`, so one changed byte
//! changes every signature that depends on them; never edit the files in `contexts/`.
//! Where each file comes from, with its licence, is recorded in `contexts/SOURCES.md`.

use std::collections::HashMap;
use std::sync::OnceLock;

use json_ld::syntax::Parse as _;
use json_ld::{IriBuf, RemoteDocument};

/// Every bundled context: `(url, file name under contexts/, SHA-256 of the file, hex)`.
///
/// The digests are the ones recorded in `contexts/SOURCES.md` (the vector and spec sources).
pub const CONTEXTS: &[(&str, &str, &str)] = &[
    (
        "https://www.w3.org/ns/credentials/v2",
        "credentials-v2.jsonld",
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
    ),
    (
        "https://www.w3.org/2018/credentials/v1",
        "credentials-v1.jsonld",
        "ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc",
    ),
    (
        "https://www.w3.org/ns/credentials/examples/v2",
        "credentials-examples-v2.jsonld",
        "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c",
    ),
    (
        "https://www.w3.org/ns/credentials/status/v1",
        "credentials-status-v1.jsonld",
        "fda5add353231e6a6884a46b12e6c75464281900cb348284d9c360f62381d9f7",
    ),
    (
        "https://w3id.org/security/data-integrity/v2",
        "data-integrity-v2.jsonld",
        "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4",
    ),
    (
        "https://w3id.org/security/data-integrity/v1",
        "data-integrity-v1.jsonld",
        "b5d829bd09aa7c42abc6efa0c8ed7635313b5487f37ccfce3ecd149ca9418554",
    ),
    (
        "https://w3id.org/security/multikey/v1",
        "multikey-v1.jsonld",
        "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597",
    ),
    (
        "https://w3id.org/security/suites/ed25519-2020/v1",
        "ed25519-2020-v1.jsonld",
        "b9e1ab971fd8bf2c7553e0c4a9438e0b9450afde1ea1ca5b2492368b9f549588",
    ),
    (
        "https://w3id.org/security/v1",
        "security-v1.jsonld",
        "e2d146cd556f6fa5f14996c6f1749667d5a14073fa30f0643990068e2c0b1bac",
    ),
    (
        "https://w3id.org/security/v2",
        "security-v2.jsonld",
        "4cb186bc29c08af6e40c58178c22dd84d542f2871a063afed6e648b47abc3cf6",
    ),
    (
        "https://www.w3.org/ns/did/v1",
        "did-v1.jsonld",
        "62c1054bf404d6dd3a4b26b64f830fd72095f6a26edc4469908c94351352ce5f",
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "ob-v3p0-context-3.0.3.json",
        "3d34f4d4ef1bce691106e63798beb5e7b862ba841423f5ee1e53ab7ddf3bca84",
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        "ob-v3p0-context-3.0.2.json",
        "00666ad080ba407687ed1846b7f5e7495f5019042b202a727de47c48a1755c53",
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        "ob-v3p0-context-3.0.1.json",
        "d582f3564282fb3b709136d28412e78e70b678b4dbc2f0221f67d84932748355",
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        "ob-v3p0-context-3.0.0.json",
        "b077fa134d909d92c1dcd1c153f2af1b244aeb415967fdc1467d7fc5dd48ac10",
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
        "ob-v3p0-extensions.json",
        "146f85aa16effd7ca1da8056eb443f53ce1eca8a34186cb062832c0a97d889c3",
    ),
    (
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
        "clr-v2p0-context-2.0.1.json",
        "880f1902d4158f2f33ce06af41b90719977cd1ea337a9de2e41edb3ff5e543d6",
    ),
    (
        "https://purl.imsglobal.org/spec/clr/v2p0/context.json",
        "clr-v2p0-context-2.0.0.json",
        "e198d7b517d74c5036434ce495086f67b10244709e9a3df9dcb7f8b1579b6167",
    ),
    // Only the W3C `employ` test vector uses it (w3c-ccg/citizenship-vocab at 50a3689e).
    (
        "https://w3id.org/citizenship/v4rc1",
        "citizenship-v4rc1.jsonld",
        "5038c7383afd7ab2158f1b997913a8f60978a0abcf96e0b0d08e29f146d2db1e",
    ),
    // Tessera's own terms (attempts and time to mastery …); see docs/context.md.
    (
        "https://w3id.org/tessera/v1",
        "tessera-v1.jsonld",
        "02343e5fbb91c1f03470a657a9e5c687317e871555ae97674218fd9c935d8bf0",
    ),
];

/// The exact bytes of each bundled file, in the order of [`CONTEXTS`].
const TEXTS: &[&str] = &[
    include_str!("../contexts/credentials-v2.jsonld"),
    include_str!("../contexts/credentials-v1.jsonld"),
    include_str!("../contexts/credentials-examples-v2.jsonld"),
    include_str!("../contexts/credentials-status-v1.jsonld"),
    include_str!("../contexts/data-integrity-v2.jsonld"),
    include_str!("../contexts/data-integrity-v1.jsonld"),
    include_str!("../contexts/multikey-v1.jsonld"),
    include_str!("../contexts/ed25519-2020-v1.jsonld"),
    include_str!("../contexts/security-v1.jsonld"),
    include_str!("../contexts/security-v2.jsonld"),
    include_str!("../contexts/did-v1.jsonld"),
    include_str!("../contexts/ob-v3p0-context-3.0.3.json"),
    include_str!("../contexts/ob-v3p0-context-3.0.2.json"),
    include_str!("../contexts/ob-v3p0-context-3.0.1.json"),
    include_str!("../contexts/ob-v3p0-context-3.0.0.json"),
    include_str!("../contexts/ob-v3p0-extensions.json"),
    include_str!("../contexts/clr-v2p0-context-2.0.1.json"),
    include_str!("../contexts/clr-v2p0-context-2.0.0.json"),
    include_str!("../contexts/citizenship-v4rc1.jsonld"),
    include_str!("../contexts/tessera-v1.jsonld"),
];

const _: () = assert!(TEXTS.len() == CONTEXTS.len());

/// The exact bytes of the bundled context served for `url`, or `None` if it is not bundled.
///
/// The match is exact (no trailing-slash or scheme normalisation): JSON-LD processors dereference
/// the URL as written, so a near miss is a different, unknown context.
pub fn bundled(url: &str) -> Option<&'static str> {
    CONTEXTS
        .iter()
        .position(|(u, _, _)| *u == url)
        .and_then(|i| TEXTS.get(i).copied())
}

/// The file name (under `contexts/`) bundled for `url`.
pub fn file_name(url: &str) -> Option<&'static str> {
    CONTEXTS
        .iter()
        .find(|(u, _, _)| *u == url)
        .map(|(_, f, _)| *f)
}

/// The offline JSON-LD loader: every bundled context, parsed once, shared by all threads.
pub(crate) fn loader() -> &'static HashMap<IriBuf, RemoteDocument> {
    static LOADER: OnceLock<HashMap<IriBuf, RemoteDocument>> = OnceLock::new();
    LOADER.get_or_init(|| {
        let mut map = HashMap::new();
        for ((url, file, _), text) in CONTEXTS.iter().zip(TEXTS) {
            // The bundled files are fixed at compile time and covered by tests, so a parse failure
            // here is a build defect, not bad input; skipping it makes the URL "unknown" rather
            // than panicking in a verifier.
            let (Ok(iri), Ok((json, _))) = (
                IriBuf::new((*url).to_owned()),
                json_ld::syntax::Value::parse_str(text),
            ) else {
                debug_assert!(false, "bundled context {file} does not parse");
                continue;
            };
            map.insert(
                iri.clone(),
                RemoteDocument::new(Some(iri), "application/ld+json".parse().ok(), json),
            );
        }
        map
    })
}
