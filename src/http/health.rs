//! `/healthz` (liveness), `/readyz` (readiness), `/health` (JSON detail), `/metrics` (Prometheus).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

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
        // Still ready when sinks are down: alerts are taken and kept (B09); failing readiness would
        // take Mimi out of its Service and stop Alertmanager's deliveries too.
        let down: Vec<String> = state
            .sink_health
            .all()
            .into_iter()
            .filter(|(_, st)| st.is_down())
            .map(|(name, st)| format!("sink {name} is down: {}", st.last_error.unwrap_or_default()))
            .collect();
        if down.is_empty() {
            (StatusCode::OK, Json(json!({"status": "ready"}))).into_response()
        } else {
            let all = down.len() == state.sinks.len();
            let note = if all {
                "no message can be delivered; alerts are kept and delivered when a sink returns"
            } else {
                "some sinks are down"
            };
            (StatusCode::OK, Json(json!({"status": "ready", "degraded": down, "note": note}))).into_response()
        }
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
    let (chat, email, outbox, deadman) = notify_checks(&state).await;
    let down = [&database, &committer].iter().any(|c| c["status"] == "down");
    // Without the cluster Mimi still takes alerts and notifies: degraded, not down. Sinks that
    // are down degrade too: alerts are kept and delivered later.
    let degraded = worker["status"] != "ok"
        || cluster["status"] == "down"
        || [&chat, &email, &outbox, &deadman].iter().any(|c| c["status"] == "down" || c["status"] == "degraded");
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
            "chat": chat,
            "email": email,
            "outbox": outbox,
            "deadman": deadman,
        }
    });
    let code = if down { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    (code, Json(body)).into_response()
}

/// Sink health (chat sinks together, email), the outbox per sink, the dead man's switch.
async fn notify_checks(state: &AppState) -> (Value, Value, Value, Value) {
    let all = state.sink_health.all();
    let group = |chat: bool| {
        let sinks: serde_json::Map<String, Value> = state
            .sinks
            .iter()
            .filter(|(_, c)| *c == chat)
            .filter_map(|(name, _)| all.get(name).map(|st| (name.clone(), json!(st))))
            .collect();
        if sinks.is_empty() {
            return json!({"status": "not_configured"});
        }
        let states: Vec<&str> = sinks.values().filter_map(|v| v["status"].as_str()).collect();
        let status = if states.iter().all(|s| *s == "down") {
            "down"
        } else if states.iter().any(|s| *s == "down" || *s == "degraded") {
            "degraded"
        } else {
            "ok"
        };
        json!({"status": status, "sinks": sinks})
    };
    let (chat, email) = (group(true), group(false));
    let outbox = match state.store.outbox_stats(now_ms()).await {
        Ok(stats) if state.sinks.is_empty() && stats.is_empty() => json!({"status": "not_configured"}),
        Ok(stats) => {
            let stale = stats.iter().any(|s| s.oldest_age_ms.is_some_and(|a| a > STALE_QUEUE_MS));
            let per_sink: serde_json::Map<String, Value> = stats
                .iter()
                .map(|s| {
                    let age = s.oldest_age_ms.map(|ms| ms as f64 / 1000.0);
                    (s.sink.clone(), json!({"depth": s.depth, "oldest_age_seconds": age, "dead": s.dead}))
                })
                .collect();
            json!({"status": if stale { "degraded" } else { "ok" }, "sinks": per_sink})
        }
        Err(e) => json!({"status": "down", "detail": e.to_string()}),
    };
    let deadman = if !state.settings.deadman.enabled {
        json!({"status": "not_configured"})
    } else {
        match state.store.heartbeats().await {
            Ok(beats) if beats.is_empty() => {
                json!({"status": "waiting", "alertname": state.settings.deadman.alertname})
            }
            Ok(beats) => {
                let silent: Vec<&str> =
                    beats.iter().filter(|b| b.silent_since.is_some()).map(|b| b.cluster.as_str()).collect();
                let clusters: serde_json::Map<String, Value> = beats
                    .iter()
                    .map(|b| {
                        let last = jiff::Timestamp::from_millisecond(b.last_seen).ok();
                        (b.cluster.clone(), json!({"last_seen": last, "silent": b.silent_since.is_some()}))
                    })
                    .collect();
                json!({"status": if silent.is_empty() { "ok" } else { "down" }, "clusters": clusters})
            }
            Err(e) => json!({"status": "down", "detail": e.to_string()}),
        }
    };
    (chat, email, outbox, deadman)
}

/// Prometheus text format; the stored-state gauges are refreshed from the database first.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match state.store.outbox_stats(now_ms()).await {
        Ok(stats) => {
            let health = state.sink_health.all();
            let sinks: Vec<(String, bool)> = state
                .sinks
                .iter()
                .map(|(name, _)| (name.clone(), health.get(name).is_none_or(|h| !h.is_down())))
                .collect();
            state.metrics.set_outbox(&stats, &sinks);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not read the outbox; gauges are stale"),
    }
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
