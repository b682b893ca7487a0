//! Black-box tests of `tessera serve`: the real binary on a temporary data directory, a port
//! chosen by the OS, and the database `TESSERA_TEST_BACKEND` names.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tessera_store::Backend;
use tessera_store::testing::{TestDb, test_backend};

struct Server {
    child: Child,
    addr: String,
    setup_link: Option<String>,
}

/// Starts `tessera serve` with `env` and reads its stdout until it says where it listens.
fn start(env: &[(&str, String)]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("TESSERA_CONFIG")
        .env("TESSERA_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start tessera serve");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut setup_link = None;
    let addr = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        if let Some(link) = line
            .trim()
            .strip_prefix("http://")
            .filter(|l| l.contains("/setup?token="))
        {
            setup_link = Some(format!("http://{link}"));
        }
        if let Some(addr) = line.strip_prefix("tessera listening on http://") {
            break addr.to_owned();
        }
    };
    Server {
        child,
        addr,
        setup_link,
    }
}

/// A plain HTTP/1.1 GET; returns the status code and the body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Sends SIGTERM and waits (bounded) for the exit status.
fn terminate(mut server: Server) -> std::process::ExitStatus {
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not stop within 20 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_creates_its_data_dir_answers_health_and_exits_0_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh").join("tessera-data");
    // On PostgreSQL the server gets a fresh database; on SQLite it makes its own in the data dir.
    let db = match test_backend() {
        Backend::Postgres => Some(TestDb::new().await),
        Backend::Sqlite => None,
    };
    let mut env = vec![("TESSERA_DATA_DIR", data.display().to_string())];
    if let Some(db) = &db {
        env.push(("DATABASE_URL", db.url.clone()));
    }
    let server = tokio::task::spawn_blocking(move || start(&env))
        .await
        .unwrap();

    let link = server
        .setup_link
        .clone()
        .expect("a fresh service prints a setup link");
    assert!(
        link.starts_with(&format!("http://{}/setup?token=", server.addr)),
        "{link}"
    );
    let token = link.split_once("token=").unwrap().1;
    assert_eq!(token.len(), 64);
    let addr = server.addr.clone();
    let (status, body) = tokio::task::spawn_blocking(move || get(&addr, "/health"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"database\":\"ok\""), "{body}");
    if db.is_none() {
        assert!(
            data.join("tessera.db").exists(),
            "no database file in the data dir"
        );
    }

    let status = tokio::task::spawn_blocking(move || terminate(server))
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_restart_without_an_admin_prints_a_new_setup_link() {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![("TESSERA_DATA_DIR", dir.path().display().to_string())];
    let first = start(&env);
    let first_link = first.setup_link.clone().unwrap();
    assert_eq!(terminate(first).code(), Some(0));
    // Still no admin: a new link (the store keeps only the newest one valid).
    let second = start(&env);
    let second_link = second.setup_link.clone().unwrap();
    assert_ne!(first_link, second_link);
    assert_eq!(terminate(second).code(), Some(0));
}

#[test]
fn a_wrong_setting_stops_start_up_with_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("serve")
        .env("TESSERA_DATA_DIR", dir.path())
        .env("TESSERA_BIND", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TESSERA_BIND"), "{stderr}");

    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("serve")
        .env("TESSERA_DATA_DIR", dir.path())
        .env("DATABASE_URL", "mysql://nope")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));
}
