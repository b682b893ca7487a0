//! Mastery transcripts through the API, on the backend `TESSERA_TEST_BACKEND` names: a learner
//! makes a signed CLR 2.0 transcript of everything, one framework or chosen competencies (the
//! choice recorded, `partial` when it leaves something out); it embeds the issued credentials
//! exactly and verifies against the DID document and status lists this service serves; teachers
//! make official ones; another learner sees nothing of it (404); the PDF carries the signed JSON
//! and `POST /api/v1/verify` verifies it, names a tampered credential in a swapped attachment and
//! refuses a PDF without one.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use common::{As, TestApp};
use lopdf::{Document, Object, Stream};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tessera_core::clock::Clock;
use tessera_vc::VerifyOptions;

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
    maths: String,
    practice: String,
    mp1: String,
    mp3: String,
    mp4: String,
}

impl World {
    /// Two frameworks: Maths (MP1, MP3, both mastered and issued) and Practice (MP4, tried
    /// once, not yet mastered).
    async fn new() -> Self {
        let app = TestApp::new().await;
        let root = app.platform_admin().await;
        app.create_org(&root, "alpha").await;
        let teacher = app.member(&root, "alpha", "t@alpha.test", "teacher").await;
        let reviewer = app.member(&root, "alpha", "r@alpha.test", "reviewer").await;
        let learner = app.member(&root, "alpha", "l@alpha.test", "learner").await;
        let learner2 = app.member(&root, "alpha", "l2@alpha.test", "learner").await;
        let learner_id = app.user_id(&learner).await;
        let mut frameworks = Vec::new();
        let mut ids = Vec::new();
        for (title, codes) in [
            (
                "Maths",
                &["CCSS.MATH.PRACTICE.MP1", "CCSS.MATH.PRACTICE.MP3"][..],
            ),
            ("Practice", &["CCSS.MATH.PRACTICE.MP4"][..]),
        ] {
            let fw = app
                .post(
                    "/api/v1/orgs/alpha/frameworks",
                    &teacher,
                    json!({ "title": title }),
                )
                .await
                .expect(201);
            let fid = fw["id"].as_str().unwrap().to_owned();
            for code in codes {
                let c = app
                    .post(
                        &format!("/api/v1/frameworks/{fid}/competencies"),
                        &teacher,
                        json!({"code": code, "statement": format!("Practice {code}")}),
                    )
                    .await
                    .expect(201);
                ids.push(c["id"].as_str().unwrap().to_owned());
            }
            frameworks.push(fid);
        }
        let w = Self {
            app,
            teacher,
            reviewer,
            learner,
            learner_id,
            learner2,
            practice: frameworks.pop().unwrap(),
            maths: frameworks.pop().unwrap(),
            mp4: ids.pop().unwrap(),
            mp3: ids.pop().unwrap(),
            mp1: ids.pop().unwrap(),
        };
        for (c, level) in [(&w.mp1, "expert"), (&w.mp3, "expert"), (&w.mp4, "novice")] {
            w.attempt(c, level).await;
            w.app.clock.advance(chrono::Duration::days(3));
        }
        for c in [&w.mp1, &w.mp3] {
            w.app
                .post(
                    &format!(
                        "/api/v1/orgs/alpha/learners/{}/competencies/{c}/credential",
                        w.learner_id
                    ),
                    &w.teacher,
                    json!({}),
                )
                .await
                .expect(201);
        }
        w.app.clock.advance(chrono::Duration::days(1));
        w
    }

    async fn attempt(&self, competency: &str, level: &str) {
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
            .expect(200);
    }

    fn transcripts_path(&self) -> String {
        format!(
            "/api/v1/orgs/alpha/learners/{}/transcripts",
            self.learner_id
        )
    }

    async fn create(&self, who: &As, body: Value) -> common::Reply {
        self.app.post(&self.transcripts_path(), who, body).await
    }

