//! The read API: `GET /api/incidents` (filters, pagination), `GET /api/incidents/{id}`,
//! `GET /api/jobs/dead`. `GET /incidents` answers like `/api/incidents`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use crate::domain::incident::IncidentState;
use crate::store::{IncidentDetail, IncidentFilter, IncidentPage, JobRow};
use crate::strings::http as s;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<String>,
    namespace: Option<String>,
    severity: Option<String>,
    /// RFC 3339 time, or a duration back from now such as `30m`, `6h`, `7d`.
    since: Option<String>,
    /// The `next` value of the previous page.
    before: Option<i64>,
    limit: Option<i64>,
}

pub async fn list_incidents(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<IncidentPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(format!("{}: {}", s::BAD_QUERY, e.body_text())))?;
    if let Some(st) = &q.state
        && IncidentState::parse(st).is_none()
    {
        let known: Vec<&str> = IncidentState::ALL.iter().map(|s| s.as_str()).collect();
        return Err(ApiError::bad_request(format!("state={st:?} is not one of {}", known.join(", "))));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 500"));
    }
    let since_ms = q.since.as_deref().map(parse_since).transpose()?;
    let filter = IncidentFilter {
        state: q.state,
        namespace: q.namespace,
        severity: q.severity,
        since_ms,
        before_id: q.before,
        limit,
    };
    state.store.list_incidents(&filter).await.map(Json).map_err(ApiError::internal)
}

pub async fn get_incident(
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::bad_request("incident id must be a number"))?;
    match state.store.incident_detail(id).await.map_err(ApiError::internal)? {
        Some(detail) => Ok(Json(detail)),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", s::INCIDENT_NOT_FOUND)),
    }
}

pub async fn dead_jobs(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let jobs: Vec<JobRow> = state.store.dead_jobs(200).await.map_err(ApiError::internal)?;
    Ok(Json(serde_json::json!({"jobs": jobs})))
}

fn parse_since(text: &str) -> Result<i64, ApiError> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    let bad =
        || ApiError::bad_request(format!("since={text:?}: expected an RFC 3339 time or a duration like 30m, 6h, 7d"));
    let (num, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = num.parse().map_err(|_| bad())?;
    let ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    if n < 0 {
        return Err(bad());
    }
    Ok(crate::store::now_ms() - n.saturating_mul(ms))
}
