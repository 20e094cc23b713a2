//! The deployment manifests in `k8s/` (issue 4, RELIABILITY F01).
//!
//! Every YAML document under `k8s/` is read, multi-document files included. Core, apps, RBAC,
//! networking and policy objects parse into their k8s-openapi types, and the typed object must
//! serialize back to the same document, so a misspelled or misplaced field (which the generated
//! deserializers silently skip) fails here instead of being ignored by the API server. Custom
//! resources (PrometheusRule, ServiceMonitor, AlertmanagerConfig) are checked as JSON for the
//! fields their operators require. Kustomizations must list files that exist, and every manifest
//! must be in one or be an `*.example.yaml`.
//!
//! `kustomize` checks what the kustomizations apply, `rbac` holds F01 (the roles against the action
//! catalogue), `workload` the Deployment, its configuration and image, `crd` the custom resources'
//! fields and `monitoring` the alert rules and the Alertmanager wiring.

mod crd;
mod kustomize;
mod monitoring;
mod rbac;
mod workload;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One YAML document of a file under `k8s/`.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The file, relative to the repository root (`k8s/rbac.yaml`).
    pub file: String,
    /// Position among the file's non-empty documents, from 0.
    pub index: usize,
    pub value: Value,
}

impl Doc {
    pub fn api_version(&self) -> &str {
        self.value["apiVersion"].as_str().unwrap_or("")
    }

    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }

    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }

    /// Where the document is, for failure messages: `k8s/rbac.yaml#1 ClusterRole mimi-read`.
    pub fn at(&self) -> String {
        format!("{}#{} {} {}", self.file, self.index, self.kind(), self.name())
    }

    /// The document as its k8s-openapi type; panics with the reason if it is not one.
    pub fn typed<K: k8s_openapi::Resource + DeserializeOwned + Serialize>(&self) -> K {
        try_typed(&self.value).unwrap_or_else(|e| panic!("{}: {e}", self.at()))
    }

    pub fn is_example(&self) -> bool {
        is_example(Path::new(&self.file))
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn is_example(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".example.yaml"))
}

fn is_kustomization(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "kustomization.yaml" || n == "kustomization.yml")
}

/// Every `.yaml` / `.yml` file under `k8s/`, sorted.
pub fn yaml_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo_root().join("k8s"), &mut files);
    files.sort();
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(repo_root()).unwrap_or(path).display().to_string()
}

/// The non-empty YAML documents of one file, as JSON values.
pub fn load_file(path: &Path) -> Vec<Doc> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let file = relative(path);
    let mut docs = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(&text) {
        let value = <Value as serde::Deserialize>::deserialize(document)
            .unwrap_or_else(|e| panic!("{file}: document {} is not valid YAML: {e}", docs.len()));
        if !value.is_null() {
            docs.push(Doc { file: file.clone(), index: docs.len(), value });
        }
    }
    docs
}

/// Every document of every YAML file under `k8s/`.
pub fn all_docs() -> Vec<Doc> {
    yaml_files().iter().flat_map(|f| load_file(f)).collect()
}

/// The one document of this kind and name; panics if there is none or more than one.
pub fn the<'a>(docs: &'a [Doc], kind: &str, name: &str) -> &'a Doc {
    let found: Vec<&Doc> = docs.iter().filter(|d| d.kind() == kind && d.name() == name).collect();
    match found.as_slice() {
        [one] => one,
        [] => panic!("no {kind} named {name:?} under k8s/"),
        many => panic!(
            "{} documents are {kind} {name:?}: {:?}",
            many.len(),
            many.iter().map(|d| d.at()).collect::<Vec<_>>()
        ),
    }
}

