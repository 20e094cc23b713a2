//! The outbox, delivery side: what a sink's lane may send next, and recording what happened.
//!
//! The lanes read on the read-only connections (WAL: they see every committed row) and write on
//! the single write connection only to record. A row is handed to a sink only after it is marked
//! `sending` (committed). After a crash, rows
//! still `sending` have an unknown outcome: the lane asks the sink (`Sink::lookup`) and records the
//! found message, or sends again — at most one duplicate per crash (RELIABILITY B03).

use serde::Serialize;

use super::Store;
use super::outbox::{NewMessage, insert_message};
use crate::domain::approval::PendingApproval;
use crate::domain::approver::{MessageRef, Platform};
use crate::notify::message::Rendered;

/// A row to deliver, with what its parent left for it.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub idem_key: String,
    pub sink: String,
    pub target: String,
    pub incident_id: Option<i64>,
    pub kind: String,
    pub subject: String,
    pub parent_id: Option<i64>,
    pub payload: Rendered,
    pub attempts: i64,
    pub original_at: i64,
    pub created_at: i64,
    /// The parent's platform id (the message an edit replaces, or a reply answers).
    pub parent_ref: Option<String>,
    /// The top message of the parent's thread.
    pub parent_root: Option<String>,
}

/// Outbox figures per sink for /health and /metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxStats {
    pub sink: String,
    /// Pending and sending.
    pub depth: i64,
    pub oldest_age_ms: Option<i64>,
    pub dead: i64,
}

macro_rules! outbox_row {
    ($r:expr) => {
        OutboxRow {
            id: $r.id,
            idem_key: $r.idem_key,
            sink: $r.sink,
            target: $r.target,
            incident_id: $r.incident_id,
            kind: $r.kind,
            subject: $r.subject,
            parent_id: $r.parent_id,
            payload: serde_json::from_str(&$r.payload)?,
            attempts: $r.attempts,
            original_at: $r.original_at,
            created_at: $r.created_at,
            parent_ref: $r.parent_ref,
            parent_root: $r.parent_root,
        }
    };
}

