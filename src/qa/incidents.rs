//! Answers about incidents: the recent or open ones, and one incident's story.

use std::fmt::Write;

use super::answer::{Answer, QaEngine, Scope, list};
use crate::store::IncidentFilter;
use crate::strings::qa as s;

impl QaEngine {
    pub(super) async fn incidents(&self, open_only: bool, scope: &Scope) -> anyhow::Result<Answer> {
        let page = self.store.list_incidents(&IncidentFilter { limit: 200, ..Default::default() }).await?;
        let shown: Vec<_> = page
            .incidents
            .into_iter()
            .filter(|i| !open_only || i.state != "resolved")
            .filter(|i| i.namespace.as_deref().map_or(scope.allows(""), |n| scope.allows(n)) || scope == &Scope::all())
            .collect();
        let what = if open_only { "open incidents" } else { "recent incidents" };
        if shown.is_empty() {
            return Ok(Answer::text(format!("No {what}.")));
        }
        let mut text = format!("{} {what}:", shown.len());
        let _ = list(
            &mut text,
            shown.iter().map(|i| {
                let ns = i.namespace.as_deref().map(|n| format!(" in {n}")).unwrap_or_default();
                (
                    i.id.to_string(),
                    format!(
                        "#{} {}{ns}: {} (since {})",
                        i.id,
                        i.alertname,
                        i.state,
                        i.created_at.strftime("%Y-%m-%d %H:%M UTC")
                    ),
                )
            }),
        );
        Ok(Answer { incidents: shown.iter().map(|i| i.id).collect(), ..Answer::text(text) })
    }

    pub(super) async fn incident(&self, id: i64, scope: &Scope) -> anyhow::Result<Answer> {
        let Some(d) = self.store.incident_detail(id).await? else { return Ok(Answer::text(s::no_incident(id))) };
        if let Some(ns) = &d.incident.namespace
            && !scope.allows(ns)
        {
            return Ok(Answer::text(s::no_incident(id)));
        }
        let i = &d.incident;
        let ns = i.namespace.as_deref().map(|n| format!(" in {n}")).unwrap_or_default();
        let mut text = format!(
            "Incident #{id}: {}{ns} (cluster {}), opened {}, now {}.",
            i.alertname,
            i.cluster,
            i.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            i.state
        );
        if let Some(diagnosis) = d.analysis.as_ref().and_then(|a| a["diagnosis"].as_str()) {
            let _ = write!(text, "\nDiagnosis: {diagnosis}");
        }
        for p in &d.proposals {
            let target = format!(
                "{} {}",
                p.action.kind,
                p.action.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default() + p.action.name.as_str()
            );
            let _ = write!(text, "\nProposed {target}: {}", p.state);
        }
        for r in &d.runs {
            let _ = write!(
                text,
                "\nRan {} on {}, approved by {}: {}{}",
                r.kind,
                r.target,
                r.approvers,
                r.outcome.as_deref().unwrap_or("unfinished"),
                r.verified.as_deref().map(|v| format!(", {v}")).unwrap_or_default()
            );
        }
        Ok(Answer { incidents: vec![id], ..Answer::text(text) })
    }
}
