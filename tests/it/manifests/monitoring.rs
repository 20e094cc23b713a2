//! The Prometheus Operator resources in `k8s/optional/monitoring/`: the fields their CRDs require,
//! the alert rules Mimi is built for (with `mimi_allowed_actions` checked against the action
//! catalogue and the incident scenarios), and the Alertmanager route to Mimi's Service with the
//! same token Mimi reads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use k8s_openapi::api::core::v1::Service;
use mimi::domain::action::ActionKind;
use serde_json::Value;

use super::{Doc, all_docs, repo_root, the};

pub const ALLOWED_ACTIONS: &str = "mimi_allowed_actions";

fn string(v: &Value, what: &str) -> Result<String, String> {
    match v.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => Err(format!("{what} must be a non-empty string, found {v}")),
    }
}

fn array<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array().filter(|a| !a.is_empty()).ok_or_else(|| format!("{what} must be a non-empty list, found {v}"))
}

fn only_keys(v: &Value, allowed: &[&str], what: &str) -> Result<(), String> {
    let unknown: Vec<&String> =
        v.as_object().into_iter().flatten().map(|(k, _)| k).filter(|k| !allowed.contains(&k.as_str())).collect();
    if unknown.is_empty() { Ok(()) } else { Err(format!("{what} has fields its CRD does not define: {unknown:?}")) }
}

/// A Prometheus label name, which is also what an alerting rule's annotation names must be
/// (Prometheus 2.x, the operator's rule validation and Alertmanager refuse anything else).
fn is_label_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn string_map(v: &Value, what: &str) -> Result<(), String> {
    match v {
        Value::Null => Ok(()),
        Value::Object(m) if m.values().all(Value::is_string) => match m.keys().find(|k| !is_label_name(k)) {
            Some(bad) => Err(format!("{what}: {bad:?} is not a valid Prometheus label name")),
            None => Ok(()),
        },
        _ => Err(format!("{what} must map names to strings")),
    }
}

/// A Prometheus duration: one or more `<number><unit>` with units ms, s, m, h, d, w, y.
pub fn is_duration(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d", "w", "y"].into_iter().find(|u| rest.starts_with(u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

/// Brackets balance outside quoted strings (a cheap guard; promtool, when installed, parses).
fn balanced(expr: &str) -> bool {
    let mut stack = Vec::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in expr.chars() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' | '{' => stack.push(c),
            ')' | ']' | '}' => {
                let open = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if stack.pop() != Some(open) {
                    return false;
                }
            }
            _ => {}
        }
    }
    stack.is_empty() && quote.is_none()
}

/// The action kinds an allowed-actions annotation lists; an error names what is not in the catalogue.
pub fn allowed_actions(value: &str) -> Result<BTreeSet<ActionKind>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| ActionKind::parse(s).ok_or_else(|| format!("{s:?} is not an action of the catalogue")))
        .collect()
}

pub fn check_prometheus_rule(v: &Value) -> Result<(), String> {
    only_keys(v, &["apiVersion", "kind", "metadata", "spec"], "PrometheusRule")?;
    only_keys(&v["spec"], &["groups"], "spec")?;
    let mut group_names = BTreeSet::new();
    for (g, group) in array(&v["spec"]["groups"], "spec.groups")?.iter().enumerate() {
        let at = format!("spec.groups[{g}]");
        only_keys(
            group,
            &["name", "interval", "rules", "partial_response_strategy", "limit", "query_offset", "labels"],
            &at,
        )?;
        let name = string(&group["name"], &format!("{at}.name"))?;
        if !group_names.insert(name.clone()) {
            return Err(format!("two groups are named {name}"));
        }
        for (r, rule) in array(&group["rules"], &format!("{at}.rules"))?.iter().enumerate() {
            let at = format!("group {name} rule {r}");
            only_keys(rule, &["alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"], &at)?;
            let expr = string(&rule["expr"], &format!("{at}: expr"))?;
            if !balanced(&expr) {
                return Err(format!("{at}: unbalanced brackets or quotes in {expr:?}"));
            }
            for key in ["for", "keep_firing_for"] {
                if let Some(d) = rule.get(key) {
                    let d = string(d, &format!("{at}: {key}"))?;
                    if !is_duration(&d) {
                        return Err(format!("{at}: {key} {d:?} is not a duration"));
                    }
                }
            }
            string_map(&rule["labels"], &format!("{at}: labels"))?;
            string_map(&rule["annotations"], &format!("{at}: annotations"))?;
            match (rule.get("alert"), rule.get("record")) {
                (Some(alert), None) => {
                    let alert = string(alert, &format!("{at}: alert"))?;
                    let severity = rule["labels"]["severity"].as_str();
                    if !matches!(severity, Some("critical" | "warning" | "info" | "none")) {
                        return Err(format!("{alert}: severity {severity:?} is not critical, warning, info or none"));
                    }
                    for a in ["summary", "description"] {
                        string(&rule["annotations"][a], &format!("{alert}: annotations.{a}"))?;
                    }
                    if let Some(allowed) = rule["annotations"][ALLOWED_ACTIONS].as_str() {
                        allowed_actions(allowed).map_err(|e| format!("{alert}: {ALLOWED_ACTIONS}: {e}"))?;
                    }
                }
                (None, Some(record)) => drop(string(record, &format!("{at}: record"))?),
                _ => return Err(format!("{at}: needs exactly one of alert and record")),
            }
        }
    }
    Ok(())
}

