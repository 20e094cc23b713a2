//! Test support: a real Mimi on port 0 with a real temporary SQLite database, payload builders,
//! and helpers to run the real binary (for crash and signal tests).

pub mod alertmanager;
pub mod binary;
pub mod fake_llm;
pub mod fake_qdrant;
pub mod fake_slack;
pub mod matrix_human;
pub mod payload;
pub mod scenario;
pub mod synapse;
pub mod webdriver;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use mimi::app::{Overrides, Running};
use mimi::config::{ApiToken, Secret, Settings};
use mimi::store::Store;
use serde_json::Value;
use tempfile::TempDir;

pub const WEBHOOK_TOKEN: &str = "test-webhook-token";
pub const API_TOKEN: &str = "test-api-token";

/// Settings for a test instance in `dir`: bearer auth on the webhook, one API token, fast worker.
pub fn test_settings(dir: &std::path::Path) -> Settings {
    let mut s = Settings { data_dir: dir.to_path_buf(), ..Settings::default() };
    s.server.listen = "127.0.0.1:0".parse().unwrap();
    s.server.shutdown_grace_seconds = 5;
    s.webhook.bearer_token = Some(Secret::new(WEBHOOK_TOKEN));
    s.api.tokens = vec![ApiToken { name: "tester".into(), token: Some(Secret::new(API_TOKEN)), token_file: None }];
    s.worker.poll_interval_ms = 20;
    s.worker.backoff_base_ms = 10;
    s.worker.backoff_max_ms = 50;
    s.worker.max_attempts = 3;
    s
}

/// A Mimi running in this process.
pub struct TestApp {
    pub addr: SocketAddr,
    pub settings: Settings,
    pub client: reqwest::Client,
    running: Option<Running>,
    dir: std::sync::Arc<TempDir>,
    overrides: Overrides,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_full(adjust, Overrides::default()).await
    }

    /// With some ports replaced (a fake analyzer...).
    pub async fn spawn_full(adjust: impl FnOnce(&mut Settings), overrides: Overrides) -> TestApp {
        let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
        let mut settings = test_settings(dir.path());
        adjust(&mut settings);
        Self::start(settings, dir, overrides).await
    }

    async fn start(settings: Settings, dir: std::sync::Arc<TempDir>, overrides: Overrides) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running =
            mimi::app::start_with(settings.clone(), Some(listener), overrides.clone()).await.expect("mimi starts");
        TestApp { addr: running.addr, settings, client: http(), running: Some(running), dir, overrides }
    }

    /// Stops gracefully and starts again on the same database.
    pub async fn restart(mut self) -> TestApp {
        self.running.take().unwrap().stop().await.expect("clean stop");
        Self::start(self.settings.clone(), self.dir.clone(), self.overrides.clone()).await
    }

    /// Stops gracefully; the returned directory keeps the database until dropped.
    pub async fn stop(mut self) -> std::sync::Arc<TempDir> {
        self.running.take().unwrap().stop().await.expect("clean stop");
        self.dir.clone()
    }

    pub fn store(&self) -> &Store {
        &self.running.as_ref().unwrap().store
    }

    pub fn db_path(&self) -> PathBuf {
        self.settings.database_path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a payload to /webhook with the right token.
    pub async fn post_alerts(&self, payload: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/webhook"))
            .bearer_auth(WEBHOOK_TOKEN)
            .header("content-type", "application/json")
            .body(payload.to_string())
            .send()
            .await
            .expect("request sent")
    }

    /// GET an API path with the API token; returns (status, JSON body).
    pub async fn api(&self, path: &str) -> (u16, Value) {
        let resp = self.client.get(self.url(path)).bearer_auth(API_TOKEN).send().await.expect("request sent");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn incidents(&self) -> Vec<Value> {
        let (status, body) = self.api("/api/incidents?limit=500").await;
        assert_eq!(status, 200, "{body}");
        body["incidents"].as_array().cloned().unwrap_or_default()
    }

    pub async fn incident(&self, id: i64) -> Value {
        let (status, body) = self.api(&format!("/api/incidents/{id}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits until no job is pending or running (the pipeline has settled).
    pub async fn settle(&self) {
        // Timers set for later (an approval's expiry) are not work in progress.
        wait_until(Duration::from_secs(20), "the job queue to drain", || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM jobs WHERE state = 'running' OR (state = 'pending' AND run_at <= ?)",
            )
            .bind(mimi::store::now_ms())
            .fetch_one(self.store().reader())
            .await
            .unwrap()
                == 0
        })
        .await;
    }

    /// The Prometheus value of a sample line, e.g. `mimi_webhook_deliveries_total{result="duplicate"}`.
    pub async fn metric(&self, sample: &str) -> f64 {
        let text = self.client.get(self.url("/metrics")).send().await.unwrap().text().await.unwrap();
        metric_value(&text, sample).unwrap_or(0.0)
    }
}

pub fn metric_value(text: &str, sample: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(sample).and_then(|rest| rest.trim().parse().ok()))
}

/// Polls `check` until it is true, failing the test with `what` after `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// An HTTP client for tests. Every reqwest client in the process needs the crypto provider
/// installed first (the crate's reqwest has no default provider); build them here.
pub fn http() -> reqwest::Client {
    mimi::tls::install_crypto_provider();
    reqwest::Client::new()
}

/// A free TCP port on 127.0.0.1 (bound and released; tiny race accepted in tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
