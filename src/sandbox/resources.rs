//! The static table of resources the sandbox serves: group, version, plural, kind, scope, verbs.
//!
//! Invariant: this table is the single source of truth for discovery, URL routing and scenario
//! validation. A kind that is not in it is refused by name everywhere, never silently dropped.

/// A kind of stored object. `events.k8s.io/v1` events are a second view of [`Kind::Event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Namespace,
    Node,
    Pod,
    Event,
    Service,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    HorizontalPodAutoscaler,
    PodDisruptionBudget,
    PersistentVolumeClaim,
}

/// How a stored object is shown through a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// As stored.
    Native,
    /// A core/v1 Event shown as an `events.k8s.io/v1` Event.
    EventsV1,
}

/// Subresources the sandbox serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sub {
    Status,
    Scale,
    Log,
    Eviction,
}

impl Sub {
    pub fn name(self) -> &'static str {
        match self {
            Sub::Status => "status",
            Sub::Scale => "scale",
            Sub::Log => "log",
            Sub::Eviction => "eviction",
        }
    }
}

/// One served resource.
#[derive(Debug)]
pub struct ResourceDef {
    pub kind: Kind,
    pub view: View,
    /// `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind_name: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub subresources: &'static [Sub],
    /// Member of the `all` category (`kubectl get all`).
    pub in_all: bool,
}

impl ResourceDef {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_string() } else { format!("{}/{}", self.group, self.version) }
    }

    /// `pods` or `deployments.apps`, as Kubernetes names a resource in error messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() { self.plural.to_string() } else { format!("{}.{}", self.plural, self.group) }
    }

    /// `Deployment.apps`, as Kubernetes names a kind in `Invalid` messages.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() { self.kind_name.to_string() } else { format!("{}.{}", self.kind_name, self.group) }
    }

    pub fn has(&self, sub: Sub) -> bool {
        self.subresources.contains(&sub)
    }
}

// One positional constructor keeps the table below one line per resource.
#[allow(clippy::too_many_arguments)]
const fn def(
    kind: Kind,
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind_name: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    subresources: &'static [Sub],
    in_all: bool,
) -> ResourceDef {
    ResourceDef {
        kind,
        view: View::Native,
        group,
        version,
        plural,
        singular,
        kind_name,
        namespaced,
        short_names,
        subresources,
        in_all,
    }
}

use Sub::{Eviction, Log, Scale, Status};

/// Every served resource, in discovery order.
#[rustfmt::skip]
pub static RESOURCES: &[ResourceDef] = &[
    def(Kind::Namespace, "", "v1", "namespaces", "namespace", "Namespace", false, &["ns"], &[Status], false),
    def(Kind::Node, "", "v1", "nodes", "node", "Node", false, &["no"], &[Status], false),
    def(Kind::Pod, "", "v1", "pods", "pod", "Pod", true, &["po"], &[Status, Log, Eviction], true),
    def(Kind::Event, "", "v1", "events", "event", "Event", true, &["ev"], &[], false),
    def(Kind::Service, "", "v1", "services", "service", "Service", true, &["svc"], &[Status], true),
    def(Kind::PersistentVolumeClaim, "", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, &["pvc"], &[Status], false),
    def(Kind::Deployment, "apps", "v1", "deployments", "deployment", "Deployment", true, &["deploy"], &[Status, Scale], true),
    def(Kind::ReplicaSet, "apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, &["rs"], &[Status, Scale], true),
    def(Kind::StatefulSet, "apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, &["sts"], &[Status, Scale], true),
    def(Kind::DaemonSet, "apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, &["ds"], &[Status], true),
    def(Kind::Job, "batch", "v1", "jobs", "job", "Job", true, &[], &[Status], true),
    def(Kind::CronJob, "batch", "v1", "cronjobs", "cronjob", "CronJob", true, &["cj"], &[Status], true),
    def(Kind::HorizontalPodAutoscaler, "autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, &["hpa"], &[Status], true),
    def(Kind::PodDisruptionBudget, "policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, &["pdb"], &[Status], false),
    ResourceDef {
        view: View::EventsV1,
        ..def(Kind::Event, "events.k8s.io", "v1", "events", "event", "Event", true, &["ev"], &[], false)
    },
];

/// The API groups served besides core, in discovery order.
pub static GROUPS: &[(&str, &str)] =
    &[("apps", "v1"), ("events.k8s.io", "v1"), ("autoscaling", "v2"), ("batch", "v1"), ("policy", "v1")];

/// The resource served at `group/version/plural`.
pub fn by_path(group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES.iter().find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource a scenario document with this `apiVersion` and `kind` is stored as.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceDef> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    RESOURCES.iter().find(|r| r.group == group && r.version == version && r.kind_name == kind)
}

/// The native (storage) resource of a kind.
pub fn native(kind: Kind) -> &'static ResourceDef {
    RESOURCES.iter().find(|r| r.kind == kind && r.view == View::Native).expect("every kind has a native resource")
}

/// Resources of one group version, for discovery.
pub fn in_group_version(group: &str, version: &str) -> impl Iterator<Item = &'static ResourceDef> {
    let (group, version) = (group.to_string(), version.to_string());
    RESOURCES.iter().filter(move |r| r.group == group && r.version == version)
}

/// Kinds that carry `metadata.generation` bumped on spec changes.
pub fn has_generation(kind: Kind) -> bool {
    !matches!(kind, Kind::Namespace | Kind::Node | Kind::Event | Kind::Service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_exactly_one_native_resource() {
        for r in RESOURCES {
            let natives = RESOURCES.iter().filter(|o| o.kind == r.kind && o.view == View::Native).count();
            assert_eq!(natives, 1, "{:?}", r.kind);
        }
    }

    #[test]
    fn lookups_by_kind_and_path_agree() {
        let d = by_kind("apps/v1", "Deployment").unwrap();
        assert_eq!(d.qualified(), "deployments.apps");
        assert!(std::ptr::eq(d, by_path("apps", "v1", "deployments").unwrap()));
        assert_eq!(by_kind("v1", "Pod").unwrap().qualified(), "pods");
        assert!(by_kind("apps/v1beta1", "Deployment").is_none());
        assert!(by_kind("v1", "ConfigMap").is_none());
    }
}
