//! The service's configuration: one struct, read from an optional TOML file and then from the
//! environment (`TESSERA_*`, `DATABASE_URL`), which wins. Every setting has a default that makes
//! `tessera serve` work on a fresh machine; a value that cannot be used is a start-up error that
//! names the setting.
//!
//! | setting (TOML key) | environment | default |
//! |---|---|---|
//! | `data_dir` | `TESSERA_DATA_DIR` | `./tessera-data` |
//! | `bind` | `TESSERA_BIND` | `127.0.0.1:8080` |
//! | `database_url` | `DATABASE_URL` | `sqlite://<data_dir>/tessera.db` |
//! | `public_url` | `TESSERA_PUBLIC_URL` | `http://<bind>` |
//! | `max_body_bytes` | `TESSERA_MAX_BODY_BYTES` | 1 MiB |
//! | `import_max_body_bytes` | `TESSERA_IMPORT_MAX_BODY_BYTES` | 64 MiB |
//! | `evidence_max_bytes` | `TESSERA_EVIDENCE_MAX_BYTES` | 64 MiB per evidence file (at most 1 GiB) |
//! | `db_max_connections` | `TESSERA_DB_MAX_CONNECTIONS` | 16 |
//! | `session_hours` | `TESSERA_SESSION_HOURS` | 12 |
//! | `invitation_hours` | `TESSERA_INVITATION_HOURS` | 168 (7 days) |
//! | `login_attempts_per_minute` | `TESSERA_LOGIN_ATTEMPTS_PER_MINUTE` | 10 (per account; 10× that per IP) |
//! | `log_format` | `TESSERA_LOG_FORMAT` | `text` (or `json`) |
//! | `bulk_workers` | `TESSERA_BULK_WORKERS` | one per core, at most 4 (`0`: no bulk work in this process) |
//! | `bulk_claim_timeout_secs` | `TESSERA_BULK_CLAIM_TIMEOUT_SECS` | 60 (a claim older than this is taken over) |
//! | `auto_issue_secs` | `TESSERA_AUTO_ISSUE_SECS` | 30 (the automatic issuance sweep; `0`: off) |
//! | `transcript_templates` | `TESSERA_TRANSCRIPT_TEMPLATES` | `<data_dir>/transcript-templates` if it exists, else the shipped folder |
//! | — | `TESSERA_MASTER_KEY` | none: the key file `<data_dir>/master.key`, made on first start (mode 0600) |
//!
//! The master key is a secret, so it is read from the environment only, never from the file.
//!
//! The file is `TESSERA_CONFIG` or `serve --config FILE`; unknown keys in it are errors.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tessera_store::Backend;

/// A setting that cannot be used, or a file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The value of `setting` is unusable.
    #[error("invalid setting {setting}: {reason}")]
    Invalid {
        /// The setting's name (environment variable or TOML key).
        setting: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The configuration file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML for this struct.
    #[error("invalid configuration file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (names the key and line).
        message: String,
    },
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The complete, checked configuration.
#[derive(Clone)]
pub struct Config {
    /// Where the SQLite database and artifacts live; created at start.
    pub data_dir: PathBuf,
    /// The address to listen on.
    pub bind: SocketAddr,
    /// The database URL; may contain a password, hence secret.
    pub database_url: SecretString,
    /// The backend the URL names, parsed once here.
    pub backend: Backend,
    /// The base URL people and CASE consumers reach us at (links, cookies' `Secure`, CASE URIs),
    /// without a trailing `/`.
    pub public_url: String,
    /// True when `public_url` was not configured but derived from `bind`; then
    /// [`Config::use_bound_address`] replaces it once the real port is known (port 0).
    pub public_url_derived: bool,
    /// Largest request body accepted by ordinary API routes.
    pub max_body_bytes: usize,
    /// Largest request body accepted by import routes.
    pub import_max_body_bytes: usize,
    /// Largest evidence file a learner may submit (each file; 413 above it). Separate from the
    /// import limit: evidence is video and audio from learners, imports are staff's packages.
    pub evidence_max_bytes: usize,
    /// Database connections (PostgreSQL pool size; SQLite readers).
    pub db_max_connections: u32,
    /// How long a login session lasts.
    pub session_hours: i64,
    /// How long an invitation link works.
    pub invitation_hours: i64,
    /// Login attempts allowed per account per minute (per IP: ten times this).
    pub login_attempts_per_minute: u32,
    /// Log line format.
    pub log_format: LogFormat,
    /// Bulk issuance worker loops in this process (`crate::bulk_worker`).
    pub bulk_workers: usize,
    /// When a bulk claim is taken over: its process died.
    pub bulk_claim_timeout: std::time::Duration,
    /// How often the automatic issuance sweep runs (None: never).
    pub auto_issue_every: Option<std::time::Duration>,
    /// The transcript template folder, when configured.
    pub transcript_templates: Option<PathBuf>,
    /// `TESSERA_MASTER_KEY`, when set (else the key file in `data_dir`).
    pub master_key: Option<SecretString>,
}

