//! The database under stress: locked, full, shared, upgraded (RELIABILITY A14, B10, B11, H03).

use std::str::FromStr;
use std::time::Duration;

use serde_json::json;
use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use crate::support::payload;
use crate::support::{TestApp, test_settings};

#[tokio::test]
async fn a14_a_database_that_cannot_commit_gets_503_never_2xx_and_recovers() {
    let app = TestApp::spawn_with(|s| s.store.busy_timeout_ms = 200).await;
    assert_eq!(app.post_alerts(&payload::one("before")).await.status(), 200);

    // Another process holds the write lock (a backup, a stuck sqlite3 shell...).
    let url = format!("sqlite://{}", app.db_path().display());
    let mut other = SqliteConnectOptions::from_str(&url).unwrap().connect().await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut other).await.unwrap();

    let resp = app.post_alerts(&payload::one("during")).await;
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");

    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    drop(other);
    // Alertmanager retries: now it is stored, once.
    assert_eq!(app.post_alerts(&payload::one("during")).await.status(), 200);
    app.settle().await;
    assert_eq!(app.incidents().await.len(), 2);
    assert!(app.metric("mimi_webhook_deliveries_total{result=\"unavailable\"}").await >= 1.0);
}

#[tokio::test]
async fn b11_a_full_disk_gets_503_and_the_database_stays_intact() {
    // store.max_size_mb caps the database exactly as a full disk would stop it (SQLITE_FULL).
    let app = TestApp::spawn_with(|s| s.store.max_size_mb = Some(1)).await;
    let mut accepted = Vec::new();
    let mut refused = 0;
    for i in 0..40 {
        let mut p = payload::one(&format!("g{i}"));
        p["alerts"][0]["annotations"]["description"] = json!(format!("{i}").repeat(60_000));
        let resp = app.post_alerts(&p).await;
        match resp.status().as_u16() {
            200 => accepted.push(i),
            503 => refused += 1,
            other => panic!("delivery {i}: unexpected status {other}"),
        }
    }
    assert!(!accepted.is_empty() && refused > 0, "accepted {} refused {refused}", accepted.len());
    app.store().integrity_check().await.expect("integrity_check ok after SQLITE_FULL");
    // Everything acknowledged is really there.
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM deliveries").fetch_one(app.store().reader()).await.unwrap();
    assert_eq!(stored, accepted.len() as i64);
}

#[tokio::test]
async fn b10_a_second_instance_on_the_same_database_refuses_to_start() {
    let app = TestApp::spawn().await;
    let second = mimi::store::Store::open(&mimi::app::store_options(&app.settings)).await;
    let err = format!("{:#}", second.expect_err("second instance must be refused"));
    assert!(err.contains("another Mimi"), "{err}");
    assert!(err.contains(&std::process::id().to_string()), "names the holder's pid: {err}");

    // Once the first stops, the lock is free again.
    let settings = app.settings.clone();
    app.stop().await;
    let store = mimi::store::Store::open(&mimi::app::store_options(&settings)).await.expect("lock released");
    store.close().await;
}

#[tokio::test]
async fn b10_the_real_binary_refuses_a_second_instance() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = crate::support::binary::spawn(dir.path(), "", &[]);
    first.ready().await;
    let mut second = crate::support::binary::spawn(dir.path(), "", &[]);
    let status = second.exited(Duration::from_secs(20)).await;
    assert!(!status.success());
    let stderr = second.stderr();
    assert!(stderr.contains("another Mimi"), "{stderr}");
}

#[tokio::test]
async fn h03_migrations_preserve_inbox_and_jobs_rows() {
    let migrations = &mimi::store::MIGRATOR.migrations;
    // For every point in the migration history: a database at that version, holding deliveries
    // and jobs, upgraded to the latest keeps them all.
    for applied in 1..=migrations.len() {
        let dir = tempfile::tempdir().unwrap();
        let settings = test_settings(dir.path());
        let url = format!("sqlite://{}?mode=rwc", settings.database_path().display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let partial = sqlx::migrate::Migrator::with_migrations(migrations[..applied].to_vec());
        partial.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO deliveries (id, digest, received_at, cluster, group_key, status, alert_count, auth_identity, payload)
             VALUES (1, x'01', 1, 'c', 'g', 'firing', 1, 'bearer', ?)",
        )
        .bind(payload::one("old").to_string().into_bytes())
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO jobs (step, key, delivery_id, state, run_at, created_at, updated_at)
             VALUES ('ingest', 'group:old', 1, 'pending', 1, 1, 1)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        // Start Mimi on it: migrations run, and the pending ingest job is processed.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = mimi::app::start(settings.clone(), Some(listener)).await.unwrap();
        let store = running.store.clone();
        crate::support::wait_until(Duration::from_secs(10), "the old delivery to be ingested", || async {
            store.queue_stats(mimi::store::now_ms()).await.unwrap().depth.is_empty()
        })
        .await;
        let delivered: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE incident_id IS NOT NULL")
            .fetch_one(store.reader())
            .await
            .unwrap();
        assert_eq!(delivered, 1, "after applying {applied} of {} migrations", migrations.len());
        drop(store);
        running.stop().await.unwrap();
    }
}
