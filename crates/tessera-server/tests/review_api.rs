//! Issue 4 through the API: rubrics, evidence, the review queue and scoring, overrides and the
//! mastery record, on the backend `TESSERA_TEST_BACKEND` names.

mod common;

use common::{As, TestApp};
use serde_json::{Value, json};
use tessera_store::audit::AuditVerdict;

const MATH: &str = include_str!("../../../rubrics/math-problem-solving.toml");

fn math_as(id: &str, version: &str) -> String {
    MATH.replace("id = \"math-problem-solving\"", &format!("id = \"{id}\""))
        .replace("version = \"1.0.0\"", &format!("version = \"{version}\""))
}

async fn upload(app: &TestApp, who: &As, toml: &str) -> common::Reply {
    app.post(
        "/api/v1/orgs/alpha/rubrics",
        who,
        json!({"toml": toml, "file": "mine.toml"}),
    )
    .await
}

#[tokio::test]
async fn rubrics_ship_upload_and_stay_immutable() {
    let app = TestApp::new().await;
    let root = app.platform_admin().await;
    app.create_org(&root, "alpha").await;
    let teacher = app.member(&root, "alpha", "t@alpha.test", "teacher").await;
    let learner = app.member(&root, "alpha", "l@alpha.test", "learner").await;

    // The three shipped rubrics are there at start.
    let list = app
        .get("/api/v1/orgs/alpha/rubrics", &learner)
        .await
        .expect(200);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "argumentative-writing",
            "math-problem-solving",
            "science-lab-report"
        ]
    );

    // A broken file: the problem names file, line and column.
    let broken = math_as("mine", "1.0.0").replace("points = 3", "points = \"three\"");
    let problem = upload(&app, &teacher, &broken)
        .await
        .expect_problem(422, "invalid-rubric");
    let first = problem["errors"][0].as_str().unwrap();
    let line = broken
        .lines()
        .position(|l| l.contains("\"three\""))
        .unwrap()
        + 1;
    assert!(
        first.starts_with(&format!("mine.toml:{line}:")),
        "{first} (expected line {line})"
    );

    // New → 201; identical again → 200; changed with the same version → 409; older → 409.
    let created = upload(&app, &teacher, &math_as("mine", "1.1.0"))
        .await
        .expect(201);
    assert_eq!(created["created"], true);
    assert_eq!(created["rubric"]["version"], "1.1.0");
    let again = upload(&app, &teacher, &math_as("mine", "1.1.0"))
        .await
        .expect(200);
    assert_eq!(again["created"], false);
    let edited = math_as("mine", "1.1.0").replace("min_total_points = 18", "min_total_points = 17");
    let conflict = upload(&app, &teacher, &edited)
        .await
        .expect_problem(409, "rubric-version-conflict");
    assert_eq!(conflict["rubric"], "mine");
    upload(&app, &teacher, &math_as("mine", "1.0.5"))
        .await
        .expect_problem(409, "rubric-version-conflict");
    // The raw TOML body works too.
    let reply = app
        .raw(
            axum::http::Request::builder()
                .method("POST")
                .uri("/api/v1/orgs/alpha/rubrics?file=raw.toml")
                .header("authorization", bearer(&teacher))
                .header("content-type", "application/toml")
                .body(axum::body::Body::from(math_as("mine", "2.0.0")))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.json);
    // Another organisation cannot add versions to this one's rubric.
    app.create_org(&root, "beta").await;
    let other = app.member(&root, "beta", "t@beta.test", "teacher").await;
    app.post(
        "/api/v1/orgs/beta/rubrics",
        &other,
        json!({"toml": math_as("mine", "5.0.0")}),
    )
    .await
    .expect_problem(409, "conflict");
    app.get("/api/v1/orgs/beta/rubrics/mine/latest", &other)
        .await
        .expect_problem(404, "not-found");
    // A learner may not upload.
    upload(&app, &learner, &math_as("mine", "3.0.0"))
        .await
        .expect_problem(403, "forbidden");

    let latest = app
        .get("/api/v1/orgs/alpha/rubrics/mine/latest", &learner)
        .await
        .expect(200);
    assert_eq!(latest["version"], "2.0.0");
    let old = app
        .get("/api/v1/orgs/alpha/rubrics/mine/1.1.0", &learner)
        .await
        .expect(200);
    assert_eq!(old["rubric"]["mastery"]["min_total_points"], 18, "{old}");
    app.get("/api/v1/orgs/alpha/rubrics/mine/9.9.9", &learner)
        .await
        .expect_problem(404, "not-found");

    // 3 shipped + 2 uploaded versions, each audited.
    assert_eq!(
        app.state.store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { entries: 5 }
    );
}

