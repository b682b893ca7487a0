//! Rubric files: every shipped rubric loads; every broken fixture gives exactly the expected
//! `FILE:LINE:COLUMN: message` diagnostics.
//!
//! Each fixture in `tests/fixtures/broken/` declares its expected diagnostics in leading comment
//! lines `# expect: LINE:COLUMN: message`. Every file in the folder is used, so a fixture cannot
//! silently stop being tested.

use std::path::{Path, PathBuf};

use tessera_review::{Error, Rubric};

fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rubrics")
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_rubric_loads() {
    let files = toml_files(&shipped_dir());
    assert!(
        files.len() >= 3,
        "expected at least three shipped rubrics, found {files:?}"
    );
    for f in &files {
        let r = Rubric::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(
            r.criteria().len() >= 4,
            "{}: a realistic rubric has several criteria",
            f.display()
        );
        assert!(!r.competencies().is_empty());
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        assert_eq!(r.id(), stem, "file name matches rubric id");
    }
}

#[test]
fn broken_rubrics_give_the_expected_file_line_column_messages() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let files = toml_files(&dir);
    assert!(files.len() >= 15);
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read fixture");
        let name = f.file_name().and_then(|s| s.to_str()).expect("utf-8 name");
        let expected: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .map(|e| format!("{name}:{e}"))
            .collect();
        let got: Vec<String> = match Rubric::from_toml_str(&text, name) {
            Ok(_) => vec!["(loaded without error)".into()],
            Err(Error::InvalidRubric(d)) => d.iter().map(ToString::to_string).collect(),
            Err(other) => vec![format!("(other error) {other}")],
        };
        if expected.is_empty() || got != expected {
            failures.push(format!(
                "{name}\n  expected: {expected:#?}\n  got:      {got:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The example in `rubrics/README.md` is a valid rubric and behaves as the README says.
#[test]
fn the_readme_example_loads_and_scores_as_documented() {
    let readme =
        std::fs::read_to_string(shipped_dir().join("README.md")).expect("rubrics/README.md");
    let start = readme.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let len = readme[start..].find("```").expect("closing fence");
    let r = Rubric::from_toml_str(&readme[start..start + len], "README.md")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.max_points(), 9);
    let score = |content: &str, delivery: &str| {
        r.score(&[
            tessera_review::CriterionScore::new("content", content),
            tessera_review::CriterionScore::new("delivery", delivery),
        ])
        .expect("valid review")
    };
    use tessera_review::Outcome::{Mastered, NotYet};
    assert_eq!(score("proficient", "exemplary").outcome, Mastered);
    assert_eq!(score("exemplary", "proficient").outcome, Mastered);
    let both = score("proficient", "proficient");
    assert_eq!(
        (both.outcome, both.total_points, both.borderline),
        (NotYet, 6, true)
    );
}
