//! Acting on the sandbox cluster through `ClusterActions`: dry runs with field diffs, approved
//! execution, preconditions and replays (RELIABILITY C10, E06, E08, F02-F06, B04), verification.

use std::path::Path;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use mimi::cluster::actions::{ActionFailure, ClusterActions, EvictionOutcome};
use mimi::cluster::verify::observe;
use mimi::cluster::{ClusterRead, KubeCluster};
use mimi::domain::action::{Action, ActionSpec};
use mimi::domain::approval::{
    ApprovedAction, Decision, DecisionRequest, PendingApproval, ProposalId, Proposer, decide,
};
use mimi::domain::approver::{Approver, ApproverId, ApproverRule, ApproverRules, Origin, Platform};
use mimi::domain::policy::{Context, Policy, Verdict};
use mimi::sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use serde_json::json;

struct Env {
    sandbox: SandboxHandle,
    cluster: KubeCluster,
    client: kube::Client,
}

async fn env(scenario: &str) -> Env {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios").join(scenario);
    let opts = SandboxOptions { ready_after: Duration::ZERO, ..SandboxOptions::default() };
    let sandbox = Sandbox::start(&dir, opts).await.expect("sandbox starts");
    let mut config = sandbox.config().await.unwrap();
    config.default_retry = false;
    let client = kube::Client::try_from(config).unwrap();
    let cluster = KubeCluster::from_client(client.clone(), false, Duration::from_secs(10));
    Env { sandbox, cluster, client }
}

fn action(spec: serde_json::Value) -> Action {
    Action::from_spec(&serde_json::from_value::<ActionSpec>(spec).unwrap()).unwrap()
}

/// Through policy and the approval state machine, as the engine will: one or two web approvers.
fn approved(action: &Action, current_replicas: Option<u32>) -> ApprovedAction {
    let now = Timestamp::now();
    let ctx = Context {
        cluster: "default",
        current_replicas,
        confidence: None,
        recent_actions: &[],
        drain_running: false,
        now,
    };
    let Verdict::Allowed(allowance) = Policy::default().evaluate(action, &ctx) else {
        panic!("policy refused {action:?}")
    };
    let id = ProposalId::parse("p-test-1").unwrap();
    let mut pending =
        PendingApproval::new(id, &allowance, Proposer::Analyzer("rules".into()), now, SignedDuration::from_mins(60));
    let rules = ApproverRules::new(vec![ApproverRule {
        platform: Platform::Web,
        channel: None,
        team: None,
        users: ["alice".to_string(), "bob".to_string()].into(),
        groups: Default::default(),
    }]);
    for user in ["alice", "bob"] {
        let approver = Approver::new(ApproverId::web(user).unwrap());
        let request = DecisionRequest {
            choice: mimi::domain::approval::Choice::Approve,
            approver: &approver,
            origin: &Origin::Console,
            rules: &rules,
            read_only: false,
            incident_resolved: false,
        };
        match decide(&pending, &request, now).expect("approval accepted") {
            Decision::Approved { action, .. } => return action,
            Decision::NeedsAnotherApprover { record } => pending.decisions.push(record),
            Decision::Rejected { .. } => unreachable!(),
        }
    }
    panic!("not approved by two approvers")
}

/// An approval for the opt-in real-cluster test (two web approvers, as above).
pub fn approved_for_e2e(action: &Action) -> ApprovedAction {
    approved(action, None)
}

async fn deployment(env: &Env, ns: &str, name: &str) -> Deployment {
    Api::<Deployment>::namespaced(env.client.clone(), ns).get(name).await.unwrap()
}

