//! Prometheus metrics. Every label takes a value from a small fixed set (never an incident id).
//!
//! Counters and histograms are updated where things happen; the gauges that describe stored state
//! (incidents by state, job queue) are read from the database when `/metrics` is scraped.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::domain::incident::IncidentState;
use crate::domain::job::Step;
use crate::store::QueueStats;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabel {
    step: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepOnlyLabel {
    step: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

/// A sink's configured name (a handful, from `[[notify.routes]]`; never a channel id).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkLabel {
    sink: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkKindLabel {
    sink: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkReasonLabel {
    sink: String,
    reason: &'static str,
}

/// How a webhook delivery ended (the `result` label of `mimi_webhook_deliveries_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryResult {
    Accepted,
    Duplicate,
    Unauthorized,
    BadRequest,
    TooLarge,
    Unavailable,
    /// The dead man's switch alert: a heartbeat, no incident.
    Heartbeat,
}

impl DeliveryResult {
    fn label(self) -> &'static str {
        match self {
            DeliveryResult::Accepted => "accepted",
            DeliveryResult::Duplicate => "duplicate",
            DeliveryResult::Unauthorized => "unauthorized",
            DeliveryResult::BadRequest => "bad_request",
            DeliveryResult::TooLarge => "too_large",
            DeliveryResult::Unavailable => "unavailable",
            DeliveryResult::Heartbeat => "heartbeat",
        }
    }
}

/// Error kinds counted by `mimi_errors_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Commit,
    Step,
    StepTimeout,
    JobGaveUp,
    Store,
}

impl ErrorKind {
    fn label(self) -> &'static str {
        match self {
            ErrorKind::Commit => "commit",
            ErrorKind::Step => "step",
            ErrorKind::StepTimeout => "step_timeout",
            ErrorKind::JobGaveUp => "job_gave_up",
            ErrorKind::Store => "store",
        }
    }
}

pub struct Metrics {
    registry: Registry,
    deliveries: Family<ResultLabel, Counter>,
    alerts: Family<StatusLabel, Counter>,
    ack_seconds: Histogram,
    commit_batch: Histogram,
    commit_seconds: Histogram,
    steps: Family<StepLabel, Histogram, fn() -> Histogram>,
    errors: Family<KindLabel, Counter>,
    incidents: Family<StateLabel, Gauge>,
    queue_depth: Family<StepOnlyLabel, Gauge>,
    oldest_job_age: Gauge<f64, AtomicU64>,
    dead_jobs: Gauge,
    redactions: Counter,
    outbox_depth: Family<SinkLabel, Gauge>,
    outbox_oldest: Family<SinkLabel, Gauge<f64, AtomicU64>>,
    outbox_dead: Family<SinkLabel, Gauge>,
    outbox_sent: Family<SinkKindLabel, Counter>,
    outbox_failures: Family<SinkReasonLabel, Counter>,
    outbox_latency: Family<SinkLabel, Histogram, fn() -> Histogram>,
    outbox_rollups: Family<SinkLabel, Counter>,
    outbox_fallbacks: Counter,
    sink_up: Family<SinkLabel, Gauge>,
    deadman_silent: Gauge,
}

