//! `tessera verify transcript.pdf`: the signed CLR attached to a mastery transcript PDF is
//! verified, with every credential it embeds; a PDF whose attachment was swapped for a tampered
//! transcript does not verify and the report names the altered credential; a PDF without a
//! transcript cannot be processed.

use std::path::Path;
use std::process::{Command, Output};

use lopdf::{Document, Object, Stream};
use serde_json::Value;

fn verify(file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["verify", "--format", "json"])
        .arg(file)
        .output()
        .expect("run tessera")
}

fn signed_transcript() -> Vec<u8> {
    let mut request = tessera_transcript::sample::request(5, true).unwrap();
    request.learner.name = "Zoë Ångström".into();
    let clr = tessera_transcript::sample::signed_transcript(&request).unwrap();
    serde_json::to_vec_pretty(&clr).unwrap()
}

fn render(clr: &[u8]) -> Vec<u8> {
    let templates = tessera_render::Templates::load(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("transcript-templates"),
    )
    .unwrap();
    tessera_render::render_pdf(clr, &templates).unwrap()
}

/// Replaces the bytes of the attached file, as someone editing the PDF would.
fn swap_attachment(pdf: &[u8], new: &[u8]) -> Vec<u8> {
    let mut doc = Document::load_mem(pdf).unwrap();
    let ids: Vec<_> = doc
        .objects
        .iter()
        .filter(|(_, o)| {
            matches!(o, Object::Stream(s) if s.dict.get(b"Type").ok().and_then(|t| t.as_name().ok()) == Some(b"EmbeddedFile"))
        })
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(ids.len(), 1, "one embedded file");
    let mut dict = lopdf::Dictionary::new();
    dict.set("Type", "EmbeddedFile");
    doc.objects
        .insert(ids[0], Object::Stream(Stream::new(dict, new.to_vec())));
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "report is not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn a_transcript_pdf_verifies_through_its_attached_clr() {
    let dir = tempfile::tempdir().unwrap();
    let clr = signed_transcript();
    let path = dir.path().join("transcript.pdf");
    std::fs::write(&path, render(&clr)).unwrap();
    let out = verify(&path);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = report(&out);
    assert_eq!(r["summary"]["verified"], 1, "{text}");
    // The five embedded AchievementCredentials were verified too.
    assert!(
        text.contains("all 5 embedded credential(s) verify"),
        "{text}"
    );
}

#[test]
fn a_pdf_whose_attachment_was_swapped_for_a_tampered_transcript_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let clr = signed_transcript();
    let pdf = render(&clr);

    // One embedded credential altered: its achievement renamed.
    let mut tampered: Value = serde_json::from_slice(&clr).unwrap();
    let victim = tampered
        .pointer_mut("/credentialSubject/verifiableCredential/2/credentialSubject/achievement/name")
        .unwrap();
    *victim = Value::String("Rocket science, mastered".into());
    let victim_id = tampered
        .pointer("/credentialSubject/verifiableCredential/2/id")
        .and_then(Value::as_str)
        .unwrap()
        .to_owned();
    let swapped = swap_attachment(&pdf, &serde_json::to_vec_pretty(&tampered).unwrap());
    assert_eq!(
        tessera_render::extract_attachment(&swapped).unwrap(),
        serde_json::to_vec_pretty(&tampered).unwrap()
    );
    let path = dir.path().join("swapped.pdf");
    std::fs::write(&path, &swapped).unwrap();
    let out = verify(&path);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report(&out)["summary"]["verified"], 0);
    assert!(
        text.contains(&victim_id),
        "the altered credential is named: {text}"
    );
    assert!(text.contains("verifiableCredential[2]"), "{text}");

    // The transcript's own statement altered (the credentials untouched): also refused.
    let mut tampered: Value = serde_json::from_slice(&clr).unwrap();
    tampered["credentialSubject"]["identifier"][0]["identityHash"] =
        Value::String("Someone Else".into());
    let swapped = swap_attachment(&pdf, &serde_json::to_vec(&tampered).unwrap());
    std::fs::write(&path, &swapped).unwrap();
    let out = verify(&path);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The untouched bytes put back: verifies again (the swap itself is not what fails).
    std::fs::write(&path, swap_attachment(&pdf, &clr)).unwrap();
    assert_eq!(verify(&path).status.code(), Some(0));
}

#[test]
fn a_pdf_without_a_transcript_cannot_be_processed() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = render(&signed_transcript());
    let mut doc = Document::load_mem(&pdf).unwrap();
    doc.catalog_mut().unwrap().remove(b"Names");
    doc.catalog_mut().unwrap().remove(b"AF");
    let mut bare = Vec::new();
    doc.save_to(&mut bare).unwrap();
    let path = dir.path().join("bare.pdf");
    std::fs::write(&path, &bare).unwrap();
    let out = verify(&path);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("no attached transcript"), "{all}");
    // A truncated PDF: a clear error, not a crash.
    std::fs::write(&path, &pdf[..pdf.len() / 2]).unwrap();
    let out = verify(&path);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
