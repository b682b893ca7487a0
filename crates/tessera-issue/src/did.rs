//! The issuer's identifiers: did:web under the configured public URL, one verification method
//! per key (`<DID>#key-<seq>`), and the DID document listing current and past keys.
//!
//! did:web maps `did:web:HOST[%3APORT][:PATH…]` to `https://HOST[:PORT]/PATH…/did.json`
//! (<https://w3c-ccg.github.io/did-method-web/#read-resolve>), so the organisation's DID is the
//! public URL's host and path followed by `orgs:<slug>`, and its document is served at
//! `<public URL>/orgs/<slug>/did.json`.

use serde_json::Value;
use tessera_vc::keys::{Multikey, PublicKey};

use crate::Error;

/// The organisation's did:web DID under `public_url` (`http(s)://host[:port][/prefix]`).
pub fn did_web(public_url: &str, slug: &str) -> Result<String, Error> {
    let bad = |reason| Error::PublicUrl {
        url: public_url.to_owned(),
        reason,
    };
    let rest = public_url
        .strip_prefix("https://")
        .or_else(|| public_url.strip_prefix("http://"))
        .ok_or_else(|| bad("it is not an http(s) URL"))?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("it has no plain host"));
    }
    if slug.is_empty()
        || !slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad("the organisation slug cannot be a DID path segment"));
    }
    // The port's colon is percent-encoded; path segments become colon-separated.
    let mut did = format!(
        "did:web:{}",
        authority.to_ascii_lowercase().replace(':', "%3A")
    );
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if segment.contains(['?', '#', ':']) {
            return Err(bad("its path cannot be part of a DID"));
        }
        did.push(':');
        did.push_str(segment);
    }
    did.push_str(":orgs:");
    did.push_str(slug);
    Ok(did)
}

/// Where the DID document of [`did_web`] is served.
pub fn did_document_url(public_url: &str, slug: &str) -> String {
    format!("{}/orgs/{slug}/did.json", public_url.trim_end_matches('/'))
}

/// The verification method id of key number `seq` under a did:web issuer.
pub fn method_id(did: &str, seq: i64) -> String {
    format!("{did}#key-{seq}")
}

/// A key to list in the DID document.
#[derive(Debug, Clone)]
pub struct ListedKey {
    /// Its number (the `#key-<seq>` fragment).
    pub seq: i64,
    /// Multibase public key (`z6Mk…`).
    pub public_key_multibase: String,
}

/// The DID document: every key, current and past, as a Multikey in `verificationMethod` and
/// `assertionMethod` (a rotation is not a compromise: past keys still vouch for what they signed).
pub fn did_document(did: &str, keys: &[ListedKey]) -> Result<Value, Error> {
    let methods = keys
        .iter()
        .map(|k| {
            // Checked, so that a corrupt row is an error here rather than a broken document.
            PublicKey::from_multibase(&k.public_key_multibase)?;
            Ok(Multikey {
                context: None,
                key_type: "Multikey".into(),
                id: method_id(did, k.seq),
                controller: did.to_owned(),
                public_key_multibase: k.public_key_multibase.clone(),
                secret_key_multibase: None,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(tessera_vc::did::controller_document(did, &methods))
}

/// The issuer id and verification method for a key under the organisation's DID method:
/// `web` → (did:web, `#key-<seq>`); `key` → the key's own did:key.
pub fn issuer_for(
    method: &str,
    did_web: &str,
    seq: i64,
    public_key_multibase: &str,
) -> Result<(String, String), Error> {
    if method == "key" {
        let public = PublicKey::from_multibase(public_key_multibase)?;
        Ok((public.did_key(), public.did_key_verification_method()))
    } else {
        Ok((did_web.to_owned(), method_id(did_web, seq)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_web_encodes_the_port_and_the_path() {
        assert_eq!(
            did_web("https://school.example", "lincoln").unwrap(),
            "did:web:school.example:orgs:lincoln"
        );
        assert_eq!(
            did_web("http://127.0.0.1:8080", "a").unwrap(),
            "did:web:127.0.0.1%3A8080:orgs:a"
        );
        assert_eq!(
            did_web("https://Example.org:8443/tessera/", "b-1").unwrap(),
            "did:web:example.org%3A8443:tessera:orgs:b-1"
        );
        assert!(did_web("ftp://x", "a").is_err());
        assert!(did_web("https://x", "a:b").is_err());
        assert_eq!(
            did_document_url("https://x.org/", "a"),
            "https://x.org/orgs/a/did.json"
        );
    }
}
