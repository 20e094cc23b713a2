//! The controller simulation: `sandbox.mimi.dev/fixed-by` decides whether an action heals.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use mimi::sandbox::SandboxOptions;
use serde_json::json;

use super::support::{eventually, ready, start, start_with, waiting_reason};

fn restart_patch() -> Patch<serde_json::Value> {
    Patch::Strategic(
        json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-20T10:10:00Z"}}}}}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loop_fixed_by_restart_heals_after_a_rollout_restart() {
    let env = start("crashloop-payments").await;
    let deploys: Api<Deployment> = env.api("pay");
    deploys.patch("payments", &PatchParams::default(), &restart_patch()).await.unwrap();
    let pods = env.pods("pay", "app=payments").await;
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(ready), "{pods:?}");
    let st = deploys.get("payments").await.unwrap().status.unwrap();
    assert_eq!((st.ready_replicas, st.available_replicas, st.unavailable_replicas), (Some(2), Some(2), None));
    let logs = env.api::<Pod>("pay").logs(&pods[0].name_any(), &Default::default()).await.unwrap();
    assert!(logs.contains("started"), "a healthy pod logs its start: {logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loop_fixed_by_restart_stays_broken_after_a_scale() {
    let env = start("crashloop-payments").await;
    let deploys: Api<Deployment> = env.api("pay");
    deploys.patch("payments", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 3}}))).await.unwrap();
    let pods = env.pods("pay", "app=payments").await;
    assert_eq!(pods.len(), 3);
    assert!(pods.iter().all(|p| !ready(p)));
    assert!(pods.iter().all(|p| waiting_reason(p).as_deref() == Some("CrashLoopBackOff")), "new pods fail as before");
    let new = pods
        .iter()
        .find(|p| !["payments-7c9d8b6f5-abcde", "payments-7c9d8b6f5-fghij"].contains(&p.name_any().as_str()))
        .unwrap();
    let prev = env
        .api::<Pod>("pay")
        .logs(&new.name_any(), &kube::api::LogParams { previous: true, ..Default::default() })
        .await
        .unwrap();
    assert!(prev.contains("FATAL"), "the failing pod's logs are the scenario's: {prev}");
    assert_eq!(deploys.get("payments").await.unwrap().status.unwrap().ready_replicas, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_image_rollout_is_stuck_until_rolled_back() {
    let env = start("bad-image-frontend").await;
    let deploys: Api<Deployment> = env.api("web");
    // A restart keeps the bad image: the new pod fails the same way and the old pods keep serving.
    deploys.patch("frontend", &PatchParams::default(), &restart_patch()).await.unwrap();
    let broken: Vec<Pod> = env.pods("web", "app=frontend").await.into_iter().filter(|p| !ready(p)).collect();
    assert_eq!(broken.len(), 1);
    assert_eq!(waiting_reason(&broken[0]).as_deref(), Some("ImagePullBackOff"));
    assert_eq!(
        env.pods("web", "app=frontend").await.iter().filter(|p| ready(p)).count(),
        2,
        "maxUnavailable 0 keeps the old pods"
    );

    // `kubectl rollout undo --to-revision=1` writes revision 1's template back.
    env.kubectl_ok(&["rollout", "undo", "deployment/frontend", "-n", "web", "--to-revision=1"]).await;
    let rs: Api<ReplicaSet> = env.api("web");
    let rev1 = rs.get("frontend-6c8d7f9b5").await.unwrap();
    assert_eq!(
        rev1.annotations().get("deployment.kubernetes.io/revision").map(String::as_str),
        Some("4"),
        "the old ReplicaSet gets the next revision"
    );
    let pods = env.pods("web", "app=frontend").await;
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(ready));
    assert!(
        pods.iter().all(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref()
            == Some("registry.example.com/web/frontend:2.3.1"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_statefulset_pod_recreates_it_under_the_same_name() {
    let env = start("bad-image-frontend").await;
    let pods: Api<Pod> = env.api("web");
    let before = pods.get("session-cache-1").await.unwrap();
    pods.delete("session-cache-1", &DeleteParams::default()).await.unwrap();
    let after = pods.get("session-cache-1").await.unwrap();
    assert_ne!(before.uid(), after.uid());
    assert!(ready(&after));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_takes_the_configured_time() {
    let opts = SandboxOptions { ready_after: Duration::from_millis(1500), ..SandboxOptions::default() };
    let env = start_with("crashloop-payments", opts).await;
    let deploys: Api<Deployment> = env.api("pay");
    deploys.patch("payments", &PatchParams::default(), &restart_patch()).await.unwrap();
    let rs: Api<ReplicaSet> = env.api("pay");
    let new = rs
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|r| r.name_any() != "payments-7c9d8b6f5")
        .unwrap();
    let hash = new.labels()["pod-template-hash"].clone();
    let starting = env.pods("pay", &format!("pod-template-hash={hash}")).await;
    assert!(
        !starting.is_empty() && starting.iter().all(|p| waiting_reason(p).as_deref() == Some("ContainerCreating")),
        "{starting:?}"
    );
    eventually("the restarted deployment is fully available", || {
        let deploys = deploys.clone();
        async move {
            let st = deploys.get("payments").await.unwrap().status.unwrap();
            st.available_replicas == Some(2) && st.updated_replicas == Some(2) && st.replicas == Some(2)
        }
    })
    .await;
}
