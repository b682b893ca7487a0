//! The renderings of the mastery transcript: HTML from the shipped templates, template errors
//! that name file and line, the PDF's attachment round trip, its text (pdftotext), its pages
//! (pdftoppm) and a pagination that never cuts a row.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use tessera_render::{
    BlockKind, Error, Templates, extract_attachment, layout, render_html, render_pdf,
};
use tessera_transcript::TranscriptView;
use tessera_transcript::sample;

const NAMES: [&str; 3] = ["Zoë Ångström", "李小龙", "Ολυμπία"];

fn templates() -> Templates {
    Templates::load(Templates::shipped_dir()).expect("shipped templates load")
}

/// The sample transcript, signed, as the exact JSON bytes a learner would download.
fn signed(n: usize, long: bool) -> Vec<u8> {
    let mut request = sample::request(n, long).unwrap();
    request.learner.name = NAMES.join(" · ");
    let clr = sample::signed_transcript(&request).unwrap();
    serde_json::to_vec_pretty(&clr).unwrap()
}

fn tool(name: &str) -> Command {
    // The poppler tests are #[ignore]d and run by scripts/test only when poppler-utils is
    // installed (.ci/run installs it); run by hand without it, they fail with this message.
    let probe = Command::new(name).arg("-v").output();
    assert!(
        probe.is_ok(),
        "{name} (poppler-utils) is required: apt-get install -y poppler-utils"
    );
    Command::new(name)
}

#[test]
fn html_page_shows_areas_levels_dates_pace_and_drill_down() {
    let clr = signed(12, false);
    let html = render_html(&clr, &templates()).unwrap();
    for name in NAMES {
        assert!(html.contains(name), "learner name part {name} missing");
    }
    // At a glance: areas, levels and dates; pace as an inline SVG; drill-down to rubric and evidence.
    assert!(html.contains("Scientific Inquiry"));
    assert!(html.contains("Proficient") && html.contains("Advanced"));
    assert!(html.contains("1 Sep 2023"), "dates in the theme's format");
    assert!(html.contains("<svg class=\"timeline\""));
    assert!(
        html.matches("<circle").count() >= 12,
        "a mark per competency"
    );
    assert!(html.contains("<details>") && html.contains("<summary>"));
    assert!(html.contains("class=\"rubric\"") && html.contains("class=\"achieved\""));
    assert!(html.contains("Project portfolio entry for"));
    // (minijinja escapes `/` in attributes as `&#x2f;`, which browsers read back as `/`.)
    assert!(html.contains("verify?transcript=urn%3Auuid%3A"));
    // Auto-escaping: text from the credential cannot inject markup.
    assert!(!html.contains("<script"));
}

#[test]
fn html_escapes_what_the_credential_says() {
    let mut request = sample::request(3, false).unwrap();
    request.learner.name = "<script>alert(1)</script>".into();
    let clr = serde_json::to_vec(&sample::signed_transcript(&request).unwrap()).unwrap();
    let html = render_html(&clr, &templates()).unwrap();
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;"));
}

fn copy_shipped(to: &Path) {
    for f in [
        "theme.toml",
        "transcript.html",
        "transcript.css",
        "logo.svg",
    ] {
        std::fs::copy(Templates::shipped_dir().join(f), to.join(f)).unwrap();
    }
}

#[test]
fn a_template_syntax_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_shipped(dir.path());
    std::fs::write(
        dir.path().join("transcript.html"),
        "<html>\n<body>\n<h1>{{ s.title }}</h1>\n{% for area in t.areas %}\n<p>{{ area.name }</p>\n{% endfor %}\n",
    )
    .unwrap();
    let err = Templates::load(dir.path()).unwrap_err();
    match &err {
        Error::Template { file, line, .. } => {
            assert_eq!(file, "transcript.html");
            assert_eq!(*line, 5);
        }
        other => panic!("expected a template error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.starts_with("transcript.html, line 5:"), "{text}");
}

#[test]
fn a_template_runtime_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_shipped(dir.path());
    // Compiles, fails when rendered: calling a string is only found out at render time.
    std::fs::write(
        dir.path().join("transcript.html"),
        "<html>\n<p>{{ t.learner_name }}</p>\n<p>{{ t.learner_name() }}</p>\n",
    )
    .unwrap();
    let templates = Templates::load(dir.path()).unwrap();
    let err = render_html(&signed(2, false), &templates).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, Error::Template { file, line: 3, .. } if file == "transcript.html"),
        "{text}"
    );
}

