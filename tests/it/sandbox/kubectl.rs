//! The real kubectl against the sandbox's kubeconfig: a client nobody here wrote.

use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, ListParams};
use kube::{Api, ResourceExt};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::support::{api_error_code, kubectl_command, ready, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_all_namespaces_and_deployments_as_json() {
    let env = start("oomkilled-checkout").await;
    let out = env.kubectl_ok(&["get", "pods", "-A"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("NAMESPACE") && lines[0].contains("STATUS"), "{out}");
    assert!(out.contains("checkout-6d8f7c9b4-q2x7m") && out.contains("CrashLoopBackOff"), "{out}");
    assert_eq!(lines.len(), 3, "{out}");

    let json: Value =
        serde_json::from_str(&env.kubectl_ok(&["get", "deploy", "-n", "shop", "-o", "json"]).await).unwrap();
    assert_eq!(json["kind"], "List");
    let d = &json["items"][0];
    assert_eq!((d["kind"].as_str(), d["metadata"]["name"].as_str()), (Some("Deployment"), Some("checkout")));
    assert_eq!(d["status"]["readyReplicas"], 1);
    let one: Value =
        serde_json::from_str(&env.kubectl_ok(&["get", "deploy", "checkout", "-n", "shop", "-o", "json"]).await)
            .unwrap();
    assert_eq!(one["spec"]["replicas"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_and_previous_logs() {
    let env = start("crashloop-payments").await;
    let cur = env.kubectl_ok(&["logs", "-n", "pay", "payments-7c9d8b6f5-abcde"]).await;
    assert!(cur.contains("connecting to postgres") && !cur.contains("FATAL"), "{cur}");
    let prev = env.kubectl_ok(&["logs", "-n", "pay", "payments-7c9d8b6f5-abcde", "--previous"]).await;
    assert!(prev.contains("FATAL cannot start without a database connection"), "{prev}");
    let tail = env.kubectl_ok(&["logs", "-n", "pay", "payments-7c9d8b6f5-abcde", "--previous", "--tail=1"]).await;
    assert_eq!(tail.lines().count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_restart_then_rollout_status_reports_success() {
    let env = start("crashloop-payments").await;
    let out = env.kubectl_ok(&["rollout", "restart", "deployment/payments", "-n", "pay"]).await;
    assert!(out.contains("restarted"), "{out}");
    let status = env.kubectl_ok(&["rollout", "status", "deployment/payments", "-n", "pay", "--timeout=20s"]).await;
    assert!(status.contains("successfully rolled out"), "{status}");
    let rs: Api<ReplicaSet> = env.api("pay");
    let sets = rs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(sets.len(), 2);
    let d: Api<Deployment> = env.api("pay");
    let template_ann = d.get("payments").await.unwrap().spec.template.metadata.unwrap().annotations.unwrap();
    assert!(template_ann.contains_key("kubectl.kubernetes.io/restartedAt"));
    let pods = env.pods("pay", "app=payments").await;
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(ready));
    assert!(pods.iter().all(|p| !p.name_any().starts_with("payments-7c9d8b6f5-")), "old pods retired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_changes_the_replica_count() {
    let env = start("oomkilled-checkout").await;
    env.kubectl_ok(&["scale", "deployment/checkout", "-n", "shop", "--replicas=3"]).await;
    let d: Api<Deployment> = env.api("shop");
    assert_eq!(d.get("checkout").await.unwrap().spec.replicas, Some(3));
    assert_eq!(env.pods("shop", "app=checkout").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cordon_marks_the_node_unschedulable_and_new_pods_avoid_it() {
    let env = start("crashloop-payments").await;
    env.kubectl_ok(&["cordon", "node-a"]).await;
    let nodes: Api<Node> = Api::all(env.client.clone());
    let node = nodes.get("node-a").await.unwrap();
    assert_eq!(node.spec.as_ref().unwrap().unschedulable, Some(true));
    assert!(node.spec.unwrap().taints.unwrap().iter().any(|t| t.key == "node.kubernetes.io/unschedulable"));
    let out = env.kubectl_ok(&["get", "nodes"]).await;
    assert!(out.contains("SchedulingDisabled"), "{out}");
    env.kubectl_ok(&["rollout", "restart", "deployment/payments", "-n", "pay"]).await;
    let pods = env.pods("pay", "app=payments").await;
    assert!(
        pods.iter().all(|p| p.spec.as_ref().unwrap().node_name.as_deref() == Some("node-b")),
        "no new pod lands on the cordoned node"
    );
    env.kubectl_ok(&["uncordon", "node-a"]).await;
    assert_ne!(nodes.get("node-a").await.unwrap().spec.unwrap().unschedulable, Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_ignoring_daemonsets_evicts_through_the_budget_and_reschedules() {
    let env = start("node-notready-orders").await;
    let out = env.kubectl_ok(&["drain", "worker-2", "--ignore-daemonsets", "--timeout=20s"]).await;
    assert!(out.contains("drained"), "{out}");
    let nodes: Api<Node> = Api::all(env.client.clone());
    assert_eq!(nodes.get("worker-2").await.unwrap().spec.unwrap().unschedulable, Some(true));
    let pods = env.pods("orders", "app=orders-api").await;
    assert_eq!(pods.len(), 3);
    assert!(pods.iter().all(|p| p.spec.as_ref().unwrap().node_name.as_deref() != Some("worker-2")));
    assert!(pods.iter().all(ready));
    let ds_pods: Api<Pod> = env.api("monitoring");
    let on_node = ds_pods.list(&ListParams::default().fields("spec.nodeName=worker-2")).await.unwrap();
    assert_eq!(on_node.items.len(), 1, "DaemonSet pods stay on a drained node");
    let ds: Api<DaemonSet> = env.api("monitoring");
    assert_eq!(ds.get("node-exporter").await.unwrap().status.unwrap().desired_number_scheduled, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_of_a_healthy_node_is_blocked_by_the_budget() {
    let env = start("node-notready-orders").await;
    let out = env.kubectl(&["drain", "worker-1", "--ignore-daemonsets", "--timeout=3s"]).await;
    assert!(!out.status.success(), "the budget must block the drain");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("disruption budget"), "{stderr}");
    let pods: Api<Pod> = env.api("orders");
    assert!(pods.get("orders-api-84d9c7b6f-x7k2p").await.is_ok(), "the protected pod is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_pod_is_replaced_by_its_replicaset() {
    let env = start("oomkilled-checkout").await;
    let out = env.kubectl_ok(&["delete", "pod", "-n", "shop", "checkout-6d8f7c9b4-q2x7m"]).await;
    assert!(out.contains("deleted"), "{out}");
    let pods: Api<Pod> = env.api("shop");
    assert_eq!(api_error_code(&pods.get("checkout-6d8f7c9b4-q2x7m").await.unwrap_err()), 404);
    assert_eq!(env.pods("shop", "app=checkout").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_watch_reports_a_deletion() {
    let env = start("oomkilled-checkout").await;
    let mut child = kubectl_command(&env, &["get", "pods", "-n", "shop", "-w", "--output-watch-events"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap().unwrap().unwrap();
    assert!(first.contains("EVENT") || first.contains("ADDED"), "{first}");
    let pods: Api<Pod> = env.api("shop");
    pods.delete("checkout-6d8f7c9b4-h8k2p", &DeleteParams::default()).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    loop {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .expect("watch reported the deletion in time")
            .unwrap()
            .unwrap();
        seen.push(line.clone());
        if line.contains("DELETED") && line.contains("checkout-6d8f7c9b4-h8k2p") {
            break;
        }
    }
    child.kill().await.ok();
}
