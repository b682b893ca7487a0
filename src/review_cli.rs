//! Rubric commands: `tessera rubric check FILE...` validates rubric files offline and prints every
//! problem as `FILE:LINE:COLUMN: message` (the format editors and CI annotate).

use std::path::PathBuf;
use std::process::ExitCode;

use tessera_review::{Error, Rubric};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Work with rubric files (see rubrics/README.md for the format).
    Rubric {
        #[command(subcommand)]
        command: RubricCommand,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum RubricCommand {
    /// Validate rubric files; print each problem as FILE:LINE:COLUMN: message.
    ///
    /// Exit status: 0 if every file is valid, 1 if any is invalid or unreadable.
    Check {
        /// Rubric files (TOML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Rubric {
            command: RubricCommand::Check { files },
        } => check(&files),
    }
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut failed = 0usize;
    for file in files {
        match Rubric::load(file) {
            Ok(r) => println!(
                "{}: ok: rubric `{}` {} ({} criteria, max {} points, {})",
                file.display(),
                r.id(),
                r.version(),
                r.criteria().len(),
                r.max_points(),
                r.digest()
            ),
            Err(Error::InvalidRubric(diagnostics)) => {
                failed += 1;
                eprintln!("{diagnostics}");
            }
            Err(other) => {
                failed += 1;
                eprintln!("{other}");
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} rubric file(s) invalid", files.len());
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
