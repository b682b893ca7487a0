//! The unvalidated rubric shared by both front ends (TOML files, CASE CFRubric JSON), and the one
//! validation that turns it into a [`Rubric`].
//!
//! Front ends report structural mistakes (syntax, missing or unknown fields, wrong types) and fill
//! in what they could read; [`validate`] then reports every semantic mistake, each at the location
//! of the value concerned, so a teacher sees all problems of a file at once.

use std::collections::HashMap;

use crate::error::{Diagnostic, Diagnostics, Location, Problem};
use crate::rubric::{
    Borderline, CaseLink, Combine, Criterion, Level, MasteryRule, Rubric, RubricDigest,
    RubricVersion,
};

/// A value with where it was written.
#[derive(Debug, Clone)]
pub(crate) struct L<T> {
    pub v: T,
    pub at: Location,
}

impl<T> L<T> {
    pub fn new(v: T, at: Location) -> Self {
        L { v, at }
    }
}

#[derive(Debug)]
pub(crate) struct DraftRubric {
    pub at: Location,
    pub id: Option<L<String>>,
    pub version: Option<L<String>>,
    pub title: Option<L<String>>,
    pub description: Option<L<String>>,
    pub competencies: Option<L<Vec<L<String>>>>,
    pub case: Option<CaseLink>,
    pub mastery: Option<DraftMastery>,
    pub criteria: Option<L<Vec<DraftCriterion>>>,
}

#[derive(Debug)]
pub(crate) struct DraftMastery {
    pub at: Location,
    pub combine: Option<L<String>>,
    pub every_criterion_at_least: Option<L<String>>,
    pub min_total_points: Option<L<i64>>,
    pub borderline: Option<DraftBorderline>,
}

#[derive(Debug)]
pub(crate) struct DraftBorderline {
    pub within_levels: Option<L<i64>>,
    pub within_points: Option<L<i64>>,
}

#[derive(Debug)]
pub(crate) struct DraftCriterion {
    pub id: Option<L<String>>,
    pub name: Option<L<String>>,
    pub description: Option<L<String>>,
    pub weight: Option<L<i64>>,
    pub required_level: Option<L<String>>,
    pub case: Option<CaseLink>,
    pub levels: Option<L<Vec<DraftLevel>>>,
}

#[derive(Debug)]
pub(crate) struct DraftLevel {
    pub id: Option<L<String>>,
    pub name: Option<L<String>>,
    pub description: Option<L<String>>,
    pub points: Option<L<i64>>,
    pub case: Option<CaseLink>,
}

/// Ids end up in URLs (OB ResultDescription ids) and in review forms: keep them plain.
pub(crate) fn valid_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

struct Sink(Vec<Diagnostic>);

impl Sink {
    fn push(&mut self, at: &Location, problem: Problem) {
        self.0.push(Diagnostic {
            location: at.clone(),
            problem,
        });
    }

    fn text(&mut self, field: &str, v: &Option<L<String>>) -> Option<String> {
        let v = v.as_ref()?;
        if v.v.trim().is_empty() {
            self.push(
                &v.at,
                Problem::Empty {
                    field: field.to_owned(),
                },
            );
            return None;
        }
        Some(v.v.clone())
    }

    fn id(&mut self, field: &str, v: &Option<L<String>>) -> Option<String> {
        let v = v.as_ref()?;
        if !valid_id(&v.v) {
            self.push(
                &v.at,
                Problem::BadId {
                    field: field.to_owned(),
                    value: v.v.clone(),
                },
            );
            return None;
        }
        Some(v.v.clone())
    }

    fn count(
        &mut self,
        field: &str,
        v: &Option<L<i64>>,
        min: i64,
        allowed: &'static str,
    ) -> Option<u64> {
        let v = v.as_ref()?;
        match u64::try_from(v.v) {
            Ok(n) if v.v >= min && n <= u64::from(u32::MAX) => Some(n),
            _ => {
                self.push(
                    &v.at,
                    Problem::OutOfRange {
                        field: field.to_owned(),
                        value: v.v.to_string(),
                        allowed,
                    },
                );
                None
            }
        }
    }
}

