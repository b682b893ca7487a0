//! `POST /api/v1/verify`: anyone verifies a credential sent as JSON, a baked PNG or SVG, raw or
//! as a form upload. Other issuers' DID documents and status lists come from a local test HTTP
//! server (axum on 127.0.0.1): a revoked entry fails the status check; a list that cannot be
//! fetched leaves the status unknown (a warning), never "revoked". Input that is not a
//! credential, or over the size limit, is a problem+json error.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use axum::routing::get;
use common::{As, Reply, TestApp};
use serde_json::{Value, json};
use tessera_server::routes::verify::service::FetchPolicy;
use tessera_vc::keys::{KeyPair, Multikey};
use tessera_vc::proof::{self, Cryptosuite, ProofOptions};
use tessera_vc::status_list::{self, StatusList};

const INDEX: usize = 94567;
const PNG: &[u8] = include_bytes!("../../../tests/fixtures/baking/badge.png");
const SVG: &[u8] = include_bytes!("../../../tests/fixtures/baking/badge.svg");

/// Another issuer, served over plain HTTP on loopback: its did:web DID document and a
/// revocation list whose bits the test sets.
struct Issuer {
    pair: KeyPair,
    key: Multikey,
    did: String,
    base: String,
    revoked: Arc<Mutex<Vec<usize>>>,
    list_fetches: Arc<AtomicUsize>,
}

