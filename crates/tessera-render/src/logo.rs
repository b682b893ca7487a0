//! The school's logo (`theme.toml` `institution.logo`): a PNG or SVG file in the template folder,
//! read and converted once when the folder is loaded, so a missing or broken file shows when the
//! school's templates are loaded, naming the file, not when a learner asks for a PDF.
//!
//! A PNG becomes an image XObject; an SVG a form XObject (vector, through printpdf's `svg2pdf`),
//! and is also inlined at the top of the HTML page.

use std::path::{Component, Path};

use std::collections::BTreeMap;

use printpdf::{DictItem, ExternalXObject, PdfWarnMsg, RawImage};

use crate::error::{Error, Result};

/// A loaded logo, ready to be added to a PDF.
#[derive(Debug, Clone)]
pub enum Logo {
    /// A raster logo (PNG).
    Image(RawImage),
    /// A vector logo (SVG), converted to PDF drawing operations.
    Vector(ExternalXObject),
}

/// A logo file as the school names it: a relative path that stays inside the template folder.
fn checked_path(dir: &Path, name: &str) -> Result<std::path::PathBuf> {
    let rel = Path::new(name);
    let inside = rel
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !inside {
        return Err(Error::Logo {
            file: dir.join(rel),
            detail: "institution.logo must be a file inside the template folder (a relative path \
                     without ..)"
                .into(),
        });
    }
    Ok(dir.join(rel))
}

impl Logo {
    /// Reads `name` (relative to `dir`); `.png` and `.svg` files only. Also returns the SVG
    /// text, which the HTML page inlines.
    pub fn load(dir: &Path, name: &str) -> Result<(Self, Option<String>)> {
        let path = checked_path(dir, name)?;
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let bad = |detail: String| Error::Logo {
            file: path.clone(),
            detail,
        };
        let lower = name.to_ascii_lowercase();
        let mut warnings: Vec<PdfWarnMsg> = Vec::new();
        if lower.ends_with(".svg") {
            let text = String::from_utf8(bytes)
                .map_err(|_| bad("the SVG file is not UTF-8 text".into()))?;
            let mut xobject = printpdf::Svg::parse(&text, &mut warnings)
                .map_err(|e| bad(format!("not a usable SVG: {e}")))?;
            fix_resources(&mut xobject).map_err(bad)?;
            if xobject.width.is_none() || xobject.height.is_none() {
                return Err(bad("the SVG has no size".into()));
            }
            Ok((Logo::Vector(xobject), Some(text)))
        } else if lower.ends_with(".png") {
            if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
                return Err(bad("not a PNG file".into()));
            }
            let image = RawImage::decode_from_bytes(&bytes, &mut warnings)
                .map_err(|e| bad(format!("not a readable PNG: {e}")))?;
            if image.width == 0 || image.height == 0 {
                return Err(bad("the PNG is empty".into()));
            }
            Ok((Logo::Image(image), None))
        } else {
            Err(bad("use a .png or .svg file".into()))
        }
    }

    /// Its natural size in pixels.
    pub fn pixels(&self) -> (f32, f32) {
        match self {
            Logo::Image(i) => (i.width as f32, i.height as f32),
            Logo::Vector(x) => (
                x.width.map_or(1.0, |w| w.0 as f32),
                x.height.map_or(1.0, |h| h.0 as f32),
            ),
        }
    }
}

/// printpdf 0.8 keeps svg2pdf's drawing operations but writes the form's resources as
/// `/ColorSpace /DeviceRGB`, so the colour spaces the operations name (`/cs0 cs`) do not
/// resolve (viewers warn; strict ones may refuse). Name each one as DeviceRGB (svg2pdf's
/// colours are sRGB). Transparency states (`gs`) are dropped (the logo draws opaque);
/// gradients, patterns and embedded images cannot be resolved and are refused, with a hint.
fn fix_resources(xobject: &mut ExternalXObject) -> std::result::Result<(), String> {
    let content = String::from_utf8_lossy(&xobject.stream.content).into_owned();
    let mut spaces = BTreeMap::new();
    let mut kept = Vec::new();
    for line in content.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [name, "cs" | "CS"] if name.starts_with('/') => {
                spaces.insert(name[1..].to_owned(), DictItem::Name(b"DeviceRGB".to_vec()));
            }
            [name, "gs"] if name.starts_with('/') => continue,
            [.., "sh" | "Do" | "scn" | "SCN" | "BI"] => {
                return Err(
                    "the SVG uses gradients, patterns or images, which the PDF logo cannot \
                     draw: use a flat-colour SVG or a PNG"
                        .into(),
                );
            }
            _ => {}
        }
        kept.push(line);
    }
    let mut resources = BTreeMap::new();
    resources.insert("ColorSpace".to_owned(), DictItem::Dict { map: spaces });
    xobject
        .stream
        .dict
        .insert("Resources".to_owned(), DictItem::Dict { map: resources });
    let mut fixed = kept.join("\n");
    fixed.push('\n');
    xobject.stream.content = fixed.into_bytes();
    Ok(())
}
