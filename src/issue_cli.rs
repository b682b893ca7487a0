//! `tessera keys rotate --org SLUG`: gives the organisation a new issuer key. The old key stays
//! in the organisation's DID document as a past key, so credentials it signed keep verifying;
//! new credentials and status lists are signed with the new one. Audited (`IssuerKeyRotated`).
//!
//! It uses the configuration `tessera serve` uses (`DATABASE_URL`, `TESSERA_*`, `--config FILE`)
//! and the same master key (`TESSERA_MASTER_KEY`, else `<data dir>/master.key`). Neither key nor
//! secret is printed: only the new key's id, number and public key.
//!
//! Exit codes: 0 rotated, 1 the organisation does not exist, 2 the configuration, the master key
//! or the database cannot be used.

use std::path::PathBuf;
use std::process::ExitCode;

use secrecy::ExposeSecret;
use tessera_server::Config;
use tessera_server::routes::issuing::{MASTER_KEY_ENV, load_master_key, rotate_key};
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
    let env_key = std::env::var(MASTER_KEY_ENV).ok();
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
