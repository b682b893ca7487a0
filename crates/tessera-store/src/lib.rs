//! Persistence on SQLite or PostgreSQL, behind one [`Store`] type.
//!
//! The backend is chosen once, when the store is opened, from the database URL
//! ([`Backend::from_url`]). Every store method holds its SQL once and runs it on whichever pool
//! the store has: the SQL is written in the dialect both databases share (`$1` placeholders,
//! `RETURNING`, `ON CONFLICT`), and the [`read!`]/[`write!`] macros expand the same body for each
//! backend's pool type. Queries are runtime `query`/`query_as` with `FromRow` rows, not the
//! `query!` macros, so a fresh machine builds without a database; the store's tests, run on
//! both backends, are the check on the SQL.
//!
//! # Layout
//! - [`error`]: [`StoreError`] and the one mapping of database errors.
//! - [`accounts`]: organisations, users, memberships, invitations, the first-run setup token.
//! - [`auth`]: login sessions and personal API tokens (hashes only; the server makes the secrets).
//! - [`batches`]: bulk issuance rows, claimed by workers; [`issuance`]: per-framework issuance
//!   and the masteries waiting for a credential.
//! - [`registry`]: frameworks, competencies, associations (hierarchy, prerequisites, the rest of
//!   CASE) and search.
//! - [`share_links`]: a learner's links to one credential or transcript (token hashes, opens).
//! - [`learner_rights`]: consents, the staff access log, retention and its housekeeping, the
//!   privacy note; [`erasure`]: erasing a person's personal data, the export, the catalogue scan.
//! - [`testing`] (feature `testing`): the per-test database harness.
//!
//! # Pools
//! On SQLite there is one writer connection (SQLite allows one writer at a time; queueing in the
//! pool is cheaper than `SQLITE_BUSY` retries) and a pool of readers in WAL mode with
//! `synchronous=NORMAL`. On PostgreSQL both roles share one pool.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod batches;
pub mod case;
pub mod case_rubrics;
pub mod cohorts;
pub mod credentials;
pub mod dashboards;
pub mod equity;
pub mod erasure;
pub mod error;
pub mod evidence;
pub mod gating;
pub mod issuance;
pub mod issuer_keys;
pub mod learner_dids;
pub mod learner_rights;
pub mod mastery;
pub mod registry;
pub mod reviews;
pub mod rubrics;
pub mod share_links;
pub mod status_lists;
pub mod subgroups;
pub mod targets;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transcripts;
pub mod views;

pub use error::{ResultExt, StoreError};

/// Which database a URL points at. Parsed once at start; nothing else looks at the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:` URLs: one file (created if missing).
    Sqlite,
    /// `postgres://` or `postgresql://` URLs.
    Postgres,
}

impl Backend {
    /// Reads the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Config(
                "the URL must start with sqlite: or postgres://".into(),
            ))
        }
    }

    /// The backend's name as configuration and logs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Pool sizes and timeouts.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// PostgreSQL: connections in the pool. SQLite: reader connections.
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The pools of the chosen backend.
#[derive(Debug)]
enum Pools {
    Sqlite {
        /// Readers, WAL mode, shared by all read-only queries.
        read: SqlitePool,
        /// Exactly one connection: every write and every transaction.
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// The one persistence handle. Cheap to clone (an `Arc`); share it across the service.
#[derive(Debug, Clone)]
pub struct Store {
    pools: Arc<Pools>,
}

/// `format!` for SQL text built only from constants in this crate (column lists, a collation),
/// never from input: input is always bound as a parameter.
macro_rules! sqlf {
    ($($arg:tt)*) => {
        sqlx::AssertSqlSafe(format!($($arg)*))
    };
}

/// Runs `$body` with `$pool` bound to the backend's read pool. The body is expanded once per
/// backend, so the same SQL and row types serve both.
macro_rules! read {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &*$store.pools {
            $crate::Pools::Sqlite { read: $pool, .. } => $body,
            $crate::Pools::Postgres($pool) => $body,
        }
    };
}

/// Like [`read!`] but with the write pool (on SQLite, the single writer connection).
macro_rules! write {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &*$store.pools {
            $crate::Pools::Sqlite { write: $pool, .. } => $body,
            $crate::Pools::Postgres($pool) => $body,
        }
    };
}
pub(crate) use {read, sqlf, write};

impl Store {
    /// Opens the database at `url` (creating a SQLite file if missing). Does not migrate.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let pools = match Backend::from_url(url)? {
            Backend::Sqlite => {
                let base = SqliteConnectOptions::from_str(url)
                    .map_err(|e| StoreError::Config(format!("invalid SQLite URL: {e}")))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true);
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(base.clone())
                    .await?;
                let read = SqlitePoolOptions::new()
                    .max_connections(options.max_connections.max(1))
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(base.read_only(true))
                    .await?;
                Pools::Sqlite { read, write }
            }
            Backend::Postgres => {
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections.max(2))
                    .acquire_timeout(options.acquire_timeout)
                    .connect(url)
                    .await?;
                Pools::Postgres(pool)
            }
        };
        Ok(Self {
            pools: Arc::new(pools),
        })
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        match &*self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations under `migrations/<backend>/` that have not run yet.
    #[tracing::instrument(skip_all, fields(backend = self.backend().as_str()))]
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &*self.pools {
            Pools::Sqlite { write, .. } => {
                sqlx::migrate!("../../migrations/sqlite").run(write).await?
            }
            Pools::Postgres(pool) => {
                sqlx::migrate!("../../migrations/postgres")
                    .run(pool)
                    .await?
            }
        }
        Ok(())
    }

    /// Checks that the database answers (for `/health`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        read!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection, waiting for ones in use to come back.
    pub async fn close(&self) {
        match &*self.pools {
            Pools::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}

/// Turns a stored enum text back into its domain type, or reports a corrupt row.
pub(crate) fn parse_stored<T>(
    value: &str,
    parse: impl FnOnce(&str) -> Result<T, tessera_core::DomainError>,
) -> Result<T, StoreError> {
    parse(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A fresh CASE identifier (UUID v4).
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Appends ` IN (…)` with one bound parameter per item. The caller keeps `items` non-empty and
/// under the backend's bind limit (chunks).
pub(crate) fn push_in<'t, DB, T>(
    qb: &mut sqlx::QueryBuilder<DB>,
    items: impl IntoIterator<Item = T>,
) where
    DB: sqlx::Database,
    T: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    qb.push(" IN (");
    let mut list = qb.separated(", ");
    for item in items {
        list.push_bind(item);
    }
    qb.push(")");
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