/// Parses `value` as `K` and checks nothing was lost on the way: the typed object, serialized
/// again, must equal the document (k8s-openapi skips fields it does not know without an error).
pub fn try_typed<K: k8s_openapi::Resource + DeserializeOwned + Serialize>(value: &Value) -> Result<K, String> {
    let (api_version, kind) = (value["apiVersion"].as_str(), value["kind"].as_str());
    if api_version != Some(K::API_VERSION) || kind != Some(K::KIND) {
        return Err(format!("expected {} {}, found {api_version:?} {kind:?}", K::API_VERSION, K::KIND));
    }
    let typed: K = serde_path_to_error::deserialize(value.clone()).map_err(|e| format!("does not parse: {e}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| format!("does not serialize: {e}"))?;
    match first_difference(&without_nulls(value), &back, "") {
        None => Ok(typed),
        Some(diff) => Err(format!("not a valid {}: {diff}", K::KIND)),
    }
}

fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// The first place where the document (`want`) and its typed round trip (`got`) differ.
fn first_difference(want: &Value, got: &Value, path: &str) -> Option<String> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let p = format!("{path}.{k}");
                match g.get(k) {
                    None => return Some(format!("{p} is not a field of this type (misspelled or misplaced?)")),
                    Some(gv) => {
                        if let Some(d) = first_difference(wv, gv, &p) {
                            return Some(d);
                        }
                    }
                }
            }
            // Embedded objects (a StatefulSet's volumeClaimTemplates) gain their type on the way.
            let embedded_type = |k: &str| !path.is_empty() && (k == "apiVersion" || k == "kind");
            g.keys()
                .find(|k| !w.contains_key(*k) && !embedded_type(k))
                .map(|k| format!("{path}.{k} appeared in the round trip"))
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            w.iter().zip(g).enumerate().find_map(|(i, (wv, gv))| first_difference(wv, gv, &format!("{path}[{i}]")))
        }
        _ if want == got => None,
        _ => Some(format!("{path}: the document says {want}, the type reads {got}")),
    }
}

/// Checks one document by its kind. Returns what is wrong with it, or nothing.
fn check_document(doc: &Doc) -> Result<(), String> {
    fn t<K: k8s_openapi::Resource + DeserializeOwned + Serialize>(doc: &Doc) -> Result<(), String> {
        try_typed::<K>(&doc.value).map(drop)
    }
    match (doc.api_version(), doc.kind()) {
        ("v1", "Namespace") => t::<Namespace>(doc),
        ("v1", "ServiceAccount") => t::<ServiceAccount>(doc),
        ("v1", "ConfigMap") => t::<ConfigMap>(doc),
        ("v1", "Secret") => t::<Secret>(doc),
        ("v1", "Service") => t::<Service>(doc),
        ("v1", "PersistentVolumeClaim") => t::<PersistentVolumeClaim>(doc),
        ("v1", "Pod") => t::<Pod>(doc),
        ("apps/v1", "Deployment") => t::<Deployment>(doc),
        ("apps/v1", "StatefulSet") => t::<StatefulSet>(doc),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => t::<ClusterRole>(doc),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => t::<ClusterRoleBinding>(doc),
        ("rbac.authorization.k8s.io/v1", "Role") => t::<Role>(doc),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => t::<RoleBinding>(doc),
        ("networking.k8s.io/v1", "NetworkPolicy") => t::<NetworkPolicy>(doc),
        ("policy/v1", "PodDisruptionBudget") => t::<PodDisruptionBudget>(doc),
        ("monitoring.coreos.com/v1", "PrometheusRule") => crd::check_prometheus_rule(&doc.value),
        ("monitoring.coreos.com/v1", "ServiceMonitor") => crd::check_service_monitor(&doc.value),
        ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig") => crd::check_alertmanager_config(&doc.value),
        ("kustomize.config.k8s.io/v1beta1", "Kustomization") if is_kustomization(Path::new(&doc.file)) => Ok(()),
        (api_version, kind) => Err(format!("{api_version:?} {kind:?} is not a kind this test knows how to check")),
    }
    .and_then(|()| check_metadata(doc))
}

