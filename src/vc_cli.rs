//! Offline credential commands: `keys`, `credential`, `verify`, `canon`. None of them touches the
//! network or a database. The CLI is where the clock and the operating system's randomness are
//! read; the `tessera-vc` crate below it is given both.
//!
//! Exit codes, for every command here:
//! - 0: success (for `verify`: every file verified);
//! - 1: `verify` only — at least one credential did not verify;
//! - 2: usage error (bad flags, an unreadable or malformed option file such as `--key`);
//! - 3: could not process an input (unreadable, over the size or nesting limits, a poison graph,
//!   a document signing refuses because safe mode rejects it).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;
use serde_json::{Value, json};
use tessera_vc::keys::{KeyPair, Multikey};
use tessera_vc::proof::{self, Cryptosuite, ProofOptions};
use tessera_vc::{VerificationReport, VerifyOptions};

const EXIT_NOT_VERIFIED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_CANNOT_PROCESS: u8 = 3;

const EXIT_CODES_HELP: &str = "Exit codes: 0 success (verify: every file verified); 1 verify: at \
least one credential did not verify; 2 usage error (bad flag or option file); 3 could not process \
an input (unreadable, too large, too deep, poison graph, or refused by safe mode).";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Manage Ed25519 keys (Multikey).
    #[command(subcommand, after_help = EXIT_CODES_HELP)]
    Keys(KeysCommand),
    /// Sign credentials.
    #[command(subcommand, after_help = EXIT_CODES_HELP)]
    Credential(CredentialCommand),
    /// Verify credentials (files or directories, walked recursively) and print a verdict per file.
    #[command(after_help = EXIT_CODES_HELP)]
    Verify(VerifyArgs),
    /// Show what a credential's signature covers: canonical document, canonical proof
    /// configuration, their SHA-256 and the signed bytes, for each proof.
    #[command(after_help = EXIT_CODES_HELP)]
    Canon(CanonArgs),
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Generate an Ed25519 key pair and print it as a Multikey JSON document (with the secret:
    /// keep the file private).
    Generate(GenerateArgs),
    /// Rotate an organisation's issuer key in the service's database (the old key stays in its
    /// DID document as a past key, so what it signed keeps verifying).
    Rotate(crate::issue_cli::RotateArgs),
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The key's controller (a did:web DID or an https issuer URL). Default: the key's own
    /// did:key.
    #[arg(long, value_name = "DID")]
    pub controller: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum CredentialCommand {
    /// Add a Data Integrity proof to a credential and print the signed JSON. An existing proof
    /// is kept (the result is a proof set).
    Sign(SignArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Suite {
    #[value(name = "eddsa-rdfc-2022")]
    EddsaRdfc2022,
    #[value(name = "eddsa-jcs-2022")]
    EddsaJcs2022,
}

#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The Multikey JSON file with `secretKeyMultibase` (as written by `tessera keys generate`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The cryptosuite.
    #[arg(long, value_enum, default_value = "eddsa-rdfc-2022")]
    pub suite: Suite,
    /// The proof's `created` (ISO 8601 / XSD dateTime, e.g. 2024-05-01T12:00:00Z), or `none` to
    /// omit it. Default: now.
    #[arg(long, value_name = "ISO8601|none")]
    pub created: Option<String>,
    /// The verification method id. Default: the key file's `id`.
    #[arg(long, value_name = "ID")]
    pub vm: Option<String>,
    /// The credential to sign; `-` or nothing reads standard input.
    #[arg(value_name = "FILE|-")]
    pub input: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// A controller document (did:web DID document, https issuer controller document, or a
    /// published Multikey) used to resolve keys offline. Repeatable.
    #[arg(long = "did-document", value_name = "FILE")]
    pub did_documents: Vec<PathBuf>,
    /// A BitstringStatusListCredential to check credentialStatus against. Repeatable. Without
    /// one, status is reported as not checked.
    #[arg(long = "status-list", value_name = "FILE")]
    pub status_lists: Vec<PathBuf>,
    /// The time to verify at (ISO 8601 with a zone). Default: now.
    #[arg(long, value_name = "ISO8601")]
    pub now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Files or directories to verify (directories are walked for *.json and *.jsonld); `-` reads
    /// one credential from standard input. A baked badge (PNG or SVG) is verified through the
    /// credential inside it; a transcript PDF through the signed CLR attached to it.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CanonArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The credential; `-` or nothing reads standard input.
    #[arg(value_name = "FILE|-")]
    pub input: Option<PathBuf>,
}

pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Keys(KeysCommand::Generate(args)) => keys_generate(args),
        Command::Keys(KeysCommand::Rotate(args)) => crate::issue_cli::run_rotate(args),
        Command::Credential(CredentialCommand::Sign(args)) => sign(args),
        Command::Verify(args) => verify(args),
        Command::Canon(args) => canon(args),
    }
}

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

