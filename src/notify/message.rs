//! The platform-neutral message the outbox stores: what an incident message says, in parts, plus a
//! plain-text and an HTML rendering (escaped, see `render`). Chat adapters render the parts for
//! their platform (Block Kit, Matrix HTML) with their own escaping; email sends `text` and `html`.
//!
//! Pure: no I/O. Every text part is raw (untrusted alert and cluster text, already cleaned of
//! control, zero-width and bidi characters and clipped); escaping happens when rendering.

use serde::{Deserialize, Serialize};

/// One message, as stored in `outbox.payload`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rendered {
    /// `[FIRING] KubePodCrashLooping shop/checkout` (also the email subject).
    pub title: String,
    /// `firing`, `resolved`, or Mimi's own (`pipeline`) for system messages.
    pub status: String,
    pub severity: Option<String>,
    /// The incident's lifecycle state when this was rendered (`awaiting_approval`, `resolved`...).
    #[serde(default)]
    pub state: Option<String>,
    pub incident_id: Option<i64>,
    /// The alert summary and the diagnosis, one paragraph each.
    pub lines: Vec<String>,
    /// The facts the diagnosis rests on.
    #[serde(default)]
    pub facts: Vec<String>,
    pub fields: Vec<Field>,
    pub links: Vec<Link>,
    /// Proposed actions; chat adapters show Approve / Reject controls carrying only the id for the
    /// open ones (`buttons()`).
    pub proposals: Vec<ProposalView>,
    /// What happened since it was posted (approved by, executing, verified, resolved), oldest first.
    #[serde(default)]
    pub updates: Vec<String>,
    /// A note about the message itself: a late delivery, or why this is an email fallback.
    #[serde(default)]
    pub note: Option<String>,
    /// For a thread of a burst roll-up: the incidents it lists (title per incident).
    #[serde(default)]
    pub items: Vec<String>,
    /// Plain-text rendering of the parts above.
    pub text: String,
    /// HTML rendering of the parts above, every part escaped.
    pub html: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub label: String,
    /// Always `http` or `https` (others are dropped when the message is built).
    pub url: String,
}

/// A proposed action as the message shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalView {
    /// The public proposal id (`p-...`): the only thing a button carries.
    pub id: String,
    /// `restart_deployment pay/payments`, `scale_deployment shop/web to 4`.
    pub action: String,
    pub reason: String,
    pub risk: Option<String>,
    /// `one` or `two` approvers, `auto`.
    pub approval: Option<String>,
    /// `pending`, `approved`, `rejected`, `expired`, `refused`, `executed`, `failed`...
    pub state: String,
    /// Why it cannot be approved (advice only).
    pub refused: Option<String>,
    /// The server-side dry run's changes, one line each (`path: before -> after`).
    pub diff: Vec<String>,
}

impl ProposalView {
    pub fn is_open(&self) -> bool {
        self.state == "pending"
    }
}

impl Rendered {
    /// The proposal ids that get Approve / Reject controls now.
    pub fn buttons(&self) -> Vec<&str> {
        self.proposals.iter().filter(|p| p.is_open()).map(|p| p.id.as_str()).collect()
    }
}

/// A change to an incident's message: applied to the stored message (so an unsent post goes out
/// with the latest state), sent as an edit of a posted one, and told as a thread reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// The new lifecycle state, if it changed.
    pub state: Option<String>,
    /// `resolved` once every alert resolved.
    pub status: Option<String>,
    /// A line for the message's update list and the thread reply, e.g. "Approved by web:alice".
    pub line: Option<String>,
    /// New proposal states by id.
    pub proposals: Vec<(String, String)>,
    /// Every still-pending proposal is closed (the incident resolved, or one was approved).
    pub close_open_proposals: Option<String>,
}

/// Applies `update` to `msg` and renders it again.
pub fn apply_update(msg: &mut Rendered, update: &Update) {
    if let Some(state) = &update.state {
        msg.state = Some(state.clone());
    }
    if let Some(status) = &update.status
        && msg.status != *status
    {
        msg.title = super::render::retitle(&msg.title, status);
        msg.status = status.clone();
    }
    for (id, state) in &update.proposals {
        if let Some(p) = msg.proposals.iter_mut().find(|p| &p.id == id) {
            p.state = state.clone();
        }
    }
    if let Some(state) = &update.close_open_proposals {
        for p in msg.proposals.iter_mut().filter(|p| p.is_open()) {
            p.state = state.clone();
        }
    }
    if let Some(line) = &update.line {
        msg.updates.push(super::render::clean(line, super::render::MAX_LINE));
    }
    super::render::finish(msg);
}

/// A short thread reply carrying one update line.
pub fn reply_for(parent: &Rendered, line: &str) -> Rendered {
    let mut msg = Rendered {
        title: parent.title.clone(),
        status: parent.status.clone(),
        severity: parent.severity.clone(),
        state: parent.state.clone(),
        incident_id: parent.incident_id,
        lines: vec![super::render::clean(line, super::render::MAX_LINE)],
        ..Rendered::default()
    };
    super::render::finish(&mut msg);
    msg
}

/// A firing crash-loop message proposing restart_deployment shop/checkout as `proposal`, with
/// `lines` (for the renderers' tests).
#[cfg(test)]
pub(crate) fn sample(proposal: &str, lines: Vec<String>) -> Rendered {
    let mut m = Rendered {
        title: "[FIRING] KubePodCrashLooping shop/checkout".into(),
        status: "firing".into(),
        lines,
        proposals: vec![ProposalView {
            id: proposal.into(),
            action: "restart_deployment shop/checkout".into(),
            reason: "crash loop".into(),
            risk: Some("medium".into()),
            approval: Some("one".into()),
            state: "pending".into(),
            refused: None,
            diff: vec![],
        }],
        ..Rendered::default()
    };
    super::render::finish(&mut m);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> Rendered {
        sample("p-1", vec![])
    }

    #[test]
    fn updates_change_state_title_and_buttons() {
        let mut m = msg();
        assert_eq!(m.buttons(), ["p-1"]);
        apply_update(
            &mut m,
            &Update {
                line: Some("Approved by web:alice".into()),
                proposals: vec![("p-1".into(), "approved".into())],
                ..Default::default()
            },
        );
        assert!(m.buttons().is_empty());
        assert!(m.text.contains("Approved by web:alice"));
        apply_update(&mut m, &Update { status: Some("resolved".into()), ..Default::default() });
        assert_eq!(m.title, "[RESOLVED] KubePodCrashLooping shop/checkout");
    }

    #[test]
    fn resolution_closes_open_proposals() {
        let mut m = msg();
        apply_update(&mut m, &Update { close_open_proposals: Some("expired".into()), ..Default::default() });
        assert_eq!(m.proposals[0].state, "expired");
        assert!(m.buttons().is_empty());
    }
}
