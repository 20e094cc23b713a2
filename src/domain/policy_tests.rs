use jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::domain::action::ActionSpec;

fn action(v: serde_json::Value) -> Action {
    let spec: ActionSpec = serde_json::from_value(v).unwrap();
    Action::from_spec(&spec).unwrap()
}

fn restart(ns: &str, name: &str) -> Action {
    action(json!({"kind": "restart_deployment", "namespace": ns, "name": name}))
}

fn scale(replicas: u64) -> Action {
    action(
        json!({"kind": "scale_deployment", "namespace": "shop", "name": "payments", "params": {"replicas": replicas}}),
    )
}

fn now() -> Timestamp {
    "2025-03-01T12:00:00Z".parse().unwrap()
}

fn ctx<'a>(recent: &'a [RecentAction]) -> Context<'a> {
    Context {
        cluster: "prod",
        current_replicas: Some(4),
        confidence: None,
        recent_actions: recent,
        drain_running: false,
        now: now(),
    }
}

fn refusal(policy: &Policy, action: &Action, ctx: &Context<'_>) -> Option<Refusal> {
    match policy.evaluate(action, ctx) {
        Verdict::Refused(r) => Some(r),
        Verdict::Allowed(_) => None,
    }
}

#[test]
fn e04_protected_and_own_namespaces_are_refused() {
    let mut policy = Policy::default();
    policy.protected_namespaces.insert(NamespaceName::parse("payments-prod").unwrap());
    let cases: &[(Action, Option<&str>)] = &[
        (restart("kube-system", "coredns"), Some("protected_namespace")),
        (
            action(json!({"kind": "delete_pod", "namespace": "kube-system", "name": "etcd-a"})),
            Some("protected_namespace"),
        ),
        (
            action(json!({"kind": "restart_daemonset", "namespace": "kube-system", "name": "kube-proxy"})),
            Some("protected_namespace"),
        ),
        (restart("mimi", "mimi"), Some("own_namespace")),
        (restart("payments-prod", "api"), Some("protected_namespace")),
        (restart("shop", "checkout"), None),
        (restart("kube-system-like", "x"), None),
        // Nodes have no namespace; node actions are governed by risk and approvals.
        (action(json!({"kind": "cordon_node", "name": "kube-system"})), None),
    ];
    for (a, expected) in cases {
        let got = refusal(&policy, a, &ctx(&[]));
        assert_eq!(got.as_ref().map(Refusal::rule), *expected, "{a:?}");
    }
    let text = refusal(&policy, &restart("kube-system", "coredns"), &ctx(&[])).unwrap().to_string();
    assert!(text.contains("kube-system") && text.contains("protected"), "{text}");
    // Mimi's own namespace is protected even when the list is emptied.
    policy.protected_namespaces.clear();
    policy.own_namespace = Some(NamespaceName::parse("ops-bots").unwrap());
    assert_eq!(refusal(&policy, &restart("ops-bots", "mimi"), &ctx(&[])).unwrap().rule(), "own_namespace");
    assert_eq!(refusal(&policy, &restart("kube-system", "coredns"), &ctx(&[])), None);
}

