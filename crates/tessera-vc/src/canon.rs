//! JSON-LD → RDF under the strict policy → RDFC-1.0 canonical N-Quads.
//!
//! - JSON-LD 1.1 to RDF: <https://www.w3.org/TR/json-ld11-api/#rdf-serialization-deserialization-algorithms>
//! - RDFC-1.0: <https://www.w3.org/TR/rdf-canon/>
//!
//! "Strict" (safe mode, as `eddsa-rdfc-2022` requires of a signer): a term no context defines, a
//! value the expansion would drop, or a relative IRI is an error naming its JSON path, because
//! whatever is dropped is not signed and could be forged. Only bundled contexts are used
//! ([`crate::contexts`]); any other URL is [`CanonError::UnknownContext`].
//!
//! Bad input costs bounded time and memory: [`Limits`] are checked by an iterative walk before
//! anything recursive runs, and RDFC-1.0 runs with poison-graph limits.
//!
//! Two expansion paths give the same quads:
//! - the **compiled expander** (`compiled`): for documents whose contexts are all bundled, term
//!   definitions and scoped contexts are processed once and shared, and expansion is one walk over
//!   the `serde_json::Value` emitting quads (about 30 µs for the 1EdTech OB 3.0 credential,
//!   canonicalization included, against about 1 ms for the general path). It declines
//!   ("unsupported") anything it does not model exactly: doubles, blank node identifiers, inline
//!   contexts, `@reverse`/`@nest`/`@index`/language maps, `@json` literals…
//! - the **general path** (`general`): the `json-ld` crate under the strict policy, used for
//!   whatever the compiled expander declines, and the oracle of the differential tests
//!   (`tests/canon_differential.rs`). When the compiled walk rejects a document in safe mode, the
//!   general path confirms the rejection (so acceptance never differs between the two), and the
//!   compiled walk's exact JSON path is reported.
//!
//! All functions are thread-safe; the context caches are shared behind locks.

mod compiled;
mod general;
mod guard;
mod quads;
mod rdfc;

pub use rdfc::{DEPTH_FACTOR, PERMUTATION_LIMIT};

use std::collections::BTreeMap;

use serde_json::Value;

/// Default largest accepted document, as estimated serialised JSON bytes.
///
/// A CLR transcript embedding a hundred OB credentials is about 1.5 MB; 8 MiB leaves room while
/// keeping a hostile document's cost to a few hundred milliseconds.
pub const MAX_DOCUMENT_BYTES: usize = 8 * 1024 * 1024;

/// Default deepest accepted JSON nesting (objects and arrays). Real credentials stay under 25;
/// the bound keeps the recursive JSON-LD expansion far from the thread's stack limit.
pub const MAX_DEPTH: usize = 64;

/// The deepest nesting any [`Limits`] can allow: larger `max_depth` values are clamped to it, so
/// the worker stack stays a sane reservation.
pub const HARD_MAX_DEPTH: usize = 512;

/// Input limits for [`canonicalize_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest document, as estimated serialised JSON bytes.
    pub max_bytes: usize,
    /// Deepest JSON nesting (clamped to [`HARD_MAX_DEPTH`]).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: MAX_DOCUMENT_BYTES,
            max_depth: MAX_DEPTH,
        }
    }
}

/// Why a document could not be canonicalized. (Never "it did not verify": that is a verdict.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CanonError {
    /// A context URL that is not bundled; nothing is fetched.
    #[error("unknown JSON-LD context `{url}`: only bundled contexts are used (no network)")]
    UnknownContext { url: String },

    /// Safe mode: an undefined term, a dropped value or a relative IRI, at `path`.
    #[error("safe mode: {reason} (at {path})")]
    SafeMode { path: String, reason: String },

    /// Not valid JSON-LD.
    #[error("invalid JSON-LD{}: {reason}", path.as_ref().map(|p| format!(" at {p}")).unwrap_or_default())]
    InvalidJsonLd {
        path: Option<String>,
        reason: String,
    },

    /// The document is larger than the limit.
    #[error("document too large: over {limit} bytes")]
    TooLarge { limit: usize },

    /// The document nests deeper than the limit.
    #[error("document nested too deeply: over {limit} levels")]
    TooDeep { limit: usize },

    /// RDFC-1.0 gave up: the graph is built to make canonicalization explode (dataset poisoning).
    #[error("RDFC-1.0 refused a poison graph: {reason}")]
    Poison { reason: String },

    /// Another RDFC-1.0 failure.
    #[error("RDFC-1.0 failed: {reason}")]
    Rdfc { reason: String },

    /// The machine could not provide what processing needs (for example a worker thread).
    #[error("out of resources: {reason}")]
    Resources { reason: String },

    /// Input N-Quads that do not parse.
    #[error("invalid N-Quads at line {line}: {reason}")]
    InvalidNQuads { line: usize, reason: String },
}

