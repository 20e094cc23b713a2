//! Answers about the past and the runbooks: "what did we do last time X fired" (the store's history
//! of the alert, then the similar incidents memory recalls), and "how do I fix ..." (runbook chunks,
//! quoted as reference text, never acted on, with the related workloads).

use std::fmt::Write;

use super::answer::{Answer, QaEngine, Scope};
use crate::strings::{memory as m, qa as s};

/// Runbook chunks in an answer.
const CHUNKS: usize = 2;
/// Workload summaries added to a runbook answer.
const WORKLOADS: usize = 2;
/// Characters of one chunk in an answer.
const CHUNK_CHARS: usize = 900;

impl QaEngine {
    pub(super) async fn runbook(&self, question: &str, scope: &Scope) -> anyhow::Result<Answer> {
        let Some(memory) = &self.memory else { return Ok(Answer::text(s::NO_MEMORY)) };
        let found = match memory.lookup(question, CHUNKS).await {
            Ok(f) => f,
            Err(e) => return Ok(Answer::text(s::memory_unavailable(&e.to_string()))),
        };
        if found.is_empty() {
            return Ok(Answer::text(s::NO_RUNBOOK));
        }
        let mut text = s::FROM_RUNBOOKS.to_string();
        let mut objects = Vec::new();
        for f in found {
            let c = f.chunk;
            let body: String = c.text.chars().take(CHUNK_CHARS).collect();
            let _ = write!(text, "\n\n{} — {}\n{}", c.source, c.heading, body);
            objects.push(format!("runbook {}#{}", c.source, c.heading));
        }
        let workloads = memory.workloads(question, WORKLOADS).await.unwrap_or_default();
        let visible: Vec<String> = workloads.into_iter().filter(|(ns, _)| scope.allows(ns)).map(|(_, t)| t).collect();
        if !visible.is_empty() {
            let _ = write!(text, "\n\n{}", s::RELATED_WORKLOADS);
            for w in visible {
                let _ = write!(text, "\n- {w}");
            }
        }
        Ok(Answer { objects, ..Answer::text(text) })
    }

    /// The last incidents of an alert from the store, and the similar ones memory recalls.
    pub(super) async fn history(&self, alertname: &str, target: Option<&str>, scope: &Scope) -> anyhow::Result<Answer> {
        let past = self.store.incidents_named(alertname, 20).await?;
        let mut lines = Vec::new();
        let mut ids = Vec::new();
        for id in past {
            let Some(d) = self.store.incident_detail(id).await? else { continue };
            if d.incident.namespace.as_deref().is_some_and(|n| !scope.allows(n)) {
                continue;
            }
            if let Some(t) = target
                && !d.alerts.iter().any(|a| a.labels.to_string().contains(t))
            {
                continue;
            }
            let done = match d.runs.first() {
                Some(r) => format!(
                    "{} {} ({})",
                    r.kind,
                    r.target,
                    r.verified.as_deref().unwrap_or(r.outcome.as_deref().unwrap_or("unfinished"))
                ),
                None => "no action".to_string(),
            };
            lines.push(format!("#{id} {}: {done}", d.incident.created_at.strftime("%Y-%m-%d")));
            ids.push(id);
            if lines.len() == 5 {
                break;
            }
        }
        let (remembered, similar) = self.remembered(alertname, target, scope).await;
        if lines.is_empty() && similar.is_empty() {
            return Ok(Answer::text(s::no_history(alertname)));
        }
        let mut text =
            if lines.is_empty() { s::no_history(alertname) } else { format!("The last times {alertname} fired:") };
        for l in &lines {
            let _ = write!(text, "\n- {l}");
        }
        for (i, l) in remembered.iter().enumerate() {
            let _ = if i == 0 { write!(text, "\n{l}") } else { write!(text, "\n- {l}") };
        }
        let extra: Vec<i64> = similar.into_iter().filter(|id| !ids.contains(id)).collect();
        ids.extend(extra);
        Ok(Answer { incidents: ids, ..Answer::text(text) })
    }

    /// Past incidents similar to an alert (and its target), as extra lines for a history answer.
    pub(super) async fn remembered(
        &self,
        alertname: &str,
        target: Option<&str>,
        scope: &Scope,
    ) -> (Vec<String>, Vec<i64>) {
        let Some(memory) = &self.memory else { return (Vec::new(), Vec::new()) };
        let similar = match memory.recall_named(alertname, target).await {
            Ok(s) => s,
            Err(e) => return (vec![s::memory_unavailable(&e.to_string())], Vec::new()),
        };
        let mut lines = vec![s::FROM_MEMORY.to_string()];
        let mut ids = Vec::new();
        for (namespace, p) in similar {
            if namespace.as_deref().is_some_and(|n| !scope.allows(n)) {
                continue;
            }
            let action = p.action.as_ref().map(crate::notify::action_text);
            lines.push(m::line(p.incident_id, p.score, &p.summary, action.as_deref(), p.verified));
            ids.push(p.incident_id);
        }
        if ids.is_empty() {
            return (Vec::new(), Vec::new());
        }
        (lines, ids)
    }
}
