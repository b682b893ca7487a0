//! Semantic checks the JSON Schema cannot express, and the resolution of association ends.
//!
//! Rules (each violation names a JSON path):
//! - every object `identifier` (document, items, associations, definitions, rubrics, criteria,
//!   levels) is a hyphenated UUID, and identifiers are unique across the package;
//! - node URIs (CFDocument and CFItems) are unique, because association ends may resolve by URI;
//! - every association end resolves to the CFDocument or a CFItem of this package (by identifier,
//!   then by URI), or else is *external*: an absolute URI (`scheme:…`) naming a node elsewhere;
//!   an end that is neither is dangling;
//! - at least one end of every association is inside the package (a package carries its own
//!   framework's relationships, not third parties');
//! - `isChildOf` ends must both be inside the package: the origin a CFItem, the destination the
//!   CFDocument or a CFItem. The hierarchy is what the registry builds from the package, so a
//!   parent or child that is missing is an error, not an external link;
//! - `isChildOf` has no cycle (an item may sit under more than one parent, as CASE allows reuse,
//!   but never under itself); `precedes` between items of the package has no cycle.

use std::collections::HashMap;

use uuid::Uuid;

use crate::AssociationType;
use crate::error::{Rule, Violations};
use crate::graph::find_cycles;
use crate::package::{CfPackage, LinkGenUri};

/// What an association end points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The package's CFDocument.
    Document,
    /// `CFItems[index]`.
    Item(usize),
    /// Something outside the package, named by an absolute URI.
    External,
}

/// The outcome of a successful check: how each association's ends resolved.
#[derive(Debug, Clone)]
pub(crate) struct Resolution {
    /// Parsed identifier of the document.
    pub(crate) document_id: Uuid,
    /// Parsed identifier of each item, by index.
    pub(crate) item_ids: Vec<Uuid>,
    /// (origin, destination) of each association, by index.
    pub(crate) ends: Vec<(End, End)>,
}

/// Parses a CASE UUID: the hyphenated 8-4-4-4-12 form only (braces, URNs and the 32-digit
/// simple form that `Uuid::parse_str` also accepts are not CASE UUIDs).
#[must_use]
pub fn parse_case_uuid(text: &str) -> Option<Uuid> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 || [8, 13, 18, 23].iter().any(|&i| bytes[i] != b'-') {
        return None;
    }
    Uuid::parse_str(text).ok()
}

/// `scheme ":" rest`, scheme per RFC 3986 §3.1, with a non-empty rest and no whitespace.
pub(crate) fn is_absolute_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !text.chars().any(char::is_whitespace)
}

struct Identifiers<'a> {
    seen: HashMap<Uuid, String>,
    out: &'a mut Violations,
}

impl Identifiers<'_> {
    fn add(&mut self, identifier: &str, path: String) -> Option<Uuid> {
        let Some(id) = parse_case_uuid(identifier) else {
            self.out.push(
                path,
                Rule::Uuid,
                format!("identifier {identifier:?} is not a UUID (8-4-4-4-12 hexadecimal)"),
            );
            return None;
        };
        if let Some(first) = self.seen.get(&id) {
            self.out.push(
                path,
                Rule::DuplicateIdentifier,
                format!("identifier {identifier} is already used at {first}"),
            );
        } else {
            self.seen.insert(id, path);
        }
        Some(id)
    }
}

