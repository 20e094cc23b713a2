//! The built-in rules on capacity, nodes, jobs, replicas and targets (table, see `tests`).

use super::fixtures::*;
use super::tests::{Case, with_evidence};
use crate::analyze::AnalysisInput;
use crate::cluster::evidence::{Evidence, SubjectKind};

pub(super) fn cases() -> Vec<Case> {
    let image_change = "image api: registry.example.com/api:1.0.0 -> registry.example.com/api:1.1.0";
    let cpu = |replicas: i32, hpa: bool| {
        let mut w = deployment("shop", "search", replicas, replicas);
        w.resources = vec![("app".into(), "limits cpu=500m memory=1Gi".into())];
        input(
            vec![alert("CPUThrottlingHigh", &[("namespace", "shop"), ("pod", "search-1"), ("container", "app")])],
            Evidence {
                pods: vec![pod("shop", "search-1", "search-rs", "search", vec![container("app", "running", 0, None)])],
                workloads: vec![w],
                autoscalers: if hpa { vec![autoscaler("shop", "search", "Deployment search", 4, 10)] } else { vec![] },
                ..Default::default()
            },
        )
    };
    let node_not_ready = |cordoned: bool| {
        let mut n =
            node("worker-2", "Unknown", &["Ready=Unknown: NodeStatusUnknown: Kubelet stopped posting node status."]);
        n.unschedulable = cordoned;
        input(
            vec![alert("KubeNodeNotReady", &[("node", "worker-2")])],
            Evidence { nodes: vec![n], ..Default::default() },
        )
    };
    vec![
        Case {
            name: "unschedulable pods: notify with the scheduler's message",
            input: input(
                vec![alert("KubePodNotScheduled", &[("namespace", "ml"), ("pod", "trainer-1")])],
                Evidence {
                    pods: vec![pending(
                        pod("ml", "trainer-1", "trainer-rs", "trainer", vec![container("t", "not started", 0, None)]),
                        "0/3 nodes are available: 3 Insufficient memory.",
                    )],
                    workloads: vec![deployment("ml", "trainer", 1, 0)],
                    ..Default::default()
                },
            ),
            rule: "unschedulable",
            proposals: &[],
            facts: &["insufficient memory", "notify only"],
        },
        Case {
            name: "pending claim: notify, naming the storage class and the provisioner's error",
            input: input(
                vec![alert(
                    "KubePersistentVolumeClaimPending",
                    &[("namespace", "db"), ("persistentvolumeclaim", "data-pg-0")],
                )],
                Evidence {
                    claims: vec![claim("db", "data-pg-0", "Pending", "fast-ssd", "pg-0")],
                    events: vec![event(
                        "PersistentVolumeClaim/data-pg-0",
                        "ProvisioningFailed",
                        "storageclass.storage.k8s.io \"fast-ssd\" not found",
                        7,
                    )],
                    ..Default::default()
                },
            ),
            rule: "pvc-pending",
            proposals: &[],
            facts: &["fast-ssd", "pending", "not found"],
        },
        Case {
            name: "autoscaler at its maximum: notify",
            input: input(
                vec![alert("KubeHpaMaxedOut", &[("namespace", "shop"), ("horizontalpodautoscaler", "search")])],
                Evidence {
                    workloads: vec![deployment("shop", "search", 10, 10)],
                    autoscalers: vec![autoscaler("shop", "search", "Deployment search", 10, 10)],
                    ..Default::default()
                },
            ),
            rule: "hpa-maxed",
            proposals: &[],
            facts: &["maximum of 10", "maxreplicas", "toomanyreplicas"],
        },
        Case {
            name: "CPU throttling without an autoscaler: one bounded scale step",
            input: cpu(4, false),
            rule: "cpu-pressure",
            proposals: &["scale_deployment shop/search replicas=6"],
            facts: &["cpu limit 500m", "4 -> 6"],
        },
        Case {
            name: "CPU throttling with an autoscaler: its call, not Mimi's",
            input: cpu(4, true),
            rule: "cpu-pressure",
            proposals: &[],
            facts: &["autoscaler sets this workload's replica count"],
        },
        Case {
            name: "e07 CPU throttling at the policy's maximum: no scale",
            input: cpu(20, false),
            rule: "cpu-pressure",
            proposals: &[],
            facts: &["no scale proposed"],
        },
        Case {
            name: "node NotReady: cordon, then drain",
            input: node_not_ready(false),
            rule: "node-not-ready",
            proposals: &["cordon_node worker-2", "drain_node worker-2"],
            facts: &["notready", "kubelet stopped posting", "high-risk"],
        },
        Case {
            name: "node NotReady and already cordoned: drain",
            input: node_not_ready(true),
            rule: "node-not-ready",
            proposals: &["drain_node worker-2"],
            facts: &["already cordoned"],
        },
        Case {
            name: "disk pressure: cordon",
            input: input(
                vec![alert("NodeDiskPressure", &[("node", "worker-3")])],
                Evidence {
                    nodes: vec![node(
                        "worker-3",
                        "True",
                        &["DiskPressure=True: KubeletHasDiskPressure: kubelet has disk pressure"],
                    )],
                    events: vec![event("Pod/web-1", "Evicted", "The node was low on resource: ephemeral-storage.", 1)],
                    ..Default::default()
                },
            ),
            rule: "node-pressure",
            proposals: &["cordon_node worker-3"],
            facts: &["diskpressure", "evicted", "freeing disk"],
        },
        Case {
            name: "failed Job: notify with the reason and the last error",
            input: input(
                vec![alert("KubeJobFailed", &[("namespace", "batch"), ("job_name", "nightly-report")])],
                Evidence {
                    workloads: vec![job("batch", "nightly-report", 4, "Failed=True: BackoffLimitExceeded")],
                    pods: vec![owned_by(
                        pod(
                            "batch",
                            "nightly-report-x",
                            "",
                            "",
                            vec![container("report", "terminated: Error (exit 3)", 0, None)],
                        ),
                        "Job nightly-report",
                    )],
                    logs: vec![log(
                        "batch",
                        "nightly-report-x",
                        "report",
                        false,
                        "ERROR bucket s3://reports not found\n",
                    )],
                    ..Default::default()
                },
            ),
            rule: "job-failed",
            proposals: &[],
            facts: &["backofflimitexceeded", "4 failed attempts", "bucket s3://reports not found", "re-running"],
        },
        Case {
            name: "rollout past its deadline: roll back",
            input: with_evidence(
                input(
                    vec![alert("KubeDeploymentRolloutStuck", &[("namespace", "web"), ("deployment", "front")])],
                    Evidence {
                        workloads: vec![rolled_out(
                            deployment("web", "front", 3, 2),
                            "environment of web changed",
                            2,
                            "2026-11-01T00:00:00Z",
                        )],
                        ..Default::default()
                    },
                ),
                |ev| ev.workloads[0].conditions = vec!["Progressing=False: ProgressDeadlineExceeded".into()],
            ),
            rule: "replica-mismatch",
            proposals: &["rollback_deployment web/front to_revision=1"],
            facts: &["progressdeadlineexceeded", "2 of 3"],
        },
        Case {
            name: "a stuck rollout whose new pod stays unready: roll back",
            input: input(
                vec![alert("KubeDeploymentRolloutStuck", &[("namespace", "docs"), ("deployment", "site")])],
                Evidence {
                    workloads: vec![rolled_out(
                        deployment("docs", "site", 2, 2),
                        image_change,
                        2,
                        "2026-11-20T09:40:00Z",
                    )],
                    pods: vec![pod(
                        "docs",
                        "site-new-1",
                        "site-new",
                        "site",
                        vec![unready(container("web", "running", 0, None))],
                    )],
                    ..Default::default()
                },
            ),
            rule: "rollout-stuck",
            proposals: &["rollback_deployment docs/site to_revision=1"],
            facts: &["does not progress", "revision 1 -> 2", "site-new-1"],
        },
        Case {
            name: "one stuck pod of three with no other cause: replace it",
            input: input(
                vec![alert("KubeDeploymentReplicasMismatch", &[("namespace", "web"), ("deployment", "front")])],
                Evidence {
                    workloads: vec![deployment("web", "front", 3, 2)],
                    pods: vec![pod(
                        "web",
                        "front-x",
                        "front-rs",
                        "front",
                        vec![unready(container("web", "running", 0, None))],
                    )],
                    ..Default::default()
                },
            ),
            rule: "replica-mismatch",
            proposals: &["delete_pod web/front-x"],
            facts: &["2 of 3"],
        },
        Case {
            name: "target down with every pod ready: notify, the scrape itself fails",
            input: input(
                vec![alert("TargetDown", &[("namespace", "pay"), ("service", "payments"), ("job", "payments")])],
                Evidence {
                    services: vec![service("pay", "payments", 2, 2)],
                    pods: vec![pod(
                        "pay",
                        "payments-a",
                        "payments-rs",
                        "payments",
                        vec![container("api", "running", 0, None)],
                    )],
                    workloads: vec![deployment("pay", "payments", 2, 2)],
                    ..Default::default()
                },
            ),
            rule: "target-down",
            proposals: &[],
            facts: &["networkpolicy", "2 of its 2"],
        },
        Case {
            name: "an alert naming a deployment that does not exist: nothing to act on",
            input: input(
                vec![alert("KubeDeploymentReplicasMismatch", &[("namespace", "pay"), ("deployment", "payments-v2")])],
                Evidence {
                    subjects: vec![missing(SubjectKind::Deployment, "pay", "payments-v2")],
                    ..Default::default()
                },
            ),
            rule: "target-missing",
            proposals: &[],
            facts: &["payments-v2", "does not exist"],
        },
        Case {
            name: "no evidence: no diagnosis, no proposal",
            input: AnalysisInput { alerts: vec![alert("KubePodCrashLooping", &[])], ..Default::default() },
            rule: "no-evidence",
            proposals: &[],
            facts: &["no evidence"],
        },
        Case {
            name: "nothing matched: say so",
            input: input(vec![alert("Watchdog", &[])], Evidence::default()),
            rule: "no-match",
            proposals: &[],
            facts: &["no runbook rule matched watchdog"],
        },
    ]
}
