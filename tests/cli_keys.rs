//! Black-box tests of `tessera keys rotate --org SLUG`, against a fresh database on the backend
//! `TESSERA_TEST_BACKEND` names: each run adds a current key and keeps the old ones as past
//! keys, sealed under the master key; a wrong master key and an unknown organisation are clear
//! errors that change nothing.

use std::path::Path;
use std::process::{Command, Output};

use chrono::Utc;
use tessera_core::account::OrgKind;
use tessera_server::routes::issuing::{load_master_key, open_key};
use tessera_store::testing::TestDb;

const MASTER: &str = "0101010101010101010101010101010101010101010101010101010101010101";

fn rotate(db: &TestDb, data_dir: &Path, org: &str, master: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["keys", "rotate", "--org", org])
        .env("DATABASE_URL", &db.url)
        .env("TESSERA_DATA_DIR", data_dir)
        .env("TESSERA_MASTER_KEY", master)
        .env_remove("TESSERA_CONFIG")
        .output()
        .expect("run tessera")
}

#[tokio::test]
async fn keys_rotate_keeps_past_keys_sealed_and_refuses_a_wrong_master_key() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let org = db
        .store
        .create_org("school", "School", OrgKind::School, Utc::now())
        .await
        .unwrap();

    for _ in 0..2 {
        let out = rotate(&db, dir.path(), "school", MASTER);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("rotated: school"), "{stdout}");
        assert!(!stdout.contains(MASTER));
    }
    let keys = db.store.issuer_keys(&org.id).await.unwrap();
    let states: Vec<(i64, &str)> = keys.iter().map(|k| (k.seq, k.status.as_str())).collect();
    assert_eq!(states, [(1, "past"), (2, "current")]);
    let master = load_master_key(Some(MASTER), dir.path()).unwrap();
    for key in &keys {
        let pair = open_key(&master, key).unwrap();
        assert_eq!(pair.public_key().to_multibase(), key.public_key_multibase);
    }

    // Another master key: refused, nothing added.
    let other = "02".repeat(32);
    let out = rotate(&db, dir.path(), "school", &other);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("master key"), "{stderr}");
    assert!(!stderr.contains(&other));
    // An unknown organisation.
    let out = rotate(&db, dir.path(), "nowhere", MASTER);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"));
    assert_eq!(db.store.issuer_keys(&org.id).await.unwrap().len(), 2);
}
