//! `tessera import case FILE --org SLUG`: imports a CASE 1.0/1.1 CFPackage into an
//! organisation's registry, with the same validation and the same single transaction as the API.
//!
//! Exit codes: 0 imported (or updated), 1 the package is invalid or the import was refused
//! (every violation is printed, one per line, with its JSON path), 2 the configuration or the
//! file cannot be used.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use tessera_case::ValidationOptions;
use tessera_server::{Config, startup};

#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Import a CASE CFPackage (JSON file) into an organisation's registry. Re-importing the same
    /// CFDocument updates it.
    Case {
        /// The CFPackage JSON file.
        file: PathBuf,
        /// The organisation's slug.
        #[arg(long, value_name = "SLUG")]
        org: String,
        /// Reject the legacy CASE 1.0 link properties (`CFDocumentURI`, `CFPackageURI`,
        /// `CFItemAssociationURI`) that are tolerated by default.
        #[arg(long)]
        strict: bool,
        /// A TOML configuration file (default: $TESSERA_CONFIG, else none).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

pub fn run(command: ImportCommand) -> ExitCode {
    match command {
        ImportCommand::Case {
            file,
            org,
            strict,
            config,
        } => import_case(&file, &org, strict, config),
    }
}

fn import_case(file: &PathBuf, org: &str, strict: bool, config_file: Option<PathBuf>) -> ExitCode {
    let config = match Config::load(&|k| std::env::var(k).ok(), config_file.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tessera import case: {e}");
            return ExitCode::from(2);
        }
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("tessera import case: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let options = ValidationOptions {
        legacy_links: !strict,
        ..ValidationOptions::default()
    };
    let framework = match tessera_case::import(&bytes, &options) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("tessera import case: {}: {e}", file.display());
            for v in e.violations() {
                eprintln!("  {v}");
            }
            return ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tessera import case: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        let clock = Arc::new(tessera_core::clock::SystemClock);
        let prepared = startup::prepare(config, clock.clone())
            .await
            .map_err(|e| (2u8, e.to_string()))?;
        let store = prepared.state.store.clone();
        let org = store
            .org_by_slug(org)
            .await
            .map_err(|e| (1u8, format!("organisation {org:?}: {e}")))?;
        let report = store
            .import_case(
                &org.id,
                &framework,
                tessera_core::clock::Clock::now(&*clock),
            )
            .await
            .map_err(|e| (1u8, e.to_string()));
        store.close().await;
        report
    });
    match result {
        Ok(report) => {
            println!(
                "{} framework {} (CASE {}, revision {}): {} competencies, {} retired, {} associations, {} rubrics",
                if report.created {
                    "imported"
                } else {
                    "updated"
                },
                report.framework_id,
                framework.case_version,
                report.revision,
                report.competencies,
                report.retired,
                report.associations,
                report.rubrics
            );
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            eprintln!("tessera import case: {message}");
            ExitCode::from(code)
        }
    }
}
