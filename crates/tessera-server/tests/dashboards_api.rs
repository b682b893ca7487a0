//! Issue 7 through the API: the learner's dashboard, the teacher's dashboard with flags and
//! their reasons, a teacher's decision on a flag, thresholds per course and cohorts, on the
//! backend `TESSERA_TEST_BACKEND` names.

mod common;

use chrono::Duration;
use common::{As, TestApp};
use serde_json::{Value, json};
use tessera_store::audit::AuditVerdict;

const MATH: &str = include_str!("../../../rubrics/math-problem-solving.toml");
const CRITERIA: [&str; 5] = [
    "understanding",
    "strategy",
    "accuracy",
    "reasoning",
    "communication",
];

fn all_at(level: &str) -> Value {
    json!({"criteria": CRITERIA.iter().map(|c| json!({"criterion": c, "level": level})).collect::<Vec<_>>()})
}

/// Org `alpha`: a teacher, a reviewer, learners Ann and Ben; course "Maths" with C.1–C.4, C.2 a
/// prerequisite of C.4; rubric `dash` assessing all four. Org `beta` with its admin.
struct World {
    app: TestApp,
    teacher: As,
    reviewer: As,
    ann: As,
    ann_id: String,
    ben: As,
    ben_id: String,
    other: As,
    framework: String,
    c: [String; 4],
}

impl World {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let root = app.platform_admin().await;
        app.create_org(&root, "alpha").await;
        app.create_org(&root, "beta").await;
        let teacher = app.member(&root, "alpha", "t@alpha.test", "teacher").await;
        let reviewer = app.member(&root, "alpha", "r@alpha.test", "reviewer").await;
        let ann = app
            .member(&root, "alpha", "ann@alpha.test", "learner")
            .await;
        let ben = app
            .member(&root, "alpha", "ben@alpha.test", "learner")
            .await;
        let other = app.member(&root, "beta", "a@beta.test", "admin").await;
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
        let mut c = Vec::new();
        for (code, statement) in [
            ("C.1", "Counts"),
            ("C.2", "Adds"),
            ("C.3", "Subtracts"),
            ("C.4", "Multiplies"),
        ] {
            let made = app
                .post(
                    &path,
                    &teacher,
                    json!({"code": code, "statement": statement}),
                )
                .await
                .expect(201);
            c.push(made["id"].as_str().unwrap().to_owned());
        }
        let c: [String; 4] = c.try_into().unwrap();
        app.send(
            axum::http::Method::PUT,
            &format!("/api/v1/competencies/{}/prerequisites", c[3]),
            &teacher,
            Some(json!({"prerequisites": [c[1]]})),
        )
        .await
        .expect(200);
        let toml = MATH
            .replace("id = \"math-problem-solving\"", "id = \"dash\"")
            .replace(
                "\"CCSS.MATH.PRACTICE.MP1\",\n  \"CCSS.MATH.PRACTICE.MP3\",\n  \"CCSS.MATH.PRACTICE.MP4\",",
                "\"C.1\", \"C.2\", \"C.3\", \"C.4\",",
            );
        assert!(toml.contains("\"C.4\""));
        app.post(
            "/api/v1/orgs/alpha/rubrics",
            &teacher,
            json!({"toml": toml, "file": "dash.toml"}),
        )
        .await
        .expect(201);
        let ann_id = app.user_id(&ann).await;
        let ben_id = app.user_id(&ben).await;
        Self {
            app,
            teacher,
            reviewer,
            ann,
            ann_id,
            ben,
            ben_id,
            other,
            framework,
            c,
        }
    }

    /// `who` hands in evidence for competency `k` and the reviewer scores it at `level`.
    async fn attempt(&self, who: &As, k: usize, level: &str) {
        let sub = self
            .app
            .post(
                &format!("/api/v1/orgs/alpha/competencies/{}/evidence", self.c[k]),
                who,
                json!({"rubric": "dash", "text": "My work"}),
            )
            .await
            .expect(201);
        self.app
            .post(
                &format!(
                    "/api/v1/orgs/alpha/reviews/{}/score",
                    sub["review_id"].as_str().unwrap()
                ),
                &self.reviewer,
                all_at(level),
            )
            .await
            .expect(200);
    }

    fn item<'a>(&self, dash: &'a Value, k: usize) -> &'a Value {
        dash["courses"][0]["competencies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == self.c[k])
            .unwrap()
    }

    async fn teacher_dash(&self, query: &str) -> Value {
        self.app
            .get(
                &format!(
                    "/api/v1/orgs/alpha/dashboard?framework={}{query}",
                    self.framework
                ),
                &self.teacher,
            )
            .await
            .expect(200)
    }

    fn flag_path(&self, learner: &str, k: usize, kind: &str) -> String {
        format!(
            "/api/v1/orgs/alpha/learners/{learner}/competencies/{}/flags/{kind}",
            self.c[k]
        )
    }
}

