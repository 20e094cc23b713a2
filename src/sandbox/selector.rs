//! Label selectors (query strings and `LabelSelector` objects) and field selectors.
//!
//! Invariant: parsing happens once per request; an unparsable selector or an unsupported field
//! label is a 400 naming it, as on a real API server, never a silent "match everything".

use serde_json::{Map, Value};

use super::error::ApiError;
use super::resources::Kind;

#[derive(Clone, Debug, PartialEq)]
enum Req {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelSelector(Vec<Req>);

fn split_top_level(s: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::BadRequest(format!("unable to parse requirement: invalid label selector {s:?}"));
        let mut reqs = Vec::new();
        for part in split_top_level(s).into_iter().map(str::trim).filter(|p| !p.is_empty()) {
            let set = |rest: &str| -> Option<Vec<String>> {
                let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
                Some(inner.split(',').map(|v| v.trim().to_string()).collect())
            };
            let req = if let Some((k, v)) = part.split_once("!=") {
                Req::NotEq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Req::Eq(k.trim().into(), v.trim().into())
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                Req::NotIn(k.trim().into(), set(rest).ok_or_else(bad)?)
            } else if let Some((k, rest)) = part.split_once(" in ") {
                Req::In(k.trim().into(), set(rest).ok_or_else(bad)?)
            } else if let Some(k) = part.strip_prefix('!') {
                Req::NotExists(k.trim().into())
            } else if part.contains(char::is_whitespace) || part.contains('(') {
                return Err(bad());
            } else {
                Req::Exists(part.into())
            };
            reqs.push(req);
        }
        Ok(Self(reqs))
    }

    /// Builds a selector from a `LabelSelector` object (`matchLabels` + `matchExpressions`).
    pub fn from_object(sel: &Value) -> Self {
        let mut reqs = Vec::new();
        if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in m {
                reqs.push(Req::Eq(k.clone(), v.as_str().unwrap_or_default().into()));
            }
        }
        for e in sel.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default().to_string();
            let values: Vec<String> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            reqs.push(match e.get("operator").and_then(Value::as_str) {
                Some("In") => Req::In(key, values),
                Some("NotIn") => Req::NotIn(key, values),
                Some("Exists") => Req::Exists(key),
                _ => Req::NotExists(key),
            });
        }
        Self(reqs)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v),
            Req::NotEq(k, v) => get(k) != Some(v),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Req::NotIn(k, vs) => !get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Req::Exists(k) => get(k).is_some(),
            Req::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A parsed field selector: `field=value`, `field==value`, `field!=value`, comma separated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

fn supported(kind: Kind, field: &str) -> bool {
    if matches!(field, "metadata.name" | "metadata.namespace") {
        return true;
    }
    match kind {
        Kind::Pod => matches!(
            field,
            "spec.nodeName"
                | "spec.restartPolicy"
                | "spec.schedulerName"
                | "spec.serviceAccountName"
                | "spec.hostNetwork"
                | "status.phase"
                | "status.podIP"
                | "status.nominatedNodeName"
        ),
        Kind::Event => {
            field.starts_with("involvedObject.")
                || field.starts_with("regarding.")
                || matches!(field, "reason" | "type" | "source" | "reportingComponent")
        }
        Kind::Node => field == "spec.unschedulable",
        Kind::Namespace => field == "status.phase",
        Kind::ReplicaSet => field == "status.replicas",
        Kind::Job => field == "status.successful",
        _ => false,
    }
}

impl FieldSelector {
    pub fn parse(kind: Kind, s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, true, v)
            } else {
                return Err(ApiError::BadRequest(format!("invalid selector: '{s}'; can't understand '{part}'")));
            };
            let field = field.trim();
            if !supported(kind, field) {
                return Err(ApiError::BadRequest(format!("field label not supported: {field}")));
            }
            reqs.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(Self(reqs))
    }

    /// The selected `metadata.name`, if the selector pins one (used by watches of one object).
    pub fn pinned_name(&self) -> Option<&str> {
        self.0.iter().find(|(f, eq, _)| *eq && f == "metadata.name").map(|(_, _, v)| v.as_str())
    }

    pub fn matches(&self, o: &Value) -> bool {
        self.0.iter().all(|(field, eq, want)| {
            // `regarding.*` is the events.k8s.io name of core/v1 `involvedObject.*`.
            let path = field.replacen("regarding.", "involvedObject.", 1);
            let pointer = format!("/{}", path.replace('.', "/"));
            let got = match o.pointer(&pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Object(m)) if field == "source" => {
                    m.get("component").and_then(Value::as_str).unwrap_or_default().to_string()
                }
                None if field == "spec.unschedulable" => "false".into(),
                _ => String::new(),
            };
            (got == *want) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors_match_like_kubernetes() {
        let labels = json!({"app": "web", "tier": "front"});
        let l = labels.as_object();
        let cases = [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app=api", false),
            ("app!=api", true),
            ("app,tier", true),
            ("!app", false),
            ("!missing", true),
            ("app in (web, api)", true),
            ("app notin (web)", false),
            ("tier in (back),app=web", false),
            ("app=web,tier=front", true),
        ];
        for (sel, want) in cases {
            assert_eq!(LabelSelector::parse(sel).unwrap().matches(l), want, "{sel}");
        }
        assert!(LabelSelector::parse("app in web").is_err());
    }

    #[test]
    fn selector_objects_support_match_expressions() {
        let sel = json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]});
        let s = LabelSelector::from_object(&sel);
        assert!(s.matches(json!({"app": "web", "tier": "front"}).as_object()));
        assert!(!s.matches(json!({"app": "web", "tier": "db"}).as_object()));
        assert!(!s.matches(None));
    }

    #[test]
    fn field_selectors_match_and_refuse_unknown_fields() {
        let pod = json!({"metadata": {"name": "p", "namespace": "n"}, "spec": {"nodeName": "w1"}, "status": {"phase": "Running"}});
        let cases = [
            ("spec.nodeName=w1", true),
            ("spec.nodeName!=w1", false),
            ("metadata.name=p,status.phase=Running", true),
            ("status.phase=Pending", false),
            ("status.phase!=Succeeded,status.phase!=Failed", true),
        ];
        for (sel, want) in cases {
            assert_eq!(FieldSelector::parse(Kind::Pod, sel).unwrap().matches(&pod), want, "{sel}");
        }
        let err = FieldSelector::parse(Kind::Pod, "spec.image=x").unwrap_err();
        assert_eq!(err.to_string(), "field label not supported: spec.image");
        let ev = json!({"involvedObject": {"kind": "Pod", "name": "p"}});
        assert!(
            FieldSelector::parse(Kind::Event, "involvedObject.name=p,involvedObject.kind=Pod").unwrap().matches(&ev)
        );
        assert!(FieldSelector::parse(Kind::Event, "regarding.name=p").unwrap().matches(&ev));
        let node = json!({"metadata": {"name": "w1"}});
        assert!(FieldSelector::parse(Kind::Node, "spec.unschedulable=false").unwrap().matches(&node));
    }
}
