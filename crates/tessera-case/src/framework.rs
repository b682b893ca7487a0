//! The neutral model the registry stores, and the mapping between it and a CFPackage.
//!
//! Mapping (issue #3): `isChildOf` between items of the package becomes the **hierarchy**
//! ([`HierarchyLink`]), `precedes` between items of the package becomes **prerequisites**
//! ([`PrerequisiteLink`]); every other association (other types, and `precedes` to a node in
//! another framework) is kept as it is in [`Framework::associations`]; rubrics and definitions are
//! kept whole.
//!
//! Round trip: each competency, link and document keeps its full CASE record, so identifiers, URIs,
//! timestamps, extensions and tolerated legacy properties come back out of [`export`] exactly. The
//! fields the registry owns and edits (a competency's code and statement, a link's endpoints and
//! sequence number) are typed, and on export **the typed value wins** over the stored record, so
//! an edit made in Tessera is what other CASE consumers see.

use std::collections::HashMap;

use uuid::Uuid;

use crate::check::{End, Resolution};
use crate::package::{
    CfAssociation, CfDefinitions, CfDocument, CfItem, CfPackage, CfRubric, JsonObject, LinkGenUri,
};
use crate::{AssociationType, CaseVersion};

/// A competency framework as the registry stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Framework {
    /// The CASE version the package was validated against; export writes the same version.
    pub case_version: CaseVersion,
    /// The CFDocument identifier: the framework's key for re-import (same id ⇒ update).
    pub id: Uuid,
    /// The CFDocument record (title, creator, publisher, version, status, licence, …).
    pub document: CfDocument,
    /// The framework's items, in package order.
    pub competencies: Vec<Competency>,
    /// `isChildOf` links inside the framework. An item may have several parents (CASE allows
    /// an item to be reused), never a cycle.
    pub hierarchy: Vec<HierarchyLink>,
    /// `precedes` links between items of the framework; they form a DAG.
    pub prerequisites: Vec<PrerequisiteLink>,
    /// Every other association, exactly as imported.
    pub associations: Vec<CfAssociation>,
    /// Concepts, subjects, licences, item types and association groupings.
    pub definitions: Option<CfDefinitions>,
    /// Rubrics, kept whole for the rubric work.
    pub rubrics: Vec<CfRubric>,
    /// CASE 1.1 package-level `extensions`.
    pub package_extensions: Option<JsonObject>,
    /// Package-level properties not modelled (kept for round trips).
    pub package_extra: JsonObject,
}

/// One CFItem as a registry competency.
#[derive(Debug, Clone, PartialEq)]
pub struct Competency {
    /// CASE identifier (the registry's stable key for this competency).
    pub id: Uuid,
    /// CASE `uri`.
    pub uri: String,
    /// `humanCodingScheme`, e.g. `MATH.5.NF.1`.
    pub code: Option<String>,
    /// `fullStatement`.
    pub statement: String,
    /// The complete CASE record. `id`, `uri`, `code` and `statement` override it on export.
    pub item: CfItem,
}

/// Where a hierarchy link points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parent {
    /// A top-level item of the framework.
    Document,
    /// A child of another competency.
    Competency(Uuid),
}

/// An `isChildOf` association inside the framework.
#[derive(Debug, Clone, PartialEq)]
pub struct HierarchyLink {
    /// The child competency.
    pub child: Uuid,
    /// The parent.
    pub parent: Parent,
    /// Order among the parent's children (`sequenceNumber`).
    pub sequence_number: Option<i64>,
    /// The CASE record (identifier, uri, timestamps, grouping, notes, extensions).
    pub association: CfAssociation,
}

/// A `precedes` association between two competencies: `before` is a prerequisite of `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct PrerequisiteLink {
    /// The earlier competency (the prerequisite).
    pub before: Uuid,
    /// The later competency.
    pub after: Uuid,
    /// The CASE record.
    pub association: CfAssociation,
}

impl Competency {
    /// The CASE record with the registry-owned fields applied.
    #[must_use]
    pub fn to_item(&self) -> CfItem {
        let mut item = self.item.clone();
        // Keep the publisher's spelling (e.g. upper-case hex) unless the id really changed.
        if crate::check::parse_case_uuid(&item.identifier) != Some(self.id) {
            item.identifier = self.id.to_string();
        }
        item.uri.clone_from(&self.uri);
        item.human_coding_scheme.clone_from(&self.code);
        item.full_statement.clone_from(&self.statement);
        item
    }

    /// The title CASE tools show for this item in a link: its code, else its statement.
    #[must_use]
    pub fn link_title(&self) -> &str {
        self.code.as_deref().unwrap_or(&self.statement)
    }
}

