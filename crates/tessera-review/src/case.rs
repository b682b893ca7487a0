//! Import a CASE `CFRubric` (kept verbatim by the CASE importer) as a [`Rubric`].
//!
//! CASE 1.1 rubrics have criteria (`CFRubricCriteria[]`) with levels
//! (`CFRubricCriterionLevels[]`) carrying `quality` (the column label) and `score`, but no
//! version and no mastery rule; the caller supplies both in [`CaseImport`]. Mapping:
//!
//! | CASE | Tessera |
//! | --- | --- |
//! | CFRubric `identifier` / `title` / `description` | rubric `id` / `title` / `description`, `case` link |
//! | CFRubricCriterion `identifier` | criterion `id` |
//! | `category` (else `description`) | criterion `name` |
//! | `weight` | `weight` (must be a whole number ≥ 1) |
//! | `CFItemURI.identifier` | the rubric's `competencies` |
//! | CFRubricCriterionLevel `quality` (slugged, else `identifier`) | level `id`; `quality` is the `name` |
//! | `score` | `points` (must be a whole number ≥ 0) |
//! | `position` | order (criteria); levels are ordered by `score`, lowest first |
//!
//! Problems are located by JSON pointer (`{document}#/CFRubricCriteria/1/…`). Validation is the
//! same as for TOML files. Non-integer scores or weights are refused: Tessera keeps points exact.
//!
//! See: <https://www.imsglobal.org/spec/case/v1p1/>.

use serde_json::Value;

use crate::error::{Diagnostic, Error, Location, Problem};
use crate::rubric::{
    Borderline, CaseLink, Combine, DraftBorderline, DraftCriterion, DraftLevel, DraftMastery,
    DraftRubric, L, Rubric, validate,
};

/// What CASE does not say and Tessera needs.
#[derive(Debug, Clone)]
pub struct CaseImport {
    /// A name for the document in error locations (e.g. the CASE URL).
    pub document: String,
    /// The version to give the imported rubric (`MAJOR.MINOR.PATCH`).
    pub version: String,
    /// Mastery: every criterion at or above this level id (a slugged `quality`, e.g. `proficient`).
    pub every_criterion_at_least: Option<String>,
    /// Mastery: total weighted points needed.
    pub min_total_points: Option<u64>,
    /// How the two conditions combine.
    pub combine: Combine,
    /// Borderline definition.
    pub borderline: Borderline,
    /// Competencies assessed; when empty, taken from the criteria's `CFItemURI`s.
    pub competencies: Vec<String>,
}

struct Cx<'a> {
    doc: &'a str,
    diags: Vec<Diagnostic>,
}

impl Cx<'_> {
    fn at(&self, pointer: &str) -> Location {
        Location::Json {
            document: self.doc.to_owned(),
            pointer: pointer.to_owned(),
        }
    }
    fn push(&mut self, pointer: &str, problem: Problem) {
        let location = self.at(pointer);
        self.diags.push(Diagnostic { location, problem });
    }
    fn string(
        &mut self,
        obj: &Value,
        base: &str,
        key: &'static str,
        required: bool,
    ) -> Option<L<String>> {
        let p = format!("{base}/{key}");
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.push(
                        base,
                        Problem::MissingField {
                            field: key,
                            table: table_name(base),
                        },
                    );
                }
                None
            }
            Some(Value::String(s)) => Some(L::new(s.clone(), self.at(&p))),
            Some(v) => {
                self.push(
                    &p,
                    Problem::WrongType {
                        field: key.into(),
                        expected: "a string",
                        found: json_type(v),
                    },
                );
                None
            }
        }
    }
    /// A JSON number that must be a whole number.
    fn whole(
        &mut self,
        obj: &Value,
        base: &str,
        key: &'static str,
        required: bool,
    ) -> Option<L<i64>> {
        let p = format!("{base}/{key}");
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.push(
                        base,
                        Problem::MissingField {
                            field: key,
                            table: table_name(base),
                        },
                    );
                }
                None
            }
            Some(Value::Number(n)) => {
                let whole = n.as_i64().or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                });
                match whole {
                    Some(w) => Some(L::new(w, self.at(&p))),
                    None => {
                        self.push(
                            &p,
                            Problem::OutOfRange {
                                field: key.into(),
                                value: n.to_string(),
                                allowed: "a whole number",
                            },
                        );
                        None
                    }
                }
            }
            Some(v) => {
                self.push(
                    &p,
                    Problem::WrongType {
                        field: key.into(),
                        expected: "a number",
                        found: json_type(v),
                    },
                );
                None
            }
        }
    }
    fn link(&mut self, obj: &Value) -> Option<CaseLink> {
        match (obj.get("identifier"), obj.get("uri")) {
            (Some(Value::String(i)), Some(Value::String(u))) => Some(CaseLink {
                identifier: i.clone(),
                uri: u.clone(),
            }),
            _ => None,
        }
    }
}

