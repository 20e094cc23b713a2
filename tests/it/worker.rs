//! The job worker: retries with backoff, gives up with the error kept, resumes after restarts.

use serde_json::Value;

use crate::support::{TestApp, payload, wait_until};

/// Queues an ingest job for a stored delivery whose payload cannot be ingested.
async fn poison(app: &TestApp, key: &str) -> i64 {
    let w = app.store().writer();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO deliveries (digest, received_at, cluster, group_key, status, alert_count, auth_identity, payload)
         VALUES (randomblob(32), 1, 'c', 'poison', 'firing', 1, 'test', 'not json') RETURNING id",
    )
    .fetch_one(w)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO jobs (step, key, delivery_id, state, run_at, created_at, updated_at) VALUES ('ingest', ?, ?, 'pending', 0, 0, 0)",
    )
    .bind(key)
    .bind(id)
    .execute(w)
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn a_failing_step_is_retried_then_given_up_with_its_error_kept_and_visible() {
    let app = TestApp::spawn().await; // max_attempts = 3
    poison(&app, "group:poison").await;
    wait_until(std::time::Duration::from_secs(10), "the job to be given up", || async {
        app.store().queue_stats(0).await.unwrap().dead == 1
    })
    .await;

    let (status, body) = app.api("/api/jobs/dead").await;
    assert_eq!(status, 200);
    let jobs = body["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["step"], "ingest");
    assert_eq!(jobs[0]["attempts"], 3, "tried max_attempts times");
    let error = jobs[0]["last_error"].as_str().unwrap();
    assert!(error.contains("no longer parses"), "{error}");

    assert_eq!(app.metric("mimi_jobs_dead").await, 1.0);
    assert_eq!(app.metric("mimi_errors_total{kind=\"job_gave_up\"}").await, 1.0);
    assert_eq!(app.metric("mimi_step_duration_seconds_count{step=\"ingest\",outcome=\"error\"}").await, 3.0);
    let health: Value = app.client.get(app.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["checks"]["worker"]["status"], "degraded");
    assert_eq!(health["checks"]["worker"]["dead_jobs"], 1);
}

#[tokio::test]
async fn a_dead_job_does_not_block_later_jobs_with_its_key() {
    let app = TestApp::spawn().await;
    let p = payload::one("same-key");
    let cluster = "default";
    let key = mimi::store::group_key_of(cluster, p["groupKey"].as_str().unwrap());
    poison(&app, &key).await;
    assert_eq!(app.post_alerts(&p).await.status(), 200);
    app.settle().await;
    assert_eq!(app.incidents().await.len(), 1);
}

#[tokio::test]
async fn jobs_left_pending_at_shutdown_run_after_a_restart() {
    let app = TestApp::spawn_with(|s| s.worker.poll_interval_ms = 60_000).await;
    // Queued directly (no wake-up), then the app stops before its next poll.
    let w = app.store().writer().clone();
    let body = payload::one("pending").to_string();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO deliveries (digest, received_at, cluster, group_key, status, alert_count, auth_identity, payload)
         VALUES (randomblob(32), 1, 'default', 'pending', 'firing', 1, 'test', ?) RETURNING id",
    )
    .bind(body.as_bytes())
    .fetch_one(&w)
    .await
    .unwrap();
    sqlx::query("INSERT INTO jobs (step, key, delivery_id, state, run_at, created_at, updated_at) VALUES ('ingest', 'k', ?, 'pending', 0, 0, 0)")
        .bind(id)
        .execute(&w)
        .await
        .unwrap();
    drop(w);
    let mut app = app.restart().await;
    app.settings.worker.poll_interval_ms = 20;
    app.settle().await;
    assert_eq!(app.incidents().await.len(), 1);
}
