//! Bulk issuance, black-box, on the database `TESSERA_TEST_BACKEND` names:
//! - the must-hold test: the real `tessera serve` binary issues a posted batch, is killed with
//!   SIGKILL in the middle of the run, is started again on the same database, and in the end
//!   every row is issued exactly once and every credential verifies against the DID document
//!   and status lists the service serves;
//! - `tessera issue bulk FILE.csv --org SLUG` itself: good rows issued, bad rows listed with
//!   their reasons, exit code 1, and a second run issues nothing twice.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_store::testing::TestDb;
use tessera_vc::{VerifyOptions, verify_bytes};

const PASSWORD: &str = "correct horse battery staple";
const ROWS: usize = 600;

struct Server {
    child: Child,
    addr: String,
    setup_link: Option<String>,
}

/// Starts `tessera serve` on `database_url` and `data_dir` and waits until it listens.
fn start(database_url: &str, data_dir: &std::path::Path) -> Server {
    start_with(database_url, data_dir, &[])
}

/// [`start`] with more environment variables (they win over the ones set here).
fn start_with(database_url: &str, data_dir: &std::path::Path, vars: &[(&str, &str)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command
        .arg("serve")
        .env_remove("TESSERA_CONFIG")
        .env_remove("TESSERA_MASTER_KEY")
        .env("DATABASE_URL", database_url)
        .env("TESSERA_DATA_DIR", data_dir)
        .env("TESSERA_BIND", "127.0.0.1:0")
        // The same public URL across restarts: the issuer DID must not change with the port.
        .env("TESSERA_PUBLIC_URL", "https://school.example")
        // Take a killed process's claims over after 2 s instead of a minute.
        .env("TESSERA_BULK_CLAIM_TIMEOUT_SECS", "2")
        .env("TESSERA_BULK_WORKERS", "2")
        .env("TESSERA_AUTO_ISSUE_SECS", "0")
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("start tessera serve");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut setup_link = None;
    let addr = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        if line.contains("/setup?token=") {
            setup_link = Some(line.trim().to_owned());
        }
        if let Some(addr) = line.strip_prefix("tessera listening on http://") {
            break addr.to_owned();
        }
    };
    // Keep reading stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        addr,
        setup_link,
    }
}

/// One HTTP/1.1 request; returns the status, the `Set-Cookie` header and the body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let cookie = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or(l.strip_prefix("Set-Cookie: "))
        })
        .unwrap_or("")
        .to_owned();
    // Chunked bodies (axum streams some): undo the chunking.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        body.to_owned()
    };
    (status, cookie, body)
}

fn json_call(
    addr: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let text = body.to_string();
    let (status, _, out) = http(
        addr,
        method,
        path,
        &headers,
        (!body.is_null()).then_some(text.as_str()),
    );
    (status, serde_json::from_str(&out).unwrap_or(Value::Null))
}

/// Setup, an organisation with two learners and a competency, and the admin's API token.
fn prepare(server: &Server) -> (String, String) {
    let addr = &server.addr;
    let link = server.setup_link.clone().expect("a setup link");
    let token = link.split_once("token=").unwrap().1;
    let (s, b) = json_call(
        addr,
        "POST",
        "/api/v1/setup",
        None,
        json!({"token": token, "email": "root@school.test", "name": "Root", "password": PASSWORD}),
    );
    assert_eq!(s, 201, "{b}");
    let body = json!({"email": "root@school.test", "password": PASSWORD}).to_string();
    let (s, cookie, reply) = http(addr, "POST", "/api/v1/auth/login", &[], Some(&body));
    assert_eq!(s, 200, "{reply}");
    let csrf = serde_json::from_str::<Value>(&reply).unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = cookie.split(';').next().unwrap().to_owned();
    let (s, _, reply) = http(
        addr,
        "POST",
        "/api/v1/me/tokens",
        &[("Cookie", &session), ("X-CSRF-Token", &csrf)],
        Some(&json!({"name": "test"}).to_string()),
    );
    assert_eq!(s, 201, "{reply}");
    let bearer = serde_json::from_str::<Value>(&reply).unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = Some(bearer.as_str());
    let (s, b) = json_call(
        addr,
        "POST",
        "/api/v1/orgs",
        t,
        json!({"slug": "school", "name": "School", "kind": "school"}),
    );
    assert_eq!(s, 201, "{b}");
    for email in ["ann@school.test", "ben@school.test"] {
        let (s, inv) = json_call(
            addr,
            "POST",
            "/api/v1/orgs/school/invitations",
            t,
            json!({"email": email, "role": "learner"}),
        );
        assert_eq!(s, 201, "{inv}");
        let (s, b) = json_call(
            addr,
            "POST",
            "/api/v1/invitations/accept",
            None,
            json!({"token": inv["token"], "name": email, "password": PASSWORD}),
        );
        assert_eq!(s, 200, "{b}");
    }
    let (s, fw) = json_call(
        addr,
        "POST",
        "/api/v1/orgs/school/frameworks",
        t,
        json!({"title": "Reading"}),
    );
    assert_eq!(s, 201, "{fw}");
    let (s, c) = json_call(
        addr,
        "POST",
        &format!(
            "/api/v1/frameworks/{}/competencies",
            fw["id"].as_str().unwrap()
        ),
        t,
        json!({"code": "R.1", "statement": "Reads aloud fluently"}),
    );
    assert_eq!(s, 201, "{c}");
    (bearer, c["id"].as_str().unwrap().to_owned())
}

