//! The PDF's layout model: the transcript cut into blocks (header, pace, area headings, one block
//! per competency row, …) measured with the real font metrics, then placed on pages so that no
//! block — in particular no row — is ever cut by a page break. Drawing only reads this model,
//! so tests check the pagination here.

use serde::Serialize;
use tessera_transcript::TranscriptView;
use tessera_transcript::view::Competency;

use crate::error::Result;
use crate::pdf::fonts::{Face, Fonts, wrap};
use crate::theme::{Theme, parse_colour};
use crate::timeline::Timeline;

/// An RGB colour, fractions.
pub type Rgb = (f32, f32, f32);

/// Page geometry (points, origin top-left).
pub const MARGIN_X: f32 = 40.0;
/// Top margin.
pub const MARGIN_TOP: f32 = 40.0;
/// Bottom margin (the footer sits in it).
pub const MARGIN_BOTTOM: f32 = 52.0;
/// Longest statement a row shows, in lines (so a row always fits a page; the attached
/// transcript has the whole text).
pub const MAX_STATEMENT_LINES: usize = 20;
/// Longest name a row shows, in lines.
pub const MAX_NAME_LINES: usize = 6;
/// Side of the box the logo is fitted into (pt).
pub const LOGO_SIZE: f32 = 44.0;
/// Timeline lanes per block.
const LANES_PER_BLOCK: usize = 18;

/// What a block is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum BlockKind {
    /// Title, learner, facts, QR code.
    Header,
    /// The figures at a glance.
    Glance,
    /// (Part of) the pace timeline.
    Timeline,
    /// An area's heading (`continued` when repeated after a page break).
    AreaHeading {
        /// The area's index in the view.
        area: usize,
        /// Repeated on a later page.
        continued: bool,
    },
    /// The table's column heads.
    ColumnHeads,
    /// One competency's row.
    Row {
        /// The competency's id.
        id: String,
    },
    /// The closing statement and how to verify.
    Closing,
}

/// Something drawn, positioned relative to its block's top (x from the page's left edge).
#[derive(Debug, Clone, Serialize)]
pub enum Item {
    /// A line of text; `y` is the baseline.
    Text {
        /// Left edge.
        x: f32,
        /// Baseline, from the block's top.
        y: f32,
        /// Size in points.
        size: f32,
        /// Colour.
        colour: Rgb,
        /// The face asked for (runs in the fallback face are chosen when drawing).
        face: Face,
        /// The text.
        text: String,
    },
    /// A filled rectangle.
    Rect {
        /// Left.
        x: f32,
        /// Top, from the block's top.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
        /// Fill.
        colour: Rgb,
    },
    /// A straight line.
    Line {
        /// Start.
        x1: f32,
        /// Start, from the block's top.
        y1: f32,
        /// End.
        x2: f32,
        /// End, from the block's top.
        y2: f32,
        /// Thickness.
        width: f32,
        /// Colour.
        colour: Rgb,
    },
    /// The school's logo (`theme.toml` `institution.logo`), fitted into a `size`×`size` box
    /// with its aspect ratio kept.
    Logo {
        /// Left.
        x: f32,
        /// Top, from the block's top.
        y: f32,
        /// Side of the box.
        size: f32,
    },
    /// A QR code: `n`×`n` modules, row-major, true = dark.
    Qr {
        /// Left.
        x: f32,
        /// Top, from the block's top.
        y: f32,
        /// Side of the whole code.
        size: f32,
        /// Modules per side.
        n: usize,
        /// The modules.
        modules: Vec<bool>,
        /// Colour of the dark modules.
        colour: Rgb,
    },
}

/// A measured block placed on a page.
#[derive(Debug, Clone, Serialize)]
pub struct Block {
    /// What it is.
    pub kind: BlockKind,
    /// Its top, from the page's top edge.
    pub top: f32,
    /// Its height.
    pub height: f32,
    /// What it draws.
    pub items: Vec<Item>,
}

/// One page.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// Its blocks, top to bottom.
    pub blocks: Vec<Block>,
    /// The footer (positioned from the page's top edge).
    pub footer: Vec<Item>,
}

