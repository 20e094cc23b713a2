//! The kube-rs implementation of the cluster ports.
//!
//! Connects from `[kubernetes]` (in-cluster service account or a kubeconfig). kube's own retry
//! layer is turned off: it would retry a 429 for minutes (an eviction blocked by a
//! PodDisruptionBudget answers 429), and Mimi's worker already retries failed steps with backoff.

mod cache;
mod read;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::ClusterError;
use crate::config::KubernetesSettings;

/// How long a watch stream may stay silent before its connection counts as lost.
const WATCH_READ_TIMEOUT: Duration = Duration::from_secs(295);

/// A cluster reached through kube-rs, with watched caches of the hot kinds.
#[derive(Clone)]
pub struct KubeCluster {
    client: kube::Client,
    caches: Option<Arc<cache::Caches>>,
    timeout: Duration,
}

impl std::fmt::Debug for KubeCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeCluster").field("cached", &self.caches.is_some()).finish()
    }
}

impl KubeCluster {
    /// Connects as configured; `Ok(None)` when no cluster access is configured.
    pub async fn connect(settings: &KubernetesSettings) -> anyhow::Result<Option<KubeCluster>> {
        let mut config = if settings.in_cluster {
            kube::Config::incluster()
                .context("failed to read the in-cluster service account (kubernetes.in_cluster)")?
        } else if let Some(path) = &settings.kubeconfig {
            let kubeconfig = Kubeconfig::read_from(path)
                .with_context(|| format!("failed to read kubeconfig {} (kubernetes.kubeconfig)", path.display()))?;
            let options = KubeConfigOptions { context: settings.context.clone(), ..Default::default() };
            kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .with_context(|| format!("failed to use kubeconfig {} (kubernetes.kubeconfig)", path.display()))?
        } else {
            return Ok(None);
        };
        let timeout = Duration::from_secs(settings.request_timeout_seconds);
        config.read_timeout = Some(timeout);
        config.connect_timeout = Some(timeout);
        config.default_retry = false;
        // Watches are quiet for minutes on a calm cluster: their client waits longer than the
        // watcher's server-side timeout (290 s) for the next byte, or every idle watch would be
        // cut after `request_timeout_seconds` and re-listed, the load the caches exist to avoid.
        let mut watch_config = config.clone();
        watch_config.read_timeout = Some(WATCH_READ_TIMEOUT);
        let client = kube::Client::try_from(config).context("failed to build the Kubernetes client")?;
        let watch_client = kube::Client::try_from(watch_config).context("failed to build the Kubernetes client")?;
        let caches = settings.cache.then(|| Arc::new(cache::Caches::start(watch_client)));
        Ok(Some(KubeCluster { client, caches, timeout }))
    }

    /// Wraps an existing client (tests hand in the sandbox's); `cache` starts the watched caches.
    pub fn from_client(client: kube::Client, cache: bool, timeout: Duration) -> KubeCluster {
        let caches = cache.then(|| Arc::new(cache::Caches::start(client.clone())));
        KubeCluster { client, caches, timeout }
    }

    /// The client, for the actions module (the only writer).
    pub(crate) fn client(&self) -> &kube::Client {
        &self.client
    }

    /// Waits until the caches hold a first full list (at most `limit`); false if they do not.
    pub async fn caches_ready(&self, limit: Duration) -> bool {
        match &self.caches {
            Some(c) => tokio::time::timeout(limit, c.wait_ready()).await.is_ok(),
            None => true,
        }
    }

    /// True once the watched caches hold a first full list (false without caches).
    pub fn caches_are_ready(&self) -> bool {
        self.caches.as_ref().is_some_and(|c| c.is_ready())
    }

    /// The API server's version, as a reachability check for `/health` and start-up.
    pub async fn version(&self) -> Result<String, ClusterError> {
        let info = self.call(self.client.apiserver_version()).await?;
        Ok(info.git_version)
    }

    /// Runs one API call under the request timeout, mapping errors.
    async fn call<T>(&self, fut: impl Future<Output = kube::Result<T>>) -> Result<T, ClusterError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(result) => result.map_err(map_error),
            Err(_) => Err(ClusterError::Timeout(self.timeout.as_secs())),
        }
    }
}

pub(super) fn map_error(e: kube::Error) -> ClusterError {
    match e {
        kube::Error::Api(status) => ClusterError::Api { code: status.code, message: status.message },
        other => ClusterError::Unreachable(other.to_string()),
    }
}
