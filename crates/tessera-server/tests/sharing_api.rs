//! How learners and the public see credentials, on the backend `TESSERA_TEST_BACKEND` names:
//! downloads (JSON, baked PNG and SVG carrying the identical signed bytes, through the API and
//! through a share link), share links (only the learner makes them; they show that credential
//! and nothing else; revoked and expired links stop working; opens are counted), the learner's
//! own DID as the subject of later credentials, and the credential pages (staff change the
//! status with a reason and a CSRF token; learners cannot).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, header};
use common::{As, TestApp};
use serde_json::{Value, json};
use tessera_core::clock::Clock;
use tessera_issue::tessera_vc::{VerifyOptions, verify_bytes};

const CRITERIA: [&str; 5] = [
    "understanding",
    "strategy",
    "accuracy",
    "reasoning",
    "communication",
];

struct World {
    app: TestApp,
    teacher: As,
    reviewer: As,
    learner: As,
    learner_id: String,
    learner2: As,
    other_admin: As,
    mp1: String,
    mp3: String,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let root = app.platform_admin().await;
        app.create_org(&root, "alpha").await;
        app.create_org(&root, "beta").await;
        let teacher = app.member(&root, "alpha", "t@alpha.test", "teacher").await;
        let reviewer = app.member(&root, "alpha", "r@alpha.test", "reviewer").await;
        let learner = app.member(&root, "alpha", "l@alpha.test", "learner").await;
        let learner2 = app.member(&root, "alpha", "l2@alpha.test", "learner").await;
        let other_admin = app.member(&root, "beta", "a@beta.test", "admin").await;
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
        for (code, statement) in [
            ("CCSS.MATH.PRACTICE.MP1", "Make sense of problems"),
            ("CCSS.MATH.PRACTICE.MP3", "Construct viable arguments"),
        ] {
            let c = app
                .post(
                    &path,
                    &teacher,
                    json!({"code": code, "statement": statement}),
                )
                .await
                .expect(201);
            ids.push(c["id"].as_str().unwrap().to_owned());
        }
        Self {
            app,
            teacher,
            reviewer,
            learner,
            learner_id,
            learner2,
            other_admin,
            mp3: ids.pop().unwrap(),
            mp1: ids.pop().unwrap(),
        }
    }

    /// The learner masters `competency` and a teacher issues its credential; returns its id.
    async fn issue(&self, competency: &str) -> String {
        let sub = self
            .app
            .post(
                &format!("/api/v1/orgs/alpha/competencies/{competency}/evidence"),
                &self.learner,
                json!({"rubric": "math-problem-solving", "text": "My solution"}),
            )
            .await
            .expect(201);
        self.app.clock.advance(chrono::Duration::days(1));
        let criteria: Vec<Value> = CRITERIA
            .iter()
            .map(|c| json!({"criterion": c, "level": "expert"}))
            .collect();
        let scored = self
            .app
            .post(
                &format!(
                    "/api/v1/orgs/alpha/reviews/{}/score",
                    sub["review_id"].as_str().unwrap()
                ),
                &self.reviewer,
                json!({ "criteria": criteria }),
            )
            .await
            .expect(200);
        assert_eq!(scored["outcome"], "mastered");
        let issued = self
            .app
            .post(
                &format!(
                    "/api/v1/orgs/alpha/learners/{}/competencies/{competency}/credential",
                    self.learner_id
                ),
                &self.teacher,
                json!({}),
            )
            .await
            .expect(201);
        issued["id"].as_str().unwrap().to_owned()
    }

    async fn share(&self, credential: &str, body: Value) -> common::Reply {
        self.app
            .post(
                &format!("/api/v1/orgs/alpha/credentials/{credential}/share-links"),
                &self.learner,
                body,
            )
            .await
    }

    /// A request with a session cookie (or none) and no CSRF header: what a browser sends.
    async fn browser(
        &self,
        method: Method,
        path: &str,
        session: Option<&As>,
        form: &str,
    ) -> common::Reply {
        let mut b = Request::builder().method(method.clone()).uri(path);
        if let Some(As::Session { cookie, .. }) = session {
            b = b.header(header::COOKIE, format!("tessera_session={cookie}"));
        }
        let body = if method == Method::POST {
            b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(form.to_owned())
        } else {
            Body::empty()
        };
        self.app.raw(b.body(body).unwrap()).await
    }

    /// Verification options with the served DID document and status lists.
    async fn served_options(&self) -> VerifyOptions {
        let mut o = VerifyOptions::new(self.app.clock.now());
        let did = self.anonymous_get("/orgs/alpha/did.json").await.expect(200);
        o.add_controller_document(&did).unwrap();
        for purpose in ["revocation", "suspension"] {
            let list = self
                .anonymous_get(&format!("/orgs/alpha/status/{purpose}/1"))
                .await
                .expect(200);
            o.add_status_list(list).unwrap();
        }
        o
    }

    async fn anonymous_get(&self, path: &str) -> common::Reply {
        self.app.get(path, &As::Anonymous).await
    }
}

