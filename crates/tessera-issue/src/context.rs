//! Tessera's JSON-LD context: the terms Open Badges and VC do not define (attempts and time to
//! mastery, mastery by override). The bytes are compiled into `tessera-vc`'s offline loader
//! (pinned by SHA-256 there) and served by the service at [`SERVED_PATH`]; credentials name it in
//! `@context` and pin it with a VC 2.0 `relatedResource` carrying its `digestSRI`.

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha384};

/// The context's URL, as credentials write it.
pub const URL: &str = "https://w3id.org/tessera/v1";

/// Where the service serves the same bytes.
pub const SERVED_PATH: &str = "/contexts/tessera/v1";

/// The vocabulary the terms expand into.
pub const VOCAB: &str = "https://w3id.org/tessera/vocab#";

/// The exact bytes.
pub fn text() -> &'static str {
    // The file is compiled into tessera-vc; its absence is a build mistake caught by the tests.
    tessera_vc::contexts::bundled(URL).unwrap_or("")
}

/// `sha384-<base64>` of the bytes (Subresource Integrity).
pub fn digest_sri() -> String {
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(text().as_bytes()))
    )
}

/// The `relatedResource` entry that pins the context.
pub fn related_resource() -> Value {
    json!({
        "id": URL,
        "digestSRI": digest_sri(),
        "mediaType": "application/ld+json",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_is_bundled_and_defines_its_terms() {
        let ctx: Value = serde_json::from_str(text()).expect("bundled and JSON");
        for term in ["attemptsToMastery", "timeToMastery", "masteryByOverride"] {
            let id = ctx["@context"][term]["@id"].as_str().unwrap();
            assert_eq!(id, format!("{VOCAB}{term}"));
        }
        assert!(digest_sri().starts_with("sha384-"));
    }
}
