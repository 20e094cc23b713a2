//! The console's pages as HTML strings: pure functions of the data (tested without a server).

use std::fmt::Write as _;

use serde_json::Value;

use super::html::{Viewer, csrf_field, esc, notice, page};
use crate::qa::Answer;
use crate::store::{IncidentDetail, IncidentPage, IncidentRow, ProposalRow};
use crate::strings::console as s;

pub fn login(error: Option<&str>, csrf: &str, possible: bool) -> String {
    let mut m = format!("<h1>{}</h1>", s::SIGN_IN);
    if !possible {
        m.push_str(&notice("error", s::NO_SIGN_IN));
    }
    if let Some(e) = error {
        m.push_str(&notice("error", e));
    }
    let _ = write!(
        m,
        "<section><form method=\"post\" action=\"/login\" id=\"login\">{}\
         <p><label>{}<br><input type=\"text\" name=\"user\" id=\"user\" autocomplete=\"username\" required></label></p>\
         <p><label>{}<br><input type=\"password\" name=\"password\" id=\"password\" autocomplete=\"current-password\" required></label></p>\
         <p><button type=\"submit\" id=\"sign-in\">{}</button></p></form></section>",
        csrf_field(csrf),
        s::USER,
        s::PASSWORD,
        s::SIGN_IN
    );
    page(s::SIGN_IN, None, false, &m)
}

pub fn incidents(viewer: &Viewer<'_>, list: &IncidentPage, open_only: bool) -> String {
    let mut m = format!("<h1>{}</h1>", s::INCIDENTS);
    let _ = write!(
        m,
        "<p class=\"muted\">{} · <a href=\"/?open=1\">{}</a> · <a href=\"/\">{}</a></p>",
        s::LIVE,
        s::OPEN_ONLY,
        s::ALL
    );
    let rows: Vec<&IncidentRow> =
        list.incidents.iter().filter(|i| !open_only || !matches!(i.state.as_str(), "resolved" | "verified")).collect();
    if rows.is_empty() {
        let _ = write!(m, "<p id=\"empty\">{}</p>", s::NO_INCIDENTS);
    } else {
        m.push_str("<table id=\"incidents\"><thead><tr><th>#</th><th>state</th><th>severity</th><th>alert</th><th>namespace</th><th>summary</th><th>updated</th></tr></thead><tbody>");
        for i in rows {
            let _ = write!(
                m,
                "<tr data-incident=\"{id}\"><td><a href=\"/incident/{id}\">{id}</a></td><td>{}</td><td>{}</td>\
                 <td><a href=\"/incident/{id}\">{}</a></td><td>{}</td><td>{}</td><td class=\"muted\">{}</td></tr>",
                state_badge(&i.state),
                esc(i.severity.as_deref().unwrap_or("")),
                esc(&i.alertname),
                esc(i.namespace.as_deref().unwrap_or("")),
                esc(i.summary.as_deref().unwrap_or("")),
                esc(&short_time(&i.updated_at.to_string())),
                id = i.id
            );
        }
        m.push_str("</tbody></table>");
    }
    page(s::INCIDENTS, Some(viewer), true, &m)
}

pub fn not_found(viewer: &Viewer<'_>) -> String {
    page(s::NOT_FOUND, Some(viewer), false, &notice("error", s::NOT_FOUND))
}

/// One incident. `message` is a notice (`ok`/`error`, text) shown on top.
pub fn incident(viewer: &Viewer<'_>, d: &IncidentDetail, message: Option<(&str, &str)>) -> String {
    let i = &d.incident;
    let mut m = String::new();
    let _ = write!(
        m,
        "<h1>#{} {} <span class=\"muted\">{}</span></h1><p>{} {} · {} · {}</p>",
        i.id,
        esc(&i.alertname),
        esc(i.namespace.as_deref().unwrap_or("")),
        state_badge(&i.state),
        esc(i.severity.as_deref().unwrap_or("")),
        esc(&i.cluster),
        esc(i.summary.as_deref().unwrap_or(""))
    );
    if let Some((kind, text)) = message {
        m.push_str(&notice(kind, text));
    }
    analysis(&mut m, d.analysis.as_ref());
    proposals(&mut m, viewer, i.id, &d.proposals);
    runs(&mut m, d);
    evidence(&mut m, d);
    alerts(&mut m, d);
    timeline(&mut m, d);
    page(&format!("#{} {}", i.id, i.alertname), Some(viewer), true, &m)
}

