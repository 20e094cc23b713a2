//! Every user-facing sentence, in one place: HTTP error bodies, `mimi check` output, timeline notes.
//!
//! Keep wording plain and actionable: say what happened and what to do about it.

/// What memory adds to timelines, messages and facts (`rag`).
pub mod memory;
/// What the runbook rules say (`analyze::rules`).
pub mod rules;

/// What `mimi eval` prints.
pub mod eval;

/// What chat commands answer.
pub mod chat;
/// The web console.
pub mod console;

/// Slack message labels and Slack-only answers.
pub mod slack;
/// What Mimi says in Matrix rooms, and `mimi check` about Matrix.
pub mod matrix;

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
    pub const SINK_MISSING: &str = "a route names a sink that is not configured in this instance";
    pub const INTERRUPTED: &str = "step interrupted by a restart; it runs again";
}

/// Why policy refuses an action (`domain::policy::Refusal`), shown where the proposal would have been.
pub mod policy {
    pub const READ_ONLY: &str = "Mimi is in read-only mode (policy.read_only): it does not change anything in the \
                                 cluster until an operator switches that off.";
    pub const SCALE_REPLICAS_UNKNOWN: &str = "the workload's current replica count could not be read, so the scale \
                                              bounds cannot be checked; Mimi will not scale it blind.";
    pub const DRAIN_RUNNING: &str =
        "another node is being drained right now; Mimi drains one node at a time. Try again when it has finished.";

    pub fn protected_namespace(ns: &str) -> String {
        format!("namespace {ns} is protected (policy.protected_namespaces): Mimi never changes anything in it.")
    }
    pub fn own_namespace(ns: &str) -> String {
        format!("namespace {ns} is where Mimi itself runs (policy.own_namespace): Mimi never acts on itself.")
    }
    pub fn scale_unchanged(replicas: u32) -> String {
        format!("the workload already runs {replicas} replica(s); scaling to the same count would change nothing.")
    }
    pub fn scale_below_minimum(requested: u32, min: u32) -> String {
        format!(
            "scaling to {requested} replica(s) is below the minimum of {min} (policy.scale.min_replicas); \
             Mimi does not scale a workload down to nothing."
        )
    }
    pub fn scale_above_maximum(requested: u32, max: u32) -> String {
        format!("scaling to {requested} replicas is above the maximum of {max} (policy.scale.max_replicas).")
    }
    pub fn scale_too_far_up(requested: u32, current: u32, limit: u32, factor: f64) -> String {
        format!(
            "scaling from {current} to {requested} replicas grows the workload more than {factor} times at once \
             (policy.scale.max_factor); at most {limit} replicas from here."
        )
    }
    pub fn scale_too_far_down(requested: u32, current: u32, limit: u32, factor: f64) -> String {
        format!(
            "scaling from {current} down to {requested} replica(s) shrinks the workload more than {factor} times \
             at once (policy.scale.max_factor); at least {limit} replica(s) from here."
        )
    }
    pub fn cluster_budget(cluster: &str, limit: u32) -> String {
        format!(
            "cluster {cluster} has had {limit} write action(s) in the last hour, the most Mimi may take \
             (policy.max_actions_per_hour). Act by hand, or wait."
        )
    }
    pub fn target_budget(target: &str, limit: u32) -> String {
        format!(
            "{target} has been acted on {limit} time(s) in the last hour, the most Mimi may \
             (policy.max_actions_per_target_per_hour); repeating the same fix is not working. Look closer."
        )
    }
}

/// Why an approval or rejection is refused (`domain::approval::ApprovalRefusal`), answered to the
/// person who clicked, reacted or typed (ephemeral in Slack).
pub mod approval {
    pub const FROZEN: &str = "Mimi is in read-only mode: approvals are frozen and nothing runs. The proposal stays \
                              pending until an operator switches read-only mode off.";
    pub const NOT_POSTED_HERE: &str = "this proposal was not posted here: approve or reject it on the incident \
                                       message it belongs to, or in the web console.";
    pub const CHANNEL_NOT_CONFIGURED: &str = "approvals are not accepted in this channel or room (no \
                                              [[policy.approvers]] entry for it).";
    pub const WRONG_TEAM: &str =
        "you are not a member of the Slack workspace whose people may approve here, so you cannot approve.";
    pub const NOT_AN_APPROVER: &str = "you are not an approver here; the proposal is still pending. Ask an \
                                       approver, or an admin to add you to [[policy.approvers]].";
    pub const ALREADY_APPROVED: &str = "this proposal has already been approved; it runs once.";
    pub const ALREADY_REJECTED: &str =
        "this proposal was rejected, and a rejection is final. Ask Mimi to propose again if things have changed.";
    pub const INCIDENT_RESOLVED: &str =
        "the incident is resolved, so this proposal no longer applies. Ask Mimi to propose again if it comes back.";
    pub const OWN_REQUEST: &str =
        "you asked for this action and it needs two people: two other approvers must approve it.";
    pub const ALREADY_APPROVED_BY_YOU: &str =
        "you have already approved this; it needs a second approver who is not you.";
    pub const NOT_AUTOMATIC: &str = "policy did not allow this action to run without a human; it needs approval.";
    pub const DIFFERENT_ACTION: &str = "the policy verdict is for a different action than this proposal.";