impl Config {
    /// Records the address the listener really got: binds to port 0 get a real port, and a
    /// derived public URL follows it.
    pub fn use_bound_address(&mut self, addr: SocketAddr) {
        self.bind = addr;
        if self.public_url_derived {
            self.public_url = format!("http://{addr}");
        }
    }

    /// Whether cookies must be `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Shows the URL without its password: `postgres://tessera:***@db/tessera`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{}{masked}{}", &url[..scheme_end], &rest[at..])
        }
        None => url.to_owned(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("bind", &self.bind)
            .field(
                "database_url",
                &redact_url(self.database_url.expose_secret()),
            )
            .field("backend", &self.backend)
            .field("public_url", &self.public_url)
            .field("public_url_derived", &self.public_url_derived)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("import_max_body_bytes", &self.import_max_body_bytes)
            .field("evidence_max_bytes", &self.evidence_max_bytes)
            .field("db_max_connections", &self.db_max_connections)
            .field("session_hours", &self.session_hours)
            .field("invitation_hours", &self.invitation_hours)
            .field("login_attempts_per_minute", &self.login_attempts_per_minute)
            .field("log_format", &self.log_format)
            .field("bulk_workers", &self.bulk_workers)
            .field("bulk_claim_timeout", &self.bulk_claim_timeout)
            .field("auto_issue_every", &self.auto_issue_every)
            .field("transcript_templates", &self.transcript_templates)
            .field(
                "master_key",
                &self.master_key.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// The TOML file's shape: every key optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    bind: Option<String>,
    database_url: Option<String>,
    public_url: Option<String>,
    max_body_bytes: Option<usize>,
    import_max_body_bytes: Option<usize>,
    evidence_max_bytes: Option<usize>,
    db_max_connections: Option<u32>,
    session_hours: Option<i64>,
    invitation_hours: Option<i64>,
    login_attempts_per_minute: Option<u32>,
    log_format: Option<LogFormat>,
    bulk_workers: Option<usize>,
    bulk_claim_timeout_secs: Option<u64>,
    auto_issue_secs: Option<u64>,
    transcript_templates: Option<PathBuf>,
}

/// The largest evidence limit accepted (1 GiB): files are checked in memory.
pub const EVIDENCE_MAX_CEILING: usize = 1 << 30;

fn invalid(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_owned(),
        reason: reason.into(),
    }
}

/// Parses an environment value, naming the variable when it does not parse.
fn env_parse<T: std::str::FromStr>(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<T>, ConfigError>
where
    T::Err: fmt::Display,
{
    match env(name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|e| invalid(name, format!("{v:?}: {e}"))),
    }
}

fn positive<T: PartialOrd + Default + Copy>(setting: &str, v: T) -> Result<T, ConfigError> {
    if v > T::default() {
        Ok(v)
    } else {
        Err(invalid(setting, "must be greater than zero"))
    }
}

