//! Behaviour of the API on the backend `TESSERA_TEST_BACKEND` names: bad input leaves the
//! database as it was, internal errors stay internal, auth edges, the registry's rules.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, header};
use common::{As, PASSWORD, TestApp};
use serde_json::{Value, json};

/// A teacher of `alpha` with a framework holding C.1, C.2, C.4.
struct Registry {
    app: TestApp,
    teacher: As,
    framework_id: String,
    ids: Vec<String>,
}

impl Registry {
    async fn new() -> Self {
        Self::with_env(&[]).await
    }

    async fn with_env(env: &[(&str, &str)]) -> Self {
        let app = TestApp::with_env(env).await;
        let platform = app.platform_admin().await;
        app.create_org(&platform, "alpha").await;
        let teacher = app
            .member(&platform, "alpha", "teacher@alpha.test", "teacher")
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
        let mut ids = Vec::new();
        for code in ["C.1", "C.2", "C.4"] {
            let c = app
                .post(
                    &format!("/api/v1/frameworks/{framework_id}/competencies"),
                    &teacher,
                    json!({"code": code, "statement": format!("Statement {code}")}),
                )
                .await
                .expect(201);
            ids.push(c["id"].as_str().unwrap().to_owned());
        }
        Self {
            app,
            teacher,
            framework_id,
            ids,
        }
    }

    /// Row counts and the framework revision: what "the database as it was" means here.
    async fn snapshot(&self) -> ([i64; 3], i64) {
        let counts = self.app.state.store.registry_counts().await.unwrap();
        let rev = self
            .app
            .state
            .store
            .framework(&self.framework_id)
            .await
            .unwrap()
            .revision;
        (counts, rev)
    }

    fn competencies_path(&self) -> String {
        format!("/api/v1/frameworks/{}/competencies", self.framework_id)
    }

