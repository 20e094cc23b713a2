//! The ingest step's transaction: a committed delivery becomes incident and alert rows.
//!
//! Everything happens in one transaction together with the completion of the ingest job and the
//! creation of the next job, so a crash leaves either nothing or all of it (the job then runs again).

use std::collections::HashSet;

use serde_json::json;
use sqlx::{QueryBuilder, SqliteConnection};

use super::events::{NewEvent, ROWS_PER_STATEMENT, append};
use super::{Store, jobs};
use crate::domain::alert::{Alert, AlertStatus, Delivery, parse_payload};
use crate::domain::episode::{Latest, NewKind, Placement, place};
use crate::domain::incident::{IncidentEvent, IncidentState, transition};
use crate::domain::job::Step;
use crate::strings::timeline as t;

/// What ingesting a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestOutcome {
    pub incident_id: i64,
    /// A new incident (first or re-fired episode) was opened and its pipeline started.
    pub opened: bool,
    pub state: IncidentState,
}

const ACTOR: &str = "alertmanager";

impl Store {
    /// Ingests delivery `delivery_id` and completes job `job_id`, atomically. Alerts named
    /// `watchdog` (the dead man's switch) are a heartbeat of their cluster, never part of an
    /// incident; a delivery of nothing else opens none (`Ok(None)`) and writes no timeline.
    pub async fn ingest(
        &self,
        job_id: i64,
        delivery_id: i64,
        now: i64,
        watchdog: Option<&str>,
    ) -> anyhow::Result<Option<IngestOutcome>> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query!("SELECT payload, cluster, group_key FROM deliveries WHERE id = ?", delivery_id)
            .fetch_one(&mut *tx)
            .await?;
        let mut delivery = parse_payload(&row.payload)
            .map_err(|e| anyhow::anyhow!("stored delivery {delivery_id} no longer parses: {e}"))?;
        let is_watchdog = |a: &Alert| watchdog.is_some_and(|name| a.labels.get("alertname").is_some_and(|n| n == name));
        if delivery.alerts.iter().any(is_watchdog) {
            let beat = delivery.alerts.iter().any(|a| is_watchdog(a) && a.status == AlertStatus::Firing);
            delivery.alerts.retain(|a| !is_watchdog(a));
            if beat {
                sqlx::query!(
                    "INSERT INTO heartbeats (cluster, first_seen, last_seen) VALUES (?, ?, ?)
                     ON CONFLICT (cluster) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen), beats = beats + 1",
                    row.cluster,
                    now,
                    now
                )
                .execute(&mut *tx)
                .await?;
            }
            if delivery.alerts.is_empty() {
                jobs::complete(&mut tx, job_id).await?;
                tx.commit().await?;
                return Ok(None);
            }
            delivery.status = if delivery.firing_count() > 0 { AlertStatus::Firing } else { AlertStatus::Resolved };
        }

        let latest = sqlx::query!(
            r#"SELECT id AS "id!", episode, state FROM incidents
               WHERE cluster = ? AND group_key = ? ORDER BY episode DESC LIMIT 1"#,
            row.cluster,
            row.group_key
        )
        .fetch_optional(&mut *tx)
        .await?;
        let latest_state = latest.as_ref().map(|l| parse_state(&l.state)).transpose()?;
        let known = match (&latest, latest_state) {
            (Some(l), Some(state)) if state.is_terminal() => known_alerts(&mut tx, l.id).await?,
            _ => HashSet::new(),
        };
        let placement = place(
            latest.as_ref().zip(latest_state).map(|(l, state)| Latest {
                id: l.id,
                episode: l.episode,
                state,
                known: &known,
            }),
            &delivery,
        );

        let mut events = Vec::new();
        let (incident_id, mut state, opened) = match placement {
            Placement::Existing { id } => (id, latest_state.expect("existing implies latest"), false),
            Placement::New { episode, kind } => {
                let state = match kind {
                    NewKind::ResolvedWithoutFiring => IncidentState::Resolved,
                    NewKind::First | NewKind::Refired => IncidentState::Received,
                };
                let id = insert_incident(&mut tx, &row.cluster, &row.group_key, episode, state, &delivery, now).await?;
                let (kind_name, note) = match kind {
                    NewKind::First => ("opened", t::OPENED),
                    NewKind::Refired => ("reopened", t::REOPENED),
                    NewKind::ResolvedWithoutFiring => ("resolved_without_firing", t::RESOLVED_WITHOUT_FIRING),
                };
                events.push(NewEvent::new(id, kind_name, ACTOR, json!({"episode": episode, "note": note})));
                if state == IncidentState::Received {
                    jobs::enqueue(&mut tx, Step::Enrich, &jobs::incident_key(id), Some(id), None, now).await?;
                }
                (id, state, state == IncidentState::Received)
            }
        };

        upsert_alerts(&mut tx, incident_id, delivery_id, &delivery.alerts, now).await?;
        let firing = sqlx::query_scalar!(
            r#"SELECT COUNT(*) AS "n!: i64" FROM alerts WHERE incident_id = ? AND status = 'firing'"#,
            incident_id
        )
        .fetch_one(&mut *tx)
        .await?;
        let resolved_in_delivery = delivery.alerts.len() - delivery.firing_count();
        events.push(NewEvent::new(
            incident_id,
            "notification",
            ACTOR,
            json!({
                "delivery_id": delivery_id,
                "status": delivery.status.as_str(),
                "firing": delivery.firing_count(),
                "resolved": resolved_in_delivery,
                "truncated_alerts": delivery.truncated_alerts,
                "firing_now": firing,
            }),
        ));
        if delivery.truncated_alerts > 0 {
            events.push(NewEvent::new(
                incident_id,
                "partial",
                ACTOR,
                json!({"truncated_alerts": delivery.truncated_alerts, "note": t::PARTIAL}),
            ));
        }

        let mut resolved_at = None;
        if firing == 0 && !state.is_terminal() {
            let to = transition(state, IncidentEvent::AlertsResolved)?;
            if to != state {
                events.push(state_event(incident_id, state, to, t::ALL_RESOLVED));
                state = to;
                resolved_at = Some(now);
                // Pending approvals expire with the incident (A06, C09).
                let expired = sqlx::query!(
                    "UPDATE proposals SET state = 'expired', refused = ?, updated_at = ? WHERE incident_id = ? AND state = 'pending'",
                    crate::strings::proposals::RESOLVED,
                    now,
                    incident_id
                )
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if expired > 0 {
                    events.push(NewEvent::new(
                        incident_id,
                        "proposals_expired",
                        "mimi",
                        json!({"expired": expired, "note": crate::strings::proposals::RESOLVED}),
                    ));
                }
                // The incident's messages say so: edited to resolved, and a reply in their thread.
                let update = crate::notify::message::Update {
                    state: Some(to.as_str().to_string()),
                    status: Some("resolved".into()),
                    line: Some(crate::strings::notify::RESOLVED.into()),
                    close_open_proposals: Some("expired".into()),
                    ..Default::default()
                };
                super::outbox::enqueue_update(&mut tx, incident_id, &update, now).await?;
            }
        }
        let state_text = state.as_str();
        let truncated = delivery.truncated_alerts as i64;
        sqlx::query!(
            "UPDATE incidents SET state = ?, firing_alerts = ?, truncated_alerts = ?, updated_at = ?,
                 resolved_at = COALESCE(resolved_at, ?)
             WHERE id = ?",
            state_text,
            firing,
            truncated,
            now,
            resolved_at,
            incident_id
        )
        .execute(&mut *tx)
        .await?;
        if resolved_at.is_some() {
            super::steps::remember_later(&mut tx, incident_id, now).await?;
        }
        sqlx::query!("UPDATE deliveries SET incident_id = ? WHERE id = ?", incident_id, delivery_id)
            .execute(&mut *tx)
            .await?;
        append(&mut tx, now, &events).await?;
        jobs::complete(&mut tx, job_id).await?;
        tx.commit().await?;
        Ok(Some(IngestOutcome { incident_id, opened, state }))
    }
}

