//! The append-only timeline and audit trail, hash-chained so that tampering is detectable.
//!
//! Each row's hash covers its own fields and the previous row's hash. Changing or deleting any
//! row breaks the chain from there on; [`Store::verify_chain`] finds the first broken row. (Cutting
//! rows off the end leaves a valid shorter chain; the row count in backups and metrics shows that.)

use sha2::{Digest, Sha256};
use sqlx::{QueryBuilder, Row, SqliteConnection};

use super::Store;

/// One timeline entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub incident_id: Option<i64>,
    /// A short machine-readable kind, e.g. `opened`, `alerts`, `step_skipped`, `step_failed`.
    pub kind: &'static str,
    /// Who did it: `alertmanager`, `mimi`, or a user identity.
    pub actor: String,
    pub detail: serde_json::Value,
}

impl NewEvent {
    pub fn new(incident_id: i64, kind: &'static str, actor: &str, detail: serde_json::Value) -> Self {
        NewEvent { incident_id: Some(incident_id), kind, actor: actor.to_string(), detail }
    }
}

const GENESIS: [u8; 32] = [0; 32];

/// The hash of one row, chained to the previous row's hash.
fn row_hash(
    prev: &[u8],
    id: i64,
    incident_id: Option<i64>,
    at: i64,
    kind: &str,
    actor: &str,
    detail: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"mimi-event-v1\0");
    h.update(prev);
    h.update(id.to_le_bytes());
    h.update(incident_id.unwrap_or(-1).to_le_bytes());
    h.update(at.to_le_bytes());
    for part in [kind, actor, detail] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// Appends events inside the caller's write transaction (which serializes appenders).
pub(super) async fn append(conn: &mut SqliteConnection, at: i64, events: &[NewEvent]) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let last = sqlx::query!(r#"SELECT id AS "id!", hash FROM incident_events ORDER BY id DESC LIMIT 1"#)
        .fetch_optional(&mut *conn)
        .await?;
    let (mut id, mut prev) = match last {
        Some(row) => (row.id, row.hash),
        None => (0, GENESIS.to_vec()),
    };
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
        id += 1;
        let detail = e.detail.to_string();
        let hash = row_hash(&prev, id, e.incident_id, at, e.kind, &e.actor, &detail).to_vec();
        rows.push((id, e, detail, std::mem::replace(&mut prev, hash.clone()), hash));
    }
    // Few statements: each one is a round trip to the connection's thread.
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::new(
            "INSERT INTO incident_events (id, incident_id, at, kind, actor, detail, prev_hash, hash) ",
        );
        insert.push_values(chunk, |mut b, (id, e, detail, prev, hash)| {
            b.push_bind(*id)
                .push_bind(e.incident_id)
                .push_bind(at)
                .push_bind(e.kind)
                .push_bind(&e.actor)
                .push_bind(detail)
                .push_bind(prev)
                .push_bind(hash);
        });
        insert.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Rows per multi-row insert, well under SQLite's limit of 32766 bound parameters.
pub(super) const ROWS_PER_STATEMENT: usize = 500;

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub rows: u64,
    /// The first row that does not verify, and why.
    pub first_broken: Option<(i64, String)>,
}

impl Store {
    /// Appends events outside any other transaction.
    pub async fn append_events(&self, events: &[NewEvent]) -> Result<(), sqlx::Error> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        append(&mut tx, super::now_ms(), events).await?;
        tx.commit().await
    }

    /// Walks the whole timeline in order and recomputes every hash.
    /// The newest timeline event's id (0 when none): it grows whenever any incident changes.
    pub async fn last_event_id(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar!(r#"SELECT COALESCE(MAX(id), 0) AS "id!: i64" FROM incident_events"#)
            .fetch_one(&self.read)
            .await
    }

    pub async fn verify_chain(&self) -> Result<ChainReport, sqlx::Error> {
        use futures::TryStreamExt;
        let mut rows = sqlx::query(
            "SELECT id, incident_id, at, kind, actor, detail, prev_hash, hash FROM incident_events ORDER BY id",
        )
        .fetch(&self.read);
        let mut prev = GENESIS.to_vec();
        let mut count = 0u64;
        while let Some(row) = rows.try_next().await? {
            count += 1;
            let id: i64 = row.try_get("id")?;
            let stored_prev: Vec<u8> = row.try_get("prev_hash")?;
            let stored: Vec<u8> = row.try_get("hash")?;
            if stored_prev != prev {
                return Ok(ChainReport {
                    rows: count,
                    first_broken: Some((id, "previous row missing or changed".into())),
                });
            }
            let computed = row_hash(
                &prev,
                id,
                row.try_get("incident_id")?,
                row.try_get("at")?,
                row.try_get::<&str, _>("kind")?,
                row.try_get::<&str, _>("actor")?,
                row.try_get::<&str, _>("detail")?,
            );
            if computed[..] != stored[..] {
                return Ok(ChainReport { rows: count, first_broken: Some((id, "row content changed".into())) });
            }
            prev = stored;
        }
        Ok(ChainReport { rows: count, first_broken: None })
    }
}
