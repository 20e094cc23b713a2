//! Typed settings: a TOML file, overridden by environment variables `MIMI__SECTION__KEY`.
//!
//! Every secret `x` may instead be given as `x_file`, a path whose content is the secret (for
//! Kubernetes Secret mounts). [`load`] reads and validates everything at once and reports every
//! problem with the key to fix; nothing starts with a configuration that did not validate (H01).
//! Secrets are [`Secret`]s, which never print themselves.

mod alertmanager;
mod analyzer;
mod console;
mod deadman;
mod email;
mod llm;
mod load;
mod matrix;
mod memory;
mod notify;
mod policy;
mod prometheus;
mod report;
mod secret;
mod slack;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use alertmanager::AlertmanagerSettings;
pub use analyzer::{ActionTemplate, AnalyzerSettings, PLACEHOLDERS, RuleSettings};
pub use console::{ConsoleSettings, ConsoleUser, valid_name as valid_console_name};
pub use deadman::DeadmanSettings;
pub use email::{EmailSettings, SmtpTls};
pub use llm::{LlmBudgetSettings, LlmSettings, MAX_RETRY_WAIT_SECONDS, StructuredOutput, sends_key_in_clear};
pub use load::{
    ConfigError, ConfigErrors, LEGACY_POLICY_ENV, load, load_env_unvalidated, load_from, validate_settings,
};
pub use matrix::{MatrixRoom, MatrixSettings};
pub use memory::{EmbedderKind, EmbedderSettings, MemorySettings, QdrantSettings};
pub use notify::{NotifySettings, RateLimit, RouteSettings, SINK_NAMES};
pub use policy::{ApproverSettings, ApproversNeeded, PolicySettings, ScaleSettings};
pub use prometheus::PrometheusSettings;
pub use report::report;
pub use secret::{REDACTED, Secret};
pub use slack::{SlackChannel, SlackMode, SlackSettings};

/// The whole configuration, after loading and validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where Mimi keeps its state (the SQLite database, later the vector index and chat stores).
    pub data_dir: PathBuf,
    pub cluster: ClusterSettings,
    pub server: ServerSettings,
    pub webhook: WebhookSettings,
    pub api: ApiSettings,
    pub store: StoreSettings,
    pub worker: WorkerSettings,
    pub log: LogSettings,
    pub kubernetes: KubernetesSettings,
    pub evidence: EvidenceSettings,
    pub verification: VerificationSettings,
    pub qa: QaSettings,
    /// What Mimi may do to a cluster and who approves it.
    pub policy: PolicySettings,
    pub prometheus: PrometheusSettings,
    /// Where messages go, how fast, and the outbox's retries.
    pub notify: NotifySettings,
    /// The SMTP sink and fallback.
    pub email: EmailSettings,
    /// The dead man's switch on Alertmanager's Watchdog alert.
    pub deadman: DeadmanSettings,
    /// How incidents are analysed: runbook rules of one's own (`[[analyzer.rules]]`).
    pub analyzer: AnalyzerSettings,
    /// An OpenAI-compatible LLM that analyses incidents; off unless configured (docs/llm.md).
    pub llm: LlmSettings,
    /// The web console: who signs in, and how.
    pub console: ConsoleSettings,
    /// The Matrix account and rooms (docs/matrix.md).
    pub matrix: MatrixSettings,
    /// The Alertmanager API for silences from chat.
    pub alertmanager: AlertmanagerSettings,
    /// The Slack app (docs/slack.md).
    pub slack: SlackSettings,
    /// Similar past incidents and the runbook knowledge base (docs/memory.md).
    pub memory: MemorySettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("mimi-data"),
            cluster: ClusterSettings::default(),
            server: ServerSettings::default(),
            webhook: WebhookSettings::default(),
            api: ApiSettings::default(),
            store: StoreSettings::default(),
            worker: WorkerSettings::default(),
            log: LogSettings::default(),
            kubernetes: KubernetesSettings::default(),
            evidence: EvidenceSettings::default(),
            verification: VerificationSettings::default(),
            qa: QaSettings::default(),
            policy: PolicySettings::default(),
            prometheus: PrometheusSettings::default(),
            notify: NotifySettings::default(),
            email: EmailSettings::default(),
            deadman: DeadmanSettings::default(),
            analyzer: AnalyzerSettings::default(),
            llm: LlmSettings::default(),
            console: ConsoleSettings::default(),
            matrix: MatrixSettings::default(),
            alertmanager: AlertmanagerSettings::default(),
            slack: SlackSettings::default(),
            memory: MemorySettings::default(),
        }
    }
}

impl Settings {
    /// The SQLite database file: `store.path`, or `mimi.db` in the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.store.path.clone().unwrap_or_else(|| self.data_dir.join("mimi.db"))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// The cluster name used when an alert group has no cluster label.
    pub name: String,
    /// The alert label that names the cluster (looked up in the group's common labels).
    pub label: String,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings { name: "default".into(), label: "cluster".into() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Largest accepted request body; larger webhook bodies get 413.
    pub body_limit_bytes: usize,
    /// How long in-flight requests and steps may take to finish after SIGTERM.
    pub shutdown_grace_seconds: u64,
    /// Upper bound on handling one HTTP request.
    pub request_timeout_seconds: u64,
    /// The address people reach Mimi's web console at (e.g. `https://mimi.example.com`); messages
    /// link to the incident there. Without it, messages carry no console link.
    pub public_url: Option<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit_bytes: 1024 * 1024,
            shutdown_grace_seconds: 20,
            request_timeout_seconds: 10,
            public_url: None,
        }
    }
}

