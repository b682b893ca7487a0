//! The hash-chained, append-only audit log entry and its verification.
//!
//! Each entry hashes `seq`, the previous entry's hash, its kind, the pseudonymous ids of its
//! subjects, the SHA-256 of its payload and its time. The payload itself (which may hold personal
//! data: names, comments, evidence titles) is stored *beside* the chain and only its digest is
//! hashed, so erasing a learner's personal data deletes payloads without breaking the chain.
//! Subject ids must be opaque ([`SubjectId`] refuses e-mail addresses and names).
//!
//! [`verify_chain`] recomputes every hash and link and names the first entry that was edited,
//! deleted, reordered or inserted. Truncating the newest entries cannot be seen from the rows
//! alone; [`verify_chain_to_head`] checks against a head (seq, hash) kept elsewhere.
//!
//! Canonical bytes (version 1), all integers big-endian:
//! `"tessera-audit-v1\0" ‖ seq:u64 ‖ prev_hash:32 ‖ len:u32 ‖ kind ‖ count:u32 ‖ (len:u32 ‖ subject)* ‖
//! payload_digest:32 ‖ at:i64 (microseconds since the Unix epoch)`.
//! Time is hashed at microsecond precision because that is what PostgreSQL stores.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;

const DOMAIN: &[u8] = b"tessera-audit-v1\0";

/// A SHA-256 value.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// The `prev_hash` of the first entry.
    pub const GENESIS: Hash32 = Hash32([0; 32]);

    /// SHA-256 of some bytes (use for payload digests).
    pub fn of(bytes: &[u8]) -> Hash32 {
        Hash32(Sha256::digest(bytes).into())
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parse lower- or upper-case hex, as stored.
    pub fn from_hex(s: &str) -> Result<Hash32, Error> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| Error::InvalidStoredValue {
            what: "hash",
            value: s.to_owned(),
        })?;
        Ok(Hash32(out))
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Hash32::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Hash32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditKind {
    /// A rubric version was published.
    RubricPublished,
    /// Evidence was submitted.
    EvidenceSubmitted,
    /// A reviewer scored a submission.
    ReviewRecorded,
    /// A second review or moderator decision.
    ReviewModerated,
    /// A teacher overrode an outcome.
    OutcomeOverridden,
    /// A teacher withdrew a mastery.
    MasteryWithdrawn,
    /// A mastery record changed state.
    MasteryChanged,
    /// A credential was issued.
    CredentialIssued,
    /// A credential was revoked.
    CredentialRevoked,
    /// A credential was suspended.
    CredentialSuspended,
    /// A suspended credential was reinstated.
    CredentialReinstated,
    /// A mastery transcript (CLR) was signed.
    TranscriptIssued,
    /// An organisation's issuer key was rotated (or its first key made).
    IssuerKeyRotated,
    /// A learner's personal data was erased (payloads deleted; the chain stays).
    PersonalDataErased,
    /// A review or gating setting changed (moderation share, prerequisite gating).
    SettingChanged,
    /// A teacher let a learner submit before the prerequisites were mastered.
    PrerequisiteExceptionGranted,
    /// A teacher dismissed or overrode a dashboard flag, with a note.
    FlagDecided,
}

impl AuditKind {
    const ALL: [AuditKind; 17] = [
        AuditKind::RubricPublished,
        AuditKind::EvidenceSubmitted,
        AuditKind::ReviewRecorded,
        AuditKind::ReviewModerated,
        AuditKind::OutcomeOverridden,
        AuditKind::MasteryWithdrawn,
        AuditKind::MasteryChanged,
        AuditKind::CredentialIssued,
        AuditKind::CredentialRevoked,
        AuditKind::CredentialSuspended,
        AuditKind::CredentialReinstated,
        AuditKind::TranscriptIssued,
        AuditKind::IssuerKeyRotated,
        AuditKind::PersonalDataErased,
        AuditKind::SettingChanged,
        AuditKind::PrerequisiteExceptionGranted,
        AuditKind::FlagDecided,
    ];

    /// The stored name (part of the hashed bytes: never rename one).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::RubricPublished => "rubric_published",
            AuditKind::EvidenceSubmitted => "evidence_submitted",
            AuditKind::ReviewRecorded => "review_recorded",
            AuditKind::ReviewModerated => "review_moderated",
            AuditKind::OutcomeOverridden => "outcome_overridden",
            AuditKind::MasteryWithdrawn => "mastery_withdrawn",
            AuditKind::MasteryChanged => "mastery_changed",
            AuditKind::CredentialIssued => "credential_issued",
            AuditKind::CredentialRevoked => "credential_revoked",
            AuditKind::CredentialSuspended => "credential_suspended",
            AuditKind::CredentialReinstated => "credential_reinstated",
            AuditKind::TranscriptIssued => "transcript_issued",
            AuditKind::IssuerKeyRotated => "issuer_key_rotated",
            AuditKind::PersonalDataErased => "personal_data_erased",
            AuditKind::SettingChanged => "setting_changed",
            AuditKind::PrerequisiteExceptionGranted => "prerequisite_exception_granted",
            AuditKind::FlagDecided => "flag_decided",
        }
    }
}

