//! Issue 5 in the store: issuer keys and rotation, pairwise subject ids, status list slots
//! (random, never reused, a new list when one fills), idempotent credential inserts and status
//! changes. Runs on the backend chosen by TESSERA_TEST_BACKEND.

use std::collections::HashSet;

use chrono::{DateTime, TimeZone, Utc};
use tessera_core::account::OrgKind;
use tessera_core::registry::CaseUris;
use tessera_store::StoreError;
use tessera_store::accounts::NewUser;
use tessera_store::audit::AuditVerdict;
use tessera_store::credentials::{NewCredential, StatusAction};
use tessera_store::issuer_keys::NewIssuerKey;
use tessera_store::registry::{CompetencyFields, FrameworkFields};
use tessera_store::status_lists::STATUS_LIST_SIZE;
use tessera_store::testing::TestDb;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

struct World {
    db: TestDb,
    org: String,
    learner: String,
    competency: String,
}

async fn world() -> World {
    let db = TestDb::new().await;
    let org = db
        .store
        .create_org("lincoln", "Lincoln", OrgKind::School, now())
        .await
        .unwrap();
    db.store
        .replace_setup_token(&"a".repeat(64), now(), now() + chrono::Duration::hours(1))
        .await
        .unwrap();
    let user = db
        .store
        .complete_setup(
            &"a".repeat(64),
            now(),
            NewUser {
                email: "l@x.org".into(),
                name: "L".into(),
                password_hash: "h".into(),
            },
        )
        .await
        .unwrap();
    let uris = CaseUris::new("http://127.0.0.1:8080");
    let fw = db
        .store
        .create_framework(
            &org.id,
            &FrameworkFields {
                title: "Maths".into(),
                ..Default::default()
            },
            &uris,
            now(),
        )
        .await
        .unwrap();
    let c = db
        .store
        .create_competency(
            &fw.id,
            &CompetencyFields {
                code: Some("C.1".into()),
                statement: "Counts".into(),
                ..Default::default()
            },
            None,
            &uris,
            now(),
        )
        .await
        .unwrap();
    World {
        db,
        org: org.id,
        learner: user.id,
        competency: c.id,
    }
}

fn key<'a>(org: &'a str, public: &'a str) -> NewIssuerKey<'a> {
    NewIssuerKey {
        id: public,
        org_id: org,
        public_key_multibase: public,
        sealed_secret: "00ff",
        master_key_id: "mk",
        actor: None,
        rotate: true,
    }
}

#[tokio::test]
async fn rotation_keeps_one_current_key_and_the_old_ones_as_past() {
    let w = world().await;
    let store = &w.db.store;
    assert!(store.current_issuer_key(&w.org).await.unwrap().is_none());
    let first = store
        .add_issuer_key(&key(&w.org, "z6MkA"), now())
        .await
        .unwrap();
    let second = store
        .add_issuer_key(&key(&w.org, "z6MkB"), now())
        .await
        .unwrap();
    assert_eq!((first.seq, second.seq), (1, 2));
    let keys = store.issuer_keys(&w.org).await.unwrap();
    let states: Vec<(&str, &str)> = keys
        .iter()
        .map(|k| (k.public_key_multibase.as_str(), k.status.as_str()))
        .collect();
    assert_eq!(states, [("z6MkA", "past"), ("z6MkB", "current")]);
    assert!(keys[0].retired_at.is_some());
    assert_eq!(
        store.current_issuer_key(&w.org).await.unwrap().unwrap().id,
        second.id
    );
    // Adding a "first" key when there is a current one is refused (racing first uses).
    let mut again = key(&w.org, "z6MkC");
    again.rotate = false;
    assert!(matches!(
        store.add_issuer_key(&again, now()).await,
        Err(tessera_store::StoreError::Conflict(_))
    ));
    // The sealed secret never shows in Debug output.
    assert!(!format!("{second:?}").contains("00ff"));
    assert_eq!(
        store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { entries: 2 }
    );
}

