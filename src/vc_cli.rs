//! Offline credential commands: `keys`, `credential`, `verify`, `canon`. None of them touches the
//! network or a database.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Verify credentials (files or directories) and print a verdict per file.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Files or directories to verify.
    #[arg(required = true)]
    pub paths: Vec<std::path::PathBuf>,
}

pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Verify(_) => {
            eprintln!("tessera verify: not implemented yet");
            ExitCode::from(2)
        }
    }
}
