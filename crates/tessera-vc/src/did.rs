//! Controller documents, DIDs and the offline key resolver.
//!
//! A proof names its key by a verification method id. That id resolves, without network access,
//! through one of:
//! - **did:key** — the key is in the identifier itself (`did:key:z6Mk…#z6Mk…`); see
//!   <https://w3c-ccg.github.io/did-method-key/>;
//! - a **controller document the caller supplied** — a did:web DID document, or an https
//!   controller document such as an issuer profile (`https://example.edu/issuers/565049`,
//!   the 1EdTech pattern). The document's `id` must equal the part of the method id before `#`
//!   (for did:web that is the DID-document `id` check of
//!   <https://w3c-ccg.github.io/did-method-web/#read-resolve>); fetching it is the caller's job.
//!
//! Resolution failures are not errors of this crate: they become a failed (or not checked)
//! `proof` check in the verification report, with [`ResolveFailure`] as the message.
//!
//! See: <https://www.w3.org/TR/cid-1.0/#retrieve-verification-method>.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::Value;

use crate::error::{DidError, Error};
use crate::keys::PublicKey;

/// A verification method: one public key and the entity that controls it.
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationMethod {
    /// Absolute id (`did:key:z6Mk…#z6Mk…`, `https://example.edu/issuers/1#key-1`).
    pub id: String,
    /// The controller's id; the issuer-binding check compares it with the credential's issuer.
    pub controller: String,
    /// `Multikey`, `Ed25519VerificationKey2020`, `JsonWebKey2020`, `JsonWebKey` …
    pub method_type: String,
    /// The Ed25519 key.
    pub public_key: PublicKey,
    /// CID 1.0 `revoked` timestamp, if the controller revoked the key.
    pub revoked: Option<String>,
}

/// A controller document (a DID document is one): its keys and which of them may assert
/// credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerDocument {
    /// The document's `id`.
    pub id: String,
    /// Every verification method found in `verificationMethod` or embedded in a relationship.
    pub verification_methods: Vec<VerificationMethod>,
    /// Absolute ids of the methods listed under `assertionMethod`.
    pub assertion_method: Vec<String>,
}

impl ControllerDocument {
    /// Parses a controller document (or a DID document). Keys that are not Ed25519 are skipped
    /// rather than rejected: a DID document may list other key types for other purposes.
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        let obj = value.as_object().ok_or(DidError::DocumentNotAnObject)?;
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .ok_or(DidError::DocumentWithoutId)?
            .to_owned();
        let mut doc = ControllerDocument {
            id: id.clone(),
            verification_methods: Vec::new(),
            assertion_method: Vec::new(),
        };
        for entry in as_list(obj.get("verificationMethod")) {
            if let Some(vm) = parse_method(entry, &id)? {
                doc.verification_methods.push(vm);
            }
        }
        for entry in as_list(obj.get("assertionMethod")) {
            match entry {
                Value::String(reference) => doc.assertion_method.push(absolute(reference, &id)),
                Value::Object(_) => {
                    if let Some(vm) = parse_method(entry, &id)? {
                        doc.assertion_method.push(vm.id.clone());
                        doc.verification_methods.push(vm);
                    }
                }
                _ => {
                    return Err(DidError::BadAssertionMethod.into());
                }
            }
        }
        Ok(doc)
    }

    /// The DID document of a did:key, built offline from the identifier.
    pub fn for_did_key(did: &str) -> Result<Self, Error> {
        let multibase = did
            .strip_prefix("did:key:")
            .ok_or_else(|| DidError::NotDidKey {
                did: did.to_owned(),
            })?;
        if !multibase.starts_with('z') {
            return Err(DidError::DidKeyNotBase58 {
                did: did.to_owned(),
            }
            .into());
        }
        let public_key = PublicKey::from_multibase(multibase)?;
        let vm_id = format!("{did}#{multibase}");
        Ok(ControllerDocument {
            id: did.to_owned(),
            verification_methods: vec![VerificationMethod {
                id: vm_id.clone(),
                controller: did.to_owned(),
                method_type: "Multikey".into(),
                public_key,
                revoked: None,
            }],
            assertion_method: vec![vm_id],
        })
    }

    /// The method with this absolute id.
    pub fn method(&self, id: &str) -> Option<&VerificationMethod> {
        self.verification_methods.iter().find(|vm| vm.id == id)
    }
}

fn as_list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    }
}

/// Makes a relative reference (`#key-1`) absolute against the document id.
fn absolute(reference: &str, base: &str) -> String {
    if reference.starts_with('#') {
        format!("{base}{reference}")
    } else {
        reference.to_owned()
    }
}

