//! The evidence as text for the analyzer and for people, within a byte budget.
//!
//! Facts come first (pods, workloads, nodes, events), then logs, previous instances before current
//! ones. When the budget is short, logs lose their oldest lines first (the end of a log is where a
//! crash is); facts are cut last. Every cut says so with a `[… N bytes cut …]` marker. The text is
//! untrusted data: the analyzer's prompt frames it as such.

use std::fmt::Write;

use super::{Evidence, SubjectKind};

/// Renders `ev` in at most `budget` bytes (plus at most one marker line).
pub fn render(ev: &Evidence, budget: usize) -> String {
    let facts = facts_text(ev);
    let mut out = String::new();
    if facts.len() > budget {
        out.push_str(cut_tail(&facts, budget));
        let _ = writeln!(out, "\n[… {} bytes of facts cut to fit the evidence budget …]", facts.len() - out.len());
        return out;
    }
    out.push_str(&facts);
    let mut logs: Vec<_> = ev.logs.iter().collect();
    logs.sort_by_key(|l| !l.previous);
    let mut left = budget - out.len();
    for (i, log) in logs.iter().enumerate() {
        let which = if log.previous { "Previous log" } else { "Log" };
        let header = format!("{which} of {}/{} ({}):\n", log.pod, log.container, log.namespace);
        // Share what is left between the logs still to come.
        let share = left / (logs.len() - i);
        if share <= header.len() + 40 {
            let _ = writeln!(out, "[… {which} of {}/{} not shown: evidence budget used up …]", log.pod, log.container);
            continue;
        }
        let room = share - header.len();
        let body = log.text.trim_end();
        let shown = if body.len() > room {
            let kept = cut_head(body, room.saturating_sub(60));
            format!("[… {} bytes cut …]\n{kept}\n", body.len() - kept.len())
        } else if log.truncated {
            format!("[… earlier lines not read …]\n{body}\n")
        } else {
            format!("{body}\n")
        };
        out.push_str(&header);
        out.push_str(&shown);
        left = left.saturating_sub(header.len() + shown.len());
    }
    out
}

fn facts_text(ev: &Evidence) -> String {
    let mut s = String::new();
    for p in &ev.pods {
        let owners = if p.owners.is_empty() { String::new() } else { format!(" ({})", p.owners.join(" <- ")) };
        let node = p.node.as_deref().map(|n| format!(" on node {n}")).unwrap_or_default();
        let health = if p.ready { "healthy" } else { "unhealthy" };
        let _ = writeln!(s, "Pod {}/{}{owners}{node}: {}, {health}", p.namespace, p.name, p.phase);
        for c in &p.containers {
            let _ = write!(s, "  container {} ({}): {}, {} restarts", c.name, c.image, c.state, c.restarts);
            if let Some(t) = &c.last_termination {
                let _ = write!(s, ", last terminated {t}");
            }
            if let Some(r) = &c.resources {
                let _ = write!(s, "; {r}");
            }
            s.push('\n');
        }
        for c in &p.conditions {
            let _ = writeln!(s, "  condition {c}");
        }
    }
    for w in &ev.workloads {
        let kind = w.kind.as_str();
        match w.kind {
            SubjectKind::Job => {
                let _ = writeln!(
                    s,
                    "Job {}/{}: {} of {} succeeded, {} failed, {} active",
                    w.namespace, w.name, w.ready, w.desired, w.updated, w.available
                );
            }
            _ => {
                let revision = w.revision.as_deref().map(|r| format!(", revision {r}")).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "{kind} {}/{}: {} desired, {} ready, {} up to date, {} available{revision}",
                    w.namespace, w.name, w.desired, w.ready, w.updated, w.available
                );
            }
        }
        for (c, image) in &w.images {
            match w.resources.iter().find(|(name, _)| name == c) {
                Some((_, r)) => drop(writeln!(s, "  container {c}: {image}; {r}")),
                None => drop(writeln!(s, "  container {c}: {image}")),
            }
        }
        for c in &w.conditions {
            let _ = writeln!(s, "  condition {c}");
        }
        if let Some(r) = &w.rollout {
            let at = r.at.as_deref().map(|a| format!(" at {a}")).unwrap_or_default();
            let _ = writeln!(
                s,
                "  latest rollout: revision {} -> {}{at}: {}",
                r.from_revision,
                r.to_revision,
                r.changes.join("; ")
            );
        }
    }
    for n in &ev.nodes {
        let cordoned = if n.unschedulable { ", cordoned" } else { "" };
        let _ = writeln!(s, "Node {}: Ready={}{cordoned}", n.name, n.ready);
        for c in &n.conditions {
            let _ = writeln!(s, "  condition {c}");
        }
    }
    for h in &ev.autoscalers {
        let _ = writeln!(
            s,
            "HorizontalPodAutoscaler {}/{} for {}: {} current, {} desired, bounds {}..{}",
            h.namespace, h.name, h.target, h.current_replicas, h.desired_replicas, h.min_replicas, h.max_replicas
        );
        for c in &h.conditions {
            let _ = writeln!(s, "  condition {c}");
        }
    }
    for c in &ev.claims {
        let class = c.storage_class.as_deref().map(|k| format!(", storage class {k}")).unwrap_or_default();
        let size = c.requested.as_deref().map(|r| format!(", {r} requested")).unwrap_or_default();
        let used = if c.used_by.is_empty() { String::new() } else { format!(", used by {}", c.used_by.join(", ")) };
        let _ = writeln!(s, "PersistentVolumeClaim {}/{}: {}{class}{size}{used}", c.namespace, c.name, c.phase);
    }
    for v in &ev.services {
        let _ = writeln!(
            s,
            "Service {}/{} (selector {}): {} of {} pods ready",
            v.namespace,
            v.name,
            if v.selector.is_empty() { "none" } else { &v.selector },
            v.ready_pods,
            v.pods
        );
    }
    if !ev.events.is_empty() {
        s.push_str("Warning events (newest first):\n");
        for e in &ev.events {
            let _ = writeln!(s, "  {} {} x{}: {}", e.object, e.reason, e.count, e.message);
        }
    }
    if let Some(m) = &ev.metrics {
        let text = crate::cluster::prometheus::render_metrics(m);
        if !text.trim().is_empty() {
            let _ = writeln!(s, "Metrics (last {} min):", m.lookback_minutes);
            s.push_str(&text);
            if !text.ends_with('\n') {
                s.push('\n');
            }
        }
    }
    for note in &ev.notes {
        let _ = writeln!(s, "Note: {note}");
    }
    s
}

/// The first `max` bytes of `s`, at a character boundary.
fn cut_tail(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The last `max` bytes of `s`, starting at a line boundary when one is near.
fn cut_head(s: &str, max: usize) -> &str {
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    let rest = &s[start..];
    match rest.find('\n') {
        Some(i) if i < 200 => &rest[i + 1..],
        _ => rest,
    }
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
