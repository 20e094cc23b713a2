//! The PromQL Mimi writes itself: label matchers for a subject and the key-series queries (pure).
//!
//! Names are validated Kubernetes names, but every value is still escaped as a PromQL string (a
//! container name comes from an alert label unchecked). Series names are the standard ones of
//! cAdvisor (`container_*`), kube-state-metrics v2 (`kube_*`) and node-exporter (`node_*`).

use crate::cluster::evidence::{Subject, SubjectKind};

/// A PromQL double-quoted string literal holding `value`.
pub(super) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `value` as a literal inside an RE2 regular expression.
pub(super) fn regex_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The label matchers (without braces) selecting the pods, or the node, of a subject.
pub(super) fn matchers(subject: &Subject) -> String {
    let name = subject.name.as_str();
    let ns = subject.namespace.as_ref().map(|n| format!("namespace={}", quote(n.as_str())));
    // Pods of a workload by their generated names: Deployment pods are <name>-<hash>-<suffix>,
    // StatefulSet pods <name>-<ordinal>, DaemonSet, Job and ReplicaSet pods <name>-<suffix>.
    let pods = |pattern: &str| format!("pod=~{}", quote(&format!("{}{pattern}", regex_literal(name))));
    let pod = match subject.kind {
        SubjectKind::Pod => format!("pod={}", quote(name)),
        SubjectKind::Deployment => pods("-[a-z0-9]+-[a-z0-9]+"),
        SubjectKind::StatefulSet => pods("-[0-9]+"),
        SubjectKind::DaemonSet | SubjectKind::Job | SubjectKind::ReplicaSet => pods("-[a-z0-9]+"),
        SubjectKind::Node => return format!("node={}", quote(name)),
        // Named like the Deployment behind them, as they usually are.
        SubjectKind::Service | SubjectKind::HorizontalPodAutoscaler => pods("-[a-z0-9]+-[a-z0-9]+"),
        SubjectKind::PersistentVolumeClaim => format!("persistentvolumeclaim={}", quote(name)),
    };
    ns.into_iter().chain([pod]).collect::<Vec<_>>().join(",")
}

/// One key-series query about the containers of a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ContainerQuery {
    /// CPU cores used (rate over 5 minutes); range.
    Cpu,
    /// Throttled share of CFS periods; range.
    Throttling,
    /// Working set bytes; range.
    Memory,
    /// Limits (cpu in cores, memory in bytes), split by the `resource` label; instant.
    Limits,
    /// Restarts within the lookback; instant.
    RestartsIncrease,
    /// The restart counter now; instant.
    RestartsTotal,
}

impl ContainerQuery {
    pub(super) const ALL: [ContainerQuery; 6] = [
        ContainerQuery::Cpu,
        ContainerQuery::Throttling,
        ContainerQuery::Memory,
        ContainerQuery::Limits,
        ContainerQuery::RestartsIncrease,
        ContainerQuery::RestartsTotal,
    ];

    pub(super) fn is_range(self) -> bool {
        matches!(self, ContainerQuery::Cpu | ContainerQuery::Throttling | ContainerQuery::Memory)
    }

    /// The query for the containers selected by `sel` (from [`matchers`]).
    pub(super) fn promql(self, sel: &str, lookback_minutes: u64) -> String {
        // cAdvisor also reports the pod cgroup (container="") and the pause container ("POD").
        let c = format!(r#"{sel},container!="",container!="POD""#);
        let by = "sum by (namespace, pod, container)";
        match self {
            ContainerQuery::Cpu => format!("{by} (rate(container_cpu_usage_seconds_total{{{c}}}[5m]))"),
            ContainerQuery::Throttling => format!(
                "{by} (rate(container_cpu_cfs_throttled_periods_total{{{c}}}[5m])) / {by} (rate(container_cpu_cfs_periods_total{{{c}}}[5m]))"
            ),
            ContainerQuery::Memory => format!("{by} (container_memory_working_set_bytes{{{c}}})"),
            ContainerQuery::Limits => format!(
                r#"sum by (namespace, pod, container, resource) (kube_pod_container_resource_limits{{{sel},resource=~"cpu|memory"}})"#
            ),
            ContainerQuery::RestartsIncrease => {
                format!("{by} (increase(kube_pod_container_status_restarts_total{{{sel}}}[{lookback_minutes}m]))")
            }
            ContainerQuery::RestartsTotal => format!("{by} (kube_pod_container_status_restarts_total{{{sel}}})"),
        }
    }
}

/// One query about a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NodeQuery {
    /// kube-state-metrics conditions that are true now; instant.
    Conditions,
    /// Whether the node was Ready over the lookback (1 or 0); range.
    Ready,
    /// Share of memory in use (node-exporter, if present); range.
    Memory,
    /// Share of the root filesystem in use (node-exporter, if present); range.
    RootFs,
}

impl NodeQuery {
    pub(super) const ALL: [NodeQuery; 4] =
        [NodeQuery::Conditions, NodeQuery::Ready, NodeQuery::Memory, NodeQuery::RootFs];

