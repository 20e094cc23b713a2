//! Table tests of the controllers: a small cluster, one action, the state it must settle in.

use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::super::object;
use super::super::ops;
use super::super::patch::PatchType;
use super::super::resources::{Kind, native};
use super::super::scenario::{Scenario, parse_cluster};
use super::super::seed;
use super::super::store::Cluster;
use super::{SimState, reconcile};

const CLUSTER: &str = r#"
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2}
status: {conditions: [{type: Ready, status: "True"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a, annotations: {sandbox.mimi.dev/fixed-by: FIX}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: "web:1"}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-aaaaa
  namespace: a
  labels: {app: web, pod-template-hash: aaaaa}
  ownerReferences: [{kind: Deployment, name: web, controller: true}]
spec: {replicas: 2}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-aaaaa-1
  namespace: a
  labels: {app: web, pod-template-hash: aaaaa}
  ownerReferences: [{kind: ReplicaSet, name: web-aaaaa, controller: true}]
spec: {nodeName: n1, containers: [{name: c, image: "web:1"}]}
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses: [{name: c, ready: false, restartCount: 4, state: {waiting: {reason: CrashLoopBackOff}}}]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-aaaaa-2
  namespace: a
  labels: {app: web, pod-template-hash: aaaaa}
  ownerReferences: [{kind: ReplicaSet, name: web-aaaaa, controller: true}]
spec: {nodeName: n2, containers: [{name: c, image: "web:1"}]}
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses: [{name: c, ready: false, restartCount: 4, state: {waiting: {reason: CrashLoopBackOff}}}]
"#;

fn now() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn cluster(fix: &str, ready_after: SignedDuration) -> Cluster {
    let text = CLUSTER.replace("FIX", fix);
    let docs = parse_cluster(Path::new("cluster.yaml"), &text).unwrap();
    let s = Scenario { dir: ".".into(), docs, logs: Vec::new() };
    seed::build(&s, SimState::new(ready_after), 1, now()).unwrap()
}

fn pods(c: &Cluster) -> Vec<Value> {
    c.list(Kind::Pod, Some("a")).iter().map(|p| (**p).clone()).collect()
}

fn ready_count(c: &Cluster) -> usize {
    pods(c).iter().filter(|p| object::pod_ready(p)).count()
}

fn restart() -> Value {
    json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "t"}}}}})
}

fn act(c: &mut Cluster, action: &str) {
    let d = native(Kind::Deployment);
    match action {
        "restart" => {
            ops::patch(c, now(), d, Some("a"), "web", PatchType::Strategic, &restart(), None, false).unwrap();
        }
        "scale" => {
            ops::patch(c, now(), d, Some("a"), "web", PatchType::Merge, &json!({"spec": {"replicas": 3}}), None, false)
                .unwrap();
        }
        "delete-pod" => {
            ops::delete(c, now(), native(Kind::Pod), Some("a"), "web-aaaaa-1", &Default::default()).unwrap();
        }
        other => panic!("{other}"),
    }
}

#[test]
fn the_fixed_by_annotation_decides_which_action_heals() {
    // (annotation, action, pods afterwards, ready pods afterwards)
    let cases = [
        ("restart", "restart", 2, 2),
        ("restart", "scale", 3, 0),
        ("restart", "delete-pod", 2, 0),
        ("scale", "scale", 3, 3),
        ("scale", "restart", 3, 0),
        ("delete-pod", "delete-pod", 2, 1),
        ("delete-pod", "restart", 3, 0),
        ("none", "restart", 3, 0),
    ];
    for (fix, action, count, ready) in cases {
        let mut c = cluster(fix, SignedDuration::ZERO);
        assert_eq!(ready_count(&c), 0);
        act(&mut c, action);
        assert_eq!((pods(&c).len(), ready_count(&c)), (count, ready), "fixed-by {fix}, action {action}");
    }
}

#[test]
fn a_stuck_rollout_keeps_the_old_pods_within_max_unavailable() {
    // 2 replicas: maxSurge 1 (25% rounded up), maxUnavailable 0 (rounded down), so a broken new
    // revision gets one surge pod and the old ReplicaSet keeps both of its pods.
    let mut c = cluster("none", SignedDuration::ZERO);
    act(&mut c, "restart");
    let rs = c.list(Kind::ReplicaSet, Some("a"));
    let replicas: Vec<(String, i64)> = rs.iter().map(|r| (object::name(r).to_string(), object::replicas(r))).collect();
    assert_eq!(replicas.len(), 2);
    assert!(replicas.contains(&("web-aaaaa".into(), 2)), "{replicas:?}");
    let d = c.get(Kind::Deployment, "a", "web").unwrap();
    assert_eq!(d["status"]["updatedReplicas"], 1);
    assert_eq!(d["status"]["replicas"], 3);
}

#[test]
fn reconcile_is_idempotent() {
    let mut c = cluster("restart", SignedDuration::ZERO);
    act(&mut c, "restart");
    let rv = c.rv();
    reconcile(&mut c, now());
    assert_eq!(c.rv(), rv, "a settled cluster does not change");
}

#[test]
fn pods_start_after_the_readiness_delay() {
    let mut c = cluster("restart", SignedDuration::from_secs(2));
    act(&mut c, "restart");
    let starting = pods(&c)
        .into_iter()
        .filter(|p| p.pointer("/status/containerStatuses/0/state/waiting/reason") == Some(&json!("ContainerCreating")))
        .count();
    assert_eq!(starting, 1, "one surge pod is creating");
    assert_eq!(c.sim.next_deadline(), Some(now() + SignedDuration::from_secs(2)));
    reconcile(&mut c, now() + SignedDuration::from_secs(1));
    assert_eq!(ready_count(&c), 0);
    for s in 2..6 {
        reconcile(&mut c, now() + SignedDuration::from_secs(s * 2));
    }
    assert_eq!((pods(&c).len(), ready_count(&c)), (2, 2));
}

#[test]
fn a_cordoned_node_gets_no_new_pods_and_unschedulable_pods_wait() {
    let mut c = cluster("delete-pod", SignedDuration::ZERO);
    for n in ["n1", "n2"] {
        ops::patch(
            &mut c,
            now(),
            native(Kind::Node),
            None,
            n,
            PatchType::Strategic,
            &json!({"spec": {"unschedulable": true}}),
            None,
            false,
        )
        .unwrap();
    }
    act(&mut c, "delete-pod");
    let pending: Vec<Value> = pods(&c).into_iter().filter(|p| p.pointer("/spec/nodeName").is_none()).collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(object::condition_status(&pending[0], "PodScheduled"), Some("False"));
    ops::patch(
        &mut c,
        now(),
        native(Kind::Node),
        None,
        "n2",
        PatchType::Merge,
        &json!({"spec": {"unschedulable": null}}),
        None,
        false,
    )
    .unwrap();
    let placed = c.get(Kind::Pod, "a", object::name(&pending[0])).unwrap();
    assert_eq!(placed["spec"]["nodeName"], "n2");
    assert!(object::pod_ready(placed));
}

#[test]
fn deleting_a_deployment_collects_its_replicasets_and_pods() {
    let mut c = cluster("none", SignedDuration::ZERO);
    ops::delete(&mut c, now(), native(Kind::Deployment), Some("a"), "web", &Default::default()).unwrap();
    assert_eq!(c.count(Kind::ReplicaSet), 0);
    assert_eq!(c.count(Kind::Pod), 0);
}
