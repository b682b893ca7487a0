//! `theme.toml`: what a school changes without code — colours, logo, institution wording, the
//! verify URL, page size and every string a rendering prints (so a school can translate them).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The theme of a template folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Theme {
    /// BCP 47 language of the strings (the page's `lang`).
    pub language: String,
    /// The institution as the renderings name it.
    pub institution: Institution,
    /// Colours, as `#rrggbb`.
    pub colours: Colours,
    /// Where the QR code and the "verify at" line point. `{id}` is replaced by the transcript's
    /// id, URL-encoded.
    pub verify_url: String,
    /// How dates print (chrono `strftime` syntax).
    pub date_format: String,
    /// `A4` or `Letter`.
    pub page_size: String,
    /// Every string printed, by key (see the shipped `theme.toml` for the keys).
    pub strings: BTreeMap<String, String>,
}

/// How the institution is named.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Institution {
    /// Its name; empty takes the issuer's name from the signed transcript.
    pub name: String,
    /// A line under the name (address, motto).
    pub tagline: String,
    /// A logo file in the template folder (a relative path; PNG or SVG; empty for none): drawn
    /// at the top left of the PDF's header; an SVG is also inlined in the HTML page.
    pub logo: String,
    /// A sentence printed at the end of the transcript (what it attests, how to read it).
    pub statement: String,
}

/// The palette.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Colours {
    /// Headings, the QR code, mastery dots.
    pub primary: String,
    /// Highlights (achieved rubric level, in-progress marks).
    pub accent: String,
    /// Body text.
    pub text: String,
    /// Secondary text (statements, dates).
    pub muted: String,
    /// Rules and table lines.
    pub rule: String,
    /// Band behind headings.
    pub band: String,
}

impl Default for Colours {
    fn default() -> Self {
        Colours {
            primary: "#1f3a5f".into(),
            accent: "#b8860b".into(),
            text: "#1a1a1a".into(),
            muted: "#5a5a5a".into(),
            rule: "#c8ccd2".into(),
            band: "#eef2f7".into(),
        }
    }
}

/// The strings every rendering needs, with their English defaults. A theme may override any.
pub const DEFAULT_STRINGS: &[(&str, &str)] = &[
    ("title", "Mastery Transcript"),
    ("learner", "Learner"),
    ("issued", "Issued"),
    ("period", "Period"),
    ("scope_everything", "Complete record"),
    ("scope_framework", "One framework, chosen by the learner"),
    ("scope_competencies", "Competencies chosen by the learner"),
    (
        "partial_note",
        "Partial transcript: the learner chose what it contains.",
    ),
    ("mastered", "Mastered"),
    ("in_progress", "In progress"),
    ("median_days", "Median days to mastery"),
    ("mean_attempts", "Attempts per competency"),
    ("per_month", "Masteries per month"),
    ("pace", "Pace"),
    ("competency", "Competency"),
    ("level", "Level"),
    ("started", "Started"),
    ("mastered_on", "Mastered"),
    ("days", "Days"),
    ("attempts", "Tries"),
    ("rubric", "Rubric"),
    ("required", "required"),
    ("achieved", "achieved"),
    ("evidence", "Evidence"),
    ("prerequisites", "Builds on"),
    ("continued", "continued"),
    ("page", "Page"),
    ("of", "of"),
    ("verify_at", "Verify at"),
    ("scan_to_verify", "Scan to verify"),
    (
        "attachment_note",
        "The signed transcript (CLR 2.0 JSON) is attached to this PDF as transcript.json; \
         `tessera verify transcript.pdf` checks it offline.",
    ),
    ("unsigned", "DRAFT — not signed"),
    ("issuer", "Issued by"),
    (
        "truncated",
        "(shortened here; the full statement is in the attached transcript)",
    ),
];

impl Default for Theme {
    fn default() -> Self {
        Theme {
            language: "en".into(),
            institution: Institution::default(),
            colours: Colours::default(),
            verify_url: "https://tessera.example/verify?transcript={id}".into(),
            date_format: "%Y-%m-%d".into(),
            page_size: "A4".into(),
            strings: BTreeMap::new(),
        }
    }
}

impl Theme {
    /// Reads `theme.toml`; strings it lacks take their English defaults.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|detail| Error::Theme {
            file: path.to_owned(),
            detail,
        })
    }

    /// Parses a theme from TOML text.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let mut theme: Theme = toml::from_str(text).map_err(|e| e.to_string())?;
        theme.fill_defaults();
        theme.check()?;
        Ok(theme)
    }

    fn fill_defaults(&mut self) {
        for (k, v) in DEFAULT_STRINGS {
            self.strings
                .entry((*k).to_owned())
                .or_insert_with(|| (*v).to_owned());
        }
    }

    fn check(&self) -> std::result::Result<(), String> {
        let c = &self.colours;
        for (name, value) in [
            ("primary", &c.primary),
            ("accent", &c.accent),
            ("text", &c.text),
            ("muted", &c.muted),
            ("rule", &c.rule),
            ("band", &c.band),
        ] {
            if parse_colour(value).is_none() {
                return Err(format!("colours.{name} = {value:?} is not #rrggbb"));
            }
        }
        if !matches!(self.page_size.as_str(), "A4" | "Letter") {
            return Err(format!(
                "page_size = {:?}: use \"A4\" or \"Letter\"",
                self.page_size
            ));
        }
        // A format chrono cannot print would panic at render time; refuse it here instead.
        use chrono::format::{Item, StrftimeItems};
        if StrftimeItems::new(&self.date_format).any(|i| matches!(i, Item::Error)) {
            return Err(format!(
                "date_format = {:?} is not a strftime format",
                self.date_format
            ));
        }
        Ok(())
    }

    /// A string by key (the key itself if unknown, so a typo shows on the page, not a blank).
    pub fn s<'a>(&'a self, key: &'a str) -> &'a str {
        self.strings.get(key).map(String::as_str).unwrap_or(key)
    }

    /// The verify URL for a transcript id.
    pub fn verify_url_for(&self, id: &str) -> String {
        self.verify_url.replace("{id}", &url_encode(id))
    }

    /// Formats a date with the theme's format.
    pub fn date(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.format(&self.date_format).to_string()
    }
}

/// `#rrggbb` as three fractions.
pub fn parse_colour(hex: &str) -> Option<(f32, f32, f32)> {
    let h = hex.strip_prefix('#')?;
    if h.len() != 6 || !h.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some((
        f32::from(byte(0)?) / 255.0,
        f32::from(byte(2)?) / 255.0,
        f32::from(byte(4)?) / 255.0,
    ))
}

fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_missing_strings_and_bad_values_are_named() {
        let t = Theme::parse("[strings]\ntitle = \"Relevé de compétences\"\n").unwrap();
        assert_eq!(t.s("title"), "Relevé de compétences");
        assert_eq!(t.s("learner"), "Learner");
        let e = Theme::parse("[colours]\nprimary = \"blue\"\n").unwrap_err();
        assert!(e.contains("colours.primary"), "{e}");
        let e = Theme::parse("date_format = \"%Q\"\n").unwrap_err();
        assert!(e.contains("date_format"), "{e}");
        let e = Theme::parse("colour = 1\n").unwrap_err();
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn verify_url_encodes_the_id() {
        let t = Theme::default();
        assert_eq!(
            t.verify_url_for("urn:uuid:1"),
            "https://tessera.example/verify?transcript=urn%3Auuid%3A1"
        );
    }
}
