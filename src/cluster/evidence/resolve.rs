//! From alert labels to the objects they name (pure).
//!
//! kube-state-metrics and the kubernetes-mixin alerts label their targets `namespace` plus one of
//! `pod` (with `container`), `deployment`, `statefulset`, `daemonset`, `job_name`, `node`,
//! `horizontalpodautoscaler` or `persistentvolumeclaim`; `TargetDown` names a `service`. Names
//! that are not valid Kubernetes names are ignored (they never reach an API call).

use serde::{Deserialize, Serialize};

use crate::domain::alert::Labels;
use crate::domain::names::{NamespaceName, ObjectName};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SubjectKind {
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    Node,
    Service,
    HorizontalPodAutoscaler,
    PersistentVolumeClaim,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Pod => "Pod",
            SubjectKind::Deployment => "Deployment",
            SubjectKind::StatefulSet => "StatefulSet",
            SubjectKind::DaemonSet => "DaemonSet",
            SubjectKind::ReplicaSet => "ReplicaSet",
            SubjectKind::Job => "Job",
            SubjectKind::Node => "Node",
            SubjectKind::Service => "Service",
            SubjectKind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            SubjectKind::PersistentVolumeClaim => "PersistentVolumeClaim",
        }
    }
}

/// Labels that name a subject more precisely than `service`.
const NAMING_LABELS: &[&str] = &[
    "pod",
    "deployment",
    "statefulset",
    "daemonset",
    "replicaset",
    "job_name",
    "node",
    "horizontalpodautoscaler",
    "persistentvolumeclaim",
];

/// An object an alert names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    pub kind: SubjectKind,
    pub namespace: Option<NamespaceName>,
    pub name: ObjectName,
    /// The container the alert names, for pods.
    pub container: Option<String>,
    pub via: String,
}

/// The subjects of a set of alerts (each alert's labels, with the group's common labels as a
/// fallback for `namespace`), without duplicates, in a stable order.
pub fn resolve(alerts: &[&Labels], common: &Labels) -> Vec<Subject> {
    let mut out: Vec<Subject> = Vec::new();
    for labels in alerts {
        let get = |k: &str| labels.get(k).or_else(|| common.get(k)).filter(|v| !v.is_empty());
        let namespace = get("namespace").and_then(|n| NamespaceName::parse(n).ok());
        let mut push = |kind, label: &str, namespaced: bool| {
            let Some(name) = get(label).and_then(|n| ObjectName::parse(n).ok()) else { return };
            if namespaced && namespace.is_none() {
                return;
            }
            let container = (kind == SubjectKind::Pod).then(|| get("container").cloned()).flatten();
            let subject = Subject {
                kind,
                namespace: if namespaced { namespace.clone() } else { None },
                name,
                container,
                via: format!("alert label {label}"),
            };
            if !out.iter().any(|s| s.kind == subject.kind && s.namespace == subject.namespace && s.name == subject.name)
            {
                out.push(subject);
            }
        };
        push(SubjectKind::Pod, "pod", true);
        push(SubjectKind::Deployment, "deployment", true);
        push(SubjectKind::StatefulSet, "statefulset", true);
        push(SubjectKind::DaemonSet, "daemonset", true);
        push(SubjectKind::ReplicaSet, "replicaset", true);
        push(SubjectKind::Job, "job_name", true);
        push(SubjectKind::Node, "node", false);
        push(SubjectKind::HorizontalPodAutoscaler, "horizontalpodautoscaler", true);
        push(SubjectKind::PersistentVolumeClaim, "persistentvolumeclaim", true);
        // `service` is often the exporter's Service (kube-state-metrics); it names the subject only
        // when nothing else does (`TargetDown`).
        if !NAMING_LABELS.iter().any(|l| get(l).is_some()) {
            push(SubjectKind::Service, "service", true);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn names(subjects: &[Subject]) -> Vec<String> {
        subjects
            .iter()
            .map(|s| {
                let ns = s.namespace.as_ref().map(|n| format!("{n}/")).unwrap_or_default();
                format!("{} {ns}{}", s.kind.as_str(), s.name)
            })
            .collect()
    }

    #[test]
    fn alert_labels_name_their_objects() {
        let common = labels(&[("namespace", "shop")]);
        let cases: Vec<(Labels, Vec<&str>)> = vec![
            (labels(&[("pod", "checkout-1"), ("container", "app")]), vec!["Pod shop/checkout-1"]),
            (labels(&[("deployment", "checkout")]), vec!["Deployment shop/checkout"]),
            (labels(&[("statefulset", "pg"), ("namespace", "db")]), vec!["StatefulSet db/pg"]),
            (labels(&[("daemonset", "fluentd")]), vec!["DaemonSet shop/fluentd"]),
            (labels(&[("job_name", "nightly-backup")]), vec!["Job shop/nightly-backup"]),
            (labels(&[("node", "worker-1")]), vec!["Node worker-1"]),
            (labels(&[("pod", "p"), ("node", "worker-2")]), vec!["Pod shop/p", "Node worker-2"]),
            // Hostile or invalid names never become subjects.
            (labels(&[("pod", "$(id)"), ("deployment", "--server=https://x")]), vec![]),
            (labels(&[("job", "kube-state-metrics")]), vec![]),
            (labels(&[("horizontalpodautoscaler", "checkout")]), vec!["HorizontalPodAutoscaler shop/checkout"]),
            (labels(&[("persistentvolumeclaim", "data-pg-0")]), vec!["PersistentVolumeClaim shop/data-pg-0"]),
            (labels(&[("service", "payments"), ("job", "payments")]), vec!["Service shop/payments"]),
            // The exporter's Service is not the subject when the alert names one.
            (labels(&[("service", "kube-state-metrics"), ("pod", "p")]), vec!["Pod shop/p"]),
        ];
        for (l, expected) in cases {
            assert_eq!(names(&resolve(&[&l], &common)), expected, "{l:?}");
        }
    }

    #[test]
    fn namespaced_subjects_need_a_namespace_and_duplicates_collapse() {
        let none = Labels::new();
        assert!(resolve(&[&labels(&[("pod", "p")])], &none).is_empty());
        let a = labels(&[("namespace", "shop"), ("pod", "p"), ("container", "app")]);
        let b = labels(&[("namespace", "shop"), ("pod", "p"), ("container", "sidecar")]);
        let subjects = resolve(&[&a, &b], &none);
        assert_eq!(names(&subjects), ["Pod shop/p"]);
        assert_eq!(subjects[0].container.as_deref(), Some("app"));
    }
}
