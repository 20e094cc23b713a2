//! A read-only view of an [`AnalysisInput`] for the rules: which containers fail and how, which
//! workload owns a pod, which revision it runs, which log lines say why. Pure; structured facts
//! only — free text (logs, event messages) is quoted as evidence, never obeyed.

use std::sync::LazyLock;

use jiff::Timestamp;
use regex::Regex;

use super::RuleOptions;
use super::hostile;
use crate::analyze::AnalysisInput;
use crate::cluster::evidence::{ContainerFacts, EventFacts, Evidence, PodFacts, SubjectKind, WorkloadFacts};

/// What the rules look at.
pub(crate) struct Ctx<'a> {
    pub input: &'a AnalysisInput,
    pub ev: &'a Evidence,
    pub opts: &'a RuleOptions,
}

/// A container that is not well, with its pod.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Failing<'a> {
    pub pod: &'a PodFacts,
    pub container: &'a ContainerFacts,
}

impl Failing<'_> {
    /// The reason of a waiting state, e.g. "CrashLoopBackOff".
    pub fn waiting_reason(&self) -> Option<&str> {
        let rest = self.container.state.strip_prefix("waiting: ")?;
        Some(rest.split(':').next().unwrap_or(rest).trim())
    }

    /// The message of a waiting state, if the kubelet gave one.
    pub fn waiting_message(&self) -> Option<&str> {
        let rest = self.container.state.strip_prefix("waiting: ")?;
        rest.split_once(": ").map(|(_, m)| m.trim()).filter(|m| !m.is_empty())
    }

    /// The container (or its previous instance) was killed for memory.
    pub fn oom(&self) -> bool {
        self.container.last_termination.as_deref().is_some_and(|t| t.starts_with("OOMKilled"))
            || self.container.state.contains("OOMKilled")
    }

    /// How the previous instance ended, or the current one if it is terminated.
    pub fn termination(&self) -> Option<String> {
        self.container
            .last_termination
            .clone()
            .or_else(|| self.container.state.strip_prefix("terminated: ").map(str::to_string))
    }
}

/// A workload as the rules name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WorkloadRef {
    pub kind: SubjectKind,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind.as_str(), self.namespace, self.name)
    }
}

static ERROR_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(error|fatal|panic|exception|oom|out of memory|outofmemory|killed|refused|timed? ?out|failed|failure|cannot|can't|unable|denied|no such|not found|missing|invalid)",
    )
    .expect("valid regex")
});

impl<'a> Ctx<'a> {
    /// Whether any alert of the incident has one of these names.
    pub fn alert_named(&self, names: &[&str]) -> bool {
        self.input.alerts.iter().any(|a| names.contains(&a.name()))
    }

    /// The earliest `startsAt` of the incident's alerts.
    pub fn alert_start(&self) -> Option<Timestamp> {
        self.input.alerts.iter().filter_map(|a| a.starts_at.parse::<Timestamp>().ok()).min()
    }

    /// Every container that is not ready or has restarted, pods in evidence order.
    fn containers(&self) -> impl Iterator<Item = Failing<'a>> + 'a {
        self.ev.pods.iter().flat_map(|pod| pod.containers.iter().map(move |container| Failing { pod, container }))
    }

