//! The demo's cluster: four scenarios from the public suite (`tests/scenarios/`), compiled into
//! the binary so `mimi demo` works from any folder, merged into one sandbox cluster.
//!
//! Objects are merged by kind, namespace and name; the first scenario listing one wins (the
//! scenarios share only healthy nodes of the same name).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context;
use serde_json::Value;

/// One bundled scenario: its cluster, its alert, its log files (path under `logs/`, text).
pub struct Scenario {
    pub name: &'static str,
    /// What a newcomer should try on it.
    pub try_this: &'static str,
    pub cluster: &'static str,
    pub alert: &'static str,
    pub logs: &'static [(&'static str, &'static str)],
}

macro_rules! scenario_file {
    ($dir:literal, $file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios/", $dir, "/", $file))
    };
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "node-notready-orders",
        try_this: "a node went NotReady: cordon/drain is high risk and needs two approvers",
        cluster: scenario_file!("node-notready-orders", "cluster.yaml"),
        alert: scenario_file!("node-notready-orders", "alert.json"),
        logs: &[],
    },
    Scenario {
        name: "crashloop-payments",
        try_this: "a crash loop that a restart fixes: approve the restart and watch it verify",
        cluster: scenario_file!("crashloop-payments", "cluster.yaml"),
        alert: scenario_file!("crashloop-payments", "alert.json"),
        logs: &[
            (
                "pay/payments-7c9d8b6f5-abcde/api.log",
                scenario_file!("crashloop-payments", "logs/pay/payments-7c9d8b6f5-abcde/api.log"),
            ),
            (
                "pay/payments-7c9d8b6f5-abcde/api.previous.log",
                scenario_file!("crashloop-payments", "logs/pay/payments-7c9d8b6f5-abcde/api.previous.log"),
            ),
            (
                "pay/payments-7c9d8b6f5-fghij/api.log",
                scenario_file!("crashloop-payments", "logs/pay/payments-7c9d8b6f5-fghij/api.log"),
            ),
            (
                "pay/payments-7c9d8b6f5-fghij/api.previous.log",
                scenario_file!("crashloop-payments", "logs/pay/payments-7c9d8b6f5-fghij/api.previous.log"),
            ),
        ],
    },
    Scenario {
        name: "oomkilled-checkout",
        try_this: "an OOM kill: a restart is only a stopgap, and the diagnosis says so",
        cluster: scenario_file!("oomkilled-checkout", "cluster.yaml"),
        alert: scenario_file!("oomkilled-checkout", "alert.json"),
        logs: &[(
            "shop/checkout-6d8f7c9b4-q2x7m/app.previous.log",
            scenario_file!("oomkilled-checkout", "logs/shop/checkout-6d8f7c9b4-q2x7m/app.previous.log"),
        )],
    },
    Scenario {
        name: "bad-image-frontend",
        try_this: "a bad image after a rollout: Mimi proposes the rollback",
        cluster: scenario_file!("bad-image-frontend", "cluster.yaml"),
        alert: scenario_file!("bad-image-frontend", "alert.json"),
        logs: &[],
    },
];

/// Writes the merged scenario folder (`cluster.yaml`, `logs/`) into `dir`.
pub fn write_cluster(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut seen = BTreeSet::new();
    let mut docs = Vec::new();
    for s in SCENARIOS {
        for doc in s.cluster.split("\n---") {
            let value: Value = serde_yaml_ng::from_str(doc).with_context(|| format!("bundled scenario {}", s.name))?;
            if value.is_null() {
                continue;
            }
            let key = (
                value["kind"].as_str().unwrap_or_default().to_string(),
                value["metadata"]["namespace"].as_str().unwrap_or_default().to_string(),
                value["metadata"]["name"].as_str().unwrap_or_default().to_string(),
            );
            if seen.insert(key) {
                docs.push(doc.trim_matches('\n').to_string());
            }
        }
        for (path, text) in s.logs {
            let file = dir.join("logs").join(path);
            std::fs::create_dir_all(file.parent().expect("a log file has a folder"))?;
            std::fs::write(&file, text)?;
        }
    }
    std::fs::write(dir.join("cluster.yaml"), docs.join("\n---\n") + "\n")?;
    Ok(())
}

/// The scenario's alert payload, with its alerts starting `minutes_ago` before `now` (so the demo
/// reads like something that just happened).
pub fn alert(s: &Scenario, now: jiff::Timestamp, minutes_ago: i64) -> anyhow::Result<Value> {
    let mut payload: Value = serde_json::from_str(s.alert).with_context(|| format!("bundled alert {}", s.name))?;
    let start = now - jiff::SignedDuration::from_mins(minutes_ago);
    for a in payload["alerts"].as_array_mut().into_iter().flatten() {
        a["startsAt"] = Value::String(start.to_string());
    }
    Ok(payload)
}

/// The scenario's Alertmanager group key.
pub fn group_key(s: &Scenario) -> anyhow::Result<String> {
    let payload: Value = serde_json::from_str(s.alert).with_context(|| format!("bundled alert {}", s.name))?;
    Ok(payload["groupKey"].as_str().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_merged_cluster_loads_in_the_sandbox_with_every_scenarios_objects() {
        let dir = tempfile::tempdir().unwrap();
        write_cluster(dir.path()).unwrap();
        let scenario = crate::sandbox::scenario::load(dir.path()).unwrap();
        let names: Vec<String> = scenario
            .docs
            .iter()
            .map(|d| d.object["metadata"]["name"].as_str().unwrap_or_default().to_string())
            .collect();
        for expected in ["payments", "checkout", "frontend", "worker-2"] {
            assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
        }
        assert_eq!(names.iter().filter(|n| *n == "worker-1").count(), 1, "nodes are merged, not doubled");
        assert_eq!(scenario.logs.len(), 5);
    }

    #[test]
    fn alerts_are_re_timed_to_now() {
        let now: jiff::Timestamp = "2030-01-01T12:00:00Z".parse().unwrap();
        let p = alert(&SCENARIOS[1], now, 5).unwrap();
        assert_eq!(p["alerts"][0]["startsAt"], "2030-01-01T11:55:00Z");
    }
}
