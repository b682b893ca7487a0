//! Black-box tests of `tessera import case FILE --org SLUG`, against a fresh database on the
//! backend `TESSERA_TEST_BACKEND` names.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::Utc;
use tessera_core::account::OrgKind;
use tessera_store::testing::TestDb;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/tessera-case/tests/fixtures")
        .join(name)
}

fn import(db: &TestDb, data_dir: &Path, file: &Path, org: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["import", "case"])
        .arg(file)
        .args(["--org", org])
        .env("DATABASE_URL", &db.url)
        .env("TESSERA_DATA_DIR", data_dir)
        .env_remove("TESSERA_CONFIG")
        .output()
        .expect("run tessera")
}

#[tokio::test]
async fn import_case_imports_then_updates_and_rejects_invalid_packages_naming_the_path() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    db.store
        .create_org("district", "District", OrgKind::District, Utc::now())
        .await
        .unwrap();

    let valid = fixture("case-1.1-fractions.json");
    let out = import(&db, dir.path(), &valid, "district");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("imported framework 5d3e0000-0000-4000-8000-000000000001 (CASE 1.1, revision 1): 9 competencies"),
        "{stdout}"
    );

    let out = import(&db, dir.path(), &valid, "district");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("updated framework"), "{stdout}");
    let counts = db.store.registry_counts().await.unwrap();
    assert_eq!(counts, [1, 9, 17]);

    let invalid = fixture("invalid/missing-required-field.json");
    let out = import(&db, dir.path(), &invalid, "district");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("$.CFItems[2].fullStatement"), "{stderr}");
    assert_eq!(db.store.registry_counts().await.unwrap(), counts);

    let out = import(&db, dir.path(), &valid, "no-such-org");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-org"));

    let out = import(
        &db,
        dir.path(),
        Path::new("/nonexistent/package.json"),
        "district",
    );
    assert_eq!(out.status.code(), Some(2));
}
