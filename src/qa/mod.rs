//! Read-only questions: "how many pods are running in hr?", "any problem pods?", "what happened in
//! incident 42?". One engine for Slack, Matrix, the console and `POST /ask`.
//!
//! The engine holds only the read-only cluster handle (`Arc<dyn ClusterRead>`, by type: there is no
//! way to act from here, DESIGN invariant 3). Requests to act become a pointer to the approval flow
//! (E10); secrets are refused (E11) — Mimi's RBAC cannot read them anyway. Each caller sees only its
//! namespaces, and a question about another is refused without saying whether it exists. Thread
//! context (for follow-ups) lives in SQLite. A per-user rate limit keeps one user from crowding out
//! the others (G05).

mod answer;
mod incidents;
pub mod intent;
mod knowledge;
mod limit;
pub mod llm;
mod tools;
mod workload;

pub use answer::{Answer, Asker, QaEngine, Scope};
pub use llm::QaLlm;