#[tokio::test]
async fn the_pairwise_subject_is_stable_and_a_learner_did_wins() {
    let w = world().await;
    let store = &w.db.store;
    let a = store
        .credential_subject_id(&w.org, &w.learner, now())
        .await
        .unwrap();
    let b = store
        .credential_subject_id(&w.org, &w.learner, now())
        .await
        .unwrap();
    assert!(a.starts_with("urn:uuid:"), "{a}");
    assert_eq!(a, b);
    store
        .set_learner_did(&w.learner, "did:key:z6MkLearner", now())
        .await
        .unwrap();
    assert_eq!(
        store
            .credential_subject_id(&w.org, &w.learner, now())
            .await
            .unwrap(),
        "did:key:z6MkLearner"
    );
}

#[tokio::test]
async fn slots_are_never_reused_and_a_full_list_opens_the_next() {
    let w = world().await;
    let store = &w.db.store;
    // Lists of 8 entries: 20 credentials fill two and open a third.
    let mut seen = HashSet::new();
    for _ in 0..4 {
        let slots = store
            .reserve_status_slots(&w.org, 5, 8, now())
            .await
            .unwrap();
        assert_eq!(slots.len(), 5);
        for s in slots {
            assert!(s.revocation.index < 8 && s.suspension.index < 8);
            assert!(seen.insert(("r", s.revocation.list_seq, s.revocation.index)));
            assert!(seen.insert(("s", s.suspension.list_seq, s.suspension.index)));
        }
    }
    let lists = store.status_lists(&w.org).await.unwrap();
    let shape: Vec<(&str, i64, i64)> = lists
        .iter()
        .map(|l| (l.purpose.as_str(), l.seq, l.used))
        .collect();
    assert_eq!(
        shape,
        [
            ("revocation", 1, 8),
            ("revocation", 2, 8),
            ("revocation", 3, 4),
            ("suspension", 1, 8),
            ("suspension", 2, 8),
            ("suspension", 3, 4)
        ]
    );
}

#[tokio::test]
async fn one_reservation_fills_a_list_to_the_last_index_and_goes_on_in_the_next() {
    let w = world().await;
    let store = &w.db.store;
    // 300 at once from lists of 256: the random draws collide more and more as the list fills,
    // so the last free indexes are found by the fallback that reads the list.
    let slots = store
        .reserve_status_slots(&w.org, 300, 256, now())
        .await
        .unwrap();
    assert_eq!(slots.len(), 300);
    for purpose in [0, 1] {
        let picked: Vec<(i64, i64)> = slots
            .iter()
            .map(|s| {
                if purpose == 0 {
                    &s.revocation
                } else {
                    &s.suspension
                }
            })
            .map(|s| (s.list_seq, s.index))
            .collect();
        let distinct: HashSet<&(i64, i64)> = picked.iter().collect();
        assert_eq!(distinct.len(), 300, "no index given twice");
        let first: HashSet<i64> = picked.iter().filter(|p| p.0 == 1).map(|p| p.1).collect();
        assert_eq!(first, (0..256).collect::<HashSet<i64>>(), "list 1 full");
        assert_eq!(picked.iter().filter(|p| p.0 == 2).count(), 44);
    }
    let used: Vec<(String, i64, i64)> = store
        .status_lists(&w.org)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.purpose, l.seq, l.used))
        .collect();
    assert_eq!(
        used,
        [
            ("revocation".to_owned(), 1, 256),
            ("revocation".to_owned(), 2, 44),
            ("suspension".to_owned(), 1, 256),
            ("suspension".to_owned(), 2, 44)
        ]
    );
}

