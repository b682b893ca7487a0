//! The authorization matrix: every route × role, allow or deny, on the backend
//! `TESSERA_TEST_BACKEND` names. A route in the OpenAPI document without a row fails the test.

mod common;

use std::collections::BTreeSet;

use axum::http::Method;
use chrono::Duration;
use common::{As, PASSWORD, TestApp};
use serde_json::{Value, json};
use tessera_core::account::Role;
use tessera_server::auth::hash_secret;
use tessera_store::accounts::NewInvitation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Learner,
    Reviewer,
    Teacher,
    Admin,
    OtherAdmin,
    Platform,
}

const EVERYONE: [Who; 7] = [
    Who::Anonymous,
    Who::Learner,
    Who::Reviewer,
    Who::Teacher,
    Who::Admin,
    Who::OtherAdmin,
    Who::Platform,
];
const SIGNED_IN: &[Who] = &[
    Who::Learner,
    Who::Reviewer,
    Who::Teacher,
    Who::Admin,
    Who::OtherAdmin,
    Who::Platform,
];
const MEMBERS: &[Who] = &[
    Who::Learner,
    Who::Reviewer,
    Who::Teacher,
    Who::Admin,
    Who::Platform,
];
const EDITORS: &[Who] = &[Who::Teacher, Who::Admin, Who::Platform];
const ADMINS: &[Who] = &[Who::Admin, Who::Platform];
const PLATFORM: &[Who] = &[Who::Platform];
const STAFF: &[Who] = &[Who::Reviewer, Who::Teacher, Who::Admin, Who::Platform];
/// Who reads a learner's evidence besides the learner: the organisation's reviewers and
/// teachers; not its admins, not platform admins.
const ASSESSORS: &[Who] = &[Who::Reviewer, Who::Teacher];
const ALL: &[Who] = &EVERYONE;
/// A learner's own subgroup answers: learners only (not even platform admins).
const LEARNERS: &[Who] = &[Who::Learner];

