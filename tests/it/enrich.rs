//! The enrich step against the sandbox cluster: evidence from the objects an alert names, with
//! secrets redacted (E12), logs within the budget (E14), and graceful degradation when the API is
//! unreachable.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mimi::sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use serde_json::Value;
use tempfile::TempDir;

use crate::support::TestApp;

/// A running sandbox for a copy of a project scenario, editable before start.
struct Cluster {
    _sandbox: SandboxHandle,
    kubeconfig: PathBuf,
    alert: Value,
    _dir: TempDir,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Starts the sandbox on a copy of `tests/scenarios/<name>`, after `edit` changes the copy.
async fn cluster(name: &str, edit: impl FnOnce(&Path)) -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios").join(name), &scenario);
    edit(&scenario);
    let opts = SandboxOptions { ready_after: Duration::ZERO, ..SandboxOptions::default() };
    let sandbox = Sandbox::start(&scenario, opts).await.expect("sandbox starts");
    let kubeconfig = dir.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig).unwrap();
    let alert = serde_json::from_str(&std::fs::read_to_string(scenario.join("alert.json")).unwrap()).unwrap();
    Cluster { _sandbox: sandbox, kubeconfig, alert, _dir: dir }
}

async fn mimi_for(c: &Cluster) -> TestApp {
    let kubeconfig = c.kubeconfig.clone();
    TestApp::spawn_with(move |s| s.kubernetes.kubeconfig = Some(kubeconfig)).await
}

/// The first incident once settled: with evidence the rules propose a restart and wait for approval;
/// without (an unreachable cluster) they have nothing to offer.
async fn evidence_of_first_incident(app: &TestApp, alert: &Value, state: &str) -> Value {
    assert_eq!(app.post_alerts(alert).await.status(), 200);
    app.settle().await;
    let detail = app.incident(1).await;
    assert_eq!(detail["state"], state, "{detail}");
    detail
}

#[tokio::test]
async fn a_crash_looping_pod_yields_its_termination_owner_chain_rollout_events_and_logs() {
    let c = cluster("oomkilled-checkout", |_| {}).await;
    let app = mimi_for(&c).await;
    let detail = evidence_of_first_incident(&app, &c.alert, "awaiting_approval").await;
    let ev = &detail["evidence"]["bundle"];

    let subjects: Vec<String> = ev["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{} {} {}", s["kind"], s["name"], s["found"]))
        .collect();
    assert!(subjects.contains(&"\"Pod\" \"checkout-6d8f7c9b4-q2x7m\" true".to_string()), "{subjects:?}");
    assert!(subjects.contains(&"\"Deployment\" \"checkout\" true".to_string()), "owner chain followed: {subjects:?}");

    let pod = ev["pods"].as_array().unwrap().iter().find(|p| p["name"] == "checkout-6d8f7c9b4-q2x7m").unwrap();
    assert_eq!(pod["owners"], serde_json::json!(["ReplicaSet checkout-6d8f7c9b4", "Deployment checkout"]));
    let app_container = &pod["containers"][0];
    assert_eq!(app_container["restarts"], 7);
    assert_eq!(app_container["state"], "waiting: CrashLoopBackOff");
    assert_eq!(app_container["last_termination"], "OOMKilled (exit 137)");

    let deployment = &ev["workloads"][0];
    assert_eq!(
        (deployment["name"].as_str(), deployment["desired"].as_i64(), deployment["ready"].as_i64()),
        (Some("checkout"), Some(2), Some(1))
    );

    let previous = ev["logs"].as_array().unwrap().iter().find(|l| l["previous"] == true).expect("previous log read");
    assert!(previous["text"].as_str().unwrap().contains("OutOfMemoryError"), "{previous}");

    let rendered = detail["evidence"]["rendered"].as_str().unwrap();
    assert!(rendered.contains("last terminated OOMKilled (exit 137)"), "{rendered}");
    assert!(
        rendered.contains("container app: registry.example.com/shop/checkout:1.42.0; limits memory=256Mi"),
        "{rendered}"
    );
    assert!(rendered.contains("Previous log of checkout-6d8f7c9b4-q2x7m/app"), "{rendered}");
    assert!(rendered.len() <= app.settings.evidence.budget_bytes + 120);

    let kinds: Vec<&str> = detail["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"evidence"), "{kinds:?}");
    let health: Value = app.client.get(app.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["checks"]["cluster"]["status"], "ok", "{health}");
}

const CANARIES: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "xoxb-1234567890-0987654321-AbCdEfGhIjKl",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "MIIEowIBAAKCAQEAcanarykeymaterial",
    "Bearer-token-canary-9f8e7d",
    "hunter2-canary",
    "pg-canary-password",
];

