//! In-process tests of the pages (no browser): who may see what, CSRF on every form, the
//! stylesheet's caching, and the import form's limits. The browser walk is in the root package's
//! `tests/browser.rs`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use tessera_core::account::{OrgKind, Role};
use tessera_core::clock::FixedClock;
use tessera_store::accounts::{NewInvitation, NewUser};
use tessera_store::registry::{CompetencyFields, FrameworkFields};
use tessera_store::testing::TestDb;
use tower::ServiceExt;

use crate::auth::{hash_password, hash_secret};
use crate::routes::session::start_session;
use crate::routes::setup::{SetupRequest, complete_setup};
use crate::{AppState, Config, startup};

const PASSWORD: &str = "correct horse battery staple";

struct Fixture {
    _db: TestDb,
    _data: tempfile::TempDir,
    state: AppState,
    router: Router,
    slug: String,
    framework: String,
    competency: String,
}

/// A signed-in browser: the session cookie and the CSRF token its pages carry.
#[derive(Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Fixture {
    async fn new(env: &[(&str, &str)]) -> Self {
        let db = TestDb::new().await;
        let data = tempfile::tempdir().expect("temp dir");
        let mut vars: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), db.url.clone()),
            ("TESSERA_DATA_DIR".into(), data.path().display().to_string()),
        ];
        vars.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let config = Config::load(
            &|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()),
            None,
        )
        .expect("config");
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap(),
        ));
        let prepared = startup::prepare(config, clock).await.expect("start");
        let link = prepared.setup_link.expect("setup link");
        let token = link.split_once("token=").expect("token").1.to_owned();
        let state = prepared.state;
        complete_setup(
            &state,
            SetupRequest {
                token,
                email: "root@example.org".into(),
                name: "Root".into(),
                password: PASSWORD.into(),
            },
        )
        .await
        .expect("setup");
        let now = state.clock.now();
        let org = state
            .store
            .create_org("school-a", "School A", OrgKind::School, now)
            .await
            .expect("org");
        let fw = state
            .store
            .create_framework(
                &org.id,
                &FrameworkFields {
                    title: "Reading".into(),
                    ..FrameworkFields::default()
                },
                &state.uris,
                now,
            )
            .await
            .expect("framework");
        let c = state
            .store
            .create_competency(
                &fw.id,
                &CompetencyFields {
                    code: Some("R.1".into()),
                    statement: "Reads aloud".into(),
                    ..CompetencyFields::default()
                },
                None,
                &state.uris,
                now,
            )
            .await
            .expect("competency");
        let router = crate::app(state.clone());
        Self {
            _db: db,
            _data: data,
            state,
            router,
            slug: org.slug,
            framework: fw.id,
            competency: c.id,
        }
    }

    /// A user holding `role` in organisation `slug` (created there with a new org if needed),
    /// signed in.
    async fn member(&self, email: &str, slug: &str, role: Role) -> Session {
        let now = self.state.clock.now();
        let org = match self.state.store.org_by_slug(slug).await {
            Ok(o) => o,
            Err(_) => self
                .state
                .store
                .create_org(slug, slug, OrgKind::School, now)
                .await
                .expect("org"),
        };
        let root = self
            .state
            .store
            .credentials_by_email("root@example.org")
            .await
            .expect("lookup")
            .expect("the platform admin")
            .id;
        let invitation = self
            .state
            .store
            .create_invitation(
                &NewInvitation {
                    org_id: org.id,
                    email: email.into(),
                    role,
                    token_hash: hash_secret(email),
                    created_by: root,
                    expires_at: now + chrono::Duration::hours(1),
                },
                now,
            )
            .await
            .expect("invitation");
        let user = NewUser {
            email: email.into(),
            name: email.into(),
            password_hash: hash_password(PASSWORD.into()).await.expect("hash"),
        };
        self.state
            .store
            .accept_invitation(&invitation.id, None, Some(&user), now)
            .await
            .expect("accept");
        self.login(email).await
    }

    async fn login(&self, email: &str) -> Session {
        let (cookie, body) = start_session(&self.state, "test", email, PASSWORD.into())
            .await
            .expect("login");
        let cookie = cookie
            .to_str()
            .expect("cookie")
            .split(';')
            .next()
            .expect("pair")
            .to_owned();
        Session {
            cookie,
            csrf: body.csrf_token,
        }
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, who: Option<&Session>) -> Reply {
        let mut b = Request::get(path);
        if let Some(s) = who {
            b = b.header(header::COOKIE, &s.cookie);
        }
        self.send(b.body(Body::empty()).expect("request")).await
    }

    async fn post_form(&self, path: &str, who: Option<&Session>, form: &str) -> Reply {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(s) = who {
            b = b.header(header::COOKIE, &s.cookie);
        }
        self.send(b.body(Body::from(form.to_owned())).expect("request"))
            .await
    }

    async fn post_multipart(&self, path: &str, who: &Session, csrf: &str, file: &[u8]) -> Reply {
        let boundary = "XyZboundary";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"package\"; filename=\"p.json\"\r\n\
                 Content-Type: application/json\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, &who.cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("request");
        self.send(request).await
    }
}