/// (method, route template, who is allowed, status when allowed). Targets are in organisation
/// `alpha`; `OtherAdmin` is the admin of `beta`.
const MATRIX: &[(&str, &str, &[Who], u16)] = &[
    ("GET", "/health", ALL, 200),
    ("GET", "/metrics", ALL, 200),
    ("GET", "/api/v1/openapi.json", ALL, 200),
    // Public, gated by the one-time token (already used here, so 400 for everyone).
    ("POST", "/api/v1/setup", ALL, 400),
    ("POST", "/api/v1/auth/login", ALL, 200),
    ("POST", "/api/v1/auth/logout", SIGNED_IN, 204),
    ("GET", "/api/v1/me", SIGNED_IN, 200),
    ("GET", "/api/v1/me/tokens", SIGNED_IN, 200),
    ("POST", "/api/v1/me/tokens", SIGNED_IN, 201),
    ("DELETE", "/api/v1/me/tokens/{id}", SIGNED_IN, 204),
    ("GET", "/api/v1/orgs", SIGNED_IN, 200),
    ("POST", "/api/v1/orgs", PLATFORM, 201),
    ("GET", "/api/v1/orgs/{slug}", MEMBERS, 200),
    ("GET", "/api/v1/orgs/{slug}/members", ADMINS, 200),
    (
        "DELETE",
        "/api/v1/orgs/{slug}/members/{user_id}/roles/{role}",
        ADMINS,
        204,
    ),
    ("GET", "/api/v1/orgs/{slug}/invitations", ADMINS, 200),
    ("POST", "/api/v1/orgs/{slug}/invitations", ADMINS, 201),
    (
        "DELETE",
        "/api/v1/orgs/{slug}/invitations/{id}",
        ADMINS,
        204,
    ),
    // Public, gated by the invitation token.
    ("POST", "/api/v1/invitations/accept", ALL, 200),
    // Another learner's profile: only admins of their organisation (and the platform).
    ("GET", "/api/v1/users/{id}", ADMINS, 200),
    ("GET", "/api/v1/orgs/{slug}/frameworks", MEMBERS, 200),
    ("POST", "/api/v1/orgs/{slug}/frameworks", EDITORS, 201),
    ("GET", "/api/v1/frameworks/{id}", MEMBERS, 200),
    ("PATCH", "/api/v1/frameworks/{id}", EDITORS, 200),
    ("GET", "/api/v1/frameworks/{id}/competencies", MEMBERS, 200),
    ("POST", "/api/v1/frameworks/{id}/competencies", EDITORS, 201),
    ("GET", "/api/v1/competencies/{id}", MEMBERS, 200),
    ("PATCH", "/api/v1/competencies/{id}", EDITORS, 200),
    (
        "PUT",
        "/api/v1/competencies/{id}/prerequisites",
        EDITORS,
        200,
    ), // CASE (routes/case.rs): import for editors, export for members, the CASE 1.1 read API
    // for everyone.
    ("POST", "/api/v1/orgs/{slug}/case-packages", EDITORS, 201),
    ("GET", "/api/v1/frameworks/{id}/case-package", MEMBERS, 200),
    ("GET", "/ims/case/v1p1/CFDocuments", ALL, 200),
    ("GET", "/ims/case/v1p1/CFDocuments/{sourcedId}", ALL, 200),
    ("GET", "/ims/case/v1p1/CFPackages/{sourcedId}", ALL, 200),
    ("GET", "/ims/case/v1p1/CFItems/{sourcedId}", ALL, 200),
    ("GET", "/ims/case/v1p1/CFAssociations/{sourcedId}", ALL, 200),
    // Review (routes/rubrics.rs, evidence.rs, reviews.rs, mastery.rs).
    ("GET", "/api/v1/orgs/{slug}/rubrics", MEMBERS, 200),
    ("POST", "/api/v1/orgs/{slug}/rubrics", EDITORS, 201),
    (
        "GET",
        "/api/v1/orgs/{slug}/rubrics/{id}/{version}",
        MEMBERS,
        200,
    ),
    (
        "POST",
        "/api/v1/orgs/{slug}/competencies/{id}/evidence",
        &[Who::Learner],
        201,
    ),
    (
        "GET",
        "/api/v1/orgs/{slug}/learners/{user}/evidence",
        ASSESSORS,
        200,
    ),
    (
        "GET",
        "/api/v1/orgs/{slug}/learners/{user}/record",
        STAFF,
        200,
    ),
    ("GET", "/api/v1/orgs/{slug}/reviews", STAFF, 200),
    (
        "POST",
        "/api/v1/orgs/{slug}/reviews/{id}/score",
        &[Who::Reviewer, Who::Teacher, Who::Platform],
        200,
    ),
    (
        "POST",
        "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/override",
        &[Who::Teacher, Who::Platform],
        200,
    ),
    // Moderation, agreement, gating, exceptions, target dates, CASE rubrics, evidence files
    // (routes/reviews.rs, reviews/progress.rs, reviews/adopt.rs, evidence.rs).
    (
        "POST",
        "/api/v1/orgs/{slug}/reviews/{id}/moderate",
        &[Who::Teacher, Who::Platform],
        200,
    ),
    ("GET", "/api/v1/orgs/{slug}/reviews/agreement", EDITORS, 200),
    ("GET", "/api/v1/orgs/{slug}/review-settings", STAFF, 200),
    ("PUT", "/api/v1/orgs/{slug}/review-settings", ADMINS, 200),
    ("GET", "/api/v1/frameworks/{id}/gating", MEMBERS, 200),
    ("PUT", "/api/v1/frameworks/{id}/gating", EDITORS, 200),
    (
        "GET",
        "/api/v1/orgs/{slug}/learners/{user}/prerequisite-exceptions",
        STAFF,
        200,
    ),
    (
        "PUT",
        "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/prerequisite-exception",
        &[Who::Teacher, Who::Platform],
        200,
    ),
    (
        "GET",
        "/api/v1/orgs/{slug}/learners/{user}/target-dates",
        STAFF,
        200,
    ),
    // The learner themself may too (review_api.rs); learner2 is the target here.
    (
        "PUT",
        "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/target-date",
        &[Who::Teacher, Who::Platform],
        200,
    ),
    ("GET", "/api/v1/orgs/{slug}/case-rubrics", MEMBERS, 200),
    (
        "POST",
        "/api/v1/orgs/{slug}/case-rubrics/{id}/adopt",
        EDITORS,
        201,
    ),
    // learner2's file: the learner themself may too (review_api.rs).
    (
        "GET",
        "/api/v1/orgs/{slug}/submissions/{id}/files/{position}",
        ASSESSORS,
        200,
    ),
    // Issuing (routes/credentials.rs, routes/did.rs): teachers and admins issue and change
    // status; the learner and staff read; admins manage the issuer; anyone fetches what
    // verification needs.
    (
        "POST",
        "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/credential",
        EDITORS,
        201,
    ),
    (
        "GET",
        "/api/v1/orgs/{slug}/learners/{user}/credentials",
        STAFF,
        200,
    ),
    ("GET", "/api/v1/orgs/{slug}/credentials/{id}", STAFF, 200),
    (
        "POST",
        "/api/v1/orgs/{slug}/credentials/{id}/status",
        EDITORS,
        200,
    ),
    // Bulk and automatic issuance (routes/bulk.rs): teachers and admins make and read batches
    // and see the masteries waiting for approval; admins set a framework's issuance. The CSV
    // upload gets the matrix's JSON body, which is no CSV: an allowed caller passes the check
    // and is told the header is wrong (422).
    ("POST", "/api/v1/orgs/{slug}/issue-batches", EDITORS, 201),
    ("GET", "/api/v1/orgs/{slug}/issue-batches", EDITORS, 200),
    (
        "POST",
        "/api/v1/orgs/{slug}/issue-batches/csv",
        EDITORS,
        422,
    ),
    (
        "GET",
        "/api/v1/orgs/{slug}/issue-batches/{id}",
        EDITORS,
        200,
    ),
    (
        "GET",
        "/api/v1/orgs/{slug}/issue-batches/{id}/rows",
        EDITORS,
        200,
    ),
    (
        "GET",
        "/api/v1/orgs/{slug}/awaiting-credentials",
        EDITORS,
        200,
    ),
    ("GET", "/api/v1/frameworks/{id}/issuance", ADMINS, 200),
    ("PUT", "/api/v1/frameworks/{id}/issuance", ADMINS, 200),
    // Downloads and sharing (routes/badges.rs, routes/sharing.rs), of learner2's credential:
    // the learner and staff download; only the learner it was issued to makes and revokes
    // share links (none of the callers here: staff get 403, others 404; the learner's own path
    // is in sharing_api.rs); a learner's own DID is theirs alone.
    (
        "GET",
        "/api/v1/orgs/{slug}/credentials/{id}/download.json",
        STAFF,
        200,
    ),
    (
        "GET",
        "/api/v1/orgs/{slug}/credentials/{id}/badge.png",
        STAFF,
        200,
    ),
    (
        "GET",
        "/api/v1/orgs/{slug}/credentials/{id}/badge.svg",
        STAFF,
        200,
    ),
    (
        "POST",
        "/api/v1/orgs/{slug}/credentials/{id}/share-links",
        &[],
        201,
    ),
    ("GET", "/api/v1/me/share-links", SIGNED_IN, 200),
    ("POST", "/api/v1/me/share-links/{id}/revoke", &[], 200),
    ("GET", "/api/v1/me/did", LEARNERS, 200),
    ("PUT", "/api/v1/me/did", LEARNERS, 200),
    ("DELETE", "/api/v1/me/did", LEARNERS, 204),
    ("GET", "/api/v1/orgs/{slug}/issuer", ADMINS, 200),
    ("PUT", "/api/v1/orgs/{slug}/issuer", ADMINS, 200),
    ("POST", "/api/v1/orgs/{slug}/issuer/keys", ADMINS, 201),
    ("GET", "/orgs/{slug}/did.json", ALL, 200),
    ("GET", "/orgs/{slug}/status/{purpose}/{seq}", ALL, 200),
    ("GET", "/contexts/tessera/v1", ALL, 200),
    ("GET", "/orgs/{slug}/achievements/{id}/image.png", ALL, 200),
    // Learner rights (routes/rights.rs), about learner2: consents for the learner and admins;
    // granting, withdrawing and the access log are the learner's alone (none of the callers
    // here; rights_api.rs covers the learner); everyone exports their own data; admins erase a
    // learner on request (a fresh learner each time); the privacy note is public.
    (
        "GET",
        "/api/v1/orgs/{slug}/learners/{user}/consents",
        ADMINS,
        200,
    ),
    (
        "POST",
        "/api/v1/orgs/{slug}/learners/{user}/consents",
        &[],
        201,
    ),
    (
        "POST",
        "/api/v1/orgs/{slug}/learners/{user}/consents/{id}/withdraw",
        &[],
        200,
    ),
    (
        "GET",
        "/api/v1/orgs/{slug}/learners/{user}/access-log",
        &[],
        200,
    ),
    ("GET", "/api/v1/me/export", SIGNED_IN, 200),
    (
        "POST",
        "/api/v1/orgs/{slug}/learners/{user}/erase",
        ADMINS,
        200,
    ),
    ("GET", "/api/v1/orgs/{slug}/privacy", ALL, 200),
    ("PUT", "/api/v1/orgs/{slug}/privacy", ADMINS, 200),
    ("PUT", "/api/v1/orgs/{slug}/retention", ADMINS, 200),
    // Verification for anyone (routes/verify.rs): a verdict for every caller.
    ("POST", "/api/v1/verify", ALL, 200),
    // Progress dashboards (routes/dashboards.rs): learner2's own dashboard for staff (the
    // learner themself too: dashboards_api.rs); the teacher dashboard, thresholds and cohorts
    // for staff; teachers decide on flags; teachers and admins keep thresholds and cohorts.
    (
        "GET",
        "/api/v1/orgs/{slug}/learners/{user}/dashboard",
        STAFF,
        200,
    ),
    ("GET", "/api/v1/orgs/{slug}/dashboard", STAFF, 200),
    ("GET", "/api/v1/frameworks/{id}/flag-thresholds", STAFF, 200),
    (
        "PUT",
        "/api/v1/frameworks/{id}/flag-thresholds",
        EDITORS,
        200,
    ),
    (
        "PUT",
        "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/flags/{kind}",
        &[Who::Teacher, Who::Platform],
        200,
    ),
    (
        "DELETE",
        "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/flags/{kind}",
        &[Who::Teacher, Who::Platform],
        204,
    ),
    ("GET", "/api/v1/orgs/{slug}/cohorts", STAFF, 200),
    ("POST", "/api/v1/orgs/{slug}/cohorts", EDITORS, 201),
    ("GET", "/api/v1/orgs/{slug}/cohorts/{id}", STAFF, 200),
    (
        "POST",
        "/api/v1/orgs/{slug}/cohorts/{id}/members",
        EDITORS,
        200,
    ),
    // Subgroup attributes and the equity audit (routes/equity.rs): answers are the learner's
    // own; the audit is for teachers and admins.
    (
        "GET",
        "/api/v1/orgs/{slug}/subgroup-attributes",
        MEMBERS,
        200,
    ),
    (
        "PUT",
        "/api/v1/orgs/{slug}/subgroup-attributes/{name}",
        ADMINS,
        200,
    ),
    (
        "DELETE",
        "/api/v1/orgs/{slug}/subgroup-attributes/{name}",
        ADMINS,
        204,
    ),
    ("GET", "/api/v1/orgs/{slug}/me/subgroups", LEARNERS, 200),
    (
        "PUT",
        "/api/v1/orgs/{slug}/me/subgroups/{name}",
        LEARNERS,
        200,
    ),
    (
        "DELETE",
        "/api/v1/orgs/{slug}/me/subgroups/{name}",
        LEARNERS,
        204,
    ),
    ("GET", "/api/v1/orgs/{slug}/equity", EDITORS, 200),
    ("GET", "/api/v1/orgs/{slug}/equity.csv", EDITORS, 200),
    // Transcripts (routes/transcripts.rs), of learner2: the learner makes their own
    // (transcripts_api.rs), teachers and admins an official one; the learner and staff read.
    (
        "POST",
        "/api/v1/orgs/{slug}/learners/{user}/transcripts",
        EDITORS,
        201,
    ),
    (
        "GET",
        "/api/v1/orgs/{slug}/learners/{user}/transcripts",
        STAFF,
        200,
    ),
    ("GET", "/api/v1/orgs/{slug}/transcripts/{id}", STAFF, 200),
    (
        "GET",
        "/api/v1/orgs/{slug}/transcripts/{id}/pdf",
        STAFF,
        200,
    ),
    // Only the learner a transcript is about shares it (learner2: none of the callers; staff
    // get 403, others 404; the learner's own path is in transcripts_api.rs).
    (
        "POST",
        "/api/v1/orgs/{slug}/transcripts/{id}/share-links",
        &[],
        201,
    ),
    (
        "GET",
        "/api/v1/orgs/{slug}/transcripts/{id}/share-links",
        &[],
        200,
    ),
    (
        "POST",
        "/api/v1/orgs/{slug}/transcripts/{id}/share-links/{link}/revoke",
        &[],
        200,
    ),
];