fn html(r: &common::Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

fn csrf_of(session: &As) -> String {
    match session {
        As::Session { csrf, .. } => csrf.clone(),
        _ => panic!("not a session"),
    }
}

#[tokio::test]
async fn baked_png_and_svg_downloads_round_trip_to_the_identical_signed_bytes() {
    let w = World::new().await;
    let id = w.issue(&w.mp1).await;
    let stored = w.app.state.store.credential(&id).await.unwrap();
    let options = w.served_options().await;
    let base = format!("/api/v1/orgs/alpha/credentials/{id}");

    let json = w
        .app
        .get(&format!("{base}/download.json"), &w.learner)
        .await;
    assert_eq!(json.status.as_u16(), 200);
    assert_eq!(json.body, stored.signed.as_bytes());
    assert!(
        json.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"CCSS.MATH.PRACTICE.MP1-")
    );

    for (path, format, media_type) in [
        ("badge.png", tessera_bake::Format::Png, "image/png"),
        ("badge.svg", tessera_bake::Format::Svg, "image/svg+xml"),
    ] {
        for who in [&w.learner, &w.teacher] {
            let reply = w.app.get(&format!("{base}/{path}"), who).await;
            assert_eq!(reply.status.as_u16(), 200, "{path}");
            assert_eq!(reply.headers[header::CONTENT_TYPE], media_type);
            // What `tessera verify` does with a file: extract, then verify.
            let (found, bytes) = tessera_bake::extract(&reply.body).unwrap();
            assert_eq!(found, format);
            assert_eq!(&*bytes, stored.signed.as_bytes(), "{path}: identical bytes");
            let report = verify_bytes(&bytes, &options).unwrap();
            assert!(report.verified, "{path}: {report:?}");
        }
        // Another learner, another organisation's admin: not found; no account: 401.
        for who in [&w.learner2, &w.other_admin] {
            w.app
                .get(&format!("{base}/{path}"), who)
                .await
                .expect_problem(404, "not-found");
        }
        w.app
            .get(&format!("{base}/{path}"), &As::Anonymous)
            .await
            .expect_problem(401, "unauthenticated");
    }
    // A PNG is a real image of the badge size.
    let png = w
        .app
        .get(&format!("{base}/badge.png"), &w.learner)
        .await
        .body;
    assert_eq!(&png[16..24], &[0, 0, 1, 0, 0, 0, 1, 0]);

    // The same downloads through a share link, without an account.
    let made = w.share(&id, json!({})).await.expect(201);
    let url = made["url"].as_str().unwrap();
    let path = url.strip_prefix(&w.app.state.config.public_url).unwrap();
    for (file, format) in [
        ("badge.png", tessera_bake::Format::Png),
        ("badge.svg", tessera_bake::Format::Svg),
        ("download.json", tessera_bake::Format::Json),
    ] {
        let reply = w.anonymous_get(&format!("{path}/{file}")).await;
        assert_eq!(reply.status.as_u16(), 200, "{file}");
        let (found, bytes) = tessera_bake::extract(&reply.body).unwrap();
        assert_eq!(found, format);
        assert_eq!(&*bytes, stored.signed.as_bytes(), "{file} via share link");
    }
}

