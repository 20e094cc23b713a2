//! Drain = cordon + an Eviction for every pod on the node, as `kubectl drain --ignore-daemonsets`:
//! DaemonSet pods and mirror (static) pods are left alone. An eviction refused with 429 is blocked
//! by a PodDisruptionBudget: it is reported, never replaced by a plain delete (E08). A partial drain
//! leaves the node cordoned and reports each pod (F06).
//!
//! The Eviction body is built here: kube's `Api::evict` writes delete options under a field name a
//! real API server ignores, and the UID precondition matters (a recreated pod is not evicted).

use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use serde_json::json;

use super::kube::{check, failure, node_snapshot};
use super::{ActionFailure, Eviction, EvictionOutcome, Execution, Snapshot};
use crate::cluster::KubeCluster;
use crate::domain::action::Target;

const MIRROR: &str = "kubernetes.io/config.mirror";

pub(super) async fn drain(
    cluster: &KubeCluster,
    target: &Target,
    expected: Option<&Snapshot>,
    dry: bool,
) -> Result<(Snapshot, Execution), ActionFailure> {
    let node = target.name.as_str();
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(cluster.client().clone());
    let current =
        nodes.get_opt(node).await.map_err(failure)?.ok_or_else(|| ActionFailure::TargetMissing(target.clone()))?;
    let snapshot = node_snapshot(&current);
    // Only the node's identity matters here: draining an already cordoned node is what a drain does.
    let identity = expected.map(|e| Snapshot { unschedulable: snapshot.unschedulable, ..e.clone() });
    check(target, identity.as_ref(), &snapshot)?;

    let (_, cordon) = cluster.set_unschedulable(target, true, None, dry).await?;
    let pods: Api<Pod> = Api::all(cluster.client().clone());
    let on_node =
        pods.list(&ListParams::default().fields(&format!("spec.nodeName={node}"))).await.map_err(failure)?.items;

    let mut evictions = Vec::new();
    for pod in &on_node {
        let ns = pod.namespace().unwrap_or_default();
        let name = pod.name_any();
        let outcome = match skip_reason(pod) {
            Some(reason) => EvictionOutcome::Skipped(reason.into()),
            None => evict(cluster, &ns, &name, &pod.uid().unwrap_or_default(), dry).await,
        };
        evictions.push(Eviction { namespace: ns, pod: name, outcome });
    }
    let evicted = evictions.iter().filter(|e| e.outcome == EvictionOutcome::Evicted).count();
    let blocked = evictions
        .iter()
        .filter(|e| matches!(e.outcome, EvictionOutcome::BlockedByBudget(_) | EvictionOutcome::Failed(_)))
        .count();
    let mut effects = cordon.effects;
    let verb = if dry { "would be" } else { "were" };
    effects.push(format!("{evicted} pod(s) {verb} evicted from {target}, {blocked} refused"));
    let execution = Execution { changes: cordon.changes, effects, evictions };
    if blocked > 0 && !dry {
        let total = evicted + blocked;
        return Err(ActionFailure::DrainIncomplete { blocked, total, execution: Box::new(execution) });
    }
    Ok((snapshot, execution))
}

fn skip_reason(pod: &Pod) -> Option<&'static str> {
    if pod.annotations().contains_key(MIRROR) {
        return Some("mirror (static) pod: managed by the kubelet, not evictable");
    }
    if pod.owner_references().iter().any(|o| o.controller == Some(true) && o.kind == "DaemonSet") {
        return Some("DaemonSet pod: it would be recreated on this node (as kubectl drain --ignore-daemonsets)");
    }
    None
}

async fn evict(cluster: &KubeCluster, ns: &str, name: &str, uid: &str, dry: bool) -> EvictionOutcome {
    let mut delete_options = json!({"preconditions": {"uid": uid}});
    if dry {
        delete_options["dryRun"] = json!(["All"]);
    }
    let body = json!({
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": ns},
        "deleteOptions": delete_options,
    });
    let dry_param = if dry { "?dryRun=All" } else { "" };
    let request = axum::http::Request::post(format!("/api/v1/namespaces/{ns}/pods/{name}/eviction{dry_param}"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).expect("eviction serializes"))
        .expect("a valid request");
    match cluster.client().request::<serde_json::Value>(request).await {
        Ok(_) => EvictionOutcome::Evicted,
        Err(kube::Error::Api(s)) if s.code == 429 => EvictionOutcome::BlockedByBudget(s.message),
        // Gone already (deleted, or recreated under a new UID): nothing left to evict.
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => EvictionOutcome::Evicted,
        Err(e) => EvictionOutcome::Failed(e.to_string()),
    }
}
