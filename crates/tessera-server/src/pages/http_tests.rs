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
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
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
