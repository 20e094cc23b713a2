//! kube-rs writes against the sandbox: preconditions, eviction through budgets, dry run.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use serde_json::json;

use super::support::{api_error_code, ready, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_honours_uid_and_resource_version_preconditions() {
    let env = start("oomkilled-checkout").await;
    let pods: Api<Pod> = env.api("shop");
    let name = "checkout-6d8f7c9b4-q2x7m";
    let pod = pods.get(name).await.unwrap();
    let wrong_uid = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some("00000000-0000-4000-8000-000000000000".into()),
            resource_version: None,
        }),
        ..Default::default()
    };
    assert_eq!(api_error_code(&pods.delete(name, &wrong_uid).await.unwrap_err()), 409);
    let stale_rv = DeleteParams {
        preconditions: Some(Preconditions { uid: None, resource_version: Some("1".into()) }),
        ..Default::default()
    };
    assert_eq!(api_error_code(&pods.delete(name, &stale_rv).await.unwrap_err()), 409);
    assert!(pods.get(name).await.is_ok(), "a failed precondition deletes nothing");
    let right = DeleteParams {
        preconditions: Some(Preconditions {
            uid: pod.metadata.uid.clone(),
            resource_version: pod.metadata.resource_version.clone(),
        }),
        ..Default::default()
    };
    pods.delete(name, &right).await.unwrap();
    assert_eq!(api_error_code(&pods.get(name).await.unwrap_err()), 404);
    assert_eq!(env.pods("shop", "app=checkout").await.len(), 2, "the ReplicaSet replaced the deleted pod");
}

async fn evict(pods: &Api<Pod>, name: &str, dry_run: bool) -> Result<kube::core::Status, kube::Error> {
    // The Eviction body is built by hand: kube's EvictParams misnames deleteOptions.
    let mut body = json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}});
    if dry_run {
        body["deleteOptions"] = json!({"dryRun": ["All"]});
    }
    pods.create_subresource("eviction", name, &PostParams::default(), &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eviction_is_refused_with_429_when_a_budget_blocks_it() {
    let env = start("node-notready-orders").await;
    // kube retries 429 with backoff for minutes by default (a real API server sends no
    // Retry-After for a PDB refusal); a caller that wants the refusal turns that off.
    let mut config = env.sandbox.config().await.unwrap();
    config.default_retry = false;
    let pods: Api<Pod> = Api::namespaced(kube::Client::try_from(config).unwrap(), "orders");
    // Two of three pods are ready and the budget needs two: a ready pod cannot go.
    let err = evict(&pods, "orders-api-84d9c7b6f-x7k2p", false).await.unwrap_err();
    assert_eq!(api_error_code(&err), 429);
    let kube::Error::Api(status) = &err else { unreachable!() };
    assert_eq!(status.reason, "TooManyRequests");
    assert!(pods.get("orders-api-84d9c7b6f-x7k2p").await.is_ok());
    // The unready pod on the dead node can go: the budget is still met without it.
    evict(&pods, "orders-api-84d9c7b6f-m4q9z", false).await.unwrap();
    assert_eq!(api_error_code(&pods.get("orders-api-84d9c7b6f-m4q9z").await.unwrap_err()), 404);
    let replicas = env.pods("orders", "app=orders-api").await;
    assert_eq!(replicas.len(), 3);
    assert!(replicas.iter().all(ready), "the replacement (fixed-by: delete-pod) is healthy");
    assert!(
        replicas.iter().all(|p| p.spec.as_ref().unwrap().node_name.as_deref() != Some("worker-2")),
        "nothing is scheduled on the NotReady node"
    );
    // Now three are ready: one disruption is allowed.
    evict(&pods, "orders-api-84d9c7b6f-x7k2p", false).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eviction_without_a_budget_deletes_the_pod() {
    let env = start("oomkilled-checkout").await;
    let pods: Api<Pod> = env.api("shop");
    evict(&pods, "checkout-6d8f7c9b4-h8k2p", false).await.unwrap();
    assert_eq!(api_error_code(&pods.get("checkout-6d8f7c9b4-h8k2p").await.unwrap_err()), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_validates_every_write_and_changes_nothing() {
    let env = start("oomkilled-checkout").await;
    let rv = env.sandbox.resource_version();
    let deploys: Api<Deployment> = env.api("shop");
    let pods: Api<Pod> = env.api("shop");
    let nodes: Api<Node> = Api::all(env.client.clone());
    let dry = PatchParams::default().dry_run();
    let answered = deploys.patch("checkout", &dry, &Patch::Merge(json!({"spec": {"replicas": 5}}))).await.unwrap();
    assert_eq!(answered.spec.replicas, Some(5), "the answer is the would-be object");
    let restart =
        json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "x"}}}}});
    deploys.patch("checkout", &dry, &Patch::Strategic(restart)).await.unwrap();
    nodes.patch("worker-1", &dry, &Patch::Strategic(json!({"spec": {"unschedulable": true}}))).await.unwrap();
    pods.delete("checkout-6d8f7c9b4-q2x7m", &DeleteParams { dry_run: true, ..Default::default() }).await.unwrap();
    evict(&pods, "checkout-6d8f7c9b4-h8k2p", true).await.unwrap();
    let invalid = deploys.patch("checkout", &dry, &Patch::Merge(json!({"spec": {"replicas": -1}}))).await.unwrap_err();
    assert_eq!(api_error_code(&invalid), 422, "dry run still validates");

    assert_eq!(env.sandbox.resource_version(), rv, "no write happened");
    assert_eq!(deploys.get("checkout").await.unwrap().spec.replicas, Some(2));
    assert_eq!(pods.list(&ListParams::default()).await.unwrap().items.len(), 2);
    assert_eq!(nodes.get("worker-1").await.unwrap().spec.and_then(|s| s.unschedulable), None);
}
