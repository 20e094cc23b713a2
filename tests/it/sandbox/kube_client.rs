//! kube-rs against the sandbox: the requests Mimi's cluster module makes.

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{
    DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams, Preconditions,
};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, ResourceExt};
use serde_json::json;

use super::support::{api_error_code, eventually, ready, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_get_and_a_reflector_see_the_scenario_and_every_change() {
    let env = start("oomkilled-checkout").await;
    let pods: Api<Pod> = env.api("shop");
    let all: Api<Pod> = Api::all(env.client.clone());
    assert_eq!(
        all.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );
    let p = pods.get("checkout-6d8f7c9b4-q2x7m").await.unwrap();
    assert_eq!(p.spec.unwrap().node_name.as_deref(), Some("worker-1"));
    let on_node = all
        .list(&ListParams::default().fields("spec.nodeName=worker-1,status.phase=Running"))
        .await
        .unwrap();
    assert_eq!(on_node.items.len(), 2);
    let paged = all.list(&ListParams::default().limit(1)).await.unwrap();
    assert_eq!(paged.items.len(), 1);
    assert!(paged.metadata.continue_.is_some(), "a limited list pages");

    let (reader, writer) = reflector::store::<Pod>();
    let stream = reflector(
        writer,
        watcher(
            pods.clone(),
            watcher::Config::default().labels("app=checkout"),
        ),
    )
    .applied_objects();
    let task = tokio::spawn(stream.for_each(|_| async {}));
    reader.wait_until_ready().await.unwrap();
    assert_eq!(reader.state().len(), 2);

    pods.delete("checkout-6d8f7c9b4-h8k2p", &DeleteParams::default())
        .await
        .unwrap();
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
    let prev = pods
        .logs(
            "checkout-6d8f7c9b4-q2x7m",
            &LogParams {
                previous: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(prev.contains("OutOfMemoryError"), "{prev}");
    assert_eq!(prev.lines().count(), 4);
    let tail = pods
        .logs(
            "checkout-6d8f7c9b4-q2x7m",
            &LogParams {
                previous: true,
                tail_lines: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        tail,
        "2026-11-20T09:14:10Z ERROR java.lang.OutOfMemoryError: Java heap space\n"
    );
    let err = pods
        .logs(
            "checkout-6d8f7c9b4-h8k2p",
            &LogParams {
                previous: true,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        api_error_code(&err),
        400,
        "a container that never restarted has no previous log"
    );
    let err = pods
        .logs(
            "checkout-6d8f7c9b4-q2x7m",
            &LogParams {
                container: Some("sidecar".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(api_error_code(&err), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_patch_rolls_out_a_new_replicaset_with_the_next_revision() {
    let env = start("oomkilled-checkout").await;
    let deploys: Api<Deployment> = env.api("shop");
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-20T10:00:00Z"}}}}});
    deploys
        .patch(
            "checkout",
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
        .unwrap();

    let rs: Api<ReplicaSet> = env.api("shop");
    let sets = rs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(sets.len(), 2);
    let new = sets
        .iter()
        .find(|r| r.name_any() != "checkout-6d8f7c9b4")
        .unwrap();
    assert_eq!(
        new.annotations()
            .get("deployment.kubernetes.io/revision")
            .map(String::as_str),
        Some("2")
    );
    assert_eq!(
        new.annotations()
            .get("deployment.kubernetes.io/desired-replicas")
            .map(String::as_str),
        Some("2")
    );
    let hash = new.labels().get("pod-template-hash").unwrap().clone();
    assert_eq!(new.name_any(), format!("checkout-{hash}"));
    assert_eq!(new.spec.replicas, Some(2));
    let old = sets
        .iter()
        .find(|r| r.name_any() == "checkout-6d8f7c9b4")
        .unwrap();
    assert_eq!(old.spec.replicas, Some(0));

    let pods = env.pods("shop", &format!("pod-template-hash={hash}")).await;
    assert_eq!(pods.len(), 2);
    assert!(
        pods.iter().all(ready),
        "fixed-by: restart brings the new pods up healthy"
    );
    let d = deploys.get("checkout").await.unwrap();
    let st = d.status.unwrap();
    assert_eq!(
        (
            st.updated_replicas,
            st.available_replicas,
            st.observed_generation
        ),
        (Some(2), Some(2), d.metadata.generation)
    );
    assert_eq!(
        d.metadata
            .annotations
            .unwrap()
            .get("deployment.kubernetes.io/revision")
            .map(String::as_str),
        Some("2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scale_subresource_changes_replicas_and_pods() {
    let env = start("oomkilled-checkout").await;
    let deploys: Api<Deployment> = env.api("shop");
    let scale = deploys.get_scale("checkout").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    let scale = deploys
        .patch_scale(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(4));
    assert_eq!(
        deploys.get("checkout").await.unwrap().spec.replicas,
        Some(4)
    );
    assert_eq!(env.pods("shop", "app=checkout").await.len(), 4);
    deploys
        .patch_scale(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 1}})),
        )
        .await
        .unwrap();
    assert_eq!(env.pods("shop", "app=checkout").await.len(), 1);
}

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
    assert_eq!(
        api_error_code(&pods.delete(name, &wrong_uid).await.unwrap_err()),
        409
    );
    let stale_rv = DeleteParams {
        preconditions: Some(Preconditions {
            uid: None,
            resource_version: Some("1".into()),
        }),
        ..Default::default()
    };
    assert_eq!(
        api_error_code(&pods.delete(name, &stale_rv).await.unwrap_err()),
        409
    );
    assert!(
        pods.get(name).await.is_ok(),
        "a failed precondition deletes nothing"
    );
    let right = DeleteParams {
        preconditions: Some(Preconditions {
            uid: pod.metadata.uid.clone(),
            resource_version: pod.metadata.resource_version.clone(),
        }),
        ..Default::default()
    };
    pods.delete(name, &right).await.unwrap();
    assert_eq!(api_error_code(&pods.get(name).await.unwrap_err()), 404);
    assert_eq!(
        env.pods("shop", "app=checkout").await.len(),
        2,
        "the ReplicaSet replaced the deleted pod"
    );
}

async fn evict(
    pods: &Api<Pod>,
    name: &str,
    dry_run: bool,
) -> Result<kube::core::Status, kube::Error> {
    // The Eviction body is built by hand: kube's EvictParams misnames deleteOptions.
    let mut body =
        json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}});
    if dry_run {
        body["deleteOptions"] = json!({"dryRun": ["All"]});
    }
    pods.create_subresource("eviction", name, &PostParams::default(), &body)
        .await
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
    let err = evict(&pods, "orders-api-84d9c7b6f-x7k2p", false)
        .await
        .unwrap_err();
    assert_eq!(api_error_code(&err), 429);
    let kube::Error::Api(status) = &err else {
        unreachable!()
    };
    assert_eq!(status.reason, "TooManyRequests");
    assert!(pods.get("orders-api-84d9c7b6f-x7k2p").await.is_ok());
    // The unready pod on the dead node can go: the budget is still met without it.
    evict(&pods, "orders-api-84d9c7b6f-m4q9z", false)
        .await
        .unwrap();
    assert_eq!(
        api_error_code(&pods.get("orders-api-84d9c7b6f-m4q9z").await.unwrap_err()),
        404
    );
    let replicas = env.pods("orders", "app=orders-api").await;
    assert_eq!(replicas.len(), 3);
    assert!(
        replicas.iter().all(ready),
        "the replacement (fixed-by: delete-pod) is healthy"
    );
    assert!(
        replicas
            .iter()
            .all(|p| p.spec.as_ref().unwrap().node_name.as_deref() != Some("worker-2")),
        "nothing is scheduled on the NotReady node"
    );
    // Now three are ready: one disruption is allowed.
    evict(&pods, "orders-api-84d9c7b6f-x7k2p", false)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eviction_without_a_budget_deletes_the_pod() {
    let env = start("oomkilled-checkout").await;
    let pods: Api<Pod> = env.api("shop");
    evict(&pods, "checkout-6d8f7c9b4-h8k2p", false)
        .await
        .unwrap();
    assert_eq!(
        api_error_code(&pods.get("checkout-6d8f7c9b4-h8k2p").await.unwrap_err()),
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_validates_every_write_and_changes_nothing() {
    let env = start("oomkilled-checkout").await;
    let rv = env.sandbox.resource_version();
    let deploys: Api<Deployment> = env.api("shop");
    let pods: Api<Pod> = env.api("shop");
    let nodes: Api<Node> = Api::all(env.client.clone());
    let dry = PatchParams::default().dry_run();
    let answered = deploys
        .patch(
            "checkout",
            &dry,
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(
        answered.spec.replicas,
        Some(5),
        "the answer is the would-be object"
    );
    let restart = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "x"}}}}});
    deploys
        .patch("checkout", &dry, &Patch::Strategic(restart))
        .await
        .unwrap();
    nodes
        .patch(
            "worker-1",
            &dry,
            &Patch::Strategic(json!({"spec": {"unschedulable": true}})),
        )
        .await
        .unwrap();
    pods.delete(
        "checkout-6d8f7c9b4-q2x7m",
        &DeleteParams {
            dry_run: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    evict(&pods, "checkout-6d8f7c9b4-h8k2p", true)
        .await
        .unwrap();
    let invalid = deploys
        .patch(
            "checkout",
            &dry,
            &Patch::Merge(json!({"spec": {"replicas": -1}})),
        )
        .await
        .unwrap_err();
    assert_eq!(api_error_code(&invalid), 422, "dry run still validates");

    assert_eq!(env.sandbox.resource_version(), rv, "no write happened");
    assert_eq!(
        deploys.get("checkout").await.unwrap().spec.replicas,
        Some(2)
    );
    assert_eq!(
        pods.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );
    assert_eq!(
        nodes
            .get("worker-1")
            .await
            .unwrap()
            .spec
            .and_then(|s| s.unschedulable),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_kubernetes_statuses_with_the_right_codes() {
    let env = start("oomkilled-checkout").await;
    let deploys: Api<Deployment> = env.api("shop");
    assert_eq!(api_error_code(&deploys.get("nope").await.unwrap_err()), 404);
    let invalid = deploys
        .patch(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": -1}})),
        )
        .await
        .unwrap_err();
    assert_eq!(api_error_code(&invalid), 422);
    let mut d = deploys.get("checkout").await.unwrap();
    d.metadata.resource_version = Some("1".into());
    let conflict = deploys
        .replace("checkout", &PostParams::default(), &d)
        .await
        .unwrap_err();
    assert_eq!(api_error_code(&conflict), 409);
    let kube::Error::Api(status) = &conflict else {
        unreachable!()
    };
    assert!(
        status.message.contains("the object has been modified"),
        "{}",
        status.message
    );
    let mut fresh = deploys.get("checkout").await.unwrap();
    fresh.spec.replicas = Some(3);
    assert_eq!(
        deploys
            .replace("checkout", &PostParams::default(), &fresh)
            .await
            .unwrap()
            .spec
            .replicas,
        Some(3)
    );

    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(env.sandbox.ca_pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let url = format!("{}/api/v1/namespaces/shop/pods", env.sandbox.url());
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (body["kind"].as_str(), body["reason"].as_str()),
        (Some("Status"), Some("Unauthorized"))
    );
    let res = http.get(&url).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = http
        .get(&url)
        .bearer_auth(env.sandbox.token())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = http
        .get(format!("{}/api/v1/configmaps", env.sandbox.url()))
        .bearer_auth(env.sandbox.token())
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "an unserved kind is refused, not silently empty"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_hpas_and_cronjobs_are_served_in_their_api_groups() {
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    use k8s_openapi::api::batch::v1::CronJob;
    use k8s_openapi::api::events::v1::Event as EventV1;
    let env = start("bad-image-frontend").await;
    let hpa = env
        .api::<HorizontalPodAutoscaler>("web")
        .get("frontend")
        .await
        .unwrap();
    assert_eq!(hpa.spec.max_replicas, 6);
    assert_eq!(
        env.api::<CronJob>("web")
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
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
    let opts = mimi::sandbox::SandboxOptions {
        history: 2,
        ..Default::default()
    };
    let env = super::support::start_with("oomkilled-checkout", opts).await;
    let from = env.sandbox.resource_version();
    let pods: Api<Pod> = env.api("shop");
    pods.delete("checkout-6d8f7c9b4-h8k2p", &DeleteParams::default())
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(env.sandbox.ca_pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let url = format!(
        "{}/api/v1/namespaces/shop/pods?watch=true&resourceVersion={from}&timeoutSeconds=1",
        env.sandbox.url()
    );
    let body = http
        .get(url)
        .bearer_auth(env.sandbox.token())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let first: serde_json::Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(first["type"], "ERROR");
    assert_eq!(first["object"]["code"], 410);
    // A reflector recovers by relisting, as against a real API server.
    let (reader, writer) = reflector::store::<Pod>();
    let task = tokio::spawn(
        reflector(writer, watcher(pods.clone(), watcher::Config::default()))
            .applied_objects()
            .for_each(|_| async {}),
    );
    reader.wait_until_ready().await.unwrap();
    assert_eq!(reader.state().len(), 2);
    task.abort();
}
