//! The master key and the sealing of issuer secrets (XChaCha20-Poly1305).
//!
//! A sealed secret is `hex(nonce ‖ ciphertext ‖ tag)`; the associated data binds it to its
//! organisation and key id, so a sealed value copied onto another row does not open. The
//! 24-byte nonce comes from the caller (random per seal; XChaCha's nonce is long enough for
//! random nonces to be safe).

use std::fmt;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::Error;

/// The service's master key: 32 bytes. `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id())
            .field("key", &"[redacted]")
            .finish()
    }
}

impl MasterKey {
    /// A master key from raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses `TESSERA_MASTER_KEY` or the key file: 64 hex digits, or base64 (standard or
    /// URL-safe, padded or not) of 32 bytes. Surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| Error::MasterKey("bad hex"))?
        } else {
            let engines = [
                base64::engine::general_purpose::STANDARD,
                base64::engine::general_purpose::STANDARD_NO_PAD,
                base64::engine::general_purpose::URL_SAFE,
                base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ];
            engines
                .iter()
                .find_map(|e| e.decode(text).ok())
                .ok_or(Error::MasterKey("neither hex nor base64"))?
        };
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::MasterKey("wrong length"))?;
        Ok(Self(bytes))
    }

    /// The key as 64 hex digits (what the key file holds).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A public fingerprint, stored beside each sealed secret so that a wrong master key is
    /// named as such rather than as tampering.
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"tessera master key id\0");
        h.update(self.0);
        hex::encode(&h.finalize()[..8])
    }

    /// Seals `secret`, bound to `aad`, with `nonce` (random per call).
    pub fn seal(&self, secret: &[u8], aad: &[u8], nonce: [u8; 24]) -> Result<String, Error> {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: secret, aad })
            .map_err(|_| Error::Invalid("sealing failed".into()))?;
        let mut out = Vec::with_capacity(24 + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(hex::encode(out))
    }

    /// Opens a value made by [`MasterKey::seal`] with the same `aad`.
    pub fn open(&self, sealed_hex: &str, aad: &[u8]) -> Result<Vec<u8>, Error> {
        let bytes = hex::decode(sealed_hex).map_err(|_| Error::Unseal)?;
        if bytes.len() < 24 + 16 {
            return Err(Error::Unseal);
        }
        let (nonce, body) = bytes.split_at(24);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
            .map_err(|_| Error::Unseal)
    }
}

/// The associated data of an issuer key: its organisation and id.
pub fn key_aad(org_id: &str, key_id: &str) -> Vec<u8> {
    format!("tessera issuer key\0{org_id}\0{key_id}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_binding() {
        let mk = MasterKey::from_bytes([7; 32]);
        let sealed = mk.seal(b"secret", b"org\0k1", [1; 24]).unwrap();
        assert!(!sealed.contains(&hex::encode(b"secret")));
        assert_eq!(mk.open(&sealed, b"org\0k1").unwrap(), b"secret");
        assert!(matches!(mk.open(&sealed, b"org\0k2"), Err(Error::Unseal)));
        let other = MasterKey::from_bytes([8; 32]);
        assert!(matches!(
            other.open(&sealed, b"org\0k1"),
            Err(Error::Unseal)
        ));
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(matches!(mk.open(&tampered, b"org\0k1"), Err(Error::Unseal)));
    }

    #[test]
    fn the_master_key_parses_from_hex_or_base64_and_never_prints() {
        let mk = MasterKey::from_bytes([0xab; 32]);
        assert_eq!(MasterKey::parse(&mk.to_hex()).unwrap().id(), mk.id());
        let b64 = base64::engine::general_purpose::STANDARD.encode([0xab; 32]);
        assert_eq!(
            MasterKey::parse(&format!(" {b64}\n")).unwrap().id(),
            mk.id()
        );
        assert!(MasterKey::parse("abcd").is_err());
        let shown = format!("{mk:?}");
        assert!(
            !shown.contains(&mk.to_hex()) && !shown.contains("abab"),
            "{shown}"
        );
    }
}
