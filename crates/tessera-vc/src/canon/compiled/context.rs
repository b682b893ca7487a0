//! Compiled active contexts: the bundled contexts processed once into immutable, shared term
//! tables; scoped contexts (type- and property-scoped) applied once per (context, scope) pair and
//! memoised, instead of deep-cloned for every node as the general path does.
//!
//! Implements the subset of JSON-LD 1.1 Context Processing
//! (<https://www.w3.org/TR/json-ld11-api/#context-processing-algorithms>) the bundled contexts
//! use. Anything else marks the term (or the whole context) unsupported, and a document that
//! touches it goes to the general path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use serde_json::{Map, Value};

use super::Unsupported;
use crate::contexts;

/// A processed term definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TermDef {
    /// IRI mapping, or a keyword (`@id`, `@type`) for an alias. `None`: explicitly null.
    pub iri: Option<String>,
    /// Usable as the prefix of a compact IRI.
    pub prefix: bool,
    pub protected: bool,
    /// `@type` mapping: `@id`, `@vocab`, `@json`, `@none` or a datatype IRI.
    pub type_mapping: Option<String>,
    pub container: Container,
    /// The scoped context (`@context` of the definition), a bundled JSON value.
    pub context: Option<&'static Value>,
    /// URL of the context document the definition appears in, recorded (as the `json-ld` crate
    /// does) only for definitions with a scoped context. It would resolve relative context
    /// references in the scoped context; this expander only follows bundled absolute URLs, so it
    /// never changes a meaning, and the protected-term check ignores it.
    pub base: Option<&'static str>,
    /// The definition uses a feature the compiled expander does not implement.
    pub unsupported: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Container {
    #[default]
    None,
    Set,
    List,
    Graph,
}

/// An active context. Immutable once built; shared through `Arc`.
#[derive(Debug)]
pub(crate) struct ActiveContext {
    id: u64,
    pub terms: HashMap<String, Arc<TermDef>>,
    pub vocab: Option<String>,
    /// Set by a non-propagated (type-scoped) context: what nested node objects revert to.
    pub previous: Option<Arc<ActiveContext>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

impl ActiveContext {
    fn empty() -> Self {
        Self {
            id: next_id(),
            terms: HashMap::new(),
            vocab: None,
            previous: None,
        }
    }

    fn derive(base: &Arc<ActiveContext>) -> Self {
        Self {
            id: next_id(),
            terms: base.terms.clone(),
            vocab: base.vocab.clone(),
            previous: base.previous.clone(),
        }
    }
}

/// The bundled contexts parsed once (URL, `@context` value); the addresses of these values
/// identify scoped contexts.
fn parsed(url: &str) -> Option<(&'static str, &'static Value)> {
    static PARSED: OnceLock<HashMap<&'static str, Value>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            contexts::CONTEXTS
                .iter()
                .filter_map(|(u, _, _)| {
                    let text = contexts::bundled(u)?;
                    let v: Value = serde_json::from_str(text).ok()?;
                    Some((*u, v))
                })
                .collect()
        })
        .get_key_value(url)
        .and_then(|(u, v)| Some((*u, v.get("@context")?)))
}

/// Most memoised context applications kept. Keys are (context id, bundled scope address), both
/// drawn from the finite bundled set, so this is a backstop only.
const MEMO_CAPACITY: usize = 4096;

type MemoKey = (u64, usize, bool, bool);

fn memo() -> &'static RwLock<HashMap<MemoKey, Arc<ActiveContext>>> {
    static MEMO: OnceLock<RwLock<HashMap<MemoKey, Arc<ActiveContext>>>> = OnceLock::new();
    MEMO.get_or_init(|| RwLock::new(HashMap::new()))
}

fn top_memo() -> &'static RwLock<HashMap<String, Arc<ActiveContext>>> {
    static TOP: OnceLock<RwLock<HashMap<String, Arc<ActiveContext>>>> = OnceLock::new();
    TOP.get_or_init(|| RwLock::new(HashMap::new()))
}

fn initial() -> &'static Arc<ActiveContext> {
    static INITIAL: OnceLock<Arc<ActiveContext>> = OnceLock::new();
    INITIAL.get_or_init(|| Arc::new(ActiveContext::empty()))
}