#[tokio::test]
async fn a_restart_is_dry_run_with_its_diff_executed_once_and_verified() {
    let env = env("crashloop-payments").await;
    let restart = action(json!({"kind": "restart_deployment", "namespace": "pay", "name": "payments"}));
    let before = deployment(&env, "pay", "payments").await;

    let dry = env.cluster.dry_run(&restart).await.unwrap();
    assert_eq!(dry.changes.len(), 1, "{:?}", dry.changes);
    assert_eq!(dry.changes[0].path, "spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt");
    assert_eq!(
        deployment(&env, "pay", "payments").await.metadata.generation,
        before.metadata.generation,
        "a dry run changes nothing"
    );

    let approval = approved(&restart, Some(2));
    let done = env.cluster.execute(&approval, &dry.snapshot).await.unwrap();
    let after = deployment(&env, "pay", "payments").await;
    let stamp = after.spec.template.metadata.as_ref().unwrap().annotations.as_ref().unwrap()["kubectl.kubernetes.io/restartedAt"].clone();
    assert_eq!(stamp, approval.restart_token(), "F04: the value comes from the approval");
    assert_eq!(done.changes[0].after.as_deref(), Some(stamp.as_str()));

    // F04/B04: replayed after a crash, the same approval is one rollout, not two.
    let generation = after.metadata.generation;
    let replay = env.cluster.execute(&approval, &dry.snapshot).await.unwrap();
    assert!(replay.effects[0].contains("already in effect"), "{replay:?}");
    assert_eq!(deployment(&env, "pay", "payments").await.metadata.generation, generation);

    // fixed-by: restart -> the new pods come up healthy.
    let seen = observe(&env.cluster, &restart).await.unwrap();
    assert!(seen.complete && seen.healthy, "{seen:?}");
}

#[tokio::test]
async fn c10_a_target_changed_since_the_proposal_is_not_touched() {
    let env = env("crashloop-payments").await;
    let restart = action(json!({"kind": "restart_deployment", "namespace": "pay", "name": "payments"}));
    let dry = env.cluster.dry_run(&restart).await.unwrap();
    // Someone scales it while the proposal waits.
    let api: Api<Deployment> = Api::namespaced(env.client.clone(), "pay");
    api.patch_scale("payments", &Default::default(), &kube::api::Patch::Merge(json!({"spec": {"replicas": 3}})))
        .await
        .unwrap();
    let err = env.cluster.execute(&approved(&restart, Some(2)), &dry.snapshot).await.unwrap_err();
    assert!(matches!(err, ActionFailure::TargetChanged { .. }), "{err}");
    assert!(err.to_string().contains("replicas changed (2 -> 3)"), "the message names what changed: {err}");
    assert!(
        deployment(&env, "pay", "payments")
            .await
            .spec
            .template
            .metadata
            .unwrap()
            .annotations
            .is_none_or(|a| !a.contains_key("kubectl.kubernetes.io/restartedAt"))
    );
}

#[tokio::test]
async fn e06_a_target_that_does_not_exist_gets_no_dry_run() {
    let env = env("crashloop-payments").await;
    for spec in [
        json!({"kind": "restart_deployment", "namespace": "pay", "name": "no-such-thing"}),
        json!({"kind": "delete_pod", "namespace": "pay", "name": "ghost-pod"}),
        json!({"kind": "cordon_node", "name": "no-such-node"}),
        json!({"kind": "restart_deployment", "namespace": "no-such-ns", "name": "payments"}),
    ] {
        let err = env.cluster.dry_run(&action(spec.clone())).await.unwrap_err();
        assert!(matches!(err, ActionFailure::TargetMissing(_)), "{spec}: {err}");
    }
}

#[tokio::test]
async fn scale_uses_the_scale_subresource_and_is_verified_when_ready() {
    let env = env("crashloop-payments").await;
    let scale =
        action(json!({"kind": "scale_deployment", "namespace": "pay", "name": "payments", "params": {"replicas": 3}}));
    let dry = env.cluster.dry_run(&scale).await.unwrap();
    assert_eq!((dry.changes[0].before.as_deref(), dry.changes[0].after.as_deref()), (Some("2"), Some("3")));
    env.cluster.execute(&approved(&scale, Some(2)), &dry.snapshot).await.unwrap();
    assert_eq!(deployment(&env, "pay", "payments").await.spec.replicas, Some(3));
    // fixed-by: restart, so a scale leaves the pods crashing: complete but not healthy.
    let seen = observe(&env.cluster, &scale).await.unwrap();
    assert!(!seen.healthy, "{seen:?}");
}

