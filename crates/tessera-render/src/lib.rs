//! Renderings of the mastery transcript from a school's template folder (`transcript-templates/`):
//! an HTML page (minijinja, `transcript.html`) and a PDF (printpdf) with subset Unicode fonts, a
//! QR code to the verify page and the signed CLR JSON attached, so the PDF alone verifies offline.
//!
//! Both renderings read the *signed* CLR bytes back through [`tessera_transcript::TranscriptView`]:
//! what is shown is what the signature covers.
//!
//! ```ignore
//! let templates = tessera_render::Templates::load("transcript-templates")?;
//! let html = tessera_render::render_html(&signed_json_bytes, &templates)?;
//! let pdf = tessera_render::render_pdf(&signed_json_bytes, &templates)?;
//! assert_eq!(tessera_render::extract_attachment(&pdf)?, signed_json_bytes);
//! ```

pub mod attach;
pub mod error;
pub mod html;
pub mod logo;
pub mod pdf;
pub mod theme;
pub mod timeline;

pub use attach::{ATTACHMENT_NAME, extract_attachment, is_pdf};
pub use error::{Error, Result};
pub use html::{Templates, render_css, render_html, render_html_linked};
pub use logo::Logo;
pub use pdf::layout::{BlockKind, Layout, layout};
pub use pdf::render_pdf;
pub use theme::Theme;
