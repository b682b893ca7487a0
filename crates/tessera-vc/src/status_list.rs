//! Bitstring Status List v1.0: the bitstring, its GZIP + multibase base64url encoding, and the
//! check of a `BitstringStatusListEntry` against a `BitstringStatusListCredential`.
//!
//! See: <https://www.w3.org/TR/vc-bitstring-status-list/>.
//!
//! - Index 0 is the left-most bit (the most significant bit of byte 0).
//! - An entry's bits start at `statusListIndex × statusSize`.
//! - The uncompressed list is at least 16 KiB (131,072 one-bit entries): the herd-privacy minimum.
//! - `encodedList` = `u` + base64url-without-padding(GZIP(bitstring)).
//!
//! Fetching a list is the caller's business (the service caches it; the CLI takes a file).

use std::io::{Read, Write};

use base64::Engine as _;
use flate2::{Compression, read::GzDecoder, write::GzEncoder};
use serde_json::{Value, json};

use crate::error::{Error, StatusListError};

/// The minimum number of bits of an uncompressed list (16 KiB).
pub const MIN_BITS: usize = 131_072;
/// The largest uncompressed list this crate will inflate (guards against GZIP bombs): 16 MiB,
/// i.e. 134 million one-bit entries.
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

/// A status bitstring with `status_size` bits per entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bytes: Vec<u8>,
    status_size: u8,
}

impl StatusList {
    /// A list of at least `entries` entries, all zero, padded up to the 131,072-bit minimum.
    pub fn new(entries: usize, status_size: u8) -> Result<Self, Error> {
        check_status_size(status_size)?;
        let bits = entries
            .checked_mul(usize::from(status_size))
            .filter(|b| *b <= MAX_BYTES * 8)
            .ok_or(StatusListError::TooManyEntries { entries })?
            .max(MIN_BITS);
        Ok(StatusList {
            bytes: vec![0; bits.div_ceil(8)],
            status_size,
        })
    }

    /// Bits per entry.
    pub fn status_size(&self) -> u8 {
        self.status_size
    }

    /// Number of entries the list holds.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8 / usize::from(self.status_size)
    }

    /// True if the list holds no entries (never, for a list built by this module).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of entry `index`, or `None` if the index is past the end.
    pub fn get(&self, index: usize) -> Option<u32> {
        if index >= self.len() {
            return None;
        }
        let start = index * usize::from(self.status_size);
        let mut value = 0u32;
        for bit in start..start + usize::from(self.status_size) {
            let set = self.bytes[bit / 8] & (0x80 >> (bit % 8)) != 0;
            value = (value << 1) | u32::from(set);
        }
        Some(value)
    }

    /// Sets entry `index` to `value` (which must fit in `status_size` bits).
    pub fn set(&mut self, index: usize, value: u32) -> Result<(), Error> {
        if index >= self.len() {
            return Err(StatusListError::IndexOutOfRange {
                index,
                len: self.len(),
            }
            .into());
        }
        let size = usize::from(self.status_size);
        if size < 32 && value >> size != 0 {
            return Err(StatusListError::ValueTooWide { value, bits: size }.into());
        }
        let start = index * size;
        for (i, bit) in (start..start + size).enumerate() {
            let on = (value >> (size - 1 - i)) & 1 == 1;
            let mask = 0x80 >> (bit % 8);
            if on {
                self.bytes[bit / 8] |= mask;
            } else {
                self.bytes[bit / 8] &= !mask;
            }
        }
        Ok(())
    }

    /// The `encodedList` value: `u` + base64url(GZIP(bitstring)), no padding.
    pub fn encode(&self) -> String {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        // Writing into a Vec cannot fail.
        let compressed = gz
            .write_all(&self.bytes)
            .and_then(|()| gz.finish())
            .unwrap_or_default();
        let mut out = String::from("u");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(compressed, &mut out);
        out
    }

    /// Decodes an `encodedList`. Rejects lists shorter than the 131,072-entry minimum
    /// (`STATUS_LIST_LENGTH_ERROR`) and inflated sizes above [`MAX_BYTES`].
    pub fn decode(encoded: &str, status_size: u8) -> Result<Self, Error> {
        check_status_size(status_size)?;
        // Multibase `u` is the standard; the StatusList2021 predecessor had no prefix.
        let body = encoded.strip_prefix('u').unwrap_or(encoded);
        let compressed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body.trim_end_matches('='))
            .map_err(|_| StatusListError::NotBase64url)?;
        let mut bytes = Vec::new();
        GzDecoder::new(compressed.as_slice())
            .take(MAX_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(StatusListError::NotGzip)?;
        if bytes.len() > MAX_BYTES {
            return Err(StatusListError::Inflated { limit: MAX_BYTES }.into());
        }
        if bytes.len() * 8 < MIN_BITS {
            return Err(StatusListError::TooShort {
                bits: bytes.len() * 8,
                minimum: MIN_BITS,
            }
            .into());
        }
        Ok(StatusList { bytes, status_size })
    }
}

