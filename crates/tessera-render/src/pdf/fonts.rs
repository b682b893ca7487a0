//! The bundled fonts (see `fonts/LICENSE`): DejaVu Sans and DejaVu Sans Bold for Latin, Greek,
//! Cyrillic, Georgian, Armenian, Hebrew, Arabic …, and Droid Sans Fallback for the scripts DejaVu
//! lacks (Chinese, Japanese, Korean). Text is measured with the same advance widths the PDF
//! records, so what the layout computes is what a viewer draws.

use std::cell::OnceCell;
use std::rc::Rc;

use printpdf::ParsedFont;

use crate::error::{Error, Result};

const REGULAR: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");
const FALLBACK: &[u8] = include_bytes!("../../fonts/DroidSansFallback.ttf");

/// Which face a run of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Face {
    /// DejaVu Sans.
    Regular,
    /// DejaVu Sans Bold.
    Bold,
    /// Droid Sans Fallback (CJK).
    Fallback,
}

/// One face, parsed, with what measuring needs.
pub struct Font {
    /// The parsed font (printpdf's).
    pub parsed: ParsedFont,
    units_per_em: f32,
}

impl Font {
    fn parse(bytes: &[u8], name: &str) -> Result<Font> {
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(bytes, 0, &mut warnings)
            .ok_or_else(|| Error::Font(format!("cannot parse the bundled {name}")))?;
        let units_per_em = f32::from(parsed.font_metrics.units_per_em.max(1));
        Ok(Font {
            parsed,
            units_per_em,
        })
    }

    fn glyph(&self, c: char) -> Option<u16> {
        self.parsed.lookup_glyph_index(c as u32).filter(|g| *g != 0)
    }

    /// Advance of `c` at 1 pt (0 if the font has no glyph), read from `hmtx` and rounded the
    /// way printpdf writes the PDF's `/W` array (integer thousandths of an em), so measuring
    /// agrees with what a viewer draws.
    fn advance(&self, c: char) -> f32 {
        let Some(g) = self.glyph(c) else { return 0.0 };
        let count = self
            .parsed
            .hhea_table
            .as_ref()
            .map_or(0, |h| usize::from(h.num_h_metrics));
        // Glyphs past the last long metric share its advance (OpenType hmtx).
        let index = usize::from(g).min(count.saturating_sub(1));
        let units = self
            .parsed
            .hmtx_data
            .get(index * 4..index * 4 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .unwrap_or(0);
        (f32::from(units) * 1000.0 / self.units_per_em).floor() / 1000.0
    }
}

/// The three faces. The fallback is parsed only when a text needs it (it is large).
pub struct Fonts {
    regular: Font,
    bold: Font,
    fallback: OnceCell<Option<Font>>,
}

/// A run of text in one face.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The face.
    pub face: Face,
    /// The text.
    pub text: String,
}

thread_local! {
    // ParsedFont holds `Rc`s (so it is neither Send nor Sync): parse once per thread, not per
    // PDF — parsing DejaVu costs milliseconds, the fallback tens of them.
    static FONTS: OnceCell<Rc<Fonts>> = const { OnceCell::new() };
}

impl Fonts {
    /// The fonts of this thread, parsed on first use.
    pub fn get() -> Result<Rc<Fonts>> {
        FONTS.with(|cell| {
            if let Some(f) = cell.get() {
                return Ok(f.clone());
            }
            let fonts = Rc::new(Fonts {
                regular: Font::parse(REGULAR, "DejaVuSans.ttf")?,
                bold: Font::parse(BOLD, "DejaVuSans-Bold.ttf")?,
                fallback: OnceCell::new(),
            });
            let _ = cell.set(fonts.clone());
            Ok(fonts)
        })
    }

    /// The parsed face (the fallback only if it was needed and parsed).
    pub fn face(&self, face: Face) -> Option<&Font> {
        match face {
            Face::Regular => Some(&self.regular),
            Face::Bold => Some(&self.bold),
            Face::Fallback => self.fallback.get().and_then(Option::as_ref),
        }
    }

