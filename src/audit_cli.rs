//! `tessera audit verify`: proves the hash-chained audit log intact, or names the first entry
//! that was edited, deleted, reordered or truncated away.
//!
//! The database is `--database-url` if given, else the one `tessera serve` would use (its
//! configuration: `DATABASE_URL`, `TESSERA_*`, `--config FILE`). Nothing is written.
//!
//! Exit codes: 0 the chain is intact, 1 it is broken (or a payload beside it was altered),
//! 2 the configuration or the database cannot be used.

use std::path::PathBuf;
use std::process::ExitCode;

use secrecy::ExposeSecret;
use tessera_server::Config;
use tessera_store::audit::AuditVerdict;
use tessera_store::{Store, StoreOptions};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Verify the audit log's hash chain against its stored head.
    ///
    /// Exit status: 0 intact, 1 broken (the first bad entry is named), 2 cannot check.
    Verify {
        /// The database (default: the `tessera serve` configuration).
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// A TOML configuration file (default: $TESSERA_CONFIG, else none).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Audit {
            command:
                AuditCommand::Verify {
                    database_url,
                    config,
                },
        } => verify(database_url, config),
    }
}

fn verify(database_url: Option<String>, config_file: Option<PathBuf>) -> ExitCode {
    let url = match database_url {
        Some(url) => url,
        None => match Config::load(&|k| std::env::var(k).ok(), config_file.as_deref()) {
            Ok(c) => c.database_url.expose_secret().to_owned(),
            Err(e) => {
                eprintln!("tessera audit verify: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tessera audit verify: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let verdict = runtime.block_on(async {
        let store = Store::connect(&url, &StoreOptions::default()).await?;
        let verdict = store.verify_audit().await;
        store.close().await;
        verdict
    });
    match verdict {
        Ok(AuditVerdict::Intact { entries }) => {
            println!("audit chain intact: {entries} entries");
            ExitCode::SUCCESS
        }
        Ok(AuditVerdict::Broken { seq, fault }) => {
            println!("audit chain broken at entry {seq}: {fault}");
            ExitCode::FAILURE
        }
        Ok(AuditVerdict::PayloadAltered { seq }) => {
            println!(
                "audit chain intact, but the payload of entry {seq} no longer matches its recorded digest (altered)"
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("tessera audit verify: {e}");
            ExitCode::from(2)
        }
    }
}
