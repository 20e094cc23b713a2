//! What similar past incidents say about the proposals: "last time, the same action was verified
//! to fix it" (or did not). Facts only; the rules never propose an action because memory did.

use crate::analyze::AnalysisInput;
use crate::domain::analysis::ProposedAction;
use crate::strings::memory as m;

/// Past incidents mentioned in the facts.
const MAX_PAST: usize = 2;

pub(super) fn facts(input: &AnalysisInput, proposals: &[ProposedAction]) -> Vec<String> {
    input
        .similar
        .iter()
        .filter_map(|p| {
            let action = p.action.as_ref()?;
            let same = proposals.iter().any(|q| q.action.kind == action.kind && q.action.name == action.name);
            Some(m::past_fact(p.incident_id, &crate::notify::action_text(action), p.verified, same))
        })
        .take(MAX_PAST)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::action::ActionSpec;
    use crate::domain::analysis::SimilarIncident;

    fn spec(kind: &str) -> ActionSpec {
        ActionSpec {
            kind: kind.into(),
            namespace: Some("shop".into()),
            name: "checkout".into(),
            params: Default::default(),
        }
    }

    #[test]
    fn a_verified_past_fix_of_the_same_action_is_a_fact() {
        let input = AnalysisInput {
            similar: vec![
                SimilarIncident {
                    incident_id: 4,
                    summary: String::new(),
                    action: Some(spec("restart_deployment")),
                    verified: Some(true),
                    score: 0.9,
                },
                SimilarIncident { incident_id: 5, summary: String::new(), action: None, verified: None, score: 0.8 },
            ],
            ..AnalysisInput::default()
        };
        let proposed = vec![ProposedAction { action: spec("restart_deployment"), reason: String::new() }];
        let f = facts(&input, &proposed);
        assert_eq!(f.len(), 1);
        assert!(f[0].contains("#4") && f[0].contains("verified") && f[0].contains("same action"), "{}", f[0]);
        assert!(facts(&AnalysisInput::default(), &proposed).is_empty());
    }
}
