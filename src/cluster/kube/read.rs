//! `ClusterRead` over kube-rs: from the watched caches when they are ready, else from the API.

use std::sync::Arc;

use async_trait::async_trait;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, PersistentVolumeClaim, Pod, Service};
use kube::api::{ListParams, LogParams};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::{KubeCluster, cache};
use crate::cluster::{ClusterError, ClusterRead, Labels, LogRequest};

fn selector(labels: &Labels) -> ListParams {
    let text = labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    if text.is_empty() { ListParams::default() } else { ListParams::default().labels(&text) }
}

fn matches(labels: &Labels, obj: &impl ResourceExt) -> bool {
    let have = obj.labels();
    labels.iter().all(|(k, v)| have.get(k) == Some(v))
}

impl KubeCluster {
    fn cached(&self) -> Option<&cache::Caches> {
        self.caches.as_deref().filter(|c| c.is_ready())
    }

    /// LIST a namespaced kind in one namespace or all.
    async fn list_namespaced<K>(&self, namespace: Option<&str>) -> Result<Vec<K>, ClusterError>
    where
        K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + std::fmt::Debug,
        K::DynamicType: Default,
    {
        let api: Api<K> = match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        Ok(self.call(api.list(&ListParams::default())).await?.items)
    }

    /// GET one namespaced object; a 404 is `None`.
    async fn get_namespaced<K>(&self, namespace: &str, name: &str) -> Result<Option<K>, ClusterError>
    where
        K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + std::fmt::Debug,
        K::DynamicType: Default,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        self.call(api.get_opt(name)).await
    }
}

#[async_trait]
impl ClusterRead for KubeCluster {
    async fn pod(&self, namespace: &str, name: &str) -> Result<Option<Pod>, ClusterError> {
        if let Some(c) = self.cached() {
            return Ok(c.pods.get(&ObjectRef::new(name).within(namespace)).map(|p| (*p).clone()));
        }
        let mut pod = self.get_namespaced::<Pod>(namespace, name).await?;
        pod.iter_mut().for_each(cache::trim_pod);
        Ok(pod)
    }

    async fn pods(&self, namespace: Option<&str>, labels: &Labels) -> Result<Vec<Pod>, ClusterError> {
        if let Some(c) = self.cached() {
            return Ok(c
                .pods
                .state_filter(|p| namespace.is_none_or(|ns| p.namespace().as_deref() == Some(ns)) && matches(labels, p))
                .into_iter()
                .map(|p| (*p).clone())
                .collect());
        }
        let api: Api<Pod> = match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        let mut pods = self.call(api.list(&selector(labels))).await?.items;
        pods.iter_mut().for_each(cache::trim_pod);
        Ok(pods)
    }

    async fn pods_shared(&self, namespace: Option<&str>) -> Result<Vec<Arc<Pod>>, ClusterError> {
        if let Some(c) = self.cached() {
            return Ok(c.pods.state_filter(|p| namespace.is_none_or(|ns| p.namespace().as_deref() == Some(ns))));
        }
        Ok(self.pods(namespace, &Labels::new()).await?.into_iter().map(Arc::new).collect())
    }

