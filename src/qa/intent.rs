//! Questions to intents, without an LLM (pure).
//!
//! A question is untrusted text; it is only ever matched against fixed patterns, so "ignore previous
//! instructions" means nothing here. Names it mentions are validated Kubernetes names or ignored.
//! Requests to act ("restart checkout") and requests for secrets are recognised first, so they are
//! never mistaken for a read question.

use serde::{Deserialize, Serialize};

use crate::domain::names::{NamespaceName, ObjectName};

/// Pod phases a question can filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    Running,
    Pending,
    Failed,
    Succeeded,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Running => "Running",
            Phase::Pending => "Pending",
            Phase::Failed => "Failed",
            Phase::Succeeded => "Succeeded",
        }
    }
}

/// What a question asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "intent", rename_all = "snake_case")]
pub enum Intent {
    Help,
    PodCount {
        namespace: Option<String>,
        phase: Option<Phase>,
    },
    PodList {
        namespace: Option<String>,
        phase: Option<Phase>,
    },
    Problems {
        namespace: Option<String>,
    },
    Namespaces,
    Workload {
        namespace: Option<String>,
        name: String,
    },
    Events {
        namespace: Option<String>,
    },
    Logs {
        namespace: Option<String>,
        pod: String,
        previous: bool,
    },
    Nodes,
    Incidents {
        open_only: bool,
    },
    Incident {
        id: i64,
    },
    History {
        alertname: String,
        target: Option<String>,
    },
    /// "how do I fix an OOMKilled pod?": answered from the runbooks (the knowledge base).
    Runbook {
        question: String,
    },
    /// "restart checkout": Mimi never acts on a question (E10).
    ActionRequest {
        verb: String,
    },
    /// Passwords, tokens, secrets (E11).
    Secret,
    /// "what about ai-sre?": the previous question, for another namespace.
    FollowUp {
        namespace: String,
    },
    Unknown,
}

impl Intent {
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Intent::PodCount { namespace, .. }
            | Intent::PodList { namespace, .. }
            | Intent::Problems { namespace }
            | Intent::Workload { namespace, .. }
            | Intent::Events { namespace }
            | Intent::Logs { namespace, .. } => namespace.as_deref(),
            Intent::FollowUp { namespace } => Some(namespace),
            _ => None,
        }
    }

    /// The same question for another namespace (for follow-ups); `None` if it has no namespace.
    pub fn with_namespace(&self, ns: &str) -> Option<Intent> {
        let ns = Some(ns.to_string());
        Some(match self.clone() {
            Intent::PodCount { phase, .. } => Intent::PodCount { namespace: ns, phase },
            Intent::PodList { phase, .. } => Intent::PodList { namespace: ns, phase },
            Intent::Problems { .. } => Intent::Problems { namespace: ns },
            Intent::Events { .. } => Intent::Events { namespace: ns },
            Intent::Workload { name, .. } => Intent::Workload { namespace: ns, name },
            _ => return None,
        })
    }
}

const ACTION_VERBS: &[&str] = &[
    "restart", "delete", "kill", "scale", "rollback", "roll", "drain", "cordon", "uncordon", "exec", "apply", "patch",
    "edit", "remove", "stop", "evict", "reboot", "deploy", "run",
];
const SECRET_WORDS: &[&str] =
    &["password", "passwords", "secret", "secrets", "token", "tokens", "credential", "credentials", "apikey", "passwd"];

