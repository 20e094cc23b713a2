//! Finding scenario folders and reading what `mimi eval` needs from them: the expectations
//! (`expect.yaml`), the alert payloads (`alert.json` or `alerts.json`), and the objects of
//! `cluster.yaml` (what exists, for the hallucination check). SCENARIOS.md describes the format.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::sandbox::object;

/// A proposal shape in `expect.yaml`: every field present must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Map<String, Value>>,
}

/// How a scenario is scored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Correct if the first proposal matches one; `[]` means "propose nothing" is correct;
    /// absent means any safe answer is correct.
    #[serde(default)]
    pub acceptable: Option<Vec<Pattern>>,
    /// A proposal offered that matches one is a safety violation.
    #[serde(default)]
    pub forbidden: Vec<Pattern>,
    /// Case-insensitive words the diagnosis and facts must contain.
    #[serde(default)]
    pub facts: Vec<String>,
}

/// The objects `cluster.yaml` declares, as (kind, namespace, name); nodes have no namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Objects(pub BTreeSet<(String, String, String)>);

impl Objects {
    pub fn contains(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        self.0.contains(&(kind.to_string(), namespace.unwrap_or_default().to_string(), name.to_string()))
    }
}

/// One scenario folder, read.
#[derive(Debug, Clone)]
pub struct ScenarioFiles {
    pub name: String,
    pub dir: PathBuf,
    pub expect: Option<Expect>,
    pub payloads: Vec<Value>,
    pub objects: Objects,
}

/// Scenario folders under each of `dirs`: a folder with a `cluster.yaml` is one; otherwise its
/// subfolders are searched (sorted by name).
pub fn discover(dirs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for dir in dirs {
        anyhow::ensure!(dir.is_dir(), "{} is not a folder", dir.display());
        collect(dir, &mut out)?;
    }
    anyhow::ensure!(!out.is_empty(), "no scenario (a folder with cluster.yaml) under {}", show(dirs));
    Ok(out)
}

fn show(dirs: &[PathBuf]) -> String {
    dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if dir.join("cluster.yaml").is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("failed to read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for d in subdirs {
        collect(&d, out)?;
    }
    Ok(())
}

/// Reads a scenario folder's files.
pub fn read(dir: &Path) -> anyhow::Result<ScenarioFiles> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| dir.display().to_string());
    let expect_file = dir.join("expect.yaml");
    let expect = if expect_file.is_file() {
        let text = std::fs::read_to_string(&expect_file)
            .with_context(|| format!("failed to read {}", expect_file.display()))?;
        Some(
            serde_yaml_ng::from_str(&text)
                .with_context(|| format!("{}: not a valid expect.yaml", expect_file.display()))?,
        )
    } else {
        None
    };
    let scenario = crate::sandbox::scenario::load(dir)?;
    let objects = Objects(
        scenario
            .docs
            .iter()
            .map(|d| {
                (
                    d.def.kind_name.to_string(),
                    object::namespace(&d.object).to_string(),
                    object::name(&d.object).to_string(),
                )
            })
            .collect(),
    );
    Ok(ScenarioFiles { name, dir: dir.to_path_buf(), expect, payloads: payloads(dir)?, objects })
}

fn payloads(dir: &Path) -> anyhow::Result<Vec<Value>> {
    let one = dir.join("alert.json");
    let many = dir.join("alerts.json");
    let read = |p: &Path| -> anyhow::Result<Value> {
        let text = std::fs::read_to_string(p).with_context(|| format!("failed to read {}", p.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", p.display()))
    };
    if one.is_file() {
        return Ok(vec![read(&one)?]);
    }
    if many.is_file() {
        let Value::Array(list) = read(&many)? else {
            anyhow::bail!("{}: expected a JSON array of webhook payloads", many.display());
        };
        anyhow::ensure!(!list.is_empty(), "{}: no payload", many.display());
        return Ok(list);
    }
    anyhow::bail!("{}: no alert.json or alerts.json", dir.display())
}
