//! Low bandwidth: every HTML page a signed-in user opens first costs less than 100 KB with its
//! stylesheet (and script, where there is one); those assets are cacheable for a year under a
//! content-hashed URL; no page carries inline script. The pages come from the one list of page
//! routes (`tessera_server::pages::page_routes`), so a page added later is measured too.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use chrono::Duration;
use common::{As, TestApp};
use serde_json::json;
use sha2::{Digest, Sha256};
use tessera_server::pages::page_routes;
use tessera_store::evidence::NewSubmission;

const BUDGET: usize = 100 * 1024;

struct Fetched {
    status: u16,
    content_type: String,
    cache: String,
    location: String,
    body: Vec<u8>,
}

async fn fetch(app: &TestApp, path: &str, cookie: Option<&str>) -> Fetched {
    let mut b = Request::get(path);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    let reply = app.raw(b.body(Body::empty()).unwrap()).await;
    let h = |name| {
        reply
            .headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    Fetched {
        status: reply.status.as_u16(),
        content_type: h(header::CONTENT_TYPE),
        cache: h(header::CACHE_CONTROL),
        location: h(header::LOCATION),
        body: reply.body,
    }
}

fn cookie_of(session: &As) -> String {
    match session {
        As::Session { cookie, .. } => format!("tessera_session={cookie}"),
        _ => unreachable!("a session"),
    }
}

/// The `src`/`href` of every `<script>` and stylesheet `<link>` in a page.
fn assets_of(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (tag, attr) in [
        ("<script", "src=\""),
        ("<link rel=\"stylesheet\"", "href=\""),
    ] {
        for part in html.split(tag).skip(1) {
            let end = part.find('>').unwrap();
            let element = &part[..end];
            let at = element
                .find(attr)
                .unwrap_or_else(|| panic!("{tag} without {attr}: inline code is not allowed"));
            let rest = &element[at + attr.len()..];
            out.push(rest[..rest.find('"').unwrap()].replace("&amp;", "&"));
        }
    }
    out
}

#[tokio::test]
async fn every_page_loads_under_100_kb_with_cacheable_assets() {
    // Arrange: an organisation with a framework, a competency with a rubric, a learner with a
    // pending submission, a subgroup attribute; a learner, a teacher and an admin signed in.
    let app = TestApp::new().await;
    let platform = app.platform_admin().await;
    app.create_org(&platform, "alpha").await;
    let admin = app
        .member(&platform, "alpha", "admin@alpha.test", "admin")
        .await;
    let teacher = app
        .member(&admin, "alpha", "teacher@alpha.test", "teacher")
        .await;
    let learner = app
        .member(&admin, "alpha", "learner@alpha.test", "learner")
        .await;
    let learner_id = app.user_id(&learner).await;
    let fw = app
        .post(
            "/api/v1/orgs/alpha/frameworks",
            &teacher,
            json!({"title": "Maths"}),
        )
        .await
        .expect(201);
    let framework = fw["id"].as_str().unwrap().to_owned();
    let competency = app
        .post(
            &format!("/api/v1/frameworks/{framework}/competencies"),
            &teacher,
            json!({"code": "C.1", "statement": "Counts to a hundred"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The shipped rubric under another id (the shipped one is published at start).
    let toml = include_str!("../../../rubrics/math-problem-solving.toml")
        .replace("id = \"math-problem-solving\"", "id = \"bandwidth-rubric\"");
    let start = toml.find("competencies = [").unwrap();
    let end = start + toml[start..].find(']').unwrap() + 1;
    let toml = format!("{}competencies = [\"C.1\"]{}", &toml[..start], &toml[end..]);
    let rubric = tessera_review::Rubric::from_toml_str(&toml, "r.toml").unwrap();
    let store = &app.state.store;
    let org = store.org_by_slug("alpha").await.unwrap();
    let now = {
        use tessera_core::clock::Clock;
        app.clock.now()
    };
    store.publish_rubric(None, &rubric, now).await.unwrap();
    let submission = store
        .submit_evidence(
            &NewSubmission {
                org_id: org.id.clone(),
                learner_id: learner_id.clone(),
                competency_id: competency.clone(),
                rubric_id: rubric.reference().id.clone(),
                rubric_version: rubric.reference().version.to_string(),
                text: Some("My counting, recorded.".into()),
                links: Vec::new(),
                files: Vec::new(),
            },
            now - Duration::hours(1),
        )
        .await
        .unwrap();
    app.send(
        axum::http::Method::PUT,
        "/api/v1/orgs/alpha/subgroup-attributes/lang",
        &admin,
        Some(json!({"label": "Home language", "values": ["en", "fr"]})),
    )
    .await
    .expect(200);
    let sessions = [
        ("learner", cookie_of(&app.login("learner@alpha.test").await)),
        ("teacher", cookie_of(&app.login("teacher@alpha.test").await)),
        ("admin", cookie_of(&app.login("admin@alpha.test").await)),
    ];
    let params = [
        ("{slug}", "alpha".to_owned()),
        ("{user}", learner_id.clone()),
        ("{framework}", framework.clone()),
        ("{competency}", competency.clone()),
        ("{review}", submission.review_id.clone()),
        ("{submission}", submission.id.clone()),
    ];

    // Act: every GET page route, as the first of learner, teacher, admin that may open it.
    let mut measured: Vec<(String, usize)> = Vec::new();
    let mut not_measured: Vec<String> = Vec::new();
    let mut asset_cache: std::collections::BTreeMap<String, usize> = Default::default();
    for route in page_routes()
        .iter()
        .filter(|r| r.method == axum::http::Method::GET)
    {
        let mut path = route.path.to_owned();
        for (k, v) in &params {
            path = path.replace(k, v);
        }
        if path.contains('{') {
            not_measured.push(format!(
                "{} (a parameter this test cannot fill)",
                route.path
            ));
            continue;
        }
        let mut page = None;
        for (who, cookie) in &sessions {
            let mut f = fetch(&app, &path, Some(cookie)).await;
            // A page that sends the visitor on (my-competencies → the record, /login when
            // signed in) is measured where it lands.
            for _ in 0..3 {
                if f.status != 303 || !f.location.starts_with('/') {
                    break;
                }
                f = fetch(&app, &f.location.clone(), Some(cookie)).await;
            }
            if f.status == 200 {
                page = Some((*who, f));
                break;
            }
        }
        let Some((who, page)) = page else {
            not_measured.push(format!("{} (no 200 for any role)", route.path));
            continue;
        };
        if !page.content_type.starts_with("text/html") {
            not_measured.push(format!(
                "{} ({}, not a page)",
                route.path, page.content_type
            ));
            continue;
        }
        let html = String::from_utf8(page.body.clone()).unwrap();
        let mut total = page.body.len();
        for asset in assets_of(&html) {
            // Each asset is ours, content-addressed and cacheable for a year.
            assert!(asset.starts_with("/static/"), "{path}: {asset}");
            let (asset_path, version) = asset.split_once("?v=").expect("a content hash");
            let size = match asset_cache.get(&asset) {
                Some(n) => *n,
                None => {
                    let f = fetch(&app, &asset, None).await;
                    assert_eq!(f.status, 200, "{asset}");
                    assert_eq!(f.cache, "public, max-age=31536000, immutable", "{asset}");
                    let digest = hex::encode(Sha256::digest(&f.body));
                    assert!(digest.starts_with(version), "{asset_path}: hash {digest}");
                    asset_cache.insert(asset.clone(), f.body.len());
                    f.body.len()
                }
            };
            total += size;
        }
        assert!(
            total < BUDGET,
            "{path} as {who}: {total} bytes with its assets (budget {BUDGET})"
        );
        measured.push((route.path.to_owned(), total));
    }

    // Assert: the main pages were all measured; say plainly which routes were not.
    for main in [
        "/",
        "/orgs/{slug}",
        "/orgs/{slug}/frameworks",
        "/frameworks/{framework}",
        "/orgs/{slug}/my-competencies",
        "/orgs/{slug}/learners/{user}",
        "/orgs/{slug}/learners/{user}/competencies/{competency}",
        "/orgs/{slug}/reviews",
        "/orgs/{slug}/reviews/{review}",
        "/verify",
        "/orgs/{slug}/equity",
        "/orgs/{slug}/my-subgroups",
        "/orgs/{slug}/subgroup-attributes",
    ] {
        assert!(
            measured.iter().any(|(p, _)| p == main),
            "{main} was not measured; not measured: {not_measured:?}"
        );
    }
    for (p, n) in &measured {
        println!("{n:>7} bytes  {p}");
    }
    for p in &not_measured {
        println!("not measured: {p}");
    }
    // The evidence form is the one page with a script, and it still fits.
    let evidence = format!("/orgs/alpha/learners/{learner_id}/competencies/{competency}");
    let f = fetch(&app, &evidence, Some(&sessions[0].1)).await;
    let html = String::from_utf8(f.body).unwrap();
    assert!(
        assets_of(&html)
            .iter()
            .any(|a| a.starts_with("/static/draft.js?v=")),
        "the learner's evidence form loads the draft keeper"
    );
}
