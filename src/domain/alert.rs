//! Alertmanager webhook payloads (version "4"), parsed at the edge into validated types.
//!
//! Everything in a payload is hostile until it has passed [`parse_payload`]: the JSON must have the
//! v4 shape, every alert a status, a start time and a fingerprint (derived from the labels when a
//! sender leaves it out). Unknown fields are ignored, as newer Alertmanager versions add some.
//! The [`DeliveryDigest`] is the deduplication identity of a delivery (DESIGN invariant 2).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Label or annotation set, ordered so that hashing and rendering are deterministic.
pub type Labels = BTreeMap<String, String>;

/// Whether an alert (or a whole delivery) is firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "firing" => Some(AlertStatus::Firing),
            "resolved" => Some(AlertStatus::Resolved),
            _ => None,
        }
    }
}

/// One validated alert of a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub status: AlertStatus,
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: Timestamp,
    /// `None` for Alertmanager's zero time (`0001-01-01T00:00:00Z`), which firing alerts carry.
    pub ends_at: Option<Timestamp>,
    pub generator_url: String,
    pub fingerprint: String,
}

/// One validated webhook delivery: a notification for one alert group.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub group_key: String,
    pub status: AlertStatus,
    pub receiver: String,
    pub group_labels: Labels,
    pub common_labels: Labels,
    pub common_annotations: Labels,
    pub external_url: String,
    /// How many alerts Alertmanager left out of this delivery (`max_alerts`); > 0 means partial.
    pub truncated_alerts: u64,
    pub alerts: Vec<Alert>,
}

/// Why a payload was refused. The message names the offending field (JSON path).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PayloadError {
    #[error("body is not valid JSON: {0}")]
    Syntax(String),
    #[error("`{path}`: {message}")]
    Shape { path: String, message: String },
    #[error("`{0}` is missing")]
    Missing(String),
    #[error("unsupported payload version {0:?}; Mimi understands Alertmanager webhook version \"4\"")]
    Version(String),
    #[error("`alerts` is empty; a notification needs at least one alert")]
    NoAlerts,
    #[error("`{path}` is {value:?}; expected \"firing\" or \"resolved\"")]
    Status { path: String, value: String },
    #[error("`{path}` is {value:?}; expected an RFC 3339 time such as 2026-11-20T09:20:00Z")]
    Time { path: String, value: String },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePayload {
    version: Option<String>,
    group_key: Option<String>,
    #[serde(default)]
    truncated_alerts: u64,
    status: Option<String>,
    #[serde(default)]
    receiver: String,
    #[serde(default)]
    group_labels: Labels,
    #[serde(default)]
    common_labels: Labels,
    #[serde(default)]
    common_annotations: Labels,
    #[serde(default, rename = "externalURL")]
    external_url: String,
    alerts: Option<Vec<WireAlert>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAlert {
    status: Option<String>,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    annotations: Labels,
    starts_at: Option<String>,
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: String,
    #[serde(default)]
    fingerprint: String,
}

/// Parses and validates a webhook body.
pub fn parse_payload(body: &[u8]) -> Result<Delivery, PayloadError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let wire: WirePayload = serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() || path == "." {
            PayloadError::Syntax(inner.to_string())
        } else {
            PayloadError::Shape { path, message: strip_position(&inner.to_string()) }
        }
    })?;

    let version = wire.version.ok_or_else(|| PayloadError::Missing("version".into()))?;
    if version != "4" {
        return Err(PayloadError::Version(truncate(&version, 40)));
    }
    let group_key = wire.group_key.filter(|k| !k.is_empty());
    let group_key = group_key.ok_or_else(|| PayloadError::Missing("groupKey".into()))?;
    let status_text = wire.status.ok_or_else(|| PayloadError::Missing("status".into()))?;
    let status = AlertStatus::parse(&status_text)
        .ok_or_else(|| PayloadError::Status { path: "status".into(), value: truncate(&status_text, 40) })?;
    let wire_alerts = wire.alerts.ok_or_else(|| PayloadError::Missing("alerts".into()))?;
    if wire_alerts.is_empty() {
        return Err(PayloadError::NoAlerts);
    }
    let alerts = wire_alerts.into_iter().enumerate().map(|(i, a)| parse_alert(i, a)).collect::<Result<Vec<_>, _>>()?;

    Ok(Delivery {
        group_key,
        status,
        receiver: wire.receiver,
        group_labels: wire.group_labels,
        common_labels: wire.common_labels,
        common_annotations: wire.common_annotations,
        external_url: wire.external_url,
        truncated_alerts: wire.truncated_alerts,
        alerts,
    })
}

