//! Input limits and pre-checks that run before anything recursive touches the document, plus the
//! JSON-path locator used to name the offending place in a safe-mode error.
//!
//! Every walk here is iterative (an explicit stack), so a document nested 10,000 deep costs a
//! bounded loop, never the call stack.

use serde_json::Value;

use super::{CanonError, Limits};
use crate::contexts;

/// Reject documents larger or deeper than `limits`, without recursion.
///
/// Size is an estimate of the serialised JSON (strings, keys and a few bytes per token), which
/// tracks the memory the expansion will need; the walk stops as soon as a limit is crossed.
pub(crate) fn check_limits(doc: &Value, limits: &Limits) -> Result<(), CanonError> {
    let max_depth = limits.max_depth.min(super::HARD_MAX_DEPTH);
    let mut size: usize = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(doc, 1)];
    while let Some((v, depth)) = stack.pop() {
        if depth > max_depth {
            return Err(CanonError::TooDeep { limit: max_depth });
        }
        size = size.saturating_add(match v {
            Value::String(s) => s.len() + 2,
            Value::Number(_) => 8,
            _ => 4,
        });
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, depth + 1))),
            Value::Object(o) => {
                for (k, x) in o {
                    size = size.saturating_add(k.len() + 3);
                    stack.push((x, depth + 1));
                }
            }
            _ => {}
        }
        if size > limits.max_bytes {
            return Err(CanonError::TooLarge {
                limit: limits.max_bytes,
            });
        }
    }
    Ok(())
}

/// A JSON-LD document is a node object or an array of them; a top-level scalar (or a scalar in
/// a top-level array) is a free-floating value that expansion silently drops.
pub(crate) fn check_shape(doc: &Value) -> Result<(), CanonError> {
    let bad = |path: String| CanonError::SafeMode {
        path,
        reason: "free-floating value: a JSON-LD document is an object or an array of objects"
            .into(),
    };
    match doc {
        Value::Object(_) => Ok(()),
        Value::Array(items) => match items.iter().position(|v| !v.is_object()) {
            Some(i) => Err(bad(format!("$[{i}]"))),
            None => Ok(()),
        },
        _ => Err(bad("$".into())),
    }
}

/// A key of the form of a keyword (`@` then letters) that is not one: JSON-LD ignores it (the
/// value would be dropped unsigned), so safe mode rejects it. Iterative, allocation-free unless
/// it finds one.
pub(crate) fn check_reserved_keys(doc: &Value) -> Result<(), CanonError> {
    let mut stack: Vec<&Value> = vec![doc];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    let keyword_form = k.len() > 1
                        && k.starts_with('@')
                        && k[1..].bytes().all(|b| b.is_ascii_alphabetic());
                    if keyword_form && !super::compiled::is_keyword(k) {
                        return Err(CanonError::SafeMode {
                            path: locate(doc, &Needle::Key(k)).unwrap_or_else(|| "$".into()),
                            reason: format!(
                                "`{k}` has the form of a JSON-LD keyword but is not one; it would be ignored"
                            ),
                        });
                    }
                    if matches!(x, Value::Object(_) | Value::Array(_)) {
                        stack.push(x);
                    }
                }
            }
            Value::Array(a) => stack.extend(a.iter().filter(|x| x.is_object() || x.is_array())),
            _ => {}
        }
    }
    Ok(())
}

/// Every remote context URL the document refers to (`@context` strings and `@import`), in
/// document order. Used to refuse a non-bundled context before any processing, naming it.
pub(crate) fn context_urls(doc: &Value) -> Vec<&str> {
    let mut urls = Vec::new();
    // (value, inside a @context value)
    let mut stack: Vec<(&Value, bool)> = vec![(doc, false)];
    while let Some((v, in_ctx)) = stack.pop() {
        match v {
            Value::Object(o) => {
                // Reverse so that popping visits entries in document order.
                for (k, x) in o.iter().rev() {
                    if k == "@context" {
                        match x {
                            Value::String(s) => urls.push(s.as_str()),
                            Value::Array(a) => {
                                for item in a {
                                    if let Value::String(s) = item {
                                        urls.push(s.as_str());
                                    }
                                }
                            }
                            _ => {}
                        }
                        stack.push((x, true));
                    } else if in_ctx && k == "@import" {
                        if let Value::String(s) = x {
                            urls.push(s.as_str());
                        }
                    } else {
                        stack.push((x, in_ctx));
                    }
                }
            }
            Value::Array(a) => stack.extend(a.iter().rev().map(|x| (x, in_ctx))),
            _ => {}
        }
    }
    urls.sort_unstable();
    urls.dedup();
    urls
}

/// The first context URL the document uses that is not bundled.
pub(crate) fn check_contexts(doc: &Value) -> Result<(), CanonError> {
    match context_urls(doc)
        .into_iter()
        .find(|u| contexts::bundled(u).is_none())
    {
        Some(url) => Err(CanonError::UnknownContext {
            url: url.to_owned(),
        }),
        None => Ok(()),
    }
}

/// Append a key to a JSON path: `.key` for plain names, `["…"]` otherwise.
pub(crate) fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'@' || b == b'$')
        && !key.as_bytes()[0].is_ascii_digit();
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&serde_json::Value::String(key.to_owned()).to_string());
        path.push(']');
    }
}

/// What a safe-mode failure is about, to be found in the document.
pub(crate) enum Needle<'a> {
    /// An object key.
    Key(&'a str),
    /// A `type`/`@type` value that no context in use defines.
    UndefinedType,
    /// A string value (for example a relative IRI).
    StringValue(&'a str),
}

/// The JSON path of the first place (document order, outside `@context`) matching `needle`.
pub(crate) fn locate(doc: &Value, needle: &Needle<'_>) -> Option<String> {
    let defined = match needle {
        Needle::UndefinedType => Some(defined_terms(doc)),
        _ => None,
    };
    let mut stack: Vec<(&Value, String, Option<&str>)> = vec![(doc, "$".to_owned(), None)];
    while let Some((v, path, key)) = stack.pop() {
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter().rev() {
                    if k == "@context" {
                        continue;
                    }
                    let mut p = path.clone();
                    push_key(&mut p, k);
                    if let Needle::Key(name) = needle
                        && k == name
                    {
                        return Some(p);
                    }
                    stack.push((x, p, Some(k.as_str())));
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate().rev() {
                    stack.push((x, format!("{path}[{i}]"), key));
                }
            }
            Value::String(s) => match needle {
                Needle::StringValue(want) if s == want => return Some(path),
                Needle::UndefinedType
                    if matches!(key, Some("type" | "@type"))
                        && !s.contains(':')
                        && !defined.as_ref().is_some_and(|d| d.contains(s.as_str())) =>
                {
                    return Some(path);
                }
                _ => {}
            },
            _ => {}
        }
    }
    None
}

/// Every term name any context the document uses (bundled or inline) defines, at any depth.
fn defined_terms(doc: &Value) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    let mut ctx_values: Vec<Value> = context_urls(doc)
        .into_iter()
        .filter_map(contexts::bundled)
        .filter_map(|t| serde_json::from_str(t).ok())
        .collect();
    // Inline contexts of the document itself.
    let mut stack = vec![doc];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    if k == "@context" {
                        ctx_values.push(x.clone());
                    } else {
                        stack.push(x);
                    }
                }
            }
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    let mut stack: Vec<&Value> = ctx_values.iter().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    if !k.starts_with('@') {
                        out.insert(k.clone());
                    }
                    stack.push(x);
                }
            }
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    out
}
