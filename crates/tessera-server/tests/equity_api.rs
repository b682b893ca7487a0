//! The equity audit and subgroup answers, through the API and the pages, on the backend
//! `TESSERA_TEST_BACKEND` names. The rule under test above all: no figure of a group under 10
//! learners is shown — not in the JSON, not on the page (tables and charts), not in the CSV.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, header};
use chrono::{DateTime, Duration, Utc};
use common::{As, TestApp};
use serde_json::{Value, json};
use tessera_core::account::Role;
use tessera_review::Outcome;
use tessera_server::auth::hash_secret;
use tessera_store::accounts::{NewInvitation, NewUser};
use tessera_store::evidence::NewSubmission;
use tessera_store::reviews::{Override, OverrideAction};

/// An organisation with a teacher, an admin, two signed-in learners and a framework of two
/// competencies (C.1, C.2) with a rubric.
struct World {
    app: TestApp,
    admin: As,
    teacher: As,
    teacher_id: String,
    learner: As,
    learner_id: String,
    classmate: As,
    org_id: String,
    framework_id: String,
    c1: String,
    c2: String,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let platform = app.platform_admin().await;
        let org = app.create_org(&platform, "alpha").await;
        let admin = app
            .member(&platform, "alpha", "admin@alpha.test", "admin")
            .await;
        let teacher = app
            .member(&admin, "alpha", "teacher@alpha.test", "teacher")
            .await;
        let learner = app
            .member(&admin, "alpha", "learner@alpha.test", "learner")
            .await;
        let classmate = app
            .member(&admin, "alpha", "classmate@alpha.test", "learner")
            .await;
        let fw = app
            .post(
                "/api/v1/orgs/alpha/frameworks",
                &teacher,
                json!({"title": "Maths"}),
            )
            .await
            .expect(201);
        let framework_id = fw["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/frameworks/{framework_id}/competencies");
        let c1 = app
            .post(
                &path,
                &teacher,
                json!({"code": "C.1", "statement": "Counts"}),
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
        let toml = include_str!("../../../rubrics/math-problem-solving.toml")
            .replace("id = \"math-problem-solving\"", "id = \"equity-rubric\"");
        let start = toml.find("competencies = [").unwrap();
        let end = start + toml[start..].find(']').unwrap() + 1;
        let toml = format!(
            "{}competencies = [\"C.1\", \"C.2\"]{}",
            &toml[..start],
            &toml[end..]
        );
        let rubric = tessera_review::Rubric::from_toml_str(&toml, "equity.toml").unwrap();
        app.state
            .store
            .publish_rubric(None, &rubric, app.clock_now())
            .await
            .unwrap();
        let teacher_id = app.user_id(&teacher).await;
        let learner_id = app.user_id(&learner).await;
        Self {
            org_id: org["id"].as_str().unwrap().to_owned(),
            admin,
            teacher,
            teacher_id,
            learner,
            learner_id,
            classmate,
            framework_id,
            c1,
            c2,
            app,
        }
    }

