//! `tessera`: the one binary. It parses the command line and hands over to the library crates;
//! the offline credential commands live in [`vc_cli`], the service commands in [`service_cli`].

use std::process::ExitCode;

use clap::Parser;

mod audit_cli;
mod case_cli;
mod issue_cli;
mod review_cli;
mod service_cli;
mod vc_cli;

// JSON-LD expansion and RDFC are allocation-bound; mimalloc makes the whole pipeline ~1.8x faster
// (see ../BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Competency credentials and mastery transcripts: issue, verify, serve.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    #[command(flatten)]
    Credentials(vc_cli::Command),
    #[command(flatten)]
    Service(service_cli::Command),
    #[command(flatten)]
    Review(review_cli::Command),
    #[command(flatten)]
    Audit(audit_cli::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Credentials(command) => vc_cli::run(command),
        Command::Service(command) => service_cli::run(command),
        Command::Review(command) => review_cli::run(command),
        Command::Audit(command) => audit_cli::run(command),
    }
}
