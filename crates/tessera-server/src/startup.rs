//! Start-up: the data directory, the store and its migrations, and the first-run setup link.

use std::sync::Arc;

use secrecy::ExposeSecret;
use tessera_core::clock::Clock;
use tessera_store::{Store, StoreError, StoreOptions};

use crate::auth::{hash_secret, new_secret};
use crate::config::Config;
use crate::error::AppError;
use crate::state::AppState;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened or migrated.
    #[error("database ({backend}): {source}")]
    Store {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// Why.
        source: StoreError,
    },
    /// The setup token could not be made.
    #[error("setup link: {0}")]
    Setup(#[from] AppError),
    /// The master key (issuer keys are sealed with it) is unusable or its file cannot be made.
    #[error("{0}")]
    MasterKey(#[from] crate::routes::issuing::IssuingError),
}

/// A started state and, when no platform admin exists yet, the one-time setup link to print.
#[derive(Debug)]
pub struct Prepared {
    /// The state to serve.
    pub state: AppState,
    /// `<public_url>/setup?token=…`, valid for 24 hours; only the newest one works.
    pub setup_link: Option<String>,
}

/// Creates the data directory, opens and migrates the database, and makes a setup link if the
/// service has no admin.
pub async fn prepare(config: Config, clock: Arc<dyn Clock>) -> Result<Prepared, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let backend = config.backend.as_str();
    let store_err = |source| StartError::Store { backend, source };
    let options = StoreOptions {
        max_connections: config.db_max_connections,
        ..StoreOptions::default()
    };
    let store = Store::connect(config.database_url.expose_secret(), &options)
        .await
        .map_err(store_err)?;
    store.migrate().await.map_err(store_err)?;
    crate::routes::rubrics::load_at_start(&store, &config.data_dir, clock.now())
        .await
        .map_err(store_err)?;
    let setup_link = if store.count_platform_admins().await.map_err(store_err)? == 0 {
        let token = new_secret("")?;
        let now = clock.now();
        store
            .replace_setup_token(&hash_secret(&token), now, now + chrono::Duration::hours(24))
            .await
            .map_err(store_err)?;
        Some(format!("{}/setup?token={token}", config.public_url))
    } else {
        None
    };
    let state = AppState::new(store, config, clock);
    // Loaded (or its file made, mode 0600) now, so that a bad key stops the start, not an issue.
    state.issuing.master_key(&state.config.data_dir)?;
    Ok(Prepared { state, setup_link })
}
