//! Which incident a delivery belongs to: the open episode of its group, or a new episode.
//!
//! A group (cluster + groupKey) has at most one open incident. Once it is resolved, a delivery that
//! brings a firing alert Mimi has not seen in it — a new fingerprint, or the same fingerprint with a
//! new `startsAt` (RELIABILITY A08) — opens the next episode; late or repeated news about the alerts
//! it already has updates it in place. A resolved notification for a group never seen firing is
//! stored as an incident that is resolved from the start (A07).

use std::collections::HashSet;

use super::alert::{AlertStatus, Delivery};
use super::incident::IncidentState;

/// The newest incident of the delivery's group.
#[derive(Debug, Clone, Copy)]
pub struct Latest<'a> {
    pub id: i64,
    pub episode: i64,
    pub state: IncidentState,
    /// (fingerprint, startsAt as stored) of its alerts.
    pub known: &'a HashSet<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Update this incident.
    Existing { id: i64 },
    /// Open a new incident with this episode number.
    New { episode: i64, kind: NewKind },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewKind {
    /// The group's first incident.
    First,
    /// The group fired again after its last episode resolved.
    Refired,
    /// Only resolved alerts, for a group Mimi has no incident for.
    ResolvedWithoutFiring,
}

pub fn place(latest: Option<Latest<'_>>, delivery: &Delivery) -> Placement {
    let Some(latest) = latest else {
        let kind = if delivery.firing_count() > 0 { NewKind::First } else { NewKind::ResolvedWithoutFiring };
        return Placement::New { episode: 1, kind };
    };
    if !latest.state.is_terminal() {
        return Placement::Existing { id: latest.id };
    }
    let fires_anew = delivery.alerts.iter().any(|a| {
        a.status == AlertStatus::Firing && !latest.known.contains(&(a.fingerprint.clone(), a.starts_at.to_string()))
    });
    if fires_anew {
        Placement::New { episode: latest.episode + 1, kind: NewKind::Refired }
    } else {
        Placement::Existing { id: latest.id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alert::parse_payload;
    use serde_json::json;

    fn delivery(alerts: &[(&str, &str, &str)]) -> Delivery {
        let alerts: Vec<_> = alerts
            .iter()
            .map(|(fp, status, starts)| json!({"status": status, "labels": {}, "startsAt": starts, "fingerprint": fp}))
            .collect();
        let body = json!({"version": "4", "groupKey": "g", "status": "firing", "alerts": alerts});
        parse_payload(body.to_string().as_bytes()).unwrap()
    }

    const T1: &str = "2026-11-20T09:00:00Z";
    const T2: &str = "2026-11-20T10:00:00Z";

    #[test]
    fn placement_table() {
        let known: HashSet<(String, String)> = [("a".to_string(), T1.to_string())].into();
        let open = Latest { id: 7, episode: 1, state: IncidentState::Notified, known: &known };
        let resolved = Latest { state: IncidentState::Resolved, ..open };
        let failed = Latest { state: IncidentState::Failed, ..open };

        let first = Placement::New { episode: 1, kind: NewKind::First };
        let refired = Placement::New { episode: 2, kind: NewKind::Refired };
        let cases: Vec<(&str, Option<Latest>, Delivery, Placement)> = vec![
            ("first firing", None, delivery(&[("a", "firing", T1)]), first),
            (
                "A07 resolved, never seen",
                None,
                delivery(&[("a", "resolved", T1)]),
                Placement::New { episode: 1, kind: NewKind::ResolvedWithoutFiring },
            ),
            (
                "open incident takes anything",
                Some(open),
                delivery(&[("b", "firing", T2)]),
                Placement::Existing { id: 7 },
            ),
            ("failed is still open", Some(failed), delivery(&[("b", "firing", T2)]), Placement::Existing { id: 7 }),
            ("A08 same fingerprint, new start", Some(resolved), delivery(&[("a", "firing", T2)]), refired),
            ("new fingerprint after resolve", Some(resolved), delivery(&[("b", "firing", T1)]), refired),
            ("late firing repeat", Some(resolved), delivery(&[("a", "firing", T1)]), Placement::Existing { id: 7 }),
            ("late resolved", Some(resolved), delivery(&[("a", "resolved", T1)]), Placement::Existing { id: 7 }),
            (
                "unknown resolved after resolve",
                Some(resolved),
                delivery(&[("z", "resolved", T2)]),
                Placement::Existing { id: 7 },
            ),
        ];
        for (name, latest, d, expected) in cases {
            assert_eq!(place(latest, &d), expected, "{name}");
        }
    }
}
