//! The template folder and the HTML page.
//!
//! `transcript.html` is a minijinja template; it sees `t` (the [`TranscriptView`]), `theme`,
//! `s` (the strings), `timeline` ([`Timeline`]), `verify_url`, `institution` and `logo_svg`.
//! Filters: `date` (the theme's date format), `days` (a whole number of days) and
//! `shorten(n)` (at most n characters, with an ellipsis).

use std::path::{Path, PathBuf};

use minijinja::{Environment, ErrorKind, Value as JValue};
use serde::Serialize;
use serde_json::Value;
use tessera_transcript::TranscriptView;

use crate::error::{Error, Result};
use crate::theme::Theme;
use crate::timeline::Timeline;

/// The HTML template's file name in the folder.
pub const HTML_TEMPLATE: &str = "transcript.html";
/// The page's style (a template too: it reads the theme's colours). Optional: a folder without
/// it renders unstyled pages.
pub const CSS_TEMPLATE: &str = "transcript.css";
/// The theme's file name in the folder.
pub const THEME_FILE: &str = "theme.toml";

/// A loaded template folder: the theme and the compiled templates.
pub struct Templates {
    dir: PathBuf,
    theme: Theme,
    env: Environment<'static>,
    logo_svg: Option<String>,
    logo: Option<crate::logo::Logo>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// A minijinja error as the school needs it: the file and the line.
fn template_error(e: &minijinja::Error, fallback_file: &str) -> Error {
    let mut detail = e.detail().map(str::to_owned).unwrap_or_else(|| {
        // The kind's description when there is no detail ("syntax error", …).
        e.kind().to_string()
    });
    if e.kind() != ErrorKind::SyntaxError && !detail.starts_with(&e.kind().to_string()) {
        detail = format!("{}: {detail}", e.kind());
    }
    Error::Template {
        file: e.name().unwrap_or(fallback_file).to_owned(),
        line: e.line().unwrap_or(0),
        detail,
    }
}

impl Templates {
    /// Loads a template folder: `theme.toml` and `transcript.html` (compiled now, so a syntax
    /// error shows when the folder is loaded, not when a learner asks for a page).
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_owned();
        let theme = Theme::load(&dir.join(THEME_FILE))?;
        let html_path = dir.join(HTML_TEMPLATE);
        let html = std::fs::read_to_string(&html_path).map_err(|source| Error::Io {
            path: html_path,
            source,
        })?;
        let (logo, logo_svg) = if theme.institution.logo.is_empty() {
            (None, None)
        } else {
            let (logo, svg) = crate::logo::Logo::load(&dir, &theme.institution.logo)?;
            (Some(logo), svg)
        };
        let mut env = Environment::new();
        env.set_debug(true);
        let date_format = theme.date_format.clone();
        env.add_filter(
            "date",
            move |v: JValue| -> std::result::Result<String, minijinja::Error> {
                if v.is_undefined() || v.is_none() {
                    return Ok(String::new());
                }
                let text = v.as_str().ok_or_else(|| {
                    minijinja::Error::new(ErrorKind::InvalidOperation, "date: not a date")
                })?;
                let t = chrono::DateTime::parse_from_rfc3339(text).map_err(|e| {
                    minijinja::Error::new(ErrorKind::InvalidOperation, format!("date: {e}"))
                })?;
                Ok(t.format(&date_format).to_string())
            },
        );
        env.add_filter("days", |v: JValue| -> String {
            f64::try_from(v)
                .map(|d| format!("{}", d.round() as i64))
                .unwrap_or_default()
        });
        env.add_filter("shorten", |v: String, n: usize| -> String {
            if v.chars().count() <= n {
                v
            } else {
                let mut out: String = v.chars().take(n.saturating_sub(1)).collect();
                out.push('…');
                out
            }
        });
        let css_path = dir.join(CSS_TEMPLATE);
        let css = match std::fs::read_to_string(&css_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(Error::Io {
                    path: css_path,
                    source,
                });
            }
        };
        env.add_template_owned(CSS_TEMPLATE, css)
            .map_err(|e| template_error(&e, CSS_TEMPLATE))?;
        env.add_template_owned(HTML_TEMPLATE, html)
            .map_err(|e| template_error(&e, HTML_TEMPLATE))?;
        Ok(Templates {
            dir,
            theme,
            env,
            logo_svg,
            logo,
        })
    }

    /// The folder shipped in the repository (`transcript-templates/`), for tests and defaults.
    pub fn shipped_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../transcript-templates")
    }

    /// The same folder printing another verify URL (`{id}` becomes the transcript's id): the
    /// service points the transcripts it makes at its own verify page.
    pub fn with_verify_url(mut self, url: impl Into<String>) -> Self {
        self.theme.verify_url = url.into();
        self
    }

    /// The logo the theme names, loaded.
    pub fn logo(&self) -> Option<&crate::logo::Logo> {
        self.logo.as_ref()
    }

    /// The theme.
    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    /// The folder this was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[derive(Serialize)]
struct Context<'a> {
    t: &'a TranscriptView,
    theme: &'a Theme,
    s: &'a std::collections::BTreeMap<String, String>,
    timeline: Timeline,
    verify_url: String,
    institution: &'a str,
    logo_svg: Option<&'a str>,
    stylesheet_url: Option<&'a str>,
}

/// Renders the HTML page of a signed transcript (its exact JSON bytes).
pub fn render_html(clr: &[u8], templates: &Templates) -> Result<String> {
    let value: Value = serde_json::from_slice(clr)?;
    let view = TranscriptView::from_clr(&value)?;
    render_view_html(&view, templates)
}

/// Renders the HTML page of a signed transcript linking its style from `stylesheet_url` (where
/// [`render_css`] is served) instead of inlining it: for pages served under a Content Security
/// Policy that allows no inline style.
pub fn render_html_linked(
    clr: &[u8],
    templates: &Templates,
    stylesheet_url: &str,
) -> Result<String> {
    let value: Value = serde_json::from_slice(clr)?;
    let view = TranscriptView::from_clr(&value)?;
    render(&view, templates, Some(stylesheet_url))
}

/// The page's stylesheet (`transcript.css` rendered with the theme).
pub fn render_css(templates: &Templates) -> Result<String> {
    #[derive(Serialize)]
    struct CssContext<'a> {
        theme: &'a Theme,
    }
    templates
        .env
        .get_template(CSS_TEMPLATE)
        .and_then(|t| {
            t.render(CssContext {
                theme: &templates.theme,
            })
        })
        .map_err(|e| template_error(&e, CSS_TEMPLATE))
}

/// Renders the HTML page of a transcript already read into a view.
pub fn render_view_html(view: &TranscriptView, templates: &Templates) -> Result<String> {
    render(view, templates, None)
}

fn render(
    view: &TranscriptView,
    templates: &Templates,
    stylesheet_url: Option<&str>,
) -> Result<String> {
    let theme = &templates.theme;
    let ctx = Context {
        t: view,
        theme,
        s: &theme.strings,
        timeline: Timeline::of(view),
        verify_url: theme.verify_url_for(&view.id),
        institution: if theme.institution.name.is_empty() {
            &view.issuer_name
        } else {
            &theme.institution.name
        },
        logo_svg: templates.logo_svg.as_deref(),
        stylesheet_url,
    };
    let template = templates
        .env
        .get_template(HTML_TEMPLATE)
        .map_err(|e| template_error(&e, HTML_TEMPLATE))?;
    template
        .render(ctx)
        .map_err(|e| template_error(&e, HTML_TEMPLATE))
}
