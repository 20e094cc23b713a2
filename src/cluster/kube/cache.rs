//! Watched caches (kube-runtime reflectors) of pods, nodes and deployments.
//!
//! Objects are trimmed as they arrive so memory stays proportional to what Mimi uses: no
//! `managedFields`, no last-applied annotation, no container environment or volumes other than claims (bulky, and the
//! environment may hold secrets Mimi must not keep), no node image lists. The reflector tasks stop
//! when the caches are dropped. Until a cache holds its first full list, reads go to the API.
//!
//! Readiness is taken from the stream itself (the watcher's `InitDone`, which the reflector has
//! applied to the store by the time it passes), not from `Store::wait_until_ready`: a first waiter
//! on that signal was seen to miss its wake-up and hang until something polled it again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, Node, Pod, PodSpec, Volume};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::Notify;
use tokio::task::JoinSet;

pub(super) struct Caches {
    pub pods: Store<Pod>,
    pub nodes: Store<Node>,
    pub deployments: Store<Deployment>,
    ready: [Arc<AtomicBool>; 3],
    changed: Arc<Notify>,
    _tasks: JoinSet<()>,
}

impl Caches {
    pub fn start(client: kube::Client) -> Caches {
        let mut tasks = JoinSet::new();
        let changed = Arc::new(Notify::new());
        let ready: [Arc<AtomicBool>; 3] = Default::default();
        let pods = spawn(&mut tasks, Api::all(client.clone()), trim_pod, ready[0].clone(), changed.clone());
        let nodes = spawn(&mut tasks, Api::all(client.clone()), trim_node, ready[1].clone(), changed.clone());
        let deployments = spawn(&mut tasks, Api::all(client), trim_deployment, ready[2].clone(), changed.clone());
        Caches { pods, nodes, deployments, ready, changed, _tasks: tasks }
    }

    /// True once every cache holds a first full list.
    pub fn is_ready(&self) -> bool {
        self.ready.iter().all(|r| r.load(Ordering::Acquire))
    }

    pub async fn wait_ready(&self) {
        loop {
            // Registered before checking, so a change in between still wakes us.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.is_ready() {
                return;
            }
            changed.await;
        }
    }
}

fn spawn<K>(
    tasks: &mut JoinSet<()>,
    api: Api<K>,
    trim: fn(&mut K),
    ready: Arc<AtomicBool>,
    changed: Arc<Notify>,
) -> Store<K>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (reader, writer) = reflector::store();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(move |obj: &mut K| {
            trim_meta(obj);
            trim(obj);
        })
        .reflect(writer);
    tasks.spawn(async move {
        stream
            .for_each(|item| {
                match item {
                    Ok(watcher::Event::InitDone) => {
                        ready.store(true, Ordering::Release);
                        changed.notify_waiters();
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cluster cache watch error; retrying with backoff"),
                }
                async {}
            })
            .await;
    });
    reader
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn trim_meta<K: Resource>(obj: &mut K) {
    let meta = obj.meta_mut();
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
    }
}

fn trim_containers(containers: &mut [Container]) {
    for c in containers {
        c.env = None;
        c.env_from = None;
        c.volume_mounts = None;
    }
}

fn trim_pod_spec(spec: &mut PodSpec) {
    trim_containers(&mut spec.containers);
    if let Some(init) = spec.init_containers.as_mut() {
        trim_containers(init);
    }
    // Only which claims a pod mounts is kept (a pending pod may wait for one).
    if let Some(volumes) = spec.volumes.as_mut() {
        volumes.retain(|v| v.persistent_volume_claim.is_some());
        for v in volumes.iter_mut() {
            *v = Volume {
                name: v.name.clone(),
                persistent_volume_claim: v.persistent_volume_claim.clone(),
                ..Volume::default()
            };
        }
    }
}

pub(super) fn trim_pod(pod: &mut Pod) {
    if let Some(spec) = pod.spec.as_mut() {
        trim_pod_spec(spec);
    }
}

fn trim_node(node: &mut Node) {
    if let Some(status) = node.status.as_mut() {
        status.images = None;
    }
}

fn trim_deployment(d: &mut Deployment) {
    if let Some(spec) = d.spec.template.spec.as_mut() {
        trim_pod_spec(spec);
    }
}
