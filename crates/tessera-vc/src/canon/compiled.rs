//! The compiled expander: JSON-LD → RDF quads in one walk over the `serde_json::Value`, for
//! documents whose contexts are all bundled.
//!
//! Term definitions, scoped contexts and coercions come from [`context`], processed once and
//! shared. The walk follows the JSON-LD 1.1 Expansion and Deserialize-to-RDF algorithms
//! (<https://www.w3.org/TR/json-ld11-api/#expansion-algorithm>,
//! <https://www.w3.org/TR/json-ld11-api/#deserialize-json-ld-to-rdf-algorithm>) for the subset
//! credentials use: node objects, `@id`/`@type` (and aliases), type- and property-scoped
//! contexts with `@protected` and non-propagation, `@set`/`@list` containers, `@id`/`@vocab`/
//! datatype coercion, value objects with `@type` or `@language`, strings, booleans and integers.
//!
//! Anything else returns [`Unsupported`], and the caller uses the general `json-ld` path, which
//! is also the oracle the differential tests compare this walk with. The walk never guesses: a
//! shape it does not model exactly is "unsupported", not a different answer.
//!
//! Safe mode is enforced here too: an undefined term or relative IRI is a [`Outcome::SafeMode`]
//! with the exact JSON path (the caller confirms it with the general path before reporting it).

mod context;

use std::sync::Arc;

use serde_json::{Map, Value};

pub(crate) use self::context::is_keyword;
use self::context::{ActiveContext, Container, TermDef, is_absolute_iri};
use super::guard::push_key;
use super::quads::{Quad, Term, XSD_STRING};

/// The document uses something the compiled expander does not model; use the general path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unsupported(pub &'static str);

/// What the compiled walk concluded.
#[derive(Debug)]
pub(crate) enum Outcome {
    Quads(Vec<Quad>),
    Unsupported(&'static str),
    SafeMode { path: String, reason: String },
}

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const RDF_FIRST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
const RDF_REST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
const RDF_NIL: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";
const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";
const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
const XSD_DOUBLE: &str = "http://www.w3.org/2001/XMLSchema#double";

/// Internal error of the walk.
enum Stop {
    Unsupported(&'static str),
    SafeMode { path: String, reason: String },
}

impl From<Unsupported> for Stop {
    fn from(u: Unsupported) -> Self {
        Stop::Unsupported(u.0)
    }
}

type R<T> = Result<T, Stop>;

/// Expand `doc` to quads, if the compiled expander models everything it uses.
pub(crate) fn expand(doc: &Value) -> Outcome {
    let Value::Object(obj) = doc else {
        return Outcome::Unsupported("top-level is not an object");
    };
    let Some(ctx) = obj.get("@context") else {
        return Outcome::Unsupported("no @context");
    };
    let active = match context::top_level(ctx) {
        Ok(a) => a,
        Err(u) => return Outcome::Unsupported(u.0),
    };
    let mut w = Walker {
        quads: Vec::with_capacity(128),
        blank: 0,
        path: String::from("$"),
    };
    match w.node(obj, &active, None, None, true) {
        Ok(_) => Outcome::Quads(w.quads),
        Err(Stop::Unsupported(why)) => Outcome::Unsupported(why),
        Err(Stop::SafeMode { path, reason }) => Outcome::SafeMode { path, reason },
    }
}

struct Walker {
    quads: Vec<Quad>,
    blank: u64,
    /// JSON path of the value being walked (for safe-mode errors).
    path: String,
}

/// What a key means in the active context.
enum Key<'c> {
    Id,
    Type,
    Context,
    Property(String, Option<&'c TermDef>),
}

impl Walker {
    fn fresh(&mut self) -> Term {
        let t = Term::Blank(format!("c{}", self.blank));
        self.blank += 1;
        t
    }

    fn safe_mode(&self, key: Option<&str>, reason: String) -> Stop {
        let mut path = self.path.clone();
        if let Some(k) = key {
            push_key(&mut path, k);
        }
        Stop::SafeMode { path, reason }
    }