    pub(super) fn is_range(self) -> bool {
        !matches!(self, NodeQuery::Conditions)
    }

    pub(super) fn promql(self, node: &str) -> String {
        let n = quote(node);
        // node-exporter series name the node by a `node` label where relabelled, else by `instance`
        // (`<node>:9100` or the bare name).
        let inst = quote(&format!("{}(:[0-9]+)?", regex_literal(node)));
        let either =
            |metric: &str, extra: &str| format!("({metric}{{node={n}{extra}}} or {metric}{{instance=~{inst}{extra}}})");
        match self {
            NodeQuery::Conditions => format!(r#"kube_node_status_condition{{node={n},status="true"}} == 1"#),
            NodeQuery::Ready => {
                format!(r#"max(kube_node_status_condition{{node={n},condition="Ready",status="true"}})"#)
            }
            NodeQuery::Memory => format!(
                "max(1 - {} / {})",
                either("node_memory_MemAvailable_bytes", ""),
                either("node_memory_MemTotal_bytes", "")
            ),
            NodeQuery::RootFs => {
                let fs = r#",mountpoint="/",fstype!~"tmpfs|overlay""#;
                format!(
                    "max(1 - {} / {})",
                    either("node_filesystem_avail_bytes", fs),
                    either("node_filesystem_size_bytes", fs)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::names::{NamespaceName, ObjectName};

    fn subject(kind: SubjectKind, ns: Option<&str>, name: &str) -> Subject {
        Subject {
            kind,
            namespace: ns.map(|n| NamespaceName::parse(n).unwrap()),
            name: ObjectName::parse(name).unwrap(),
            container: None,
            via: String::new(),
        }
    }

    #[test]
    fn values_are_quoted_as_promql_strings() {
        let cases = [
            ("app", r#""app""#),
            (r#"a"b"#, r#""a\"b""#),
            (r"a\b", r#""a\\b""#),
            ("a\nb", r#""a\nb""#),
            (r#"x"} or vector(1) or {y=""#, r#""x\"} or vector(1) or {y=\"""#),
            ("\u{1b}[31m", r#""\u001b[31m""#),
            ("ünïcode", r#""ünïcode""#),
        ];
        for (value, quoted) in cases {
            assert_eq!(quote(value), quoted, "{value:?}");
        }
    }

    #[test]
    fn regex_metacharacters_are_escaped() {
        assert_eq!(regex_literal("api.v2"), r"api\.v2");
        assert_eq!(regex_literal("a+b(c)|d"), r"a\+b\(c\)\|d");
        // In a PromQL string the backslash itself is escaped once more.
        assert_eq!(quote(&regex_literal("web.shop")), r#""web\\.shop""#);
    }

    #[test]
    fn subjects_become_label_matchers() {
        let cases = [
            (subject(SubjectKind::Pod, Some("shop"), "checkout-1"), r#"namespace="shop",pod="checkout-1""#),
            (
                subject(SubjectKind::Deployment, Some("shop"), "web.v2"),
                r#"namespace="shop",pod=~"web\\.v2-[a-z0-9]+-[a-z0-9]+""#,
            ),
            (subject(SubjectKind::StatefulSet, Some("db"), "pg"), r#"namespace="db",pod=~"pg-[0-9]+""#),
            (subject(SubjectKind::DaemonSet, Some("logs"), "fluentd"), r#"namespace="logs",pod=~"fluentd-[a-z0-9]+""#),
            (subject(SubjectKind::Node, None, "worker-1"), r#"node="worker-1""#),
        ];
        for (s, expected) in cases {
            assert_eq!(matchers(&s), expected, "{s:?}");
        }
    }

    #[test]
    fn key_series_queries_use_the_standard_names() {
        let sel = r#"namespace="shop",pod="p""#;
        let q = |k: ContainerQuery| k.promql(sel, 60);
        assert_eq!(
            q(ContainerQuery::Cpu),
            r#"sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{namespace="shop",pod="p",container!="",container!="POD"}[5m]))"#
        );
        assert!(q(ContainerQuery::Throttling).contains("container_cpu_cfs_throttled_periods_total"));
        assert!(q(ContainerQuery::Throttling).contains(") / sum by"));
        assert!(
            q(ContainerQuery::Limits)
                .contains(r#"kube_pod_container_resource_limits{namespace="shop",pod="p",resource=~"cpu|memory"}"#)
        );
        assert!(
            q(ContainerQuery::RestartsIncrease)
                .contains("increase(kube_pod_container_status_restarts_total{namespace=\"shop\",pod=\"p\"}[60m])")
        );
        assert_eq!(
            NodeQuery::Conditions.promql("worker-1"),
            r#"kube_node_status_condition{node="worker-1",status="true"} == 1"#
        );
        assert!(NodeQuery::Memory.promql("w.1").contains(r#"instance=~"w\\.1(:[0-9]+)?""#));
    }
}