    async fn get_raw(&self, path: &str) -> Vec<u8> {
        let reply = self
            .app
            .raw(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{path}");
        reply.body
    }

    /// What the service serves for verification: the DID document and both status lists.
    async fn served_options(&self) -> VerifyOptions {
        let mut o = VerifyOptions::new(self.app.clock.now());
        let did = self.get_raw("/orgs/alpha/did.json").await;
        o.add_controller_document(&serde_json::from_slice(&did).unwrap())
            .unwrap();
        for purpose in ["revocation", "suspension"] {
            let list = self
                .get_raw(&format!("/orgs/alpha/status/{purpose}/1"))
                .await;
            o.add_status_list(serde_json::from_slice(&list).unwrap())
                .unwrap();
        }
        o
    }

    async fn verify_upload(&self, bytes: Vec<u8>, content_type: &str) -> common::Reply {
        self.app
            .raw(
                Request::post("/api/v1/verify")
                    .header(header::CONTENT_TYPE, content_type)
                    .body(Body::from(bytes))
                    .unwrap(),
            )
            .await
    }
}

fn embedded(clr: &Value) -> &Vec<Value> {
    clr.pointer("/credentialSubject/verifiableCredential")
        .and_then(Value::as_array)
        .expect("embedded credentials")
}

#[tokio::test]
async fn a_learner_makes_a_full_transcript_that_embeds_the_issued_credentials_exactly_and_verifies()
{
    let w = World::new().await;
    let made = w.create(&w.learner, json!({})).await.expect(201);
    assert_eq!(made["kind"], "learner");
    assert_eq!(made["scope"], "everything");
    assert_eq!(made["partial"], false);
    assert_eq!(made["credentials"], 2);
    let id = made["id"].as_str().unwrap();

    // Signing it is in the audit chain, and the chain holds.
    let (entries, _) = w.app.state.store.audit_entries().await.unwrap();
    let last = entries.last().unwrap();
    assert_eq!(last.kind, tessera_review::AuditKind::TranscriptIssued);
    assert!(
        last.subjects
            .iter()
            .any(|s| s.as_str() == format!("transcript:{id}")),
        "{:?}",
        last.subjects
    );
    assert!(matches!(
        w.app.state.store.verify_audit().await.unwrap(),
        tessera_store::audit::AuditVerdict::Intact { .. }
    ));

    // The JSON is exactly the stored bytes (their digest is the recorded one).
    let reply = w
        .app
        .get(&format!("/api/v1/orgs/alpha/transcripts/{id}"), &w.learner)
        .await;
    assert_eq!(
        reply.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/vc+ld+json"
    );
    let bytes = reply.body.clone();
    assert_eq!(
        hex(&Sha256::digest(&bytes)),
        made["sha256"].as_str().unwrap()
    );
    let clr: Value = reply.expect(200);
    assert_eq!(clr["id"], format!("urn:uuid:{id}"));
    assert!(
        clr["type"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "ClrCredential")
    );

    // Each issued credential is embedded exactly as issued.
    let issued = w
        .app
        .get(
            &format!("/api/v1/orgs/alpha/learners/{}/credentials", w.learner_id),
            &w.learner,
        )
        .await
        .expect(200);
    let inside = embedded(&clr);
    assert_eq!(inside.len(), 2);
    for c in issued.as_array().unwrap() {
        let raw = w
            .app
            .get(
                &format!(
                    "/api/v1/orgs/alpha/credentials/{}",
                    c["id"].as_str().unwrap()
                ),
                &w.learner,
            )
            .await
            .expect(200);
        assert!(
            inside.contains(&raw),
            "credential {} embedded as issued",
            c["id"]
        );
    }

    // The record: both masteries with level and dates, MP4 in progress; the hierarchy.
    let view = tessera_transcript::TranscriptView::from_clr(&clr).unwrap();
    let competencies: Vec<_> = view.areas.iter().flat_map(|a| &a.competencies).collect();
    assert_eq!(competencies.len(), 3);
    let mastered: Vec<_> = competencies
        .iter()
        .filter(|c| c.mastered_at.is_some())
        .collect();
    assert_eq!(mastered.len(), 2);
    assert!(
        mastered
            .iter()
            .any(|c| c.level.as_deref() == Some("Expert")),
        "{mastered:?}"
    );
    assert!(
        competencies
            .iter()
            .any(|c| c.mastered_at.is_none() && c.attempts == 1)
    );
    assert!(view.areas.iter().any(|a| a.name == "Maths"));
    assert!(view.areas.iter().any(|a| a.name == "Practice"));

    // It verifies, with every embedded credential, against what the service serves.
    let verdict = tessera_transcript::verify(&clr, &w.served_options().await).unwrap();
    assert!(verdict.verified, "{}", verdict.report.to_text());
    assert!(verdict.failed.is_empty());
    assert_eq!(verdict.report.embedded.len(), 2);

    // Listed for the learner and for staff.
    for who in [&w.learner, &w.teacher, &w.reviewer] {
        let list = w.app.get(&w.transcripts_path(), who).await.expect(200);
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["id"], id);
    }
}