    /// Expand a key with the active context (vocab-relative).
    fn key<'c>(&self, active: &'c ActiveContext, k: &str) -> R<Key<'c>> {
        if k.starts_with('@') {
            return match k {
                "@id" => Ok(Key::Id),
                "@type" => Ok(Key::Type),
                "@context" => Ok(Key::Context),
                _ => Err(Stop::Unsupported("keyword key")),
            };
        }
        if let Some(def) = active.terms.get(k) {
            if let Some(why) = def.unsupported {
                return Err(Stop::Unsupported(why));
            }
            return match def.iri.as_deref() {
                Some("@id") => Ok(Key::Id),
                Some("@type") => Ok(Key::Type),
                Some(i) if is_keyword(i) => Err(Stop::Unsupported("keyword alias")),
                Some(i) => Ok(Key::Property(i.to_owned(), Some(def))),
                None => Err(Stop::Unsupported("null term")),
            };
        }
        match self.expand_iri(active, k, true)? {
            Some(iri) => Ok(Key::Property(iri, None)),
            None => Err(self.safe_mode(
                Some(k),
                format!("`{k}` is not defined by any context in use"),
            )),
        }
    }

    /// IRI expansion (JSON-LD 1.1 API §5.2) in a document, no base IRI: `None` when the value
    /// would be a relative IRI reference (a safe-mode error for the caller to report).
    fn expand_iri(&self, active: &ActiveContext, v: &str, vocab: bool) -> R<Option<String>> {
        if v.starts_with('@') {
            return Err(Stop::Unsupported("keyword-like value"));
        }
        if vocab && let Some(d) = active.terms.get(v) {
            if d.unsupported.is_some() {
                return Err(Stop::Unsupported("term used as value"));
            }
            return match &d.iri {
                Some(i) if !is_keyword(i) => Ok(Some(i.clone())),
                _ => Err(Stop::Unsupported("null or keyword term as value")),
            };
        }
        if let Some((prefix, suffix)) = v.split_once(':').filter(|(p, _)| !p.is_empty()) {
            if prefix == "_" {
                return Err(Stop::Unsupported("blank node identifier"));
            }
            if !suffix.starts_with("//")
                && let Some(d) = active.terms.get(prefix)
                && d.prefix
                && let Some(p) = &d.iri
            {
                let out = format!("{p}{suffix}");
                return Ok(is_absolute_iri(&out).then_some(out));
            }
            if is_absolute_iri(v) {
                return Ok(Some(v.to_owned()));
            }
            return Err(Stop::Unsupported("invalid IRI"));
        }
        if vocab && let Some(base) = &active.vocab {
            let out = format!("{base}{v}");
            return Ok(is_absolute_iri(&out).then_some(out));
        }
        Ok(None)
    }

    /// An IRI that must be absolute (`@id`, `@type`, coerced values), or a safe-mode error.
    fn absolute(
        &self,
        active: &ActiveContext,
        v: &str,
        vocab: bool,
        key: Option<&str>,
    ) -> R<String> {
        match self.expand_iri(active, v, vocab)? {
            Some(i) => Ok(i),
            None => Err(self.safe_mode(
                key,
                format!("`{v}` is not an absolute IRI (relative IRI reference)"),
            )),
        }
    }

