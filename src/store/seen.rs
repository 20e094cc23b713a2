//! Inbound chat deliveries already handled (`chat_seen`), so retries and replays are answered once.

use super::Store;

/// How long a handled delivery is remembered (Slack retries for minutes, replays die after 5).
const SEEN_FOR_MS: i64 = 24 * 3600 * 1000;

impl Store {
    /// Records that an inbound delivery was handled; `false` if it was already.
    pub async fn first_sighting(&self, key: &str, now: i64) -> anyhow::Result<bool> {
        let cutoff = now - SEEN_FOR_MS;
        sqlx::query!("DELETE FROM chat_seen WHERE seen_at < ?", cutoff).execute(&self.write).await?;
        let done = sqlx::query!("INSERT OR IGNORE INTO chat_seen (key, seen_at) VALUES (?, ?)", key, now)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
