//! Benchmark of the sandbox with a generated 5,000-pod, 50-namespace cluster: loading, listing
//! all pods, a reflector's watch startup, and restart round trips.
//!
//! `cargo run --example sandbox_bench [-- --namespaces 50 --deployments 10 --replicas 10]`
//! (add `--release` for optimised figures). Figures go to docs/benchmarks.md.

use std::time::{Duration, Instant};

use futures::StreamExt;
use hdrhistogram::Histogram;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, Patch, PatchParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client};
use mimi::sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn report(name: &str, h: &Histogram<u64>) {
    println!(
        "{name:<40} n={:<4} p50={:>8.2} ms  p99={:>8.2} ms  max={:>8.2} ms",
        h.len(),
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.max() as f64 / 1000.0
    );
}

fn micros(d: Duration) -> u64 {
    d.as_micros() as u64
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (ns, deploys, replicas) = (arg("--namespaces", 50), arg("--deployments", 10), arg("--replicas", 10));
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("cluster.yaml"), mimi::sandbox::generate::cluster_yaml(ns, deploys, replicas, 20))?;
    println!(
        "cluster: {ns} namespaces x {deploys} deployments x {replicas} pods = {} pods, 20 nodes",
        ns * deploys * replicas
    );

    let t = Instant::now();
    let sandbox = Sandbox::start(dir.path(), SandboxOptions::default()).await?;
    println!("{:<40} {:>8.2} ms", "load scenario and start", t.elapsed().as_secs_f64() * 1000.0);
    let client: Client = sandbox.client().await?;
    let pods: Api<Pod> = Api::all(client.clone());

    let mut list = Histogram::<u64>::new(3)?;
    for _ in 0..20 {
        let t = Instant::now();
        let n = pods.list(&ListParams::default()).await?.items.len();
        list.record(micros(t.elapsed()))?;
        assert_eq!(n, ns * deploys * replicas);
    }
    report("list all pods (kube-rs, one page)", &list);

    // The same list as raw text, without kube-rs decoding 5,000 typed pods: the server's share.
    let mut raw = Histogram::<u64>::new(3)?;
    for _ in 0..20 {
        let t = Instant::now();
        let request = axum::http::Request::get("/api/v1/pods").body(Vec::new())?;
        let body = client.request_text(request).await?;
        raw.record(micros(t.elapsed()))?;
        assert!(body.len() > 1_000_000);
    }
    report("list all pods (raw HTTP, 3.2 MB)", &raw);

    let mut paged = Histogram::<u64>::new(3)?;
    for _ in 0..5 {
        let t = Instant::now();
        let mut lp = ListParams::default().limit(500);
        let mut n = 0;
        loop {
            let page = pods.list(&lp).await?;
            n += page.items.len();
            match page.metadata.continue_ {
                Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
                _ => break,
            }
        }
        paged.record(micros(t.elapsed()))?;
        assert_eq!(n, ns * deploys * replicas);
    }
    report("list all pods (pages of 500)", &paged);

    let mut startup = Histogram::<u64>::new(3)?;
    for _ in 0..5 {
        let t = Instant::now();
        let (reader, writer) = reflector::store::<Pod>();
        let task = tokio::spawn(
            reflector(writer, watcher(pods.clone(), watcher::Config::default()))
                .applied_objects()
                .for_each(|_| async {}),
        );
        reader.wait_until_ready().await?;
        startup.record(micros(t.elapsed()))?;
        assert_eq!(reader.state().len(), ns * deploys * replicas);
        task.abort();
    }
    report("watch startup (reflector ready, 5k pods)", &startup);

    // Restart round trips with a reflector running, as Mimi's verification step would have.
    let (reader, writer) = reflector::store::<Deployment>();
    let deployments: Api<Deployment> = Api::all(client.clone());
    let task = tokio::spawn(
        reflector(writer, watcher(deployments, watcher::Config::default())).applied_objects().for_each(|_| async {}),
    );
    reader.wait_until_ready().await?;
    let (mut answered, mut observed) = (Histogram::<u64>::new(3)?, Histogram::<u64>::new(3)?);
    for i in 0..20 {
        let (n, name) = (format!("ns-{}", i % ns), format!("app-{}", i % deploys));
        let api: Api<Deployment> = Api::namespaced(client.clone(), &n);
        let patch = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": format!("bench-{i}")}}}}});
        let t = Instant::now();
        let sent = api.patch(&name, &PatchParams::default(), &Patch::Strategic(patch)).await?;
        answered.record(micros(t.elapsed()))?;
        let generation = sent.metadata.generation;
        loop {
            let done = reader.state().iter().any(|d| {
                d.metadata.name.as_deref() == Some(name.as_str())
                    && d.metadata.namespace.as_deref() == Some(n.as_str())
                    && d.status.as_ref().is_some_and(|s| {
                        s.observed_generation == generation
                            && s.updated_replicas == Some(replicas as i32)
                            && s.available_replicas == Some(replicas as i32)
                            && s.replicas == Some(replicas as i32)
                    })
            });
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        observed.record(micros(t.elapsed()))?;
    }
    task.abort();
    report("restart: patch answered (rollout done)", &answered);
    report("restart: rollout seen through a watch", &observed);
    sandbox.shutdown().await;
    Ok(())
}
