//! Lookups for chat commands.

use super::Store;
use crate::domain::alert::Labels;

impl Store {
    /// The newest alert with this Alertmanager fingerprint: its incident and labels.
    pub async fn alert_by_fingerprint(&self, fingerprint: &str) -> anyhow::Result<Option<(i64, Labels)>> {
        let row = sqlx::query!(
            r#"SELECT incident_id AS "incident_id!", labels FROM alerts WHERE fingerprint = ? ORDER BY id DESC LIMIT 1"#,
            fingerprint
        )
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| (r.incident_id, serde_json::from_str(&r.labels).unwrap_or_default())))
    }
}
