//! `POST /webhook`: Alertmanager notifications in, durably.
//!
//! Authenticated (middleware) -> JSON content type -> body within the limit -> a valid v4 payload
//! -> committed (group commit) -> 200. A 2xx is sent only after the commit (DESIGN invariant 1);
//! a commit that fails answers 503 so Alertmanager retries; malformed input answers 400, which it
//! does not retry. A repeat of a delivery already stored answers 200 and changes nothing. A
//! delivery of only the dead man's switch alert (`[deadman] alertname`) records a heartbeat.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::auth::Identity;
use super::error::ApiError;
use crate::domain::alert::parse_payload;
use crate::metrics::DeliveryResult;
use crate::store::{CommitError, CommitOutcome, NewDelivery, now_ms};
use crate::strings::http as s;

pub async fn receive(
    State(state): State<AppState>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let (result, response) = handle(&state, identity, &headers, body).await;
    state.metrics.delivery(result);
    state.metrics.ack(started.elapsed());
    response
}

pub(super) async fn handle(
    state: &AppState,
    identity: Identity,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> (DeliveryResult, Response) {
    let bad = |msg: String| (DeliveryResult::BadRequest, ApiError::bad_request(msg).into_response());
    if !is_json(headers) {
        return bad(s::CONTENT_TYPE.to_string());
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let err = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", s::TOO_LARGE);
            return (DeliveryResult::TooLarge, err.into_response());
        }
        Err(rejection) => return bad(rejection.body_text()),
    };
    let delivery = match parse_payload(&body) {
        Ok(d) => d,
        Err(e) => return bad(format!("{}: {e}", s::INVALID_PAYLOAD)),
    };

    let settings = &state.settings;
    let cluster = delivery.cluster(&settings.cluster.label, &settings.cluster.name).to_string();
    // Alertmanager's always-firing Watchdog is a heartbeat, not an incident. It is recorded here,
    // before the duplicate check: its repeats are identical notifications, each one a beat.
    if let Some(name) = settings.deadman.watchdog()
        && delivery.alerts.iter().all(|a| a.labels.get("alertname").is_some_and(|n| n == name))
    {
        // A resolved Watchdog is no beat: it means Prometheus stopped evaluating it.
        if delivery.firing_count() == 0 {
            let body = Json(json!({"status": "heartbeat", "note": "Watchdog resolved: not counted"}));
            return (DeliveryResult::Heartbeat, (StatusCode::OK, body).into_response());
        }
        return match state.store.record_heartbeat(&cluster, now_ms()).await {
            Ok(()) => {
                (DeliveryResult::Heartbeat, (StatusCode::OK, Json(json!({"status": "heartbeat"}))).into_response())
            }
            Err(_) => {
                state.metrics.error(crate::metrics::ErrorKind::Commit);
                (DeliveryResult::Unavailable, ApiError::unavailable(s::UNAVAILABLE).into_response())
            }
        };
    }
    let firing = delivery.firing_count() as u64;
    let resolved = delivery.alerts.len() as u64 - firing;
    let new = NewDelivery {
        digest: delivery.digest(&cluster),
        received_at: now_ms(),
        cluster,
        group_key: delivery.group_key.clone(),
        status: delivery.status.as_str(),
        alert_count: delivery.alerts.len() as i64,
        auth_identity: identity.0,
        payload: body,
    };
    match state.committer.commit(new).await {
        Ok(receipt) => match receipt.outcome {
            CommitOutcome::Accepted { delivery_id } => {
                state.metrics.alerts(firing, resolved);
                let body = Json(json!({"status": "accepted", "delivery_id": delivery_id}));
                (DeliveryResult::Accepted, (StatusCode::OK, body).into_response())
            }
            CommitOutcome::Duplicate => {
                let body = Json(json!({"status": "duplicate"}));
                (DeliveryResult::Duplicate, (StatusCode::OK, body).into_response())
            }
        },
        Err(CommitError::ShuttingDown) => {
            (DeliveryResult::Unavailable, ApiError::unavailable(s::SHUTTING_DOWN).into_response())
        }
        Err(CommitError::Unavailable(_) | CommitError::Failed(_)) => {
            state.metrics.error(crate::metrics::ErrorKind::Commit);
            (DeliveryResult::Unavailable, ApiError::unavailable(s::UNAVAILABLE).into_response())
        }
    }
}

/// `application/json`, with or without parameters such as `charset=utf-8`.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}