#[test]
fn e07_scale_outside_the_bounds_is_refused_never_clamped() {
    let policy = Policy::default(); // min 1, max 20, factor 3
    let cases: &[(u64, Option<u32>, Option<&str>)] = &[
        (0, Some(4), Some("scale_min_replicas")),
        (0, None, Some("scale_min_replicas")),
        (21, Some(10), Some("scale_max_replicas")),
        (1000, Some(4), Some("scale_max_replicas")),
        (4_294_967_295, Some(4), Some("scale_max_replicas")),
        (13, Some(4), Some("scale_max_factor")),
        (12, Some(4), None),
        (5, Some(4), None),
        (3, Some(0), None),
        (4, Some(0), Some("scale_max_factor")),
        (2, Some(4), None),
        (1, Some(3), None),
        (3, Some(10), Some("scale_max_factor")),
        (4, Some(10), None),
        (4, Some(4), Some("scale_unchanged")),
        (5, None, Some("scale_replicas_unknown")),
    ];
    for &(replicas, current, expected) in cases {
        let c = Context { current_replicas: current, ..ctx(&[]) };
        let got = refusal(&policy, &scale(replicas), &c);
        assert_eq!(got.as_ref().map(Refusal::rule), expected, "{replicas} from {current:?}");
        if let Verdict::Allowed(allowed) = policy.evaluate(&scale(replicas), &c) {
            assert_eq!(allowed.action(), &scale(replicas), "never clamped");
        }
    }
    // The sentence names the bound.
    let text = refusal(&policy, &scale(0), &ctx(&[])).unwrap().to_string();
    assert!(text.contains("policy.scale.min_replicas") && text.contains("minimum of 1"), "{text}");
    let text = refusal(&policy, &scale(50), &ctx(&[])).unwrap().to_string();
    assert!(text.contains("policy.scale.max_replicas") && text.contains("maximum of 20"), "{text}");
    let text = refusal(&policy, &scale(13), &ctx(&[])).unwrap().to_string();
    assert!(text.contains("policy.scale.max_factor") && text.contains("at most 12"), "{text}");
    // A negative count never becomes an action at all.
    let spec = json!({"kind": "scale_deployment", "namespace": "shop", "name": "a", "params": {"replicas": -1}});
    assert!(Action::from_spec(&serde_json::from_value(spec).unwrap()).is_err());
}

#[test]
fn e02_confidence_text_cannot_beat_the_bounds() {
    let mut policy = Policy::default();
    policy.approvals.auto_approve = true;
    let c = Context { confidence: Confidence::new(0.99), ..ctx(&[]) };
    assert_eq!(refusal(&policy, &scale(0), &c).unwrap().rule(), "scale_min_replicas");
    // A malformed figure is no confidence at all.
    for bad in [f64::NAN, 1.5, -0.1, f64::INFINITY, 99.0] {
        assert_eq!(Confidence::new(bad), None, "{bad}");
    }
}

fn recent(cluster: &str, a: &Action, minutes_ago: i64) -> RecentAction {
    RecentAction { cluster: cluster.into(), target: a.target(), at: now() - SignedDuration::from_mins(minutes_ago) }
}

#[test]
fn e09_budgets_per_cluster_and_target_and_one_drain_at_a_time() {
    let policy = Policy::default(); // 10 per cluster, 3 per target, per hour
    let checkout = restart("shop", "checkout");
    let others: Vec<Action> = (0..9).map(|i| restart("shop", &format!("svc-{i}"))).collect();
    let drain = action(json!({"kind": "drain_node", "name": "worker-1"}));
    type Case = (&'static str, Vec<RecentAction>, bool, Action, Option<&'static str>);
    let cases: Vec<Case> = vec![
        ("nothing recent", vec![], false, checkout.clone(), None),
        ("two on target", (0..2).map(|m| recent("prod", &checkout, m)).collect(), false, checkout.clone(), None),
        (
            "three on target",
            (0..3).map(|m| recent("prod", &checkout, m)).collect(),
            false,
            checkout.clone(),
            Some("target_budget"),
        ),
        (
            "target budget is per target",
            (0..3).map(|m| recent("prod", &checkout, m)).collect(),
            false,
            others[0].clone(),
            None,
        ),
        (
            "older than an hour",
            (0..3).map(|m| recent("prod", &checkout, 61 + m)).collect(),
            false,
            checkout.clone(),
            None,
        ),
        (
            "exactly an hour ago is outside",
            (0..3).map(|_| recent("prod", &checkout, 60)).collect(),
            false,
            checkout.clone(),
            None,
        ),
        (
            "future stamps count",
            (0..3).map(|m| recent("prod", &checkout, -1 - m)).collect(),
            false,
            checkout.clone(),
            Some("target_budget"),
        ),
        (
            "same target, other cluster",
            (0..3).map(|m| recent("staging", &checkout, m)).collect(),
            false,
            checkout.clone(),
            None,
        ),
        ("nine in cluster", others.iter().map(|a| recent("prod", a, 5)).collect(), false, checkout.clone(), None),
        (
            "ten in cluster",
            others.iter().map(|a| recent("prod", a, 5)).chain([recent("prod", &drain, 5)]).collect(),
            false,
            checkout.clone(),
            Some("cluster_budget"),
        ),
        (
            "ten in another cluster",
            (0..10).map(|_| recent("staging", &others[0], 1)).collect(),
            false,
            checkout.clone(),
            None,
        ),
        ("a drain while one runs", vec![], true, drain.clone(), Some("one_drain_at_a_time")),
        ("a drain when none runs", vec![], false, drain.clone(), None),
        ("other actions during a drain", vec![], true, checkout.clone(), None),
    ];
    for (name, recent, drain_running, a, expected) in cases {
        let c = Context { drain_running, ..ctx(&recent) };
        assert_eq!(refusal(&policy, &a, &c).as_ref().map(Refusal::rule), expected, "{name}");
    }
    let full: Vec<RecentAction> = (0..3).map(|m| recent("prod", &checkout, m)).collect();
    let text = refusal(&policy, &checkout, &ctx(&full)).unwrap().to_string();
    assert!(text.contains("shop/checkout") && text.contains("last hour"), "{text}");
    let c = Context { drain_running: true, ..ctx(&[]) };
    assert!(refusal(&policy, &drain, &c).unwrap().to_string().contains("one node at a time"));
}