    fn fallback(&self) -> Option<&Font> {
        self.fallback
            .get_or_init(|| Font::parse(FALLBACK, "DroidSansFallback.ttf").ok())
            .as_ref()
    }

    /// The face that draws `c` when `wanted` is asked for: the wanted one if it has the glyph,
    /// else the fallback if it has it, else the wanted one (which draws its .notdef box).
    pub fn face_for(&self, c: char, wanted: Face) -> Face {
        let primary = if wanted == Face::Bold {
            &self.bold
        } else {
            &self.regular
        };
        if c.is_whitespace() || primary.glyph(c).is_some() {
            return wanted;
        }
        match self.fallback() {
            Some(f) if f.glyph(c).is_some() => Face::Fallback,
            _ => wanted,
        }
    }

    /// Width of `text` in `face` at `size` pt, as drawn (with fallback glyphs).
    pub fn width(&self, text: &str, face: Face, size: f32) -> f32 {
        let mut w = 0.0;
        for c in text.chars() {
            let f = self.face_for(c, face);
            w += self.face(f).map(|f| f.advance(c)).unwrap_or(0.0);
        }
        w * size
    }

    /// `text` split into runs by the face that draws each character.
    pub fn runs(&self, text: &str, face: Face) -> Vec<Run> {
        let mut out: Vec<Run> = Vec::new();
        for c in text.chars() {
            let f = self.face_for(c, face);
            match out.last_mut() {
                Some(r) if r.face == f => r.text.push(c),
                _ => out.push(Run {
                    face: f,
                    text: c.to_string(),
                }),
            }
        }
        out
    }

    /// Whether the fallback face is drawn for any character of `text`.
    pub fn needs_fallback(&self, text: &str) -> bool {
        text.chars()
            .any(|c| self.face_for(c, Face::Regular) == Face::Fallback)
    }
}

/// Characters a line may break after without a space (CJK ideographs, kana, hangul, fullwidth).
pub fn breaks_anywhere(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x2FFFF)
}

/// Wraps `text` into lines no wider than `width` (the first line `first_width`). Words longer
/// than a line are broken between characters; CJK text breaks between any two characters.
pub fn wrap(
    fonts: &Fonts,
    text: &str,
    face: Face,
    size: f32,
    first_width: f32,
    width: f32,
) -> Vec<String> {
    // Tokens: (text, preceded by a space).
    let mut tokens: Vec<(String, bool)> = Vec::new();
    let mut space = false;
    let mut current = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            if !current.is_empty() {
                tokens.push((std::mem::take(&mut current), space));
            }
            space = true;
        } else if breaks_anywhere(c) {
            if !current.is_empty() {
                tokens.push((std::mem::take(&mut current), space));
                space = false;
            }
            tokens.push((c.to_string(), space));
            space = false;
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        tokens.push((current, space));
    }
    let space_w = fonts.width(" ", face, size);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut line_w = 0.0f32;
    let limit = |lines: &Vec<String>| if lines.is_empty() { first_width } else { width };
    for (token, spaced) in tokens {
        let w = fonts.width(&token, face, size);
        let gap = if line.is_empty() || !spaced {
            0.0
        } else {
            space_w
        };
        if line_w + gap + w <= limit(&lines) {
            if gap > 0.0 {
                line.push(' ');
            }
            line.push_str(&token);
            line_w += gap + w;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line_w = 0.0;
        }
        if w <= limit(&lines) {
            line.push_str(&token);
            line_w = w;
            continue;
        }
        // A word wider than a line: break it between characters.
        for c in token.chars() {
            let cw = fonts.width(c.encode_utf8(&mut [0; 4]), face, size);
            if line_w + cw > limit(&lines) && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            line.push(c);
            line_w += cw;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}
