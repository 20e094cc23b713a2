//! Question latency over a large cluster: intent answers from the watched caches of a 5,000-pod
//! sandbox, measured from question to answer text (no HTTP, no chat).
//!
//! ```text
//! cargo run --release --example qa_bench -- --namespaces 50 --deployments 10 --replicas 10 --rounds 50
//! ```

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mimi::cluster::{ClusterRead, KubeCluster};
use mimi::qa::{Asker, QaEngine, Scope};
use mimi::sandbox::{Sandbox, SandboxOptions};
use mimi::store::{Store, StoreOptions};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    mimi::tls::install_crypto_provider();
    let (ns, deploys, replicas, rounds) =
        (arg("--namespaces", 50), arg("--deployments", 10), arg("--replicas", 10), arg("--rounds", 50));
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("cluster.yaml"), mimi::sandbox::generate::cluster_yaml(ns, deploys, replicas, 20))?;
    let sandbox = Sandbox::start(dir.path(), SandboxOptions::default()).await?;
    let cluster = KubeCluster::from_client(sandbox.client().await?, true, Duration::from_secs(30));
    let started = Instant::now();
    anyhow::ensure!(cluster.caches_ready(Duration::from_secs(120)).await, "the caches did not fill");
    println!("{} pods; caches filled in {:.2} s", ns * deploys * replicas, started.elapsed().as_secs_f64());
    let store = Store::open(&StoreOptions::new(dir.path().join("mimi.db"))).await?;
    let read: std::sync::Arc<dyn ClusterRead> = std::sync::Arc::new(cluster);
    let qa = QaEngine::new(store, Some(read), u32::MAX);
    let questions = [
        "how many pods are running in ns-7?",
        "how many pods are there?",
        "any problem pods?",
        "what's wrong in namespace ns-3?",
        "list pods in ns-12",
        "status of deployment app-4 in ns-9",
        "node status",
        "open incidents",
    ];
    let mut all = Histogram::<u64>::new(3)?;
    for q in questions {
        let mut h = Histogram::<u64>::new(3)?;
        for _ in 0..rounds {
            let t = Instant::now();
            let answer = qa.ask(q, &Asker("bench".into()), &Scope::all(), None).await?;
            let us = t.elapsed().as_micros().max(1) as u64;
            h.record(us)?;
            all.record(us)?;
            anyhow::ensure!(!answer.refused, "{q}: {}", answer.answer);
        }
        println!(
            "{q:45} p50 {:7.2} ms  p99 {:7.2} ms",
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0
        );
    }
    println!(
        "all questions: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.value_at_quantile(0.5) as f64 / 1000.0,
        all.value_at_quantile(0.99) as f64 / 1000.0,
        all.max() as f64 / 1000.0
    );
    Ok(())
}
