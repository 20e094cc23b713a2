//! The built-in rules, table-tested on evidence fixtures (no network).

use super::fixtures::*;
use super::*;
use crate::analyze::AnalysisInput;
use crate::cluster::evidence::SubjectKind;
use crate::domain::analysis::Analysis;

/// Proposals as "kind ns/name k=v".
pub(super) fn proposals(a: &Analysis) -> Vec<String> {
    a.proposals
        .iter()
        .map(|p| {
            let target = match &p.action.namespace {
                Some(ns) => format!("{ns}/{}", p.action.name),
                None => p.action.name.clone(),
            };
            let params: String = p.action.params.iter().map(|(k, v)| format!(" {k}={v}")).collect();
            format!("{} {target}{params}", p.action.kind)
        })
        .collect()
}

pub(super) fn text(a: &Analysis) -> String {
    format!("{}\n{}", a.diagnosis, a.facts.join("\n")).to_lowercase()
}

struct Case {
    name: &'static str,
    input: AnalysisInput,
    rule: &'static str,
    proposals: &'static [&'static str],
    facts: &'static [&'static str],
}

const CRASH: &str = "waiting: CrashLoopBackOff";
const DB_LOG: &str = "2026-11-20T09:59:58Z INFO starting payments api\n\
                      2026-11-20T09:59:59Z ERROR failed to connect to database at postgres.pay:5432: connection refused\n\
                      2026-11-20T09:59:59Z FATAL exiting\n";

fn crash_pod(ns: &str, name: &str, rs: &str, deploy: &str, last: &str) -> crate::cluster::evidence::PodFacts {
    pod(ns, name, rs, deploy, vec![container("api", CRASH, 6, Some(last))])
}

fn crashloop_payments() -> AnalysisInput {
    input(
        vec![alert("KubePodCrashLooping", &[("namespace", "pay"), ("pod", "payments-a")])],
        crate::cluster::evidence::Evidence {
            pods: vec![
                crash_pod("pay", "payments-a", "payments-new", "payments", "Error (exit 1)"),
                crash_pod("pay", "payments-b", "payments-new", "payments", "Error (exit 1)"),
            ],
            workloads: vec![deployment("pay", "payments", 2, 0)],
            logs: vec![log("pay", "payments-a", "api", true, DB_LOG)],
            events: vec![event("Pod/payments-a", "BackOff", "Back-off restarting failed container api", 12)],
            ..Default::default()
        },
    )
}

fn with_evidence(mut i: AnalysisInput, f: impl FnOnce(&mut crate::cluster::evidence::Evidence)) -> AnalysisInput {
    let ev = i.evidence.as_mut().unwrap();
    f(ev);
    i.evidence_text = crate::cluster::evidence::render(ev, 8192);
    i
}

