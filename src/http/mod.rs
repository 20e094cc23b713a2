//! HTTP (axum): the Alertmanager webhook, Slack's signed requests, health and metrics, the API, and
//! the web console.
//!
//! Requests are logged by method and path only — never the query string or headers, where a
//! misconfigured client may have put a credential (RELIABILITY A02).

mod api;
mod approvals;
mod ask;
mod auth;
mod compat;
pub mod console;
mod error;
mod health;
mod slack;
mod webhook;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::store::{Committer, Store};

pub use auth::{ApiAuth, WebhookAuth};
pub use compat::redacted_settings;

/// Webhook requests handled at once; more wait for a turn before their body is read, so memory stays
/// bounded by `WEBHOOK_CONCURRENCY * server.body_limit_bytes` whatever the number of connections.
const WEBHOOK_CONCURRENCY: usize = 256;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub committer: Committer,
    /// The cluster, when configured (for /health).
    pub cluster: Option<crate::cluster::KubeCluster>,
    pub metrics: Arc<Metrics>,
    pub webhook_auth: Arc<WebhookAuth>,
    pub api_auth: Arc<ApiAuth>,
    /// Cancelled when shutdown begins; readiness turns 503.
    pub shutdown: CancellationToken,
    pub started: Instant,
    /// Read-only questions.
    pub qa: crate::qa::QaEngine,
    /// Wakes idle worker lanes (after an approval queued an execution).
    pub wake: Arc<tokio::sync::Notify>,
    /// The sinks this instance delivers to (name, is a chat platform).
    pub sinks: Vec<(String, bool)>,
    pub sink_health: Arc<crate::notify::Health>,
    /// Console sessions.
    pub console: Arc<console::Sessions>,
    /// Slack's inbound side, when `[slack]` is configured.
    pub slack: Option<Arc<crate::chat::slack::Inbound>>,
}

pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.server.body_limit_bytes;
    let timeout = Duration::from_secs(state.settings.server.request_timeout_seconds);

    let webhook = Router::new()
        .route("/webhook", post(webhook::receive))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(WEBHOOK_CONCURRENCY))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_webhook_auth));

    let api = Router::new()
        .route("/api/incidents", get(api::list_incidents))
        .route("/api/incidents/{id}", get(api::get_incident))
        .route("/api/jobs/dead", get(api::dead_jobs))
        .route("/api/pending", get(approvals::pending))
        .route("/ask", post(ask::ask))
        .route("/api/ask", post(ask::ask))
        .route("/api/proposals/{id}/approve", post(approvals::approve))
        .route("/api/proposals/{id}/reject", post(approvals::reject))
        .route("/incidents", get(api::list_incidents))
        .route("/pending", get(approvals::pending))
        .route("/approve/{id}", post(approvals::approve))
        .route("/config", get(compat::config))
        .route("/trigger-test", post(compat::trigger_test))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_api_auth));

    // Authenticated by Slack's request signature, not by an API token.
    let slack = Router::new()
        .route("/slack/events", post(slack::events))
        .route("/slack/interactions", post(slack::interactions))
        .route("/slack/commands", post(slack::commands))
        .layer(DefaultBodyLimit::max(body_limit));

    let open = Router::new()
        .route("/health", get(health::health))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics));

    let (console, live) = match state.settings.console.enabled {
        true => (console::router(state.clone()), console::live_router()),
        false => (Router::new(), Router::new()),
    };

    Router::new()
        .merge(webhook)
        .merge(api)
        .merge(open)
        .merge(console)
        .merge(slack)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        // Server-sent events stay open; they end at shutdown instead.
        .merge(live)
        .fallback(error::not_found)
        .with_state(state)
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(
            |req: &Request| tracing::info_span!("http", method = %req.method(), path = req.uri().path()),
        ))
}
