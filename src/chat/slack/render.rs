//! Block Kit rendering of the platform-neutral [`Rendered`] message (pure).
//!
//! Every text part is alert, cluster or model text, untrusted (A13, E13): it is escaped for Slack
//! (`&`, `<`, `>`), so `<!channel>` is shown, never a mass mention, and `<https://evil|ok>` is shown
//! as typed, never a disguised link. Links are only the message's own http(s) links, with their
//! URL and label escaped. Buttons carry the proposal id only; everything else stays server-side.

use serde_json::{Value, json};

use crate::notify::message::{ProposalView, Rendered};
use crate::strings::slack as s;

/// `action_id` of the Approve and Reject buttons.
pub const APPROVE: &str = "mimi_approve";
pub const REJECT: &str = "mimi_reject";
/// Slack's limits: a section's text, the fallback text, blocks per message.
const MAX_SECTION: usize = 2900;
const MAX_TEXT: usize = 3900;
const MAX_BLOCKS: usize = 50;

/// Escapes text for Slack mrkdwn and plain text: `&`, `<`, `>`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped text that cannot leave a code block.
fn code(text: &str) -> String {
    escape(&text.replace("```", "'''"))
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max).collect();
    // Never end inside an entity such as `&amp;`.
    if let Some(amp) = out.rfind('&')
        && !out[amp..].contains(';')
    {
        out.truncate(amp);
    }
    out.push('…');
    out
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION)}})
}

fn context(text: &str) -> Value {
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, MAX_SECTION)}]})
}

/// `chat.postMessage` / `chat.update` arguments for `msg`: `text` (the notification fallback) and
/// `blocks`.
pub fn message(msg: &Rendered) -> (String, Vec<Value>) {
    let mut blocks = vec![section(&format!("*{}*", escape(&msg.title)))];
    let mut meta = Vec::new();
    if let Some(sev) = &msg.severity {
        meta.push(format!("{} {}", s::SEVERITY, escape(sev)));
    }
    if let Some(state) = &msg.state {
        meta.push(format!("{} {}", s::STATE, escape(state)));
    }
    if let Some(id) = msg.incident_id {
        meta.push(format!("{} {id}", s::INCIDENT));
    }
    if !meta.is_empty() {
        blocks.push(context(&meta.join("  ·  ")));
    }
    for line in &msg.lines {
        blocks.push(section(&escape(line)));
    }
    if !msg.facts.is_empty() {
        let facts: Vec<String> = msg.facts.iter().map(|f| format!("• {}", escape(f))).collect();
        blocks.push(section(&format!("*{}*\n{}", s::FACTS, facts.join("\n"))));
    }
    if !msg.fields.is_empty() {
        let fields: Vec<Value> = msg
            .fields
            .iter()
            .take(10)
            .map(|f| json!({"type": "mrkdwn", "text": clip(&format!("*{}*\n{}", escape(&f.name), escape(&f.value)), 1900)}))
            .collect();
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    for p in &msg.proposals {
        blocks.push(section(&proposal(p)));
        if p.is_open() {
            blocks.push(buttons(&p.id));
        }
    }
    if !msg.items.is_empty() {
        let items: Vec<String> = msg.items.iter().map(|i| format!("• {}", escape(i))).collect();
        blocks.push(section(&items.join("\n")));
    }
    if !msg.updates.is_empty() {
        let updates: Vec<String> = msg.updates.iter().map(|u| escape(u)).collect();
        blocks.push(context(&updates.join("\n")));
    }
    let links: Vec<String> = msg
        .links
        .iter()
        .filter(|l| l.url.starts_with("http://") || l.url.starts_with("https://"))
        .map(|l| format!("<{}|{}>", escape(&l.url.replace('|', "%7C")), escape(&l.label.replace('|', "/"))))
        .collect();
    if !links.is_empty() {
        blocks.push(context(&links.join("  ·  ")));
    }
    if let Some(note) = &msg.note {
        blocks.push(context(&format!("_{}_", escape(note))));
    }
    blocks.truncate(MAX_BLOCKS);
    (clip(&escape(&fallback(msg)), MAX_TEXT), blocks)
}

/// A plain answer (a reply to a command or question): escaped fallback text and one section.
pub fn answer(text: &str) -> (String, Vec<Value>) {
    let escaped = escape(text);
    (clip(&escaped, MAX_TEXT), vec![section(&escaped)])
}

/// The notification text: the title and the first paragraph.
fn fallback(msg: &Rendered) -> String {
    match msg.lines.first() {
        Some(first) => format!("{}\n{}", msg.title, first),
        None => msg.title.clone(),
    }
}

fn proposal(p: &ProposalView) -> String {
    let mut text = format!("*{}* `{}`", s::PROPOSAL, escape(&p.action.replace('`', "'")));
    let mut meta = vec![format!("{} {}", s::STATE, escape(&p.state))];
    if let Some(risk) = &p.risk {
        meta.push(format!("{} {}", s::RISK, escape(risk)));
    }
    if let Some(approval) = &p.approval {
        meta.push(format!("{} {}", s::APPROVERS, escape(approval)));
    }
    text.push_str(&format!("\n{}", meta.join(", ")));
    if !p.reason.is_empty() {
        text.push_str(&format!("\n{}", escape(&p.reason)));
    }
    if let Some(refused) = &p.refused {
        text.push_str(&format!("\n_{}_", escape(refused)));
    }
    if !p.diff.is_empty() {
        text.push_str(&format!("\n*{}*\n```{}```", s::DRY_RUN, code(&p.diff.join("\n"))));
    }
    text
}

fn buttons(id: &str) -> Value {
    let button = |label: &str, action: &str, style: &str| {
        json!({
            "type": "button",
            "text": {"type": "plain_text", "text": label},
            "action_id": action,
            "value": id,
            "style": style,
        })
    };
    json!({
        "type": "actions",
        "block_id": format!("mimi_proposal_{id}"),
        "elements": [button(s::APPROVE, APPROVE, "primary"), button(s::REJECT, REJECT, "danger")],
    })
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
