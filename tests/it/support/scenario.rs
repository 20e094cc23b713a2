//! The crashloop-payments scenario in the sandbox cluster, and an analysis proposing the fix (a
//! restart of pay/payments), for the flows that go from an alert to a verified action.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mimi::config::{ApiToken, ApproverSettings, Secret, Settings};
use mimi::domain::analysis::{Analysis, ProposedAction};
use mimi::domain::approver::Platform;
use mimi::sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use serde_json::{Value, json};
use tempfile::TempDir;

pub struct PaymentsCluster {
    /// Kept alive while the test runs.
    _sandbox: SandboxHandle,
    /// Holds the kubeconfig.
    _dir: TempDir,
    pub kubeconfig: PathBuf,
    /// The scenario's Alertmanager payload.
    pub alert: Value,
}

/// The sandbox serving `tests/scenarios/crashloop-payments`, ready at once.
pub async fn crashloop_payments() -> PaymentsCluster {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/crashloop-payments");
    let opts = SandboxOptions { ready_after: Duration::ZERO, ..SandboxOptions::default() };
    let sandbox = Sandbox::start(&scenario, opts).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig).unwrap();
    let alert = serde_json::from_str(&std::fs::read_to_string(scenario.join("alert.json")).unwrap()).unwrap();
    PaymentsCluster { _sandbox: sandbox, _dir: dir, kubeconfig, alert }
}

/// "payments crash-loops on a stale address": restart pay/payments.
pub fn restart_payments() -> Analysis {
    Analysis {
        diagnosis: "payments crash-loops on a stale address".into(),
        facts: vec!["CrashLoopBackOff, 12 restarts".into()],
        confidence: Some(0.9),
        proposals: vec![ProposedAction {
            action: serde_json::from_value(
                json!({"kind": "restart_deployment", "namespace": "pay", "name": "payments"}),
            )
            .unwrap(),
            reason: "a restart clears the stale address".into(),
        }],
        flags: vec![],
        analyzer: "fake".into(),
        version: "test".into(),
        tokens: None,
        millis: 1,
    }
}

/// Mimi acting on the sandbox at `kubeconfig` without waiting (no cache, no settle time), with
/// `alice` (API token `alice-token`) its only approver, deciding through the web API.
pub fn alice_approves_on(s: &mut Settings, kubeconfig: PathBuf) {
    s.kubernetes.kubeconfig = Some(kubeconfig);
    s.kubernetes.cache = false;
    s.verification.settle_seconds = 0;
    s.verification.interval_seconds = 1;
    s.api.tokens.push(ApiToken { name: "alice".into(), token: Some(Secret::new("alice-token")), token_file: None });
    s.policy.approvers = vec![ApproverSettings {
        platform: Platform::Web,
        channel: None,
        team: None,
        users: vec!["alice".into()],
        groups: vec![],
    }];
}
