//! Memory benchmark: index N incidents into the embedded Qdrant store, then recall.
//!
//!     cargo run --release --example memory_bench -- [N]        (default 10000)
//!     MIMI_TEST_MINILM_DIR=... cargo run --release --example memory_bench   (adds MiniLM figures)
//!
//! Reports the indexing rate, recall latency (p50/p99: embedding + filtered search, and the search
//! alone), resident memory and disk use. Figures go to docs/benchmarks.md.

use std::sync::Arc;
use std::time::Instant;

use hdrhistogram::Histogram;
use mimi::config::MemorySettings;
use mimi::domain::alert::Labels;
use mimi::domain::analysis::AlertView;
use mimi::rag::embed::Embedder;
use mimi::rag::embed::lexical::Lexical;
use mimi::rag::record::describe;
use mimi::rag::store::edge::EdgeStore;
use mimi::rag::store::{CollectionSpec, Filter, VectorStore};
use mimi::rag::{IncidentRecord, Memory, Recall};

const ALERTS: [&str; 8] = [
    "KubePodCrashLooping",
    "KubeContainerOOMKilled",
    "KubePodNotReady",
    "KubeDeploymentReplicasMismatch",
    "KubePersistentVolumeFillingUp",
    "KubeNodeNotReady",
    "CPUThrottlingHigh",
    "TargetDown",
];
const REASONS: [&str; 6] =
    ["CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "Evicted", "DiskPressure", "Unhealthy"];

fn incident(i: usize) -> IncidentRecord {
    let mut labels = Labels::new();
    let name = ALERTS[i % ALERTS.len()];
    let ns = format!("team-{}", i % 40);
    let workload = format!("svc-{}", i % 700);
    labels.insert("alertname".into(), name.into());
    labels.insert("namespace".into(), ns.clone());
    labels.insert("pod".into(), format!("{workload}-{:x}", i * 7919));
    let mut annotations = Labels::new();
    annotations.insert("summary".into(), format!("{workload} in {ns}: {} ({})", name, REASONS[i % REASONS.len()]));
    let a = AlertView { status: "firing".into(), labels, annotations, starts_at: String::new() };
    IncidentRecord {
        incident_id: i as i64 + 1,
        cluster: if i.is_multiple_of(4) { "staging".into() } else { "prod".into() },
        namespace: Some(ns),
        alertname: name.into(),
        workload: Some(workload),
        text: describe(&[a], None),
        diagnosis: Some("synthetic".into()),
        action: None,
        outcome: if i.is_multiple_of(3) { "verified".into() } else { "resolved".into() },
        verified: i.is_multiple_of(3).then_some(true),
        resolve_seconds: Some(300),
        ended_at: 0,
        sandbox: false,
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn du(path: &std::path::Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(path).into_iter().flatten().flatten() {
        let m = e.metadata().unwrap();
        total += if m.is_dir() { du(&e.path()) } else { m.len() };
    }
    total
}

fn percentiles(h: &Histogram<u64>) -> String {
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.max() as f64 / 1000.0
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let store = Arc::new(EdgeStore::new(dir.path()));
    let memory = Memory::new(Arc::new(Lexical), store.clone(), &MemorySettings::default(), false);
    let records: Vec<IncidentRecord> = (0..n).map(incident).collect();
    let rss_before = rss_kib();

    let started = Instant::now();
    memory.remember_all(&records).await?;
    let took = started.elapsed();
    println!(
        "indexed {n} incidents (lexical embedder, batches of 256) in {:.2} s: {:.0} incidents/s",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );

    println!(
        "HNSW-indexed vectors after the shard's optimizer: {} of {n}",
        store.indexed_vectors(memory.incidents_collection()).await?
    );

    let started = Instant::now();
    for r in records.iter().take(500) {
        memory.remember(r).await?;
    }
    let one = started.elapsed() / 500;
    println!(
        "re-indexing one incident at a time (the remember step: embed, upsert, flush): {:.2} ms each",
        one.as_secs_f64() * 1000.0
    );

    let mut recall = Histogram::<u64>::new(3)?;
    let mut search = Histogram::<u64>::new(3)?;
    let queries = 500;
    let spec = CollectionSpec { embedder: Lexical.name(), dimension: Lexical.dimension() };
    store.ensure(memory.incidents_collection(), &spec).await?;
    for q in 0..queries {
        let r = incident(q * 37 % n);
        let t = Instant::now();
        let Recall::Found(found) = memory.recall("prod", &r.text, -1).await else { anyhow::bail!("recall failed") };
        recall.record(t.elapsed().as_micros() as u64)?;
        // A staging incident may have no prod neighbour above the threshold: an empty answer is fine.
        let _ = found;
        let v = Lexical::vector(&r.text);
        let t = Instant::now();
        store.search(memory.incidents_collection(), v, &Filter::default().field("cluster", "prod"), 10, 0.35).await?;
        search.record(t.elapsed().as_micros() as u64)?;
    }
    println!("recall (embed + filtered search, top 3 of 10 candidates), {queries} queries: {}", percentiles(&recall));
    println!("filtered search alone: {}", percentiles(&search));
    println!(
        "resident memory: +{} MiB over the start; disk: {:.1} MiB",
        (rss_kib().saturating_sub(rss_before)) / 1024,
        du(dir.path()) as f64 / 1048576.0
    );

    if let Ok(model) = std::env::var("MIMI_TEST_MINILM_DIR") {
        let m = mimi::rag::embed::minilm::MiniLm::load(std::path::Path::new(&model))?;
        let texts: Vec<String> = records.iter().take(200).map(|r| r.text.clone()).collect();
        let t = Instant::now();
        for t in &texts {
            m.embed(std::slice::from_ref(t)).await?;
        }
        let per = t.elapsed() / texts.len() as u32;
        println!("MiniLM embedding, one incident text at a time on the CPU: {:.1} ms each", per.as_secs_f64() * 1000.0);
    }
    Ok(())
}
