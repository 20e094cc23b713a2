//! The remote Qdrant store (`RemoteStore`, qdrant-client over gRPC) against a fake Qdrant server
//! built from qdrant-client's generated service traits (support/fake_qdrant.rs): filtered recall
//! with the score threshold and the limit, the API key, the embedder kept in the collection's
//! metadata, a server that is down or too slow, count and drop; then memory as a whole through it,
//! and its `[memory.qdrant]` settings.

use std::sync::Arc;
use std::time::Duration;

use mimi::analyze::fake::FakeAnalyzer;
use mimi::config::{Secret, Settings};
use mimi::domain::analysis::Analysis;
use mimi::rag::embed::lexical::{DIMENSION, Lexical};
use mimi::rag::store::remote::RemoteStore;
use mimi::rag::store::{CollectionSpec, Filter, Point, StoreError, VectorStore};
use mimi::rag::{IncidentRecord, Memory, Recall};
use serde_json::json;

use crate::memory::{fill, point, recalls_the_closest_points_that_pass_the_filter, spec};
use crate::support::fake_qdrant::{API_KEY, FakeQdrant};
use crate::support::{TestApp, payload, wait_until};

fn store(fake: &FakeQdrant) -> RemoteStore {
    RemoteStore::new(&fake.url, Some(&Secret::new(API_KEY)), Duration::from_secs(5)).unwrap()
}

async fn filled(fake: &FakeQdrant) -> RemoteStore {
    let store = store(fake);
    fill(&store).await;
    store
}

#[tokio::test]
async fn the_remote_store_recalls_the_closest_points_that_pass_the_filter() {
    let fake = FakeQdrant::start().await;
    let store = filled(&fake).await;
    recalls_the_closest_points_that_pass_the_filter(&store).await;
    let query = Lexical::vector("KubePodCrashLooping checkout CrashLoopBackOff");
    let prod = store.search("incidents", query, &Filter::default().field("cluster", "prod"), 10, -1.0).await.unwrap();
    assert_eq!(prod.len(), 3, "only the other cluster is excluded: {prod:?}");
    assert_eq!(prod[0].payload["text"], "KubePodCrashLooping shop checkout CrashLoopBackOff", "the payload comes back");
    let same = Lexical::vector("KubeContainerOOMKilled pay payments OOMKilled");
    let one = store.search("incidents", same, &Filter::default(), 1, -1.0).await.unwrap();
    assert_eq!(one.len(), 1, "the limit");
    assert!(one[0].id == 3 && (one[0].score - 1.0).abs() < 1e-4, "cosine of the same text: {one:?}");
    assert_eq!(store.count("incidents").await.unwrap(), 4);

    // An upsert replaces by id.
    store.upsert("incidents", vec![point(3, "KubeNodeNotReady worker-9", "prod", "")]).await.unwrap();
    assert_eq!(store.count("incidents").await.unwrap(), 4);
}

#[tokio::test]
async fn the_collection_is_created_once_with_the_embedders_dimension_and_name() {
    let fake = FakeQdrant::start().await;
    let store = store(&fake);
    store.ensure("incidents", &spec()).await.unwrap();
    let (size, meta) = fake.collection("incidents").expect("created on first use");
    assert_eq!(size, DIMENSION as u64);
    assert_eq!(meta, json!({"mimi_embedder": "lexical-v1", "mimi_dimension": DIMENSION}));
    assert_eq!(fake.keyword_indexes("incidents"), ["cluster", "alertname", "kind"], "filtered fields are indexed");
    store.upsert("incidents", vec![point(1, "a", "prod", "shop")]).await.unwrap();
    store.ensure("incidents", &spec()).await.unwrap();
    assert_eq!(store.count("incidents").await.unwrap(), 1, "ensuring again keeps what is there");
    assert_eq!(store.describe(), format!("remote Qdrant at {}", fake.url));
    assert!(!store.describe().contains(API_KEY));
}

