//! The general JSON-LD → RDF path: the `json-ld` crate (0.21) with the strict expansion policy,
//! the offline loader, and a cache of processed top-level contexts.
//!
//! This path handles any JSON-LD 1.1 document; it is the oracle the compiled expander is tested
//! against, and its fallback.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, OnceLock, RwLock};
use std::task::{Context as TaskContext, Poll, Waker};

use json_ld::expansion::{Action, Policy};
use json_ld::rdf_types::{self, LiteralType};
use json_ld::syntax::{TryFromJson as _, context::Context as SyntaxContext};
use json_ld::{Expand as _, Id, IriBuf, Process as _, RdfQuads as _, ValidId};
use serde_json::Value;

use super::CanonError;
use super::guard::{self, Needle};
use super::quads::{Quad, Term};
use crate::contexts;

type ActiveContext = json_ld::Context<json_ld::IriBuf, json_ld::BlankIdBuf>;

/// Most distinct `@context` arrays kept processed. Keys are only ever lists of bundled URLs, so a
/// client cannot grow the cache with inline contexts; the cap bounds it anyway.
const CACHE_CAPACITY: usize = 64;

/// The strict ("safe mode") policy: undefined or invalid terms are errors, never dropped.
pub(crate) const STRICT: Policy = Policy {
    invalid: Action::Reject,
    vocab: Action::Keep,
    allow_undefined: false,
};

/// Drive a future that never suspends (all loading is in memory) to completion.
///
/// A `Pending` would mean an await on something external; it is reported, not spun on.
fn block_on<F: Future>(f: F) -> Result<F::Output, CanonError> {
    let mut f = pin!(f);
    let mut cx = TaskContext::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => Ok(v),
        Poll::Pending => Err(CanonError::InvalidJsonLd {
            path: None,
            reason: "JSON-LD processing tried to wait on an external resource".into(),
        }),
    }
}

/// serde_json → json-syntax. Recursion is bounded: `check_limits` ran first.
pub(crate) fn to_syntax(v: &Value) -> json_ld::syntax::Value {
    use json_ld::syntax::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Boolean(*b),
        Value::Number(n) => {
            match json_ld::syntax::NumberBuf::new(n.to_string().into_bytes().into()) {
                Ok(n) => J::Number(n),
                // serde_json only produces valid JSON numbers; keep the lexical form regardless.
                Err(_) => J::String(n.to_string().into()),
            }
        }
        Value::String(s) => J::String(s.as_str().into()),
        Value::Array(a) => J::Array(a.iter().map(to_syntax).collect()),
        Value::Object(o) => {
            let mut obj = json_ld::syntax::Object::new();
            for (k, x) in o {
                obj.push(k.as_str().into(), to_syntax(x));
            }
            J::Object(obj)
        }
    }
}

fn cache() -> &'static RwLock<HashMap<String, Arc<ActiveContext>>> {
    static CACHE: OnceLock<RwLock<HashMap<String, Arc<ActiveContext>>>> = OnceLock::new();
    CACHE.get_or_init(|| RwLock::new(HashMap::new()))
}

/// The cache key of a top-level `@context` made only of bundled URLs, else `None`.
fn cache_key(ctx: &Value) -> Option<String> {
    match ctx {
        Value::String(s) if contexts::bundled(s).is_some() => Some(s.clone()),
        Value::Array(items) => {
            let mut key = String::new();
            for item in items {
                match item {
                    Value::String(s) if contexts::bundled(s).is_some() => {
                        key.push_str(s);
                        key.push('\n');
                    }
                    _ => return None,
                }
            }
            Some(key)
        }
        _ => None,
    }
}

fn context_error(e: json_ld::context_processing::Error) -> CanonError {
    use json_ld::context_processing::Error as E;
    match e {
        E::ContextLoadingFailed(load) => CanonError::UnknownContext {
            url: load.target.to_string(),
        },
        // The crate's message ("Protected term redefinition") names neither the rule nor what to
        // do; say both, since a mix of incompatible contexts is the usual cause.
        E::ProtectedTermRedefinition => CanonError::InvalidJsonLd {
            path: Some("$.@context".into()),
            reason: "invalid context: a context redefines a protected term differently from an \
                     earlier one (are two incompatible contexts, such as VC 1.1 and VC 2.0, listed \
                     together?)"
                .into(),
        },
        other => CanonError::InvalidJsonLd {
            path: Some("$.@context".into()),
            reason: format!("invalid context: {other}"),
        },
    }
}

