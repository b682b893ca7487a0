//! Learner rights through the API, on the backend `TESSERA_TEST_BACKEND` names: consents and
//! the staff access log are the learner's own (another learner gets 404); the export holds
//! everything, credentials byte for byte; erasure leaves no personal text in any column of any
//! table while the credential issued before it still verifies and the audit chain verifies;
//! self-erasure needs the password; the privacy note and retention (applied by housekeeping).

mod common;

use std::io::Read;

use axum::body::Body;
use axum::http::{Request, header};
use common::{As, PASSWORD, TestApp};
use serde_json::{Value, json};
use tessera_core::clock::Clock;
use tessera_issue::tessera_vc::{CheckCode, CheckStatus, VerifyOptions, verify_bytes};
use tessera_store::audit::AuditVerdict;

const CRITERIA: [&str; 5] = [
    "understanding",
    "strategy",
    "accuracy",
    "reasoning",
    "communication",
];
const NAME: &str = "Zebedee Quillfeather";
const EMAIL: &str = "zebedee.quillfeather@example.org";
const ESSAY: &str = "Xylophonic essay by Quillfeather about counting";
const FILE_TEXT: &[u8] = b"Marginalia-Quillfeather: my working notes";

struct World {
    app: TestApp,
    root: As,
    admin: As,
    teacher: As,
    reviewer: As,
    learner: As,
    learner_id: String,
    learner2: As,
    learner2_id: String,
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
        // The learner with a distinctive name and e-mail address.
        let inv = app
            .post(
                "/api/v1/orgs/alpha/invitations",
                &admin,
                json!({"email": EMAIL, "role": "learner"}),
            )
            .await
            .expect(201);
        app.post(
            "/api/v1/invitations/accept",
            &As::Anonymous,
            json!({"token": inv["token"], "name": NAME, "password": PASSWORD}),
        )
        .await
        .expect(200);
        let learner = app.token_for(EMAIL).await;
        let learner_id = app.user_id(&learner).await;
        let learner2 = app.member(&root, "alpha", "l2@alpha.test", "learner").await;
        let learner2_id = app.user_id(&learner2).await;
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
        Self {
            app,
            root,
            admin,
            teacher,
            reviewer,
            learner,
            learner_id,
            learner2,
            learner2_id,
            mp3: ids.pop().unwrap(),
            mp1: ids.pop().unwrap(),
        }
    }

    fn learner_path(&self, rest: &str) -> String {
        format!("/api/v1/orgs/alpha/learners/{}/{rest}", self.learner_id)
    }

    /// The learner submits text and a file for `competency`.
    async fn submit_with_file(&self, competency: &str) -> Value {
        let boundary = "XbOuNdArYx";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"rubric\"\r\n\r\nmath-problem-solving\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{ESSAY}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"quillfeather-notes.txt\"\r\nContent-Type: text/plain\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(FILE_TEXT);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let As::Bearer(token) = &self.learner else {
            unreachable!()
        };
        self.app
            .raw(
                Request::builder()
                    .method("POST")
                    .uri(format!(
                        "/api/v1/orgs/alpha/competencies/{competency}/evidence"
                    ))
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(
                        header::CONTENT_TYPE,
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
            .expect(201)
    }

    /// The reviewer scores a review, every criterion at `level`, with a comment naming the
    /// learner.
    async fn score(&self, review: &str, level: &str) -> Value {
        let criteria: Vec<Value> = CRITERIA
            .iter()
            .map(|c| json!({"criterion": c, "level": level, "comment": format!("{NAME} explained {c} well")}))
            .collect();
        self.app
            .post(
                &format!("/api/v1/orgs/alpha/reviews/{review}/score"),
                &self.reviewer,
                json!({ "criteria": criteria }),
            )
            .await
            .expect(200)
    }

    async fn put(&self, path: &str, who: &As, body: Value) -> common::Reply {
        self.app
            .send(axum::http::Method::PUT, path, who, Some(body))
            .await
    }

    async fn get_raw(&self, path: &str) -> common::Reply {
        self.app
            .raw(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    /// Verification options with what the service serves: the DID document and both lists.
    async fn served_options(&self) -> VerifyOptions {
        let mut o = VerifyOptions::new(self.app.clock.now());
        let did = self.get_raw("/orgs/alpha/did.json").await.expect(200);
        o.add_controller_document(&did).unwrap();
        for purpose in ["revocation", "suspension"] {
            let list = self
                .get_raw(&format!("/orgs/alpha/status/{purpose}/1"))
                .await
                .expect(200);
            o.add_status_list(list).unwrap();
        }
        o
    }

    async fn verifies(&self, bytes: &[u8]) {
        let report = verify_bytes(bytes, &self.served_options().await).unwrap();
        assert!(report.verified, "{report:?}");
        let status = report
            .checks
            .iter()
            .find(|c| c.code == CheckCode::Status)
            .expect("a status check");
        assert_eq!(status.status, CheckStatus::Passed, "{}", status.message);
    }
}

fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut out: std::collections::BTreeMap<String, Vec<u8>> = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        let name = f.name().unwrap().to_string();
        out.insert(name, data);
    }
    out
}

