//! The outbox, write side: messages are enqueued in the same transaction as the state change they
//! report (the notify step's `StepTx`, ingest, decisions), so a message exists if and only if its
//! news was committed (DESIGN invariant 6). Delivery is `outbox_lane.rs`.
//!
//! An update to an incident (approved, executed, verified, resolved) rewrites the stored payload of
//! each of the incident's messages: one not yet sent simply goes out with the latest state; a sent
//! one gets an edit row (pending edits of it are superseded: only the latest state is sent) and a
//! thread reply with the update's line.

use sqlx::SqliteConnection;

use super::steps::StepTx;
use crate::notify::message::{Rendered, Update, apply_update, reply_for};

/// One message to enqueue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Unique; a second insert with the same key is ignored (the step may run again).
    pub idem_key: String,
    pub sink: String,
    pub target: String,
    pub incident_id: Option<i64>,
    /// Ordering key: rows of one thread are sent in id order.
    pub thread: String,
    /// `post`, `edit` or `reply`.
    pub kind: &'static str,
    /// `incident`, `timeline`, `summary`, `fallback` or `deadman`.
    pub subject: &'static str,
    pub parent_id: Option<i64>,
    pub payload: Rendered,
    pub can_edit: bool,
    pub fallback_to: Option<String>,
    pub original_at: i64,
}

impl NewMessage {
    /// An incident's own message to `sink`/`target`.
    pub fn incident_post(incident_id: i64, sink: &str, target: &str, payload: Rendered, now: i64) -> NewMessage {
        NewMessage {
            idem_key: format!("{sink}|{target}|incident|{incident_id}"),
            sink: sink.into(),
            target: target.into(),
            incident_id: Some(incident_id),
            thread: thread_key(sink, target, incident_id),
            kind: "post",
            subject: "incident",
            parent_id: None,
            payload,
            can_edit: true,
            fallback_to: None,
            original_at: now,
        }
    }
}

/// The ordering key of an incident's messages in one channel.
pub fn thread_key(sink: &str, target: &str, incident_id: i64) -> String {
    format!("{sink}|{target}|{incident_id}")
}

/// Inserts a message unless its key exists; returns its id when inserted.
pub(super) async fn insert_message(
    conn: &mut SqliteConnection,
    m: &NewMessage,
    now: i64,
) -> anyhow::Result<Option<i64>> {
    let payload = serde_json::to_string(&m.payload)?;
    let can_edit = i64::from(m.can_edit);
    let id = sqlx::query_scalar!(
        r#"INSERT INTO outbox (idem_key, sink, target, incident_id, thread, kind, subject, parent_id, payload,
                               can_edit, fallback_to, state, next_attempt_at, original_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)
           ON CONFLICT (idem_key) DO NOTHING RETURNING id AS "id!""#,
        m.idem_key,
        m.sink,
        m.target,
        m.incident_id,
        m.thread,
        m.kind,
        m.subject,
        m.parent_id,
        payload,
        can_edit,
        m.fallback_to,
        now,
        m.original_at,
        now,
        now
    )
    .fetch_optional(conn)
    .await?;
    Ok(id)
}

/// Applies `update` to every message of the incident (see the module doc). Returns the rows added.
pub(super) async fn enqueue_update(
    conn: &mut SqliteConnection,
    incident_id: i64,
    update: &Update,
    now: i64,
) -> anyhow::Result<usize> {
    let mains = sqlx::query!(
        r#"SELECT id AS "id!", idem_key, sink, target, thread, state, payload, can_edit FROM outbox
           WHERE incident_id = ? AND subject IN ('incident', 'fallback') AND state IN ('pending', 'sending', 'sent')
           ORDER BY id"#,
        incident_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut added = 0;
    for main in mains {
        let mut payload: Rendered = serde_json::from_str(&main.payload)?;
        let before = payload.clone();
        apply_update(&mut payload, update);
        let text = serde_json::to_string(&payload)?;
        sqlx::query!("UPDATE outbox SET payload = ?, updated_at = ? WHERE id = ?", text, now, main.id)
            .execute(&mut *conn)
            .await?;
        if main.state == "pending" {
            continue; // not sent yet: it goes out with the latest state
        }
        let seq = sqlx::query_scalar!(r#"SELECT COUNT(*) AS "n!: i64" FROM outbox WHERE parent_id = ?"#, main.id)
            .fetch_one(&mut *conn)
            .await?;
        let child = |kind: &'static str, subject: &'static str, payload: Rendered, n: i64| NewMessage {
            idem_key: format!("{}|{kind}|{n}", main.idem_key),
            sink: main.sink.clone(),
            target: main.target.clone(),
            incident_id: Some(incident_id),
            thread: main.thread.clone(),
            kind,
            subject,
            parent_id: Some(main.id),
            payload,
            can_edit: false,
            fallback_to: None,
            original_at: now,
        };
        if main.can_edit != 0 && payload.text != before.text {
            sqlx::query!(
                "UPDATE outbox SET state = 'superseded', updated_at = ? WHERE parent_id = ? AND kind = 'edit' AND state = 'pending'",
                now,
                main.id
            )
            .execute(&mut *conn)
            .await?;
            added += usize::from(
                insert_message(conn, &child("edit", "incident", payload.clone(), seq + 1), now).await?.is_some(),
            );
        }
        if let Some(line) = &update.line {
            let reply = child("reply", "timeline", reply_for(&payload, line), seq + 2);
            added += usize::from(insert_message(conn, &reply, now).await?.is_some());
        }
    }
    Ok(added)
}

impl StepTx<'_> {
    /// Enqueues a message in this step's transaction.
    pub async fn enqueue_message(&mut self, m: &NewMessage) -> anyhow::Result<Option<i64>> {
        let now = self.now;
        insert_message(self.conn(), m, now).await
    }

    /// Tells the incident's messages about a change, in this step's transaction.
    pub async fn notify_update(&mut self, update: &Update) -> anyhow::Result<usize> {
        let (id, now) = (self.incident_id, self.now);
        enqueue_update(self.conn(), id, update, now).await
    }
}

impl super::Store {
    /// The Alertmanager URL an incident's notifications came from.
    pub async fn incident_external_url(&self, incident_id: i64) -> anyhow::Result<String> {
        Ok(sqlx::query_scalar!("SELECT external_url FROM incidents WHERE id = ?", incident_id)
            .fetch_optional(&self.read)
            .await?
            .unwrap_or_default())
    }
}
