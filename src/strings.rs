//! Every user-facing sentence, in one place: HTTP error bodies, `mimi check` output, timeline notes.
//!
//! Keep wording plain and actionable: say what happened and what to do about it.

/// `mimi check` output.
pub mod check {
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
    pub const ENRICH: &str = "step enrich";
    pub const ANALYZE: &str = "step analyze";
    pub const NOTIFY: &str = "step notify";
    pub const BEARER: &str = "bearer token";
    pub const NONE: &str = "none";
    pub const INGEST_ON: &str = "alerts become incidents, deduplicated by group and fingerprint";
    pub const ENRICH_OFF: &str = "no cluster access: set kubernetes.in_cluster = true or kubernetes.kubeconfig; incidents record \"skipped: not configured\"";
    pub const ANALYZE_OFF: &str = "no analyzer in this build yet; incidents record \"skipped: not configured\"";
    pub const NOTIFY_OFF: &str = "no chat or email sink in this build yet; incidents are visible in /api/incidents";
    pub const API_NO_TOKENS: &str =
        "no api.tokens configured: /api answers 401 (add [[api.tokens]] or set api.allow_unauthenticated)";
    pub const WARN_WEBHOOK_OPEN: &str =
        "webhook.allow_unauthenticated is on: anyone who can reach the listener can create incidents";
    pub const WARN_API_OPEN: &str =
        "api.allow_unauthenticated is on: anyone who can reach the listener can read incidents";

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
}

/// HTTP error bodies: `{"error": CODE, "message": ...}`.
pub mod http {
    pub const UNAUTHORIZED: &str = "missing or wrong credentials";
    pub const TOKEN_IN_QUERY: &str =
        "credentials in the query string are refused (they end up in logs); send an Authorization header";
    pub const CONTENT_TYPE: &str = "Content-Type must be application/json";
    pub const TOO_LARGE: &str = "request body is larger than server.body_limit_bytes";
    pub const INVALID_PAYLOAD: &str = "not a valid Alertmanager webhook payload";
    pub const UNAVAILABLE: &str = "the alert could not be stored right now; retry later";
    pub const SHUTTING_DOWN: &str = "Mimi is shutting down; retry later";
    pub const NOT_FOUND: &str = "no such resource";
    pub const INCIDENT_NOT_FOUND: &str = "no incident with that id";
    pub const BAD_QUERY: &str = "invalid query parameter";
    pub const INTERNAL: &str = "internal error; the details are in Mimi's log";
}

/// Notes written into incident timelines.
pub mod timeline {
    pub const OPENED: &str = "incident opened";
    pub const REOPENED: &str = "alert group fired again after resolving: new episode";
    pub const RESOLVED_WITHOUT_FIRING: &str = "resolved notification for an alert group Mimi never saw firing";
    pub const ALL_RESOLVED: &str = "all alerts resolved";
    pub const PARTIAL: &str = "Alertmanager left alerts out of this notification (truncatedAlerts > 0)";
    pub const SKIPPED_ENRICH: &str =
        "skipped: not configured (no cluster access: kubernetes.in_cluster or kubernetes.kubeconfig)";
    pub const SKIPPED_ANALYZE: &str = "skipped: not configured (no analyzer in this build)";
    pub const SKIPPED_NOTIFY: &str = "skipped: not configured (no chat or email sink)";
    pub const INTERRUPTED: &str = "step interrupted by a restart; it runs again";
}
