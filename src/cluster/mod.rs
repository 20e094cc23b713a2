//! The cluster side: reading what is there (`ClusterRead`), gathering evidence for an incident,
//! and (later in this module) acting on approved actions.
//!
//! `ClusterRead` is read-only by construction: it has no write method, and the question-answering
//! path will only ever hold an `Arc<dyn ClusterRead>` (DESIGN invariant 3). The kube-rs
//! implementation (`kube`) keeps watched caches of the hot kinds. Objects are k8s-openapi types;
//! everything read is untrusted data and is redacted before it is stored or shown (`evidence`).

pub mod actions;
pub mod evidence;
mod kube;
pub mod prometheus;
pub mod verify;

use std::sync::Arc;

use async_trait::async_trait;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Node, PersistentVolumeClaim, Pod, Service};

pub use self::kube::KubeCluster;

/// A failure to read from the cluster. Callers degrade: the incident says what could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    #[error("the Kubernetes API could not be reached: {0}")]
    Unreachable(String),
    #[error("the Kubernetes API refused the request ({code}): {message}")]
    Api { code: u16, message: String },
    #[error("the Kubernetes API did not answer within {0} s")]
    Timeout(u64),
}

/// An equality label selector (what `matchLabels` holds); empty matches everything.
pub type Labels = std::collections::BTreeMap<String, String>;

/// Which part of a container's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub container: Option<String>,
    /// The previous (crashed) instance of the container.
    pub previous: bool,
    pub tail_lines: u32,
    pub limit_bytes: u32,
}

/// Read access to one cluster. No method changes anything.
#[async_trait]
pub trait ClusterRead: Send + Sync {
    async fn pod(&self, namespace: &str, name: &str) -> Result<Option<Pod>, ClusterError>;
    /// Pods of a namespace (or all namespaces) whose labels include every pair in `labels`.
    async fn pods(&self, namespace: Option<&str>, labels: &Labels) -> Result<Vec<Pod>, ClusterError>;
    /// Pods of a namespace (or all namespaces) shared with the cache rather than copied: for
    /// questions that look at thousands of pods and keep a few. By default, `pods` wrapped.
    async fn pods_shared(&self, namespace: Option<&str>) -> Result<Vec<Arc<Pod>>, ClusterError> {
        Ok(self.pods(namespace, &Labels::new()).await?.into_iter().map(Arc::new).collect())
    }
    /// Pods scheduled on a node.
    async fn pods_on_node(&self, node: &str) -> Result<Vec<Pod>, ClusterError>;
    async fn deployment(&self, namespace: &str, name: &str) -> Result<Option<Deployment>, ClusterError>;
    async fn replica_sets(&self, namespace: &str, labels: &Labels) -> Result<Vec<ReplicaSet>, ClusterError>;
    async fn replica_set(&self, namespace: &str, name: &str) -> Result<Option<ReplicaSet>, ClusterError>;
    async fn stateful_set(&self, namespace: &str, name: &str) -> Result<Option<StatefulSet>, ClusterError>;
    async fn daemon_set(&self, namespace: &str, name: &str) -> Result<Option<DaemonSet>, ClusterError>;
    async fn job(&self, namespace: &str, name: &str) -> Result<Option<Job>, ClusterError>;
    async fn node(&self, name: &str) -> Result<Option<Node>, ClusterError>;
    async fn service(&self, namespace: &str, name: &str) -> Result<Option<Service>, ClusterError>;
    /// The HorizontalPodAutoscalers of a namespace.
    async fn autoscalers(&self, namespace: &str) -> Result<Vec<HorizontalPodAutoscaler>, ClusterError>;
    async fn persistent_volume_claim(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<PersistentVolumeClaim>, ClusterError>;
    /// Events about one object (core/v1), oldest first as the API returns them.
    async fn events_for(&self, namespace: Option<&str>, kind: &str, name: &str) -> Result<Vec<Event>, ClusterError>;
    /// Every namespace's name.
    async fn namespaces(&self) -> Result<Vec<String>, ClusterError>;
    async fn nodes(&self) -> Result<Vec<Node>, ClusterError>;
    /// Deployments of a namespace, or of all namespaces.
    async fn deployments(&self, namespace: Option<&str>) -> Result<Vec<Deployment>, ClusterError>;
    async fn stateful_sets(&self, namespace: Option<&str>) -> Result<Vec<StatefulSet>, ClusterError>;
    /// Events of a namespace (or all), in no particular order.
    async fn events(&self, namespace: Option<&str>) -> Result<Vec<Event>, ClusterError>;
    /// A container's log text (may be empty; "no previous container" is an empty text, not an error).
    async fn logs(&self, namespace: &str, pod: &str, request: &LogRequest) -> Result<String, ClusterError>;
}
