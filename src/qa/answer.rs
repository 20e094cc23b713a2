//! Answering intents from the watched caches (through `ClusterRead`) and the incident store.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

use super::intent::{Intent, parse};
use super::limit::Limiter;
use crate::cluster::evidence::facts::{is_unhealthy, pod_facts};
use crate::cluster::{ClusterRead, LogRequest};
use crate::domain::redact::redact;
use crate::store::{Store, now_ms};
use crate::strings::qa as s;

/// What a caller may see: every namespace, or these only (a channel's or room's configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(Option<BTreeSet<String>>);

impl Scope {
    pub fn all() -> Scope {
        Scope(None)
    }

    pub fn only<I: IntoIterator<Item = String>>(namespaces: I) -> Scope {
        Scope(Some(namespaces.into_iter().collect()))
    }

    /// No namespace restriction (an alert without a namespace is visible only then).
    pub fn allows_everything(&self) -> bool {
        self.0.is_none()
    }

    pub fn allows(&self, namespace: &str) -> bool {
        self.0.as_ref().is_none_or(|set| set.contains(namespace))
    }
}

/// Who asks (for the rate limit), e.g. `slack:T1:U1`, `web:alice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asker(pub String);

/// An answer. Never an action: `action_taken` is always `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub answer: String,
    /// Incidents the answer rests on.
    pub incidents: Vec<i64>,
    /// Objects the answer rests on ("Pod shop/checkout-1").
    pub objects: Vec<String>,
    pub action_taken: Option<()>,
    /// The question was refused (scope, secrets, actions, rate limit).
    pub refused: bool,
}

impl Answer {
    pub(super) fn text(answer: impl Into<String>) -> Answer {
        Answer { answer: answer.into(), incidents: vec![], objects: vec![], action_taken: None, refused: false }
    }

    pub(super) fn refusal(answer: impl Into<String>) -> Answer {
        Answer { refused: true, ..Answer::text(answer) }
    }
}

/// The question-answering engine.
#[derive(Clone)]
pub struct QaEngine {
    pub(super) store: Store,
    read: Option<Arc<dyn ClusterRead>>,
    limiter: Arc<Limiter>,
    /// The LLM tool loop for questions the intents do not understand.
    llm: Option<Arc<super::llm::QaLlm>>,
    /// Runbooks and similar past incidents; `None` when memory is off.
    pub(super) memory: Option<Arc<crate::rag::Memory>>,
}

const LIST_MAX: usize = 15;

impl QaEngine {
    pub fn new(store: Store, read: Option<Arc<dyn ClusterRead>>, questions_per_minute: u32) -> Self {
        QaEngine { store, read, limiter: Arc::new(Limiter::new(questions_per_minute)), llm: None, memory: None }
    }

    /// Questions the intents do not understand go to this LLM loop (read-only tools).
    pub fn with_llm(mut self, llm: Arc<super::llm::QaLlm>) -> Self {
        self.llm = Some(llm);
        self
    }

    /// Answers runbook questions and adds remembered incidents to history answers.
    pub fn with_memory(mut self, memory: Option<Arc<crate::rag::Memory>>) -> Self {
        self.memory = memory;
        self
    }

    pub async fn ask(
        &self,
        question: &str,
        asker: &Asker,
        scope: &Scope,
        thread: Option<&str>,
    ) -> anyhow::Result<Answer> {
        let intent = parse(question);
        if intent == Intent::Unknown
            && let Some(llm) = &self.llm
        {
            if !self.limiter.allow(&asker.0, Instant::now()) {
                return Ok(Answer::refusal(s::RATE_LIMITED));
            }
            return Ok(match llm.answer(self, question, scope).await {
                Ok(answer) => answer,
                Err(why) => {
                    tracing::warn!(reason = %why.0, "the LLM could not answer a question; the intents do");
                    Answer::text(s::UNKNOWN)
                }
            });
        }
        self.ask_intent(intent, asker, scope, thread).await
    }

    /// A tool call of the LLM loop: the intent's answer within `scope`, without the per-user rate
    /// limit (the question already passed it) and without thread context.
    pub(super) async fn tool_answer(&self, intent: &Intent, scope: &Scope) -> anyhow::Result<Answer> {
        if let Some(ns) = intent.namespace()
            && !scope.allows(ns)
        {
            return Ok(Answer::refusal(s::OUT_OF_SCOPE));
        }
        self.answer(intent, scope).await
    }

