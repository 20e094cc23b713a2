//! Remembered analyses, keyed by (alert fingerprints, evidence hash), so a re-firing alert with
//! the same evidence makes no new call.
//!
//! The key also covers the cluster, the model, the prompt version and the allowed action kinds
//! (a change to any of them asks again). Fingerprints are computed from the alert labels exactly
//! as Alertmanager computes an alert's `fingerprint` (FNV-1a over the sorted label pairs), so the
//! engine needs to pass nothing extra. Only successful analyses are kept; entries expire after a
//! TTL and the oldest go first when the cache is full.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::AnalysisInput;
use crate::domain::alert::Labels;
use crate::domain::analysis::Analysis;

pub(super) type Key = [u8; 32];

pub(super) struct Cache {
    capacity: usize,
    ttl: Duration,
    inner: Mutex<Entries>,
}

/// The remembered analyses with when they were made, and the order they came in.
#[derive(Default)]
struct Entries {
    map: HashMap<Key, (Instant, Analysis)>,
    order: VecDeque<Key>,
}

impl Cache {
    pub(super) fn new(capacity: usize, ttl: Duration) -> Self {
        Cache { capacity, ttl, inner: Mutex::new(Entries::default()) }
    }

    pub(super) fn get(&self, key: &Key, now: Instant) -> Option<Analysis> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match inner.map.get(key) {
            Some((at, analysis)) if now.saturating_duration_since(*at) < self.ttl => Some(analysis.clone()),
            Some(_) => {
                inner.map.remove(key);
                None
            }
            None => None,
        }
    }

    pub(super) fn put(&self, key: Key, now: Instant, analysis: Analysis) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Entries { map, order } = &mut *inner;
        if map.insert(key, (now, analysis)).is_none() {
            order.push_back(key);
        }
        while map.len() > self.capacity {
            match order.pop_front() {
                Some(old) => drop(map.remove(&old)),
                None => break,
            }
        }
        // Keys re-inserted after removal may sit in `order` twice; keep it bounded.
        if order.len() > 2 * self.capacity {
            order.retain(|k| map.contains_key(k));
        }
    }
}

/// The cache key of an analysis of `input` by `model`.
pub(super) fn key(input: &AnalysisInput, model: &str, prompt_version: &str) -> Key {
    let mut h = Sha256::new();
    for part in [model, prompt_version, &input.cluster] {
        h.update(part.as_bytes());
        h.update([0xff]);
    }
    for fp in fingerprints(input) {
        h.update(fp.as_bytes());
        h.update([0xff]);
    }
    h.update(Sha256::digest(input.evidence_text.as_bytes()));
    match &input.allowed {
        None => h.update(b"any"),
        Some(kinds) => kinds.iter().for_each(|k| h.update(k.as_str().as_bytes())),
    }
    h.finalize().into()
}

/// Which incident an analysis is for, for the per-incident budget: cluster and fingerprints.
pub(super) fn incident(input: &AnalysisInput) -> u64 {
    let mut h = Sha256::new();
    h.update(input.cluster.as_bytes());
    for fp in fingerprints(input) {
        h.update([0xff]);
        h.update(fp.as_bytes());
    }
    let digest = h.finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// The alerts' fingerprints, sorted and without duplicates.
fn fingerprints(input: &AnalysisInput) -> Vec<String> {
    let mut fps: Vec<String> = input.alerts.iter().map(|a| fingerprint(&a.labels)).collect();
    fps.sort();
    fps.dedup();
    fps
}

/// Alertmanager's alert fingerprint (Prometheus `LabelSet.Fingerprint`): FNV-1a 64 over the
/// label names in order, each name and value followed by the byte 0xff, as 16 hex digits.
pub fn fingerprint(labels: &Labels) -> String {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    let mut hash = OFFSET;
    let mut add = |bytes: &[u8]| {
        for b in bytes.iter().chain(std::iter::once(&0xff)) {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    // `Labels` is a BTreeMap: already sorted by name.
    for (name, value) in labels {
        add(name.as_bytes());
        add(value.as_bytes());
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::AlertView;

    fn input(evidence: &str, alertname: &str, starts_at: &str) -> AnalysisInput {
        let mut a = AlertView {
            status: "firing".into(),
            labels: Labels::new(),
            annotations: Labels::new(),
            starts_at: starts_at.into(),
        };
        a.labels.insert("alertname".into(), alertname.into());
        a.annotations.insert("description".into(), format!("value {starts_at}"));
        AnalysisInput { cluster: "prod".into(), alerts: vec![a], evidence_text: evidence.into(), ..Default::default() }
    }

    #[test]
    fn the_key_is_the_alerts_and_the_evidence_not_the_episode() {
        let a = key(&input("ev", "X", "2026-01-01T00:00:00Z"), "m", "v1");
        assert_eq!(a, key(&input("ev", "X", "2026-01-02T00:00:00Z"), "m", "v1"), "a re-firing alert, same evidence");
        assert_ne!(a, key(&input("ev2", "X", "2026-01-01T00:00:00Z"), "m", "v1"), "new evidence");
        assert_ne!(a, key(&input("ev", "Y", "2026-01-01T00:00:00Z"), "m", "v1"), "another alert");
        assert_ne!(a, key(&input("ev", "X", "2026-01-01T00:00:00Z"), "m2", "v1"), "another model");
        assert_ne!(a, key(&input("ev", "X", "2026-01-01T00:00:00Z"), "m", "v2"), "another prompt");
        assert_eq!(incident(&input("a", "X", "1")), incident(&input("b", "X", "2")));
    }

    #[test]
    fn the_fingerprint_is_alertmanagers() {
        // An empty label set hashes to the FNV-1a offset basis, as in Prometheus.
        assert_eq!(fingerprint(&Labels::new()), "cbf29ce484222325");
        // Fingerprints reported by Alertmanager 0.25 (GET /api/v2/alerts) for these label sets.
        let labels =
            |pairs: &[(&str, &str)]| -> Labels { pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() };
        assert_eq!(fingerprint(&labels(&[("alertname", "Test"), ("job", "x")])), "7d462c951641368d");
        let crash = labels(&[
            ("alertname", "KubePodCrashLooping"),
            ("namespace", "shop"),
            ("pod", "checkout-6d8f7c9b4-q2x7m"),
            ("severity", "critical"),
        ]);
        assert_eq!(fingerprint(&crash), "f4c37e791be31539");
    }

    #[test]
    fn entries_expire_and_the_oldest_go_first() {
        let c = Cache::new(2, Duration::from_secs(60));
        let t = Instant::now();
        let analysis = |d: &str| Analysis {
            diagnosis: d.into(),
            facts: vec![],
            confidence: None,
            proposals: vec![],
            flags: vec![],
            analyzer: "llm:m".into(),
            version: "v".into(),
            tokens: None,
            millis: 0,
        };
        c.put([1; 32], t, analysis("one"));
        c.put([2; 32], t, analysis("two"));
        c.put([3; 32], t, analysis("three"));
        assert!(c.get(&[1; 32], t).is_none(), "evicted");
        assert_eq!(c.get(&[3; 32], t).unwrap().diagnosis, "three");
        assert!(c.get(&[2; 32], t + Duration::from_secs(60)).is_none(), "expired");
        let off = Cache::new(0, Duration::from_secs(60));
        off.put([1; 32], t, analysis("x"));
        assert!(off.get(&[1; 32], t).is_none());
    }
}