    /// A node object. `prop_def` is the definition of the property it is the value of (for its
    /// property-scoped context). Returns the node's subject term.
    fn node(
        &mut self,
        obj: &Map<String, Value>,
        active: &Arc<ActiveContext>,
        prop_def: Option<&TermDef>,
        graph: Option<&Term>,
        top: bool,
    ) -> R<Term> {
        // Step 7: a non-propagated (type-scoped) context does not apply to a new node object,
        // unless it consists of a single entry expanding to @id.
        let mut active = active.clone();
        if let Some(prev) = &active.previous {
            let only_id = obj.len() == 1
                && obj
                    .keys()
                    .all(|k| matches!(self.key(&active, k), Ok(Key::Id)));
            if !only_id {
                active = prev.clone();
            }
        }
        // Step 8: property-scoped context.
        if let Some(scoped) = prop_def.and_then(|d| d.context) {
            active = context::apply(&active, scoped, def_base(prop_def), true, true)?;
        }
        // Step 9: an embedded context (the top level's is already applied). Only bundled URLs
        // are modelled, as at the top level.
        if !top && let Some(local) = obj.get("@context") {
            let urls: Vec<&Value> = match local {
                Value::Array(a) => a.iter().collect(),
                v => vec![v],
            };
            for url in urls {
                let Value::String(url) = url else {
                    return Err(Stop::Unsupported("inline embedded context"));
                };
                active = context::apply_url(&active, url)?;
            }
        }
        // Steps 10–11: type-scoped contexts, applied in lexicographic order of the type terms.
        let type_scoped = active.clone();
        let mut type_values: Vec<(&String, &str)> = Vec::new();
        for (k, v) in obj {
            if matches!(self.key(&type_scoped, k), Ok(Key::Type)) {
                match v {
                    Value::String(s) => type_values.push((k, s)),
                    Value::Array(items) => {
                        for item in items {
                            match item {
                                Value::String(s) => type_values.push((k, s)),
                                _ => return Err(Stop::Unsupported("non-string type")),
                            }
                        }
                    }
                    _ => return Err(Stop::Unsupported("non-string type")),
                }
            }
        }
        if type_values
            .iter()
            .map(|(k, _)| *k)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            > 1
        {
            return Err(Stop::Unsupported("several type keys"));
        }
        let mut sorted: Vec<&str> = type_values.iter().map(|(_, t)| *t).collect();
        sorted.sort_unstable();
        for t in &sorted {
            if let Some(def) = type_scoped.terms.get(*t)
                && let Some(scoped) = def.context
            {
                active = context::apply(&active, scoped, def.base, false, false)?;
            }
        }

        // Subject.
        let mut subject = None;
        for (k, v) in obj {
            if matches!(self.key(&active, k)?, Key::Id) {
                let Value::String(s) = v else {
                    return Err(Stop::Unsupported("non-string @id"));
                };
                if subject.is_some() {
                    return Err(Stop::Unsupported("several @id keys"));
                }
                subject = Some(Term::Iri(self.absolute(&active, s, false, Some(k))?));
            }
        }
        let subject = match subject {
            Some(s) => s,
            None => self.fresh(),
        };

        let path_len = self.path.len();
        for (k, v) in obj {
            match self.key(&active, k)? {
                Key::Id => {}
                Key::Context => {}
                Key::Type => {
                    let emit = |w: &mut Self, s: &str, key_path: &str| -> R<()> {
                        let saved = std::mem::replace(&mut w.path, key_path.to_owned());
                        let iri = w.absolute(&type_scoped, s, true, None);
                        w.path = saved;
                        w.quads.push(Quad {
                            s: subject.clone(),
                            p: Term::Iri(RDF_TYPE.to_owned()),
                            o: Term::Iri(iri?),
                            g: graph.cloned(),
                        });
                        Ok(())
                    };
                    let mut key_path = self.path.clone();
                    push_key(&mut key_path, k);
                    match v {
                        Value::String(s) => emit(self, s, &key_path)?,
                        Value::Array(items) => {
                            for (i, item) in items.iter().enumerate() {
                                if let Value::String(s) = item {
                                    emit(self, s, &format!("{key_path}[{i}]"))?;
                                }
                            }
                        }
                        _ => return Err(Stop::Unsupported("non-string type")),
                    }
                }
                Key::Property(iri, def) => {
                    push_key(&mut self.path, k);
                    let r = self.property(&subject, &iri, def, k, v, &active, graph);
                    self.path.truncate(path_len);
                    r?;
                }
            }
        }
        Ok(subject)
    }