fn location(r: &Reply) -> &str {
    r.headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_login_with_the_way_back() {
    let f = Fixture::new(&[]).await;
    for path in [
        "/".to_owned(),
        format!("/orgs/{}", f.slug),
        format!("/orgs/{}/frameworks", f.slug),
        format!("/orgs/{}/import", f.slug),
        format!("/frameworks/{}", f.framework),
        format!("/frameworks/{}/competencies/new", f.framework),
        format!("/competencies/{}/edit", f.competency),
    ] {
        let r = f.get(&path, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&r), format!("/login?next={path}"), "{path}");
    }
    // A stale or made-up session cookie is the same as none.
    let fake = Session {
        cookie: "tessera_session=00".into(),
        csrf: String::new(),
    };
    let r = f.get(&format!("/orgs/{}", f.slug), Some(&fake)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // A change without a session is not carried out either.
    let r = f
        .post_form("/orgs", None, "slug=x&name=X&kind=school")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(f.state.store.org_by_slug("x").await.is_err());
}

#[tokio::test]
async fn pages_allow_and_deny_like_the_api() {
    let f = Fixture::new(&[]).await;
    let learner = f
        .member("learner@example.org", &f.slug, Role::Learner)
        .await;
    let reviewer = f
        .member("reviewer@example.org", &f.slug, Role::Reviewer)
        .await;
    let teacher = f
        .member("teacher@example.org", &f.slug, Role::Teacher)
        .await;
    let admin = f.member("admin@example.org", &f.slug, Role::Admin).await;
    let other = f.member("other@example.org", "school-b", Role::Admin).await;
    let root = f.login("root@example.org").await;
    let org = format!("/orgs/{}", f.slug);
    let import = format!("/orgs/{}/import", f.slug);
    let list = format!("/orgs/{}/frameworks", f.slug);
    let tree = format!("/frameworks/{}", f.framework);
    let new = format!("/frameworks/{}/competencies/new", f.framework);
    let edit = format!("/competencies/{}/edit", f.competency);
    // (path, learner, reviewer, teacher, admin, admin of another org, platform admin)
    let matrix: [(&str, [u16; 6]); 6] = [
        (&org, [200, 200, 200, 200, 404, 200]),
        (&list, [200, 200, 200, 200, 404, 200]),
        (&tree, [200, 200, 200, 200, 404, 200]),
        (&import, [403, 403, 200, 200, 404, 200]),
        (&new, [403, 403, 200, 200, 404, 200]),
        (&edit, [403, 403, 200, 200, 404, 200]),
    ];
    let who = [&learner, &reviewer, &teacher, &admin, &other, &root];
    for (path, expected) in matrix {
        for (session, status) in who.iter().zip(expected) {
            let r = f.get(path, Some(session)).await;
            assert_eq!(r.status.as_u16(), status, "{path} as {}", session.cookie);
            assert!(
                r.headers
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/html")),
                "{path}: an HTML page even when refused"
            );
        }
    }
    // Only admins see and manage members; a learner's organisation page has no member list.
    assert!(!f.get(&org, Some(&learner)).await.body.contains("Members"));
    assert!(!f.get(&org, Some(&teacher)).await.body.contains("Members"));
    let page = f.get(&org, Some(&admin)).await.body;
    assert!(page.contains("Members") && page.contains("learner@example.org"));
    // A learner cannot invite, even with a valid token; nothing is created.
    let before = f
        .state
        .store
        .invitations(&f.state.store.org_by_slug(&f.slug).await.unwrap().id)
        .await
        .unwrap()
        .len();
    let r = f
        .post_form(
            &format!("{org}/invitations"),
            Some(&learner),
            &format!(
                "csrf_token={}&email=x%40example.org&role=admin",
                learner.csrf
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = f
        .post_form(
            &format!("{org}/invitations"),
            Some(&other),
            &format!("csrf_token={}&email=x%40example.org&role=admin", other.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let after = f
        .state
        .store
        .invitations(&f.state.store.org_by_slug(&f.slug).await.unwrap().id)
        .await
        .unwrap()
        .len();
    assert_eq!(before, after);
    // An admin can, and sees the one-time link.
    let r = f
        .post_form(
            &format!("{org}/invitations"),
            Some(&admin),
            &format!(
                "csrf_token={}&email=new%40example.org&role=teacher",
                admin.csrf
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("/invitations/accept?token="));
    // Only platform admins create organisations.
    let r = f
        .post_form(
            "/orgs",
            Some(&admin),
            &format!("csrf_token={}&slug=mine&name=Mine&kind=school", admin.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = f
        .post_form(
            "/orgs",
            Some(&root),
            &format!("csrf_token={}&slug=mine&name=Mine&kind=school", root.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/orgs/mine");
    // The home page lists what the caller belongs to, not everything.
    let home = f.get("/", Some(&other)).await.body;
    assert!(home.contains("school-b") && !home.contains("School A"));
}

#[tokio::test]
async fn every_form_needs_its_csrf_token() {
    let f = Fixture::new(&[]).await;
    let admin = f.member("admin@example.org", &f.slug, Role::Admin).await;
    let teacher = f
        .member("teacher@example.org", &f.slug, Role::Teacher)
        .await;
    let teacher_id = f
        .state
        .store
        .credentials_by_email("teacher@example.org")
        .await
        .unwrap()
        .unwrap()
        .id;
    let cases = [
        ("/logout".to_owned(), String::new()),
        ("/orgs".to_owned(), "slug=zz&name=Z&kind=school".to_owned()),
        (
            format!("/orgs/{}/invitations", f.slug),
            "email=a%40example.org&role=learner".to_owned(),
        ),
        (
            format!("/orgs/{}/members/{teacher_id}/role", f.slug),
            "from=teacher&to=admin".to_owned(),
        ),
        (
            format!("/orgs/{}/frameworks", f.slug),
            "title=New".to_owned(),
        ),
        (
            format!("/frameworks/{}/competencies/new", f.framework),
            "revision=1&statement=New".to_owned(),
        ),
        (
            format!("/competencies/{}/edit", f.competency),
            "revision=2&statement=Changed".to_owned(),
        ),
        (
            format!("/competencies/{}/status", f.competency),
            "revision=2&status=retired".to_owned(),
        ),
    ];
    let counts = f.state.store.registry_counts().await.unwrap();
    for (path, fields) in &cases {
        for token in [
            "",
            "&csrf_token=wrong",
            &format!("&csrf_token={}", teacher.csrf),
        ] {
            let r = f
                .post_form(path, Some(&admin), &format!("{fields}{token}"))
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} with {token:?}");
            assert!(r.body.contains("The form has expired"), "{path}");
        }
    }
    assert_eq!(f.state.store.registry_counts().await.unwrap(), counts);
    assert!(f.state.store.org_by_slug("zz").await.is_err());
    let roles: Vec<_> = f
        .state
        .store
        .memberships(&teacher_id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.role)
        .collect();
    assert_eq!(roles, vec![Role::Teacher]);
    // The admin session still works: the forged logout did not end it.
    assert_eq!(
        f.get(&format!("/orgs/{}", f.slug), Some(&admin))
            .await
            .status,
        StatusCode::OK
    );
    // The import form: the token must come before the file.
    let r = f
        .post_multipart(&format!("/orgs/{}/import", f.slug), &admin, "wrong", b"{}")
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Pre-login forms need the double-submit cookie.
    let r = f
        .post_form(
            "/login",
            None,
            "csrf_token=abc&email=admin%40example.org&password=x",
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn login_sets_a_session_and_goes_back_only_to_local_pages() {
    let f = Fixture::new(&[]).await;
    f.member("admin@example.org", &f.slug, Role::Admin).await;
    let form = f.get("/login?next=/orgs/school-a", None).await;
    assert_eq!(form.status, StatusCode::OK);
    let set = form
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a form cookie")
        .to_owned();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    let pair = set.split(';').next().unwrap().to_owned();
    let token = pair.split_once('=').unwrap().1.to_owned();
    assert!(form.body.contains(&token), "the form carries the token");
    let post = |next: &'static str, password: &'static str| {
        let pair = pair.clone();
        let token = token.clone();
        let router = f.router.clone();
        async move {
            let body = format!(
                "csrf_token={token}&next={next}&email=admin%40example.org&password={password}"
            );
            let request = Request::post("/login")
                .header(header::COOKIE, pair)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap();
            router.oneshot(request).await.unwrap()
        }
    };
    let wrong = post("%2F", "nope").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let html = String::from_utf8(
        wrong
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(html.contains("Wrong e-mail or password."));
    assert!(html.contains("value=\"admin@example.org\""), "e-mail kept");
    let ok = post("%2Forgs%2Fschool-a", "correct+horse+battery+staple").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()[header::LOCATION], "/orgs/school-a");
    let session = ok.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(session.starts_with("tessera_session=") && session.contains("HttpOnly"));
    let elsewhere = post("%2F%2Fevil.example", "correct+horse+battery+staple").await;
    assert_eq!(elsewhere.headers()[header::LOCATION], "/");
}

#[tokio::test]
async fn pages_are_private_and_the_stylesheet_is_cached() {
    let f = Fixture::new(&[]).await;
    let admin = f.member("admin@example.org", &f.slug, Role::Admin).await;
    let page = f
        .get(&format!("/frameworks/{}", f.framework), Some(&admin))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    // Scripts only as files from this origin (the evidence form's draft keeper), never inline.
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self';"));
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert!(page.body.starts_with("<!doctype html>\n<html lang=\"en\">"));
    assert!(page.body.contains("<a class=\"skip\" href=\"#main\">"));
    assert!(!page.body.contains("<script"), "no JavaScript");
    let css_url = super::assets::css_url();
    assert!(page.body.contains(css_url));
    let css = f.get(css_url, None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(
        css.headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(css.body.len() < 8 * 1024, "the stylesheet stays small");
    assert!(
        !css.body.contains("@import") && !css.body.contains("url("),
        "no fonts or images"
    );
    let etag = css.headers[header::ETAG].to_str().unwrap().to_owned();
    let again = f
        .send(
            Request::get(css_url)
                .header(header::IF_NONE_MATCH, &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
}

#[tokio::test]
async fn import_form_imports_and_explains_problems() {
    let f = Fixture::new(&[("TESSERA_IMPORT_MAX_BODY_BYTES", "40000")]).await;
    let teacher = f
        .member("teacher@example.org", &f.slug, Role::Teacher)
        .await;
    let path = format!("/orgs/{}/import", f.slug);
    let package = include_bytes!("../../../tessera-case/tests/fixtures/case-1.1-fractions.json");
    let r = f
        .post_multipart(&path, &teacher, &teacher.csrf, package)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body
            .contains("Imported a new framework from a CASE 1.1 package: 9 competencies")
    );
    // The same package again updates instead of duplicating.
    let r = f
        .post_multipart(&path, &teacher, &teacher.csrf, package)
        .await;
    assert!(r.body.contains("Updated the framework"), "{}", r.body);
    let counts = f.state.store.registry_counts().await.unwrap();
    // Not JSON; not CASE; too big: each explained, nothing written.
    let r = f
        .post_multipart(&path, &teacher, &teacher.csrf, b"{not json")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("The file is not JSON (line 1"));
    let bad =
        include_bytes!("../../../tessera-case/tests/fixtures/invalid/missing-required-field.json");
    let r = f.post_multipart(&path, &teacher, &teacher.csrf, bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("<code>$.CFItems[2].fullStatement</code>"));
    let big = vec![b' '; 50_000];
    let r = f.post_multipart(&path, &teacher, &teacher.csrf, &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("The file is too large"));
    let r = f.post_multipart(&path, &teacher, &teacher.csrf, b"").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(f.state.store.registry_counts().await.unwrap(), counts);
}

#[tokio::test]
async fn competency_forms_edit_retire_and_refuse_loops() {
    let f = Fixture::new(&[]).await;
    let teacher = f
        .member("teacher@example.org", &f.slug, Role::Teacher)
        .await;
    let new = format!("/frameworks/{}/competencies/new", f.framework);
    let fw = f.state.store.framework(&f.framework).await.unwrap();
    let r = f
        .post_form(
            &new,
            Some(&teacher),
            &format!(
                "csrf_token={}&revision={}&code=R.1.a&statement=Reads+short+words&parent=R.1&prerequisites=",
                teacher.csrf, fw.revision
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let child = f
        .state
        .store
        .competencies(
            &f.framework,
            &tessera_store::registry::CompetencySearch {
                code: Some("R.1.a".into()),
                ..Default::default()
            },
            2,
            0,
        )
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(child.parent_id.as_deref(), Some(f.competency.as_str()));
    // The tree nests the new one under R.1.
    let tree = f
        .get(&format!("/frameworks/{}", f.framework), Some(&teacher))
        .await
        .body;
    let r1 = tree.find("R.1</span>").unwrap();
    let nested = tree[r1..].find("<ul>").unwrap();
    assert!(tree[r1 + nested..].contains("R.1.a"));
    // R.1 requiring R.1.a and R.1.a requiring R.1 would loop: refused, named.
    let fw = f.state.store.framework(&f.framework).await.unwrap();
    let edit_child = format!("/competencies/{}/edit", child.id);
    let r = f
        .post_form(
            &edit_child,
            Some(&teacher),
            &format!(
                "csrf_token={}&revision={}&code=R.1.a&statement=Reads+short+words&parent=R.1&prerequisites=R.1",
                teacher.csrf, fw.revision
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let fw = f.state.store.framework(&f.framework).await.unwrap();
    let r = f
        .post_form(
            &format!("/competencies/{}/edit", f.competency),
            Some(&teacher),
            &format!(
                "csrf_token={}&revision={}&code=R.1&statement=Reads+aloud&prerequisites=R.1.a",
                teacher.csrf, fw.revision
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("This would make a loop"), "{}", r.body);
    // A form made from an old revision is refused instead of overwriting.
    let r = f
        .post_form(
            &edit_child,
            Some(&teacher),
            &format!(
                "csrf_token={}&revision=1&code=R.1.a&statement=Overwritten&parent=R.1",
                teacher.csrf
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("Someone changed this framework"));
    assert_eq!(
        f.state.store.competency(&child.id).await.unwrap().statement,
        "Reads short words"
    );
    // Retire, then it is gone from the tree until retired ones are shown.
    let fw = f.state.store.framework(&f.framework).await.unwrap();
    let r = f
        .post_form(
            &format!("/competencies/{}/status", child.id),
            Some(&teacher),
            &format!(
                "csrf_token={}&revision={}&status=retired",
                teacher.csrf, fw.revision
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let tree = f
        .get(&format!("/frameworks/{}", f.framework), Some(&teacher))
        .await
        .body;
    assert!(!tree.contains("R.1.a"));
    let tree = f
        .get(
            &format!("/frameworks/{}?retired=1", f.framework),
            Some(&teacher),
        )
        .await
        .body;
    assert!(tree.contains("R.1.a") && tree.contains(">retired<"));
    // Search finds by code and by text.
    let hits = f
        .get(
            &format!("/frameworks/{}?q=ALOUD", f.framework),
            Some(&teacher),
        )
        .await
        .body;
    assert!(hits.contains("Results for") && hits.contains("Reads aloud"));
}

#[tokio::test]
async fn big_trees_show_two_levels_and_open_parts_on_their_own_page() {
    let f = Fixture::new(&[]).await;
    let teacher = f
        .member("teacher@example.org", &f.slug, Role::Teacher)
        .await;
    let now = f.state.clock.now();
    let add = |code: String, parent: Option<String>| {
        let state = f.state.clone();
        let framework = f.framework.clone();
        async move {
            state
                .store
                .create_competency(
                    &framework,
                    &CompetencyFields {
                        statement: format!("Statement {code}"),
                        code: Some(code),
                        ..CompetencyFields::default()
                    },
                    parent.as_deref(),
                    &state.uris,
                    now,
                )
                .await
                .expect("competency")
                .id
        }
    };
    let mut second = None;
    for a in 1..=3 {
        let top = add(format!("T.{a}"), None).await;
        for b in 1..=10 {
            let mid = add(format!("T.{a}.{b}"), Some(top.clone())).await;
            for c in 1..=10 {
                add(format!("T.{a}.{b}.{c}"), Some(mid.clone())).await;
            }
            if (a, b) == (2, 3) {
                second = Some(mid);
            }
        }
    }
    let tree = format!("/frameworks/{}", f.framework);
    let page = f.get(&tree, Some(&teacher)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("only two levels are shown"));
    assert!(page.body.contains(">T.2.3</span>"));
    assert!(!page.body.contains(">T.2.3.4</span>"), "third level cut");
    assert!(page.body.contains("Show the 10 competencies below"));
    assert!(page.body.len() < 100_000, "{} bytes", page.body.len());
    let second = second.expect("T.2.3");
    let part = f
        .get(&format!("{tree}?root={second}"), Some(&teacher))
        .await;
    assert_eq!(part.status, StatusCode::OK);
    assert!(
        part.body
            .contains("Showing the part under <strong>T.2.3</strong>")
    );
    assert!(part.body.contains(">T.2.3.4</span>") && !part.body.contains(">T.2.4</span>"));
    assert_eq!(
        f.get(&format!("{tree}?root=nope"), Some(&teacher))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

// ---------------------------------------------------------------------------------------------
// The review flow and the page authorization matrix.

/// A rubric for the fixture's competency `R.1`: mastered when both criteria are "secure".
/// No borderline band, so a single review decides (moderation has its own tests).
const READING_RUBRIC: &str = r#"
id = "reading-aloud"
version = "1.0.0"
title = "Reading Aloud"
competencies = ["R.1"]

[mastery]
combine = "all"
every_criterion_at_least = "secure"

[mastery.borderline]
within_levels = 0

[[criteria]]
id = "fluency"
name = "Fluency"
description = "Reads at a steady pace without long pauses."

[[criteria.levels]]
id = "emerging"
name = "Emerging"
points = 1
description = "Word by word, with long pauses."

[[criteria.levels]]
id = "secure"
name = "Secure"
points = 2
description = "Steady pace; pauses only at punctuation."

[[criteria]]
id = "expression"
name = "Expression"

[[criteria.levels]]
id = "emerging"
name = "Emerging"
points = 1

[[criteria.levels]]
id = "secure"
name = "Secure"
points = 2
"#;

/// One part of a multipart form.
enum Part<'a> {
    Field(&'a str, &'a str),
    File {
        name: &'a str,
        filename: &'a str,
        media_type: &'a str,
        bytes: &'a [u8],
    },
}

/// A tiny valid PDF header (the evidence checks sniff the content).
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

impl Fixture {
    async fn publish_reading_rubric(&self) {
        let org = self.state.store.org_by_slug(&self.slug).await.unwrap();
        let rubric =
            tessera_review::Rubric::from_toml_str(READING_RUBRIC, "reading-aloud.toml").unwrap();
        self.state
            .store
            .publish_rubric(Some(&org.id), &rubric, self.state.clock.now())
            .await
            .expect("publish the rubric");
    }

    async fn user_id(&self, email: &str) -> String {
        self.state
            .store
            .credentials_by_email(email)
            .await
            .unwrap()
            .expect("a user")
            .id
    }

    async fn post_parts(&self, path: &str, cookie: Option<&str>, parts: &[Part<'_>]) -> Reply {
        let boundary = "tesseraPartBoundary";
        let mut body = Vec::new();
        for p in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match p {
                Part::Field(name, value) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                        .as_bytes(),
                ),
                Part::File {
                    name,
                    filename,
                    media_type,
                    bytes,
                } => {
                    body.extend_from_slice(
                        format!(
                            "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                             Content-Type: {media_type}\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    body.extend_from_slice(bytes);
                    body.extend_from_slice(b"\r\n");
                }
            }
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut b = Request::builder().method(Method::POST).uri(path).header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        );
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::from(body)).expect("request")).await
    }

    fn competency_page(&self, learner: &str) -> String {
        format!(
            "/orgs/{}/learners/{learner}/competencies/{}",
            self.slug, self.competency
        )
    }

    /// The newest pending review of the organisation.
    async fn pending_review(&self) -> tessera_store::reviews::Review {
        let org = self.state.store.org_by_slug(&self.slug).await.unwrap();
        self.state
            .store
            .review_queue(&org.id, &Default::default(), 10, 0)
            .await
            .unwrap()
            .pop()
            .expect("a pending review")
    }
}

/// `level:<criterion>` and `comment:<criterion>` fields of the scoring form, url-encoded.
fn score_form(csrf: &str, levels: &[(&str, &str, &str)]) -> String {
    let mut form = format!("csrf_token={csrf}");
    for (criterion, level, comment) in levels {
        form.push_str(&format!(
            "&level%3A{criterion}={level}&comment%3A{criterion}={}",
            super::encode_component(comment)
        ));
    }
    form
}

#[tokio::test]
async fn a_learner_submits_gets_feedback_resubmits_and_masters() {
    let f = Fixture::new(&[("TESSERA_EVIDENCE_MAX_BYTES", "4096")]).await;
    f.publish_reading_rubric().await;
    let learner = f
        .member("learner@example.org", &f.slug, Role::Learner)
        .await;
    let reviewer = f
        .member("reviewer@example.org", &f.slug, Role::Reviewer)
        .await;
    let teacher = f
        .member("teacher@example.org", &f.slug, Role::Teacher)
        .await;
    let learner_id = f.user_id("learner@example.org").await;
    let page = f.competency_page(&learner_id);
    let submit = format!("{page}/evidence");

    // "My competencies" lists the assessed competency, not started.
    let r = f
        .get(&format!("/orgs/{}/my-competencies", f.slug), Some(&learner))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mine = f.get(location(&r), Some(&learner)).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.contains("<h1>My competencies</h1>"));
    assert!(mine.body.contains("Reads aloud") && mine.body.contains("Not started"));

    // Bad input is explained on the page and nothing is stored.
    let csrf = learner.csrf.as_str();
    let cases: [(Vec<Part>, u16, &str); 4] = [
        (
            vec![
                Part::Field("csrf_token", csrf),
                Part::Field("rubric", "reading-aloud"),
            ],
            422,
            "Add your evidence: some text, a link or a file.",
        ),
        (
            vec![
                Part::Field("csrf_token", csrf),
                Part::Field("rubric", "reading-aloud"),
                Part::Field("links", "not a link"),
            ],
            422,
            "is not a web address",
        ),
        (
            vec![
                Part::Field("csrf_token", csrf),
                Part::Field("rubric", "reading-aloud"),
                Part::File {
                    name: "file",
                    filename: "tool.exe",
                    media_type: "application/x-msdownload",
                    bytes: b"MZ",
                },
            ],
            415,
            "tool.exe: this kind of file (application/x-msdownload) cannot be submitted",
        ),
        (
            vec![
                Part::Field("csrf_token", csrf),
                Part::Field("rubric", "reading-aloud"),
                Part::File {
                    name: "file",
                    filename: "big.txt",
                    media_type: "text/plain",
                    bytes: &[b'a'; 5000],
                },
            ],
            413,
            "A file is too large: each file may be at most 1 MiB.",
        ),
    ];
    for (parts, status, message) in &cases {
        let r = f.post_parts(&submit, Some(&learner.cookie), parts).await;
        assert_eq!(r.status.as_u16(), *status, "{message}: {}", r.body);
        assert!(r.body.contains(message), "{message}: {}", r.body);
        assert!(r.body.contains("Nothing was submitted."));
    }
    // A PDF whose content is not a PDF is refused too.
    let r = f
        .post_parts(
            &submit,
            Some(&learner.cookie),
            &[
                Part::Field("csrf_token", csrf),
                Part::Field("rubric", "reading-aloud"),
                Part::File {
                    name: "file",
                    filename: "fake.pdf",
                    media_type: "application/pdf",
                    bytes: b"hello",
                },
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        r.body
            .contains("fake.pdf does not look like a application/pdf file")
    );
    let org = f.state.store.org_by_slug(&f.slug).await.unwrap();
    assert!(
        f.state
            .store
            .submissions(&org.id, &learner_id, None)
            .await
            .unwrap()
            .is_empty()
    );

    // A real submission: text, a link and a PDF.
    let r = f
        .post_parts(
            &submit,
            Some(&learner.cookie),
            &[
                Part::Field("csrf_token", csrf),
                Part::Field("rubric", "reading-aloud"),
                Part::Field("text", "I read chapter one aloud."),
                Part::Field("links", "https://example.org/recording\n"),
                Part::File {
                    name: "file",
                    filename: "notes.pdf",
                    media_type: "application/pdf",
                    bytes: PDF,
                },
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let view = f.get(location(&r), Some(&learner)).await.body;
    assert!(view.contains("Your evidence was submitted"));
    assert!(view.contains("Submitted, awaiting review"));
    assert!(view.contains("https://example.org/recording") && view.contains("notes.pdf"));
    // A second submission while the first waits is refused in words.
    let r = f
        .post_parts(
            &submit,
            Some(&learner.cookie),
            &[
                Part::Field("csrf_token", csrf),
                Part::Field("rubric", "reading-aloud"),
                Part::Field("text", "Again"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("still waiting for review"), "{}", r.body);

    // The reviewer finds it in the queue and sees the evidence, the file downloadable.
    let queue = f
        .get(&format!("/orgs/{}/reviews", f.slug), Some(&reviewer))
        .await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.body.contains("learner@example.org") && queue.body.contains("R.1 Reads aloud"));
    let review = f.pending_review().await;
    let score = format!("/orgs/{}/reviews/{}", f.slug, review.id);
    let form = f.get(&score, Some(&reviewer)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("I read chapter one aloud."));
    assert!(
        form.body
            .contains("name=\"level:fluency\" value=\"secure\"")
    );
    assert!(
        form.body
            .contains("Mastered with every criterion at “Secure” or above")
    );
    let file = format!(
        "/orgs/{}/submissions/{}/files/0",
        f.slug, review.submission_id
    );
    let download = f.get(&file, Some(&reviewer)).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(
        download.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(download.body.as_bytes(), PDF);

    // A missing level is explained; nothing is recorded.
    let r = f
        .post_form(
            &score,
            Some(&reviewer),
            &score_form(&reviewer.csrf, &[("fluency", "secure", "")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Choose a level for every criterion: Expression still needs one.")
    );
    assert!(f.state.store.review(&review.id).await.unwrap().is_pending());
    // A level that is not in the rubric is refused.
    let r = f
        .post_form(
            &score,
            Some(&reviewer),
            &score_form(
                &reviewer.csrf,
                &[("fluency", "superb", ""), ("expression", "secure", "")],
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("These scores do not fit the rubric"));

    // Scored "not yet" with feedback.
    let r = f
        .post_form(
            &score,
            Some(&reviewer),
            &score_form(
                &reviewer.csrf,
                &[
                    ("fluency", "emerging", "Slow down at commas & breathe."),
                    ("expression", "secure", "Lovely voices."),
                ],
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        location(&r),
        format!("/orgs/{}/reviews?done=not_yet", f.slug)
    );
    // Scoring again is refused: one outcome only.
    let again = f
        .post_form(
            &score,
            Some(&teacher),
            &score_form(
                &teacher.csrf,
                &[("fluency", "secure", ""), ("expression", "secure", "")],
            ),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // The learner sees "not yet" (never "fail") with the feedback, and resubmits.
    let view = f.get(&page, Some(&learner)).await.body;
    assert!(view.contains("Not yet") && !view.to_lowercase().contains("fail"));
    assert!(view.contains("Slow down at commas &#38; breathe."));
    assert!(view.contains("reviewer@example.org"));
    let r = f
        .post_parts(
            &submit,
            Some(&learner.cookie),
            &[
                Part::Field("csrf_token", csrf),
                Part::Field("rubric", "reading-aloud"),
                Part::Field("text", "Second reading, slower."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let review = f.pending_review().await;
    let r = f
        .post_form(
            &format!("/orgs/{}/reviews/{}", f.slug, review.id),
            Some(&reviewer),
            &score_form(
                &reviewer.csrf,
                &[("fluency", "secure", ""), ("expression", "secure", "")],
            ),
        )
        .await;
    assert_eq!(
        location(&r),
        format!("/orgs/{}/reviews?done=mastered", f.slug)
    );
    let view = f.get(&page, Some(&learner)).await.body;
    assert!(
        view.contains("Mastered on 2026-11-23 (attempt 2)."),
        "{view}"
    );
    assert!(view.contains("Attempt 2") && view.contains("Attempt 1"));
    let mine = f
        .get(
            &format!("/orgs/{}/learners/{learner_id}", f.slug),
            Some(&learner),
        )
        .await
        .body;
    assert!(mine.contains("1 of 1 competency mastered."));

    // The teacher withdraws it: a reason is required, and the override shows as such.
    let ov = format!("{page}/override");
    let r = f
        .post_form(
            &ov,
            Some(&teacher),
            &format!("csrf_token={}&to=withdrawn&reason=+", teacher.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Write the reason for the override"));
    let r = f
        .post_form(
            &ov,
            Some(&teacher),
            &format!(
                "csrf_token={}&to=mastered&reason=Already+mastered",
                teacher.csrf
            ),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "mastered → mastered is no transition"
    );
    assert!(r.body.contains("does not fit the record"));
    let r = f
        .post_form(
            &ov,
            Some(&teacher),
            &format!(
                "csrf_token={}&to=withdrawn&reason=Recording+was+of+another+pupil",
                teacher.csrf
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let view = f.get(&page, Some(&learner)).await.body;
    assert!(view.contains("id=\"override-mark\""), "{view}");
    assert!(view.contains("Recording was of another pupil"));
    assert!(view.contains("teacher@example.org"));
    let record = f
        .get(
            &format!("/orgs/{}/learners/{learner_id}", f.slug),
            Some(&teacher),
        )
        .await
        .body;
    assert!(record.contains("Not yet") && record.contains(">override<"));
    let competency_link = format!("/learners/{learner_id}/competencies/");
    assert!(
        record.contains(&competency_link),
        "the teacher opens competencies"
    );
    // An admin sees the record but not the evidence: no links to the competency pages.
    let admin = f.member("admin@example.org", &f.slug, Role::Admin).await;
    let record = f
        .get(
            &format!("/orgs/{}/learners/{learner_id}", f.slug),
            Some(&admin),
        )
        .await
        .body;
    assert!(record.contains("Not yet") && record.contains(">override<"));
    assert!(!record.contains(&competency_link), "{record}");
}

/// What a role may do on a page route: `A` allowed, `D` denied (403 or 404), `L` sent to log
/// in. Columns: anonymous, learner (whose record `{user}` is), another learner of the same
/// organisation, reviewer, teacher, admin, admin of another organisation, platform admin. Every route of [`super::page_routes`] must have exactly one row.
const PAGE_MATRIX: &[(&str, &str, &str)] = &[
    ("GET", "/", "LAAAAAAA"),
    ("GET", "/login", "AAAAAAAA"),
    ("POST", "/login", "AAAAAAAA"),
    ("POST", "/logout", "LAAAAAAA"),
    ("GET", "/setup", "AAAAAAAA"),
    ("POST", "/setup", "AAAAAAAA"),
    ("GET", "/invitations/accept", "AAAAAAAA"),
    ("POST", "/invitations/accept", "AAAAAAAA"),
    ("POST", "/orgs", "LDDDDDDA"),
    ("GET", "/orgs/{slug}", "LAAAAADA"),
    ("POST", "/orgs/{slug}/invitations", "LDDDDADA"),
    ("POST", "/orgs/{slug}/members/{member}/role", "LDDDDADA"),
    ("GET", "/orgs/{slug}/frameworks", "LAAAAADA"),
    ("POST", "/orgs/{slug}/frameworks", "LDDDAADA"),
    ("GET", "/orgs/{slug}/import", "LDDDAADA"),
    ("POST", "/orgs/{slug}/import", "LDDDAADA"),
    ("GET", "/frameworks/{framework}", "LAAAAADA"),
    (
        "GET",
        "/frameworks/{framework}/competencies/new",
        "LDDDAADA",
    ),
    (
        "POST",
        "/frameworks/{framework}/competencies/new",
        "LDDDAADA",
    ),
    ("GET", "/competencies/{competency}/edit", "LDDDAADA"),
    ("POST", "/competencies/{competency}/edit", "LDDDAADA"),
    ("POST", "/competencies/{competency}/status", "LDDDAADA"),
    ("GET", "/orgs/{slug}/my-competencies", "LAAAAADA"),
    ("GET", "/orgs/{slug}/learners", "LDDAAADA"),
    ("GET", "/orgs/{slug}/learners/{user}", "LADAAADA"),
    (
        "GET",
        "/orgs/{slug}/learners/{user}/competencies/{competency}",
        "LADAADDD",
    ),
    (
        "POST",
        "/orgs/{slug}/learners/{user}/competencies/{competency}/evidence",
        "LADDDDDD",
    ),
    (
        "POST",
        "/orgs/{slug}/learners/{user}/competencies/{competency}/override",
        "LDDDADDA",
    ),
    (
        "POST",
        "/orgs/{slug}/learners/{user}/competencies/{competency}/exception",
        "LDDDADDA",
    ),
    (
        "POST",
        "/orgs/{slug}/learners/{user}/competencies/{competency}/target",
        "LADDADDA",
    ),
    (
        "GET",
        "/orgs/{slug}/submissions/{submission}/files/{file}",
        "LADAADDD",
    ),
    ("GET", "/orgs/{slug}/reviews", "LDDAAADA"),
    ("GET", "/orgs/{slug}/reviews/{review}", "LDDAADDD"),
    ("POST", "/orgs/{slug}/reviews/{review}", "LDDAADDD"),
    ("GET", "/orgs/{slug}/agreement", "LDDDAADA"),
    ("POST", "/orgs/{slug}/review-settings", "LDDDDADA"),
    ("GET", "/orgs/{slug}/issuance", "LDDDAADA"),
    ("POST", "/orgs/{slug}/issuance/issue", "LDDDAADA"),
    (
        "POST",
        "/orgs/{slug}/issuance/frameworks/{framework}",
        "LDDDDADA",
    ),
    ("POST", "/orgs/{slug}/issue-batches", "LDDDAADA"),
    ("GET", "/orgs/{slug}/issue-batches/{batch}", "LDDDAADA"),
    // The equity audit (pages/equity.rs): answers are the learner's own; attributes are the
    // admins'; the audit is for teachers and admins.
    ("GET", "/orgs/{slug}/my-subgroups", "LAADDDDD"),
    ("POST", "/orgs/{slug}/my-subgroups", "LAADDDDD"),
    ("POST", "/orgs/{slug}/my-subgroups/withdraw", "LAADDDDD"),
    ("GET", "/orgs/{slug}/subgroup-attributes", "LDDDDADA"),
    ("POST", "/orgs/{slug}/subgroup-attributes", "LDDDDADA"),
    (
        "POST",
        "/orgs/{slug}/subgroup-attributes/remove",
        "LDDDDADA",
    ),
    ("GET", "/orgs/{slug}/equity", "LDDDAADA"),
    ("GET", "/orgs/{slug}/equity.csv", "LDDDAADA"),
    // Transcripts (pages/transcripts.rs): the learner's and the staff's, like the record; the
    // learner makes their own, teachers and admins official ones; the stylesheet is public.
    ("GET", "/orgs/{slug}/my-transcripts", "LAAAAADA"),
    (
        "GET",
        "/orgs/{slug}/learners/{user}/transcripts",
        "LADAAADA",
    ),
    (
        "POST",
        "/orgs/{slug}/learners/{user}/transcripts",
        "LADDAADA",
    ),
    ("GET", "/orgs/{slug}/transcripts/{transcript}", "LADAAADA"),
    ("GET", "/transcript.css", "AAAAAAAA"),
    (
        "POST",
        "/orgs/{slug}/transcripts/{transcript}/share-links",
        "LADDDDDD",
    ),
    (
        "POST",
        "/orgs/{slug}/transcripts/{transcript}/share-links/{transcript_link}/revoke",
        "LADDDDDD",
    ),
    // Credentials (pages/credentials.rs): read like the record; teachers and admins change the
    // status; only the learner makes and revokes share links.
    ("GET", "/orgs/{slug}/my-credentials", "LAAAAADA"),
    ("POST", "/orgs/{slug}/my-did", "LAADDDDD"),
    (
        "GET",
        "/orgs/{slug}/learners/{user}/credentials",
        "LADAAADA",
    ),
    ("GET", "/orgs/{slug}/credentials/{credential}", "LADAAADA"),
    (
        "POST",
        "/orgs/{slug}/credentials/{credential}/status",
        "LDDDAADA",
    ),
    (
        "POST",
        "/orgs/{slug}/credentials/{credential}/share-links",
        "LADDDDDD",
    ),
    (
        "POST",
        "/orgs/{slug}/share-links/{share_link}/revoke",
        "LADDDDDD",
    ),
    // Opening a credential share link needs no account (410 once revoked: still answered).
    ("GET", "/share/c/{credential_token}", "AAAAAAAA"),
    (
        "GET",
        "/share/c/{credential_token}/download.json",
        "AAAAAAAA",
    ),
    ("GET", "/share/c/{credential_token}/badge.png", "AAAAAAAA"),
    ("GET", "/share/c/{credential_token}/badge.svg", "AAAAAAAA"),
    // Opening a transcript share link needs no account (410 once revoked: still answered).
    ("GET", "/share/t/{transcript_token}", "AAAAAAAA"),
    ("GET", "/share/t/{transcript_token}/view", "AAAAAAAA"),
    (
        "GET",
        "/share/t/{transcript_token}/transcript.pdf",
        "AAAAAAAA",
    ),
    (
        "GET",
        "/share/t/{transcript_token}/transcript.json",
        "AAAAAAAA",
    ),
    // Progress dashboards (pages/dashboards.rs).
    ("GET", "/orgs/{slug}/my-progress", "LAAAAADA"),
    ("GET", "/orgs/{slug}/learners/{user}/progress", "LADAAADA"),
    ("GET", "/orgs/{slug}/progress", "LDDAAADA"),
    (
        "POST",
        "/orgs/{slug}/learners/{user}/competencies/{competency}/flag",
        "LDDDADDA",
    ),
    (
        "POST",
        "/frameworks/{framework}/flag-thresholds",
        "LDDDAADA",
    ),
    ("GET", "/orgs/{slug}/cohorts", "LDDAAADA"),
    ("POST", "/orgs/{slug}/cohorts", "LDDDAADA"),
    ("POST", "/orgs/{slug}/cohort-members", "LDDDAADA"),
    ("GET", "/verify", "AAAAAAAA"),
    ("POST", "/verify", "AAAAAAAA"),
    // Learner rights (pages/rights.rs): one's own data for members; an admin's erasure of
    // the learner; the public privacy note, edited by admins.
    ("GET", "/orgs/{slug}/my-data", "LAAAAADD"),
    ("POST", "/orgs/{slug}/my-data/consents", "LAAAAADD"),
    (
        "POST",
        "/orgs/{slug}/my-data/consents/{consent}/withdraw",
        "LADDDDDD",
    ),
    ("GET", "/me/export", "LAAAAAAA"),
    ("GET", "/me/erase", "LAAAAAAA"),
    ("POST", "/me/erase", "LAAAAAAA"),
    ("GET", "/orgs/{slug}/learners/{user}/erase", "LDDDDADA"),
    ("POST", "/orgs/{slug}/learners/{user}/erase", "LDDDDADA"),
    ("GET", "/orgs/{slug}/privacy", "AAAAAAAA"),
    ("POST", "/orgs/{slug}/privacy", "LDDDDADA"),
    ("POST", "/orgs/{slug}/retention", "LDDDDADA"),
];

/// Routes whose forms are used before login: they carry the double-submit form token.
const PRE_LOGIN: [&str; 3] = ["/login", "/setup", "/invitations/accept"];
/// Multipart forms.
const UPLOADS: [&str; 3] = [
    "/orgs/{slug}/import",
    "/orgs/{slug}/issue-batches",
    "/orgs/{slug}/learners/{user}/competencies/{competency}/evidence",
];

#[test]
fn every_page_route_has_a_row_in_the_matrix() {
    let routes: Vec<(String, &str)> = super::page_routes()
        .iter()
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let missing: Vec<String> = routes
        .iter()
        .filter(|(m, p)| !PAGE_MATRIX.iter().any(|(rm, rp, _)| rm == m && rp == p))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "page routes without a row in PAGE_MATRIX: {missing:?}"
    );
    let stale: Vec<String> = PAGE_MATRIX
        .iter()
        .filter(|(m, p, _)| !routes.iter().any(|(rm, rp)| rm == m && rp == p))
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert!(stale.is_empty(), "matrix rows for no route: {stale:?}");
    for (m, p, expect) in PAGE_MATRIX {
        assert!(
            expect.len() == 8 && expect.chars().all(|c| matches!(c, 'A' | 'D' | 'L')),
            "{m} {p}: {expect}"
        );
    }
}

/// How a response answered the question "may this caller do this?".
fn verdict(r: &Reply) -> char {
    let status = r.status.as_u16();
    if status == 303 && location(r).starts_with("/login?next=") {
        'L'
    } else if status == 404 || (status == 403 && !r.body.contains("The form has expired")) {
        'D'
    } else if status == 403 {
        // A CSRF refusal would hide the authorization decision: the test must send valid ones.
        '?'
    } else {
        'A'
    }
}

#[tokio::test]
async fn page_authorization_matrix_every_route_and_role() {
    let f = Fixture::new(&[]).await;
    f.publish_reading_rubric().await;
    let learner = f
        .member("learner@example.org", &f.slug, Role::Learner)
        .await;
    let classmate = f
        .member("classmate@example.org", &f.slug, Role::Learner)
        .await;
    let reviewer = f
        .member("reviewer@example.org", &f.slug, Role::Reviewer)
        .await;
    let teacher = f
        .member("teacher@example.org", &f.slug, Role::Teacher)
        .await;
    let admin = f.member("admin@example.org", &f.slug, Role::Admin).await;
    let other = f.member("other@example.org", "school-b", Role::Admin).await;
    let root = f.login("root@example.org").await;
    let learner_id = f.user_id("learner@example.org").await;
    let teacher_id = f.user_id("teacher@example.org").await;
    // The learner has a pending submission with a file.
    let r = f
        .post_parts(
            &format!("{}/evidence", f.competency_page(&learner_id)),
            Some(&learner.cookie),
            &[
                Part::Field("csrf_token", &learner.csrf),
                Part::Field("rubric", "reading-aloud"),
                Part::File {
                    name: "file",
                    filename: "notes.pdf",
                    media_type: "application/pdf",
                    bytes: PDF,
                },
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let review = f.pending_review().await;
    let org = f.state.store.org_by_slug(&f.slug).await.unwrap();
    let (transcript, transcript_token, transcript_link) =
        super::transcripts::fixture(&f.state, &org.id, &learner_id).await;
    let (credential, credential_token, share_link) =
        super::credentials::fixture(&f.state, &org.id, &learner_id, &f.competency).await;
    let record_before = f
        .state
        .store
        .learner_record(&org.id, &learner_id)
        .await
        .unwrap();
    let consent = f
        .state
        .store
        .grant_consent(
            &org.id,
            &learner_id,
            tessera_store::learner_rights::ConsentScope::Research,
            "A study",
            None,
            f.state.clock.now(),
        )
        .await
        .unwrap()
        .id;
    let batch = super::issuance::fixture(&f.state, &org.id, &learner_id, &f.competency).await;
    let params: [(&str, &str); 16] = [
        ("{batch}", &batch),
        ("{consent}", &consent),
        ("{credential_token}", &credential_token),
        ("{credential}", &credential),
        ("{share_link}", &share_link),
        ("{transcript}", &transcript),
        ("{transcript_token}", &transcript_token),
        ("{transcript_link}", &transcript_link),
        ("{slug}", &f.slug),
        ("{member}", &teacher_id),
        ("{framework}", &f.framework),
        ("{competency}", &f.competency),
        ("{user}", &learner_id),
        ("{submission}", &review.submission_id),
        ("{file}", "0"),
        ("{review}", &review.id),
    ];
    let form_token = "f".repeat(64);
    let who: [Option<&Session>; 8] = [
        None,
        Some(&learner),
        Some(&classmate),
        Some(&reviewer),
        Some(&teacher),
        Some(&admin),
        Some(&other),
        Some(&root),
    ];
    let names = [
        "anonymous",
        "learner",
        "another learner",
        "reviewer",
        "teacher",
        "admin",
        "admin of another organisation",
        "platform admin",
    ];
    let mut failures = Vec::new();
    // Logging out ends the session, so it goes last.
    let mut rows: Vec<&(&str, &str, &str)> = PAGE_MATRIX.iter().collect();
    rows.sort_by_key(|(_, p, _)| *p == "/logout");
    for (method, pattern, expect) in rows {
        let mut path = (*pattern).to_owned();
        for (k, v) in &params {
            path = path.replace(k, v);
        }
        assert!(
            !path.contains('{'),
            "a parameter of {pattern} is not filled in"
        );
        for ((session, name), want) in who.iter().zip(names).zip(expect.chars()) {
            let cookie = match session {
                Some(s) => format!("{}; tessera_form={form_token}", s.cookie),
                None => format!("tessera_form={form_token}"),
            };
            let csrf = if PRE_LOGIN.contains(pattern) {
                form_token.as_str()
            } else {
                session.map_or("", |s| s.csrf.as_str())
            };
            let reply = if *method == "GET" {
                let request = Request::get(&path)
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap();
                f.send(request).await
            } else if UPLOADS.contains(pattern) {
                f.post_parts(&path, Some(&cookie), &[Part::Field("csrf_token", csrf)])
                    .await
            } else {
                // Only the token: an allowed caller gets the form back with a problem, so the
                // matrix changes nothing.
                let request = Request::post(&path)
                    .header(header::COOKIE, &cookie)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(format!("csrf_token={csrf}")))
                    .unwrap();
                f.send(request).await
            };
            let got = verdict(&reply);
            if got != want {
                failures.push(format!(
                    "{method} {pattern} as {name}: expected {want}, got {got} ({})",
                    reply.status
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Nothing the matrix sent changed the review or the record.
    assert!(f.state.store.review(&review.id).await.unwrap().is_pending());
    assert_eq!(
        f.state
            .store
            .learner_record(&org.id, &learner_id)
            .await
            .unwrap(),
        record_before
    );
}

#[tokio::test]
async fn a_learner_sees_only_their_own_record_and_evidence() {
    let f = Fixture::new(&[]).await;
    f.publish_reading_rubric().await;
    let ann = f.member("ann@example.org", &f.slug, Role::Learner).await;
    let ben = f.member("ben@example.org", &f.slug, Role::Learner).await;
    let other = f.member("other@example.org", "school-b", Role::Admin).await;
    let teacher = f
        .member("teacher@example.org", &f.slug, Role::Teacher)
        .await;
    let ann_id = f.user_id("ann@example.org").await;
    let r = f
        .post_parts(
            &format!("{}/evidence", f.competency_page(&ann_id)),
            Some(&ann.cookie),
            &[
                Part::Field("csrf_token", &ann.csrf),
                Part::Field("rubric", "reading-aloud"),
                Part::Field("text", "Ann's private reading notes"),
                Part::File {
                    name: "file",
                    filename: "ann.pdf",
                    media_type: "application/pdf",
                    bytes: PDF,
                },
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let review = f.pending_review().await;
    let pages = [
        format!("/orgs/{}/learners/{ann_id}", f.slug),
        f.competency_page(&ann_id),
        format!(
            "/orgs/{}/submissions/{}/files/0",
            f.slug, review.submission_id
        ),
    ];
    for path in &pages {
        assert_eq!(
            f.get(path, Some(&ann)).await.status,
            StatusCode::OK,
            "{path}"
        );
        for (who, name) in [(&ben, "another learner"), (&other, "another org's admin")] {
            let r = f.get(path, Some(who)).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path} as {name}");
            assert!(!r.body.contains("private reading notes"));
        }
    }
    // Nobody submits in Ann's name, and nobody outside overrides her record.
    let r = f
        .post_parts(
            &format!("{}/evidence", f.competency_page(&ann_id)),
            Some(&ben.cookie),
            &[
                Part::Field("csrf_token", &ben.csrf),
                Part::Field("rubric", "reading-aloud"),
                Part::Field("text", "Ben pretending"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = f
        .post_form(
            &format!("{}/override", f.competency_page(&ann_id)),
            Some(&other),
            &format!("csrf_token={}&to=mastered&reason=because", other.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Ben's own record does not list Ann's work; Ann cannot review her own submission.
    let ben_id = f.user_id("ben@example.org").await;
    let bens = f
        .get(&format!("/orgs/{}/learners/{ben_id}", f.slug), Some(&ben))
        .await
        .body;
    assert!(bens.contains("Not started") && !bens.contains("Submitted"));
    let r = f
        .get(
            &format!("/orgs/{}/reviews/{}", f.slug, review.id),
            Some(&ann),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A teacher does see it (the organisation's staff read learners' evidence).
    let r = f.get(&f.competency_page(&ann_id), Some(&teacher)).await;
    assert!(
        r.body.contains("Ann&#39;s private reading notes"),
        "{}",
        r.body
    );
    let org = f.state.store.org_by_slug(&f.slug).await.unwrap();
    assert_eq!(
        f.state
            .store
            .submissions(&org.id, &ann_id, None)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn review_flow_forms_need_their_csrf_token() {
    let f = Fixture::new(&[]).await;
    f.publish_reading_rubric().await;
    let learner = f
        .member("learner@example.org", &f.slug, Role::Learner)
        .await;
    let teacher = f
        .member("teacher@example.org", &f.slug, Role::Teacher)
        .await;
    let learner_id = f.user_id("learner@example.org").await;
    let page = f.competency_page(&learner_id);
    for token in ["", "wrong", teacher.csrf.as_str()] {
        let r = f
            .post_parts(
                &format!("{page}/evidence"),
                Some(&learner.cookie),
                &[
                    Part::Field("csrf_token", token),
                    Part::Field("rubric", "reading-aloud"),
                    Part::Field("text", "Forged"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(r.body.contains("The form has expired"));
    }
    // A form whose token comes after the evidence is refused before the evidence is read.
    let r = f
        .post_parts(
            &format!("{page}/evidence"),
            Some(&learner.cookie),
            &[
                Part::Field("text", "Sneaky"),
                Part::Field("csrf_token", &learner.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = f
        .post_parts(
            &format!("{page}/evidence"),
            Some(&learner.cookie),
            &[
                Part::Field("csrf_token", &learner.csrf),
                Part::Field("rubric", "reading-aloud"),
                Part::Field("text", "Real"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let review = f.pending_review().await;
    for (path, body) in [
        (
            format!("/orgs/{}/reviews/{}", f.slug, review.id),
            "level%3Afluency=secure&level%3Aexpression=secure".to_owned(),
        ),
        (
            format!("{page}/override"),
            "to=mastered&reason=ok".to_owned(),
        ),
        (format!("{page}/exception"), "reason=ok".to_owned()),
    ] {
        for token in [
            "",
            "&csrf_token=wrong",
            &format!("&csrf_token={}", learner.csrf),
        ] {
            let r = f
                .post_form(&path, Some(&teacher), &format!("{body}{token}"))
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} {token:?}");
            assert!(r.body.contains("The form has expired"), "{path}");
        }
    }
    assert!(f.state.store.review(&review.id).await.unwrap().is_pending());
}

#[tokio::test]
async fn target_dates_and_the_sampling_share() {
    let f = Fixture::new(&[]).await;
    f.publish_reading_rubric().await;
    let learner = f
        .member("learner@example.org", &f.slug, Role::Learner)
        .await;
    let teacher = f
        .member("teacher@example.org", &f.slug, Role::Teacher)
        .await;
    let admin = f.member("admin@example.org", &f.slug, Role::Admin).await;
    let learner_id = f.user_id("learner@example.org").await;
    let page = f.competency_page(&learner_id);
    let target = format!("{page}/target");

    // The learner sets a target date; a wrong one is explained and changes nothing.
    let r = f
        .post_form(
            &target,
            Some(&learner),
            &format!("csrf_token={}&date=2026-12-31", learner.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let view = f.get(location(&r), Some(&learner)).await.body;
    assert!(view.contains("The target date was saved."));
    assert!(view.contains("Target date: 2026-12-31 (set by you on 2026-11-23"));
    let r = f
        .post_form(
            &target,
            Some(&learner),
            &format!("csrf_token={}&date=31%2F12%2F2026", learner.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("is not a date"));
    let org = f.state.store.org_by_slug(&f.slug).await.unwrap();
    let dates = f
        .state
        .store
        .target_dates(&org.id, &learner_id)
        .await
        .unwrap();
    assert_eq!(dates.len(), 1);
    assert_eq!(dates[0].target_date.to_string(), "2026-12-31");
    // The record lists it; the teacher clears it.
    let record = f
        .get(
            &format!("/orgs/{}/learners/{learner_id}", f.slug),
            Some(&teacher),
        )
        .await
        .body;
    assert!(record.contains("<td>2026-12-31</td>"));
    let r = f
        .post_form(
            &target,
            Some(&teacher),
            &format!("csrf_token={}&date=", teacher.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        f.state
            .store
            .target_dates(&org.id, &learner_id)
            .await
            .unwrap()
            .is_empty()
    );

    // The agreement page: nothing double-rated yet; admins set the share, teachers read it.
    let agreement = format!("/orgs/{}/agreement", f.slug);
    let r = f.get(&agreement, Some(&teacher)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .contains("No review has been scored by two reviewers yet.")
    );
    assert!(!r.body.contains("id=\"share-percent\""));
    let settings = format!("/orgs/{}/review-settings", f.slug);
    let r = f
        .post_form(
            &settings,
            Some(&teacher),
            &format!("csrf_token={}&percent=50", teacher.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = f
        .post_form(
            &settings,
            Some(&admin),
            &format!("csrf_token={}&percent=150", admin.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Give a percentage from 0 to 100"));
    let r = f
        .post_form(
            &settings,
            Some(&admin),
            &format!("csrf_token={}&percent=12.5", admin.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        f.state
            .store
            .review_settings(&org.id)
            .await
            .unwrap()
            .sample_per_mille,
        125
    );
    let view = f.get(&agreement, Some(&teacher)).await.body;
    assert!(view.contains("of the others, 12.5 % are sampled"));
}

#[tokio::test]
async fn the_dashboards_show_a_flag_and_a_teacher_sets_it_aside_with_a_note() {
    let f = Fixture::new(&[]).await;
    f.publish_reading_rubric().await;
    let learner = f
        .member("learner@example.org", &f.slug, Role::Learner)
        .await;
    let teacher = f
        .member("teacher@example.org", &f.slug, Role::Teacher)
        .await;
    let learner_id = f.user_id("learner@example.org").await;
    let org = f.state.store.org_by_slug(&f.slug).await.unwrap();
    // The learner's target date for R.1 passed on Nov 13 (the clock reads Nov 23).
    f.state
        .store
        .set_target_date(
            &org.id,
            &learner_id,
            &f.competency,
            Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 13).unwrap()),
            &learner_id,
            f.state.clock.now(),
        )
        .await
        .unwrap();

    // The learner's own dashboard: R.1 open now, behind its target date, the next step.
    let mine = f
        .get(&format!("/orgs/{}/my-progress", f.slug), Some(&learner))
        .await;
    let mine = f.get(location(&mine), Some(&learner)).await.body;
    assert!(mine.contains("1 open now"), "{mine}");
    assert!(mine.contains("10 days past the target date"), "{mine}");
    assert!(mine.contains(
        "Start R.1: it has no prerequisites; your target date 2026-11-13 was 10 days ago."
    ));

    // The teacher's: the flag and its reason; a blank note is refused next to the form.
    let dash = format!("/orgs/{}/progress", f.slug);
    let page = f.get(&dash, Some(&teacher)).await.body;
    assert!(
        page.contains("Target date 2026-11-13 for R.1 passed 10 days ago without mastery"),
        "{page}"
    );
    assert!(page.contains("1 with an open flag"));
    let action = format!(
        "/orgs/{}/learners/{learner_id}/competencies/{}/flag",
        f.slug, f.competency
    );
    let r = f
        .post_form(
            &action,
            Some(&teacher),
            &format!(
                "csrf_token={}&kind=past_target&decision=overridden&note=+&framework={}",
                teacher.csrf, f.framework
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Write a note"), "{}", r.body);
    let r = f
        .post_form(
            &action,
            Some(&teacher),
            &format!(
                "csrf_token={}&kind=past_target&decision=overridden&note=Away+on+an+exchange&framework={}",
                teacher.csrf, f.framework
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = f.get(location(&r), Some(&teacher)).await.body;
    assert!(page.contains("0 with an open flag"), "{page}");
    assert!(page.contains("Overridden by"), "{page}");
    assert!(page.contains("Away on an exchange"));
    // The learner never reaches the teacher dashboard.
    assert_eq!(
        f.get(&dash, Some(&learner)).await.status,
        StatusCode::FORBIDDEN
    );
}
