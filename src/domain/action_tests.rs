use serde_json::json;

use super::*;

fn spec(v: serde_json::Value) -> ActionSpec {
    serde_json::from_value(v).unwrap()
}

#[test]
fn every_catalogue_kind_parses_and_round_trips() {
    let cases = [
        json!({"kind": "restart_deployment", "namespace": "shop", "name": "checkout"}),
        json!({"kind": "restart_statefulset", "namespace": "db", "name": "pg"}),
        json!({"kind": "restart_daemonset", "namespace": "kube-system", "name": "fluentd"}),
        json!({"kind": "scale_deployment", "namespace": "shop", "name": "checkout", "params": {"replicas": 4}}),
        json!({"kind": "scale_statefulset", "namespace": "db", "name": "pg", "params": {"replicas": 3}}),
        json!({"kind": "rollback_deployment", "namespace": "shop", "name": "checkout"}),
        json!({"kind": "rollback_deployment", "namespace": "shop", "name": "checkout", "params": {"to_revision": 3}}),
        json!({"kind": "delete_pod", "namespace": "shop", "name": "checkout-6d8f7c9b4-q2x7m"}),
        json!({"kind": "cordon_node", "name": "worker-1"}),
        json!({"kind": "uncordon_node", "name": "worker-1"}),
        json!({"kind": "drain_node", "name": "worker-1"}),
    ];
    for case in cases {
        let s = spec(case.clone());
        let action = Action::from_spec(&s).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(action.kind().as_str(), s.kind);
        assert_eq!(action.to_spec(), s, "{case}");
    }
}

#[test]
fn e03_anything_outside_the_catalogue_is_refused() {
    let cases = [
        (json!({"kind": "exec", "namespace": "shop", "name": "checkout"}), "not an action"),
        (json!({"kind": "apply_url", "namespace": "shop", "name": "x"}), "not an action"),
        (json!({"kind": "delete_namespace", "name": "prod"}), "not an action"),
        (json!({"kind": "Restart_Deployment", "namespace": "shop", "name": "checkout"}), "not an action"),
        (json!({"kind": "restart_deployment", "name": "checkout"}), "needs a namespace"),
        (json!({"kind": "restart_deployment", "namespace": "", "name": "checkout"}), "needs a namespace"),
        (json!({"kind": "drain_node", "namespace": "shop", "name": "worker-1"}), "no namespace"),
        (json!({"kind": "scale_deployment", "namespace": "shop", "name": "checkout"}), "is required"),
        (
            json!({"kind": "scale_deployment", "namespace": "shop", "name": "c", "params": {"replicas": -1}}),
            "whole number",
        ),
        (
            json!({"kind": "scale_deployment", "namespace": "shop", "name": "c", "params": {"replicas": 2.5}}),
            "whole number",
        ),
        (
            json!({"kind": "scale_deployment", "namespace": "shop", "name": "c", "params": {"replicas": "3"}}),
            "whole number",
        ),
        (
            json!({"kind": "scale_deployment", "namespace": "shop", "name": "c", "params": {"replicas": 1e12}}),
            "whole number",
        ),
        (
            json!({"kind": "restart_deployment", "namespace": "shop", "name": "c", "params": {"command": "rm -rf /"}}),
            "not a parameter",
        ),
        (
            json!({"kind": "rollback_deployment", "namespace": "shop", "name": "c", "params": {"to_revision": 0}}),
            "above 0",
        ),
        (json!({"kind": "delete_pod", "namespace": "shop", "name": "$(id)"}), "not valid"),
        (json!({"kind": "delete_pod", "namespace": "../etc", "name": "x"}), "not valid"),
    ];
    for (case, expected) in cases {
        let err = Action::from_spec(&spec(case.clone())).expect_err(&case.to_string()).to_string();
        assert!(err.contains(expected), "{case}: {err:?} should mention {expected:?}");
    }
}

#[test]
fn risks_follow_the_catalogue_table() {
    use ActionKind::*;
    for kind in ActionKind::ALL {
        let expected = match kind {
            RollbackDeployment | CordonNode | UncordonNode | DrainNode => Risk::High,
            _ => Risk::Medium,
        };
        assert_eq!(kind.default_risk(), expected, "{kind}");
        assert_eq!(ActionKind::parse(kind.as_str()), Some(kind));
    }
}

#[test]
fn targets_name_kind_namespace_and_object() {
    let a = Action::from_spec(&spec(
        json!({"kind": "scale_statefulset", "namespace": "db", "name": "pg", "params": {"replicas": 2}}),
    ))
    .unwrap();
    let t = a.target();
    assert_eq!((t.kind, t.namespace.unwrap().as_str(), t.name.as_str()), (TargetKind::StatefulSet, "db", "pg"));
    let d = Action::from_spec(&spec(json!({"kind": "drain_node", "name": "worker-2"}))).unwrap();
    assert_eq!(d.target().namespace, None);
    assert_eq!(d.target().kind, TargetKind::Node);
}