    async fn raw_post(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> common::Reply {
        let As::Bearer(token) = &self.teacher else {
            unreachable!()
        };
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        self.app.raw(builder.body(body.into()).unwrap()).await
    }
}

#[tokio::test]
async fn malformed_json_is_a_400_problem_and_writes_nothing() {
    let r = Registry::new().await;
    let before = r.snapshot().await;
    r.raw_post(
        &r.competencies_path(),
        Some("application/json"),
        "{\"statement\": ",
    )
    .await
    .expect_problem(400, "malformed-json");
    assert_eq!(r.snapshot().await, before);
}

#[tokio::test]
async fn wrong_types_and_unknown_fields_are_422_problems_and_write_nothing() {
    let r = Registry::new().await;
    let before = r.snapshot().await;
    let path = r.competencies_path();
    r.app
        .post(&path, &r.teacher, json!({"statement": 42}))
        .await
        .expect_problem(422, "invalid-body");
    let p = r
        .app
        .post(
            &path,
            &r.teacher,
            json!({"statement": "ok", "colour": "red"}),
        )
        .await
        .expect_problem(422, "invalid-body");
    assert!(p["detail"].as_str().unwrap().contains("colour"), "{p}");
    r.app
        .post(&path, &r.teacher, json!({"code": "X"}))
        .await
        .expect_problem(422, "invalid-body");
    let v = r
        .app
        .post(&path, &r.teacher, json!({"statement": "   "}))
        .await
        .expect_problem(422, "validation-failed");
    assert_eq!(v["field"], "statement");
    r.app
        .post(
            &path,
            &r.teacher,
            json!({"statement": "ok", "language": "not a tag"}),
        )
        .await
        .expect_problem(422, "validation-failed");
    r.app
        .post(
            &path,
            &r.teacher,
            json!({"statement": "ok", "parent_id": "no-such-id"}),
        )
        .await
        .expect_problem(422, "invalid-reference");
    assert_eq!(r.snapshot().await, before);
}

#[tokio::test]
async fn a_body_without_json_content_type_is_a_415_problem() {
    let r = Registry::new().await;
    let before = r.snapshot().await;
    r.raw_post(
        &r.competencies_path(),
        Some("text/plain"),
        "{\"statement\": \"x\"}",
    )
    .await
    .expect_problem(415, "unsupported-media-type");
    r.raw_post(&r.competencies_path(), None, "{\"statement\": \"x\"}")
        .await
        .expect_problem(415, "unsupported-media-type");
    assert_eq!(r.snapshot().await, before);
}

#[tokio::test]
async fn an_oversize_body_is_a_413_problem_and_writes_nothing() {
    let r = Registry::with_env(&[("TESSERA_MAX_BODY_BYTES", "4096")]).await;
    let before = r.snapshot().await;
    let big = json!({"statement": "x".repeat(8000)});
    r.app
        .post(&r.competencies_path(), &r.teacher, big)
        .await
        .expect_problem(413, "payload-too-large");
    let small = json!({"statement": "x".repeat(1000)});
    r.app
        .post(&r.competencies_path(), &r.teacher, small)
        .await
        .expect(201);
    assert_eq!(r.snapshot().await.0[1], before.0[1] + 1);
}

#[tokio::test]
async fn a_prerequisite_cycle_is_a_422_naming_the_cycle_and_writes_nothing() {
    let r = Registry::new().await;
    let (c1, c2, c4) = (&r.ids[0], &r.ids[1], &r.ids[2]);
    // C.1 → C.2 → C.4 (C.2 needs C.1, C.4 needs C.2).
    r.app
        .send(
            Method::PUT,
            &format!("/api/v1/competencies/{c2}/prerequisites"),
            &r.teacher,
            Some(json!({"prerequisites": [c1]})),
        )
        .await
        .expect(200);
    let got = r
        .app
        .send(
            Method::PUT,
            &format!("/api/v1/competencies/{c4}/prerequisites"),
            &r.teacher,
            Some(json!({"prerequisites": [c2]})),
        )
        .await
        .expect(200);
    assert_eq!(got["prerequisites"], json!([c2]));
    let before = r.snapshot().await;

    // C.1 needing C.4 closes C.1 → C.2 → C.4 → C.1.
    let p = r
        .app
        .send(
            Method::PUT,
            &format!("/api/v1/competencies/{c1}/prerequisites"),
            &r.teacher,
            Some(json!({"prerequisites": [c4]})),
        )
        .await
        .expect_problem(422, "prerequisite-cycle");
    let cycle: Vec<&str> = p["cycle"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(cycle.first(), cycle.last());
    let mut nodes = cycle[..cycle.len() - 1].to_vec();
    nodes.sort_unstable();
    assert_eq!(nodes, ["C.1", "C.2", "C.4"]);
    assert!(p["detail"].as_str().unwrap().contains(" → "), "{p}");
    // Self-prerequisite too.
    r.app
        .send(
            Method::PUT,
            &format!("/api/v1/competencies/{c1}/prerequisites"),
            &r.teacher,
            Some(json!({"prerequisites": [c1]})),
        )
        .await
        .expect_problem(422, "prerequisite-cycle");
    assert_eq!(r.snapshot().await, before);
    let c1_now = r
        .app
        .get(&format!("/api/v1/competencies/{c1}"), &r.teacher)
        .await
        .expect(200);
    assert_eq!(c1_now["prerequisites"], json!([]));
    let c4_now = r
        .app
        .get(&format!("/api/v1/competencies/{c4}"), &r.teacher)
        .await
        .expect(200);
    assert_eq!(c4_now["prerequisites"], json!([c2]));
    assert_eq!(c4_now["code"], "C.4");
}

#[tokio::test]
async fn a_stale_revision_is_a_409_and_edits_bump_the_revision() {
    let r = Registry::new().await;
    let c1 = &r.ids[0];
    let rev = r.snapshot().await.1;
    let edited = r
        .app
        .send(
            Method::PATCH,
            &format!("/api/v1/competencies/{c1}"),
            &r.teacher,
            Some(json!({"revision": rev, "statement": "Counts to 100"})),
        )
        .await
        .expect(200);
    assert_eq!(edited["statement"], "Counts to 100");
    assert_eq!(edited["framework_revision"], rev + 1);
    assert_eq!(edited["code"], "C.1", "absent fields stay");
    r.app
        .send(
            Method::PATCH,
            &format!("/api/v1/competencies/{c1}"),
            &r.teacher,
            Some(json!({"revision": rev, "statement": "Lost update"})),
        )
        .await
        .expect_problem(409, "conflict");
    let fw = r
        .app
        .get(
            &format!("/api/v1/frameworks/{}", r.framework_id),
            &r.teacher,
        )
        .await
        .expect(200);
    assert_eq!(fw["revision"], rev + 1);
}

#[tokio::test]
async fn retiring_hides_from_lists_but_keeps_the_competency_readable() {
    let r = Registry::new().await;
    let c4 = &r.ids[2];
    let rev = r.snapshot().await.1;
    let retired = r
        .app
        .send(
            Method::PATCH,
            &format!("/api/v1/competencies/{c4}"),
            &r.teacher,
            Some(json!({"revision": rev, "status": "retired"})),
        )
        .await
        .expect(200);
    assert_eq!(retired["status"], "retired");
    let list = r
        .app
        .get(&r.competencies_path(), &r.teacher)
        .await
        .expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let all = r
        .app
        .get(
            &format!("{}?include_retired=true", r.competencies_path()),
            &r.teacher,
        )
        .await
        .expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    r.app
        .get(&format!("/api/v1/competencies/{c4}"), &r.teacher)
        .await
        .expect(200);
}

#[tokio::test]
async fn search_by_code_and_text_and_paging_work_through_the_api() {
    let r = Registry::new().await;
    let path = r.competencies_path();
    let by_code = r
        .app
        .get(&format!("{path}?code=C.2"), &r.teacher)
        .await
        .expect(200);
    assert_eq!(by_code["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_code["items"][0]["code"], "C.2");
    let by_text = r
        .app
        .get(&format!("{path}?q=statement%20c.4"), &r.teacher)
        .await
        .expect(200);
    assert_eq!(by_text["items"][0]["code"], "C.4");
    let page = r
        .app
        .get(&format!("{path}?limit=2"), &r.teacher)
        .await
        .expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["next_offset"], 2);
    let rest = r
        .app
        .get(&format!("{path}?limit=2&offset=2"), &r.teacher)
        .await
        .expect(200);
    assert_eq!(rest["items"][0]["code"], "C.4");
    assert_eq!(rest["next_offset"], Value::Null);
    r.app
        .get(&format!("{path}?limit=0"), &r.teacher)
        .await
        .expect_problem(400, "invalid-parameter");
    r.app
        .get(&format!("{path}?limit=501"), &r.teacher)
        .await
        .expect_problem(400, "invalid-parameter");
    r.app
        .get(&format!("{path}?sort=wrong"), &r.teacher)
        .await
        .expect_problem(400, "invalid-parameter");
}

#[tokio::test]
async fn the_hierarchy_is_kept_and_a_loop_is_refused() {
    let r = Registry::new().await;
    let (c1, c2) = (&r.ids[0], &r.ids[1]);
    let child = r
        .app
        .post(
            &r.competencies_path(),
            &r.teacher,
            json!({"code": "C.1.a", "statement": "Part", "parent_id": c1}),
        )
        .await
        .expect(201);
    assert_eq!(child["parent_id"], json!(c1));
    let child_id = child["id"].as_str().unwrap();
    let rev = r.snapshot().await.1;
    r.app
        .send(
            Method::PATCH,
            &format!("/api/v1/competencies/{c1}"),
            &r.teacher,
            Some(json!({"revision": rev, "parent_id": child_id})),
        )
        .await
        .expect_problem(422, "prerequisite-cycle");
    let moved = r
        .app
        .send(
            Method::PATCH,
            &format!("/api/v1/competencies/{child_id}"),
            &r.teacher,
            Some(json!({"revision": rev, "parent_id": c2})),
        )
        .await
        .expect(200);
    assert_eq!(moved["parent_id"], json!(c2));
    let top = r
        .app
        .send(
            Method::PATCH,
            &format!("/api/v1/competencies/{child_id}"),
            &r.teacher,
            Some(json!({"revision": rev + 1, "parent_id": null})),
        )
        .await
        .expect(200);
    assert_eq!(top["parent_id"], Value::Null);
}

#[tokio::test]
async fn a_database_failure_is_a_generic_500_without_the_sql_error() {
    let r = Registry::new().await;
    r.app
        .db
        .execute_raw("ALTER TABLE competencies RENAME TO competencies_gone")
        .await;
    let reply = r.app.get(&r.competencies_path(), &r.teacher).await;
    let text = String::from_utf8_lossy(&reply.body).to_string();
    let p = reply.expect_problem(500, "internal");
    assert_eq!(p["detail"], "Internal server error");
    for leak in [
        "competencies",
        "no such table",
        "relation",
        "SELECT",
        "sqlx",
        "database",
    ] {
        assert!(
            !text.to_lowercase().contains(&leak.to_lowercase()),
            "500 body leaks {leak:?}: {text}"
        );
    }
}

#[tokio::test]
async fn health_is_503_when_the_database_is_gone_and_200_otherwise() {
    let app = TestApp::new().await;
    let ok = app.get("/health", &As::Anonymous).await.expect(200);
    assert_eq!(ok["database"], "ok");
    app.state.store.close().await;
    let down = app.get("/health", &As::Anonymous).await.expect(503);
    assert_eq!(down["database"], "unavailable");
}

#[tokio::test]
async fn a_cookie_session_must_send_the_csrf_token_to_change_anything() {
    let r = Registry::new().await;
    let session = r.app.login("teacher@alpha.test").await;
    let As::Session { cookie, csrf, .. } = session.clone() else {
        unreachable!()
    };
    let without = As::Session {
        cookie: cookie.clone(),
        csrf: csrf.clone(),
        send_csrf: false,
    };
    let wrong = As::Session {
        cookie: cookie.clone(),
        csrf: "0".repeat(csrf.len()),
        send_csrf: true,
    };
    let before = r.snapshot().await;
    let body = json!({"code": "X.1", "statement": "x"});
    r.app
        .post(&r.competencies_path(), &without, body.clone())
        .await
        .expect_problem(403, "csrf-failed");
    r.app
        .post(&r.competencies_path(), &wrong, body.clone())
        .await
        .expect_problem(403, "csrf-failed");
    assert_eq!(r.snapshot().await, before);
    // Reads need no token; a change with it works.
    r.app
        .get(&r.competencies_path(), &without)
        .await
        .expect(200);
    r.app
        .post(&r.competencies_path(), &session, body)
        .await
        .expect(201);
}

#[tokio::test]
async fn login_sets_a_hardened_cookie_and_logout_ends_the_session() {
    let app = TestApp::with_env(&[("TESSERA_PUBLIC_URL", "https://school.example")]).await;
    app.platform_admin().await;
    let reply = app
        .post(
            "/api/v1/auth/login",
            &As::Anonymous,
            json!({"email": "root@tessera.test", "password": PASSWORD}),
        )
        .await;
    let cookie = reply
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let session = app.login("root@tessera.test").await;
    app.get("/api/v1/me", &session).await.expect(200);
    app.send(Method::POST, "/api/v1/auth/logout", &session, None)
        .await
        .expect(204);
    app.get("/api/v1/me", &session)
        .await
        .expect_problem(401, "unauthenticated");
}

#[tokio::test]
async fn wrong_passwords_are_rejected_and_then_rate_limited() {
    let app = TestApp::with_env(&[("TESSERA_LOGIN_ATTEMPTS_PER_MINUTE", "3")]).await;
    app.platform_admin().await; // uses one attempt (the login inside)
    let wrong = json!({"email": "root@tessera.test", "password": "not the password"});
    app.post("/api/v1/auth/login", &As::Anonymous, wrong.clone())
        .await
        .expect_problem(401, "invalid-credentials");
    app.post("/api/v1/auth/login", &As::Anonymous, wrong.clone())
        .await
        .expect_problem(401, "invalid-credentials");
    let limited = app.post("/api/v1/auth/login", &As::Anonymous, wrong).await;
    let retry = limited
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    limited.expect_problem(429, "rate-limited");
    assert!(retry.is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)));
    // An unknown account gets the same answer as a wrong password.
    app.post(
        "/api/v1/auth/login",
        &As::Anonymous,
        json!({"email": "nobody@x.test", "password": "whatever123"}),
    )
    .await
    .expect_problem(401, "invalid-credentials");
    // The clock moves on: the account may try again.
    app.clock.advance(chrono::Duration::minutes(1));
    app.post(
        "/api/v1/auth/login",
        &As::Anonymous,
        json!({"email": "root@tessera.test", "password": PASSWORD}),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn a_revoked_api_token_stops_working_and_tokens_are_listed_without_secrets() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    let created = app
        .post(
            "/api/v1/me/tokens",
            &admin,
            json!({"name": "script", "expires_in_days": 30}),
        )
        .await
        .expect(201);
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tsk_") && secret.len() == 68);
    let script = As::Bearer(secret.clone());
    app.get("/api/v1/me", &script).await.expect(200);
    let list = app.get("/api/v1/me/tokens", &admin).await.expect(200);
    let listed = serde_json::to_string(&list).unwrap();
    assert!(!listed.contains(&secret[4..]), "the list shows a secret");
    assert_eq!(list.as_array().unwrap().len(), 2);
    let id = created["token"]["id"].as_str().unwrap();
    app.send(
        Method::DELETE,
        &format!("/api/v1/me/tokens/{id}"),
        &admin,
        None,
    )
    .await
    .expect(204);
    app.get("/api/v1/me", &script)
        .await
        .expect_problem(401, "unauthenticated");
    app.get("/api/v1/me", &As::Bearer("tsk_nonsense".into()))
        .await
        .expect_problem(401, "unauthenticated");
    app.get("/api/v1/me", &As::Bearer("not-even-prefixed".into()))
        .await
        .expect_problem(401, "unauthenticated");
}

#[tokio::test]
async fn setup_and_invitation_links_work_once() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    app.post(
        "/api/v1/setup",
        &As::Anonymous,
        json!({"token": app.setup_token, "email": "second@x.test", "name": "Second", "password": PASSWORD}),
    )
    .await
    .expect_problem(400, "invalid-token");
    app.create_org(&admin, "alpha").await;
    let inv = app
        .post(
            "/api/v1/orgs/alpha/invitations",
            &admin,
            json!({"email": "T@Alpha.test", "role": "teacher"}),
        )
        .await
        .expect(201);
    assert!(
        inv["link"]
            .as_str()
            .unwrap()
            .contains("/invitations/accept?token=")
    );
    let accept = json!({"token": inv["token"], "name": "T", "password": PASSWORD});
    let ok = app
        .post("/api/v1/invitations/accept", &As::Anonymous, accept.clone())
        .await
        .expect(200);
    assert_eq!(ok["role"], "teacher");
    app.post("/api/v1/invitations/accept", &As::Anonymous, accept)
        .await
        .expect_problem(400, "invalid-token");
    // Expired links do not work.
    let late = app
        .post(
            "/api/v1/orgs/alpha/invitations",
            &admin,
            json!({"email": "l@alpha.test", "role": "learner"}),
        )
        .await
        .expect(201);
    app.clock.advance(chrono::Duration::days(8));
    app.post(
        "/api/v1/invitations/accept",
        &As::Anonymous,
        json!({"token": late["token"], "name": "L", "password": PASSWORD}),
    )
    .await
    .expect_problem(400, "invalid-token");
}

#[tokio::test]
async fn responses_carry_a_request_id_and_metrics_count_requests() {
    let app = TestApp::new().await;
    let reply = app.get("/health", &As::Anonymous).await;
    let id = reply
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "{id}");
    let given = app
        .raw(
            Request::builder()
                .uri("/health")
                .header("x-request-id", "abc-123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(given.headers.get("x-request-id").unwrap(), "abc-123");
    let metrics = app.get("/metrics", &As::Anonymous).await;
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(text.contains("http_requests_total{"), "{text}");
    assert!(text.contains("route=\"/health\""), "{text}");
}