/// The active context for a top-level `@context` made of bundled URLs only.
pub(crate) fn top_level(ctx: &Value) -> Result<Arc<ActiveContext>, Unsupported> {
    let urls: Vec<&str> = match ctx {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a
            .iter()
            .map(|v| v.as_str().ok_or(Unsupported("inline context")))
            .collect::<Result<_, _>>()?,
        _ => return Err(Unsupported("inline context")),
    };
    let key = urls.join("\n");
    if let Ok(m) = top_memo().read()
        && let Some(c) = m.get(&key)
    {
        return Ok(c.clone());
    }
    let mut active = initial().clone();
    for url in &urls {
        let (base, local) = parsed(url).ok_or(Unsupported("context not bundled"))?;
        active = apply(&active, local, Some(base), true, false)?;
    }
    if let Ok(mut m) = top_memo().write()
        && m.len() < MEMO_CAPACITY
    {
        m.insert(key, active.clone());
    }
    Ok(active)
}

/// Apply a bundled local context (`local` is a value inside a bundled file) to `active`,
/// memoised by (active, local).
pub(crate) fn apply(
    active: &Arc<ActiveContext>,
    local: &'static Value,
    base: Option<&'static str>,
    propagate: bool,
    override_protected: bool,
) -> Result<Arc<ActiveContext>, Unsupported> {
    let key = (
        active.id,
        local as *const Value as usize,
        propagate,
        override_protected,
    );
    if let Ok(m) = memo().read()
        && let Some(c) = m.get(&key)
    {
        return Ok(c.clone());
    }
    let result = Arc::new(process(
        active,
        local,
        base,
        propagate,
        override_protected,
        0,
    )?);
    if let Ok(mut m) = memo().write()
        && m.len() < MEMO_CAPACITY
    {
        m.insert(key, result.clone());
    }
    Ok(result)
}

/// Apply a bundled context URL (an embedded `@context` of a nested node), memoised.
pub(crate) fn apply_url(
    active: &Arc<ActiveContext>,
    url: &str,
) -> Result<Arc<ActiveContext>, Unsupported> {
    let (base, local) = parsed(url).ok_or(Unsupported("context not bundled"))?;
    apply(active, local, Some(base), true, false)
}

/// Remote contexts may reference others; the bundled set is finite, so this only guards cycles.
const MAX_REMOTE_NESTING: usize = 8;

fn process(
    active: &Arc<ActiveContext>,
    local: &'static Value,
    base: Option<&'static str>,
    propagate: bool,
    override_protected: bool,
    nesting: usize,
) -> Result<ActiveContext, Unsupported> {
    let mut result = ActiveContext::derive(active);
    if !propagate && result.previous.is_none() {
        result.previous = Some(active.clone());
    }
    let items: Vec<&'static Value> = match local {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    for item in items {
        match item {
            Value::String(url) => {
                if nesting >= MAX_REMOTE_NESTING {
                    return Err(Unsupported("context nesting"));
                }
                let (url, remote) = parsed(url).ok_or(Unsupported("context not bundled"))?;
                let current = Arc::new(result);
                result = process(
                    &current,
                    remote,
                    Some(url),
                    true,
                    override_protected,
                    nesting + 1,
                )?;
                // `process` derived from `current`, keep the non-propagation marker of this call.
                if !propagate && result.previous.is_none() {
                    result.previous = Some(active.clone());
                }
            }
            Value::Object(map) => process_object(&mut result, map, base, override_protected)?,
            Value::Null => {
                // Context Processing 5.1: reset, unless that would drop protected terms.
                if !override_protected && result.terms.values().any(|d| d.protected) {
                    return Err(Unsupported("null context over protected terms"));
                }
                let previous = result.previous.take();
                result = ActiveContext::empty();
                result.previous = previous;
                if !propagate && result.previous.is_none() {
                    result.previous = Some(active.clone());
                }
            }
            _ => return Err(Unsupported("invalid context entry")),
        }
    }
    Ok(result)
}

fn process_object(
    result: &mut ActiveContext,
    map: &'static Map<String, Value>,
    base: Option<&'static str>,
    override_protected: bool,
) -> Result<(), Unsupported> {
    let mut protected_default = false;
    for (k, v) in map {
        match k.as_str() {
            "@version" if v.as_f64() != Some(1.1) => return Err(Unsupported("@version")),
            "@version" => {}
            "@protected" => protected_default = v.as_bool().ok_or(Unsupported("@protected"))?,
            "@vocab" => match v {
                Value::Null => result.vocab = None,
                Value::String(s) if is_absolute_iri(s) => result.vocab = Some(s.clone()),
                _ => return Err(Unsupported("@vocab form")),
            },
            k if k.starts_with('@') => return Err(Unsupported("context keyword")),
            _ => {}
        }
    }
    let mut state = DefState {
        local: map,
        defined: HashMap::new(),
        protected_default,
        override_protected,
        base,
    };
    for k in map.keys() {
        if !k.starts_with('@') {
            define(result, &mut state, k)?;
        }
    }
    Ok(())
}

