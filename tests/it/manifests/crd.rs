//! Checks for the custom resources under `k8s/` (PrometheusRule, ServiceMonitor,
//! AlertmanagerConfig), which have no k8s-openapi types: the fields their CRDs define and require,
//! durations, Prometheus label names, and `mimi_allowed_actions` values against the catalogue.

use std::collections::BTreeSet;

use mimi::domain::action::ActionKind;
use serde_json::Value;

use super::{all_docs, the};

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
