//! The "similar past incidents" part of an incident's message: what memory recalled, with the
//! incident ids and what was done then; or that memory could not be asked.

use super::enqueue::action_text;
use super::render::{MAX_LINE, clean};
use crate::domain::analysis::SimilarIncident;
use crate::strings::memory as m;

/// Recalled incidents shown in a message.
const MAX_SIMILAR: usize = 3;

/// Message lines (already cleaned; the message escapes them for its medium).
pub fn lines(similar: &[SimilarIncident], note: Option<&str>) -> Vec<String> {
    if similar.is_empty() {
        return note.map(|_| m::UNAVAILABLE.to_string()).into_iter().collect();
    }
    let mut out = vec![m::SIMILAR.to_string()];
    for p in similar.iter().take(MAX_SIMILAR) {
        let action = p.action.as_ref().map(action_text);
        let line = m::line(p.incident_id, p.score, &p.summary, action.as_deref(), p.verified);
        out.push(format!("- {}", clean(&line, MAX_LINE)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::action::ActionSpec;

    #[test]
    fn recalled_incidents_show_their_id_action_and_outcome() {
        let p = SimilarIncident {
            incident_id: 12,
            summary: "KubePodCrashLooping in shop (checkout); outcome: verified".into(),
            action: Some(ActionSpec {
                kind: "restart_deployment".into(),
                namespace: Some("shop".into()),
                name: "checkout".into(),
                params: Default::default(),
            }),
            verified: Some(true),
            score: 0.91,
        };
        let l = lines(&[p], None);
        assert_eq!(l[0], m::SIMILAR);
        assert!(l[1].contains("#12 (similarity 0.91)"), "{}", l[1]);
        assert!(l[1].contains("restart_deployment shop/checkout (verified fix)"), "{}", l[1]);
        assert_eq!(lines(&[], Some("store down")), vec![m::UNAVAILABLE.to_string()]);
        assert!(lines(&[], None).is_empty());
    }
}