struct DefState {
    local: &'static Map<String, Value>,
    /// term → true when defined, false while being defined (cycle detection).
    defined: HashMap<&'static str, bool>,
    protected_default: bool,
    override_protected: bool,
    base: Option<&'static str>,
}

const KEYWORDS: &[&str] = &[
    "@base",
    "@container",
    "@context",
    "@direction",
    "@graph",
    "@id",
    "@import",
    "@included",
    "@index",
    "@json",
    "@language",
    "@list",
    "@nest",
    "@none",
    "@prefix",
    "@propagate",
    "@protected",
    "@reverse",
    "@set",
    "@type",
    "@value",
    "@version",
    "@vocab",
];

pub(crate) fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// An absolute IRI, exactly as the `json-ld` crate's IRI parser accepts it.
pub(crate) fn is_absolute_iri(s: &str) -> bool {
    json_ld::Iri::new(s).is_ok()
}

fn gen_delim(s: &str) -> bool {
    matches!(
        s.as_bytes().last(),
        Some(b':' | b'/' | b'?' | b'#' | b'[' | b']' | b'@')
    )
}

/// Create Term Definition (JSON-LD 1.1 API §4.2), supported subset.
fn define(
    result: &mut ActiveContext,
    state: &mut DefState,
    term: &'static str,
) -> Result<(), Unsupported> {
    match state.defined.get(term) {
        Some(true) => return Ok(()),
        Some(false) => return Err(Unsupported("cyclic term definition")),
        None => {}
    }
    state.defined.insert(term, false);
    let value = state.local.get(term).ok_or(Unsupported("missing term"))?;
    let previous = result.terms.get(term).cloned();

    let mut def = TermDef {
        iri: None,
        prefix: false,
        protected: state.protected_default,
        type_mapping: None,
        container: Container::None,
        context: None,
        base: None,
        unsupported: None,
    };
    let (map, simple): (Option<&'static Map<String, Value>>, bool) = match value {
        Value::Null => (None, false),
        Value::String(_) => (None, true),
        Value::Object(m) => (Some(m), false),
        _ => return Err(Unsupported("term definition form")),
    };
    let id_value: Option<&'static Value> = match value {
        Value::String(_) => Some(value),
        Value::Object(m) => m.get("@id"),
        _ => None,
    };
    let explicit_null = matches!(value, Value::Null)
        || matches!(id_value, Some(Value::Null)) && map.is_some_and(|m| m.contains_key("@id"));

    if let Some(m) = map {
        for (k, v) in m {
            match k.as_str() {
                "@id" | "@context" => {}
                "@protected" => def.protected = v.as_bool().ok_or(Unsupported("@protected"))?,
                "@prefix" => def.prefix = v.as_bool().ok_or(Unsupported("@prefix"))?,
                "@type" => {
                    let t = v.as_str().ok_or(Unsupported("@type form"))?;
                    let expanded = expand_in_context(result, state, t, true)?
                        .ok_or(Unsupported("@type mapping"))?;
                    if !(matches!(expanded.as_str(), "@id" | "@vocab" | "@json" | "@none")
                        || is_absolute_iri(&expanded))
                    {
                        return Err(Unsupported("@type mapping"));
                    }
                    def.type_mapping = Some(expanded);
                }
                "@container" => {
                    def.container = match v.as_str() {
                        Some("@set") => Container::Set,
                        Some("@list") => Container::List,
                        Some("@graph") => Container::Graph,
                        _ => {
                            def.unsupported = Some("container");
                            Container::None
                        }
                    }
                }
                "@reverse" | "@language" | "@direction" | "@index" | "@nest" => {
                    def.unsupported = Some("term definition keyword");
                }
                _ => return Err(Unsupported("term definition keyword")),
            }
        }
        if let Some(c) = m.get("@context") {
            def.context = Some(c);
            def.base = state.base;
        }
    }

    if explicit_null {
        def.iri = None;
    } else if let Some(Value::String(id)) = id_value.filter(|v| v.as_str() != Some(term)) {
        if is_keyword(id) {
            if !matches!(id.as_str(), "@id" | "@type") {
                def.unsupported = Some("keyword alias");
            }
            def.iri = Some(id.clone());
        } else {
            let expanded =
                expand_in_context(result, state, id, true)?.ok_or(Unsupported("term IRI"))?;
            if !is_absolute_iri(&expanded) {
                return Err(Unsupported("term IRI"));
            }
            if term.contains(':') || term.contains('/') {
                // A term that looks like an IRI must expand to itself; leave it to the oracle.
                def.unsupported = Some("IRI-like term");
            }
            if simple && !term.contains(':') && !term.contains('/') && gen_delim(&expanded) {
                def.prefix = true;
            }
            def.iri = Some(expanded);
        }
    } else if id_value.is_some() && !matches!(id_value, Some(Value::String(_))) {
        return Err(Unsupported("@id form"));
    } else if let Some((prefix, suffix)) = term.split_once(':').filter(|(p, _)| !p.is_empty()) {
        if state.local.contains_key(prefix) {
            define(result, state, leak_key(state.local, prefix)?)?;
        }
        match result.terms.get(prefix).and_then(|d| d.iri.clone()) {
            Some(p) => def.iri = Some(format!("{p}{suffix}")),
            None if is_absolute_iri(term) => def.iri = Some(term.to_owned()),
            None => return Err(Unsupported("term IRI")),
        }
    } else if term.contains('/') {
        return Err(Unsupported("relative term"));
    } else if term == "@type" {
        return Err(Unsupported("@type term"));
    } else if let Some(vocab) = &result.vocab {
        def.iri = Some(format!("{vocab}{term}"));
    } else {
        return Err(Unsupported("term without IRI"));
    }

    if let Some(prev) = previous
        && prev.protected
        && !state.override_protected
    {
        // JSON-LD 1.1 (Create Term Definition, step 27): a protected term may be redefined with
        // the same definition, "other than the value of protected". The VC 2.0 context and the
        // Data Integrity / status list contexts repeat such definitions (with scoped contexts),
        // so the document URL they come from does not make them different either.
        let same = TermDef {
            protected: prev.protected,
            base: prev.base,
            ..def.clone()
        } == *prev;
        if !same {
            // A protected term redefinition is an error in JSON-LD; let the oracle report it.
            return Err(Unsupported("protected term redefinition"));
        }
        state.defined.insert(term, true);
        return Ok(());
    }
    result.terms.insert(term.to_owned(), Arc::new(def));
    state.defined.insert(term, true);
    Ok(())
}

