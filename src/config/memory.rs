//! `[memory]`: recall of similar past incidents and the runbook knowledge base (docs/memory.md).
//!
//! On by default with the embedded vector store under the data directory and the lexical embedder;
//! `[memory.embedder]` picks MiniLM (a local model folder) or an OpenAI-compatible server;
//! `[memory.qdrant] url` a remote Qdrant server instead of the embedded store.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemorySettings {
    pub enabled: bool,
    /// Where the embedded store keeps its collections; default `<data_dir>/memory`.
    pub path: Option<PathBuf>,
    /// The collection of past incidents. Eval and sandbox runs use `<collection>-sandbox`.
    pub collection: String,
    /// How many similar past incidents are recalled for a new one.
    pub top_k: usize,
    /// Past incidents scoring below this cosine similarity are not recalled.
    pub min_score: f32,
    /// Longest a recall (embedding + search) may take before analysis goes on without it.
    pub timeout_ms: u64,
    pub embedder: EmbedderSettings,
    /// A remote Qdrant server; without `url`, the embedded store.
    pub qdrant: QdrantSettings,
    /// A folder of Markdown runbooks (chunked by heading), indexed at start-up.
    pub runbooks_dir: Option<PathBuf>,
    /// How often the one-document-per-workload summary of the cluster is re-indexed; 0: never.
    pub cluster_sync_minutes: u64,
}