fn read_input(input: Option<&Path>) -> std::io::Result<Vec<u8>> {
    match input {
        None => read_stdin(),
        Some(p) if p == Path::new("-") => read_stdin(),
        Some(p) => std::fs::read(p),
    }
}

fn read_stdin() -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin().read_to_end(&mut buf)?;
    Ok(buf)
}

fn display(input: Option<&Path>) -> String {
    input.map_or("standard input".into(), |p| p.display().to_string())
}

fn print_json(value: &impl serde::Serialize) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::other)
        .and_then(|()| writeln!(out));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(EXIT_CANNOT_PROCESS, format!("writing the output: {e}")),
    }
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn keys_generate(args: GenerateArgs) -> ExitCode {
    if let Some(c) = &args.controller
        && (c.contains('#') || !c.contains(':'))
    {
        return fail(
            EXIT_USAGE,
            format!("--controller {c:?} must be an absolute DID or URL without a fragment"),
        );
    }
    let mut seed = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut seed) {
        return fail(
            EXIT_CANNOT_PROCESS,
            format!("the operating system gave no randomness: {e}"),
        );
    }
    let pair = KeyPair::from_seed(seed);
    print_json(&Multikey::from_key_pair(&pair, args.controller.as_deref()))
}

fn sign(args: SignArgs) -> ExitCode {
    let key_text = match std::fs::read_to_string(&args.key) {
        Ok(t) => t,
        Err(e) => return fail(EXIT_USAGE, format!("--key {}: {e}", args.key.display())),
    };
    let multikey = match Multikey::from_json(&key_text) {
        Ok(k) => k,
        Err(e) => return fail(EXIT_USAGE, format!("--key {}: {e}", args.key.display())),
    };
    let pair = match multikey.key_pair() {
        Ok(p) => p,
        Err(e) => return fail(EXIT_USAGE, format!("--key {}: {e}", args.key.display())),
    };
    let created = match args.created.as_deref() {
        None => Some(now_text()),
        Some("none") => None,
        Some(text) => Some(text.to_owned()),
    };
    let suite = match args.suite {
        Suite::EddsaRdfc2022 => Cryptosuite::EddsaRdfc2022,
        Suite::EddsaJcs2022 => Cryptosuite::EddsaJcs2022,
    };
    let vm = args.vm.unwrap_or_else(|| multikey.id.clone());
    let options = ProofOptions::new(suite, vm, created);
    let input = args.input.as_deref();
    let bytes = match read_input(input) {
        Ok(b) => b,
        Err(e) => return fail(EXIT_CANNOT_PROCESS, format!("{}: {e}", display(input))),
    };
    let document: Value = match serde_json::from_slice(&bytes) {
        Ok(d) => d,
        Err(e) => {
            return fail(
                EXIT_CANNOT_PROCESS,
                format!("{}: not JSON: {e}", display(input)),
            );
        }
    };
    match proof::sign(&document, &pair, &options) {
        Ok(signed) => print_json(&signed),
        Err(e @ tessera_vc::Error::ProofOption { .. }) => fail(EXIT_USAGE, e),
        Err(e) => fail(
            EXIT_CANNOT_PROCESS,
            format!("{}: refusing to sign: {e}", display(input)),
        ),
    }
}

/// Collects the files to verify: explicit files as given, directories walked for JSON files.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = Vec::new();
    for path in paths {
        if path == Path::new("-") {
            out.push(path.clone());
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            stack.push(path.clone());
        } else {
            out.push(path.clone());
        }
    }
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let path = entry.path();
            let file_type = entry
                .file_type()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if file_type.is_dir() {
                stack.push(path);
            } else if file_type.is_file()
                && path
                    .extension()
                    .is_some_and(|e| e == "json" || e == "jsonld")
            {
                found.push(path);
            }
        }
    }
    found.sort();
    out.extend(found);
    Ok(out)
}