/// Names and namespaces the API server would accept; namespaced kinds say their namespace.
fn check_metadata(doc: &Doc) -> Result<(), String> {
    if doc.kind() == "Kustomization" {
        return Ok(());
    }
    let name = doc.name();
    let dns_subdomain = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    if !dns_subdomain(name) {
        return Err(format!("metadata.name {name:?} is not a valid object name"));
    }
    let cluster_scoped = ["Namespace", "ClusterRole", "ClusterRoleBinding"].contains(&doc.kind());
    match (cluster_scoped, doc.value["metadata"]["namespace"].as_str()) {
        (true, Some(ns)) => Err(format!("cluster-scoped {} has a namespace ({ns})", doc.kind())),
        (false, None) => Err("metadata.namespace is missing (every namespaced object says where it goes)".into()),
        (false, Some(ns)) if ns.is_empty() || ns.len() > 63 || !dns_subdomain(ns) || ns.contains('.') => {
            Err(format!("metadata.namespace {ns:?} is not a valid namespace name"))
        }
        _ => Ok(()),
    }
}

#[test]
fn every_yaml_document_under_k8s_parses_into_its_kubernetes_type() {
    let docs = all_docs();
    let problems: Vec<String> =
        docs.iter().filter_map(|d| check_document(d).err().map(|e| format!("{}: {e}", d.at()))).collect();
    assert!(problems.is_empty(), "manifests that would not apply as written:\n  {}", problems.join("\n  "));

    // Everything the issue asks for is there (and so was checked above).
    let kinds: BTreeSet<&str> = docs.iter().map(Doc::kind).collect();
    for kind in [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "PersistentVolumeClaim",
        "Service",
        "NetworkPolicy",
        "ConfigMap",
        "Secret",
        "AlertmanagerConfig",
        "PrometheusRule",
        "ServiceMonitor",
        "StatefulSet",
        "Kustomization",
    ] {
        assert!(kinds.contains(kind), "no {kind} under k8s/ (found {kinds:?})");
    }
}

#[test]
fn a_misspelled_or_misplaced_field_fails_the_typed_round_trip() {
    let parse = |yaml: &str| try_typed::<Deployment>(&serde_yaml_ng::from_str::<Value>(yaml).unwrap());
    let good = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec: {containers: [{name: a, image: a}]}\n";
    parse(good).unwrap();
    let bad = [
        ("a misspelled field", good.replace("replicas: 1", "replica: 1"), ".spec.replica"),
        (
            "a field one level too high",
            good.replace("  replicas: 1", "  readOnlyRootFilesystem: true"),
            "readOnlyRootFilesystem",
        ),
        ("a number where a string belongs", good.replace("image: a", "image: 7"), "image"),
        ("the wrong kind", good.replace("kind: Deployment", "kind: StatefulSet"), "StatefulSet"),
    ];
    for (what, yaml, expected) in bad {
        let err = parse(&yaml).expect_err(what);
        assert!(err.contains(expected), "{what}: {err}");
    }
}

#[test]
fn the_grafana_configmap_carries_the_same_dashboard_as_the_json_file() {
    let docs = all_docs();
    let cm: ConfigMap = the(&docs, "ConfigMap", "mimi-grafana-dashboard").typed();
    assert_eq!(cm.metadata.labels.unwrap_or_default().get("grafana_dashboard").map(String::as_str), Some("1"));
    let embedded: Value = serde_json::from_str(&cm.data.unwrap_or_default()["mimi.json"]).unwrap();
    let file = std::fs::read_to_string(repo_root().join("k8s/grafana-dashboard.json")).unwrap();
    let file: Value = serde_json::from_str(&file).unwrap();
    assert!(
        embedded == file,
        "k8s/optional/grafana/dashboard.yaml is stale: copy k8s/grafana-dashboard.json into its data.mimi.json"
    );
}
