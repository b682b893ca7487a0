//! Bulk and automatic issuance through the API, on the backend `TESSERA_TEST_BACKEND` names:
//! a batch issues each good row once (a rerun issues nothing), explains each bad row, survives
//! a worker that died holding claims, shares rows between concurrent workers without issuing
//! twice; a CSV upload does the same; a framework set to `automatic` gets its masteries issued
//! by the sweep, one in `approval` waits for a teacher.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use common::{As, TestApp};
use serde_json::{Value, json};
use tessera_core::clock::Clock;
use tessera_issue::tessera_vc::{VerifyOptions, verify_bytes};
use tessera_server::bulk_worker::{process_chunk, run_until_idle, sweep_automatic};

const TIMEOUT: Duration = Duration::from_secs(60);

struct World {
    app: TestApp,
    admin: As,
    teacher: As,
    learner: As,
    learner_id: String,
    learner2: As,
    learner2_id: String,
    framework: String,
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
        let learner = app.member(&root, "alpha", "l@alpha.test", "learner").await;
        let learner2 = app.member(&root, "alpha", "l2@alpha.test", "learner").await;
        let learner_id = app.user_id(&learner).await;
        let learner2_id = app.user_id(&learner2).await;
        let fw = app
            .post(
                "/api/v1/orgs/alpha/frameworks",
                &teacher,
                json!({"title": "Maths"}),
            )
            .await
            .expect(201);
        let framework = fw["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/frameworks/{framework}/competencies");
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
            admin,
            teacher,
            learner,
            learner_id,
            learner2,
            learner2_id,
            framework,
            mp3: ids.pop().unwrap(),
            mp1: ids.pop().unwrap(),
        }
    }

    async fn batch(&self, id: &str) -> Value {
        self.app
            .get(
                &format!("/api/v1/orgs/alpha/issue-batches/{id}"),
                &self.teacher,
            )
            .await
            .expect(200)
    }

    async fn rows(&self, id: &str, state: &str) -> Vec<Value> {
        self.app
            .get(
                &format!("/api/v1/orgs/alpha/issue-batches/{id}/rows?state={state}&limit=500"),
                &self.teacher,
            )
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .clone()
    }

    async fn credential_count(&self) -> usize {
        let mut n = 0;
        for learner in [&self.learner_id, &self.learner2_id] {
            n += self
                .app
                .state
                .store
                .credentials(
                    &self.app.state.store.org_by_slug("alpha").await.unwrap().id,
                    Some(learner),
                    500,
                    0,
                )
                .await
                .unwrap()
                .len();
        }
        n
    }

    /// Verification options with the DID document and both status lists this service serves.
    async fn served_options(&self) -> VerifyOptions {
        let mut o = VerifyOptions::new(self.app.clock.now());
        let raw = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let did = self.app.raw(raw("/orgs/alpha/did.json")).await;
        assert_eq!(did.status.as_u16(), 200);
        o.add_controller_document(&did.json).unwrap();
        for purpose in ["revocation", "suspension"] {
            let list = self
                .app
                .raw(raw(&format!("/orgs/alpha/status/{purpose}/1")))
                .await;
            assert_eq!(list.status.as_u16(), 200);
            o.add_status_list(list.json).unwrap();
        }
        o
    }

    async fn signed(&self, credential_id: &str) -> Vec<u8> {
        let reply = self
            .app
            .get(
                &format!("/api/v1/orgs/alpha/credentials/{credential_id}"),
                &self.teacher,
            )
            .await;
        assert_eq!(reply.status.as_u16(), 200);
        reply.body
    }
}