fn delivery_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 20))
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 18))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("mimi");
        let deliveries = Family::<ResultLabel, Counter>::default();
        let alerts = Family::<StatusLabel, Counter>::default();
        let ack_seconds = latency_histogram();
        let commit_batch = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        let commit_seconds = latency_histogram();
        let steps = Family::<StepLabel, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        let errors = Family::<KindLabel, Counter>::default();
        let incidents = Family::<StateLabel, Gauge>::default();
        let queue_depth = Family::<StepOnlyLabel, Gauge>::default();
        let oldest_job_age = Gauge::<f64, AtomicU64>::default();
        let dead_jobs = Gauge::default();
        let redactions = Counter::default();
        let outbox_depth = Family::<SinkLabel, Gauge>::default();
        let outbox_oldest = Family::<SinkLabel, Gauge<f64, AtomicU64>>::default();
        let outbox_dead = Family::<SinkLabel, Gauge>::default();
        let outbox_sent = Family::<SinkKindLabel, Counter>::default();
        let outbox_failures = Family::<SinkReasonLabel, Counter>::default();
        let outbox_latency =
            Family::<SinkLabel, Histogram>::new_with_constructor(delivery_histogram as fn() -> Histogram);
        let outbox_rollups = Family::<SinkLabel, Counter>::default();
        let outbox_fallbacks = Counter::default();
        let sink_up = Family::<SinkLabel, Gauge>::default();
        let deadman_silent = Gauge::default();
        registry.register("outbox_depth", "Outbox messages waiting or in flight, by sink", outbox_depth.clone());
        registry.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest waiting outbox message, by sink",
            outbox_oldest.clone(),
        );
        registry.register("outbox_dead", "Outbox messages given up, by sink", outbox_dead.clone());
        registry.register(
            "outbox_sent",
            "Messages delivered, by sink and kind (post, edit, reply)",
            outbox_sent.clone(),
        );
        registry.register(
            "outbox_failures",
            "Failed deliveries by sink and reason (rate_limited, unavailable, rejected, gave_up)",
            outbox_failures.clone(),
        );
        registry.register(
            "outbox_delivery_seconds",
            "Time from enqueueing to delivery, by sink",
            outbox_latency.clone(),
        );
        registry.register(
            "outbox_rolled_up",
            "Incident messages threaded under a burst summary, by sink",
            outbox_rollups.clone(),
        );
        registry.register(
            "outbox_fallbacks",
            "Incidents sent by email because chat delivery failed",
            outbox_fallbacks.clone(),
        );
        registry.register("sink_up", "1 unless the sink's recent deliveries all failed, by sink", sink_up.clone());
        registry.register(
            "deadman_silent",
            "Clusters whose Watchdog alert stopped arriving (the alert pipeline is broken)",
            deadman_silent.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries by result (accepted, duplicate, unauthorized, bad_request, too_large, unavailable)",
            deliveries.clone(),
        );
        registry.register("webhook_alerts", "Alerts in accepted (non-duplicate) deliveries, by status", alerts.clone());
        registry.register(
            "webhook_ack_seconds",
            "Time from request to acknowledgement of a webhook",
            ack_seconds.clone(),
        );
        registry.register(
            "commit_batch_size",
            "Deliveries committed per group-commit transaction",
            commit_batch.clone(),
        );
        registry.register("commit_seconds", "Duration of a group-commit transaction", commit_seconds.clone());
        registry.register("step_duration_seconds", "Pipeline step duration by step and outcome", steps.clone());
        registry.register("errors", "Errors by kind", errors.clone());
        registry.register("incidents", "Incidents by state", incidents.clone());
        registry.register("jobs_queue_depth", "Pending and running jobs by step", queue_depth.clone());
        registry.register(
            "jobs_oldest_age_seconds",
            "Age of the oldest pending or running job",
            oldest_job_age.clone(),
        );
        registry.register("jobs_dead", "Jobs that used up their attempts", dead_jobs.clone());
        registry.register("redactions", "Secrets redacted from what was read from the cluster", redactions.clone());
        Metrics {
            registry,
            deliveries,
            alerts,
            ack_seconds,
            commit_batch,
            commit_seconds,
            steps,
            errors,
            incidents,
            queue_depth,
            oldest_job_age,
            dead_jobs,
            redactions,
            outbox_depth,
            outbox_oldest,
            outbox_dead,
            outbox_sent,
            outbox_failures,
            outbox_latency,
            outbox_rollups,
            outbox_fallbacks,
            sink_up,
            deadman_silent,
        }
    }

    pub fn outbox_sent(&self, sink: &str, kind: &str, seconds: f64) {
        self.outbox_sent.get_or_create(&SinkKindLabel { sink: sink.into(), kind: kind.into() }).inc();
        self.outbox_latency.get_or_create(&SinkLabel { sink: sink.into() }).observe(seconds);
    }

    pub fn outbox_failed(&self, sink: &str, reason: &'static str) {
        self.outbox_failures.get_or_create(&SinkReasonLabel { sink: sink.into(), reason }).inc();
    }

    pub fn outbox_rolled_up(&self, sink: &str, n: u64) {
        self.outbox_rollups.get_or_create(&SinkLabel { sink: sink.into() }).inc_by(n);
    }

    pub fn outbox_fallbacks(&self, n: u64) {
        self.outbox_fallbacks.inc_by(n);
    }

    pub fn set_deadman_silent(&self, clusters: i64) {
        self.deadman_silent.set(clusters);
    }

    /// Sets the outbox gauges from fresh figures; `sinks` names every sink with its health.
    pub fn set_outbox(&self, stats: &[crate::store::OutboxStats], sinks: &[(String, bool)]) {
        for (sink, up) in sinks {
            let label = SinkLabel { sink: sink.clone() };
            let st = stats.iter().find(|s| &s.sink == sink);
            self.outbox_depth.get_or_create(&label).set(st.map_or(0, |s| s.depth));
            self.outbox_oldest.get_or_create(&label).set(st.and_then(|s| s.oldest_age_ms).unwrap_or(0) as f64 / 1000.0);
            self.outbox_dead.get_or_create(&label).set(st.map_or(0, |s| s.dead));
            self.sink_up.get_or_create(&label).set(i64::from(*up));
        }
    }

    pub fn delivery(&self, result: DeliveryResult) {
        self.deliveries.get_or_create(&ResultLabel { result: result.label() }).inc();
    }

    pub fn alerts(&self, firing: u64, resolved: u64) {
        self.alerts.get_or_create(&StatusLabel { status: "firing" }).inc_by(firing);
        self.alerts.get_or_create(&StatusLabel { status: "resolved" }).inc_by(resolved);
    }

    pub fn ack(&self, elapsed: Duration) {
        self.ack_seconds.observe(elapsed.as_secs_f64());
    }

    pub fn observe_commit(&self, batch: usize, elapsed: Duration) {
        self.commit_batch.observe(batch as f64);
        self.commit_seconds.observe(elapsed.as_secs_f64());
    }

    pub fn step(&self, step: Step, outcome: &'static str, elapsed: Duration) {
        self.steps.get_or_create(&StepLabel { step: step.as_str(), outcome }).observe(elapsed.as_secs_f64());
    }

    pub fn redactions(&self, n: u64) {
        self.redactions.inc_by(n);
    }

    pub fn error(&self, kind: ErrorKind) {
        self.errors.get_or_create(&KindLabel { kind: kind.label() }).inc();
    }

    /// Sets the state gauges from fresh database figures.
    pub fn set_stored_state(&self, incidents: &[(String, i64)], queue: &QueueStats) {
        for state in IncidentState::ALL {
            let n = incidents.iter().find(|(s, _)| s == state.as_str()).map_or(0, |(_, n)| *n);
            self.incidents.get_or_create(&StateLabel { state: state.as_str() }).set(n);
        }
        for step in Step::ALL {
            let n = queue.depth.iter().find(|(s, _)| s == step.as_str()).map_or(0, |(_, n)| *n);
            self.queue_depth.get_or_create(&StepOnlyLabel { step: step.as_str() }).set(n);
        }
        self.oldest_job_age.set(queue.oldest_age_ms.unwrap_or(0) as f64 / 1000.0);
        self.dead_jobs.set(queue.dead);
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8192);
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
