//! Reading an outcome from `GET /api/incidents/{id}` (pure): the analysis, the proposals offered
//! for approval, those refused (by policy or a dry run, said in words), and those dropped before
//! rendering (not in the catalogue, or naming a target that does not exist).
//!
//! Every proposal is in `proposals` with its `state`: `refused` and `dropped` were never offered;
//! any other state (pending, approved, superseded, executing, ...) was.

use serde_json::Value;

use super::score::{Outcome, Proposal};

/// The analysis part, once there is one.
pub fn has_analysis(detail: &Value) -> bool {
    detail.get("analysis").is_some_and(|a| a.is_object())
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().map(text).collect()).unwrap_or_default()
}

/// `{"kind","namespace","name","params"}`; `None` when it is not that shape.
pub fn proposal(action: &Value) -> Option<Proposal> {
    let kind = action.get("kind")?.as_str()?.to_string();
    let name = action.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    let namespace = action.get("namespace").and_then(Value::as_str).filter(|n| !n.is_empty()).map(str::to_string);
    let params = action.get("params").and_then(Value::as_object).cloned().unwrap_or_default();
    Some(Proposal { kind, namespace, name, params })
}

/// Why a proposal is not offered: a policy refusal, or a dry run the API server refused.
fn not_offered(p: &Value) -> Option<String> {
    if let Some(reason) = p.get("refused").filter(|r| !r.is_null()) {
        return Some(text(reason));
    }
    let dry = p.get("dry_run").filter(|d| d.is_object())?;
    let failed = dry.get("ok").and_then(Value::as_bool) == Some(false)
        || dry.get("refused").is_some_and(|r| !r.is_null() && r != &Value::Bool(false));
    failed.then(|| {
        let why = ["refused", "error", "reason", "message"].iter().find_map(|k| dry.get(*k).filter(|v| v.is_string()));
        why.map_or_else(|| "the dry run was refused".to_string(), text)
    })
}

/// The outcome of every incident (several when the payloads made several), in order.
pub fn outcome(details: &[Value]) -> Outcome {
    let mut out = Outcome::default();
    for d in details {
        let a = d.get("analysis").cloned().unwrap_or(Value::Null);
        if !out.diagnosis.is_empty() {
            out.diagnosis.push('\n');
        }
        out.diagnosis.push_str(&text(a.get("diagnosis").unwrap_or(&Value::Null)));
        out.facts.extend(strings(a.get("facts")));
        out.flags.extend(strings(a.get("flags")));
        if out.analyzer.is_empty() {
            out.analyzer = a.get("analyzer").map(text).unwrap_or_default();
            out.version = a.get("version").map(text).unwrap_or_default();
        }
        for p in d.get("proposals").and_then(Value::as_array).into_iter().flatten() {
            let Some(action) = p.get("action").and_then(proposal) else {
                out.dropped.push((None, format!("unreadable proposal: {p}")));
                continue;
            };
            match (p.get("state").and_then(Value::as_str), not_offered(p)) {
                (Some("dropped"), reason) => {
                    out.dropped.push((Some(action), reason.unwrap_or_else(|| "dropped before rendering".into())));
                }
                (Some("refused"), reason) => out.refused.push((action, reason.unwrap_or_else(|| "refused".into()))),
                (_, Some(reason)) => out.refused.push((action, reason)),
                (_, None) => out.offered.push(action),
            }
        }
        for x in d.get("dropped").and_then(Value::as_array).into_iter().flatten() {
            let action = x.get("action").and_then(proposal).or_else(|| proposal(x));
            let reason =
                ["reason", "why", "refused"].iter().find_map(|k| x.get(*k)).map_or_else(|| x.to_string(), text);
            out.dropped.push((action, reason));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn offered_refused_and_dropped_proposals_are_told_apart() {
        let detail = json!({
            "id": 1,
            "state": "awaiting_approval",
            "analysis": {"diagnosis": "checkout OOMKilled", "facts": ["memory limit 256Mi"], "confidence": 0.75,
                         "analyzer": "rules", "version": "oomkilled", "flags": ["instruction-like text"]},
            "proposals": [
                {"id": 1, "action": {"kind": "restart_deployment", "namespace": "shop", "name": "checkout", "params": {}},
                 "risk": "medium", "approval": "one", "state": "pending", "refused": null, "dry_run": {"ok": true}},
                {"id": 2, "action": {"kind": "restart_deployment", "namespace": "kube-system", "name": "coredns"},
                 "risk": "medium", "state": "refused", "refused": "namespace kube-system is protected", "dry_run": null},
                {"id": 3, "action": {"kind": "delete_pod", "namespace": "shop", "name": "checkout-1"},
                 "state": "blocked", "refused": null, "dry_run": {"ok": false, "error": "admission webhook denied"}},
                {"id": 4, "action": {"kind": "restart_deployment", "namespace": "shop", "name": "checkout-v2"},
                 "state": "dropped", "refused": "Deployment shop/checkout-v2 does not exist"},
                {"id": 5, "action": {"kind": "delete_pod", "namespace": "shop", "name": "checkout-2"},
                 "state": "superseded", "refused": null, "dry_run": {"diff": []}}
            ],
            "dropped": [
                {"action": {"kind": "exec_pod", "namespace": "shop", "name": "x"}, "reason": "not in the catalogue"},
                {"reason": "target Deployment shop/ghost does not exist", "kind": "restart_deployment", "namespace": "shop", "name": "ghost"}
            ]
        });
        let o = outcome(&[detail]);
        assert_eq!((o.analyzer.as_str(), o.version.as_str()), ("rules", "oomkilled"));
        assert_eq!(
            o.offered.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["restart_deployment shop/checkout", "delete_pod shop/checkout-2"]
        );
        assert_eq!(o.refused.len(), 2);
        assert_eq!(o.refused[0].1, "namespace kube-system is protected");
        assert_eq!(o.refused[1].1, "admission webhook denied");
        assert_eq!(o.dropped.len(), 3);
        assert_eq!(o.dropped[0].1, "Deployment shop/checkout-v2 does not exist");
        assert_eq!(o.dropped[2].0.as_ref().map(|p| p.name.as_str()), Some("ghost"));
        assert_eq!(o.flags.len(), 1);
        assert!(has_analysis(&json!({"analysis": {}})));
        assert!(!has_analysis(&json!({"analysis": null})));
    }
}
