//! Proposals over HTTP: `GET /api/pending` and `POST /api/proposals/{id}/approve` / `reject`.
//!
//! The caller is identified by its API token's name (`[[api.tokens]]`), as the web approver
//! `web:<name>`; whether it may approve is decided by `[[policy.approvers]]` (platform "web") and the
//! shared approval rules, exactly as for chat. Refusals answer 403 with the reason and are audited.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Identity;
use super::error::ApiError;
use crate::domain::approval::Choice;
use crate::domain::approver::{Approver, ApproverId, Origin};
use crate::engine::{DecideError, Decided, decide_proposal};

pub async fn pending(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let proposals = state.store.pending_proposals(500).await.map_err(ApiError::internal)?;
    Ok(Json(json!({"proposals": proposals})))
}

pub async fn approve(
    state: State<AppState>,
    identity: Extension<Identity>,
    id: Path<String>,
) -> Result<Json<Value>, ApiError> {
    decide_http(state, identity, id, Choice::Approve).await
}

pub async fn reject(
    state: State<AppState>,
    identity: Extension<Identity>,
    id: Path<String>,
) -> Result<Json<Value>, ApiError> {
    decide_http(state, identity, id, Choice::Reject).await
}

async fn decide_http(
    State(state): State<AppState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
    choice: Choice,
) -> Result<Json<Value>, ApiError> {
    let forbidden = |msg: String| ApiError::new(StatusCode::FORBIDDEN, "forbidden", msg);
    let Some(name) = identity.0.strip_prefix("token:") else {
        return Err(forbidden("approvals need a named API token ([[api.tokens]])".into()));
    };
    let approver = Approver::new(ApproverId::web(name).map_err(|e| forbidden(e.to_string()))?);
    let decided =
        decide_proposal(&state.store, &state.settings.policy, &state.wake, &id, &approver, &Origin::Console, choice)
            .await
            .map_err(|e| match e {
                DecideError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
                DecideError::NotOpen { .. } => ApiError::new(StatusCode::CONFLICT, "not_open", e.to_string()),
                DecideError::Refused(_) => forbidden(e.to_string()),
                DecideError::Conflict => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
                DecideError::Internal(err) => ApiError::internal(err),
            })?;
    let status = match decided {
        Decided::Approved => "approved",
        Decided::NeedsAnotherApprover => "needs_another_approver",
        Decided::Rejected => "rejected",
    };
    Ok(Json(json!({"proposal": id, "status": status, "by": approver.id.to_string()})))
}