/// Runs every semantic rule. Returns the resolution when no violation was found.
pub(crate) fn check(package: &CfPackage, out: &mut Violations) -> Option<Resolution> {
    let start = out.list.len();
    let mut ids = Identifiers {
        seen: HashMap::with_capacity(package.items.len() + package.associations.len() + 1),
        out,
    };
    let document_id = ids.add(
        &package.document.identifier,
        "$.CFDocument.identifier".into(),
    );
    let item_ids: Vec<Option<Uuid>> = package
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| ids.add(&item.identifier, format!("$.CFItems[{i}].identifier")))
        .collect();
    for (i, a) in package.associations.iter().enumerate() {
        ids.add(&a.identifier, format!("$.CFAssociations[{i}].identifier"));
    }
    if let Some(defs) = &package.definitions {
        let groups: [(&str, Vec<&str>); 5] = [
            (
                "CFConcepts",
                defs.concepts
                    .iter()
                    .map(|d| d.identifier.as_str())
                    .collect(),
            ),
            (
                "CFSubjects",
                defs.subjects
                    .iter()
                    .map(|d| d.identifier.as_str())
                    .collect(),
            ),
            (
                "CFLicenses",
                defs.licenses
                    .iter()
                    .map(|d| d.identifier.as_str())
                    .collect(),
            ),
            (
                "CFItemTypes",
                defs.item_types
                    .iter()
                    .map(|d| d.identifier.as_str())
                    .collect(),
            ),
            (
                "CFAssociationGroupings",
                defs.association_groupings
                    .iter()
                    .map(|d| d.identifier.as_str())
                    .collect(),
            ),
        ];
        for (name, list) in groups {
            for (i, identifier) in list.into_iter().enumerate() {
                ids.add(
                    identifier,
                    format!("$.CFDefinitions.{name}[{i}].identifier"),
                );
            }
        }
    }
    for (r, rubric) in package.rubrics.iter().enumerate() {
        ids.add(&rubric.identifier, format!("$.CFRubrics[{r}].identifier"));
        for (c, criterion) in rubric.criteria.iter().enumerate() {
            ids.add(
                &criterion.identifier,
                format!("$.CFRubrics[{r}].CFRubricCriteria[{c}].identifier"),
            );
            for (l, level) in criterion.levels.iter().enumerate() {
                ids.add(
                    &level.identifier,
                    format!(
                        "$.CFRubrics[{r}].CFRubricCriteria[{c}].CFRubricCriterionLevels[{l}].identifier"
                    ),
                );
            }
        }
    }

    // Node indexes: by identifier and by URI.
    let mut by_id: HashMap<Uuid, End> = HashMap::with_capacity(package.items.len() + 1);
    let mut by_uri: HashMap<&str, (End, String)> = HashMap::with_capacity(package.items.len() + 1);
    if let Some(id) = document_id {
        by_id.insert(id, End::Document);
    }
    by_uri.insert(
        package.document.uri.as_str(),
        (End::Document, "$.CFDocument.uri".into()),
    );
    for (i, item) in package.items.iter().enumerate() {
        if let Some(Some(id)) = item_ids.get(i) {
            by_id.entry(*id).or_insert(End::Item(i));
        }
        let path = format!("$.CFItems[{i}].uri");
        if let Some((_, first)) = by_uri.get(item.uri.as_str()) {
            out.push(
                path,
                Rule::DuplicateUri,
                format!("uri {} is already used at {first}", item.uri),
            );
        } else {
            by_uri.insert(item.uri.as_str(), (End::Item(i), path));
        }
    }

    let resolve = |link: &LinkGenUri| -> Option<End> {
        if let Some(end) = parse_case_uuid(&link.identifier).and_then(|id| by_id.get(&id)) {
            return Some(*end);
        }
        if let Some((end, _)) = by_uri.get(link.uri.as_str()) {
            return Some(*end);
        }
        is_absolute_uri(&link.uri).then_some(End::External)
    };

    let n = package.items.len();
    let mut child_to_parent: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut before_to_after: Vec<Vec<usize>> = vec![Vec::new(); n];
    // Which association closes each edge, for naming it in a cycle report.
    let mut hierarchy_edge: HashMap<(usize, usize), usize> = HashMap::new();
    let mut prerequisite_edge: HashMap<(usize, usize), usize> = HashMap::new();
    let mut ends = Vec::with_capacity(package.associations.len());
    for (i, a) in package.associations.iter().enumerate() {
        let base = format!("$.CFAssociations[{i}]");
        let origin = resolve(&a.origin);
        let destination = resolve(&a.destination);
        for (end, name, link) in [
            (origin, "originNodeURI", &a.origin),
            (destination, "destinationNodeURI", &a.destination),
        ] {
            if end.is_none() {
                out.push(
                    format!("{base}.{name}"),
                    Rule::DanglingReference,
                    format!(
                        "{} does not resolve to the CFDocument or a CFItem of this package (identifier {}), and {:?} is not an absolute URI of a node elsewhere",
                        name, link.identifier, link.uri
                    ),
                );
            }
        }
        let (Some(origin), Some(destination)) = (origin, destination) else {
            ends.push((End::External, End::External));
            continue;
        };
        if origin == End::External && destination == End::External {
            out.push(
                base.clone(),
                Rule::DanglingReference,
                format!(
                    "neither end of this {} association is in this package ({} → {})",
                    a.association_type, a.origin.uri, a.destination.uri
                ),
            );
        }
        match AssociationType::parse(&a.association_type) {
            AssociationType::IsChildOf => {
                if !matches!(origin, End::Item(_)) {
                    out.push(
                        format!("{base}.originNodeURI"),
                        Rule::DanglingReference,
                        format!(
                            "the child of an isChildOf association must be a CFItem of this package, found {} ({})",
                            describe(origin),
                            a.origin.uri
                        ),
                    );
                }
                if destination == End::External {
                    out.push(
                        format!("{base}.destinationNodeURI"),
                        Rule::DanglingReference,
                        format!(
                            "the parent of an isChildOf association must be the CFDocument or a CFItem of this package, but {} ({}) is not in it",
                            a.destination.identifier, a.destination.uri
                        ),
                    );
                }
                if let (End::Item(child), End::Item(parent)) = (origin, destination) {
                    child_to_parent[child].push(parent);
                    hierarchy_edge.entry((child, parent)).or_insert(i);
                }
            }
            AssociationType::Precedes => {
                if let (End::Item(before), End::Item(after)) = (origin, destination) {
                    before_to_after[before].push(after);
                    prerequisite_edge.entry((before, after)).or_insert(i);
                }
            }
            _ => {}
        }
        ends.push((origin, destination));
    }

    let name_item = |i: usize| -> String {
        let item = &package.items[i];
        match &item.human_coding_scheme {
            Some(code) => format!("{code} ({})", item.identifier),
            None => item.identifier.clone(),
        }
    };
    for (graph, edges, rule, kind) in [
        (
            &child_to_parent,
            &hierarchy_edge,
            Rule::HierarchyCycle,
            "isChildOf",
        ),
        (
            &before_to_after,
            &prerequisite_edge,
            Rule::PrerequisiteCycle,
            "precedes",
        ),
    ] {
        for cycle in find_cycles(graph, 10) {
            let names: Vec<String> = cycle.iter().map(|&i| name_item(i)).collect();
            let closing = cycle
                .len()
                .checked_sub(2)
                .and_then(|k| edges.get(&(cycle[k], cycle[k + 1])))
                .copied();
            let path = closing.map_or_else(
                || "$.CFAssociations".into(),
                |a| format!("$.CFAssociations[{a}]"),
            );
            out.push(
                path,
                rule.clone(),
                format!("{kind} associations form a cycle: {}", names.join(" → ")),
            );
        }
    }

    if out.list.len() > start || out.truncated {
        return None;
    }
    let document_id = document_id?;
    let item_ids = item_ids.into_iter().collect::<Option<Vec<_>>>()?;
    Some(Resolution {
        document_id,
        item_ids,
        ends,
    })
}