#[test]
fn a_broken_theme_names_the_file_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    copy_shipped(dir.path());
    std::fs::write(
        dir.path().join("theme.toml"),
        "language = \"fr\"\n[colours]\nprimary = \"navy\"\n",
    )
    .unwrap();
    let text = Templates::load(dir.path()).unwrap_err().to_string();
    assert!(
        text.contains("theme.toml") && text.contains("colours.primary"),
        "{text}"
    );
    std::fs::write(dir.path().join("theme.toml"), "language = \n").unwrap();
    let text = Templates::load(dir.path()).unwrap_err().to_string();
    assert!(
        text.contains("theme.toml") && text.contains("line 1"),
        "{text}"
    );
}

#[test]
fn a_school_translates_the_strings_in_theme_toml() {
    let dir = tempfile::tempdir().unwrap();
    copy_shipped(dir.path());
    std::fs::write(
        dir.path().join("theme.toml"),
        "language = \"fr\"\n[strings]\ntitle = \"Relevé de maîtrise\"\nlevel = \"Niveau\"\n",
    )
    .unwrap();
    let templates = Templates::load(dir.path()).unwrap();
    let clr = signed(3, false);
    let html = render_html(&clr, &templates).unwrap();
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(html.contains("Relevé de maîtrise") && html.contains(">Niveau<"));
    let view = TranscriptView::from_clr(&serde_json::from_slice(&clr).unwrap()).unwrap();
    let laid = layout(&view, templates.theme()).unwrap();
    assert!(laid.texts().any(|t| t == "Relevé de maîtrise"));
    assert!(laid.texts().any(|t| t == "Niveau"));
}

#[test]
#[ignore = "needs poppler-utils; scripts/test runs it with --ignored when pdftotext is installed"]
fn the_pdf_carries_the_exact_signed_bytes_as_an_attachment() {
    let clr = signed(5, false);
    let pdf = render_pdf(&clr, &templates()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(extract_attachment(&pdf).unwrap(), clr);
    // Poppler sees it as an embedded file too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = tool("pdfdetach").arg("-list").arg(&path).output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("1 embedded files") && listing.contains("transcript.json"),
        "{listing}"
    );
    let saved = dir.path().join("saved.json");
    let status = tool("pdfdetach")
        .args(["-save", "1", "-o"])
        .arg(&saved)
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read(&saved).unwrap(), clr);
}

#[test]
fn extract_attachment_refuses_what_is_not_a_transcript_pdf() {
    assert!(matches!(
        extract_attachment(b"{\"a\":1}"),
        Err(Error::NotPdf(_))
    ));
    assert!(matches!(
        extract_attachment(b"%PDF-1.7\n garbage"),
        Err(Error::NotPdf(_))
    ));
    // A real PDF without attachments: printpdf's own output before attaching is not exposed,
    // so cut the catalog's /Names out of a rendered one.
    let pdf = render_pdf(&signed(2, false), &templates()).unwrap();
    let mut doc = lopdf::Document::load_mem(&pdf).unwrap();
    let catalog = doc.catalog_mut().unwrap();
    catalog.remove(b"Names");
    catalog.remove(b"AF");
    let mut bare = Vec::new();
    doc.save_to(&mut bare).unwrap();
    assert!(matches!(
        extract_attachment(&bare),
        Err(Error::NoAttachment(_))
    ));
    // A truncated PDF is an error, never a panic.
    for cut in [100, pdf.len() / 3, pdf.len() / 2, pdf.len() - 40] {
        let _ = extract_attachment(&pdf[..cut]);
    }
}