fn parse_alert(i: usize, a: WireAlert) -> Result<Alert, PayloadError> {
    let at = |field: &str| format!("alerts[{i}].{field}");
    let status_text = a.status.ok_or_else(|| PayloadError::Missing(at("status")))?;
    let status = AlertStatus::parse(&status_text)
        .ok_or_else(|| PayloadError::Status { path: at("status"), value: truncate(&status_text, 40) })?;
    let starts_text = a.starts_at.ok_or_else(|| PayloadError::Missing(at("startsAt")))?;
    let starts_at = parse_time(&starts_text)
        .flatten()
        .ok_or_else(|| PayloadError::Time { path: at("startsAt"), value: truncate(&starts_text, 40) })?;
    let ends_at = match a.ends_at.as_deref() {
        None | Some("") => None,
        Some(text) => {
            parse_time(text).ok_or_else(|| PayloadError::Time { path: at("endsAt"), value: truncate(text, 40) })?
        }
    };
    let fingerprint = if a.fingerprint.is_empty() { fingerprint_of(&a.labels) } else { truncate(&a.fingerprint, 64) };
    Ok(Alert {
        status,
        labels: a.labels,
        annotations: a.annotations,
        starts_at,
        ends_at,
        generator_url: a.generator_url,
        fingerprint,
    })
}

/// Parses an RFC 3339 time; `Ok(None)` for Alertmanager's zero time (year 1), `None` when invalid.
fn parse_time(text: &str) -> Option<Option<Timestamp>> {
    let ts: Timestamp = text.parse().ok()?;
    Some((ts.as_second() > ZERO_TIME_CUTOFF).then_some(ts))
}

/// Anything at or before 0001-12-31 is Go's zero `time.Time`.
const ZERO_TIME_CUTOFF: i64 = -62_104_060_800;

/// A stable fingerprint from the sorted label set, for senders that leave `fingerprint` out.
pub fn fingerprint_of(labels: &Labels) -> String {
    let mut h = Sha256::new();
    for (k, v) in labels {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}

/// The deduplication identity of a delivery: cluster, group key and the set of
/// (fingerprint, status, startsAt, endsAt) of its alerts.
///
/// A firing alert's `endsAt` is left out: Prometheus moves it forward on every evaluation, so
/// counting it would make every repeat notification of an unchanged group look new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeliveryDigest(pub [u8; 32]);

impl Delivery {
    pub fn digest(&self, cluster: &str) -> DeliveryDigest {
        let mut tuples: Vec<(&str, &str, i128, i128)> = self
            .alerts
            .iter()
            .map(|a| {
                let ends = match a.status {
                    AlertStatus::Firing => 0,
                    AlertStatus::Resolved => a.ends_at.map_or(0, |t| t.as_nanosecond()),
                };
                (a.fingerprint.as_str(), a.status.as_str(), a.starts_at.as_nanosecond(), ends)
            })
            .collect();
        tuples.sort_unstable();
        tuples.dedup();
        let mut h = Sha256::new();
        h.update(b"mimi-delivery-v1\0");
        for part in [cluster, self.group_key.as_str()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        for (fp, status, starts, ends) in tuples {
            h.update((fp.len() as u64).to_le_bytes());
            h.update(fp.as_bytes());
            h.update(status.as_bytes());
            h.update(starts.to_le_bytes());
            h.update(ends.to_le_bytes());
        }
        DeliveryDigest(h.finalize().into())
    }

    /// The cluster this delivery belongs to: the `label` in the common labels, else `default`.
    pub fn cluster<'a>(&'a self, label: &str, default: &'a str) -> &'a str {
        self.common_labels.get(label).filter(|c| !c.is_empty()).map_or(default, |c| c.as_str())
    }

    pub fn firing_count(&self) -> usize {
        self.alerts.iter().filter(|a| a.status == AlertStatus::Firing).count()
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((idx, _)) => format!("{}…", &s[..idx]),
        None => s.to_string(),
    }
}

/// serde_json appends " at line L column C", which means nothing once the path is named.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(idx) => message[..idx].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
#[path = "alert_tests.rs"]
mod tests;
