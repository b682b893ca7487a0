//! The test harness: every test that touches a database gets it from [`TestDb::new`].
//!
//! The backend comes from `TESSERA_TEST_BACKEND`:
//! - `sqlite` (default): a fresh database file in a temporary directory, removed afterwards.
//! - `postgres`: `TEST_DATABASE_URL` must name a reachable server (for example
//!   `postgres://postgres@127.0.0.1:5432/test`); a fresh database `tessera_t_<random>` is created
//!   per test and dropped afterwards. An unreachable server fails the test loudly; nothing here
//!   ever skips.

use crate::{Backend, Store, StoreOptions, sqlf};

/// A migrated, empty database for one test. Dropping it removes the database.
#[derive(Debug)]
pub struct TestDb {
    /// The URL of the database (give it to a `tessera serve` child process as `DATABASE_URL`).
    pub url: String,
    /// An open, migrated store on it.
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

/// Which backend the tests run on, from `TESSERA_TEST_BACKEND`.
pub fn test_backend() -> Backend {
    match std::env::var("TESSERA_TEST_BACKEND").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("TESSERA_TEST_BACKEND must be sqlite or postgres, not {other:?}"),
    }
}

impl TestDb {
    /// Creates and migrates a fresh database on the configured test backend. Panics (failing
    /// the test) if it cannot.
    pub async fn new() -> Self {
        match test_backend() {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("create a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("tessera.db").display());
                let store = open(&url).await;
                Self {
                    url,
                    store,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_DATABASE_URL").expect(
                    "TESSERA_TEST_BACKEND=postgres needs TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test",
                );
                let name = format!("tessera_t_{}", uuid::Uuid::new_v4().simple());
                let admin = sqlx::PgPool::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("cannot reach the PostgreSQL server at TEST_DATABASE_URL: {e}")
                });
                sqlx::query(sqlf!("CREATE DATABASE {name}"))
                    .execute(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
                admin.close().await;
                let url = with_database(&admin_url, &name);
                let store = open(&url).await;
                Self {
                    url,
                    store,
                    _dir: None,
                    postgres: Some((admin_url, name)),
                }
            }
        }
    }

    /// Runs raw SQL against the database, for tests that sabotage it on purpose.
    pub async fn execute_raw(&self, sql: &str) {
        crate::write!(self.store, |pool| {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(pool)
                .await
                .expect("raw SQL");
        });
    }
}

async fn open(url: &str) -> Store {
    let store = Store::connect(url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("cannot open the test database: {e}"));
    store.migrate().await.expect("migrations apply");
    store
}

/// Replaces the database name (the path) of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop may run on the test's (blocked) runtime, so the cleanup gets its own thread and
        // runtime. The store's pool is not closed here (its connection tasks live on the test's
        // runtime and would wait forever); `WITH (FORCE)` ends those connections server-side.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for test database cleanup");
            rt.block_on(async move {
                if let Ok(admin) = sqlx::PgPool::connect(&admin_url).await {
                    let _ = sqlx::query(sqlf!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&admin)
                        .await;
                    admin.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced_keeping_the_query() {
        assert_eq!(
            super::with_database(
                "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
                "x"
            ),
            "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
