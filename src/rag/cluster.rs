//! Cluster state in memory: one short document per workload (Deployments and StatefulSets: replicas
//! wanted and ready, images), re-indexed every `memory.cluster_sync_minutes` into the
//! `<collection>-cluster` collection. Runbook answers add the workloads closest to the question.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::memory::{Memory, MemoryError};
use super::store::{Filter, Point};
use crate::cluster::ClusterRead;

/// One workload, described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadDoc {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub text: String,
}

fn images(t: Option<&PodTemplateSpec>) -> String {
    let containers = t.and_then(|t| t.spec.as_ref()).map(|s| s.containers.as_slice()).unwrap_or_default();
    containers
        .iter()
        .map(|c| format!("{}={}", c.name, c.image.as_deref().unwrap_or("?")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn doc(
    kind: &'static str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    wanted: i32,
    ready: i32,
    template: Option<&PodTemplateSpec>,
) -> Option<WorkloadDoc> {
    let (namespace, name) = (meta.namespace.clone()?, meta.name.clone()?);
    let health = if ready >= wanted { "healthy" } else { "degraded" };
    let text = format!(
        "{kind} {namespace}/{name}: {ready} of {wanted} replicas ready ({health}); images {}",
        images(template)
    );
    Some(WorkloadDoc { kind, namespace, name, text })
}

/// The documents of a cluster's workloads (pure).
pub fn documents(deployments: &[Deployment], stateful_sets: &[StatefulSet]) -> Vec<WorkloadDoc> {
    let d = deployments.iter().filter_map(|d| {
        let wanted = d.spec.replicas.unwrap_or(1);
        let ready = d.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0);
        doc("Deployment", &d.metadata, wanted, ready, Some(&d.spec.template))
    });
    let s = stateful_sets.iter().filter_map(|s| {
        let wanted = s.spec.replicas.unwrap_or(1);
        let ready = s.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0);
        doc("StatefulSet", &s.metadata, wanted, ready, Some(&s.spec.template))
    });
    d.chain(s).collect()
}

fn doc_id(d: &WorkloadDoc) -> u64 {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(format!("{}/{}/{}", d.kind, d.namespace, d.name).as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) >> 1
}

impl Memory {
    /// Rebuilds the cluster collection from the cluster's workloads now; returns how many.
    pub async fn sync_cluster(&self, read: &dyn ClusterRead, cluster: &str) -> Result<usize, MemoryError> {
        let unavailable = |e: crate::cluster::ClusterError| super::StoreError::Unavailable(format!("cluster: {e}"));
        let deployments = read.deployments(None).await.map_err(unavailable)?;
        let stateful_sets = read.stateful_sets(None).await.map_err(unavailable)?;
        let docs = documents(&deployments, &stateful_sets);
        let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
        let vectors = self.embed_all(&texts).await?;
        let points = docs
            .iter()
            .zip(vectors)
            .map(|(d, vector)| Point {
                id: doc_id(d),
                vector,
                payload: json!({"kind": "workload", "cluster": cluster, "namespace": d.namespace, "name": d.name, "text": d.text}),
            })
            .collect::<Vec<_>>();
        self.reset(self.cluster_collection()).await?;
        if !points.is_empty() {
            self.put(self.cluster_collection(), points).await?;
        }
        self.mark_cluster_synced();
        Ok(docs.len())
    }

    /// Workload documents closest to `text`, as (namespace, text).
    pub async fn workloads(&self, text: &str, limit: usize) -> Result<Vec<(String, String)>, MemoryError> {
        if !self.cluster_synced() {
            return Ok(Vec::new());
        }
        let hits = self
            .find(
                self.cluster_collection(),
                text,
                &Filter::default().field("kind", "workload"),
                limit,
                super::knowledge::MIN_SCORE,
            )
            .await?;
        Ok(hits
            .into_iter()
            .map(|h| {
                (
                    h.payload["namespace"].as_str().unwrap_or_default().to_string(),
                    h.payload["text"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect())
    }
}

/// Re-indexes the cluster's workloads every `every` until `shutdown`; failures are logged and
/// retried at the next round.
pub fn spawn_sync(
    memory: Arc<Memory>,
    read: Arc<dyn ClusterRead>,
    cluster: String,
    every: Duration,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match memory.sync_cluster(read.as_ref(), &cluster).await {
                Ok(n) => tracing::debug!(workloads = n, "cluster state indexed"),
                Err(e) => tracing::warn!(error = %e, "cluster state not indexed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_workload_becomes_one_document() {
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "checkout", "namespace": "shop"},
            "spec": {"replicas": 3, "selector": {}, "template": {"spec": {"containers": [{"name": "app", "image": "shop/checkout:1.4"}]}}},
            "status": {"readyReplicas": 1}
        }))
        .unwrap();
        let docs = documents(&[d], &[]);
        assert_eq!(docs.len(), 1);
        assert_eq!(
            docs[0].text,
            "Deployment shop/checkout: 1 of 3 replicas ready (degraded); images app=shop/checkout:1.4"
        );
    }
}
