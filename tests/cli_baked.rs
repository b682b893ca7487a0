//! `tessera verify` on baked badges: a PNG or SVG carrying a credential verifies like the JSON
//! itself; a tampered one does not; an image without a credential cannot be processed (exit 3).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn tessera() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
}

fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn verify(file: &Path) -> Output {
    tessera()
        .args(["verify", "--format", "json", "--did-document"])
        .arg(root(
            "crates/tessera-vc/tests/vectors/1edtech-ob3/controller.json",
        ))
        .arg(file)
        .output()
        .expect("run tessera")
}

#[test]
fn baked_png_and_svg_verify_like_the_json_they_carry() {
    let dir = tempfile::tempdir().unwrap();
    let signed = std::fs::read(root(
        "crates/tessera-vc/tests/vectors/1edtech-ob3/signed.json",
    ))
    .unwrap();
    let png = tessera_bake::png::bake(
        &std::fs::read(root("tests/fixtures/baking/badge.png")).unwrap(),
        &signed,
    )
    .unwrap();
    let svg = tessera_bake::svg::bake(
        &std::fs::read(root("tests/fixtures/baking/badge.svg")).unwrap(),
        &signed,
    )
    .unwrap();
    for (name, bytes) in [("badge.png", &png), ("badge.svg", &svg)] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = verify(&path);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["summary"]["verified"], 1, "{name}");
    }

    // One changed character in the baked credential: the proof fails (exit 1, a verdict).
    let tampered_json = String::from_utf8(signed.clone())
        .unwrap()
        .replace("Teamwork Badge", "Teamwork Badgf");
    let tampered = tessera_bake::svg::bake(
        &std::fs::read(root("tests/fixtures/baking/badge.svg")).unwrap(),
        tampered_json.as_bytes(),
    )
    .unwrap();
    let path = dir.path().join("tampered.svg");
    std::fs::write(&path, tampered).unwrap();
    let out = verify(&path);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn an_image_without_a_credential_cannot_be_processed() {
    for name in ["badge.png", "badge.svg"] {
        let out = verify(&root("tests/fixtures/baking").join(name));
        assert_eq!(out.status.code(), Some(3), "{name}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains("carries no Open Badges credential"), "{all}");
    }
}

#[test]
fn a_baked_badge_on_standard_input_verifies() {
    use std::io::Write;
    let signed = std::fs::read(root(
        "crates/tessera-vc/tests/vectors/1edtech-ob3/signed.json",
    ))
    .unwrap();
    let png = tessera_bake::png::bake(
        &std::fs::read(root("tests/fixtures/baking/badge.png")).unwrap(),
        &signed,
    )
    .unwrap();
    let mut child = tessera()
        .args(["verify", "--format", "json", "--did-document"])
        .arg(root(
            "crates/tessera-vc/tests/vectors/1edtech-ob3/controller.json",
        ))
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run tessera");
    child.stdin.take().unwrap().write_all(&png).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["verified"], 1);
}