#[tokio::test]
async fn f05_a_pod_delete_replayed_after_the_pod_was_recreated_spares_the_new_pod() {
    let env = env("crashloop-payments").await;
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "pay");
    let victim = pods.list(&Default::default()).await.unwrap().items[0].metadata.name.clone().unwrap();
    let delete = action(json!({"kind": "delete_pod", "namespace": "pay", "name": victim}));
    let dry = env.cluster.dry_run(&delete).await.unwrap();
    assert!(dry.effects[0].contains("creates a replacement"), "{:?}", dry.effects);
    assert!(pods.get_opt(&victim).await.unwrap().is_some(), "a dry run deletes nothing");
    let approval = approved(&delete, None);
    env.cluster.execute(&approval, &dry.snapshot).await.unwrap();
    assert!(pods.get_opt(&victim).await.unwrap().is_none());
    // Replaying it deletes nothing else.
    let count = pods.list(&Default::default()).await.unwrap().items.len();
    let replay = env.cluster.execute(&approval, &dry.snapshot).await.unwrap();
    assert!(replay.effects[0].contains("already in effect"));
    assert_eq!(pods.list(&Default::default()).await.unwrap().items.len(), count);
}

#[tokio::test]
async fn e08_f06_a_drain_blocked_by_a_budget_reports_each_pod_and_leaves_the_node_cordoned() {
    // worker-1 runs a healthy orders-api pod; the budget (minAvailable 2 of 2 healthy) forbids it.
    let env = env("node-notready-orders").await;
    let drain = action(json!({"kind": "drain_node", "name": "worker-1"}));
    let dry = env.cluster.dry_run(&drain).await.unwrap();
    assert!(dry.effects.iter().any(|e| e.contains("1 refused")), "the dry run foresees the block: {:?}", dry.effects);
    let nodes: Api<Node> = Api::all(env.client.clone());
    assert_ne!(nodes.get("worker-1").await.unwrap().spec.unwrap().unschedulable, Some(true), "dry run cordons nothing");

    let err = env.cluster.execute(&approved(&drain, None), &dry.snapshot).await.unwrap_err();
    let ActionFailure::DrainIncomplete { execution, blocked, .. } = err else {
        panic!("expected a partial drain, got {err}")
    };
    assert!(blocked >= 1);
    assert!(
        execution.evictions.iter().any(|e| matches!(e.outcome, EvictionOutcome::BlockedByBudget(_))),
        "{:?}",
        execution.evictions
    );
    assert!(
        execution.evictions.iter().any(|e| matches!(e.outcome, EvictionOutcome::Skipped(_))),
        "DaemonSet pods skipped: {:?}",
        execution.evictions
    );
    assert_eq!(nodes.get("worker-1").await.unwrap().spec.unwrap().unschedulable, Some(true), "F06: left cordoned");
    // E08: no fallback to delete: the blocked pods are still there.
    let blocked_pods: Vec<_> =
        execution.evictions.iter().filter(|e| matches!(e.outcome, EvictionOutcome::BlockedByBudget(_))).collect();
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), &blocked_pods[0].namespace);
    assert!(pods.get_opt(&blocked_pods[0].pod).await.unwrap().is_some());
}

#[tokio::test]
async fn a_drain_evicts_what_it_may_skips_daemonset_pods_and_is_verified() {
    // worker-2's orders-api pod is not ready: evicting it keeps 2 healthy, so the budget allows it.
    let env = env("node-notready-orders").await;
    let drain = action(json!({"kind": "drain_node", "name": "worker-2"}));
    let dry = env.cluster.dry_run(&drain).await.unwrap();
    let done = env.cluster.execute(&approved(&drain, None), &dry.snapshot).await.unwrap();
    let outcomes: Vec<(&str, &EvictionOutcome)> = done.evictions.iter().map(|e| (e.pod.as_str(), &e.outcome)).collect();
    assert!(outcomes.contains(&("orders-api-84d9c7b6f-m4q9z", &EvictionOutcome::Evicted)), "{outcomes:?}");
    assert!(
        outcomes.iter().any(|(p, o)| p.starts_with("node-exporter") && matches!(o, EvictionOutcome::Skipped(_))),
        "{outcomes:?}"
    );
    let seen = observe(&env.cluster, &drain).await.unwrap();
    assert!(seen.complete, "{seen:?}");
}

