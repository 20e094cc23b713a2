//! The outbox's periodic work: the email fallback for incidents whose chat message is overdue, and
//! the heartbeats behind the dead man's switch (a Watchdog notification is a heartbeat: no
//! incident, no timeline row).

use super::Store;
use super::outbox::{NewMessage, insert_message};
use crate::notify::message::Rendered;

/// One cluster's Watchdog heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Heartbeat {
    pub cluster: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub beats: i64,
    /// Set while the alarm is raised.
    pub silent_since: Option<i64>,
}

impl Store {
    /// Emails incidents whose chat message was created before `cutoff` and is still undelivered
    /// (once per incident), to the recipients their route chose. Returns how many were queued.
    pub async fn outbox_fallback(&self, cutoff: i64, note: &str, now: i64) -> anyhow::Result<usize> {
        // Looked for on a reader first: the write lock is taken only when there is something to do.
        let any = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM outbox o
               WHERE o.subject = 'incident' AND o.sink != 'email' AND o.state IN ('pending', 'sending')
                 AND o.created_at <= ? AND o.fallback_to IS NOT NULL AND o.fallback_to != ''
                 AND NOT EXISTS (SELECT 1 FROM outbox f WHERE f.incident_id = o.incident_id AND f.subject = 'fallback'))
               AS "any!: bool""#,
            cutoff
        )
        .fetch_one(&self.read)
        .await?;
        if !any {
            return Ok(0);
        }
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let overdue = sqlx::query!(
            r#"SELECT o.id AS "id!", o.incident_id AS "incident_id!", o.fallback_to AS "fallback_to!", o.payload, o.original_at
               FROM outbox o
               WHERE o.subject = 'incident' AND o.sink != 'email' AND o.state IN ('pending', 'sending')
                 AND o.created_at <= ? AND o.incident_id IS NOT NULL AND o.fallback_to IS NOT NULL AND o.fallback_to != ''
                 AND NOT EXISTS (SELECT 1 FROM outbox f WHERE f.incident_id = o.incident_id AND f.subject = 'fallback')
               ORDER BY o.id LIMIT 200"#,
            cutoff
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut queued = 0;
        for row in overdue {
            let mut payload: Rendered = serde_json::from_str(&row.payload)?;
            payload.note = Some(note.to_string());
            crate::notify::render::finish(&mut payload);
            let m = NewMessage {
                idem_key: format!("email|fallback|{}", row.incident_id),
                sink: "email".into(),
                target: row.fallback_to.clone(),
                incident_id: Some(row.incident_id),
                thread: format!("email|{}|{}", row.fallback_to, row.incident_id),
                kind: "post",
                subject: "fallback",
                parent_id: None,
                payload,
                can_edit: false,
                fallback_to: None,
                original_at: row.original_at,
            };
            queued += usize::from(insert_message(&mut tx, &m, now).await?.is_some());
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Records a Watchdog notification for `cluster`.
    pub async fn record_heartbeat(&self, cluster: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "INSERT INTO heartbeats (cluster, first_seen, last_seen) VALUES (?, ?, ?)
             ON CONFLICT (cluster) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen), beats = beats + 1",
            cluster,
            now,
            now
        )
        .execute(&self.write)
        .await
        .map(drop)
    }

    pub async fn heartbeats(&self) -> anyhow::Result<Vec<Heartbeat>> {
        let rows = sqlx::query!(
            r#"SELECT cluster AS "cluster!", first_seen, last_seen, beats, silent_since FROM heartbeats ORDER BY cluster"#
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Heartbeat {
                cluster: r.cluster,
                first_seen: r.first_seen,
                last_seen: r.last_seen,
                beats: r.beats,
                silent_since: r.silent_since,
            })
            .collect())
    }

    /// Raises (`silent_since = Some`) or clears the alarm for `cluster` and enqueues `messages`,
    /// atomically; does nothing if the alarm already is in that state. Returns whether it changed.
    pub async fn set_deadman(
        &self,
        cluster: &str,
        silent_since: Option<i64>,
        messages: &[NewMessage],
        now: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let changed = match silent_since {
            Some(at) => sqlx::query!(
                "UPDATE heartbeats SET silent_since = ? WHERE cluster = ? AND silent_since IS NULL",
                at,
                cluster
            )
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            None => sqlx::query!(
                "UPDATE heartbeats SET silent_since = NULL WHERE cluster = ? AND silent_since IS NOT NULL",
                cluster
            )
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if changed == 0 {
            return Ok(false);
        }
        for m in messages {
            insert_message(&mut tx, m, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