fn analysis(m: &mut String, a: Option<&Value>) {
    let _ = write!(m, "<section id=\"diagnosis\"><h2>{}</h2>", s::DIAGNOSIS);
    match a {
        None => {
            let _ = write!(m, "<p class=\"muted\">{}</p>", s::NO_ANALYSIS);
        }
        Some(a) => {
            let _ = write!(
                m,
                "<p>{}</p><p class=\"muted\">{} · confidence {}</p>",
                esc(a["diagnosis"].as_str().unwrap_or("")),
                esc(a["analyzer"].as_str().unwrap_or("")),
                a["confidence"].as_f64().map(|c| format!("{c:.2}")).unwrap_or_default()
            );
            if let Some(facts) = a["facts"].as_array().filter(|f| !f.is_empty()) {
                let _ = write!(m, "<h3>{}</h3><ul>", s::FACTS);
                for f in facts {
                    let _ = write!(m, "<li>{}</li>", esc(f.as_str().unwrap_or("")));
                }
                m.push_str("</ul>");
            }
        }
    }
    m.push_str("</section>");
}

fn proposals(m: &mut String, viewer: &Viewer<'_>, incident: i64, list: &[ProposalRow]) {
    let _ = write!(m, "<section id=\"proposals\"><h2>{}</h2>", s::PROPOSALS);
    if list.is_empty() {
        let _ = write!(m, "<p class=\"muted\">{}</p>", s::NO_PROPOSALS);
    }
    for p in list {
        let risk = p.risk.as_deref().unwrap_or("");
        let _ = write!(
            m,
            "<div class=\"proposal\" data-proposal=\"{}\"><strong>{}</strong> {} <span class=\"risk-{}\">{} risk</span>\
             <p>{}</p>",
            esc(&p.public_id),
            esc(&describe_action(&serde_json::to_value(&p.action).unwrap_or_default())),
            state_badge(&p.state),
            esc(risk),
            esc(risk),
            esc(&p.reason)
        );
        if let Some(r) = &p.refused {
            let _ = write!(m, "<p class=\"notice error\">{}</p>", esc(r));
        }
        if let Some(dry) = &p.dry_run {
            let _ =
                write!(m, "<details><summary>{}</summary><pre>{}</pre></details>", s::DRY_RUN, esc(&dry_run_text(dry)));
        }
        for d in &p.decisions {
            let v = serde_json::to_value(d).unwrap_or_default();
            let _ = write!(m, "<p class=\"muted\">{}</p>", esc(&compact(&v)));
        }
        if p.state == "pending" {
            let action = format!("/incident/{incident}/proposals/{}", esc(&p.public_id));
            let _ = write!(
                m,
                "<form method=\"post\" action=\"{action}/approve\" data-confirm=\"{}\">{}\
                 <button type=\"submit\" class=\"approve\">{}</button></form> \
                 <form method=\"post\" action=\"{action}/reject\">{}<button type=\"submit\" class=\"reject\">{}</button></form>",
                esc(s::CONFIRM_APPROVE),
                csrf_field(viewer.csrf),
                s::APPROVE,
                csrf_field(viewer.csrf),
                s::REJECT
            );
        }
        m.push_str("</div>");
    }
    m.push_str("</section>");
}

fn runs(m: &mut String, d: &IncidentDetail) {
    if d.runs.is_empty() {
        return;
    }
    let _ = write!(m, "<section id=\"runs\"><h2>{}</h2><ul>", s::RUNS);
    for r in &d.runs {
        let _ = write!(
            m,
            "<li>{} {} — {} · verified: <span class=\"verified-state\">{}</span></li>",
            esc(&r.kind),
            esc(&r.target),
            esc(r.outcome.as_deref().unwrap_or("running")),
            esc(r.verified.as_deref().unwrap_or("pending"))
        );
    }
    m.push_str("</ul></section>");
}

fn evidence(m: &mut String, d: &IncidentDetail) {
    let _ = write!(m, "<section id=\"evidence\"><h2>{}</h2>", s::EVIDENCE);
    match &d.evidence {
        Some(e) => {
            let _ = write!(m, "<pre>{}</pre>", esc(&e.rendered));
        }
        None => {
            let _ = write!(m, "<p class=\"muted\">{}</p>", s::NO_EVIDENCE);
        }
    }
    m.push_str("</section>");
}