    pub fn expired(at: &str) -> String {
        format!("this proposal expired at {at}. Ask Mimi to propose it again if it is still needed.")
    }
}

/// Why a proposal cannot be approved, and what happened to approved ones.
pub mod proposals {
    pub const NO_CLUSTER: &str = "advice only: Mimi has no cluster access (kubernetes.in_cluster or kubernetes.kubeconfig), so it cannot check or run this";
    pub fn not_in_catalogue(why: &str) -> String {
        format!("dropped: not an action Mimi can take ({why})")
    }
    pub fn not_allowed_by_rule(kind: &str, allowed: &std::collections::BTreeSet<&str>) -> String {
        if allowed.is_empty() {
            format!("advice only: the alerting rule allows no actions (mimi_allowed_actions), so not {kind}")
        } else {
            let list: Vec<&str> = allowed.iter().copied().collect();
            format!("advice only: the alerting rule allows {} (mimi_allowed_actions), not {kind}", list.join(", "))
        }
    }
    pub fn hallucination(target: &str) -> String {
        format!("dropped: {target} does not exist (the analyzer named something that is not there)")
    }
    pub fn dry_run_refused(why: &str) -> String {
        format!("blocked: the server-side dry run failed: {why}")
    }
    pub fn policy_now(why: &str) -> String {
        format!("not executed: policy refuses it now: {why}")
    }
    pub fn execution_failed(why: &str) -> String {
        format!("not executed: {why}")
    }
    pub const NOT_APPROVED: &str = "this incident has no approved proposal to execute";
    pub const EXPIRED: &str = "expired: nobody decided before the approval window closed";
    pub const RESOLVED: &str = "expired: the incident resolved before anyone decided";
}

/// Answers to questions (`/ask`, chat threads).
pub mod qa {
    pub const HELP: &str = "Ask me about the cluster and incidents, for example: \"how many pods are running in shop?\", \"any problem pods?\", \"logs of checkout-6d8f7c9b4-q2x7m\", \"node status\", \"open incidents\", \"what happened in incident 42?\", \"what did we do last time KubePodCrashLooping fired?\". Then \"what about hr?\" asks the same for another namespace. I only read; I never change anything from a question.";
    pub const UNKNOWN: &str = "I did not understand that question. Say \"help\" for what I can answer.";
    pub const SECRETS: &str = "I do not read or show secrets (passwords, tokens, keys): my access to the cluster cannot read Secrets, and I would not repeat one anyway.";
    pub const RATE_LIMITED: &str = "You are asking faster than I answer; please wait a little and ask again.";
    pub const OUT_OF_SCOPE: &str = "I can't answer about that namespace here.";
    pub const NO_CONTEXT: &str = "I don't know what that follows up on; ask the whole question.";
    pub const NO_CLUSTER: &str = "I have no cluster access configured, so I can only answer about incidents.";
    pub const EVERYWHERE: &str = "across the namespaces I can see";
    pub const EMPTY_LOG: &str = "(the log is empty)";
    pub fn no_action(verb: &str) -> String {
        format!(
            "I don't {verb} anything from a question. Actions run only as proposals that an authorised approver approves: when an alert fires, I propose one with its dry-run diff and Approve / Reject controls."
        )
    }
    pub fn cluster_error(e: &str) -> String {
        format!("I could not read the cluster: {e}")
    }
    pub fn not_found(kind: &str, name: &str) -> String {
        format!("I see no {kind} named {name} in the namespaces I can see.")
    }
    pub fn no_incident(id: i64) -> String {
        format!("There is no incident #{id} that I can show here.")
    }
    pub fn no_history(alertname: &str) -> String {
        format!("I have no record of {alertname} firing before.")
    }
    pub const NO_MEMORY: &str = "I have no runbooks to look in (memory is off).";
    pub const NO_RUNBOOK: &str = "I found nothing about that in the runbooks.";
    pub fn memory_unavailable(why: &str) -> String {
        format!("I could not look in my memory: {why}")
    }
    pub const FROM_RUNBOOKS: &str = "From the runbooks (reference text, not something I ran):";
    pub const FROM_MEMORY: &str = "Similar incidents I remember:";
    pub const RELATED_WORKLOADS: &str = "Workloads in the cluster that look related:";
}

