//! Reading a scenario folder (`cluster.yaml` and `logs/`, see SCENARIOS.md) into checked documents.
//!
//! Invariant: anything wrong is a [`ScenarioError`] naming the file, the document (1-based, with
//! its kind and name when known) and the field, never a panic and never a silently skipped object.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::object;
use super::resources::{self, RESOURCES, ResourceDef, View};
use super::validate;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{}: {message}", file.display())]
    File { file: PathBuf, message: String },
    #[error("{}: document {doc}{what}: {field}: {message}", file.display())]
    Doc { file: PathBuf, doc: usize, what: String, field: String, message: String },
}

/// One object from `cluster.yaml`.
#[derive(Clone, Debug)]
pub struct Doc {
    /// 1-based position in the file.
    pub index: usize,
    pub def: &'static ResourceDef,
    pub object: Value,
}

/// One file under `logs/`.
#[derive(Clone, Debug)]
pub struct LogFile {
    pub path: PathBuf,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub previous: bool,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub dir: PathBuf,
    pub docs: Vec<Doc>,
    pub logs: Vec<LogFile>,
}

impl Scenario {
    pub fn cluster_file(&self) -> PathBuf {
        self.dir.join("cluster.yaml")
    }

    /// An error about document `doc`, naming its kind and name.
    pub fn doc_error(&self, doc: &Doc, field: &str, message: impl Into<String>) -> ScenarioError {
        doc_error(&self.cluster_file(), doc.index, &doc.object, field, message)
    }
}

fn doc_error(file: &Path, index: usize, o: &Value, field: &str, message: impl Into<String>) -> ScenarioError {
    let kind = o.get("kind").and_then(Value::as_str).unwrap_or_default();
    let (ns, name) = (object::namespace(o), object::name(o));
    let what = match (kind, ns, name) {
        ("", _, _) => String::new(),
        (k, "", "") => format!(" ({k})"),
        (k, "", n) => format!(" ({k} {n})"),
        (k, ns, n) => format!(" ({k} {ns}/{n})"),
    };
    ScenarioError::Doc {
        file: file.to_path_buf(),
        doc: index,
        what,
        field: if field.is_empty() { "(document)".into() } else { field.into() },
        message: message.into(),
    }
}

fn served_kinds() -> String {
    RESOURCES
        .iter()
        .filter(|r| r.view == View::Native)
        .map(|r| format!("{} {}", r.api_version(), r.kind_name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses and checks every document of a `cluster.yaml` text.
pub fn parse_cluster(file: &Path, text: &str) -> Result<Vec<Doc>, ScenarioError> {
    let mut docs = Vec::new();
    for (i, de) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let index = i + 1;
        let o = Value::deserialize(de)
            .map_err(|e| doc_error(file, index, &Value::Null, "", format!("not valid YAML: {e}")))?;
        if o.is_null() {
            continue;
        }
        if !o.is_object() {
            return Err(doc_error(file, index, &o, "", "a document must be a Kubernetes object (a mapping)"));
        }
        let field_str = |f: &str| o.get(f).and_then(Value::as_str).filter(|s| !s.is_empty());
        let api_version =
            field_str("apiVersion").ok_or_else(|| doc_error(file, index, &o, "apiVersion", "Required value"))?;
        let kind = field_str("kind").ok_or_else(|| doc_error(file, index, &o, "kind", "Required value"))?;
        let def = resources::by_kind(api_version, kind).filter(|d| d.view == View::Native).ok_or_else(|| {
            doc_error(
                file,
                index,
                &o,
                "kind",
                format!("{api_version} {kind} is not served by the sandbox (served: {})", served_kinds()),
            )
        })?;
        if object::name(&o).is_empty() {
            return Err(doc_error(file, index, &o, "metadata.name", "Required value"));
        }
        validate::shape(def.kind, &o).map_err(|c| doc_error(file, index, &o, &c.field, c.message))?;
        let mut o = o;
        if def.namespaced && object::namespace(&o).is_empty() {
            object::meta_mut(&mut o).insert("namespace".into(), "default".into());
        }
        if let Some(c) = validate::rules(def.kind, &o).into_iter().next() {
            return Err(doc_error(file, index, &o, &c.field, c.message));
        }
        docs.push(Doc { index, def, object: o });
    }
    Ok(docs)
}

fn read_logs(dir: &Path) -> Result<Vec<LogFile>, ScenarioError> {
    let root = dir.join("logs");
    let mut out = Vec::new();
    if !root.exists() {
        return Ok(out);
    }
    let io = |p: &Path, e: std::io::Error| ScenarioError::File { file: p.to_path_buf(), message: e.to_string() };
    let entries = |p: &Path| -> Result<Vec<PathBuf>, ScenarioError> {
        let mut v: Vec<PathBuf> =
            std::fs::read_dir(p).map_err(|e| io(p, e))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        v.sort();
        Ok(v)
    };
    for ns_dir in entries(&root)? {
        for pod_dir in entries(&ns_dir)? {
            for file in entries(&pod_dir)? {
                let fname = file.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_string();
                let (container, previous) = if let Some(c) = fname.strip_suffix(".previous.log") {
                    (c.to_string(), true)
                } else if let Some(c) = fname.strip_suffix(".log") {
                    (c.to_string(), false)
                } else {
                    return Err(ScenarioError::File {
                        file,
                        message: "expected <container>.log or <container>.previous.log".into(),
                    });
                };
                let text = std::fs::read_to_string(&file).map_err(|e| io(&file, e))?;
                let name = |p: &Path| p.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_string();
                out.push(LogFile {
                    namespace: name(&ns_dir),
                    pod: name(&pod_dir),
                    container,
                    previous,
                    text,
                    path: file,
                });
            }
        }
    }
    Ok(out)
}

/// Reads a scenario folder.
pub fn load(dir: &Path) -> Result<Scenario, ScenarioError> {
    let file = dir.join("cluster.yaml");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| ScenarioError::File { file: file.clone(), message: e.to_string() })?;
    let docs = parse_cluster(&file, &text)?;
    let logs = read_logs(dir)?;
    Ok(Scenario { dir: dir.to_path_buf(), docs, logs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_documents_are_named_by_file_document_and_field() {
        let f = Path::new("s/cluster.yaml");
        let cases = [
            (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
                "s/cluster.yaml: document 1 (ConfigMap x): kind: v1 ConfigMap is not served",
            ),
            (
                "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: p}\n",
                "document 2 (Pod p): apiVersion: Required value",
            ),
            (
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: n}\nspec: {replicas: two, selector: {}, template: {}}\n",
                "document 1 (Deployment n/d): spec.replicas: invalid type",
            ),
            (
                "apiVersion: v1\nkind: Pod\nmetadata: {namespace: n}\nspec: {containers: []}\n",
                "document 1 (Pod n/): metadata.name: Required value",
            ),
            (
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec: {containers: [{name: c}]}\n",
                "document 1 (Pod n/p): spec.containers[0].image: Required value",
            ),
        ];
        for (yaml, want) in cases {
            let err = parse_cluster(f, yaml).unwrap_err().to_string();
            assert!(err.contains(want), "got {err:?}, want {want:?}");
        }
    }

    #[test]
    fn empty_documents_are_skipped_and_namespaces_defaulted() {
        let docs = parse_cluster(Path::new("c.yaml"), "---\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
            .unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].index, 2);
        assert_eq!(object::namespace(&docs[0].object), "default");
    }
}