#[tokio::test]
async fn a_wrong_or_missing_api_key_is_an_error_not_an_empty_memory() {
    let fake = FakeQdrant::start().await;
    drop(filled(&fake).await);
    let timeout = Duration::from_secs(5);
    for key in [Some(Secret::new("wrong-key")), None] {
        let store = RemoteStore::new(&fake.url, key.as_ref(), timeout).unwrap();
        let err = store.ensure("incidents", &spec()).await.unwrap_err();
        assert!(matches!(&err, StoreError::Failed(m) if m.contains("API key")), "{err:?}");
        let err = store.search("incidents", Lexical::vector("x"), &Filter::default(), 3, -1.0).await.unwrap_err();
        assert!(matches!(err, StoreError::Failed(_)), "{err:?}");
    }
}

#[tokio::test]
async fn a_collection_filled_by_another_embedder_is_refused_until_reindexed() {
    let fake = FakeQdrant::start().await;
    drop(filled(&fake).await);
    let store = store(&fake);
    let minilm = CollectionSpec { embedder: "minilm:all-MiniLM-L6-v2".into(), dimension: 384 };
    let err = store.ensure("incidents", &minilm).await.unwrap_err();
    assert!(matches!(err, StoreError::EmbedderChanged { was_dim: 512, now_dim: 384, .. }), "{err:?}");
    assert!(err.to_string().contains("mimi memory reindex"), "{err}");
    // Same dimension, another embedder: told by the collection's metadata.
    let other = CollectionSpec { embedder: "openai:some-model".into(), dimension: DIMENSION };
    let err = store.ensure("incidents", &other).await.unwrap_err();
    assert!(matches!(&err, StoreError::EmbedderChanged { was, .. } if was == "lexical-v1"), "{err:?}");

    store.drop_collection("incidents").await.unwrap();
    assert!(fake.collection("incidents").is_none());
    store.drop_collection("incidents").await.unwrap();
    store.ensure("incidents", &minilm).await.unwrap();
    assert_eq!(store.count("incidents").await.unwrap(), 0);
    assert_eq!(fake.collection("incidents").unwrap().0, 384);

    // A collection made by another tool (no metadata) is used when its vector size fits.
    fake.create_foreign("shared", 384);
    store.ensure("shared", &minilm).await.unwrap();
    assert_eq!(fake.keyword_indexes("shared").len(), 3, "the indexes it lacked are added");
    let err = store.ensure("shared", &spec()).await.unwrap_err();
    assert!(matches!(err, StoreError::EmbedderChanged { was_dim: 384, now_dim: 512, .. }), "{err:?}");
}

