//! Gathering the objects around workloads: the Services an alert names (and the pods behind them),
//! HorizontalPodAutoscalers, and PersistentVolumeClaims. Same rules as the rest of `gather`:
//! errors become notes, each object is read once.

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;

use super::super::objects::{autoscaler_facts, claim_facts, scales, service_facts};
use super::{Gatherer, SubjectKind, is_unhealthy};
use crate::cluster::Labels;

impl Gatherer<'_> {
    /// A Service, counts of the pods it selects, and the unhealthy ones (or one healthy pod, so the
    /// workload behind it is known).
    pub(super) async fn service(&mut self, ns: &str, name: &str, via: &str) {
        let what = format!("Service {ns}/{name}");
        let Some(service) = self.failed(&what, self.cluster.service(ns, name).await) else { return };
        self.record_subject(SubjectKind::Service, Some(ns), name, service.is_some(), via);
        let Some(service) = service else { return };
        let selector: Labels = service.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
        if selector.is_empty() {
            self.ev.services.push(service_facts(&service, &[]));
            return;
        }
        let pods = self.failed(&format!("pods of {what}"), self.cluster.pods(Some(ns), &selector).await);
        let pods = pods.unwrap_or_default();
        self.ev.services.push(service_facts(&service, &pods));
        let mut picked: Vec<_> = pods.iter().filter(|p| is_unhealthy(p)).take(self.settings.max_pods).collect();
        if picked.is_empty() {
            picked.extend(pods.first());
        }
        let mut deep = true;
        for pod in picked {
            Box::pin(self.pod(pod, None, deep)).await;
            deep = false;
        }
    }

    /// The namespace's autoscalers, listed once per gathering.
    async fn namespace_autoscalers(&mut self, ns: &str) -> Vec<HorizontalPodAutoscaler> {
        if let Some(list) = self.autoscalers.get(ns) {
            return list.clone();
        }
        let what = format!("HorizontalPodAutoscalers in {ns}");
        let list = self.failed(&what, self.cluster.autoscalers(ns).await).unwrap_or_default();
        self.autoscalers.insert(ns.to_string(), list.clone());
        list
    }

    /// The autoscalers that scale a workload.
    pub(super) async fn autoscalers_of(&mut self, kind: SubjectKind, ns: &str, name: &str) {
        for h in self.namespace_autoscalers(ns).await.iter().filter(|h| scales(h, kind.as_str(), name)) {
            let hpa = h.metadata.name.clone().unwrap_or_default();
            if self.first_visit(SubjectKind::HorizontalPodAutoscaler, Some(ns), &hpa) {
                self.ev.autoscalers.push(autoscaler_facts(h));
                self.events(Some(ns), "HorizontalPodAutoscaler", &hpa).await;
            }
        }
    }

    /// An autoscaler an alert names, and the workload it scales.
    pub(super) async fn autoscaler(&mut self, ns: &str, name: &str, via: &str) {
        let list = self.namespace_autoscalers(ns).await;
        let found = list.iter().find(|h| h.metadata.name.as_deref() == Some(name));
        self.record_subject(SubjectKind::HorizontalPodAutoscaler, Some(ns), name, found.is_some(), via);
        let Some(h) = found else { return };
        self.first_visit(SubjectKind::HorizontalPodAutoscaler, Some(ns), name);
        self.ev.autoscalers.push(autoscaler_facts(h));
        self.events(Some(ns), "HorizontalPodAutoscaler", name).await;
        let target = h.spec.scale_target_ref.clone();
        let kind = match target.kind.as_str() {
            "Deployment" => SubjectKind::Deployment,
            "StatefulSet" => SubjectKind::StatefulSet,
            _ => return,
        };
        let via = format!("target of HorizontalPodAutoscaler {ns}/{name}");
        Box::pin(self.subject(kind, Some(ns), &target.name, None, &via)).await;
    }

    /// A claim, named by an alert (`pod` is `None`) or mounted by a pending pod.
    pub(super) async fn claim(&mut self, ns: &str, name: &str, via: &str, pod: Option<&str>) {
        if let Some(known) = self.ev.claims.iter_mut().find(|c| c.namespace == ns && c.name == name) {
            known.used_by.extend(pod.map(str::to_string));
            return;
        }
        let what = format!("PersistentVolumeClaim {ns}/{name}");
        let Some(claim) = self.failed(&what, self.cluster.persistent_volume_claim(ns, name).await) else { return };
        if pod.is_none() || claim.is_none() {
            self.record_subject(SubjectKind::PersistentVolumeClaim, Some(ns), name, claim.is_some(), via);
        }
        let Some(claim) = claim else { return };
        self.ev.claims.push(claim_facts(&claim, pod.map(str::to_string).into_iter().collect()));
        self.events(Some(ns), "PersistentVolumeClaim", name).await;
    }
}
