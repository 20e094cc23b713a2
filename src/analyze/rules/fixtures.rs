//! Evidence fixtures for the rule tests: small builders for the facts `gather` produces.

use crate::analyze::AnalysisInput;
use crate::cluster::evidence::{
    AutoscalerFacts, ClaimFacts, ContainerFacts, EventFacts, Evidence, LogExcerpt, NodeFacts, PodFacts, RolloutChange,
    ServiceFacts, SubjectFacts, SubjectKind, WorkloadFacts, render,
};
use crate::domain::alert::Labels;
use crate::domain::analysis::AlertView;

pub fn alert(name: &str, labels: &[(&str, &str)]) -> AlertView {
    let mut l: Labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    l.insert("alertname".into(), name.into());
    AlertView {
        status: "firing".into(),
        labels: l,
        annotations: Labels::new(),
        starts_at: "2026-11-20T10:00:00Z".into(),
    }
}

pub fn annotated(mut a: AlertView, key: &str, value: &str) -> AlertView {
    a.annotations.insert(key.into(), value.into());
    a
}

pub fn input(alerts: Vec<AlertView>, ev: Evidence) -> AnalysisInput {
    AnalysisInput {
        cluster: "test".into(),
        alerts,
        evidence_text: render(&ev, 8192),
        evidence: Some(ev),
        similar: Vec::new(),
        runbooks: Vec::new(),
        allowed: None,
    }
}

pub fn container(name: &str, state: &str, restarts: i32, last: Option<&str>) -> ContainerFacts {
    ContainerFacts {
        name: name.into(),
        image: format!("registry.example.com/{name}:1.0.0"),
        ready: state == "running",
        restarts,
        state: state.into(),
        last_termination: last.map(str::to_string),
        resources: None,
    }
}

pub fn with_image(mut c: ContainerFacts, image: &str) -> ContainerFacts {
    c.image = image.into();
    c
}

/// Running but not passing its readiness check.
pub fn unready(mut c: ContainerFacts) -> ContainerFacts {
    c.ready = false;
    c
}

pub fn with_resources(mut c: ContainerFacts, r: &str) -> ContainerFacts {
    c.resources = Some(r.into());
    c
}

/// A pod of ReplicaSet `rs` of Deployment `deploy` (pass "" for no owner).
pub fn pod(ns: &str, name: &str, rs: &str, deploy: &str, containers: Vec<ContainerFacts>) -> PodFacts {
    let mut owners = Vec::new();
    if !rs.is_empty() {
        owners.push(format!("ReplicaSet {rs}"));
    }
    if !deploy.is_empty() {
        owners.push(format!("Deployment {deploy}"));
    }
    let ready = containers.iter().all(|c| c.ready);
    PodFacts {
        namespace: ns.into(),
        name: name.into(),
        phase: "Running".into(),
        ready,
        node: Some("worker-1".into()),
        owners,
        conditions: if ready { Vec::new() } else { vec!["Ready=False".into()] },
        containers,
    }
}

pub fn owned_by(mut p: PodFacts, owner: &str) -> PodFacts {
    p.owners = vec![owner.into()];
    p
}

pub fn pending(mut p: PodFacts, message: &str) -> PodFacts {
    p.phase = "Pending".into();
    p.node = None;
    p.ready = false;
    p.conditions = vec![format!("PodScheduled=False: Unschedulable: {message}")];
    p
}

pub fn deployment(ns: &str, name: &str, desired: i32, ready: i32) -> WorkloadFacts {
    WorkloadFacts {
        kind: SubjectKind::Deployment,
        namespace: ns.into(),
        name: name.into(),
        desired,
        ready,
        updated: desired,
        available: ready,
        revision: Some("1".into()),
        images: vec![("app".into(), "registry.example.com/app:1.0.0".into())],
        resources: Vec::new(),
        conditions: Vec::new(),
        rollout: None,
    }
}

pub fn rolled_out(mut w: WorkloadFacts, change: &str, from_ready: i32, at: &str) -> WorkloadFacts {
    w.revision = Some("2".into());
    w.rollout = Some(RolloutChange {
        from_revision: "1".into(),
        to_revision: "2".into(),
        at: Some(at.into()),
        changes: vec![change.into()],
        from_replica_set: Some(format!("{}-old", w.name)),
        to_replica_set: Some(format!("{}-new", w.name)),
        from_ready: Some(from_ready),
    });
    w
}

pub fn job(ns: &str, name: &str, failed: i32, condition: &str) -> WorkloadFacts {
    WorkloadFacts {
        kind: SubjectKind::Job,
        namespace: ns.into(),
        name: name.into(),
        desired: 1,
        ready: 0,
        updated: failed,
        available: 0,
        revision: None,
        images: Vec::new(),
        resources: Vec::new(),
        conditions: vec![condition.into()],
        rollout: None,
    }
}

pub fn node(name: &str, ready: &str, conditions: &[&str]) -> NodeFacts {
    NodeFacts {
        name: name.into(),
        ready: ready.into(),
        unschedulable: false,
        conditions: conditions.iter().map(|c| c.to_string()).collect(),
    }
}

pub fn event(object: &str, reason: &str, message: &str, count: i32) -> EventFacts {
    EventFacts { object: object.into(), reason: reason.into(), message: message.into(), count, last_seen: None }
}

pub fn log(ns: &str, pod: &str, container: &str, previous: bool, text: &str) -> LogExcerpt {
    LogExcerpt {
        namespace: ns.into(),
        pod: pod.into(),
        container: container.into(),
        previous,
        text: text.into(),
        truncated: false,
    }
}

pub fn autoscaler(ns: &str, name: &str, target: &str, current: i32, max: i32) -> AutoscalerFacts {
    AutoscalerFacts {
        namespace: ns.into(),
        name: name.into(),
        target: target.into(),
        min_replicas: 2,
        max_replicas: max,
        current_replicas: current,
        desired_replicas: current,
        conditions: if current >= max {
            vec!["ScalingLimited=True: TooManyReplicas: the desired replica count is more than the maximum replica count".into()]
        } else {
            Vec::new()
        },
    }
}

pub fn claim(ns: &str, name: &str, phase: &str, class: &str, used_by: &str) -> ClaimFacts {
    ClaimFacts {
        namespace: ns.into(),
        name: name.into(),
        phase: phase.into(),
        storage_class: Some(class.into()),
        requested: Some("20Gi".into()),
        volume: None,
        used_by: vec![used_by.into()],
    }
}

pub fn service(ns: &str, name: &str, pods: usize, ready: usize) -> ServiceFacts {
    ServiceFacts { namespace: ns.into(), name: name.into(), selector: format!("app={name}"), pods, ready_pods: ready }
}

pub fn missing(kind: SubjectKind, ns: &str, name: &str) -> SubjectFacts {
    SubjectFacts { kind, namespace: Some(ns.into()), name: name.into(), found: false, via: "alert label".into() }
}
