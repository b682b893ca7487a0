//! Issuing through the API, on the backend `TESSERA_TEST_BACKEND` names: a mastery becomes a
//! signed Open Badges 3.0 credential that verifies with the credential core against the DID
//! document and status lists this service serves; suspension, reinstatement and revocation show
//! in the status check; after a key rotation old credentials still verify and new ones use the
//! new key; learners read only their own credentials; issuer keys are sealed at rest.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use common::{As, TestApp};
use serde_json::{Value, json};
use tessera_core::clock::Clock;
use tessera_issue::sealing::MasterKey;
use tessera_issue::tessera_vc::{CheckCode, CheckStatus, VerifyOptions, verify_bytes};
use tessera_server::routes::issuing::{IssuingError, MASTER_KEY_FILE, load_master_key, open_key};
use tessera_store::audit::AuditVerdict;

const MATH: &str = include_str!("../../../rubrics/math-problem-solving.toml");
const CRITERIA: [&str; 5] = [
    "understanding",
    "strategy",
    "accuracy",
    "reasoning",
    "communication",
];

struct World {
    app: TestApp,
    admin: As,
    teacher: As,
    reviewer: As,
    learner: As,
    learner_id: String,
    learner2: As,
    mp1: String,
    mp3: String,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let root = app.platform_admin().await;
        app.create_org(&root, "alpha").await;
        let admin = app.member(&root, "alpha", "a@alpha.test", "admin").await;
        let teacher = app.member(&root, "alpha", "t@alpha.test", "teacher").await;
        let reviewer = app.member(&root, "alpha", "r@alpha.test", "reviewer").await;
        let learner = app.member(&root, "alpha", "l@alpha.test", "learner").await;
        let learner2 = app.member(&root, "alpha", "l2@alpha.test", "learner").await;
        let learner_id = app.user_id(&learner).await;
        let fw = app
            .post(
                "/api/v1/orgs/alpha/frameworks",
                &teacher,
                json!({"title": "Maths"}),
            )
            .await
            .expect(201);
        let path = format!(
            "/api/v1/frameworks/{}/competencies",
            fw["id"].as_str().unwrap()
        );
        let mut ids = Vec::new();
        for code in ["CCSS.MATH.PRACTICE.MP1", "CCSS.MATH.PRACTICE.MP3"] {
            let c = app
                .post(
                    &path,
                    &teacher,
                    json!({"code": code, "statement": format!("Practice {code}")}),
                )
                .await
                .expect(201);
            ids.push(c["id"].as_str().unwrap().to_owned());
        }
        assert!(MATH.contains("CCSS.MATH.PRACTICE.MP3"));
        Self {
            app,
            admin,
            teacher,
            reviewer,
            learner,
            learner_id,
            learner2,
            mp3: ids.pop().unwrap(),
            mp1: ids.pop().unwrap(),
        }
    }

    /// The learner submits for `competency` and a reviewer scores every criterion at `level`.
    async fn attempt(&self, competency: &str, level: &str) -> Value {
        let sub = self
            .app
            .post(
                &format!("/api/v1/orgs/alpha/competencies/{competency}/evidence"),
                &self.learner,
                json!({"rubric": "math-problem-solving", "text": "My solution"}),
            )
            .await
            .expect(201);
        self.app.clock.advance(chrono::Duration::days(2));
        let criteria: Vec<Value> = CRITERIA
            .iter()
            .map(|c| json!({"criterion": c, "level": level}))
            .collect();
        self.app
            .post(
                &format!(
                    "/api/v1/orgs/alpha/reviews/{}/score",
                    sub["review_id"].as_str().unwrap()
                ),
                &self.reviewer,
                json!({ "criteria": criteria }),
            )
            .await
            .expect(200)
    }

    fn issue_path(&self, competency: &str) -> String {
        format!(
            "/api/v1/orgs/alpha/learners/{}/competencies/{competency}/credential",
            self.learner_id
        )
    }

    async fn get_raw(&self, path: &str, if_none_match: Option<&str>) -> common::Reply {
        let mut b = Request::builder().method("GET").uri(path);
        if let Some(tag) = if_none_match {
            b = b.header(header::IF_NONE_MATCH, tag);
        }
        self.app.raw(b.body(Body::empty()).unwrap()).await
    }

    /// Verification options with what the service serves: the DID document and both lists.
    async fn served_options(&self) -> VerifyOptions {
        let mut o = VerifyOptions::new(self.app.clock.now());
        let did = self.get_raw("/orgs/alpha/did.json", None).await.expect(200);
        o.add_controller_document(&did).unwrap();
        for purpose in ["revocation", "suspension"] {
            let list = self
                .get_raw(&format!("/orgs/alpha/status/{purpose}/1"), None)
                .await
                .expect(200);
            o.add_status_list(list).unwrap();
        }
        o
    }

    async fn status_message(&self, bytes: &[u8]) -> (bool, CheckStatus, String) {
        let report = verify_bytes(bytes, &self.served_options().await).unwrap();
        let check = report
            .checks
            .iter()
            .find(|c| c.code == CheckCode::Status)
            .expect("a status check");
        (report.verified, check.status, check.message.clone())
    }

    /// PUT the organisation's issuer settings as `who`.
    async fn set_issuer(&self, who: &As, settings: Value) -> common::Reply {
        self.app
            .send(
                axum::http::Method::PUT,
                "/api/v1/orgs/alpha/issuer",
                who,
                Some(settings),
            )
            .await
    }

    /// The stored credential with this id, and its signed JSON.
    async fn stored(&self, id: &str) -> (tessera_store::credentials::Credential, Value) {
        let stored = self.app.state.store.credential(id).await.unwrap();
        let doc = serde_json::from_str(&stored.signed).unwrap();
        (stored, doc)
    }

    async fn change(&self, id: &str, action: &str, who: &As) -> common::Reply {
        self.app
            .post(
                &format!("/api/v1/orgs/alpha/credentials/{id}/status"),
                who,
                json!({"action": action, "reason": format!("{action} for the test")}),
            )
            .await
    }
}