fn check_status_size(status_size: u8) -> Result<(), Error> {
    if (1..=32).contains(&status_size) {
        Ok(())
    } else {
        Err(StatusListError::StatusSize { size: status_size }.into())
    }
}

/// The purposes the spec defines.
pub const PURPOSES: [&str; 4] = ["revocation", "suspension", "refresh", "message"];

/// An unsigned `BitstringStatusListCredential` holding `list`, ready to be signed.
///
/// See: <https://www.w3.org/TR/vc-bitstring-status-list/#bitstringstatuslistcredential>.
pub fn list_credential(
    id: &str,
    issuer: &str,
    purpose: &str,
    list: &StatusList,
    valid_from: &str,
) -> Value {
    let mut subject = json!({
        "id": format!("{id}#list"),
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": list.encode(),
    });
    if list.status_size() != 1
        && let Some(obj) = subject.as_object_mut()
    {
        obj.insert("statusSize".into(), json!(list.status_size()));
    }
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": subject,
    })
}

/// What an entry's bits say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryStatus {
    /// The entry's purpose (`revocation`, `suspension`, `refresh`, `message`).
    pub purpose: String,
    /// The value of the entry's bits.
    pub value: u32,
    /// For `message` lists, the matching `statusMessage` text.
    pub message: Option<String>,
}

impl EntryStatus {
    /// True when the entry says the credential is revoked or suspended.
    pub fn is_set(&self) -> bool {
        self.value != 0
    }
}

/// Why an entry could not be checked against a list: each maps to one of the spec's errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusFailure {
    /// The entry in the credential is malformed.
    #[error("the credentialStatus entry is malformed: {0}")]
    MalformedEntry(String),
    /// The list credential is malformed.
    #[error("the status list credential is malformed: {0}")]
    MalformedList(String),
    /// The list's purpose differs from the entry's.
    #[error("the entry's statusPurpose is {entry:?} but the list's is {list:?}")]
    PurposeMismatch { entry: String, list: String },
    /// `statusListIndex` is past the end of the list (RANGE_ERROR).
    #[error("statusListIndex {index} is past the end of the {len}-entry list (RANGE_ERROR)")]
    Range { index: usize, len: usize },
}

/// Checks one `BitstringStatusListEntry` against the list credential it names (whose proof the
/// caller checks separately).
pub fn check_entry(entry: &Value, list_credential: &Value) -> Result<EntryStatus, StatusFailure> {
    ParsedList::from_credential(list_credential)?.check(entry)
}

/// A `BitstringStatusListCredential`'s subject, decoded once and reusable for many entries.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedList {
    purposes: Vec<String>,
    list: StatusList,
    messages: Option<Vec<Value>>,
}

impl ParsedList {
    /// Reads and decodes the list of a status list credential.
    pub fn from_credential(list_credential: &Value) -> Result<Self, StatusFailure> {
        let subjects: Vec<&Value> = match list_credential.get("credentialSubject") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => {
                return Err(StatusFailure::MalformedList(
                    "credentialSubject is missing".into(),
                ));
            }
        };
        let subject = subjects
            .into_iter()
            .find(|s| has_type(s, "BitstringStatusList"))
            .ok_or_else(|| {
                StatusFailure::MalformedList(
                    "no credentialSubject of type BitstringStatusList".into(),
                )
            })?;
        let purposes = match subject.get("statusPurpose") {
            Some(Value::String(p)) => vec![p.clone()],
            Some(Value::Array(ps)) => ps
                .iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let status_size =
            read_status_size(subject.get("statusSize")).map_err(StatusFailure::MalformedList)?;
        let encoded = subject
            .get("encodedList")
            .and_then(Value::as_str)
            .ok_or_else(|| StatusFailure::MalformedList("encodedList is missing".into()))?;
        let list = StatusList::decode(encoded, status_size)
            .map_err(|e| StatusFailure::MalformedList(e.to_string()))?;
        Ok(ParsedList {
            purposes,
            list,
            messages: subject
                .get("statusMessage")
                .and_then(Value::as_array)
                .cloned(),
        })
    }

