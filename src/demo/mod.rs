//! `mimi demo`: Mimi doing its whole job in one command, without a cluster, chat or an LLM.
//!
//! Starts a sandbox cluster seeded with four bundled scenarios (`bundle.rs`), then Mimi on the
//! embedded defaults (SQLite under the data directory, the rule analyzer, the console; Slack,
//! Matrix or email too when their settings are in the environment), fires the scenarios' alerts
//! through the real webhook, waits until they are analysed, and prints where to look. Approving the
//! restart in the console runs it in the sandbox and the incident ends verified.

pub mod bundle;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::app::Running;
use crate::config::{ApiToken, ApproverSettings, ConsoleUser, Secret, Settings};
use crate::domain::approver::Platform;
use crate::sandbox::{Sandbox, SandboxHandle, SandboxOptions};

/// Marks a data directory as the demo's, so a second run may clear it.
const MARKER: &str = ".mimi-demo";

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// The password of both console users (`admin` approves, `viewer` may not); random if unset.
    pub password: Option<String>,
}

/// A running demo.
pub struct Demo {
    pub running: Running,
    pub sandbox: SandboxHandle,
    pub console_url: String,
    pub password: String,
    pub kubeconfig: PathBuf,
    /// The incident ids, in the order of `bundle::SCENARIOS`.
    pub incidents: Vec<i64>,
}

/// Settings for the demo: `base` (the environment's, for chat sinks) with the demo's data
/// directory, sandbox, console users and quick verification.
pub fn settings(
    base: Settings,
    o: &DemoOptions,
    kubeconfig: &Path,
    password: &str,
    token: &str,
) -> anyhow::Result<Settings> {
    let mut s = base;
    s.data_dir = o.data_dir.clone();
    s.store.path = None;
    // Memory (if on) lives in the demo's data directory too: simulated incidents never reach a real one.
    s.memory.path = None;
    s.server.listen = o.listen;
    s.server.public_url.get_or_insert_with(|| format!("http://{}", o.listen));
    s.kubernetes.kubeconfig = Some(kubeconfig.to_path_buf());
    s.webhook.bearer_token = Some(Secret::new(token));
    s.api.tokens.push(ApiToken { name: "demo".into(), token: Some(Secret::new(token)), token_file: None });
    let hash = crate::http::console::hash_password(password)?;
    for name in ["admin", "viewer"] {
        s.console.users.push(ConsoleUser {
            name: name.into(),
            password_hash: Some(Secret::new(hash.clone())),
            password_hash_file: None,
        });
    }
    s.console.enabled = true;
    s.policy.approvers.push(ApproverSettings {
        platform: Platform::Web,
        channel: None,
        team: None,
        users: vec!["admin".into(), "demo".into()],
        groups: vec![],
    });
    s.verification.settle_seconds = 10;
    s.verification.interval_seconds = 2;
    s.verification.timeout_seconds = 120;
    crate::config::validate_settings(&s).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(s)
}

/// Starts the sandbox and Mimi, fires the alerts and waits until every incident is analysed.
/// `progress` hears what is going on.
pub async fn start(base: Settings, o: DemoOptions, progress: impl Fn(&str)) -> anyhow::Result<Demo> {
    prepare_dir(&o.data_dir)?;
    let cluster_dir = o.data_dir.join("cluster");
    bundle::write_cluster(&cluster_dir)?;
    progress("starting the sandbox cluster (4 scenarios)...");
    let sandbox_opts = SandboxOptions { ready_after: Duration::from_secs(3), ..SandboxOptions::default() };
    let sandbox = Sandbox::start(&cluster_dir, sandbox_opts).await.context("the sandbox did not start")?;
    let kubeconfig = o.data_dir.join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig)?;

    let password =
        o.password.clone().unwrap_or_else(|| crate::http::console::session::random_token()[..12].to_string());
    let token = crate::http::console::session::random_token();
    let settings = settings(base, &o, &kubeconfig, &password, &token)?;
    progress("starting Mimi (SQLite, rule analyzer, console)...");
    let running = crate::app::start(settings, None).await.context("mimi did not start")?;
    let base_url = format!("http://{}", running.addr);

    let client = reqwest::Client::new();
    let now = jiff::Timestamp::now();
    for (i, s) in bundle::SCENARIOS.iter().enumerate() {
        let payload = bundle::alert(s, now, 12 - 3 * i as i64)?;
        let resp = client
            .post(format!("{base_url}/webhook"))
            .bearer_auth(&token)
            .json(&payload)
            .send()
            .await
            .with_context(|| format!("posting the {} alert", s.name))?;
        if !resp.status().is_success() {
            bail!("the webhook refused the {} alert: {}", s.name, resp.text().await.unwrap_or_default());
        }
        progress(&format!("fired the {} alert", s.name));
    }
    let incidents = wait_until_analysed(&running, bundle::SCENARIOS.len(), &progress).await?;
    Ok(Demo { running, sandbox, console_url: format!("{base_url}/"), password, kubeconfig, incidents })
}

async fn wait_until_analysed(running: &Running, n: usize, progress: &impl Fn(&str)) -> anyhow::Result<Vec<i64>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let filter = crate::store::IncidentFilter { limit: 50, ..Default::default() };
    let mut reported = usize::MAX;
    loop {
        let page = running.store.list_incidents(&filter).await?;
        let done = page
            .incidents
            .iter()
            .filter(|i| !matches!(i.state.as_str(), "received" | "enriching" | "analyzing"))
            .count();
        if done != reported {
            progress(&format!("{done} of {n} incidents analysed"));
            reported = done;
        }
        if page.incidents.len() >= n && done >= n {
            // In the order of the scenarios, matched by their alert group.
            let mut ids = Vec::new();
            for s in bundle::SCENARIOS {
                let group = bundle::group_key(s)?;
                let found = page.incidents.iter().find(|i| i.group_key == group);
                ids.push(found.map(|i| i.id).with_context(|| format!("no incident for {}", s.name))?);
            }
            return Ok(ids);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the incidents were not analysed within 60 s; see the log above");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A fresh data directory: created, or cleared when a previous demo left it.
fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            bail!(
                "{} exists and is not a demo data directory; pass another --data-dir (the demo clears its own)",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join(MARKER), "created by `mimi demo`; cleared by the next run\n")?;
    Ok(())
}

/// What to print once the demo is up.
pub fn banner(d: &Demo) -> String {
    let mut out = format!(
        "\nMimi's demo is running.\n\n  Console   {}\n            user admin   password {}   (may approve)\n            \
         user viewer  password {}   (may look, may not approve)\n  Sandbox   kubectl --kubeconfig {} get pods -A\n\n\
         Incidents:\n",
        d.console_url,
        d.password,
        d.password,
        d.kubeconfig.display()
    );
    for (s, id) in bundle::SCENARIOS.iter().zip(&d.incidents) {
        out.push_str(&format!("  #{id:<3} {:<22} {}\n", s.name, s.try_this));
    }
    out.push_str(
        "\nTry: open the crashloop-payments incident, approve the restart, and watch it end verified;\n\
         ask \"what's wrong in namespace pay?\" in the Ask box. Ctrl-C stops the demo.\n",
    );
    out
}
