//! The [`VectorStore`] port: named collections of (id, unit vector, JSON payload), searched by
//! cosine similarity with equality filters on payload fields.
//!
//! Implementations: [`edge::EdgeStore`] (embedded Qdrant under the data directory, the default),
//! [`remote::RemoteStore`] (a Qdrant server over gRPC, `[memory.qdrant] url`; same layout) and
//! [`fake::MemoryStore`] (in-memory brute force, can be switched "down" to test degradation).
//! A collection records the embedder that filled it; opening it with another embedder (another
//! model or dimension) is [`StoreError::EmbedderChanged`] until `mimi memory reindex` rebuilds it.

pub mod edge;
pub mod fake;
pub mod remote;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Payload fields searches filter on by equality: stores index them as keywords.
pub const KEYWORD_FIELDS: [&str; 3] = ["cluster", "alertname", "kind"];

/// One stored item.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub id: u64,
    pub vector: Vec<f32>,
    /// A JSON object: what a hit gives back and what filters look at.
    pub payload: Value,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: u64,
    pub score: f32,
    pub payload: Value,
}

/// Payload fields that must equal the given strings (all of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub must: Vec<(String, String)>,
}

impl Filter {
    pub fn field(mut self, key: &str, value: &str) -> Self {
        self.must.push((key.to_string(), value.to_string()));
        self
    }

    /// Whether a payload passes (used by the fake; the embedded store filters in Qdrant).
    pub fn matches(&self, payload: &Value) -> bool {
        self.must.iter().all(|(k, v)| payload.get(k).and_then(Value::as_str) == Some(v.as_str()))
    }
}

/// What a collection was filled with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionSpec {
    pub embedder: String,
    pub dimension: usize,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("the vector store is unavailable: {0}")]
    Unavailable(String),
    #[error(
        "collection {collection:?} was indexed with {was:?} ({was_dim} dimensions), the embedder is now {now:?} \
         ({now_dim} dimensions): run `mimi memory reindex`"
    )]
    EmbedderChanged { collection: String, was: String, was_dim: usize, now: String, now_dim: usize },
    #[error("the vector store failed: {0}")]
    Failed(String),
}

#[async_trait]
pub trait VectorStore: Send + Sync {
    /// "embedded Qdrant at <path>", "remote Qdrant at <url>" (never a credential).
    fn describe(&self) -> String;
    /// Creates the collection for `spec` if it does not exist; errors if it exists for another one.
    async fn ensure(&self, collection: &str, spec: &CollectionSpec) -> Result<(), StoreError>;
    /// Inserts or replaces points by id.
    async fn upsert(&self, collection: &str, points: Vec<Point>) -> Result<(), StoreError>;
    /// The `limit` most similar points passing `filter` and scoring at least `min_score`, best first.
    async fn search(
        &self,
        collection: &str,
        vector: Vec<f32>,
        filter: &Filter,
        limit: usize,
        min_score: f32,
    ) -> Result<Vec<Hit>, StoreError>;
    async fn count(&self, collection: &str) -> Result<usize, StoreError>;
    /// Removes the collection and everything in it (re-indexing starts here).
    async fn drop_collection(&self, collection: &str) -> Result<(), StoreError>;
}