/// Parses one verification method object; `Ok(None)` for a key type this crate does not use.
fn parse_method(value: &Value, base: &str) -> Result<Option<VerificationMethod>, Error> {
    let obj = value.as_object().ok_or(DidError::MethodNotAnObject)?;
    let id = obj
        .get("id")
        .and_then(Value::as_str)
        .ok_or(DidError::MethodWithoutId)?;
    let id = absolute(id, base);
    let controller = obj
        .get("controller")
        .and_then(Value::as_str)
        .map(|c| absolute(c, base))
        .unwrap_or_else(|| base.to_owned());
    let method_type = obj
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let public_key = if let Some(mb) = obj.get("publicKeyMultibase").and_then(Value::as_str) {
        match PublicKey::from_multibase(mb) {
            Ok(key) => key,
            // A non-Ed25519 Multikey is legitimate in a DID document; skip it.
            Err(_) if !mb.starts_with("z6Mk") => return Ok(None),
            Err(e) => return Err(e),
        }
    } else if let Some(jwk) = obj.get("publicKeyJwk") {
        match ed25519_from_jwk(jwk)? {
            Some(key) => key,
            None => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    let revoked = obj
        .get("revoked")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Some(VerificationMethod {
        id,
        controller,
        method_type,
        public_key,
        revoked,
    }))
}

/// An OKP/Ed25519 JWK (`{"kty":"OKP","crv":"Ed25519","x":…}`); `None` for other key types.
fn ed25519_from_jwk(jwk: &Value) -> Result<Option<PublicKey>, Error> {
    if jwk.get("kty").and_then(Value::as_str) != Some("OKP")
        || jwk.get("crv").and_then(Value::as_str) != Some("Ed25519")
    {
        return Ok(None);
    }
    if jwk.get("d").is_some() {
        return Err(DidError::JwkWithPrivateKey.into());
    }
    let x = jwk
        .get("x")
        .and_then(Value::as_str)
        .ok_or(DidError::JwkWithoutX)?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(x)
        .map_err(|_| DidError::JwkXNotBase64url)?;
    PublicKey::from_bytes(&raw).map(Some)
}

/// The JSON controller document (or did:web DID document) an issuer publishes so that verifiers
/// can bind its keys to it: every key under `verificationMethod` and `assertionMethod`. Serve it
/// at the issuer URL, or at `/.well-known/did.json` for `did:web:<host>`.
///
/// See: <https://www.w3.org/TR/cid-1.0/#controller-documents>.
pub fn controller_document(id: &str, keys: &[crate::keys::Multikey]) -> Value {
    let methods: Vec<Value> = keys
        .iter()
        .map(|k| {
            serde_json::json!({
                "id": k.id,
                "type": "Multikey",
                "controller": k.controller,
                "publicKeyMultibase": k.public_key_multibase,
            })
        })
        .collect();
    let ids: Vec<Value> = keys.iter().map(|k| Value::String(k.id.clone())).collect();
    serde_json::json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": id,
        "verificationMethod": methods,
        "assertionMethod": ids,
    })
}

/// Why a verification method could not be resolved or may not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveFailure {
    /// The controller document was not supplied (offline: nothing is fetched).
    #[error(
        "the key {method} is controlled by {document}, whose controller document was not supplied (pass it with --did-document)"
    )]
    DocumentNotSupplied { method: String, document: String },
    /// The document was supplied but does not list the method.
    #[error("the controller document {document} does not list the key {method}")]
    NotInDocument { method: String, document: String },
    /// The method's `controller` is not the document it was found in.
    #[error("the key {method} names {controller} as controller, but was found in {document}")]
    ControllerMismatch {
        method: String,
        controller: String,
        document: String,
    },
    /// The identifier is malformed (a bad did:key, a non-Ed25519 key …).
    #[error("cannot resolve {method}: {reason}")]
    Invalid { method: String, reason: String },
    /// The controller does not list the key under the proof's purpose.
    #[error("{document} does not authorize the key {method} for {purpose}")]
    NotAuthorized {
        method: String,
        document: String,
        purpose: String,
    },
    /// The controller marked the key revoked.
    #[error("the key {method} was revoked by its controller at {revoked}")]
    Revoked { method: String, revoked: String },
}

impl ResolveFailure {
    /// True when the key could simply not be found offline (as opposed to being wrong).
    pub fn is_missing_document(&self) -> bool {
        matches!(self, ResolveFailure::DocumentNotSupplied { .. })
    }
}

/// The offline resolver: did:key built in, plus the controller documents the caller supplied.
#[derive(Debug, Clone, Default)]
pub struct KeyResolver {
    documents: HashMap<String, ControllerDocument>,
    /// Stand-alone verification-method documents (a published Multikey), by id.
    methods: HashMap<String, VerificationMethod>,
}

impl KeyResolver {
    /// A resolver that knows only did:key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a controller document (did:web DID document, https controller document), or a
    /// stand-alone Multikey document (an object with `publicKeyMultibase` at the top level).
    pub fn add_document(&mut self, value: &Value) -> Result<(), Error> {
        let is_standalone_key =
            value.get("publicKeyMultibase").is_some() || value.get("publicKeyJwk").is_some();
        if is_standalone_key {
            let id = value.get("id").and_then(Value::as_str).unwrap_or_default();
            let base = id.split('#').next().unwrap_or_default().to_owned();
            let vm = parse_method(value, &base)?
                .ok_or_else(|| DidError::NotEd25519 { id: id.to_owned() })?;
            self.methods.insert(vm.id.clone(), vm);
        } else {
            let doc = ControllerDocument::from_json(value)?;
            self.documents.insert(doc.id.clone(), doc);
        }
        Ok(())
    }

