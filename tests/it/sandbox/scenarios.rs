//! Scenario loading: every shipped scenario loads; bad input names file, document and field.

use std::path::{Path, PathBuf};

use mimi::sandbox::{Sandbox, SandboxOptions};

fn scenario_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = Vec::new();
    // The project's own scenarios always; the workspace's shared ones too when this checkout sits
    // beside them (a CI checkout may not).
    let shared = root.join("../shared/scenarios");
    for parent in [root.join("tests/scenarios")].into_iter().chain(shared.is_dir().then_some(shared)) {
        let entries = std::fs::read_dir(&parent).unwrap_or_else(|e| panic!("cannot read {}: {e}", parent.display()));
        dirs.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.join("cluster.yaml").exists()));
    }
    dirs
}

#[tokio::test]
async fn every_scenario_loads() {
    let dirs = scenario_dirs();
    assert!(dirs.len() >= 4, "{dirs:?}");
    for dir in dirs {
        let sb = Sandbox::start(&dir, SandboxOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{}: {e:#}", dir.display()));
        let pods = sb.client().await.unwrap();
        let list = kube::Api::<k8s_openapi::api::core::v1::Pod>::all(pods).list(&Default::default()).await.unwrap();
        assert!(!list.items.is_empty(), "{}", dir.display());
    }
}

async fn load_error(cluster: &str, logs: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cluster.yaml"), cluster).unwrap();
    for (path, text) in logs {
        let p = dir.path().join("logs").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    match Sandbox::start(dir.path(), SandboxOptions::default()).await {
        Ok(_) => panic!("expected an error for {cluster}"),
        Err(e) => format!("{e:#}"),
    }
}

const NODE: &str = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n";
const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {nodeName: n1, containers: [{name: c, image: i}]}\n";

#[tokio::test]
async fn bad_scenarios_name_the_file_document_and_field() {
    type Case = (String, Vec<(&'static str, &'static str)>, &'static str);
    let cases: Vec<Case> = vec![
        (format!("{NODE}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d, namespace: a}}\nspec: {{replicas: 1, selector: {{matchLabels: {{app: x}}}}, template: {{metadata: {{labels: {{app: y}}}}, spec: {{containers: [{{name: c, image: i}}]}}}}}}\n"),
         vec![], "cluster.yaml: document 2 (Deployment a/d): spec.template.metadata.labels"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {nodeName: missing, containers: [{name: c, image: i}]}\n".into(),
         vec![], "document 1 (Pod a/p): spec.nodeName: no Node \"missing\""),
        (format!("{NODE}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: a, ownerReferences: [{{kind: ReplicaSet, name: gone, controller: true}}]}}\nspec: {{containers: [{{name: c, image: i}}]}}\n"),
         vec![], "document 2 (Pod a/p): metadata.ownerReferences[0].name"),
        (format!("{NODE}---\n{POD}"), vec![("a/p/sidecar.log", "x")], "logs/a/p/sidecar.log: Pod a/p has no container \"sidecar\""),
        (format!("{NODE}---\n{POD}"), vec![("a/q/c.log", "x")], "logs/a/q/c.log: no Pod a/q in cluster.yaml"),
        (format!("{NODE}---\n{POD}---\n{POD}"), vec![], "document 3 (Pod a/p): metadata.name: declared twice"),
        ("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec: {unschedulable: maybe}\n".into(), vec![], "document 1 (Node n1): spec.unschedulable: invalid type"),
    ];
    for (cluster, logs, want) in cases {
        let err = load_error(&cluster, &logs).await;
        assert!(err.contains(want), "got {err:?}, want {want:?}");
    }
}
