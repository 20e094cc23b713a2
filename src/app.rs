//! Wiring: opens the store, starts the commit task, the worker and the HTTP server, and stops them
//! together on one shutdown signal.
//!
//! Shutdown order: readiness turns 503 and the listener stops accepting; in-flight requests finish
//! (their commits included); the commit task drains; worker lanes finish the step in hand; the
//! outbox lanes record the messages in flight; the database closes. All of it within `server.shutdown_grace_seconds`; what is left after that is
//! abandoned and resumes on the next start (jobs are persisted).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::analyze::Analyzer;
use crate::chat::Responder;
use crate::chat::matrix::SharedClient;
use crate::chat::silence::Alertmanager;
use crate::chat::slack::{self, SlackSink};
use crate::cluster::actions::ClusterActions;
use crate::cluster::prometheus::{MetricsSource, PrometheusHttp};
use crate::cluster::{ClusterRead, KubeCluster};
use crate::config::Settings;
use crate::engine::{Engine, Parts};
use crate::http::{self, ApiAuth, AppState, WebhookAuth};
use crate::metrics::Metrics;
use crate::notify::email::EmailSink;
use crate::notify::{Health, Notifier, Sink};
use crate::qa::QaEngine;
use crate::rag::Memory;
use crate::store::{Committer, Store, StoreOptions};
use crate::worker::Worker;

/// A running Mimi.
pub struct Running {
    pub addr: SocketAddr,
    pub store: Store,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Begins a graceful shutdown.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Cancelled when shutdown begins (including when a task stops unexpectedly).
    pub fn shutdown_signal(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until everything has stopped.
    pub async fn wait(self) -> anyhow::Result<()> {
        drop(self.store);
        self.task.await.context("the main task panicked")?
    }

    /// Shuts down and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown();
        self.wait().await
    }
}

pub fn store_options(settings: &Settings) -> StoreOptions {
    StoreOptions {
        path: settings.database_path(),
        busy_timeout: Duration::from_millis(settings.store.busy_timeout_ms),
        max_size_bytes: settings.store.max_size_mb.map(|mb| mb * 1024 * 1024),
        read_connections: 4,
    }
}

/// Parts that tests (and later the demo) may replace; `None` means "build from the settings".
#[derive(Default, Clone)]
pub struct Overrides {
    pub analyzer: Option<Arc<dyn Analyzer>>,
    /// Extra sinks (tests: recording fakes standing in for Slack and Matrix); a sink named like a
    /// configured one (`email`) replaces it.
    pub sinks: Vec<Arc<dyn Sink>>,
    /// Memory with another store (tests: a store that can be made unavailable), or in the sandbox
    /// collections (eval, demo: see [`sandbox_memory`]).
    pub memory: Option<Arc<Memory>>,
}

/// Memory for eval and sandbox runs: the configured embedder and store, in separate collections
/// (`<collection>-sandbox`), so simulated incidents never become real recollections.
pub fn sandbox_memory(settings: &Settings) -> anyhow::Result<Option<Arc<Memory>>> {
    if !settings.memory.enabled {
        return Ok(None);
    }
    Ok(Some(Arc::new(
        Memory::from_settings(settings, true).context("failed to set up memory (memory.embedder, memory.qdrant)")?,
    )))
}

/// Memory as configured (`None` when `memory.enabled = false`), with the runbooks indexed.
async fn memory(settings: &Settings, overrides: &Overrides) -> anyhow::Result<Option<Arc<Memory>>> {
    let memory = match &overrides.memory {
        Some(m) => Some(m.clone()),
        None if settings.memory.enabled => Some(Arc::new(
            Memory::from_settings(settings, false)
                .context("failed to set up memory (memory.embedder, memory.qdrant)")?,
        )),
        None => None,
    };
    if let (Some(m), Some(dir)) = (&memory, &settings.memory.runbooks_dir) {
        // Degrade, don't stop: without the runbooks, questions say so and analysis goes on.
        match m.index_runbooks(dir).await {
            Ok(n) => tracing::info!(chunks = n, dir = %dir.display(), "runbooks indexed"),
            Err(e) => tracing::warn!(error = %e, dir = %dir.display(), "runbooks not indexed"),
        }
    }
    Ok(memory)
}

/// The sinks, and the Matrix client cell when there is a Matrix sink.
type Sinks = (Vec<Arc<dyn Sink>>, Option<SharedClient>);

