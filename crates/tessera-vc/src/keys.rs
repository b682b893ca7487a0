//! Ed25519 keys and their Multikey encodings.
//!
//! See: <https://www.w3.org/TR/vc-di-eddsa/#multikey> and
//! <https://www.w3.org/TR/cid-1.0/#Multikey>.
//!
//! - public key: `z` + base58btc(`0xed 0x01` ‖ 32 bytes) — always starts `z6Mk`;
//! - secret key: `z` + base58btc(`0x80 0x26` ‖ 32-byte seed) — starts `z3u2` (the W3C vectors);
//! - legacy secret key: `0x80 0x26` ‖ 64 bytes (seed ‖ public key) — starts `zrv` (the 1EdTech
//!   vectors); accepted on input only, and the public half must match the seed.
//!
//! No randomness is drawn here: [`KeyPair::from_seed`] takes 32 bytes the caller produced.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::error::{Error, KeyError};

/// Multicodec header of an Ed25519 public key (`ed25519-pub`, varint of 0xed).
pub const ED25519_PUB_HEADER: [u8; 2] = [0xed, 0x01];
/// Multicodec header of an Ed25519 secret key (`ed25519-priv`, varint of 0x1300).
pub const ED25519_PRIV_HEADER: [u8; 2] = [0x80, 0x26];

/// Decodes a multibase base58btc value (`z…`).
pub fn decode_base58btc(value: &str) -> Result<Vec<u8>, Error> {
    let Some(rest) = value.strip_prefix('z') else {
        return Err(Error::Multibase {
            value: truncate(value),
            reason: "expected base58btc (a value starting with `z`)",
        });
    };
    bs58::decode(rest).into_vec().map_err(|_| Error::Multibase {
        value: truncate(value),
        reason: "not valid base58btc",
    })
}

/// Encodes bytes as multibase base58btc (`z…`).
pub fn encode_base58btc(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 138 / 100 + 2);
    out.push('z');
    out.push_str(&bs58::encode(bytes).into_string());
    out
}

fn truncate(value: &str) -> String {
    value.chars().take(80).collect()
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_multibase())
    }
}

impl PublicKey {
    /// Parses a `publicKeyMultibase` value. Any multicodec header other than `ed25519-pub` is
    /// rejected, as the EdDSA cryptosuites require.
    pub fn from_multibase(value: &str) -> Result<Self, Error> {
        let bytes = decode_base58btc(value)?;
        let Some(raw) = bytes.strip_prefix(&ED25519_PUB_HEADER) else {
            return Err(KeyError::WrongType {
                value: truncate(value),
                kind: "public key",
                expected: "0xed01",
            }
            .into());
        };
        Self::from_bytes(raw)
    }

    /// Builds a key from its 32 raw bytes.
    pub fn from_bytes(raw: &[u8]) -> Result<Self, Error> {
        let array: [u8; 32] = raw.try_into().map_err(|_| KeyError::WrongLength {
            kind: "public key",
            expected: "32",
            actual: raw.len(),
        })?;
        VerifyingKey::from_bytes(&array)
            .map(PublicKey)
            .map_err(|_| KeyError::NotOnCurve.into())
    }

    /// The `publicKeyMultibase` form, `z6Mk…`.
    pub fn to_multibase(&self) -> String {
        let mut bytes = Vec::with_capacity(34);
        bytes.extend_from_slice(&ED25519_PUB_HEADER);
        bytes.extend_from_slice(self.0.as_bytes());
        encode_base58btc(&bytes)
    }

    /// The did:key identifier of this key.
    pub fn did_key(&self) -> String {
        format!("did:key:{}", self.to_multibase())
    }

    /// The verification method id of this key inside its did:key document.
    pub fn did_key_verification_method(&self) -> String {
        let mb = self.to_multibase();
        format!("did:key:{mb}#{mb}")
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Verifies an Ed25519 signature strictly (RFC 8032 with the malleability and small-order
    /// checks the EdDSA cryptosuite's security section asks for). Returns `false` for a
    /// signature of the wrong length.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        let signature = Signature::from_bytes(&bytes);
        self.0.verify_strict(message, &signature).is_ok()
    }
}

/// An Ed25519 key pair. Its `Debug` never prints the secret.
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public_key())
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl KeyPair {
    /// Builds the key pair from a 32-byte seed (RFC 8032 secret key). The caller supplies the
    /// randomness.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        KeyPair {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// Parses a `secretKeyMultibase` (or the older `privateKeyMultibase`) value: the 32-byte seed
    /// form (`z3u2…`) or the legacy 64-byte seed‖public form (`zrv…`).
    pub fn from_secret_multibase(value: &str) -> Result<Self, Error> {
        let bytes = decode_base58btc(value)?;
        let Some(raw) = bytes.strip_prefix(&ED25519_PRIV_HEADER) else {
            return Err(KeyError::WrongType {
                value: "secretKeyMultibase".into(),
                kind: "secret key",
                expected: "0x8026",
            }
            .into());
        };
        match raw.len() {
            32 => {
                let mut seed = [0u8; 32];
                seed.copy_from_slice(raw);
                Ok(Self::from_seed(seed))
            }
            64 => {
                let mut seed = [0u8; 32];
                seed.copy_from_slice(&raw[..32]);
                let pair = Self::from_seed(seed);
                if pair.public_key().as_bytes()[..] != raw[32..] {
                    return Err(KeyError::Mismatch {
                        public: encode_base58btc(&raw[32..]),
                    }
                    .into());
                }
                Ok(pair)
            }
            n => Err(KeyError::WrongLength {
                kind: "secret key",
                expected: "32 (or legacy 64)",
                actual: n,
            }
            .into()),
        }
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key())
    }

    /// The 32-byte seed form, `z3u2…`. Handle with care: this is the secret.
    pub fn secret_multibase(&self) -> String {
        let mut bytes = Vec::with_capacity(34);
        bytes.extend_from_slice(&ED25519_PRIV_HEADER);
        bytes.extend_from_slice(self.signing.as_bytes());
        encode_base58btc(&bytes)
    }

    /// Signs `message` (pure Ed25519, deterministic).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

