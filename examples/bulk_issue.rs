//! Bulk issuance benchmark: enqueue N rows as one batch and issue them (build, sign with
//! `eddsa-rdfc-2022`, reserve status entries, store the exact bytes, audit), with the same
//! worker code `tessera serve` and `tessera issue bulk` run.
//!
//! ```text
//! cargo run --release --example bulk_issue -- [ROWS] [WORKERS]
//! TESSERA_TEST_BACKEND=postgres TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run --release --example bulk_issue -- 100000 2
//! ```
//! ROWS defaults to 100000, WORKERS (concurrent worker tasks) to 2. The database is a fresh one
//! from the test harness (a temporary SQLite file, or a new PostgreSQL database dropped at the
//! end). Figures are in BENCHMARKS.md.

use std::sync::Arc;
use std::time::Instant;

use tessera_core::account::{OrgKind, Role};
use tessera_core::clock::{Clock, SystemClock};
use tessera_server::bulk_worker::{self, RawRow};
use tessera_server::routes::setup::{SetupRequest, complete_setup};
use tessera_server::{Config, startup};
use tessera_store::accounts::{NewInvitation, NewUser};
use tessera_store::registry::{CompetencyFields, FrameworkFields};
use tessera_store::testing::TestDb;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LEARNERS: usize = 200;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let workers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let db = TestDb::new().await;
    let data = tempfile::tempdir().expect("temp dir");
    let vars = [
        ("DATABASE_URL", db.url.clone()),
        ("TESSERA_DATA_DIR", data.path().display().to_string()),
        ("TESSERA_PUBLIC_URL", "https://school.example".to_owned()),
    ];
    let config = Config::load(
        &|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()),
        None,
    )
    .expect("config");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let prepared = startup::prepare(config, clock).await.expect("start");
    let state = prepared.state;
    let token = prepared
        .setup_link
        .and_then(|l| l.split_once("token=").map(|(_, t)| t.to_owned()))
        .expect("setup link");
    let root = complete_setup(
        &state,
        SetupRequest {
            token,
            email: "root@school.example".into(),
            name: "Root".into(),
            password: "correct horse battery staple".into(),
        },
    )
    .await
    .expect("setup");
    let store = &state.store;
    let now = state.clock.now();
    let org = store
        .create_org("bench", "Bench School", OrgKind::School, now)
        .await
        .expect("org");
    for i in 0..LEARNERS {
        let inv = store
            .create_invitation(
                &NewInvitation {
                    org_id: org.id.clone(),
                    email: format!("learner{i}@school.example"),
                    role: Role::Learner,
                    token_hash: format!("{i:064x}"),
                    created_by: root.id.clone(),
                    expires_at: now + chrono::Duration::days(1),
                },
                now,
            )
            .await
            .expect("invitation");
        store
            .accept_invitation(
                &inv.id,
                None,
                Some(&NewUser {
                    email: format!("learner{i}@school.example"),
                    name: format!("Learner {i}"),
                    password_hash: "not-a-login".into(),
                }),
                now,
            )
            .await
            .expect("accept");
    }
    let fw = store
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
    for code in ["R.1", "R.2", "R.3"] {
        store
            .create_competency(
                &fw.id,
                &CompetencyFields {
                    code: Some(code.into()),
                    statement: format!("Reading {code}"),
                    ..CompetencyFields::default()
                },
                None,
                &state.uris,
                now,
            )
            .await
            .expect("competency");
    }
    let raw: Vec<RawRow> = (0..rows)
        .map(|i| RawRow {
            key: format!("bench-{i}"),
            learner: format!("learner{}@school.example", i % LEARNERS),
            competency: ["R.1", "R.2", "R.3"][i % 3].into(),
            level: Some("Secure".into()),
            activity_start: Some("2026-09-01".into()),
            activity_end: Some("2026-11-20".into()),
            malformed: None,
        })
        .collect();

    let started = Instant::now();
    let prepared_rows = bulk_worker::prepare_rows(store, &org.id, raw, now)
        .await
        .expect("rows");
    let batch = store
        .create_batch(&org.id, None, "bench", &prepared_rows, now)
        .await
        .expect("batch");
    let enqueued = started.elapsed();
    assert_eq!(batch.pending as usize, rows, "every row is pending");

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let state = state.clone();
        tasks.spawn(async move {
            let timeout = std::time::Duration::from_secs(600);
            let mut issued = 0;
            loop {
                let r = bulk_worker::process_chunk(&state, bulk_worker::CHUNK, timeout)
                    .await
                    .expect("chunk");
                if r.claimed == 0 {
                    return issued;
                }
                issued += r.issued;
            }
        });
    }
    let mut issued = 0;
    while let Some(n) = tasks.join_next().await {
        issued += n.expect("worker");
    }
    let issuing = started.elapsed();
    let done = store.batch(&org.id, &batch.id).await.expect("batch");
    assert_eq!(issued, rows);
    assert_eq!(done.issued as usize, rows);
    let backend = store.backend().as_str();
    println!(
        "{backend}: {rows} rows, {workers} workers: enqueue {:.2} s; issue (sign + store) {:.2} s = {:.0} credentials/s; total {:.2} s",
        enqueued.as_secs_f64(),
        issuing.as_secs_f64(),
        rows as f64 / issuing.as_secs_f64(),
        (enqueued + issuing).as_secs_f64()
    );
    store.close().await;
    drop(db);
}
