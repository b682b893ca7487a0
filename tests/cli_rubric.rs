//! Black-box tests of `tessera rubric check`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tessera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .output()
        .expect("run tessera")
}

fn shipped() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rubrics");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("rubrics/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn rubric_check_accepts_every_shipped_rubric() {
    let files = shipped();
    assert!(files.len() >= 3);
    let mut args = vec!["rubric", "check"];
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let out = tessera(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for p in &paths {
        assert!(
            stdout.contains(&format!("{p}: ok: rubric `")),
            "no ok line for {p} in {stdout}"
        );
    }
    assert!(stdout.contains("sha256:"));
}

#[test]
fn rubric_check_reports_file_line_column_and_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "id = \"w\"\nversion = \"1.0\"\ntitle = \"W\"\ncompetencies = [\"C\"]\n\n[mastery]\nmin_total_points = 9\n\n\
         [[criteria]]\nid = \"a\"\nname = \"A\"\n\n[[criteria.levels]]\nid = \"lo\"\nname = \"Lo\"\npoints = 1\n\n\
         [[criteria.levels]]\nid = \"hi\"\nname = \"Hi\"\npoints = 2\n",
    )
    .expect("write");
    let good = shipped().into_iter().next().expect("a shipped rubric");
    let out = tessera(&[
        "rubric",
        "check",
        &good.display().to_string(),
        &bad.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let b = bad.display();
    assert!(
        stderr.contains(&format!("{b}:2:11: bad version `1.0`")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{b}:7:20: min_total_points = 9 is above the maximum possible total of 2 points"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 2 rubric file(s) invalid"), "{stderr}");
    // The valid file is still reported as valid.
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok: rubric `"));
}

#[test]
fn rubric_check_reports_an_unreadable_file() {
    let out = tessera(&["rubric", "check", "/nonexistent/rubric.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/rubric.toml: cannot read"));
}

#[test]
fn rubric_check_without_files_is_a_usage_error() {
    let out = tessera(&["rubric", "check"]);
    assert_eq!(out.status.code(), Some(2));
}
