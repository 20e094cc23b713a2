//! Reading the cluster for an incident's subjects: the objects, their owner chain, unhealthy pods of
//! workloads, warning events and log tails. Errors become notes; once the API proves unreachable,
//! gathering stops rather than waiting out one timeout per object.

use std::collections::{HashMap, HashSet};

use k8s_openapi::api::core::v1::Pod;

use super::facts::{self, REVISION, controller_of, is_unhealthy};
use super::{Evidence, LogExcerpt, Subject, SubjectFacts, SubjectKind, WorkloadFacts};
use crate::cluster::{ClusterError, ClusterRead, Labels, LogRequest};
use crate::config::EvidenceSettings;

/// Gathers evidence about `subjects`. Never fails: what could not be read is in `notes`.
pub async fn gather(cluster: &dyn ClusterRead, subjects: &[Subject], settings: &EvidenceSettings) -> Evidence {
    let mut g = Gatherer {
        cluster,
        settings,
        ev: Evidence::default(),
        seen: HashSet::new(),
        down: false,
        autoscalers: HashMap::new(),
    };
    if subjects.is_empty() {
        g.ev.notes.push(
            "the alerts name no pod, workload, node, claim or service (labels pod, deployment, statefulset, \
             daemonset, job_name, node, persistentvolumeclaim, horizontalpodautoscaler, service)"
                .into(),
        );
    }
    for s in subjects {
        if g.down {
            break;
        }
        let ns = s.namespace.as_ref().map(|n| n.as_str().to_string());
        g.subject(s.kind, ns.as_deref(), s.name.as_str(), s.container.as_deref(), &s.via).await;
    }
    g.finish()
}

struct Gatherer<'a> {
    cluster: &'a dyn ClusterRead,
    settings: &'a EvidenceSettings,
    ev: Evidence,
    seen: HashSet<(SubjectKind, String, String)>,
    /// The API is unreachable: stop reading.
    down: bool,
    /// HorizontalPodAutoscalers per namespace, read once.
    autoscalers: HashMap<String, Vec<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>>,
}

#[path = "gather_objects.rs"]
mod objects;