#[tokio::test]
async fn erasure_leaves_no_personal_text_and_issued_credentials_still_verify() {
    let w = World::new().await;
    // A record full of personal data: evidence text and a file, reviewers' comments, a
    // teacher's exception reason, credential status reasons, a consent, staff reads.
    let sub = w.submit_with_file(&w.mp1).await;
    w.app.clock.advance(chrono::Duration::days(2));
    assert_eq!(
        w.score(sub["review_id"].as_str().unwrap(), "expert").await["outcome"],
        "mastered"
    );
    w.app
        .send(
            axum::http::Method::PUT,
            &w.learner_path(&format!("competencies/{}/prerequisite-exception", w.mp3)),
            &w.teacher,
            Some(json!({"reason": format!("{NAME} was ill in March")})),
        )
        .await
        .expect(200);
    let issued = w
        .app
        .post(
            &w.learner_path(&format!("competencies/{}/credential", w.mp1)),
            &w.teacher,
            json!({}),
        )
        .await
        .expect(201);
    let credential_id = issued["id"].as_str().unwrap().to_owned();
    for action in ["suspend", "reinstate"] {
        w.app
            .post(
                &format!("/api/v1/orgs/alpha/credentials/{credential_id}/status"),
                &w.teacher,
                json!({"action": action, "reason": format!("{action}: query about Quillfeather")}),
            )
            .await
            .expect(200);
    }
    w.app
        .post(
            &w.learner_path("consents"),
            &w.learner,
            json!({"scope": "credentials", "recipient": "Quillfeather Family Trust"}),
        )
        .await
        .expect(201);
    w.app
        .get(&w.learner_path("record"), &w.teacher)
        .await
        .expect(200);
    w.app
        .get(&w.learner_path("evidence"), &w.teacher)
        .await
        .expect(200);
    // Data of other issues: a transcript (its signed CLR names the learner) with a share link,
    // a credential share link, the learner's own DID and a consented subgroup answer.
    let transcript = w
        .app
        .post(&w.learner_path("transcripts"), &w.learner, json!({}))
        .await
        .expect(201);
    let transcript_id = transcript["id"].as_str().unwrap().to_owned();
    w.app
        .post(
            &format!("/api/v1/orgs/alpha/transcripts/{transcript_id}/share-links"),
            &w.learner,
            json!({"label": "for Quillfeather's employer"}),
        )
        .await
        .expect(201);
    w.app
        .post(
            &format!("/api/v1/orgs/alpha/credentials/{credential_id}/share-links"),
            &w.learner,
            json!({"label": "Quillfeather portfolio"}),
        )
        .await
        .expect(201);
    w.put(
        "/api/v1/orgs/alpha/subgroup-attributes/language",
        &w.admin,
        json!({"label": "Language at home", "values": ["English", "Other"]}),
    )
    .await
    .expect(200);
    w.put(
        "/api/v1/orgs/alpha/me/subgroups/language",
        &w.learner,
        json!({"value": "Other", "consent": true}),
    )
    .await
    .expect(200);
    let signed = w
        .app
        .state
        .store
        .credential(&credential_id)
        .await
        .unwrap()
        .signed;
    w.verifies(signed.as_bytes()).await;

    // The export holds it all, the credential byte for byte and the file.
    let reply = w.app.get("/api/v1/me/export", &w.learner).await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/zip");
    let files = unzip(&reply.body);
    let data: Value = serde_json::from_slice(&files["data.json"]).unwrap();
    assert_eq!(data["profile"]["name"], NAME);
    assert_eq!(data["profile"]["email"], EMAIL);
    let org = &data["organisations"][0];
    assert_eq!(org["submissions"][0]["text"], ESSAY);
    assert_eq!(org["consents"][0]["recipient"], "Quillfeather Family Trust");
    assert_eq!(org["staff_access_log"].as_array().unwrap().len(), 2);
    assert!(
        org["reviews"][0]["scored"]
            .to_string()
            .contains("explained"),
        "{}",
        org["reviews"][0]
    );
    assert_eq!(
        org["mastery_record"]["competencies"][&w.mp1]["state"],
        "mastered"
    );
    assert_eq!(
        files[&format!("credentials/{credential_id}.json")],
        signed.as_bytes()
    );
    let sha = sub["files"][0]["sha256"].as_str().unwrap();
    assert_eq!(
        files[&format!("evidence/{sha}/quillfeather-notes.txt")],
        FILE_TEXT
    );
    let blob = w
        .app
        .state
        .config
        .data_dir
        .join("evidence")
        .join(&sha[..2])
        .join(sha);
    assert!(blob.exists());

    // An admin erases on the learner's request: the e-mail must be typed again.
    let erase = w.learner_path("erase");
    w.app
        .post(
            &erase,
            &w.admin,
            json!({"confirm_email": "someone@else.test"}),
        )
        .await
        .expect_problem(422, "validation-failed");
    w.app
        .post(&erase, &w.learner2, json!({"confirm_email": EMAIL}))
        .await
        .expect_problem(404, "not-found");
    w.app
        .post(&erase, &w.teacher, json!({"confirm_email": EMAIL}))
        .await
        .expect_problem(404, "not-found");
    let done = w
        .app
        .post(
            &erase,
            &w.admin,
            json!({"confirm_email": EMAIL.to_uppercase()}),
        )
        .await
        .expect(200);
    assert_eq!(done["user_id"], w.learner_id.as_str());

    // No personal field left, in any text column of any table (tables of other issues too).
    for needle in [
        NAME,
        "Zebedee",
        "Quillfeather",
        EMAIL,
        "Xylophonic",
        "Marginalia",
    ] {
        let left = w
            .app
            .state
            .store
            .find_text_everywhere(needle)
            .await
            .unwrap();
        assert!(left.is_empty(), "{needle:?} is still in {left:?}");
    }
    assert!(!blob.exists(), "the evidence file is deleted from disk");
    // The learner's id (a pseudonym now) is left only where credentials and the audit chain
    // need it (the credential's row and idempotency key; never its signed bytes, which travel),
    // in the replaced e-mail address and in the erasure record.
    let mut left = w
        .app
        .state
        .store
        .find_text_everywhere(&w.learner_id)
        .await
        .unwrap();
    left.sort();
    assert_eq!(
        left,
        [
            "audit_log.subjects",
            "credential_subjects.learner_id",
            "credentials.idempotency_key",
            "credentials.learner_id",
            "erasures.user_id",
            "users.email",
            "users.id",
        ],
        "rows about the learner are left in other tables"
    );
    // The credential still verifies (same bytes, same DID document and status lists) and the
    // audit chain is intact.
    let after = w
        .app
        .state
        .store
        .credential(&credential_id)
        .await
        .unwrap()
        .signed;
    assert_eq!(after, signed);
    w.verifies(signed.as_bytes()).await;
    assert!(matches!(
        w.app.state.store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { .. }
    ));
    // The account is gone: its token no longer works; a second erasure is refused (404: no
    // longer a member).
    w.app
        .get("/api/v1/me", &w.learner)
        .await
        .expect_problem(401, "unauthenticated");
    w.app
        .post(&erase, &w.admin, json!({"confirm_email": EMAIL}))
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test]
async fn a_learner_reads_only_their_own_consents_and_access_log() {
    let w = World::new().await;
    let consent = w
        .app
        .post(
            &w.learner_path("consents"),
            &w.learner,
            json!({"scope": "research", "recipient": "University study", "purpose": "time to mastery"}),
        )
        .await
        .expect(201);
    let consent_id = consent["id"].as_str().unwrap();
    // Bad input is a clear problem.
    w.app
        .post(
            &w.learner_path("consents"),
            &w.learner,
            json!({"scope": "everything", "recipient": "x"}),
        )
        .await
        .expect_problem(422, "validation-failed");
    w.app
        .post(
            &w.learner_path("consents"),
            &w.learner,
            json!({"scope": "research", "recipient": "  "}),
        )
        .await
        .expect_problem(422, "validation-failed");

    // Another learner: 404 for reading, granting, withdrawing and the log.
    for path in [w.learner_path("consents"), w.learner_path("access-log")] {
        w.app
            .get(&path, &w.learner2)
            .await
            .expect_problem(404, "not-found");
    }
    w.app
        .post(
            &w.learner_path("consents"),
            &w.learner2,
            json!({"scope": "research", "recipient": "me"}),
        )
        .await
        .expect_problem(404, "not-found");
    let withdraw = w.learner_path(&format!("consents/{consent_id}/withdraw"));
    w.app
        .send(axum::http::Method::POST, &withdraw, &w.learner2, None)
        .await
        .expect_problem(404, "not-found");
    // Staff: admins read consents (to know what may be shared); nobody but the learner reads
    // the access log or changes consents.
    assert_eq!(
        w.app
            .get(&w.learner_path("consents"), &w.admin)
            .await
            .expect(200)[0]["id"],
        consent_id
    );
    w.app
        .get(&w.learner_path("consents"), &w.teacher)
        .await
        .expect_problem(404, "not-found");
    for who in [&w.admin, &w.teacher, &w.root] {
        w.app
            .get(&w.learner_path("access-log"), who)
            .await
            .expect_problem(404, "not-found");
    }

    // Staff reads are logged; the learner's own reads and refused reads are not.
    w.app
        .get(&w.learner_path("record"), &w.learner)
        .await
        .expect(200);
    w.app
        .get(&w.learner_path("record"), &w.learner2)
        .await
        .expect_problem(404, "not-found");
    let log = w
        .app
        .get(&w.learner_path("access-log"), &w.learner)
        .await
        .expect(200);
    assert_eq!(log, json!([]));
    w.app
        .get(&w.learner_path("record"), &w.teacher)
        .await
        .expect(200);
    w.app.clock.advance(chrono::Duration::minutes(5));
    w.app
        .get(&w.learner_path("evidence"), &w.reviewer)
        .await
        .expect(200);
    w.app.clock.advance(chrono::Duration::minutes(5));
    w.app
        .get(&w.learner_path("record"), &w.root)
        .await
        .expect(200);
    let log = w
        .app
        .get(&w.learner_path("access-log"), &w.learner)
        .await
        .expect(200);
    let rows: Vec<(String, String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["staff_name"].as_str().unwrap().to_owned(),
                e["staff_roles"].as_str().unwrap().to_owned(),
                e["what"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("Root".into(), "platform admin".into(), "record".into()),
            ("r@alpha.test".into(), "reviewer".into(), "evidence".into()),
            ("t@alpha.test".into(), "teacher".into(), "record".into()),
        ]
    );
    assert_eq!(
        log[2]["path"],
        format!("/api/v1/orgs/alpha/learners/{}/record", w.learner_id)
    );
    // Learner 2's log shows nothing of this.
    let other = w
        .app
        .get(
            &format!("/api/v1/orgs/alpha/learners/{}/access-log", w.learner2_id),
            &w.learner2,
        )
        .await
        .expect(200);
    assert_eq!(other, json!([]));

    // Withdrawing keeps the history; twice is a conflict.
    let withdrawn = w
        .app
        .send(axum::http::Method::POST, &withdraw, &w.learner, None)
        .await
        .expect(200);
    assert!(withdrawn["withdrawn_at"].is_string());
    w.app
        .send(axum::http::Method::POST, &withdraw, &w.learner, None)
        .await
        .expect_problem(409, "conflict");
    let history = w
        .app
        .get(&w.learner_path("consents"), &w.learner)
        .await
        .expect(200);
    assert_eq!(history.as_array().unwrap().len(), 1);

    // Each export holds only its owner's data.
    let theirs = unzip(&w.app.get("/api/v1/me/export", &w.learner2).await.body);
    let data = String::from_utf8(theirs["data.json"].clone()).unwrap();
    assert!(!data.contains(NAME) && !data.contains("University study"));
    assert!(data.contains("l2@alpha.test"));
}

