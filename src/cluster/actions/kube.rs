//! `ClusterActions` over kube-rs. Each action: read the target, see whether it is already in effect
//! (a replay after a crash, B04/F04), compare with the proposal's snapshot (C10), then patch,
//! delete or evict — with `dryRun=All` for a dry run.

use async_trait::async_trait;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, Preconditions};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{ActionFailure, ClusterActions, DryRun, Execution, Snapshot, diff, drain};
use crate::cluster::KubeCluster;
use crate::domain::action::{Action, Target, TargetKind};
use crate::domain::approval::ApprovedAction;

pub(super) const MANAGER: &str = "mimi";
pub(super) const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
const REVISION: &str = "deployment.kubernetes.io/revision";

pub(super) fn params(dry: bool) -> PatchParams {
    let p = PatchParams { field_manager: Some(MANAGER.into()), ..PatchParams::default() };
    if dry { p.dry_run() } else { p }
}

pub(super) fn failure(e: kube::Error) -> ActionFailure {
    match e {
        kube::Error::Api(s) if s.code >= 500 => ActionFailure::Unknown(format!("{} {}", s.code, s.message)),
        kube::Error::Api(s) => ActionFailure::Refused { code: s.code, reason: s.message },
        other => ActionFailure::Unknown(other.to_string()),
    }
}

/// Deployments, StatefulSets and DaemonSets, as far as actions are concerned.
trait Workload:
    Resource<Scope = NamespaceResourceScope, DynamicType = ()>
    + Clone
    + DeserializeOwned
    + Serialize
    + std::fmt::Debug
    + Send
    + Sync
{
    fn replicas(&self) -> Option<i32>;
    fn template(&self) -> &k8s_openapi::api::core::v1::PodTemplateSpec;
    fn snapshot(&self) -> Snapshot {
        let images = self
            .template()
            .spec
            .as_ref()
            .map(|s| s.containers.iter().map(|c| (c.name.clone(), c.image.clone().unwrap_or_default())).collect())
            .unwrap_or_default();
        Snapshot {
            uid: self.uid().unwrap_or_default(),
            generation: self.meta().generation,
            replicas: self.replicas(),
            images,
            unschedulable: None,
        }
    }
    fn restarted_at(&self) -> Option<&String> {
        self.template().metadata.as_ref()?.annotations.as_ref()?.get(RESTARTED_AT)
    }
}

impl Workload for Deployment {
    fn replicas(&self) -> Option<i32> {
        self.spec.replicas
    }
    fn template(&self) -> &k8s_openapi::api::core::v1::PodTemplateSpec {
        &self.spec.template
    }
}

impl Workload for StatefulSet {
    fn replicas(&self) -> Option<i32> {
        self.spec.replicas
    }
    fn template(&self) -> &k8s_openapi::api::core::v1::PodTemplateSpec {
        &self.spec.template
    }
}

impl Workload for DaemonSet {
    fn replicas(&self) -> Option<i32> {
        None
    }
    fn template(&self) -> &k8s_openapi::api::core::v1::PodTemplateSpec {
        &self.spec.template
    }
}

/// A done-before note, for actions a previous attempt already carried out.
const ALREADY: &str = "already in effect (an earlier attempt carried it out); nothing was changed";

/// Compares the target with the proposal's snapshot, unless there is none (a dry run for a proposal).
pub(super) fn check(target: &Target, expected: Option<&Snapshot>, now: &Snapshot) -> Result<(), ActionFailure> {
    match expected.and_then(|e| e.changed_in(now)) {
        Some(what) => Err(ActionFailure::TargetChanged { target: target.clone(), what }),
        None => Ok(()),
    }
}

fn as_value<T: Serialize>(obj: &T) -> Value {
    serde_json::to_value(obj).unwrap_or(Value::Null)
}

