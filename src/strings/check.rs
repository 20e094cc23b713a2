//! `mimi check` output.

use crate::config::{EvidenceSettings, WorkerSettings};

pub const ENABLED: &str = "Enabled:";
pub const MISSING: &str = "Not enabled:";
pub const WARNING: &str = "warning:";
pub const LISTEN: &str = "listen";
pub const DATA_DIR: &str = "data directory";
pub const CLUSTER: &str = "cluster";
pub const WEBHOOK_AUTH: &str = "webhook auth";
pub const API_AUTH: &str = "api auth";
pub const WORKER: &str = "worker";
pub const INGEST: &str = "step ingest";
pub const MEMORY: &str = "memory";
pub const MEMORY_OFF: &str = "memory.enabled = false: no similar past incidents, no runbook answers";
pub const ENRICH: &str = "step enrich";
pub const ANALYZE: &str = "step analyze";
pub const ANALYZER: &str = "analyzer";
pub const NOTIFY: &str = "step notify";
pub const METRICS: &str = "metrics evidence";
pub const METRICS_OFF: &str = "no [prometheus] url: evidence has no metrics";
pub fn metrics(url: &str, lookback: u64) -> String {
    format!("from Prometheus at {url}, the last {lookback} min (alert expression, CPU, memory, restarts)")
}
pub const BEARER: &str = "bearer token";
pub const NONE: &str = "none";
pub const INGEST_ON: &str = "alerts become incidents, deduplicated by group and fingerprint";
pub const ENRICH_OFF: &str = "no cluster access: set kubernetes.in_cluster = true or kubernetes.kubeconfig; incidents record \"skipped: not configured\"";
pub const NOTIFY_OFF: &str =
    "no sink: set [slack] bot_token or [email] smtp_host; incidents are visible in /api/incidents";
pub const SINK_EMAIL: &str = "sink email";
pub const EMAIL_OFF: &str = "no [email] smtp_host: no email sink, no email fallback when chat fails";
pub const DEADMAN: &str = "dead man's switch";
pub const DEADMAN_OFF: &str = "off ([deadman] enabled = false, or no sink to tell)";
pub fn email(host: &str, port: u16, tls: &str, auth: &str, to: &str, fallback: u64) -> String {
    format!(
        "SMTP {host}:{port} ({tls}{auth}), default recipients {to}; fallback after {fallback} s of failed chat delivery"
    )
}
pub fn notify(sinks: &[&str], routes: usize) -> String {
    format!("active sinks: {}; {routes} route(s) in [[notify.routes]]", sinks.join(", "))
}
pub const SINK_SLACK: &str = "sink slack";
pub const SLACK_OFF: &str = "no [slack] bot_token: no Slack messages, buttons or /mimi (docs/slack.md)";
pub fn slack(team: &str, http: bool, rotating: bool, channels: Vec<String>) -> String {
    let how =
        if http { "HTTP Events API at /slack/events, /slack/interactions, /slack/commands" } else { "Socket Mode" };
    let rotation = if rotating { "; accepting the previous signing secret too (rotation)" } else { "" };
    let channels = if channels.is_empty() {
        "no [[slack.channels]]: questions see no namespaces".to_string()
    } else {
        format!("question scope: {}", channels.join("; "))
    };
    format!("workspace {team}, {how}{rotation}; {channels}")
}
pub fn slack_channel(id: &str, namespaces: Option<&[String]>) -> String {
    match namespaces {
        Some(list) => format!("{id} sees {}", list.join(", ")),
        None => format!("{id} sees every namespace"),
    }
}
pub const SILENCES: &str = "silences";
pub const SILENCES_OFF: &str = "no [alertmanager] url: the silence command is off";
pub fn silences(url: &str) -> String {
    format!("chat `silence` creates silences in Alertmanager at {url} (API v2), by approvers only")
}
pub fn sink_not_in_build(i: usize, sink: &str) -> String {
    format!(
        "notify.routes[{i}] sends to {sink}, which this build cannot deliver to yet; those incidents go nowhere until it can"
    )
}
pub fn deadman(alertname: &str, minutes: u64) -> String {
    format!("alert {alertname:?} expected at least every {minutes} min; silence is told to every sink")
}
pub const API_NO_TOKENS: &str =
    "no api.tokens configured: /api answers 401 (add [[api.tokens]] or set api.allow_unauthenticated)";
pub const WARN_WEBHOOK_OPEN: &str =
    "webhook.allow_unauthenticated is on: anyone who can reach the listener can create incidents";
pub const WARN_API_OPEN: &str = "api.allow_unauthenticated is on: anyone who can reach the listener can read incidents";

pub fn cluster(name: &str, label: &str) -> String {
    format!("{name} (an alert group's {label:?} label overrides it)")
}
pub fn basic(user: &str) -> String {
    format!("basic auth as {user:?}")
}
pub fn tokens(names: &[&str]) -> String {
    format!("{} token(s): {}", names.len(), names.join(", "))
}
pub fn enrich_kubeconfig(path: &str, context: Option<&str>, e: &EvidenceSettings) -> String {
    let context = context.map(|c| format!(", context {c}")).unwrap_or_default();
    format!("evidence from the cluster in kubeconfig {path}{context}; {}", evidence(e))
}
pub fn enrich_in_cluster(e: &EvidenceSettings) -> String {
    format!("evidence from this cluster (in-cluster service account); {}", evidence(e))
}
fn evidence(e: &EvidenceSettings) -> String {
    format!("{} bytes for the analyzer, last {} log lines, secrets redacted", e.budget_bytes, e.log_tail_lines)
}
pub fn worker(w: &WorkerSettings) -> String {
    format!(
        "{} concurrent step(s), {} attempt(s), backoff {} ms up to {} ms, step timeout {} s",
        w.concurrency, w.max_attempts, w.backoff_base_ms, w.backoff_max_ms, w.step_timeout_seconds
    )
}
pub fn ok(path: Option<&std::path::Path>) -> String {
    match path {
        Some(p) => format!("configuration OK ({})", p.display()),
        None => "configuration OK (defaults and MIMI__* environment; no file given)".to_string(),
    }
}
