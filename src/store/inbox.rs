//! The inbox: webhook deliveries committed in batches, each new one with its ingest job.
//!
//! A batch is one transaction of two statements (a multi-row insert of deliveries that skips
//! known digests, and a multi-row insert of their ingest jobs), so one fsync covers many
//! deliveries. A delivery whose digest is already stored is a duplicate and changes nothing.

use std::collections::HashMap;

use sqlx::{Connection, QueryBuilder, Row, SqliteConnection};

use super::{Store, jobs};
use crate::domain::alert::DeliveryDigest;
use crate::domain::job::Step;

/// A parsed, accepted delivery, ready to be committed.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub digest: DeliveryDigest,
    pub received_at: i64,
    pub cluster: String,
    pub group_key: String,
    pub status: &'static str,
    pub alert_count: i64,
    pub auth_identity: String,
    pub payload: bytes::Bytes,
}

/// What committing one delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Stored, with its ingest job; `delivery_id` is its row.
    Accepted { delivery_id: i64 },
    /// The same delivery was stored before (or earlier in this batch): nothing changed.
    Duplicate,
}

/// SQLite's default limit on bound parameters is 32766; 8 per delivery row.
pub(super) const MAX_BATCH: usize = 2048;

impl Store {
    /// Commits a batch of deliveries durably; the outcomes are in the batch's order.
    pub async fn commit_deliveries(&self, batch: &[NewDelivery]) -> Result<Vec<CommitOutcome>, sqlx::Error> {
        assert!(batch.len() <= MAX_BATCH, "commit batch of {} exceeds {MAX_BATCH}", batch.len());
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        // Acknowledged means on disk: this transaction alone is committed with synchronous=FULL.
        let mut conn = self.write.acquire().await?;
        sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
        let result = insert_batch(&mut conn, batch).await;
        let reset = sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await;
        let mut inserted = result?;
        reset?;

        // The first occurrence of a digest in the batch owns the new row; repeats are duplicates.
        let mut outcomes = Vec::with_capacity(batch.len());
        for d in batch {
            match inserted.remove(&d.digest.0[..]) {
                Some(delivery_id) => outcomes.push(CommitOutcome::Accepted { delivery_id }),
                None => outcomes.push(CommitOutcome::Duplicate),
            }
        }
        Ok(outcomes)
    }
}

/// One transaction: the deliveries (skipping known digests) and an ingest job for each new one.
/// Returns the new rows' ids by digest.
async fn insert_batch(
    conn: &mut SqliteConnection,
    batch: &[NewDelivery],
) -> Result<HashMap<Vec<u8>, i64>, sqlx::Error> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;

    let mut insert = QueryBuilder::new(
        "INSERT INTO deliveries (digest, received_at, cluster, group_key, status, alert_count, auth_identity, payload) ",
    );
    insert.push_values(batch, |mut row, d| {
        row.push_bind(&d.digest.0[..])
            .push_bind(d.received_at)
            .push_bind(&d.cluster)
            .push_bind(&d.group_key)
            .push_bind(d.status)
            .push_bind(d.alert_count)
            .push_bind(&d.auth_identity)
            .push_bind(&d.payload[..]);
    });
    insert.push(" ON CONFLICT (digest) DO NOTHING RETURNING id, digest");
    let rows = insert.build().fetch_all(&mut *tx).await?;
    let mut inserted: HashMap<Vec<u8>, i64> = HashMap::with_capacity(rows.len());
    for row in rows {
        inserted.insert(row.try_get("digest")?, row.try_get("id")?);
    }

    if !inserted.is_empty() {
        let now = batch[0].received_at;
        let mut jobs_insert =
            QueryBuilder::new("INSERT INTO jobs (step, key, delivery_id, state, run_at, created_at, updated_at) ");
        // Deliveries in id order, so a group's jobs are created in the order Mimi received them.
        let mut new_ids: Vec<(i64, &NewDelivery)> =
            batch.iter().filter_map(|d| inserted.get(&d.digest.0[..]).map(|id| (*id, d))).collect();
        new_ids.sort_unstable_by_key(|(id, _)| *id);
        new_ids.dedup_by_key(|(id, _)| *id);
        jobs_insert.push_values(&new_ids, |mut row, (id, d)| {
            row.push_bind(Step::Ingest.as_str())
                .push_bind(jobs::group_key_of(&d.cluster, &d.group_key))
                .push_bind(*id)
                .push_bind("pending")
                .push_bind(now)
                .push_bind(now)
                .push_bind(now);
        });
        jobs_insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(inserted)
}
