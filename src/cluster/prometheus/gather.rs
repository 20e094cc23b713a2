//! What to ask Prometheus about an incident, and how the answers become `MetricsFacts`.
//!
//! First each alert's own expression over the window (its series picked out by the alert's labels),
//! then per subject the key series of its containers, or of the node. The queries of one subject
//! run together. An outage (unreachable, timeout, 401/403/5xx) ends gathering with one note;
//! other failures become a note each. No query starts once `BUDGET_TIMEOUTS` query timeouts have
//! passed, so gathering ends within about four. Everything that came back is redacted at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::join_all;

use super::facts::{AlertExprFacts, ContainerMetrics, ExprSeries, MetricsFacts, NodeMetrics, Stat};
use super::generator::AlertExpr;
use super::promql::{ContainerQuery, NodeQuery, matchers};
use super::{AlertRef, MetricsSource, Series, TimeRange};
use crate::cluster::evidence::{Subject, SubjectKind};
use crate::config::PrometheusSettings;
use crate::domain::alert::Labels;
use crate::domain::redact::redact;

const MAX_SUBJECTS: usize = 5;
const MAX_ALERT_EXPRS: usize = 3;
const MAX_EXPR_SERIES: usize = 5;
const MAX_CONTAINERS_PER_SUBJECT: usize = 6;
/// All of gathering may take this many query timeouts (each batch of queries runs in parallel and
/// is bounded by one timeout).
const BUDGET_TIMEOUTS: u64 = 3;

/// Gathers the metrics evidence for `subjects` and `alerts` over the last
/// `settings.lookback_minutes`. Never fails: what could not be read is in `notes`.
pub async fn gather_metrics(
    source: &dyn MetricsSource,
    subjects: &[Subject],
    alerts: &[AlertRef],
    settings: &PrometheusSettings,
) -> MetricsFacts {
    let now = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
    let lookback = settings.lookback_minutes;
    let mut g = Gatherer {
        source,
        lookback,
        now,
        range: TimeRange::lookback(now, lookback),
        facts: MetricsFacts { lookback_minutes: lookback, ..Default::default() },
        down: false,
        deadline: tokio::time::Instant::now() + Duration::from_secs(settings.timeout_seconds * BUDGET_TIMEOUTS),
        budget_seconds: settings.timeout_seconds * BUDGET_TIMEOUTS,
    };
    g.alerts(alerts).await;
    if subjects.len() > MAX_SUBJECTS {
        g.note(format!("{} more subjects not looked up in Prometheus", subjects.len() - MAX_SUBJECTS));
    }
    for subject in subjects.iter().take(MAX_SUBJECTS) {
        if g.down {
            break;
        }
        match subject.kind {
            SubjectKind::Node => g.node(subject).await,
            // A claim has no containers; its usage is not one of the container queries.
            SubjectKind::PersistentVolumeClaim => {}
            _ => g.containers(subject).await,
        }
    }
    redact_all(&mut g.facts);
    g.facts
}

struct Gatherer<'a> {
    source: &'a dyn MetricsSource,
    lookback: u64,
    now: f64,
    range: TimeRange,
    facts: MetricsFacts,
    /// Prometheus is not usable; ask nothing more.
    down: bool,
    /// No new queries are started after this.
    deadline: tokio::time::Instant,
    budget_seconds: u64,
}