fn summary(addr: &str, bearer: &str, batch: &str) -> Value {
    let (s, b) = json_call(
        addr,
        "GET",
        &format!("/api/v1/orgs/school/issue-batches/{batch}"),
        Some(bearer),
        Value::Null,
    );
    assert_eq!(s, 200, "{b}");
    b
}

fn kill_9(server: &mut Server) {
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    server.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bulk_run_killed_with_sigkill_and_restarted_issues_every_row_exactly_once() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let url = db.url.clone();
    let dir = data.path().to_owned();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut server = start(&url, &dir);
        let (bearer, _competency) = prepare(&server);
        let rows: Vec<Value> = (0..ROWS)
            .map(|i| {
                json!({
                    "key": format!("term1-{i:04}"),
                    "learner": if i % 2 == 0 { "ann@school.test" } else { "ben@school.test" },
                    "competency": "R.1",
                    "level": "Secure",
                    "activity_start": "2026-09-01",
                    "activity_end": "2026-11-20",
                })
            })
            .collect();
        let (s, batch) = json_call(
            &server.addr,
            "POST",
            "/api/v1/orgs/school/issue-batches",
            Some(&bearer),
            json!({ "rows": rows }),
        );
        assert_eq!(s, 201, "{batch}");
        let batch_id = batch["id"].as_str().unwrap().to_owned();

        // Kill -9 once some rows are issued and some are not.
        let deadline = Instant::now() + Duration::from_secs(120);
        let issued_at_kill = loop {
            let b = summary(&server.addr, &bearer, &batch_id);
            let issued = b["issued"].as_u64().unwrap();
            // Mid-run: some rows stored, some claimed by a worker that is signing them.
            if issued > 0 && b["claimed"].as_u64().unwrap() > 0 {
                kill_9(&mut server);
                break issued;
            }
            assert!(
                Instant::now() < deadline,
                "nothing issued within 120 s: {b}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            (issued_at_kill as usize) < ROWS,
            "the run was over before the kill ({issued_at_kill} issued)"
        );

        // Start again on the same database and data directory; the rows finish.
        let server = start(&url, &dir);
        let deadline = Instant::now() + Duration::from_secs(300);
        let done = loop {
            let b = summary(&server.addr, &bearer, &batch_id);
            if b["pending"] == 0 && b["claimed"] == 0 {
                break b;
            }
            assert!(
                Instant::now() < deadline,
                "not finished within 300 s after the restart: {b}"
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        // What the restarted service serves, to verify with.
        let did = http(&server.addr, "GET", "/orgs/school/did.json", &[], None).2;
        let lists: Vec<String> = ["revocation", "suspension"]
            .iter()
            .map(|p| {
                http(
                    &server.addr,
                    "GET",
                    &format!("/orgs/school/status/{p}/1"),
                    &[],
                    None,
                )
                .2
            })
            .collect();
        let mut rows = Vec::new();
        for offset in (0..ROWS).step_by(500) {
            let (s, page) = json_call(
                &server.addr,
                "GET",
                &format!(
                    "/api/v1/orgs/school/issue-batches/{batch_id}/rows?limit=500&offset={offset}"
                ),
                Some(&bearer),
                Value::Null,
            );
            assert_eq!(s, 200);
            rows.extend(page.as_array().unwrap().clone());
        }
        let mut server = server;
        kill_9(&mut server);
        (issued_at_kill, done, did, lists, rows)
    })
    .await
    .unwrap();
    let (issued_at_kill, done, did, lists, rows) = outcome;
    eprintln!("killed with {issued_at_kill} of {ROWS} rows issued");
    assert_eq!(done["issued"], ROWS, "{done}");
    assert_eq!(done["failed"], 0, "{done}");
    assert_eq!(rows.len(), ROWS);

    // Exactly once: one credential per row, none without a row, none twice.
    let org = db.store.org_by_slug("school").await.unwrap();
    let mut stored = Vec::new();
    for offset in (0..ROWS as i64 + 500).step_by(500) {
        stored.extend(
            db.store
                .credentials(&org.id, None, 500, offset)
                .await
                .unwrap(),
        );
    }
    assert_eq!(stored.len(), ROWS, "credentials stored");
    let by_id: std::collections::HashMap<&str, &tessera_store::credentials::Credential> =
        stored.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut keys = std::collections::HashSet::new();
    for row in &rows {
        assert_eq!(row["state"], "issued", "{row}");
        let c = by_id[row["credential_id"].as_str().unwrap()];
        assert_eq!(
            c.idempotency_key,
            format!("batch:{}:{}", org.id, row["row_key"].as_str().unwrap())
        );
        assert!(keys.insert(c.idempotency_key.clone()));
    }
    // Every credential verifies against the served DID document and status lists.
    assert_all_verify(&did, &lists, &stored);
}

/// Asserts that each of `stored` verifies against the DID document and status lists fetched
/// (as JSON text) before the call. The clock is read here, after the fetch: a list signed on
/// demand is valid from the second it was signed, which may be later than a time read before.
fn assert_all_verify(
    did: &str,
    lists: &[String],
    stored: &[tessera_store::credentials::Credential],
) {
    let mut options = VerifyOptions::new(chrono::Utc::now());
    options
        .add_controller_document(&serde_json::from_str(did).unwrap())
        .unwrap();
    for list in lists {
        options
            .add_status_list(serde_json::from_str(list).unwrap())
            .unwrap();
    }
    for c in stored {
        let report = verify_bytes(c.signed.as_bytes(), &options).unwrap();
        assert!(report.verified, "{}: {report:?}", c.id);
    }
}

/// Verifies every stored credential of the organisation against the DID document and status
/// lists the service serves; returns how many there are.
async fn verify_all(db: &TestDb, addr: &str) -> usize {
    let did = http(addr, "GET", "/orgs/school/did.json", &[], None).2;
    let lists: Vec<String> = ["revocation", "suspension"]
        .iter()
        .map(|p| {
            http(
                addr,
                "GET",
                &format!("/orgs/school/status/{p}/1"),
                &[],
                None,
            )
            .2
        })
        .collect();
    let org = db.store.org_by_slug("school").await.unwrap();
    let stored = db.store.credentials(&org.id, None, 1000, 0).await.unwrap();
    assert_all_verify(&did, &lists, &stored);
    stored.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn tessera_issue_bulk_issues_good_rows_lists_bad_ones_and_issues_nothing_twice() {
    const GOOD: usize = 40;
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let url = db.url.clone();
    let dir = data.path().to_owned();
    // The service is up for setup and to serve the DID document, with no bulk workers of its
    // own: every row is issued by the command.
    let mut server = {
        let (url, dir) = (url.clone(), dir.clone());
        tokio::task::spawn_blocking(move || {
            let server = start_with(&url, &dir, &[("TESSERA_BULK_WORKERS", "0")]);
            prepare(&server);
            server
        })
        .await
        .unwrap()
    };
    let mut csv = String::from("key,learner,competency,level,activity_start,activity_end\n");
    for i in 0..GOOD {
        let learner = if i % 2 == 0 {
            "ann@school.test"
        } else {
            "ben@school.test"
        };
        csv.push_str(&format!(
            "t1-{i:03},{learner},R.1,Secure,2026-09-01,2026-11-20\n"
        ));
    }
    csv.push_str("t1-900,ann@school.test\n"); // too few fields
    csv.push_str("t1-901,ann@school.test,Z.9,Secure,,\n"); // unknown competency
    csv.push_str("t1-000,ben@school.test,R.1,Secure,,\n"); // the first row's key again
    csv.push_str("t1-902,ben@school.test,R.1,Secure,2026-13-45,\n"); // not a date
    let file = data.path().join("term1.csv");
    std::fs::write(&file, &csv).unwrap();

    let run = move || {
        let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["issue", "bulk"])
            .arg(&file)
            .args(["--org", "school", "--workers", "2"])
            .env_remove("TESSERA_CONFIG")
            .env_remove("TESSERA_MASTER_KEY")
            .env("DATABASE_URL", &url)
            .env("TESSERA_DATA_DIR", &dir)
            .env("TESSERA_PUBLIC_URL", "https://school.example")
            .output()
            .expect("run tessera issue bulk");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = tokio::task::spawn_blocking(run.clone()).await.unwrap();
    assert_eq!(code, Some(1), "some rows failed: {stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("{GOOD} issued, 4 failed, of {} rows", GOOD + 4)),
        "{stdout}\n{stderr}"
    );
    // The progress bar (stderr is not a terminal: one line per tenth) and every bad row's reason.
    assert!(stderr.contains("100% 44/44"), "{stderr}");
    for reason in [
        "row 41 (key \"t1-900\"): malformed row",
        "row 42 (key \"t1-901\"): unknown competency \"Z.9\"",
        "row 43 (key \"t1-000\"): duplicate row key \"t1-000\" (first used on row 1)",
        "row 44 (key \"t1-902\"): activity_start",
    ] {
        assert!(stderr.contains(reason), "{reason:?} missing in:\n{stderr}");
    }
    assert_eq!(verify_all(&db, &server.addr).await, GOOD);

    // The same file again: every good row reports its first credential; nothing new is signed.
    let (code, stdout, stderr) = tokio::task::spawn_blocking(run).await.unwrap();
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("{GOOD} issued, 4 failed")),
        "{stdout}\n{stderr}"
    );
    assert_eq!(
        verify_all(&db, &server.addr).await,
        GOOD,
        "nothing issued twice"
    );
    kill_9(&mut server);
}
