//! The CASE routes in-process (tower `oneshot`), on whichever backend `TESSERA_TEST_BACKEND`
//! names: API import and export, and the public CASE 1.1 read API.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::Value;
use tessera_core::account::{OrgKind, Role};
use tessera_core::clock::FixedClock;
use tessera_server::auth::hash_secret;
use tessera_server::{AppState, Config};
use tessera_store::accounts::{NewInvitation, NewUser};
use tessera_store::testing::TestDb;
use tower::ServiceExt;

const V1P1: &str = include_str!("../../tessera-case/tests/fixtures/case-1.1-fractions.json");
const MISSING_FIELD: &str =
    include_str!("../../tessera-case/tests/fixtures/invalid/missing-required-field.json");
const DOC_ID: &str = "5d3e0000-0000-4000-8000-000000000001";
const PUBLIC_URL: &str = "http://tessera.test";

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

struct TestApp {
    db: TestDb,
    app: Router,
    _dir: tempfile::TempDir,
    /// API token of a platform admin.
    admin: String,
    /// API token of a learner of the organisation.
    learner: String,
    /// API token of a teacher of another organisation.
    outsider: String,
}

async fn user_token(db: &TestDb, user_id: &str, name: &str) -> String {
    let token = format!("tsk_{name}_0123456789abcdef");
    db.store
        .create_api_token(user_id, name, &hash_secret(&token), now(), None)
        .await
        .unwrap();
    token
}

async fn invited(db: &TestDb, org_id: &str, admin_id: &str, email: &str, role: Role) -> String {
    let invitation = db
        .store
        .create_invitation(
            &NewInvitation {
                org_id: org_id.into(),
                email: email.into(),
                role,
                token_hash: hash_secret(email),
                created_by: admin_id.into(),
                expires_at: now() + chrono::Duration::days(1),
            },
            now(),
        )
        .await
        .unwrap();
    let user = NewUser {
        email: email.into(),
        name: email.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$unused$unused".into(),
    };
    db.store
        .accept_invitation(&invitation.id, None, Some(&user), now())
        .await
        .unwrap()
}

impl TestApp {
    async fn new() -> Self {
        let db = TestDb::new().await;
        let dir = tempfile::tempdir().unwrap();
        let env: HashMap<&str, String> = HashMap::from([
            ("DATABASE_URL", db.url.clone()),
            ("TESSERA_PUBLIC_URL", PUBLIC_URL.to_owned()),
            ("TESSERA_DATA_DIR", dir.path().display().to_string()),
        ]);
        let config = Config::load(&|k| env.get(k).cloned(), None).unwrap();
        let store = &db.store;
        store
            .replace_setup_token(
                &hash_secret("setup"),
                now(),
                now() + chrono::Duration::hours(1),
            )
            .await
            .unwrap();
        let admin = store
            .complete_setup(
                &hash_secret("setup"),
                now(),
                NewUser {
                    email: "admin@tessera.test".into(),
                    name: "Admin".into(),
                    password_hash: "$argon2id$v=19$m=19456,t=2,p=1$unused$unused".into(),
                },
            )
            .await
            .unwrap();
        let district = store
            .create_org("district", "District", OrgKind::District, now())
            .await
            .unwrap();
        let other = store
            .create_org("other", "Other", OrgKind::School, now())
            .await
            .unwrap();
        let learner_id = invited(
            &db,
            &district.id,
            &admin.id,
            "learner@tessera.test",
            Role::Learner,
        )
        .await;
        let outsider_id = invited(
            &db,
            &other.id,
            &admin.id,
            "teacher@other.test",
            Role::Teacher,
        )
        .await;
        let admin_token = user_token(&db, &admin.id, "admin").await;
        let learner = user_token(&db, &learner_id, "learner").await;
        let outsider = user_token(&db, &outsider_id, "outsider").await;
        let state = AppState::new(db.store.clone(), config, Arc::new(FixedClock::new(now())));
        TestApp {
            app: tessera_server::app(state),
            db,
            _dir: dir,
            admin: admin_token,
            learner,
            outsider,
        }
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, HashMap<String, String>, Value) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, headers, body)
    }

    async fn import(
        &self,
        token: Option<&str>,
        body: &str,
    ) -> (StatusCode, HashMap<String, String>, Value) {
        let mut request = Request::post("/api/v1/orgs/district/case-packages")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Body::from(body.to_owned())).unwrap())
            .await
    }

    async fn get(
        &self,
        uri: &str,
        token: Option<&str>,
    ) -> (StatusCode, HashMap<String, String>, Value) {
        let mut request = Request::get(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }
}

fn normalize(value: &mut Value) {
    match value {
        Value::Array(list) => {
            list.iter_mut().for_each(normalize);
            if list.iter().all(|v| v.get("identifier").is_some()) {
                list.sort_by_key(|v| v["identifier"].to_string());
            }
        }
        Value::Object(map) => {
            map.retain(|_, v| !matches!(v, Value::Array(list) if list.is_empty()));
            map.values_mut().for_each(normalize);
        }
        _ => {}
    }
}

fn assert_same_package(original: &str, served: &Value) {
    let mut a: Value = serde_json::from_str(original).unwrap();
    let mut b = served.clone();
    normalize(&mut a);
    normalize(&mut b);
    assert_eq!(a, b);
}

