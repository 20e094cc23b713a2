//! A real Prometheus Alertmanager (Debian `prometheus-alertmanager`) on 127.0.0.1, whose webhook
//! receiver points at a Mimi under test. Stopped when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use super::{WEBHOOK_TOKEN, free_port};

pub struct Alertmanager {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

/// The binary: `$MIMI_ALERTMANAGER_BIN`, else the Debian path, else `alertmanager` on PATH.
fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("MIMI_ALERTMANAGER_BIN") {
        return PathBuf::from(p);
    }
    for candidate in ["/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager"] {
        if std::path::Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    PathBuf::from("alertmanager")
}

impl Alertmanager {
    /// Starts Alertmanager routing every alert, grouped by alertname and namespace, to `webhook_url`.
    pub async fn start(webhook_url: &str) -> Alertmanager {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = format!(
            r#"
route:
  receiver: mimi
  group_by: ['alertname', 'namespace']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 4s
receivers:
  - name: mimi
    webhook_configs:
      - url: '{webhook_url}'
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: '{WEBHOOK_TOKEN}'
"#
        );
        let config_path = dir.path().join("alertmanager.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(binary())
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start Alertmanager ({}): {e}. Install Debian's prometheus-alertmanager \
                     (tests/run.sh does) or set MIMI_ALERTMANAGER_BIN",
                    binary().display()
                )
            });
        let am = Alertmanager { child, port, _dir: dir };
        let client = crate::support::http();
        for _ in 0..200 {
            if let Ok(r) = client.get(am.url("/-/ready")).send().await
                && r.status() == 200
            {
                return am;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("Alertmanager did not become ready on port {port}");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Posts alerts through Alertmanager's API v2 (`POST /api/v2/alerts`).
    pub async fn post_alerts(&self, alerts: &Value) {
        let resp = crate::support::http().post(self.url("/api/v2/alerts")).json(alerts).send().await.unwrap();
        assert_eq!(resp.status(), 200, "Alertmanager refused the alerts: {}", resp.text().await.unwrap_or_default());
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