#[tokio::test]
async fn a_batch_issues_each_good_row_once_and_explains_each_bad_row() {
    let w = World::new().await;
    let rows = json!({"rows": [
        {"key": "k1", "learner": "L@alpha.test", "competency": "CCSS.MATH.PRACTICE.MP1", "level": "Proficient",
         "activity_start": "2026-09-01", "activity_end": "2026-10-15"},
        {"key": "k2", "learner": w.learner2_id, "competency": w.mp3},
        42,
        {"key": "k4", "learner": "l@alpha.test", "competency": "NOPE"},
        {"key": "k5", "learner": "ghost@alpha.test", "competency": "CCSS.MATH.PRACTICE.MP1"},
        {"key": "k1", "learner": "l2@alpha.test", "competency": "CCSS.MATH.PRACTICE.MP1"},
        {"key": "k7", "learner": "l@alpha.test", "competency": "CCSS.MATH.PRACTICE.MP3", "activity_end": "15/10/2026"},
        {"key": "k8", "learner": "l@alpha.test", "competency": "CCSS.MATH.PRACTICE.MP3", "grade": "A"},
        {"key": "k9", "learner": "t@alpha.test", "competency": "CCSS.MATH.PRACTICE.MP3"},
        {"key": "k10", "learner": "l@alpha.test", "competency": "CCSS.MATH.PRACTICE.MP3",
         "activity_start": "2026-10-02", "activity_end": "2026-10-01"},
    ]});
    // Only teachers and admins make batches.
    w.app
        .post("/api/v1/orgs/alpha/issue-batches", &w.learner, rows.clone())
        .await
        .expect_problem(403, "forbidden");
    let batch = w
        .app
        .post("/api/v1/orgs/alpha/issue-batches", &w.teacher, rows.clone())
        .await
        .expect(201);
    let id = batch["id"].as_str().unwrap().to_owned();
    assert_eq!(batch["total"], 10);
    assert_eq!(batch["pending"], 2);
    assert_eq!(batch["failed"], 8);
    assert_eq!(batch["issued"], 0);

    // Every bad row says why, in its own words; nothing is lost.
    let failed = w.rows(&id, "failed").await;
    let why: Vec<(i64, String)> = failed
        .iter()
        .map(|r| {
            (
                r["row_no"].as_i64().unwrap(),
                r["error"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = [
        (3, "not a JSON object"),
        (4, "unknown competency \"NOPE\""),
        (5, "unknown learner \"ghost@alpha.test\""),
        (6, "duplicate row key \"k1\" (first used on row 1)"),
        (7, "activity_end \"15/10/2026\" is not a date"),
        (8, "unknown field \"grade\""),
        (9, "unknown learner \"t@alpha.test\""),
        (10, "activity_start is after activity_end"),
    ];
    assert_eq!(why.len(), expect.len(), "{why:?}");
    for ((n, message), (want_n, want)) in why.iter().zip(expect) {
        assert_eq!(*n, want_n);
        assert!(
            message.contains(want),
            "row {n}: {message:?} should say {want:?}"
        );
    }

    let report = run_until_idle(&w.app.state, TIMEOUT).await.unwrap();
    assert_eq!((report.claimed, report.issued, report.failed), (2, 2, 0));
    let done = w.batch(&id).await;
    assert_eq!(
        (
            done["issued"].as_i64(),
            done["failed"].as_i64(),
            done["pending"].as_i64()
        ),
        (Some(2), Some(8), Some(0))
    );
    let issued = w.rows(&id, "issued").await;
    assert_eq!(issued.len(), 2);

    // The credentials are built from their rows and verify against what the service serves.
    let options = w.served_options().await;
    for row in &issued {
        let bytes = w.signed(row["credential_id"].as_str().unwrap()).await;
        let report = verify_bytes(&bytes, &options).unwrap();
        assert!(report.verified, "{report:?}");
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        let subject = &doc["credentialSubject"];
        if row["row_key"] == "k1" {
            assert_eq!(subject["activityStartDate"], "2026-09-01T00:00:00Z");
            assert_eq!(subject["activityEndDate"], "2026-10-15T00:00:00Z");
            assert_eq!(subject["result"][0]["value"], "Proficient");
            assert_eq!(subject["timeToMastery"], "P44D");
            assert_eq!(
                subject["achievement"]["humanCode"],
                "CCSS.MATH.PRACTICE.MP1"
            );
        } else {
            assert_eq!(row["row_key"], "k2");
            assert!(subject.get("result").is_none());
            assert_eq!(
                subject["achievement"]["humanCode"],
                "CCSS.MATH.PRACTICE.MP3"
            );
        }
    }
    // The learner reads their own credential; the row credential's idempotency key names the row.
    let org = w.app.state.store.org_by_slug("alpha").await.unwrap();
    let mine = w
        .app
        .state
        .store
        .credentials(&org.id, Some(&w.learner_id), 10, 0)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].idempotency_key, format!("batch:{}:k1", org.id));
    assert!(mine[0].issued_by.is_none());

    // Rerunning the same batch issues nothing: rows issued before come back as issued.
    let rerun = w
        .app
        .post("/api/v1/orgs/alpha/issue-batches", &w.admin, rows)
        .await
        .expect(201);
    assert_eq!(
        (
            rerun["issued"].as_i64(),
            rerun["pending"].as_i64(),
            rerun["failed"].as_i64()
        ),
        (Some(2), Some(0), Some(8))
    );
    let report = run_until_idle(&w.app.state, TIMEOUT).await.unwrap();
    assert_eq!(report.claimed, 0);
    assert_eq!(w.credential_count().await, 2);
    let again = w.rows(rerun["id"].as_str().unwrap(), "issued").await;
    let first: Vec<&Value> = issued.iter().map(|r| &r["credential_id"]).collect();
    let second: Vec<&Value> = again.iter().map(|r| &r["credential_id"]).collect();
    assert_eq!(
        first, second,
        "the rerun points at the credentials issued first"
    );

    // The batch list and the audit chain.
    let list = w
        .app
        .get("/api/v1/orgs/alpha/issue-batches", &w.teacher)
        .await
        .expect(200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    w.app
        .get("/api/v1/orgs/alpha/issue-batches", &w.learner)
        .await
        .expect_problem(403, "forbidden");
    assert!(matches!(
        w.app.state.store.verify_audit().await.unwrap(),
        tessera_store::audit::AuditVerdict::Intact { .. }
    ));
}

#[tokio::test]
async fn bad_batches_are_refused_whole_with_a_clear_code() {
    let w = World::new().await;
    let path = "/api/v1/orgs/alpha/issue-batches";
    w.app
        .post(path, &w.teacher, json!({"rows": []}))
        .await
        .expect_problem(422, "validation-failed");
    w.app
        .post(path, &w.teacher, json!({"lines": []}))
        .await
        .expect_problem(422, "invalid-body");
    let request = Request::post(path)
        .header(header::AUTHORIZATION, bearer(&w.teacher))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"rows\": [1,"))
        .unwrap();
    w.app
        .raw(request)
        .await
        .expect_problem(400, "malformed-json");
    // Another organisation's batch is not found.
    w.app
        .get(
            "/api/v1/orgs/alpha/issue-batches/00000000-0000-0000-0000-000000000000",
            &w.teacher,
        )
        .await
        .expect_problem(404, "not-found");
}

fn bearer(who: &As) -> String {
    match who {
        As::Bearer(t) => format!("Bearer {t}"),
        _ => panic!("a token"),
    }
}

#[tokio::test]
async fn a_csv_upload_issues_good_rows_and_names_each_bad_line() {
    let w = World::new().await;
    let csv = "key,learner,competency,level,activity_start,activity_end\r\n\
               c1,l@alpha.test,CCSS.MATH.PRACTICE.MP1,\"Advanced, with distinction\",2026-09-01,2026-10-01\r\n\
               c2,l2@alpha.test,CCSS.MATH.PRACTICE.MP3,,,\r\n\
               c3,l2@alpha.test\r\n\
               c4,l2@alpha.test,MP9,,,\r\n\
               c2,l@alpha.test,CCSS.MATH.PRACTICE.MP1,,,\r\n\
               \r\n\
               c6,l@alpha.test,CCSS.MATH.PRACTICE.MP3,\"unclosed,,\r\n";
    let upload = |body: &'static str, who: &As| {
        Request::post("/api/v1/orgs/alpha/issue-batches/csv")
            .header(header::AUTHORIZATION, bearer(who))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(body))
            .unwrap()
    };
    w.app
        .raw(upload(csv, &w.learner))
        .await
        .expect_problem(403, "forbidden");
    let batch = w.app.raw(upload(csv, &w.teacher)).await.expect(201);
    assert_eq!(batch["total"], 6);
    assert_eq!(batch["pending"], 2);
    assert_eq!(batch["failed"], 4);
    let id = batch["id"].as_str().unwrap().to_owned();
    let failed = w.rows(&id, "failed").await;
    let errors: Vec<&str> = failed
        .iter()
        .map(|r| r["error"].as_str().unwrap())
        .collect();
    assert!(
        errors[0].contains("malformed row: line 4: 2 fields where the header has 6"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("unknown competency \"MP9\""),
        "{errors:?}"
    );
    assert!(errors[2].contains("duplicate row key \"c2\""), "{errors:?}");
    assert!(
        errors[3].contains("a quoted field is not closed"),
        "{errors:?}"
    );
    assert_eq!(failed[3]["row_key"], "", "an unreadable line has no key");
    let report = run_until_idle(&w.app.state, TIMEOUT).await.unwrap();
    assert_eq!(report.issued, 2);
    let issued = w.rows(&id, "issued").await;
    let c1 = issued.iter().find(|r| r["row_key"] == "c1").unwrap();
    let doc: Value =
        serde_json::from_slice(&w.signed(c1["credential_id"].as_str().unwrap()).await).unwrap();
    assert_eq!(
        doc["credentialSubject"]["result"][0]["value"],
        "Advanced, with distinction"
    );

    // A header problem refuses the file whole.
    w.app
        .raw(upload("key,learner\r\nx,l@alpha.test\r\n", &w.teacher))
        .await
        .expect_problem(422, "validation-failed");
    w.app
        .raw(upload("key,learner,competency,colour\r\n", &w.teacher))
        .await
        .expect_problem(422, "validation-failed");
}