/// A Multikey document, as written by `tessera keys generate` and read by `credential sign`.
///
/// See: <https://www.w3.org/TR/cid-1.0/#Multikey>.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Multikey {
    /// `https://w3id.org/security/multikey/v1`.
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
    /// `"Multikey"`.
    #[serde(rename = "type", default = "multikey_type")]
    pub key_type: String,
    /// The verification method id, used as the proof's `verificationMethod`.
    pub id: String,
    /// The controller (the issuer's DID or URL).
    pub controller: String,
    /// `z6Mk…`.
    pub public_key_multibase: String,
    /// `z3u2…` (or `zrv…` on input). Present only in secret key files.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "privateKeyMultibase"
    )]
    pub secret_key_multibase: Option<String>,
}

fn multikey_type() -> String {
    "Multikey".to_owned()
}

/// The context URL of Multikey documents.
pub const MULTIKEY_CONTEXT: &str = "https://w3id.org/security/multikey/v1";

impl Multikey {
    /// The Multikey for `pair`, with the secret included. With no controller, the key is its own
    /// did:key: `controller` = `did:key:z6Mk…`, `id` = `did:key:z6Mk…#z6Mk…`. With a controller
    /// (a did:web or an https URL), `id` = `controller#z6Mk…`.
    pub fn from_key_pair(pair: &KeyPair, controller: Option<&str>) -> Self {
        let public = pair.public_key();
        let mb = public.to_multibase();
        let (id, controller) = match controller {
            Some(c) => (format!("{c}#{mb}"), c.to_owned()),
            None => (public.did_key_verification_method(), public.did_key()),
        };
        Multikey {
            context: Some(serde_json::Value::String(MULTIKEY_CONTEXT.into())),
            key_type: multikey_type(),
            id,
            controller,
            public_key_multibase: mb,
            secret_key_multibase: Some(pair.secret_multibase()),
        }
    }

    /// Parses a key file. Checks that the secret (if any) matches the public key.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let key: Multikey = serde_json::from_str(text).map_err(Error::Json)?;
        let public = PublicKey::from_multibase(&key.public_key_multibase)?;
        if let Some(secret) = &key.secret_key_multibase {
            let pair = KeyPair::from_secret_multibase(secret)?;
            if pair.public_key() != public {
                return Err(KeyError::Mismatch {
                    public: key.public_key_multibase.clone(),
                }
                .into());
            }
        }
        Ok(key)
    }

    /// The key pair, if this document carries the secret.
    pub fn key_pair(&self) -> Result<KeyPair, Error> {
        let secret = self
            .secret_key_multibase
            .as_deref()
            .ok_or(KeyError::NoSecret)?;
        KeyPair::from_secret_multibase(secret)
    }

    /// The same document without the secret: safe to publish.
    pub fn public_only(&self) -> Self {
        Multikey {
            secret_key_multibase: None,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w3c_vector_key_pair_round_trips() {
        let pair =
            KeyPair::from_secret_multibase("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
                .unwrap();
        assert_eq!(
            pair.public_key().to_multibase(),
            "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
        );
        assert_eq!(
            pair.secret_multibase(),
            "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
        );
    }

    #[test]
    fn legacy_64_byte_secret_is_accepted_and_checked() {
        let pair = KeyPair::from_secret_multibase(
            "zrv2bqTbNwCTsRrHFcJCPjVAduh4Ezcnoq1A3ZxH1GWTNkxipLVuaAoMFmze2gFN9oNXfJjufxSHWVZzsJiUsMHFMcx",
        )
        .unwrap();
        assert_eq!(
            pair.public_key().to_multibase(),
            "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
        );
        assert!(pair.secret_multibase().starts_with("z3u2"));
    }

    #[test]
    fn other_multicodec_headers_are_rejected() {
        // secp256k1-pub header 0xe7 0x01 with 33 bytes.
        let mut bytes = vec![0xe7, 0x01];
        bytes.extend_from_slice(&[2u8; 33]);
        let err = PublicKey::from_multibase(&encode_base58btc(&bytes)).unwrap_err();
        assert!(
            matches!(err, Error::Key(KeyError::WrongType { .. })),
            "{err}"
        );
        assert!(err.to_string().contains("0xed01"), "{err}");
        assert!(PublicKey::from_multibase("u6Mk").is_err());
        assert!(PublicKey::from_multibase("z0OIl").is_err());
    }

    #[test]
    fn generated_multikey_defaults_to_its_own_did_key() {
        let pair = KeyPair::from_seed([7u8; 32]);
        let mk = Multikey::from_key_pair(&pair, None);
        assert!(mk.controller.starts_with("did:key:z6Mk"));
        assert_eq!(
            mk.id,
            format!("{}#{}", mk.controller, mk.public_key_multibase)
        );
        let text = serde_json::to_string(&mk).unwrap();
        let back = Multikey::from_json(&text).unwrap();
        assert_eq!(back.key_pair().unwrap().public_key(), pair.public_key());
        assert!(mk.public_only().secret_key_multibase.is_none());
        assert!(!format!("{pair:?}").contains(&pair.secret_multibase()));
    }
}
