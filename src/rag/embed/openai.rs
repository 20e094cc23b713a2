//! An OpenAI-compatible embeddings server: `POST {base_url}/embeddings` with
//! `{"model": ..., "input": [texts]}`, answered with `{"data": [{"index": i, "embedding": [...]}]}`
//! (OpenAI, Ollama, TEI, vLLM, llama.cpp). The dimension is configured, and every answer is checked
//! against it: a server that changed model is an error, never a silently mixed index.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{EmbedError, Embedder, normalize};
use crate::config::{EmbedderSettings, Secret};

pub struct OpenAiEmbedder {
    http: reqwest::Client,
    endpoint: String,
    model: String,
    dimension: usize,
    api_key: Option<Secret>,
}

#[derive(Deserialize)]
struct Answer {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

impl OpenAiEmbedder {
    pub fn from_settings(e: &EmbedderSettings) -> Result<OpenAiEmbedder, EmbedError> {
        let missing = |k: &str| EmbedError::Load(format!("memory.embedder.{k} is not set"));
        let base = e.base_url.as_deref().ok_or_else(|| missing("base_url"))?;
        let model = e.model.clone().ok_or_else(|| missing("model"))?;
        let dimension = e.dimensions.ok_or_else(|| missing("dimensions"))?;
        crate::tls::install_crypto_provider();
        let timeout = Duration::from_secs(e.timeout_seconds);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mimi/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| EmbedError::Load(err.to_string()))?;
        let endpoint = format!("{}/embeddings", base.trim_end_matches('/'));
        Ok(OpenAiEmbedder { http, endpoint, model, dimension, api_key: e.api_key.clone() })
    }
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn name(&self) -> String {
        format!("openai:{}", self.model)
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut req = self.http.post(&self.endpoint).json(&json!({"model": self.model, "input": texts}));
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key.expose());
        }
        let resp = req.send().await.map_err(|e| EmbedError::Unavailable(e.without_url().to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(EmbedError::Unavailable(format!("HTTP {}", status.as_u16())));
        }
        let answer: Answer = resp.json().await.map_err(|e| EmbedError::Invalid(e.without_url().to_string()))?;
        if answer.data.len() != texts.len() {
            return Err(EmbedError::Invalid(format!("{} vectors for {} texts", answer.data.len(), texts.len())));
        }
        let mut out = vec![Vec::new(); texts.len()];
        for (i, item) in answer.data.into_iter().enumerate() {
            let at = item.index.unwrap_or(i);
            if item.embedding.len() != self.dimension {
                return Err(EmbedError::Invalid(format!(
                    "a vector of {} dimensions; memory.embedder.dimensions is {}",
                    item.embedding.len(),
                    self.dimension
                )));
            }
            let slot = out.get_mut(at).ok_or_else(|| EmbedError::Invalid(format!("index {at} out of range")))?;
            *slot = item.embedding;
            normalize(slot);
        }
        if out.iter().any(Vec::is_empty) {
            return Err(EmbedError::Invalid("an index was missing from the answer".into()));
        }
        Ok(out)
    }
}
