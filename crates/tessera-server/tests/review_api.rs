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

#[allow(dead_code)]
fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}
