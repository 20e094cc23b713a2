//! Facts of the objects around workloads (pure): HorizontalPodAutoscalers, PersistentVolumeClaims
//! and Services. Redaction happens over the whole bundle afterwards, as for every other fact.

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, Service};

use super::facts::condition_text;
use super::{AutoscalerFacts, ClaimFacts, ServiceFacts};

/// An autoscaler's bounds, counts and the conditions worth knowing: any that is not `True`, and
/// `ScalingLimited=True` (it wants more, or fewer, than its bounds allow).
pub(super) fn autoscaler_facts(h: &HorizontalPodAutoscaler) -> AutoscalerFacts {
    let spec = &h.spec;
    let status = h.status.as_ref();
    let conditions = status
        .and_then(|s| s.conditions.as_ref())
        .map(|cs| {
            cs.iter()
                .filter(|c| c.status != "True" || c.type_ == "ScalingLimited")
                .filter(|c| !(c.type_ == "ScalingLimited" && c.status == "False"))
                .map(|c| condition_text(&c.type_, &c.status, c.reason.as_deref(), c.message.as_deref()))
                .collect()
        })
        .unwrap_or_default();
    AutoscalerFacts {
        namespace: h.metadata.namespace.clone().unwrap_or_default(),
        name: h.metadata.name.clone().unwrap_or_default(),
        target: format!("{} {}", spec.scale_target_ref.kind, spec.scale_target_ref.name),
        min_replicas: spec.min_replicas.unwrap_or(1),
        max_replicas: spec.max_replicas,
        current_replicas: status.and_then(|s| s.current_replicas).unwrap_or(0),
        desired_replicas: status.map_or(0, |s| s.desired_replicas),
        conditions,
    }
}

/// Whether `h` scales the workload `kind`/`name`.
pub(super) fn scales(h: &HorizontalPodAutoscaler, kind: &str, name: &str) -> bool {
    h.spec.scale_target_ref.kind == kind && h.spec.scale_target_ref.name == name
}

pub(super) fn claim_facts(c: &PersistentVolumeClaim, used_by: Vec<String>) -> ClaimFacts {
    let spec = c.spec.as_ref();
    ClaimFacts {
        namespace: c.metadata.namespace.clone().unwrap_or_default(),
        name: c.metadata.name.clone().unwrap_or_default(),
        phase: c.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_else(|| "Pending".into()),
        storage_class: spec.and_then(|s| s.storage_class_name.clone()),
        requested: spec
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
            .map(|q| q.0.clone()),
        volume: spec.and_then(|s| s.volume_name.clone()).filter(|v| !v.is_empty()),
        used_by,
    }
}

/// The claims a pod mounts.
pub(super) fn claims_of(pod: &Pod) -> Vec<String> {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .map(|vs| vs.iter().filter_map(|v| v.persistent_volume_claim.as_ref().map(|c| c.claim_name.clone())).collect())
        .unwrap_or_default()
}

pub(super) fn service_facts(s: &Service, pods: &[Pod]) -> ServiceFacts {
    let selector = s
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
        .unwrap_or_default();
    let ready = |p: &&Pod| {
        p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
    };
    ServiceFacts {
        namespace: s.metadata.namespace.clone().unwrap_or_default(),
        name: s.metadata.name.clone().unwrap_or_default(),
        selector,
        pods: pods.len(),
        ready_pods: pods.iter().filter(ready).count(),
    }
}
