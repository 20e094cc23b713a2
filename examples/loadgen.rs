//! Load generator for `POST /webhook`: realistic Alertmanager payloads at a fixed rate or as fast
//! as possible; reports accepted alerts per second, acknowledgement latency and Mimi's memory.
//!
//! By default it starts `mimi serve` itself (the release binary beside this example, with a fresh
//! data directory) so it can read the server's RSS; `--url` points it at a running Mimi instead.
//!
//! ```text
//! cargo build --release --bin mimi --example loadgen
//! target/release/examples/loadgen --duration 20 --concurrency 64 --alerts-per-payload 10
//! target/release/examples/loadgen --duration 20 --rate 10000 --alerts-per-payload 10
//! ```
//!
//! Latency is measured from the moment a request was due (open loop), so a stalled server shows up
//! in the percentiles instead of silently slowing the sender down.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::sync::Mutex;

#[derive(Debug, Parser)]
#[command(about = "Drive Mimi's /webhook with Alertmanager payloads and report throughput, latency and RSS")]
struct Args {
    /// A running Mimi (e.g. http://127.0.0.1:8080); default: start target/release/mimi.
    #[arg(long)]
    url: Option<String>,
    /// Bearer token for --url.
    #[arg(long, default_value = "loadgen-token")]
    token: String,
    /// The mimi binary to start when --url is not given.
    #[arg(long)]
    mimi: Option<PathBuf>,
    /// Seconds of load.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Target alerts per second (open loop); 0 = as fast as the server answers (closed loop).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    #[arg(long, default_value_t = 10)]
    alerts_per_payload: usize,
    /// Share of payloads that repeat an earlier one exactly (Alertmanager re-deliveries).
    #[arg(long, default_value_t = 0.2)]
    duplicate_ratio: f64,
    /// Seconds to wait before the load to measure idle memory.
    #[arg(long, default_value_t = 2)]
    idle_seconds: u64,
    /// After the load, wait until the pipeline has processed every job and report how long it took.
    #[arg(long)]
    drain: bool,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    accepted: AtomicU64,
    duplicate: AtomicU64,
    accepted_alerts: AtomicU64,
    non_2xx: AtomicU64,
    errors: AtomicU64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (url, token, mut server) = match &args.url {
        Some(u) => (u.trim_end_matches('/').to_string(), args.token.clone(), None),
        None => {
            let s = Server::start(args.mimi.clone())?;
            (s.url.clone(), s.token.clone(), Some(s))
        }
    };
    mimi::tls::install_crypto_provider();
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build()?;
    wait_ready(&client, &url).await?;

    if let Some(s) = &server {
        tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
        println!("idle RSS: {:.1} MiB", s.rss_kib("VmRSS") as f64 / 1024.0);
    }
    println!(
        "load: {} s, concurrency {}, {} alerts/payload, duplicate ratio {}, {}",
        args.duration,
        args.concurrency,
        args.alerts_per_payload,
        args.duplicate_ratio,
        if args.rate > 0 { format!("open loop at {} alerts/s", args.rate) } else { "closed loop".to_string() }
    );

