//! A real Synapse homeserver for the Matrix tests: PyPI `matrix-synapse` in the test venv
//! (`MIMI_TEST_PYTHON`, installed by tests/run.sh), SQLite, 127.0.0.1 on a free port, no
//! federation, the rate limits the test chooses, and users registered through the shared-secret
//! admin API. The server is killed when the value is dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;

use super::{free_port, http};

const SHARED_SECRET: &str = "mimi-test-registration-secret";
pub const SERVER_NAME: &str = "localhost";

/// How the test wants the homeserver.
#[derive(Debug, Clone, Copy)]
pub struct SynapseOptions {
    /// `rc_message`: messages per second per user and the burst; default: effectively unlimited.
    pub messages_per_second: f64,
    pub message_burst: u32,
}

impl Default for SynapseOptions {
    fn default() -> Self {
        SynapseOptions { messages_per_second: 1000.0, message_burst: 1000 }
    }
}

/// A registered user.
#[derive(Debug, Clone)]
pub struct User {
    pub user_id: String,
    pub password: String,
    pub access_token: String,
}

pub struct Synapse {
    pub url: String,
    child: Child,
    dir: TempDir,
}

fn python() -> PathBuf {
    std::env::var_os("MIMI_TEST_PYTHON").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("python3"))
}

fn unlimited() -> Value {
    json!({"per_second": 1000, "burst_count": 1000})
}

impl Synapse {
    pub async fn start(opts: SynapseOptions) -> Synapse {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        // A fixed test signing key (the server never federates).
        std::fs::write(dir.path().join("signing.key"), "ed25519 a_test zXk4YOSXt3H2pkHGRkfecE/LjaVjhZH+bREp0n95Q7U\n")
            .unwrap();
        let port = free_port();
        let config = json!({
            "server_name": SERVER_NAME,
            "pid_file": format!("{d}/homeserver.pid"),
            "listeners": [{"port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": false,
                           "x_forwarded": false, "resources": [{"names": ["client"], "compress": false}]}],
            "database": {"name": "sqlite3", "args": {"database": format!("{d}/homeserver.db")}},
            "media_store_path": format!("{d}/media"),
            "signing_key_path": format!("{d}/signing.key"),
            "macaroon_secret_key": "mimi-test-macaroon",
            "form_secret": "mimi-test-form",
            "report_stats": false,
            "registration_shared_secret": SHARED_SECRET,
            "enable_registration": false,
            "trusted_key_servers": [],
            "suppress_key_server_warning": true,
            "federation_domain_whitelist": [],
            "presence": {"enabled": false},
            "url_preview_enabled": false,
            "rc_message": {"per_second": opts.messages_per_second, "burst_count": opts.message_burst},
            "rc_registration": unlimited(),
            "rc_login": {"address": unlimited(), "account": unlimited(), "failed_attempts": unlimited()},
            "rc_joins": {"local": unlimited(), "remote": unlimited()},
            "rc_joins_per_room": unlimited(),
            "rc_invites": {"per_room": unlimited(), "per_user": unlimited(), "per_issuer": unlimited()},
            "rc_key_requests": unlimited(),
            "rc_room_creation": unlimited(),
            "rc_presence": {"per_user": unlimited()},
        });
        let path = dir.path().join("homeserver.yaml");
        // JSON is YAML.
        std::fs::write(&path, config.to_string()).unwrap();
        let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let child = Command::new(python())
            .args(["-m", "synapse.app.homeserver"])
            .arg("--config-path")
            .arg(&path)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("matrix-synapse is installed in MIMI_TEST_PYTHON's venv (tests/run.sh installs it)");
        let mut synapse = Synapse { url: format!("http://127.0.0.1:{port}"), child, dir };
        synapse.wait_ready().await;
        synapse
    }

    async fn wait_ready(&mut self) {
        let client = http();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            let up = client.get(format!("{}/_matrix/client/versions", self.url)).send().await;
            if up.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            let log = std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default();
            let exited = self.child.try_wait().ok().flatten();
            assert!(exited.is_none(), "synapse exited ({exited:?}) before it was ready:\n{log}");
            assert!(tokio::time::Instant::now() < deadline, "synapse did not start:\n{log}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Registers `localpart` with the shared secret (HMAC-SHA1 over nonce, user, password, admin).
    pub async fn register(&self, localpart: &str, admin: bool) -> User {
        let client = http();
        let url = format!("{}/_synapse/admin/v1/register", self.url);
        let nonce: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        let nonce = nonce["nonce"].as_str().unwrap().to_string();
        let password = format!("{localpart}-password-123");
        let role = if admin { "admin" } else { "notadmin" };
        let mac = hmac_sha1(&format!("{nonce}\0{localpart}\0{password}\0{role}"));
        let body = json!({"nonce": nonce, "username": localpart, "password": password, "admin": admin,
                          "mac": mac});
        let resp = client.post(&url).json(&body).send().await.unwrap();
        let status = resp.status();
        let answer: Value = resp.json().await.unwrap();
        assert!(status.is_success(), "registering {localpart}: {answer}");
        User {
            user_id: answer["user_id"].as_str().unwrap().to_string(),
            password,
            access_token: answer["access_token"].as_str().unwrap().to_string(),
        }
    }

    /// A client-server or admin API call with `token`; (status, JSON).
    pub async fn call(&self, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = http().request(method, format!("{}{path}", self.url)).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The device ids of `user` (admin API; `admin_token` of an admin user).
    pub async fn devices(&self, admin_token: &str, user: &str) -> Vec<String> {
        let (status, body) = self
            .call(reqwest::Method::GET, &format!("/_synapse/admin/v2/users/{user}/devices"), admin_token, None)
            .await;
        assert_eq!(status, 200, "{body}");
        body["devices"].as_array().unwrap().iter().map(|d| d["device_id"].as_str().unwrap().to_string()).collect()
    }
}

/// HMAC-SHA1 with the shared secret, hex: computed by the venv's Python (no extra Rust crate).
fn hmac_sha1(message: &str) -> String {
    let script = "import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha1).hexdigest())";
    let mut child = Command::new(python())
        .args(["-c", script, SHARED_SECRET])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), message.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python computes the registration MAC");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

impl Drop for Synapse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