#[tokio::test]
async fn rows_claimed_by_a_worker_that_died_are_taken_over_and_issued_once() {
    let w = World::new().await;
    let rows: Vec<Value> = (0..30)
        .map(|i| json!({"key": format!("r{i}"), "learner": if i % 2 == 0 { "l@alpha.test" } else { "l2@alpha.test" }, "competency": "CCSS.MATH.PRACTICE.MP1"}))
        .collect();
    let batch = w
        .app
        .post(
            "/api/v1/orgs/alpha/issue-batches",
            &w.teacher,
            json!({ "rows": rows }),
        )
        .await
        .expect(201);
    let id = batch["id"].as_str().unwrap().to_owned();
    let store = &w.app.state.store;
    // A worker claims ten rows and dies before storing anything.
    let now = w.app.clock.now();
    let lost = store
        .claim_batch_rows(10, now - chrono::Duration::seconds(60), now)
        .await
        .unwrap();
    assert_eq!(lost.len(), 10);
    // Live workers leave a fresh claim alone and issue the rest.
    let report = run_until_idle(&w.app.state, TIMEOUT).await.unwrap();
    assert_eq!(report.issued, 20);
    let b = w.batch(&id).await;
    assert_eq!(
        (b["issued"].as_i64(), b["claimed"].as_i64()),
        (Some(20), Some(10))
    );
    // Once the claim is older than the timeout, it is taken over.
    w.app.clock.advance(chrono::Duration::seconds(61));
    let report = run_until_idle(&w.app.state, TIMEOUT).await.unwrap();
    assert_eq!(report.issued, 10);
    let b = w.batch(&id).await;
    assert_eq!(
        (
            b["issued"].as_i64(),
            b["claimed"].as_i64(),
            b["pending"].as_i64()
        ),
        (Some(30), Some(0), Some(0))
    );
    assert_eq!(w.credential_count().await, 30);

    // A worker whose claim was taken over after it had stored its credential: the row is
    // marked with that credential, nothing is signed twice.
    let late = json!({"rows": [{"key": "late", "learner": "l@alpha.test", "competency": "CCSS.MATH.PRACTICE.MP3"}]});
    w.app
        .post("/api/v1/orgs/alpha/issue-batches", &w.teacher, late)
        .await
        .expect(201);
    let now = w.app.clock.now();
    let claimed = store
        .claim_batch_rows(10, now - chrono::Duration::seconds(60), now)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // The first worker gives the row back unfinished; a second one issues it.
    store.release_batch_rows(&claimed).await.unwrap();
    let report = run_until_idle(&w.app.state, TIMEOUT).await.unwrap();
    assert_eq!(report.issued, 1);
    assert_eq!(w.credential_count().await, 31);
}