/// The sinks this instance delivers to: Slack when `[slack]` is set, email when `[email]` is,
/// Matrix when `[matrix]` is (with the client cell its bot fills after logging in), and the overrides.
fn sinks(settings: &Settings, overrides: &Overrides) -> anyhow::Result<Sinks> {
    let mut sinks: Vec<Arc<dyn Sink>> = overrides.sinks.clone();
    if settings.slack.enabled() && !sinks.iter().any(|s| s.name() == "slack") {
        sinks.push(Arc::new(SlackSink::new(slack::Client::new(&settings.slack)?)));
    }
    if settings.email.enabled() && !sinks.iter().any(|s| s.name() == "email") {
        sinks.push(Arc::new(EmailSink::new(&settings.email)?));
    }
    let mut matrix = None;
    if !sinks.iter().any(|s| s.name() == "matrix")
        && let Some((sink, client)) = crate::chat::matrix::sink(settings)
    {
        sinks.push(sink);
        matrix = Some(client);
    }
    Ok((sinks, matrix))
}

/// Starts Mimi on `listener` (or binds `server.listen`).
pub async fn start(settings: Settings, listener: Option<TcpListener>) -> anyhow::Result<Running> {
    start_with(settings, listener, Overrides::default()).await
}

/// Starts Mimi with some parts replaced.
pub async fn start_with(
    settings: Settings,
    listener: Option<TcpListener>,
    overrides: Overrides,
) -> anyhow::Result<Running> {
    // Every TLS client below (kube, reqwest, Matrix) needs the process's provider chosen first.
    crate::tls::install_crypto_provider();
    let settings = Arc::new(settings);
    let store = Store::open(&store_options(&settings)).await?;
    let listener = match listener {
        Some(l) => l,
        None => TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| format!("failed to listen on {} (server.listen)", settings.server.listen))?,
    };
    let addr = listener.local_addr()?;

    let cluster = KubeCluster::connect(&settings.kubernetes).await?;
    let cluster_read = cluster.clone().map(|c| Arc::new(c) as Arc<dyn ClusterRead>);
    // Questions get the read-only handle only (DESIGN invariant 3).
    let qa_read = cluster_read.clone();
    let prometheus = match settings.prometheus.enabled() {
        true => Some(Arc::new(PrometheusHttp::new(&settings.prometheus)?) as Arc<dyn MetricsSource>),
        false => None,
    };
    let metrics = Arc::new(Metrics::new());
    let wake = Arc::new(Notify::new());
    let (sinks, matrix_client) = sinks(&settings, &overrides)?;
    let outbox_wake = Arc::new(Notify::new());
    let notifier = Notifier::new(&settings, &sinks, outbox_wake);
    let health = Arc::new(Health::new(settings.notify.down_after_failures));
    for sink in &sinks {
        health.register(sink.name(), sink.capabilities().chat);
    }
    let (committer, commit_task) =
        Committer::spawn(store.clone(), settings.store.commit_batch_max, metrics.clone(), wake.clone());
    let memory = memory(&settings, &overrides).await?;
    let engine = Engine::new(Parts {
        store: store.clone(),
        metrics: metrics.clone(),
        cluster_name: settings.cluster.name.clone(),
        cluster: cluster_read,
        actions: cluster.clone().map(|c| Arc::new(c) as Arc<dyn ClusterActions>),
        analyzer: Some(match overrides.analyzer {
            Some(a) => a,
            None => crate::analyze::configured(&settings).context("failed to set up the analyzer")?,
        }),
        prometheus,
        prometheus_settings: settings.prometheus.clone(),
        evidence: settings.evidence.clone(),
        policy: settings.policy.clone(),
        verification: settings.verification.clone(),
        notifier: (!sinks.is_empty()).then(|| notifier.clone()),
        deadman: settings.deadman.clone(),
        memory: memory.clone(),
    });
    let worker = Worker::new(store.clone(), engine, metrics.clone(), settings.worker.clone(), wake.clone());
    worker.recover().await.context("failed to requeue interrupted jobs")?;

    let shutdown = CancellationToken::new();
    let mut outbox_task = crate::notify::start(
        store.clone(),
        &settings,
        sinks.clone(),
        notifier,
        health.clone(),
        metrics.clone(),
        shutdown.clone(),
    );
    if let (Some(m), Some(read), minutes) = (&memory, &qa_read, settings.memory.cluster_sync_minutes)
        && minutes > 0
    {
        let every = Duration::from_secs(minutes * 60);
        crate::rag::cluster::spawn_sync(
            m.clone(),
            read.clone(),
            settings.cluster.name.clone(),
            every,
            shutdown.clone(),
        );
    }
    let mut qa =
        QaEngine::new(store.clone(), qa_read.clone(), settings.qa.questions_per_minute).with_memory(memory.clone());
    if settings.qa.use_llm
        && let Some(llm) = crate::qa::QaLlm::from_settings(&settings.llm)
    {
        qa = qa.with_llm(Arc::new(llm?));
    }
    let slack_inbound = match settings.slack.enabled() {
        true => {
            let responder = Responder::new(
                store.clone(),
                Arc::new(settings.policy.clone()),
                wake.clone(),
                qa.clone(),
                Alertmanager::new(&settings.alertmanager)?,
            );
            let client = slack::Client::new(&settings.slack)?;
            Some(Arc::new(slack::Inbound::new(
                &settings.slack,
                &settings.policy.approvers,
                client,
                responder,
                store.clone(),
            )))
        }
        false => None,
    };
    let socket_mode = match (&slack_inbound, settings.slack.mode) {
        (Some(inbound), crate::config::SlackMode::Socket) => {
            Some(slack::SocketMode::new(&settings.slack, inbound.clone())?)
        }
        _ => None,
    };
    let state = AppState {
        settings: settings.clone(),
        store: store.clone(),
        committer,
        cluster,
        metrics,
        webhook_auth: Arc::new(WebhookAuth::from_settings(&settings.webhook)),
        api_auth: Arc::new(ApiAuth::from_settings(&settings.api)),
        shutdown: shutdown.clone(),
        started: Instant::now(),
        qa,
        wake,
        sinks: sinks.iter().map(|s| (s.name().to_string(), s.capabilities().chat)).collect(),
        sink_health: health,
        console: Arc::new(crate::http::console::Sessions::new(&settings.console)),
        slack: slack_inbound,
    };
    if let Some(socket) = socket_mode {
        // Slack's Socket Mode stops with the delivery lanes, before the database closes.
        let socket_task = tokio::spawn(socket.run(shutdown.clone()));
        let lanes = outbox_task;
        outbox_task = tokio::spawn(async move {
            let _ = lanes.await;
            let _ = socket_task.await;
        });
    }
    let grace = Duration::from_secs(settings.server.shutdown_grace_seconds);
    let matrix_task = match matrix_client {
        Some(client) => {
            let alertmanager = crate::chat::silence::Alertmanager::new(&settings.alertmanager)?;
            let policy = Arc::new(settings.policy.clone());
            let responder = Responder::new(store.clone(), policy, state.wake.clone(), state.qa.clone(), alertmanager);
            Some(crate::chat::matrix::start(client, store.clone(), settings.clone(), responder, shutdown.clone()))
        }
        None => None,
    };
    let tasks = Tasks { worker, commit_task, outbox_task, matrix_task };
    let task = tokio::spawn(run(state, listener, tasks, grace));
    tracing::info!(%addr, database = %settings.database_path().display(), "mimi is listening");
    Ok(Running { addr, store, shutdown, task })
}