    /// Builder form of [`KeyResolver::add_document`].
    pub fn with_document(mut self, value: &Value) -> Result<Self, Error> {
        self.add_document(value)?;
        Ok(self)
    }

    /// Resolves `method_id` and checks that its controller authorizes it for `purpose`
    /// (`assertionMethod` for credentials).
    pub fn resolve(
        &self,
        method_id: &str,
        purpose: &str,
    ) -> Result<VerificationMethod, ResolveFailure> {
        let document_id = method_id.split('#').next().unwrap_or(method_id);
        let did_key_doc;
        let document = if document_id.starts_with("did:key:") {
            did_key_doc = ControllerDocument::for_did_key(document_id).map_err(|e| {
                ResolveFailure::Invalid {
                    method: method_id.to_owned(),
                    reason: e.to_string(),
                }
            })?;
            &did_key_doc
        } else if let Some(doc) = self.documents.get(document_id) {
            doc
        } else if let Some(vm) = self.methods.get(method_id) {
            // A stand-alone key: its controller's document must still authorize it.
            let Some(controller) = self.documents.get(&vm.controller) else {
                return Err(ResolveFailure::DocumentNotSupplied {
                    method: method_id.to_owned(),
                    document: vm.controller.clone(),
                });
            };
            return authorize(controller, vm, purpose);
        } else {
            return Err(ResolveFailure::DocumentNotSupplied {
                method: method_id.to_owned(),
                document: document_id.to_owned(),
            });
        };
        let Some(vm) = document.method(method_id) else {
            return Err(ResolveFailure::NotInDocument {
                method: method_id.to_owned(),
                document: document.id.clone(),
            });
        };
        if vm.controller != document.id {
            return Err(ResolveFailure::ControllerMismatch {
                method: method_id.to_owned(),
                controller: vm.controller.clone(),
                document: document.id.clone(),
            });
        }
        authorize(document, vm, purpose)
    }
}

fn authorize(
    document: &ControllerDocument,
    vm: &VerificationMethod,
    purpose: &str,
) -> Result<VerificationMethod, ResolveFailure> {
    let listed = match purpose {
        "assertionMethod" => document.assertion_method.iter().any(|id| id == &vm.id),
        _ => false,
    };
    if !listed {
        return Err(ResolveFailure::NotAuthorized {
            method: vm.id.clone(),
            document: document.id.clone(),
            purpose: purpose.to_owned(),
        });
    }
    if let Some(revoked) = &vm.revoked {
        return Err(ResolveFailure::Revoked {
            method: vm.id.clone(),
            revoked: revoked.clone(),
        });
    }
    Ok(vm.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DID: &str = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";

    #[test]
    fn did_key_resolves_offline_for_assertion() {
        let vm = KeyResolver::new()
            .resolve(
                &format!("{DID}#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"),
                "assertionMethod",
            )
            .unwrap();
        assert_eq!(vm.controller, DID);
        assert_eq!(
            vm.public_key.to_multibase(),
            "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
        );
    }

    #[test]
    fn did_key_with_wrong_fragment_is_not_in_document() {
        let err = KeyResolver::new()
            .resolve(&format!("{DID}#key-1"), "assertionMethod")
            .unwrap_err();
        assert!(matches!(err, ResolveFailure::NotInDocument { .. }), "{err}");
    }

    #[test]
    fn https_controller_document_resolves_and_checks_assertion_method() {
        let doc = json!({
            "id": "https://example.edu/issuers/565049",
            "verificationMethod": [{
                "id": "#k1", "type": "Multikey",
                "controller": "https://example.edu/issuers/565049",
                "publicKeyMultibase": "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
            }],
            "assertionMethod": []
        });
        let resolver = KeyResolver::new().with_document(&doc).unwrap();
        let err = resolver
            .resolve("https://example.edu/issuers/565049#k1", "assertionMethod")
            .unwrap_err();
        assert!(matches!(err, ResolveFailure::NotAuthorized { .. }), "{err}");
        let missing = KeyResolver::new()
            .resolve("https://example.edu/issuers/565049#k1", "assertionMethod")
            .unwrap_err();
        assert!(missing.is_missing_document());
    }

    #[test]
    fn did_web_document_with_jwk_resolves() {
        let doc = json!({
            "id": "did:web:example.com",
            "verificationMethod": [{
                "id": "did:web:example.com#key-1", "type": "JsonWebKey2020",
                "controller": "did:web:example.com",
                "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519",
                                 "x": "S96v3i6ovu-t2MaZtcfgcEz1EVTVLheyC3EzfKBMxaU"}
            }],
            "assertionMethod": ["did:web:example.com#key-1"]
        });
        let vm = KeyResolver::new()
            .with_document(&doc)
            .unwrap()
            .resolve("did:web:example.com#key-1", "assertionMethod")
            .unwrap();
        assert_eq!(
            vm.public_key.to_multibase(),
            "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
        );
    }
}