impl FromStr for AuditKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        AuditKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::InvalidStoredValue {
                what: "audit kind",
                value: s.to_owned(),
            })
    }
}

/// An opaque pseudonymous id (`learner:7f3a…`, a UUID): 1–128 of `A-Z a-z 0-9 : . _ -`.
/// The character set rules out e-mail addresses and names with spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct SubjectId(String);

impl TryFrom<String> for SubjectId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        SubjectId::parse(&s)
    }
}

impl SubjectId {
    /// Check and wrap an id.
    pub fn parse(s: &str) -> Result<SubjectId, Error> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-'));
        if ok {
            Ok(SubjectId(s.to_owned()))
        } else {
            Err(Error::NotPseudonymous(s.to_owned()))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One audit log row. Build with [`AuditEntry::first`] / [`AuditEntry::next`]; rebuild from
/// storage with [`AuditEntry::from_stored`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1-based, gap-free sequence number.
    pub seq: u64,
    /// Hash of the entry before ([`Hash32::GENESIS`] for seq 1).
    pub prev_hash: Hash32,
    /// What happened.
    pub kind: AuditKind,
    /// Who/what it concerns, by pseudonymous id only.
    pub subjects: Vec<SubjectId>,
    /// SHA-256 of the payload stored beside the chain.
    pub payload_digest: Hash32,
    /// When (truncated to microseconds).
    pub at: DateTime<Utc>,
    /// SHA-256 of the canonical bytes of all the fields above.
    pub hash: Hash32,
}

fn truncate_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn canonical_hash(
    seq: u64,
    prev_hash: &Hash32,
    kind: AuditKind,
    subjects: &[SubjectId],
    payload_digest: &Hash32,
    at: DateTime<Utc>,
) -> Hash32 {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(seq.to_be_bytes());
    h.update(prev_hash.0);
    let kind = kind.as_str().as_bytes();
    // Lengths are bounded (kind names, 128-byte subject ids); the casts cannot truncate.
    h.update((kind.len() as u32).to_be_bytes());
    h.update(kind);
    h.update((subjects.len() as u32).to_be_bytes());
    for s in subjects {
        h.update((s.0.len() as u32).to_be_bytes());
        h.update(s.0.as_bytes());
    }
    h.update(payload_digest.0);
    h.update(at.timestamp_micros().to_be_bytes());
    Hash32(h.finalize().into())
}

impl AuditEntry {
    fn build(
        seq: u64,
        prev_hash: Hash32,
        kind: AuditKind,
        subjects: Vec<SubjectId>,
        payload: &[u8],
        at: DateTime<Utc>,
    ) -> Self {
        let at = truncate_micros(at);
        let payload_digest = Hash32::of(payload);
        let hash = canonical_hash(seq, &prev_hash, kind, &subjects, &payload_digest, at);
        AuditEntry {
            seq,
            prev_hash,
            kind,
            subjects,
            payload_digest,
            at,
            hash,
        }
    }

    /// The first entry of a log.
    pub fn first(
        kind: AuditKind,
        subjects: Vec<SubjectId>,
        payload: &[u8],
        at: DateTime<Utc>,
    ) -> Self {
        AuditEntry::build(1, Hash32::GENESIS, kind, subjects, payload, at)
    }

    /// The entry after `self`.
    pub fn next(
        &self,
        kind: AuditKind,
        subjects: Vec<SubjectId>,
        payload: &[u8],
        at: DateTime<Utc>,
    ) -> Self {
        AuditEntry::build(self.seq + 1, self.hash, kind, subjects, payload, at)
    }

    /// An entry as read back from storage (nothing recomputed; [`verify_chain`] checks it).
    pub fn from_stored(
        seq: u64,
        prev_hash: Hash32,
        kind: AuditKind,
        subjects: Vec<SubjectId>,
        payload_digest: Hash32,
        at: DateTime<Utc>,
        hash: Hash32,
    ) -> Self {
        AuditEntry {
            seq,
            prev_hash,
            kind,
            subjects,
            payload_digest,
            at,
            hash,
        }
    }