fn bearer(who: &As) -> String {
    match who {
        As::Bearer(t) => format!("Bearer {t}"),
        _ => panic!("bearer callers only"),
    }
}

const CRITERIA: [&str; 5] = [
    "understanding",
    "strategy",
    "accuracy",
    "reasoning",
    "communication",
];

fn all_at(level: &str) -> Value {
    json!({"criteria": CRITERIA.iter().map(|c| json!({"criterion": c, "level": level, "comment": "see margin notes"})).collect::<Vec<_>>()})
}

/// Org `alpha` with a teacher, a reviewer, two learners, and a framework with MP1 (assessed by
/// the math rubric) and C.2 (not assessed by it).
struct World {
    app: TestApp,
    teacher: As,
    reviewer: As,
    learner: As,
    learner_id: String,
    learner2: As,
    mp1: String,
    c2: String,
}

impl World {
    async fn new(env: &[(&str, &str)]) -> Self {
        let app = TestApp::with_env(env).await;
        let root = app.platform_admin().await;
        app.create_org(&root, "alpha").await;
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
        let mp1 = app
            .post(
                &path,
                &teacher,
                json!({"code": "CCSS.MATH.PRACTICE.MP1", "statement": "Make sense of problems"}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let c2 = app
            .post(&path, &teacher, json!({"code": "C.2", "statement": "Adds"}))
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        Self {
            app,
            teacher,
            reviewer,
            learner,
            learner_id,
            learner2,
            mp1,
            c2,
        }
    }

    async fn submit_text(&self, who: &As, competency: &str) -> common::Reply {
        self.app
            .post(
                &format!("/api/v1/orgs/alpha/competencies/{competency}/evidence"),
                who,
                json!({"rubric": "math-problem-solving", "text": "My solution", "links": ["https://example.org/work"]}),
            )
            .await
    }

    async fn submit_file(&self, who: &As, media_type: &str, bytes: &[u8]) -> common::Reply {
        let boundary = "XbOuNdArYx";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"rubric\"\r\n\r\nmath-problem-solving\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"work.bin\"\r\nContent-Type: {media_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.app
            .raw(
                axum::http::Request::builder()
                    .method("POST")
                    .uri(format!(
                        "/api/v1/orgs/alpha/competencies/{}/evidence",
                        self.mp1
                    ))
                    .header("authorization", bearer(who))
                    .header(
                        "content-type",
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .body(axum::body::Body::from(body))
                    .unwrap(),
            )
            .await
    }
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake but with the right signature";

#[tokio::test]
async fn evidence_is_checked_and_stored_by_content() {
    let w = World::new(&[("TESSERA_IMPORT_MAX_BODY_BYTES", "4096")]).await;
    // Not an allowed type; an allowed type whose bytes are something else; too big.
    w.submit_file(&w.learner, "application/zip", b"PK\x03\x04")
        .await
        .expect_problem(415, "unsupported-evidence-type");
    w.submit_file(&w.learner, "image/png", b"just text")
        .await
        .expect_problem(415, "unsupported-evidence-type");
    let mut big = PNG.to_vec();
    big.resize(5000, 0);
    w.submit_file(&w.learner, "image/png", &big)
        .await
        .expect_problem(413, "payload-too-large");
    // Nothing was recorded by the refused submissions.
    let record = w
        .app
        .get(
            &format!("/api/v1/orgs/alpha/learners/{}/record", w.learner_id),
            &w.learner,
        )
        .await
        .expect(200);
    assert_eq!(record["competencies"], json!({}));

    let one = w
        .submit_file(&w.learner, "image/png", PNG)
        .await
        .expect(201);
    let two = w
        .submit_file(&w.learner2, "image/png", PNG)
        .await
        .expect(201);
    let sha = one["files"][0]["sha256"].as_str().unwrap();
    assert_eq!(sha, two["files"][0]["sha256"].as_str().unwrap());
    assert_eq!(sha, {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(PNG))
    });
    let stored = w
        .app
        .state
        .config
        .data_dir
        .join("evidence")
        .join(&sha[..2])
        .join(sha);
    assert_eq!(std::fs::read(stored).unwrap(), PNG);
    assert_eq!(one["attempt"], 1);

    // A rubric that does not assess the competency.
    w.submit_text(&w.learner2, &w.c2)
        .await
        .expect_problem(422, "rubric-not-for-competency");
}

#[tokio::test]
async fn review_queue_scoring_override_and_record() {
    let w = World::new(&[]).await;
    let first = w.submit_text(&w.learner, &w.mp1).await.expect(201);
    assert_eq!(first["attempt"], 1);
    // A second submission while one is pending: the state machine refuses it.
    let refused = w
        .submit_text(&w.learner, &w.mp1)
        .await
        .expect_problem(409, "invalid-transition");
    assert_eq!(refused["from"], "submitted");
    assert_eq!(refused["to"], "submitted");
    // Later: the queue is ordered by submission time.
    w.app.clock.advance(chrono::Duration::minutes(5));
    w.submit_text(&w.learner2, &w.mp1).await.expect(201);

    // The queue: oldest first, filters, staff only.
    let queue = w
        .app
        .get("/api/v1/orgs/alpha/reviews", &w.reviewer)
        .await
        .expect(200);
    assert_eq!(queue["items"].as_array().unwrap().len(), 2);
    assert_eq!(queue["items"][0]["id"], first["review_id"]);
    let mine = w
        .app
        .get(
            &format!(
                "/api/v1/orgs/alpha/reviews?learner={}&rubric=math-problem-solving",
                w.learner_id
            ),
            &w.teacher,
        )
        .await
        .expect(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    w.app
        .get("/api/v1/orgs/alpha/reviews", &w.learner)
        .await
        .expect_problem(403, "forbidden");

    // A level not in the rubric; a missing criterion: 422, nothing decided.
    let score_path = format!(
        "/api/v1/orgs/alpha/reviews/{}/score",
        first["review_id"].as_str().unwrap()
    );
    let bad = w
        .app
        .post(&score_path, &w.reviewer, all_at("genius"))
        .await
        .expect_problem(422, "invalid-review");
    assert_eq!(bad["problems"][0]["problem"], "unknown_level");
    w.app
        .post(
            &score_path,
            &w.reviewer,
            json!({"criteria": [{"criterion": "strategy", "level": "expert"}]}),
        )
        .await
        .expect_problem(422, "invalid-review");
    // A learner cannot score.
    w.app
        .post(&score_path, &w.learner2, all_at("expert"))
        .await
        .expect_problem(403, "forbidden");

    // Not yet, then a resubmission, then mastered.
    let scored = w
        .app
        .post(&score_path, &w.reviewer, all_at("novice"))
        .await
        .expect(200);
    assert_eq!(scored["outcome"], "not_yet");
    w.app.clock.advance(chrono::Duration::days(3));
    w.app
        .post(&score_path, &w.teacher, all_at("expert"))
        .await
        .expect_problem(409, "conflict");
    let second = w.submit_text(&w.learner, &w.mp1).await.expect(201);
    assert_eq!(second["attempt"], 2);
    let path2 = format!(
        "/api/v1/orgs/alpha/reviews/{}/score",
        second["review_id"].as_str().unwrap()
    );
    let scored = w
        .app
        .post(&path2, &w.teacher, all_at("expert"))
        .await
        .expect(200);
    assert_eq!(scored["outcome"], "mastered");
    assert_eq!(
        scored["scored"]["criteria"][0]["comment"],
        "see margin notes"
    );

    // The record, as the learner and as staff; not as another learner.
    let record_path = format!("/api/v1/orgs/alpha/learners/{}/record", w.learner_id);
    let record = w.app.get(&record_path, &w.learner).await.expect(200);
    let r = &record["competencies"][&w.mp1];
    assert_eq!(r["state"], "mastered", "{record}");
    assert_eq!(r["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(r["attempts_to_mastery"], 2);
    // First activity at submission 1; mastered at review 2, three days and five minutes on.
    assert_eq!(r["time_to_mastery"], 3 * 86_400 + 5 * 60);
    assert_eq!(r["attempts"][0]["review"]["outcome"], "not_yet");
    assert_eq!(r["rubric"]["id"], "math-problem-solving");
    w.app.get(&record_path, &w.reviewer).await.expect(200);
    w.app
        .get(&record_path, &w.learner2)
        .await
        .expect_problem(404, "not-found");
    let evidence_path = format!("/api/v1/orgs/alpha/learners/{}/evidence", w.learner_id);
    let evidence = w.app.get(&evidence_path, &w.learner).await.expect(200);
    assert_eq!(evidence.as_array().unwrap().len(), 2);
    assert_eq!(evidence[0]["text"], "My solution");
    w.app.get(&evidence_path, &w.teacher).await.expect(200);
    w.app
        .get(&evidence_path, &w.learner2)
        .await
        .expect_problem(404, "not-found");

    // Overrides: a reason is required; withdraw; withdrawing again is an invalid transition.
    let override_path = format!(
        "/api/v1/orgs/alpha/learners/{}/competencies/{}/override",
        w.learner_id, w.mp1
    );
    w.app
        .post(
            &override_path,
            &w.teacher,
            json!({"to": "withdrawn", "reason": "  "}),
        )
        .await
        .expect_problem(422, "reason-required");
    w.app
        .post(
            &override_path,
            &w.reviewer,
            json!({"to": "withdrawn", "reason": "x"}),
        )
        .await
        .expect_problem(403, "forbidden");
    let done = w
        .app
        .post(
            &override_path,
            &w.teacher,
            json!({"to": "withdrawn", "reason": "copied work"}),
        )
        .await
        .expect(200);
    assert_eq!(done["state"], "not_yet");
    let again = w
        .app
        .post(
            &override_path,
            &w.teacher,
            json!({"to": "withdrawn", "reason": "again"}),
        )
        .await
        .expect_problem(409, "invalid-transition");
    assert_eq!(again["from"], "not_yet");
    let record = w.app.get(&record_path, &w.teacher).await.expect(200);
    let r = &record["competencies"][&w.mp1];
    assert_eq!(r["state"], "not_yet");
    assert_eq!(r["by_override"], true);
    assert_eq!(r["overrides"][0]["reason"], "copied work");

    // Everything above is in an intact audit chain: 3 rubrics, 3 submissions (each: evidence +
    // start/submit or submit), 2 reviews (+ mastery change each), the withdrawal (+ change).
    match w.app.state.store.verify_audit().await.unwrap() {
        AuditVerdict::Intact { entries } => assert!(entries >= 15, "{entries}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn two_reviewers_finishing_at_once_give_one_outcome() {
    let w = World::new(&[]).await;
    let sub = w.submit_text(&w.learner, &w.mp1).await.expect(201);
    let path = format!(
        "/api/v1/orgs/alpha/reviews/{}/score",
        sub["review_id"].as_str().unwrap()
    );
    let (a, b) = tokio::join!(
        w.app.post(&path, &w.reviewer, all_at("expert")),
        w.app.post(&path, &w.teacher, all_at("novice")),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", a.json, b.json);
    let winner = if a.status.as_u16() == 200 {
        &a.json
    } else {
        &b.json
    };
    let record = w
        .app
        .get(
            &format!("/api/v1/orgs/alpha/learners/{}/record", w.learner_id),
            &w.learner,
        )
        .await
        .expect(200);
    let r = &record["competencies"][&w.mp1];
    assert_eq!(r["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(r["attempts"][0]["review"]["outcome"], winner["outcome"]);
    // One review event, one review audit entry: 3 rubrics + evidence + start + submit +
    // review + review's mastery change = 8.
    assert_eq!(
        w.app.state.store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { entries: 8 }
    );
}