struct World {
    app: TestApp,
    tokens: Vec<(Who, As)>,
    alpha_id: String,
    learner2_id: String,
    framework_id: String,
    c1: String,
    c2: String,
    /// For moderation fixtures (C.3) and evidence files (C.4).
    c3: String,
    c4: String,
    serial: std::cell::Cell<u32>,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let platform = app.platform_admin().await;
        let alpha = app.create_org(&platform, "alpha").await;
        app.create_org(&platform, "beta").await;
        let admin = app
            .member(&platform, "alpha", "admin@alpha.test", "admin")
            .await;
        let teacher = app
            .member(&admin, "alpha", "teacher@alpha.test", "teacher")
            .await;
        let reviewer = app
            .member(&admin, "alpha", "reviewer@alpha.test", "reviewer")
            .await;
        let learner = app
            .member(&admin, "alpha", "learner@alpha.test", "learner")
            .await;
        let learner2 = app
            .member(&admin, "alpha", "learner2@alpha.test", "learner")
            .await;
        let other = app
            .member(&platform, "beta", "admin@beta.test", "admin")
            .await;
        let learner2_id = app.user_id(&learner2).await;
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
            .expect(201);
        let c2 = app
            .post(&path, &teacher, json!({"code": "C.2", "statement": "Adds"}))
            .await
            .expect(201);
        let [c3, c4] = [("C.3", "Subtracts"), ("C.4", "Multiplies")].map(|(code, statement)| {
            app.post(
                &path,
                &teacher,
                json!({"code": code, "statement": statement}),
            )
        });
        let (c3, c4) = (c3.await.expect(201), c4.await.expect(201));
        Self {
            tokens: vec![
                (Who::Anonymous, As::Anonymous),
                (Who::Learner, learner),
                (Who::Reviewer, reviewer),
                (Who::Teacher, teacher),
                (Who::Admin, admin),
                (Who::OtherAdmin, other),
                (Who::Platform, platform),
            ],
            alpha_id: alpha["id"].as_str().unwrap().to_owned(),
            learner2_id,
            framework_id,
            c1: c1["id"].as_str().unwrap().to_owned(),
            c2: c2["id"].as_str().unwrap().to_owned(),
            c3: c3["id"].as_str().unwrap().to_owned(),
            c4: c4["id"].as_str().unwrap().to_owned(),
            app,
            serial: std::cell::Cell::new(0),
        }
    }

    fn who(&self, who: Who) -> &As {
        &self.tokens.iter().find(|(w, _)| *w == who).unwrap().1
    }

    fn next(&self) -> u32 {
        self.serial.set(self.serial.get() + 1);
        self.serial.get()
    }

    async fn revision(&self) -> i64 {
        self.app
            .state
            .store
            .framework(&self.framework_id)
            .await
            .unwrap()
            .revision
    }

    /// A fresh invitation (made through the store) and its token.
    async fn invitation(&self) -> (String, String) {
        let token = format!("invite-token-{}", self.next());
        let inv = self
            .app
            .state
            .store
            .create_invitation(
                &NewInvitation {
                    org_id: self.alpha_id.clone(),
                    email: format!("new{}@alpha.test", self.next()),
                    role: Role::Learner,
                    token_hash: hash_secret(&token),
                    created_by: self.learner2_id.clone(),
                    expires_at: self.app.clock_now() + Duration::days(1),
                },
                self.app.clock_now(),
            )
            .await
            .unwrap();
        (inv.id, token)
    }

    /// A cohort of `alpha` (made through the store), its id.
    async fn cohort(&self) -> String {
        let n = self.next();
        self.app
            .state
            .store
            .create_cohort(
                &self.alpha_id,
                &format!("Matrix cohort {n}"),
                &self.learner2_id,
                self.app.clock_now(),
            )
            .await
            .unwrap()
            .id
    }

    /// The concrete path and body for a route, prepared so that an allowed caller succeeds.
    async fn request(&self, method: &str, template: &str, who: Who) -> (String, Option<Value>) {
        let n = self.next();
        match (method, template) {
            ("GET", "/health" | "/metrics" | "/api/v1/openapi.json") => (template.to_owned(), None),
            ("POST", "/api/v1/setup") => (
                template.to_owned(),
                Some(
                    json!({"token": self.app.setup_token, "email": format!("x{n}@x.test"), "name": "X", "password": PASSWORD}),
                ),
            ),
            ("POST", "/api/v1/auth/login") => (
                template.to_owned(),
                Some(json!({"email": "learner2@alpha.test", "password": PASSWORD})),
            ),
            ("POST", "/api/v1/auth/logout")
            | ("GET", "/api/v1/me" | "/api/v1/me/tokens" | "/api/v1/orgs") => {
                (template.to_owned(), None)
            }
            ("POST", "/api/v1/me/tokens") => {
                (template.to_owned(), Some(json!({"name": format!("t{n}")})))
            }
            ("DELETE", "/api/v1/me/tokens/{id}") => {
                // A token of the caller's own (anonymous callers get someone else's id).
                let owner = match self.who(who) {
                    As::Anonymous => self.learner2_id.clone(),
                    caller => self.app.user_id(caller).await,
                };
                let token = self
                    .app
                    .state
                    .store
                    .create_api_token(
                        &owner,
                        "to revoke",
                        &hash_secret(&format!("x{n}")),
                        self.app.clock_now(),
                        None,
                    )
                    .await
                    .unwrap();
                (format!("/api/v1/me/tokens/{}", token.id), None)
            }
            ("POST", "/api/v1/orgs") => (
                template.to_owned(),
                Some(json!({"slug": format!("org-{n}"), "name": "New", "kind": "district"})),
            ),
            (
                "GET",
                "/api/v1/orgs/{slug}"
                | "/api/v1/orgs/{slug}/members"
                | "/api/v1/orgs/{slug}/invitations"
                | "/api/v1/orgs/{slug}/frameworks",
            ) => (template.replace("{slug}", "alpha"), None),
            ("DELETE", "/api/v1/orgs/{slug}/members/{user_id}/roles/{role}") => {
                self.app
                    .state
                    .store
                    .add_membership(
                        &self.alpha_id,
                        &self.learner2_id,
                        Role::Reviewer,
                        self.app.clock_now(),
                    )
                    .await
                    .unwrap();
                (
                    format!(
                        "/api/v1/orgs/alpha/members/{}/roles/reviewer",
                        self.learner2_id
                    ),
                    None,
                )
            }
            ("POST", "/api/v1/orgs/{slug}/invitations") => (
                "/api/v1/orgs/alpha/invitations".to_owned(),
                Some(json!({"email": format!("inv{n}@alpha.test"), "role": "learner"})),
            ),
            ("DELETE", "/api/v1/orgs/{slug}/invitations/{id}") => {
                let (id, _) = self.invitation().await;
                (format!("/api/v1/orgs/alpha/invitations/{id}"), None)
            }
            ("POST", "/api/v1/invitations/accept") => {
                let (_, token) = self.invitation().await;
                (
                    template.to_owned(),
                    Some(json!({"token": token, "name": "New Learner", "password": PASSWORD})),
                )
            }
            ("GET", "/api/v1/users/{id}") => (format!("/api/v1/users/{}", self.learner2_id), None),
            ("POST", "/api/v1/orgs/{slug}/frameworks") => (
                "/api/v1/orgs/alpha/frameworks".to_owned(),
                Some(json!({"title": format!("F{n}")})),
            ),
            ("GET", "/api/v1/frameworks/{id}" | "/api/v1/frameworks/{id}/competencies") => {
                (template.replace("{id}", &self.framework_id), None)
            }
            ("PATCH", "/api/v1/frameworks/{id}") => (
                template.replace("{id}", &self.framework_id),
                Some(
                    json!({"revision": self.revision().await, "description": format!("edit {n}")}),
                ),
            ),
            ("POST", "/api/v1/frameworks/{id}/competencies") => (
                template.replace("{id}", &self.framework_id),
                Some(json!({"code": format!("N.{n}"), "statement": "New"})),
            ),
            ("GET", "/api/v1/competencies/{id}") => (template.replace("{id}", &self.c1), None),
            ("PATCH", "/api/v1/competencies/{id}") => (
                template.replace("{id}", &self.c1),
                Some(
                    json!({"revision": self.revision().await, "description": format!("edit {n}")}),
                ),
            ),
            ("PUT", "/api/v1/competencies/{id}/prerequisites") => (
                template.replace("{id}", &self.c2),
                Some(json!({"prerequisites": [self.c1]})),
            ),
            ("POST", "/api/v1/orgs/{slug}/case-packages") => (
                "/api/v1/orgs/alpha/case-packages".to_owned(),
                Some(case_package()),
            ),
            ("GET", "/api/v1/frameworks/{id}/case-package") => {
                (template.replace("{id}", &self.framework_id), None)
            }
            ("GET", "/ims/case/v1p1/CFDocuments") => (template.to_owned(), None),
            (
                "GET",
                "/ims/case/v1p1/CFDocuments/{sourcedId}" | "/ims/case/v1p1/CFPackages/{sourcedId}",
            ) => (template.replace("{sourcedId}", &self.framework_id), None),
            ("GET", "/ims/case/v1p1/CFItems/{sourcedId}") => {
                (template.replace("{sourcedId}", &self.c1), None)
            }
            ("GET", "/ims/case/v1p1/CFAssociations/{sourcedId}") => {
                let framework = self
                    .app
                    .state
                    .store
                    .export_case(&self.framework_id)
                    .await
                    .unwrap();
                let id = &framework.hierarchy[0].association.identifier;
                (template.replace("{sourcedId}", id), None)
            }
            ("GET", "/api/v1/orgs/{slug}/rubrics") => (template.replace("{slug}", "alpha"), None),
            ("POST", "/api/v1/orgs/{slug}/rubrics") => (
                template.replace("{slug}", "alpha"),
                Some(
                    json!({"toml": include_str!("../../../rubrics/math-problem-solving.toml")
                    .replace("id = \"math-problem-solving\"", &format!("id = \"matrix-{n}\""))}),
                ),
            ),
            ("GET", "/api/v1/orgs/{slug}/rubrics/{id}/{version}") => (
                "/api/v1/orgs/alpha/rubrics/math-problem-solving/1.0.0".to_owned(),
                None,
            ),
            ("POST", "/api/v1/orgs/{slug}/competencies/{id}/evidence") => {
                self.matrix_rubric().await;
                (
                    format!("/api/v1/orgs/alpha/competencies/{}/evidence", self.c1),
                    Some(json!({"rubric": "matrix-rubric", "text": "work"})),
                )
            }
            (
                "GET",
                "/api/v1/orgs/{slug}/learners/{user}/evidence"
                | "/api/v1/orgs/{slug}/learners/{user}/record",
            ) => (
                template
                    .replace("{slug}", "alpha")
                    .replace("{user}", &self.learner2_id),
                None,
            ),
            ("GET", "/api/v1/orgs/{slug}/reviews") => (template.replace("{slug}", "alpha"), None),
            ("POST", "/api/v1/orgs/{slug}/reviews/{id}/score") => {
                let review = self.pending_review(&self.c2).await;
                let criteria: Vec<Value> = [
                    "understanding",
                    "strategy",
                    "accuracy",
                    "reasoning",
                    "communication",
                ]
                .iter()
                .map(|c| json!({"criterion": c, "level": "novice"}))
                .collect();
                (
                    format!("/api/v1/orgs/alpha/reviews/{review}/score"),
                    Some(json!({ "criteria": criteria })),
                )
            }
            ("POST", "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/override") => {
                // Submitted or not yet → mastered; mastered → not yet: always a valid change.
                let record = self
                    .app
                    .state
                    .store
                    .learner_record(&self.alpha_id, &self.learner2_id)
                    .await
                    .unwrap();
                let state = record.competencies.get(&self.c1).map(|r| r.state);
                let to = match state {
                    Some(tessera_review::MasteryState::Mastered) => "not_yet",
                    Some(_) => "mastered",
                    None => {
                        self.pending_review(&self.c1).await;
                        "mastered"
                    }
                };
                (
                    format!(
                        "/api/v1/orgs/alpha/learners/{}/competencies/{}/override",
                        self.learner2_id, self.c1
                    ),
                    Some(json!({"to": to, "reason": "matrix"})),
                )
            }
            ("POST", "/api/v1/orgs/{slug}/reviews/{id}/moderate") => {
                let review = self.moderation_review().await;
                (
                    format!("/api/v1/orgs/alpha/reviews/{review}/moderate"),
                    Some(all_at("novice")),
                )
            }
            ("GET", "/api/v1/orgs/{slug}/reviews/agreement" | "/api/v1/orgs/{slug}/review-settings")
            | ("GET", "/api/v1/orgs/{slug}/case-rubrics") => {
                (template.replace("{slug}", "alpha"), None)
            }
            ("PUT", "/api/v1/orgs/{slug}/review-settings") => (
                template.replace("{slug}", "alpha"),
                Some(json!({"sample_per_mille": 0})),
            ),
            ("GET", "/api/v1/frameworks/{id}/gating") => {
                (template.replace("{id}", &self.framework_id), None)
            }
            ("PUT", "/api/v1/frameworks/{id}/gating") => (
                template.replace("{id}", &self.framework_id),
                Some(json!({"gate_prerequisites": true})),
            ),
            (
                "GET",
                "/api/v1/orgs/{slug}/learners/{user}/prerequisite-exceptions"
                | "/api/v1/orgs/{slug}/learners/{user}/target-dates",
            ) => (
                template
                    .replace("{slug}", "alpha")
                    .replace("{user}", &self.learner2_id),
                None,
            ),
            ("PUT", "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/prerequisite-exception") => (
                format!(
                    "/api/v1/orgs/alpha/learners/{}/competencies/{}/prerequisite-exception",
                    self.learner2_id, self.c2
                ),
                Some(json!({"reason": "matrix"})),
            ),
            ("PUT", "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/target-date") => (
                format!(
                    "/api/v1/orgs/alpha/learners/{}/competencies/{}/target-date",
                    self.learner2_id, self.c1
                ),
                Some(json!({"target_date": "2027-06-30"})),
            ),
            ("POST", "/api/v1/orgs/{slug}/case-rubrics/{id}/adopt") => {
                let id = self.case_rubric().await;
                (
                    format!("/api/v1/orgs/alpha/case-rubrics/{id}/adopt"),
                    // A new version each time, so that an allowed caller creates one.
                    Some(json!({"version": format!("1.0.{n}"), "every_criterion_at_least": "meets"})),
                )
            }
            ("GET", "/api/v1/orgs/{slug}/submissions/{id}/files/{position}") => {
                let submission = self.submission_with_file().await;
                (
                    format!("/api/v1/orgs/alpha/submissions/{submission}/files/0"),
                    None,
                )
            }
            ("POST", "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/credential") => {
                // A fresh mastery each time, so that an allowed caller issues a new credential.
                self.fresh_mastery().await;
                (
                    format!(
                        "/api/v1/orgs/alpha/learners/{}/competencies/{}/credential",
                        self.learner2_id, self.c2
                    ),
                    None,
                )
            }
            ("GET", "/api/v1/orgs/{slug}/learners/{user}/credentials") => (
                format!("/api/v1/orgs/alpha/learners/{}/credentials", self.learner2_id),
                None,
            ),
            ("GET", "/api/v1/orgs/{slug}/credentials/{id}") => {
                let (id, _) = self.credential().await;
                (format!("/api/v1/orgs/alpha/credentials/{id}"), None)
            }
            ("POST", "/api/v1/orgs/{slug}/issue-batches") => (
                "/api/v1/orgs/alpha/issue-batches".to_owned(),
                Some(json!({"rows": [{"key": format!("authz-{n}"),
                    "learner": "learner2@alpha.test", "competency": "C.1"}]})),
            ),
            ("POST", "/api/v1/orgs/{slug}/issue-batches/csv") => (
                "/api/v1/orgs/alpha/issue-batches/csv".to_owned(),
                Some(Value::String("key,learner,competency\r\n".into())),
            ),
            ("GET", "/api/v1/orgs/{slug}/issue-batches" | "/api/v1/orgs/{slug}/awaiting-credentials") => {
                (template.replace("{slug}", "alpha"), None)
            }
            ("GET", "/api/v1/orgs/{slug}/issue-batches/{id}" | "/api/v1/orgs/{slug}/issue-batches/{id}/rows") => {
                let row = tessera_store::batches::NewBatchRow {
                    row_no: 1,
                    row_key: format!("authz-batch-{n}"),
                    learner_id: self.learner2_id.clone(),
                    competency_id: self.c1.clone(),
                    level: None,
                    activity_start: None,
                    activity_end: None,
                    refused: Some("a fixture row".into()),
                };
                let batch = self
                    .app
                    .state
                    .store
                    .create_batch(&self.alpha_id, None, "api", &[row], self.app.clock_now())
                    .await
                    .unwrap();
                (
                    template.replace("{slug}", "alpha").replace("{id}", &batch.id),
                    None,
                )
            }
            ("GET", "/api/v1/frameworks/{id}/issuance") => {
                (template.replace("{id}", &self.framework_id), None)
            }
            ("PUT", "/api/v1/frameworks/{id}/issuance") => (
                template.replace("{id}", &self.framework_id),
                Some(json!({"issuance": null})),
            ),
            ("POST", "/api/v1/orgs/{slug}/credentials/{id}/status") => {
                // Suspend an active credential, reinstate a suspended one: always allowed.
                let (id, status) = self.credential().await;
                let action = if status == "suspended" {
                    "reinstate"
                } else {
                    "suspend"
                };
                (
                    format!("/api/v1/orgs/alpha/credentials/{id}/status"),
                    Some(json!({"action": action, "reason": "matrix"})),
                )
            }
            (
                "GET",
                "/api/v1/orgs/{slug}/credentials/{id}/download.json"
                | "/api/v1/orgs/{slug}/credentials/{id}/badge.png"
                | "/api/v1/orgs/{slug}/credentials/{id}/badge.svg",
            )
            | ("POST", "/api/v1/orgs/{slug}/credentials/{id}/share-links") => {
                let (id, _) = self.credential().await;
                (
                    template.replace("{slug}", "alpha").replace("{id}", &id),
                    (method == "POST").then(|| json!({"label": "matrix"})),
                )
            }
            ("GET", "/api/v1/me/share-links" | "/api/v1/me/did")
            | ("DELETE", "/api/v1/me/did") => (template.to_owned(), None),
            ("PUT", "/api/v1/me/did") => (
                template.to_owned(),
                Some(json!({"did": "did:web:learner.example"})),
            ),
            ("POST", "/api/v1/me/share-links/{id}/revoke") => {
                // learner2's link to their credential: no caller here owns it.
                let (credential, _) = self.credential().await;
                let (link, _) = self
                    .app
                    .state
                    .store
                    .create_share_link(
                        &tessera_store::share_links::NewShareLink {
                            org_id: &self.alpha_id,
                            owner_id: &self.learner2_id,
                            kind: tessera_store::share_links::ShareKind::Credential,
                            target_id: &credential,
                            label: None,
                            expires_at: None,
                        },
                        self.app.clock_now(),
                    )
                    .await
                    .unwrap();
                (format!("/api/v1/me/share-links/{}/revoke", link.id), None)
            }
            ("GET", "/api/v1/orgs/{slug}/issuer") => (template.replace("{slug}", "alpha"), None),
            ("PUT", "/api/v1/orgs/{slug}/issuer") => (
                template.replace("{slug}", "alpha"),
                Some(json!({"did_method": "web", "issuance": "approval"})),
            ),
            ("POST", "/api/v1/orgs/{slug}/issuer/keys") => {
                (template.replace("{slug}", "alpha"), None)
            }
            ("GET", "/orgs/{slug}/did.json") => ("/orgs/alpha/did.json".to_owned(), None),
            ("GET", "/orgs/{slug}/status/{purpose}/{seq}") => {
                self.credential().await;
                ("/orgs/alpha/status/revocation/1".to_owned(), None)
            }
            ("GET", "/contexts/tessera/v1") => (template.to_owned(), None),
            ("GET", "/orgs/{slug}/achievements/{id}/image.png") => (
                format!("/orgs/alpha/achievements/{}/image.png", self.c1),
                None,
            ),
            ("GET", "/api/v1/orgs/{slug}/learners/{user}/dashboard") => (
                format!("/api/v1/orgs/alpha/learners/{}/dashboard", self.learner2_id),
                None,
            ),
            ("GET", "/api/v1/orgs/{slug}/dashboard") => (
                format!("/api/v1/orgs/alpha/dashboard?framework={}", self.framework_id),
                None,
            ),
            ("GET" | "PUT", "/api/v1/frameworks/{id}/flag-thresholds") => (
                template.replace("{id}", &self.framework_id),
                (method == "PUT").then(|| {
                    json!({"attempts_without_mastery": 3, "days_without_activity": 14, "days_past_target": 0})
                }),
            ),
            ("PUT" | "DELETE", "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/flags/{kind}") => {
                // learner2's target date on C.3 has passed: the rule raises the flag.
                let now = self.app.clock_now();
                let store = &self.app.state.store;
                store
                    .set_target_date(
                        &self.alpha_id,
                        &self.learner2_id,
                        &self.c3,
                        Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()),
                        &self.learner2_id,
                        now,
                    )
                    .await
                    .unwrap();
                if method == "DELETE" {
                    store
                        .decide_flag(
                            &self.alpha_id,
                            &self.learner2_id,
                            &self.c3,
                            tessera_review::flags::FlagKind::PastTarget,
                            tessera_review::flags::DecisionKind::Dismissed,
                            "reason",
                            "matrix",
                            &self.learner2_id,
                            now,
                        )
                        .await
                        .unwrap();
                }
                (
                    format!(
                        "/api/v1/orgs/alpha/learners/{}/competencies/{}/flags/past_target",
                        self.learner2_id, self.c3
                    ),
                    (method == "PUT").then(|| json!({"decision": "dismissed", "note": "matrix"})),
                )
            }
            ("GET", "/api/v1/orgs/{slug}/cohorts") => ("/api/v1/orgs/alpha/cohorts".to_owned(), None),
            ("POST", "/api/v1/orgs/{slug}/cohorts") => (
                "/api/v1/orgs/alpha/cohorts".to_owned(),
                Some(json!({"name": format!("Cohort {n}")})),
            ),
            ("GET", "/api/v1/orgs/{slug}/cohorts/{id}") => {
                let id = self.cohort().await;
                (format!("/api/v1/orgs/alpha/cohorts/{id}"), None)
            }
            ("POST", "/api/v1/orgs/{slug}/cohorts/{id}/members") => {
                let id = self.cohort().await;
                (
                    format!("/api/v1/orgs/alpha/cohorts/{id}/members"),
                    Some(json!({"add": [self.learner2_id]})),
                )
            }
            ("POST", "/api/v1/verify") => (
                template.to_owned(),
                // did:key: verifying it fetches nothing.
                Some(
                    serde_json::from_str(include_str!(
                        "../../tessera-vc/tests/vectors/w3c-vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json"
                    ))
                    .unwrap(),
                ),
            ),
            ("POST", "/api/v1/orgs/{slug}/learners/{user}/transcripts") => {
                self.credential().await;
                (
                    format!("/api/v1/orgs/alpha/learners/{}/transcripts", self.learner2_id),
                    Some(json!({})),
                )
            }
            ("GET", "/api/v1/orgs/{slug}/learners/{user}/transcripts") => (
                format!("/api/v1/orgs/alpha/learners/{}/transcripts", self.learner2_id),
                None,
            ),
            ("GET", "/api/v1/orgs/{slug}/transcripts/{id}") => (
                format!("/api/v1/orgs/alpha/transcripts/{}", self.transcript().await),
                None,
            ),
            ("GET", "/api/v1/orgs/{slug}/transcripts/{id}/pdf") => (
                format!(
                    "/api/v1/orgs/alpha/transcripts/{}/pdf",
                    self.transcript().await
                ),
                None,
            ),
            ("GET", "/api/v1/orgs/{slug}/subgroup-attributes" | "/api/v1/orgs/{slug}/me/subgroups") => {
                (template.replace("{slug}", "alpha"), None)
            }
            ("PUT", "/api/v1/orgs/{slug}/subgroup-attributes/{name}") => (
                "/api/v1/orgs/alpha/subgroup-attributes/matrix-attr".to_owned(),
                Some(json!({"label": "Matrix", "values": ["a", "b"]})),
            ),
            ("DELETE", "/api/v1/orgs/{slug}/subgroup-attributes/{name}") => {
                // A fresh attribute each time, so that an allowed caller removes one.
                let name = format!("gone-{n}");
                self.subgroup_attribute(&name).await;
                (format!("/api/v1/orgs/alpha/subgroup-attributes/{name}"), None)
            }
            ("PUT", "/api/v1/orgs/{slug}/me/subgroups/{name}") => {
                self.subgroup_attribute("matrix-attr").await;
                (
                    "/api/v1/orgs/alpha/me/subgroups/matrix-attr".to_owned(),
                    Some(json!({"value": "a", "consent": true})),
                )
            }
            ("DELETE", "/api/v1/orgs/{slug}/me/subgroups/{name}") => (
                "/api/v1/orgs/alpha/me/subgroups/matrix-attr".to_owned(),
                None,
            ),
            ("GET", "/api/v1/orgs/{slug}/equity" | "/api/v1/orgs/{slug}/equity.csv") => {
                self.subgroup_attribute("matrix-attr").await;
                (
                    format!("{}?attribute=matrix-attr", template.replace("{slug}", "alpha")),
                    None,
                )
            }
            ("POST" | "GET", "/api/v1/orgs/{slug}/transcripts/{id}/share-links") => (
                format!(
                    "/api/v1/orgs/alpha/transcripts/{}/share-links",
                    self.transcript().await
                ),
                (method == "POST").then(|| json!({})),
            ),
            ("POST", "/api/v1/orgs/{slug}/transcripts/{id}/share-links/{link}/revoke") => {
                let transcript = self.transcript().await;
                let (link, _) = self
                    .app
                    .state
                    .store
                    .create_share_link(
                        &tessera_store::share_links::NewShareLink {
                            org_id: &self.alpha_id,
                            owner_id: &self.learner2_id,
                            kind: tessera_store::share_links::ShareKind::Transcript,
                            target_id: &transcript,
                            label: None,
                            expires_at: None,
                        },
                        self.app.clock_now(),
                    )
                    .await
                    .unwrap();
                (
                    format!(
                        "/api/v1/orgs/alpha/transcripts/{transcript}/share-links/{}/revoke",
                        link.id
                    ),
                    None,
                )
            }
            (
                "GET" | "POST",
                "/api/v1/orgs/{slug}/learners/{user}/consents"
                | "/api/v1/orgs/{slug}/learners/{user}/access-log",
            ) => (
                template
                    .replace("{slug}", "alpha")
                    .replace("{user}", &self.learner2_id),
                (method == "POST").then(|| json!({"scope": "research", "recipient": "matrix"})),
            ),
            ("POST", "/api/v1/orgs/{slug}/learners/{user}/consents/{id}/withdraw") => {
                let consent = self
                    .app
                    .state
                    .store
                    .grant_consent(
                        &self.alpha_id,
                        &self.learner2_id,
                        tessera_store::learner_rights::ConsentScope::Research,
                        "matrix",
                        None,
                        self.app.clock_now(),
                    )
                    .await
                    .unwrap();
                (
                    format!(
                        "/api/v1/orgs/alpha/learners/{}/consents/{}/withdraw",
                        self.learner2_id, consent.id
                    ),
                    None,
                )
            }
            ("GET", "/api/v1/me/export") => (template.to_owned(), None),
            ("POST", "/api/v1/orgs/{slug}/learners/{user}/erase") => {
                // A fresh learner each time, so that an allowed caller erases someone new.
                let (id, _) = self.invitation().await;
                let email = format!("erase{n}@alpha.test");
                let store = &self.app.state.store;
                let user_id = store
                    .accept_invitation(
                        &id,
                        None,
                        Some(&tessera_store::accounts::NewUser {
                            email: email.clone(),
                            name: format!("To erase {n}"),
                            password_hash: "x".into(),
                        }),
                        self.app.clock_now(),
                    )
                    .await
                    .unwrap();
                (
                    format!("/api/v1/orgs/alpha/learners/{user_id}/erase"),
                    Some(json!({"confirm_email": email})),
                )
            }
            ("GET" | "PUT", "/api/v1/orgs/{slug}/privacy") => (
                template.replace("{slug}", "alpha"),
                (method == "PUT").then(|| json!({"body": format!("Matrix note {n}.")})),
            ),
            ("PUT", "/api/v1/orgs/{slug}/retention") => (
                template.replace("{slug}", "alpha"),
                Some(json!({"evidence_files_days": null, "access_log_days": 365})),
            ),
            other => panic!("no request prepared for {other:?}: add it to World::request"),
        }
    }
}

