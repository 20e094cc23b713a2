//! The endpoints of the AI SRE agent Mimi replaces, so its scripts keep working (API token
//! required, like the rest of the API): `GET /pending`, `POST /approve/{id}`, `GET /config`
//! (redacted), `POST /trigger-test` (a synthetic alert through the real webhook path).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Identity;
use crate::config::Settings;

/// The effective configuration as JSON with every secret (and any credential inside a URL)
/// replaced by `[redacted]`.
pub fn redacted_settings(settings: &Settings) -> String {
    serde_json::to_string_pretty(&redacted_value(settings)).unwrap_or_else(|_| "{}".into())
}

fn redacted_value(settings: &Settings) -> Value {
    let mut value = serde_json::to_value(settings).unwrap_or(Value::Null);
    redact_strings(&mut value);
    value
}

/// Secrets already serialize as `[redacted]`; this catches credentials inside other strings
/// (`https://user:pass@host`, `token=...`).
fn redact_strings(v: &mut Value) {
    match v {
        Value::String(s) => *s = crate::domain::redact::redact(s).0,
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(map) => map.values_mut().for_each(redact_strings),
        _ => {}
    }
}

pub async fn config(State(state): State<AppState>) -> Response {
    Json(redacted_value(&state.settings)).into_response()
}

/// An always-new test alert (`MimiTestAlert`, severity `info`), posted through the webhook's own
/// handler: stored, deduplicated and run through the pipeline like any alert.
pub async fn trigger_test(State(state): State<AppState>, Extension(identity): Extension<Identity>) -> Response {
    let now = jiff::Timestamp::now();
    let id = format!("{:016x}", fastrand::u64(..));
    let labels = json!({"alertname": "MimiTestAlert", "severity": "info", "mimi_test": "true"});
    let payload = json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"MimiTestAlert\", test=\"{id}\"}}"),
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "mimi",
        "groupLabels": {"alertname": "MimiTestAlert"},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "A test alert sent by POST /trigger-test."},
        "externalURL": "http://mimi/trigger-test",
        "alerts": [{
            "status": "firing",
            "labels": labels,
            "annotations": {"summary": "A test alert sent by POST /trigger-test."},
            "startsAt": now.to_string(),
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": id,
        }],
    });
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = Bytes::from(payload.to_string());
    let (result, response) = super::webhook::handle(&state, identity, &headers, Ok(body)).await;
    state.metrics.delivery(result);
    response
}
