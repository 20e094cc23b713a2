//! Building messages: an incident's message from its rows, roll-up summaries, dead man's switch
//! notices; and the plain-text and HTML renderings of any message.
//!
//! Alert and cluster text is untrusted (RELIABILITY A13, E13): control, zero-width and bidi
//! characters are removed, every part is clipped, links other than http(s) are dropped, and the HTML
//! rendering escapes every part. Chat adapters render the parts with their own escaping.

use std::fmt::Write;

use serde_json::Value;

use super::message::{Field, Link, ProposalView, Rendered};
use crate::domain::alert::Labels;
use crate::strings::notify as s;

/// Longest title (characters).
pub const MAX_TITLE: usize = 200;
/// Longest paragraph, fact, field value or update line.
pub const MAX_LINE: usize = 1500;
const MAX_FACTS: usize = 12;
const MAX_DIFF: usize = 12;

/// What the incident message is built from.
#[derive(Debug, Clone, Default)]
pub struct IncidentView {
    pub id: i64,
    pub cluster: String,
    pub alertname: String,
    pub namespace: Option<String>,
    pub severity: Option<String>,
    pub summary: Option<String>,
    pub state: String,
    pub firing_alerts: i64,
    pub truncated_alerts: i64,
    /// The group's common labels.
    pub labels: Labels,
    pub alertmanager_url: String,
    pub generator_url: Option<String>,
    /// `[server] public_url`, for the link to the web console.
    pub console_url: Option<String>,
    /// The newest analysis (JSON `domain::analysis::Analysis`).
    pub analysis: Option<Value>,
    pub proposals: Vec<ProposalView>,
    /// Similar past incidents memory recalled, and why it could not when it could not.
    pub similar: Vec<crate::domain::analysis::SimilarIncident>,
    pub memory_note: Option<String>,
}

/// Removes control (except newlines), zero-width and bidi characters and clips to `max` characters.
pub fn clean(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    for c in text.chars() {
        let invisible =
            matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}');
        if invisible || (c.is_control() && c != '\n') {
            continue;
        }
        if n == max {
            out.push('…');
            break;
        }
        out.push(c);
        n += 1;
    }
    out
}