/// Equity fixtures for the matrix: a subgroup attribute of alpha.
impl World {
    async fn subgroup_attribute(&self, name: &str) {
        let def = tessera_store::subgroups::AttributeDefinition::parse(name, "Matrix", ["a", "b"])
            .unwrap();
        self.app
            .state
            .store
            .put_subgroup_attribute(&self.alpha_id, &def, self.app.clock_now())
            .await
            .unwrap();
    }
}

/// Review fixtures for the matrix: a rubric for C.1 and C.2, and pending reviews of learner2.
impl World {
    async fn matrix_rubric(&self) {
        let toml = include_str!("../../../rubrics/math-problem-solving.toml")
            .replace("id = \"math-problem-solving\"", "id = \"matrix-rubric\"");
        let start = toml.find("competencies = [").unwrap();
        let end = start + toml[start..].find(']').unwrap() + 1;
        let toml = format!(
            "{}competencies = [\"C.1\", \"C.2\", \"C.3\", \"C.4\"]{}",
            &toml[..start],
            &toml[end..]
        );
        let rubric = tessera_review::Rubric::from_toml_str(&toml, "matrix.toml").unwrap();
        self.app
            .state
            .store
            .publish_rubric(None, &rubric, self.app.clock_now())
            .await
            .unwrap();
    }

