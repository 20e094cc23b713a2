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

/// What Mimi says in Matrix rooms, and `mimi check` about Matrix.
pub mod matrix;
/// Slack message labels and Slack-only answers.
pub mod slack;

/// `mimi check` output.
pub mod check;

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
    pub fn workload_status(
        kind: &str,
        ns: &str,
        name: &str,
        ready: i32,
        desired: i32,
        updated: i32,
        available: i32,
    ) -> String {
        let health = if ready >= desired { "healthy" } else { "degraded" };
        format!("{kind} {ns}/{name}: {ready}/{desired} ready, {updated} up to date, {available} available: {health}.")
    }
    pub fn workloads_named(count: usize, name: &str) -> String {
        format!("{count} workloads named {name}:")
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
pub mod llm;