fn process_context(ctx: &Value) -> Result<ActiveContext, CanonError> {
    if let Some(urls) = bundled_urls(ctx) {
        return process_bundled(&urls);
    }
    process_local(ctx, &ActiveContext::default(), None)
}

/// Context Processing of `local` over `active` (JSON-LD 1.1 API §4.1, default options).
fn process_local(
    local: &Value,
    active: &ActiveContext,
    base: Option<IriBuf>,
) -> Result<ActiveContext, CanonError> {
    let json = to_syntax(local);
    let syntax = SyntaxContext::try_from_json(json).map_err(|e| CanonError::InvalidJsonLd {
        path: Some("$.@context".into()),
        reason: format!("invalid context: {e}"),
    })?;
    let processed = block_on(syntax.process_with(
        &mut (),
        active,
        contexts::loader(),
        base,
        json_ld::context_processing::Options::default(),
    ))?
    .map_err(context_error)?;
    Ok(processed.into_processed())
}

/// The URLs of a top-level `@context` made only of bundled URLs, else `None`.
fn bundled_urls(ctx: &Value) -> Option<Vec<&str>> {
    match ctx {
        Value::String(s) if contexts::bundled(s).is_some() => Some(vec![s.as_str()]),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().filter(|s| contexts::bundled(s).is_some()))
            .collect(),
        _ => None,
    }
}

/// Context Processing of a list of bundled contexts, one after the other as JSON-LD 1.1 does it,
/// with one correction to the `json-ld` crate: JSON-LD 1.1 lets a context redefine a protected
/// term with the same definition ("other than the value of protected", Create Term Definition
/// step 27), and the crate also compares the URL of the context document each definition with a
/// scoped context came from. VC 2.0 with Data Integrity v2 or Bitstring Status List v1 repeat
/// `DataIntegrityProof`, `BitstringStatusListEntry`… that way, and jsonld.js accepts them. Such a
/// repetition is left out of the later context before it is processed, which is exactly what
/// keeping the earlier, identical definition means. Any other redefinition is still refused.
fn process_bundled(urls: &[&str]) -> Result<ActiveContext, CanonError> {
    let mut active = ActiveContext::default();
    for url in urls {
        let redundant = identical_redefinitions(&active, url)?;
        active = if redundant.is_empty() {
            process_local(&Value::String((*url).to_owned()), &active, None)?
        } else {
            let mut local =
                bundled_local_context(url).ok_or_else(|| CanonError::InvalidJsonLd {
                    path: Some("$.@context".into()),
                    reason: format!("the bundled context {url} has no @context object"),
                })?;
            for term in &redundant {
                local.remove(term);
            }
            let base = IriBuf::new((*url).to_owned()).map_err(|_| CanonError::UnknownContext {
                url: (*url).to_owned(),
            })?;
            // The same processing the remote context gets: its own URL as base, no override.
            process_local(&Value::Object(local), &active, Some(base))?
        };
    }
    Ok(active)
}

/// The `@context` object of a bundled context document.
fn bundled_local_context(url: &str) -> Option<serde_json::Map<String, Value>> {
    let text = contexts::bundled(url)?;
    match serde_json::from_str::<Value>(text).ok()? {
        Value::Object(mut doc) => match doc.remove("@context")? {
            Value::Object(local) => Some(local),
            _ => None,
        },
        _ => None,
    }
}

/// The terms `url` defines that are protected in `active` with a definition identical to the
/// one `url` gives them, except for the URL of the document they came from.
fn identical_redefinitions(active: &ActiveContext, url: &str) -> Result<Vec<String>, CanonError> {
    if !active.has_protected_items() {
        return Ok(Vec::new());
    }
    let Some(local) = bundled_local_context(url) else {
        return Ok(Vec::new());
    };
    let alone = active_context(&Value::String(url.to_owned()))?;
    let mut out = Vec::new();
    for term in local.keys().filter(|k| !k.starts_with('@')) {
        let (Some(previous), Some(again)) = (
            active.get_normal(term.as_str()),
            alone.get_normal(term.as_str()),
        ) else {
            continue;
        };
        if !previous.protected || previous.context.is_none() || previous.base_url == again.base_url
        {
            // Nothing for the crate to get wrong: it compares these correctly itself.
            continue;
        }
        let mut same = again.clone();
        same.protected = previous.protected;
        same.base_url = previous.base_url.clone();
        if same == *previous {
            out.push(term.clone());
        }
    }
    Ok(out)
}