#[test]
fn h02_read_only_refuses_everything_first() {
    let policy = Policy { read_only: true, ..Policy::default() };
    for a in [restart("shop", "checkout"), scale(5), action(json!({"kind": "uncordon_node", "name": "w"}))] {
        let got = refusal(&policy, &a, &ctx(&[])).expect("refused");
        assert_eq!(got.rule(), "read_only");
        assert!(got.to_string().contains("read-only"), "{got}");
    }
    // Read-only wins over every other rule.
    assert_eq!(refusal(&policy, &restart("kube-system", "x"), &ctx(&[])).unwrap(), Refusal::ReadOnly);
}

#[test]
fn approval_requirements_per_risk_auto_only_when_enabled_and_confident() {
    use ApprovalRequirement::{Auto, One, Two};
    let conf = |c: f64| Confidence::new(c);
    type Case = (&'static str, bool, Risk, Option<Confidence>, ApprovalRequirement);
    let cases: Vec<Case> = vec![
        ("auto off by default", false, Risk::Medium, conf(1.0), One),
        ("auto on, confident", true, Risk::Medium, conf(0.9), Auto),
        ("at the threshold", true, Risk::Medium, conf(0.8), Auto),
        ("below the threshold", true, Risk::Medium, conf(0.79), One),
        ("no confidence given", true, Risk::Medium, None, One),
        ("low risk, confident", true, Risk::Low, conf(0.95), Auto),
        ("high risk needs two people", true, Risk::High, conf(1.0), Two),
        ("high risk, auto off", false, Risk::High, None, Two),
    ];
    for (name, auto, risk, confidence, expected) in cases {
        let mut policy = Policy::default();
        policy.approvals.auto_approve = auto;
        assert_eq!(policy.approval_for(risk, confidence), expected, "{name}");
    }
    // REQUIRE_APPROVAL_FOR: a listed risk always needs a human.
    let mut policy = Policy::default();
    policy.approvals.auto_approve = true;
    policy.approvals.two_approvers_for.clear();
    policy.approvals.require_human_for = [Risk::Medium, Risk::High].into();
    assert_eq!(policy.approval_for(Risk::Medium, conf(1.0)), One);
    assert_eq!(policy.approval_for(Risk::High, conf(1.0)), One);
    assert_eq!(policy.approval_for(Risk::Low, conf(1.0)), Auto);
}

#[test]
fn risk_is_per_kind_and_overridable_and_carried_by_the_verdict() {
    let mut policy = Policy::default();
    assert_eq!(policy.risk_of(ActionKind::RestartDeployment), Risk::Medium);
    assert_eq!(policy.risk_of(ActionKind::DrainNode), Risk::High);
    policy.risk_overrides.insert(ActionKind::RestartDeployment, Risk::High);
    policy.risk_overrides.insert(ActionKind::UncordonNode, Risk::Low);
    assert_eq!(policy.risk_of(ActionKind::UncordonNode), Risk::Low);
    match policy.evaluate(&restart("shop", "checkout"), &ctx(&[])) {
        Verdict::Allowed(a) => {
            assert_eq!((a.risk(), a.approval()), (Risk::High, ApprovalRequirement::Two));
            assert_eq!(a.action(), &restart("shop", "checkout"));
        }
        other => panic!("{other:?}"),
    }
}
