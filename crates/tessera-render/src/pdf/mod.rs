//! The PDF: the layout drawn with printpdf (subset fonts, Identity-H with a ToUnicode map so the
//! text can be copied and extracted), then the signed CLR attached with lopdf.

pub mod fonts;
pub mod layout;

use std::collections::HashMap;

use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfPage, PdfSaveOptions, Point,
    Polygon, PolygonRing, Pt, Rgb as PdfRgb, TextItem, WindingOrder, XObjectId, XObjectTransform,
};
use serde_json::Value;
use tessera_transcript::TranscriptView;

use crate::attach::attach;
use crate::error::{Error, Result};
use crate::html::Templates;
use crate::logo::Logo;
use fonts::{Face, Fonts};
use layout::{Item, Layout, Rgb};

/// Renders the PDF of a signed transcript (its exact JSON bytes), with those bytes attached.
pub fn render_pdf(clr: &[u8], templates: &Templates) -> Result<Vec<u8>> {
    let value: Value = serde_json::from_slice(clr)?;
    let view = TranscriptView::from_clr(&value)?;
    let laid = layout::layout(&view, templates.theme())?;
    let pdf = draw(&view, &laid, templates.logo())?;
    attach(&pdf, clr, &view)
}

fn colour(c: Rgb) -> Color {
    Color::Rgb(PdfRgb {
        r: c.0,
        g: c.1,
        b: c.2,
        icc_profile: None,
    })
}

fn pt(x: f32, y: f32) -> LinePoint {
    LinePoint {
        p: Point { x: Pt(x), y: Pt(y) },
        bezier: false,
    }
}

fn rect(ops: &mut Vec<Op>, x: f32, y_top: f32, w: f32, h: f32, page_h: f32) {
    let (x0, x1, y0, y1) = (x, x + w, page_h - y_top - h, page_h - y_top);
    ops.push(Op::DrawPolygon {
        polygon: Polygon {
            rings: vec![PolygonRing {
                points: vec![pt(x0, y0), pt(x1, y0), pt(x1, y1), pt(x0, y1)],
            }],
            mode: PaintMode::Fill,
            winding_order: WindingOrder::NonZero,
        },
    });
}

/// The logo added to the document: its XObject and its natural size in points.
struct PlacedLogo {
    id: XObjectId,
    width: f32,
    height: f32,
}

fn draw_item(
    ops: &mut Vec<Op>,
    item: &Item,
    top: f32,
    page_h: f32,
    fonts: &Fonts,
    ids: &HashMap<Face, FontId>,
    logo: Option<&PlacedLogo>,
) {
    match item {
        Item::Logo { x, y, size } => {
            let Some(logo) = logo else { return };
            // Fit into the box, aspect ratio kept, centred vertically in it.
            let scale = size / logo.width.max(logo.height).max(f32::EPSILON);
            let h = logo.height * scale;
            ops.push(Op::SaveGraphicsState);
            ops.push(Op::UseXobject {
                id: logo.id.clone(),
                transform: XObjectTransform {
                    translate_x: Some(Pt(*x)),
                    translate_y: Some(Pt(page_h - top - y - (size + h) / 2.0)),
                    scale_x: Some(scale),
                    scale_y: Some(scale),
                    dpi: Some(LOGO_DPI),
                    rotate: None,
                },
            });
            ops.push(Op::RestoreGraphicsState);
        }
        Item::Text {
            x,
            y,
            size,
            colour: c,
            face,
            text,
        } => {
            if text.is_empty() {
                return;
            }
            ops.push(Op::StartTextSection);
            ops.push(Op::SetFillColor { col: colour(*c) });
            ops.push(Op::SetTextCursor {
                pos: Point {
                    x: Pt(*x),
                    y: Pt(page_h - top - y),
                },
            });
            for run in fonts.runs(text, *face) {
                let Some(font) = ids.get(&run.face) else {
                    continue;
                };
                ops.push(Op::SetFontSize {
                    size: Pt(*size),
                    font: font.clone(),
                });
                ops.push(Op::WriteText {
                    items: vec![TextItem::Text(run.text)],
                    font: font.clone(),
                });
            }
            ops.push(Op::EndTextSection);
        }
        Item::Rect {
            x,
            y,
            w,
            h,
            colour: c,
        } => {
            ops.push(Op::SetFillColor { col: colour(*c) });
            rect(ops, *x, top + y, *w, *h, page_h);
        }
        Item::Line {
            x1,
            y1,
            x2,
            y2,
            width,
            colour: c,
        } => {
            ops.push(Op::SetOutlineColor { col: colour(*c) });
            ops.push(Op::SetOutlineThickness { pt: Pt(*width) });
            ops.push(Op::DrawLine {
                line: Line {
                    points: vec![pt(*x1, page_h - top - y1), pt(*x2, page_h - top - y2)],
                    is_closed: false,
                },
            });
        }
        Item::Qr {
            x,
            y,
            size,
            n,
            modules,
            colour: c,
        } => {
            ops.push(Op::SetFillColor { col: colour(*c) });
            let m = size / *n as f32;
            // One rectangle per horizontal run of dark modules.
            for row in 0..*n {
                let mut col = 0;
                while col < *n {
                    if !modules[row * n + col] {
                        col += 1;
                        continue;
                    }
                    let start = col;
                    while col < *n && modules[row * n + col] {
                        col += 1;
                    }
                    // A hair of overlap so viewers leave no seams between modules.
                    rect(
                        ops,
                        x + start as f32 * m,
                        top + y + row as f32 * m,
                        (col - start) as f32 * m + 0.05,
                        m + 0.05,
                        page_h,
                    );
                }
            }
        }
    }
}