fn row<'a>(dash: &'a Value, learner: &str) -> &'a Value {
    dash["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["learner_id"] == learner)
        .unwrap_or_else(|| panic!("no row for {learner} in {dash}"))
}

#[tokio::test]
async fn a_learner_sees_standing_attempts_pace_and_what_to_do_next() {
    let w = World::new().await;
    // C.1 mastered; C.3 "not yet" with a target date that has passed.
    w.attempt(&w.ann, 0, "expert").await;
    w.app
        .send(
            axum::http::Method::PUT,
            &format!(
                "/api/v1/orgs/alpha/learners/{}/competencies/{}/target-date",
                w.ann_id, w.c[2]
            ),
            &w.ann,
            Some(json!({"target_date": "2026-11-20"})),
        )
        .await
        .expect(200);
    w.attempt(&w.ann, 2, "novice").await;
    w.app.clock.advance(Duration::days(10));

    let dash = w
        .app
        .get(
            &format!("/api/v1/orgs/alpha/learners/{}/dashboard", w.ann_id),
            &w.ann,
        )
        .await
        .expect(200);
    let standing: Vec<&str> = (0..4)
        .map(|k| w.item(&dash, k)["standing"].as_str().unwrap())
        .collect();
    assert_eq!(
        standing,
        ["mastered", "open_now", "in_progress", "not_started"],
        "{dash}"
    );
    assert_eq!(w.item(&dash, 3)["unmet_prerequisites"], json!(["C.2"]));
    assert_eq!(w.item(&dash, 2)["attempts"], 1);
    assert_eq!(w.item(&dash, 2)["state"], "not_yet");
    assert_eq!(w.item(&dash, 2)["days_elapsed"], 10);
    assert_eq!(w.item(&dash, 2)["pace"], "behind");
    assert_eq!(
        w.item(&dash, 2)["pace_text"],
        "13 days past the target date"
    );
    assert_eq!(dash["counts"]["mastered"], 1);
    assert_eq!(dash["counts"]["behind"], 1);
    // Resubmitting C.3 comes first; then starting C.2, which opens C.4.
    let steps = dash["next_steps"].as_array().unwrap();
    assert_eq!(steps[0]["competency_id"], w.c[2]);
    assert!(
        steps[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("Resubmit C.3: your last attempt was reviewed \"not yet\""),
        "{steps:?}"
    );
    assert_eq!(steps[1]["competency_id"], w.c[1]);
    assert_eq!(
        steps[1]["reason"],
        "Start C.2: it has no prerequisites, and it opens C.4."
    );

    // Staff read it; another learner and another organisation do not.
    w.app
        .get(
            &format!("/api/v1/orgs/alpha/learners/{}/dashboard", w.ann_id),
            &w.reviewer,
        )
        .await
        .expect(200);
    for who in [&w.ben, &w.other] {
        w.app
            .get(
                &format!("/api/v1/orgs/alpha/learners/{}/dashboard", w.ann_id),
                who,
            )
            .await
            .expect_problem(404, "not-found");
    }
    // Nor does a learner reach the teacher dashboard.
    w.app
        .get("/api/v1/orgs/alpha/dashboard", &w.ann)
        .await
        .expect_problem(403, "forbidden");
    w.app
        .get("/api/v1/orgs/alpha/dashboard", &w.other)
        .await
        .expect_problem(404, "not-found");

    // The teacher's grid shows Ann's record: she sees that read in her access log.
    w.teacher_dash("").await;
    let log = w
        .app
        .get(
            &format!("/api/v1/orgs/alpha/learners/{}/access-log", w.ann_id),
            &w.ann,
        )
        .await
        .expect(200);
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == "/api/v1/orgs/alpha/dashboard" && e["what"] == "record"),
        "{log}"
    );
}

