//! `tessera keys rotate --org SLUG` and `tessera issue bulk FILE.csv --org SLUG`.
//!
//! `keys rotate` gives the organisation a new issuer key. The old key stays
//! in the organisation's DID document as a past key, so credentials it signed keep verifying;
//! new credentials and status lists are signed with the new one. Audited (`IssuerKeyRotated`).
//!
//! It uses the configuration `tessera serve` uses (`DATABASE_URL`, `TESSERA_*`, `--config FILE`)
//! and the same master key (`TESSERA_MASTER_KEY`, else `<data dir>/master.key`). Neither key nor
//! secret is printed: only the new key's id, number and public key.
//!
//! Exit codes: 0 rotated, 1 the organisation does not exist, 2 the configuration, the master key
//! or the database cannot be used.
//!
//! `issue bulk` enqueues the file's rows as one batch (checked row by row, like the API's CSV
//! upload) and issues them with worker tasks in this process, showing a progress bar; running
//! `tessera serve` processes on the same database share the rows. Same configuration and master
//! key as above.

use std::path::PathBuf;
use std::process::ExitCode;

use secrecy::ExposeSecret;
use tessera_server::Config;
use tessera_server::routes::issuing::{load_master_key, rotate_key};
use tessera_store::{Store, StoreError, StoreOptions};

/// `tessera keys rotate` (a subcommand of `keys`, beside `keys generate`).
#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// The organisation's slug.
    #[arg(long, value_name = "SLUG")]
    org: String,
    /// A TOML configuration file (default: $TESSERA_CONFIG, else none).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Rotates the organisation's issuer key.
pub fn run_rotate(args: RotateArgs) -> ExitCode {
    rotate(&args.org, args.config)
}

fn rotate(slug: &str, config_file: Option<PathBuf>) -> ExitCode {
    let config = match Config::load(&|k| std::env::var(k).ok(), config_file.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tessera keys rotate: {e}");
            return ExitCode::from(2);
        }
    };
    let env_key = config
        .master_key
        .as_ref()
        .map(|k| k.expose_secret().to_owned());
    let master = match load_master_key(env_key.as_deref(), &config.data_dir) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("tessera keys rotate: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tessera keys rotate: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let url = config.database_url.expose_secret().to_owned();
    let outcome = runtime.block_on(async {
        let store = Store::connect(&url, &StoreOptions::default())
            .await
            .map_err(|e| (2, e.to_string()))?;
        let result = async {
            let org = store.org_by_slug(slug).await.map_err(|e| match e {
                StoreError::NotFound => (1, format!("no organisation {slug:?}")),
                other => (2, other.to_string()),
            })?;
            rotate_key(&store, &master, &org.id, None, chrono::Utc::now())
                .await
                .map_err(|e| (2, e.to_string()))
        }
        .await;
        store.close().await;
        result
    });
    match outcome {
        Ok(key) => {
            println!(
                "rotated: {slug} now signs with key {} (#key-{}, {}); older keys stay in its DID document",
                key.id, key.seq, key.public_key_multibase
            );
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            eprintln!("tessera keys rotate: {message}");
            ExitCode::from(code)
        }
    }
}

/// `tessera issue …`: issuing from the command line, against the configured database.
#[derive(Debug, clap::Subcommand)]
pub enum IssueCommand {
    /// Issue a credential for each row of a CSV file (header: key,learner,competency and
    /// optionally level,activity_start,activity_end). Each row is issued at most once by its
    /// key, so running the same file again issues nothing twice. Exit codes: 0 every row
    /// issued, 1 some rows failed (each is listed with its reason) or the organisation does
    /// not exist, 2 the file, configuration, master key or database cannot be used.
    Bulk(BulkArgs),
}

/// `tessera issue bulk FILE.csv --org SLUG`.
#[derive(Debug, clap::Args)]
pub struct BulkArgs {
    /// The CSV file.
    #[arg(value_name = "FILE.csv")]
    file: PathBuf,
    /// The organisation's slug.
    #[arg(long, value_name = "SLUG")]
    org: String,
    /// A TOML configuration file (default: $TESSERA_CONFIG, else none).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Worker tasks signing and storing in this process (default: one per core, at most 4).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
}

/// Runs `tessera issue …`.
pub fn run_issue(command: IssueCommand) -> ExitCode {
    match command {
        IssueCommand::Bulk(args) => bulk(args),
    }
}

fn bulk(args: BulkArgs) -> ExitCode {
    let fail = |code: u8, message: String| {
        eprintln!("tessera issue bulk: {message}");
        ExitCode::from(code)
    };
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => return fail(2, format!("{}: {e}", args.file.display())),
    };
    let raw = match tessera_server::bulk_worker::parse_csv(&bytes) {
        Ok(r) => r,
        Err(e) => return fail(2, format!("{}: {e}", args.file.display())),
    };
    let config = match Config::load(&|k| std::env::var(k).ok(), args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(2, e.to_string()),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(2, format!("cannot start the async runtime: {e}")),
    };
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(4)
    });
    match runtime.block_on(bulk_async(config, &args.org, raw, workers.max(1))) {
        Ok(code) => code,
        Err((code, message)) => fail(code, message),
    }
}