#[tokio::test]
async fn cordon_and_uncordon_are_exact_and_verified() {
    let env = env("node-notready-orders").await;
    let cordon = action(json!({"kind": "cordon_node", "name": "worker-1"}));
    let dry = env.cluster.dry_run(&cordon).await.unwrap();
    assert_eq!(dry.changes[0].path, "spec.unschedulable");
    env.cluster.execute(&approved(&cordon, None), &dry.snapshot).await.unwrap();
    assert!(observe(&env.cluster, &cordon).await.unwrap().complete);
    let uncordon = action(json!({"kind": "uncordon_node", "name": "worker-1"}));
    let dry = env.cluster.dry_run(&uncordon).await.unwrap();
    env.cluster.execute(&approved(&uncordon, None), &dry.snapshot).await.unwrap();
    let nodes: Api<Node> = Api::all(env.client.clone());
    assert_eq!(nodes.get("worker-1").await.unwrap().spec.unwrap().unschedulable, None, "removed like kubectl uncordon");
    let _ = &env.sandbox;
}

#[tokio::test]
async fn a_rollback_restores_the_previous_revisions_template() {
    let env = env("bad-image-frontend").await;
    let rollback = action(json!({"kind": "rollback_deployment", "namespace": "web", "name": "frontend"}));
    let dry = env.cluster.dry_run(&rollback).await.unwrap();
    let image = dry.changes.iter().find(|c| c.path.ends_with(".image")).expect("the image changes");
    assert_eq!(image.after.as_deref(), Some("registry.example.com/web/frontend:2.3.1"), "{:?}", dry.changes);
    env.cluster.execute(&approved(&rollback, None), &dry.snapshot).await.unwrap();
    let d = deployment(&env, "web", "frontend").await;
    assert_eq!(
        d.spec.template.spec.unwrap().containers[0].image.as_deref(),
        Some("registry.example.com/web/frontend:2.3.1")
    );
    let seen = observe(&env.cluster, &rollback).await.unwrap();
    assert!(seen.complete && seen.healthy, "{seen:?}");
}

#[tokio::test]
async fn reads_are_served_for_verification_without_write_access() {
    // The verifier only needs ClusterRead: a read-only handle is enough.
    let env = env("oomkilled-checkout").await;
    let read: &dyn ClusterRead = &env.cluster;
    let restart = action(json!({"kind": "restart_deployment", "namespace": "shop", "name": "checkout"}));
    let seen = observe(read, &restart).await.unwrap();
    assert!(!seen.healthy, "the crash-looping deployment is not healthy yet: {seen:?}");
}

#[tokio::test]
async fn f02_a_dry_run_refused_by_admission_blocks_the_action_with_its_reason() {
    let env = env("crashloop-payments").await;
    let restart = action(json!({"kind": "restart_deployment", "namespace": "pay", "name": "payments"}));
    // Proposed while writes were allowed...
    let dry = env.cluster.dry_run(&restart).await.unwrap();
    // ...then a change freeze arrives (a validating webhook now denies writes to it).
    let api: Api<Deployment> = Api::namespaced(env.client.clone(), "pay");
    let freeze = json!({"metadata": {"annotations": {"sandbox.mimi.dev/deny-writes": "payments is frozen during the quarter close"}}});
    api.patch("payments", &Default::default(), &kube::api::Patch::Merge(&freeze)).await.unwrap();

    let err = env.cluster.dry_run(&restart).await.unwrap_err();
    assert!(matches!(err, ActionFailure::Refused { code: 403, .. }), "{err}");
    assert!(err.to_string().contains("frozen during the quarter close"), "the reason is shown: {err}");

    let generation = deployment(&env, "pay", "payments").await.metadata.generation;
    let err = env.cluster.execute(&approved(&restart, Some(2)), &dry.snapshot).await.unwrap_err();
    assert!(err.to_string().contains("frozen during the quarter close"), "{err}");
    assert_eq!(deployment(&env, "pay", "payments").await.metadata.generation, generation, "not executed");
}