/// The laid-out transcript.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    /// Page width (pt).
    pub width: f32,
    /// Page height (pt).
    pub height: f32,
    /// Top of the content area.
    pub content_top: f32,
    /// Bottom of the content area.
    pub content_bottom: f32,
    /// The pages.
    pub pages: Vec<Page>,
}

impl Layout {
    /// Blocks that do not lie wholly inside their page's content area (empty when the
    /// pagination holds), as (page index, block kind).
    pub fn cut_blocks(&self) -> Vec<(usize, BlockKind)> {
        let mut out = Vec::new();
        for (i, p) in self.pages.iter().enumerate() {
            for b in &p.blocks {
                if b.top < self.content_top - 0.01 || b.top + b.height > self.content_bottom + 0.01
                {
                    out.push((i, b.kind.clone()));
                }
            }
        }
        out
    }

    /// Every text of the layout, in reading order (for tests).
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.pages.iter().flat_map(|p| {
            p.blocks
                .iter()
                .flat_map(|b| b.items.iter())
                .chain(p.footer.iter())
                .filter_map(|i| match i {
                    Item::Text { text, .. } => Some(text.as_str()),
                    _ => None,
                })
        })
    }
}

struct Palette {
    primary: Rgb,
    accent: Rgb,
    text: Rgb,
    muted: Rgb,
    rule: Rgb,
    band: Rgb,
    light: Rgb,
}

fn colour(hex: &str) -> Rgb {
    parse_colour(hex).unwrap_or((0.0, 0.0, 0.0))
}

/// Builds blocks, measuring text as it goes.
struct Builder<'a> {
    fonts: &'a Fonts,
    theme: &'a Theme,
    p: Palette,
    left: f32,
    width: f32,
}

/// A block under construction.
struct Draft {
    kind: BlockKind,
    height: f32,
    items: Vec<Item>,
}

