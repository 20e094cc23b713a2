//! The [`Embedder`] port: text in, unit-length vectors out (cosine similarity = dot product).
//!
//! - [`lexical::Lexical`]: hashed word, word-pair and character-trigram features; no model, always
//!   available, lower quality (the fallback when nothing is configured).
//! - [`minilm::MiniLm`]: all-MiniLM-L6-v2 on the CPU with candle, from a local folder holding
//!   `config.json`, `tokenizer.json` and `model.safetensors` (384 dimensions).
//! - [`openai::OpenAiEmbedder`]: an OpenAI-compatible `POST {base_url}/embeddings` (Ollama, TEI,
//!   vLLM, OpenAI).

pub mod lexical;
pub mod minilm;
pub mod openai;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{EmbedderKind, MemorySettings};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    #[error("the embedding model could not be loaded: {0}")]
    Load(String),
    #[error("the embedding server is unavailable: {0}")]
    Unavailable(String),
    #[error("the embedding server's answer was not usable: {0}")]
    Invalid(String),
}

#[async_trait]
pub trait Embedder: Send + Sync {
    /// Names the model and its version; stored beside each collection so that a change of model
    /// (even with the same dimension) is detected and re-indexing offered.
    fn name(&self) -> String;
    fn dimension(&self) -> usize;
    /// One unit-length vector per text, in order.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// The embedder `[memory.embedder]` asks for.
pub fn from_settings(m: &MemorySettings) -> Result<Arc<dyn Embedder>, EmbedError> {
    let e = &m.embedder;
    Ok(match e.kind {
        EmbedderKind::Lexical => Arc::new(lexical::Lexical),
        EmbedderKind::Minilm => {
            let dir =
                e.model_dir.as_ref().ok_or_else(|| EmbedError::Load("memory.embedder.model_dir is not set".into()))?;
            Arc::new(minilm::MiniLm::load(dir)?)
        }
        EmbedderKind::Openai => Arc::new(openai::OpenAiEmbedder::from_settings(e)?),
    })
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Cosine similarity of two unit-length vectors.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