#[tokio::test]
async fn concurrent_workers_share_the_rows_and_issue_each_once() {
    let w = World::new().await;
    let rows: Vec<Value> = (0..120)
        .map(|i| json!({"key": format!("c{i}"), "learner": if i % 2 == 0 { "l@alpha.test" } else { "l2@alpha.test" }, "competency": if i % 3 == 0 { "CCSS.MATH.PRACTICE.MP1" } else { "CCSS.MATH.PRACTICE.MP3" }}))
        .collect();
    let batch = w
        .app
        .post(
            "/api/v1/orgs/alpha/issue-batches",
            &w.teacher,
            json!({ "rows": rows }),
        )
        .await
        .expect(201);
    let state = &w.app.state;
    let worker = || async {
        let mut issued = 0;
        loop {
            let r = process_chunk(state, 7, TIMEOUT).await.unwrap();
            if r.claimed == 0 {
                return issued;
            }
            issued += r.issued;
        }
    };
    let (a, b, c) = tokio::join!(worker(), worker(), worker());
    assert_eq!(a + b + c, 120);
    let done = w.batch(batch["id"].as_str().unwrap()).await;
    assert_eq!(done["issued"], 120);
    assert_eq!(w.credential_count().await, 120);
    // Every credential has its own status entries.
    let org = state.store.org_by_slug("alpha").await.unwrap();
    let mut seen = std::collections::HashSet::new();
    for learner in [&w.learner_id, &w.learner2_id] {
        for c in state
            .store
            .credentials(&org.id, Some(learner), 500, 0)
            .await
            .unwrap()
        {
            assert!(seen.insert((c.revocation_list.clone(), c.revocation_index)));
        }
    }
}