    /// The hash the entry's content should have.
    pub fn expected_hash(&self) -> Hash32 {
        canonical_hash(
            self.seq,
            &self.prev_hash,
            self.kind,
            &self.subjects,
            &self.payload_digest,
            self.at,
        )
    }

    /// Whether a stored payload is the one this entry recorded. (An erased payload is simply
    /// absent; that is not a chain break.)
    pub fn payload_matches(&self, payload: &[u8]) -> bool {
        Hash32::of(payload) == self.payload_digest
    }
}

/// What is wrong at the first broken entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainFault {
    /// The entry's content does not match its hash: it was edited.
    Edited,
    /// The entry's hash was recomputed after an edit: the next entry's link no longer matches it.
    /// Reported at the edited entry's seq.
    EditedAndRehashed,
    /// The entry with this seq is missing (deleted).
    Deleted,
    /// The entry at this position has a later seq than expected while the expected one comes
    /// later: rows were reordered.
    Reordered,
    /// A second entry claims this seq: one was inserted.
    Inserted,
    /// The seq-1 entry does not start from the genesis hash.
    BadGenesis,
    /// Entries after the given head, or the head's entry, are missing (truncated).
    Truncated,
}

impl fmt::Display for ChainFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChainFault::Edited => "entry was edited (its content no longer matches its hash)",
            ChainFault::EditedAndRehashed => {
                "entry was edited and rehashed (the next entry's link no longer matches it)"
            }
            ChainFault::Deleted => "entry is missing (deleted)",
            ChainFault::Reordered => "entries are out of order (reordered)",
            ChainFault::Inserted => "a second entry claims this seq (inserted)",
            ChainFault::BadGenesis => "the first entry does not start the chain",
            ChainFault::Truncated => "the newest entries are missing (truncated)",
        })
    }
}

/// The newest entry of a verified chain, to keep outside the database (anchoring).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// Its seq.
    pub seq: u64,
    /// Its hash.
    pub hash: Hash32,
}

fn broken(seq: u64, fault: ChainFault) -> Error {
    Error::ChainBroken { seq, fault }
}

/// Verify a whole log, given in the order storage returns it (by seq). Returns the head
/// (`None` for an empty log) or [`Error::ChainBroken`] naming the first bad seq.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<Option<ChainHead>, Error> {
    let mut prev: Option<&AuditEntry> = None;
    for (expected_seq, (pos, e)) in (1u64..).zip(entries.iter().enumerate()) {
        if e.seq != expected_seq {
            if e.seq < expected_seq {
                // Same seq as an entry already seen right before: a duplicate, i.e. an insertion.
                let fault = if prev.is_some_and(|p| p.seq == e.seq) {
                    ChainFault::Inserted
                } else {
                    ChainFault::Reordered
                };
                return Err(broken(e.seq, fault));
            }
            // A later seq here: reordered if the expected one still comes, else deleted.
            let later = entries[pos + 1..].iter().any(|x| x.seq == expected_seq);
            return Err(if later {
                broken(e.seq, ChainFault::Reordered)
            } else {
                broken(expected_seq, ChainFault::Deleted)
            });
        }
        if e.expected_hash() != e.hash {
            return Err(broken(e.seq, ChainFault::Edited));
        }
        match prev {
            None if e.prev_hash != Hash32::GENESIS => {
                return Err(broken(e.seq, ChainFault::BadGenesis));
            }
            Some(p) if e.prev_hash != p.hash => {
                // e is intact (its own hash covers prev_hash), so p was changed and rehashed.
                return Err(broken(p.seq, ChainFault::EditedAndRehashed));
            }
            _ => {}
        }
        prev = Some(e);
    }
    Ok(prev.map(|p| ChainHead {
        seq: p.seq,
        hash: p.hash,
    }))
}

/// [`verify_chain`], and check that the log still reaches `head` (detects truncation and a
/// rewritten tail).
pub fn verify_chain_to_head(entries: &[AuditEntry], head: &ChainHead) -> Result<ChainHead, Error> {
    let got = verify_chain(entries)?;
    match got {
        Some(g) if g.seq > head.seq => {
            let at = entries.iter().find(|e| e.seq == head.seq);
            match at {
                Some(e) if e.hash == head.hash => Ok(g),
                _ => Err(broken(head.seq, ChainFault::EditedAndRehashed)),
            }
        }
        Some(g) if g.seq == head.seq && g.hash == head.hash => Ok(g),
        Some(g) if g.seq == head.seq => Err(broken(g.seq, ChainFault::EditedAndRehashed)),
        Some(g) => Err(broken(g.seq + 1, ChainFault::Truncated)),
        None => Err(broken(1, ChainFault::Truncated)),
    }
}
