//! The Prometheus Operator resources in `k8s/optional/monitoring/`: the alert rules Mimi is built
//! for (with `mimi_allowed_actions` checked against the incident scenarios), and the Alertmanager
//! route to Mimi's Service with the same token Mimi reads. Their CRD fields: `crd.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::api::core::v1::Service;
use mimi::domain::action::ActionKind;
use serde_json::Value;

use super::crd::{ALLOWED_ACTIONS, allowed_actions};
use super::{Doc, all_docs, repo_root, the};

/// Every alerting rule of every PrometheusRule under k8s/, by alert name.
fn alert_rules(docs: &[Doc]) -> BTreeMap<String, Value> {
    let mut rules = BTreeMap::new();
    for doc in docs.iter().filter(|d| d.kind() == "PrometheusRule") {
        for group in doc.value["spec"]["groups"].as_array().unwrap() {
            for rule in group["rules"].as_array().unwrap() {
                if let Some(alert) = rule["alert"].as_str() {
                    assert!(rules.insert(alert.to_string(), rule.clone()).is_none(), "two rules raise {alert}");
                }
            }
        }
    }
    rules
}

#[test]
fn the_prometheus_rules_cover_the_incidents_mimi_is_built_for() {
    let rules = alert_rules(&all_docs());
    let expected = [
        ("KubePodCrashLooping", "CrashLoopBackOff"),
        ("KubeContainerOOMKilled", "OOMKilled"),
        ("CPUThrottlingHigh", "container_cpu_cfs_throttled_periods_total"),
        ("KubeContainerHighCPU", "container_cpu_usage_seconds_total"),
        ("KubePodImagePullError", "ImagePullBackOff"),
        ("KubeNodeNotReady", r#"condition="Ready""#),
        ("Watchdog", "vector(1)"),
    ];
    for (alert, in_expr) in expected {
        let rule = rules.get(alert).unwrap_or_else(|| panic!("no rule raises {alert}"));
        assert!(rule["expr"].as_str().unwrap().contains(in_expr), "{alert}: {}", rule["expr"]);
    }
    // Watchdog fires always and asks for nothing.
    assert_eq!(rules["Watchdog"]["annotations"][ALLOWED_ACTIONS].as_str(), Some(""));
    assert!(rules["Watchdog"].get("for").is_none(), "Watchdog fires at once");
    // Rules about workloads and nodes say what Mimi may propose; Mimi's own rules are for people.
    for (alert, rule) in &rules {
        let annotated = rule["annotations"].get(ALLOWED_ACTIONS).is_some();
        assert_eq!(annotated, !alert.starts_with("Mimi"), "{alert}: {ALLOWED_ACTIONS}");
    }
}

#[test]
fn every_scenario_fix_is_allowed_by_the_rule_that_raises_its_alert() {
    let rules = alert_rules(&all_docs());
    let scenarios = repo_root().join("tests/scenarios");
    let mut checked = 0;
    for entry in std::fs::read_dir(&scenarios).unwrap() {
        let dir = entry.unwrap().path();
        let expect = dir.join("expect.yaml");
        if !expect.is_file() {
            continue;
        }
        let expect: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(&expect).unwrap()).unwrap();
        let payload = ["alert.json", "alerts.json"].iter().map(|f| dir.join(f)).find(|p| p.is_file()).unwrap();
        let payload: Value = serde_json::from_str(&std::fs::read_to_string(&payload).unwrap()).unwrap();
        let first = if payload.is_array() { &payload[0] } else { &payload };
        let alert = first["commonLabels"]["alertname"].as_str().unwrap();
        let name = dir.file_name().unwrap().to_string_lossy();
        let Some(rule) = rules.get(alert) else { panic!("{name}: no example rule raises {alert}") };
        let allowed = allowed_actions(rule["annotations"][ALLOWED_ACTIONS].as_str().unwrap()).unwrap();
        for fix in expect["acceptable"].as_array().unwrap() {
            let kind = ActionKind::parse(fix["kind"].as_str().unwrap()).unwrap();
            assert!(allowed.contains(&kind), "{name}: {alert} does not allow {kind}, the scenario's fix");
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} scenarios with expectations in {}", scenarios.display());
}

#[test]
fn the_alertmanager_config_sends_resolved_alerts_to_mimi_with_the_webhook_token() {
    let docs = all_docs();
    let config = &the(&docs, "AlertmanagerConfig", "mimi").value;
    let service: Service = the(&docs, "Service", "mimi").typed();
    let namespace = service.metadata.namespace.clone().unwrap();
    let port = service.spec.unwrap().ports.unwrap()[0].port;

    let receivers = config["spec"]["receivers"].as_array().unwrap();
    let mimi = receivers.iter().find(|r| r["webhookConfigs"].is_array()).expect("a webhook receiver");
    let webhook = &mimi["webhookConfigs"][0];
    assert_eq!(webhook["url"].as_str().unwrap(), format!("http://mimi.{namespace}.svc:{port}/webhook"));
    assert_eq!(webhook["sendResolved"], Value::Bool(true), "Mimi updates incidents when alerts resolve (A06)");

    // The token is the Secret key Mimi reads as webhook.bearer_token_file, in the same namespace.
    let auth = &webhook["httpConfig"]["authorization"];
    assert_eq!(auth["type"].as_str(), Some("Bearer"));
    assert_eq!(config["metadata"]["namespace"].as_str(), Some(namespace.as_str()));
    let secret = the(&docs, "Secret", auth["credentials"]["name"].as_str().unwrap());
    let key = auth["credentials"]["key"].as_str().unwrap();
    assert!(secret.value["stringData"].get(key).is_some(), "{key} is not a key of {}", secret.at());
    let toml = the(&docs, "ConfigMap", "mimi-config").value["data"]["mimi.toml"].as_str().unwrap().to_string();
    let token_file = toml
        .lines()
        .find_map(|l| l.trim().strip_prefix("bearer_token_file = "))
        .map(|v| v.trim_matches('"').to_string())
        .expect("webhook.bearer_token_file");
    assert_eq!(Path::new(&token_file).file_name().unwrap().to_str(), Some(key), "Alertmanager and Mimi use one token");

    // Mimi's own alerts stay away from Mimi; Watchdog reaches it as a heartbeat.
    let route = &config["spec"]["route"];
    assert!(
        route["matchers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "alertname" && m["matchType"] == "!~" && m["value"] == "Mimi.*")
    );
    let routes = route["routes"].as_array().unwrap();
    let to_mimi = |m: &Value| {
        routes.iter().any(|r| r["receiver"] == mimi["name"] && r["matchers"].as_array().unwrap().contains(m))
    };
    assert!(to_mimi(&serde_json::json!({"name": "alertname", "matchType": "=", "value": "Watchdog"})));
    assert!(to_mimi(&serde_json::json!({"name": "severity", "matchType": "=~", "value": "warning|critical"})));
}

#[test]
fn the_service_monitor_scrapes_metrics_from_the_service_port() {
    let docs = all_docs();
    let monitor = &the(&docs, "ServiceMonitor", "mimi").value;
    let service: Service = the(&docs, "Service", "mimi").typed();
    let labels = service.metadata.labels.clone().unwrap_or_default();
    for (k, v) in monitor["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(labels.get(k).map(String::as_str), v.as_str(), "the ServiceMonitor selects the Service by {k}");
    }
    let port_names: Vec<String> = service.spec.unwrap().ports.unwrap().into_iter().filter_map(|p| p.name).collect();
    let endpoint = &monitor["spec"]["endpoints"][0];
    assert!(port_names.iter().any(|p| Some(p.as_str()) == endpoint["port"].as_str()));
    assert_eq!(endpoint["path"].as_str(), Some("/metrics"));
}

#[test]
fn prometheus_rules_pass_promtool() {
    assert!(
        std::process::Command::new("promtool").arg("--version").output().is_ok(),
        "promtool is not installed: install Debian's prometheus package (tests/run.sh does)"
    );
    let dir = tempfile::tempdir().unwrap();
    for doc in all_docs().iter().filter(|d| d.kind() == "PrometheusRule") {
        let file = dir.path().join(format!("{}.yaml", doc.name()));
        std::fs::write(&file, serde_yaml_ng::to_string(&doc.value["spec"]).unwrap()).unwrap();
        let out = std::process::Command::new("promtool").arg("check").arg("rules").arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "promtool check rules {}: {}{}",
            doc.at(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