#[test]
#[ignore = "needs poppler-utils; scripts/test runs it with --ignored when pdftotext is installed"]
fn pdftotext_recovers_the_transcript_text_including_non_latin_names() {
    let clr = signed(12, true);
    let pdf = render_pdf(&clr, &templates()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = tool("pdftotext").arg(&path).arg("-").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in NAMES {
        assert!(text.contains(name), "pdftotext lost {name}");
    }
    for expected in [
        "Mastery Transcript",
        "Lincoln High School",
        "Scientific Inquiry",
        "Communication — Коммуникация",
        "Civic Engagement · Πολιτότητα",
        "Ανάλυση δεδομένων 2",
        "მონაცემთა კომუნიკაცია 4",
        "Proficient",
        "1 Sep 2023",
        "Scan to verify",
    ] {
        assert!(text.contains(expected), "pdftotext lost {expected:?}");
    }
    // Every competency's name is on the page (a wrapped name comes back over two lines).
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let view = TranscriptView::from_clr(&serde_json::from_slice(&clr).unwrap()).unwrap();
    for c in view.competencies() {
        assert!(
            flat.contains(&c.name),
            "pdftotext lost competency {:?}",
            c.name
        );
    }
}

#[test]
fn three_hundred_competencies_paginate_without_cutting_a_row() {
    let clr = signed(300, true);
    let view = TranscriptView::from_clr(&serde_json::from_slice(&clr).unwrap()).unwrap();
    let laid = layout(&view, templates().theme()).unwrap();
    assert!(laid.pages.len() > 10, "300 long rows take many pages");
    assert_eq!(laid.cut_blocks(), Vec::new(), "blocks cut by a page break");
    // Every competency has exactly one row, in the view's order; blocks never overlap.
    let mut rows = Vec::new();
    for page in &laid.pages {
        let mut bottom = laid.content_top;
        for b in &page.blocks {
            assert!(
                b.top + 0.01 >= bottom,
                "block {:?} overlaps the one above",
                b.kind
            );
            bottom = b.top + b.height;
            if let BlockKind::Row { id } = &b.kind {
                rows.push(id.clone());
            }
        }
        // An area heading or the column heads never end a page (kept with their first row).
        if let Some(last) = page.blocks.last() {
            assert!(
                !matches!(
                    last.kind,
                    BlockKind::AreaHeading { .. } | BlockKind::ColumnHeads
                ),
                "page ends with {:?}",
                last.kind
            );
        }
    }
    let expected: Vec<String> = view.competencies().map(|c| c.id.clone()).collect();
    assert_eq!(rows, expected);
    assert_eq!(rows.iter().collect::<HashSet<_>>().len(), 300);
    // A page that continues an area repeats its heading and the column heads.
    let continued = laid
        .pages
        .iter()
        .filter(|p| {
            matches!(
                p.blocks.first().map(|b| &b.kind),
                Some(BlockKind::AreaHeading {
                    continued: true,
                    ..
                })
            )
        })
        .count();
    assert!(continued > 0);
    for page in laid.pages.iter().skip(1) {
        let first_row = page
            .blocks
            .iter()
            .position(|b| matches!(b.kind, BlockKind::Row { .. }));
        if let Some(i) = first_row {
            assert!(i >= 1 && page.blocks[i - 1].kind == BlockKind::ColumnHeads);
        }
    }
    // Every text line stays inside the page width (nothing runs off the right edge).
    // (Widths are measured with the same metrics as the PDF's /W array.)
    for page in &laid.pages {
        for b in &page.blocks {
            for item in &b.items {
                if let tessera_render::pdf::layout::Item::Text { x, .. } = item {
                    assert!(*x >= 0.0 && *x < laid.width);
                }
            }
        }
    }
}

#[test]
fn a_statement_longer_than_a_page_is_shortened_not_cut() {
    let mut request = sample::request(3, false).unwrap();
    let long = "A very long statement that keeps going. ".repeat(400);
    request
        .nodes
        .iter_mut()
        .filter(|n| n.id == sample::competency_id(1))
        .for_each(|n| n.statement = long.clone());
    // The in-progress/registry definition is what the view shows for competency 1 only when no
    // credential awards it; re-sign credentials so the awarded one carries the long statement.
    let key = sample::organisation_key();
    let node = request
        .nodes
        .iter()
        .find(|n| n.id == sample::competency_id(1))
        .unwrap()
        .clone();
    let record = request
        .records
        .iter()
        .find(|r| r.competency_id == node.id)
        .unwrap()
        .clone();
    let i = request
        .credentials
        .iter()
        .position(|c| {
            c.pointer("/credentialSubject/achievement/id")
                .and_then(|v| v.as_str())
                == Some(node.id.as_str())
        })
        .unwrap();
    request.credentials[i] =
        sample::credential(&key, &node, &record, "did:example:learner-alena").unwrap();
    let clr = serde_json::to_vec(&sample::signed_transcript(&request).unwrap()).unwrap();
    let view = TranscriptView::from_clr(&serde_json::from_slice(&clr).unwrap()).unwrap();
    let laid = layout(&view, templates().theme()).unwrap();
    assert_eq!(laid.cut_blocks(), Vec::new());
    assert!(
        laid.texts()
            .any(|t| t.contains("the full statement is in the attached transcript"))
    );
    // The PDF still carries the whole statement.
    let pdf = render_pdf(&clr, &templates()).unwrap();
    let back = extract_attachment(&pdf).unwrap();
    assert!(String::from_utf8(back).unwrap().contains(&long));
}

#[test]
#[ignore = "needs poppler-utils; scripts/test runs it with --ignored when pdftotext is installed"]
fn three_hundred_competency_pdf_renders_to_png_pages() {
    let clr = signed(300, true);
    let pdf = render_pdf(&clr, &templates()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let status = tool("pdftoppm")
        .args(["-png", "-r", "40", "-f", "1", "-l", "3"])
        .arg(&path)
        .arg(dir.path().join("p"))
        .status()
        .unwrap();
    assert!(status.success());
    let pngs = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert_eq!(pngs, 3);
    // The attachment survives the size.
    assert_eq!(extract_attachment(&pdf).unwrap(), clr);
}

/// The XObjects of a PDF by `/Subtype` (`Image`, `Form`).
fn xobject_subtypes(pdf: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    doc.objects
        .values()
        .filter_map(|o| match o {
            lopdf::Object::Stream(s)
                if s.dict.get(b"Type").ok().and_then(|t| t.as_name().ok())
                    == Some(b"XObject".as_slice()) =>
            {
                s.dict
                    .get(b"Subtype")
                    .ok()
                    .and_then(|t| t.as_name().ok())
                    .map(|n| String::from_utf8_lossy(n).into_owned())
            }
            _ => None,
        })
        .collect()
}

/// A 3×2 opaque PNG.
fn tiny_png() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 3, 2);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[200u8; 3 * 2 * 3]).unwrap();
    }
    out
}