/// The RDFC-1.0 (SHA-256) canonical N-Quads of a JSON-LD document, in safe mode, offline.
pub fn canonicalize(doc: &Value) -> Result<String, CanonError> {
    canonicalize_with(doc, &Limits::default())
}

/// [`canonicalize`] with explicit input limits.
pub fn canonicalize_with(doc: &Value, limits: &Limits) -> Result<String, CanonError> {
    let quads = to_quads(doc, limits)?;
    rdfc::canonical_nquads(&quads)
}

/// [`canonicalize`] forced through the general `json-ld` path (never the compiled expander): the
/// oracle of the differential tests, and the baseline of the benches.
pub fn canonicalize_general(doc: &Value) -> Result<String, CanonError> {
    let limits = Limits::default();
    guard::check_limits(doc, &limits)?;
    guard::check_shape(doc)?;
    guard::check_reserved_keys(doc)?;
    guard::check_contexts(doc)?;
    let quads = nonempty(general_on_big_stack(doc, &limits)?)?;
    rdfc::canonical_nquads(&quads)
}

/// The compiled expander alone: `Ok(None)` when the document uses something it does not model
/// (then [`canonicalize`] uses the general path). For differential tests and diagnostics; an
/// application calls [`canonicalize`].
pub fn canonicalize_compiled(doc: &Value) -> Result<Option<String>, CanonError> {
    let limits = Limits::default();
    guard::check_limits(doc, &limits)?;
    guard::check_shape(doc)?;
    guard::check_reserved_keys(doc)?;
    guard::check_contexts(doc)?;
    match compiled::expand(doc) {
        compiled::Outcome::Quads(quads) => rdfc::canonical_nquads(&nonempty(quads)?).map(Some),
        compiled::Outcome::Unsupported(_) => Ok(None),
        compiled::Outcome::SafeMode { path, reason } => Err(CanonError::SafeMode { path, reason }),
    }
}

/// Why the compiled expander does not handle `doc` (`None`: it does). Diagnostics only.
pub fn compiled_unsupported_reason(doc: &Value) -> Option<&'static str> {
    match compiled::expand(doc) {
        compiled::Outcome::Unsupported(why) => Some(why),
        _ => None,
    }
}

/// The document's RDF as N-Quads, before canonicalization (blank node labels as generated, quads
/// in generation order): for diagnostics and differential tests.
pub fn to_nquads(doc: &Value) -> Result<String, CanonError> {
    let quads = to_quads(doc, &Limits::default())?;
    Ok(quads::to_nquads_string(&quads))
}

/// The hash function RDFC-1.0 runs with. SHA-256 is the default and the one `eddsa-rdfc-2022`
/// uses; SHA-384 is the spec's other named option (rdf-canon test075).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RdfcHash {
    /// SHA-256 (the default).
    #[default]
    Sha256,
    /// SHA-384.
    Sha384,
}

/// RDFC-1.0 (SHA-256) canonical form of an N-Quads document.
pub fn canonicalize_nquads(nquads: &str) -> Result<String, CanonError> {
    canonicalize_nquads_with(nquads, RdfcHash::Sha256)
}

/// RDFC-1.0 canonical form of an N-Quads document, with the given hash function.
pub fn canonicalize_nquads_with(nquads: &str, hash: RdfcHash) -> Result<String, CanonError> {
    let quads = parse_bounded(nquads)?;
    rdfc::canonical_nquads_with(&quads, hash)
}