    /// `n` learners made through the store (they never sign in, so no password is hashed).
    async fn learners(&self, prefix: &str, n: usize) -> Vec<String> {
        let store = &self.app.state.store;
        let now = self.app.clock_now();
        let inviter = self.teacher_id.clone();
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let email = format!("{prefix}{i}@alpha.test");
            let inv = store
                .create_invitation(
                    &NewInvitation {
                        org_id: self.org_id.clone(),
                        email: email.clone(),
                        role: Role::Learner,
                        token_hash: hash_secret(&email),
                        created_by: inviter.clone(),
                        expires_at: now + Duration::days(1),
                    },
                    now,
                )
                .await
                .unwrap();
            let user = NewUser {
                email: email.clone(),
                name: email,
                password_hash: "not-a-password".into(),
            };
            ids.push(
                store
                    .accept_invitation(&inv.id, None, Some(&user), now)
                    .await
                    .unwrap(),
            );
        }
        ids
    }

    /// The learner submits evidence for `competency` at `start`; when `mastered_after` is
    /// given, a teacher sets mastered that many days later.
    async fn activity(
        &self,
        learner: &str,
        competency: &str,
        start: DateTime<Utc>,
        mastered_after: Option<i64>,
    ) {
        let store = &self.app.state.store;
        store
            .submit_evidence(
                &NewSubmission {
                    org_id: self.org_id.clone(),
                    learner_id: learner.to_owned(),
                    competency_id: competency.to_owned(),
                    rubric_id: "equity-rubric".into(),
                    rubric_version: "1.0.0".into(),
                    text: Some("work".into()),
                    links: Vec::new(),
                    files: Vec::new(),
                },
                start,
            )
            .await
            .unwrap();
        if let Some(days) = mastered_after {
            store
                .override_outcome(
                    &Override {
                        org_id: &self.org_id,
                        learner_id: learner,
                        competency_id: competency,
                        action: OverrideAction::Set(Outcome::Mastered),
                        reason: "fixture",
                        teacher_id: &self.teacher_id,
                    },
                    start + Duration::days(days),
                )
                .await
                .unwrap();
        }
    }

    async fn answer(&self, learner: &str, value: &str) {
        self.app
            .state
            .store
            .set_learner_subgroup(&self.org_id, learner, "lang", value, self.app.clock_now())
            .await
            .unwrap();
    }

    async fn define_lang(&self) {
        self.app
            .send(
                Method::PUT,
                "/api/v1/orgs/alpha/subgroup-attributes/lang",
                &self.admin,
                Some(json!({"label": "Home language", "values": ["en", "fr", "de", "es"]})),
            )
            .await
            .expect(200);
    }

    /// The small-cohort fixture, on C.1: 12 `en` learners (10 mastered, in 1 to 10 days), 3 `fr`
    /// (all mastered in 2 days), 11 `de` (10 mastered in 3 days), no `es`, 14 who gave no
    /// answer (5 mastered in 30 days). On C.2 only 5 `en` learners started. Returns the `fr`
    /// learners.
    async fn cohorts(&self) -> Vec<String> {
        self.define_lang().await;
        let t0 = self.app.clock_now() - Duration::days(60);
        let en = self.learners("en", 12).await;
        let fr = self.learners("fr", 3).await;
        let de = self.learners("de", 11).await;
        let none = self.learners("none", 14).await;
        for (i, l) in en.iter().enumerate() {
            self.answer(l, "en").await;
            let days = i64::try_from(i).unwrap() + 1;
            self.activity(l, &self.c1, t0, (i < 10).then_some(days))
                .await;
        }
        for l in &en[..5] {
            self.activity(l, &self.c2, t0, None).await;
        }
        for l in &fr {
            self.answer(l, "fr").await;
            self.activity(l, &self.c1, t0, Some(2)).await;
        }
        for (i, l) in de.iter().enumerate() {
            self.answer(l, "de").await;
            self.activity(l, &self.c1, t0, (i < 10).then_some(3)).await;
        }
        for (i, l) in none.iter().enumerate() {
            self.activity(l, &self.c1, t0, (i < 5).then_some(30)).await;
        }
        fr
    }
}

trait Now {
    fn clock_now(&self) -> DateTime<Utc>;
}

impl Now for TestApp {
    fn clock_now(&self) -> DateTime<Utc> {
        use tessera_core::clock::Clock;
        self.clock.now()
    }
}

/// The cell of `group` in a JSON section.
fn cell<'a>(section: &'a Value, group: &str) -> &'a Value {
    section["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["group"] == group)
        .unwrap_or_else(|| panic!("no cell {group} in {section}"))
}

/// Every hidden cell of a JSON report carries no figure at all; every shown cell has 10 or more
/// learners.
fn assert_no_small_figure(report: &Value) {
    for s in report["sections"].as_array().unwrap() {
        for c in s["cells"].as_array().unwrap().iter().chain([&s["total"]]) {
            if c.get("suppressed").is_some() {
                assert!(c["learners"].is_null(), "{c}");
                assert!(c["mastery_rate_percent"].is_null(), "{c}");
                assert!(c["median_days_to_mastery"].is_null(), "{c}");
            } else {
                assert!(c["learners"].as_u64().unwrap() >= 10, "{c}");
            }
        }
    }
}