fn table_name(pointer: &str) -> String {
    if pointer.is_empty() {
        "CFRubric".into()
    } else {
        pointer.to_owned()
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `"Partially Proficient"` → `partially-proficient`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for ch in s.trim().chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

fn position(v: &Value) -> f64 {
    v.get("position")
        .and_then(Value::as_f64)
        .unwrap_or(f64::MAX)
}

/// Import a CASE CFRubric JSON object.
pub fn rubric_from_cf_rubric(cf: &Value, opts: &CaseImport) -> Result<Rubric, Error> {
    let mut cx = Cx {
        doc: &opts.document,
        diags: Vec::new(),
    };
    if !cf.is_object() {
        cx.push(
            "",
            Problem::WrongType {
                field: "CFRubric".into(),
                expected: "an object",
                found: json_type(cf),
            },
        );
        return Err(Error::InvalidRubric(crate::error::Diagnostics(cx.diags)));
    }
    let id = cx.string(cf, "", "identifier", true);
    let title = cx.string(cf, "", "title", true);
    let description = cx.string(cf, "", "description", false);
    let case = cx.link(cf);

    let mut competencies: Vec<L<String>> = Vec::new();
    let opts_at = |p: &str| Location::Json {
        document: "import options".into(),
        pointer: p.to_owned(),
    };
    for c in &opts.competencies {
        competencies.push(L::new(c.clone(), opts_at("/competencies")));
    }

    let criteria = match cf.get("CFRubricCriteria") {
        None => {
            cx.push(
                "",
                Problem::MissingField {
                    field: "CFRubricCriteria",
                    table: "CFRubric".into(),
                },
            );
            None
        }
        Some(Value::Array(items)) => {
            let mut order: Vec<(usize, &Value)> = items.iter().enumerate().collect();
            order.sort_by(|a, b| position(a.1).total_cmp(&position(b.1)));
            let mut list = Vec::new();
            for (i, c) in order {
                let base = format!("/CFRubricCriteria/{i}");
                if !c.is_object() {
                    cx.push(
                        &base,
                        Problem::WrongType {
                            field: "CFRubricCriterion".into(),
                            expected: "an object",
                            found: json_type(c),
                        },
                    );
                    continue;
                }
                let cid = cx.string(c, &base, "identifier", true);
                let name = cx
                    .string(c, &base, "category", false)
                    .or_else(|| cx.string(c, &base, "description", false))
                    .or_else(|| cid.clone());
                let cdesc = c
                    .get("category")
                    .and(cx.string(c, &base, "description", false));
                let weight = cx.whole(c, &base, "weight", false);
                if opts.competencies.is_empty()
                    && let Some(Value::String(ident)) =
                        c.get("CFItemURI").and_then(|item| item.get("identifier"))
                    && !competencies.iter().any(|x| &x.v == ident)
                {
                    competencies.push(L::new(
                        ident.clone(),
                        cx.at(&format!("{base}/CFItemURI/identifier")),
                    ));
                }
                let levels = match c.get("CFRubricCriterionLevels") {
                    Some(Value::Array(ls)) => {
                        let mut lv: Vec<(usize, &Value)> = ls.iter().enumerate().collect();
                        // Our scale runs lowest first; CASE documents often list highest first.
                        lv.sort_by(|a, b| {
                            let s = |v: &Value| {
                                v.get("score").and_then(Value::as_f64).unwrap_or(f64::MIN)
                            };
                            s(a.1).total_cmp(&s(b.1))
                        });
                        let mut out = Vec::new();
                        for (j, l) in lv {
                            let lbase = format!("{base}/CFRubricCriterionLevels/{j}");
                            let ident = cx.string(l, &lbase, "identifier", true);
                            let quality = cx.string(l, &lbase, "quality", false);
                            let lid = quality
                                .as_ref()
                                .map(|q| L::new(slug(&q.v), q.at.clone()))
                                .filter(|q| !q.v.is_empty())
                                .or_else(|| ident.clone());
                            let lname = quality.clone().or_else(|| ident.clone());
                            out.push(DraftLevel {
                                id: lid,
                                name: lname,
                                description: cx.string(l, &lbase, "description", false),
                                points: cx.whole(l, &lbase, "score", true),
                                case: cx.link(l),
                            });
                        }
                        Some(L::new(
                            out,
                            cx.at(&format!("{base}/CFRubricCriterionLevels")),
                        ))
                    }
                    None => {
                        cx.push(
                            &base,
                            Problem::MissingField {
                                field: "CFRubricCriterionLevels",
                                table: base.clone(),
                            },
                        );
                        None
                    }
                    Some(v) => {
                        cx.push(
                            &format!("{base}/CFRubricCriterionLevels"),
                            Problem::WrongType {
                                field: "CFRubricCriterionLevels".into(),
                                expected: "an array",
                                found: json_type(v),
                            },
                        );
                        None
                    }
                };
                list.push(DraftCriterion {
                    id: cid,
                    name,
                    description: cdesc,
                    weight,
                    required_level: None,
                    case: cx.link(c),
                    levels,
                });
            }
            Some(L::new(list, cx.at("/CFRubricCriteria")))
        }
        Some(v) => {
            cx.push(
                "/CFRubricCriteria",
                Problem::WrongType {
                    field: "CFRubricCriteria".into(),
                    expected: "an array",
                    found: json_type(v),
                },
            );
            None
        }
    };

    let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let draft = DraftRubric {
        at: cx.at(""),
        id,
        version: Some(L::new(opts.version.clone(), opts_at("/version"))),
        title,
        description,
        competencies: Some(L::new(competencies, cx.at("/CFRubricCriteria"))),
        case,
        mastery: Some(DraftMastery {
            at: opts_at(""),
            combine: Some(L::new(
                match opts.combine {
                    Combine::All => "all".into(),
                    Combine::Any => "any".into(),
                },
                opts_at("/combine"),
            )),
            every_criterion_at_least: opts
                .every_criterion_at_least
                .as_ref()
                .map(|l| L::new(l.clone(), opts_at("/every_criterion_at_least"))),
            min_total_points: opts
                .min_total_points
                .map(|n| L::new(to_i64(n), opts_at("/min_total_points"))),
            borderline: Some(DraftBorderline {
                within_levels: Some(L::new(
                    to_i64(opts.borderline.within_levels),
                    opts_at("/borderline/within_levels"),
                )),
                within_points: opts
                    .borderline
                    .within_points
                    .map(|n| L::new(to_i64(n), opts_at("/borderline/within_points"))),
            }),
        }),
        criteria,
    };
    validate(draft, cx.diags).map_err(Error::InvalidRubric)
}
