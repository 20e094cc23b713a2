//! What the kustomizations under `k8s/` apply: every file they list exists, every manifest is in
//! one (or is an `*.example.yaml`, never applied), the base needs no operator CRDs, and, when
//! kubectl is installed, kustomize itself renders each of them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{is_example, is_kustomization, load_file, relative, repo_root, yaml_files};

/// What a kustomization refers to: resources, components, patch files and generator files.
fn kustomization_references(doc: &Value) -> Vec<String> {
    let mut refs = Vec::new();
    for key in ["resources", "components"] {
        refs.extend(doc[key].as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from));
    }
    refs.extend(doc["patches"].as_array().into_iter().flatten().filter_map(|p| p["path"].as_str()).map(String::from));
    for generator in ["configMapGenerator", "secretGenerator"] {
        for g in doc[generator].as_array().into_iter().flatten() {
            for f in g["files"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                // `key=path` names the key; the file is the part after '='.
                refs.push(f.rsplit_once('=').map_or(f, |(_, path)| path).to_string());
            }
        }
    }
    refs
}

/// Every kustomization under `k8s/` with the files it pulls in (directories expanded through
/// their own kustomization). Panics on a reference to something that does not exist.
fn kustomized_files() -> Vec<(PathBuf, BTreeSet<PathBuf>)> {
    fn collect(dir: &Path, out: &mut BTreeSet<PathBuf>, missing: &mut Vec<String>) {
        let file = dir.join("kustomization.yaml");
        let docs = load_file(&file);
        assert_eq!(docs.len(), 1, "{} has {} documents", file.display(), docs.len());
        for reference in kustomization_references(&docs[0].value) {
            let path = dir.join(&reference);
            if path.is_dir() {
                collect(&path, out, missing);
            } else if path.is_file() {
                out.insert(path.canonicalize().unwrap());
            } else {
                missing.push(format!("{} lists {reference}, which does not exist", relative(&file)));
            }
        }
    }
    let mut result = Vec::new();
    let mut missing = Vec::new();
    for kustomization in yaml_files().into_iter().filter(|f| is_kustomization(f)) {
        let dir = kustomization.parent().unwrap().to_path_buf();
        let mut files = BTreeSet::new();
        collect(&dir, &mut files, &mut missing);
        result.push((dir, files));
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    result
}

#[test]
fn every_file_a_kustomization_lists_exists_and_every_manifest_is_listed_or_an_example() {
    let kustomized = kustomized_files();
    let listed: BTreeSet<PathBuf> = kustomized.iter().flat_map(|(_, files)| files.iter().cloned()).collect();
    let unlisted: Vec<String> = yaml_files()
        .into_iter()
        .filter(|f| !is_kustomization(f) && !is_example(f))
        .filter(|f| !listed.contains(&f.canonicalize().unwrap()))
        .map(|f| relative(&f))
        .collect();
    assert!(
        unlisted.is_empty(),
        "manifests no kustomization applies (list them, or name them *.example.yaml): {unlisted:?}"
    );
    let examples_listed: Vec<String> = listed.iter().filter(|f| is_example(f)).map(|f| relative(f)).collect();
    assert!(examples_listed.is_empty(), "examples must never be applied by a kustomization: {examples_listed:?}");
}

/// API groups every cluster serves (the base may use only these).
const BUILT_IN: [&str; 6] =
    ["v1", "apps/v1", "batch/v1", "policy/v1", "rbac.authorization.k8s.io/v1", "networking.k8s.io/v1"];

#[test]
fn the_base_applies_without_the_operator_crds_and_without_the_optional_parts() {
    let base = repo_root().join("k8s").canonicalize().unwrap();
    let (_, files) = kustomized_files().into_iter().find(|(dir, _)| dir.canonicalize().unwrap() == base).unwrap();
    let optional = base.join("optional");
    let stray: Vec<String> = files.iter().filter(|f| f.starts_with(&optional)).map(|f| relative(f)).collect();
    assert!(stray.is_empty(), "the base pulls in optional parts: {stray:?}");
    let crds: Vec<String> = files
        .iter()
        .flat_map(|f| load_file(f))
        .filter(|d| !BUILT_IN.contains(&d.api_version()))
        .map(|d| d.at())
        .collect();
    assert!(crds.is_empty(), "the base needs custom resource definitions some clusters lack: {crds:?}");
}

#[test]
fn kustomize_renders_every_kustomization_when_kubectl_is_installed() {
    let Ok(version) = std::process::Command::new("kubectl").args(["version", "--client"]).output() else {
        eprintln!("kubectl is not installed: rendering with kustomize not checked (tests/run.sh installs it)");
        return;
    };
    assert!(version.status.success());
    for (dir, files) in kustomized_files() {
        let out = std::process::Command::new("kubectl").arg("kustomize").arg(&dir).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "kubectl kustomize {}: {stderr}", relative(&dir));
        let rendered = serde_yaml_ng::Deserializer::from_slice(&out.stdout).count();
        let source: usize = files.iter().map(|f| load_file(f).len()).sum();
        assert_eq!(rendered, source, "kubectl kustomize {} rendered {rendered} objects from {source}", relative(&dir));
    }
}