impl Issuer {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let did = format!("did:web:127.0.0.1%3A{}:orgs:school", addr.port());
        let base = format!("http://127.0.0.1:{}", addr.port());
        let pair = KeyPair::from_seed([7; 32]);
        let key = Multikey::from_key_pair(&pair, Some(&did));
        let did_document =
            tessera_vc::did::controller_document(&did, std::slice::from_ref(&key.public_only()));
        let revoked = Arc::new(Mutex::new(Vec::new()));
        let list_fetches = Arc::new(AtomicUsize::new(0));
        let list_id = format!("{base}/status/1");
        let (list_pair, list_key, list_issuer) = (pair.clone(), key.id.clone(), did.clone());
        let (bits, fetches) = (revoked.clone(), list_fetches.clone());
        let app = Router::new()
            .route(
                "/orgs/school/did.json",
                get(move || {
                    let doc = did_document.clone();
                    async move { axum::Json(doc) }
                }),
            )
            .route(
                "/status/1",
                get(move || {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    let mut list = StatusList::new(status_list::MIN_BITS, 1).unwrap();
                    for i in bits.lock().unwrap().iter() {
                        list.set(*i, 1).unwrap();
                    }
                    let unsigned = status_list::list_credential(
                        &list_id,
                        &list_issuer,
                        "revocation",
                        &list,
                        "2025-06-01T00:00:00Z",
                    );
                    let signed = sign(&unsigned, &list_pair, &list_key);
                    async move { axum::Json(signed) }
                }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Issuer {
            pair,
            key,
            did,
            base,
            revoked,
            list_fetches,
        }
    }

    /// A signed OB 3.0 credential of this issuer whose status entry is in `list_url`.
    fn credential(&self, list_url: &str) -> Value {
        credential_of(&self.did, &self.pair, &self.key.id, list_url)
    }

    fn list_url(&self) -> String {
        format!("{}/status/1", self.base)
    }
}

/// The OB 3.0 fixture credential issued by `did`, its status entry in `list_url`, signed.
fn credential_of(did: &str, pair: &KeyPair, vm: &str, list_url: &str) -> Value {
    let mut unsigned: Value = serde_json::from_str(include_str!(
        "../../tessera-vc/tests/fixtures/ob3-achievement-credential.json"
    ))
    .unwrap();
    unsigned["issuer"]["id"] = json!(did);
    unsigned["credentialStatus"] = json!({
        "id": format!("{list_url}#{INDEX}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": INDEX.to_string(),
        "statusListCredential": list_url,
    });
    sign(&unsigned, pair, vm)
}

fn sign(doc: &Value, pair: &KeyPair, vm: &str) -> Value {
    proof::sign(
        doc,
        pair,
        &ProofOptions::new(
            Cryptosuite::EddsaRdfc2022,
            vm,
            Some("2025-06-15T12:00:05Z".into()),
        ),
    )
    .unwrap()
}

/// The app under test, allowed (as tests must be) to fetch from loopback over plain HTTP.
async fn app() -> TestApp {
    let app = TestApp::with_env(&[("TESSERA_PUBLIC_URL", "https://tessera.test")]).await;
    app.state.verifier.set_policy(FetchPolicy {
        allow_private: true,
        allow_http: true,
        timeout: Duration::from_secs(5),
    });
    app
}

async fn post_raw(app: &TestApp, content_type: &str, body: impl Into<Body>) -> Reply {
    app.raw(
        Request::post("/api/v1/verify")
            .header(header::CONTENT_TYPE, content_type)
            .body(body.into())
            .unwrap(),
    )
    .await
}

fn check<'a>(verdict: &'a Value, code: &str) -> &'a Value {
    verdict["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("no {code} check in {verdict}"))
}

#[tokio::test]
async fn a_valid_credential_verifies_with_every_named_check() {
    let issuer = Issuer::start().await;
    let app = app().await;
    let credential = issuer.credential(&issuer.list_url());
    let verdict = app
        .post("/api/v1/verify", &As::Anonymous, credential.clone())
        .await
        .expect(200);
    assert_eq!(verdict["verdict"], "verified", "{verdict}");
    assert_eq!(verdict["verified"], true);
    assert_eq!(verdict["format"], "json");
    assert_eq!(verdict["issuer"], issuer.did);
    for code in [
        "json",
        "contexts",
        "safe_mode",
        "proof",
        "issuer_binding",
        "validity_period",
        "status",
        "shape",
    ] {
        assert_eq!(
            check(&verdict, code)["status"],
            "passed",
            "{code}: {verdict}"
        );
    }

    // A tampered copy is a 200 verdict too: "did not verify" is an answer, not an error.
    let mut tampered = credential;
    tampered["credentialSubject"]["achievement"]["name"] = json!("Something else");
    let verdict = app
        .post("/api/v1/verify", &As::Anonymous, tampered)
        .await
        .expect(200);
    assert_eq!(verdict["verdict"], "not_verified");
    assert_eq!(verdict["verified"], false);
    assert_eq!(check(&verdict, "proof")["status"], "failed", "{verdict}");
}

#[tokio::test]
async fn a_revoked_credential_fails_the_status_check() {
    let issuer = Issuer::start().await;
    issuer.revoked.lock().unwrap().push(INDEX);
    let app = app().await;
    let verdict = app
        .post(
            "/api/v1/verify",
            &As::Anonymous,
            issuer.credential(&issuer.list_url()),
        )
        .await
        .expect(200);
    assert_eq!(verdict["verdict"], "not_verified", "{verdict}");
    let status = check(&verdict, "status");
    assert_eq!(status["status"], "failed", "{verdict}");
    assert!(
        status["message"].as_str().unwrap().contains("revoked"),
        "{status}"
    );
    assert_eq!(check(&verdict, "proof")["status"], "passed");
    assert!(issuer.list_fetches.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn an_unreachable_status_list_is_unknown_never_revoked() {
    let issuer = Issuer::start().await;
    // A port nothing listens on: the connection is refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = app().await;
    for list_url in [
        format!("http://127.0.0.1:{closed}/status/1"),
        // The issuer's server answers 404 for this one.
        format!("{}/status/missing", issuer.base),
    ] {
        let verdict = app
            .post(
                "/api/v1/verify",
                &As::Anonymous,
                issuer.credential(&list_url),
            )
            .await
            .expect(200);
        let status = check(&verdict, "status");
        assert_eq!(status["status"], "warning", "{list_url}: {verdict}");
        let message = status["message"].as_str().unwrap();
        assert!(message.contains("status unknown"), "{message}");
        assert!(!message.contains("revoked"), "{message}");
        assert!(
            status["details"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d.as_str().unwrap().contains(&list_url)),
            "{status}"
        );
        // The proof still verifies: the verdict is "verified with warnings", not "not verified".
        assert_eq!(check(&verdict, "proof")["status"], "passed", "{verdict}");
        assert_eq!(verdict["verdict"], "verified_with_warnings", "{verdict}");
    }
}

#[tokio::test]
async fn by_default_private_addresses_and_plain_http_are_not_fetched() {
    let issuer = Issuer::start().await;
    issuer.revoked.lock().unwrap().push(INDEX);
    let app = TestApp::with_env(&[("TESSERA_PUBLIC_URL", "https://tessera.test")]).await;
    let verdict = app
        .post(
            "/api/v1/verify",
            &As::Anonymous,
            issuer.credential(&issuer.list_url()),
        )
        .await
        .expect(200);
    // Nothing was fetched from loopback, so the proof cannot be checked and the status is
    // unknown: the list says "revoked", but the verifier never saw it and does not say so.
    assert_eq!(issuer.list_fetches.load(Ordering::SeqCst), 0);
    assert_eq!(verdict["verified"], false);
    let status = check(&verdict, "status");
    assert_eq!(status["status"], "warning", "{verdict}");
    assert!(
        status["details"]
            .to_string()
            .contains("the http scheme is not fetched"),
        "{status}"
    );
    // The issuer's key could not be resolved: the proof is not checked, and says why.
    assert_eq!(verdict["verdict"], "not_verified");
    let proof = check(&verdict, "proof");
    assert_eq!(proof["status"], "not_checked", "{verdict}");
    assert!(
        proof["details"]
            .to_string()
            .contains("/orgs/school/did.json"),
        "{proof}"
    );
}

#[tokio::test]
async fn baked_png_and_svg_verify_raw_and_as_form_uploads() {
    let issuer = Issuer::start().await;
    let app = app().await;
    let signed = serde_json::to_vec(&issuer.credential(&issuer.list_url())).unwrap();
    let png = tessera_bake::png::bake(PNG, &signed).unwrap();
    let svg = tessera_bake::svg::bake(SVG, &signed).unwrap();
    for (format, media_type, bytes) in [
        ("png", "image/png", &png),
        ("svg", "image/svg+xml", &svg),
        ("json", "application/json", &signed),
    ] {
        let verdict = post_raw(&app, media_type, bytes.clone()).await.expect(200);
        assert_eq!(verdict["format"], format);
        assert_eq!(verdict["verdict"], "verified", "{format}: {verdict}");

        let boundary = "tessera-test-boundary";
        let mut form = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"badge.{format}\"\r\nContent-Type: {media_type}\r\n\r\n"
        )
        .into_bytes();
        form.extend_from_slice(bytes);
        form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let verdict = post_raw(
            &app,
            &format!("multipart/form-data; boundary={boundary}"),
            form,
        )
        .await
        .expect(200);
        assert_eq!(verdict["format"], format);
        assert_eq!(verdict["verdict"], "verified", "form {format}: {verdict}");
    }

    // A pasted credential in the `credential` text field.
    let boundary = "b";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"credential\"\r\n\r\n{}\r\n--{boundary}--\r\n",
        String::from_utf8(signed).unwrap()
    );
    let verdict = post_raw(
        &app,
        &format!("multipart/form-data; boundary={boundary}"),
        form,
    )
    .await
    .expect(200);
    assert_eq!(verdict["verdict"], "verified", "{verdict}");
}

#[tokio::test]
async fn input_that_is_not_a_credential_is_a_problem() {
    let app = app().await;
    post_raw(&app, "application/json", "this is not json")
        .await
        .expect_problem(422, "not-a-credential");
    post_raw(&app, "application/json", "[1, 2, 3]")
        .await
        .expect_problem(422, "not-a-credential");
    post_raw(&app, "application/json", "")
        .await
        .expect_problem(422, "not-a-credential");
    post_raw(&app, "image/png", PNG)
        .await
        .expect_problem(422, "no-baked-credential");
    post_raw(&app, "image/svg+xml", SVG)
        .await
        .expect_problem(422, "no-baked-credential");
    let mut damaged = tessera_bake::png::bake(PNG, b"{}").unwrap();
    let n = damaged.len();
    damaged[n - 20] ^= 0xff;
    post_raw(&app, "image/png", damaged)
        .await
        .expect_problem(422, "damaged-image");
    post_raw(
        &app,
        "application/json",
        "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2ln",
    )
    .await
    .expect_problem(422, "unsupported-credential-format");
    // Nested 1,000 deep: over the nesting limit, could not be processed.
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let problem = post_raw(&app, "application/json", format!("{{\"a\":{deep}}}"))
        .await
        .expect_problem(422, "cannot-process");
    assert!(
        problem["detail"].as_str().unwrap().contains("nest"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_100_mb_upload_is_refused_without_reading_it_all() {
    let app = app().await;
    const TOTAL: usize = 100 * 1024 * 1024;
    const CHUNK: usize = 64 * 1024;

    // No declared length (a chunked stream): reading stops at the limit.
    let sent = Arc::new(AtomicUsize::new(0));
    let reply = post_raw(
        &app,
        "application/json",
        Body::from_stream(counting_stream(TOTAL, CHUNK, sent.clone())),
    )
    .await;
    reply.expect_problem(413, "payload-too-large");
    let streamed = sent.load(Ordering::SeqCst);
    assert!(
        streamed <= tessera_bake::MAX_IMAGE_BYTES + CHUNK,
        "read {streamed} bytes of a 100 MB upload"
    );

    // A declared length over the limit: refused before a byte of the body is read.
    let sent = Arc::new(AtomicUsize::new(0));
    let reply = app
        .raw(
            Request::post("/api/v1/verify")
                .header(header::CONTENT_TYPE, "image/png")
                .header(header::CONTENT_LENGTH, TOTAL.to_string())
                .body(Body::from_stream(counting_stream(
                    TOTAL,
                    CHUNK,
                    sent.clone(),
                )))
                .unwrap(),
        )
        .await;
    reply.expect_problem(413, "payload-too-large");
    assert_eq!(
        sent.load(Ordering::SeqCst),
        0,
        "the declared length was enough"
    );

    // The same through a form.
    let sent = Arc::new(AtomicUsize::new(0));
    let boundary = "big";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\n\r\n"
    );
    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(head))])
        .chain(counting_stream(TOTAL, CHUNK, sent.clone()));
    let reply = post_raw(
        &app,
        &format!("multipart/form-data; boundary={boundary}"),
        Body::from_stream(stream),
    )
    .await;
    reply.expect_problem(413, "payload-too-large");
    assert!(sent.load(Ordering::SeqCst) <= tessera_bake::MAX_IMAGE_BYTES + 2 * CHUNK);
}