/// The resolution logos are placed at: one pixel of a PNG is 72/150 pt before fitting (the
/// fitting scale then sets the drawn size; this only fixes the unit).
const LOGO_DPI: f32 = 150.0;

fn draw(view: &TranscriptView, laid: &Layout, logo: Option<&Logo>) -> Result<Vec<u8>> {
    let fonts = Fonts::get()?;
    let mut doc = PdfDocument::new(&view.title);
    doc.metadata.info.creator = "Tessera".into();
    doc.metadata.info.producer = "Tessera (printpdf)".into();
    let mut ids = HashMap::new();
    let uses_fallback = laid.texts().any(|t| fonts.needs_fallback(t));
    for face in [Face::Regular, Face::Bold, Face::Fallback] {
        if face == Face::Fallback && !uses_fallback {
            continue;
        }
        if let Some(f) = fonts.face(face) {
            ids.insert(face, doc.add_font(&f.parsed));
        }
    }
    let logo = logo.map(|l| {
        let (w, h) = l.pixels();
        let id = match l {
            Logo::Image(image) => doc.add_image(image),
            Logo::Vector(xobject) => doc.add_xobject(xobject),
        };
        PlacedLogo {
            id,
            width: w * 72.0 / LOGO_DPI,
            height: h * 72.0 / LOGO_DPI,
        }
    });
    let mm = |p: f32| Mm(p * 25.4 / 72.0);
    let mut pages = Vec::with_capacity(laid.pages.len());
    for page in &laid.pages {
        let mut ops = Vec::new();
        for block in &page.blocks {
            for item in &block.items {
                draw_item(
                    &mut ops,
                    item,
                    block.top,
                    laid.height,
                    &fonts,
                    &ids,
                    logo.as_ref(),
                );
            }
        }
        for item in &page.footer {
            draw_item(
                &mut ops,
                item,
                0.0,
                laid.height,
                &fonts,
                &ids,
                logo.as_ref(),
            );
        }
        pages.push(PdfPage::new(mm(laid.width), mm(laid.height), ops));
    }
    doc.with_pages(pages);
    let mut warnings = Vec::new();
    let opts = PdfSaveOptions {
        optimize: false,
        subset_fonts: true,
        secure: true,
        image_optimization: None,
    };
    let bytes = doc.save(&opts, &mut warnings);
    if bytes.is_empty() {
        return Err(Error::Pdf("printpdf wrote nothing".into()));
    }
    Ok(bytes)
}