fn leak_key(map: &'static Map<String, Value>, key: &str) -> Result<&'static str, Unsupported> {
    map.keys()
        .find(|k| k.as_str() == key)
        .map(String::as_str)
        .ok_or(Unsupported("missing term"))
}

/// IRI expansion during context processing: defines local dependencies first.
fn expand_in_context(
    result: &mut ActiveContext,
    state: &mut DefState,
    value: &str,
    vocab: bool,
) -> Result<Option<String>, Unsupported> {
    if is_keyword(value) {
        return Ok(Some(value.to_owned()));
    }
    if value.starts_with('@') {
        return Err(Unsupported("keyword-like value"));
    }
    if state.local.contains_key(value) && state.defined.get(value) != Some(&true) {
        define(result, state, leak_key(state.local, value)?)?;
    }
    if vocab && let Some(d) = result.terms.get(value) {
        return Ok(d.iri.clone());
    }
    if let Some((prefix, suffix)) = value.split_once(':').filter(|(p, _)| !p.is_empty()) {
        if prefix == "_" || suffix.starts_with("//") {
            return Ok(Some(value.to_owned()));
        }
        if state.local.contains_key(prefix) && state.defined.get(prefix) != Some(&true) {
            define(result, state, leak_key(state.local, prefix)?)?;
        }
        if let Some(d) = result.terms.get(prefix)
            && let Some(p) = &d.iri
            && d.prefix
        {
            return Ok(Some(format!("{p}{suffix}")));
        }
        if is_absolute_iri(value) {
            return Ok(Some(value.to_owned()));
        }
    }
    if vocab && let Some(v) = &result.vocab {
        return Ok(Some(format!("{v}{value}")));
    }
    Err(Unsupported("relative IRI in context"))
}