fn cases() -> Vec<Case> {
    use crate::cluster::evidence::Evidence;
    let oom_pod = |limit: bool| {
        let c = container("app", CRASH, 7, Some("OOMKilled (exit 137)"));
        let c = if limit { with_resources(c, "limits memory=256Mi") } else { c };
        pod("shop", "checkout-x", "checkout-new", "checkout", vec![c])
    };
    let oom = |limit: bool| {
        input(
            vec![alert("KubePodCrashLooping", &[("namespace", "shop"), ("pod", "checkout-x")])],
            Evidence {
                pods: vec![oom_pod(limit)],
                workloads: vec![deployment("shop", "checkout", 2, 1)],
                ..Default::default()
            },
        )
    };
    let rollout_crash = |from_ready: i32, at: &str, change: &str, rs: &str| {
        input(
            vec![alert("KubePodCrashLooping", &[("namespace", "pay"), ("pod", "payments-a")])],
            Evidence {
                pods: vec![crash_pod("pay", "payments-a", rs, "payments", "Error (exit 2)")],
                workloads: vec![rolled_out(deployment("pay", "payments", 2, from_ready), change, from_ready, at)],
                ..Default::default()
            },
        )
    };
    let image_change = "image api: registry.example.com/api:1.0.0 -> registry.example.com/api:1.1.0";
    let pull_pod = |rs: &str| {
        let c = with_image(
            container(
                "api",
                "waiting: ImagePullBackOff: Back-off pulling image \"registry.example.com/api:1.1.0\"",
                0,
                None,
            ),
            "registry.example.com/api:1.1.0",
        );
        pod("web", "front-new-1", rs, "front", vec![c])
    };
    let pull = |rollout: bool| {
        let w = deployment("web", "front", 2, 2);
        let w = if rollout { rolled_out(w, image_change, 2, "2026-11-01T00:00:00Z") } else { w };
        input(
            vec![alert("KubePodNotReady", &[("namespace", "web"), ("pod", "front-new-1")])],
            Evidence {
                pods: vec![pull_pod("front-new")],
                workloads: vec![w],
                events: vec![event(
                    "Pod/front-new-1",
                    "Failed",
                    "Failed to pull image \"registry.example.com/api:1.1.0\": manifest unknown",
                    5,
                )],
                ..Default::default()
            },
        )
    };
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
            name: "crash loop of every pod: restart, quoting the log",
            input: crashloop_payments(),
            rule: "crashloop",
            proposals: &["restart_deployment pay/payments"],
            facts: &["crashloopbackoff", "connection refused", "6 restarts", "backoff ×12"],
        },
        Case {
            name: "one crashing pod of several: restart, then delete that pod",
            input: with_evidence(crashloop_payments(), |ev| {
                ev.pods.truncate(1);
                ev.workloads[0].desired = 3;
            }),
            rule: "crashloop",
            proposals: &["restart_deployment pay/payments", "delete_pod pay/payments-a"],
            facts: &["crashloopbackoff"],
        },
        Case {
            name: "OOMKilled: restart as a stopgap, naming the memory limit",
            input: oom(true),
            rule: "oomkilled",
            proposals: &["restart_deployment shop/checkout"],
            facts: &["oomkilled", "256mi", "stopgap", "manifest"],
        },
        Case {
            name: "OOMKilled without a limit says so",
            input: oom(false),
            rule: "oomkilled",
            proposals: &["restart_deployment shop/checkout"],
            facts: &["no memory limit"],
        },
        Case {
            name: "crash loop while the old revision still serves: roll back first",
            input: rollout_crash(2, "2026-10-01T00:00:00Z", image_change, "payments-new"),
            rule: "crashloop-after-rollout",
            proposals: &["rollback_deployment pay/payments to_revision=1", "restart_deployment pay/payments"],
            facts: &["revision 1 -> 2", "1.1.0", "2 ready pods"],
        },
        Case {
            name: "crash loop 30 minutes after a finished rollout: roll back",
            input: rollout_crash(0, "2026-11-20T09:30:00Z", image_change, "payments-new"),
            rule: "crashloop-after-rollout",
            proposals: &["rollback_deployment pay/payments to_revision=1", "restart_deployment pay/payments"],
            facts: &["revision 1 -> 2"],
        },
        Case {
            name: "crash loop long after a finished rollout: restart, not roll back",
            input: rollout_crash(0, "2026-11-10T09:30:00Z", image_change, "payments-new"),
            rule: "crashloop",
            proposals: &["restart_deployment pay/payments", "delete_pod pay/payments-a"],
            facts: &["crashloopbackoff"],
        },
        Case {
            name: "a rollout that was only a restart is no cause",
            input: rollout_crash(2, "2026-11-20T09:30:00Z", "restarted at 2026-11-20T09:30:00Z", "payments-new"),
            rule: "crashloop",
            proposals: &["restart_deployment pay/payments", "delete_pod pay/payments-a"],
            facts: &[],
        },
        Case {
            name: "crashing pods of the older revision are not caused by the rollout",
            input: rollout_crash(2, "2026-11-20T09:30:00Z", image_change, "payments-old"),
            rule: "crashloop",
            proposals: &["restart_deployment pay/payments", "delete_pod pay/payments-a"],
            facts: &[],
        },
        Case {
            name: "image pull error: notify only, naming the image and the error",
            input: pull(false),
            rule: "image-pull",
            proposals: &[],
            facts: &["registry.example.com/api:1.1.0", "imagepullbackoff", "manifest unknown", "notify only"],
        },
        Case {
            name: "image pull error right after the rollout that changed the image: roll back",
            input: pull(true),
            rule: "image-pull-after-rollout",
            proposals: &["rollback_deployment web/front to_revision=1"],
            facts: &["registry.example.com/api:1.1.0", "manifest unknown"],
        },
        Case {
            name: "CreateContainerConfigError: notify only, naming the missing ConfigMap",
            input: input(
                vec![alert("KubePodNotReady", &[("namespace", "pay"), ("pod", "payments-a")])],
                Evidence {
                    pods: vec![pod(
                        "pay",
                        "payments-a",
                        "payments-rs",
                        "payments",
                        vec![container(
                            "api",
                            "waiting: CreateContainerConfigError: configmap \"payments-config\" not found",
                            0,
                            None,
                        )],
                    )],
                    workloads: vec![deployment("pay", "payments", 1, 0)],
                    ..Default::default()
                },
            ),
            rule: "container-config",
            proposals: &[],
            facts: &["configmap payments-config is missing", "createcontainerconfigerror"],
        },
        Case {
            name: "failing liveness probe on every pod: restart",
            input: input(
                vec![alert("KubePodCrashLooping", &[("namespace", "shop"), ("pod", "cart-1")])],
                Evidence {
                    pods: vec![pod(
                        "shop",
                        "cart-1",
                        "cart-rs",
                        "cart",
                        vec![container("app", "running", 4, Some("Error (exit 137)"))],
                    )],
                    workloads: vec![deployment("shop", "cart", 1, 0)],
                    events: vec![event(
                        "Pod/cart-1",
                        "Unhealthy",
                        "Liveness probe failed: HTTP probe failed with statuscode: 500",
                        9,
                    )],
                    ..Default::default()
                },
            ),
            rule: "probe-failure",
            proposals: &["restart_deployment shop/cart"],
            facts: &["liveness probe failed"],
        },
        Case {
            name: "failing readiness probe on one pod of three: replace that pod",
            input: input(
                vec![alert("KubeDeploymentReplicasMismatch", &[("namespace", "shop"), ("deployment", "cart")])],
                Evidence {
                    pods: vec![pod("shop", "cart-2", "cart-rs", "cart", vec![container("app", "running", 0, None)])],
                    workloads: vec![deployment("shop", "cart", 3, 2)],
                    events: vec![event("Pod/cart-2", "Unhealthy", "Readiness probe failed: connection refused", 40)],
                    ..Default::default()
                },
            ),
            rule: "probe-failure",
            proposals: &["delete_pod shop/cart-2"],
            facts: &["readiness probe failed"],
        },
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

