//! The real `mimi` binary, configured through MIMI__ variables, for crash and signal tests.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{WEBHOOK_TOKEN, free_port};

pub struct MimiProcess {
    pub child: Child,
    pub port: u16,
}

/// Starts `mimi serve` on a free port with its data in `data_dir`; `failpoints` as MIMI_FAILPOINTS.
pub fn spawn(data_dir: &Path, failpoints: &str, extra_env: &[(&str, &str)]) -> MimiProcess {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mimi"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MIMI__DATA_DIR", data_dir)
        .env("MIMI__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("MIMI__WEBHOOK__BEARER_TOKEN", WEBHOOK_TOKEN)
        .env("MIMI__API__ALLOW_UNAUTHENTICATED", "true")
        .env("MIMI__WORKER__POLL_INTERVAL_MS", "20")
        .env("MIMI__SERVER__SHUTDOWN_GRACE_SECONDS", "5")
        .env("MIMI_FAILPOINTS", failpoints)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("mimi binary starts");
    MimiProcess { child, port }
}

impl MimiProcess {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Waits until /readyz answers 200.
    pub async fn ready(&mut self) {
        let client = crate::support::http();
        for _ in 0..400 {
            if let Ok(r) = client.get(self.url("/readyz")).send().await
                && r.status() == 200
            {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("mimi exited before becoming ready: {status}; stderr: {}", self.stderr());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("mimi did not become ready");
    }

    /// Waits for the process to exit (after a failpoint or a signal) and returns its status.
    pub async fn exited(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "mimi did not exit within {limit:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL delivered");
        self.child.wait().unwrap();
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([&format!("-{sig}"), &self.child.id().to_string()]).status().unwrap();
        assert!(ok.success());
    }

    /// What the process wrote to stderr (read after it exited).
    pub fn stderr(&mut self) -> String {
        use std::io::Read;
        let mut out = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut out);
        }
        out
    }
}

impl Drop for MimiProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs a payload to a running binary.
pub async fn post(
    client: &reqwest::Client,
    p: &MimiProcess,
    payload: &serde_json::Value,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(p.url("/webhook"))
        .bearer_auth(WEBHOOK_TOKEN)
        .header("content-type", "application/json")
        .body(payload.to_string())
        .timeout(Duration::from_secs(10))
        .send()
        .await
}