#[tokio::test]
async fn a_share_link_shows_that_credential_only_and_counts_its_openings() {
    let w = World::new().await;
    let shared_id = w.issue(&w.mp1).await;
    let other_id = w.issue(&w.mp3).await;

    // Only the learner makes links: staff 403, another learner or organisation 404.
    for (who, status, code) in [
        (&w.teacher, 403, "forbidden"),
        (&w.reviewer, 403, "forbidden"),
        (&w.learner2, 404, "not-found"),
        (&w.other_admin, 404, "not-found"),
    ] {
        w.app
            .post(
                &format!("/api/v1/orgs/alpha/credentials/{shared_id}/share-links"),
                who,
                json!({}),
            )
            .await
            .expect_problem(status, code);
    }
    let made = w
        .share(&shared_id, json!({"label": "For the Acme application"}))
        .await
        .expect(201);
    assert_eq!(made["link"]["kind"], "credential");
    assert_eq!(made["link"]["open_count"], 0);
    let url = made["url"].as_str().unwrap().to_owned();
    let token = url.rsplit('/').next().unwrap().to_owned();
    let path = format!("/share/c/{token}");

    // Anyone opens it: the credential, and nothing else of the learner.
    let page = w.anonymous_get(&path).await;
    assert_eq!(page.status.as_u16(), 200);
    let body = html(&page);
    assert!(body.contains("Make sense of problems"), "{body}");
    assert!(body.contains("Valid"));
    assert!(body.contains(&format!("{path}/badge.png")));
    for private in [
        "Construct viable arguments",
        other_id.as_str(),
        "l@alpha.test",
        "For the Acme application",
        "/orgs/alpha/learners",
        w.learner_id.as_str(),
    ] {
        assert!(!body.contains(private), "the share page shows {private:?}");
    }
    assert_eq!(page.headers["x-robots-tag"], "noindex, nofollow");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    // The token opens a credential, never a transcript or another credential's downloads.
    assert_eq!(
        w.anonymous_get(&format!("/share/t/{token}"))
            .await
            .status
            .as_u16(),
        404
    );
    // A signed-in stranger sees the same page, and it is counted too.
    assert_eq!(
        w.browser(
            Method::GET,
            &path,
            Some(&w.app.login("l2@alpha.test").await),
            ""
        )
        .await
        .status
        .as_u16(),
        200
    );
    // Link previewers (a chat unfurling the pasted link) are not people opening it.
    for agent in [
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "facebookexternalhit/1.1",
        "WhatsApp/2.23.20.0",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    ] {
        let request = axum::http::Request::builder()
            .uri(&path)
            .header(header::USER_AGENT, agent)
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(w.app.raw(request).await.status.as_u16(), 200, "{agent}");
    }
    // The learner's own preview is not counted.
    let learner_session = w.app.login("l@alpha.test").await;
    w.browser(Method::GET, &path, Some(&learner_session), "")
        .await;

    let mine = w
        .app
        .get("/api/v1/me/share-links", &w.learner)
        .await
        .expect(200);
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["open_count"], 2, "{mine:?}");
    assert!(mine[0]["last_opened_at"].is_string());
    assert!(mine[0].get("token").is_none() && mine[0].get("token_hash").is_none());
    // Another learner sees none of it and cannot revoke it.
    let theirs = w
        .app
        .get("/api/v1/me/share-links", &w.learner2)
        .await
        .expect(200);
    assert_eq!(theirs, json!([]));
    let link_id = mine[0]["id"].as_str().unwrap();
    for who in [&w.learner2, &w.teacher] {
        w.app
            .post(
                &format!("/api/v1/me/share-links/{link_id}/revoke"),
                who,
                json!({}),
            )
            .await
            .expect_problem(404, "not-found");
    }
    assert_eq!(w.anonymous_get(&path).await.status.as_u16(), 200);

    // The learner's own pages list the link with its openings (not the other learner's).
    let page = w
        .browser(
            Method::GET,
            &format!("/orgs/alpha/credentials/{shared_id}"),
            Some(&learner_session),
            "",
        )
        .await;
    let body = html(&page);
    assert!(
        body.contains("For the Acme application") && body.contains("3 times"),
        "{body}"
    );
    let l2 = w.app.login("l2@alpha.test").await;
    for p in [
        format!("/orgs/alpha/credentials/{shared_id}"),
        format!("/orgs/alpha/learners/{}/credentials", w.learner_id),
    ] {
        assert_eq!(
            w.browser(Method::GET, &p, Some(&l2), "")
                .await
                .status
                .as_u16(),
            404,
            "{p}"
        );
    }
}