#[tokio::test]
async fn e12_secrets_in_logs_reach_neither_the_evidence_nor_the_database() {
    let c = cluster("oomkilled-checkout", |dir| {
        let log = dir.join("logs/shop/checkout-6d8f7c9b4-q2x7m/app.previous.log");
        let mut text = std::fs::read_to_string(&log).unwrap();
        text.push_str(&format!(
            "2026-11-20T09:14:11Z DEBUG aws key {}\n\
             2026-11-20T09:14:11Z DEBUG slack {}\n\
             2026-11-20T09:14:11Z DEBUG session {}\n\
             -----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n\
             2026-11-20T09:14:12Z DEBUG Authorization: Bearer {}\n\
             2026-11-20T09:14:12Z ERROR login failed password={}\n\
             2026-11-20T09:14:12Z ERROR cannot connect postgres://app:{}@db:5432/shop\n",
            CANARIES[0], CANARIES[1], CANARIES[2], CANARIES[3], CANARIES[4], CANARIES[5], CANARIES[6]
        ));
        std::fs::write(log, text).unwrap();
    })
    .await;
    let app = mimi_for(&c).await;
    let detail = evidence_of_first_incident(&app, &c.alert, "awaiting_approval").await;
    let text = detail.to_string();
    for canary in CANARIES {
        assert!(!text.contains(canary), "{canary} leaked into the incident");
    }
    assert!(detail["evidence"]["bundle"]["redactions"].as_u64().unwrap() >= 7, "{}", detail["evidence"]["bundle"]);
    assert!(app.metric("mimi_redactions_total").await >= 7.0);

    // Nothing of it on disk either (database and write-ahead log).
    let db = app.db_path();
    let _dir = app.stop().await;
    for file in [db.clone(), db.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            let haystack = String::from_utf8_lossy(&bytes);
            for canary in CANARIES {
                assert!(!haystack.contains(canary), "{canary} found in {}", file.display());
            }
        }
    }
}

#[tokio::test]
async fn e14_ten_megabytes_of_logs_stay_within_the_budget() {
    let c = cluster("oomkilled-checkout", |dir| {
        let log = dir.join("logs/shop/checkout-6d8f7c9b4-q2x7m/app.previous.log");
        let mut text = "2026-11-20T09:14:02Z INFO  a long line of ordinary logging that repeats\n".repeat(150_000);
        text.push_str("2026-11-20T09:14:10Z ERROR java.lang.OutOfMemoryError: Java heap space\n");
        std::fs::write(log, text).unwrap();
    })
    .await;
    let app = mimi_for(&c).await;
    let detail = evidence_of_first_incident(&app, &c.alert, "awaiting_approval").await;
    let rendered = detail["evidence"]["rendered"].as_str().unwrap();
    assert!(rendered.len() <= app.settings.evidence.budget_bytes + 120, "{} bytes", rendered.len());
    assert!(rendered.contains("OutOfMemoryError"), "the crash at the end survives");
    assert!(
        rendered.contains("earlier lines not read") || rendered.contains("bytes cut"),
        "a marker says what is missing: {rendered}"
    );
    let stored = detail["evidence"]["bundle"]["logs"].to_string();
    assert!(stored.len() < 200_000, "only the tail was read: {} bytes stored", stored.len());
}

#[tokio::test]
async fn an_unreachable_cluster_is_noted_and_the_incident_still_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster("oomkilled-checkout", |_| {}).await;
    // Same kubeconfig, but pointing at a port where nothing listens.
    let port = crate::support::free_port();
    let yaml = std::fs::read_to_string(&c.kubeconfig).unwrap();
    let server = yaml
        .lines()
        .find(|l| l.trim_start().starts_with("server:"))
        .unwrap()
        .trim()
        .trim_start_matches("server:")
        .trim()
        .to_string();
    let dead = dir.path().join("kubeconfig");
    std::fs::write(&dead, yaml.replace(&server, &format!("https://127.0.0.1:{port}"))).unwrap();
    let app = TestApp::spawn_with(move |s| {
        s.kubernetes.kubeconfig = Some(dead);
        s.kubernetes.request_timeout_seconds = 2;
    })
    .await;
    let detail = evidence_of_first_incident(&app, &c.alert, "notified").await;
    let notes = detail["evidence"]["bundle"]["notes"].to_string();
    assert!(notes.contains("could not read") && notes.contains("unreachable"), "{notes}");
    let health: Value = app.client.get(app.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["checks"]["cluster"]["status"], "down", "{health}");
    assert_eq!(health["status"], "degraded");
}

#[tokio::test]
async fn the_watched_caches_become_ready_on_their_own() {
    // Nothing awaits readiness here: the cache must mark itself ready when its first list is in
    // (a waiter-based signal was seen to stay unset until something polled it again).
    let c = cluster("oomkilled-checkout", |_| {}).await;
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&c.kubeconfig).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    let kube =
        mimi::cluster::KubeCluster::from_client(kube::Client::try_from(config).unwrap(), true, Duration::from_secs(10));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !kube.caches_are_ready() {
        assert!(std::time::Instant::now() < deadline, "the caches never said they were ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    use mimi::cluster::ClusterRead;
    assert_eq!(kube.pods(Some("shop"), &Default::default()).await.unwrap().len(), 2);
}