/// What Mimi's messages say (chat, email), before escaping for the medium.
pub mod notify {
    use crate::notify::message::ProposalView;

    pub const DIAGNOSIS: &str = "Diagnosis: ";
    pub const CLUSTER: &str = "cluster";
    pub const FIRING: &str = "firing alerts";
    pub const CONSOLE: &str = "Web console";
    pub const ALERTMANAGER: &str = "Alertmanager";
    pub const SOURCE: &str = "Alert source";
    pub const FACTS: &str = "Evidence:";
    pub const PROPOSALS: &str = "Proposed actions:";
    pub const UPDATES: &str = "Updates:";
    pub const HOW_TO_DECIDE: &str = "Approve or reject in chat or in the web console.";
    pub const ROLLUP_BODY: &str = "Many incidents arrived at once for this channel; each one follows in this thread instead of flooding the channel.";
    pub const DEADMAN_BACK: &str = "The Watchdog alert is arriving again: alerts reach Mimi.";
    pub const FALLBACK_NOTE: &str = "Sent by email because chat delivery has not succeeded. Mimi keeps trying chat; \
                                     approving is not possible by email: use chat or the web console.";
    pub const NOT_ROUTED: &str = "no route sends this incident anywhere ([[notify.routes]], [email] to)";

    pub fn partial(n: i64) -> String {
        format!("Partial: Alertmanager left {n} alert(s) out of this notification (truncatedAlerts).")
    }
    pub const INCIDENTS: &str = "incidents";
    pub fn more_in_thread(n: usize) -> String {
        format!("{n} more in the thread.")
    }
    pub fn rollup_title(n: usize) -> String {
        format!("[FIRING] {n} new incidents at once")
    }
    pub fn deadman_title(cluster: &str) -> String {
        format!("[FIRING] Alert pipeline broken: no Watchdog alert from cluster {cluster}")
    }
    pub fn deadman_body(minutes: i64) -> String {
        format!(
            "Alertmanager's always-firing Watchdog alert has not reached Mimi for {minutes} min. Prometheus, \
             Alertmanager or the route to Mimi is broken: real alerts may not arrive either."
        )
    }
    pub fn deadman_recovered(cluster: &str) -> String {
        format!("[RESOLVED] Alert pipeline back: Watchdog from cluster {cluster} arrives again")
    }
    pub fn proposal_line(p: &ProposalView) -> String {
        let risk = p.risk.as_deref().map(|r| format!(", risk {r}")).unwrap_or_default();
        let approvers = match p.approval.as_deref() {
            Some("two") => ", needs two approvers",
            Some("one") => ", needs one approver",
            _ => "",
        };
        format!("[{}] {}{risk}{approvers}: {}", p.id, p.action, p.state)
    }
    pub fn late(original: &str) -> String {
        format!("Delivered late: this happened at {original}.")
    }
    pub fn decided(choice: &str, who: &str, proposal: &str) -> String {
        format!("{choice} by {who} ({proposal})")
    }
    /// `restart_deployment pay/payments`.
    pub fn action_of(spec: &crate::domain::action::ActionSpec) -> String {
        match &spec.namespace {
            Some(ns) => format!("{} {ns}/{}", spec.kind, spec.name),
            None => format!("{} {}", spec.kind, spec.name),
        }
    }
    pub fn executed(action: &str) -> String {
        format!("Executed: {action}; verifying")
    }
    pub fn execution_failed(why: &str) -> String {
        format!("Not executed: {why}")
    }
    pub fn verified(outcome: &str) -> String {
        match outcome {
            "verified" => "Verified: the fix held".to_string(),
            "not_fixed" => "Not fixed: the problem is still there after the action".to_string(),
            other => format!("Verification ended: {other}"),
        }
    }
    pub const RESOLVED: &str = "Resolved: every alert of the incident resolved";
    pub const EXPIRED: &str = "Expired: nobody decided before the approval window closed";
}

/// The LLM analyzer: flags on an analysis (shown with it), why an answer was not used, budgets.
pub mod llm {
    pub const FLAG_MARKUP: &str =
        "the model's text contained chat markup, mentions or links; they are kept as inert text only";
    pub const FLAG_INVISIBLE: &str = "control or invisible characters were removed from the model's text";
    pub const FLAG_CONFIDENCE_NOT_A_NUMBER: &str = "the model's confidence was not a number; it is left out";
    pub const FLAG_CONFIDENCE_CLAMPED: &str = "the model's confidence was outside 0 to 1; it was clamped";
    pub const FLAG_CACHED: &str =
        "reused: the same alerts and evidence were analysed before, so the model was not asked again";
    pub const CONTENT_FILTER: &str = "the provider's content filter stopped the answer";
    pub const EMPTY_ANSWER: &str = "the answer was empty";
    pub const ANSWER_CUT: &str = "the answer was cut off at llm.max_tokens";
    pub const NOT_AN_OBJECT: &str = "the answer is JSON but not an object";
    pub const TOO_DEEP: &str = "the answer is nested too deeply";

