//! Metrics facts as short lines of numbers, for the analyzer and for people (pure). The text
//! comes from facts that were redacted when gathered; it is still untrusted data.

use std::fmt::Write;

use super::facts::{ContainerMetrics, MetricsFacts, NodeMetrics, Stat, bytes, cores, number, percent};

/// The metrics section of the evidence; empty when there is nothing to say.
pub fn render_metrics(m: &MetricsFacts) -> String {
    let lines = lines(m);
    if lines.is_empty() && m.notes.is_empty() {
        return String::new();
    }
    let mut out = format!("Metrics (Prometheus, {}):\n", window(m.lookback_minutes).trim_start_matches("in "));
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    for note in &m.notes {
        let _ = writeln!(out, "Note: {note}");
    }
    out
}

/// One line per fact (indented lines belong to the line above).
pub fn lines(m: &MetricsFacts) -> Vec<String> {
    let during = window(m.lookback_minutes);
    let full = m.lookback_minutes * 60;
    let mut out = Vec::new();
    for a in &m.alerts {
        let more = if a.total_series > a.series.len() { format!(", {} shown", a.series.len()) } else { String::new() };
        let n = a.total_series;
        out.push(format!("alert {} expression `{}`: {n} series{more}", a.alertname, a.expr));
        for s in &a.series {
            let v = &s.value;
            let now = if s.current {
                format!("now {}", number(v.last))
            } else {
                format!("no value now, last {}", number(v.last))
            };
            out.push(format!(
                "  {}: {now}, min {}, max {} {during}; a value at {} of {} points{}",
                s.labels,
                number(v.min),
                number(v.max),
                v.points,
                a.window_points,
                coverage(v, full)
            ));
        }
    }
    let mut pod = None;
    for c in &m.containers {
        if pod != Some((&c.namespace, &c.pod)) {
            out.push(format!("pod {}/{}:", c.namespace, c.pod));
            pod = Some((&c.namespace, &c.pod));
        }
        out.extend(container_lines(c, &during, full).into_iter().map(|l| format!("  {l}")));
    }
    for n in &m.nodes {
        out.push(node_line(n, &during, full));
    }
    out
}

fn container_lines(c: &ContainerMetrics, during: &str, full: u64) -> Vec<String> {
    let name = &c.container;
    let mut out = Vec::new();
    if let Some(mem) = &c.memory_working_set_bytes {
        let limit = match c.memory_limit_bytes.filter(|l| *l > 0.0) {
            Some(l) => format!(" of {} limit ({})", bytes(l), percent(mem.last / l)),
            None => " (no memory limit)".into(),
        };
        out.push(format!(
            "memory working set {name}: {}{limit}, peak {} {during}{}",
            bytes(mem.last),
            bytes(mem.max),
            coverage(mem, full)
        ));
    }
    if let Some(cpu) = &c.cpu_cores {
        let limit = match c.cpu_limit_cores.filter(|l| *l > 0.0) {
            Some(l) => format!(" of {} limit ({})", cores(l), percent(cpu.last / l)),
            None => String::new(),
        };
        let mut line = format!(
            "CPU {name}: {} cores{limit}, peak {} {during}{}",
            cores(cpu.last),
            cores(cpu.max),
            coverage(cpu, full)
        );
        if let Some(t) = &c.cpu_throttled_ratio {
            let _ = write!(line, "; throttled in {} of CFS periods (peak {})", percent(t.last), percent(t.max));
        }
        out.push(line);
    } else if let Some(t) = &c.cpu_throttled_ratio {
        out.push(format!("CPU {name}: throttled in {} of CFS periods (peak {})", percent(t.last), percent(t.max)));
    }
    match (c.restarts_in_window, c.restarts_total) {
        (Some(inc), total) => {
            let total = total.map(|t| format!(", {} in total", number(t))).unwrap_or_default();
            out.push(format!("restarts {name}: {} {during}{total}", number(inc.round())));
        }
        (None, Some(total)) => out.push(format!("restarts {name}: {} in total", number(total))),
        (None, None) => {}
    }
    out
}

fn node_line(n: &NodeMetrics, during: &str, full: u64) -> String {
    let mut parts = Vec::new();
    if !n.conditions_true.is_empty() {
        parts.push(format!("conditions true now: {}", n.conditions_true.join(", ")));
    }
    if let Some(r) = &n.ready {
        if r.min < 1.0 {
            parts.push(format!("not Ready at some point {during}"));
        } else {
            parts.push(format!("Ready throughout {during}{}", coverage(r, full)));
        }
    }
    if let Some(m) = &n.memory_used_ratio {
        parts.push(format!("memory {} used (peak {})", percent(m.last), percent(m.max)));
    }
    if let Some(d) = &n.root_fs_used_ratio {
        parts.push(format!("root filesystem {} full (peak {})", percent(d.last), percent(d.max)));
    }
    if parts.is_empty() {
        parts.push("no node series found".into());
    }
    format!("node {}: {}", n.name, parts.join("; "))
}

/// "in the last hour", "in the last 90 minutes", "in the last 2 hours".
fn window(minutes: u64) -> String {
    match minutes {
        60 => "in the last hour".into(),
        m if m % 60 == 0 => format!("in the last {} hours", m / 60),
        m => format!("in the last {m} minutes"),
    }
}

/// " (data for 3 min only)" when the values cover clearly less than the window.
fn coverage(s: &Stat, full_seconds: u64) -> String {
    if s.points <= 1 || s.covered_seconds * 10 >= full_seconds * 9 {
        return String::new();
    }
    let c = s.covered_seconds;
    let span = if c < 120 { format!("{c} s") } else { format!("{} min", c / 60) };
    format!(" (data for {span} only)")
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
