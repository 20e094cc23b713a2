//! The running sandbox: shared state behind one lock, the change history watches replay from, the
//! HTTP listener, the readiness ticker, and the handle tests and the CLI hold.
//!
//! Invariants:
//! - Every mutation goes through [`Shared::with`], which publishes the recorded changes to the
//!   history and wakes watchers while still ordered by resourceVersion.
//! - Dropping the handle (or `shutdown`) stops the listener, every watch stream and the ticker.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::api;
use super::kubeconfig;
use super::scenario;
use super::seed;
use super::sim::{self, SimState};
use super::store::{Change, Cluster};
use super::tls;

/// How a sandbox runs.
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Time from a pod being scheduled to it running (zero in tests).
    pub ready_after: Duration,
    /// Seed for generated names and uids, so runs are reproducible.
    pub seed: u64,
    /// Bearer token clients must present; random when `None`.
    pub token: Option<String>,
    /// How many changes watches can replay before answering 410 Gone.
    pub history: usize,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ready_after: Duration::ZERO,
            seed: 1,
            token: None,
            history: 200_000,
        }
    }
}

/// Changes kept for watches to replay, oldest first.
pub(crate) struct History {
    changes: VecDeque<Arc<Change>>,
    cap: usize,
    /// The highest resourceVersion no longer replayable.
    pub(crate) dropped_through: u64,
}

impl History {
    fn push(&mut self, changes: Vec<Change>) {
        for ch in changes {
            if self.changes.len() == self.cap
                && let Some(old) = self.changes.pop_front()
            {
                self.dropped_through = old.rv;
            }
            self.changes.push_back(Arc::new(ch));
        }
    }

    /// Changes after `rv`, or `None` when some of them are no longer kept.
    pub(crate) fn since(&self, rv: u64) -> Option<Vec<Arc<Change>>> {
        if rv < self.dropped_through {
            return None;
        }
        let start = self.changes.partition_point(|c| c.rv <= rv);
        Some(self.changes.range(start..).cloned().collect())
    }
}

pub(crate) struct State {
    pub(crate) cluster: Cluster,
    pub(crate) history: History,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    rv_tx: watch::Sender<u64>,
    wake: Notify,
    pub(crate) token: String,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl Shared {
    /// Runs `f` on the locked cluster, then publishes what it changed.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Cluster) -> R) -> R {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let r = f(&mut st.cluster);
        let changes = st.cluster.take_changes();
        if !changes.is_empty() {
            st.history.push(changes);
            let rv = st.cluster.rv();
            drop(st);
            self.rv_tx.send_replace(rv);
            self.wake.notify_one();
        }
        r
    }

    /// Reads the whole state (cluster and history) under the lock.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&st)
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.rv_tx.subscribe()
    }
}

/// Starts sandboxes.
pub struct Sandbox;

impl Sandbox {
    /// Loads `scenario_dir`, binds the listener and serves until the handle is dropped.
    pub async fn start(scenario_dir: impl AsRef<Path>, opts: SandboxOptions) -> anyhow::Result<SandboxHandle> {
        // Its clients (kube-rs, kubectl configs) need a process-wide rustls provider: with matrix-sdk in
        // the build both ring and aws-lc are compiled in, so rustls cannot pick one by itself.
        crate::tls::install_crypto_provider();
        let dir = scenario_dir.as_ref();
        let scenario = scenario::load(dir)?;
        let ready_after = SignedDuration::try_from(opts.ready_after).context("ready_after is too large")?;
        let cluster = seed::build(&scenario, SimState::new(ready_after), opts.seed, Timestamp::now())?;
        let dropped_through = cluster.rv();
        let token =
            opts.token.clone().unwrap_or_else(|| hex::encode(std::array::from_fn::<u8, 16, _>(|_| fastrand::u8(..))));
        let (rv_tx, _) = watch::channel(cluster.rv());
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                cluster,
                history: History { changes: VecDeque::new(), cap: opts.history.max(1), dropped_through },
            }),
            rv_tx,
            wake: Notify::new(),
            token: token.clone(),
            shutdown: shutdown_rx.clone(),
        });
        let tcp = tokio::net::TcpListener::bind(opts.listen)
            .await
            .with_context(|| format!("failed to listen on {}", opts.listen))?;
        let addr = tcp.local_addr()?;
        let certs = tls::generate(addr.ip())?;
        let listener = tls::TlsListener { tcp, acceptor: tokio_rustls::TlsAcceptor::from(certs.server.clone()) };
        let router = api::router(shared.clone());
        let mut stop = shutdown_rx.clone();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "sandbox server failed");
            }
        });
        let ticker = tokio::spawn(tick(shared.clone(), shutdown_rx));
        tracing::info!(%addr, scenario = %dir.display(), "sandbox listening");
        Ok(SandboxHandle { addr, token, ca_pem: certs.ca_pem, shared, shutdown_tx, server: Some(server), ticker })
    }
}

/// Reconciles when a pod's start time comes due.
async fn tick(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let next = shared.read(|st| st.cluster.sim.next_deadline());
        let sleep = match next {
            Some(t) => Duration::try_from(t.duration_since(Timestamp::now())).unwrap_or(Duration::ZERO),
            None => Duration::from_secs(3600),
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = shared.wake.notified() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        shared.with(|c| sim::reconcile(c, Timestamp::now()));
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct SandboxHandle {
    addr: SocketAddr,
    token: String,
    ca_pem: String,
    shared: Arc<Shared>,
    shutdown_tx: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    ticker: JoinHandle<()>,
}

impl SandboxHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT` (see `tls.rs` for why HTTPS).
    pub fn url(&self) -> String {
        let host = if self.addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { self.addr.ip().to_string() };
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        format!("https://{host}:{}", self.addr.port())
    }

    /// PEM of the CA that signed the server certificate (clients must trust it).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The bearer token the server requires.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A kubeconfig (context `mimi-sandbox`, namespace `default`) for kubectl and kube-rs.
    pub fn kubeconfig_yaml(&self) -> String {
        kubeconfig::render(&self.url(), &self.ca_pem, &self.token)
    }

    pub fn write_kubeconfig(&self, path: impl AsRef<Path>) -> anyhow::Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.kubeconfig_yaml())
            .with_context(|| format!("failed to write kubeconfig {}", path.display()))
    }

    /// The kube-rs config this sandbox's kubeconfig yields (kube's defaults, including its retry
    /// of 429 answers with exponential backoff; set `default_retry = false` to see a 429 at once).
    pub async fn config(&self) -> anyhow::Result<kube::Config> {
        kubeconfig::config(&self.kubeconfig_yaml()).await
    }

    /// A kube-rs client with kube's default configuration for this sandbox.
    pub async fn client(&self) -> anyhow::Result<kube::Client> {
        kube::Client::try_from(self.config().await?).context("failed to build a kube client for the sandbox")
    }

    /// The current resourceVersion (every change bumps it by one).
    pub fn resource_version(&self) -> u64 {
        self.shared.read(|st| st.cluster.rv())
    }

    /// Stops the server and waits for it (up to two seconds for open connections).
    pub async fn shutdown(mut self) {
        self.shutdown_tx.send_replace(true);
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), server).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        self.shutdown_tx.send_replace(true);
        self.ticker.abort();
    }
}
