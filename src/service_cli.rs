//! Service commands: `serve`, `import`. They open the configured database.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run the HTTP service.
    Serve,
}

pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Serve => {
            eprintln!("tessera serve: not implemented yet");
            ExitCode::from(2)
        }
    }
}