#[tokio::test]
async fn revoked_and_expired_links_stop_working() {
    let w = World::new().await;
    let id = w.issue(&w.mp1).await;
    let now = w.app.clock.now();

    // An expiry in the past, or a label too long: refused, nothing made.
    w.share(
        &id,
        json!({"expires_at": now - chrono::Duration::minutes(1)}),
    )
    .await
    .expect_problem(422, "validation-failed");
    w.share(&id, json!({"label": "x".repeat(201)}))
        .await
        .expect_problem(422, "validation-failed");
    assert_eq!(
        w.app
            .get("/api/v1/me/share-links", &w.learner)
            .await
            .expect(200),
        json!([])
    );

    let expiring = w
        .share(&id, json!({"expires_at": now + chrono::Duration::days(1)}))
        .await
        .expect(201);
    let revoked = w.share(&id, json!({})).await.expect(201);
    let path_of = |v: &Value| {
        v["url"]
            .as_str()
            .unwrap()
            .strip_prefix(&w.app.state.config.public_url)
            .unwrap()
            .to_owned()
    };
    let (expiring_path, revoked_path) = (path_of(&expiring), path_of(&revoked));
    assert_eq!(w.anonymous_get(&revoked_path).await.status.as_u16(), 200);

    let r = w
        .app
        .post(
            &format!(
                "/api/v1/me/share-links/{}/revoke",
                revoked["link"]["id"].as_str().unwrap()
            ),
            &w.learner,
            json!({}),
        )
        .await
        .expect(200);
    assert!(r["revoked_at"].is_string());
    for p in [
        revoked_path.clone(),
        format!("{revoked_path}/badge.png"),
        format!("{revoked_path}/download.json"),
    ] {
        let reply = w.anonymous_get(&p).await;
        assert_eq!(reply.status.as_u16(), 410, "{p}");
        assert!(html(&reply).contains("withdrawn"), "{p}");
        assert!(!html(&reply).contains("Make sense of problems"));
    }
    assert_eq!(w.anonymous_get(&expiring_path).await.status.as_u16(), 200);
    w.app.clock.advance(chrono::Duration::days(2));
    let reply = w.anonymous_get(&expiring_path).await;
    assert_eq!(reply.status.as_u16(), 410);
    assert!(html(&reply).contains("expired"));
    // An unknown token: 404.
    let reply = w
        .anonymous_get(&format!("/share/c/{}", "ab".repeat(32)))
        .await;
    assert_eq!(reply.status.as_u16(), 404);
    assert!(html(&reply).contains("No such link"));

    // A revoked credential cannot be shared; a link made before shows it revoked.
    let open = w.share(&id, json!({})).await.expect(201);
    w.app
        .post(
            &format!("/api/v1/orgs/alpha/credentials/{id}/status"),
            &w.teacher,
            json!({"action": "revoke", "reason": "issued in error"}),
        )
        .await
        .expect(200);
    w.share(&id, json!({}))
        .await
        .expect_problem(409, "conflict");
    let page = html(&w.anonymous_get(&path_of(&open)).await);
    assert!(page.contains("Revoked"), "{page}");
    // The reason is for the learner and staff, not for whoever holds the link.
    assert!(!page.contains("issued in error"));
}

