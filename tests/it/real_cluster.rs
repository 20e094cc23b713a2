//! The cluster flow against a real Kubernetes cluster — opt-in, because none runs here.
//!
//! `MIMI_E2E_KUBECONFIG=~/.kube/config cargo test --test it real_cluster -- --ignored`
//! reads evidence for the pods of `MIMI_E2E_NAMESPACE` (default `default`) and dry-runs a restart of
//! `MIMI_E2E_DEPLOYMENT` there: nothing is changed. With `MIMI_E2E_ALLOW_WRITES=1` it also executes
//! the restart (approved by two test approvers) and verifies it. See docs/e2e.md.

use std::time::Duration;

use mimi::cluster::actions::ClusterActions;
use mimi::cluster::evidence::{Subject, SubjectKind, gather, render};
use mimi::cluster::verify::observe;
use mimi::cluster::{ClusterRead, KubeCluster, Labels};
use mimi::config::{EvidenceSettings, KubernetesSettings};
use mimi::domain::action::{Action, ActionSpec};
use mimi::domain::names::{NamespaceName, ObjectName};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::test]
#[ignore = "needs a real cluster: set MIMI_E2E_KUBECONFIG (and MIMI_E2E_DEPLOYMENT) and run with --ignored"]
async fn the_cluster_flow_against_a_real_cluster() {
    let kubeconfig = env("MIMI_E2E_KUBECONFIG").expect("MIMI_E2E_KUBECONFIG must name a kubeconfig");
    let namespace = env("MIMI_E2E_NAMESPACE").unwrap_or_else(|| "default".into());
    let settings = KubernetesSettings { kubeconfig: Some(kubeconfig.into()), ..Default::default() };
    let cluster = KubeCluster::connect(&settings).await.unwrap().expect("configured");
    println!("API server {}", cluster.version().await.expect("the API server answers"));
    assert!(cluster.caches_ready(Duration::from_secs(30)).await, "the watched caches fill");

    // Evidence for the namespace's pods (read-only).
    let pods = cluster.pods(Some(&namespace), &Labels::new()).await.unwrap();
    let subjects: Vec<Subject> = pods
        .iter()
        .take(3)
        .map(|p| Subject {
            kind: SubjectKind::Pod,
            namespace: Some(NamespaceName::parse(&namespace).unwrap()),
            name: ObjectName::parse(p.metadata.name.as_deref().unwrap()).unwrap(),
            container: None,
            via: "e2e".into(),
        })
        .collect();
    let evidence = gather(&cluster, &subjects, &EvidenceSettings::default()).await;
    println!("{}", render(&evidence, 4096));
    assert!(evidence.notes.iter().all(|n| !n.contains("could not read")), "{:?}", evidence.notes);

    // A dry-run restart: the API server validates it; nothing changes.
    let Some(deployment) = env("MIMI_E2E_DEPLOYMENT") else { return };
    let spec = ActionSpec {
        kind: "restart_deployment".into(),
        namespace: Some(namespace.clone()),
        name: deployment,
        params: Default::default(),
    };
    let restart = Action::from_spec(&spec).unwrap();
    let dry = cluster.dry_run(&restart).await.expect("the dry run is accepted");
    println!("dry run: {:?}", dry.changes);
    assert_eq!(dry.changes.len(), 1);
    if env("MIMI_E2E_ALLOW_WRITES").as_deref() != Some("1") {
        return;
    }
    let approved = crate::actions::approved_for_e2e(&restart);
    cluster.execute(&approved, &dry.snapshot).await.expect("the restart runs");
    for _ in 0..120 {
        let seen = observe(&cluster, &restart).await.unwrap();
        if seen.complete && seen.healthy {
            return;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    panic!("the restart did not complete within 10 minutes");
}