#[test]
fn each_rule_names_its_facts_and_proposes_from_the_catalogue_in_order() {
    let rules = RuleAnalyzer::default();
    for case in cases() {
        let a = rules.analyze_now(&case.input);
        assert_eq!(a.version, case.rule, "{}: {a:#?}", case.name);
        assert_eq!(proposals(&a), case.proposals, "{}: {a:#?}", case.name);
        let t = text(&a);
        for f in case.facts {
            assert!(t.contains(f), "{}: {f:?} missing from\n{t}", case.name);
        }
        assert_eq!(a.analyzer, "rules");
        let confidence = BUILTIN.iter().find(|b| b.name == case.rule).unwrap().confidence;
        assert_eq!(a.confidence, Some(confidence), "{}: a fixed confidence per rule", case.name);
        assert!(a.flags.is_empty(), "{}: {:?}", case.name, a.flags);
        for p in &a.proposals {
            crate::domain::action::Action::from_spec(&p.action).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        }
    }
}

#[test]
fn every_built_in_rule_is_exercised_by_the_table() {
    let covered: Vec<&str> = cases().iter().map(|c| c.rule).collect();
    for b in BUILTIN {
        let extra = ["target-down"]; // also covered with proposals in tests_more
        assert!(covered.contains(&b.name) || extra.contains(&b.name), "{} has no case", b.name);
    }
}

pub(super) fn crashloop_input() -> AnalysisInput {
    crashloop_payments()
}