#[tokio::test]
async fn the_learners_own_did_is_the_subject_of_credentials_issued_after_it() {
    let w = World::new().await;
    let before = w.issue(&w.mp1).await;
    assert_eq!(
        w.app.get("/api/v1/me/did", &w.learner).await.expect(200)["did"],
        Value::Null
    );
    for bad in [
        "did:example:123",
        "not a did",
        "did:key:z6Mkshort",
        "did:web:a.example/x",
    ] {
        w.app
            .send(
                Method::PUT,
                "/api/v1/me/did",
                &w.learner,
                Some(json!({"did": bad})),
            )
            .await
            .expect_problem(422, "validation-failed");
    }
    // Only learners have a subject DID.
    w.app
        .send(
            Method::PUT,
            "/api/v1/me/did",
            &w.teacher,
            Some(json!({"did": "did:web:teacher.example"})),
        )
        .await
        .expect_problem(403, "forbidden");
    let did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    let set = w
        .app
        .send(
            Method::PUT,
            "/api/v1/me/did",
            &w.learner,
            Some(json!({"did": did})),
        )
        .await
        .expect(200);
    assert_eq!(set["did"], did);
    assert_eq!(
        w.app.get("/api/v1/me/did", &w.learner).await.expect(200)["did"],
        did
    );
    assert_eq!(
        w.app.get("/api/v1/me/did", &w.learner2).await.expect(200)["did"],
        Value::Null
    );

    let after = w.issue(&w.mp3).await;
    let subject = |id: String| {
        let store = w.app.state.store.clone();
        async move {
            let c = store.credential(&id).await.unwrap();
            let doc: Value = serde_json::from_str(&c.signed).unwrap();
            (
                c.subject_id,
                doc["credentialSubject"]["id"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (stored, signed) = subject(after).await;
    assert_eq!((stored.as_str(), signed.as_str()), (did, did));
    // The earlier credential keeps the subject it was signed with.
    let (_, earlier) = subject(before).await;
    assert!(earlier.starts_with("urn:uuid:"), "{earlier}");

    w.app
        .send(Method::DELETE, "/api/v1/me/did", &w.learner, None)
        .await
        .expect(204);
    assert_eq!(
        w.app.get("/api/v1/me/did", &w.learner).await.expect(200)["did"],
        Value::Null
    );
    assert_eq!(
        w.app
            .state
            .store
            .credential_subject_id(
                &w.app.state.store.org_by_slug("alpha").await.unwrap().id,
                &w.learner_id,
                w.app.clock.now()
            )
            .await
            .unwrap(),
        earlier,
        "back to the pairwise subject"
    );
}

#[tokio::test]
async fn only_teachers_and_admins_change_the_status_on_the_page_with_a_reason() {
    let w = World::new().await;
    let id = w.issue(&w.mp1).await;
    let page = format!("/orgs/alpha/credentials/{id}");
    let action = format!("{page}/status");
    let teacher = w.app.login("t@alpha.test").await;
    let learner = w.app.login("l@alpha.test").await;
    let reviewer = w.app.login("r@alpha.test").await;
    let status = |w: &World| {
        let store = w.app.state.store.clone();
        let id = id.clone();
        async move { store.credential(&id).await.unwrap().status }
    };

    // The teacher sees the form; the learner and the reviewer do not.
    assert!(html(&w.browser(Method::GET, &page, Some(&teacher), "").await).contains(&action));
    for s in [&learner, &reviewer] {
        let body = html(&w.browser(Method::GET, &page, Some(s), "").await);
        assert!(!body.contains(&action));
    }
    // The learner's page offers downloads and sharing.
    let body = html(&w.browser(Method::GET, &page, Some(&learner), "").await);
    assert!(body.contains(&format!("/api/v1/orgs/alpha/credentials/{id}/badge.svg")));
    assert!(body.contains(&format!("{page}/share-links")));

    // Learners and reviewers are refused even with their own valid token.
    for s in [&learner, &reviewer] {
        let form = format!("csrf_token={}&action=suspend&reason=no", csrf_of(s));
        let r = w.browser(Method::POST, &action, Some(s), &form).await;
        assert_eq!(r.status.as_u16(), 403, "{}", html(&r));
    }
    // A teacher without the token, with a wrong one, or another session's: the form has expired.
    for token in ["", "wrong", &csrf_of(&learner)] {
        let form = format!("csrf_token={token}&action=suspend&reason=why");
        let r = w
            .browser(Method::POST, &action, Some(&teacher), &form)
            .await;
        assert_eq!(r.status.as_u16(), 403);
        assert!(html(&r).contains("The form has expired"));
    }
    // Without a reason: the form again, nothing changed.
    let form = format!("csrf_token={}&action=suspend&reason=+", csrf_of(&teacher));
    let r = w
        .browser(Method::POST, &action, Some(&teacher), &form)
        .await;
    assert_eq!(r.status.as_u16(), 422);
    assert!(html(&r).contains("Write the reason"));
    assert_eq!(status(&w).await, "active");

    for (act, to) in [
        ("suspend", "suspended"),
        ("reinstate", "active"),
        ("revoke", "revoked"),
    ] {
        let form = format!(
            "csrf_token={}&action={act}&reason=Checked+by+the+teacher",
            csrf_of(&teacher)
        );
        let r = w
            .browser(Method::POST, &action, Some(&teacher), &form)
            .await;
        assert_eq!(r.status.as_u16(), 303, "{act}: {}", html(&r));
        assert_eq!(status(&w).await, to);
    }
    // Revoked is final.
    let form = format!(
        "csrf_token={}&action=reinstate&reason=oops",
        csrf_of(&teacher)
    );
    let r = w
        .browser(Method::POST, &action, Some(&teacher), &form)
        .await;
    assert_eq!(r.status.as_u16(), 409);
    assert_eq!(status(&w).await, "revoked");
    // The learner sees the status and the reason on their page.
    let body = html(&w.browser(Method::GET, &page, Some(&learner), "").await);
    assert!(body.contains("Revoked") && body.contains("Checked by the teacher"));
}

#[tokio::test]
async fn the_learner_makes_and_revokes_a_link_on_the_pages() {
    let w = World::new().await;
    let id = w.issue(&w.mp1).await;
    let learner = w.app.login("l@alpha.test").await;
    let teacher = w.app.login("t@alpha.test").await;
    let create = format!("/orgs/alpha/credentials/{id}/share-links");

    // "My credentials" lists it with its downloads.
    let r = w
        .browser(
            Method::GET,
            "/orgs/alpha/my-credentials",
            Some(&learner),
            "",
        )
        .await;
    assert_eq!(r.status.as_u16(), 303);
    let list = w
        .browser(
            Method::GET,
            r.headers[header::LOCATION].to_str().unwrap(),
            Some(&learner),
            "",
        )
        .await;
    let body = html(&list);
    assert!(body.contains("My credentials") && body.contains("Make sense of problems"));
    assert!(body.contains(&format!("/api/v1/orgs/alpha/credentials/{id}/badge.png")));

    // Bad expiry: the form again with the problem; nothing made.
    let form = format!("csrf_token={}&label=Acme&days=0", csrf_of(&learner));
    let r = w
        .browser(Method::POST, &create, Some(&learner), &form)
        .await;
    assert_eq!(r.status.as_u16(), 422);
    assert!(html(&r).contains("whole number"));
    // No token: refused.
    let r = w
        .browser(Method::POST, &create, Some(&learner), "label=Acme")
        .await;
    assert_eq!(r.status.as_u16(), 403);
    // A teacher may not share the learner's credential.
    let form = format!("csrf_token={}&label=Acme", csrf_of(&teacher));
    assert_eq!(
        w.browser(Method::POST, &create, Some(&teacher), &form)
            .await
            .status
            .as_u16(),
        403
    );
    assert_eq!(
        w.app
            .get("/api/v1/me/share-links", &w.learner)
            .await
            .expect(200),
        json!([])
    );

    let form = format!("csrf_token={}&label=Acme&days=30", csrf_of(&learner));
    let r = w
        .browser(Method::POST, &create, Some(&learner), &form)
        .await;
    assert_eq!(r.status.as_u16(), 201);
    let body = html(&r);
    let start =
        body.find("id=\"new-link-url\">").expect("the new link") + "id=\"new-link-url\">".len();
    let url = &body[start..start + body[start..].find('<').unwrap()];
    let path = url.strip_prefix(&w.app.state.config.public_url).unwrap();
    assert_eq!(w.anonymous_get(path).await.status.as_u16(), 200);
    let links = w
        .app
        .get("/api/v1/me/share-links", &w.learner)
        .await
        .expect(200);
    assert_eq!(links[0]["label"], "Acme");
    assert!(links[0]["expires_at"].is_string());
    let link_id = links[0]["id"].as_str().unwrap();

    // Another learner cannot revoke it through the page; the learner can.
    let l2 = w.app.login("l2@alpha.test").await;
    let revoke = format!("/orgs/alpha/share-links/{link_id}/revoke");
    let form = format!("csrf_token={}", csrf_of(&l2));
    assert_eq!(
        w.browser(Method::POST, &revoke, Some(&l2), &form)
            .await
            .status
            .as_u16(),
        404
    );
    assert_eq!(w.anonymous_get(path).await.status.as_u16(), 200);
    let form = format!("csrf_token={}", csrf_of(&learner));
    let r = w
        .browser(Method::POST, &revoke, Some(&learner), &form)
        .await;
    assert_eq!(r.status.as_u16(), 303);
    assert_eq!(w.anonymous_get(path).await.status.as_u16(), 410);
}

#[tokio::test]
async fn the_learner_sets_and_removes_their_did_on_their_credentials_page() {
    let w = World::new().await;
    let learner = w.app.login("l@alpha.test").await;
    let teacher = w.app.login("t@alpha.test").await;
    let list = format!("/orgs/alpha/learners/{}/credentials", w.learner_id);
    assert!(html(&w.browser(Method::GET, &list, Some(&learner), "").await).contains("Your DID"));
    // Staff see the learner's list without the learner's DID form.
    assert!(!html(&w.browser(Method::GET, &list, Some(&teacher), "").await).contains("Your DID"));

    // A malformed DID: the page again with the problem, nothing stored.
    let form = format!("csrf_token={}&did=did%3Aexample%3A1", csrf_of(&learner));
    let r = w
        .browser(Method::POST, "/orgs/alpha/my-did", Some(&learner), &form)
        .await;
    assert_eq!(r.status.as_u16(), 422);
    assert!(html(&r).contains("only did:key and did:web"));
    assert_eq!(
        w.app.get("/api/v1/me/did", &w.learner).await.expect(200)["did"],
        Value::Null
    );
    // Staff have no DID to set here; no token, no change.
    let form = format!("csrf_token={}&did=did%3Aweb%3At.example", csrf_of(&teacher));
    assert_eq!(
        w.browser(Method::POST, "/orgs/alpha/my-did", Some(&teacher), &form)
            .await
            .status
            .as_u16(),
        403
    );
    let r = w
        .browser(
            Method::POST,
            "/orgs/alpha/my-did",
            Some(&learner),
            "did=did%3Aweb%3Al.example",
        )
        .await;
    assert_eq!(r.status.as_u16(), 403);

    let form = format!("csrf_token={}&did=did%3Aweb%3Al.example", csrf_of(&learner));
    let r = w
        .browser(Method::POST, "/orgs/alpha/my-did", Some(&learner), &form)
        .await;
    assert_eq!(r.status.as_u16(), 303);
    assert_eq!(
        w.app.get("/api/v1/me/did", &w.learner).await.expect(200)["did"],
        "did:web:l.example"
    );
    let page = html(
        &w.browser(
            Method::GET,
            r.headers[header::LOCATION].to_str().unwrap(),
            Some(&learner),
            "",
        )
        .await,
    );
    assert!(page.contains("did:web:l.example") && page.contains("was saved"));
    // Empty: removed.
    let form = format!("csrf_token={}&did=", csrf_of(&learner));
    let r = w
        .browser(Method::POST, "/orgs/alpha/my-did", Some(&learner), &form)
        .await;
    assert_eq!(r.status.as_u16(), 303);
    assert_eq!(
        w.app.get("/api/v1/me/did", &w.learner).await.expect(200)["did"],
        Value::Null
    );
}