    /// Checks one `BitstringStatusListEntry` against this list.
    pub fn check(&self, entry: &Value) -> Result<EntryStatus, StatusFailure> {
        let field = |name: &str| entry.get(name).and_then(Value::as_str);
        let purpose = field("statusPurpose")
            .ok_or_else(|| StatusFailure::MalformedEntry("statusPurpose is missing".into()))?;
        let index_text = field("statusListIndex")
            .ok_or_else(|| StatusFailure::MalformedEntry("statusListIndex is missing".into()))?;
        let index: usize = index_text
            .parse()
            .ok()
            .filter(|_| index_text.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                StatusFailure::MalformedEntry(format!(
                    "statusListIndex {index_text:?} is not a base-10 integer string"
                ))
            })?;
        let status_size =
            read_status_size(entry.get("statusSize")).map_err(StatusFailure::MalformedEntry)?;
        if !self.purposes.iter().any(|p| p == purpose) {
            return Err(StatusFailure::PurposeMismatch {
                entry: purpose.to_owned(),
                list: self.purposes.join(", "),
            });
        }
        if status_size != self.list.status_size() {
            return Err(StatusFailure::MalformedEntry(format!(
                "statusSize {status_size} differs from the list's {}",
                self.list.status_size()
            )));
        }
        let value = self.list.get(index).ok_or(StatusFailure::Range {
            index,
            len: self.list.len(),
        })?;
        let hex = format!("0x{value:x}");
        let message = entry
            .get("statusMessage")
            .and_then(Value::as_array)
            .or(self.messages.as_ref())
            .and_then(|messages| {
                messages
                    .iter()
                    .find(|m| {
                        m.get("status")
                            .and_then(Value::as_str)
                            .is_some_and(|s| s.eq_ignore_ascii_case(&hex))
                    })
                    .and_then(|m| m.get("message").and_then(Value::as_str))
                    .map(str::to_owned)
            });
        Ok(EntryStatus {
            purpose: purpose.to_owned(),
            value,
            message,
        })
    }
}

fn read_status_size(value: Option<&Value>) -> Result<u8, String> {
    match value {
        None => Ok(1),
        Some(v) => v
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .filter(|n| (1..=32).contains(n))
            .ok_or_else(|| format!("statusSize {v} is not an integer between 1 and 32")),
    }
}

