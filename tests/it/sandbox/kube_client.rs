//! kube-rs against the sandbox: the requests Mimi's cluster module makes.

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, ResourceExt};
use serde_json::json;

use super::support::{api_error_code, eventually, ready, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_get_and_a_reflector_see_the_scenario_and_every_change() {
    let env = start("oomkilled-checkout").await;
    let pods: Api<Pod> = env.api("shop");
    let all: Api<Pod> = Api::all(env.client.clone());
    assert_eq!(all.list(&ListParams::default()).await.unwrap().items.len(), 2);
    let p = pods.get("checkout-6d8f7c9b4-q2x7m").await.unwrap();
    assert_eq!(p.spec.unwrap().node_name.as_deref(), Some("worker-1"));
    let on_node = all.list(&ListParams::default().fields("spec.nodeName=worker-1,status.phase=Running")).await.unwrap();
    assert_eq!(on_node.items.len(), 2);
    let paged = all.list(&ListParams::default().limit(1)).await.unwrap();
    assert_eq!(paged.items.len(), 1);
    assert!(paged.metadata.continue_.is_some(), "a limited list pages");

    let (reader, writer) = reflector::store::<Pod>();
    let stream =
        reflector(writer, watcher(pods.clone(), watcher::Config::default().labels("app=checkout"))).applied_objects();
    let task = tokio::spawn(stream.for_each(|_| async {}));
    reader.wait_until_ready().await.unwrap();
    assert_eq!(reader.state().len(), 2);

    pods.delete("checkout-6d8f7c9b4-h8k2p", &DeleteParams::default()).await.unwrap();
    eventually("the reflector sees the deletion and the replacement pod", || {
        let names: Vec<String> = reader.state().iter().map(|p| p.name_any()).collect();
        async move { names.len() == 2 && !names.contains(&"checkout-6d8f7c9b4-h8k2p".to_string()) }
    })
    .await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_serve_current_and_previous_containers_with_tail_lines() {
    let env = start("oomkilled-checkout").await;
    let pods: Api<Pod> = env.api("shop");
    let prev =
        pods.logs("checkout-6d8f7c9b4-q2x7m", &LogParams { previous: true, ..Default::default() }).await.unwrap();
    assert!(prev.contains("OutOfMemoryError"), "{prev}");
    assert_eq!(prev.lines().count(), 4);
    let tail = pods
        .logs("checkout-6d8f7c9b4-q2x7m", &LogParams { previous: true, tail_lines: Some(1), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(tail, "2026-11-20T09:14:10Z ERROR java.lang.OutOfMemoryError: Java heap space\n");
    let err =
        pods.logs("checkout-6d8f7c9b4-h8k2p", &LogParams { previous: true, ..Default::default() }).await.unwrap_err();
    assert_eq!(api_error_code(&err), 400, "a container that never restarted has no previous log");
    let err = pods
        .logs("checkout-6d8f7c9b4-q2x7m", &LogParams { container: Some("sidecar".into()), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(api_error_code(&err), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_patch_rolls_out_a_new_replicaset_with_the_next_revision() {
    let env = start("oomkilled-checkout").await;
    let deploys: Api<Deployment> = env.api("shop");
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-20T10:00:00Z"}}}}});
    deploys.patch("checkout", &PatchParams::default(), &Patch::Strategic(patch)).await.unwrap();

    let rs: Api<ReplicaSet> = env.api("shop");
    let sets = rs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(sets.len(), 2);
    let new = sets.iter().find(|r| r.name_any() != "checkout-6d8f7c9b4").unwrap();
    assert_eq!(new.annotations().get("deployment.kubernetes.io/revision").map(String::as_str), Some("2"));
    assert_eq!(new.annotations().get("deployment.kubernetes.io/desired-replicas").map(String::as_str), Some("2"));
    let hash = new.labels().get("pod-template-hash").unwrap().clone();
    assert_eq!(new.name_any(), format!("checkout-{hash}"));
    assert_eq!(new.spec.replicas, Some(2));
    let old = sets.iter().find(|r| r.name_any() == "checkout-6d8f7c9b4").unwrap();
    assert_eq!(old.spec.replicas, Some(0));

    let pods = env.pods("shop", &format!("pod-template-hash={hash}")).await;
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(ready), "fixed-by: restart brings the new pods up healthy");
    let d = deploys.get("checkout").await.unwrap();
    let st = d.status.unwrap();
    assert_eq!(
        (st.updated_replicas, st.available_replicas, st.observed_generation),
        (Some(2), Some(2), d.metadata.generation)
    );
    assert_eq!(d.metadata.annotations.unwrap().get("deployment.kubernetes.io/revision").map(String::as_str), Some("2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scale_subresource_changes_replicas_and_pods() {
    let env = start("oomkilled-checkout").await;
    let deploys: Api<Deployment> = env.api("shop");
    let scale = deploys.get_scale("checkout").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    let scale = deploys
        .patch_scale("checkout", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 4}})))
        .await
        .unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(4));
    assert_eq!(deploys.get("checkout").await.unwrap().spec.replicas, Some(4));
    assert_eq!(env.pods("shop", "app=checkout").await.len(), 4);
    deploys
        .patch_scale("checkout", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 1}})))
        .await
        .unwrap();
    assert_eq!(env.pods("shop", "app=checkout").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_kubernetes_statuses_with_the_right_codes() {
    let env = start("oomkilled-checkout").await;
    let deploys: Api<Deployment> = env.api("shop");
    assert_eq!(api_error_code(&deploys.get("nope").await.unwrap_err()), 404);
    let invalid = deploys
        .patch("checkout", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": -1}})))
        .await
        .unwrap_err();
    assert_eq!(api_error_code(&invalid), 422);
    let mut d = deploys.get("checkout").await.unwrap();
    d.metadata.resource_version = Some("1".into());
    let conflict = deploys.replace("checkout", &PostParams::default(), &d).await.unwrap_err();
    assert_eq!(api_error_code(&conflict), 409);
    let kube::Error::Api(status) = &conflict else { unreachable!() };
    assert!(status.message.contains("the object has been modified"), "{}", status.message);
    let mut fresh = deploys.get("checkout").await.unwrap();
    fresh.spec.replicas = Some(3);
    assert_eq!(deploys.replace("checkout", &PostParams::default(), &fresh).await.unwrap().spec.replicas, Some(3));

    // Raw requests with no token and a wrong one, through a client built from the kubeconfig.
    let with_token = |token: Option<&str>| {
        let env = &env;
        let token = token.map(str::to_string);
        async move {
            let mut cfg = env.sandbox.config().await.unwrap();
            cfg.auth_info = Default::default();
            cfg.auth_info.token = token.map(Into::into);
            kube::Client::try_from(cfg).unwrap()
        }
    };
    let get = |client: kube::Client, path: &'static str| async move {
        let req = axum::http::Request::get(path).body(Vec::new()).unwrap();
        client.request_text(req).await
    };
    let pods_path = "/api/v1/namespaces/shop/pods";
    let err = get(with_token(None).await, pods_path).await.unwrap_err();
    assert_eq!(api_error_code(&err), 401);
    let kube::Error::Api(status) = &err else { unreachable!() };
    assert_eq!(status.reason, "Unauthorized");
    let err = get(with_token(Some("wrong")).await, pods_path).await.unwrap_err();
    assert_eq!(api_error_code(&err), 401);
    let ok = get(with_token(Some(env.sandbox.token())).await, pods_path).await;
    assert!(ok.is_ok(), "{ok:?}");
    let err = get(env.client.clone(), "/api/v1/configmaps").await.unwrap_err();
    assert_eq!(api_error_code(&err), 404, "an unserved kind is refused, not silently empty");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_hpas_and_cronjobs_are_served_in_their_api_groups() {
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    use k8s_openapi::api::batch::v1::CronJob;
    use k8s_openapi::api::events::v1::Event as EventV1;
    let env = start("bad-image-frontend").await;
    let hpa = env.api::<HorizontalPodAutoscaler>("web").get("frontend").await.unwrap();
    assert_eq!(hpa.spec.max_replicas, 6);
    assert_eq!(env.api::<CronJob>("web").list(&ListParams::default()).await.unwrap().items.len(), 1);
    let events = env
        .api::<EventV1>("web")
        .list(&ListParams::default().fields("regarding.name=frontend-5f7b9c8d4-k2m4p"))
        .await
        .unwrap();
    assert_eq!(events.items.len(), 1);
    let e = &events.items[0];
    assert_eq!(e.reason.as_deref(), Some("Failed"));
    assert!(e.note.as_deref().unwrap().contains("manifest unknown"));
    assert_eq!(e.regarding.as_ref().unwrap().kind.as_deref(), Some("Pod"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_from_a_forgotten_resource_version_answers_410_gone() {
    let opts = mimi::sandbox::SandboxOptions { history: 2, ..Default::default() };
    let env = super::support::start_with("oomkilled-checkout", opts).await;
    let from = env.sandbox.resource_version();
    let pods: Api<Pod> = env.api("shop");
    pods.delete("checkout-6d8f7c9b4-h8k2p", &DeleteParams::default()).await.unwrap();
    let path = format!("/api/v1/namespaces/shop/pods?watch=true&resourceVersion={from}&timeoutSeconds=1");
    let req = axum::http::Request::get(path).body(Vec::new()).unwrap();
    let body = env.client.request_text(req).await.unwrap();
    let first: serde_json::Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(first["type"], "ERROR");
    assert_eq!(first["object"]["code"], 410);
    // A reflector recovers by relisting, as against a real API server.
    let (reader, writer) = reflector::store::<Pod>();
    let task = tokio::spawn(
        reflector(writer, watcher(pods.clone(), watcher::Config::default())).applied_objects().for_each(|_| async {}),
    );
    reader.wait_until_ready().await.unwrap();
    assert_eq!(reader.state().len(), 2);
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_list_reflector_and_kubes_own_restart_helper_work() {
    let env = start("crashloop-payments").await;
    let pods: Api<Pod> = env.api("pay");
    let (reader, writer) = reflector::store::<Pod>();
    let stream = reflector(writer, watcher(pods.clone(), watcher::Config::default().streaming_lists()));
    let task = tokio::spawn(stream.applied_objects().for_each(|_| async {}));
    reader.wait_until_ready().await.unwrap();
    assert_eq!(reader.state().len(), 2, "sendInitialEvents ends with the initial-events-end bookmark");

    let deploys: Api<Deployment> = env.api("pay");
    deploys.restart("payments").await.unwrap();
    eventually(
        "the reflector holds only the restarted, healthy pods",
        || {
            let pods = reader.state();
            async move {
                pods.len() == 2
                    && pods
                        .iter()
                        .all(|p| ready(p) && !p.name_any().starts_with("payments-7c9d8b6f5-"))
            }
        },
    )
    .await;
    task.abort();
}
