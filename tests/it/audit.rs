//! The hash-chained timeline: intact chains verify, tampering is found (`mimi audit verify`).

use std::process::Command;
use std::str::FromStr;

use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use crate::support::{TestApp, payload};

#[tokio::test]
async fn the_timeline_is_append_only_and_tampering_is_detected() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        app.post_alerts(&payload::one(&format!("a{i}"))).await;
    }
    app.settle().await;
    let report = app.store().verify_chain().await.unwrap();
    assert!(report.rows >= 12, "{report:?}");
    assert_eq!(report.first_broken, None);

    // Ordinary edits are refused by the database itself.
    let w = app.store().writer();
    let update = sqlx::query("UPDATE incident_events SET actor = 'mallory' WHERE id = 3").execute(w).await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    assert!(sqlx::query("DELETE FROM incident_events WHERE id = 3").execute(w).await.is_err());

    let db = app.db_path();
    let _dir = app.stop().await;

    // Someone with file access removes the guard and rewrites history: the chain shows where.
    let url = format!("sqlite://{}", db.display());
    let mut conn = SqliteConnectOptions::from_str(&url).unwrap().connect().await.unwrap();
    sqlx::query("DROP TRIGGER incident_events_no_update").execute(&mut conn).await.unwrap();
    sqlx::query("UPDATE incident_events SET actor = 'mallory' WHERE id = 3").execute(&mut conn).await.unwrap();
    drop(conn);

    let out = Command::new(env!("CARGO_BIN_EXE_mimi"))
        .args(["audit", "verify"])
        .env("MIMI__DATA_DIR", db.parent().unwrap())
        .env("MIMI__WEBHOOK__BEARER_TOKEN", "x")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("BROKEN at row 3"), "{stdout}");
}

#[tokio::test]
async fn audit_verify_reads_a_database_that_a_running_mimi_holds() {
    let app = TestApp::spawn().await;
    app.post_alerts(&payload::one("x")).await;
    app.settle().await;
    let out = Command::new(env!("CARGO_BIN_EXE_mimi"))
        .args(["audit", "verify"])
        .env("MIMI__DATA_DIR", app.db_path().parent().unwrap())
        .env("MIMI__WEBHOOK__BEARER_TOKEN", "x")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("audit trail intact"), "{stdout}");
}
