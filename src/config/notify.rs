//! `[notify]` and `[[notify.routes]]`: where incidents are posted, how fast each sink may send,
//! how the outbox retries, and when a burst is rolled up.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The sinks a route may name. Slack and Matrix come with their own sections; email is `[email]`.
pub const SINK_NAMES: [&str; 3] = ["slack", "matrix", "email"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// Matched in order; the first match wins unless it says `continue = true`.
    pub routes: Vec<RouteSettings>,
    /// Per-sink pacing, by sink name; defaults in [`RateLimit::default_for`].
    pub limits: BTreeMap<String, RateLimit>,
    /// When this many new incident messages wait for one channel, they are rolled up: one summary
    /// message, the incidents in its thread.
    pub rollup_threshold: usize,
    /// First retry delay of a failed delivery; doubles per attempt up to `backoff_max_ms`.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// A message still undelivered after this long is given up (kept as `dead`).
    pub give_up_after_hours: u64,
    /// Upper bound on one call to a sink.
    pub send_timeout_seconds: u64,
    /// Consecutive failed calls after which a sink counts as down.
    pub down_after_failures: u32,
    /// Messages in flight at once per sink (each channel has at most one).
    pub max_in_flight: usize,
    /// A message delivered later than this after its news says when it happened.
    pub late_after_seconds: u64,
    /// A burst's summary thread takes new incidents of its channel for this long after its last one.
    pub rollup_window_seconds: u64,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            routes: Vec::new(),
            limits: BTreeMap::new(),
            rollup_threshold: 5,
            backoff_base_ms: 1000,
            backoff_max_ms: 300_000,
            give_up_after_hours: 24,
            send_timeout_seconds: 30,
            down_after_failures: 3,
            max_in_flight: 4,
            late_after_seconds: 60,
            rollup_window_seconds: 300,
        }
    }
}

/// Messages per second per channel (room, recipient list) and the burst allowed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub per_second: f64,
    #[serde(default = "one")]
    pub burst: u32,
}

fn one() -> u32 {
    1
}

impl RateLimit {
    /// Slack: about 1 message per second per channel. Matrix (Synapse's default `rc_message`):
    /// 0.2/s with bursts of 10. Email: one message every 2 seconds per recipient list.
    pub fn default_for(sink: &str) -> RateLimit {
        match sink {
            "slack" => RateLimit { per_second: 1.0, burst: 1 },
            "matrix" => RateLimit { per_second: 0.2, burst: 10 },
            "email" => RateLimit { per_second: 0.5, burst: 5 },
            _ => RateLimit { per_second: 1.0, burst: 1 },
        }
    }
}

impl NotifySettings {
    pub fn limit_for(&self, sink: &str) -> RateLimit {
        self.limits.get(sink).copied().unwrap_or_else(|| RateLimit::default_for(sink))
    }
}

/// One routing rule. Every matcher given must match (each lists the accepted values); a rule with
/// no matcher matches every incident.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouteSettings {
    pub namespace: Vec<String>,
    pub severity: Vec<String>,
    /// The `team` label.
    pub team: Vec<String>,
    pub cluster: Vec<String>,
    /// `slack`, `matrix` or `email`.
    pub sink: String,
    /// Channel id (Slack) or room id (Matrix); not for email.
    pub target: Option<String>,
    /// Email recipients: the addresses for `sink = "email"`, and for a chat route the addresses of
    /// the email fallback (default: `[email] to`).
    pub email_to: Vec<String>,
    /// Keep matching the rules after this one.
    #[serde(rename = "continue")]
    pub continue_matching: bool,
}

pub(super) fn validate(n: &NotifySettings, email_enabled: bool, errors: &mut Vec<ConfigError>) {
    let mut err = |key: String, msg: String| errors.push(ConfigError::new(key, msg));
    for (i, r) in n.routes.iter().enumerate() {
        let key = |k: &str| format!("notify.routes[{i}].{k}");
        if !SINK_NAMES.contains(&r.sink.as_str()) {
            err(key("sink"), format!("{:?} is not a sink; use one of {}", r.sink, SINK_NAMES.join(", ")));
            continue;
        }
        match (r.sink.as_str(), r.target.as_deref()) {
            ("email", Some(_)) => err(key("target"), "email routes name their recipients in email_to".into()),
            ("email", None) if r.email_to.is_empty() && !email_enabled => {
                err(key("email_to"), "an email route needs recipients (email_to, or [email] to)".into())
            }
            ("slack" | "matrix", None | Some("")) => {
                err(key("target"), format!("a {} route needs a target (channel or room id)", r.sink))
            }
            ("slack", Some(t)) if !crate::domain::approver::is_slack_id(t) => {
                err(key("target"), format!("{t:?} is not a Slack channel id such as C0123ABCD (not #name)"))
            }
            ("matrix", Some(t)) if !crate::domain::approver::is_matrix_id(t, '!') => {
                err(key("target"), format!("{t:?} is not a Matrix room id such as !abc:example.org (not an alias)"))
            }
            _ => {}
        }
        if r.sink == "email" && !email_enabled {
            err(key("sink"), "routes to email, but [email] smtp_host is not set".into());
        }
        for (j, addr) in r.email_to.iter().enumerate() {
            if let Err(why) = super::email::check_address(addr) {
                err(format!("notify.routes[{i}].email_to[{j}]"), why);
            }
        }
        for (name, values) in
            [("namespace", &r.namespace), ("severity", &r.severity), ("team", &r.team), ("cluster", &r.cluster)]
        {
            if values.iter().any(|v| v.trim().is_empty()) {
                err(key(name), "has an empty value".into());
            }
        }
    }
    for (sink, limit) in &n.limits {
        if !(0.001..=1000.0).contains(&limit.per_second) {
            err(
                format!("notify.limits.{sink}.per_second"),
                format!("must be between 0.001 and 1000, got {}", limit.per_second),
            );
        }
        if !(1..=1000).contains(&limit.burst) {
            err(format!("notify.limits.{sink}.burst"), format!("must be between 1 and 1000, got {}", limit.burst));
        }
    }
    let ranges: [(&str, u64, u64, u64); 9] = [
        ("late_after_seconds", n.late_after_seconds, 1, 86_400),
        ("rollup_window_seconds", n.rollup_window_seconds, 1, 86_400),
        ("rollup_threshold", n.rollup_threshold as u64, 2, 10_000),
        ("backoff_base_ms", n.backoff_base_ms, 10, 3_600_000),
        ("backoff_max_ms", n.backoff_max_ms, 10, 86_400_000),
        ("give_up_after_hours", n.give_up_after_hours, 1, 24 * 30),
        ("send_timeout_seconds", n.send_timeout_seconds, 1, 600),
        ("down_after_failures", u64::from(n.down_after_failures), 1, 1000),
        ("max_in_flight", n.max_in_flight as u64, 1, 256),
    ];
    for (key, value, min, max) in ranges {
        if value < min || value > max {
            err(format!("notify.{key}"), format!("must be between {min} and {max}, got {value}"));
        }
    }
    if n.backoff_base_ms > n.backoff_max_ms {
        err("notify.backoff_max_ms".into(), format!("must be at least notify.backoff_base_ms ({})", n.backoff_base_ms));
    }
}