#[tokio::test]
async fn self_erasure_needs_the_password_and_admins_erase_only_plain_learners() {
    let w = World::new().await;
    let erase = w.learner_path("erase");
    w.app
        .post(&erase, &w.learner, json!({"confirm_email": EMAIL}))
        .await
        .expect_problem(422, "validation-failed");
    w.app
        .post(
            &erase,
            &w.learner,
            json!({"confirm_email": EMAIL, "password": "wrong password"}),
        )
        .await
        .expect_problem(401, "invalid-credentials");
    // An organisation admin may not erase staff (nor anyone in another organisation): 409.
    let teacher_id = w.app.user_id(&w.teacher).await;
    w.app
        .post(
            &format!("/api/v1/orgs/alpha/learners/{teacher_id}/erase"),
            &w.admin,
            json!({"confirm_email": "t@alpha.test"}),
        )
        .await
        .expect_problem(409, "conflict");
    // A platform admin's account is never erased.
    let root_id = w.app.user_id(&w.root).await;
    w.app
        .post(
            &format!("/api/v1/orgs/alpha/learners/{root_id}/erase"),
            &w.root,
            json!({"confirm_email": "root@tessera.test", "password": PASSWORD}),
        )
        .await
        .expect_problem(404, "not-found");
    let done = w
        .app
        .post(
            &erase,
            &w.learner,
            json!({"confirm_email": EMAIL, "password": PASSWORD}),
        )
        .await
        .expect(200);
    assert_eq!(done["erased_by"], w.learner_id.as_str());
    w.app
        .get("/api/v1/me", &w.learner)
        .await
        .expect_problem(401, "unauthenticated");
    assert!(
        w.app
            .state
            .store
            .find_text_everywhere(EMAIL)
            .await
            .unwrap()
            .is_empty()
    );
    // The platform admin erases a teacher.
    let t = w
        .app
        .post(
            &format!("/api/v1/orgs/alpha/learners/{teacher_id}/erase"),
            &w.root,
            json!({"confirm_email": "t@alpha.test"}),
        )
        .await
        .expect(200);
    assert_eq!(t["user_id"], teacher_id.as_str());
}

