//! Generated scenarios for benchmarks: many namespaces, deployments and ready pods.

use serde_json::json;

/// A cluster.yaml (JSON documents, which are YAML) with `ns` namespaces, each with `deploys`
/// deployments of `replicas` ready pods, spread over `nodes` nodes.
pub fn cluster_yaml(ns: usize, deploys: usize, replicas: usize, nodes: usize) -> String {
    let mut docs = Vec::new();
    for n in 0..nodes {
        docs.push(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": format!("node-{n}")},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}));
    }
    let mut pod_no = 0;
    for i in 0..ns {
        let namespace = format!("ns-{i}");
        docs.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}));
        for d in 0..deploys {
            let app = format!("app-{d}");
            let rs = format!("{app}-h{d}");
            docs.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": app, "namespace": namespace, "annotations": {"sandbox.mimi.dev/fixed-by": "restart"}},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                    "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "c", "image": "img:1"}]}}}}));
            docs.push(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": rs, "namespace": namespace, "labels": {"app": app, "pod-template-hash": format!("h{d}")},
                    "ownerReferences": [{"kind": "Deployment", "name": app, "controller": true}]},
                "spec": {"replicas": replicas}}));
            for r in 0..replicas {
                let node = pod_no % nodes;
                pod_no += 1;
                docs.push(json!({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": format!("{rs}-p{r}"), "namespace": namespace, "labels": {"app": app, "pod-template-hash": format!("h{d}")},
                        "ownerReferences": [{"kind": "ReplicaSet", "name": rs, "controller": true}]},
                    "spec": {"nodeName": format!("node-{node}"), "containers": [{"name": "c", "image": "img:1"}]},
                    "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                        "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0, "state": {"running": {}}}]}}));
            }
        }
    }
    docs.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n---\n")
}