impl Config {
    /// Reads the configuration: the file (`file`, else `TESSERA_CONFIG`, else none), then the
    /// environment as given by `env` (pass `|k| std::env::var(k).ok()` in production).
    pub fn load(
        env: &dyn Fn(&str) -> Option<String>,
        file: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let file_path = file
            .map(Path::to_path_buf)
            .or_else(|| env("TESSERA_CONFIG").map(PathBuf::from));
        let file = match &file_path {
            None => FileConfig::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.clone(),
                    message: e.to_string(),
                })?
            }
        };

        let data_dir = env("TESSERA_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./tessera-data"));
        if data_dir.as_os_str().is_empty() {
            return Err(invalid("TESSERA_DATA_DIR", "must not be empty"));
        }

        let (bind_setting, bind_text) = match env("TESSERA_BIND") {
            Some(v) => ("TESSERA_BIND", v),
            None => ("bind", file.bind.unwrap_or_else(|| "127.0.0.1:8080".into())),
        };
        let bind: SocketAddr = bind_text
            .trim()
            .parse()
            .map_err(|e| invalid(bind_setting, format!("{bind_text:?} is not ip:port ({e})")))?;

        let (db_setting, database_url) = match env("DATABASE_URL") {
            Some(v) => ("DATABASE_URL", v),
            None => match file.database_url {
                Some(v) => ("database_url", v),
                None => (
                    "TESSERA_DATA_DIR",
                    format!("sqlite://{}", data_dir.join("tessera.db").display()),
                ),
            },
        };
        let backend =
            Backend::from_url(&database_url).map_err(|e| invalid(db_setting, e.to_string()))?;

        let public_url_derived = env("TESSERA_PUBLIC_URL").is_none() && file.public_url.is_none();
        let (url_setting, public_url) = match env("TESSERA_PUBLIC_URL") {
            Some(v) => ("TESSERA_PUBLIC_URL", v),
            None => (
                "public_url",
                file.public_url.unwrap_or_else(|| format!("http://{bind}")),
            ),
        };
        let public_url = public_url.trim().trim_end_matches('/').to_owned();
        let host = public_url
            .strip_prefix("https://")
            .or_else(|| public_url.strip_prefix("http://"));
        if host.is_none_or(|h| h.is_empty() || h.contains(char::is_whitespace)) {
            return Err(invalid(
                url_setting,
                format!("{public_url:?} is not an http(s) URL"),
            ));
        }

        let max_body_bytes = positive(
            "TESSERA_MAX_BODY_BYTES",
            env_parse(env, "TESSERA_MAX_BODY_BYTES")?
                .or(file.max_body_bytes)
                .unwrap_or(1 << 20),
        )?;
        let import_max_body_bytes = positive(
            "TESSERA_IMPORT_MAX_BODY_BYTES",
            env_parse(env, "TESSERA_IMPORT_MAX_BODY_BYTES")?
                .or(file.import_max_body_bytes)
                .unwrap_or(64 << 20),
        )?;
        let evidence_max_bytes = positive(
            "TESSERA_EVIDENCE_MAX_BYTES",
            env_parse(env, "TESSERA_EVIDENCE_MAX_BYTES")?
                .or(file.evidence_max_bytes)
                .unwrap_or(64 << 20),
        )?;
        // A file is held in memory while its type is checked and its digest taken.
        if evidence_max_bytes > EVIDENCE_MAX_CEILING {
            return Err(invalid(
                "TESSERA_EVIDENCE_MAX_BYTES",
                format!(
                    "{evidence_max_bytes} is more than {EVIDENCE_MAX_CEILING} bytes (1 GiB), \
                     the most an evidence file may be"
                ),
            ));
        }
        let db_max_connections = positive(
            "TESSERA_DB_MAX_CONNECTIONS",
            env_parse(env, "TESSERA_DB_MAX_CONNECTIONS")?
                .or(file.db_max_connections)
                .unwrap_or(16),
        )?;
        let session_hours = positive(
            "TESSERA_SESSION_HOURS",
            env_parse(env, "TESSERA_SESSION_HOURS")?
                .or(file.session_hours)
                .unwrap_or(12),
        )?;
        let invitation_hours = positive(
            "TESSERA_INVITATION_HOURS",
            env_parse(env, "TESSERA_INVITATION_HOURS")?
                .or(file.invitation_hours)
                .unwrap_or(168),
        )?;
        let login_attempts_per_minute = positive(
            "TESSERA_LOGIN_ATTEMPTS_PER_MINUTE",
            env_parse(env, "TESSERA_LOGIN_ATTEMPTS_PER_MINUTE")?
                .or(file.login_attempts_per_minute)
                .unwrap_or(10),
        )?;
        let log_format = match env("TESSERA_LOG_FORMAT").as_deref().map(str::trim) {
            Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "TESSERA_LOG_FORMAT",
                    format!("{other:?}: must be text or json"),
                ));
            }
            None => file.log_format.unwrap_or(LogFormat::Text),
        };
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let bulk_workers = env_parse(env, "TESSERA_BULK_WORKERS")?
            .or(file.bulk_workers)
            .unwrap_or(cores.min(4));
        let bulk_claim_timeout = std::time::Duration::from_secs(positive(
            "TESSERA_BULK_CLAIM_TIMEOUT_SECS",
            env_parse(env, "TESSERA_BULK_CLAIM_TIMEOUT_SECS")?
                .or(file.bulk_claim_timeout_secs)
                .unwrap_or(60),
        )?);
        let auto_issue_every = match env_parse(env, "TESSERA_AUTO_ISSUE_SECS")?
            .or(file.auto_issue_secs)
            .unwrap_or(30)
        {
            0 => None,
            s => Some(std::time::Duration::from_secs(s)),
        };
        let transcript_templates = env("TESSERA_TRANSCRIPT_TEMPLATES")
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
            .or(file.transcript_templates);
        let master_key = env("TESSERA_MASTER_KEY").map(SecretString::from);

        Ok(Self {
            data_dir,
            bind,
            database_url: SecretString::from(database_url),
            backend,
            public_url,
            public_url_derived,
            max_body_bytes,
            import_max_body_bytes,
            evidence_max_bytes,
            db_max_connections,
            session_hours,
            invitation_hours,
            login_attempts_per_minute,
            log_format,
            bulk_workers,
            bulk_claim_timeout,
            auto_issue_every,
            transcript_templates,
            master_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(&|k| map.get(k).cloned(), None)
    }

    #[test]
    fn defaults_make_the_first_command_work() {
        let c = load(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.backend, Backend::Sqlite);
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert!(
            c.database_url
                .expose_secret()
                .ends_with("tessera-data/tessera.db")
        );
        assert!(!c.secure_cookies());
    }

    #[test]
    fn a_bad_value_names_the_setting() {
        let e = load(&[("TESSERA_BIND", "localhost")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("TESSERA_BIND"), "{e}");
        let e = load(&[("DATABASE_URL", "mysql://x")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("DATABASE_URL"), "{e}");
        let e = load(&[("TESSERA_MAX_BODY_BYTES", "lots")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("TESSERA_MAX_BODY_BYTES"), "{e}");
        let e = load(&[("TESSERA_PUBLIC_URL", "ftp://x")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("TESSERA_PUBLIC_URL"), "{e}");
    }

    #[test]
    fn the_evidence_limit_is_its_own_setting_and_checked() {
        let c = load(&[("TESSERA_IMPORT_MAX_BODY_BYTES", "1000")]).unwrap();
        assert_eq!(c.evidence_max_bytes, 64 << 20);
        assert_eq!(c.import_max_body_bytes, 1000);
        let c = load(&[("TESSERA_EVIDENCE_MAX_BYTES", " 2048 ")]).unwrap();
        assert_eq!(c.evidence_max_bytes, 2048);
        assert_eq!(c.import_max_body_bytes, 64 << 20);
        for bad in ["0", "-1", "10MB", "", "1073741825"] {
            let e = load(&[("TESSERA_EVIDENCE_MAX_BYTES", bad)])
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("invalid setting TESSERA_EVIDENCE_MAX_BYTES: "),
                "{bad:?}: {e}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.toml");
        std::fs::write(&path, "evidence_max_bytes = 4096\n").unwrap();
        let c = Config::load(&|_| None, Some(&path)).unwrap();
        assert_eq!(c.evidence_max_bytes, 4096);
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let c = load(&[("DATABASE_URL", "postgres://tessera:s3cret@db:5432/tessera")]).unwrap();
        assert_eq!(c.backend, Backend::Postgres);
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("postgres://tessera:***@db:5432/tessera"),
            "{shown}"
        );
    }

    #[test]
    fn the_file_is_read_and_the_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\npublic_url = \"https://school.example/\"\n",
        )
        .unwrap();
        let c = Config::load(
            &|k| (k == "TESSERA_BIND").then(|| "127.0.0.1:9001".to_string()),
            Some(&path),
        )
        .unwrap();
        assert_eq!(c.bind.port(), 9001);
        assert_eq!(c.public_url, "https://school.example");
        assert!(c.secure_cookies());

        std::fs::write(&path, "bnid = \"x\"\n").unwrap();
        let e = Config::load(&|_| None, Some(&path))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bnid"), "{e}");
    }
}