/// [`canonicalize_nquads_with`] through the full RDFC-1.0 algorithm only (N-degree hashes for
/// every dataset, never the first-degree shortcut): the oracle of the shortcut's tests.
pub fn canonicalize_nquads_full(nquads: &str, hash: RdfcHash) -> Result<String, CanonError> {
    let quads = parse_bounded(nquads)?;
    rdfc::canonical_nquads_full(&quads, hash)
}

/// The RDFC-1.0 issued identifier map of an N-Quads document: input blank node label →
/// canonical label (both without `_:`).
pub fn issued_identifiers(
    nquads: &str,
    hash: RdfcHash,
) -> Result<BTreeMap<String, String>, CanonError> {
    let quads = parse_bounded(nquads)?;
    rdfc::issued_identifiers(&quads, hash)
}

fn parse_bounded(nquads: &str) -> Result<Vec<quads::Quad>, CanonError> {
    if nquads.len() > MAX_DOCUMENT_BYTES {
        return Err(CanonError::TooLarge {
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    quads::parse_nquads(nquads)
}

/// Stack reserved per level of JSON nesting for the general path. The `json-ld` crate's
/// expansion recurses through large async frames: measured at about 250 KiB per nested node
/// object (16 levels overflow a default 2 MiB thread stack), so this leaves a 4× margin.
const STACK_PER_LEVEL: usize = 1024 * 1024;

/// Limits, bundled contexts only, then JSON-LD → quads.
fn to_quads(doc: &Value, limits: &Limits) -> Result<Vec<quads::Quad>, CanonError> {
    guard::check_limits(doc, limits)?;
    guard::check_shape(doc)?;
    guard::check_reserved_keys(doc)?;
    guard::check_contexts(doc)?;
    let quads = match compiled::expand(doc) {
        compiled::Outcome::Quads(quads) => quads,
        compiled::Outcome::Unsupported(_) => general_on_big_stack(doc, limits)?,
        compiled::Outcome::SafeMode { path, reason } => {
            // The compiled walk names the exact path; the general path confirms the rejection,
            // so the two can never disagree on whether a document is accepted.
            match general_on_big_stack(doc, limits) {
                Ok(quads) => quads,
                Err(_) => return Err(CanonError::SafeMode { path, reason }),
            }
        }
    };
    nonempty(quads)
}

fn nonempty(quads: Vec<quads::Quad>) -> Result<Vec<quads::Quad>, CanonError> {
    if quads.is_empty() {
        // Everything in the document was dropped by expansion (for example a lone `id`, or only
        // free-floating values): signing it would sign nothing.
        return Err(CanonError::SafeMode {
            path: "$".into(),
            reason: "the document expands to no RDF statements: all of its content is dropped"
                .into(),
        });
    }
    Ok(quads)
}

/// Run the general path on a scoped thread whose stack fits `limits.max_depth` levels, so a
/// deep (but accepted) document cannot overflow the caller's stack, whatever thread it is on
/// (rayon and tokio blocking threads have 2 MiB). The stack is reserved, not committed, so the
/// cost is one thread spawn (tens of µs against about a millisecond of expansion). A panic inside
/// the JSON-LD library is contained and reported instead of unwinding into the caller.
fn general_on_big_stack(doc: &Value, limits: &Limits) -> Result<Vec<quads::Quad>, CanonError> {
    let stack = limits
        .max_depth
        .min(HARD_MAX_DEPTH)
        .saturating_add(16)
        .saturating_mul(STACK_PER_LEVEL);
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("tessera-jsonld".into())
            .stack_size(stack)
            .spawn_scoped(scope, || general::to_quads(doc))
            .map_err(|e| CanonError::Resources {
                reason: format!("could not start the JSON-LD worker thread: {e}"),
            })?;
        worker.join().unwrap_or_else(|_| {
            Err(CanonError::InvalidJsonLd {
                path: None,
                reason: "the JSON-LD processor failed on this document (internal panic)".into(),
            })
        })
    })
}
