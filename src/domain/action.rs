//! The closed action catalogue (SCENARIOS.md): the only things Mimi can ever do to a cluster.
//!
//! Proposals arrive as text — from runbook rules, an LLM, a chat command — in the shape
//! `{kind, namespace, name, params}`. [`Action::from_spec`] is the one way in: the kind must be in
//! the catalogue, names must be valid Kubernetes names, parameters typed and bounded, unknown
//! parameters refused. Anything else (exec, apply a URL, delete a namespace) is unrepresentable.
//! Policy (bounds, protected namespaces, budgets, approvals) is decided elsewhere, on these types.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::names::{NameError, NamespaceName, ObjectName};

/// The kinds of the catalogue, as named in scenarios, evals and LLM output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    RestartDeployment,
    RestartStatefulset,
    RestartDaemonset,
    ScaleDeployment,
    ScaleStatefulset,
    RollbackDeployment,
    DeletePod,
    CordonNode,
    UncordonNode,
    DrainNode,
}

/// How much harm an action can do if it is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Low,
    Medium,
    High,
}

/// The kind of object an action targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TargetKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    Pod,
    Node,
}

impl ActionKind {
    pub const ALL: [ActionKind; 10] = [
        ActionKind::RestartDeployment,
        ActionKind::RestartStatefulset,
        ActionKind::RestartDaemonset,
        ActionKind::ScaleDeployment,
        ActionKind::ScaleStatefulset,
        ActionKind::RollbackDeployment,
        ActionKind::DeletePod,
        ActionKind::CordonNode,
        ActionKind::UncordonNode,
        ActionKind::DrainNode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::RestartDeployment => "restart_deployment",
            ActionKind::RestartStatefulset => "restart_statefulset",
            ActionKind::RestartDaemonset => "restart_daemonset",
            ActionKind::ScaleDeployment => "scale_deployment",
            ActionKind::ScaleStatefulset => "scale_statefulset",
            ActionKind::RollbackDeployment => "rollback_deployment",
            ActionKind::DeletePod => "delete_pod",
            ActionKind::CordonNode => "cordon_node",
            ActionKind::UncordonNode => "uncordon_node",
            ActionKind::DrainNode => "drain_node",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The default risk (SCENARIOS.md); policy may override it per kind.
    pub fn default_risk(self) -> Risk {
        match self {
            ActionKind::RollbackDeployment
            | ActionKind::CordonNode
            | ActionKind::UncordonNode
            | ActionKind::DrainNode => Risk::High,
            _ => Risk::Medium,
        }
    }

    pub fn target_kind(self) -> TargetKind {
        match self {
            ActionKind::RestartDeployment | ActionKind::ScaleDeployment | ActionKind::RollbackDeployment => {
                TargetKind::Deployment
            }
            ActionKind::RestartStatefulset | ActionKind::ScaleStatefulset => TargetKind::StatefulSet,
            ActionKind::RestartDaemonset => TargetKind::DaemonSet,
            ActionKind::DeletePod => TargetKind::Pod,
            ActionKind::CordonNode | ActionKind::UncordonNode | ActionKind::DrainNode => TargetKind::Node,
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

/// What an action is aimed at. Nodes have no namespace; everything else has one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Target {
    pub kind: TargetKind,
    pub namespace: Option<NamespaceName>,
    pub name: ObjectName,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{:?} {ns}/{}", self.kind, self.name),
            None => write!(f, "{:?} {}", self.kind, self.name),
        }
    }
}

/// One typed action with bounded parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    Restart { target: Target },
    Scale { target: Target, replicas: u32 },
    Rollback { target: Target, to_revision: Option<u64> },
    DeletePod { target: Target },
    Cordon { node: ObjectName },
    Uncordon { node: ObjectName },
    Drain { node: ObjectName },
}

/// The wire shape of a proposed action: `{kind, namespace, name, params}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionSpec {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// Why a proposed action is not in the catalogue, or not well-formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("{0:?} is not an action Mimi can take")]
    UnknownKind(String),
    #[error("{kind} needs a namespace")]
    MissingNamespace { kind: ActionKind },
    #[error("{kind} acts on a node, which has no namespace")]
    UnexpectedNamespace { kind: ActionKind },
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("{kind}: parameter {param:?} {problem}")]
    Param { kind: ActionKind, param: String, problem: &'static str },
}