    /// A pending review of learner2's evidence for `competency` (submitting it if needed).
    async fn pending_review(&self, competency: &str) -> String {
        use tessera_store::reviews::QueueFilter;
        self.matrix_rubric().await;
        let filter = QueueFilter {
            competency: Some(competency.to_owned()),
            learner: Some(self.learner2_id.clone()),
            ..QueueFilter::default()
        };
        let store = &self.app.state.store;
        if let Some(r) = store
            .review_queue(&self.alpha_id, &filter, 1, 0)
            .await
            .unwrap()
            .into_iter()
            .next()
        {
            return r.id;
        }
        store
            .submit_evidence(
                &tessera_store::evidence::NewSubmission {
                    org_id: self.alpha_id.clone(),
                    learner_id: self.learner2_id.clone(),
                    competency_id: competency.to_owned(),
                    rubric_id: "matrix-rubric".into(),
                    rubric_version: "1.0.0".into(),
                    text: Some("work".into()),
                    links: Vec::new(),
                    files: Vec::new(),
                },
                self.app.clock_now(),
            )
            .await
            .unwrap()
            .review_id
    }
}

/// Issuing fixtures for the matrix: learner2's mastery of C.2 and a credential for it.
impl World {
    /// Makes learner2's C.2 mastered anew (a new mastery date).
    async fn fresh_mastery(&self) {
        use tessera_review::{MasteryState, Outcome};
        use tessera_store::reviews::{Override, OverrideAction};
        let store = &self.app.state.store;
        let teacher = self.app.user_id(self.who(Who::Teacher)).await;
        let record = store
            .learner_record(&self.alpha_id, &self.learner2_id)
            .await
            .unwrap();
        let state = record.competencies.get(&self.c2).map(|r| r.state);
        let set = |action| Override {
            org_id: &self.alpha_id,
            learner_id: &self.learner2_id,
            competency_id: &self.c2,
            action,
            reason: "matrix",
            teacher_id: &teacher,
        };
        match state {
            None => {
                self.pending_review(&self.c2).await;
            }
            Some(MasteryState::Mastered) => {
                store
                    .override_outcome(&set(OverrideAction::Withdraw), self.app.clock_now())
                    .await
                    .unwrap();
            }
            Some(_) => {}
        }
        self.app.clock.advance(Duration::seconds(1));
        store
            .override_outcome(
                &set(OverrideAction::Set(Outcome::Mastered)),
                self.app.clock_now(),
            )
            .await
            .unwrap();
    }

