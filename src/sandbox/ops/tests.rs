//! Table tests of the operations' API-server rules, without HTTP.

use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::super::error::ApiError;
use super::super::patch::PatchType;
use super::super::resources::{Kind, native};
use super::super::scenario::{Scenario, parse_cluster};
use super::super::seed;
use super::super::sim::SimState;
use super::super::store::Cluster;
use super::{DeleteOptions, ListOptions, create, delete, evict, list, patch, update};

const CLUSTER: &str = r#"
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: a, labels: {app: x}}
spec: {nodeName: n1, containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p2, namespace: a, labels: {app: x}}
spec: {nodeName: n1, containers: [{name: c, image: i}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: x, namespace: a}
spec: {minAvailable: 1, selector: {matchLabels: {app: x}}}
"#;

fn now() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn cluster() -> Cluster {
    let docs = parse_cluster(Path::new("cluster.yaml"), CLUSTER).unwrap();
    seed::build(&Scenario { dir: ".".into(), docs, logs: Vec::new() }, SimState::new(SignedDuration::ZERO), 1, now())
        .unwrap()
}

#[test]
fn writes_answer_the_codes_a_real_api_server_answers() {
    let pod = native(Kind::Pod);
    type Op = Box<dyn Fn(&mut Cluster) -> Result<(), ApiError>>;
    let cases: Vec<(&str, Op, u16)> = vec![
        (
            "create an existing pod",
            Box::new(|c| {
                create(
                    c,
                    now(),
                    pod,
                    Some("a"),
                    json!({"metadata": {"name": "p1"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}),
                    false,
                )
                .map(drop)
            }),
            409,
        ),
        (
            "create in a missing namespace",
            Box::new(|c| {
                create(
                    c,
                    now(),
                    pod,
                    Some("zz"),
                    json!({"metadata": {"name": "q"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}),
                    false,
                )
                .map(drop)
            }),
            404,
        ),
        (
            "create without containers",
            Box::new(|c| {
                create(c, now(), pod, Some("a"), json!({"metadata": {"name": "q"}, "spec": {"containers": []}}), false)
                    .map(drop)
            }),
            422,
        ),
        (
            "update with a stale resourceVersion",
            Box::new(|c| {
                let mut p = (**c.get(Kind::Pod, "a", "p1").unwrap()).clone();
                p["metadata"]["resourceVersion"] = json!("1");
                update(c, now(), pod, Some("a"), "p1", p, None, false).map(drop)
            }),
            409,
        ),
        (
            "rename through the URL",
            Box::new(|c| {
                let mut p = (**c.get(Kind::Pod, "a", "p1").unwrap()).clone();
                p["metadata"]["name"] = json!("p9");
                update(c, now(), pod, Some("a"), "p1", p, None, false).map(drop)
            }),
            400,
        ),
        (
            "change a pod's node",
            Box::new(|c| {
                patch(
                    c,
                    now(),
                    pod,
                    Some("a"),
                    "p1",
                    PatchType::Merge,
                    &json!({"spec": {"restartPolicy": "Never"}}),
                    None,
                    false,
                )
                .map(drop)
            }),
            422,
        ),
        (
            "change a pod's image",
            Box::new(|c| {
                patch(
                    c,
                    now(),
                    pod,
                    Some("a"),
                    "p1",
                    PatchType::Strategic,
                    &json!({"spec": {"containers": [{"name": "c", "image": "j"}]}}),
                    None,
                    false,
                )
                .map(drop)
            }),
            200,
        ),
        (
            "delete a missing pod",
            Box::new(|c| delete(c, now(), pod, Some("a"), "nope", &DeleteOptions::default()).map(drop)),
            404,
        ),
        ("evict within the budget", Box::new(|c| evict(c, now(), "a", "p1", &json!({}), false)), 200),
        (
            "evict beyond the budget",
            Box::new(|c| {
                evict(c, now(), "a", "p1", &json!({}), false)?;
                evict(c, now(), "a", "p2", &json!({}), false)
            }),
            429,
        ),
        (
            "evict with a mismatched body name",
            Box::new(|c| evict(c, now(), "a", "p1", &json!({"metadata": {"name": "p2"}}), false)),
            400,
        ),
    ];
    for (name, op, code) in cases {
        let mut c = cluster();
        let got = op(&mut c).map_or_else(|e| e.code(), |()| 200);
        assert_eq!(got, code, "{name}");
    }
}

#[test]
fn status_and_spec_are_written_through_their_own_endpoints() {
    let mut c = cluster();
    let pod = native(Kind::Pod);
    let p = patch(
        &mut c,
        now(),
        pod,
        Some("a"),
        "p1",
        PatchType::Merge,
        &json!({"status": {"phase": "Failed"}}),
        None,
        false,
    )
    .unwrap();
    assert_eq!(p["status"]["phase"], "Running", "the main resource ignores status");
    let p = patch(
        &mut c,
        now(),
        pod,
        Some("a"),
        "p1",
        PatchType::Merge,
        &json!({"status": {"phase": "Failed"}}),
        Some(super::super::resources::Sub::Status),
        false,
    )
    .unwrap();
    assert_eq!(p["status"]["phase"], "Failed");
}

#[test]
fn lists_filter_and_page() {
    let c = cluster();
    let pod = native(Kind::Pod);
    let all = list(&c, pod, None, &ListOptions::default()).unwrap();
    assert_eq!(all.items.len(), 2);
    let opts = ListOptions { limit: Some(1), ..Default::default() };
    let first = list(&c, pod, Some("a"), &opts).unwrap();
    assert_eq!((first.items.len(), first.remaining), (1, Some(1)));
    let next = ListOptions { continue_token: first.continue_token, ..opts };
    let second = list(&c, pod, Some("a"), &next).unwrap();
    assert_eq!(second.items[0]["metadata"]["name"], "p2");
    assert!(second.continue_token.is_none());
}