/// True if `value.type` is `name` or a list containing it.
pub(crate) fn has_type(value: &Value, name: &str) -> bool {
    match value.get("type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(ts)) => ts.iter().any(|t| t.as_str() == Some(name)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_list_has_the_minimum_size_and_round_trips() {
        let mut list = StatusList::new(10, 1).unwrap();
        assert_eq!(list.len(), MIN_BITS);
        list.set(0, 1).unwrap();
        list.set(94567, 1).unwrap();
        list.set(MIN_BITS - 1, 1).unwrap();
        let encoded = list.encode();
        assert!(encoded.starts_with("uH4sI"), "{encoded}");
        let back = StatusList::decode(&encoded, 1).unwrap();
        assert_eq!(back, list);
        assert_eq!(back.get(0), Some(1));
        assert_eq!(back.get(1), Some(0));
        assert_eq!(back.get(94567), Some(1));
        assert_eq!(back.get(MIN_BITS - 1), Some(1));
        assert_eq!(back.get(MIN_BITS), None);
        // Index 0 is the most significant bit of byte 0.
        assert_eq!(back.bytes[0], 0x80);
    }

    #[test]
    fn multi_bit_entries() {
        let mut list = StatusList::new(MIN_BITS / 2, 2).unwrap();
        list.set(3, 0b10).unwrap();
        assert_eq!(list.get(3), Some(2));
        assert_eq!(list.bytes[0], 0b0000_0010);
        assert!(list.set(3, 4).is_err());
        assert!(StatusList::new(1, 0).is_err());
    }

    #[test]
    fn short_lists_and_bombs_are_rejected() {
        let short = StatusList {
            bytes: vec![0; 1024],
            status_size: 1,
        };
        let err = StatusList::decode(&short.encode(), 1).unwrap_err();
        assert!(
            err.to_string().contains("STATUS_LIST_LENGTH_ERROR"),
            "{err}"
        );
        let bomb = StatusList {
            bytes: vec![0; MAX_BYTES + 1],
            status_size: 1,
        };
        let err = StatusList::decode(&bomb.encode(), 1).unwrap_err();
        assert!(err.to_string().contains("inflates"), "{err}");
        assert!(
            matches!(err, Error::StatusList(StatusListError::Inflated { .. })),
            "{err:?}"
        );
        let short = StatusList::decode(&short.encode(), 1).unwrap_err();
        assert!(
            matches!(
                short,
                Error::StatusList(StatusListError::TooShort {
                    bits: 8192,
                    minimum: MIN_BITS
                })
            ),
            "{short:?}"
        );
        let not_base64 = StatusList::decode("u!!!", 1).unwrap_err();
        assert!(
            matches!(not_base64, Error::StatusList(StatusListError::NotBase64url)),
            "{not_base64:?}"
        );
        let not_gzip = StatusList::decode("uAAAA", 1).unwrap_err();
        assert!(
            matches!(not_gzip, Error::StatusList(StatusListError::NotGzip(_))),
            "{not_gzip:?}"
        );
        assert_eq!(not_gzip.code(), "status_list");
    }

    #[test]
    fn entry_checks_purpose_range_and_value() {
        let mut list = StatusList::new(MIN_BITS, 1).unwrap();
        list.set(42, 1).unwrap();
        let cred = list_credential(
            "https://example.edu/status/1",
            "did:example:issuer",
            "revocation",
            &list,
            "2024-01-01T00:00:00Z",
        );
        let entry = |idx: &str, purpose: &str| {
            json!({"type": "BitstringStatusListEntry", "statusPurpose": purpose,
                   "statusListIndex": idx,
                   "statusListCredential": "https://example.edu/status/1"})
        };
        assert!(
            check_entry(&entry("42", "revocation"), &cred)
                .unwrap()
                .is_set()
        );
        assert!(
            !check_entry(&entry("41", "revocation"), &cred)
                .unwrap()
                .is_set()
        );
        assert!(matches!(
            check_entry(&entry("42", "suspension"), &cred),
            Err(StatusFailure::PurposeMismatch { .. })
        ));
        assert!(matches!(
            check_entry(&entry("99999999", "revocation"), &cred),
            Err(StatusFailure::Range { .. })
        ));
        assert!(matches!(
            check_entry(&entry("-1", "revocation"), &cred),
            Err(StatusFailure::MalformedEntry(_))
        ));
    }

    #[test]
    fn message_lists_return_the_matching_message() {
        let mut list = StatusList::new(MIN_BITS, 2).unwrap();
        list.set(7, 0b11).unwrap();
        let mut cred = list_credential(
            "https://example.edu/status/m",
            "did:example:issuer",
            "message",
            &list,
            "2024-01-01T00:00:00Z",
        );
        cred["credentialSubject"]["statusMessage"] = json!([
            {"status": "0x0", "message": "pending"},
            {"status": "0x3", "message": "withdrawn by the learner"}
        ]);
        assert_eq!(cred["credentialSubject"]["statusSize"], 2);
        let parsed = ParsedList::from_credential(&cred).unwrap();
        let entry = json!({"type": "BitstringStatusListEntry", "statusPurpose": "message",
                           "statusListIndex": "7", "statusSize": 2,
                           "statusListCredential": "https://example.edu/status/m"});
        let status = parsed.check(&entry).unwrap();
        assert_eq!(status.value, 3);
        assert_eq!(status.message.as_deref(), Some("withdrawn by the learner"));
        // An entry that claims one bit per entry does not match a two-bit list.
        let mut one_bit = entry.clone();
        one_bit["statusSize"] = json!(1);
        assert!(matches!(
            parsed.check(&one_bit),
            Err(StatusFailure::MalformedEntry(_))
        ));
    }
}