    /// learner2's newest credential (issued for a fresh mastery if there is none): id, status.
    async fn credential(&self) -> (String, String) {
        let store = &self.app.state.store;
        let newest = store
            .credentials(&self.alpha_id, Some(&self.learner2_id), 1, 0)
            .await
            .unwrap()
            .into_iter()
            .next();
        if let Some(c) = newest {
            return (c.id, c.status);
        }
        self.fresh_mastery().await;
        let org = store.org_by_slug("alpha").await.unwrap();
        let (c, _) = tessera_server::routes::issuing::issue_for_mastery(
            &self.app.state,
            &org,
            &self.learner2_id,
            &self.c2,
            None,
        )
        .await
        .unwrap();
        (c.id, c.status)
    }
}

/// Transcript fixtures for the matrix.
impl World {
    /// A transcript of learner2 (made once, official, by the store's own path).
    async fn transcript(&self) -> String {
        let store = &self.app.state.store;
        if let Some(t) = store
            .learner_transcripts(&self.alpha_id, &self.learner2_id, 1, 0)
            .await
            .unwrap()
            .into_iter()
            .next()
        {
            return t.id;
        }
        self.credential().await;
        let org = store.org_by_slug("alpha").await.unwrap();
        let teacher = self.app.user_id(self.who(Who::Teacher)).await;
        tessera_server::routes::transcripts::make_transcript(
            &self.app.state,
            &org,
            &self.learner2_id,
            tessera_server::routes::transcripts::TranscriptKind::Official,
            &tessera_server::routes::transcripts::Choice::Everything,
            &teacher,
        )
        .await
        .unwrap()
        .id
    }
}

