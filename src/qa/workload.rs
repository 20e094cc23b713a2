//! "Status of deployment X" / "is X healthy?": a Deployment's or a StatefulSet's replicas, from
//! the caches, limited to the caller's scope. A name that is both answers for both.

use super::answer::{Answer, Scope};
use crate::cluster::{ClusterError, ClusterRead};
use crate::strings::qa as s;

/// Replica figures of one workload: desired, ready, up to date, available.
type Replicas = (i32, i32, i32, i32);

fn replicas(desired: Option<i32>, ready: Option<i32>, updated: Option<i32>, available: Option<i32>) -> Replicas {
    (desired.unwrap_or(1), ready.unwrap_or(0), updated.unwrap_or(0), available.unwrap_or(0))
}

pub(super) async fn status(
    read: &dyn ClusterRead,
    namespace: Option<&str>,
    name: &str,
    scope: &Scope,
) -> Result<Answer, ClusterError> {
    let deployments = read.deployments(namespace).await?.into_iter().map(|d| {
        let st = d.status.unwrap_or_default();
        let r = replicas(d.spec.replicas, st.ready_replicas, st.updated_replicas, st.available_replicas);
        ("Deployment", d.metadata, r)
    });
    let sets = read.stateful_sets(namespace).await?.into_iter().map(|set| {
        let st = set.status.unwrap_or_default();
        let r = replicas(set.spec.replicas, st.ready_replicas, st.updated_replicas, st.available_replicas);
        ("StatefulSet", set.metadata, r)
    });
    let found: Vec<(&str, String, Replicas)> = deployments
        .chain(sets)
        .filter(|(_, meta, _)| {
            meta.name.as_deref() == Some(name) && meta.namespace.as_deref().is_some_and(|ns| scope.allows(ns))
        })
        .map(|(kind, meta, r)| (kind, meta.namespace.unwrap_or_default(), r))
        .collect();
    if found.is_empty() {
        return Ok(Answer::text(s::not_found("deployment or statefulset", name)));
    }
    let mut lines: Vec<(String, String)> = found
        .iter()
        .map(|(kind, ns, (desired, ready, updated, available))| {
            let line = s::workload_status(kind, ns, name, *ready, *desired, *updated, *available);
            (format!("{kind} {ns}/{name}"), line)
        })
        .collect();
    if lines.len() == 1 {
        let (object, line) = lines.remove(0);
        return Ok(Answer { objects: vec![object], ..Answer::text(line) });
    }
    // The same name in several namespaces: a list, as long as the others.
    let mut text = s::workloads_named(lines.len(), name);
    let objects = super::answer::list(&mut text, lines.into_iter());
    Ok(Answer { objects, ..Answer::text(text) })
}