impl Gatherer<'_> {
    /// Records a read error as a note; returns `None` so callers can `?`-style skip.
    fn failed<T>(&mut self, what: &str, result: Result<T, ClusterError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                if matches!(e, ClusterError::Unreachable(_) | ClusterError::Timeout(_)) {
                    self.down = true;
                }
                self.ev.notes.push(format!("could not read {what}: {e}"));
                None
            }
        }
    }

    fn first_visit(&mut self, kind: SubjectKind, ns: Option<&str>, name: &str) -> bool {
        self.seen.insert((kind, ns.unwrap_or_default().to_string(), name.to_string()))
    }

    fn record_subject(&mut self, kind: SubjectKind, ns: Option<&str>, name: &str, found: bool, via: &str) {
        self.ev.subjects.push(SubjectFacts {
            kind,
            namespace: ns.map(str::to_string),
            name: name.to_string(),
            found,
            via: via.to_string(),
        });
        if !found {
            let ns = ns.map(|n| format!("{n}/")).unwrap_or_default();
            self.ev.notes.push(format!("{} {ns}{name} does not exist (any more)", kind.as_str()));
        }
    }

    async fn subject(&mut self, kind: SubjectKind, ns: Option<&str>, name: &str, container: Option<&str>, via: &str) {
        if !self.first_visit(kind, ns, name) {
            return;
        }
        let ns_str = ns.unwrap_or_default();
        match kind {
            SubjectKind::Pod => {
                let what = format!("Pod {ns_str}/{name}");
                let Some(pod) = self.failed(&what, self.cluster.pod(ns_str, name).await) else { return };
                self.record_subject(kind, ns, name, pod.is_some(), via);
                if let Some(pod) = pod {
                    self.pod(&pod, container, true).await;
                }
            }
            SubjectKind::ReplicaSet => {
                let what = format!("ReplicaSet {ns_str}/{name}");
                let Some(rs) = self.failed(&what, self.cluster.replica_set(ns_str, name).await) else { return };
                self.record_subject(kind, ns, name, rs.is_some(), via);
                if let Some((owner_kind, owner)) = rs.as_ref().and_then(|rs| controller_of(&rs.metadata))
                    && owner_kind == "Deployment"
                {
                    let via = format!("owner of ReplicaSet {ns_str}/{name}");
                    Box::pin(self.subject(SubjectKind::Deployment, ns, &owner, None, &via)).await;
                }
            }
            SubjectKind::Node => self.node(name, via, true).await,
            SubjectKind::Deployment | SubjectKind::StatefulSet | SubjectKind::DaemonSet | SubjectKind::Job => {
                self.workload(kind, ns_str, name, via).await;
            }
            SubjectKind::Service => self.service(ns_str, name, via).await,
            SubjectKind::HorizontalPodAutoscaler => self.autoscaler(ns_str, name, via).await,
            SubjectKind::PersistentVolumeClaim => self.claim(ns_str, name, via, None).await,
        }
    }

    /// A pod's facts, owner chain, events and logs; `deep` also reads its node and logs.
    async fn pod(&mut self, pod: &Pod, container: Option<&str>, deep: bool) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let mut owners = Vec::new();
        let mut workload: Option<(SubjectKind, String)> = None;
        if let Some((kind, owner)) = controller_of(&pod.metadata) {
            owners.push(format!("{kind} {owner}"));
            if kind == "ReplicaSet" {
                let rs = self.failed(&format!("ReplicaSet {ns}/{owner}"), self.cluster.replica_set(&ns, &owner).await);
                if let Some((k, d)) = rs.flatten().as_ref().and_then(|rs| controller_of(&rs.metadata)) {
                    owners.push(format!("{k} {d}"));
                    if k == "Deployment" {
                        workload = Some((SubjectKind::Deployment, d));
                    }
                }
            } else {
                workload = match kind.as_str() {
                    "StatefulSet" => Some((SubjectKind::StatefulSet, owner)),
                    "DaemonSet" => Some((SubjectKind::DaemonSet, owner)),
                    "Job" => Some((SubjectKind::Job, owner)),
                    _ => None,
                };
            }
        }
        let facts = facts::pod_facts(pod, owners);
        let node = facts.node.clone();
        let claims = if facts.phase == "Pending" { super::objects::claims_of(pod) } else { Vec::new() };
        let log_containers: Vec<(String, i32)> = {
            let named = container.filter(|c| facts.containers.iter().any(|f| f.name == *c));
            let mut picked: Vec<(String, i32)> = match named {
                Some(c) => {
                    facts.containers.iter().filter(|f| f.name == c).map(|f| (f.name.clone(), f.restarts)).collect()
                }
                None => facts
                    .containers
                    .iter()
                    .filter(|f| !f.ready || f.restarts > 0)
                    .map(|f| (f.name.clone(), f.restarts))
                    .collect(),
            };
            if picked.is_empty() {
                picked.extend(facts.containers.first().map(|f| (f.name.clone(), f.restarts)));
            }
            picked.truncate(2);
            picked
        };
        self.ev.pods.push(facts);
        self.events(Some(&ns), "Pod", &name).await;
        for claim in claims {
            let via = format!("volume of Pod {ns}/{name}");
            self.claim(&ns, &claim, &via, Some(&name)).await;
        }
        if deep {
            for (c, restarts) in log_containers {
                if restarts > 0 {
                    self.log(&ns, &name, &c, true).await;
                }
                self.log(&ns, &name, &c, false).await;
            }
            if let Some(node) = node {
                self.node(&node, &format!("node of Pod {ns}/{name}"), false).await;
            }
        }
        if let Some((kind, owner)) = workload {
            let via = format!("owner of Pod {ns}/{name}");
            Box::pin(self.subject(kind, Some(&ns), &owner, None, &via)).await;
        }
    }

    async fn node(&mut self, name: &str, via: &str, named_by_alert: bool) {
        if !named_by_alert && !self.first_visit(SubjectKind::Node, None, name) {
            return;
        }
        let Some(node) = self.failed(&format!("Node {name}"), self.cluster.node(name).await) else { return };
        let Some(node) = node else {
            if named_by_alert {
                self.record_subject(SubjectKind::Node, None, name, false, via);
            }
            return;
        };
        let facts = facts::node_facts(&node);
        let healthy = facts.ready == "True" && facts.conditions.is_empty() && !facts.unschedulable;
        if named_by_alert {
            self.record_subject(SubjectKind::Node, None, name, true, via);
        } else if healthy {
            return; // A healthy node of a pod is not evidence worth the budget.
        }
        self.ev.nodes.push(facts);
        self.events(None, "Node", name).await;
        if named_by_alert {
            let pods = self.failed(&format!("pods on Node {name}"), self.cluster.pods_on_node(name).await);
            let mut unhealthy: Vec<Pod> = pods.unwrap_or_default().into_iter().filter(is_unhealthy).collect();
            unhealthy.truncate(self.settings.max_pods);
            for pod in unhealthy {
                Box::pin(self.pod(&pod, None, false)).await;
            }
        }
    }

    async fn workload(&mut self, kind: SubjectKind, ns: &str, name: &str, via: &str) {
        let what = format!("{} {ns}/{name}", kind.as_str());
        let (facts, selector): (Option<WorkloadFacts>, Labels) = match kind {
            SubjectKind::Deployment => match self.failed(&what, self.cluster.deployment(ns, name).await) {
                Some(Some(d)) => {
                    let mut f = facts::deployment_facts(&d);
                    let selector = d.spec.selector.match_labels.clone().unwrap_or_default();
                    f.rollout = self.rollout(ns, name, &selector).await;
                    (Some(f), selector)
                }
                Some(None) => (None, Labels::new()),
                None => return,
            },
            SubjectKind::StatefulSet => match self.failed(&what, self.cluster.stateful_set(ns, name).await) {
                Some(Some(s)) => {
                    let selector = s.spec.selector.match_labels.clone().unwrap_or_default();
                    (Some(facts::stateful_set_facts(&s)), selector)
                }
                Some(None) => (None, Labels::new()),
                None => return,
            },
            SubjectKind::DaemonSet => match self.failed(&what, self.cluster.daemon_set(ns, name).await) {
                Some(Some(d)) => {
                    let selector = d.spec.selector.match_labels.clone().unwrap_or_default();
                    (Some(facts::daemon_set_facts(&d)), selector)
                }
                Some(None) => (None, Labels::new()),
                None => return,
            },
            SubjectKind::Job => match self.failed(&what, self.cluster.job(ns, name).await) {
                Some(Some(j)) => (Some(job_facts(&j)), Labels::from([("job-name".to_string(), name.to_string())])),
                Some(None) => (None, Labels::new()),
                None => return,
            },
            _ => return,
        };
        self.record_subject(kind, Some(ns), name, facts.is_some(), via);
        let Some(facts) = facts else { return };
        self.ev.workloads.push(facts);
        self.events(Some(ns), kind.as_str(), name).await;
        if matches!(kind, SubjectKind::Deployment | SubjectKind::StatefulSet) {
            self.autoscalers_of(kind, ns, name).await;
        }
        if selector.is_empty() {
            return;
        }
        let pods = self.failed(&format!("pods of {what}"), self.cluster.pods(Some(ns), &selector).await);
        let mut pods = pods.unwrap_or_default();
        pods.sort_by_key(|p| !is_unhealthy(p));
        let already: HashSet<String> = self.ev.pods.iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect();
        let mut deep = !self.ev.pods.iter().any(|p| !p.ready);
        for pod in pods.iter().filter(|p| is_unhealthy(p)).take(self.settings.max_pods) {
            let key = format!("{ns}/{}", pod.metadata.name.as_deref().unwrap_or_default());
            if already.contains(&key) {
                continue;
            }
            // Logs of one unhealthy pod are enough; the others show state and events.
            Box::pin(self.pod(pod, None, deep)).await;
            deep = false;
        }
    }

    /// The change between the two newest ReplicaSets of a Deployment.
    async fn rollout(
        &mut self,
        ns: &str,
        deployment: &str,
        selector: &Labels,
    ) -> Option<crate::cluster::evidence::RolloutChange> {
        let what = format!("ReplicaSets of Deployment {ns}/{deployment}");
        let sets = self.failed(&what, self.cluster.replica_sets(ns, selector).await)?;
        let revision = |rs: &k8s_openapi::api::apps::v1::ReplicaSet| {
            rs.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(REVISION))
                .and_then(|r| r.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let mut owned: Vec<_> = sets
            .into_iter()
            .filter(|rs| controller_of(&rs.metadata).is_some_and(|(k, n)| k == "Deployment" && n == deployment))
            .collect();
        owned.sort_by_key(|rs| std::cmp::Reverse(revision(rs)));
        match owned.as_slice() {
            [newer, older, ..] => Some(facts::rollout_change(newer, older)),
            _ => None,
        }
    }

    async fn events(&mut self, ns: Option<&str>, kind: &str, name: &str) {
        if self.settings.max_events == 0 {
            return;
        }
        let what = format!("events of {kind} {name}");
        if let Some(events) = self.failed(&what, self.cluster.events_for(ns, kind, name).await) {
            self.ev.events.extend(events.iter().filter_map(facts::event_facts));
        }
    }

    async fn log(&mut self, ns: &str, pod: &str, container: &str, previous: bool) {
        let request = LogRequest {
            container: Some(container.to_string()),
            previous,
            tail_lines: self.settings.log_tail_lines,
            limit_bytes: self.settings.log_limit_bytes,
        };
        let which = if previous { "previous log" } else { "log" };
        let what = format!("{which} of {ns}/{pod}/{container}");
        let Some(text) = self.failed(&what, self.cluster.logs(ns, pod, &request).await) else { return };
        if text.trim().is_empty() {
            return;
        }
        let truncated = text.len() as u64 >= u64::from(self.settings.log_limit_bytes)
            || text.lines().count() as u64 >= u64::from(self.settings.log_tail_lines);
        self.ev.logs.push(LogExcerpt {
            namespace: ns.to_string(),
            pod: pod.to_string(),
            container: container.to_string(),
            previous,
            text,
            truncated,
        });
    }

    fn finish(mut self) -> Evidence {
        let ev = &mut self.ev;
        ev.events.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
        ev.events.dedup_by(|a, b| a.object == b.object && a.reason == b.reason && a.message == b.message);
        if ev.events.len() > self.settings.max_events {
            let dropped = ev.events.len() - self.settings.max_events;
            ev.events.truncate(self.settings.max_events);
            ev.notes.push(format!("{dropped} older warning events not kept (evidence.max_events)"));
        }
        if self.down {
            ev.notes.push("stopped reading: the Kubernetes API is unreachable".into());
        }
        facts::redact_all(ev);
        self.ev
    }
}

fn job_facts(j: &k8s_openapi::api::batch::v1::Job) -> WorkloadFacts {
    let st = j.status.as_ref();
    let conditions = st
        .and_then(|s| s.conditions.as_ref())
        .map(|cs| {
            cs.iter()
                .filter(|c| c.status == "True" && c.type_ != "Complete")
                .map(|c| format!("{}={}: {}", c.type_, c.status, c.reason.as_deref().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    WorkloadFacts {
        kind: SubjectKind::Job,
        namespace: j.metadata.namespace.clone().unwrap_or_default(),
        name: j.metadata.name.clone().unwrap_or_default(),
        desired: j.spec.as_ref().and_then(|s| s.completions).unwrap_or(1),
        ready: st.and_then(|s| s.succeeded).unwrap_or(0),
        updated: st.and_then(|s| s.failed).unwrap_or(0),
        available: st.and_then(|s| s.active).unwrap_or(0),
        revision: None,
        images: Vec::new(),
        resources: Vec::new(),
        conditions,
        rollout: None,
    }
}