/// How Alertmanager authenticates to `POST /webhook`. At least one method, or an explicit opt-out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    pub bearer_token: Option<Secret>,
    pub bearer_token_file: Option<PathBuf>,
    pub basic_username: Option<String>,
    pub basic_password: Option<Secret>,
    pub basic_password_file: Option<PathBuf>,
    /// Accept unauthenticated webhooks. Only for a trusted network; `mimi check` warns.
    pub allow_unauthenticated: bool,
}

/// Who may call the read API (`/api/...`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiSettings {
    pub tokens: Vec<ApiToken>,
    /// Serve the API without a token. Only for a trusted network; `mimi check` warns.
    pub allow_unauthenticated: bool,
}

/// A bearer token for the API; `name` is the identity recorded for what the caller does.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    pub name: String,
    #[serde(default)]
    pub token: Option<Secret>,
    #[serde(default)]
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// The database file; default `mimi.db` in `data_dir`.
    pub path: Option<PathBuf>,
    /// How long a write waits for a lock held by another connection before failing (then 503).
    pub busy_timeout_ms: u64,
    /// Cap on the database size; when reached, the webhook answers 503 (Alertmanager retries).
    pub max_size_mb: Option<u64>,
    /// Most webhook deliveries committed in one transaction (group commit).
    pub commit_batch_max: usize,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings { path: None, busy_timeout_ms: 5000, max_size_mb: None, commit_batch_max: 512 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Steps run at the same time.
    pub concurrency: usize,
    /// Attempts before a job is given up (kept as `dead` with its last error).
    pub max_attempts: u32,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Upper bound on one step; a step that takes longer counts as a failed attempt.
    pub step_timeout_seconds: u64,
    /// How often an idle worker looks for due jobs (new work wakes it at once).
    pub poll_interval_ms: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            concurrency: 2,
            max_attempts: 8,
            backoff_base_ms: 500,
            backoff_max_ms: 300_000,
            step_timeout_seconds: 120,
            poll_interval_ms: 1000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter such as `info` or `mimi=debug,sqlx=warn`.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings { format: LogFormat::Text, level: "info".into() }
    }
}

/// How Mimi reaches the cluster. Neither `in_cluster` nor `kubeconfig`: no cluster access (a
/// developer's own kubeconfig is never picked up by accident); enrichment is then skipped.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubernetesSettings {
    /// Use the pod's service account (running inside the cluster).
    pub in_cluster: bool,
    /// A kubeconfig file.
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context; default: its current context.
    pub context: Option<String>,
    /// Upper bound on one API request.
    pub request_timeout_seconds: u64,
    /// Keep watched caches (informers) of pods, nodes, deployments and replica sets, so enrichment and
    /// questions read memory instead of the API server.
    pub cache: bool,
}

impl Default for KubernetesSettings {
    fn default() -> Self {
        KubernetesSettings {
            in_cluster: false,
            kubeconfig: None,
            context: None,
            request_timeout_seconds: 10,
            cache: true,
        }
    }
}

impl KubernetesSettings {
    pub fn enabled(&self) -> bool {
        self.in_cluster || self.kubeconfig.is_some()
    }
}

/// What the enrich step gathers, and how much of it reaches the analyzer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvidenceSettings {
    /// Bytes of evidence text given to the analyzer; more is cut with an explicit marker.
    pub budget_bytes: usize,
    /// Lines taken from the end of each container log (current and previous).
    pub log_tail_lines: u32,
    /// Bytes read at most from one container log.
    pub log_limit_bytes: u32,
    /// Warning events kept per incident, newest first.
    pub max_events: usize,
    /// Pods examined at most per workload (the unhealthy ones first).
    pub max_pods: usize,
}

impl Default for EvidenceSettings {
    fn default() -> Self {
        EvidenceSettings {
            budget_bytes: 4096,
            log_tail_lines: 40,
            log_limit_bytes: 64 * 1024,
            max_events: 10,
            max_pods: 3,
        }
    }
}

/// How an executed action is verified.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerificationSettings {
    /// Give up (not fixed / timed out) after this long.
    pub timeout_seconds: u64,
    /// Healthy for this long counts as fixed (no new restarts, still ready).
    pub settle_seconds: u64,
    /// How often the target is looked at.
    pub interval_seconds: u64,
}

impl Default for VerificationSettings {
    fn default() -> Self {
        VerificationSettings { timeout_seconds: 300, settle_seconds: 30, interval_seconds: 5 }
    }
}

/// Read-only questions (`POST /ask`, chat threads).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QaSettings {
    /// Questions one person may ask per minute (others are not affected).
    pub questions_per_minute: u32,
    /// The namespaces API callers may ask about; unset: all.
    pub api_namespaces: Option<Vec<String>>,
    /// With `[llm]` configured, questions the built-in intents do not understand go to the LLM,
    /// which may call only the read-only tools (docs/llm.md).
    pub use_llm: bool,
}

impl Default for QaSettings {
    fn default() -> Self {
        QaSettings { questions_per_minute: 10, api_namespaces: None, use_llm: true }
    }
}