fn read_json_option(flag: &str, path: &Path) -> Result<Value, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{flag} {}: not JSON: {e}", path.display()))
}

fn verify_options(args: &VerifyArgs) -> Result<VerifyOptions, String> {
    let now = match &args.now {
        None => chrono::Utc::now(),
        Some(text) => tessera_vc::datetime::parse_timestamp(text).ok_or_else(|| {
            format!("--now {text:?} is not an ISO 8601 date-time with a zone (e.g. 2025-01-01T00:00:00Z)")
        })?,
    };
    let mut options = VerifyOptions::new(now);
    for path in &args.did_documents {
        let doc = read_json_option("--did-document", path)?;
        options
            .add_controller_document(&doc)
            .map_err(|e| format!("--did-document {}: {e}", path.display()))?;
    }
    for path in &args.status_lists {
        let list = read_json_option("--status-list", path)?;
        options
            .add_status_list(list)
            .map_err(|e| format!("--status-list {}: {e}", path.display()))?;
    }
    Ok(options)
}

type Outcome = Result<VerificationReport, String>;

fn verify_file(path: &Path, options: &VerifyOptions) -> Outcome {
    // A baked image may be larger than a credential; the credential inside still gets
    // `max_bytes`.
    let limit = options.max_bytes.max(tessera_bake::MAX_IMAGE_BYTES);
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(limit as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        if bytes.len() > limit {
            return Err(tessera_vc::Error::TooLarge {
                size: bytes.len(),
                limit,
            }
            .to_string());
        }
        return verify_contents(&bytes, options);
    }
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    // Refuse before reading: a multi-gigabyte file must not be read into memory.
    if meta.len() > limit as u64 {
        return Err(tessera_vc::Error::TooLarge {
            size: usize::try_from(meta.len()).unwrap_or(usize::MAX),
            limit,
        }
        .to_string());
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    verify_contents(&bytes, options)
}

/// A credential as JSON, or baked into a PNG or SVG (the credential inside is verified, the
/// same way as JSON). `POST /api/v1/verify` reads uploads the same way.
fn verify_contents(bytes: &[u8], options: &VerifyOptions) -> Outcome {
    // A mastery transcript PDF: the signed CLR attached to it is verified, and with it every
    // credential it embeds; what the pages show is not what is checked.
    if tessera_render::is_pdf(bytes) {
        let clr = tessera_render::extract_attachment(bytes).map_err(|e| e.to_string())?;
        return tessera_vc::verify_bytes(&clr, options).map_err(|e| e.to_string());
    }
    let (_, credential) = tessera_bake::extract(bytes).map_err(|e| e.to_string())?;
    tessera_vc::verify_bytes(&credential, options).map_err(|e| e.to_string())
}

fn verify(args: VerifyArgs) -> ExitCode {
    let options = match verify_options(&args) {
        Ok(o) => o,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    let files = match collect(&args.paths) {
        Ok(f) => f,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    if files.is_empty() {
        return fail(EXIT_USAGE, "no .json or .jsonld files found");
    }
    let run = || -> Vec<Outcome> {
        files
            .par_iter()
            .map(|path| verify_file(path, &options))
            .collect()
    };
    let outcomes = match args.jobs {
        Some(n) => match rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
        {
            Ok(pool) => pool.install(run),
            Err(e) => return fail(EXIT_CANNOT_PROCESS, format!("cannot start workers: {e}")),
        },
        None => run(),
    };
    let verified = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(r) if r.verified))
        .count();
    let errors = outcomes.iter().filter(|o| o.is_err()).count();
    let not_verified = outcomes.len() - verified - errors;

    let written = match args.format {
        Format::Json => {
            let results: Vec<Value> = files
                .iter()
                .zip(&outcomes)
                .map(|(path, outcome)| match outcome {
                    Ok(report) => json!({
                        "path": path.display().to_string(),
                        "verified": report.verified,
                        "report": report,
                    }),
                    Err(e) => json!({
                        "path": path.display().to_string(),
                        "verified": false,
                        "error": format!("could not process: {e}"),
                    }),
                })
                .collect();
            let doc = json!({
                "files": results,
                "summary": {"verified": verified, "not_verified": not_verified, "could_not_process": errors},
            });
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &doc)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out))
        }
        Format::Text => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let mut result = Ok(());
            for (path, outcome) in files.iter().zip(&outcomes) {
                let r = match outcome {
                    Ok(report) => writeln!(
                        out,
                        "{}: {}{}\n{}",
                        path.display(),
                        if report.verified {
                            "VERIFIED"
                        } else {
                            "NOT VERIFIED"
                        },
                        report
                            .id
                            .as_deref()
                            .map(|id| format!(" ({id})"))
                            .unwrap_or_default(),
                        report.to_text()
                    ),
                    Err(e) => writeln!(out, "{}: COULD NOT PROCESS: {e}\n", path.display()),
                };
                if r.is_err() {
                    result = r;
                    break;
                }
            }
            result
                .and_then(|()| {
                    writeln!(
                        out,
                        "{} file(s): {verified} verified, {not_verified} not verified, {errors} could not be processed",
                        outcomes.len()
                    )
                })
                .and_then(|()| out.flush())
        }
    };
    if let Err(e) = written {
        return fail(EXIT_CANNOT_PROCESS, format!("writing the output: {e}"));
    }
    if errors > 0 {
        ExitCode::from(EXIT_CANNOT_PROCESS)
    } else if not_verified > 0 {
        ExitCode::from(EXIT_NOT_VERIFIED)
    } else {
        ExitCode::SUCCESS
    }
}

