//! The HTTP service: the `/api/v1` REST API, accounts and auth, health and metrics.
//!
//! # Layout
//! - [`config`]: the one configuration struct (TOML file + environment).
//! - [`state`]: [`AppState`], the shared handle (store, config, clock, rate limiter).
//! - [`error`]: [`error::AppError`], problem+json rendering and the error policy.
//! - [`extract`]: `AppJson`/`AppQuery`/`AppPath`, so malformed input gets our problem body.
//! - [`auth`]: sessions, API tokens, CSRF, passwords and the `Auth` extractors.
//! - [`rate_limit`]: login token buckets.
//! - [`middleware`]: error logging, Prometheus metrics, panic handling.
//! - [`routes`]: one module per area, each with its `router()`.
//! - [`startup`]: opening the store, migrating, the first-run setup link.
//!
//! # Entry points
//! [`app`] builds the router for a state (tests call it with `oneshot`); [`run`] serves it on a
//! listener until the shutdown future completes, finishing requests in flight.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub mod auth;
pub mod bulk_worker;
pub mod config;
pub mod error;
pub mod extract;
pub mod housekeeping;
pub mod middleware;
pub mod pages;
pub mod rate_limit;
pub mod routes;
pub mod startup;
pub mod state;

pub use config::Config;
pub use state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application for `state`: routes, the OpenAPI document and the middleware stack.
pub fn app(state: AppState) -> Router {
    let (router, openapi) = routes::api().split_for_parts();
    let router = router.merge(pages::router());
    let doc = serde_json::to_string(&openapi).unwrap_or_else(|_| "{}".to_owned());
    let max_body = state.config.max_body_bytes;
    // Install the metrics recorder before the first request is counted.
    middleware::prometheus();
    router
        .layer(axum::Extension(routes::ops::OpenApiJson(Arc::from(doc))))
        .layer(DefaultBodyLimit::max(max_body))
        // Staff reads of learners' data, noted by the access checks, are logged per request.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::rights::record_access,
        ))
        .layer(axum::middleware::from_fn(middleware::log_errors))
        .layer(axum::middleware::from_fn(middleware::track_metrics))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            // The span carries the request id and route template; never headers or bodies
            // (they hold cookies, tokens and passwords).
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes; then stops accepting and waits for
/// requests in flight to finish.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let upkeep = housekeeping::spawn(state.clone());
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    upkeep.abort();
    served?;
    store.close().await;
    Ok(())
}