#[tokio::test]
async fn indexes_in_a_full_size_list_are_random_not_sequential() {
    let w = world().await;
    let slots =
        w.db.store
            .reserve_status_slots(&w.org, 50, STATUS_LIST_SIZE, now())
            .await
            .unwrap();
    let indexes: Vec<i64> = slots.iter().map(|s| s.revocation.index).collect();
    let sequential = indexes.windows(2).filter(|p| p[1] == p[0] + 1).count();
    // 50 draws from 131,072: a run of neighbours is astronomically unlikely.
    assert!(sequential < 3, "{indexes:?}");
    let spread = indexes.iter().max().unwrap() - indexes.iter().min().unwrap();
    assert!(spread > 10_000, "{indexes:?}");
}

#[tokio::test]
async fn issuing_is_idempotent_and_status_changes_follow_the_rules() {
    let w = world().await;
    let store = &w.db.store;
    let k = store
        .add_issuer_key(&key(&w.org, "z6MkA"), now())
        .await
        .unwrap();
    let slots = store
        .reserve_status_slots(&w.org, 2, STATUS_LIST_SIZE, now())
        .await
        .unwrap();
    let new = |id: &'static str, slot: usize, signed: &'static str| NewCredential {
        id,
        org_id: &w.org,
        learner_id: &w.learner,
        competency_id: &w.competency,
        idempotency_key: "mastery:x",
        key_id: &k.id,
        subject_id: "urn:uuid:s",
        issuer_id: "did:web:x",
        valid_from: now(),
        signed,
        status: &slots[slot],
        issued_by: None,
    };
    let (first, created) = store
        .insert_credential(&new("c-1", 0, "{\"a\": 1}"), now())
        .await
        .unwrap();
    assert!(created);
    assert_eq!(first.signed, "{\"a\": 1}");
    let (again, created) = store
        .insert_credential(&new("c-2", 1, "{\"b\": 2}"), now())
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, "c-1");
    assert_eq!(again.signed, "{\"a\": 1}");

    let rev = &slots[0].revocation;
    let sus = &slots[0].suspension;
    let suspended = store
        .change_credential_status("c-1", StatusAction::Suspend, "checking", &w.learner, now())
        .await
        .unwrap();
    assert_eq!(suspended.credential.status, "suspended");
    assert_eq!(suspended.list_id, sus.list_id);
    let (version, bits) = store.status_list_bits(&sus.list_id).await.unwrap();
    assert_eq!((version, bits), (1, vec![sus.index]));
    let err = store
        .change_credential_status("c-1", StatusAction::Suspend, "again", &w.learner, now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    store
        .change_credential_status("c-1", StatusAction::Reinstate, "ok", &w.learner, now())
        .await
        .unwrap();
    assert_eq!(
        store.status_list_bits(&sus.list_id).await.unwrap(),
        (2, vec![])
    );
    store
        .change_credential_status("c-1", StatusAction::Revoke, "fraud", &w.learner, now())
        .await
        .unwrap();
    assert_eq!(
        store.status_list_bits(&rev.list_id).await.unwrap(),
        (1, vec![rev.index])
    );
    for action in [
        StatusAction::Reinstate,
        StatusAction::Suspend,
        StatusAction::Revoke,
    ] {
        let err = store
            .change_credential_status("c-1", action, "no", &w.learner, now())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    }
    // Publication only moves forward.
    assert!(
        store
            .publish_status_list(&rev.list_id, 1, "v1")
            .await
            .unwrap()
    );
    assert!(
        !store
            .publish_status_list(&rev.list_id, 1, "again")
            .await
            .unwrap()
    );
    assert!(
        !store
            .publish_status_list(&rev.list_id, 0, "old")
            .await
            .unwrap()
    );
    let row = store.status_list(&w.org, "revocation", 1).await.unwrap();
    assert_eq!(row.published.as_deref(), Some("v1"));
    // issue, suspend, reinstate, revoke, key: five entries, chain intact.
    assert_eq!(
        store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { entries: 5 }
    );
    let listed = store
        .credentials(&w.org, Some(&w.learner), 10, 0)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        store
            .credentials(&w.org, Some("nobody"), 10, 0)
            .await
            .unwrap()
            .is_empty()
    );
}