    #[allow(clippy::too_many_arguments)]
    fn property(
        &mut self,
        subject: &Term,
        predicate: &str,
        def: Option<&TermDef>,
        key: &str,
        value: &Value,
        active: &Arc<ActiveContext>,
        graph: Option<&Term>,
    ) -> R<()> {
        let container = def.map(|d| d.container).unwrap_or_default();
        // Scalars are expanded with the property-scoped context applied (expansion step 4).
        let scalar_ctx = match def.and_then(|d| d.context) {
            Some(scoped) => context::apply(active, scoped, def_base(def), true, true)?,
            None => active.clone(),
        };
        // The property's definition as seen by value expansion (in the scoped context, if any).
        let scalar_def: Option<Arc<TermDef>> = match def {
            Some(_) => scalar_ctx.terms.get(key).cloned(),
            None => None,
        };
        let items: &[Value] = match value {
            Value::Array(a) => a,
            v => std::slice::from_ref(v),
        };
        if container == Container::List {
            let mut objects = Vec::with_capacity(items.len());
            let path_len = self.path.len();
            for (i, item) in items.iter().enumerate() {
                if matches!(value, Value::Array(_)) {
                    self.path.push_str(&format!("[{i}]"));
                }
                let r = self.object(item, active, def, &scalar_ctx, scalar_def.as_deref(), graph);
                self.path.truncate(path_len);
                if let Some(o) = r? {
                    objects.push(o);
                }
            }
            let head = self.list(objects, graph);
            self.quads.push(Quad {
                s: subject.clone(),
                p: Term::Iri(predicate.to_owned()),
                o: head,
                g: graph.cloned(),
            });
            return Ok(());
        }
        let path_len = self.path.len();
        for (i, item) in items.iter().enumerate() {
            if matches!(value, Value::Array(_)) {
                self.path.push_str(&format!("[{i}]"));
            }
            if container == Container::Graph {
                // Each value becomes a graph object: a fresh blank node names a graph holding
                // the value's node (JSON-LD 1.1 expansion 13.8.3, node map generation).
                let r = match item {
                    Value::Null => Ok(None),
                    Value::Object(o) if !o.contains_key("@value") && !o.contains_key("@graph") => {
                        let name = self.fresh();
                        self.object(
                            item,
                            active,
                            def,
                            &scalar_ctx,
                            scalar_def.as_deref(),
                            Some(&name),
                        )
                        .map(|_| Some(name))
                    }
                    _ => Err(Stop::Unsupported("graph container value")),
                };
                self.path.truncate(path_len);
                if let Some(name) = r? {
                    self.quads.push(Quad {
                        s: subject.clone(),
                        p: Term::Iri(predicate.to_owned()),
                        o: name,
                        g: graph.cloned(),
                    });
                }
                continue;
            }
            let r = self.object(item, active, def, &scalar_ctx, scalar_def.as_deref(), graph);
            self.path.truncate(path_len);
            if let Some(o) = r? {
                self.quads.push(Quad {
                    s: subject.clone(),
                    p: Term::Iri(predicate.to_owned()),
                    o,
                    g: graph.cloned(),
                });
            }
        }
        Ok(())
    }

    /// An RDF list of `objects`; returns its head.
    fn list(&mut self, objects: Vec<Term>, graph: Option<&Term>) -> Term {
        let mut next = Term::Iri(RDF_NIL.to_owned());
        for o in objects.into_iter().rev() {
            let cell = self.fresh();
            self.quads.push(Quad {
                s: cell.clone(),
                p: Term::Iri(RDF_FIRST.to_owned()),
                o,
                g: graph.cloned(),
            });
            self.quads.push(Quad {
                s: cell.clone(),
                p: Term::Iri(RDF_REST.to_owned()),
                o: next,
                g: graph.cloned(),
            });
            next = cell;
        }
        next
    }

    /// One value of a property: `None` for `null` (dropped, as JSON-LD does).
    fn object(
        &mut self,
        item: &Value,
        active: &Arc<ActiveContext>,
        def: Option<&TermDef>,
        scalar_ctx: &Arc<ActiveContext>,
        scalar_def: Option<&TermDef>,
        graph: Option<&Term>,
    ) -> R<Option<Term>> {
        match item {
            Value::Null => Ok(None),
            Value::Array(_) => Err(Stop::Unsupported("nested array")),
            Value::Object(o) => {
                if o.keys().any(|k| {
                    k.starts_with('@') && !matches!(k.as_str(), "@id" | "@type" | "@context")
                }) {
                    if o.contains_key("@value") {
                        return self.value_object(o, scalar_ctx).map(Some);
                    }
                    return Err(Stop::Unsupported("keyword in value"));
                }
                // A value object through an alias of @value is not modelled.
                self.node(o, active, def, graph, false).map(Some)
            }
            scalar => self.scalar(scalar, scalar_ctx, scalar_def).map(Some),
        }
    }

