//! The standards Tessera stands on: JSON-LD contexts (compiled in), expansion to RDF under a strict
//! policy, RDFC-1.0 canonicalization, Data Integrity proofs, keys and DIDs, Bitstring Status Lists,
//! and the verification report. No database, no HTTP server, no clock or RNG it is not given.
//!
//! # Layout
//! - [`contexts`]: the bundled JSON-LD contexts and the offline document loader.
//! - [`canon`]: JSON-LD → RDF (strict) → RDFC-1.0 canonical N-Quads.
//! - [`keys`]: Ed25519 key pairs, Multikey encodings (`z6Mk…`, `z3u2…`).
//! - [`did`]: did:key, controller documents (did:web, https) and the offline key resolver.
//! - [`proof`]: Data Integrity proofs — `eddsa-rdfc-2022`, `eddsa-jcs-2022` (sign and verify),
//!   `Ed25519Signature2020` (verify); proof sets and chains.
//! - [`status_list`]: Bitstring Status List encoding and entry checks.
//! - [`shape`]: VC 2.0 / 1.1, Open Badges 3.0 and CLR 2.0 structural rules.
//! - [`verify`]: the whole verification, producing a [`report::VerificationReport`].
//! - [`datetime`]: XSD date-time parsing.
//!
//! # Issuing and verifying
//! ```ignore
//! let key = tessera_vc::keys::KeyPair::from_seed(seed);
//! let options = tessera_vc::proof::ProofOptions::new(
//!     tessera_vc::proof::Cryptosuite::EddsaRdfc2022, vm_id, Some(created));
//! let signed = tessera_vc::proof::sign(&credential, &key, &options)?;
//! let report = tessera_vc::verify::verify(&signed, &tessera_vc::verify::VerifyOptions::new(now))?;
//! assert!(report.verified);
//! ```

pub mod canon;
pub mod contexts;
pub mod datetime;
pub mod did;
pub mod error;
pub mod keys;
pub mod proof;
pub mod report;
pub mod shape;
pub mod status_list;
pub mod verify;

pub use error::{
    DidError, Error, KeyError, PreviousProofError, ProofOptionError, ProofSuiteError,
    StatusListError,
};
pub use report::{Check, CheckCode, CheckStatus, VerificationReport};
pub use verify::{VerifyOptions, verify, verify_bytes};
