//! The evidence bundle of an incident: what the cluster says about the objects its alerts name.
//!
//! `resolve` turns alert labels into subjects (pod, workload, node, job); `gather` reads them and
//! their owner chain, events and logs through `ClusterRead`; `facts` condenses objects into plain
//! facts (pure); `render` writes the text the analyzer sees, within a byte budget, with explicit
//! truncation markers. Every free-text field read from the cluster is redacted before it is kept.
//! What could not be read is recorded as a note, never silently dropped.

pub(crate) mod facts;
mod gather;
mod objects;
mod render;
mod resolve;

use serde::{Deserialize, Serialize};

pub use gather::gather;
pub use render::render;
pub use resolve::{Subject, SubjectKind, resolve};

/// Everything gathered for one incident.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What the alerts point at, and whether it was found.
    pub subjects: Vec<SubjectFacts>,
    pub pods: Vec<PodFacts>,
    pub workloads: Vec<WorkloadFacts>,
    pub nodes: Vec<NodeFacts>,
    /// Warning events, newest first.
    pub events: Vec<EventFacts>,
    pub logs: Vec<LogExcerpt>,
    /// HorizontalPodAutoscalers of the workloads above, or named by an alert.
    #[serde(default)]
    pub autoscalers: Vec<AutoscalerFacts>,
    /// PersistentVolumeClaims named by an alert or used by a pending pod.
    #[serde(default)]
    pub claims: Vec<ClaimFacts>,
    /// Services named by an alert (e.g. `TargetDown`), with how many of their pods are ready.
    #[serde(default)]
    pub services: Vec<ServiceFacts>,
    /// What could not be read, or was cut, and why.
    pub notes: Vec<String>,
    /// How many secrets were redacted from what was read.
    pub redactions: usize,
    /// Numbers from Prometheus over the last hour, when `[prometheus] url` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<crate::cluster::prometheus::MetricsFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectFacts {
    pub kind: SubjectKind,
    pub namespace: Option<String>,
    pub name: String,
    pub found: bool,
    /// How Mimi got to it: the alert label, or "owner of Pod shop/x".
    pub via: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodFacts {
    pub namespace: String,
    pub name: String,
    pub phase: String,
    pub ready: bool,
    pub node: Option<String>,
    /// The owner chain, nearest first, e.g. ["ReplicaSet checkout-6d8f7c9b4", "Deployment checkout"].
    pub owners: Vec<String>,
    /// Pod conditions that are not true, e.g. "PodScheduled=False: Unschedulable: 0/3 nodes ...".
    pub conditions: Vec<String>,
    pub containers: Vec<ContainerFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerFacts {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restarts: i32,
    /// "running", "waiting: CrashLoopBackOff", "terminated: Error (exit 1)".
    pub state: String,
    /// How the previous instance ended, e.g. "OOMKilled (exit 137)".
    pub last_termination: Option<String>,
    /// Resource limits and requests as written, e.g. "limits memory=256Mi".
    pub resources: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadFacts {
    pub kind: SubjectKind,
    pub namespace: String,
    pub name: String,
    pub desired: i32,
    pub ready: i32,
    pub updated: i32,
    pub available: i32,
    pub revision: Option<String>,
    /// (container, image) of the current template.
    pub images: Vec<(String, String)>,
    /// (container, limits and requests) of the current template, where set.
    pub resources: Vec<(String, String)>,
    /// Conditions that are not healthy, e.g. "Progressing=False: ProgressDeadlineExceeded".
    pub conditions: Vec<String>,
    pub rollout: Option<RolloutChange>,
}

/// The difference between the last two revisions of a Deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutChange {
    pub from_revision: String,
    pub to_revision: String,
    /// When the newer ReplicaSet was created.
    pub at: Option<String>,
    /// "image app: reg/checkout:1.41.0 -> reg/checkout:1.42.0", "env of app changed (values not shown)".
    pub changes: Vec<String>,
    /// The ReplicaSets of the two revisions, so pods can be told apart by revision.
    #[serde(default)]
    pub from_replica_set: Option<String>,
    #[serde(default)]
    pub to_replica_set: Option<String>,
    /// Ready pods of the older revision (a rollout still in progress keeps them serving).
    #[serde(default)]
    pub from_ready: Option<i32>,
}

/// A HorizontalPodAutoscaler and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoscalerFacts {
    pub namespace: String,
    pub name: String,
    /// What it scales, e.g. "Deployment checkout".
    pub target: String,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub current_replicas: i32,
    pub desired_replicas: i32,
    /// Conditions worth knowing, e.g. "ScalingLimited=True: TooManyReplicas: the desired replica count is more than the maximum replica count".
    pub conditions: Vec<String>,
}

/// A PersistentVolumeClaim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimFacts {
    pub namespace: String,
    pub name: String,
    /// "Pending", "Bound" or "Lost".
    pub phase: String,
    pub storage_class: Option<String>,
    /// The requested size, e.g. "20Gi".
    pub requested: Option<String>,
    /// The bound volume, if any.
    pub volume: Option<String>,
    /// Pods (of this bundle) that mount it.
    pub used_by: Vec<String>,
}

/// A Service and the pods it selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceFacts {
    pub namespace: String,
    pub name: String,
    /// The label selector, e.g. "app=payments"; empty for a Service without one.
    pub selector: String,
    pub pods: usize,
    pub ready_pods: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeFacts {
    pub name: String,
    /// The Ready condition's status: "True", "False" or "Unknown".
    pub ready: String,
    pub unschedulable: bool,
    /// Conditions that are not in their healthy state, with reasons.
    pub conditions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFacts {
    /// "Pod/checkout-6d8f7c9b4-q2x7m".
    pub object: String,
    pub reason: String,
    pub message: String,
    pub count: i32,
    pub last_seen: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogExcerpt {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    /// The previous (crashed) instance's log.
    pub previous: bool,
    /// The last lines, redacted.
    pub text: String,
    /// More was there than was read (line or byte limits).
    pub truncated: bool,
}

impl Evidence {
    /// A one-line summary for the timeline.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "subjects": self.subjects.iter().map(|s| format!("{:?} {}{}", s.kind, s.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default(), s.name)).collect::<Vec<_>>(),
            "pods": self.pods.len(),
            "workloads": self.workloads.len(),
            "nodes": self.nodes.len(),
            "events": self.events.len(),
            "logs": self.logs.len(),
            "autoscalers": self.autoscalers.len(),
            "claims": self.claims.len(),
            "services": self.services.len(),
            "notes": self.notes,
            "redactions": self.redactions,
            "metrics": self.metrics.as_ref().map(|m| m.notes.is_empty()),
        })
    }
}