#[tokio::test]
async fn automatic_frameworks_issue_masteries_approval_frameworks_wait_for_a_teacher() {
    let w = World::new().await;
    let setting = format!("/api/v1/frameworks/{}/issuance", w.framework);
    // Admins only.
    w.app
        .get(&setting, &w.teacher)
        .await
        .expect_problem(403, "forbidden");
    let now = w.app.get(&setting, &w.admin).await.expect(200);
    assert_eq!(now, json!({"issuance": null, "effective": "approval"}));
    w.app
        .send(
            axum::http::Method::PUT,
            &setting,
            &w.admin,
            Some(json!({"issuance": "sometimes"})),
        )
        .await
        .expect_problem(422, "validation-failed");

    let override_to = |competency: &str, learner: &str| {
        format!("/api/v1/orgs/alpha/learners/{learner}/competencies/{competency}/override")
    };
    // The learner submits evidence; the teacher overrides to mastered.
    let master = |competency: String, learner: String| {
        let path = override_to(&competency, &learner);
        let app = &w.app;
        let teacher = &w.teacher;
        let who = if learner == w.learner_id {
            &w.learner
        } else {
            &w.learner2
        };
        async move {
            app.post(
                &format!("/api/v1/orgs/alpha/competencies/{competency}/evidence"),
                who,
                json!({"rubric": "math-problem-solving", "text": "My solution"}),
            )
            .await
            .expect(201);
            app.post(
                &path,
                teacher,
                json!({"to": "mastered", "reason": "seen in class"}),
            )
            .await
            .expect(200);
        }
    };
    master(w.mp1.clone(), w.learner_id.clone()).await;

    // Approval (the default): the sweep leaves it; it waits on the approval list.
    assert_eq!(sweep_automatic(&w.app.state, 100).await.unwrap(), 0);
    let waiting = w
        .app
        .get("/api/v1/orgs/alpha/awaiting-credentials", &w.teacher)
        .await
        .expect(200);
    assert_eq!(waiting.as_array().unwrap().len(), 1);
    assert_eq!(waiting[0]["learner_id"], w.learner_id.as_str());
    assert_eq!(waiting[0]["competency_id"], w.mp1.as_str());
    w.app
        .get("/api/v1/orgs/alpha/awaiting-credentials", &w.learner)
        .await
        .expect_problem(403, "forbidden");
    // The teacher approves: issued, and no longer waiting.
    w.app
        .post(
            &format!(
                "/api/v1/orgs/alpha/learners/{}/competencies/{}/credential",
                w.learner_id, w.mp1
            ),
            &w.teacher,
            json!({}),
        )
        .await
        .expect(201);
    let waiting = w
        .app
        .get("/api/v1/orgs/alpha/awaiting-credentials", &w.teacher)
        .await
        .expect(200);
    assert_eq!(waiting, json!([]));

    // Automatic: the sweep issues each mastery once, with no issuer person.
    let set = w
        .app
        .send(
            axum::http::Method::PUT,
            &setting,
            &w.admin,
            Some(json!({"issuance": "automatic"})),
        )
        .await
        .expect(200);
    assert_eq!(
        set,
        json!({"issuance": "automatic", "effective": "automatic"})
    );
    master(w.mp3.clone(), w.learner_id.clone()).await;
    master(w.mp3.clone(), w.learner2_id.clone()).await;
    assert_eq!(sweep_automatic(&w.app.state, 100).await.unwrap(), 2);
    assert_eq!(sweep_automatic(&w.app.state, 100).await.unwrap(), 0, "once");
    assert_eq!(w.credential_count().await, 3);
    let org = w.app.state.store.org_by_slug("alpha").await.unwrap();
    let auto = w
        .app
        .state
        .store
        .credentials(&org.id, Some(&w.learner2_id), 10, 0)
        .await
        .unwrap();
    assert_eq!(auto.len(), 1);
    assert!(auto[0].issued_by.is_none());
    assert!(auto[0].idempotency_key.starts_with("mastery:"));
    let report = verify_bytes(auto[0].signed.as_bytes(), &w.served_options().await).unwrap();
    assert!(report.verified, "{report:?}");

    // Withdrawn and mastered again later: a new mastery, a new credential.
    w.app
        .post(
            &override_to(&w.mp3, &w.learner2_id),
            &w.teacher,
            json!({"to": "withdrawn", "reason": "mistake"}),
        )
        .await
        .expect(200);
    w.app.clock.advance(chrono::Duration::days(3));
    assert_eq!(
        sweep_automatic(&w.app.state, 100).await.unwrap(),
        0,
        "not mastered now"
    );
    master(w.mp3.clone(), w.learner2_id.clone()).await;
    assert_eq!(sweep_automatic(&w.app.state, 100).await.unwrap(), 1);
    assert_eq!(sweep_automatic(&w.app.state, 100).await.unwrap(), 0);

    // Back to the organisation's default (approval): nothing more is issued automatically.
    let cleared = w
        .app
        .send(
            axum::http::Method::PUT,
            &setting,
            &w.admin,
            Some(json!({"issuance": null})),
        )
        .await
        .expect(200);
    assert_eq!(cleared["effective"], "approval");
}