    /// Answers an intent already parsed (chat commands such as `pods -n shop`), with the same
    /// rate limit, scope and thread context as a question.
    pub async fn ask_intent(
        &self,
        mut intent: Intent,
        asker: &Asker,
        scope: &Scope,
        thread: Option<&str>,
    ) -> anyhow::Result<Answer> {
        if !self.limiter.allow(&asker.0, Instant::now()) {
            return Ok(Answer::refusal(s::RATE_LIMITED));
        }
        if let Intent::FollowUp { namespace } = &intent {
            let previous = match thread {
                Some(t) => self.store.qa_context(t).await?,
                None => None,
            };
            match previous.and_then(|p| p.with_namespace(namespace)) {
                Some(next) => intent = next,
                None => return Ok(Answer::text(s::NO_CONTEXT)),
            }
        }
        if let Some(ns) = intent.namespace()
            && !scope.allows(ns)
        {
            // The same words whether or not the namespace exists.
            return Ok(Answer::refusal(s::OUT_OF_SCOPE));
        }
        let answer = self.answer(&intent, scope).await?;
        if let Some(t) = thread
            && intent.namespace().is_some()
        {
            self.store.save_qa_context(t, &intent, now_ms()).await?;
        }
        Ok(answer)
    }

    async fn answer(&self, intent: &Intent, scope: &Scope) -> anyhow::Result<Answer> {
        match intent {
            Intent::Help | Intent::Unknown => {
                Ok(Answer::text(if *intent == Intent::Help { s::HELP } else { s::UNKNOWN }))
            }
            Intent::Secret => Ok(Answer::refusal(s::SECRETS)),
            Intent::ActionRequest { verb } => Ok(Answer::refusal(s::no_action(verb))),
            Intent::FollowUp { .. } => Ok(Answer::text(s::NO_CONTEXT)),
            Intent::Incidents { open_only } => self.incidents(*open_only, scope).await,
            Intent::Incident { id } => self.incident(*id, scope).await,
            Intent::History { alertname, target } => self.history(alertname, target.as_deref(), scope).await,
            Intent::Runbook { question } => self.runbook(question, scope).await,
            cluster_intent => {
                let Some(read) = &self.read else { return Ok(Answer::text(s::NO_CLUSTER)) };
                match self.cluster(read.as_ref(), cluster_intent, scope).await {
                    Ok(a) => Ok(a),
                    Err(e) => Ok(Answer::text(s::cluster_error(&e.to_string()))),
                }
            }
        }
    }

