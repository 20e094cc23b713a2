//! Discovery documents: `/version`, `/api`, `/apis`, `/apis/{group}` and the resource lists that
//! kubectl and kube-rs read to find resources, verbs, scopes, short names and subresources.

use serde_json::{Value, json};

use super::super::resources::{GROUPS, Sub, View, in_group_version};

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0+mimi-sandbox",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

pub fn core_versions(server: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}],
    })
}

fn group(name: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{name}/{version}"), "version": version});
    json!({"name": name, "versions": [gv.clone()], "preferredVersion": gv})
}

pub fn groups() -> Value {
    let groups: Vec<Value> = GROUPS.iter().map(|(g, v)| group(g, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn one_group(name: &str) -> Value {
    let (g, v) = GROUPS.iter().find(|(g, _)| *g == name).copied().unwrap_or((name, "v1"));
    let mut doc = group(g, v);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    doc
}

const VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

pub fn resources(group: &str, version: &str) -> Value {
    let mut list = Vec::new();
    for r in in_group_version(group, version) {
        let verbs: &[&str] = if r.view == View::EventsV1 { &["get", "list", "watch"] } else { VERBS };
        let mut entry = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind_name,
            "verbs": verbs,
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        if r.in_all {
            entry["categories"] = json!(["all"]);
        }
        list.push(entry);
        for sub in r.subresources {
            let (kind, group, version, verbs): (&str, Option<&str>, Option<&str>, &[&str]) = match sub {
                Sub::Status => (r.kind_name, None, None, &["get", "patch", "update"]),
                Sub::Scale => ("Scale", Some("autoscaling"), Some("v1"), &["get", "patch", "update"]),
                Sub::Log => ("Pod", None, None, &["get"]),
                Sub::Eviction => ("Eviction", Some("policy"), Some("v1"), &["create"]),
            };
            let mut e = json!({
                "name": format!("{}/{}", r.plural, sub.name()),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": kind,
                "verbs": verbs,
            });
            if let (Some(g), Some(v)) = (group, version) {
                e["group"] = json!(g);
                e["version"] = json!(v);
            }
            list.push(e);
        }
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::resources::RESOURCES;

    #[test]
    fn every_served_resource_is_discoverable_with_its_subresources() {
        for r in RESOURCES {
            let doc = resources(r.group, r.version);
            let names: Vec<&str> =
                doc["resources"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
            assert!(names.contains(&r.plural), "{}", r.plural);
            for s in r.subresources {
                assert!(names.contains(&format!("{}/{}", r.plural, s.name()).as_str()));
            }
        }
        let apps = resources("apps", "v1");
        let scale = apps["resources"].as_array().unwrap().iter().find(|e| e["name"] == "deployments/scale").unwrap();
        assert_eq!(
            (scale["group"].as_str(), scale["version"].as_str(), scale["kind"].as_str()),
            (Some("autoscaling"), Some("v1"), Some("Scale"))
        );
    }
}
