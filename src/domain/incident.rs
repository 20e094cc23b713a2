//! The incident lifecycle: states, the events that move an incident, and the pure transition function.
//!
//! An incident is one episode of one alert group (cluster + Alertmanager `groupKey`). Its state says
//! where it is in the pipeline; whether its alerts still fire is tracked beside it. `Resolved` is the
//! only terminal state: a resolved group that fires again opens a new episode (a new incident).
//! `Failed`, `Rejected` and `Expired` end the remediation, but the incident stays open until its
//! alerts resolve.
//!
//! ```text
//! received -> enriching -> analyzing -> awaiting_approval -> executing -> verifying -> resolved
//!                                   \-> notified              |  \-> rejected     \-> failed
//!                                                              \-> expired   (executing -> failed)
//! any open state --alerts resolved--> resolved   (executing / verifying keep going: verification
//!                                                 counts the resolution)
//! ```

use std::fmt;

/// Where an incident is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    Received,
    Enriching,
    Analyzing,
    Notified,
    AwaitingApproval,
    Executing,
    Verifying,
    Resolved,
    Failed,
    Rejected,
    Expired,
}

/// What happened to an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentEvent {
    EnrichStarted,
    AnalyzeStarted,
    /// The analysis is posted; `proposals` says whether it offers actions to approve.
    Analyzed {
        proposals: bool,
    },
    Approved,
    Rejected,
    ApprovalExpired,
    /// The approved action ran; `ok` is false when the API call failed.
    Executed {
        ok: bool,
    },
    /// Verification finished; `fixed` says whether the success criteria held.
    Verified {
        fixed: bool,
    },
    /// Every alert of the incident is resolved.
    AlertsResolved,
}

impl IncidentState {
    pub const ALL: [IncidentState; 11] = [
        IncidentState::Received,
        IncidentState::Enriching,
        IncidentState::Analyzing,
        IncidentState::Notified,
        IncidentState::AwaitingApproval,
        IncidentState::Executing,
        IncidentState::Verifying,
        IncidentState::Resolved,
        IncidentState::Failed,
        IncidentState::Rejected,
        IncidentState::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Received => "received",
            IncidentState::Enriching => "enriching",
            IncidentState::Analyzing => "analyzing",
            IncidentState::Notified => "notified",
            IncidentState::AwaitingApproval => "awaiting_approval",
            IncidentState::Executing => "executing",
            IncidentState::Verifying => "verifying",
            IncidentState::Resolved => "resolved",
            IncidentState::Failed => "failed",
            IncidentState::Rejected => "rejected",
            IncidentState::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Terminal: nothing moves a resolved incident; a new firing opens a new episode.
    pub fn is_terminal(self) -> bool {
        self == IncidentState::Resolved
    }
}

impl fmt::Display for IncidentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transition the lifecycle does not allow; the caller records it and leaves the state alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("event {event:?} is not allowed in state {from}")]
pub struct InvalidTransition {
    pub from: IncidentState,
    pub event: IncidentEvent,
}

/// The lifecycle, as one pure function.
pub fn transition(from: IncidentState, event: IncidentEvent) -> Result<IncidentState, InvalidTransition> {
    use IncidentEvent as E;
    use IncidentState as S;
    let to = match (from, event) {
        (S::Received, E::EnrichStarted) => S::Enriching,
        (S::Enriching, E::AnalyzeStarted) => S::Analyzing,
        (S::Analyzing, E::Analyzed { proposals: true }) => S::AwaitingApproval,
        (S::Analyzing, E::Analyzed { proposals: false }) => S::Notified,
        (S::AwaitingApproval, E::Approved) => S::Executing,
        (S::AwaitingApproval, E::Rejected) => S::Rejected,
        (S::AwaitingApproval, E::ApprovalExpired) => S::Expired,
        (S::Executing, E::Executed { ok: true }) => S::Verifying,
        (S::Executing, E::Executed { ok: false }) => S::Failed,
        (S::Verifying, E::Verified { fixed: true }) => S::Resolved,
        (S::Verifying, E::Verified { fixed: false }) => S::Failed,
        // An action in flight finishes and is verified; the resolution counts as evidence there.
        (S::Executing | S::Verifying, E::AlertsResolved) => from,
        (s, E::AlertsResolved) if !s.is_terminal() => S::Resolved,
        _ => return Err(InvalidTransition { from, event }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use IncidentEvent as E;
    use IncidentState as S;

    #[test]
    fn the_lifecycle_table() {
        let table: &[(S, E, Option<S>)] = &[
            (S::Received, E::EnrichStarted, Some(S::Enriching)),
            (S::Enriching, E::AnalyzeStarted, Some(S::Analyzing)),
            (S::Analyzing, E::Analyzed { proposals: true }, Some(S::AwaitingApproval)),
            (S::Analyzing, E::Analyzed { proposals: false }, Some(S::Notified)),
            (S::AwaitingApproval, E::Approved, Some(S::Executing)),
            (S::AwaitingApproval, E::Rejected, Some(S::Rejected)),
            (S::AwaitingApproval, E::ApprovalExpired, Some(S::Expired)),
            (S::Executing, E::Executed { ok: true }, Some(S::Verifying)),
            (S::Executing, E::Executed { ok: false }, Some(S::Failed)),
            (S::Verifying, E::Verified { fixed: true }, Some(S::Resolved)),
            (S::Verifying, E::Verified { fixed: false }, Some(S::Failed)),
            (S::Received, E::AlertsResolved, Some(S::Resolved)),
            (S::Notified, E::AlertsResolved, Some(S::Resolved)),
            (S::AwaitingApproval, E::AlertsResolved, Some(S::Resolved)),
            (S::Failed, E::AlertsResolved, Some(S::Resolved)),
            (S::Rejected, E::AlertsResolved, Some(S::Resolved)),
            (S::Expired, E::AlertsResolved, Some(S::Resolved)),
            (S::Executing, E::AlertsResolved, Some(S::Executing)),
            (S::Verifying, E::AlertsResolved, Some(S::Verifying)),
            // C12: a rejection is final; C09: no approval after expiry or resolution.
            (S::Rejected, E::Approved, None),
            (S::Expired, E::Approved, None),
            (S::Resolved, E::Approved, None),
            (S::Notified, E::Approved, None),
            (S::Executing, E::Approved, None),
            (S::Resolved, E::AlertsResolved, None),
            (S::Resolved, E::EnrichStarted, None),
            (S::Received, E::AnalyzeStarted, None),
            (S::Analyzing, E::Executed { ok: true }, None),
        ];
        for &(from, event, expected) in table {
            assert_eq!(transition(from, event).ok(), expected, "{from} + {event:?}");
        }
    }

    #[test]
    fn only_resolved_is_terminal_and_nothing_leaves_it() {
        let events = [
            E::EnrichStarted,
            E::AnalyzeStarted,
            E::Analyzed { proposals: true },
            E::Approved,
            E::Rejected,
            E::ApprovalExpired,
            E::Executed { ok: true },
            E::Verified { fixed: true },
            E::AlertsResolved,
        ];
        for state in S::ALL {
            assert_eq!(state.is_terminal(), state == S::Resolved);
        }
        for event in events {
            assert!(transition(S::Resolved, event).is_err(), "{event:?}");
        }
    }

    #[test]
    fn state_names_round_trip() {
        for state in S::ALL {
            assert_eq!(S::parse(state.as_str()), Some(state));
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
        assert_eq!(S::parse("bogus"), None);
    }
}
