//! Memory: recall of similar past incidents and a knowledge base of runbooks (docs/memory.md).
//!
//! Two ports at the I/O boundaries, each with a fake beside it:
//! - [`Embedder`] turns text into a unit-length vector: all-MiniLM-L6-v2 in-process (candle), an
//!   OpenAI-compatible `/v1/embeddings` server, or the lexical fallback (hashed word and character
//!   n-grams, no model needed).
//! - [`VectorStore`] keeps vectors with a JSON payload in named collections: embedded Qdrant
//!   (qdrant-edge, under the data directory) by default, or a Qdrant server (qdrant-client, gRPC).
//!
//! [`Memory`] ties them together: it indexes a compact record of each incident that ended
//! (`remember`, run as a persisted job so a failure is retried) and recalls the most similar past
//! incidents of the same cluster for a new one, verified fixes first. [`knowledge`] chunks Markdown
//! runbooks by heading and answers "how do I fix ..." from them. Every failure here degrades: the
//! caller proceeds without memory and says so (DESIGN invariant 7).

pub mod cluster;
pub mod embed;
pub mod knowledge;
pub mod memory;
pub mod record;
pub mod reindex;
pub mod store;

pub use embed::{EmbedError, Embedder};
pub use memory::{Memory, Recall};
pub use record::IncidentRecord;
pub use store::{Filter, Hit, Point, StoreError, VectorStore};
