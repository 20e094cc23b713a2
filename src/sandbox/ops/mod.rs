//! The API operations on the cluster, independent of HTTP: get, list, create, update, patch,
//! delete, eviction and the scale subresource.
//!
//! Invariants: every write validates before it stores; `dry_run` runs every check and answers the
//! would-be object without storing anything or running controllers; a real write runs the
//! controllers to a fixpoint before the lock is released, so a client that reads after a write
//! sees the controllers' reaction (as on a fast real cluster with zero readiness time).

mod evict;
mod scale;
mod views;
mod write;

use std::sync::Arc;

use base64::Engine;
use serde_json::Value;

pub use evict::evict;
pub use scale::{scale_get, scale_write};
pub use views::present;
pub use write::{DeleteOptions, create, delete, patch, update};

use super::error::ApiError;
use super::object;
use super::resources::{Kind, ResourceDef};
use super::selector::{FieldSelector, LabelSelector};
use super::store::Cluster;

/// What to list.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
}

/// One page of a list.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Arc<Value>>,
    pub resource_version: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<usize>,
}

/// Whether an object is in the selection of a list or watch.
pub fn selected(opts: &ListOptions, o: &Value) -> bool {
    opts.labels.matches(object::labels(o)) && opts.fields.matches(o)
}

fn scoped_ns<'a>(def: &ResourceDef, ns: Option<&'a str>) -> &'a str {
    if def.namespaced { ns.unwrap_or("") } else { "" }
}

pub fn get(c: &Cluster, def: &ResourceDef, ns: Option<&str>, name: &str) -> Result<Arc<Value>, ApiError> {
    c.get(def.kind, scoped_ns(def, ns), name).cloned().ok_or_else(|| ApiError::not_found(def, name))
}

fn decode_continue(token: &str) -> Option<(String, String)> {
    let raw = base64::engine::general_purpose::STANDARD.decode(token).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (ns, name) = text.split_once('/')?;
    Some((ns.to_string(), name.to_string()))
}

/// Lists in etcd key order; `limit` pages with an opaque continue token (the last key returned).
/// `remainingItemCount` is given only without selectors, as on a real API server.
pub fn list(c: &Cluster, def: &ResourceDef, ns: Option<&str>, opts: &ListOptions) -> Result<Page, ApiError> {
    let after = match &opts.continue_token {
        Some(t) => Some(decode_continue(t).ok_or_else(|| ApiError::BadRequest("continue key is not valid".into()))?),
        None => None,
    };
    let scope = if def.namespaced { ns } else { None };
    let limit = opts.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
    let unfiltered = opts.labels.is_empty() && opts.fields == FieldSelector::default();
    let mut matching = c.iter_after(def.kind, scope, after.as_ref()).filter(|o| selected(opts, o));
    let items: Vec<Arc<Value>> = matching.by_ref().take(limit).cloned().collect();
    let (mut continue_token, mut remaining) = (None, None);
    if items.len() == limit {
        let rest = if unfiltered { matching.count() } else { usize::from(matching.next().is_some()) };
        if rest > 0 {
            let last = items.last().expect("limit > 0");
            let key = format!("{}/{}", object::namespace(last), object::name(last));
            continue_token = Some(base64::engine::general_purpose::STANDARD.encode(key));
            remaining = unfiltered.then_some(rest);
        }
    }
    Ok(Page { items, resource_version: c.rv(), continue_token, remaining })
}

/// Kinds whose `fixed-by` annotation and controllers react to spec updates.
fn is_workload(kind: Kind) -> bool {
    matches!(kind, Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet | Kind::DaemonSet)
}

#[cfg(test)]
mod tests;