#[tokio::test]
async fn an_admin_imports_a_package_and_a_second_import_updates_it() {
    let t = TestApp::new().await;
    let (status, _, body) = t.import(Some(&t.admin), V1P1).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["framework_id"], DOC_ID);
    assert_eq!(body["case_version"], "1.1");
    assert_eq!(body["competencies"], 9);

    let (status, _, body) = t.import(Some(&t.admin), V1P1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], false);
    assert_eq!(body["revision"], 2);

    let (status, _, exported) = t
        .get(
            &format!("/api/v1/frameworks/{DOC_ID}/case-package"),
            Some(&t.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_same_package(V1P1, &exported);
}

#[tokio::test]
async fn an_invalid_package_is_a_422_naming_the_path_and_writes_nothing() {
    let t = TestApp::new().await;
    let before = t.db.store.registry_counts().await.unwrap();
    let (status, headers, body) = t.import(Some(&t.admin), MISSING_FIELD).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["type"], "urn:tessera:problem:case-invalid-package");
    assert_eq!(body["errors"][0]["path"], "$.CFItems[2].fullStatement");
    assert_eq!(body["errors"][0]["rule"], "schema.required");
    assert_eq!(t.db.store.registry_counts().await.unwrap(), before);

    let (status, _, body) = t.import(Some(&t.admin), "{\"CFDocument\": ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "case-malformed-json");
    assert_eq!(t.db.store.registry_counts().await.unwrap(), before);
}

#[tokio::test]
async fn only_editors_of_the_organisation_may_import() {
    let t = TestApp::new().await;
    let (status, _, _) = t.import(None, V1P1).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = t.import(Some(&t.learner), V1P1).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = t.import(Some(&t.outsider), V1P1).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "outsiders do not learn the org exists"
    );
    assert_eq!(t.db.store.registry_counts().await.unwrap(), [0, 0, 0]);
    // Export is for members: a learner may, an outsider may not.
    t.import(Some(&t.admin), V1P1).await;
    let uri = format!("/api/v1/frameworks/{DOC_ID}/case-package");
    assert_eq!(t.get(&uri, Some(&t.learner)).await.0, StatusCode::OK);
    assert_eq!(
        t.get(&uri, Some(&t.outsider)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(t.get(&uri, None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_5000_item_package_over_the_general_body_limit_imports() {
    let t = TestApp::new().await;
    let json = tessera_case::generate::package_json(5_000);
    assert!(json.len() > 1 << 20, "bigger than the 1 MiB general limit");
    let (status, _, body) = t.import(Some(&t.admin), &json).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["competencies"], 5_000);
}

#[tokio::test]
async fn the_case_read_api_serves_documents_packages_items_and_associations() {
    let t = TestApp::new().await;
    t.import(Some(&t.admin), V1P1).await;

    let (status, headers, body) = t.get("/ims/case/v1p1/CFDocuments?limit=1", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-total-count"], "1");
    assert!(
        headers["link"].contains("rel=\"first\""),
        "{}",
        headers["link"]
    );
    let doc = &body["CFDocuments"][0];
    assert_eq!(doc["identifier"], DOC_ID);
    assert_eq!(
        doc["CFPackageURI"]["uri"],
        format!("{PUBLIC_URL}/ims/case/v1p1/CFPackages/{DOC_ID}")
    );

    let (status, _, doc) = t
        .get(&format!("/ims/case/v1p1/CFDocuments/{DOC_ID}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["title"], "Grade 5 Mathematics: Fractions");

    let (status, _, package) = t
        .get(&format!("/ims/case/v1p1/CFPackages/{DOC_ID}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_same_package(V1P1, &package);

    let item_id = "5d3e0000-0000-4000-8000-000000000111";
    let (status, _, item) = t
        .get(&format!("/ims/case/v1p1/CFItems/{item_id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(item["humanCodingScheme"], "5.NF.A.1");
    assert_eq!(item["CFDocumentURI"]["identifier"], DOC_ID);
    // Upper-case UUIDs name the same item.
    let (status, _, _) = t
        .get(
            &format!("/ims/case/v1p1/CFItems/{}", item_id.to_uppercase()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let association = package["CFAssociations"][0]["identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, a) = t
        .get(
            &format!("/ims/case/v1p1/CFAssociations/{association}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["identifier"], association.as_str());
    assert_eq!(a["CFDocumentURI"]["identifier"], DOC_ID);
}

#[tokio::test]
async fn the_case_read_api_answers_errors_with_imsx_status_info() {
    let t = TestApp::new().await;
    let missing = "5d3e0000-0000-4000-8000-00000000ffff";
    let (status, _, body) = t
        .get(&format!("/ims/case/v1p1/CFItems/{missing}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["imsx_codeMajor"], "failure");
    assert_eq!(
        body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"],
        "unknownobject"
    );
    let (status, _, body) = t.get("/ims/case/v1p1/CFPackages/not-a-uuid", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"],
        "invaliduuid"
    );
    let (status, _, body) = t.get("/ims/case/v1p1/CFDocuments?sort=title", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"],
        "invalid_selection_field"
    );
    let (status, _, _) = t.get("/ims/case/v1p1/CFDocuments?limit=0", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
