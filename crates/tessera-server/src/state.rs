//! The shared application state: one `Clone` handle, split into sub-states with `FromRef`.

use std::sync::Arc;

use axum::extract::FromRef;
use tessera_core::clock::Clock;
use tessera_core::registry::CaseUris;
use tessera_store::Store;

use crate::config::Config;
use crate::rate_limit::LoginLimiter;

/// Everything handlers share. Built once at start (or per test) and never mutated, apart from
/// the rate limiter's own interior state.
#[derive(Debug)]
pub struct App {
    /// The database; its pools are shared by every request.
    pub store: Store,
    /// The checked configuration.
    pub config: Config,
    /// The source of "now" (a fixed clock in tests).
    pub clock: Arc<dyn Clock>,
    /// Builds CASE URIs for things created here, from the public URL.
    pub uris: CaseUris,
    /// Login attempt buckets, per account and per client IP. In-memory: with several
    /// processes behind a balancer each counts on its own (the effective limit is multiplied).
    pub login_limiter: LoginLimiter,
    /// Issuing: the master key (loaded once) and the signed status lists in memory.
    pub issuing: crate::routes::issuing::Issuing,
    /// Verification for anyone: fetch policy, HTTP client and document cache.
    pub verifier: crate::routes::verify::service::Verifier,
    /// The school's transcript template folder (loaded on first use).
    pub transcript_templates: crate::routes::transcripts::TranscriptTemplates,
}

/// The handle every handler gets: an `Arc` around [`App`].
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<App>);

impl AppState {
    /// Builds the state from its parts.
    pub fn new(store: Store, config: Config, clock: Arc<dyn Clock>) -> Self {
        let uris = CaseUris::new(&config.public_url);
        let login_limiter = LoginLimiter::new(config.login_attempts_per_minute);
        let issuing = crate::routes::issuing::Issuing::new(config.master_key.clone());
        let transcript_templates =
            crate::routes::transcripts::TranscriptTemplates::from_config(&config);
        Self(Arc::new(App {
            store,
            config,
            clock,
            uris,
            login_limiter,
            issuing,
            verifier: Default::default(),
            transcript_templates,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl FromRef<AppState> for Store {
    fn from_ref(state: &AppState) -> Store {
        state.store.clone()
    }
}
