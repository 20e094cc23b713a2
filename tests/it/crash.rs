//! The real binary killed at the worst moments (RELIABILITY B01, B02) and stopped by SIGTERM.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::support::binary::{self, post};
use crate::support::payload;

/// Every incident, following the pages.
async fn incidents(p: &binary::MimiProcess) -> Vec<Value> {
    let mut all = Vec::new();
    let mut path = "/api/incidents?limit=500".to_string();
    loop {
        let body: Value = reqwest::get(p.url(&path)).await.unwrap().json().await.unwrap();
        all.extend(body["incidents"].as_array().unwrap().iter().cloned());
        match body["next"].as_i64() {
            Some(next) => path = format!("/api/incidents?limit=500&before={next}"),
            None => return all,
        }
    }
}

async fn wait_incidents(p: &binary::MimiProcess, n: usize, limit: Duration) -> Vec<Value> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let list = incidents(p).await;
        // Settled: the pipeline (no cluster, no analyzer here) ends at "notified", or "resolved".
        if list.len() >= n && list.iter().all(|i| i["state"] == "notified" || i["state"] == "resolved") {
            return list;
        }
        let unprocessed = list.iter().filter(|i| i["state"] != "notified" && i["state"] != "resolved").count();
        assert!(
            std::time::Instant::now() < deadline,
            "expected {n} processed incidents, have {} ({unprocessed} unprocessed)",
            list.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn b01_killed_after_commit_before_the_response_then_retried_makes_one_incident() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let p = payload::one("b01");

    let mut mimi = binary::spawn(dir.path(), "after_commit", &[]);
    mimi.ready().await;
    let first = post(&client, &mimi, &p).await;
    assert!(first.is_err(), "the process died before answering, so Alertmanager saw no response");
    assert!(!mimi.exited(Duration::from_secs(10)).await.success());

    // Alertmanager retries the same notification against the restarted Mimi.
    let mut mimi = binary::spawn(dir.path(), "", &[]);
    mimi.ready().await;
    let retry = post(&client, &mimi, &p).await.unwrap();
    assert_eq!(retry.status(), 200);
    let body: Value = retry.json().await.unwrap();
    assert_eq!(body["status"], "duplicate", "the first attempt was committed before the crash");
    let list = wait_incidents(&mimi, 1, Duration::from_secs(30)).await;
    assert_eq!(list.len(), 1);
}

#[tokio::test]
async fn b02_killed_after_the_2xx_before_processing_resumes_the_job_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();

    // The worker dies as it starts the first step (after the answer has gone out).
    let mut mimi = binary::spawn(dir.path(), "before_step:300", &[]);
    mimi.ready().await;
    let resp = post(&client, &mimi, &payload::one("b02")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(!mimi.exited(Duration::from_secs(10)).await.success());

    let started = std::time::Instant::now();
    let mut mimi = binary::spawn(dir.path(), "", &[]);
    mimi.ready().await;
    let list = wait_incidents(&mimi, 1, Duration::from_secs(60)).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["state"], "notified");
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[tokio::test]
async fn kill_9_under_load_loses_no_acknowledged_delivery_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut mimi = binary::spawn(dir.path(), "", &[]);
    mimi.ready().await;

    // 16 senders post distinct groups until the process is killed under them.
    let url = mimi.url("/webhook");
    let mut senders = tokio::task::JoinSet::new();
    for s in 0..16 {
        let client = client.clone();
        let url = url.clone();
        senders.spawn(async move {
            let mut acked = Vec::new();
            for i in 0.. {
                let g = format!("k9-{s}-{i}");
                let r = client
                    .post(&url)
                    .bearer_auth(crate::support::WEBHOOK_TOKEN)
                    .header("content-type", "application/json")
                    .body(payload::one(&g).to_string())
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => acked.push(g),
                    _ => return (acked, g),
                }
            }
            unreachable!()
        });
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    mimi.kill9();
    let mut acked: HashSet<String> = HashSet::new();
    let mut unanswered = Vec::new();
    while let Some(r) = senders.join_next().await {
        let (a, last) = r.unwrap();
        acked.extend(a);
        unanswered.push(last);
    }
    assert!(acked.len() > 20, "load was running: {} acknowledged", acked.len());

    let mut mimi = binary::spawn(dir.path(), "", &[]);
    mimi.ready().await;
    // Alertmanager re-sends what it did not see acknowledged, and maybe some of what it did.
    for g in unanswered.iter().chain(acked.iter().take(5)) {
        assert_eq!(post(&client, &mimi, &payload::one(g)).await.unwrap().status(), 200);
    }
    let expected: HashSet<String> = acked.iter().chain(unanswered.iter()).cloned().collect();
    let list = wait_incidents(&mimi, expected.len(), Duration::from_secs(60)).await;
    assert_eq!(list.len(), expected.len(), "one incident per group, none lost, none doubled");
    let groups: HashSet<String> = list.iter().map(|i| i["group_key"].as_str().unwrap().to_string()).collect();
    assert_eq!(groups, expected);
}

#[tokio::test]
async fn sigterm_finishes_in_flight_work_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut mimi = binary::spawn(dir.path(), "", &[]);
    mimi.ready().await;
    for i in 0..20 {
        assert_eq!(post(&client, &mimi, &payload::one(&format!("t{i}"))).await.unwrap().status(), 200);
    }
    mimi.signal("TERM");
    let status = mimi.exited(Duration::from_secs(15)).await;
    assert!(status.success(), "exit status {status}; stderr: {}", mimi.stderr());

    let mut mimi = binary::spawn(dir.path(), "", &[]);
    mimi.ready().await;
    assert_eq!(wait_incidents(&mimi, 20, Duration::from_secs(30)).await.len(), 20);
}