    let counters = Arc::new(Counters::default());
    let latency = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?));
    let sequence = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration);
    let payload_interval = (args.rate > 0)
        .then(|| Duration::from_secs_f64(args.alerts_per_payload as f64 / args.rate as f64 * args.concurrency as f64));

    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..args.concurrency {
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        let (counters, latency, sequence) = (counters.clone(), latency.clone(), sequence.clone());
        let per_payload = args.alerts_per_payload;
        let dup_ratio = args.duplicate_ratio;
        tasks.spawn(async move {
            let mut rng = fastrand::Rng::with_seed(lane as u64);
            let mut local = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
            // Spread the lanes' start times over one interval so the open loop is smooth.
            let mut due = Instant::now() + payload_interval.map_or(Duration::ZERO, |i| i.mul_f64(rng.f64()));
            while due < deadline {
                if payload_interval.is_some() {
                    tokio::time::sleep_until(due.into()).await;
                }
                let n = sequence.fetch_add(1, Ordering::Relaxed);
                let repeat = n > 0 && rng.f64() < dup_ratio;
                let id = if repeat { rng.u64(0..n) } else { n };
                let body = payload(id, per_payload).to_string();
                let sent = if payload_interval.is_some() { due } else { Instant::now() };
                let result = client
                    .post(format!("{url}/webhook"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                counters.requests.fetch_add(1, Ordering::Relaxed);
                match result {
                    Ok(resp) if resp.status().is_success() => {
                        let json: Value = resp.json().await.unwrap_or(Value::Null);
                        local.record(sent.elapsed().as_micros().max(1) as u64).ok();
                        if json["status"] == "accepted" {
                            counters.accepted.fetch_add(1, Ordering::Relaxed);
                            counters.accepted_alerts.fetch_add(per_payload as u64, Ordering::Relaxed);
                        } else {
                            counters.duplicate.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(_) => drop(counters.non_2xx.fetch_add(1, Ordering::Relaxed)),
                    Err(_) => drop(counters.errors.fetch_add(1, Ordering::Relaxed)),
                }
                due = match payload_interval {
                    Some(i) => due + i,
                    None => Instant::now(),
                };
            }
            latency.lock().await.add(&local).unwrap();
        });
    }
    let mut progress = tokio::time::interval(Duration::from_secs(5));
    progress.tick().await;
    loop {
        tokio::select! {
            joined = tasks.join_next() => if joined.is_none() { break },
            _ = progress.tick() => {
                let secs = started.elapsed().as_secs_f64();
                let alerts = counters.accepted_alerts.load(Ordering::Relaxed);
                eprintln!("  {secs:5.1} s: {} requests, {:.0} accepted alerts/s", counters.requests.load(Ordering::Relaxed), alerts as f64 / secs);
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();

    let h = latency.lock().await;
    let c = &counters;
    let accepted_alerts = c.accepted_alerts.load(Ordering::Relaxed);
    println!(
        "requests: {} in {elapsed:.1} s ({:.0}/s)",
        c.requests.load(Ordering::Relaxed),
        c.requests.load(Ordering::Relaxed) as f64 / elapsed
    );
    println!(
        "accepted: {} deliveries, {} alerts ({:.0} alerts/s committed); duplicates: {}",
        c.accepted.load(Ordering::Relaxed),
        accepted_alerts,
        accepted_alerts as f64 / elapsed,
        c.duplicate.load(Ordering::Relaxed)
    );
    println!("non-2xx: {}, transport errors: {}", c.non_2xx.load(Ordering::Relaxed), c.errors.load(Ordering::Relaxed));
    println!(
        "ack latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        h.value_at_quantile(0.50) as f64 / 1000.0,
        h.value_at_quantile(0.90) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.max() as f64 / 1000.0
    );
    if args.drain {
        let accepted = c.accepted.load(Ordering::Relaxed);
        let drain_started = Instant::now();
        loop {
            let depth = queue_depth(&client, &url).await?;
            if depth == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let total = started.elapsed().as_secs_f64();
        println!(
            "pipeline: backlog drained {:.1} s after the load; {accepted} incidents through ingest, enrich, analyze, notify \
             in {total:.1} s ({:.0} incidents/s)",
            drain_started.elapsed().as_secs_f64(),
            accepted as f64 / total
        );
    }
    if let Some(s) = server.as_mut() {
        println!("mimi peak RSS: {:.1} MiB", s.rss_kib("VmHWM") as f64 / 1024.0);
        s.stop();
    }
    Ok(())
}

/// Payload `id`: its own alert group, `n` alerts, ~500 bytes of labels and annotations each.
fn payload(id: u64, n: usize) -> Value {
    let ns = format!("team-{}", id % 50);
    let alerts: Vec<Value> = (0..n)
        .map(|i| {
            let pod = format!("checkout-{id:x}-{i}");
            json!({
                "status": "firing",
                "labels": {
                    "alertname": "KubePodCrashLooping", "namespace": ns, "pod": pod, "container": "app",
                    "severity": "critical", "job": "kube-state-metrics", "instance": "10.0.3.17:8080",
                    "prometheus": "monitoring/k8s"
                },
                "annotations": {
                    "summary": "Pod is crash looping.",
                    "description": format!("Pod {ns}/{pod} (app) is in waiting state (reason: \"CrashLoopBackOff\")."),
                    "runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping"
                },
                "startsAt": "2026-11-20T09:20:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.monitoring:9090/graph?g0.expr=max_over_time%28kube_pod_container_status_waiting_reason%5B5m%5D%29",
                "fingerprint": format!("{:016x}", id.wrapping_mul(1_000_003).wrapping_add(i as u64)),
            })
        })
        .collect();
    json!({
        "version": "4",
        "groupKey": format!("{{}}/{{severity=\"critical\"}}:{{alertname=\"KubePodCrashLooping\", namespace=\"{ns}\", group=\"{id}\"}}"),
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "mimi",
        "groupLabels": {"alertname": "KubePodCrashLooping", "namespace": ns},
        "commonLabels": {"alertname": "KubePodCrashLooping", "namespace": ns, "severity": "critical"},
        "commonAnnotations": {"summary": "Pod is crash looping."},
        "externalURL": "http://alertmanager.monitoring:9093",
        "alerts": alerts,
    })
}

/// Pending and running jobs, from Mimi's own metrics.
async fn queue_depth(client: &reqwest::Client, url: &str) -> anyhow::Result<u64> {
    let text = client.get(format!("{url}/metrics")).send().await?.text().await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("mimi_jobs_queue_depth{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64)
}

async fn wait_ready(client: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{url}/readyz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("{url} did not become ready")
}

struct Server {
    child: Child,
    url: String,
    token: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(binary: Option<PathBuf>) -> anyhow::Result<Server> {
        let binary = match binary {
            Some(b) => b,
            None => std::env::current_exe()?.parent().and_then(|p| p.parent()).map(|p| p.join("mimi")).unwrap(),
        };
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let token = "loadgen-token".to_string();
        let child = Command::new(&binary)
            .arg("serve")
            .env("MIMI__DATA_DIR", dir.path())
            .env("MIMI__SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("MIMI__WEBHOOK__BEARER_TOKEN", &token)
            .env("MIMI__API__ALLOW_UNAUTHENTICATED", "true")
            .env("MIMI__LOG__LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e} (build it: cargo build --release)", binary.display()))?;
        println!("started {} on port {port}", binary.display());
        Ok(Server { child, url: format!("http://127.0.0.1:{port}"), token, _dir: dir })
    }

    /// A memory figure of the server from /proc (VmRSS now, VmHWM peak), in KiB.
    fn rss_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    fn stop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}