/// A page request with the session cookie (and a form or multipart body).
fn page_request(
    method: &str,
    path: &str,
    who: &As,
    body: Option<(&str, Vec<u8>)>,
) -> Request<Body> {
    let As::Session { cookie, .. } = who else {
        panic!("a session");
    };
    let b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, format!("tessera_session={cookie}"));
    match body {
        Some((content_type, bytes)) => b
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(bytes))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

fn csrf(who: &As) -> String {
    match who {
        As::Session { csrf, .. } => csrf.clone(),
        _ => panic!("a session"),
    }
}

#[tokio::test]
async fn the_pages_approve_a_waiting_mastery_set_a_framework_and_show_a_batchs_progress() {
    let w = World::new().await;
    w.app
        .post(
            &format!("/api/v1/orgs/alpha/competencies/{}/evidence", w.mp1),
            &w.learner,
            json!({"rubric": "math-problem-solving", "text": "My solution"}),
        )
        .await
        .expect(201);
    w.app
        .post(
            &format!(
                "/api/v1/orgs/alpha/learners/{}/competencies/{}/override",
                w.learner_id, w.mp1
            ),
            &w.teacher,
            json!({"to": "mastered", "reason": "seen in class"}),
        )
        .await
        .expect(200);
    let teacher = w.app.login("t@alpha.test").await;
    let learner = w.app.login("l@alpha.test").await;
    let page = w
        .app
        .raw(page_request("GET", "/orgs/alpha/issuance", &teacher, None))
        .await;
    assert_eq!(page.status.as_u16(), 200);
    let html = String::from_utf8(page.body).unwrap();
    assert!(html.contains("id=\"waiting-list\""), "{html}");
    assert!(html.contains(&format!("name=\"learner\" value=\"{}\"", w.learner_id)));
    // A learner does not see it.
    let denied = w
        .app
        .raw(page_request("GET", "/orgs/alpha/issuance", &learner, None))
        .await;
    assert!(matches!(denied.status.as_u16(), 403 | 404));

    // Without the CSRF token nothing is issued; with it, the credential is issued.
    let form = |token: &str| {
        format!(
            "csrf_token={token}&learner={}&competency={}",
            w.learner_id, w.mp1
        )
        .into_bytes()
    };
    let forged = w
        .app
        .raw(page_request(
            "POST",
            "/orgs/alpha/issuance/issue",
            &teacher,
            Some(("application/x-www-form-urlencoded", form("wrong"))),
        ))
        .await;
    assert_eq!(forged.status.as_u16(), 403);
    assert_eq!(w.credential_count().await, 0);
    let issued = w
        .app
        .raw(page_request(
            "POST",
            "/orgs/alpha/issuance/issue",
            &teacher,
            Some(("application/x-www-form-urlencoded", form(&csrf(&teacher)))),
        ))
        .await;
    assert_eq!(issued.status.as_u16(), 303);
    assert_eq!(w.credential_count().await, 1);
    let html = String::from_utf8(
        w.app
            .raw(page_request(
                "GET",
                "/orgs/alpha/issuance?done=issued",
                &teacher,
                None,
            ))
            .await
            .body,
    )
    .unwrap();
    assert!(html.contains("id=\"waiting-empty\""), "{html}");
    assert!(html.contains("The credential was issued."));

    // Admins set a framework's issuance from the page; teachers may not.
    let admin = w.app.login("a@alpha.test").await;
    let set = |who: &As| {
        page_request(
            "POST",
            &format!("/orgs/alpha/issuance/frameworks/{}", w.framework),
            who,
            Some((
                "application/x-www-form-urlencoded",
                format!("csrf_token={}&issuance=automatic", csrf(who)).into_bytes(),
            )),
        )
    };
    assert_eq!(w.app.raw(set(&teacher)).await.status.as_u16(), 403);
    assert_eq!(w.app.raw(set(&admin)).await.status.as_u16(), 303);
    assert_eq!(
        w.app
            .state
            .store
            .framework_issuance(&w.framework)
            .await
            .unwrap()
            .as_deref(),
        Some("automatic")
    );

    // A CSV upload goes on to its progress page, which refreshes itself until done.
    let csv = "key,learner,competency\r\np1,l2@alpha.test,CCSS.MATH.PRACTICE.MP3\r\np2,nobody@alpha.test,CCSS.MATH.PRACTICE.MP3\r\n";
    let boundary = "XyZbOuNdArY";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"term.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n\
         --{boundary}--\r\n",
        csrf(&teacher)
    );
    let uploaded = w
        .app
        .raw(page_request(
            "POST",
            "/orgs/alpha/issue-batches",
            &teacher,
            Some((
                &format!("multipart/form-data; boundary={boundary}"),
                multipart.into_bytes(),
            )),
        ))
        .await;
    assert_eq!(
        uploaded.status.as_u16(),
        303,
        "{}",
        String::from_utf8_lossy(&uploaded.body)
    );
    let to = uploaded.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(to.starts_with("/orgs/alpha/issue-batches/"), "{to}");
    let html = String::from_utf8(
        w.app
            .raw(page_request("GET", &to, &teacher, None))
            .await
            .body,
    )
    .unwrap();
    assert!(html.contains("http-equiv=\"refresh\""), "{html}");
    assert!(html.contains("id=\"count-pending\">1<"), "{html}");
    assert!(
        html.contains("unknown learner &#34;nobody@alpha.test&#34;"),
        "{html}"
    );
    run_until_idle(&w.app.state, TIMEOUT).await.unwrap();
    let html = String::from_utf8(
        w.app
            .raw(page_request("GET", &to, &teacher, None))
            .await
            .body,
    )
    .unwrap();
    assert!(!html.contains("http-equiv=\"refresh\""), "{html}");
    assert!(
        html.contains("Finished: 1 issued, 1 failed, of 2 rows."),
        "{html}"
    );
    let denied = w.app.raw(page_request("GET", &to, &learner, None)).await;
    assert!(matches!(denied.status.as_u16(), 403 | 404));
}
