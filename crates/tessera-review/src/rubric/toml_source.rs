//! The TOML front end: reads a rubric file into a [`DraftRubric`] with the line and column of
//! every value, reporting syntax errors, missing and unknown keys and wrong types at their place.
//!
//! We walk toml's spanned document tree ourselves instead of `#[derive(Deserialize)]` with
//! `deny_unknown_fields`: serde stops at the first mistake and reports missing fields without a
//! useful position, while a teacher fixing a rubric wants every mistake, each at its line.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{Diagnostic, Diagnostics, Error, Location, Problem};
use crate::rubric::{
    CaseLink, DraftBorderline, DraftCriterion, DraftLevel, DraftMastery, DraftRubric, L, Rubric,
    validate,
};

const ROOT_KEYS: &[&str] = &[
    "id",
    "version",
    "title",
    "description",
    "competencies",
    "case",
    "mastery",
    "criteria",
];
const MASTERY_KEYS: &[&str] = &[
    "combine",
    "every_criterion_at_least",
    "min_total_points",
    "borderline",
];
const BORDERLINE_KEYS: &[&str] = &["within_levels", "within_points"];
const CRITERION_KEYS: &[&str] = &[
    "id",
    "name",
    "description",
    "weight",
    "required_level",
    "case",
    "levels",
];
const LEVEL_KEYS: &[&str] = &["id", "name", "description", "points", "case"];
const CASE_KEYS: &[&str] = &["identifier", "uri"];

/// Byte offsets to 1-based line and character column.
struct Ctx<'s> {
    src: &'s str,
    file: &'s str,
    line_starts: Vec<usize>,
    diags: Vec<Diagnostic>,
}

impl<'s> Ctx<'s> {
    fn new(src: &'s str, file: &'s str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Ctx {
            src,
            file,
            line_starts,
            diags: Vec::new(),
        }
    }

    fn loc(&self, offset: usize) -> Location {
        let mut offset = offset.min(self.src.len());
        while !self.src.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = self
            .src
            .get(start..offset)
            .map_or(1, |t| t.chars().count() + 1);
        Location::Source {
            file: self.file.to_owned(),
            line,
            column,
        }
    }

    fn at(&self, span: &Range<usize>) -> Location {
        self.loc(span.start)
    }

    fn push(&mut self, span: &Range<usize>, problem: Problem) {
        let location = self.at(span);
        self.diags.push(Diagnostic { location, problem });
    }
}

/// One TOML table being read: remembers which keys were used, to report the rest as unknown.
struct Tbl<'a, 'i> {
    t: &'a DeTable<'i>,
    span: Range<usize>,
    name: String,
}

impl<'a, 'i> Tbl<'a, 'i> {
    fn get(&self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.t
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }

    fn unknown_keys(&self, cx: &mut Ctx<'_>, allowed: &'static [&'static str]) {
        for (k, _) in self.t.iter() {
            if !allowed.contains(&k.get_ref().as_ref()) {
                cx.push(
                    &k.span(),
                    Problem::UnknownField {
                        field: k.get_ref().to_string(),
                        table: self.name.clone(),
                        allowed,
                    },
                );
            }
        }
    }

    fn missing(&self, cx: &mut Ctx<'_>, field: &'static str) {
        cx.push(
            &self.span,
            Problem::MissingField {
                field,
                table: self.name.clone(),
            },
        );
    }

    fn string(&self, cx: &mut Ctx<'_>, key: &'static str, required: bool) -> Option<L<String>> {
        let Some(v) = self.get(key) else {
            if required {
                self.missing(cx, key);
            }
            return None;
        };
        match v.get_ref() {
            DeValue::String(s) => Some(L::new(s.to_string(), cx.at(&v.span()))),
            other => {
                wrong(cx, v, key, "a string", other);
                None
            }
        }
    }

    fn integer(&self, cx: &mut Ctx<'_>, key: &'static str, required: bool) -> Option<L<i64>> {
        let Some(v) = self.get(key) else {
            if required {
                self.missing(cx, key);
            }
            return None;
        };
        match v.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(L::new(n, cx.at(&v.span()))),
                Err(_) => {
                    cx.push(
                        &v.span(),
                        Problem::OutOfRange {
                            field: key.into(),
                            value: i.to_string(),
                            allowed: "a 64-bit integer",
                        },
                    );
                    None
                }
            },
            other => {
                wrong(cx, v, key, "a whole number", other);
                None
            }
        }
    }

    fn table(
        &self,
        cx: &mut Ctx<'_>,
        key: &'static str,
        name: String,
        required: bool,
    ) -> Option<Tbl<'a, 'i>> {
        let Some(v) = self.get(key) else {
            if required {
                self.missing(cx, key);
            }
            return None;
        };
        match v.get_ref() {
            DeValue::Table(t) => Some(Tbl {
                t,
                span: v.span(),
                name,
            }),
            other => {
                wrong(cx, v, key, "a table", other);
                None
            }
        }
    }

    fn array(
        &self,
        cx: &mut Ctx<'_>,
        key: &'static str,
        required: bool,
    ) -> Option<(&'a [Spanned<DeValue<'i>>], Range<usize>)> {
        let Some(v) = self.get(key) else {
            if required {
                self.missing(cx, key);
            }
            return None;
        };
        match v.get_ref() {
            DeValue::Array(a) => Some((a, v.span())),
            other => {
                wrong(cx, v, key, "an array", other);
                None
            }
        }
    }

    fn case(&self, cx: &mut Ctx<'_>) -> Option<CaseLink> {
        let t = self.table(cx, "case", format!("{}.case", self.name), false)?;
        t.unknown_keys(cx, CASE_KEYS);
        let identifier = t.string(cx, "identifier", true)?;
        let uri = t.string(cx, "uri", true)?;
        Some(CaseLink {
            identifier: identifier.v,
            uri: uri.v,
        })
    }
}