impl KubeCluster {
    async fn get<K>(&self, target: &Target) -> Result<K, ActionFailure>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    {
        let ns = target.namespace.as_ref().map(|n| n.as_str()).unwrap_or_default();
        let api: Api<K> = Api::namespaced(self.client().clone(), ns);
        api.get_opt(target.name.as_str())
            .await
            .map_err(failure)?
            .ok_or_else(|| ActionFailure::TargetMissing(target.clone()))
    }

    async fn restart<K: Workload>(
        &self,
        target: &Target,
        token: &str,
        expected: Option<&Snapshot>,
        dry: bool,
    ) -> Result<(Snapshot, Execution), ActionFailure> {
        let obj: K = self.get(target).await?;
        let snapshot = obj.snapshot();
        if expected.is_some() && obj.restarted_at().map(String::as_str) == Some(token) {
            return Ok((snapshot, Execution { changes: vec![], effects: vec![ALREADY.into()], evictions: vec![] }));
        }
        check(target, expected, &snapshot)?;
        let patch = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: token}}}}});
        let api: Api<K> = Api::namespaced(self.client().clone(), obj.namespace().as_deref().unwrap_or_default());
        let after = api.patch(target.name.as_str(), &params(dry), &Patch::Strategic(&patch)).await.map_err(failure)?;
        let effects = vec![format!("{target}: a rolling restart replaces every pod")];
        Ok((snapshot, Execution { changes: diff(&as_value(&obj), &as_value(&after)), effects, evictions: vec![] }))
    }

    async fn scale<K: Workload>(
        &self,
        target: &Target,
        replicas: u32,
        expected: Option<&Snapshot>,
        dry: bool,
    ) -> Result<(Snapshot, Execution), ActionFailure> {
        let obj: K = self.get(target).await?;
        let snapshot = obj.snapshot();
        let wanted = i32::try_from(replicas)
            .map_err(|_| ActionFailure::Refused { code: 422, reason: "replicas out of range".into() })?;
        if expected.is_some() && obj.replicas() == Some(wanted) {
            return Ok((snapshot, Execution { changes: vec![], effects: vec![ALREADY.into()], evictions: vec![] }));
        }
        check(target, expected, &snapshot)?;
        let api: Api<K> = Api::namespaced(self.client().clone(), obj.namespace().as_deref().unwrap_or_default());
        let patch = json!({"spec": {"replicas": wanted}});
        let scale =
            api.patch_scale(target.name.as_str(), &params(dry), &Patch::Merge(&patch)).await.map_err(failure)?;
        let before = obj.replicas().map(|r| r.to_string());
        let after = scale.spec.and_then(|s| s.replicas).map(|r| r.to_string());
        let changes = vec![diff::FieldChange { path: "spec.replicas".into(), before, after }];
        Ok((snapshot, Execution { changes, effects: vec![], evictions: vec![] }))
    }

    async fn rollback(
        &self,
        target: &Target,
        to_revision: Option<u64>,
        expected: Option<&Snapshot>,
        dry: bool,
    ) -> Result<(Snapshot, Execution), ActionFailure> {
        let d: Deployment = self.get(target).await?;
        let snapshot = d.snapshot();
        let ns = d.namespace().unwrap_or_default();
        let current: u64 = d.annotations().get(REVISION).and_then(|r| r.parse().ok()).unwrap_or(0);
        let sets: Api<ReplicaSet> = Api::namespaced(self.client().clone(), &ns);
        let selector = d.spec.selector.match_labels.clone().unwrap_or_default();
        let labels = selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        let owned: Vec<ReplicaSet> = sets
            .list(&ListParams::default().labels(&labels))
            .await
            .map_err(failure)?
            .items
            .into_iter()
            .filter(|rs| rs.owner_references().iter().any(|o| o.controller == Some(true) && o.uid == snapshot.uid))
            .collect();
        let revision =
            |rs: &ReplicaSet| rs.annotations().get(REVISION).and_then(|r| r.parse::<u64>().ok()).unwrap_or(0);
        let chosen = match to_revision {
            Some(r) => owned.iter().find(|rs| revision(rs) == r),
            None => owned.iter().filter(|rs| revision(rs) < current).max_by_key(|rs| revision(rs)),
        };
        let Some(chosen) = chosen else {
            let which = to_revision.map_or("an earlier revision".to_string(), |r| format!("revision {r}"));
            return Err(ActionFailure::Blocked(format!("{target} has no ReplicaSet for {which} to roll back to")));
        };
        let mut template = chosen.spec.template.clone().unwrap_or_default();
        if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
            labels.remove("pod-template-hash");
        }
        if expected.is_some() && template_equal(&d.spec.template, &template) {
            return Ok((snapshot, Execution { changes: vec![], effects: vec![ALREADY.into()], evictions: vec![] }));
        }
        check(target, expected, &snapshot)?;
        // Applied only if the spec is still the one the approver saw.
        let patch: json_patch::Patch = serde_json::from_value(json!([
            {"op": "test", "path": "/metadata/generation", "value": d.metadata.generation},
            {"op": "replace", "path": "/spec/template", "value": template},
        ]))
        .expect("a valid JSON patch");
        let api: Api<Deployment> = Api::namespaced(self.client().clone(), &ns);
        let after = api.patch(target.name.as_str(), &params(dry), &Patch::<()>::Json(patch)).await.map_err(failure)?;
        let effects = vec![format!("{target}: rolls back to the template of revision {}", revision(chosen))];
        Ok((snapshot, Execution { changes: diff(&as_value(&d), &as_value(&after)), effects, evictions: vec![] }))
    }

    async fn delete_pod(
        &self,
        target: &Target,
        expected: Option<&Snapshot>,
        dry: bool,
    ) -> Result<(Snapshot, Execution), ActionFailure> {
        let ns = target.namespace.as_ref().map(|n| n.as_str()).unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client().clone(), ns);
        let pod = api.get_opt(target.name.as_str()).await.map_err(failure)?;
        let Some(pod) = pod else {
            // Deleted already: by an earlier attempt, or by its controller. Either way, done.
            return match expected {
                Some(e) => {
                    Ok((e.clone(), Execution { changes: vec![], effects: vec![ALREADY.into()], evictions: vec![] }))
                }
                None => Err(ActionFailure::TargetMissing(target.clone())),
            };
        };
        let snapshot = pod_snapshot(&pod);
        if let Some(e) = expected
            && e.uid != snapshot.uid
        {
            // The pod was recreated under the same name: the approved deletion was of the old one (F05).
            return Ok((e.clone(), Execution { changes: vec![], effects: vec![ALREADY.into()], evictions: vec![] }));
        }
        check(target, expected, &snapshot)?;
        let dp = DeleteParams {
            dry_run: dry,
            preconditions: Some(Preconditions { uid: Some(snapshot.uid.clone()), resource_version: None }),
            ..DeleteParams::default()
        };
        api.delete(target.name.as_str(), &dp).await.map_err(failure)?;
        let effect = match pod.owner_references().iter().find(|o| o.controller == Some(true)) {
            Some(o) => format!("{target} is deleted; its {} {} creates a replacement", o.kind, o.name),
            None => format!("{target} is deleted; it has no controller, so nothing recreates it"),
        };
        Ok((snapshot, Execution { changes: vec![], effects: vec![effect], evictions: vec![] }))
    }

    pub(super) async fn set_unschedulable(
        &self,
        target: &Target,
        cordon: bool,
        expected: Option<&Snapshot>,
        dry: bool,
    ) -> Result<(Snapshot, Execution), ActionFailure> {
        let api: Api<Node> = Api::all(self.client().clone());
        let node = api
            .get_opt(target.name.as_str())
            .await
            .map_err(failure)?
            .ok_or_else(|| ActionFailure::TargetMissing(target.clone()))?;
        let snapshot = node_snapshot(&node);
        let is_cordoned = snapshot.unschedulable == Some(true);
        if is_cordoned == cordon {
            let effects = vec![if expected.is_some() {
                ALREADY.into()
            } else {
                format!("{target} is already {}", if cordon { "cordoned" } else { "schedulable" })
            }];
            return Ok((snapshot, Execution { changes: vec![], effects, evictions: vec![] }));
        }
        check(target, expected, &snapshot)?;
        // kubectl uncordon removes the field rather than setting it to false.
        let patch =
            if cordon { json!({"spec": {"unschedulable": true}}) } else { json!({"spec": {"unschedulable": null}}) };
        let after = api.patch(target.name.as_str(), &params(dry), &Patch::Merge(&patch)).await.map_err(failure)?;
        Ok((
            snapshot,
            Execution { changes: diff(&as_value(&node), &as_value(&after)), effects: vec![], evictions: vec![] },
        ))
    }

    /// Runs `action`, for real or as a dry run, checking the target against `expected` if given.
    async fn apply(
        &self,
        action: &Action,
        token: &str,
        expected: Option<&Snapshot>,
        dry: bool,
    ) -> Result<(Snapshot, Execution), ActionFailure> {
        match action {
            Action::Restart { target } => match target.kind {
                TargetKind::StatefulSet => self.restart::<StatefulSet>(target, token, expected, dry).await,
                TargetKind::DaemonSet => self.restart::<DaemonSet>(target, token, expected, dry).await,
                _ => self.restart::<Deployment>(target, token, expected, dry).await,
            },
            Action::Scale { target, replicas } => match target.kind {
                TargetKind::StatefulSet => self.scale::<StatefulSet>(target, *replicas, expected, dry).await,
                _ => self.scale::<Deployment>(target, *replicas, expected, dry).await,
            },
            Action::Rollback { target, to_revision } => self.rollback(target, *to_revision, expected, dry).await,
            Action::DeletePod { target } => self.delete_pod(target, expected, dry).await,
            Action::Cordon { .. } => self.set_unschedulable(&action.target(), true, expected, dry).await,
            Action::Uncordon { .. } => self.set_unschedulable(&action.target(), false, expected, dry).await,
            Action::Drain { .. } => drain::drain(self, &action.target(), expected, dry).await,
        }
    }
}