    fn value_object(&mut self, o: &Map<String, Value>, active: &ActiveContext) -> R<Term> {
        let mut ty = None;
        let mut lang = None;
        for (k, v) in o {
            match k.as_str() {
                "@value" => {}
                "@type" => {
                    let s = v.as_str().ok_or(Stop::Unsupported("value @type form"))?;
                    ty = Some(self.absolute(active, s, true, Some("@type"))?);
                }
                "@language" => {
                    let s = v.as_str().ok_or(Stop::Unsupported("@language form"))?;
                    let ok = !s.is_empty()
                        && s.split('-').all(|p| {
                            !p.is_empty()
                                && p.len() <= 8
                                && p.bytes().all(|b| b.is_ascii_alphanumeric())
                        })
                        && s.split('-')
                            .next()
                            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_alphabetic()));
                    if !ok {
                        return Err(Stop::Unsupported("language tag"));
                    }
                    lang = Some(s.to_owned());
                }
                _ => return Err(Stop::Unsupported("value object keyword")),
            }
        }
        let value = o.get("@value").unwrap_or(&Value::Null);
        match (ty, lang, value) {
            (Some(_), Some(_), _) => Err(Stop::Unsupported("@type with @language")),
            (None, Some(lang), Value::String(s)) => Ok(Term::Lang {
                value: s.clone(),
                lang,
            }),
            (None, Some(_), _) => Err(Stop::Unsupported("@language on non-string")),
            (ty, None, v) => literal(v, ty.as_deref()),
        }
    }

    /// Value expansion of a scalar under the property's definition (coercion).
    fn scalar(&mut self, v: &Value, active: &ActiveContext, def: Option<&TermDef>) -> R<Term> {
        let mapping = def.and_then(|d| d.type_mapping.as_deref());
        match (mapping, v) {
            (Some("@id"), Value::String(s)) => {
                Ok(Term::Iri(self.absolute(active, s, false, None)?))
            }
            (Some("@vocab"), Value::String(s)) => {
                Ok(Term::Iri(self.absolute(active, s, true, None)?))
            }
            (Some("@json" | "@none"), _) => Err(Stop::Unsupported("@json or @none coercion")),
            (Some("@id" | "@vocab"), v) => literal(v, None),
            (Some(dt), v) => literal(v, Some(dt)),
            (None, v) => literal(v, None),
        }
    }
}

fn def_base(def: Option<&TermDef>) -> Option<&'static str> {
    def.and_then(|d| d.base)
}

/// Object to RDF for a literal (JSON-LD 1.1 API §8.5.4 steps 10–13), for the JSON types it
/// models: strings, booleans and integers below 10^21 (doubles go to the general path).
fn literal(v: &Value, datatype: Option<&str>) -> R<Term> {
    let (value, default) = match v {
        Value::String(s) => (s.clone(), XSD_STRING),
        Value::Bool(b) => (if *b { "true" } else { "false" }.to_owned(), XSD_BOOLEAN),
        Value::Number(n) => {
            if datatype == Some(XSD_DOUBLE) {
                return Err(Stop::Unsupported("double"));
            }
            // JSON numbers are IEEE doubles to JSON-LD (the general path canonicalizes them as
            // JavaScript would): only integers a double holds exactly are modelled here, larger
            // ones round (2^53 + 1 → 9007199254740992) or become xsd:double.
            const EXACT: i64 = 1 << 53;
            match n.as_i64() {
                Some(i) if (-EXACT..=EXACT).contains(&i) => (i.to_string(), XSD_INTEGER),
                Some(_) => return Err(Stop::Unsupported("integer beyond 2^53")),
                None => return Err(Stop::Unsupported("non-integer number")),
            }
        }
        _ => return Err(Stop::Unsupported("literal form")),
    };
    Ok(Term::Typed {
        value,
        datatype: datatype.unwrap_or(default).to_owned(),
    })
}