impl Store {
    /// For each channel of `sink`, its next sendable row: due, its thread's earlier rows done, its
    /// parent (if any) sent. Oldest first.
    pub async fn outbox_due(&self, sink: &str, now: i64) -> anyhow::Result<Vec<OutboxRow>> {
        let rows = sqlx::query!(
            r#"SELECT o.id AS "id!", o.idem_key, o.sink, o.target, o.incident_id, o.kind, o.subject, o.parent_id,
                      o.payload, o.attempts, o.original_at, o.created_at,
                      p.message_ref AS parent_ref, p.thread_root AS parent_root
               FROM outbox o LEFT JOIN outbox p ON p.id = o.parent_id
               WHERE o.id IN (
                   SELECT MIN(c.id) FROM outbox c LEFT JOIN outbox cp ON cp.id = c.parent_id
                   WHERE c.sink = ?1 AND c.state = 'pending' AND c.next_attempt_at <= ?2
                     AND (c.parent_id IS NULL OR cp.state = 'sent')
                     AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.thread = c.thread AND e.id < c.id
                                     AND e.state IN ('pending', 'sending'))
                   GROUP BY c.target)
               ORDER BY o.id"#,
            sink,
            now
        )
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(outbox_row!(r));
        }
        Ok(out)
    }

    /// Rows a crash left `sending` (outcome unknown).
    pub async fn outbox_in_doubt(&self, sink: &str) -> anyhow::Result<Vec<OutboxRow>> {
        let rows = sqlx::query!(
            r#"SELECT o.id AS "id!", o.idem_key, o.sink, o.target, o.incident_id, o.kind, o.subject, o.parent_id,
                      o.payload, o.attempts, o.original_at, o.created_at,
                      p.message_ref AS parent_ref, p.thread_root AS parent_root
               FROM outbox o LEFT JOIN outbox p ON p.id = o.parent_id
               WHERE o.sink = ? AND o.state = 'sending' ORDER BY o.id"#,
            sink
        )
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(outbox_row!(r));
        }
        Ok(out)
    }

    /// Records the intent to send (committed before the sink is called).
    pub async fn outbox_mark_sending(&self, id: i64, now: i64) -> anyhow::Result<()> {
        sqlx::query!(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ? WHERE id = ?",
            now,
            id
        )
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Records a delivery. For an incident message on a chat platform, the message is added to its
    /// open proposals' messages, so approvals from it are accepted there (C07).
    pub async fn outbox_mark_sent(
        &self,
        row: &OutboxRow,
        message_ref: &str,
        platform: Option<Platform>,
        now: i64,
    ) -> anyhow::Result<()> {
        let root = match row.kind.as_str() {
            "reply" => row.parent_root.clone().or_else(|| row.parent_ref.clone()),
            "edit" => row.parent_root.clone(),
            _ => Some(message_ref.to_string()),
        };
        let stored_ref = if row.kind == "edit" { row.parent_ref.clone() } else { Some(message_ref.to_string()) };
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query!(
            "UPDATE outbox SET state = 'sent', message_ref = ?, thread_root = ?, sent_at = ?, updated_at = ?, last_error = NULL WHERE id = ?",
            stored_ref,
            root,
            now,
            now,
            row.id
        )
        .execute(&mut *tx)
        .await?;
        if let (Some(platform), "incident", "post" | "reply") = (platform, row.subject.as_str(), row.kind.as_str()) {
            for id in row.payload.proposals.iter().map(|p| p.id.as_str()) {
                let found = sqlx::query!("SELECT pending FROM proposals WHERE public_id = ?", id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(mut pending) =
                    found.and_then(|r| r.pending).and_then(|p| serde_json::from_str::<PendingApproval>(&p).ok())
                else {
                    continue;
                };
                let m = MessageRef { platform, channel: row.target.clone(), message: message_ref.to_string() };
                if pending.messages.contains(&m) {
                    continue;
                }
                pending.messages.push(m);
                let text = serde_json::to_string(&pending)?;
                sqlx::query!(
                    "UPDATE proposals SET pending = ?, version = version + 1, updated_at = ? WHERE public_id = ?",
                    text,
                    now,
                    id
                )
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Back to pending, due at `next_at`.
    pub async fn outbox_retry(&self, id: i64, next_at: i64, error: Option<&str>, now: i64) -> anyhow::Result<()> {
        sqlx::query!(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = COALESCE(?, last_error), updated_at = ? WHERE id = ?",
            next_at,
            error,
            now,
            id
        )
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Gives a row up; its pending edits and replies go with it.
    pub async fn outbox_give_up(&self, id: i64, error: &str, now: i64) -> anyhow::Result<()> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query!("UPDATE outbox SET state = 'dead', last_error = ?, updated_at = ? WHERE id = ?", error, now, id)
            .execute(&mut *tx)
            .await?;
        sqlx::query!(
            "UPDATE outbox SET state = 'dead', last_error = 'the message it belongs to was not delivered', updated_at = ?
             WHERE parent_id = ? AND state = 'pending'",
            now,
            id
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Channels of `sink` to roll up now: with at least `threshold` new incident messages waiting,
    /// or with some waiting while a roll-up there is younger than `window_ms` (the burst goes on).
    pub async fn outbox_bursts(
        &self,
        sink: &str,
        threshold: i64,
        window_ms: i64,
        now: i64,
    ) -> anyhow::Result<Vec<String>> {
        let since = now - window_ms;
        Ok(sqlx::query_scalar!(
            r#"SELECT o.target AS "target!" FROM outbox o
               WHERE o.sink = ?1 AND o.state = 'pending' AND o.kind = 'post' AND o.subject = 'incident'
               GROUP BY o.target
               HAVING COUNT(*) >= ?2 OR EXISTS (SELECT 1 FROM outbox s WHERE s.sink = ?1 AND s.target = o.target
                                                AND s.subject = 'summary' AND s.kind = 'post' AND s.updated_at >= ?3
                                                AND s.state IN ('pending', 'sending', 'sent'))"#,
            sink,
            threshold,
            since
        )
        .fetch_all(&self.read)
        .await?)
    }

    /// Rolls up the waiting new incident messages of one channel: they become replies in the thread
    /// of a summary message — the channel's summary younger than `window_ms` (its list grows, by an
    /// edit if it was sent), or a new one. Returns the summary's id and how many joined it.
    pub async fn outbox_roll_up(
        &self,
        sink: &str,
        target: &str,
        window_ms: i64,
        now: i64,
    ) -> anyhow::Result<Option<(i64, usize)>> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let rows = sqlx::query!(
            r#"SELECT id AS "id!", payload, original_at FROM outbox
               WHERE sink = ? AND target = ? AND state = 'pending' AND kind = 'post' AND subject = 'incident'
               ORDER BY id LIMIT 500"#,
            sink,
            target
        )
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut titles = Vec::with_capacity(rows.len());
        for r in &rows {
            titles.push(serde_json::from_str::<Rendered>(&r.payload)?.title);
        }
        let since = now - window_ms;
        let open = sqlx::query!(
            r#"SELECT id AS "id!", idem_key, thread, state, payload FROM outbox
               WHERE sink = ? AND target = ? AND subject = 'summary' AND kind = 'post' AND updated_at >= ?
                 AND state IN ('pending', 'sending', 'sent') ORDER BY id DESC LIMIT 1"#,
            sink,
            target,
            since
        )
        .fetch_optional(&mut *tx)
        .await?;
        let summary_id = match open {
            Some(s) => {
                let mut payload: Rendered = serde_json::from_str(&s.payload)?;
                crate::notify::render::extend_summary(&mut payload, &titles);
                let text = serde_json::to_string(&payload)?;
                sqlx::query!("UPDATE outbox SET payload = ?, updated_at = ? WHERE id = ?", text, now, s.id)
                    .execute(&mut *tx)
                    .await?;
                if s.state != "pending" {
                    sqlx::query!(
                        "UPDATE outbox SET state = 'superseded', updated_at = ? WHERE parent_id = ? AND kind = 'edit' AND state = 'pending'",
                        now,
                        s.id
                    )
                    .execute(&mut *tx)
                    .await?;
                    let edit = NewMessage {
                        idem_key: format!("{}|edit|{}", s.idem_key, rows[0].id),
                        sink: sink.into(),
                        target: target.into(),
                        incident_id: None,
                        thread: s.thread.clone(),
                        kind: "edit",
                        subject: "summary",
                        parent_id: Some(s.id),
                        payload,
                        can_edit: false,
                        fallback_to: None,
                        original_at: now,
                    };
                    insert_message(&mut tx, &edit, now).await?;
                }
                s.id
            }
            None => {
                let first = rows[0].id;
                let summary = NewMessage {
                    idem_key: format!("{sink}|{target}|summary|{first}"),
                    sink: sink.into(),
                    target: target.into(),
                    incident_id: None,
                    thread: format!("{sink}|{target}|summary|{first}"),
                    kind: "post",
                    subject: "summary",
                    parent_id: None,
                    payload: crate::notify::render::summary(&titles),
                    can_edit: true,
                    fallback_to: None,
                    original_at: rows.iter().map(|r| r.original_at).min().unwrap_or(now),
                };
                let Some(id) = insert_message(&mut tx, &summary, now).await? else { return Ok(None) };
                id
            }
        };
        for r in &rows {
            sqlx::query!(
                "UPDATE outbox SET kind = 'reply', parent_id = ?, updated_at = ? WHERE id = ?",
                summary_id,
                now,
                r.id
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some((summary_id, rows.len())))
    }

    /// Depth, oldest age and dead rows per sink.
    pub async fn outbox_stats(&self, now: i64) -> Result<Vec<OutboxStats>, sqlx::Error> {
        let rows = sqlx::query!(
            r#"SELECT sink AS "sink!",
                      SUM(CASE WHEN state IN ('pending', 'sending') THEN 1 ELSE 0 END) AS "depth!: i64",
                      MIN(CASE WHEN state IN ('pending', 'sending') THEN created_at END) AS "oldest: i64",
                      SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END) AS "dead!: i64"
               FROM outbox GROUP BY sink ORDER BY sink"#
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxStats {
                sink: r.sink,
                depth: r.depth,
                oldest_age_ms: r.oldest.map(|t| (now - t).max(0)),
                dead: r.dead,
            })
            .collect())
    }
}
