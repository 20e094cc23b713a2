//! Chat: the command layer every chat adapter shares, and the adapters.
//!
//! ```text
//! adapter (Slack, Matrix): verify the request or event, resolve the person (platform ids, never
//!   display names), the channel's namespace scope and thread
//!        |  text after /mimi, @mimi, !mimi
//!   command::parse (pure, strict)  -->  respond::Responder::respond  -->  Reply (plain text)
//!        approve/reject: engine::decide_proposal    questions, lookups: qa::QaEngine (read-only)
//!        silence: silence::Alertmanager (API v2)
//! ```
//!
//! Replies are plain text; each adapter escapes them for its platform. Incident messages and
//! their updates do not come from here: they go through the outbox (`notify`).

pub mod command;
pub mod matrix;
pub mod overheard;
pub mod respond;
pub mod silence;
pub mod slack;

pub use command::{Command, ParseError, parse};
pub use respond::{Caller, Reply, Responder};
