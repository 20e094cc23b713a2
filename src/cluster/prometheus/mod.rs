//! Metrics evidence: what Prometheus says about an incident's subjects over the last hour.
//!
//! `MetricsSource` is the port (instant and range queries); `client` implements it over the
//! Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`); `fake` is the stand-in for tests.
//! `gather_metrics` evaluates the alert's own expression (taken from its `generatorURL` by
//! `generator`) and the key series of each subject (queries built by `promql`), and condenses them
//! into `MetricsFacts` (`facts`), which `render` writes as short lines of numbers.
//!
//! Invariants: an alert's expression is untrusted text — it is only ever sent, length-capped, as a
//! query parameter to the configured Prometheus, never to the host its `generatorURL` names.
//! Label values and error messages that come back are redacted before they are kept. Failures
//! (Prometheus down, a bad query, no data) become notes; gathering never fails.

mod client;
mod facts;
mod fake;
mod gather;
mod generator;
mod promql;
mod render;
mod response;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use client::PrometheusHttp;
pub use facts::{AlertExprFacts, ContainerMetrics, ExprSeries, MetricsFacts, NodeMetrics, Stat};
pub use fake::FakeMetrics;
pub use gather::gather_metrics;
pub use generator::{AlertExpr, MAX_EXPR_BYTES};
pub use render::render_metrics;

use crate::domain::alert::Labels;

/// One series of a query result: its labels and its samples, oldest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub labels: Labels,
    /// (unix seconds, value); an instant query gives one sample. Values may be NaN or infinite.
    pub samples: Vec<(f64, f64)>,
}

impl Series {
    /// A series with `labels` and `samples` (for tests and fakes).
    pub fn new(labels: &[(&str, &str)], samples: &[(f64, f64)]) -> Series {
        Series {
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            samples: samples.to_vec(),
        }
    }
}

/// The time range of a range query; evaluation happens at `start`, `start + step`, … `end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRange {
    /// Unix seconds.
    pub start: f64,
    pub end: f64,
    pub step_seconds: u64,
}

impl TimeRange {
    /// The `lookback_minutes` before `end`, with a step that gives at most ~240 points (at least
    /// 15 s), arranged so that `end` itself is an evaluation point.
    pub fn lookback(end: f64, lookback_minutes: u64) -> TimeRange {
        let span = lookback_minutes.max(1) * 60;
        let step = span.div_ceil(240).max(15);
        let points = span.div_ceil(step);
        TimeRange { start: end - (points * step) as f64, end, step_seconds: step }
    }
}

/// Why a query gave no answer. Messages from Prometheus are untrusted text (they quote the query).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    #[error("Prometheus could not be reached: {0}")]
    Unreachable(String),
    #[error("Prometheus did not answer within {0} s")]
    Timeout(u64),
    #[error("Prometheus refused the request (HTTP {status}): {message}")]
    Http { status: u16, message: String },
    /// Prometheus answered `status: error` (`bad_data`, `execution`, `timeout`, …).
    #[error("Prometheus could not evaluate the query ({kind}): {message}")]
    Query { kind: String, message: String },
    #[error("Prometheus sent an answer Mimi cannot read: {0}")]
    Decode(String),
}

impl MetricsError {
    /// Prometheus itself is not usable: further queries would fail the same way.
    pub fn is_outage(&self) -> bool {
        match self {
            MetricsError::Unreachable(_) | MetricsError::Timeout(_) => true,
            MetricsError::Http { status, .. } => matches!(status, 401 | 403 | 404 | 502 | 503 | 504),
            MetricsError::Query { .. } | MetricsError::Decode(_) => false,
        }
    }
}

/// Read access to a Prometheus-compatible query API.
#[async_trait]
pub trait MetricsSource: Send + Sync {
    /// An instant query evaluated at `at` (unix seconds).
    async fn query(&self, promql: &str, at: f64) -> Result<Vec<Series>, MetricsError>;
    /// A range query.
    async fn query_range(&self, promql: &str, range: TimeRange) -> Result<Vec<Series>, MetricsError>;
}

/// What `gather_metrics` needs to know about one alert of the incident.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRef {
    /// The alert's `generatorURL` as Alertmanager delivered it (untrusted).
    pub generator_url: String,
    /// The alert's labels (`alertname` names it; the others pick its series out of the result).
    pub labels: Labels,
}

impl From<&crate::domain::alert::Alert> for AlertRef {
    fn from(a: &crate::domain::alert::Alert) -> Self {
        AlertRef { generator_url: a.generator_url.clone(), labels: a.labels.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lookback_range_ends_now_with_a_bounded_number_of_points() {
        for (minutes, step) in [(60, 15), (5, 15), (90, 23), (1440, 360)] {
            let r = TimeRange::lookback(1_000_000.0, minutes);
            assert_eq!(r.step_seconds, step, "{minutes} min");
            let span = r.end - r.start;
            assert!(span >= (minutes * 60) as f64, "{minutes}: {span}");
            assert_eq!(span as u64 % step, 0, "end is an evaluation point");
            assert!(span as u64 / step <= 241);
        }
    }
}
