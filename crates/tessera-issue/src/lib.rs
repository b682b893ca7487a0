//! Issuing, as pure functions: the Open Badges 3.0 `AchievementCredential` for a mastered
//! competency, its signatures, the Bitstring Status List credentials, the issuer's DID document,
//! and the sealing of issuer keys under the master key. No database, no HTTP, no clock or
//! randomness it is not given: the service (`tessera-server`) and the CLI call in with plain values.
//!
//! # Layout
//! - [`sealing`]: the master key and XChaCha20-Poly1305 sealing of issuer secrets.
//! - [`did`]: did:web from the public URL, verification method ids, the DID document.
//! - [`context`]: Tessera's JSON-LD context (compiled into `tessera-vc`) and its `digestSRI`.
//! - [`achievement`]: the credential, built from the record, the registry item and the rubric.
//! - [`status`]: status entries and the signed `BitstringStatusListCredential`.
//! - [`sign`]: signing a built credential into the exact bytes that are stored.

pub mod achievement;
pub mod context;
pub mod did;
pub mod error;
pub mod sealing;
pub mod sign;
pub mod status;

pub use error::Error;
/// The credential core, re-exported so that callers sign and verify with the same version.
pub use tessera_vc;
