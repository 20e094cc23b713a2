//! The persisted job queue behind the pipeline.
//!
//! A job is claimed atomically (`UPDATE .. RETURNING`); jobs that share a `key` run one at a time
//! and in creation order (a job waits while an earlier pending or running job has its key). Done
//! jobs are deleted — their outcome is in the timeline; jobs that used up their attempts stay as
//! `dead` with their last error.

use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;

use super::Store;
use crate::domain::job::Step;

/// A claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub step: Step,
    pub key: String,
    pub incident_id: Option<i64>,
    pub delivery_id: Option<i64>,
    /// This attempt's number, from 1.
    pub attempt: u32,
}

/// Queue figures for /health and /metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueStats {
    /// Pending and running jobs per step.
    pub depth: Vec<(String, i64)>,
    /// Age in milliseconds of the oldest pending or running job.
    pub oldest_age_ms: Option<i64>,
    pub dead: i64,
}

/// The serialization key of a group's ingest jobs (bounded length, whatever the groupKey).
pub fn group_key_of(cluster: &str, group_key: &str) -> String {
    let mut h = Sha256::new();
    h.update(cluster.as_bytes());
    h.update([0]);
    h.update(group_key.as_bytes());
    format!("group:{}", hex::encode(&h.finalize()[..12]))
}

/// The serialization key of an incident's pipeline jobs.
pub fn incident_key(incident_id: i64) -> String {
    format!("incident:{incident_id}")
}

pub(super) async fn enqueue(
    conn: &mut SqliteConnection,
    step: Step,
    key: &str,
    incident_id: Option<i64>,
    delivery_id: Option<i64>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let step = step.as_str();
    sqlx::query_scalar!(
        r#"INSERT INTO jobs (step, key, incident_id, delivery_id, state, run_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id AS "id!""#,
        step,
        key,
        incident_id,
        delivery_id,
        now,
        now,
        now
    )
    .fetch_one(conn)
    .await
}

pub(super) async fn complete(conn: &mut SqliteConnection, job_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM jobs WHERE id = ?", job_id).execute(conn).await.map(drop)
}

impl Store {
    /// Claims the next due job, if any.
    pub async fn claim_job(&self, now: i64) -> anyhow::Result<Option<Job>> {
        let row = sqlx::query!(
            r#"UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ?1
               WHERE id = (
                   SELECT j.id FROM jobs j
                   WHERE j.state = 'pending' AND j.run_at <= ?1
                     AND NOT EXISTS (SELECT 1 FROM jobs k
                                     WHERE k.key = j.key AND k.id < j.id AND k.state IN ('pending', 'running'))
                   ORDER BY j.id LIMIT 1)
               RETURNING id AS "id!", step AS "step!", key AS "key!", incident_id, delivery_id,
                         attempts AS "attempts!""#,
            now
        )
        .fetch_optional(&self.write)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let step = Step::parse(&r.step).ok_or_else(|| anyhow::anyhow!("unknown step {:?} in job {}", r.step, r.id))?;
        Ok(Some(Job {
            id: r.id,
            step,
            key: r.key,
            incident_id: r.incident_id,
            delivery_id: r.delivery_id,
            attempt: u32::try_from(r.attempts).unwrap_or(u32::MAX),
        }))
    }

    /// Puts a failed job back in the queue, due at `run_at`, keeping its error.
    pub async fn retry_job(&self, job_id: i64, run_at: i64, error: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "UPDATE jobs SET state = 'pending', run_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
            run_at,
            error,
            now,
            job_id
        )
        .execute(&self.write)
        .await
        .map(drop)
    }

    /// Puts a job that is not finished (verification polling) back, due at `run_at`; not a failure,
    /// so its attempts start over.
    pub async fn reschedule_job(&self, job_id: i64, run_at: i64, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "UPDATE jobs SET state = 'pending', run_at = ?, attempts = 0, updated_at = ? WHERE id = ?",
            run_at,
            now,
            job_id
        )
        .execute(&self.write)
        .await
        .map(drop)
    }

    /// Gives a job up: it stays as `dead` with its last error and no longer blocks its key.
    pub async fn bury_job(&self, job_id: i64, error: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query!("UPDATE jobs SET state = 'dead', last_error = ?, updated_at = ? WHERE id = ?", error, now, job_id)
            .execute(&self.write)
            .await
            .map(drop)
    }

    /// At start-up, jobs left `running` by a process that died are due again. Returns them.
    pub async fn requeue_interrupted(&self, now: i64) -> Result<Vec<(i64, Option<i64>, String)>, sqlx::Error> {
        let rows = sqlx::query!(
            r#"UPDATE jobs SET state = 'pending', run_at = ?1, updated_at = ?1 WHERE state = 'running'
               RETURNING id AS "id!", incident_id, step AS "step!""#,
            now
        )
        .fetch_all(&self.write)
        .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.incident_id, r.step)).collect())
    }

    /// Earliest `run_at` among pending jobs, to know how long an idle worker may sleep.
    pub async fn next_due(&self) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar!(r#"SELECT MIN(run_at) AS "t: i64" FROM jobs WHERE state = 'pending'"#)
            .fetch_one(&self.read)
            .await
    }

    pub async fn queue_stats(&self, now: i64) -> Result<QueueStats, sqlx::Error> {
        let depth = sqlx::query!(
            r#"SELECT step AS "step!", COUNT(*) AS "n!: i64" FROM jobs
               WHERE state IN ('pending', 'running') GROUP BY step ORDER BY step"#
        )
        .fetch_all(&self.read)
        .await?;
        let oldest = sqlx::query_scalar!(
            r#"SELECT MIN(created_at) AS "t: i64" FROM jobs WHERE state IN ('pending', 'running')"#
        )
        .fetch_one(&self.read)
        .await?;
        let dead = sqlx::query_scalar!(r#"SELECT COUNT(*) AS "n!: i64" FROM jobs WHERE state = 'dead'"#)
            .fetch_one(&self.read)
            .await?;
        Ok(QueueStats {
            depth: depth.into_iter().map(|r| (r.step, r.n)).collect(),
            oldest_age_ms: oldest.map(|t| (now - t).max(0)),
            dead,
        })
    }
}