#[test]
fn a_configured_logo_is_drawn_in_the_pdf_header_png_or_svg() {
    let clr = signed(3, false);
    // No logo: no XObject at all.
    let dir = tempfile::tempdir().unwrap();
    copy_shipped(dir.path());
    let theme = std::fs::read_to_string(dir.path().join("theme.toml")).unwrap();
    std::fs::write(
        dir.path().join("theme.toml"),
        theme.replace("logo = \"logo.svg\"", "logo = \"\""),
    )
    .unwrap();
    let bare = render_pdf(&clr, &Templates::load(dir.path()).unwrap()).unwrap();
    assert!(xobject_subtypes(&bare).is_empty());
    let laid = layout(
        &TranscriptView::from_clr(&serde_json::from_slice(&clr).unwrap()).unwrap(),
        Templates::load(dir.path()).unwrap().theme(),
    )
    .unwrap();
    assert!(
        !laid.pages[0].blocks[0]
            .items
            .iter()
            .any(|i| matches!(i, tessera_render::pdf::layout::Item::Logo { .. }))
    );

    // The shipped SVG logo: a (vector) form XObject in the header.
    let with_svg = render_pdf(&clr, &templates()).unwrap();
    assert_eq!(xobject_subtypes(&with_svg), ["Form"]);
    // Its colour spaces resolve (a name → colour space dictionary, not a bare name).
    let doc = lopdf::Document::load_mem(&with_svg).unwrap();
    let form = doc
        .objects
        .values()
        .find_map(|o| match o {
            lopdf::Object::Stream(s)
                if s.dict.get(b"Subtype").ok().and_then(|t| t.as_name().ok())
                    == Some(b"Form".as_slice()) =>
            {
                Some(s)
            }
            _ => None,
        })
        .unwrap();
    let spaces = form
        .dict
        .get(b"Resources")
        .and_then(|r| r.as_dict())
        .and_then(|r| r.get(b"ColorSpace"))
        .and_then(|c| c.as_dict())
        .expect("a ColorSpace dictionary");
    assert!(spaces.get(b"cs0").is_ok(), "{spaces:?}");
    assert_eq!(extract_attachment(&with_svg).unwrap(), clr);

    // A PNG logo in a subfolder: an image XObject.
    std::fs::create_dir(dir.path().join("img")).unwrap();
    std::fs::write(dir.path().join("img/crest.png"), tiny_png()).unwrap();
    std::fs::write(
        dir.path().join("theme.toml"),
        theme.replace("logo = \"logo.svg\"", "logo = \"img/crest.png\""),
    )
    .unwrap();
    let templates = Templates::load(dir.path()).unwrap();
    let with_png = render_pdf(&clr, &templates).unwrap();
    assert_eq!(xobject_subtypes(&with_png), ["Image"]);
    // The HTML page inlines only SVG logos.
    assert!(
        !render_html(&clr, &templates)
            .unwrap()
            .contains("aria-label=\"School logo\"")
    );
}