pub fn check_service_monitor(v: &Value) -> Result<(), String> {
    only_keys(v, &["apiVersion", "kind", "metadata", "spec"], "ServiceMonitor")?;
    let labels = &v["spec"]["selector"]["matchLabels"];
    if labels.as_object().is_none_or(|m| m.is_empty()) {
        return Err("spec.selector.matchLabels must select the Service".into());
    }
    for (i, endpoint) in array(&v["spec"]["endpoints"], "spec.endpoints")?.iter().enumerate() {
        string(&endpoint["port"], &format!("spec.endpoints[{i}].port"))?;
        if let Some(interval) = endpoint["interval"].as_str().filter(|d| !is_duration(d)) {
            return Err(format!("spec.endpoints[{i}].interval {interval:?} is not a duration"));
        }
    }
    Ok(())
}

fn check_route(route: &Value, receivers: &BTreeSet<String>, at: &str) -> Result<(), String> {
    only_keys(
        route,
        &[
            "receiver",
            "groupBy",
            "groupWait",
            "groupInterval",
            "repeatInterval",
            "matchers",
            "continue",
            "routes",
            "muteTimeIntervals",
            "activeTimeIntervals",
        ],
        at,
    )?;
    let receiver = string(&route["receiver"], &format!("{at}.receiver"))?;
    if !receivers.contains(&receiver) {
        return Err(format!("{at}.receiver {receiver} is not one of the receivers {receivers:?}"));
    }
    for key in ["groupWait", "groupInterval", "repeatInterval"] {
        if let Some(d) = route.get(key) {
            let d = string(d, &format!("{at}.{key}"))?;
            if !is_duration(&d) {
                return Err(format!("{at}.{key} {d:?} is not a duration"));
            }
        }
    }
    for (i, m) in route["matchers"].as_array().into_iter().flatten().enumerate() {
        let at = format!("{at}.matchers[{i}]");
        only_keys(m, &["name", "value", "matchType"], &at)?;
        string(&m["name"], &format!("{at}.name"))?;
        if !m["value"].is_string() {
            return Err(format!("{at}.value must be a string"));
        }
        if !matches!(m["matchType"].as_str(), None | Some("=" | "!=" | "=~" | "!~")) {
            return Err(format!("{at}.matchType must be one of = != =~ !~"));
        }
    }
    for (i, child) in route["routes"].as_array().into_iter().flatten().enumerate() {
        check_route(child, receivers, &format!("{at}.routes[{i}]"))?;
    }
    Ok(())
}

pub fn check_alertmanager_config(v: &Value) -> Result<(), String> {
    only_keys(v, &["apiVersion", "kind", "metadata", "spec"], "AlertmanagerConfig")?;
    only_keys(&v["spec"], &["route", "receivers", "inhibitRules", "muteTimeIntervals"], "spec")?;
    let mut receivers = BTreeSet::new();
    for (i, receiver) in array(&v["spec"]["receivers"], "spec.receivers")?.iter().enumerate() {
        let name = string(&receiver["name"], &format!("spec.receivers[{i}].name"))?;
        if !receivers.insert(name.clone()) {
            return Err(format!("two receivers are named {name}"));
        }
        for (j, webhook) in receiver["webhookConfigs"].as_array().into_iter().flatten().enumerate() {
            let at = format!("receiver {name} webhookConfigs[{j}]");
            only_keys(webhook, &["url", "urlSecret", "sendResolved", "httpConfig", "maxAlerts", "timeout"], &at)?;
            if webhook.get("url").is_none() == webhook.get("urlSecret").is_none() {
                return Err(format!("{at}: needs exactly one of url and urlSecret"));
            }
            if let Some(auth) = webhook["httpConfig"].get("authorization") {
                string(&auth["credentials"]["name"], &format!("{at}: authorization.credentials.name"))?;
                string(&auth["credentials"]["key"], &format!("{at}: authorization.credentials.key"))?;
            }
        }
    }
    check_route(&v["spec"]["route"], &receivers, "spec.route")
}

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