impl Builder<'_> {
    /// Adds wrapped text; returns the height used (lines × leading).
    #[allow(clippy::too_many_arguments)]
    fn text(
        &self,
        items: &mut Vec<Item>,
        text: &str,
        face: Face,
        size: f32,
        colour: Rgb,
        x: f32,
        top: f32,
        width: f32,
        max_lines: usize,
    ) -> (f32, bool) {
        let leading = size * 1.3;
        let mut lines = wrap(self.fonts, text, face, size, width, width);
        let truncated = lines.len() > max_lines;
        if truncated {
            lines.truncate(max_lines);
            if let Some(last) = lines.last_mut() {
                // Room for the ellipsis: drop characters until it fits.
                while !last.is_empty() && self.fonts.width(&format!("{last} …"), face, size) > width
                {
                    last.pop();
                }
                last.push_str(" …");
            }
        }
        for (i, line) in lines.iter().enumerate() {
            items.push(Item::Text {
                x,
                y: top + size + i as f32 * leading,
                size,
                colour,
                face,
                text: line.clone(),
            });
        }
        (lines.len() as f32 * leading, truncated)
    }

    fn header(&self, view: &TranscriptView, qr: &qrcode::QrCode, url: &str) -> Draft {
        let t = self.theme;
        let mut items = Vec::new();
        let qr_size = 92.0;
        let side_w = 118.0;
        let mut text_w = self.width - side_w - 12.0;
        let mut x = self.left;
        let mut y = 0.0;
        // The logo, when the theme names one, at the top left; the text moves right of it.
        if !t.institution.logo.is_empty() {
            items.push(Item::Logo {
                x,
                y: 0.0,
                size: LOGO_SIZE,
            });
            x += LOGO_SIZE + 10.0;
            text_w -= LOGO_SIZE + 10.0;
        }
        let institution = if t.institution.name.is_empty() {
            view.issuer_name.as_str()
        } else {
            t.institution.name.as_str()
        };
        y += self
            .text(
                &mut items,
                institution,
                Face::Bold,
                10.0,
                self.p.muted,
                x,
                y,
                text_w,
                3,
            )
            .0;
        if !t.institution.tagline.is_empty() {
            y += self
                .text(
                    &mut items,
                    &t.institution.tagline,
                    Face::Regular,
                    8.0,
                    self.p.muted,
                    x,
                    y,
                    text_w,
                    2,
                )
                .0;
        }
        y += 6.0;
        y += self
            .text(
                &mut items,
                t.s("title"),
                Face::Bold,
                20.0,
                self.p.primary,
                x,
                y,
                text_w,
                2,
            )
            .0;
        y += 4.0;
        y += self
            .text(
                &mut items,
                &view.learner_name,
                Face::Bold,
                15.0,
                self.p.text,
                x,
                y,
                text_w,
                3,
            )
            .0;
        if !view.signed {
            y += self
                .text(
                    &mut items,
                    t.s("unsigned"),
                    Face::Bold,
                    11.0,
                    (0.7, 0.0, 0.0),
                    x,
                    y,
                    text_w,
                    2,
                )
                .0;
        }
        y += 6.0;
        let label_w = 78.0;
        let mut facts: Vec<(&str, String)> = vec![
            (t.s("issuer"), view.issuer_name.clone()),
            (t.s("issued"), t.date(&view.issued_at)),
        ];
        if let (Some(a), Some(b)) = (view.period_start, view.period_end) {
            facts.push((t.s("period"), format!("{} – {}", t.date(&a), t.date(&b))));
        }
        let scope_key = format!("scope_{}", view.scope);
        facts.push(("", t.s(&scope_key).to_owned()));
        for (label, value) in facts {
            self.text(
                &mut items,
                label,
                Face::Regular,
                8.0,
                self.p.muted,
                x,
                y,
                label_w - 4.0,
                1,
            );
            y += self
                .text(
                    &mut items,
                    &value,
                    Face::Regular,
                    8.5,
                    self.p.text,
                    x + label_w,
                    y,
                    text_w - label_w,
                    3,
                )
                .0;
        }
        if view.partial {
            y += 3.0;
            y += self
                .text(
                    &mut items,
                    t.s("partial_note"),
                    Face::Bold,
                    8.5,
                    self.p.accent,
                    x,
                    y,
                    text_w,
                    3,
                )
                .0;
        }
        // The QR code and the URL, on the right.
        let qx = self.left + self.width - side_w + (side_w - qr_size) / 2.0;
        items.push(Item::Qr {
            x: qx,
            y: 0.0,
            size: qr_size,
            n: qr.width(),
            modules: qr
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect(),
            colour: self.p.primary,
        });
        let mut qy = qr_size + 3.0;
        let sx = self.left + self.width - side_w;
        qy += self
            .text(
                &mut items,
                t.s("scan_to_verify"),
                Face::Bold,
                7.5,
                self.p.primary,
                sx,
                qy,
                side_w,
                2,
            )
            .0;
        qy += self
            .text(
                &mut items,
                url,
                Face::Regular,
                6.0,
                self.p.muted,
                sx,
                qy,
                side_w,
                6,
            )
            .0;
        let height = y.max(qy).max(LOGO_SIZE) + 6.0;
        items.push(Item::Line {
            x1: self.left,
            y1: height - 2.0,
            x2: self.left + self.width,
            y2: height - 2.0,
            width: 1.5,
            colour: self.p.primary,
        });
        Draft {
            kind: BlockKind::Header,
            height: height + 6.0,
            items,
        }
    }

    fn glance(&self, view: &TranscriptView) -> Draft {
        let t = self.theme;
        let pacing = &view.pacing;
        let mut figures: Vec<(String, &str)> = vec![
            (pacing.mastered.to_string(), t.s("mastered")),
            (pacing.in_progress.to_string(), t.s("in_progress")),
        ];
        if let Some(d) = pacing.median_days {
            figures.push((format!("{}", d.round() as i64), t.s("median_days")));
        }
        if let Some(a) = &pacing.mean_attempts {
            figures.push((a.clone(), t.s("mean_attempts")));
        }
        if let Some(m) = &pacing.per_month {
            figures.push((m.clone(), t.s("per_month")));
        }
        let gap = 6.0;
        let n = figures.len() as f32;
        let box_w = (self.width - gap * (n - 1.0)) / n;
        let mut texts = Vec::new();
        let mut tallest: f32 = 0.0;
        for (i, (figure, label)) in figures.iter().enumerate() {
            let x = self.left + i as f32 * (box_w + gap) + 6.0;
            let mut h = 6.0;
            h += self
                .text(
                    &mut texts,
                    figure,
                    Face::Bold,
                    14.0,
                    self.p.primary,
                    x,
                    h,
                    box_w - 12.0,
                    1,
                )
                .0;
            h += self
                .text(
                    &mut texts,
                    label,
                    Face::Regular,
                    7.5,
                    self.p.muted,
                    x,
                    h,
                    box_w - 12.0,
                    3,
                )
                .0;
            tallest = tallest.max(h + 5.0);
        }
        let mut items: Vec<Item> = (0..figures.len())
            .map(|i| Item::Rect {
                x: self.left + i as f32 * (box_w + gap),
                y: 0.0,
                w: box_w,
                h: tallest,
                colour: self.p.band,
            })
            .collect();
        items.extend(texts);
        Draft {
            kind: BlockKind::Glance,
            height: tallest + 12.0,
            items,
        }
    }

    fn timeline(&self, tl: &Timeline, lanes: std::ops::Range<usize>, first: bool) -> Draft {
        let t = self.theme;
        let mut items = Vec::new();
        let mut y = 0.0;
        if first {
            y += self
                .text(
                    &mut items,
                    t.s("pace"),
                    Face::Bold,
                    12.0,
                    self.p.primary,
                    self.left,
                    y,
                    self.width,
                    1,
                )
                .0;
            y += 4.0;
        }
        let label_w = 130.0;
        let plot_x = self.left + label_w;
        let plot_w = self.width - label_w - 8.0;
        let lane_h = 13.0;
        let top = y;
        let count = lanes.len();
        for (row, lane) in tl.lanes[lanes].iter().enumerate() {
            let cy = top + row as f32 * lane_h + lane_h / 2.0;
            // Lane label, shortened to its column.
            let mut label = lane.label.clone();
            while self.fonts.width(&label, Face::Regular, 7.0) > label_w - 8.0 && !label.is_empty()
            {
                label.pop();
                while label.ends_with(' ') {
                    label.pop();
                }
                if self.fonts.width(&format!("{label}…"), Face::Regular, 7.0) <= label_w - 8.0 {
                    label.push('…');
                    break;
                }
            }
            items.push(Item::Text {
                x: self.left,
                y: cy + 2.5,
                size: 7.0,
                colour: self.p.muted,
                face: Face::Regular,
                text: label,
            });
            items.push(Item::Rect {
                x: plot_x,
                y: cy - 4.0,
                w: plot_w,
                h: 8.0,
                colour: self.p.band,
            });
            for m in &lane.marks {
                let x1 = plot_x + m.from as f32 * plot_w;
                let x2 = plot_x + m.to as f32 * plot_w;
                items.push(Item::Line {
                    x1,
                    y1: cy,
                    x2: x2.max(x1 + 0.5),
                    y2: cy,
                    width: 1.2,
                    colour: self.p.light,
                });
                items.push(Item::Rect {
                    x: x2 - 1.6,
                    y: cy - 1.6,
                    w: 3.2,
                    h: 3.2,
                    colour: if m.mastered {
                        self.p.primary
                    } else {
                        self.p.accent
                    },
                });
            }
        }
        let axis_y = top + count as f32 * lane_h;
        for tick in &tl.ticks {
            let x = plot_x + tick.at as f32 * plot_w;
            items.push(Item::Line {
                x1: x,
                y1: top,
                x2: x,
                y2: axis_y + 2.0,
                width: 0.4,
                colour: self.p.rule,
            });
            let w = self.fonts.width(&tick.label, Face::Regular, 6.5);
            items.push(Item::Text {
                x: (x - w / 2.0).min(self.left + self.width - w),
                y: axis_y + 9.0,
                size: 6.5,
                colour: self.p.muted,
                face: Face::Regular,
                text: tick.label.clone(),
            });
        }
        Draft {
            kind: BlockKind::Timeline,
            height: axis_y + 18.0,
            items,
        }
    }

    fn area_heading(&self, view: &TranscriptView, area: usize, continued: bool) -> Draft {
        let a = &view.areas[area];
        let mut items = Vec::new();
        let mut title = a.name.clone();
        if continued {
            title = format!("{title} ({})", self.theme.s("continued"));
        }
        let mut y = 6.0;
        y += self
            .text(
                &mut items,
                &title,
                Face::Bold,
                12.0,
                self.p.primary,
                self.left,
                y,
                self.width,
                3,
            )
            .0;
        if let (Some(f), false) = (&a.framework, continued) {
            y += self
                .text(
                    &mut items,
                    f,
                    Face::Regular,
                    7.5,
                    self.p.muted,
                    self.left,
                    y,
                    self.width,
                    2,
                )
                .0;
        }
        Draft {
            kind: BlockKind::AreaHeading { area, continued },
            height: y + 3.0,
            items,
        }
    }

    /// Column x positions and widths: competency, level, started, mastered, days, tries.
    fn columns(&self) -> [(f32, f32); 6] {
        let fixed = [72.0, 60.0, 60.0, 32.0, 30.0];
        let first = self.width - fixed.iter().sum::<f32>();
        let mut x = self.left;
        let mut out = [(0.0, 0.0); 6];
        for (i, w) in std::iter::once(first).chain(fixed).enumerate() {
            out[i] = (x, w);
            x += w;
        }
        out
    }

    fn column_heads(&self) -> Draft {
        let t = self.theme;
        let cols = self.columns();
        let mut items = vec![Item::Rect {
            x: self.left,
            y: 0.0,
            w: self.width,
            h: 14.0,
            colour: self.p.band,
        }];
        let labels = [
            t.s("competency"),
            t.s("level"),
            t.s("started"),
            t.s("mastered_on"),
            t.s("days"),
            t.s("attempts"),
        ];
        for (i, ((x, w), label)) in cols.iter().zip(labels).enumerate() {
            let tw = self.fonts.width(label, Face::Bold, 7.0);
            let lx = if i >= 4 { x + w - 4.0 - tw } else { x + 3.0 };
            let mut shown = label.to_owned();
            while self.fonts.width(&shown, Face::Bold, 7.0) > w - 6.0 && !shown.is_empty() {
                shown.pop();
            }
            items.push(Item::Text {
                x: lx.max(*x + 1.0),
                y: 10.0,
                size: 7.0,
                colour: self.p.muted,
                face: Face::Bold,
                text: shown,
            });
        }
        Draft {
            kind: BlockKind::ColumnHeads,
            height: 16.0,
            items,
        }
    }

    fn row(&self, c: &Competency) -> Draft {
        let t = self.theme;
        let cols = self.columns();
        let pad = 4.0;
        let mut items = Vec::new();
        let (cx, cw) = cols[0];
        let inner = cw - 8.0;
        // Code (muted) on its own short line above the name when there is one.
        let mut y = pad;
        if let Some(code) = &c.code {
            y += self
                .text(
                    &mut items,
                    code,
                    Face::Regular,
                    6.5,
                    self.p.muted,
                    cx + 3.0,
                    y,
                    inner,
                    1,
                )
                .0;
        }
        y += self
            .text(
                &mut items,
                &c.name,
                Face::Bold,
                8.5,
                self.p.text,
                cx + 3.0,
                y,
                inner,
                MAX_NAME_LINES,
            )
            .0;
        if !c.statement.is_empty() {
            y += 1.0;
            let (h, truncated) = self.text(
                &mut items,
                &c.statement,
                Face::Regular,
                7.0,
                self.p.muted,
                cx + 3.0,
                y,
                inner,
                MAX_STATEMENT_LINES,
            );
            y += h;
            if truncated {
                y += self
                    .text(
                        &mut items,
                        t.s("truncated"),
                        Face::Regular,
                        6.0,
                        self.p.muted,
                        cx + 3.0,
                        y,
                        inner,
                        2,
                    )
                    .0;
            }
        }
        for e in c.evidence.iter().take(4) {
            y += self
                .text(
                    &mut items,
                    &format!("{}: {}", t.s("evidence"), e.name),
                    Face::Regular,
                    6.5,
                    self.p.primary,
                    cx + 3.0,
                    y,
                    inner,
                    2,
                )
                .0;
        }
        let mut tallest = y;
        // Level (or in progress).
        let (lx, lw) = cols[1];
        let (level, face, colour) = match (&c.level, c.mastered_at) {
            (Some(l), _) => (l.as_str(), Face::Bold, self.p.primary),
            (None, None) => (t.s("in_progress"), Face::Regular, self.p.accent),
            (None, Some(_)) => ("", Face::Regular, self.p.text),
        };
        tallest = tallest.max(
            pad + self
                .text(
                    &mut items,
                    level,
                    face,
                    8.0,
                    colour,
                    lx + 3.0,
                    pad,
                    lw - 6.0,
                    4,
                )
                .0,
        );
        let dates = [
            c.first_activity.map(|d| t.date(&d)).unwrap_or_default(),
            c.mastered_at.map(|d| t.date(&d)).unwrap_or_default(),
        ];
        for (i, d) in dates.iter().enumerate() {
            let (x, w) = cols[2 + i];
            tallest = tallest.max(
                pad + self
                    .text(
                        &mut items,
                        d,
                        Face::Regular,
                        7.5,
                        self.p.text,
                        x + 3.0,
                        pad,
                        w - 6.0,
                        3,
                    )
                    .0,
            );
        }
        let numbers = [
            c.days_to_mastery
                .map(|d| format!("{}", d.round() as i64))
                .unwrap_or_default(),
            c.attempts.to_string(),
        ];
        for (i, n) in numbers.iter().enumerate() {
            let (x, w) = cols[4 + i];
            let tw = self.fonts.width(n, Face::Regular, 7.5);
            items.push(Item::Text {
                x: (x + w - 4.0 - tw).max(x + 1.0),
                y: pad + 7.5,
                size: 7.5,
                colour: self.p.text,
                face: Face::Regular,
                text: n.clone(),
            });
        }
        let height = tallest + pad + 1.0;
        items.push(Item::Line {
            x1: self.left,
            y1: height - 0.5,
            x2: self.left + self.width,
            y2: height - 0.5,
            width: 0.5,
            colour: self.p.rule,
        });
        Draft {
            kind: BlockKind::Row { id: c.id.clone() },
            height,
            items,
        }
    }

    fn closing(&self) -> Draft {
        let t = self.theme;
        let mut items = Vec::new();
        let mut y = 12.0;
        if !t.institution.statement.is_empty() {
            y += self
                .text(
                    &mut items,
                    &t.institution.statement,
                    Face::Regular,
                    8.0,
                    self.p.text,
                    self.left,
                    y,
                    self.width,
                    12,
                )
                .0;
            y += 4.0;
        }
        y += self
            .text(
                &mut items,
                t.s("attachment_note"),
                Face::Regular,
                7.5,
                self.p.muted,
                self.left,
                y,
                self.width,
                6,
            )
            .0;
        Draft {
            kind: BlockKind::Closing,
            height: y + 4.0,
            items,
        }
    }

    fn footer(
        &self,
        view: &TranscriptView,
        page: usize,
        pages: usize,
        height: f32,
        url: &str,
    ) -> Vec<Item> {
        let t = self.theme;
        let y = height - MARGIN_BOTTOM + 20.0;
        let right = format!("{} {page} {} {pages}", t.s("page"), t.s("of"));
        let rw = self.fonts.width(&right, Face::Regular, 7.0);
        let mut items = vec![Item::Line {
            x1: self.left,
            y1: y - 10.0,
            x2: self.left + self.width,
            y2: y - 10.0,
            width: 0.5,
            colour: self.p.rule,
        }];
        let mut left = format!("{} — {}", view.learner_name, t.s("title"));
        while self.fonts.width(&left, Face::Regular, 7.0) > self.width - rw - 16.0
            && !left.is_empty()
        {
            left.pop();
        }
        items.push(Item::Text {
            x: self.left,
            y,
            size: 7.0,
            colour: self.p.muted,
            face: Face::Regular,
            text: left,
        });
        items.push(Item::Text {
            x: self.left + self.width - rw,
            y,
            size: 7.0,
            colour: self.p.muted,
            face: Face::Regular,
            text: right,
        });
        let mut line = format!("{} {url}", t.s("verify_at"));
        while self.fonts.width(&line, Face::Regular, 6.0) > self.width && !line.is_empty() {
            line.pop();
        }
        items.push(Item::Text {
            x: self.left,
            y: y + 9.0,
            size: 6.0,
            colour: self.p.muted,
            face: Face::Regular,
            text: line,
        });
        items
    }
}

