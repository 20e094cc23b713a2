//! The Eviction API (`POST pods/{name}/eviction`): deletes a pod unless a PodDisruptionBudget
//! forbids it, in which case it answers 429 as a real API server does.

use jiff::Timestamp;
use serde_json::Value;

use super::super::error::ApiError;
use super::super::object;
use super::super::resources::{Kind, native};
use super::super::sim::{self, pdb};
use super::super::store::Cluster;
use super::write::{DeleteOptions, remove_with_hooks};

/// Evicts `ns/name`. `body` is the policy/v1 Eviction the client posted.
pub fn evict(
    c: &mut Cluster,
    now: Timestamp,
    ns: &str,
    name: &str,
    body: &Value,
    dry_run: bool,
) -> Result<(), ApiError> {
    let def = native(Kind::Pod);
    let body_name = object::name(body);
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::BadRequest(format!(
            "name in URL does not match name in Eviction object: {name} != {body_name}"
        )));
    }
    let pod = c.get(Kind::Pod, ns, name).cloned().ok_or_else(|| ApiError::not_found(def, name))?;
    super::write::admit(&pod)?;
    let opts = DeleteOptions::from_body(body.get("deleteOptions").unwrap_or(&Value::Null));
    let dry_run = dry_run || opts.dry_run;
    if let Some(uid) = opts.uid.as_deref().filter(|u| *u != object::uid(&pod)) {
        return Err(ApiError::conflict(
            def,
            name,
            format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {}", object::uid(&pod)),
        ));
    }
    if opts.resource_version.as_deref().is_some_and(|rv| rv != object::resource_version(&pod)) {
        return Err(ApiError::modified(def, name));
    }
    let finished = matches!(object::str_at(&pod, "/status/phase"), Some("Succeeded" | "Failed"));
    if !finished {
        let budgets: Vec<_> =
            c.list(Kind::PodDisruptionBudget, Some(ns)).into_iter().filter(|b| pdb::matches(b, &pod)).collect();
        if budgets.len() > 1 {
            return Err(ApiError::Internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
                    .into(),
            ));
        }
        if let Some(b) = budgets.first() {
            pdb::allows_eviction(c, b, &pod).map_err(|cause| ApiError::TooManyRequests {
                message: "Cannot evict pod as it would violate the pod's disruption budget.".into(),
                causes: vec![cause],
            })?;
        }
    }
    if dry_run {
        return Ok(());
    }
    remove_with_hooks(c, Kind::Pod, &pod, false);
    sim::reconcile(c, now);
    Ok(())
}
