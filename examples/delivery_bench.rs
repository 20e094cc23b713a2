//! Delivery benchmark (RELIABILITY G01, issue 7): N new incidents in S seconds, routed by namespace
//! to 3 Slack channels (a recording fake sink paced like Slack, 1 message/s per channel by default),
//! through the real webhook, pipeline and outbox. Reports whether every incident message was
//! delivered, the smallest gap between two calls to one channel (never below the limit), how much
//! the roll-up threaded, delivery time p50/p99 (webhook acknowledged -> message at the sink) and the
//! outbox depth over time.
//!
//! ```sh
//! cargo run --example delivery_bench -- --incidents 2000 --seconds 60 --per-second 1
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mimi::config::{RateLimit, RouteSettings, Secret, Settings};
use mimi::domain::approver::Platform;
use mimi::notify::fake::FakeSink;
use serde_json::json;

struct Args {
    incidents: usize,
    seconds: f64,
    channels: usize,
    per_second: f64,
    threshold: usize,
}

fn args() -> Args {
    let mut a = Args { incidents: 2000, seconds: 60.0, channels: 3, per_second: 1.0, threshold: 5 };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or("");
        match pair[0].as_str() {
            "--incidents" => a.incidents = value.parse().expect("--incidents N"),
            "--seconds" => a.seconds = value.parse().expect("--seconds S"),
            "--channels" => a.channels = value.parse().expect("--channels N"),
            "--per-second" => a.per_second = value.parse().expect("--per-second R"),
            "--threshold" => a.threshold = value.parse().expect("--threshold N"),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn payload(i: usize, channels: usize) -> serde_json::Value {
    let ns = format!("ns-{}", i % channels);
    json!({
        "version": "4", "groupKey": format!("{{}}:{{bench=\"{i}\"}}"), "truncatedAlerts": 0, "status": "firing",
        "receiver": "mimi", "groupLabels": {"alertname": "BenchAlert"},
        "commonLabels": {"alertname": "BenchAlert", "namespace": ns, "severity": "warning"},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "BenchAlert", "namespace": ns, "pod": format!("web-{i}"), "severity": "warning"},
            "annotations": {"summary": format!("web-{i} is unhappy")},
            "startsAt": "2026-11-20T09:20:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=up", "fingerprint": format!("fp{i}"),
        }],
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args();
    let dir = tempfile::tempdir()?;
    let mut s = Settings { data_dir: dir.path().to_path_buf(), ..Settings::default() };
    s.server.listen = "127.0.0.1:0".parse()?;
    s.webhook.bearer_token = Some(Secret::new("bench"));
    s.api.allow_unauthenticated = true;
    s.log.level = "warn".into();
    s.notify.rollup_threshold = a.threshold;
    s.notify.limits.insert("slack".into(), RateLimit { per_second: a.per_second, burst: 1 });
    s.notify.routes = (0..a.channels)
        .map(|c| RouteSettings {
            namespace: vec![format!("ns-{c}")],
            sink: "slack".into(),
            target: Some(format!("CBENCH{c}")),
            ..Default::default()
        })
        .collect();
    let slack = Arc::new(FakeSink::chat("slack").with_platform(Platform::Slack));
    let overrides = mimi::app::Overrides { sinks: vec![slack.clone()], ..Default::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let app = mimi::app::start_with(s, Some(listener), overrides).await?;
    let url = format!("http://{}/webhook", app.addr);
    let client = reqwest::Client::new();
    let store = app.store.clone();

    eprintln!(
        "posting {} incidents over {} s to {} channels paced at {}/s each",
        a.incidents, a.seconds, a.channels, a.per_second
    );
    let started = Instant::now();
    let acks = Arc::new(std::sync::Mutex::new(HashMap::<usize, Instant>::new()));
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..a.incidents {
        let due = started + Duration::from_secs_f64(a.seconds * i as f64 / a.incidents as f64);
        tokio::time::sleep_until(due.into()).await;
        let (client, url, acks, body) = (client.clone(), url.clone(), acks.clone(), payload(i, a.channels).to_string());
        posts.spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth("bench")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            assert!(resp.is_ok_and(|r| r.status() == 200), "webhook failed");
            acks.lock().unwrap().insert(i, Instant::now());
        });
    }
    while posts.join_next().await.is_some() {}
    eprintln!("all {} webhooks acknowledged after {:.1} s", a.incidents, started.elapsed().as_secs_f64());

    // Until every incident message reached the sink and the outbox is empty.
    let mut depth_series = Vec::new();
    let mut last_sample = Instant::now() - Duration::from_secs(60);
    loop {
        let delivered = slack.delivered().iter().filter(|c| c.message.incident_id.is_some()).count();
        let depth: i64 = store.outbox_stats(mimi::store::now_ms()).await?.iter().map(|s| s.depth).sum();
        if last_sample.elapsed() >= Duration::from_secs(30) {
            depth_series.push((started.elapsed().as_secs(), depth, delivered));
            eprintln!(
                "t={:>4} s  outbox depth {depth:>5}  incident messages delivered {delivered:>5}",
                started.elapsed().as_secs()
            );
            last_sample = Instant::now();
        }
        if delivered >= a.incidents && depth == 0 {
            depth_series.push((started.elapsed().as_secs(), depth, delivered));
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let total = started.elapsed();

    let calls = slack.calls();
    let acks = acks.lock().unwrap().clone();
    let mut latency = Vec::new();
    let mut per_incident = HashMap::<usize, usize>::new();
    for c in calls.iter().filter(|c| c.ok() && c.message.incident_id.is_some() && c.kind != "edit") {
        let i: usize =
            c.message.title.rsplit("web-").next().and_then(|n| n.parse().ok()).expect("bench titles end in web-N");
        *per_incident.entry(i).or_default() += 1;
        latency.push(c.at.saturating_duration_since(acks[&i]));
    }
    latency.sort();
    let duplicates = per_incident.values().filter(|n| **n > 1).count();
    let mut by_channel: HashMap<&str, Vec<Instant>> = HashMap::new();
    for c in &calls {
        by_channel.entry(c.target.as_str()).or_default().push(c.at);
    }
    let min_gap = by_channel.values().flat_map(|ts| ts.windows(2).map(|w| w[1] - w[0])).min().unwrap_or_default();
    let summaries = calls.iter().filter(|c| c.kind == "post" && c.message.incident_id.is_none()).count();
    let summary_edits = calls.iter().filter(|c| c.kind == "edit" && c.message.incident_id.is_none()).count();
    let threaded = calls.iter().filter(|c| c.kind == "reply" && c.message.incident_id.is_some()).count();
    let top_level = calls.iter().filter(|c| c.kind == "post" && c.message.incident_id.is_some()).count();

    println!("## Delivery benchmark\n");
    println!("| figure | value |\n|---|---|");
    println!(
        "| incidents / channels / limit | {} / {} / {} msg/s per channel |",
        a.incidents, a.channels, a.per_second
    );
    println!(
        "| incident messages delivered | {} of {} ({} delivered twice) |",
        per_incident.len(),
        a.incidents,
        duplicates
    );
    println!("| sink calls (all kinds) | {} |", calls.len());
    println!(
        "| smallest gap between two calls to one channel | {:.3} s (limit {:.3} s) |",
        min_gap.as_secs_f64(),
        1.0 / a.per_second
    );
    println!(
        "| roll-up | {summaries} summaries ({summary_edits} summary edits), {threaded} incidents threaded, {top_level} posted top-level |"
    );
    println!(
        "| delivery time p50 / p99 / max | {:.1} s / {:.1} s / {:.1} s |",
        percentile(&latency, 0.5).as_secs_f64(),
        percentile(&latency, 0.99).as_secs_f64(),
        latency.last().copied().unwrap_or_default().as_secs_f64()
    );
    println!("| all delivered after | {:.1} s |", total.as_secs_f64());
    println!("\nOutbox depth over time:\n\n| t (s) | outbox depth | incident messages delivered |\n|---|---|---|");
    for (t, depth, delivered) in depth_series {
        println!("| {t} | {depth} | {delivered} |");
    }
    app.stop().await?;
    Ok(())
}
