//! The Slack adapter: the outbox sink (Block Kit messages with Approve / Reject buttons, edits in
//! place, thread replies) and the inbound side (signed Events API callbacks, interactions and
//! `/mimi` slash commands) over the HTTP endpoints in `http::slack`.
//!
//! ```text
//! outbox lane --Sink--> sink.rs --render.rs (Block Kit, escaped)--> client.rs (Web API, reqwest)
//! Slack --POST /slack/*--> http::slack --verify.rs (v0 HMAC, 5 min, both secrets)--> inbound.rs
//!        --ack at once; then in a task--> chat::respond (decide_proposal, QaEngine, silences)
//! ```
//!
//! The Web API is called directly over reqwest rather than through slack-morphism: Mimi uses four
//! methods, and the fake Slack in the tests checks exactly those requests.

pub mod client;
mod groups;
pub mod inbound;
mod payload;
pub mod render;
pub mod sink;
pub mod socket;
pub mod verify;

pub use client::Client;
pub use inbound::{Ack, Inbound};
pub use sink::SlackSink;
pub use socket::SocketMode;