/// One line (no newlines), for titles and field values.
fn one_line(text: &str, max: usize) -> String {
    clean(&text.replace(['\n', '\r'], " "), max)
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link, if its URL is plain http(s).
pub fn link(label: &str, url: &str) -> Option<Link> {
    let parsed = url::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| Link { label: one_line(label, 80), url: clip(url, 2000) })
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The subject of an incident: `alertname namespace/object`.
fn subject(v: &IncidentView) -> String {
    let object = ["deployment", "statefulset", "daemonset", "service", "job_name", "pod", "node"]
        .iter()
        .find_map(|k| v.labels.get(*k))
        .map(String::as_str);
    match (v.namespace.as_deref(), object) {
        (Some(ns), Some(o)) => format!("{} {ns}/{o}", v.alertname),
        (Some(ns), None) => format!("{} {ns}", v.alertname),
        (None, Some(o)) => format!("{} {o}", v.alertname),
        (None, None) => v.alertname.clone(),
    }
}

fn tag(status: &str) -> String {
    format!("[{}]", status.to_ascii_uppercase())
}

/// The title with its `[STATUS]` tag replaced.
pub fn retitle(title: &str, status: &str) -> String {
    let rest = match title.strip_prefix('[').and_then(|t| t.split_once("] ")) {
        Some((_, rest)) => rest,
        None => title,
    };
    format!("{} {rest}", tag(status))
}

/// The incident's message.
pub fn incident(v: &IncidentView) -> Rendered {
    let status = if v.state == "resolved" { "resolved" } else { "firing" };
    let mut lines = Vec::new();
    if let Some(summary) = &v.summary {
        lines.push(clean(summary, MAX_LINE));
    }
    let mut facts = Vec::new();
    if let Some(a) = &v.analysis {
        if let Some(d) = a["diagnosis"].as_str().filter(|d| !d.is_empty()) {
            lines.push(clean(&format!("{}{d}", s::DIAGNOSIS), MAX_LINE));
        }
        for f in a["facts"].as_array().into_iter().flatten().filter_map(Value::as_str).take(MAX_FACTS) {
            facts.push(clean(f, MAX_LINE));
        }
    }
    if v.truncated_alerts > 0 {
        lines.push(s::partial(v.truncated_alerts));
    }
    lines.extend(super::similar::lines(&v.similar, v.memory_note.as_deref()));
    let mut fields = vec![Field { name: s::CLUSTER.into(), value: one_line(&v.cluster, 100) }];
    for (name, value) in [("namespace", &v.namespace), ("severity", &v.severity)] {
        if let Some(value) = value {
            fields.push(Field { name: name.into(), value: one_line(value, 200) });
        }
    }
    if let Some(team) = v.labels.get("team") {
        fields.push(Field { name: "team".into(), value: one_line(team, 200) });
    }
    fields.push(Field { name: s::FIRING.into(), value: v.firing_alerts.to_string() });
    let mut links = Vec::new();
    if let Some(base) = &v.console_url {
        links.extend(link(s::CONSOLE, &format!("{}/incidents/{}", base.trim_end_matches('/'), v.id)));
    }
    links.extend(link(s::ALERTMANAGER, &v.alertmanager_url));
    if let Some(g) = &v.generator_url {
        links.extend(link(s::SOURCE, g));
    }
    let mut msg = Rendered {
        title: one_line(&format!("{} {}", tag(status), subject(v)), MAX_TITLE),
        status: status.into(),
        severity: v.severity.as_deref().map(|x| one_line(x, 40)),
        state: Some(v.state.clone()),
        incident_id: Some(v.id),
        lines,
        facts,
        fields,
        links,
        proposals: v.proposals.iter().map(clean_proposal).collect(),
        ..Rendered::default()
    };
    finish(&mut msg);
    msg
}

fn clean_proposal(p: &ProposalView) -> ProposalView {
    ProposalView {
        id: one_line(&p.id, 40),
        action: one_line(&p.action, 300),
        reason: clean(&p.reason, MAX_LINE),
        risk: p.risk.clone(),
        approval: p.approval.clone(),
        state: p.state.clone(),
        refused: p.refused.as_deref().map(|r| clean(r, MAX_LINE)),
        diff: p.diff.iter().take(MAX_DIFF).map(|d| one_line(d, 300)).collect(),
    }
}

/// A proposal row's dry-run changes as lines.
pub fn diff_lines(dry_run: Option<&Value>) -> Vec<String> {
    let changes = dry_run.and_then(|d| d["changes"].as_array()).cloned().unwrap_or_default();
    changes
        .iter()
        .map(|c| {
            let side = |k: &str| c[k].as_str().map_or_else(|| "(none)".to_string(), str::to_string);
            format!("{}: {} -> {}", c["path"].as_str().unwrap_or("?"), side("before"), side("after"))
        })
        .collect()
}

/// Incidents listed by name in a roll-up summary; the rest are counted.
const MAX_ITEMS: usize = 40;

/// A roll-up summary for a burst of new incidents in one channel.
pub fn summary(titles: &[String]) -> Rendered {
    let mut msg = Rendered { status: "firing".into(), lines: vec![s::ROLLUP_BODY.into()], ..Rendered::default() };
    extend_summary(&mut msg, titles);
    msg
}

/// Adds incidents to a summary: the count in the title grows, the first ones are listed by name.
pub fn extend_summary(msg: &mut Rendered, titles: &[String]) {
    let before =
        msg.fields.iter().find(|f| f.name == s::INCIDENTS).and_then(|f| f.value.parse::<usize>().ok()).unwrap_or(0);
    let total = before + titles.len();
    for t in titles {
        if msg.items.len() < MAX_ITEMS {
            msg.items.push(one_line(t, MAX_TITLE));
        }
    }
    msg.title = s::rollup_title(total);
    msg.fields = vec![Field { name: s::INCIDENTS.into(), value: total.to_string() }];
    msg.note = (total > msg.items.len()).then(|| s::more_in_thread(total - msg.items.len()));
    finish(msg);
}

/// A dead man's switch notice: the alert pipeline is silent, or back.
pub fn deadman(cluster: &str, silent: bool, minutes: i64) -> Rendered {
    let (title, body) = if silent {
        (s::deadman_title(cluster), s::deadman_body(minutes))
    } else {
        (s::deadman_recovered(cluster), s::DEADMAN_BACK.into())
    };
    let mut msg = Rendered {
        title: one_line(&title, MAX_TITLE),
        status: if silent { "firing" } else { "resolved" }.into(),
        severity: silent.then(|| "critical".into()),
        lines: vec![body],
        ..Rendered::default()
    };
    finish(&mut msg);
    msg
}

/// Renders `text` and `html` from the parts.
pub fn finish(m: &mut Rendered) {
    let mut t = String::new();
    let mut h = String::new();
    let _ = writeln!(t, "{}", m.title);
    let _ = write!(h, "<h2>{}</h2>", escape_html(&m.title));
    if let Some(note) = &m.note {
        let _ = writeln!(t, "\n{note}");
        let _ = write!(h, "<p><em>{}</em></p>", escape_html(note));
    }
    for line in &m.lines {
        let _ = writeln!(t, "\n{line}");
        let _ = write!(h, "<p>{}</p>", escape_html(line).replace('\n', "<br>"));
    }
    if !m.facts.is_empty() {
        let _ = writeln!(t, "\n{}", s::FACTS);
        let _ = write!(h, "<p><strong>{}</strong></p><ul>", escape_html(s::FACTS));
        for f in &m.facts {
            let _ = writeln!(t, "  - {f}");
            let _ = write!(h, "<li>{}</li>", escape_html(f));
        }
        h.push_str("</ul>");
    }
    if !m.items.is_empty() {
        h.push_str("<ul>");
        for i in &m.items {
            let _ = writeln!(t, "  - {i}");
            let _ = write!(h, "<li>{}</li>", escape_html(i));
        }
        h.push_str("</ul>");
    }
    if !m.fields.is_empty() {
        t.push('\n');
        h.push_str("<table>");
        for f in &m.fields {
            let _ = writeln!(t, "{}: {}", f.name, f.value);
            let _ = write!(
                h,
                "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
                escape_html(&f.name),
                escape_html(&f.value)
            );
        }
        h.push_str("</table>");
    }
    if !m.proposals.is_empty() {
        let _ = writeln!(t, "\n{}", s::PROPOSALS);
        let _ = write!(h, "<p><strong>{}</strong></p><ul>", escape_html(s::PROPOSALS));
        for p in &m.proposals {
            let line = s::proposal_line(p);
            let _ = writeln!(t, "  - {line}");
            let _ = write!(h, "<li>{}", escape_html(&line));
            for why in [&p.reason].into_iter().chain(p.refused.as_ref()) {
                let _ = writeln!(t, "      {why}");
                let _ = write!(h, "<br><small>{}</small>", escape_html(why));
            }
            if !p.diff.is_empty() {
                h.push_str("<pre>");
                for d in &p.diff {
                    let _ = writeln!(t, "      {d}");
                    let _ = writeln!(h, "{}", escape_html(d));
                }
                h.push_str("</pre>");
            }
            h.push_str("</li>");
        }
        h.push_str("</ul>");
        if m.proposals.iter().any(ProposalView::is_open) {
            let _ = writeln!(t, "{}", s::HOW_TO_DECIDE);
            let _ = write!(h, "<p>{}</p>", escape_html(s::HOW_TO_DECIDE));
        }
    }
    if !m.updates.is_empty() {
        let _ = writeln!(t, "\n{}", s::UPDATES);
        let _ = write!(h, "<p><strong>{}</strong></p><ul>", escape_html(s::UPDATES));
        for u in &m.updates {
            let _ = writeln!(t, "  - {u}");
            let _ = write!(h, "<li>{}</li>", escape_html(u));
        }
        h.push_str("</ul>");
    }
    if !m.links.is_empty() {
        t.push('\n');
        let mut parts = Vec::new();
        for l in &m.links {
            let _ = writeln!(t, "{}: {}", l.label, l.url);
            parts.push(format!("<a href=\"{}\">{}</a>", escape_html(&l.url), escape_html(&l.label)));
        }
        let _ = write!(h, "<p>{}</p>", parts.join(" · "));
    }
    m.text = t;
    m.html = h;
}

/// Marks a message delivered late with the time the news happened (RELIABILITY B05).
pub fn note_late(m: &mut Rendered, original: jiff::Timestamp) {
    let note = s::late(&original.strftime("%Y-%m-%d %H:%M:%S UTC").to_string());
    m.note = Some(match m.note.take() {
        Some(existing) if !existing.contains(&note) => format!("{note} {existing}"),
        Some(existing) => existing,
        None => note,
    });
    finish(m);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_cleaned_clipped_and_escaped() {
        let mut labels = Labels::new();
        labels.insert("pod".into(), "checkout-1".into());
        let v = IncidentView {
            id: 7,
            cluster: "prod".into(),
            alertname: "KubePodCrashLooping".into(),
            namespace: Some("shop".into()),
            summary: Some(format!("<!channel> <b>x</b>\u{202E}evil\u{200B} {}", "a".repeat(100_000))),
            state: "notified".into(),
            labels,
            alertmanager_url: "javascript:alert(1)".into(),
            generator_url: Some("http://prom:9090/graph?g0.expr=x".into()),
            console_url: Some("https://mimi.example.com/".into()),
            ..IncidentView::default()
        };
        let m = incident(&v);
        assert_eq!(m.title, "[FIRING] KubePodCrashLooping shop/checkout-1");
        assert!(m.html.contains("&lt;!channel&gt; &lt;b&gt;x&lt;/b&gt;evil"), "{}", &m.html[..300]);
        assert!(!m.html.contains("<b>x") && !m.text.contains('\u{202E}') && !m.text.contains('\u{200B}'));
        assert!(m.text.len() < 10_000, "clipped");
        assert!(!m.html.contains("javascript:"), "only http(s) links");
        assert!(m.text.contains("https://mimi.example.com/incidents/7"));
    }

    #[test]
    fn late_deliveries_carry_the_original_time() {
        let mut m = summary(&["a".into(), "b".into()]);
        note_late(&mut m, jiff::Timestamp::from_second(1_800_000_000).unwrap());
        assert!(m.text.contains("2027-01-15 08:00:00 UTC"), "{}", m.text);
        assert_eq!(retitle("[FIRING] X a/b", "resolved"), "[RESOLVED] X a/b");
    }
}