use futures_util::StreamExt;

/// `total` bytes of spaces in `chunk`-sized pieces, counting what was taken.
fn counting_stream(
    total: usize,
    chunk: usize,
    sent: Arc<AtomicUsize>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    let piece = bytes::Bytes::from(vec![b' '; chunk]);
    futures_util::stream::iter(0..total / chunk).map(move |_| {
        sent.fetch_add(chunk, Ordering::SeqCst);
        Ok(piece.clone())
    })
}

#[tokio::test]
async fn the_verify_route_is_in_the_openapi_document() {
    let app = app().await;
    let doc = app
        .get("/api/v1/openapi.json", &As::Anonymous)
        .await
        .expect(200);
    let op = &doc["paths"]["/api/v1/verify"]["post"];
    assert!(op.is_object(), "{}", doc["paths"]);
    assert!(op["responses"]["200"].is_object());
    assert!(op["responses"]["413"].is_object());
    assert!(op["responses"]["422"].is_object());
}

/// The page's HTML for a form post.
async fn post_page(app: &TestApp, content_type: &str, body: impl Into<Body>) -> (u16, String) {
    let reply = app
        .raw(
            Request::post("/verify")
                .header(header::CONTENT_TYPE, content_type)
                .body(body.into())
                .unwrap(),
        )
        .await;
    (
        reply.status.as_u16(),
        String::from_utf8(reply.body).unwrap(),
    )
}

