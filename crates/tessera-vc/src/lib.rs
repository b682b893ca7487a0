//! The standards Tessera stands on: JSON-LD contexts (compiled in), expansion to RDF under a strict
//! policy, RDFC-1.0 canonicalization, Data Integrity proofs, keys and DIDs, Bitstring Status Lists,
//! and the verification report. No database, no HTTP server, no clock or RNG it is not given.
//!
//! # Layout
//! - [`contexts`]: the bundled JSON-LD contexts and the offline document loader.
//! - [`canon`]: JSON-LD → RDF (strict) → RDFC-1.0 canonical N-Quads.

pub mod canon;
pub mod contexts;
