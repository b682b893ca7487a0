//! Deterministic, realistic CASE 1.1 frameworks of any size, for tests and benchmarks.
//!
//! Same `items` ⇒ byte-identical output (identifiers come from a counter through splitmix64, not
//! from a random source). Shape, for `n` items: every 100th item is a *Domain* under the
//! document, every 10th a *Cluster* under its domain, the rest *Standards* under their cluster;
//! standards within a cluster form a `precedes` chain; every 50th item has an `exactMatchOf` to
//! a node in another framework; three item types, a subject, a licence, an association
//! grouping and one rubric (2 criteria × 4 levels) are defined.

use serde_json::{Map, Number};
use uuid::Uuid;

use crate::package::{
    CfAssociation, CfAssociationGrouping, CfDefinitions, CfDocument, CfItem, CfItemType, CfLicense,
    CfPackage, CfRubric, CfRubricCriterion, CfRubricCriterionLevel, CfSubject, LinkGenUri, LinkUri,
};

/// Base of every generated URI.
pub const BASE_URI: &str = "https://case.example.edu/uri/";
const STAMP: &str = "2025-01-15T12:00:00+00:00";

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A deterministic version-4 UUID for (`kind`, `index`).
#[must_use]
pub fn uuid_for(kind: u64, index: u64) -> Uuid {
    let seed = kind.wrapping_mul(0x1000_0000_0000).wrapping_add(index);
    let hi = splitmix64(seed);
    let lo = splitmix64(hi ^ 0xD1B5_4A32_D192_ED03);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

const DOC: u64 = 1;
const ITEM: u64 = 2;
const ASSOC: u64 = 3;
const DEF: u64 = 4;
const RUBRIC: u64 = 5;

fn link(title: &str, id: Uuid) -> LinkUri {
    LinkUri {
        title: title.to_owned(),
        identifier: id.to_string(),
        uri: format!("{BASE_URI}{id}"),
    }
}

fn gen_link(title: &str, id: Uuid) -> LinkGenUri {
    LinkGenUri {
        title: title.to_owned(),
        identifier: id.to_string(),
        uri: format!("{BASE_URI}{id}"),
        target_type: None,
    }
}

fn code_of(i: usize) -> String {
    let domain = i / 100 + 1;
    let cluster = (i % 100) / 10;
    let standard = i % 10;
    match (cluster, standard) {
        (0, 0) => format!("GEN.{domain}"),
        (c, 0) => format!("GEN.{domain}.{c}"),
        (c, s) => format!("GEN.{domain}.{c}.{s}"),
    }
}

/// A CASE 1.1 package with `items` items.
#[must_use]
pub fn package(items: usize) -> CfPackage {
    let doc_id = uuid_for(DOC, 0);
    let type_ids = [uuid_for(DEF, 0), uuid_for(DEF, 1), uuid_for(DEF, 2)];
    let type_names = ["Domain", "Cluster", "Standard"];
    let license_id = uuid_for(DEF, 10);
    let subject_id = uuid_for(DEF, 20);
    let grouping_id = uuid_for(DEF, 30);
    let title = format!("Generated Mathematics Framework ({items} items)");

    let document = CfDocument {
        identifier: doc_id.to_string(),
        uri: format!("{BASE_URI}{doc_id}"),
        framework_type: None,
        case_version: Some("1.1".into()),
        creator: "Tessera benchmark generator".into(),
        title: title.clone(),
        last_change_date_time: STAMP.into(),
        official_source_url: Some("https://standards.example.edu/math".into()),
        publisher: Some("Example State Department of Education".into()),
        description: Some(
            "A deterministic framework used to measure CASE import and export.".into(),
        ),
        subject: vec!["Mathematics".into()],
        subject_uri: vec![link("Mathematics", subject_id)],
        language: Some("en".into()),
        version: Some("2025".into()),
        adoption_status: Some("Adopted".into()),
        status_start_date: Some("2025-01-15".into()),
        status_end_date: None,
        license_uri: Some(link("CC BY 4.0", license_id)),
        notes: None,
        extensions: None,
        extra: Map::new(),
    };

    let mut cf_items = Vec::with_capacity(items);
    let mut associations = Vec::with_capacity(items * 2);
    let mut assoc_index = 0u64;
    let mut next_assoc = || {
        assoc_index += 1;
        uuid_for(ASSOC, assoc_index)
    };
    for i in 0..items {
        let id = uuid_for(ITEM, i as u64);
        let kind = if i % 100 == 0 {
            0
        } else if i % 10 == 0 {
            1
        } else {
            2
        };
        let code = code_of(i);
        let statement = match kind {
            0 => format!(
                "Domain {}: reason about quantities and their relationships.",
                i / 100 + 1
            ),
            1 => format!("Cluster {code}: represent and solve problems in context."),
            _ => format!(
                "{code}: Solve multi-step problems using the four operations, explaining each step ({i})."
            ),
        };
        cf_items.push(CfItem {
            identifier: id.to_string(),
            full_statement: statement,
            alternative_label: None,
            item_type: Some(type_names[kind].into()),
            uri: format!("{BASE_URI}{id}"),
            human_coding_scheme: Some(code.clone()),
            list_enumeration: Some((i % 10 + 1).to_string()),
            abbreviated_statement: None,
            concept_keywords: if kind == 2 {
                vec!["operations".into()]
            } else {
                Vec::new()
            },
            concept_keywords_uri: None,
            notes: None,
            subject: Vec::new(),
            subject_uri: Vec::new(),
            language: Some("en".into()),
            education_level: vec!["05".into()],
            item_type_uri: Some(link(type_names[kind], type_ids[kind])),
            license_uri: None,
            status_start_date: None,
            status_end_date: None,
            last_change_date_time: STAMP.into(),
            extensions: None,
            extra: Map::new(),
        });
        let (parent_title, parent_id) = match kind {
            0 => (title.clone(), doc_id),
            1 => (code_of(i - i % 100), uuid_for(ITEM, (i - i % 100) as u64)),
            _ => (code_of(i - i % 10), uuid_for(ITEM, (i - i % 10) as u64)),
        };
        let a = next_assoc();
        associations.push(CfAssociation {
            identifier: a.to_string(),
            association_type: "isChildOf".into(),
            sequence_number: Some((i % 10) as i64 + 1),
            uri: format!("{BASE_URI}{a}"),
            origin: gen_link(&code, id),
            destination: gen_link(&parent_title, parent_id),
            grouping_uri: None,
            last_change_date_time: STAMP.into(),
            notes: None,
            extensions: None,
            extra: Map::new(),
        });
        // Standards 1..8 of a cluster precede the next standard.
        if kind == 2 && i % 10 >= 2 {
            let prev = i - 1;
            let a = next_assoc();
            associations.push(CfAssociation {
                identifier: a.to_string(),
                association_type: "precedes".into(),
                sequence_number: None,
                uri: format!("{BASE_URI}{a}"),
                origin: gen_link(&code_of(prev), uuid_for(ITEM, prev as u64)),
                destination: gen_link(&code, id),
                grouping_uri: Some(link("Learning progression", grouping_id)),
                last_change_date_time: STAMP.into(),
                notes: None,
                extensions: None,
                extra: Map::new(),
            });
        }
        if i % 50 == 25 {
            let a = next_assoc();
            let other = uuid_for(99, i as u64);
            associations.push(CfAssociation {
                identifier: a.to_string(),
                association_type: "exactMatchOf".into(),
                sequence_number: None,
                uri: format!("{BASE_URI}{a}"),
                origin: gen_link(&code, id),
                destination: LinkGenUri {
                    title: format!("NATIONAL.{i}"),
                    identifier: other.to_string(),
                    uri: format!("https://national.example.org/uri/{other}"),
                    target_type: Some("CASE".into()),
                },
                grouping_uri: None,
                last_change_date_time: STAMP.into(),
                notes: Some("Equivalent national standard.".into()),
                extensions: None,
                extra: Map::new(),
            });
        }
    }

    let definitions = CfDefinitions {
        concepts: Vec::new(),
        subjects: vec![CfSubject {
            identifier: subject_id.to_string(),
            uri: format!("{BASE_URI}{subject_id}"),
            title: "Mathematics".into(),
            hierarchy_code: "MATH".into(),
            description: None,
            last_change_date_time: STAMP.into(),
            extensions: None,
            extra: Map::new(),
        }],
        licenses: vec![CfLicense {
            identifier: license_id.to_string(),
            uri: format!("{BASE_URI}{license_id}"),
            title: "CC BY 4.0".into(),
            description: None,
            license_text: "Creative Commons Attribution 4.0 International".into(),
            last_change_date_time: STAMP.into(),
            extensions: None,
            extra: Map::new(),
        }],
        item_types: (0..3)
            .map(|k| CfItemType {
                identifier: type_ids[k].to_string(),
                uri: format!("{BASE_URI}{}", type_ids[k]),
                title: type_names[k].into(),
                description: format!("{} level of the framework", type_names[k]),
                hierarchy_code: (k + 1).to_string(),
                type_code: Some(type_names[k].into()),
                last_change_date_time: STAMP.into(),
                extensions: None,
                extra: Map::new(),
            })
            .collect(),
        association_groupings: vec![CfAssociationGrouping {
            identifier: grouping_id.to_string(),
            uri: format!("{BASE_URI}{grouping_id}"),
            title: "Learning progression".into(),
            description: None,
            last_change_date_time: STAMP.into(),
            extensions: None,
            extra: Map::new(),
        }],
        extensions: None,
        extra: Map::new(),
    };

    let rubric_id = uuid_for(RUBRIC, 0);
    let target = (items > 1).then(|| uuid_for(ITEM, 1));
    let criteria = (0..2u64)
        .map(|c| {
            let cid = uuid_for(RUBRIC, 100 + c);
            CfRubricCriterion {
                identifier: cid.to_string(),
                uri: format!("{BASE_URI}{cid}"),
                category: Some(if c == 0 { "Accuracy" } else { "Explanation" }.into()),
                description: Some("How well the learner meets the standard.".into()),
                item_uri: target.map(|t| link(&code_of(1), t)),
                weight: Some(Number::from(1)),
                position: Some(c as i64 + 1),
                rubric_id: Some(rubric_id.to_string()),
                last_change_date_time: STAMP.into(),
                levels: (0..4u64)
                    .map(|l| {
                        let lid = uuid_for(RUBRIC, 1000 + c * 10 + l);
                        CfRubricCriterionLevel {
                            identifier: lid.to_string(),
                            uri: format!("{BASE_URI}{lid}"),
                            description: Some(format!("Level {} performance.", l + 1)),
                            quality: Some(
                                ["Beginning", "Developing", "Proficient", "Exemplary"][l as usize]
                                    .into(),
                            ),
                            score: Some(Number::from(l + 1)),
                            feedback: None,
                            position: Some(l as i64 + 1),
                            rubric_criterion_id: Some(cid.to_string()),
                            last_change_date_time: STAMP.into(),
                            extensions: None,
                            extra: Map::new(),
                        }
                    })
                    .collect(),
                extensions: None,
                extra: Map::new(),
            }
        })
        .collect();

    CfPackage {
        document,
        items: cf_items,
        associations,
        definitions: Some(definitions),
        rubrics: vec![CfRubric {
            identifier: rubric_id.to_string(),
            uri: format!("{BASE_URI}{rubric_id}"),
            title: Some("Problem solving".into()),
            description: Some("Scores a worked solution.".into()),
            last_change_date_time: STAMP.into(),
            criteria,
            extensions: None,
            extra: Map::new(),
        }],
        extensions: None,
        extra: Map::new(),
    }
}

/// [`package`] serialised as JSON.
#[must_use]
pub fn package_json(items: usize) -> String {
    // Serialising plain strings and integers cannot fail.
    serde_json::to_string(&package(items)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(package_json(250), package_json(250));
        assert_ne!(uuid_for(ITEM, 1), uuid_for(ITEM, 2));
        assert_eq!(uuid_for(ITEM, 1).get_version_num(), 4);
    }
}