    async fn cluster(
        &self,
        read: &dyn ClusterRead,
        intent: &Intent,
        scope: &Scope,
    ) -> Result<Answer, crate::cluster::ClusterError> {
        let in_scope = |ns: Option<&str>| ns.is_some_and(|n| scope.allows(n));
        let where_ =
            |ns: &Option<String>| ns.as_deref().map_or_else(|| s::EVERYWHERE.to_string(), |n| format!("in {n}"));
        match intent {
            Intent::PodCount { namespace, phase } | Intent::PodList { namespace, phase } => {
                let pods = visible(read.pods_shared(namespace.as_deref()).await?, scope);
                let matching: Vec<&Arc<Pod>> =
                    pods.iter().filter(|p| phase.is_none_or(|ph| phase_of(p) == ph.as_str())).collect();
                let what = phase.map_or("pods".to_string(), |p| format!("{} pods", p.as_str()));
                if matches!(intent, Intent::PodCount { .. }) {
                    return Ok(Answer::text(format!(
                        "{} {what} {} (of {} pods).",
                        matching.len(),
                        where_(namespace),
                        pods.len()
                    )));
                }
                let mut text = format!("{} {what} {}:", matching.len(), where_(namespace));
                let objects =
                    list(&mut text, matching.iter().map(|p| (pod_ref(p), format!("{} {}", pod_ref(p), phase_of(p)))));
                Ok(Answer { objects, ..Answer::text(text) })
            }
            Intent::Problems { namespace } => {
                let pods = visible(read.pods_shared(namespace.as_deref()).await?, scope);
                let problems: Vec<&Arc<Pod>> = pods.iter().filter(|p| is_unhealthy(p)).collect();
                if problems.is_empty() {
                    return Ok(Answer::text(format!(
                        "No problem pods {} ({} pods checked).",
                        where_(namespace),
                        pods.len()
                    )));
                }
                let mut text = format!("{} problem pods {}:", problems.len(), where_(namespace));
                let objects = list(&mut text, problems.iter().map(|p| (pod_ref(p), problem_line(p))));
                Ok(Answer { objects, ..Answer::text(text) })
            }
            Intent::Namespaces => {
                let names: Vec<String> = read.namespaces().await?.into_iter().filter(|n| scope.allows(n)).collect();
                Ok(Answer::text(format!("{} namespaces: {}.", names.len(), names.join(", "))))
            }
            Intent::Workload { namespace, name } => {
                super::workload::status(read, namespace.as_deref(), name, scope).await
            }
            Intent::Events { namespace } => {
                let mut events: Vec<_> = read
                    .events(namespace.as_deref())
                    .await?
                    .into_iter()
                    .filter(|e| e.type_.as_deref() == Some("Warning") && in_scope(e.metadata.namespace.as_deref()))
                    .collect();
                events.sort_by_key(|e| std::cmp::Reverse(e.last_timestamp.as_ref().map(|t| t.0)));
                if events.is_empty() {
                    return Ok(Answer::text(format!("No warning events {}.", where_(namespace))));
                }
                let mut text = format!("{} warning events {} (newest first):", events.len(), where_(namespace));
                let objects = list(
                    &mut text,
                    events.iter().map(|e| {
                        let object = format!(
                            "{}/{}",
                            e.involved_object.kind.as_deref().unwrap_or("?"),
                            e.involved_object.name.as_deref().unwrap_or("?")
                        );
                        let message = redact(e.message.as_deref().unwrap_or_default()).0;
                        (
                            object.clone(),
                            format!(
                                "{object} {} x{}: {message}",
                                e.reason.as_deref().unwrap_or_default(),
                                e.count.unwrap_or(1)
                            ),
                        )
                    }),
                );
                Ok(Answer { objects, ..Answer::text(text) })
            }
            Intent::Logs { namespace, pod, previous } => {
                let candidates = visible(read.pods_shared(namespace.as_deref()).await?, scope);
                let Some(p) = candidates.iter().find(|p| p.metadata.name.as_deref() == Some(pod)) else {
                    return Ok(Answer::text(s::not_found("pod", pod)));
                };
                let ns = p.metadata.namespace.clone().unwrap_or_default();
                let request =
                    LogRequest { container: None, previous: *previous, tail_lines: 20, limit_bytes: 16 * 1024 };
                let text = read.logs(&ns, pod, &request).await?;
                let (clean, _) = redact(&text);
                let which = if *previous { "previous log" } else { "log" };
                let body = if clean.trim().is_empty() { s::EMPTY_LOG.to_string() } else { clean };
                Ok(Answer {
                    objects: vec![format!("Pod {ns}/{pod}")],
                    ..Answer::text(format!("Last lines of the {which} of {ns}/{pod}:\n{body}"))
                })
            }
            Intent::Nodes => {
                let nodes = read.nodes().await?;
                let mut text = format!("{} nodes:", nodes.len());
                let objects = list(
                    &mut text,
                    nodes.iter().map(|n| {
                        let name = n.metadata.name.clone().unwrap_or_default();
                        let facts = crate::cluster::evidence::facts::node_facts(n);
                        let cordoned = if facts.unschedulable { ", cordoned" } else { "" };
                        let extra = if facts.conditions.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", facts.conditions.join("; "))
                        };
                        (format!("Node {name}"), format!("{name}: Ready={}{cordoned}{extra}", facts.ready))
                    }),
                );
                Ok(Answer { objects, ..Answer::text(text) })
            }
            _ => Ok(Answer::text(s::UNKNOWN)),
        }
    }
}

fn visible(pods: Vec<Arc<Pod>>, scope: &Scope) -> Vec<Arc<Pod>> {
    pods.into_iter().filter(|p| p.metadata.namespace.as_deref().is_some_and(|n| scope.allows(n))).collect()
}

fn phase_of(p: &Pod) -> &str {
    p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Unknown")
}

fn pod_ref(p: &Pod) -> String {
    format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or_default(),
        p.metadata.name.as_deref().unwrap_or_default()
    )
}

fn problem_line(p: &Pod) -> String {
    let f = pod_facts(p, vec![]);
    let reasons: Vec<String> = f
        .containers
        .iter()
        .filter(|c| !c.ready || c.restarts > 0)
        .map(|c| {
            let last = c.last_termination.as_deref().map(|t| format!(", last {t}")).unwrap_or_default();
            format!("{} {} ({} restarts{last})", c.name, c.state, c.restarts)
        })
        .collect();
    let why = if reasons.is_empty() { f.phase.clone() } else { reasons.join("; ") };
    format!("{}: {why}", pod_ref(p))
}

/// Appends up to `LIST_MAX` lines, says how many more there were, returns the objects listed.
pub(super) fn list(text: &mut String, items: impl Iterator<Item = (String, String)>) -> Vec<String> {
    let items: Vec<(String, String)> = items.collect();
    for (_, line) in items.iter().take(LIST_MAX) {
        let _ = write!(text, "\n- {line}");
    }
    if items.len() > LIST_MAX {
        let _ = write!(text, "\n…and {} more.", items.len() - LIST_MAX);
    }
    items.into_iter().take(LIST_MAX).map(|(o, _)| o).collect()
}
