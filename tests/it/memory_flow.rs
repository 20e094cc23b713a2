//! Memory through the whole pipeline: an incident fixed by a verified restart is remembered, and the
//! next similar incident recalls it — in the analyzer's input, the incident detail and the message —
//! with its id and outcome; with the vector store down, analysis still completes and says so
//! (DESIGN invariant 7); runbook questions are answered from docs/runbooks.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mimi::analyze::fake::FakeAnalyzer;
use mimi::config::MemorySettings;
use mimi::rag::Memory;
use mimi::rag::embed::lexical::Lexical;
use mimi::rag::store::VectorStore;
use mimi::rag::store::edge::EdgeStore;
use mimi::rag::store::fake::MemoryStore;
use serde_json::{Value, json};

use crate::support::scenario::{alice_approves_on, crashloop_payments, restart_payments};
use crate::support::{API_TOKEN, TestApp, payload, wait_until};

async fn wait_state(app: &TestApp, id: i64, state: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, detail) = app.api(&format!("/api/incidents/{id}")).await;
        if detail["state"] == state {
            return detail;
        }
        assert!(tokio::time::Instant::now() < deadline, "incident {id} never reached {state}: {detail:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_incident_fixed_by_a_verified_restart_is_recalled_with_its_outcome_for_the_next_one() {
    let cluster = crashloop_payments().await;
    let kubeconfig = cluster.kubeconfig.clone();
    let dir = tempfile::tempdir().unwrap();
    // The real embedded store, where the test can look too.
    let memory = Arc::new(Memory::new(
        Arc::new(Lexical),
        Arc::new(EdgeStore::new(dir.path().join("memory"))),
        &MemorySettings::default(),
        false,
    ));
    let analyzer = Arc::new(FakeAnalyzer::answering(Ok(restart_payments())));
    let app = TestApp::spawn_full(
        move |s| alice_approves_on(s, kubeconfig),
        mimi::app::Overrides { analyzer: Some(analyzer.clone()), memory: Some(memory.clone()), ..Default::default() },
    )
    .await;
    let alert = cluster.alert.clone();

    // The first time: nothing to recall; approve the restart; it is verified.
    assert_eq!(app.post_alerts(&alert).await.status(), 200);
    let first = wait_state(&app, 1, "awaiting_approval").await;
    assert_eq!(first["similar"], json!([]), "nothing remembered yet");
    let proposal = first["proposals"][0]["id"].as_str().unwrap().to_string();
    let url = app.url(&format!("/api/proposals/{proposal}/approve"));
    let resp = app.client.post(url).bearer_auth("alice-token").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    wait_state(&app, 1, "resolved").await;
    wait_until(Duration::from_secs(20), "incident 1 to be remembered", || async {
        memory.count_incidents().await.unwrap_or(0) == 1
    })
    .await;

    // Days later the same thing happens again (another group, other pods).
    let mut again = alert.clone();
    again["groupKey"] = json!("{}:{alertname=\"KubePodCrashLooping\", namespace=\"pay\", again=\"1\"}");
    for (i, a) in again["alerts"].as_array_mut().unwrap().iter_mut().enumerate() {
        a["fingerprint"] = json!(format!("ffff00000000000{i}"));
        a["startsAt"] = json!("2026-11-23T08:00:00Z");
    }
    assert_eq!(app.post_alerts(&again).await.status(), 200);
    let second = wait_state(&app, 2, "awaiting_approval").await;

    let similar = second["similar"].as_array().unwrap();
    assert_eq!(similar[0]["incident_id"], 1, "{second:#}");
    assert_eq!(similar[0]["verified"], true);
    assert_eq!(similar[0]["action"]["kind"], "restart_deployment");
    assert!(similar[0]["summary"].as_str().unwrap().contains("verified"), "{}", similar[0]);
    let seen = analyzer.seen();
    let input = seen.last().unwrap();
    assert_eq!(input.similar[0].incident_id, 1, "the analyzer is given the past incident and its outcome");
    assert_eq!(input.similar[0].verified, Some(true));

    let view = mimi::notify::incident_view(app.store(), 2, None).await.unwrap().unwrap();
    let message = mimi::notify::render::incident(&view);
    assert!(message.text.contains("Similar past incidents"), "{}", message.text);
    assert!(message.text.contains("#1 (similarity"), "{}", message.text);
    assert!(message.text.contains("restart_deployment pay/payments (verified fix)"), "{}", message.text);
    drop(cluster);
}

#[tokio::test]
async fn with_the_vector_store_down_analysis_completes_and_says_memory_was_unavailable() {
    let store = Arc::new(MemoryStore::default());
    store.set_down(true);
    let memory = Arc::new(Memory::new(Arc::new(Lexical), store.clone(), &MemorySettings::default(), false));
    let analyzer = Arc::new(FakeAnalyzer::answering(Ok(restart_payments())));
    let app = TestApp::spawn_full(
        // Enough attempts for the memory job to outlive the outage.
        |s| s.worker.max_attempts = 10_000,
        mimi::app::Overrides { analyzer: Some(analyzer.clone()), memory: Some(memory), ..Default::default() },
    )
    .await;
    assert_eq!(app.post_alerts(&payload::one("g1")).await.status(), 200);
    app.settle().await;
    let detail = app.incident(1).await;
    assert_eq!(detail["analysis"]["diagnosis"], restart_payments().diagnosis);
    assert_eq!(analyzer.seen().len(), 1, "the analyzer ran");
    let note = detail["memory_note"].as_str().unwrap_or_default();
    assert!(note.contains("vector store is unavailable"), "{detail:#}");
    let recall = detail["timeline"].as_array().unwrap().iter().find(|e| e["kind"] == "memory_recall").cloned();
    assert!(recall.is_some(), "the timeline says so");
    let view = mimi::notify::incident_view(app.store(), 1, None).await.unwrap().unwrap();
    assert!(mimi::notify::render::incident(&view).text.contains("Similar past incidents: not available"));

    // Resolving it while the store is down: the memory job fails and is retried, never blocking
    // the incident; when the store is back, the retry indexes it.
    let resolved = payload::group("g1", vec![payload::resolved("fp-g1", "checkout-1", payload::T0, payload::T1)]);
    assert_eq!(app.post_alerts(&resolved).await.status(), 200);
    wait_state(&app, 1, "resolved").await;
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE step = 'remember'")
        .fetch_one(app.store().reader())
        .await
        .unwrap();
    assert_eq!(pending, 1, "the memory job waits for the store");
    store.set_down(false);
    wait_until(Duration::from_secs(20), "the retried memory job to index the incident", || async {
        store.count("incidents").await.unwrap_or(0) == 1
    })
    .await;
}

#[tokio::test]
async fn how_to_questions_are_answered_from_the_shipped_runbooks() {
    let runbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/runbooks");
    let app = TestApp::spawn_with(move |s| s.memory.runbooks_dir = Some(runbooks)).await;
    let ask = |q: &'static str| {
        let (client, url) = (app.client.clone(), app.url("/ask"));
        async move {
            let resp = client.post(url).bearer_auth(API_TOKEN).json(&json!({"question": q})).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    let a = ask("how do I fix an OOMKilled pod?").await;
    let text = a["answer"].as_str().unwrap();
    assert!(text.contains("oom-killed.md"), "{text}");
    assert!(text.contains("limits.memory"), "{text}");
    assert_eq!(a["action_taken"], Value::Null);
    let b = ask("how to fix ImagePullBackOff").await;
    assert!(b["answer"].as_str().unwrap().contains("image-pull.md"), "{b}");
}