    /// Containers waiting for one of `reasons` (e.g. "ImagePullBackOff").
    pub fn waiting(&self, reasons: &[&str]) -> Vec<Failing<'a>> {
        self.containers().filter(|f| f.waiting_reason().is_some_and(|r| reasons.contains(&r))).collect()
    }

    /// Containers that crash: in CrashLoopBackOff, or not ready after restarts that ended badly.
    pub fn crashing(&self) -> Vec<Failing<'a>> {
        self.containers()
            .filter(|f| {
                let c = f.container;
                f.waiting_reason() == Some("CrashLoopBackOff")
                    || (!c.ready
                        && c.restarts > 0
                        && (c.last_termination.is_some() || c.state.starts_with("terminated")))
                    || (!c.ready && f.pod.phase == "Running" && c.state.contains("OOMKilled"))
            })
            .collect()
    }

    /// The workload that owns a pod: the last of its owner chain, if it is one Mimi can act on
    /// (Deployment, StatefulSet, DaemonSet) or a Job.
    pub fn owner(&self, pod: &PodFacts) -> Option<WorkloadRef> {
        let last = pod.owners.last()?;
        let (kind, name) = last.split_once(' ')?;
        let kind = match kind {
            "Deployment" => SubjectKind::Deployment,
            "StatefulSet" => SubjectKind::StatefulSet,
            "DaemonSet" => SubjectKind::DaemonSet,
            "Job" => SubjectKind::Job,
            _ => return None,
        };
        Some(WorkloadRef { kind, namespace: pod.namespace.clone(), name: name.to_string() })
    }

    /// The gathered facts of a workload (so it exists).
    pub fn workload(&self, w: &WorkloadRef) -> Option<&'a WorkloadFacts> {
        self.ev.workloads.iter().find(|f| f.kind == w.kind && f.namespace == w.namespace && f.name == w.name)
    }

    /// The ReplicaSet a pod belongs to.
    pub fn replica_set_of(pod: &PodFacts) -> Option<&str> {
        pod.owners.iter().find_map(|o| o.strip_prefix("ReplicaSet "))
    }

    /// Failing containers grouped by owning workload, the largest group first (stable otherwise).
    pub fn by_owner(&self, failing: &[Failing<'a>]) -> Vec<(Option<WorkloadRef>, Vec<Failing<'a>>)> {
        let mut groups: Vec<(Option<WorkloadRef>, Vec<Failing<'a>>)> = Vec::new();
        for f in failing {
            let owner = self.owner(f.pod);
            match groups.iter_mut().find(|(o, _)| *o == owner) {
                Some((_, list)) => list.push(*f),
                None => groups.push((owner, vec![*f])),
            }
        }
        groups.sort_by_key(|(_, list)| std::cmp::Reverse(distinct_pods(list)));
        groups
    }

    /// Warning events about one object, e.g. ("Pod", "checkout-1").
    pub fn events_about(&self, kind: &str, name: &str) -> impl Iterator<Item = &'a EventFacts> + 'a {
        let object = format!("{kind}/{name}");
        self.ev.events.iter().filter(move |e| e.object == object)
    }

    /// The log lines that say why a container fails: lines that read like errors, the previous
    /// instance first, at most `max`, newest kept. Lines that read like instructions are left out
    /// (they are flagged, never quoted as a reason). Falls back to the last line of the log.
    pub fn error_lines(&self, pod: &PodFacts, container: &str, max: usize) -> Vec<String> {
        let mut logs: Vec<_> = self
            .ev
            .logs
            .iter()
            .filter(|l| l.namespace == pod.namespace && l.pod == pod.name && l.container == container)
            .collect();
        logs.sort_by_key(|l| !l.previous);
        for log in logs {
            let usable: Vec<&str> =
                log.text.lines().map(str::trim).filter(|l| !l.is_empty() && !hostile::is_instruction(l)).collect();
            let errors: Vec<&str> = usable.iter().copied().filter(|l| ERROR_LINE.is_match(l)).collect();
            let picked = if errors.is_empty() { usable.last().map(|l| vec![*l]).unwrap_or_default() } else { errors };
            if !picked.is_empty() {
                return picked[picked.len().saturating_sub(max)..].iter().map(|l| clip(l, 200)).collect();
            }
        }
        Vec::new()
    }

    /// Subjects the alerts name that do not exist.
    pub fn missing_subjects(&self) -> Vec<String> {
        self.ev
            .subjects
            .iter()
            .filter(|s| !s.found)
            .map(|s| match &s.namespace {
                Some(ns) => format!("{} {ns}/{}", s.kind.as_str(), s.name),
                None => format!("{} {}", s.kind.as_str(), s.name),
            })
            .collect()
    }
}

/// How many different pods a list of failing containers spans.
pub(crate) fn distinct_pods(list: &[Failing<'_>]) -> usize {
    let mut names: Vec<&str> = list.iter().map(|f| f.pod.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

/// A memory figure from a resources text like "limits cpu=500m memory=256Mi; requests memory=128Mi".
pub(crate) fn resource(text: &str, section: &str, name: &str) -> Option<String> {
    let part = text.split(';').map(str::trim).find(|p| p.starts_with(section))?;
    part.split_whitespace().find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_string))
}

pub(crate) fn clip(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