pub(super) fn parse_state(s: &str) -> anyhow::Result<IncidentState> {
    IncidentState::parse(s).ok_or_else(|| anyhow::anyhow!("unknown incident state {s:?} in the database"))
}

pub(super) fn state_event(incident_id: i64, from: IncidentState, to: IncidentState, reason: &str) -> NewEvent {
    NewEvent::new(incident_id, "state", "mimi", json!({"from": from.as_str(), "to": to.as_str(), "reason": reason}))
}

async fn known_alerts(conn: &mut SqliteConnection, incident_id: i64) -> Result<HashSet<(String, String)>, sqlx::Error> {
    let rows = sqlx::query!("SELECT fingerprint, starts_at_text FROM alerts WHERE incident_id = ?", incident_id)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.fingerprint, r.starts_at_text)).collect())
}

async fn insert_incident(
    conn: &mut SqliteConnection,
    cluster: &str,
    group_key: &str,
    episode: i64,
    state: IncidentState,
    d: &Delivery,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let label = |name: &str| {
        d.common_labels
            .get(name)
            .or_else(|| d.group_labels.get(name))
            .or_else(|| d.alerts.iter().find_map(|a| a.labels.get(name)))
            .map(|v| clip(v, 253))
    };
    let alertname = label("alertname").unwrap_or_else(|| "(unnamed)".to_string());
    let namespace = label("namespace");
    let severity = label("severity");
    let summary = d
        .common_annotations
        .get("summary")
        .or_else(|| d.alerts.iter().find_map(|a| a.annotations.get("summary")))
        .map(|s| clip(s, 500));
    let state_text = state.as_str();
    let resolved_at = state.is_terminal().then_some(now);
    sqlx::query_scalar!(
        r#"INSERT INTO incidents (cluster, group_key, episode, state, alertname, namespace, severity, summary,
                                  external_url, created_at, updated_at, resolved_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id AS "id!""#,
        cluster,
        group_key,
        episode,
        state_text,
        alertname,
        namespace,
        severity,
        summary,
        d.external_url,
        now,
        now,
        resolved_at
    )
    .fetch_one(conn)
    .await
}

