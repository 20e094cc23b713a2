//! `POST /ask` `{"question": "...", "thread": "optional id"}` -> `{"answer", "incidents", "objects",
//! "action_taken": null}`. Authenticated like the rest of the API; an API caller sees the namespaces
//! of `qa.api_namespaces` (all when unset).

use axum::Json;
use axum::extract::{Extension, State};
use serde::Deserialize;

use super::AppState;
use super::auth::Identity;
use super::error::ApiError;
use crate::qa::{Answer, Asker, Scope};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    question: String,
    #[serde(default)]
    thread: Option<String>,
}

const MAX_QUESTION: usize = 2000;

pub async fn ask(
    State(state): State<AppState>,
    Extension(identity): Extension<Identity>,
    body: Result<Json<Question>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Answer>, ApiError> {
    let Json(q) =
        body.map_err(|e| ApiError::bad_request(format!("expected {{\"question\": \"...\"}}: {}", e.body_text())))?;
    if q.question.len() > MAX_QUESTION {
        return Err(ApiError::bad_request(format!("a question may have at most {MAX_QUESTION} bytes")));
    }
    let scope = match &state.settings.qa.api_namespaces {
        Some(list) => Scope::only(list.iter().cloned()),
        None => Scope::all(),
    };
    let thread = q.thread.as_deref().map(|t| format!("api:{}:{t}", identity.0));
    let answer = state
        .qa
        .ask(&q.question, &Asker(identity.0.clone()), &scope, thread.as_deref())
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(answer))
}