fn canon(args: CanonArgs) -> ExitCode {
    let input = args.input.as_deref();
    let bytes = match read_input(input) {
        Ok(b) => b,
        Err(e) => return fail(EXIT_CANNOT_PROCESS, format!("{}: {e}", display(input))),
    };
    let document: Value = match serde_json::from_slice(&bytes) {
        Ok(d) => d,
        Err(e) => {
            return fail(
                EXIT_CANNOT_PROCESS,
                format!("{}: not JSON: {e}", display(input)),
            );
        }
    };
    let inputs = match proof::signing_inputs(&document) {
        Ok(i) => i,
        Err(e) => return fail(EXIT_CANNOT_PROCESS, format!("{}: {e}", display(input))),
    };
    let has_proof = !proof::proofs_of(&document).is_empty();
    match args.format {
        Format::Json => {
            let items: Vec<Value> = inputs
                .iter()
                .map(|i| {
                    if has_proof {
                        json!({
                            "suite": i.suite.as_str(),
                            "canonicalDocument": i.canonical_document,
                            "documentHash": hex(&i.document_hash),
                            "canonicalProofConfig": i.canonical_proof_config,
                            "proofHash": hex(&i.proof_hash),
                            "signedBytes": hex(&i.hash_data()),
                        })
                    } else {
                        json!({
                            "canonicalDocument": i.canonical_document,
                            "documentHash": hex(&i.document_hash),
                        })
                    }
                })
                .collect();
            print_json(&json!({ "proofs": items }))
        }
        Format::Text => {
            let mut text = String::new();
            let n = inputs.len();
            for (k, i) in inputs.iter().enumerate() {
                if has_proof {
                    text.push_str(&format!("# proof {} of {n}: {}\n", k + 1, i.suite.as_str()));
                } else {
                    text.push_str("# no proof: the canonical document only (RDFC-1.0)\n");
                }
                text.push_str(&format!(
                    "## canonical document\n{}## document hash (SHA-256)\n{}\n",
                    ensure_newline(&i.canonical_document),
                    hex(&i.document_hash)
                ));
                if has_proof {
                    text.push_str(&format!(
                        "## canonical proof configuration\n{}## proof hash (SHA-256)\n{}\n## signed bytes (proof hash ‖ document hash)\n{}\n",
                        ensure_newline(&i.canonical_proof_config),
                        hex(&i.proof_hash),
                        hex(&i.hash_data())
                    ));
                }
            }
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(EXIT_CANNOT_PROCESS, format!("writing the output: {e}")),
            }
        }
    }
}

fn ensure_newline(s: &str) -> String {
    if s.ends_with('\n') || s.is_empty() {
        s.to_owned()
    } else {
        format!("{s}\n")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