fn alerts(m: &mut String, d: &IncidentDetail) {
    let _ = write!(m, "<section id=\"alerts\"><h2>{}</h2><table>", s::ALERTS);
    for a in &d.alerts {
        let _ = write!(
            m,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.status),
            esc(&compact(&a.labels)),
            esc(a.annotations["description"].as_str().or(a.annotations["summary"].as_str()).unwrap_or(""))
        );
    }
    m.push_str("</table></section>");
}

fn timeline(m: &mut String, d: &IncidentDetail) {
    let _ = write!(m, "<section id=\"timeline\"><h2>{}</h2><table>", s::TIMELINE);
    for e in &d.timeline {
        let _ = write!(
            m,
            "<tr><td class=\"muted\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&short_time(&e.at.to_string())),
            esc(&e.kind),
            esc(&e.actor),
            esc(&clip(&compact(&e.detail), 300))
        );
    }
    m.push_str("</table></section>");
}

pub fn ask(viewer: &Viewer<'_>, question: &str, answer: Option<&Answer>) -> String {
    let mut m = format!("<h1>{}</h1>", s::ASK);
    let _ = write!(
        m,
        "<section><form method=\"post\" action=\"/question\" id=\"ask\">{}<input type=\"text\" name=\"question\" id=\"question\" \
         value=\"{}\" placeholder=\"{}\" maxlength=\"2000\" required> <button type=\"submit\">{}</button></form></section>",
        csrf_field(viewer.csrf),
        esc(question),
        esc(s::ASK_PLACEHOLDER),
        s::ASK
    );
    if let Some(a) = answer {
        let _ = write!(m, "<section id=\"answer\"><h2>{}</h2><pre>{}</pre>", s::ANSWER, esc(&a.answer));
        for id in &a.incidents {
            let _ = write!(m, "<a href=\"/incident/{id}\">#{id}</a> ");
        }
        m.push_str("</section>");
    }
    page(s::ASK, Some(viewer), false, &m)
}

pub fn settings(viewer: &Viewer<'_>, redacted: &str) -> String {
    let m = format!(
        "<h1>{}</h1><p class=\"muted\">{}</p><pre id=\"config\">{}</pre>",
        s::SETTINGS,
        s::SETTINGS_NOTE,
        esc(redacted)
    );
    page(s::SETTINGS, Some(viewer), false, &m)
}

fn state_badge(state: &str) -> String {
    format!("<span class=\"state {0}\">{0}</span>", esc(state))
}

/// `restart_deployment shop/checkout replicas=3`.
pub fn describe_action(a: &Value) -> String {
    let mut out = a["kind"].as_str().unwrap_or("?").to_string();
    match (a["namespace"].as_str(), a["name"].as_str()) {
        (Some(ns), Some(n)) => {
            let _ = write!(out, " {ns}/{n}");
        }
        (None, Some(n)) => {
            let _ = write!(out, " {n}");
        }
        _ => {}
    }
    if let Some(obj) = a.as_object() {
        for (k, v) in obj.iter().filter(|(k, _)| !matches!(k.as_str(), "kind" | "namespace" | "name")) {
            let _ = write!(out, " {k}={}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
        }
    }
    out
}

fn dry_run_text(dry: &Value) -> String {
    let mut out = String::new();
    for e in dry["effects"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "{}", e.as_str().unwrap_or(""));
    }
    for c in dry["changes"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{}: {} -> {}",
            c["path"].as_str().unwrap_or(""),
            compact(&c["before"]),
            compact(&c["after"])
        );
    }
    if out.is_empty() { compact(dry) } else { out }
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// `2026-11-21T09:34:13.512Z` -> `2026-11-21 09:34:13`.
fn short_time(t: &str) -> String {
    t.get(..19).map(|s| s.replace('T', " ")).unwrap_or_else(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_described_with_their_parameters() {
        let a = serde_json::json!({"kind": "scale_deployment", "namespace": "shop", "name": "web", "replicas": 3});
        assert_eq!(describe_action(&a), "scale_deployment shop/web replicas=3");
        assert_eq!(describe_action(&serde_json::json!({"kind": "cordon_node", "name": "w-1"})), "cordon_node w-1");
    }

    #[test]
    fn long_details_are_clipped_on_a_character_boundary() {
        assert_eq!(clip("ééé", 2), "éé…");
        assert_eq!(clip("ab", 5), "ab");
    }

    #[test]
    fn the_login_page_says_when_nobody_can_sign_in() {
        assert!(login(None, "t", false).contains(s::NO_SIGN_IN));
        assert!(!login(None, "t", true).contains(s::NO_SIGN_IN));
    }
}