#[tokio::test]
async fn a_server_that_is_down_or_too_slow_is_unavailable() {
    let fake = FakeQdrant::start().await;
    let store = filled(&fake).await;
    let url = fake.url.clone();
    fake.stop().await;
    let err = store.search("incidents", Lexical::vector("x"), &Filter::default(), 3, -1.0).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let fresh = RemoteStore::new(&url, Some(&Secret::new(API_KEY)), Duration::from_secs(2)).unwrap();
    let err = fresh.ensure("incidents", &spec()).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");

    let slow = FakeQdrant::start().await;
    slow.set_delay(Duration::from_secs(3));
    let store = RemoteStore::new(&slow.url, Some(&Secret::new(API_KEY)), Duration::from_millis(200)).unwrap();
    let err = store.ensure("incidents", &spec()).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn an_https_url_speaks_tls_and_checks_the_servers_certificate() {
    let (ca, cert, key) = crate::prometheus::test_certificates();
    let fake = FakeQdrant::start_tls(&cert, &key).await;
    assert!(fake.url.starts_with("https://"));
    // Not trusted (the system's roots only): refused, as a failed connection.
    let err = store(&fake).ensure("incidents", &spec()).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");

    // Trusted through SSL_CERT_FILE, which the system's roots honour. nextest runs every test in a
    // process of its own, so the variable is seen by this test only.
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    // SAFETY: set before any other thread of this test reads the environment (see above).
    unsafe { std::env::set_var("SSL_CERT_FILE", &ca_file) };
    let store = filled(&fake).await;
    assert_eq!(store.count("incidents").await.unwrap(), 4);
}

#[tokio::test]
async fn vectors_of_another_dimension_are_refused_by_the_server() {
    let fake = FakeQdrant::start().await;
    let store = filled(&fake).await;
    let short = Point { id: 9, vector: vec![0.5; 8], payload: json!({"cluster": "prod"}) };
    let err = store.upsert("incidents", vec![short]).await.unwrap_err();
    assert!(matches!(&err, StoreError::Failed(m) if m.contains("dimension")), "{err:?}");
    let err = store.search("missing", Lexical::vector("x"), &Filter::default(), 3, -1.0).await.unwrap_err();
    assert!(matches!(&err, StoreError::Failed(m) if m.contains("doesn't exist")), "{err:?}");
}

fn memory_through(url: &str, key: &str) -> Memory {
    let mut s = Settings::default();
    s.memory.qdrant.url = Some(url.to_string());
    s.memory.qdrant.api_key = Some(Secret::new(key));
    Memory::from_settings(&s, false).unwrap()
}

#[tokio::test]
async fn memory_remembers_and_recalls_through_the_remote_store() {
    let fake = FakeQdrant::start().await;
    let memory = memory_through(&fake.url, API_KEY);
    assert!(memory.describe().starts_with(&format!("remote Qdrant at {}", fake.url)), "{}", memory.describe());
    let record = |id: i64, cluster: &str, alert: &str| IncidentRecord {
        incident_id: id,
        cluster: cluster.into(),
        namespace: Some("pay".into()),
        alertname: alert.into(),
        workload: Some("payments".into()),
        text: format!("{alert} pay payments CrashLoopBackOff"),
        diagnosis: Some("a stale cached address".into()),
        action: serde_json::from_value(json!({"kind": "restart_deployment", "namespace": "pay", "name": "payments"}))
            .unwrap(),
        outcome: "verified".into(),
        verified: Some(true),
        resolve_seconds: Some(60),
        ended_at: 1,
        sandbox: false,
    };
    memory.remember(&record(1, "prod", "KubePodCrashLooping")).await.unwrap();
    memory.remember(&record(2, "staging", "KubePodCrashLooping")).await.unwrap();
    assert_eq!(memory.count_incidents().await.unwrap(), 2);

    let Recall::Found(found) = memory.recall("prod", "KubePodCrashLooping pay payments CrashLoopBackOff", 99).await
    else {
        panic!("recall failed")
    };
    assert_eq!(found.iter().map(|s| s.incident_id).collect::<Vec<_>>(), vec![1], "{found:?}");
    assert_eq!(found[0].verified, Some(true), "the outcome travels in the payload: {found:?}");
    assert!(found[0].action.is_some(), "{found:?}");

    let wrong = memory_through(&fake.url, "wrong-key");
    let Recall::Unavailable(why) = wrong.recall("prod", "KubePodCrashLooping", 99).await else {
        panic!("a refused key must not look like an empty memory")
    };
    assert!(why.contains("API key"), "{why}");
}

#[tokio::test]
async fn with_the_remote_store_down_analysis_completes_and_the_memory_job_waits_for_it() {
    let fake = FakeQdrant::start().await;
    let port = url::Url::parse(&fake.url).unwrap().port().unwrap();
    let url = fake.url.clone();
    fake.stop().await;
    let memory = Arc::new(memory_through(&url, API_KEY));
    let analyzer = Arc::new(FakeAnalyzer::answering(Ok(Analysis { diagnosis: "stale address".into(), ..analysis() })));
    let app = TestApp::spawn_full(
        |s| s.worker.max_attempts = 10_000,
        mimi::app::Overrides { analyzer: Some(analyzer.clone()), memory: Some(memory.clone()), ..Default::default() },
    )
    .await;
    assert_eq!(app.post_alerts(&payload::one("g1")).await.status(), 200);
    app.settle().await;
    let detail = app.incident(1).await;
    assert_eq!(detail["analysis"]["diagnosis"], "stale address", "{detail:#}");
    let note = detail["memory_note"].as_str().unwrap_or_default();
    assert!(note.contains("vector store is unavailable"), "{detail:#}");
    let view = mimi::notify::incident_view(app.store(), 1, None).await.unwrap().unwrap();
    assert!(mimi::notify::render::incident(&view).text.contains("Similar past incidents: not available"));

    // Resolved while the server is down: the memory job is retried until it is back.
    let resolved = payload::group("g1", vec![payload::resolved("fp-g1", "checkout-1", payload::T0, payload::T1)]);
    assert_eq!(app.post_alerts(&resolved).await.status(), 200);
    let back = FakeQdrant::start_on(port).await;
    wait_until(Duration::from_secs(30), "the retried memory job to index the incident", || async {
        memory.count_incidents().await.unwrap_or(0) == 1
    })
    .await;
    drop(back);
}

fn analysis() -> Analysis {
    Analysis {
        diagnosis: String::new(),
        facts: vec![],
        confidence: Some(0.9),
        proposals: vec![],
        flags: vec![],
        analyzer: "fake".into(),
        version: "test".into(),
        tokens: None,
        millis: 1,
    }
}

#[test]
fn h01_the_qdrant_settings_name_the_key_and_the_api_key_never_shows() {
    let toml = "[webhook]\nbearer_token = \"t\"\n[memory.qdrant]\nurl = \"ftp://qdrant:6334\"\ntimeout_ms = 10\n";
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, toml.as_bytes()).unwrap();
    let errors = mimi::config::load_from(Some(f.path()), Vec::new()).unwrap_err().to_string();
    for key in ["memory.qdrant.url", "memory.qdrant.timeout_ms"] {
        assert!(errors.contains(key), "{key} in {errors}");
    }

    let mut key_file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut key_file, b"qdrant-secret-from-file\n").unwrap();
    let env = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    let base = [("MIMI__WEBHOOK__BEARER_TOKEN", "t"), ("MIMI__MEMORY__QDRANT__URL", "https://qdrant.example:6334")];
    let path = key_file.path().to_str().unwrap();
    let s =
        mimi::config::load_from(None, env(&[base[0], base[1], ("MIMI__MEMORY__QDRANT__API_KEY_FILE", path)])).unwrap();
    assert_eq!(s.memory.qdrant.api_key.as_ref().unwrap().expose(), "qdrant-secret-from-file");
    let s =
        mimi::config::load_from(None, env(&[base[0], base[1], ("MIMI__MEMORY__QDRANT__API_KEY", "qdrant-env-key")]))
            .unwrap();
    assert_eq!(s.memory.qdrant.api_key.as_ref().unwrap().expose(), "qdrant-env-key");
    assert_eq!(s.memory.qdrant.timeout_ms, 2000);

    let shown = mimi::http::redacted_settings(&s);
    assert!(!shown.contains("qdrant-env-key") && shown.contains("https://qdrant.example:6334"), "{shown}");
    let report = mimi::config::report(&s);
    let said = report.enabled.iter().find(|(k, _)| k == "memory").map(|(_, v)| v.clone()).unwrap_or_default();
    assert!(said.contains("remote Qdrant at https://qdrant.example:6334"), "{said}");
    assert!(!format!("{report:?}").contains("qdrant-env-key"));
    let embedded = mimi::config::report(&Settings::default());
    assert!(embedded.enabled.iter().any(|(k, v)| k == "memory" && v.contains("embedded Qdrant at")));
}