fn template_equal(
    a: &k8s_openapi::api::core::v1::PodTemplateSpec,
    b: &k8s_openapi::api::core::v1::PodTemplateSpec,
) -> bool {
    let strip = |t: &k8s_openapi::api::core::v1::PodTemplateSpec| {
        let mut v = as_value(t);
        if let Some(labels) = v.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
            labels.remove("pod-template-hash");
        }
        v
    };
    strip(a) == strip(b)
}

pub(super) fn pod_snapshot(pod: &Pod) -> Snapshot {
    let images = pod
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| (c.name.clone(), c.image.clone().unwrap_or_default())).collect())
        .unwrap_or_default();
    Snapshot { uid: pod.uid().unwrap_or_default(), generation: None, replicas: None, images, unschedulable: None }
}

pub(super) fn node_snapshot(node: &Node) -> Snapshot {
    Snapshot {
        uid: node.uid().unwrap_or_default(),
        generation: None,
        replicas: None,
        images: Vec::new(),
        unschedulable: Some(node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false)),
    }
}

/// The value a dry run for a proposal writes as `restartedAt` (the real one comes from the approval).
fn proposal_token() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[async_trait]
impl ClusterActions for KubeCluster {
    async fn dry_run(&self, action: &Action) -> Result<DryRun, ActionFailure> {
        let (snapshot, execution) = self.apply(action, &proposal_token(), None, true).await?;
        Ok(DryRun { snapshot, changes: execution.changes, effects: execution.effects })
    }

    async fn execute(&self, approved: &ApprovedAction, expected: &Snapshot) -> Result<Execution, ActionFailure> {
        let action = approved.action();
        let token = approved.restart_token();
        // The same checks and a server-side dry run first: admission may refuse now (F02).
        let (_, rehearsal) = self.apply(action, &token, Some(expected), true).await?;
        if rehearsal.effects.iter().any(|e| e == ALREADY) {
            return Ok(rehearsal);
        }
        let (_, execution) = self.apply(action, &token, Some(expected), false).await?;
        Ok(execution)
    }
}
