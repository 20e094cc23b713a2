//! Read queries behind the API: incident lists (filtered, keyset-paginated) and one incident's
//! alerts, timeline and jobs. All on the read-only connections.

use jiff::Timestamp;

use crate::domain::analysis::SimilarIncident;
use serde::Serialize;

use super::Store;

/// Filters for the incident list; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub state: Option<String>,
    pub namespace: Option<String>,
    pub severity: Option<String>,
    /// Created at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// Only incidents with an id below this (the `next` cursor of the previous page).
    pub before_id: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IncidentRow {
    pub id: i64,
    pub cluster: String,
    pub group_key: String,
    pub episode: i64,
    pub state: String,
    pub alertname: String,
    pub namespace: Option<String>,
    pub severity: Option<String>,
    pub summary: Option<String>,
    pub firing_alerts: i64,
    pub truncated_alerts: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IncidentPage {
    pub incidents: Vec<IncidentRow>,
    /// Pass as `before` to get the next page; absent on the last page.
    pub next: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertRow {
    pub fingerprint: String,
    pub status: String,
    pub starts_at: String,
    pub ends_at: Option<String>,
    pub labels: serde_json::Value,
    pub annotations: serde_json::Value,
    pub generator_url: String,
}

impl AlertRow {
    /// The alert as analyzers and memory see it (labels and annotations parsed).
    pub fn view(&self) -> crate::domain::analysis::AlertView {
        crate::domain::analysis::AlertView {
            status: self.status.clone(),
            labels: serde_json::from_value(self.labels.clone()).unwrap_or_default(),
            annotations: serde_json::from_value(self.annotations.clone()).unwrap_or_default(),
            starts_at: self.starts_at.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EventRow {
    pub id: i64,
    pub at: Timestamp,
    pub kind: String,
    pub actor: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JobRow {
    pub id: i64,
    pub step: String,
    pub state: String,
    pub attempts: i64,
    pub run_at: Timestamp,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub incident: IncidentRow,
    pub alerts: Vec<AlertRow>,
    pub timeline: Vec<EventRow>,
    /// Pipeline jobs still queued, running, or given up (with their last error).
    pub jobs: Vec<JobRow>,
    /// The newest evidence gathered from the cluster (redacted), if any.
    pub evidence: Option<super::EvidenceRow>,
    /// The newest analysis, if any.
    pub analysis: Option<serde_json::Value>,
    /// Every proposal, in the analyzer's order, with what became of it.
    pub proposals: Vec<super::ProposalRow>,
    /// The audit rows of actions run for it.
    pub runs: Vec<super::RunRow>,
    /// Similar past incidents memory recalled for it (with their ids and outcomes).
    pub similar: Vec<SimilarIncident>,
    /// Why memory could not be asked, when it could not.
    pub memory_note: Option<String>,
}

/// What the newest `memory_recall` event of a timeline says.
fn recalled(timeline: &[EventRow]) -> (Vec<SimilarIncident>, Option<String>) {
    let Some(e) = timeline.iter().rev().find(|e| e.kind == "memory_recall") else { return (Vec::new(), None) };
    let similar = serde_json::from_value(e.detail["similar"].clone()).unwrap_or_default();
    (similar, e.detail["note"].as_str().map(str::to_string))
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn json_or_null(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

macro_rules! incident_row {
    ($r:expr) => {
        IncidentRow {
            id: $r.id,
            cluster: $r.cluster,
            group_key: $r.group_key,
            episode: $r.episode,
            state: $r.state,
            alertname: $r.alertname,
            namespace: $r.namespace,
            severity: $r.severity,
            summary: $r.summary,
            firing_alerts: $r.firing_alerts,
            truncated_alerts: $r.truncated_alerts,
            created_at: ts($r.created_at),
            updated_at: ts($r.updated_at),
            resolved_at: $r.resolved_at.map(ts),
        }
    };
}

macro_rules! job_row {
    ($j:expr) => {
        JobRow {
            id: $j.id,
            step: $j.step,
            state: $j.state,
            attempts: $j.attempts,
            run_at: ts($j.run_at),
            last_error: $j.last_error,
        }
    };
}

impl Store {
    pub async fn list_incidents(&self, f: &IncidentFilter) -> Result<IncidentPage, sqlx::Error> {
        let limit = f.limit.clamp(1, 500);
        let fetch = limit + 1;
        let rows = sqlx::query!(
            r#"SELECT id AS "id!", cluster, group_key, episode, state, alertname, namespace, severity, summary,
                      firing_alerts, truncated_alerts, created_at, updated_at, resolved_at
               FROM incidents
               WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR namespace = ?2)
                 AND (?3 IS NULL OR severity = ?3) AND (?4 IS NULL OR created_at >= ?4)
                 AND (?5 IS NULL OR id < ?5)
               ORDER BY id DESC LIMIT ?6"#,
            f.state,
            f.namespace,
            f.severity,
            f.since_ms,
            f.before_id,
            fetch
        )
        .fetch_all(&self.read)
        .await?;
        let mut incidents: Vec<IncidentRow> = rows.into_iter().map(|r| incident_row!(r)).collect();
        let next = if incidents.len() as i64 > limit {
            incidents.truncate(limit as usize);
            incidents.last().map(|i| i.id)
        } else {
            None
        };
        Ok(IncidentPage { incidents, next })
    }

    pub async fn incident_detail(&self, id: i64) -> Result<Option<IncidentDetail>, sqlx::Error> {
        let Some(r) = sqlx::query!(
            r#"SELECT id AS "id!", cluster, group_key, episode, state, alertname, namespace, severity, summary,
                      firing_alerts, truncated_alerts, created_at, updated_at, resolved_at
               FROM incidents WHERE id = ?"#,
            id
        )
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let incident = incident_row!(r);
        let alerts = sqlx::query!(
            "SELECT fingerprint, status, starts_at_text, ends_at_text, labels, annotations, generator_url
             FROM alerts WHERE incident_id = ? ORDER BY id",
            id
        )
        .fetch_all(&self.read)
        .await?
        .into_iter()
        .map(|a| AlertRow {
            fingerprint: a.fingerprint,
            status: a.status,
            starts_at: a.starts_at_text,
            ends_at: a.ends_at_text,
            labels: json_or_null(&a.labels),
            annotations: json_or_null(&a.annotations),
            generator_url: a.generator_url,
        })
        .collect();
        let timeline: Vec<EventRow> = sqlx::query!(
            r#"SELECT id AS "id!", at, kind, actor, detail FROM incident_events WHERE incident_id = ? ORDER BY id"#,
            id
        )
        .fetch_all(&self.read)
        .await?
        .into_iter()
        .map(|e| EventRow { id: e.id, at: ts(e.at), kind: e.kind, actor: e.actor, detail: json_or_null(&e.detail) })
        .collect();
        let jobs = sqlx::query!(
            r#"SELECT id AS "id!", step, state, attempts, run_at, last_error FROM jobs WHERE incident_id = ? ORDER BY id"#,
            id
        )
        .fetch_all(&self.read)
        .await?
        .into_iter()
        .map(|j| job_row!(j))
        .collect();
        let evidence = self.latest_evidence(id).await?;
        let analysis = self.latest_analysis(id).await.map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let proposals = self.proposals_of(id).await.map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let mut runs = Vec::new();
        for p in &proposals {
            if let Some(run) = self.run_of(p.row_id).await.map_err(|e| sqlx::Error::Protocol(e.to_string()))? {
                runs.push(run);
            }
        }
        let (similar, memory_note) = recalled(&timeline);
        Ok(Some(IncidentDetail {
            incident,
            alerts,
            timeline,
            jobs,
            evidence,
            analysis,
            proposals,
            runs,
            similar,
            memory_note,
        }))
    }

    /// Incident counts per state (for /metrics).
    pub async fn incidents_by_state(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let rows = sqlx::query!(r#"SELECT state AS "state!", COUNT(*) AS "n!: i64" FROM incidents GROUP BY state"#)
            .fetch_all(&self.read)
            .await?;
        Ok(rows.into_iter().map(|r| (r.state, r.n)).collect())
    }

    /// Jobs that used up their attempts, newest first (for the API).
    pub async fn dead_jobs(&self, limit: i64) -> Result<Vec<JobRow>, sqlx::Error> {
        let rows = sqlx::query!(
            r#"SELECT id AS "id!", step, state, attempts, run_at, last_error FROM jobs
               WHERE state = 'dead' ORDER BY id DESC LIMIT ?"#,
            limit
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|j| job_row!(j)).collect())
    }
}
