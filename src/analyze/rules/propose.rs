//! Building proposals from the catalogue, and the bounded scale target.
//!
//! Rules only ever name objects found in the evidence (so the target exists when the evidence was
//! read); the engine checks the target, the policy and a dry run again before any button appears.

use serde_json::{Map, Value, json};

use super::context::WorkloadRef;
use crate::cluster::evidence::SubjectKind;
use crate::domain::action::{ActionKind, ActionSpec};
use crate::domain::analysis::ProposedAction;

fn action(
    kind: ActionKind,
    namespace: Option<&str>,
    name: &str,
    params: Map<String, Value>,
    reason: String,
) -> ProposedAction {
    ProposedAction {
        action: ActionSpec {
            kind: kind.as_str().to_string(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
            params,
        },
        reason,
    }
}

/// A rolling restart of a Deployment, StatefulSet or DaemonSet; `None` for other kinds.
pub(crate) fn restart(w: &WorkloadRef, reason: String) -> Option<ProposedAction> {
    let kind = match w.kind {
        SubjectKind::Deployment => ActionKind::RestartDeployment,
        SubjectKind::StatefulSet => ActionKind::RestartStatefulset,
        SubjectKind::DaemonSet => ActionKind::RestartDaemonset,
        _ => return None,
    };
    Some(action(kind, Some(&w.namespace), &w.name, Map::new(), reason))
}

/// Back to a Deployment's previous revision (`None` for other kinds).
pub(crate) fn rollback(w: &WorkloadRef, to_revision: Option<u64>, reason: String) -> Option<ProposedAction> {
    if w.kind != SubjectKind::Deployment {
        return None;
    }
    let mut params = Map::new();
    if let Some(r) = to_revision {
        params.insert("to_revision".into(), json!(r));
    }
    Some(action(ActionKind::RollbackDeployment, Some(&w.namespace), &w.name, params, reason))
}

/// Scale a Deployment or StatefulSet (`None` for other kinds).
pub(crate) fn scale(w: &WorkloadRef, replicas: u32, reason: String) -> Option<ProposedAction> {
    let kind = match w.kind {
        SubjectKind::Deployment => ActionKind::ScaleDeployment,
        SubjectKind::StatefulSet => ActionKind::ScaleStatefulset,
        _ => return None,
    };
    let mut params = Map::new();
    params.insert("replicas".into(), json!(replicas));
    Some(action(kind, Some(&w.namespace), &w.name, params, reason))
}

pub(crate) fn delete_pod(namespace: &str, name: &str, reason: String) -> ProposedAction {
    action(ActionKind::DeletePod, Some(namespace), name, Map::new(), reason)
}

pub(crate) fn cordon(node: &str, reason: String) -> ProposedAction {
    action(ActionKind::CordonNode, None, node, Map::new(), reason)
}

pub(crate) fn drain(node: &str, reason: String) -> ProposedAction {
    action(ActionKind::DrainNode, None, node, Map::new(), reason)
}

/// Bounds the rules keep to when they propose a scale (the policy's, checked again by the engine).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleLimits {
    pub max_replicas: u32,
    pub max_factor: f64,
}

impl Default for ScaleLimits {
    fn default() -> Self {
        ScaleLimits { max_replicas: 20, max_factor: 3.0 }
    }
}

/// One step up from `current`: the larger of `current + 1` and `current × 1.5` (rounded up), never
/// above the policy's maximum nor its factor. `None` when there is no room to grow.
pub(crate) fn scale_up(current: u32, limits: ScaleLimits) -> Option<u32> {
    let base = current.max(1);
    let step = (base + 1).max((f64::from(base) * 1.5).ceil() as u32);
    let by_factor = (f64::from(base) * limits.max_factor).floor() as u32;
    let target = step.min(limits.max_replicas).min(by_factor);
    (target > current).then_some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e07_scale_up_is_one_bounded_step() {
        let limits = ScaleLimits { max_replicas: 20, max_factor: 3.0 };
        let cases = [
            (0, Some(2)),
            (1, Some(2)),
            (2, Some(3)),
            (3, Some(5)),
            (4, Some(6)),
            (10, Some(15)),
            (15, Some(20)),
            (19, Some(20)),
            (20, None),
            (1000, None),
        ];
        for (current, want) in cases {
            assert_eq!(scale_up(current, limits), want, "from {current}");
        }
        let tight = ScaleLimits { max_replicas: 20, max_factor: 1.2 };
        assert_eq!(scale_up(4, tight), None, "4 × 1.2 rounds down to 4: no room");
        assert_eq!(scale_up(10, tight), Some(12));
    }
}
