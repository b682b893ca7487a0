//! Share links in the store: the raw token is returned once and only its hash is stored; a token
//! opens only links of its kind; revoked and expired links say so; opens are counted per link;
//! an owner never sees or revokes another's links. Runs on the backend chosen by
//! TESSERA_TEST_BACKEND.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tessera_core::account::{OrgKind, Role};
use tessera_store::StoreError;
use tessera_store::accounts::{NewInvitation, NewUser};
use tessera_store::share_links::{NewShareLink, SHARE_TOKEN_LEN, ShareKind, ShareLinkLookup};
use tessera_store::testing::TestDb;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

struct World {
    db: TestDb,
    org: String,
    alice: String,
    bob: String,
}

fn user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        name: email.into(),
        password_hash: "h".into(),
    }
}

async fn world() -> World {
    let db = TestDb::new().await;
    let store = &db.store;
    let org = store
        .create_org("lincoln", "Lincoln", OrgKind::School, now())
        .await
        .unwrap();
    store
        .replace_setup_token(&"a".repeat(64), now(), now() + Duration::hours(1))
        .await
        .unwrap();
    let alice = store
        .complete_setup(&"a".repeat(64), now(), user("alice@x.org"))
        .await
        .unwrap();
    let inv = store
        .create_invitation(
            &NewInvitation {
                org_id: org.id.clone(),
                email: "bob@x.org".into(),
                role: Role::Learner,
                token_hash: "b".repeat(64),
                created_by: alice.id.clone(),
                expires_at: now() + Duration::days(7),
            },
            now(),
        )
        .await
        .unwrap();
    let bob = store
        .accept_invitation(&inv.id, None, Some(&user("bob@x.org")), now())
        .await
        .unwrap();
    World {
        db,
        org: org.id,
        alice: alice.id,
        bob,
    }
}

fn link<'a>(w: &'a World, target: &'a str, expires: Option<DateTime<Utc>>) -> NewShareLink<'a> {
    NewShareLink {
        org_id: &w.org,
        owner_id: &w.alice,
        kind: ShareKind::Credential,
        target_id: target,
        label: Some("  for Acme  "),
        expires_at: expires,
    }
}