/// What runs beside the HTTP server.
struct Tasks {
    worker: Worker,
    commit_task: tokio::task::JoinHandle<()>,
    outbox_task: tokio::task::JoinHandle<()>,
    /// The Matrix bot (sync loop), when `[matrix]` is set.
    matrix_task: Option<tokio::task::JoinHandle<()>>,
}

async fn run(state: AppState, listener: TcpListener, tasks: Tasks, grace: Duration) -> anyhow::Result<()> {
    let Tasks { worker, commit_task, outbox_task, matrix_task } = tasks;
    let shutdown = state.shutdown.clone();
    let store = state.store.clone();
    let worker_task = tokio::spawn(worker.run(shutdown.clone()));
    let server =
        axum::serve(listener, http::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let server_task = tokio::spawn(async move { server.await });

    // A shutdown request, or the server stopping on its own (which must not happen) — whichever
    // comes first. `biased`: when both are ready, it was a requested shutdown.
    let mut server_task = Some(server_task);
    let stopped_early = tokio::select! {
        biased;
        _ = shutdown.cancelled() => None,
        res = server_task.as_mut().expect("server task") => Some(res),
    };
    if let Some(res) = stopped_early {
        server_task = None;
        if !shutdown.is_cancelled() {
            shutdown.cancel();
            res.context("HTTP server panicked")?.context("HTTP server stopped")?;
            anyhow::bail!("HTTP server stopped unexpectedly");
        }
    }
    tracing::info!(grace_seconds = grace.as_secs(), "shutting down");
    let drained = tokio::time::timeout(grace, async {
        if let Some(task) = server_task
            && let Err(e) = task.await
        {
            tracing::error!(error = %e, "HTTP server task failed during shutdown");
        }
        // The router (and its Committer handles) is gone: the commit task drains and ends.
        let _ = commit_task.await;
        let _ = worker_task.await;
        // The delivery lanes record the sends in flight; what is left is reconciled at the next start.
        let _ = outbox_task.await;
        if let Some(task) = matrix_task {
            let _ = task.await;
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("grace period over; unfinished steps resume on the next start");
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
