//! The HTTP face of the sandbox: bearer-token check, routing by path and verb to the operations in
//! `ops`, JSON bodies in, JSON (or plain-text logs, or a watch stream) out.
//!
//! Invariants: every request but health checks needs `Authorization: Bearer <token>` (401
//! otherwise); every error is a Kubernetes `Status` with its HTTP code; handlers hold the cluster
//! lock only inside `Shared::with` / `Shared::read`, never across an await.

mod discovery;
mod logs;
mod path;
mod table;
mod watch;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::ops::{self, DeleteOptions, ListOptions};
use super::patch::PatchType;
use super::resources::{ResourceDef, Sub};
use super::selector::{FieldSelector, LabelSelector};
use super::server::Shared;
use path::Route;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, [(header::CONTENT_TYPE, "application/json")], self.to_status().to_string()).into_response()
    }
}

pub(crate) fn json_response(code: StatusCode, v: &Value) -> Response {
    (code, [(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

/// Query parameters, kept as pairs (Kubernetes allows repeats, e.g. `dryRun`).
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }

    pub(crate) fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1"))
    }

    fn dry_run(&self) -> bool {
        self.0.iter().any(|(k, v)| k == "dryRun" && v == "All")
    }

    pub(crate) fn list_options(&self, def: &ResourceDef) -> Result<ListOptions, ApiError> {
        Ok(ListOptions {
            labels: LabelSelector::parse(self.get("labelSelector").unwrap_or_default())?,
            fields: FieldSelector::parse(def.kind, self.get("fieldSelector").unwrap_or_default())?,
            limit: self.get("limit").and_then(|l| l.parse().ok()),
            continue_token: self.get("continue").filter(|c| !c.is_empty()).map(String::from),
        })
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(token) = value.strip_prefix("Bearer ") else {
        return false;
    };
    token.as_bytes().ct_eq(shared.token.as_bytes()).into()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = match path::parse(uri.path()) {
        Ok(Route::Health) => return (StatusCode::OK, "ok").into_response(),
        other => other,
    };
    if !authorized(&shared, &headers) {
        return ApiError::Unauthorized.into_response();
    }
    let params = Params(Query::<Vec<(String, String)>>::try_from_uri(&uri).map(|q| q.0).unwrap_or_default());
    let result = match route {
        Ok(Route::Object { def, ns, name, sub }) => {
            object(&shared, &method, &headers, &params, def, ns, name, sub, &body)
        }
        Ok(route) if method == Method::GET => Ok(discovery(&headers, route)),
        Ok(_) => Err(ApiError::MethodNotAllowed),
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(%method, %uri, code = e.code(), error = %e, "sandbox request refused");
            e.into_response()
        }
    }
}

fn discovery(headers: &HeaderMap, route: Route) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let doc = match route {
        Route::Version => discovery::version(),
        Route::CoreVersions => discovery::core_versions(host),
        Route::Groups => discovery::groups(),
        Route::Group(g) => discovery::one_group(&g),
        Route::Resources { group, version } => discovery::resources(&group, &version),
        Route::Health | Route::Object { .. } => unreachable!("handled before"),
    };
    json_response(StatusCode::OK, &doc)
}

fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json");
    if ct.contains("yaml") {
        serde_yaml_ng::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid YAML body: {e}")))
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
    }
}

#[allow(clippy::too_many_arguments)]
fn object(
    shared: &Arc<Shared>,
    method: &Method,
    headers: &HeaderMap,
    params: &Params,
    def: &'static ResourceDef,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<Sub>,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let ns = ns.as_deref();
    let dry = params.dry_run();
    let ok = |v: Value| json_response(StatusCode::OK, &v);
    match (method.clone(), name.as_deref(), sub) {
        (Method::GET, None, None) if params.flag("watch") => watch::serve(shared.clone(), def, ns, params, headers),
        (Method::GET, None, None) => {
            let opts = params.list_options(def)?;
            let page = shared.read(|st| ops::list(&st.cluster, def, ns, &opts))?;
            Ok(table::list_response(headers, def, page))
        }
        (Method::GET, Some(n), None | Some(Sub::Status)) => {
            let o = shared.read(|st| ops::get(&st.cluster, def, ns, n))?;
            Ok(table::object_response(headers, def, &o))
        }
        (Method::GET, Some(n), Some(Sub::Log)) => {
            shared.read(|st| logs::serve(&st.cluster, now, ns.unwrap_or_default(), n, params))
        }
        (Method::GET, Some(n), Some(Sub::Scale)) => shared.read(|st| ops::scale_get(&st.cluster, def, ns, n)).map(ok),
        (Method::POST, None, None) => {
            let body = parse_body(headers, body)?;
            let o = shared.with(|c| ops::create(c, now, def, ns, body, dry))?;
            Ok(json_response(StatusCode::CREATED, &o))
        }
        (Method::POST, Some(n), Some(Sub::Eviction)) => {
            let body = parse_body(headers, body)?;
            shared.with(|c| ops::evict(c, now, ns.unwrap_or_default(), n, &body, dry))?;
            Ok(json_response(
                StatusCode::CREATED,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
            ))
        }
        (Method::PUT, Some(n), None | Some(Sub::Status)) => {
            let body = parse_body(headers, body)?;
            shared.with(|c| ops::update(c, now, def, ns, n, body, sub, dry)).map(ok)
        }
        (Method::PUT, Some(n), Some(Sub::Scale)) => {
            let body = parse_body(headers, body)?;
            shared.with(|c| ops::scale_write(c, now, def, ns, n, None, &body, dry)).map(ok)
        }
        (Method::PATCH, Some(n), sub @ (None | Some(Sub::Status) | Some(Sub::Scale))) => {
            let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
            let ty = PatchType::from_content_type(ct)?;
            let body = parse_body(headers, body)?;
            if sub == Some(Sub::Scale) {
                return shared.with(|c| ops::scale_write(c, now, def, ns, n, Some(ty), &body, dry)).map(ok);
            }
            shared.with(|c| ops::patch(c, now, def, ns, n, ty, &body, sub, dry)).map(ok)
        }
        (Method::DELETE, Some(n), None) => {
            let body = parse_body(headers, body)?;
            let mut opts = DeleteOptions::from_body(&body);
            opts.dry_run |= dry;
            opts.orphan |= params.get("propagationPolicy") == Some("Orphan");
            shared.with(|c| ops::delete(c, now, def, ns, n, &opts)).map(ok)
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}
