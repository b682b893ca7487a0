//! Service commands: `serve`. They open the configured database.
//!
//! `serve` builds its own tokio runtime here, so the rest of the binary stays synchronous.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use tessera_server::config::LogFormat;
use tessera_server::{Config, startup};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run the HTTP service (configuration: TESSERA_* environment variables, DATABASE_URL and
    /// an optional TOML file).
    Serve {
        /// A TOML configuration file (default: $TESSERA_CONFIG, else none).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Import data into the registry (`tessera import case FILE --org SLUG`).
    #[command(subcommand)]
    Import(crate::case_cli::ImportCommand),
    /// Issue credentials from the command line (`tessera issue bulk FILE.csv --org SLUG`).
    #[command(subcommand)]
    Issue(crate::issue_cli::IssueCommand),
}

pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Serve { config } => serve(config),
        Command::Import(command) => crate::case_cli::run(command),
        Command::Issue(command) => crate::issue_cli::run_issue(command),
    }
}

fn serve(config_file: Option<PathBuf>) -> ExitCode {
    let config = match Config::load(&|k| std::env::var(k).ok(), config_file.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tessera serve: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tessera serve: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve_async(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera serve: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_async(mut config: Config) -> anyhow::Result<()> {
    let bind = config.bind;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind} (TESSERA_BIND): {e}"))?;
    let addr = listener.local_addr()?;
    config.use_bound_address(addr);
    tracing::info!(config = ?config, "starting");
    let prepared = startup::prepare(config, Arc::new(tessera_core::clock::SystemClock)).await?;
    let shutdown = shutdown_signal()?;
    // stdout, not the log: the setup link is a secret meant for the operator's eyes only.
    if let Some(link) = &prepared.setup_link {
        println!("No admin yet. Open this one-time link within 24 hours to create one:\n  {link}");
    }
    println!("tessera listening on http://{addr}");
    tessera_server::run(listener, prepared.state, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Installs the Ctrl-C / SIGTERM handlers now (so a signal that arrives right after start-up is
/// not lost to the default action) and returns a future that completes on either.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
            tracing::info!("shutdown requested; finishing requests in flight");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutdown requested; finishing requests in flight");
        })
    }
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