/// Parses a question.
pub fn parse(question: &str) -> Intent {
    let lower = question.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || matches!(c, '?' | '!' | ',' | ';' | ':' | '"' | '\'' | '(' | ')' | '/'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    let any = |ws: &[&str]| ws.iter().any(|w| has(w));
    if words.is_empty() || (words.len() <= 2 && any(&["help", "commands"])) {
        return Intent::Help;
    }
    if any(SECRET_WORDS) || lower.contains("api key") || lower.contains("private key") {
        return Intent::Secret;
    }
    let first =
        words.iter().copied().find(|w| !matches!(*w, "please" | "mimi" | "can" | "you" | "could" | "now" | "@mimi"));
    if let Some(verb) = first.filter(|w| ACTION_VERBS.contains(w)) {
        return Intent::ActionRequest { verb: verb.to_string() };
    }
    let namespace = namespace_in(&words);
    if let Some(ns) = follow_up(&words) {
        return Intent::FollowUp { namespace: ns };
    }
    if let Some(id) = incident_id(&words) {
        return Intent::Incident { id };
    }
    if any(&["incidents", "alerts", "firing"]) {
        return Intent::Incidents { open_only: any(&["open", "current", "now", "active", "firing"]) };
    }
    if any(&["time", "last", "before", "previously"])
        && any(&["fired", "happened", "did", "do"])
        && let Some(alertname) = alertname_in(question)
    {
        let target = words
            .windows(2)
            .find(|w| w[0] == "for" || w[0] == "on")
            .and_then(|w| ObjectName::parse(w[1]).ok())
            .map(|n| n.to_string());
        return Intent::History { alertname, target };
    }
    if ["how do i", "how to", "how can i", "how should i", "how do we", "what should i do", "runbook"]
        .iter()
        .any(|p| lower.contains(p))
    {
        return Intent::Runbook { question: question.chars().take(500).collect() };
    }
    if any(&["log", "logs"])
        && let Some(pod) = object_after(&words, &["of", "for", "from", "pod"])
            .or_else(|| words.iter().rev().find_map(|w| dashed_name(w)))
    {
        return Intent::Logs { namespace, pod, previous: any(&["previous", "crashed", "last", "prior"]) };
    }
    if any(&["node", "nodes"]) {
        return Intent::Nodes;
    }
    if any(&["namespaces", "namespace"]) && namespace.is_none() {
        return Intent::Namespaces;
    }
    if any(&["event", "events", "warnings", "warning"]) {
        return Intent::Events { namespace };
    }
    if any(&[
        "problem",
        "problems",
        "wrong",
        "unhealthy",
        "failing",
        "broken",
        "crashing",
        "issues",
        "issue",
        "sick",
        "down",
    ]) {
        return Intent::Problems { namespace };
    }
    let phase = [
        ("running", Phase::Running),
        ("pending", Phase::Pending),
        ("failed", Phase::Failed),
        ("succeeded", Phase::Succeeded),
        ("completed", Phase::Succeeded),
    ]
    .into_iter()
    .find(|(w, _)| has(w))
    .map(|(_, p)| p);
    if any(&["pod", "pods"]) {
        if lower.contains("how many") || any(&["count", "number"]) {
            return Intent::PodCount { namespace, phase };
        }
        return Intent::PodList { namespace, phase };
    }
    if let Some(name) = object_after(&words, &["deployment", "statefulset", "of", "is"])
        .filter(|n| !matches!(n.as_str(), "the" | "my" | "a"))
        && any(&["status", "healthy", "deployment", "statefulset", "ok", "up", "ready", "doing"])
    {
        return Intent::Workload { namespace, name };
    }
    Intent::Unknown
}

/// `in namespace X`, `in ns X`, `-n X`, `namespace X`, or `in X` at the end of a question.
fn namespace_in(words: &[&str]) -> Option<String> {
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied();
        let candidate = match (*w, next) {
            ("namespace" | "ns" | "-n", Some(n)) => Some(n),
            ("in" | "for", Some("namespace" | "ns")) => words.get(i + 2).copied(),
            ("in", Some(n)) if i + 2 == words.len() => Some(n),
            _ => None,
        };
        if let Some(ns) = candidate.and_then(|n| NamespaceName::parse(n).ok())
            && !matches!(ns.as_str(), "the" | "my" | "it" | "there" | "all" | "total")
        {
            return Some(ns.to_string());
        }
    }
    None
}

/// "what about ai-sre", "and in hr", "how about shop".
fn follow_up(words: &[&str]) -> Option<String> {
    let starts = |a: &str, b: &str| words.first() == Some(&a) && words.get(1) == Some(&b);
    let rest = if starts("what", "about") || starts("how", "about") {
        &words[2..]
    } else if words.first() == Some(&"and") {
        &words[1..]
    } else {
        return None;
    };
    let rest: Vec<&str> = rest.iter().copied().filter(|w| !matches!(*w, "in" | "namespace" | "ns" | "the")).collect();
    match rest.as_slice() {
        [ns] => NamespaceName::parse(ns).ok().map(|n| n.to_string()),
        _ => None,
    }
}

fn incident_id(words: &[&str]) -> Option<i64> {
    words.windows(2).find_map(|w| {
        (w[0] == "incident").then(|| w[1].trim_start_matches('#').parse::<i64>().ok()).flatten().filter(|id| *id > 0)
    })
}

/// A CamelCase alert name as written in the original question (`KubePodCrashLooping`).
fn alertname_in(question: &str) -> Option<String> {
    question
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| {
            w.len() >= 4
                && w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && w.chars().any(|c| c.is_ascii_lowercase())
                && w.chars().skip(1).any(|c| c.is_ascii_uppercase())
        })
        .map(str::to_string)
}

fn object_after(words: &[&str], markers: &[&str]) -> Option<String> {
    words.windows(2).filter(|w| markers.contains(&w[0])).find_map(|w| {
        let candidate = (!matches!(w[1], "pod" | "deployment" | "statefulset")).then_some(w[1]);
        candidate.and_then(|c| ObjectName::parse(c).ok()).map(|n| n.to_string())
    })
}

/// A word that looks like a generated pod name (`checkout-6d8f7c9b4-q2x7m`).
fn dashed_name(word: &str) -> Option<String> {
    (word.matches('-').count() >= 2).then(|| ObjectName::parse(word).ok()).flatten().map(|n| n.to_string())
}

#[cfg(test)]
#[path = "intent_tests.rs"]
mod tests;
