//! The store's conformance story, run on whichever backend `TESSERA_TEST_BACKEND` names.

use chrono::{TimeZone, Utc};
use tessera_core::DomainError;
use tessera_core::account::{OrgKind, Role};
use tessera_core::registry::{CaseUris, Status};
use tessera_store::StoreError;
use tessera_store::registry::{CompetencyFields, CompetencySearch, FrameworkFields};
use tessera_store::testing::TestDb;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn uris() -> CaseUris {
    CaseUris::new("http://127.0.0.1:8080")
}

fn fields(code: &str) -> CompetencyFields {
    CompetencyFields {
        code: Some(code.into()),
        statement: format!("Statement {code}"),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_taken_slug_is_a_conflict_not_a_database_error() {
    let db = TestDb::new().await;
    db.store
        .create_org("lincoln", "Lincoln High", OrgKind::School, now())
        .await
        .unwrap();
    let again = db
        .store
        .create_org("lincoln", "Other", OrgKind::District, now())
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

#[tokio::test]
async fn a_prerequisite_cycle_is_rejected_naming_it_and_nothing_is_written() {
    let db = TestDb::new().await;
    let org = db
        .store
        .create_org("lincoln", "Lincoln", OrgKind::School, now())
        .await
        .unwrap();
    let fw = db
        .store
        .create_framework(
            &org.id,
            &FrameworkFields {
                title: "Maths".into(),
                ..Default::default()
            },
            &uris(),
            now(),
        )
        .await
        .unwrap();
    let c2 = db
        .store
        .create_competency(&fw.id, &fields("C.2"), None, &uris(), now())
        .await
        .unwrap();
    let c4 = db
        .store
        .create_competency(&fw.id, &fields("C.4"), None, &uris(), now())
        .await
        .unwrap();
    db.store
        .replace_prerequisites(&c4.id, std::slice::from_ref(&c2.id), &uris(), now())
        .await
        .unwrap();
    let before = db.store.registry_counts().await.unwrap();
    let revision = db.store.framework(&fw.id).await.unwrap().revision;

    let err = db
        .store
        .replace_prerequisites(&c2.id, std::slice::from_ref(&c4.id), &uris(), now())
        .await
        .unwrap_err();

    match err {
        StoreError::Domain(DomainError::Cycle { cycle }) => {
            assert_eq!(cycle.first(), cycle.last());
            assert_eq!(cycle.len(), 3);
            assert!(cycle.contains(&"C.2".to_string()) && cycle.contains(&"C.4".to_string()));
        }
        other => panic!("expected a cycle, got {other:?}"),
    }
    assert_eq!(db.store.registry_counts().await.unwrap(), before);
    assert_eq!(db.store.framework(&fw.id).await.unwrap().revision, revision);
    assert_eq!(
        db.store.prerequisites(&c2.id).await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn edits_bump_the_framework_revision_and_stale_edits_conflict() {
    let db = TestDb::new().await;
    let org = db
        .store
        .create_org("lincoln", "Lincoln", OrgKind::School, now())
        .await
        .unwrap();
    let fw = db
        .store
        .create_framework(
            &org.id,
            &FrameworkFields {
                title: "Maths".into(),
                ..Default::default()
            },
            &uris(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(fw.revision, 1);
    let c = db
        .store
        .create_competency(&fw.id, &fields("A.1"), None, &uris(), now())
        .await
        .unwrap();
    assert_eq!(c.framework_revision, 2);

    let edited = db
        .store
        .update_competency(
            &c.id,
            2,
            &fields("A.1b"),
            Status::Active,
            None,
            &uris(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(edited.code.as_deref(), Some("A.1b"));
    assert_eq!(edited.framework_revision, 3);

    let stale = db
        .store
        .update_competency(
            &c.id,
            2,
            &fields("A.1c"),
            Status::Active,
            None,
            &uris(),
            now(),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
}

#[tokio::test]
async fn the_hierarchy_refuses_to_put_a_competency_under_its_own_child() {
    let db = TestDb::new().await;
    let org = db
        .store
        .create_org("lincoln", "Lincoln", OrgKind::School, now())
        .await
        .unwrap();
    let fw = db
        .store
        .create_framework(
            &org.id,
            &FrameworkFields {
                title: "Maths".into(),
                ..Default::default()
            },
            &uris(),
            now(),
        )
        .await
        .unwrap();
    let a = db
        .store
        .create_competency(&fw.id, &fields("A"), None, &uris(), now())
        .await
        .unwrap();
    let b = db
        .store
        .create_competency(&fw.id, &fields("A.1"), Some(&a.id), &uris(), now())
        .await
        .unwrap();
    assert_eq!(b.parent_id.as_deref(), Some(a.id.as_str()));
    let rev = db.store.framework(&fw.id).await.unwrap().revision;

    let err = db
        .store
        .update_competency(
            &a.id,
            rev,
            &fields("A"),
            Status::Active,
            Some(&b.id),
            &uris(),
            now(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Domain(DomainError::Cycle { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn search_finds_by_code_and_text_case_insensitively_and_pages() {
    let db = TestDb::new().await;
    let org = db
        .store
        .create_org("lincoln", "Lincoln", OrgKind::School, now())
        .await
        .unwrap();
    let fw = db
        .store
        .create_framework(
            &org.id,
            &FrameworkFields {
                title: "Maths".into(),
                ..Default::default()
            },
            &uris(),
            now(),
        )
        .await
        .unwrap();
    for code in ["B.2", "A.1", "B.1"] {
        db.store
            .create_competency(&fw.id, &fields(code), None, &uris(), now())
            .await
            .unwrap();
    }
    let odd = CompetencyFields {
        code: Some("Z.9".into()),
        statement: "Uses 100%_of effort".into(),
        ..Default::default()
    };
    db.store
        .create_competency(&fw.id, &odd, None, &uris(), now())
        .await
        .unwrap();

    let all = db
        .store
        .competencies(&fw.id, &CompetencySearch::default(), 2, 0)
        .await
        .unwrap();
    let codes: Vec<_> = all.items.iter().filter_map(|c| c.code.clone()).collect();
    assert_eq!(codes, ["A.1", "B.1"]);
    assert_eq!(all.next_offset, Some(2));

    let text = CompetencySearch {
        text: Some("STATEMENT b".into()),
        ..Default::default()
    };
    let found = db.store.competencies(&fw.id, &text, 10, 0).await.unwrap();
    assert_eq!(found.items.len(), 2);
    assert_eq!(found.next_offset, None);

    let by_code = CompetencySearch {
        code: Some("B.2".into()),
        ..Default::default()
    };
    assert_eq!(
        db.store
            .competencies(&fw.id, &by_code, 10, 0)
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // LIKE wildcards in the query are literal.
    let pct = CompetencySearch {
        text: Some("100%_".into()),
        ..Default::default()
    };
    assert_eq!(
        db.store
            .competencies(&fw.id, &pct, 10, 0)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let pct_miss = CompetencySearch {
        text: Some("1%0".into()),
        ..Default::default()
    };
    assert_eq!(
        db.store
            .competencies(&fw.id, &pct_miss, 10, 0)
            .await
            .unwrap()
            .items
            .len(),
        0
    );
}

#[tokio::test]
async fn an_invitation_is_used_exactly_once() {
    let db = TestDb::new().await;
    let org = db
        .store
        .create_org("lincoln", "Lincoln", OrgKind::School, now())
        .await
        .unwrap();
    let setup_hash = "a".repeat(64);
    db.store
        .replace_setup_token(&setup_hash, now(), now() + chrono::Duration::hours(1))
        .await
        .unwrap();
    let admin = db
        .store
        .complete_setup(
            &setup_hash,
            now(),
            tessera_store::accounts::NewUser {
                email: "root@x.org".into(),
                name: "Root".into(),
                password_hash: "h".into(),
            },
        )
        .await
        .unwrap();
    assert!(admin.is_platform_admin);
    let inv = db
        .store
        .create_invitation(
            &tessera_store::accounts::NewInvitation {
                org_id: org.id.clone(),
                email: "t@x.org".into(),
                role: Role::Teacher,
                token_hash: "b".repeat(64),
                created_by: admin.id.clone(),
                expires_at: now() + chrono::Duration::days(7),
            },
            now(),
        )
        .await
        .unwrap();
    let user = tessera_store::accounts::NewUser {
        email: "t@x.org".into(),
        name: "T".into(),
        password_hash: "h".into(),
    };
    let uid = db
        .store
        .accept_invitation(&inv.id, None, Some(&user), now())
        .await
        .unwrap();
    let again = db
        .store
        .accept_invitation(&inv.id, None, Some(&user), now())
        .await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
    let roles = db.store.memberships(&uid).await.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].role, Role::Teacher);
    // The setup token is single use too.
    let second = db
        .store
        .complete_setup(
            &setup_hash,
            now(),
            tessera_store::accounts::NewUser {
                email: "b@x.org".into(),
                name: "B".into(),
                password_hash: "h".into(),
            },
        )
        .await;
    assert!(matches!(second, Err(StoreError::NotFound)), "{second:?}");
}

#[tokio::test]
async fn purging_removes_only_expired_sessions() {
    let db = TestDb::new().await;
    let setup_hash = "b".repeat(64);
    db.store
        .replace_setup_token(&setup_hash, now(), now() + chrono::Duration::hours(1))
        .await
        .unwrap();
    let user = db
        .store
        .complete_setup(
            &setup_hash,
            now(),
            tessera_store::accounts::NewUser {
                email: "root@x.org".into(),
                name: "Root".into(),
                password_hash: "$argon2id$fake".into(),
            },
        )
        .await
        .unwrap();
    let hour = chrono::Duration::hours(1);
    for (hash, expires) in [
        ("expired", now() - hour),
        ("expires-now", now()),
        ("live", now() + hour),
    ] {
        db.store
            .create_session(hash, &user.id, "csrf", now() - hour * 2, expires)
            .await
            .unwrap();
    }

    assert_eq!(db.store.purge_expired_sessions(now()).await.unwrap(), 2);
    assert!(
        db.store
            .principal_by_session("live", now())
            .await
            .unwrap()
            .is_some(),
        "the live session survives"
    );
    assert_eq!(db.store.purge_expired_sessions(now()).await.unwrap(), 0);
}
