//! `tessera audit verify` as a user runs it: against a database with a chain, intact and then
//! sabotaged (exit 0 and "intact: N entries", then exit 1 naming the first bad entry).

use std::process::Command;

use chrono::{TimeZone, Utc};
use serde_json::json;
use tessera_review::AuditKind;
use tessera_store::testing::TestDb;

fn verify(url: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["audit", "verify", "--database-url", url])
        .output()
        .expect("run tessera");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn audit_verify_reports_intact_then_names_the_edited_entry() {
    let db = TestDb::new().await;
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    for i in 0..3 {
        db.store
            .append_audit(
                AuditKind::ReviewRecorded,
                &[&format!("review:{i}")],
                &json!({"i": i}),
                at,
            )
            .await
            .unwrap();
    }
    let (code, out) = verify(&db.url);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("audit chain intact: 3 entries"), "{out}");

    db.execute_raw("UPDATE audit_log SET kind = 'mastery_changed' WHERE seq = 2")
        .await;
    let (code, out) = verify(&db.url);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("broken at entry 2"), "{out}");
    assert!(out.contains("edited"), "{out}");

    let (code, out) = verify("sqlite:///nonexistent-dir/none.db");
    assert_eq!(code, 2, "{out}");
}