#[tokio::test]
async fn flags_carry_their_reason_and_a_teacher_decides_with_a_note() {
    let w = World::new().await;
    // Ann may try C.4 before C.2 (a teacher's exception), and does, three times in 21 days.
    w.app
        .send(
            axum::http::Method::PUT,
            &format!(
                "/api/v1/orgs/alpha/learners/{}/competencies/{}/prerequisite-exception",
                w.ann_id, w.c[3]
            ),
            &w.teacher,
            Some(json!({"reason": "Ready for it"})),
        )
        .await
        .expect(200);
    w.attempt(&w.ann, 3, "novice").await;
    w.app.clock.advance(Duration::days(10));
    w.attempt(&w.ann, 3, "novice").await;
    w.app.clock.advance(Duration::days(11));
    w.attempt(&w.ann, 3, "novice").await;
    // Ben masters C.1.
    w.attempt(&w.ben, 0, "expert").await;

    let dash = w.teacher_dash("").await;
    assert_eq!(dash["learners"], 2);
    assert_eq!(dash["flagged_learners"], 1);
    let ann = row(&dash, &w.ann_id);
    assert_eq!(ann["flagged"], true);
    assert_eq!(ann["cells"][3]["state"], "not_yet");
    assert_eq!(ann["cells"][3]["attempts"], 3);
    assert_eq!(ann["cells"][3]["open_flags"], 1);
    assert_eq!(ann["flags"][0]["kind"], "attempts_without_mastery");
    assert_eq!(
        ann["flags"][0]["reason"],
        "3 attempts without mastery over 21 days on C.4; its prerequisite C.2 is not mastered"
    );
    assert_eq!(row(&dash, &w.ben_id)["cells"][0]["state"], "mastered");

    // Filters: flagged only; a state on one competency.
    let flagged = w.teacher_dash("&flagged=true").await;
    assert_eq!(flagged["total"], 1);
    assert_eq!(flagged["rows"][0]["learner_id"], w.ann_id);
    let mastered_c1 = w
        .teacher_dash(&format!("&state=mastered&competency={}", w.c[0]))
        .await;
    assert_eq!(mastered_c1["total"], 1);
    assert_eq!(mastered_c1["rows"][0]["learner_id"], w.ben_id);
    w.app
        .get("/api/v1/orgs/alpha/dashboard?state=finished", &w.teacher)
        .await
        .expect_problem(400, "invalid-parameter");

    // Only a teacher decides, with a note; a flag that is not raised cannot be decided on.
    let path = w.flag_path(&w.ann_id, 3, "attempts_without_mastery");
    let body = json!({"decision": "dismissed", "note": "We met; she is on it."});
    w.app
        .send(
            axum::http::Method::PUT,
            &path,
            &w.reviewer,
            Some(body.clone()),
        )
        .await
        .expect_problem(403, "forbidden");
    w.app
        .send(
            axum::http::Method::PUT,
            &path,
            &w.teacher,
            Some(json!({"decision": "dismissed", "note": "  "})),
        )
        .await
        .expect_problem(422, "validation-failed");
    w.app
        .send(
            axum::http::Method::PUT,
            &w.flag_path(&w.ben_id, 0, "attempts_without_mastery"),
            &w.teacher,
            Some(body.clone()),
        )
        .await
        .expect_problem(409, "conflict");
    let decided = w
        .app
        .send(axum::http::Method::PUT, &path, &w.teacher, Some(body))
        .await
        .expect(200);
    assert_eq!(decided["reason"], ann["flags"][0]["reason"]);
    let dash = w.teacher_dash("").await;
    let ann = row(&dash, &w.ann_id);
    assert_eq!(ann["flagged"], false);
    assert_eq!(ann["flags"][0]["decision"]["note"], "We met; she is on it.");
    assert_eq!(ann["flags"][0]["decision"]["decision"], "dismissed");
    assert_eq!(dash["flagged_learners"], 0);

    // Something new on C.4 brings a dismissed flag back; an override holds until cleared.
    w.app.clock.advance(Duration::days(1));
    w.attempt(&w.ann, 3, "novice").await;
    let dash = w.teacher_dash("").await;
    let ann = row(&dash, &w.ann_id);
    assert_eq!(ann["flagged"], true);
    assert!(
        ann["flags"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("4 attempts without mastery over 22 days on C.4"),
        "{ann}"
    );
    w.app
        .send(
            axum::http::Method::PUT,
            &path,
            &w.teacher,
            Some(json!({"decision": "overridden", "note": "Planned: long project"})),
        )
        .await
        .expect(200);
    w.app.clock.advance(Duration::days(1));
    w.attempt(&w.ann, 3, "novice").await;
    assert_eq!(row(&w.teacher_dash("").await, &w.ann_id)["flagged"], false);
    w.app
        .send(axum::http::Method::DELETE, &path, &w.teacher, None)
        .await
        .expect(204);
    assert_eq!(row(&w.teacher_dash("").await, &w.ann_id)["flagged"], true);
    w.app
        .send(axum::http::Method::DELETE, &path, &w.teacher, None)
        .await
        .expect_problem(404, "not-found");

    // Thresholds per course: checked, and they change what is flagged.
    let th = format!("/api/v1/frameworks/{}/flag-thresholds", w.framework);
    w.app
        .send(
            axum::http::Method::PUT,
            &th,
            &w.teacher,
            Some(json!({"attempts_without_mastery": 0, "days_without_activity": 14, "days_past_target": 0})),
        )
        .await
        .expect_problem(422, "validation-failed");
    w.app
        .send(
            axum::http::Method::PUT,
            &th,
            &w.reviewer,
            Some(json!({"attempts_without_mastery": 9, "days_without_activity": 14, "days_past_target": 0})),
        )
        .await
        .expect_problem(403, "forbidden");
    w.app
        .send(
            axum::http::Method::PUT,
            &th,
            &w.teacher,
            Some(json!({"attempts_without_mastery": 9, "days_without_activity": null, "days_past_target": 0})),
        )
        .await
        .expect(200);
    let got = w.app.get(&th, &w.reviewer).await.expect(200);
    assert_eq!(got["attempts_without_mastery"], 9);
    assert!(got["days_without_activity"].is_null());
    let dash = w.teacher_dash("").await;
    assert_eq!(row(&dash, &w.ann_id)["flagged"], false);
    assert_eq!(dash["thresholds"]["attempts_without_mastery"], 9);

    // Every decision and setting is in the audit chain, which stays intact.
    assert!(matches!(
        w.app.state.store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { .. }
    ));
}

#[tokio::test]
async fn cohorts_hold_only_the_organisations_learners_and_filter_the_dashboard() {
    let w = World::new().await;
    let made = w
        .app
        .post(
            "/api/v1/orgs/alpha/cohorts",
            &w.teacher,
            json!({"name": "Class 7B", "learners": [w.ben_id]}),
        )
        .await
        .expect(201);
    assert_eq!(made["members"], 1);
    let id = made["id"].as_str().unwrap().to_owned();
    w.app
        .post(
            "/api/v1/orgs/alpha/cohorts",
            &w.teacher,
            json!({"name": "Class 7B"}),
        )
        .await
        .expect_problem(409, "conflict");
    w.app
        .post(
            "/api/v1/orgs/alpha/cohorts",
            &w.reviewer,
            json!({"name": "Mine"}),
        )
        .await
        .expect_problem(403, "forbidden");
    // A teacher is not a learner: nothing changes.
    let teacher_id = w.app.user_id(&w.teacher).await;
    w.app
        .post(
            &format!("/api/v1/orgs/alpha/cohorts/{id}/members"),
            &w.teacher,
            json!({"add": [w.ann_id, teacher_id]}),
        )
        .await
        .expect_problem(422, "validation-failed");
    let detail = w
        .app
        .get(&format!("/api/v1/orgs/alpha/cohorts/{id}"), &w.reviewer)
        .await
        .expect(200);
    assert_eq!(detail["learner_ids"], json!([w.ben_id]));
    // The dashboard of the cohort has Ben only.
    let dash = w.teacher_dash(&format!("&cohort={id}")).await;
    assert_eq!(dash["learners"], 1);
    assert_eq!(dash["rows"][0]["learner_id"], w.ben_id);
    // Learners and other organisations see no cohorts.
    w.app
        .get("/api/v1/orgs/alpha/cohorts", &w.ann)
        .await
        .expect_problem(403, "forbidden");
    w.app
        .get(&format!("/api/v1/orgs/alpha/cohorts/{id}"), &w.other)
        .await
        .expect_problem(404, "not-found");
    // Removing and adding in one change.
    let changed = w
        .app
        .post(
            &format!("/api/v1/orgs/alpha/cohorts/{id}/members"),
            &w.teacher,
            json!({"add": [w.ann_id], "remove": [w.ben_id]}),
        )
        .await
        .expect(200);
    assert_eq!(changed["members"], 1);
    let dash = w.teacher_dash(&format!("&cohort={id}")).await;
    assert_eq!(dash["rows"][0]["learner_id"], w.ann_id);
}