fn wrong(
    cx: &mut Ctx<'_>,
    v: &Spanned<DeValue<'_>>,
    key: &str,
    expected: &'static str,
    found: &DeValue<'_>,
) {
    cx.push(
        &v.span(),
        Problem::WrongType {
            field: key.to_owned(),
            expected,
            found: found.type_str(),
        },
    );
}

pub(crate) fn parse(src: &str, file: &str) -> Result<Rubric, Error> {
    let mut cx = Ctx::new(src, file);
    let doc = match DeTable::parse(src) {
        Ok(doc) => doc,
        Err(e) => {
            let location = cx.loc(e.span().map_or(0, |s| s.start));
            return Err(Error::InvalidRubric(Diagnostics(vec![Diagnostic {
                location,
                problem: Problem::Syntax {
                    message: e.message().trim().to_owned(),
                },
            }])));
        }
    };
    let root = Tbl {
        t: doc.get_ref(),
        span: 0..0,
        name: "the rubric".into(),
    };
    root.unknown_keys(&mut cx, ROOT_KEYS);

    let competencies = root
        .array(&mut cx, "competencies", true)
        .map(|(items, span)| {
            let list = items
                .iter()
                .filter_map(|item| match item.get_ref() {
                    DeValue::String(s) => Some(L::new(s.to_string(), cx.at(&item.span()))),
                    other => {
                        wrong(&mut cx, item, "competencies[]", "a string", other);
                        None
                    }
                })
                .collect();
            L::new(list, cx.at(&span))
        });

    let mastery = root
        .table(&mut cx, "mastery", "[mastery]".into(), true)
        .map(|m| {
            m.unknown_keys(&mut cx, MASTERY_KEYS);
            let borderline = m
                .table(&mut cx, "borderline", "[mastery.borderline]".into(), false)
                .map(|b| {
                    b.unknown_keys(&mut cx, BORDERLINE_KEYS);
                    DraftBorderline {
                        within_levels: b.integer(&mut cx, "within_levels", false),
                        within_points: b.integer(&mut cx, "within_points", false),
                    }
                });
            DraftMastery {
                at: cx.at(&m.span),
                combine: m.string(&mut cx, "combine", false),
                every_criterion_at_least: m.string(&mut cx, "every_criterion_at_least", false),
                min_total_points: m.integer(&mut cx, "min_total_points", false),
                borderline,
            }
        });

    let criteria = root.array(&mut cx, "criteria", true).map(|(items, span)| {
        let mut list = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let DeValue::Table(t) = item.get_ref() else {
                wrong(
                    &mut cx,
                    item,
                    "criteria[]",
                    "a table ([[criteria]])",
                    item.get_ref(),
                );
                continue;
            };
            let c = Tbl {
                t,
                span: item.span(),
                name: format!("criteria[{i}]"),
            };
            list.push(criterion(&mut cx, &c));
        }
        L::new(list, cx.at(&span))
    });

    let draft = DraftRubric {
        at: cx.loc(0),
        id: root.string(&mut cx, "id", true),
        version: root.string(&mut cx, "version", true),
        title: root.string(&mut cx, "title", true),
        description: root.string(&mut cx, "description", false),
        competencies,
        case: root.case(&mut cx),
        mastery,
        criteria,
    };
    validate(draft, cx.diags).map_err(Error::InvalidRubric)
}

fn criterion(cx: &mut Ctx<'_>, c: &Tbl<'_, '_>) -> DraftCriterion {
    c.unknown_keys(cx, CRITERION_KEYS);
    let levels = c.array(cx, "levels", true).map(|(items, span)| {
        let mut list = Vec::new();
        for (j, item) in items.iter().enumerate() {
            let DeValue::Table(t) = item.get_ref() else {
                wrong(
                    cx,
                    item,
                    "levels[]",
                    "a table ([[criteria.levels]])",
                    item.get_ref(),
                );
                continue;
            };
            let l = Tbl {
                t,
                span: item.span(),
                name: format!("{}.levels[{j}]", c.name),
            };
            l.unknown_keys(cx, LEVEL_KEYS);
            list.push(DraftLevel {
                id: l.string(cx, "id", true),
                name: l.string(cx, "name", true),
                description: l.string(cx, "description", false),
                points: l.integer(cx, "points", true),
                case: l.case(cx),
            });
        }
        L::new(list, cx.at(&span))
    });
    DraftCriterion {
        id: c.string(cx, "id", true),
        name: c.string(cx, "name", true),
        description: c.string(cx, "description", false),
        weight: c.integer(cx, "weight", false),
        required_level: c.string(cx, "required_level", false),
        case: c.case(cx),
        levels,
    }
}
