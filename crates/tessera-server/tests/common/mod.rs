//! The in-process test harness: a fresh database (via `TestDb`), the app built by
//! `tessera_server::app`, and request helpers that go through the public API only.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tessera_core::clock::FixedClock;
use tessera_server::{AppState, Config, startup};
use tessera_store::testing::TestDb;
use tower::ServiceExt;

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum As {
    /// No credentials.
    Anonymous,
    /// `Authorization: Bearer …`.
    Bearer(String),
    /// Session cookie, with the CSRF token sent when `csrf` is true.
    Session {
        cookie: String,
        csrf: String,
        send_csrf: bool,
    },
}

/// A response, body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub json: Value,
}

impl Reply {
    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self.json
    }

    /// Asserts a problem+json body with `status` and `code`; returns the body.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        assert_eq!(self.json["code"], code, "{}", self.json);
        assert_eq!(self.json["type"], format!("urn:tessera:problem:{code}"));
        assert_eq!(self.json["status"], status);
        self.json
    }
}

pub struct TestApp {
    pub db: TestDb,
    pub state: AppState,
    pub router: Router,
    pub clock: Arc<FixedClock>,
    pub setup_token: String,
    _data: tempfile::TempDir,
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// A fresh app on a fresh database; `env` overrides configuration variables.
    pub async fn with_env(env: &[(&str, &str)]) -> Self {
        let db = TestDb::new().await;
        let data = tempfile::tempdir().unwrap();
        let mut vars: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), db.url.clone()),
            ("TESSERA_DATA_DIR".into(), data.path().display().to_string()),
        ];
        vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::load(
            &|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()),
            None,
        )
        .unwrap();
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap(),
        ));
        let prepared = startup::prepare(config, clock.clone()).await.unwrap();
        let link = prepared
            .setup_link
            .expect("a fresh database gets a setup link");
        let setup_token = link.split_once("token=").unwrap().1.to_owned();
        let router = tessera_server::app(prepared.state.clone());
        Self {
            db,
            state: prepared.state,
            router,
            clock,
            setup_token,
            _data: data,
        }
    }

    pub async fn new() -> Self {
        Self::with_env(&[]).await
    }

    /// Sends a request with a JSON body (or none).
    pub async fn send(&self, method: Method, path: &str, who: &As, body: Option<Value>) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        match who {
            As::Anonymous => {}
            As::Bearer(t) => builder = builder.header(header::AUTHORIZATION, format!("Bearer {t}")),
            As::Session {
                cookie,
                csrf,
                send_csrf,
            } => {
                builder = builder.header(header::COOKIE, format!("tessera_session={cookie}"));
                if *send_csrf {
                    builder = builder.header("x-csrf-token", csrf);
                }
            }
        }
        let request = match body {
            Some(b) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(&b).unwrap()))
                .unwrap(),
            None => builder.body(Body::empty()).unwrap(),
        };
        self.raw(request).await
    }

    /// Sends a prepared request.
    pub async fn raw(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            json,
        }
    }

    pub async fn get(&self, path: &str, who: &As) -> Reply {
        self.send(Method::GET, path, who, None).await
    }

    pub async fn post(&self, path: &str, who: &As, body: Value) -> Reply {
        self.send(Method::POST, path, who, Some(body)).await
    }

    /// POST /api/v1/setup, then log in and make an API token: the platform admin.
    pub async fn platform_admin(&self) -> As {
        self.post(
            "/api/v1/setup",
            &As::Anonymous,
            json!({"token": self.setup_token, "email": "root@tessera.test", "name": "Root", "password": PASSWORD}),
        )
        .await
        .expect(201);
        self.token_for("root@tessera.test").await
    }

    /// POST /api/v1/auth/login: the session cookie and CSRF token.
    pub async fn login(&self, email: &str) -> As {
        let reply = self
            .post(
                "/api/v1/auth/login",
                &As::Anonymous,
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        let cookie_header = reply
            .headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_default();
        let json = reply.expect(200);
        let cookie = cookie_header
            .strip_prefix("tessera_session=")
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_owned();
        As::Session {
            cookie,
            csrf: json["csrf_token"].as_str().unwrap().to_owned(),
            send_csrf: true,
        }
    }

    /// Logs in and creates a personal API token (POST /api/v1/me/tokens).
    pub async fn token_for(&self, email: &str) -> As {
        let session = self.login(email).await;
        let json = self
            .post("/api/v1/me/tokens", &session, json!({"name": "tests"}))
            .await
            .expect(201);
        As::Bearer(json["secret"].as_str().unwrap().to_owned())
    }

    /// POST /api/v1/orgs as `admin`.
    pub async fn create_org(&self, admin: &As, slug: &str) -> Value {
        self.post(
            "/api/v1/orgs",
            admin,
            json!({"slug": slug, "name": slug.to_uppercase(), "kind": "school"}),
        )
        .await
        .expect(201)
    }

    /// Invites `email` to `slug` as `role` (as `admin`), accepts, and returns a bearer token.
    pub async fn member(&self, admin: &As, slug: &str, email: &str, role: &str) -> As {
        let inv = self
            .post(
                &format!("/api/v1/orgs/{slug}/invitations"),
                admin,
                json!({"email": email, "role": role}),
            )
            .await
            .expect(201);
        self.post(
            "/api/v1/invitations/accept",
            &As::Anonymous,
            json!({"token": inv["token"], "name": email, "password": PASSWORD}),
        )
        .await
        .expect(200);
        self.token_for(email).await
    }

    /// GET /api/v1/me: the caller's user id.
    pub async fn user_id(&self, who: &As) -> String {
        self.get("/api/v1/me", who).await.expect(200)["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}
