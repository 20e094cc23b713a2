use serde_json::json;

use super::*;
use crate::cluster::evidence::{Evidence, NodeFacts, PodFacts};
use crate::domain::analysis::AlertView;

fn input() -> AnalysisInput {
    let mut alert = AlertView {
        status: "firing".into(),
        labels: Default::default(),
        annotations: Default::default(),
        starts_at: String::new(),
    };
    alert.labels.insert("namespace".into(), "shop".into());
    alert.labels.insert("pod".into(), "checkout-6d8f7c9b4-q2x7m".into());
    let pod = PodFacts {
        namespace: "shop".into(),
        name: "checkout-6d8f7c9b4-q2x7m".into(),
        phase: "Running".into(),
        ready: false,
        node: Some("worker-1".into()),
        owners: vec!["ReplicaSet checkout-6d8f7c9b4".into(), "Deployment checkout".into()],
        conditions: vec![],
        containers: vec![],
    };
    let node = NodeFacts { name: "worker-1".into(), ready: "True".into(), unschedulable: false, conditions: vec![] };
    let evidence = Evidence { pods: vec![pod], nodes: vec![node], ..Default::default() };
    AnalysisInput { cluster: "prod".into(), alerts: vec![alert], evidence: Some(evidence), ..Default::default() }
}

fn run(raw: Vec<Value>, input: &AnalysisInput) -> (Vec<ProposedAction>, Vec<String>) {
    let mut flags = Vec::new();
    let kept = validate(&raw, input, &mut Cleaner::default(), &mut flags);
    (kept, flags)
}

fn proposal(kind: &str, ns: Option<&str>, name: &str, params: Value) -> Value {
    json!({"kind": kind, "namespace": ns, "name": name, "params": params, "reason": "because"})
}

#[test]
fn catalogue_actions_on_the_incidents_objects_are_kept_in_canonical_form() {
    let nulls = json!({"replicas": null, "to_revision": null});
    let raw = vec![
        proposal("restart_deployment", Some("shop"), "checkout", nulls.clone()),
        proposal("scale_deployment", Some("shop"), "checkout", json!({"replicas": 4, "to_revision": null})),
        proposal("delete_pod", Some("shop"), "checkout-6d8f7c9b4-q2x7m", nulls.clone()),
    ];
    let (kept, flags) = run(raw, &input());
    assert!(flags.is_empty(), "{flags:?}");
    assert_eq!(kept.len(), 3);
    assert_eq!(kept[0].action.params, Map::new(), "null parameters are gone");
    assert_eq!(kept[1].action.params["replicas"], 4);
    assert_eq!(kept[2].reason, "because");
}

#[test]
fn a_workload_named_only_by_its_pods_prefix_counts_without_evidence() {
    let mut i = input();
    i.evidence = None;
    let (kept, flags) = run(vec![proposal("restart_deployment", Some("shop"), "checkout", json!({}))], &i);
    assert_eq!(kept.len(), 1, "{flags:?}");
    let (kept, _) = run(vec![proposal("restart_deployment", Some("shop"), "check", json!({}))], &i);
    assert!(kept.is_empty(), "a mere prefix of a word is not the owner");
}

#[test]
fn each_dropped_proposal_says_why() {
    let cases: Vec<(Value, &str)> = vec![
        (json!("restart everything"), "malformed"),
        (
            json!({"kind": "exec", "namespace": "shop", "name": "checkout", "params": {}, "reason": "r"}),
            "not in the action catalogue",
        ),
        (proposal("restart_deployment", Some("shop"), "a;rm -rf /", json!({})), "not valid"),
        (proposal("scale_deployment", Some("shop"), "checkout", json!({"replicas": -1})), "replicas"),
        (proposal("scale_deployment", Some("shop"), "checkout", json!({"replicas": 0})), "1 to 10000"),
        (proposal("scale_deployment", Some("shop"), "checkout", json!({"replicas": 50000})), "1 to 10000"),
        (proposal("restart_deployment", Some("shop"), "checkout", json!({"force": true})), "not a parameter"),
        (proposal("restart_deployment", Some("payments"), "checkout", json!({})), "not named by the alerts"),
        (proposal("cordon_node", None, "worker-9", json!({})), "not named by the alerts"),
        (
            json!({"kind": "restart_deployment", "namespace": "shop", "name": "checkout", "command": "rm -rf /"}),
            "malformed",
        ),
    ];
    for (raw, why) in cases {
        let (kept, flags) = run(vec![raw.clone()], &input());
        assert!(kept.is_empty(), "{raw} was kept");
        assert_eq!(flags.len(), 1, "{raw}: {flags:?}");
        assert!(flags[0].contains(why), "{raw}: {flags:?} should say {why:?}");
    }
}

#[test]
fn the_alerts_allowed_actions_narrow_what_is_kept() {
    let mut i = input();
    i.allowed = Some(vec![ActionKind::DeletePod]);
    let (kept, flags) = run(vec![proposal("restart_deployment", Some("shop"), "checkout", json!({}))], &i);
    assert!(kept.is_empty());
    assert!(flags[0].contains("mimi_allowed_actions"), "{flags:?}");
}

#[test]
fn duplicates_collapse_and_at_most_three_are_kept() {
    let restart = proposal("restart_deployment", Some("shop"), "checkout", json!({}));
    let scale = |n: u32| proposal("scale_deployment", Some("shop"), "checkout", json!({"replicas": n}));
    let raw = vec![restart.clone(), restart, scale(2), scale(3), scale(4), scale(5)];
    let (kept, flags) = run(raw, &input());
    assert_eq!(kept.len(), MAX_PROPOSALS);
    assert_eq!(flags.len(), 1, "{flags:?}");
}

#[test]
fn reasons_are_cleaned() {
    let mut raw = proposal("restart_deployment", Some("shop"), "checkout", json!({}));
    raw["reason"] = json!("<!channel> see https://evil.example");
    let mut cleaner = Cleaner::default();
    let kept = validate(&[raw], &input(), &mut cleaner, &mut Vec::new());
    assert_eq!(kept[0].reason, "‹!channel› see https[:]//evil.example");
    assert!(!cleaner.flags().is_empty());
}