impl Gatherer<'_> {
    fn note(&mut self, note: String) {
        let note = clip(&note, 400);
        // The queries of one subject tend to fail alike: say it once.
        if !self.facts.notes.contains(&note) {
            self.facts.notes.push(note);
        }
    }

    /// Runs queries together; a failure becomes a note (or ends gathering) and `None`.
    async fn ask(&mut self, what: &str, queries: &[(String, bool)]) -> Vec<Option<Vec<Series>>> {
        if !self.down && tokio::time::Instant::now() >= self.deadline {
            self.down = true;
            self.note(format!("metrics gathering stopped after {} s; the rest was not asked", self.budget_seconds));
        }
        if self.down {
            return vec![None; queries.len()];
        }
        let (source, range, now) = (self.source, self.range, self.now);
        let answers = join_all(queries.iter().map(|(q, is_range)| async move {
            if *is_range { source.query_range(q, range).await } else { source.query(q, now).await }
        }))
        .await;
        let mut out = Vec::with_capacity(answers.len());
        for answer in answers {
            match answer {
                Ok(series) => out.push(Some(series)),
                Err(e) if e.is_outage() => {
                    if !self.down {
                        self.down = true;
                        self.note(format!("{e}; metrics were not gathered"));
                    }
                    out.push(None);
                }
                Err(e) => {
                    self.note(format!("{what}: {e}"));
                    out.push(None);
                }
            }
        }
        out
    }

    async fn alerts(&mut self, alerts: &[AlertRef]) {
        // Alerts of one group often share a rule: evaluate each expression once.
        let mut exprs: Vec<(AlertExpr, String, Vec<&Labels>)> = Vec::new();
        for alert in alerts {
            let name = alert.labels.get("alertname").cloned().unwrap_or_else(|| "(unnamed)".into());
            match AlertExpr::from_generator_url(&alert.generator_url) {
                Ok(expr) => match exprs.iter_mut().find(|(e, _, _)| *e == expr) {
                    Some((_, _, labels)) => labels.push(&alert.labels),
                    None => exprs.push((expr, name, vec![&alert.labels])),
                },
                Err(why) => self.note(format!("alert {name}: expression not evaluated: {why}")),
            }
        }
        if exprs.len() > MAX_ALERT_EXPRS {
            self.note(format!("{} more alert expressions not evaluated", exprs.len() - MAX_ALERT_EXPRS));
        }
        let window_points = ((self.range.end - self.range.start) / self.range.step_seconds as f64).round() as usize + 1;
        for (expr, name, labels) in exprs.into_iter().take(MAX_ALERT_EXPRS) {
            let what = format!("alert {name} expression");
            let Some(Some(series)) = self.ask(&what, &[(expr.as_str().to_string(), true)]).await.pop() else {
                continue;
            };
            let total_series = series.len();
            let mine: Vec<&Series> = series.iter().filter(|s| labels.iter().any(|l| agrees(&s.labels, l))).collect();
            let shown = if mine.is_empty() { series.iter().collect() } else { mine };
            let end = self.range.end;
            let series = shown
                .into_iter()
                .filter_map(|s| {
                    let value = Stat::of(&s.samples)?;
                    let current = s.samples.last().is_some_and(|(t, v)| v.is_finite() && end - t < 1.0);
                    Some(ExprSeries { labels: label_text(&s.labels), value, current })
                })
                .take(MAX_EXPR_SERIES)
                .collect();
            self.facts.alerts.push(AlertExprFacts {
                alertname: name,
                expr: clip(expr.as_str(), 300),
                series,
                total_series,
                window_points,
            });
        }
    }

    async fn containers(&mut self, subject: &Subject) {
        let sel = matchers(subject);
        let queries: Vec<(String, bool)> =
            ContainerQuery::ALL.iter().map(|q| (q.promql(&sel, self.lookback), q.is_range())).collect();
        let answers = self.ask(&describe(subject), &queries).await;
        if answers.iter().all(Option::is_none) {
            return;
        }
        let mut found: BTreeMap<(String, String, String), ContainerMetrics> = BTreeMap::new();
        for (kind, answer) in ContainerQuery::ALL.iter().zip(answers) {
            for s in answer.unwrap_or_default() {
                let label = |k: &str| s.labels.get(k).cloned().unwrap_or_default();
                let key = (label("namespace"), label("pod"), label("container"));
                let c = found.entry(key.clone()).or_insert_with(|| ContainerMetrics {
                    namespace: key.0,
                    pod: key.1,
                    container: key.2,
                    ..Default::default()
                });
                let stat = Stat::of(&s.samples);
                let last = stat.map(|s| s.last);
                match kind {
                    ContainerQuery::Cpu => c.cpu_cores = stat,
                    ContainerQuery::Throttling => c.cpu_throttled_ratio = stat,
                    ContainerQuery::Memory => c.memory_working_set_bytes = stat,
                    ContainerQuery::Limits if s.labels.get("resource").is_some_and(|r| r == "cpu") => {
                        c.cpu_limit_cores = last
                    }
                    ContainerQuery::Limits => c.memory_limit_bytes = last,
                    ContainerQuery::RestartsIncrease => c.restarts_in_window = last,
                    ContainerQuery::RestartsTotal => c.restarts_total = last,
                }
            }
        }
        if found.is_empty() {
            self.note(format!(
                "{}: no container series in Prometheus (cAdvisor, kube-state-metrics)",
                describe(subject)
            ));
            return;
        }
        // Already reported through another subject (a pod of a deployment the alert also names).
        found.retain(|(ns, pod, ctr), _| {
            !self.facts.containers.iter().any(|c| &c.namespace == ns && &c.pod == pod && &c.container == ctr)
        });
        let mut list: Vec<ContainerMetrics> = found.into_values().collect();
        // The most troubled first: restarts, then memory closest to its limit.
        let memory_share = |c: &ContainerMetrics| match (c.memory_working_set_bytes, c.memory_limit_bytes) {
            (Some(m), Some(l)) if l > 0.0 => m.last / l,
            _ => 0.0,
        };
        list.sort_by(|a, b| {
            let key = |c: &ContainerMetrics| (c.restarts_in_window.unwrap_or(0.0), memory_share(c));
            key(b).partial_cmp(&key(a)).unwrap_or(std::cmp::Ordering::Equal)
        });
        if list.len() > MAX_CONTAINERS_PER_SUBJECT {
            let more = list.len() - MAX_CONTAINERS_PER_SUBJECT;
            self.note(format!("{}: {more} more containers not shown", describe(subject)));
            list.truncate(MAX_CONTAINERS_PER_SUBJECT);
        }
        // Keep each pod's containers together for rendering.
        list.sort_by(|a, b| (&a.namespace, &a.pod).cmp(&(&b.namespace, &b.pod)));
        self.facts.containers.extend(list);
    }

    async fn node(&mut self, subject: &Subject) {
        let name = subject.name.as_str();
        let queries: Vec<(String, bool)> = NodeQuery::ALL.iter().map(|q| (q.promql(name), q.is_range())).collect();
        let answers = self.ask(&describe(subject), &queries).await;
        if answers.iter().all(Option::is_none) {
            return;
        }
        let mut node = NodeMetrics { name: name.to_string(), ..Default::default() };
        for (kind, answer) in NodeQuery::ALL.iter().zip(answers) {
            let series = answer.unwrap_or_default();
            let first = series.first().and_then(|s| Stat::of(&s.samples));
            match kind {
                NodeQuery::Conditions => {
                    node.conditions_true = series.iter().filter_map(|s| s.labels.get("condition").cloned()).collect();
                    node.conditions_true.sort();
                }
                NodeQuery::Ready => node.ready = first,
                NodeQuery::Memory => node.memory_used_ratio = first,
                NodeQuery::RootFs => node.root_fs_used_ratio = first,
            }
        }
        if node.conditions_true.is_empty() && node.ready.is_none() && node.memory_used_ratio.is_none() {
            self.note(format!(
                "{}: no node series in Prometheus (kube-state-metrics, node-exporter)",
                describe(subject)
            ));
            return;
        }
        self.facts.nodes.push(node);
    }
}