async fn bulk_async(
    config: Config,
    slug: &str,
    raw: Vec<tessera_server::bulk_worker::RawRow>,
    workers: usize,
) -> Result<ExitCode, (u8, String)> {
    use std::io::IsTerminal as _;
    use tessera_server::bulk_worker;

    let url = config.database_url.expose_secret().to_owned();
    let store = Store::connect(&url, &StoreOptions::default())
        .await
        .map_err(|e| (2, e.to_string()))?;
    store.migrate().await.map_err(|e| (2, e.to_string()))?;
    let state = tessera_server::AppState::new(
        store.clone(),
        config,
        std::sync::Arc::new(tessera_core::clock::SystemClock),
    );
    // The master key now, so that a wrong one is reported before anything is enqueued.
    state
        .issuing
        .master_key(&state.config.data_dir)
        .map_err(|e| (2, e.to_string()))?;
    let org = state.store.org_by_slug(slug).await.map_err(|e| match e {
        StoreError::NotFound => (1, format!("no organisation {slug:?}")),
        other => (2, other.to_string()),
    })?;
    let now = chrono::Utc::now();
    let rows = bulk_worker::prepare_rows(&state.store, &org.id, raw, now)
        .await
        .map_err(|e| (2, e.to_string()))?;
    let batch = state
        .store
        .create_batch(&org.id, None, "cli", &rows, now)
        .await
        .map_err(|e| (2, e.to_string()))?;
    eprintln!(
        "batch {}: {} rows ({} refused at once, {} issued before)",
        batch.id, batch.total, batch.failed, batch.issued
    );
    let claim_timeout = state.config.bulk_claim_timeout;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let state = state.clone();
        tasks.spawn(async move {
            loop {
                match bulk_worker::process_chunk(&state, bulk_worker::CHUNK, claim_timeout).await {
                    Ok(r) if r.claimed > 0 => {}
                    // Nothing left to claim here (rows still claimed elsewhere are waited for below).
                    Ok(_) => return Ok(()),
                    Err(e) => return Err(e.to_string()),
                }
            }
        });
    }
    let tty = std::io::stderr().is_terminal();
    let mut last_tenth = -1;
    let summary = loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let b = state
            .store
            .batch(&org.id, &batch.id)
            .await
            .map_err(|e| (2, e.to_string()))?;
        let done = b.issued + b.failed;
        if tty {
            eprint!("\r{}", progress_line(done, b.total, b.issued, b.failed));
        } else if done * 10 / b.total.max(1) > last_tenth {
            last_tenth = done * 10 / b.total.max(1);
            eprintln!("{}", progress_line(done, b.total, b.issued, b.failed));
        }
        if b.done() {
            break b;
        }
        // Workers that ran out of rows while others (maybe another process) still hold some:
        // one looks again after the claim timeout so that a dead process's rows are taken over.
        if tasks.is_empty() {
            let state = state.clone();
            tasks.spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                bulk_worker::run_until_idle(&state, claim_timeout)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
        }
        while let Some(joined) = tasks.try_join_next() {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err((2, e)),
                Err(e) => return Err((2, e.to_string())),
            }
        }
    };
    if tty {
        eprintln!();
    }
    tasks.abort_all();
    let failed = state
        .store
        .batch_rows(&batch.id, Some("failed"), 50, 0)
        .await
        .map_err(|e| (2, e.to_string()))?;
    for r in &failed {
        eprintln!(
            "row {} (key {:?}): {}",
            r.row_no,
            r.row_key,
            r.error.as_deref().unwrap_or("")
        );
    }
    if summary.failed > 50 {
        eprintln!(
            "… {} more failed rows: GET /api/v1/orgs/{slug}/issue-batches/{}/rows?state=failed",
            summary.failed - 50,
            batch.id
        );
    }
    println!(
        "batch {}: {} issued, {} failed, of {} rows",
        batch.id, summary.issued, summary.failed, summary.total
    );
    store.close().await;
    Ok(if summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `[#########...........]  45% 45000/100000 (issued 44990, failed 10)`.
fn progress_line(done: i64, total: i64, issued: i64, failed: i64) -> String {
    let width = 30;
    let filled = usize::try_from(done * width / total.max(1)).unwrap_or(0);
    let bar: String = (0..usize::try_from(width).unwrap_or(30))
        .map(|i| if i < filled { '#' } else { '.' })
        .collect();
    format!(
        "[{bar}] {:>3}% {done}/{total} (issued {issued}, failed {failed})",
        done * 100 / total.max(1)
    )
}
