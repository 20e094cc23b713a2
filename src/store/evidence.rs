//! Evidence bundles of incidents (already redacted by the cluster module), and the alert labels
//! the enrich step resolves them from.

use jiff::Timestamp;
use serde::Serialize;

use super::Store;
use crate::domain::alert::Labels;

/// One stored gathering.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EvidenceRow {
    pub gathered_at: Timestamp,
    pub bundle: serde_json::Value,
    pub rendered: String,
}

impl Store {
    pub async fn insert_evidence(
        &self,
        incident_id: i64,
        at: i64,
        bundle: &serde_json::Value,
        rendered: &str,
    ) -> Result<(), sqlx::Error> {
        let bundle = bundle.to_string();
        sqlx::query!(
            "INSERT INTO evidence (incident_id, gathered_at, bundle, rendered) VALUES (?, ?, ?, ?)",
            incident_id,
            at,
            bundle,
            rendered
        )
        .execute(&self.write)
        .await
        .map(drop)
    }

    pub async fn latest_evidence(&self, incident_id: i64) -> Result<Option<EvidenceRow>, sqlx::Error> {
        let row = sqlx::query!(
            "SELECT gathered_at, bundle, rendered FROM evidence WHERE incident_id = ? ORDER BY id DESC LIMIT 1",
            incident_id
        )
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| EvidenceRow {
            gathered_at: Timestamp::from_millisecond(r.gathered_at).unwrap_or(Timestamp::UNIX_EPOCH),
            bundle: serde_json::from_str(&r.bundle).unwrap_or(serde_json::Value::Null),
            rendered: r.rendered,
        }))
    }

    /// (generatorURL, labels) of an incident's firing alerts, for metrics evidence.
    pub async fn firing_alert_sources(&self, incident_id: i64) -> Result<Vec<(String, Labels)>, sqlx::Error> {
        let rows = sqlx::query!(
            "SELECT generator_url, labels FROM alerts WHERE incident_id = ? AND status = 'firing' ORDER BY id",
            incident_id
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|r| (r.generator_url, serde_json::from_str(&r.labels).unwrap_or_default())).collect())
    }

    /// How many of an incident's alerts are firing.
    pub async fn firing_count(&self, incident_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar!(
            r#"SELECT COUNT(*) AS "n!: i64" FROM alerts WHERE incident_id = ? AND status = 'firing'"#,
            incident_id
        )
        .fetch_one(&self.read)
        .await
    }

    /// The label sets of an incident's alerts, and the labels they all share.
    pub async fn alert_labels(&self, incident_id: i64) -> Result<(Vec<Labels>, Labels), sqlx::Error> {
        let rows = sqlx::query_scalar!("SELECT labels FROM alerts WHERE incident_id = ? ORDER BY id", incident_id)
            .fetch_all(&self.read)
            .await?;
        let sets: Vec<Labels> = rows.iter().filter_map(|l| serde_json::from_str(l).ok()).collect();
        let mut common = sets.first().cloned().unwrap_or_default();
        for set in sets.iter().skip(1) {
            common.retain(|k, v| set.get(k) == Some(v));
        }
        Ok((sets, common))
    }
}