impl Action {
    /// The one way a proposal becomes an action.
    pub fn from_spec(spec: &ActionSpec) -> Result<Action, ActionError> {
        let shown: String = spec.kind.chars().take(40).collect();
        let kind = ActionKind::parse(&spec.kind).ok_or(ActionError::UnknownKind(shown))?;
        let name = ObjectName::parse(&spec.name)?;
        let namespace = match (kind.target_kind(), spec.namespace.as_deref()) {
            (TargetKind::Node, None | Some("")) => None,
            (TargetKind::Node, Some(_)) => return Err(ActionError::UnexpectedNamespace { kind }),
            (_, None | Some("")) => return Err(ActionError::MissingNamespace { kind }),
            (_, Some(ns)) => Some(NamespaceName::parse(ns)?),
        };
        let allowed: &[&str] = match kind {
            ActionKind::ScaleDeployment | ActionKind::ScaleStatefulset => &["replicas"],
            ActionKind::RollbackDeployment => &["to_revision"],
            _ => &[],
        };
        if let Some(extra) = spec.params.keys().find(|k| !allowed.contains(&k.as_str())) {
            let param: String = extra.chars().take(40).collect();
            return Err(ActionError::Param { kind, param, problem: "is not a parameter of this action" });
        }
        let target = Target { kind: kind.target_kind(), namespace, name: name.clone() };
        let param = |p: &str| spec.params.get(p);
        let bad = |param: &str, problem| ActionError::Param { kind, param: param.to_string(), problem };
        Ok(match kind {
            ActionKind::RestartDeployment | ActionKind::RestartStatefulset | ActionKind::RestartDaemonset => {
                Action::Restart { target }
            }
            ActionKind::ScaleDeployment | ActionKind::ScaleStatefulset => {
                let replicas = param("replicas").ok_or_else(|| bad("replicas", "is required"))?;
                let replicas = replicas
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| bad("replicas", "must be a whole number from 0 to 4294967295"))?;
                Action::Scale { target, replicas }
            }
            ActionKind::RollbackDeployment => {
                let to_revision = match param("to_revision") {
                    None | Some(serde_json::Value::Null) => None,
                    Some(v) => Some(
                        v.as_u64()
                            .filter(|n| *n > 0)
                            .ok_or_else(|| bad("to_revision", "must be a revision number above 0"))?,
                    ),
                };
                Action::Rollback { target, to_revision }
            }
            ActionKind::DeletePod => Action::DeletePod { target },
            ActionKind::CordonNode => Action::Cordon { node: name },
            ActionKind::UncordonNode => Action::Uncordon { node: name },
            ActionKind::DrainNode => Action::Drain { node: name },
        })
    }

    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Restart { target } => match target.kind {
                TargetKind::StatefulSet => ActionKind::RestartStatefulset,
                TargetKind::DaemonSet => ActionKind::RestartDaemonset,
                _ => ActionKind::RestartDeployment,
            },
            Action::Scale { target, .. } => match target.kind {
                TargetKind::StatefulSet => ActionKind::ScaleStatefulset,
                _ => ActionKind::ScaleDeployment,
            },
            Action::Rollback { .. } => ActionKind::RollbackDeployment,
            Action::DeletePod { .. } => ActionKind::DeletePod,
            Action::Cordon { .. } => ActionKind::CordonNode,
            Action::Uncordon { .. } => ActionKind::UncordonNode,
            Action::Drain { .. } => ActionKind::DrainNode,
        }
    }

    pub fn target(&self) -> Target {
        match self {
            Action::Restart { target }
            | Action::Scale { target, .. }
            | Action::Rollback { target, .. }
            | Action::DeletePod { target } => target.clone(),
            Action::Cordon { node } | Action::Uncordon { node } | Action::Drain { node } => {
                Target { kind: TargetKind::Node, namespace: None, name: node.clone() }
            }
        }
    }

    /// Back to the wire shape (for storage, eval output and LLM examples).
    pub fn to_spec(&self) -> ActionSpec {
        let target = self.target();
        let mut params = serde_json::Map::new();
        match self {
            Action::Scale { replicas, .. } => drop(params.insert("replicas".into(), (*replicas).into())),
            Action::Rollback { to_revision: Some(r), .. } => drop(params.insert("to_revision".into(), (*r).into())),
            _ => {}
        }
        ActionSpec {
            kind: self.kind().as_str().to_string(),
            namespace: target.namespace.map(|n| n.as_str().to_string()),
            name: target.name.as_str().to_string(),
            params,
        }
    }
}

/// Stored and sent as its spec; read back through [`Action::from_spec`], so a stored action is
/// validated again like any other input.
impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_spec().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spec = ActionSpec::deserialize(d)?;
        Action::from_spec(&spec).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[path = "action_tests.rs"]
mod tests;