impl Framework {
    /// Builds the model from a package that passed [`crate::check`]. Infallible by construction:
    /// `resolution` carries the parsed identifiers and resolved ends.
    pub(crate) fn from_checked(
        package: CfPackage,
        version: CaseVersion,
        resolution: Resolution,
    ) -> Framework {
        let Resolution {
            document_id,
            item_ids,
            ends,
        } = resolution;
        let competencies: Vec<Competency> = package
            .items
            .into_iter()
            .zip(item_ids.iter())
            .map(|(item, id)| Competency {
                id: *id,
                uri: item.uri.clone(),
                code: item.human_coding_scheme.clone(),
                statement: item.full_statement.clone(),
                item,
            })
            .collect();
        let mut hierarchy = Vec::new();
        let mut prerequisites = Vec::new();
        let mut associations = Vec::new();
        for (association, (origin, destination)) in package.associations.into_iter().zip(ends) {
            let kind = AssociationType::parse(&association.association_type);
            match (kind, origin, destination) {
                (AssociationType::IsChildOf, End::Item(child), End::Document) => {
                    hierarchy.push(HierarchyLink {
                        child: item_ids[child],
                        parent: Parent::Document,
                        sequence_number: association.sequence_number,
                        association,
                    });
                }
                (AssociationType::IsChildOf, End::Item(child), End::Item(parent)) => {
                    hierarchy.push(HierarchyLink {
                        child: item_ids[child],
                        parent: Parent::Competency(item_ids[parent]),
                        sequence_number: association.sequence_number,
                        association,
                    });
                }
                (AssociationType::Precedes, End::Item(before), End::Item(after)) => {
                    prerequisites.push(PrerequisiteLink {
                        before: item_ids[before],
                        after: item_ids[after],
                        association,
                    });
                }
                _ => associations.push(association),
            }
        }
        Framework {
            case_version: version,
            id: document_id,
            document: package.document,
            competencies,
            hierarchy,
            prerequisites,
            associations,
            definitions: package.definitions,
            rubrics: package.rubrics,
            package_extensions: package.extensions,
            package_extra: package.extra,
        }
    }

    /// The competency with this CASE identifier.
    #[must_use]
    pub fn competency(&self, id: Uuid) -> Option<&Competency> {
        self.competencies.iter().find(|c| c.id == id)
    }

    /// Children of `parent`, ordered by `sequenceNumber` (links without one last, in package
    /// order).
    #[must_use]
    pub fn children(&self, parent: Parent) -> Vec<Uuid> {
        let mut links: Vec<&HierarchyLink> = self
            .hierarchy
            .iter()
            .filter(|l| l.parent == parent)
            .collect();
        links.sort_by_key(|l| (l.sequence_number.is_none(), l.sequence_number));
        links.into_iter().map(|l| l.child).collect()
    }
}

/// Writes a framework back as a CFPackage of its own CASE version.
///
/// Associations come out as: hierarchy, prerequisites, then the others. A link whose typed
/// endpoint no longer matches its stored record (the registry moved an item) gets a fresh
/// `LinkGenURI` built from the competency or the document.
#[must_use]
pub fn export(framework: &Framework) -> CfPackage {
    let by_id: HashMap<Uuid, &Competency> =
        framework.competencies.iter().map(|c| (c.id, c)).collect();
    let document_link = || LinkGenUri {
        title: framework.document.title.clone(),
        identifier: framework.id.to_string(),
        uri: framework.document.uri.clone(),
        target_type: None,
    };
    let competency_link = |id: Uuid, current: &LinkGenUri| -> LinkGenUri {
        if crate::check::parse_case_uuid(&current.identifier) == Some(id) {
            return current.clone();
        }
        match by_id.get(&id) {
            Some(c) => LinkGenUri {
                title: c.link_title().to_owned(),
                identifier: c.id.to_string(),
                uri: c.uri.clone(),
                target_type: None,
            },
            None => current.clone(),
        }
    };
    let mut associations = Vec::with_capacity(
        framework.hierarchy.len() + framework.prerequisites.len() + framework.associations.len(),
    );
    for link in &framework.hierarchy {
        let mut a = link.association.clone();
        a.association_type = AssociationType::IsChildOf.as_str().to_owned();
        a.sequence_number = link.sequence_number;
        a.origin = competency_link(link.child, &a.origin);
        a.destination = match link.parent {
            Parent::Document => {
                if crate::check::parse_case_uuid(&a.destination.identifier) == Some(framework.id) {
                    a.destination
                } else {
                    document_link()
                }
            }
            Parent::Competency(parent) => competency_link(parent, &a.destination),
        };
        associations.push(a);
    }
    for link in &framework.prerequisites {
        let mut a = link.association.clone();
        a.association_type = AssociationType::Precedes.as_str().to_owned();
        a.origin = competency_link(link.before, &a.origin);
        a.destination = competency_link(link.after, &a.destination);
        associations.push(a);
    }
    associations.extend(framework.associations.iter().cloned());
    let mut document = framework.document.clone();
    if crate::check::parse_case_uuid(&document.identifier) != Some(framework.id) {
        document.identifier = framework.id.to_string();
    }
    CfPackage {
        document,
        items: framework
            .competencies
            .iter()
            .map(Competency::to_item)
            .collect(),
        associations,
        definitions: framework.definitions.clone(),
        rubrics: framework.rubrics.clone(),
        extensions: framework.package_extensions.clone(),
        extra: framework.package_extra.clone(),
    }
}