/// Places drafts on pages.
struct Pager {
    top: f32,
    bottom: f32,
    pages: Vec<Vec<Block>>,
    y: f32,
}

impl Pager {
    fn room(&self) -> f32 {
        self.bottom - self.y
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = self.top;
    }

    fn place(&mut self, d: Draft) {
        // A block that does not fit goes to the next page whole (unless the page is empty:
        // then it is taller than a page, which the caps on rows prevent).
        if d.height > self.room() && self.pages.last().is_some_and(|p| !p.is_empty()) {
            self.new_page();
        }
        let block = Block {
            kind: d.kind,
            top: self.y,
            height: d.height,
            items: d.items,
        };
        self.y += block.height;
        if let Some(p) = self.pages.last_mut() {
            p.push(block);
        }
    }
}

/// Lays a transcript out on pages of the theme's size.
pub fn layout(view: &TranscriptView, theme: &Theme) -> Result<Layout> {
    let fonts = Fonts::get()?;
    let (width, height) = match theme.page_size.as_str() {
        "Letter" => (612.0, 792.0),
        _ => (595.28, 841.89),
    };
    let primary = colour(&theme.colours.primary);
    let p = Palette {
        primary,
        accent: colour(&theme.colours.accent),
        text: colour(&theme.colours.text),
        muted: colour(&theme.colours.muted),
        rule: colour(&theme.colours.rule),
        band: colour(&theme.colours.band),
        // The primary colour at 35 %, over white (PDF opacity would need a graphics state).
        light: (
            1.0 - 0.35 * (1.0 - primary.0),
            1.0 - 0.35 * (1.0 - primary.1),
            1.0 - 0.35 * (1.0 - primary.2),
        ),
    };
    let b = Builder {
        fonts: &fonts,
        theme,
        p,
        left: MARGIN_X,
        width: width - 2.0 * MARGIN_X,
    };
    let url = theme.verify_url_for(&view.id);
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| crate::error::Error::Qr(e.to_string()))?;
    let mut pager = Pager {
        top: MARGIN_TOP,
        bottom: height - MARGIN_BOTTOM,
        pages: Vec::new(),
        y: MARGIN_TOP,
    };
    pager.new_page();
    pager.place(b.header(view, &qr, &url));
    pager.place(b.glance(view));
    let tl = Timeline::of(view);
    let mut start = 0;
    while start < tl.lanes.len() {
        let end = (start + LANES_PER_BLOCK).min(tl.lanes.len());
        pager.place(b.timeline(&tl, start..end, start == 0));
        start = end;
    }
    let heads = b.column_heads();
    for (ai, area) in view.areas.iter().enumerate() {
        let heading = b.area_heading(view, ai, false);
        let rows: Vec<Draft> = area.competencies.iter().map(|c| b.row(c)).collect();
        // Keep the heading with the column heads and the first row.
        let first = rows.first().map_or(0.0, |r| r.height);
        if heading.height + heads.height + first > pager.room() {
            pager.new_page();
        }
        pager.place(heading);
        pager.place(Draft {
            kind: heads.kind.clone(),
            height: heads.height,
            items: heads.items.clone(),
        });
        for row in rows {
            if row.height > pager.room() {
                // Continue the area on a new page, with its heading and the column heads again.
                pager.new_page();
                pager.place(b.area_heading(view, ai, true));
                pager.place(Draft {
                    kind: heads.kind.clone(),
                    height: heads.height,
                    items: heads.items.clone(),
                });
            }
            pager.place(row);
        }
    }
    pager.place(b.closing());
    let count = pager.pages.len();
    let pages = pager
        .pages
        .into_iter()
        .enumerate()
        .map(|(i, blocks)| Page {
            blocks,
            footer: b.footer(view, i + 1, count, height, &url),
        })
        .collect();
    Ok(Layout {
        width,
        height,
        content_top: MARGIN_TOP,
        content_bottom: height - MARGIN_BOTTOM,
        pages,
    })
}