/// The session of a bearer-token member, for the pages (pages take cookies only).
async fn session(app: &TestApp, email: &str) -> (String, String) {
    match app.login(email).await {
        As::Session { cookie, csrf, .. } => (format!("tessera_session={cookie}"), csrf),
        _ => unreachable!(),
    }
}

async fn page(app: &TestApp, path: &str, cookie: &str) -> (u16, String, Option<String>) {
    let reply = app
        .raw(
            Request::get(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let ct = reply
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        reply.status.as_u16(),
        String::from_utf8(reply.body).unwrap(),
        ct,
    )
}

/// The `<td>` texts of the table row headed `group` in `section` (1-based) of the page.
fn page_row(html: &str, section: usize, group: &str) -> Vec<String> {
    let start = html
        .find(&format!("id=\"equity-{section}\""))
        .unwrap_or_else(|| panic!("no table {section}"));
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    let head = format!("<th scope=\"row\">{group}</th>");
    let at = table
        .find(&head)
        .unwrap_or_else(|| panic!("no row {group}"));
    let row = &table[at + head.len()..at + table[at..].find("</tr>").unwrap()];
    row.split("<td>")
        .skip(1)
        .map(|c| c.split("</td>").next().unwrap().to_owned())
        .collect()
}

/// The CSV rows (split on commas; the fixture's titles have none) with `scope` and `group`.
fn csv_rows<'a>(csv: &'a str, code: &str, group: &str) -> Vec<Vec<&'a str>> {
    csv.lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[3] == code && f[5] == group)
        .collect()
}

