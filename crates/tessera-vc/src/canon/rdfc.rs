//! RDFC-1.0 (SHA-256) with `sophia_c14n`, under limits that reject poison graphs.
//!
//! <https://www.w3.org/TR/rdf-canon/>. The limits bound the work on graphs built to make the
//! N-degree hash explode (rdf-canon test074, "dataset poisoning", spec §A.3).
//!
//! Datasets whose blank nodes all have distinct first-degree hashes (nearly every credential)
//! take the direct route of [`first_degree`]; the others go through `sophia_c14n`.

mod first_degree;

use std::collections::{BTreeMap, HashSet};

use sophia_api::MownStr;
use sophia_api::quad::Spog;
use sophia_api::term::{BnodeId, IriRef, LanguageTag, SimpleTerm};
use sophia_c14n::C14nError;
use sophia_c14n::hash::{Sha256, Sha384};
use sophia_c14n::rdfc10;

use super::quads::{Quad, Term};
use super::{CanonError, RdfcHash};

/// Recursion bound of the N-degree hash, as a multiple of the number of blank nodes
/// (sophia's default; no real credential shape comes near it).
pub const DEPTH_FACTOR: f32 = rdfc10::DEFAULT_DEPTH_FACTOR;
/// Largest set of indistinguishable blank nodes whose permutations are tried (sophia's default).
pub const PERMUTATION_LIMIT: usize = rdfc10::DEFAULT_PERMUTATION_LIMIT;

fn sophia_term(t: &Term) -> SimpleTerm<'_> {
    match t {
        Term::Iri(i) => SimpleTerm::Iri(IriRef::new_unchecked(MownStr::from_ref(i))),
        Term::Blank(b) => SimpleTerm::BlankNode(BnodeId::new_unchecked(MownStr::from_ref(b))),
        Term::Typed { value, datatype } => SimpleTerm::LiteralDatatype(
            MownStr::from_ref(value),
            IriRef::new_unchecked(MownStr::from_ref(datatype)),
        ),
        Term::Lang { value, lang } => SimpleTerm::LiteralLanguage(
            MownStr::from_ref(value),
            LanguageTag::new_unchecked(MownStr::from_ref(lang)),
            None,
        ),
    }
}

fn dataset(quads: &[Quad]) -> HashSet<Spog<SimpleTerm<'_>>> {
    quads
        .iter()
        .map(|q| {
            (
                [sophia_term(&q.s), sophia_term(&q.p), sophia_term(&q.o)],
                q.g.as_ref().map(sophia_term),
            )
        })
        .collect()
}

fn map_err(e: C14nError<std::convert::Infallible>) -> CanonError {
    match e {
        C14nError::ToxicGraph(reason) => CanonError::Poison { reason },
        other => CanonError::Rdfc {
            reason: other.to_string(),
        },
    }
}

/// The RDFC-1.0 (SHA-256) canonical N-Quads of `quads` (duplicates collapse: a dataset is a set).
pub(crate) fn canonical_nquads(quads: &[Quad]) -> Result<String, CanonError> {
    canonical_nquads_with(quads, RdfcHash::Sha256)
}

/// [`canonical_nquads`] with a chosen hash function.
pub(crate) fn canonical_nquads_with(quads: &[Quad], hash: RdfcHash) -> Result<String, CanonError> {
    let direct = match hash {
        RdfcHash::Sha256 => first_degree::canonical_nquads::<sha2::Sha256>(quads),
        RdfcHash::Sha384 => first_degree::canonical_nquads::<sha2::Sha384>(quads),
    };
    match direct {
        Some(out) => Ok(out),
        None => canonical_nquads_full(quads, hash),
    }
}

/// The full RDFC-1.0 algorithm (`sophia_c14n`, N-degree hashes under the poison limits), never
/// the first-degree shortcut: the oracle the shortcut is tested against.
pub(crate) fn canonical_nquads_full(quads: &[Quad], hash: RdfcHash) -> Result<String, CanonError> {
    let ds = dataset(quads);
    let mut out = Vec::with_capacity(quads.len() * 128);
    match hash {
        RdfcHash::Sha256 => {
            rdfc10::normalize_with::<Sha256, _, _>(&ds, &mut out, DEPTH_FACTOR, PERMUTATION_LIMIT)
        }
        RdfcHash::Sha384 => {
            rdfc10::normalize_with::<Sha384, _, _>(&ds, &mut out, DEPTH_FACTOR, PERMUTATION_LIMIT)
        }
    }
    .map_err(map_err)?;
    // sophia writes the lexical forms of valid UTF-8 terms, so this cannot fail; keep it typed.
    String::from_utf8(out).map_err(|e| CanonError::Rdfc {
        reason: e.to_string(),
    })
}

/// The issued identifier map of RDFC-1.0 (input blank node label → canonical label, without
/// `_:`), as the rdf-canon `*-rdfc10map.json` tests expect it.
pub(crate) fn issued_identifiers(
    quads: &[Quad],
    hash: RdfcHash,
) -> Result<BTreeMap<String, String>, CanonError> {
    let direct = match hash {
        RdfcHash::Sha256 => first_degree::issued_identifiers::<sha2::Sha256>(quads),
        RdfcHash::Sha384 => first_degree::issued_identifiers::<sha2::Sha384>(quads),
    };
    if let Some(map) = direct {
        return Ok(map.into_iter().collect());
    }
    let ds = dataset(quads);
    let map = match hash {
        RdfcHash::Sha256 => {
            rdfc10::relabel_with::<Sha256, _>(&ds, DEPTH_FACTOR, PERMUTATION_LIMIT).map(|r| r.1)
        }
        RdfcHash::Sha384 => {
            rdfc10::relabel_with::<Sha384, _>(&ds, DEPTH_FACTOR, PERMUTATION_LIMIT).map(|r| r.1)
        }
    }
    .map_err(map_err)?;
    Ok(map
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_str().to_owned()))
        .collect())
}