/// The matrix rubric's criteria, all at `level`.
fn all_at(level: &str) -> Value {
    let criteria: Vec<Value> = [
        "understanding",
        "strategy",
        "accuracy",
        "reasoning",
        "communication",
    ]
    .iter()
    .map(|c| json!({"criterion": c, "level": level}))
    .collect();
    json!({ "criteria": criteria })
}

/// Moderation, CASE rubric and evidence file fixtures for the matrix (C.3, C.4, learner2).
impl World {
    /// A review of learner2's C.3 evidence waiting for a moderator: scored *mastered* by the
    /// reviewer (sampled: the share is 1000 ‰ for that one score) and *not yet* by the admin of
    /// beta (the store does not check roles), so the matrix's callers were neither reviewer.
    async fn moderation_review(&self) -> String {
        use tessera_review::CriterionScore;
        use tessera_store::reviews::{QueueFilter, ReviewSettings, ReviewStage};
        let store = &self.app.state.store;
        let filter = QueueFilter {
            competency: Some(self.c3.clone()),
            learner: Some(self.learner2_id.clone()),
            stage: Some(ReviewStage::Moderation),
            ..QueueFilter::default()
        };
        if let Some(r) = store
            .review_queue(&self.alpha_id, &filter, 1, 0)
            .await
            .unwrap()
            .into_iter()
            .next()
        {
            return r.id;
        }
        let id = self.pending_review(&self.c3).await;
        let (_, rubric) = store
            .rubric(&self.alpha_id, "matrix-rubric", Some("1.0.0"))
            .await
            .unwrap();
        let scored = |level: &str| {
            let scores: Vec<CriterionScore> = [
                "understanding",
                "strategy",
                "accuracy",
                "reasoning",
                "communication",
            ]
            .iter()
            .map(|c| CriterionScore::new(*c, level))
            .collect();
            rubric.score(&scores).unwrap()
        };
        let reviewer = self.app.user_id(self.who(Who::Reviewer)).await;
        let other = self.app.user_id(self.who(Who::OtherAdmin)).await;
        let now = self.app.clock_now();
        let share = |sample_per_mille| ReviewSettings { sample_per_mille };
        store
            .set_review_settings(&self.alpha_id, share(1000), &reviewer, now)
            .await
            .unwrap();
        let review = store.review(&id).await.unwrap();
        store
            .score_review(&review, &reviewer, &scored("expert"), now)
            .await
            .unwrap();
        store
            .set_review_settings(&self.alpha_id, share(0), &reviewer, now)
            .await
            .unwrap();
        let review = store.review(&id).await.unwrap();
        store
            .score_review(&review, &other, &scored("novice"), now)
            .await
            .unwrap();
        assert_eq!(store.review(&id).await.unwrap().stage, "moderation");
        id
    }

