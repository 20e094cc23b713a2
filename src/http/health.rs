//! `/healthz` (liveness), `/readyz` (readiness), `/health` (JSON detail), `/metrics` (Prometheus).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::store::now_ms;

/// A job queue older than this makes the worker "degraded".
const STALE_QUEUE_MS: i64 = 5 * 60 * 1000;

/// Liveness: the process answers and its commit task runs. Failing it gets Mimi restarted.
pub async fn healthz(State(state): State<AppState>) -> Response {
    if state.committer.is_running() {
        (StatusCode::OK, Json(json!({"status": "ok"}))).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "down", "reason": "commit task stopped"})))
            .into_response()
    }
}

/// Readiness: can take alerts now (database reachable, commit task running, not shutting down).
pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut reasons = Vec::new();
    if state.shutdown.is_cancelled() {
        reasons.push("shutting down".to_string());
    }
    if !state.committer.is_running() {
        reasons.push("commit task stopped".to_string());
    }
    if let Err(e) = state.store.ping().await {
        reasons.push(format!("database: {e}"));
    }
    if reasons.is_empty() {
        (StatusCode::OK, Json(json!({"status": "ready"}))).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "not_ready", "reasons": reasons}))).into_response()
    }
}

/// Overall status plus the state of each dependency.
pub async fn health(State(state): State<AppState>) -> Response {
    let database = match state.store.ping().await {
        Ok(()) => json!({"status": "ok"}),
        Err(e) => json!({"status": "down", "detail": e.to_string()}),
    };
    let committer = if state.committer.is_running() { json!({"status": "ok"}) } else { json!({"status": "down"}) };
    let worker = match state.store.queue_stats(now_ms()).await {
        Ok(q) => {
            let stale = q.oldest_age_ms.is_some_and(|age| age > STALE_QUEUE_MS);
            let status = if stale || q.dead > 0 { "degraded" } else { "ok" };
            let depth: serde_json::Map<String, serde_json::Value> =
                q.depth.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            json!({
                "status": status,
                "queue_depth": depth,
                "oldest_job_age_seconds": q.oldest_age_ms.map(|ms| ms as f64 / 1000.0),
                "dead_jobs": q.dead,
            })
        }
        Err(e) => json!({"status": "down", "detail": e.to_string()}),
    };
    let not_configured = json!({"status": "not_configured"});
    let cluster = match &state.cluster {
        None => not_configured.clone(),
        Some(c) => match c.version().await {
            Ok(version) => json!({"status": "ok", "version": version}),
            Err(e) => json!({"status": "down", "detail": e.to_string()}),
        },
    };
    let down = [&database, &committer].iter().any(|c| c["status"] == "down");
    // Without the cluster Mimi still takes alerts and notifies: degraded, not down.
    let degraded = worker["status"] != "ok" || cluster["status"] == "down";
    let overall = if down {
        "down"
    } else if degraded {
        "degraded"
    } else {
        "ok"
    };
    let body = json!({
        "status": overall,
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started.elapsed().as_secs(),
        "checks": {
            "database": database,
            "committer": committer,
            "worker": worker,
            "cluster": cluster,
            "analyzer": not_configured,
            "chat": not_configured,
        }
    });
    let code = if down { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    (code, Json(body)).into_response()
}

/// Prometheus text format; the stored-state gauges are refreshed from the database first.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let incidents = state.store.incidents_by_state().await;
    let queue = state.store.queue_stats(now_ms()).await;
    match (incidents, queue) {
        (Ok(incidents), Ok(queue)) => state.metrics.set_stored_state(&incidents, &queue),
        (Err(e), _) | (_, Err(e)) => {
            state.metrics.error(crate::metrics::ErrorKind::Store);
            tracing::warn!(error = %e, "metrics: could not read stored state; gauges are stale");
        }
    }
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], state.metrics.encode()).into_response()
}