#[test]
fn a_missing_or_unusable_logo_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    copy_shipped(dir.path());
    let theme = std::fs::read_to_string(dir.path().join("theme.toml")).unwrap();
    let with_logo = |name: &str| {
        std::fs::write(
            dir.path().join("theme.toml"),
            theme.replace("logo = \"logo.svg\"", &format!("logo = \"{name}\"")),
        )
        .unwrap();
        Templates::load(dir.path()).unwrap_err().to_string()
    };
    let text = with_logo("crest.png");
    assert!(
        text.contains("crest.png") && text.contains("cannot read"),
        "{text}"
    );
    std::fs::write(dir.path().join("fake.png"), b"GIF89a not a png").unwrap();
    let text = with_logo("fake.png");
    assert!(
        text.contains("fake.png") && text.contains("not a PNG"),
        "{text}"
    );
    std::fs::write(dir.path().join("broken.svg"), b"<svg oops").unwrap();
    let text = with_logo("broken.svg");
    assert!(
        text.contains("broken.svg") && text.contains("SVG"),
        "{text}"
    );
    std::fs::write(dir.path().join("logo.gif"), b"GIF89a").unwrap();
    let text = with_logo("logo.gif");
    assert!(
        text.contains("logo.gif") && text.contains(".png or .svg"),
        "{text}"
    );
    let text = with_logo("../outside.png");
    assert!(
        text.contains("outside.png") && text.contains("inside the template folder"),
        "{text}"
    );
}

#[test]
fn a_page_served_under_a_strict_csp_links_its_style_instead_of_inlining_it() {
    let clr = signed(3, false);
    let t = templates();
    let standalone = render_html(&clr, &t).unwrap();
    assert!(standalone.contains("<style>") && standalone.contains("--primary: #1f3a5f"));
    let linked = tessera_render::render_html_linked(&clr, &t, "/transcript.css?v=1").unwrap();
    assert!(!linked.contains("<style") && !linked.contains("style="));
    assert!(
        linked.contains("<link rel=\"stylesheet\" href=\"&#x2f;transcript.css?v=1\">"),
        "{linked}"
    );
    assert!(!linked.contains("<script"));
    let css = tessera_render::render_css(&t).unwrap();
    assert!(css.contains("--primary: #1f3a5f") && css.contains("header.top"));
    assert!(!css.contains("{{") && !css.contains("{#"));
}