    pub fn flag_secrets(n: usize) -> String {
        format!("the model's text repeated {n} secret(s); redacted")
    }
    pub fn answer_too_long(bytes: usize) -> String {
        format!("the answer is {bytes} bytes long, more than any analysis needs")
    }
    pub fn not_json(error: &str) -> String {
        format!("the answer is not JSON ({})", error.chars().take(100).collect::<String>())
    }
    pub fn field_problem(field: &str, problem: &str) -> String {
        format!("the answer's {field} {problem}")
    }
    pub fn string_too_long(max: usize) -> String {
        format!("the answer holds a text longer than {max} characters")
    }

    pub fn dropped_malformed(kind: &str, error: &str) -> String {
        format!("dropped a malformed proposal {kind:?}: {error}")
    }
    pub fn dropped_not_in_catalogue(kind: &str) -> String {
        format!("dropped a proposal {kind:?}: it is not in the action catalogue")
    }
    pub fn dropped_invalid(kind: &str, error: &str) -> String {
        format!("dropped a {kind} proposal: {error}")
    }
    pub fn dropped_replicas(replicas: u32, max: u32) -> String {
        format!("dropped a scale proposal to {replicas} replicas: only 1 to {max} can ever be proposed")
    }
    pub fn dropped_not_allowed(kind: &str, target: &str) -> String {
        format!("dropped {kind} on {target}: the alert's mimi_allowed_actions do not allow it")
    }
    pub fn dropped_not_in_incident(kind: &str, target: &str) -> String {
        format!("dropped {kind} on {target}: that object is not named by the alerts or the evidence")
    }
    pub fn dropped_extra(max: usize) -> String {
        format!("dropped proposals beyond the first {max}")
    }
    pub fn flag_planted(quote: &str) -> String {
        format!("text in the input reads like instructions; it was treated as data only: {quote}")
    }
    pub fn flag_model_noticed(quote: &str) -> String {
        format!("the model reported suspicious input: \"{quote}\"")
    }
    pub fn flag_retried(first: &str) -> String {
        format!("the model's first answer was not used ({first}); this is its second")
    }

    pub fn http_status(status: u16) -> String {
        format!("the LLM server answered HTTP {status}")
    }
    pub fn rejected(status: u16, message: &str) -> String {
        let hint = if status == 400 {
            " (if the server does not support JSON schemas, set llm.structured_output = \"json_object\")"
        } else {
            ""
        };
        format!("the LLM server refused the request (HTTP {status}): {message}{hint}")
    }
    pub fn rate_limited(seconds: u64) -> String {
        format!("the LLM provider is rate limiting Mimi (Retry-After {seconds} s)")
    }
    pub fn paused(why: &str, seconds: u64) -> String {
        format!("{why}; not asking it for another {seconds} s")
    }
    pub fn breaker(failures: u32) -> String {
        format!("the LLM failed {failures} analyses in a row")
    }
    pub fn over_incident(used: u64, next: u64, limit: u64) -> String {
        format!(
            "this incident has used {used} tokens and the next call may need {next}, over its \
             {limit} (llm.budget.tokens_per_incident)"
        )
    }
    pub fn over_window(window: &str, used: u64, limit: u64) -> String {
        format!("{used} of {limit} tokens used in the last {window} (llm.budget.tokens_per_{window})")
    }

    /// The first flag of an analysis the rules made because the LLM could not.
    pub fn not_used(analyzer: &str, why: &str) -> String {
        format!("{analyzer} was not used ({why}); this is the runbook rules' analysis")
    }

    /// `mimi check`: which analyzer runs.
    pub fn check_rules_only() -> String {
        "runbook rules (no [llm] configured)".to_string()
    }
    pub fn check_llm(model: &str, endpoint: &str, mode: &str, worst_case: u64, per_hour: u64) -> String {
        format!(
            "LLM {model} at {endpoint} ({mode}; up to {per_hour} tokens an hour), then the runbook rules \
             when it fails (after at most {worst_case} s)"
        )
    }
    pub fn warn_slow_fallback(worst_case: u64) -> String {
        format!(
            "llm.timeout_seconds lets a failing LLM hold an incident up to {worst_case} s before the rules \
             answer (RELIABILITY B08 expects 10 s)"
        )
    }
    pub const WARN_KEY_IN_CLEAR: &str =
        "llm.base_url is plain http to another machine: the API key travels unencrypted (use https)";
}