    /// The id of a CFRubric imported into alpha (importing a package with one if needed).
    async fn case_rubric(&self) -> String {
        let store = &self.app.state.store;
        if let Some(r) = store
            .case_rubrics(&self.alpha_id)
            .await
            .unwrap()
            .into_iter()
            .next()
        {
            return r.id;
        }
        self.app
            .post(
                "/api/v1/orgs/alpha/case-packages",
                self.who(Who::Platform),
                case_package_with_rubric(),
            )
            .await
            .expect(201);
        store.case_rubrics(&self.alpha_id).await.unwrap()[0]
            .id
            .clone()
    }

    /// The id of learner2's C.4 submission with one text file (stored like the route does).
    async fn submission_with_file(&self) -> String {
        use sha2::Digest;
        let store = &self.app.state.store;
        if let Some(s) = store
            .submissions(&self.alpha_id, &self.learner2_id, Some(&self.c4))
            .await
            .unwrap()
            .into_iter()
            .next()
        {
            return s.id;
        }
        self.matrix_rubric().await;
        let bytes = b"learner2's notes";
        let sha = hex::encode(sha2::Sha256::digest(bytes));
        let dir = self
            .app
            .state
            .config
            .data_dir
            .join("evidence")
            .join(&sha[..2]);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(&sha), bytes).unwrap();
        store
            .submit_evidence(
                &tessera_store::evidence::NewSubmission {
                    org_id: self.alpha_id.clone(),
                    learner_id: self.learner2_id.clone(),
                    competency_id: self.c4.clone(),
                    rubric_id: "matrix-rubric".into(),
                    rubric_version: "1.0.0".into(),
                    text: None,
                    links: Vec::new(),
                    files: vec![tessera_store::evidence::NewFile {
                        sha256: sha,
                        media_type: "text/plain".into(),
                        filename: Some("notes.txt".into()),
                        size_bytes: bytes.len() as i64,
                    }],
                },
                self.app.clock_now(),
            )
            .await
            .unwrap()
            .id
    }
}

/// A CASE package with fresh identifiers: a document, one item, and a CFRubric assessing it.
fn case_package_with_rubric() -> Value {
    let mut package = case_package();
    let item = package["CFItems"][0].clone();
    let [rubric, criterion, meets, beginning] = [0; 4].map(|_| uuid::Uuid::new_v4().to_string());
    let uri = |id: &str| format!("https://case.example.test/uri/{id}");
    let level = |id: &str, quality: &str, score: u32, position: u32| {
        json!({"identifier": id, "uri": uri(id), "quality": quality, "score": score,
            "description": quality, "position": position, "rubricCriterionId": criterion,
            "lastChangeDateTime": "2026-01-01T00:00:00Z"})
    };
    package["CFRubrics"] = json!([{
        "identifier": rubric, "uri": uri(&rubric), "title": "Matrix CASE rubric",
        "lastChangeDateTime": "2026-01-01T00:00:00Z",
        "CFRubricCriteria": [{
            "identifier": criterion, "uri": uri(&criterion), "category": "Quality",
            "description": "Quality of the work", "position": 1, "rubricId": rubric,
            "lastChangeDateTime": "2026-01-01T00:00:00Z",
            "CFItemURI": {"title": "M.1", "identifier": item["identifier"], "uri": item["uri"]},
            "CFRubricCriterionLevels": [level(&meets, "Meets", 2, 1), level(&beginning, "Beginning", 1, 2)]
        }]
    }]);
    package
}

impl TestApp {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use tessera_core::clock::Clock;
        self.clock.now()
    }
}

#[tokio::test]
async fn every_route_allows_exactly_the_roles_in_the_matrix() {
    let world = World::new().await;
    let mut failures = Vec::new();
    for (method, template, allowed, ok_status) in MATRIX {
        for who in EVERYONE {
            let (path, body) = world.request(method, template, who).await;
            let reply = world
                .app
                .send(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    &path,
                    world.who(who),
                    body,
                )
                .await;
            let got = reply.status.as_u16();
            let fine = if allowed.contains(&who) {
                got == *ok_status
            } else if who == Who::Anonymous {
                got == 401 && reply.json["code"] == "unauthenticated"
            } else {
                (got == 403 && reply.json["code"] == "forbidden")
                    || (got == 404 && reply.json["code"] == "not-found")
            };
            if !fine {
                let verdict = if allowed.contains(&who) {
                    "allow"
                } else {
                    "deny"
                };
                failures.push(format!(
                    "{method} {template} as {who:?}: expected {verdict}, got {got} {}",
                    reply.json
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} matrix failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_matrix_lists_every_route_of_the_openapi_document() {
    let app = TestApp::new().await;
    let doc = app
        .get("/api/v1/openapi.json", &As::Anonymous)
        .await
        .expect(200);
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
        Some(true),
        "{}",
        doc["openapi"]
    );
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let listed: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _, _)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = documented.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes without a matrix row: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "matrix rows for routes that do not exist: {stale:?}"
    );
}

#[tokio::test]
async fn a_learner_cannot_read_another_learners_profile_but_can_read_their_own() {
    let world = World::new().await;
    let learner = world.who(Who::Learner);
    let own = world.app.user_id(learner).await;
    world
        .app
        .get(&format!("/api/v1/users/{own}"), learner)
        .await
        .expect(200);
    world
        .app
        .get(&format!("/api/v1/users/{}", world.learner2_id), learner)
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test]
async fn an_admin_of_another_organisation_cannot_change_this_one() {
    let world = World::new().await;
    let other = world.who(Who::OtherAdmin);
    let before = world.app.state.store.registry_counts().await.unwrap();
    let rev = world.revision().await;
    world
        .app
        .send(
            Method::PATCH,
            &format!("/api/v1/frameworks/{}", world.framework_id),
            other,
            Some(json!({"revision": rev, "status": "retired"})),
        )
        .await
        .expect_problem(404, "not-found");
    world
        .app
        .post(
            "/api/v1/orgs/alpha/invitations",
            other,
            json!({"email": "x@beta.test", "role": "admin"}),
        )
        .await
        .expect_problem(404, "not-found");
    assert_eq!(
        world.app.state.store.registry_counts().await.unwrap(),
        before
    );
    assert_eq!(world.revision().await, rev);
    let fw = world
        .app
        .state
        .store
        .framework(&world.framework_id)
        .await
        .unwrap();
    assert_eq!(fw.status.as_str(), "active");
}

/// A minimal CASE 1.1 package with fresh identifiers (a document and one item under it), so
/// every import creates a new framework.
fn case_package() -> Value {
    let [doc, item, link] = [0; 3].map(|_| uuid::Uuid::new_v4().to_string());
    let uri = |id: &str| format!("https://case.example.test/uri/{id}");
    json!({
        "CFDocument": {"identifier": doc, "uri": uri(&doc), "creator": "Matrix", "title": "Matrix framework",
            "lastChangeDateTime": "2026-01-01T00:00:00Z", "caseVersion": "1.1"},
        "CFItems": [{"identifier": item, "uri": uri(&item), "fullStatement": "A competency",
            "humanCodingScheme": "M.1", "lastChangeDateTime": "2026-01-01T00:00:00Z"}],
        "CFAssociations": [{"identifier": link, "uri": uri(&link), "associationType": "isChildOf",
            "originNodeURI": {"title": "M.1", "identifier": item, "uri": uri(&item)},
            "destinationNodeURI": {"title": "Matrix framework", "identifier": doc, "uri": uri(&doc)},
            "lastChangeDateTime": "2026-01-01T00:00:00Z"}]
    })
}