#[tokio::test]
async fn small_cohorts_show_no_figure_in_the_api_the_page_or_the_csv() {
    // Arrange
    let w = World::new().await;
    let fr = w.cohorts().await;
    let path = format!(
        "/api/v1/orgs/alpha/equity?attribute=lang&framework={}",
        w.framework_id
    );

    // Act: the JSON.
    let report = w.app.get(&path, &w.teacher).await.expect(200);

    // Assert
    assert_no_small_figure(&report);
    assert_eq!(
        report["groups"],
        json!(["en", "fr", "de", "es", "not stated"])
    );
    let all = &report["sections"][0];
    assert_eq!(all["scope"], "all");
    let en = cell(all, "en");
    assert_eq!(en["learners"], 12);
    assert_eq!(en["mastery_rate_percent"], 58.8); // 10 of the 17 records (12 on C.1, 5 on C.2)
    assert_eq!(en["median_days_to_mastery"], 5.5);
    // fr (3) is under 10; de (11), the next smallest, is hidden with it; es is empty: hidden,
    // but it does not count as protection.
    assert_eq!(cell(all, "fr")["suppressed"], "fewer_than_threshold");
    assert_eq!(cell(all, "es")["suppressed"], "fewer_than_threshold");
    assert_eq!(cell(all, "de")["suppressed"], "complementary");
    // Those who gave no answer: 14, 5 mastered, too few for a median.
    let none = cell(all, "not stated");
    assert_eq!(none["learners"], 14);
    assert_eq!(none["mastery_rate_percent"], 35.7);
    assert!(none["median_days_to_mastery"].is_null());
    assert_eq!(none["median_suppressed"], true);
    assert_eq!(all["total"]["learners"], 40);
    // C.2: 5 learners in all, so the total is hidden too.
    let c2 = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "C.2")
        .unwrap();
    assert_eq!(c2["total"]["suppressed"], "fewer_than_threshold");
    assert!(c2["total"]["learners"].is_null());

    // Act and assert: the page (table and chart) as the teacher.
    let (cookie, _) = session(&w.app, "teacher@alpha.test").await;
    let (status, html, _) = page(
        &w.app,
        &format!(
            "/orgs/alpha/equity?attribute=lang&framework={}",
            w.framework_id
        ),
        &cookie,
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(page_row(&html, 1, "fr"), ["fewer than 10"; 3]);
    assert_eq!(page_row(&html, 1, "es"), ["fewer than 10"; 3]);
    assert_eq!(page_row(&html, 1, "de"), ["suppressed"; 3]);
    assert_eq!(page_row(&html, 1, "en"), ["12", "58.8 %", "5.5 days"]);
    assert_eq!(
        page_row(&html, 1, "not stated"),
        ["14", "35.7 %", "fewer than 10 mastered"]
    );
    let c2_table = html.find("C.2 Adds").map(|_| ()).is_some();
    assert!(c2_table, "the C.2 section is on the page");
    // The charts draw a bar only for shown cells: en, not stated and the total.
    let chart = &html[html.find("id=\"chart-rate\"").unwrap()..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    assert_eq!(chart.matches("<rect").count(), 3, "{chart}");
    assert!(chart.contains("fewer than 10") && chart.contains("suppressed"));
    assert!(!html.contains("<script"), "the audit page needs no script");

    // Act and assert: the CSV, from the page and from the API.
    let csv_path = format!(
        "/orgs/alpha/equity.csv?attribute=lang&framework={}",
        w.framework_id
    );
    let (status, csv, ct) = page(&w.app, &csv_path, &cookie).await;
    assert_eq!(status, 200);
    assert_eq!(ct.as_deref(), Some("text/csv; charset=utf-8"));
    let api_csv = w
        .app
        .get(
            &format!(
                "/api/v1/orgs/alpha/equity.csv?attribute=lang&framework={}",
                w.framework_id
            ),
            &w.teacher,
        )
        .await;
    assert_eq!(api_csv.status.as_u16(), 200);
    assert_eq!(String::from_utf8(api_csv.body).unwrap(), csv);
    for code in ["", "C.1"] {
        for (group, words) in [
            ("fr", "fewer than 10"),
            ("es", "fewer than 10"),
            ("de", "suppressed"),
        ] {
            let rows = csv_rows(&csv, code, group);
            assert_eq!(rows.len(), 1, "{code} {group}\n{csv}");
            assert_eq!(&rows[0][6..9], [words; 3], "{code} {group}");
        }
    }
    let total_c2 = csv_rows(&csv, "C.2", "total");
    assert_eq!(&total_c2[0][6..9], ["fewer than 10"; 3]);
    let en_c1 = csv_rows(&csv, "C.1", "en");
    assert_eq!(&en_c1[0][6..9], ["12", "83.3", "5.5"]);

    // When an fr learner withdraws their answer, fr is smaller still and stays hidden.
    w.app
        .state
        .store
        .withdraw_learner_subgroup(&w.org_id, &fr[0], "lang")
        .await
        .unwrap();
    let report = w.app.get(&path, &w.teacher).await.expect(200);
    assert_no_small_figure(&report);
    assert_eq!(
        cell(&report["sections"][0], "fr")["suppressed"],
        "fewer_than_threshold"
    );
}

#[tokio::test]
async fn the_median_needs_ten_learners_who_mastered() {
    let w = World::new().await;
    w.define_lang().await;
    let t0 = w.app.clock_now() - Duration::days(30);
    let en = w.learners("en", 12).await;
    for (i, l) in en.iter().enumerate() {
        w.answer(l, "en").await;
        // Only 9 master: the rate is shown, the median not.
        w.activity(l, &w.c1, t0, (i < 9).then_some(4)).await;
    }
    let report = w
        .app
        .get("/api/v1/orgs/alpha/equity?attribute=lang", &w.admin)
        .await
        .expect(200);
    let en = cell(&report["sections"][0], "en");
    assert_eq!(en["learners"], 12);
    assert_eq!(en["mastery_rate_percent"], 75.0);
    assert!(en["median_days_to_mastery"].is_null());
    assert_eq!(en["median_suppressed"], true);
    // Every framework is a section when none is chosen.
    assert_eq!(report["sections"][1]["scope"], "framework");
    assert_eq!(report["sections"][1]["title"], "Maths");
}

#[tokio::test]
async fn learners_give_and_withdraw_their_own_answers_with_consent() {
    let w = World::new().await;
    w.define_lang().await;
    let mine = "/api/v1/orgs/alpha/me/subgroups/lang";
    // Without consent nothing is stored.
    w.app
        .send(
            Method::PUT,
            mine,
            &w.learner,
            Some(json!({"value": "fr", "consent": false})),
        )
        .await
        .expect_problem(422, "validation-failed");
    // An answer not offered, an attribute not asked about.
    w.app
        .send(
            Method::PUT,
            mine,
            &w.learner,
            Some(json!({"value": "klingon", "consent": true})),
        )
        .await
        .expect_problem(422, "invalid-reference");
    w.app
        .send(
            Method::PUT,
            "/api/v1/orgs/alpha/me/subgroups/nope",
            &w.learner,
            Some(json!({"value": "fr", "consent": true})),
        )
        .await
        .expect_problem(404, "not-found");
    let list = w
        .app
        .get("/api/v1/orgs/alpha/me/subgroups", &w.learner)
        .await
        .expect(200);
    assert_eq!(list, json!([]));
    // With consent: stored with the time of consent.
    let saved = w
        .app
        .send(
            Method::PUT,
            mine,
            &w.learner,
            Some(json!({"value": "fr", "consent": true})),
        )
        .await
        .expect(200);
    assert_eq!(saved["value"], "fr");
    assert_eq!(
        saved["consented_at"]
            .as_str()
            .map(|s| s.starts_with("2026-11-23")),
        Some(true)
    );
    // A classmate sees only their own (none); a teacher cannot answer for the learner, nor
    // read anyone's answers (there is no such route: only their own, and they are no learner).
    let theirs = w
        .app
        .get("/api/v1/orgs/alpha/me/subgroups", &w.classmate)
        .await
        .expect(200);
    assert_eq!(theirs, json!([]));
    w.app
        .get("/api/v1/orgs/alpha/me/subgroups", &w.teacher)
        .await
        .expect_problem(403, "forbidden");
    w.app
        .send(
            Method::PUT,
            mine,
            &w.teacher,
            Some(json!({"value": "fr", "consent": true})),
        )
        .await
        .expect_problem(403, "forbidden");
    // A learner may not read the audit.
    w.app
        .get("/api/v1/orgs/alpha/equity?attribute=lang", &w.learner)
        .await
        .expect_problem(403, "forbidden");
    // Withdrawing deletes the answer.
    let r = w.app.send(Method::DELETE, mine, &w.learner, None).await;
    assert_eq!(r.status.as_u16(), 204);
    let list = w
        .app
        .get("/api/v1/orgs/alpha/me/subgroups", &w.learner)
        .await
        .expect(200);
    assert_eq!(list, json!([]));
    // Erasure removes every answer of the user.
    w.answer(&w.learner_id, "en").await;
    assert_eq!(
        w.app
            .state
            .store
            .erase_learner_subgroups(&w.learner_id)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn admins_define_attributes_and_dropping_an_answer_deletes_it() {
    let w = World::new().await;
    w.define_lang().await;
    w.answer(&w.learner_id, "es").await;
    // A bad definition is refused with the field named.
    let bad = w
        .app
        .send(
            Method::PUT,
            "/api/v1/orgs/alpha/subgroup-attributes/Bad%20Key",
            &w.admin,
            Some(json!({"label": "X", "values": ["a", "b"]})),
        )
        .await
        .expect_problem(422, "validation-failed");
    assert!(
        bad["detail"].as_str().unwrap().starts_with("name:"),
        "{bad}"
    );
    w.app
        .send(
            Method::PUT,
            "/api/v1/orgs/alpha/subgroup-attributes/x",
            &w.admin,
            Some(json!({"label": "X", "values": ["only one"]})),
        )
        .await
        .expect_problem(422, "validation-failed");
    // A teacher may not define.
    w.app
        .send(
            Method::PUT,
            "/api/v1/orgs/alpha/subgroup-attributes/x",
            &w.teacher,
            Some(json!({"label": "X", "values": ["a", "b"]})),
        )
        .await
        .expect_problem(403, "forbidden");
    // Dropping "es" from the offer deletes the learner's "es".
    let saved = w
        .app
        .send(
            Method::PUT,
            "/api/v1/orgs/alpha/subgroup-attributes/lang",
            &w.admin,
            Some(json!({"label": "Home language", "values": ["en", "fr"]})),
        )
        .await
        .expect(200);
    assert_eq!(saved["answers_removed"], 1);
    let listed = w
        .app
        .get("/api/v1/orgs/alpha/subgroup-attributes", &w.learner)
        .await
        .expect(200);
    assert_eq!(listed[0]["values"], json!(["en", "fr"]));
    // Removing the attribute removes it and its answers.
    w.answer(&w.learner_id, "en").await;
    let r = w
        .app
        .send(
            Method::DELETE,
            "/api/v1/orgs/alpha/subgroup-attributes/lang",
            &w.admin,
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 204);
    assert!(
        w.app
            .state
            .store
            .learner_subgroups(&w.org_id, &w.learner_id)
            .await
            .unwrap()
            .is_empty()
    );
    w.app
        .send(
            Method::DELETE,
            "/api/v1/orgs/alpha/subgroup-attributes/lang",
            &w.admin,
            None,
        )
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test]
async fn the_learner_page_saves_only_with_consent_and_withdraws() {
    let w = World::new().await;
    w.define_lang().await;
    let (cookie, csrf) = session(&w.app, "learner@alpha.test").await;
    let post = |path: &'static str, body: String| {
        let cookie = cookie.clone();
        let app = &w.app;
        async move {
            app.raw(
                Request::post(path)
                    .header(header::COOKIE, cookie)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
        }
    };
    let (status, html, _) = page(&w.app, "/orgs/alpha/my-subgroups", &cookie).await;
    assert_eq!(status, 200);
    assert!(html.contains("Home language") && html.contains("Not answered."));
    // Without the session's CSRF token the form is refused.
    for token in ["", "&csrf_token=wrong"] {
        let r = post(
            "/orgs/alpha/my-subgroups",
            format!("attribute=lang&value=fr&consent=yes{token}"),
        )
        .await;
        assert_eq!(r.status.as_u16(), 403);
    }
    // No consent box ticked: refused, nothing stored.
    let r = post(
        "/orgs/alpha/my-subgroups",
        format!("csrf_token={csrf}&attribute=lang&value=fr"),
    )
    .await;
    assert_eq!(r.status.as_u16(), 422);
    assert!(String::from_utf8_lossy(&r.body).contains("consent"));
    let store = &w.app.state.store;
    assert!(
        store
            .learner_subgroups(&w.org_id, &w.learner_id)
            .await
            .unwrap()
            .is_empty()
    );
    // With consent: saved.
    let r = post(
        "/orgs/alpha/my-subgroups",
        format!("csrf_token={csrf}&attribute=lang&value=fr&consent=yes"),
    )
    .await;
    assert_eq!(r.status.as_u16(), 303);
    let (_, html, _) = page(&w.app, "/orgs/alpha/my-subgroups?done=saved", &cookie).await;
    assert!(html.contains("Your answer: <strong>fr</strong>"), "{html}");
    // Withdraw.
    let r = post(
        "/orgs/alpha/my-subgroups/withdraw",
        format!("csrf_token={csrf}&attribute=lang"),
    )
    .await;
    assert_eq!(r.status.as_u16(), 303);
    assert!(
        store
            .learner_subgroups(&w.org_id, &w.learner_id)
            .await
            .unwrap()
            .is_empty()
    );
    // The audit page is not for learners.
    let (status, _, _) = page(&w.app, "/orgs/alpha/equity", &cookie).await;
    assert_eq!(status, 403);
    let _ = &w.c2;
}
