//! A minimal W3C WebDriver client over HTTP, driving headless Chromium through `chromedriver`
//! (Debian packages `chromium` and `chromium-driver`, installed by tests/run.sh). The driver binds
//! 127.0.0.1 on a free port and is killed on drop.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use super::{free_port, http, wait_until};

/// The W3C web element identifier key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: tokio::process::Child,
    base: String,
    session: String,
    client: reqwest::Client,
    _profile: tempfile::TempDir,
}

fn chromedriver() -> String {
    std::env::var("MIMI_TEST_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session. Panics with what to install when the
    /// binaries are missing.
    pub async fn start() -> Browser {
        let bin = chromedriver();
        assert!(
            std::path::Path::new(&bin).exists(),
            "{bin} is missing: install the Debian packages chromium and chromium-driver (tests/run.sh does)"
        );
        let port = free_port();
        let driver = tokio::process::Command::new(&bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let client = http();
        wait_until(Duration::from_secs(20), "chromedriver to listen", || {
            let c = client.clone();
            let url = format!("{base}/status");
            async move { c.get(url).send().await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": std::env::var("MIMI_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-extensions",
                         format!("--user-data-dir={}", profile.path().display())]
            }
        }}});
        let resp: Value =
            client.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session = resp["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {resp}")).to_string();
        Browser { driver, base, session, client, _profile: profile }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.client.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp: Value = req.send().await.unwrap().json().await.unwrap();
        resp["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        let v = self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
        assert!(v.is_null(), "navigating to {url}: {v}");
    }

    pub async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or_default().to_string()
    }

    /// The element matching `css`, if any.
    pub async fn find(&self, css: &str) -> Option<String> {
        let v = self.cmd(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        v[ELEMENT].as_str().map(str::to_string)
    }

    /// Waits up to 20 s for `css` to match.
    pub async fn wait_for(&self, css: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(e) = self.find(css).await {
                return e;
            }
            assert!(tokio::time::Instant::now() < deadline, "{css} never appeared; page:\n{}", self.source().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{e}/value"), Some(json!({"text": text}))).await;
    }

    pub async fn click(&self, css: &str) {
        let e = self.wait_for(css).await;
        let v = self.cmd(reqwest::Method::POST, &format!("/element/{e}/click"), Some(json!({}))).await;
        assert!(v.is_null(), "clicking {css}: {v}");
    }

    /// Accepts a `window.confirm` dialog (waits for it to open).
    pub async fn accept_dialog(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.cmd(reqwest::Method::POST, "/alert/accept", Some(json!({}))).await;
            if v.is_null() {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "no dialog opened: {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.wait_for(css).await;
        self.cmd(reqwest::Method::GET, &format!("/element/{e}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", None).await.as_str().unwrap_or_default().to_string()
    }

    /// Waits up to `limit` until the text of `css` contains `needle` (the page refreshes itself).
    pub async fn wait_for_text(&self, css: &str, needle: &str, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(e) = self.find(css).await {
                let t = self.cmd(reqwest::Method::GET, &format!("/element/{e}/text"), None).await;
                if t.as_str().is_some_and(|t| t.contains(needle)) {
                    return;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} never said {needle:?}; page:\n{}",
                self.source().await
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn quit(mut self) {
        let _ = self.client.delete(format!("{}/session/{}", self.base, self.session)).send().await;
        let _ = self.driver.kill().await;
    }
}