#[tokio::test]
async fn a_link_opens_with_its_token_only_and_for_its_kind_only() {
    let w = world().await;
    let store = &w.db.store;
    let (made, token) = store
        .create_share_link(&link(&w, "cred-1", None), now())
        .await
        .unwrap();
    assert_eq!(token.len(), SHARE_TOKEN_LEN);
    assert_eq!(made.label.as_deref(), Some("for Acme"));
    // The raw token is nowhere in the table; its SHA-256 is.
    let (stored,): (String,) = match &w.db.url {
        u if u.starts_with("sqlite") => {
            let pool = sqlx::SqlitePool::connect(u).await.unwrap();
            sqlx::query_as("SELECT token_hash FROM share_links")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
        u => {
            let pool = sqlx::PgPool::connect(u).await.unwrap();
            let row = sqlx::query_as("SELECT token_hash FROM share_links")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            row
        }
    };
    assert_ne!(stored, token);
    assert_eq!(stored.len(), 64);

    match store
        .find_share_link(ShareKind::Credential, &token, now())
        .await
        .unwrap()
    {
        ShareLinkLookup::Open(l) => {
            assert_eq!(
                (l.id.as_str(), l.target_id.as_str()),
                (made.id.as_str(), "cred-1")
            );
            assert_eq!(l.owner_id, w.alice);
        }
        other => panic!("expected an open link, got {other:?}"),
    }
    // Upper-case hex is the same token (someone retyping it); the other kind is not found.
    assert!(matches!(
        store
            .find_share_link(ShareKind::Credential, &token.to_uppercase(), now())
            .await
            .unwrap(),
        ShareLinkLookup::Open(_)
    ));
    assert_eq!(
        store
            .find_share_link(ShareKind::Transcript, &token, now())
            .await
            .unwrap(),
        ShareLinkLookup::NotFound
    );
    // A different token, a malformed one, an empty one: not found.
    let mut other = token.clone();
    other.replace_range(0..1, if token.starts_with('0') { "1" } else { "0" });
    for bad in [other.as_str(), "nope", "", &"z".repeat(64)] {
        assert_eq!(
            store
                .find_share_link(ShareKind::Credential, bad, now())
                .await
                .unwrap(),
            ShareLinkLookup::NotFound,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn revoked_and_expired_links_stop_opening_and_say_why() {
    let w = world().await;
    let store = &w.db.store;
    let (expiring, t_exp) = store
        .create_share_link(&link(&w, "cred-1", Some(now() + Duration::days(1))), now())
        .await
        .unwrap();
    let (revoked, t_rev) = store
        .create_share_link(&link(&w, "cred-1", None), now())
        .await
        .unwrap();
    let find = |t: String, at| async move {
        store
            .find_share_link(ShareKind::Credential, &t, at)
            .await
            .unwrap()
    };
    assert!(matches!(
        find(t_exp.clone(), now()).await,
        ShareLinkLookup::Open(_)
    ));
    // At the expiry instant it no longer opens.
    assert_eq!(
        find(t_exp.clone(), expiring.expires_at.unwrap()).await,
        ShareLinkLookup::Expired
    );

    let later = now() + Duration::hours(2);
    let r = store
        .revoke_share_link(&w.alice, &revoked.id, later)
        .await
        .unwrap();
    assert_eq!(r.revoked_at, Some(later));
    assert_eq!(find(t_rev.clone(), later).await, ShareLinkLookup::Revoked);
    // Revoking again keeps the first time.
    let again = store
        .revoke_share_link(&w.alice, &revoked.id, later + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(again.revoked_at, Some(later));

    // Bob can neither revoke nor read Alice's link.
    assert!(matches!(
        store.revoke_share_link(&w.bob, &expiring.id, later).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.share_link(&w.bob, &expiring.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(find(t_exp, later).await, ShareLinkLookup::Open(_)));

    // An expiry in the past or an over-long label is refused, and nothing is stored.
    let past = store
        .create_share_link(&link(&w, "cred-1", Some(now())), now())
        .await;
    assert!(
        matches!(past, Err(StoreError::InvalidReference(_))),
        "{past:?}"
    );
    let long = "x".repeat(201);
    let mut l = link(&w, "cred-1", None);
    l.label = Some(&long);
    assert!(matches!(
        store.create_share_link(&l, now()).await,
        Err(StoreError::InvalidReference(_))
    ));
    assert_eq!(
        store.share_links(&w.alice, None, None).await.unwrap().len(),
        2
    );
}

#[tokio::test]
async fn opens_are_counted_per_link_and_lists_are_per_owner() {
    let w = world().await;
    let store = &w.db.store;
    let (first, _) = store
        .create_share_link(&link(&w, "cred-1", None), now())
        .await
        .unwrap();
    let (second, _) = store
        .create_share_link(&link(&w, "cred-2", None), now() + Duration::minutes(1))
        .await
        .unwrap();
    let mut bobs = link(&w, "cred-9", None);
    bobs.owner_id = &w.bob;
    store.create_share_link(&bobs, now()).await.unwrap();

    for minutes in [5, 30, 10] {
        store
            .record_share_link_open(&first.id, now() + Duration::minutes(minutes))
            .await
            .unwrap();
    }
    let mine = store.share_links(&w.alice, None, None).await.unwrap();
    let shape: Vec<(&str, i64, Option<DateTime<Utc>>)> = mine
        .iter()
        .map(|l| (l.target_id.as_str(), l.open_count, l.last_opened_at))
        .collect();
    assert_eq!(
        shape,
        [
            ("cred-2", 0, None),
            ("cred-1", 3, Some(now() + Duration::minutes(30))),
        ]
    );
    assert_eq!(second.open_count, 0);
    let only = store
        .share_links(&w.alice, Some(ShareKind::Credential), Some("cred-1"))
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    assert!(
        store
            .share_links(&w.alice, Some(ShareKind::Transcript), None)
            .await
            .unwrap()
            .is_empty()
    );
    let bob = store.share_links(&w.bob, None, None).await.unwrap();
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0].target_id, "cred-9");
    assert_eq!(
        store
            .share_link(&w.alice, &first.id)
            .await
            .unwrap()
            .open_count,
        3
    );
}