impl Default for MemorySettings {
    fn default() -> Self {
        MemorySettings {
            enabled: true,
            path: None,
            collection: "incidents".into(),
            top_k: 3,
            min_score: 0.35,
            timeout_ms: 2000,
            embedder: EmbedderSettings::default(),
            qdrant: QdrantSettings::default(),
            runbooks_dir: None,
            cluster_sync_minutes: 15,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbedderKind {
    /// Hashed word and character n-grams: no model, lower quality.
    Lexical,
    /// all-MiniLM-L6-v2 in-process from `model_dir`.
    Minilm,
    /// An OpenAI-compatible `/embeddings` endpoint.
    Openai,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbedderSettings {
    pub kind: EmbedderKind,
    /// For `minilm`: the folder with config.json, tokenizer.json and model.safetensors.
    pub model_dir: Option<PathBuf>,
    /// For `openai`: the API root, e.g. `http://ollama:11434/v1`; `/embeddings` is appended.
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// For `openai`: the model's vector size (checked on every answer).
    pub dimensions: Option<usize>,
    pub api_key: Option<Secret>,
    pub api_key_file: Option<PathBuf>,
    pub timeout_seconds: u64,
}

impl Default for EmbedderSettings {
    fn default() -> Self {
        EmbedderSettings {
            kind: EmbedderKind::Lexical,
            model_dir: None,
            base_url: None,
            model: None,
            dimensions: None,
            api_key: None,
            api_key_file: None,
            timeout_seconds: 5,
        }
    }
}

/// `[memory.qdrant]`: a Qdrant server (gRPC) holding the same collections as the embedded store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QdrantSettings {
    /// The gRPC endpoint, e.g. `http://qdrant:6334` (`https://` for TLS); none: the embedded store.
    pub url: Option<String>,
    pub api_key: Option<Secret>,
    pub api_key_file: Option<PathBuf>,
    /// Longest a call to the server (or connecting to it) may take.
    pub timeout_ms: u64,
}

impl Default for QdrantSettings {
    fn default() -> Self {
        QdrantSettings { url: None, api_key: None, api_key_file: None, timeout_ms: 2000 }
    }
}

impl QdrantSettings {
    fn validate(&self, err: &mut impl FnMut(&str, &str)) {
        let Some(url) = &self.url else { return };
        match url::Url::parse(url) {
            Ok(u) if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() => {
                err("memory.qdrant.url", "must be an http(s) URL of Qdrant's gRPC port, e.g. http://qdrant:6334")
            }
            Ok(u) if !u.username().is_empty() || u.password().is_some() => {
                err("memory.qdrant.url", "must not carry credentials; put the key in memory.qdrant.api_key")
            }
            Ok(_) => {}
            Err(_) => err("memory.qdrant.url", "must be an http(s) URL of Qdrant's gRPC port, e.g. http://qdrant:6334"),
        }
        if !(50..=60_000).contains(&self.timeout_ms) {
            err("memory.qdrant.timeout_ms", "must be between 50 and 60000");
        }
    }
}

impl MemorySettings {
    /// The embedded store's folder.
    pub fn store_path(&self, data_dir: &std::path::Path) -> PathBuf {
        self.path.clone().unwrap_or_else(|| data_dir.join("memory"))
    }

    /// What `mimi check` says about memory.
    pub fn describe(&self, data_dir: &std::path::Path) -> String {
        let e = &self.embedder;
        let embedder = match e.kind {
            EmbedderKind::Lexical => "lexical fallback embedder (hashed word and character n-grams)".to_string(),
            EmbedderKind::Minilm => format!(
                "MiniLM embedder (all-MiniLM-L6-v2) from {}",
                e.model_dir.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
            ),
            EmbedderKind::Openai => format!(
                "OpenAI-compatible embedder {} at {} ({} dimensions)",
                e.model.as_deref().unwrap_or_default(),
                e.base_url.as_deref().unwrap_or_default(),
                e.dimensions.unwrap_or_default()
            ),
        };
        let runbooks = match &self.runbooks_dir {
            Some(d) => format!("; runbooks from {}", d.display()),
            None => String::new(),
        };
        let store = match &self.qdrant.url {
            Some(url) => crate::strings::memory::remote_describe(url),
            None => format!("embedded Qdrant at {}", self.store_path(data_dir).display()),
        };
        format!(
            "{embedder}; {store} (collection {:?}, top {} above {:.2}){runbooks}",
            self.collection, self.top_k, self.min_score
        )
    }

    pub(super) fn validate(&self, errors: &mut Vec<ConfigError>) {
        let mut err = |key: &str, msg: &str| errors.push(ConfigError::new(key, msg.to_string()));
        if !self.enabled {
            return;
        }
        let valid_name = |n: &str| {
            !n.is_empty() && n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !valid_name(&self.collection) {
            err("memory.collection", "must be 1-64 letters, digits, '-' or '_'");
        }
        if !(1..=20).contains(&self.top_k) {
            err("memory.top_k", "must be between 1 and 20");
        }
        if !(-1.0..=1.0).contains(&self.min_score) {
            err("memory.min_score", "must be a cosine similarity between -1 and 1");
        }
        if !(50..=60_000).contains(&self.timeout_ms) {
            err("memory.timeout_ms", "must be between 50 and 60000");
        }
        let e = &self.embedder;
        match e.kind {
            EmbedderKind::Lexical => {}
            EmbedderKind::Minilm => match &e.model_dir {
                None => err(
                    "memory.embedder.model_dir",
                    "kind = \"minilm\" needs the model folder (config.json, tokenizer.json, model.safetensors)",
                ),
                Some(d) if !d.join("model.safetensors").is_file() || !d.join("tokenizer.json").is_file() => {
                    err("memory.embedder.model_dir", "has no model.safetensors and tokenizer.json")
                }
                Some(_) => {}
            },
            EmbedderKind::Openai => {
                match e.base_url.as_deref().map(url::Url::parse) {
                    None => err(
                        "memory.embedder.base_url",
                        "kind = \"openai\" needs the API root, e.g. http://ollama:11434/v1",
                    ),
                    Some(Ok(u)) if matches!(u.scheme(), "http" | "https") => {}
                    Some(_) => err("memory.embedder.base_url", "must be an http(s) URL"),
                }
                if e.model.as_deref().is_none_or(str::is_empty) {
                    err("memory.embedder.model", "kind = \"openai\" needs the model name");
                }
                if !e.dimensions.is_some_and(|d| (1..=8192).contains(&d)) {
                    err("memory.embedder.dimensions", "kind = \"openai\" needs the model's vector size (1-8192)");
                }
            }
        }
        if !(1..=120).contains(&e.timeout_seconds) {
            err("memory.embedder.timeout_seconds", "must be between 1 and 120");
        }
        self.qdrant.validate(&mut err);
        if self.cluster_sync_minutes > 24 * 60 {
            err("memory.cluster_sync_minutes", "must be between 0 (off) and 1440");
        }
        if let Some(d) = &self.runbooks_dir
            && !d.is_dir()
        {
            err("memory.runbooks_dir", "is not a folder");
        }
    }
}