#[tokio::test]
async fn the_learner_chooses_a_framework_or_competencies_and_the_choice_is_recorded() {
    let w = World::new().await;
    let fw = w
        .create(
            &w.learner,
            json!({"scope": "framework", "framework_id": w.maths}),
        )
        .await
        .expect(201);
    assert_eq!(fw["scope"], "framework");
    assert_eq!(fw["framework_id"], w.maths.as_str());
    // MP4 (the other framework) is left out: partial.
    assert_eq!(fw["partial"], true);
    assert_eq!(fw["credentials"], 2);
    // (The test clock stands still unless moved: the second transcript is made later.)
    w.app.clock.advance(chrono::Duration::minutes(1));

    let one = w
        .create(
            &w.learner,
            json!({"scope": "competencies", "competency_ids": [w.mp3]}),
        )
        .await
        .expect(201);
    assert_eq!(one["partial"], true);
    assert_eq!(one["credentials"], 1);
    let clr = w
        .app
        .get(
            &format!(
                "/api/v1/orgs/alpha/transcripts/{}",
                one["id"].as_str().unwrap()
            ),
            &w.learner,
        )
        .await
        .expect(200);
    assert_eq!(clr["partial"], true);
    let inside = embedded(&clr);
    assert_eq!(inside.len(), 1);
    assert!(
        inside[0]["credentialSubject"]["achievement"]["id"]
            .as_str()
            .unwrap()
            .ends_with(&w.mp3)
    );
    let verdict = tessera_transcript::verify(&clr, &w.served_options().await).unwrap();
    assert!(verdict.verified, "{}", verdict.report.to_text());

    // Newest first.
    let list = w
        .app
        .get(&w.transcripts_path(), &w.learner)
        .await
        .expect(200);
    assert_eq!(list[0]["id"], one["id"]);
    assert_eq!(list[1]["id"], fw["id"]);
}

#[tokio::test]
async fn a_choice_naming_what_is_not_in_the_record_or_holding_no_credential_is_refused() {
    let w = World::new().await;
    let before = w
        .app
        .get(&w.transcripts_path(), &w.learner)
        .await
        .expect(200);
    for (body, field) in [
        (json!({"scope": "competencies"}), "competency_ids"),
        (
            json!({"scope": "competencies", "competency_ids": ["nope"]}),
            "competency_ids",
        ),
        (json!({"scope": "framework"}), "framework_id"),
        (
            json!({"scope": "framework", "framework_id": "nope"}),
            "framework_id",
        ),
        // Practice holds only MP4, not mastered: nothing to put in a CLR.
        (
            json!({"scope": "framework", "framework_id": w.practice}),
            "scope",
        ),
        (
            json!({"scope": "competencies", "competency_ids": [w.mp4]}),
            "scope",
        ),
    ] {
        let problem = w
            .create(&w.learner, body.clone())
            .await
            .expect_problem(422, "validation-failed");
        assert_eq!(problem["field"], field, "{body}: {problem}");
    }
    w.create(&w.learner, json!({"scope": "sideways"}))
        .await
        .expect_problem(422, "invalid-body");
    // Nothing was stored.
    let after = w
        .app
        .get(&w.transcripts_path(), &w.learner)
        .await
        .expect(200);
    assert_eq!(before, after);
}

#[tokio::test]
async fn teachers_make_official_full_transcripts_and_no_other_learner_sees_any() {
    let w = World::new().await;
    let official = w.create(&w.teacher, json!({})).await.expect(201);
    assert_eq!(official["kind"], "official");
    assert_eq!(official["partial"], false);
    // Official is always the full record; a teacher cannot make the learner's own kind.
    w.create(
        &w.teacher,
        json!({"scope": "framework", "framework_id": w.maths}),
    )
    .await
    .expect_problem(422, "validation-failed");
    w.create(&w.teacher, json!({"kind": "learner"}))
        .await
        .expect_problem(403, "forbidden");
    // Reviewers read the record but do not make transcripts; learners no official ones.
    w.create(&w.reviewer, json!({}))
        .await
        .expect_problem(403, "forbidden");
    w.create(&w.learner, json!({"kind": "official"}))
        .await
        .expect_problem(403, "forbidden");

    // Another learner: 404 for everything about this learner's transcripts.
    let id = official["id"].as_str().unwrap();
    w.create(&w.learner2, json!({}))
        .await
        .expect_problem(404, "not-found");
    w.app
        .get(&w.transcripts_path(), &w.learner2)
        .await
        .expect_problem(404, "not-found");
    for path in [
        format!("/api/v1/orgs/alpha/transcripts/{id}"),
        format!("/api/v1/orgs/alpha/transcripts/{id}/pdf"),
    ] {
        w.app
            .get(&path, &w.learner2)
            .await
            .expect_problem(404, "not-found");
        w.app
            .get(&path, &As::Anonymous)
            .await
            .expect_problem(401, "unauthenticated");
    }
    // The learner reads the official one too (it is their record).
    w.app
        .get(&format!("/api/v1/orgs/alpha/transcripts/{id}"), &w.learner)
        .await
        .expect(200);
}

