//! The built-in rules, table-tested on evidence fixtures (no network): crash loops, OOM, rollouts,
//! images, configuration, probes here; capacity, nodes, jobs and targets in `tests_capacity`.

use super::fixtures::*;
use super::*;
use crate::analyze::AnalysisInput;
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

pub(super) struct Case {
    pub name: &'static str,
    pub input: AnalysisInput,
    pub rule: &'static str,
    pub proposals: &'static [&'static str],
    pub facts: &'static [&'static str],
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

pub(super) fn with_evidence(
    mut i: AnalysisInput,
    f: impl FnOnce(&mut crate::cluster::evidence::Evidence),
) -> AnalysisInput {
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
    ]
}

#[test]
fn each_rule_names_its_facts_and_proposes_from_the_catalogue_in_order() {
    let rules = RuleAnalyzer::default();
    for case in cases().into_iter().chain(super::tests_capacity::cases()) {
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
    let all: Vec<Case> = cases().into_iter().chain(super::tests_capacity::cases()).collect();
    let covered: Vec<&str> = all.iter().map(|c| c.rule).collect();
    for b in BUILTIN {
        let extra = ["target-down"]; // also covered with proposals in tests_more
        assert!(covered.contains(&b.name) || extra.contains(&b.name), "{} has no case", b.name);
    }
}

pub(super) fn crashloop_input() -> AnalysisInput {
    crashloop_payments()
}