async fn upsert_alerts(
    conn: &mut SqliteConnection,
    incident_id: i64,
    delivery_id: i64,
    alerts: &[Alert],
    now: i64,
) -> Result<(), sqlx::Error> {
    for chunk in alerts.chunks(ROWS_PER_STATEMENT) {
        let mut upsert = QueryBuilder::new(
            "INSERT INTO alerts (incident_id, fingerprint, status, starts_at_text, ends_at_text, labels, annotations, \
             generator_url, first_delivery, last_delivery, updated_at) ",
        );
        upsert.push_values(chunk, |mut row, a| {
            row.push_bind(incident_id)
                .push_bind(&a.fingerprint)
                .push_bind(a.status.as_str())
                .push_bind(a.starts_at.to_string())
                .push_bind(a.ends_at.map(|t| t.to_string()))
                .push_bind(serde_json::to_string(&a.labels).expect("labels serialize"))
                .push_bind(serde_json::to_string(&a.annotations).expect("annotations serialize"))
                .push_bind(&a.generator_url)
                .push_bind(delivery_id)
                .push_bind(delivery_id)
                .push_bind(now);
        });
        // A resolved alert stays resolved: a late repeat of an older "firing" notification (same
        // fingerprint and start) must not bring it back.
        upsert.push(
            " ON CONFLICT (incident_id, fingerprint, starts_at_text) DO UPDATE SET \
               status = CASE WHEN alerts.status = 'resolved' THEN 'resolved' ELSE excluded.status END, \
               ends_at_text = CASE WHEN alerts.status = 'resolved' THEN alerts.ends_at_text ELSE excluded.ends_at_text END, \
               labels = excluded.labels, annotations = excluded.annotations, \
               generator_url = excluded.generator_url, last_delivery = excluded.last_delivery, \
               updated_at = excluded.updated_at",
        );
        upsert.build().execute(&mut *conn).await?;
    }
    Ok(())
}

fn clip(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}