/// Replaces the bytes of the attached file, as someone editing the PDF would.
fn swap_attachment(pdf: &[u8], new: &[u8]) -> Vec<u8> {
    let mut doc = Document::load_mem(pdf).unwrap();
    let ids: Vec<_> = doc
        .objects
        .iter()
        .filter(|(_, o)| {
            matches!(o, Object::Stream(s) if s.dict.get(b"Type").ok().and_then(|t| t.as_name().ok()) == Some(b"EmbeddedFile"))
        })
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(ids.len(), 1, "one embedded file");
    let mut dict = lopdf::Dictionary::new();
    dict.set("Type", "EmbeddedFile");
    doc.objects
        .insert(ids[0], Object::Stream(Stream::new(dict, new.to_vec())));
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[tokio::test]
async fn the_pdf_carries_the_signed_json_and_verify_checks_it_and_names_a_tampered_credential() {
    let w = World::new().await;
    let made = w.create(&w.learner, json!({})).await.expect(201);
    let id = made["id"].as_str().unwrap();
    let json_bytes = w
        .app
        .get(&format!("/api/v1/orgs/alpha/transcripts/{id}"), &w.learner)
        .await
        .body;
    let reply = w
        .app
        .get(
            &format!("/api/v1/orgs/alpha/transcripts/{id}/pdf"),
            &w.learner,
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(
        reply.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/pdf"
    );
    let pdf = reply.body;
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(
        tessera_render::extract_attachment(&pdf).unwrap(),
        json_bytes
    );

    // The uploaded PDF verifies (raw, and as the page's multipart form would send it), and the
    // answer says what the transcript holds.
    let verdict = w
        .verify_upload(pdf.clone(), "application/pdf")
        .await
        .expect(200);
    assert_eq!(verdict["format"], "pdf");
    assert_eq!(verdict["verified"], true, "{verdict}");
    // The name printed is the account's name (the harness names accounts by e-mail).
    assert_eq!(verdict["transcript"]["learner_name"], "l@alpha.test");
    let areas = verdict["transcript"]["areas"].as_array().unwrap();
    let levels: Vec<&str> = areas
        .iter()
        .flat_map(|a| a["competencies"].as_array().unwrap())
        .filter_map(|c| c["level"].as_str())
        .collect();
    assert!(levels.contains(&"Expert"), "{levels:?}");
    assert!(verdict.get("failed_credentials").is_none());

    // One embedded credential altered, the attachment swapped: not verified, and named.
    let mut tampered: Value = serde_json::from_slice(&json_bytes).unwrap();
    let victim = tampered
        .pointer_mut("/credentialSubject/verifiableCredential/1/credentialSubject/achievement/name")
        .unwrap();
    *victim = Value::String("Rocket science, mastered".into());
    let victim_id = tampered
        .pointer("/credentialSubject/verifiableCredential/1/id")
        .and_then(Value::as_str)
        .unwrap()
        .to_owned();
    let swapped = swap_attachment(&pdf, &serde_json::to_vec(&tampered).unwrap());
    let verdict = w
        .verify_upload(swapped, "application/pdf")
        .await
        .expect(200);
    assert_eq!(verdict["verified"], false);
    assert_eq!(verdict["verdict"], "not_verified");
    let failed = verdict["failed_credentials"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{verdict}");
    assert_eq!(failed[0]["id"], victim_id.as_str());
    assert_eq!(
        failed[0]["path"],
        "credentialSubject.verifiableCredential[1]"
    );

    // A PDF without a transcript attached: a clear 422.
    let mut doc = Document::load_mem(&pdf).unwrap();
    let catalog = doc.catalog_mut().unwrap();
    catalog.remove(b"Names");
    catalog.remove(b"AF");
    let mut bare = Vec::new();
    doc.save_to(&mut bare).unwrap();
    let problem = w
        .verify_upload(bare, "application/pdf")
        .await
        .expect_problem(422, "no-attached-transcript");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("no attached transcript"),
        "{problem}"
    );
    // Something that only starts like a PDF: damaged, also a 422.
    w.verify_upload(b"%PDF-1.7\n garbage".to_vec(), "application/pdf")
        .await
        .expect_problem(422, "damaged-pdf");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A page request with the session cookie (and a urlencoded form for POST).
async fn page(
    app: &TestApp,
    who: &As,
    method: &str,
    path: &str,
    form: Option<String>,
) -> common::Reply {
    let As::Session { cookie, .. } = who else {
        panic!("pages need a session")
    };
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, format!("tessera_session={cookie}"));
    let body = match form {
        Some(f) => {
            b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f)
        }
        None => Body::empty(),
    };
    app.raw(b.body(body).unwrap()).await
}

fn text(r: &common::Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

#[tokio::test]
async fn pages_make_show_and_share_a_transcript_under_the_strict_csp() {
    let w = World::new().await;
    let session = w.app.login("l@alpha.test").await;
    let As::Session { csrf, .. } = &session else {
        unreachable!()
    };
    let list_path = format!("/orgs/alpha/learners/{}/transcripts", w.learner_id);
    // My transcripts redirects to the list, which offers the choice.
    let r = page(&w.app, &session, "GET", "/orgs/alpha/my-transcripts", None).await;
    assert_eq!(r.status.as_u16(), 303);
    assert_eq!(r.headers[header::LOCATION], list_path.as_str());
    let r = page(&w.app, &session, "GET", &list_path, None).await;
    let html = text(&r);
    assert_eq!(r.status.as_u16(), 200, "{html}");
    assert!(html.contains("id=\"no-transcripts\""));
    assert!(html.contains("value=\"framework\"") && html.contains(&w.maths));
    assert!(html.contains(&format!("value=\"{}\"", w.mp3)));

    // Chosen competencies through the form (the field repeats).
    let r = page(
        &w.app,
        &session,
        "POST",
        &list_path,
        Some(format!(
            "csrf_token={csrf}&scope=competencies&competency_ids={}&competency_ids={}",
            w.mp1, w.mp3
        )),
    )
    .await;
    assert_eq!(r.status.as_u16(), 303, "{}", text(&r));
    let shown = r.headers[header::LOCATION].to_str().unwrap().to_owned();
    let id = shown.rsplit('/').next().unwrap().to_owned();
    let list = w
        .app
        .get(&w.transcripts_path(), &w.learner)
        .await
        .expect(200);
    assert_eq!(list[0]["scope"], "competencies");
    assert_eq!(list[0]["partial"], true);
    // Nothing chosen: the form again, with the problem in words; nothing stored.
    let r = page(
        &w.app,
        &session,
        "POST",
        &list_path,
        Some(format!("csrf_token={csrf}&scope=competencies")),
    )
    .await;
    assert_eq!(r.status.as_u16(), 422);
    assert!(text(&r).contains("id=\"transcript-error\""));
    assert_eq!(
        w.app
            .get(&w.transcripts_path(), &w.learner)
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The transcript page: the school's template, style linked, the pages' CSP, no script.
    let r = page(&w.app, &session, "GET", &shown, None).await;
    let html = text(&r);
    assert_eq!(r.status.as_u16(), 200, "{html}");
    let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("style-src 'self'"));
    assert!(!csp.contains("unsafe-inline"));
    assert!(html.contains("rel=\"stylesheet\"") && html.contains("transcript.css"));
    assert!(!html.contains("<style") && !html.contains("<script"));
    assert!(html.contains("Practice CCSS.MATH.PRACTICE.MP3"));
    let css = w
        .app
        .raw(Request::get("/transcript.css").body(Body::empty()).unwrap())
        .await;
    assert_eq!(css.headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(text(&css).contains("--primary"));
    // Another learner: 404.
    let other = w.app.login("l2@alpha.test").await;
    assert_eq!(
        page(&w.app, &other, "GET", &shown, None)
            .await
            .status
            .as_u16(),
        404
    );
    assert_eq!(
        page(&w.app, &other, "GET", &list_path, None)
            .await
            .status
            .as_u16(),
        404
    );

    // A share link: shown once, opens without an account, counts opens, then revoked: 410.
    let r = page(
        &w.app,
        &session,
        "POST",
        &format!("/orgs/alpha/transcripts/{id}/share-links"),
        Some(format!("csrf_token={csrf}&label=admissions&days=30")),
    )
    .await;
    let html = text(&r);
    assert_eq!(r.status.as_u16(), 200, "{html}");
    let start = html.find("/share/t/").expect("the new link is shown");
    let token: String = html[start + 9..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert_eq!(token.len(), 64);
    let open = |path: String| {
        let app = &w.app;
        async move {
            app.raw(Request::get(path).body(Body::empty()).unwrap())
                .await
        }
    };
    let shared = open(format!("/share/t/{token}")).await;
    let html = text(&shared);
    assert_eq!(shared.status.as_u16(), 200, "{html}");
    assert!(html.contains("l@alpha.test") && html.contains("Partial"));
    assert!(html.contains(&format!("/share/t/{token}/transcript.pdf")));
    // Only this transcript: nothing of the learner's record beyond it (MP4 was left out).
    assert!(!html.contains("MP4"));
    let json = open(format!("/share/t/{token}/transcript.json")).await;
    let own = w
        .app
        .get(&format!("/api/v1/orgs/alpha/transcripts/{id}"), &w.learner)
        .await;
    assert_eq!(json.body, own.body, "the exact signed bytes");
    let pdf = open(format!("/share/t/{token}/transcript.pdf")).await;
    assert_eq!(
        tessera_render::extract_attachment(&pdf.body).unwrap(),
        own.body
    );
    assert_eq!(
        open(format!("/share/t/{token}/view")).await.status.as_u16(),
        200
    );
    // A wrong token: 404.
    assert_eq!(
        open(format!("/share/t/{}", "0".repeat(64)))
            .await
            .status
            .as_u16(),
        404
    );
    let links = w
        .app
        .get(
            &format!("/api/v1/orgs/alpha/transcripts/{id}/share-links"),
            &w.learner,
        )
        .await
        .expect(200);
    assert_eq!(links[0]["open_count"], 1);
    assert_eq!(links[0]["label"], "admissions");
    // Staff may read the transcript but not share it; another learner sees nothing.
    w.app
        .post(
            &format!("/api/v1/orgs/alpha/transcripts/{id}/share-links"),
            &w.teacher,
            json!({}),
        )
        .await
        .expect_problem(403, "forbidden");
    w.app
        .get(
            &format!("/api/v1/orgs/alpha/transcripts/{id}/share-links"),
            &w.learner2,
        )
        .await
        .expect_problem(404, "not-found");
    let link_id = links[0]["id"].as_str().unwrap();
    let r = page(
        &w.app,
        &session,
        "POST",
        &format!("/orgs/alpha/transcripts/{id}/share-links/{link_id}/revoke"),
        Some(format!("csrf_token={csrf}")),
    )
    .await;
    assert_eq!(r.status.as_u16(), 303);
    assert_eq!(open(format!("/share/t/{token}")).await.status.as_u16(), 410);
    assert_eq!(
        open(format!("/share/t/{token}/transcript.json"))
            .await
            .status
            .as_u16(),
        410
    );
}

#[tokio::test]
async fn the_verify_page_shows_what_an_uploaded_transcript_pdf_says() {
    let w = World::new().await;
    let made = w.create(&w.learner, json!({})).await.expect(201);
    let pdf = w
        .app
        .get(
            &format!(
                "/api/v1/orgs/alpha/transcripts/{}/pdf",
                made["id"].as_str().unwrap()
            ),
            &w.learner,
        )
        .await
        .body;
    let boundary = "XyZboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = w
        .app
        .raw(
            Request::post("/verify")
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    let html = text(&r);
    assert_eq!(r.status.as_u16(), 200, "{html}");
    assert!(html.contains("<h2 id=\"verdict\">Verified</h2>"), "{html}");
    assert!(html.contains("a transcript PDF"));
    assert!(html.contains("id=\"transcript-learner\">l@alpha.test<"));
    assert!(html.contains("Practice CCSS.MATH.PRACTICE.MP1") && html.contains("Expert"));
    assert!(html.contains("In progress"));
}