/// The processed active context for a top-level `@context` value, cached when cacheable.
fn active_context(ctx: &Value) -> Result<Arc<ActiveContext>, CanonError> {
    let Some(key) = cache_key(ctx) else {
        return process_context(ctx).map(Arc::new);
    };
    if let Ok(map) = cache().read()
        && let Some(active) = map.get(&key)
    {
        return Ok(active.clone());
    }
    let active = Arc::new(process_context(ctx)?);
    if let Ok(mut map) = cache().write()
        && map.len() < CACHE_CAPACITY
    {
        map.insert(key, active.clone());
    }
    Ok(active)
}

fn expansion_error(doc: &Value, e: json_ld::expansion::Error) -> CanonError {
    use json_ld::expansion::Error as E;
    match e {
        E::KeyExpansionFailed(name) => CanonError::SafeMode {
            path: guard::locate(doc, &Needle::Key(&name)).unwrap_or_else(|| "$".into()),
            reason: format!("`{name}` is not defined by any context in use"),
        },
        E::InvalidTypeValue => match guard::locate(doc, &Needle::UndefinedType) {
            Some(path) => CanonError::SafeMode {
                reason: "type is not defined by any context in use".into(),
                path,
            },
            None => CanonError::SafeMode {
                path: "$".into(),
                reason: "invalid or undefined `type` value".into(),
            },
        },
        E::ContextProcessing(c) => context_error(c),
        other => CanonError::InvalidJsonLd {
            path: None,
            reason: other.to_string(),
        },
    }
}

fn id_term(id: &ValidId<json_ld::IriBuf, json_ld::BlankIdBuf>) -> Term {
    match id {
        ValidId::Iri(i) => Term::Iri(i.as_str().to_owned()),
        ValidId::Blank(b) => Term::Blank(b.as_str().trim_start_matches("_:").to_owned()),
    }
}

/// Expand `doc` with the `json-ld` crate under the strict policy and return its RDF quads
/// (blank node labels as generated, not canonical).
pub(crate) fn to_quads(doc: &Value) -> Result<Vec<Quad>, CanonError> {
    let options = json_ld::expansion::Options {
        policy: STRICT,
        ..Default::default()
    };
    let loader = contexts::loader();
    let expanded = match doc {
        Value::Object(o) if o.contains_key("@context") => {
            let active = match o.get("@context") {
                Some(ctx) => active_context(ctx)?,
                None => Arc::new(ActiveContext::default()),
            };
            let mut body = json_ld::syntax::Object::new();
            for (k, x) in o {
                if k != "@context" {
                    body.push(k.as_str().into(), to_syntax(x));
                }
            }
            let body = json_ld::syntax::Value::Object(body);
            block_on(body.expand_full(&mut (), (*active).clone(), None, loader, options, ()))?
        }
        _ => {
            let body = to_syntax(doc);
            block_on(body.expand_full(
                &mut (),
                ActiveContext::default(),
                None,
                loader,
                options,
                (),
            ))?
        }
    }
    .map_err(|e| expansion_error(doc, e))?;

    let mut expanded = expanded;
    let mut generator = rdf_types::generator::Blank::new();
    expanded.relabel_and_canonicalize_with(&mut (), &mut generator);

    // Relative IRI references survive expansion as `Id::Invalid` and are then silently left out
    // of the RDF; in safe mode they are errors.
    for fragment in expanded.traverse() {
        if let Some(Id::Invalid(s)) = fragment.as_id() {
            let s = s.to_owned();
            return Err(CanonError::SafeMode {
                path: guard::locate(doc, &Needle::StringValue(&s)).unwrap_or_else(|| "$".into()),
                reason: format!("`{s}` is not an absolute IRI (relative IRI reference)"),
            });
        }
    }

    let mut out = Vec::new();
    for rdf_types::Quad(s, p, o, g) in expanded.rdf_quads_full(&mut (), &mut generator, None, false)
    {
        let o = match o {
            rdf_types::Term::Id(id) => id_term(&id),
            rdf_types::Term::Literal(lit) => match lit.type_ {
                LiteralType::Any(dt) => Term::Typed {
                    value: lit.value,
                    datatype: dt.as_str().to_owned(),
                },
                LiteralType::LangString(tag) => Term::Lang {
                    value: lit.value,
                    lang: tag.as_str().to_owned(),
                },
            },
        };
        out.push(Quad {
            s: id_term(s.as_ref()),
            p: id_term(p.as_ref()),
            o,
            g: g.map(id_term),
        });
    }
    Ok(out)
}