fn describe(end: End) -> &'static str {
    match end {
        End::Document => "the CFDocument",
        End::Item(_) => "a CFItem",
        End::External => "a node outside the package",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyphenated_uuids_are_case_uuids() {
        assert!(parse_case_uuid("c739fefe-4f94-4a75-9203-e8621a7c2a1a").is_some());
        assert!(parse_case_uuid("C739FEFE-4F94-4A75-9203-E8621A7C2A1A").is_some());
        assert!(parse_case_uuid("c739fefe4f944a759203e8621a7c2a1a").is_none());
        assert!(parse_case_uuid("{c739fefe-4f94-4a75-9203-e8621a7c2a1a}").is_none());
        assert!(parse_case_uuid("urn:uuid:c739fefe-4f94-4a75-9203-e8621a7c2a1a").is_none());
        assert!(parse_case_uuid("c739fefe-4f94-4a75-9203-e8621a7c2a1g").is_none());
    }

    #[test]
    fn the_semantic_check_rejects_a_non_uuid_identifier_without_the_schema() {
        // Defence in depth: the schemas check identifiers too, but `check` must not rely on it.
        let text = include_str!("../tests/fixtures/case-1.0-science.json");
        let mut package: CfPackage = serde_json::from_str(text).unwrap();
        package.items[2].identifier = "x1a2b0000-0000-4000-9000-000000000012".into();
        let mut out = Violations::default();
        assert!(check(&package, &mut out).is_none());
        assert_eq!(out.list.len(), 1, "{:#?}", out.list);
        assert_eq!(out.list[0].path, "$.CFItems[2].identifier");
        assert_eq!(out.list[0].rule, Rule::Uuid);
    }

    #[test]
    fn absolute_uris_need_a_scheme() {
        assert!(is_absolute_uri("https://example.org/uri/1"));
        assert!(is_absolute_uri(
            "urn:uuid:c739fefe-4f94-4a75-9203-e8621a7c2a1a"
        ));
        assert!(!is_absolute_uri("/uri/1"));
        assert!(!is_absolute_uri("uri/1"));
        assert!(!is_absolute_uri("1http://x"));
        assert!(!is_absolute_uri("https://exa mple.org"));
        assert!(!is_absolute_uri("https:"));
    }
}