#[tokio::test]
async fn a_mastery_is_issued_once_verifies_and_follows_its_status() {
    let w = World::new().await;
    // Not mastered yet: nothing to issue.
    w.app
        .post(&w.issue_path(&w.mp1), &w.teacher, json!({}))
        .await
        .expect_problem(409, "conflict");
    assert_eq!(w.attempt(&w.mp1, "novice").await["outcome"], "not_yet");
    w.app.clock.advance(chrono::Duration::days(1));
    assert_eq!(w.attempt(&w.mp1, "expert").await["outcome"], "mastered");

    // Only teachers and admins issue.
    for who in [&w.learner, &w.reviewer] {
        w.app
            .post(&w.issue_path(&w.mp1), who, json!({}))
            .await
            .expect_problem(403, "forbidden");
    }
    let issued = w
        .app
        .post(&w.issue_path(&w.mp1), &w.teacher, json!({}))
        .await
        .expect(201);
    let id = issued["id"].as_str().unwrap().to_owned();
    // Idempotent: one credential per mastery.
    let again = w
        .app
        .post(&w.issue_path(&w.mp1), &w.admin, json!({}))
        .await
        .expect(200);
    assert_eq!(again["id"], id.as_str());

    // The exact signed bytes, to the learner and staff; another learner gets 404.
    let path = format!("/api/v1/orgs/alpha/credentials/{id}");
    let reply = w.app.get(&path, &w.learner).await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/vc+ld+json"
    );
    let bytes = reply.body.clone();
    let stored = w.app.state.store.credential(&id).await.unwrap();
    assert_eq!(bytes, stored.signed.as_bytes(), "served byte for byte");
    assert_eq!(w.app.get(&path, &w.teacher).await.body, bytes);
    w.app
        .get(&path, &w.learner2)
        .await
        .expect_problem(404, "not-found");
    w.app
        .get(
            &format!("/api/v1/orgs/alpha/learners/{}/credentials", w.learner_id),
            &w.learner2,
        )
        .await
        .expect_problem(404, "not-found");
    let mine = w
        .app
        .get(
            &format!("/api/v1/orgs/alpha/learners/{}/credentials", w.learner_id),
            &w.learner,
        )
        .await
        .expect(200);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert!(mine[0].get("signed").is_none());

    // What it says.
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let subject = &doc["credentialSubject"];
    assert_eq!(
        doc["type"],
        json!(["VerifiableCredential", "AchievementCredential"])
    );
    assert_eq!(doc["issuer"]["id"], "did:web:127.0.0.1%3A8080:orgs:alpha");
    assert!(subject["id"].as_str().unwrap().starts_with("urn:uuid:"));
    assert_eq!(subject["attemptsToMastery"], 2);
    assert_eq!(subject["timeToMastery"], "P5D");
    assert!(subject["activityStartDate"].is_string());
    assert!(subject["activityEndDate"].is_string());
    assert_eq!(
        subject["achievement"]["alignment"][0]["targetType"],
        "CFItem"
    );
    assert_eq!(
        subject["achievement"]["alignment"][0]["targetCode"],
        w.mp1.as_str()
    );
    assert_eq!(
        subject["achievement"]["resultDescription"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(subject["result"].as_array().unwrap().len(), 5);
    let evidence = &doc["evidence"][0];
    assert!(
        evidence["digestSRI"]
            .as_str()
            .unwrap()
            .starts_with("sha256-")
    );
    assert!(!String::from_utf8_lossy(&bytes).contains("My solution"));
    // A credential travels: nothing in it names the learner's account here.
    assert!(!String::from_utf8_lossy(&bytes).contains(w.learner_id.as_str()));
    assert!(
        evidence["id"]
            .as_str()
            .unwrap()
            .contains("/orgs/alpha/submissions/")
    );
    assert_eq!(
        doc["relatedResource"][0]["digestSRI"],
        tessera_issue::context::digest_sri().as_str()
    );
    assert_eq!(doc["proof"]["cryptosuite"], "eddsa-rdfc-2022");
    assert_eq!(
        doc["proof"]["verificationMethod"],
        "did:web:127.0.0.1%3A8080:orgs:alpha#key-1"
    );
    assert_eq!(stored.key_id, w.current_key_id().await);
    // The context it pins is served byte for byte.
    let ctx = w.get_raw("/contexts/tessera/v1", None).await;
    assert_eq!(ctx.body, tessera_issue::context::text().as_bytes());

    // Verifies with the DID document and lists the service serves.
    let (verified, status, message) = w.status_message(&bytes).await;
    assert!(verified, "{message}");
    assert_eq!(status, CheckStatus::Passed);

    // ETag and Cache-Control; 304 on If-None-Match; a change gives a new ETag.
    let list = w.get_raw("/orgs/alpha/status/suspension/1", None).await;
    let etag = list.headers[header::ETAG].to_str().unwrap().to_owned();
    assert!(
        list.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let not_modified = w
        .get_raw("/orgs/alpha/status/suspension/1", Some(&etag))
        .await;
    assert_eq!(not_modified.status.as_u16(), 304);
    assert!(not_modified.body.is_empty());

    // Suspend (only teachers and admins; a reason is required), then reinstate.
    w.change(&id, "suspend", &w.learner)
        .await
        .expect_problem(403, "forbidden");
    w.app
        .post(
            &format!("/api/v1/orgs/alpha/credentials/{id}/status"),
            &w.teacher,
            json!({"action": "suspend", "reason": "  "}),
        )
        .await
        .expect_problem(422, "validation-failed");
    let suspended = w.change(&id, "suspend", &w.teacher).await.expect(200);
    assert_eq!(suspended["status"], "suspended");
    let changed = w
        .get_raw("/orgs/alpha/status/suspension/1", Some(&etag))
        .await;
    assert_eq!(changed.status.as_u16(), 200, "the list changed");
    assert_ne!(changed.headers[header::ETAG].to_str().unwrap(), etag);
    let (verified, status, message) = w.status_message(&bytes).await;
    assert!(!verified);
    assert_eq!(status, CheckStatus::Failed);
    assert!(message.contains("suspended"), "{message}");
    w.change(&id, "reinstate", &w.admin).await.expect(200);
    let (verified, status, _) = w.status_message(&bytes).await;
    assert!(verified);
    assert_eq!(status, CheckStatus::Passed);

    // Revoke: permanent.
    w.change(&id, "revoke", &w.teacher).await.expect(200);
    let (verified, _, message) = w.status_message(&bytes).await;
    assert!(!verified);
    assert!(message.contains("revoked"), "{message}");
    w.change(&id, "reinstate", &w.teacher)
        .await
        .expect_problem(409, "conflict");
    w.change(&id, "suspend", &w.teacher)
        .await
        .expect_problem(409, "conflict");

    assert!(matches!(
        w.app.state.store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { .. }
    ));
}

impl World {
    async fn current_key_id(&self) -> String {
        let org = self.app.state.store.org_by_slug("alpha").await.unwrap();
        self.app
            .state
            .store
            .current_issuer_key(&org.id)
            .await
            .unwrap()
            .unwrap()
            .id
    }
}

#[tokio::test]
async fn after_a_rotation_old_credentials_verify_and_new_ones_use_the_new_key() {
    let w = World::new().await;
    w.attempt(&w.mp1, "expert").await;
    let first = w
        .app
        .post(&w.issue_path(&w.mp1), &w.teacher, json!({}))
        .await
        .expect(201);
    let first_id = first["id"].as_str().unwrap();
    let old_key = first["key_id"].as_str().unwrap().to_owned();

    // Only admins rotate.
    w.app
        .post("/api/v1/orgs/alpha/issuer/keys", &w.teacher, json!({}))
        .await
        .expect_problem(403, "forbidden");
    let issuer = w
        .app
        .post("/api/v1/orgs/alpha/issuer/keys", &w.admin, json!({}))
        .await
        .expect(201);
    let keys = issuer["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["status"], "past");
    assert_eq!(keys[1]["status"], "current");
    // Never a secret in what the API returns.
    let text = issuer.to_string();
    assert!(
        !text.contains("sealed") && !text.contains("secret"),
        "{text}"
    );

    let did = w.get_raw("/orgs/alpha/did.json", None).await.expect(200);
    let methods: Vec<&str> = did["assertionMethod"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap_or_else(|| m["id"].as_str().unwrap()))
        .collect();
    assert_eq!(methods.len(), 2, "{did}");

    w.attempt(&w.mp3, "expert").await;
    let second = w
        .app
        .post(&w.issue_path(&w.mp3), &w.teacher, json!({}))
        .await
        .expect(201);
    assert_ne!(second["key_id"], old_key.as_str());
    assert_eq!(second["key_id"], w.current_key_id().await.as_str());

    for id in [first_id, second["id"].as_str().unwrap()] {
        let bytes = w
            .app
            .get(&format!("/api/v1/orgs/alpha/credentials/{id}"), &w.learner)
            .await
            .body;
        let (verified, status, message) = w.status_message(&bytes).await;
        assert!(verified, "{id}: {message}");
        assert_eq!(status, CheckStatus::Passed);
    }
    let second_doc: Value = serde_json::from_str(
        &w.app
            .state
            .store
            .credential(second["id"].as_str().unwrap())
            .await
            .unwrap()
            .signed,
    )
    .unwrap();
    assert!(
        second_doc["proof"]["verificationMethod"]
            .as_str()
            .unwrap()
            .ends_with("#key-2")
    );
    // The rotation is in the audit log.
    assert!(matches!(
        w.app.state.store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { .. }
    ));
}

#[tokio::test]
async fn issuer_keys_are_sealed_at_rest_under_the_master_key() {
    let w = World::new().await;
    w.get_raw("/orgs/alpha/did.json", None).await.expect(200);
    let data_dir = &w.app.state.config.data_dir;
    let file = data_dir.join(MASTER_KEY_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is private");
    }
    let master = load_master_key(None, data_dir).unwrap();
    assert_eq!(
        master.to_hex(),
        std::fs::read_to_string(&file).unwrap().trim(),
        "the file is reused, not remade"
    );
    let org = w.app.state.store.org_by_slug("alpha").await.unwrap();
    let key = w
        .app
        .state
        .store
        .current_issuer_key(&org.id)
        .await
        .unwrap()
        .unwrap();
    let pair = open_key(&master, &key).unwrap();
    assert_eq!(pair.public_key().to_multibase(), key.public_key_multibase);
    // The row holds neither the secret key nor anything that prints it.
    let secret = pair.secret_multibase();
    let row = format!(
        "{} {} {} {}",
        key.sealed_secret, key.public_key_multibase, key.master_key_id, key.id
    );
    assert!(!row.contains(&secret));
    assert!(!format!("{key:?}").contains(&key.sealed_secret));
    assert!(!format!("{:?}", w.app.state.issuing).contains(&master.to_hex()));

    // Another master key: a clear error naming the problem, not a garbled key.
    let other = MasterKey::from_bytes([9; 32]);
    let err = open_key(&other, &key).unwrap_err();
    assert!(matches!(err, IssuingError::WrongMasterKey { .. }));
    assert!(err.to_string().contains("master key"), "{err}");
    // A malformed TESSERA_MASTER_KEY is refused with its name.
    let err = load_master_key(Some("not a key"), data_dir).unwrap_err();
    assert!(err.to_string().contains("TESSERA_MASTER_KEY"), "{err}");
    // A row altered in place does not open.
    let mut altered = key.clone();
    altered.org_id = "someone-else".into();
    assert!(matches!(
        open_key(&master, &altered),
        Err(IssuingError::Unseal(_))
    ));
}

#[tokio::test]
async fn status_list_urls_that_do_not_exist_are_404() {
    let w = World::new().await;
    for path in [
        "/orgs/alpha/status/revocation/1",
        "/orgs/alpha/status/other/1",
        "/orgs/nowhere/status/revocation/1",
        "/orgs/nowhere/did.json",
    ] {
        w.get_raw(path, None).await.expect_problem(404, "not-found");
    }
    w.get_raw("/orgs/alpha/status/revocation/x", None)
        .await
        .expect_problem(400, "invalid-parameter");
}

#[tokio::test]
async fn a_second_jcs_proof_when_the_issuer_asks_and_the_achievement_image_is_served() {
    let w = World::new().await;
    // Off by default; only admins change it.
    let issuer = w
        .app
        .get("/api/v1/orgs/alpha/issuer", &w.admin)
        .await
        .expect(200);
    assert_eq!(issuer["settings"]["jcs_proof"], false);
    let both = json!({"did_method": "web", "issuance": "approval", "jcs_proof": true});
    w.set_issuer(&w.teacher, both.clone())
        .await
        .expect_problem(403, "forbidden");
    let issuer = w.set_issuer(&w.admin, both).await.expect(200);
    assert_eq!(issuer["settings"]["jcs_proof"], true);

    assert_eq!(w.attempt(&w.mp1, "expert").await["outcome"], "mastered");
    let issued = w
        .app
        .post(&w.issue_path(&w.mp1), &w.teacher, json!({}))
        .await
        .expect(201);
    let (stored, doc) = w.stored(issued["id"].as_str().unwrap()).await;
    let suites: Vec<&str> = doc["proof"]
        .as_array()
        .expect("a proof set")
        .iter()
        .map(|p| p["cryptosuite"].as_str().unwrap())
        .collect();
    assert_eq!(suites, ["eddsa-rdfc-2022", "eddsa-jcs-2022"]);
    let options = w.served_options().await;
    let report = verify_bytes(stored.signed.as_bytes(), &options).unwrap();
    assert!(report.verified, "{report:#?}");
    // Each proof is checked: a broken JCS signature fails the credential.
    let mut broken = doc.clone();
    let value = broken["proof"][1]["proofValue"]
        .as_str()
        .unwrap()
        .to_owned();
    let flipped = if value.ends_with('A') { "B" } else { "A" };
    broken["proof"][1]["proofValue"] = json!(format!("{}{flipped}", &value[..value.len() - 1]));
    let report = verify_bytes(broken.to_string().as_bytes(), &options).unwrap();
    assert!(!report.verified, "a bad JCS proof must fail");
    assert_eq!(report.status(CheckCode::Proof), CheckStatus::Failed);

    // The Achievement's image: the generated badge, public, for this organisation only.
    let image = &doc["credentialSubject"]["achievement"]["image"];
    assert_eq!(image["type"], "Image");
    let url = image["id"].as_str().unwrap();
    let path = format!("/orgs/alpha/achievements/{}/image.png", w.mp1);
    assert_eq!(url, format!("http://127.0.0.1:8080{path}"));
    let png = w.get_raw(&path, None).await;
    assert_eq!(png.status.as_u16(), 200);
    assert_eq!(png.headers[header::CONTENT_TYPE], "image/png");
    assert!(png.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(
        png.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .starts_with("public")
    );
    let root = w.app.token_for("root@tessera.test").await;
    w.app.create_org(&root, "beta").await;
    for other in [
        format!("/orgs/beta/achievements/{}/image.png", w.mp1),
        "/orgs/alpha/achievements/no-such-competency/image.png".to_owned(),
    ] {
        assert_eq!(
            w.get_raw(&other, None).await.status.as_u16(),
            404,
            "{other}"
        );
    }

    // Turned off again: the next credential has the RDFC proof only.
    w.set_issuer(
        &w.admin,
        json!({"did_method": "web", "issuance": "approval"}),
    )
    .await
    .expect(200);
    assert_eq!(w.attempt(&w.mp3, "expert").await["outcome"], "mastered");
    let issued = w
        .app
        .post(&w.issue_path(&w.mp3), &w.teacher, json!({}))
        .await
        .expect(201);
    let (_, doc) = w.stored(issued["id"].as_str().unwrap()).await;
    assert_eq!(
        doc["proof"]["cryptosuite"], "eddsa-rdfc-2022",
        "{}",
        doc["proof"]
    );
}

#[tokio::test]
async fn an_issuer_may_also_name_learners_by_a_salted_email_hash() {
    let w = World::new().await;
    assert_eq!(w.attempt(&w.mp1, "expert").await["outcome"], "mastered");
    // Off by default: the subject is a pairwise id and nothing else names the learner.
    let plain = w
        .app
        .post(&w.issue_path(&w.mp1), &w.teacher, json!({}))
        .await
        .expect(201);
    let (plain, doc) = w.stored(plain["id"].as_str().unwrap()).await;
    assert!(doc["credentialSubject"].get("identifier").is_none());
    assert!(!plain.signed.contains("l@alpha.test"));

    w.set_issuer(
        &w.admin,
        json!({"did_method": "web", "issuance": "approval", "email_identifier": true}),
    )
    .await
    .expect(200);
    // Through a mastery, and through a bulk row.
    assert_eq!(w.attempt(&w.mp3, "expert").await["outcome"], "mastered");
    let one = w
        .app
        .post(&w.issue_path(&w.mp3), &w.teacher, json!({}))
        .await
        .expect(201);
    w.app
        .post(
            "/api/v1/orgs/alpha/issue-batches",
            &w.teacher,
            json!({"rows": [{"key": "e-1", "learner": "l@alpha.test", "competency": w.mp1}]}),
        )
        .await
        .expect(201);
    let report = tessera_server::bulk_worker::run_until_idle(
        &w.app.state,
        std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(report.issued, 1);
    let bulk = w
        .app
        .state
        .store
        .credential_ids_by_keys(&[tessera_store::batches::batch_credential_key(
            &w.app.state.store.org_by_slug("alpha").await.unwrap().id,
            "e-1",
        )])
        .await
        .unwrap();
    let options = w.served_options().await;
    let mut salts = Vec::new();
    for id in [one["id"].as_str().unwrap(), bulk.values().next().unwrap()] {
        let (stored, doc) = w.stored(id).await;
        assert!(
            !stored.signed.contains("l@alpha.test"),
            "never the address itself"
        );
        let identity = &doc["credentialSubject"]["identifier"][0];
        assert_eq!(identity["type"], "IdentityObject");
        assert_eq!(identity["identityType"], "emailAddress");
        assert_eq!(identity["hashed"], true);
        assert!(
            identity["identityHash"]
                .as_str()
                .unwrap()
                .starts_with("sha256$")
        );
        // Anyone who knows the address can check it (case and spaces aside); no other matches.
        assert!(tessera_issue::achievement::names_email(
            identity,
            " L@Alpha.test "
        ));
        assert!(!tessera_issue::achievement::names_email(
            identity,
            "l2@alpha.test"
        ));
        // The subject stays the pairwise id, and the credential verifies.
        assert_eq!(doc["credentialSubject"]["id"], stored.subject_id.as_str());
        let report = verify_bytes(stored.signed.as_bytes(), &options).unwrap();
        assert!(report.verified, "{report:#?}");
        salts.push(identity["salt"].as_str().unwrap().to_owned());
    }
    assert_ne!(salts[0], salts[1], "a fresh salt per credential");
}