    async fn pods_on_node(&self, node: &str) -> Result<Vec<Pod>, ClusterError> {
        if let Some(c) = self.cached() {
            let on_node = |p: &Pod| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node);
            return Ok(c.pods.state_filter(on_node).into_iter().map(|p| (*p).clone()).collect());
        }
        let api: Api<Pod> = Api::all(self.client.clone());
        let params = ListParams::default().fields(&format!("spec.nodeName={node}"));
        let mut pods = self.call(api.list(&params)).await?.items;
        pods.iter_mut().for_each(cache::trim_pod);
        Ok(pods)
    }

    async fn deployment(&self, namespace: &str, name: &str) -> Result<Option<Deployment>, ClusterError> {
        if let Some(c) = self.cached() {
            return Ok(c.deployments.get(&ObjectRef::new(name).within(namespace)).map(|d| (*d).clone()));
        }
        self.get_namespaced(namespace, name).await
    }

    async fn replica_sets(&self, namespace: &str, labels: &Labels) -> Result<Vec<ReplicaSet>, ClusterError> {
        let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), namespace);
        Ok(self.call(api.list(&selector(labels))).await?.items)
    }

    async fn replica_set(&self, namespace: &str, name: &str) -> Result<Option<ReplicaSet>, ClusterError> {
        self.get_namespaced(namespace, name).await
    }

    async fn stateful_set(&self, namespace: &str, name: &str) -> Result<Option<StatefulSet>, ClusterError> {
        self.get_namespaced(namespace, name).await
    }

    async fn daemon_set(&self, namespace: &str, name: &str) -> Result<Option<DaemonSet>, ClusterError> {
        self.get_namespaced(namespace, name).await
    }

    async fn job(&self, namespace: &str, name: &str) -> Result<Option<Job>, ClusterError> {
        self.get_namespaced(namespace, name).await
    }

    async fn node(&self, name: &str) -> Result<Option<Node>, ClusterError> {
        if let Some(c) = self.cached() {
            return Ok(c.nodes.get(&ObjectRef::new(name)).map(|n| (*n).clone()));
        }
        let api: Api<Node> = Api::all(self.client.clone());
        self.call(api.get_opt(name)).await
    }

    async fn service(&self, namespace: &str, name: &str) -> Result<Option<Service>, ClusterError> {
        self.get_namespaced(namespace, name).await
    }

    async fn autoscalers(&self, namespace: &str) -> Result<Vec<HorizontalPodAutoscaler>, ClusterError> {
        let api: Api<HorizontalPodAutoscaler> = Api::namespaced(self.client.clone(), namespace);
        Ok(self.call(api.list(&ListParams::default())).await?.items)
    }

    async fn persistent_volume_claim(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<PersistentVolumeClaim>, ClusterError> {
        self.get_namespaced(namespace, name).await
    }

    async fn events_for(&self, namespace: Option<&str>, kind: &str, name: &str) -> Result<Vec<Event>, ClusterError> {
        let api: Api<Event> = match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        let params = ListParams::default().fields(&format!("involvedObject.kind={kind},involvedObject.name={name}"));
        Ok(self.call(api.list(&params)).await?.items)
    }

    async fn namespaces(&self) -> Result<Vec<String>, ClusterError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        Ok(self.call(api.list(&ListParams::default())).await?.items.into_iter().map(|n| n.name_any()).collect())
    }

    async fn nodes(&self) -> Result<Vec<Node>, ClusterError> {
        if let Some(c) = self.cached() {
            return Ok(c.nodes.state().into_iter().map(|n| (*n).clone()).collect());
        }
        let api: Api<Node> = Api::all(self.client.clone());
        Ok(self.call(api.list(&ListParams::default())).await?.items)
    }

    async fn deployments(&self, namespace: Option<&str>) -> Result<Vec<Deployment>, ClusterError> {
        if let Some(c) = self.cached() {
            let wanted = |d: &Deployment| namespace.is_none_or(|ns| d.namespace().as_deref() == Some(ns));
            return Ok(c.deployments.state_filter(wanted).into_iter().map(|d| (*d).clone()).collect());
        }
        self.list_namespaced(namespace).await
    }

    async fn stateful_sets(&self, namespace: Option<&str>) -> Result<Vec<StatefulSet>, ClusterError> {
        self.list_namespaced(namespace).await
    }

    async fn events(&self, namespace: Option<&str>) -> Result<Vec<Event>, ClusterError> {
        self.list_namespaced(namespace).await
    }

    async fn logs(&self, namespace: &str, pod: &str, request: &LogRequest) -> Result<String, ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let params = LogParams {
            container: request.container.clone(),
            previous: request.previous,
            tail_lines: Some(i64::from(request.tail_lines)),
            limit_bytes: Some(i64::from(request.limit_bytes)),
            ..LogParams::default()
        };
        match self.call(api.logs(pod, &params)).await {
            // No previous instance (the container never restarted), or the container is not up yet.
            Err(ClusterError::Api { code: 400, .. }) => Ok(String::new()),
            other => other,
        }
    }
}