#[tokio::test]
async fn the_privacy_note_is_public_and_retention_is_applied_by_housekeeping() {
    let w = World::new().await;
    let note = w.get_raw("/api/v1/orgs/alpha/privacy").await.expect(200);
    assert_eq!(note["is_default"], true);
    assert!(
        note["body"]
            .as_str()
            .unwrap()
            .contains("No automated high-stakes decisions"),
        "{note}"
    );
    w.put(
        "/api/v1/orgs/alpha/privacy",
        &w.teacher,
        json!({"body": "Ours."}),
    )
    .await
    .expect_problem(403, "forbidden");
    w.put(
        "/api/v1/orgs/alpha/privacy",
        &w.admin,
        json!({"body": "   "}),
    )
    .await
    .expect_problem(422, "validation-failed");
    let saved = w
        .put(
            "/api/v1/orgs/alpha/privacy",
            &w.admin,
            json!({"body": "Our own note.\n\nSecond paragraph."}),
        )
        .await
        .expect(200);
    assert_eq!(saved["is_default"], false);
    assert_eq!(
        w.get_raw("/api/v1/orgs/alpha/privacy").await.expect(200)["body"],
        "Our own note.\n\nSecond paragraph."
    );

    w.put(
        "/api/v1/orgs/alpha/retention",
        &w.admin,
        json!({"evidence_files_days": -1}),
    )
    .await
    .expect_problem(422, "validation-failed");
    w.put(
        "/api/v1/orgs/alpha/retention",
        &w.admin,
        json!({"access_log_days": 0}),
    )
    .await
    .expect_problem(422, "validation-failed");
    w.put(
        "/api/v1/orgs/alpha/retention",
        &w.learner,
        json!({"evidence_files_days": 30}),
    )
    .await
    .expect_problem(403, "forbidden");
    w.put(
        "/api/v1/orgs/alpha/retention",
        &w.admin,
        json!({"evidence_files_days": 30, "access_log_days": 365}),
    )
    .await
    .expect(200);
    assert_eq!(
        w.get_raw("/api/v1/orgs/alpha/privacy").await.expect(200)["retention"],
        json!({"evidence_files_days": 30, "access_log_days": 365})
    );

    // A mastered competency's file goes 30 days after the mastery, from disk too.
    let sub = w.submit_with_file(&w.mp1).await;
    w.score(sub["review_id"].as_str().unwrap(), "expert").await;
    let sha = sub["files"][0]["sha256"].as_str().unwrap();
    let blob = w
        .app
        .state
        .config
        .data_dir
        .join("evidence")
        .join(&sha[..2])
        .join(sha);
    w.app.clock.advance(chrono::Duration::days(29));
    let run = tessera_server::housekeeping::apply_retention(&w.app.state)
        .await
        .unwrap();
    assert_eq!(run.submissions, 0);
    assert!(blob.exists());
    w.app.clock.advance(chrono::Duration::days(2));
    let run = tessera_server::housekeeping::apply_retention(&w.app.state)
        .await
        .unwrap();
    assert_eq!(run.submissions, 1);
    assert!(!blob.exists());
    let listed = w
        .app
        .get(&w.learner_path("evidence"), &w.learner)
        .await
        .expect(200);
    assert_eq!(listed[0]["files"], json!([]));
    assert_eq!(listed[0]["text"], ESSAY, "the submission itself stays");
}