/// A series belongs to an alert when every label they share has the same value.
fn agrees(series: &Labels, alert: &Labels) -> bool {
    series.iter().filter(|(k, _)| k.as_str() != "__name__").all(|(k, v)| alert.get(k).is_none_or(|a| a == v))
}

/// `name{a="1", b="2"}` with long values clipped.
fn label_text(labels: &Labels) -> String {
    let name = labels.get("__name__").map(String::as_str).unwrap_or_default();
    let pairs: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{}={:?}", clip(k, 60), clip(v, 80)))
        .collect();
    format!("{name}{{{}}}", pairs.join(", "))
}

fn describe(s: &Subject) -> String {
    let ns = s.namespace.as_ref().map(|n| format!("{n}/")).unwrap_or_default();
    format!("{} {ns}{}", s.kind.as_str(), s.name)
}

fn clip(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Redacts every text field (serialised, walked, read back): nothing can be missed.
fn redact_all(facts: &mut MetricsFacts) {
    fn walk(v: &mut serde_json::Value, hits: &mut usize) {
        match v {
            serde_json::Value::String(s) => {
                let (clean, found) = redact(s);
                if found.total() > 0 {
                    *hits += found.total();
                    *s = clean;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| walk(i, hits)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|i| walk(i, hits)),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(&*facts).expect("metrics facts serialize");
    let mut hits = 0;
    walk(&mut value, &mut hits);
    if hits > 0 {
        *facts = serde_json::from_value(value).expect("redacted metrics facts keep their shape");
    }
    facts.redactions += hits;
}

#[cfg(test)]
#[path = "gather_tests.rs"]
mod tests;
