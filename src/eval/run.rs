//! Running one scenario through the real pipeline, in-process: a sandbox cluster on the scenario,
//! a Mimi on a temporary data directory with `kubernetes.kubeconfig` pointing at the sandbox and
//! the configured analyzer, the scenario's payloads POSTed to the real webhook, then the outcome
//! read from `GET /api/incidents/{id}` once the analysis is there and the pipeline has settled.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;

use super::detail;
use super::http::request;
use super::scenario::ScenarioFiles;
use super::score::Outcome;
use crate::analyze::Analyzer;
use crate::config::{ApiToken, Secret, Settings};
use crate::sandbox::{Sandbox, SandboxOptions};
use crate::strings::eval as s;

/// A temporary directory removed when dropped (the library has no `tempfile`).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<TempDir> {
        static N: AtomicU64 = AtomicU64::new(0);
        let name =
            format!("mimi-eval-{}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed), fastrand::u64(..));
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The settings of the Mimi an eval runs: the analysis-related sections of `base` (`analyzer`,
/// `policy`, `evidence`), everything else default — no chat, no email, nothing reaching outside —
/// plus a private data directory, a fresh token, the sandbox's kubeconfig and a fast worker.
/// Auto-approval is off: the eval scores proposals, it does not execute them.
pub fn eval_settings(base: &Settings, data_dir: &Path, kubeconfig: PathBuf, token: &str) -> Settings {
    let mut s = Settings { data_dir: data_dir.to_path_buf(), ..Settings::default() };
    s.analyzer = base.analyzer.clone();
    s.llm = base.llm.clone();
    s.policy = base.policy.clone();
    s.policy.auto_approve = false;
    s.evidence = base.evidence.clone();
    s.cluster = base.cluster.clone();
    // The same embedder and runbooks, but under the private data directory (and, through
    // `sandbox_memory`, in the sandbox collections): an eval never writes into the real memory.
    s.memory = base.memory.clone();
    s.memory.path = None;
    s.server.listen = "127.0.0.1:0".parse().expect("valid address");
    s.server.shutdown_grace_seconds = 5;
    s.webhook.bearer_token = Some(Secret::new(token));
    s.api.tokens = vec![ApiToken { name: "eval".into(), token: Some(Secret::new(token)), token_file: None }];
    s.kubernetes.kubeconfig = Some(kubeconfig);
    s.kubernetes.request_timeout_seconds = 5;
    s.worker.poll_interval_ms = 20;
    s.worker.backoff_base_ms = 20;
    s.worker.backoff_max_ms = 200;
    s.worker.max_attempts = 3;
    s.log.level = "warn".into();
    s
}

/// The analyzer the settings configure: the LLM (when `[llm]` is set) falling back to the runbook
/// rules (with `[[analyzer.rules]]`).
pub fn configured_analyzer(settings: &Settings) -> anyhow::Result<Arc<dyn Analyzer>> {
    crate::analyze::configured(settings)
}

/// Runs the scenario; a failure to run is an outcome with `error` set.
pub async fn pipeline(files: &ScenarioFiles, base: &Settings, timeout: Duration) -> Outcome {
    match tokio::time::timeout(timeout, pipeline_inner(files, base, timeout)).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) => Outcome { error: Some(format!("{e:#}")), ..Outcome::default() },
        Err(_) => Outcome { error: Some(s::NO_ANALYSIS.to_string()), ..Outcome::default() },
    }
}

async fn pipeline_inner(files: &ScenarioFiles, base: &Settings, timeout: Duration) -> anyhow::Result<Outcome> {
    let tmp = TempDir::new()?;
    let sandbox = Sandbox::start(&files.dir, SandboxOptions::default()).await.context("the sandbox did not start")?;
    let kubeconfig = tmp.0.join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig)?;
    let token = format!("eval-{:016x}", fastrand::u64(..));
    let settings = eval_settings(base, &tmp.0.join("data"), kubeconfig, &token);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let overrides = crate::app::Overrides {
        analyzer: Some(configured_analyzer(&settings)?),
        memory: crate::app::sandbox_memory(&settings)?,
        ..Default::default()
    };
    let running = crate::app::start_with(settings, Some(listener), overrides).await.context("mimi did not start")?;
    let result = drive(files, &running, &token, timeout).await;
    let stopped = running.stop().await;
    sandbox.shutdown().await;
    let outcome = result?;
    stopped.context("mimi did not stop cleanly")?;
    Ok(outcome)
}

async fn drive(
    files: &ScenarioFiles,
    app: &crate::app::Running,
    token: &str,
    timeout: Duration,
) -> anyhow::Result<Outcome> {
    for payload in &files.payloads {
        let (status, body) = request(app.addr, "POST", "/webhook", token, Some(payload)).await?;
        anyhow::ensure!(status == 200, "{}", s::webhook_refused(status, &body.to_string()));
    }
    let deadline = Instant::now() + timeout;
    let mut last: Option<Value> = None;
    let mut same = 0;
    loop {
        anyhow::ensure!(Instant::now() < deadline, "{}", s::NO_ANALYSIS);
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Idle before reading: a detail read afterwards is at least as new as the idle queue.
        let idle = app.store.queue_stats(crate::store::now_ms()).await?.depth.is_empty();
        let (_, list) = request(app.addr, "GET", "/api/incidents?limit=50", token, None).await?;
        let mut ids: Vec<i64> =
            list["incidents"].as_array().into_iter().flatten().filter_map(|i| i["id"].as_i64()).collect();
        ids.sort_unstable();
        let mut details = Vec::new();
        for id in &ids {
            let (status, d) = request(app.addr, "GET", &format!("/api/incidents/{id}"), token, None).await?;
            anyhow::ensure!(status == 200, "GET /api/incidents/{id} answered {status}");
            details.push(d);
        }
        if details.is_empty() {
            anyhow::ensure!(!idle, "{}", s::no_incident());
            continue;
        }
        if let Some(d) = details.iter().find(|d| !detail::has_analysis(d)) {
            if idle {
                let state = d["state"].as_str().unwrap_or("?");
                anyhow::bail!("{}", s::analysis_skipped(state, &skipped_reason(d)));
            }
            continue;
        }
        // Analysed: wait for proposals to settle (dry runs, policy) — an idle queue, or the same
        // answer three polls running (timers for approvals may stay queued).
        let snapshot =
            Value::Array(details.iter().map(|d| serde_json::json!([d["proposals"], d["dropped"]])).collect());
        same = if last.as_ref() == Some(&snapshot) { same + 1 } else { 0 };
        last = Some(snapshot);
        if idle || same >= 3 || details.iter().all(only_timers_left) {
            return Ok(detail::outcome(&details));
        }
    }
}

/// The incident's remaining jobs are all timers for later (approval expiry) or given up.
fn only_timers_left(detail: &Value) -> bool {
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(1);
    detail["jobs"].as_array().into_iter().flatten().all(|j| {
        let run_at = j["run_at"].as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok());
        j["state"] == "dead" || (j["state"] == "pending" && run_at.is_some_and(|t| t > later))
    })
}

/// What the timeline says about a skipped analyze step.
fn skipped_reason(detail: &Value) -> String {
    detail["timeline"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "step_skipped" || e["kind"] == "transition_refused")
        .filter_map(|e| e["detail"]["reason"].as_str().or_else(|| e["data"]["reason"].as_str()))
        .next_back()
        .unwrap_or("no reason recorded")
        .to_string()
}
