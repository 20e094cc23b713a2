//! `POST /slack/events`, `/slack/interactions`, `/slack/commands`: Slack's signed requests.
//!
//! The raw body is verified before anything reads it (C01, C02): 401 without a state change when
//! the signature or timestamp is wrong. Then `chat::slack::Inbound` answers at once and works in a
//! task of its own (C04).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::chat::slack::verify::{self, SIGNATURE, TIMESTAMP};
use crate::chat::slack::{Ack, Inbound};

pub async fn events(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&state, &headers, &body, Kind::Event).await
}

pub async fn interactions(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&state, &headers, &body, Kind::Interaction).await
}

pub async fn commands(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&state, &headers, &body, Kind::Command).await
}

enum Kind {
    Event,
    Interaction,
    Command,
}

async fn handle(state: &AppState, headers: &HeaderMap, body: &[u8], kind: Kind) -> Response {
    let Some(slack) = &state.slack else { return super::error::not_found().await.into_response() };
    if let Err(e) = check(slack, headers, body) {
        tracing::warn!(reason = %e, "refused a Slack request");
        return ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", e.to_string()).into_response();
    }
    let ack = match kind {
        Kind::Event => slack.event(body).await,
        Kind::Interaction => slack.interaction(body).await,
        Kind::Command => slack.command(body).await,
    };
    match ack {
        Ack::Empty => StatusCode::OK.into_response(),
        Ack::Json(v) => Json(v).into_response(),
        Ack::Malformed(why) => ApiError::bad_request(why.to_string()).into_response(),
        Ack::Unavailable => ApiError::unavailable(crate::strings::slack::TRY_AGAIN).into_response(),
    }
}

fn check(slack: &Arc<Inbound>, headers: &HeaderMap, body: &[u8]) -> Result<(), verify::VerifyError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = jiff::Timestamp::now().as_second();
    verify::verify(&slack.secrets(), header(TIMESTAMP), header(SIGNATURE), body, now)
}
