//! Renders the sample transcript with the shipped templates, for a school previewing its edits:
//! `cargo run -p tessera-render --example sample -- OUT_DIR [COMPETENCIES] [TEMPLATE_DIR]`
//! writes OUT_DIR/transcript.{json,html,pdf}.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let n: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(12);
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(tessera_render::Templates::shipped_dir);
    let templates = tessera_render::Templates::load(&dir)?;
    let mut request = tessera_transcript::sample::request(n, true)?;
    request.learner.name = "Zoë Ångström · 李小龙 · Ολυμπία".into();
    let signed = tessera_transcript::sample::signed_transcript(&request)?;
    let json = serde_json::to_vec_pretty(&signed)?;
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("transcript.json"), &json)?;
    std::fs::write(
        out.join("transcript.html"),
        tessera_render::render_html(&json, &templates)?,
    )?;
    std::fs::write(
        out.join("transcript.pdf"),
        tessera_render::render_pdf(&json, &templates)?,
    )?;
    println!("wrote {}", out.display());
    Ok(())
}