fn form_with(field: &str, filename: Option<&str>, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "page-boundary";
    let disposition = match filename {
        Some(f) => format!("form-data; name=\"{field}\"; filename=\"{f}\""),
        None => format!("form-data; name=\"{field}\""),
    };
    // The page's form sends both fields; the empty one is ignored.
    let other = if field == "file" {
        "credential"
    } else {
        "file"
    };
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{other}\"\r\n\r\n\r\n--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_verify_page_works_without_an_account_or_javascript() {
    let issuer = Issuer::start().await;
    let app = app().await;
    let reply = app.get("/verify", &As::Anonymous).await;
    assert_eq!(reply.status.as_u16(), 200);
    let html = String::from_utf8(reply.body).unwrap();
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    assert!(html.contains("name=\"credential\"") && html.contains("name=\"file\""));
    assert!(!html.contains("<script"));

    // Pasted JSON: every check in plain words.
    let signed = serde_json::to_vec(&issuer.credential(&issuer.list_url())).unwrap();
    let (content_type, body) = form_with("credential", None, &signed);
    let (status, html) = post_page(&app, &content_type, body).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<h2 id=\"verdict\">Verified</h2>"), "{html}");
    for label in [
        "Readable credential",
        "Signature",
        "Signed by the issuer",
        "Dates of validity",
        "Revocation and suspension",
        "Structure",
    ] {
        assert!(
            html.contains(&format!("<strong>{label}</strong>")),
            "{label}"
        );
    }
    assert!(html.contains("id=\"check-proof\"><span class=\"state st-ok\">Passed</span>"));
    assert!(html.contains(&issuer.did));

    // A baked PNG as a file; revoked.
    issuer.revoked.lock().unwrap().push(INDEX);
    // The verifier keeps fetched lists for a few minutes; a new policy forgets them.
    app.state.verifier.set_policy(app.state.verifier.policy());
    let png = tessera_bake::png::bake(PNG, &signed).unwrap();
    let (content_type, body) = form_with("file", Some("badge.png"), &png);
    let (status, html) = post_page(&app, &content_type, body).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Not verified"), "{html}");
    assert!(html.contains("a baked PNG badge"));
    assert!(
        html.contains("id=\"check-status\"><span class=\"state st-notyet\">Failed</span>"),
        "{html}"
    );

    // An unreachable list: a warning, and the page never says "revoked".
    let dead = format!("{}/status/missing", issuer.base);
    let form = format!(
        "credential={}",
        url::form_urlencoded::byte_serialize(
            serde_json::to_string(&issuer.credential(&dead))
                .unwrap()
                .as_bytes()
        )
        .collect::<String>()
    );
    let (status, html) = post_page(&app, "application/x-www-form-urlencoded", form).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Verified, with warnings"), "{html}");
    assert!(
        html.contains("id=\"check-status\"><span class=\"state st-wait\">Warning</span>"),
        "{html}"
    );
    assert!(html.contains("status unknown"));
    assert!(!html.to_lowercase().contains("revoked"), "{html}");

    // Not a credential, nothing sent, too large: the form again with the problem.
    let (content_type, body) = form_with("credential", None, b"hello");
    let (status, html) = post_page(&app, &content_type, body).await;
    assert_eq!(status, 422);
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(html.contains("not a credential"), "{html}");
    let (content_type, body) = form_with("credential", None, b"");
    let (status, html) = post_page(&app, &content_type, body).await;
    assert_eq!(status, 422);
    assert!(html.contains("nothing was sent"), "{html}");
    let sent = Arc::new(AtomicUsize::new(0));
    let reply = app
        .raw(
            Request::post("/verify")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from_stream(counting_stream(
                    100 * 1024 * 1024,
                    64 * 1024,
                    sent.clone(),
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 413);
    assert!(String::from_utf8_lossy(&reply.body).contains("too large"));
    assert!(sent.load(Ordering::SeqCst) <= tessera_bake::MAX_IMAGE_BYTES + 64 * 1024);
}

/// A credential this service issued (through the API) verifies against our own DID document
/// and status lists, read from the store without the network (the default policy would refuse
/// loopback); suspension, reinstatement and revocation show in the status check.
#[tokio::test]
async fn our_own_credentials_verify_from_the_store_and_follow_their_status() {
    let app = TestApp::new().await;
    let root = app.platform_admin().await;
    app.create_org(&root, "alpha").await;
    let teacher = app.member(&root, "alpha", "t@alpha.test", "teacher").await;
    let reviewer = app.member(&root, "alpha", "r@alpha.test", "reviewer").await;
    let learner = app.member(&root, "alpha", "l@alpha.test", "learner").await;
    let learner_id = app.user_id(&learner).await;
    let fw = app
        .post(
            "/api/v1/orgs/alpha/frameworks",
            &teacher,
            json!({"title": "Maths"}),
        )
        .await
        .expect(201);
    let competency = app
        .post(
            &format!(
                "/api/v1/frameworks/{}/competencies",
                fw["id"].as_str().unwrap()
            ),
            &teacher,
            json!({"code": "CCSS.MATH.PRACTICE.MP1", "statement": "Make sense of problems"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sub = app
        .post(
            &format!("/api/v1/orgs/alpha/competencies/{competency}/evidence"),
            &learner,
            json!({"rubric": "math-problem-solving", "text": "My solution"}),
        )
        .await
        .expect(201);
    let criteria: Vec<Value> = [
        "understanding",
        "strategy",
        "accuracy",
        "reasoning",
        "communication",
    ]
    .iter()
    .map(|c| json!({"criterion": c, "level": "expert"}))
    .collect();
    let scored = app
        .post(
            &format!(
                "/api/v1/orgs/alpha/reviews/{}/score",
                sub["review_id"].as_str().unwrap()
            ),
            &reviewer,
            json!({ "criteria": criteria }),
        )
        .await
        .expect(200);
    assert_eq!(scored["outcome"], "mastered");
    let issued = app
        .post(
            &format!(
                "/api/v1/orgs/alpha/learners/{learner_id}/competencies/{competency}/credential"
            ),
            &teacher,
            json!({}),
        )
        .await
        .expect(201);
    let id = issued["id"].as_str().unwrap().to_owned();
    let signed = app
        .get(&format!("/api/v1/orgs/alpha/credentials/{id}"), &learner)
        .await
        .body;
    assert!(!app.state.verifier.policy().allow_private);

    let verdict_of = |bytes: Vec<u8>| {
        let app = &app;
        async move {
            post_raw(app, "application/vc+ld+json", bytes)
                .await
                .expect(200)
        }
    };
    let verdict = verdict_of(signed.clone()).await;
    assert_eq!(verdict["verdict"], "verified", "{verdict}");
    assert_eq!(check(&verdict, "status")["status"], "passed", "{verdict}");
    assert_eq!(check(&verdict, "issuer_binding")["status"], "passed");

    // Baked, the same.
    let png = tessera_bake::png::bake(PNG, &signed).unwrap();
    assert_eq!(verdict_of(png).await["verdict"], "verified");

    let change = |action: &'static str| {
        let (app, teacher, id) = (&app, &teacher, &id);
        async move {
            app.post(
                &format!("/api/v1/orgs/alpha/credentials/{id}/status"),
                teacher,
                json!({"action": action, "reason": "test"}),
            )
            .await
            .expect(200);
        }
    };
    change("suspend").await;
    let verdict = verdict_of(signed.clone()).await;
    assert_eq!(verdict["verdict"], "not_verified", "{verdict}");
    let status = check(&verdict, "status");
    assert_eq!(status["status"], "failed");
    assert!(
        status["message"].as_str().unwrap().contains("suspended"),
        "{status}"
    );

    change("reinstate").await;
    let verdict = verdict_of(signed.clone()).await;
    assert_eq!(verdict["verdict"], "verified", "{verdict}");

    change("revoke").await;
    let verdict = verdict_of(signed.clone()).await;
    assert_eq!(verdict["verdict"], "not_verified", "{verdict}");
    let status = check(&verdict, "status");
    assert_eq!(status["status"], "failed");
    assert!(
        status["message"].as_str().unwrap().contains("revoked"),
        "{status}"
    );
}

/// A clock that moves on one second each time it is read.
#[derive(Debug)]
struct Ticking(Mutex<chrono::DateTime<chrono::Utc>>);

impl tessera_core::clock::Clock for Ticking {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let mut t = self.0.lock().unwrap();
        let now = *t;
        *t += chrono::Duration::seconds(1);
        now
    }
}

/// Our own issuer's documents, as the service serves them: the DID document, and a status list
/// signed on demand, valid from the second the clock reads when it is asked for.
struct SignedOnDemand {
    clock: Arc<Ticking>,
    pair: KeyPair,
    key: Multikey,
    did: String,
}

const OWN_LIST: &str = "https://tessera.test/orgs/school/status/revocation/1";

impl tessera_server::routes::verify::service::LocalDocuments for SignedOnDemand {
    fn document<'a>(
        &'a self,
        url: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<Option<Value>, String>> {
        Box::pin(async move {
            Ok(match url {
                "https://tessera.test/orgs/school/did.json" => {
                    Some(tessera_vc::did::controller_document(
                        &self.did,
                        std::slice::from_ref(&self.key.public_only()),
                    ))
                }
                OWN_LIST => {
                    use tessera_core::clock::Clock;
                    let valid_from = self
                        .clock
                        .now()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    let list = StatusList::new(status_list::MIN_BITS, 1).unwrap();
                    let unsigned = status_list::list_credential(
                        OWN_LIST,
                        &self.did,
                        "revocation",
                        &list,
                        &valid_from,
                    );
                    Some(sign(&unsigned, &self.pair, &self.key.id))
                }
                _ => None,
            })
        })
    }
}

#[tokio::test]
async fn a_status_list_signed_on_demand_during_verification_is_already_valid() {
    let did = "did:web:tessera.test:orgs:school".to_owned();
    let pair = KeyPair::from_seed([9; 32]);
    let key = Multikey::from_key_pair(&pair, Some(&did));
    let clock = Arc::new(Ticking(Mutex::new(
        chrono::DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
            .unwrap()
            .into(),
    )));
    let credential = credential_of(&did, &pair, &key.id, OWN_LIST);
    let local = SignedOnDemand {
        clock: clock.clone(),
        pair,
        key,
        did,
    };
    // The list is signed at 09:00:00 and the clock reads 09:00:01 after it: a verifier that
    // took its time before fetching would find the list "not yet valid".
    let verdict = tessera_server::routes::verify::service::Verifier::default()
        .verify(
            credential.to_string().as_bytes(),
            clock.as_ref(),
            "https://tessera.test",
            &local,
        )
        .await
        .unwrap();
    let status = verdict
        .report
        .checks
        .iter()
        .find(|c| c.code == tessera_vc::CheckCode::Status)
        .unwrap();
    assert_eq!(
        status.status,
        tessera_vc::CheckStatus::Passed,
        "{:?}",
        verdict.report
    );
    assert_eq!(verdict.verdict, "verified", "{:?}", verdict.report);
}
