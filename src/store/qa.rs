//! Question threads' context (for follow-ups), and incident lookups for answers.

use super::Store;
use crate::qa::intent::Intent;

impl Store {
    pub async fn qa_context(&self, thread: &str) -> anyhow::Result<Option<Intent>> {
        let text = sqlx::query_scalar!("SELECT intent FROM qa_threads WHERE thread = ?", thread)
            .fetch_optional(&self.read)
            .await?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    pub async fn save_qa_context(&self, thread: &str, intent: &Intent, now: i64) -> anyhow::Result<()> {
        let text = serde_json::to_string(intent)?;
        sqlx::query!(
            "INSERT INTO qa_threads (thread, intent, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (thread) DO UPDATE SET intent = excluded.intent, updated_at = excluded.updated_at",
            thread,
            text,
            now
        )
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Ids of the newest incidents of an alert name.
    pub async fn incidents_named(&self, alertname: &str, limit: i64) -> anyhow::Result<Vec<i64>> {
        Ok(sqlx::query_scalar!(
            r#"SELECT id AS "id!" FROM incidents WHERE alertname = ? ORDER BY id DESC LIMIT ?"#,
            alertname,
            limit
        )
        .fetch_all(&self.read)
        .await?)
    }
}