/// Validate a draft. `structural` holds the front end's own diagnostics; all are returned
/// together, sorted by location.
pub(crate) fn validate(d: DraftRubric, structural: Vec<Diagnostic>) -> Result<Rubric, Diagnostics> {
    let mut s = Sink(structural);

    let id = s.id("rubric id", &d.id);
    let version = d
        .version
        .as_ref()
        .and_then(|v| match v.v.parse::<RubricVersion>() {
            Ok(version) => Some(version),
            Err(()) => {
                s.push(&v.at, Problem::BadVersion { value: v.v.clone() });
                None
            }
        });
    let title = s.text("title", &d.title);
    let description = s.text("description", &d.description);

    let mut competencies = Vec::new();
    if let Some(list) = &d.competencies {
        if list.v.is_empty() {
            s.push(
                &list.at,
                Problem::Empty {
                    field: "competencies".into(),
                },
            );
        }
        for c in &list.v {
            if c.v.trim().is_empty() {
                s.push(
                    &c.at,
                    Problem::Empty {
                        field: "competencies[]".into(),
                    },
                );
            } else if competencies.contains(&c.v) {
                s.push(&c.at, Problem::DuplicateCompetency { id: c.v.clone() });
            } else {
                competencies.push(c.v.clone());
            }
        }
    }

    // Criteria and their levels.
    let mut criteria: Vec<Criterion> = Vec::new();
    let mut criteria_ok = true;
    // Where each criterion's required_level was written, for UnknownLevel locations.
    let mut required_at: Vec<Option<Location>> = Vec::new();
    let mut first_seen: HashMap<String, Location> = HashMap::new();
    if let Some(list) = &d.criteria {
        if list.v.is_empty() {
            s.push(
                &list.at,
                Problem::Empty {
                    field: "criteria".into(),
                },
            );
            criteria_ok = false;
        }
        for c in &list.v {
            let cid = s.id("criterion id", &c.id);
            if let (Some(cid), Some(at)) = (&cid, c.id.as_ref().map(|l| &l.at)) {
                if let Some(first) = first_seen.get(cid) {
                    s.push(
                        at,
                        Problem::DuplicateCriterion {
                            id: cid.clone(),
                            first: first.clone(),
                        },
                    );
                    criteria_ok = false;
                } else {
                    first_seen.insert(cid.clone(), at.clone());
                }
            }
            let name = s.text("name", &c.name);
            let description = s.text("description", &c.description);
            let weight = match &c.weight {
                None => Some(1),
                w => s.count("weight", w, 1, "a whole number from 1 to 4294967295"),
            };
            let required_level = c.required_level.as_ref().map(|r| r.v.clone());
            let cname = cid.clone().unwrap_or_default();

            let mut levels: Vec<Level> = Vec::new();
            let mut levels_ok = true;
            if let Some(ls) = &c.levels {
                if ls.v.len() < 2 {
                    s.push(
                        &ls.at,
                        Problem::TooFewLevels {
                            criterion: cname.clone(),
                        },
                    );
                    levels_ok = false;
                }
                let mut prev: Option<(String, u64)> = None;
                for l in &ls.v {
                    let lid = s.id("level id", &l.id);
                    let lname = s.text("name", &l.name);
                    let ldesc = s.text("description", &l.description);
                    let points = s.count(
                        "points",
                        &l.points,
                        0,
                        "a whole number from 0 to 4294967295",
                    );
                    if let (Some(lid), Some(at)) = (&lid, l.id.as_ref().map(|x| &x.at))
                        && levels.iter().any(|x| &x.id == lid)
                    {
                        s.push(
                            at,
                            Problem::DuplicateLevel {
                                criterion: cname.clone(),
                                id: lid.clone(),
                            },
                        );
                        levels_ok = false;
                    }
                    if let (Some(p), Some(at)) = (points, l.points.as_ref().map(|x| &x.at)) {
                        if let Some((pl, pp)) = &prev
                            && p <= *pp
                        {
                            s.push(
                                at,
                                Problem::LevelsNotAscending {
                                    criterion: cname.clone(),
                                    level: lid.clone().unwrap_or_default(),
                                    points: p,
                                    previous: pl.clone(),
                                    previous_points: *pp,
                                },
                            );
                            levels_ok = false;
                        }
                        prev = Some((lid.clone().unwrap_or_default(), p));
                    }
                    match (lid, lname, points) {
                        (Some(id), Some(name), Some(points)) => levels.push(Level {
                            id,
                            name,
                            description: ldesc,
                            points,
                            case: l.case.clone(),
                        }),
                        _ => levels_ok = false,
                    }
                }
            } else {
                levels_ok = false;
            }
            match (cid, name, weight, levels_ok) {
                (Some(id), Some(name), Some(weight), true) => {
                    criteria.push(Criterion {
                        id,
                        name,
                        description,
                        weight,
                        required_level,
                        case: c.case.clone(),
                        levels,
                    });
                    required_at.push(c.required_level.as_ref().map(|r| r.at.clone()));
                }
                _ => criteria_ok = false,
            }
        }
    } else {
        criteria_ok = false;
    }

    // The mastery rule.
    let mut rule: Option<MasteryRule> = None;
    if let Some(m) = &d.mastery {
        let combine = match &m.combine {
            None => Some(Combine::All),
            Some(c) => match c.v.as_str() {
                "all" => Some(Combine::All),
                "any" => Some(Combine::Any),
                _ => {
                    s.push(
                        &c.at,
                        Problem::BadChoice {
                            field: "combine".into(),
                            value: c.v.clone(),
                            allowed: &["all", "any"],
                        },
                    );
                    None
                }
            },
        };
        let min_total_points = s.count(
            "min_total_points",
            &m.min_total_points,
            1,
            "a whole number from 1 to 4294967295",
        );
        let within_levels = match m.borderline.as_ref().and_then(|b| b.within_levels.as_ref()) {
            None => Some(1),
            Some(v) => s.count(
                "within_levels",
                &Some(v.clone()),
                0,
                "a whole number from 0 to 4294967295",
            ),
        };
        let within_points = match m.borderline.as_ref().and_then(|b| b.within_points.as_ref()) {
            None => Some(None),
            Some(v) => s
                .count(
                    "within_points",
                    &Some(v.clone()),
                    0,
                    "a whole number from 0 to 4294967295",
                )
                .map(Some),
        };
        if let (Some(combine), Some(within_levels), Some(within_points)) =
            (combine, within_levels, within_points)
        {
            rule = Some(MasteryRule {
                combine,
                every_criterion_at_least: m.every_criterion_at_least.as_ref().map(|l| l.v.clone()),
                min_total_points,
                borderline: Borderline {
                    within_levels,
                    within_points,
                },
            });
        }
    }

    // Cross-checks that need both the criteria and the rule.
    if let (Some(rule), Some(m), true) = (&rule, &d.mastery, criteria_ok) {
        let has_level_condition = rule.every_criterion_at_least.is_some()
            || criteria.iter().any(|c| c.required_level.is_some());
        let min_points_written = m.min_total_points.is_some();
        if !has_level_condition && !min_points_written {
            s.push(&m.at, Problem::NoMasteryCondition);
        }
        for (c, req_at) in criteria.iter().zip(&required_at) {
            if let Some(level) = c.required_level(rule)
                && c.level_index(level).is_none()
            {
                let at = match (&c.required_level, req_at, &m.every_criterion_at_least) {
                    (Some(_), Some(at), _) => at.clone(),
                    (_, _, Some(rule_at)) => rule_at.at.clone(),
                    _ => m.at.clone(),
                };
                s.push(
                    &at,
                    Problem::UnknownLevel {
                        criterion: c.id.clone(),
                        level: level.to_owned(),
                        known: c.levels.iter().map(|l| l.id.clone()).collect(),
                    },
                );
            }
        }
        if let (Some(min), Some(min_at)) = (rule.min_total_points, &m.min_total_points) {
            let max_points = criteria
                .iter()
                .map(Criterion::max_points)
                .fold(0, u64::saturating_add);
            if min > max_points {
                s.push(
                    &min_at.at,
                    Problem::ThresholdUnreachable {
                        min_total_points: min,
                        max_points,
                    },
                );
            }
        }
    }

    let mut diags = s.0;
    if !diags.is_empty() {
        // Stable sort keeps several problems at one place in the order they were found.
        diags.sort_by(|a, b| a.location.cmp(&b.location));
        return Err(Diagnostics(diags));
    }
    match (
        id,
        version,
        title,
        rule,
        criteria_ok,
        d.competencies.is_some(),
    ) {
        (Some(id), Some(version), Some(title), Some(mastery), true, true) => {
            let mut r = Rubric {
                id,
                version,
                title,
                description,
                competencies,
                case: d.case,
                mastery,
                criteria,
                digest: RubricDigest([0; 32]),
            };
            r.digest = r.compute_digest();
            Ok(r)
        }
        // Every path that leaves a required part unset pushed a diagnostic (or the front end did).
        _ => Err(Diagnostics(vec![Diagnostic {
            location: d.at,
            problem: Problem::Syntax {
                message: "incomplete rubric".into(),
            },
        }])),
    }
}