/// One change to a document, to show a check fails on it.
type Edit = dyn Fn(&mut Value);

#[test]
fn the_crd_checks_catch_broken_rules_and_routes() {
    let docs = all_docs();
    let rule = the(&docs, "PrometheusRule", "mimi-cluster-alerts").value.clone();
    let config = the(&docs, "AlertmanagerConfig", "mimi").value.clone();
    check_prometheus_rule(&rule).unwrap();
    check_alertmanager_config(&config).unwrap();

    let broken_rule = |edit: &Edit| {
        let mut v = rule.clone();
        edit(&mut v);
        check_prometheus_rule(&v)
    };
    const FIRST: &str = "/spec/groups/0/rules/0";
    let cases: [(&str, &Edit); 8] = [
        ("a misspelled key", &|v| {
            drop(v.pointer_mut(FIRST).unwrap().as_object_mut().unwrap().insert("exp".into(), "x".into()))
        }),
        ("an empty expr", &|v| *v.pointer_mut(&format!("{FIRST}/expr")).unwrap() = "".into()),
        ("unbalanced brackets", &|v| *v.pointer_mut(&format!("{FIRST}/expr")).unwrap() = "rate(x[5m]".into()),
        ("a bad duration", &|v| *v.pointer_mut(&format!("{FIRST}/for")).unwrap() = "15 minutes".into()),
        ("an unknown severity", &|v| *v.pointer_mut(&format!("{FIRST}/labels/severity")).unwrap() = "urgent".into()),
        ("no summary", &|v| {
            drop(v.pointer_mut(&format!("{FIRST}/annotations")).unwrap().as_object_mut().unwrap().remove("summary"))
        }),
        ("an annotation name Prometheus refuses", &|v| {
            let annotations = v.pointer_mut(&format!("{FIRST}/annotations")).unwrap().as_object_mut().unwrap();
            annotations.insert("mimi.dev/allowed-actions".into(), "delete_pod".into());
        }),
        ("an action outside the catalogue", &|v| {
            *v.pointer_mut(&format!("{FIRST}/annotations")).unwrap().get_mut(ALLOWED_ACTIONS).unwrap() =
                "restart_deployment,exec_pod".into()
        }),
    ];
    for (what, edit) in cases {
        assert!(broken_rule(edit).is_err(), "the PrometheusRule check missed {what}");
    }

    let broken_config = |edit: &Edit| {
        let mut v = config.clone();
        edit(&mut v);
        check_alertmanager_config(&v)
    };
    let cases: [(&str, &Edit); 4] = [
        ("a route to no receiver", &|v| *v.pointer_mut("/spec/route/routes/0/receiver").unwrap() = "nobody".into()),
        ("a bad match type", &|v| *v.pointer_mut("/spec/route/matchers/0/matchType").unwrap() = "~=".into()),
        ("a webhook without url", &|v| {
            drop(v.pointer_mut("/spec/receivers/1/webhookConfigs/0").unwrap().as_object_mut().unwrap().remove("url"))
        }),
        ("snake_case fields", &|v| {
            drop(
                v.pointer_mut("/spec/receivers/1/webhookConfigs/0")
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .insert("send_resolved".into(), true.into()),
            )
        }),
    ];
    for (what, edit) in cases {
        assert!(broken_config(edit).is_err(), "the AlertmanagerConfig check missed {what}");
    }
    for d in ["5m", "1h30m", "500ms", "4h"] {
        assert!(is_duration(d), "{d}");
    }
    for d in ["", "5", "m", "5 m", "-5m"] {
        assert!(!is_duration(d), "{d}");
    }
}

#[test]
fn prometheus_rules_pass_promtool_when_it_is_installed() {
    if std::process::Command::new("promtool").arg("--version").output().is_err() {
        eprintln!("promtool is not installed (Debian package prometheus): rule expressions not parsed");
        return;
    }
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
