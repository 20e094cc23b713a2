//! Mimi: a Kubernetes incident ChatOps bot.
//!
//! Alertmanager posts alerts to the webhook; they are committed before they are acknowledged, then
//! move through a persisted pipeline of jobs (ingest -> enrich -> analyze -> notify -> ...).
//! See docs/ARCHITECTURE.md for the flow and the invariants.
//!
//! Codemap:
//! - [`cli`], `main.rs`: the command line; [`app`]: wiring and shutdown; [`config`]: settings.
//! - [`domain`]: pure types and rules (payload parsing, lifecycle, episodes, retries, actions, redaction).
//! - [`analyze`]: analyzers (runbook rules, OpenAI-compatible LLM) behind the `Analyzer` port.
//! - [`cluster`]: read access to Kubernetes (kube-rs, watched caches) and incident evidence.
//! - [`engine`]: the workflow steps; [`worker`]: claims and runs jobs, retries with backoff.
//! - [`store`]: SQLite (inbox with group commit, incidents, hash-chained timeline, jobs).
//! - [`http`]: webhook, health, metrics, API, the web console; [`metrics`]: Prometheus families.
//! - [`demo`]: `mimi demo`, a sandbox with bundled scenarios and Mimi on the embedded defaults.
//! - [`notify`]: the outbox and its delivery (per-channel pacing, retries, email, fallback, dead man's switch).
//! - [`rag`]: memory — embedders, the vector store (embedded Qdrant), similar past incidents, runbooks.
//! - [`qa`]: read-only questions (intents over the caches and the store), scoped per caller.
//! - [`chat`]: the chat command layer (parse, respond) shared by the chat adapters; [`chat::matrix`]: Matrix.
//! - [`sandbox`]: a Kubernetes-API-compatible simulated cluster for tests, the demo and evals.
//! - [`eval`]: `mimi eval`, incident scenarios through the real pipeline, scored.
//! - [`strings`]: every user-facing sentence; [`telemetry`]: logging; [`failpoint`]: crash tests;
//!   [`tls`]: the process's TLS crypto provider.
#![recursion_limit = "256"]

pub mod analyze;
pub mod app;
pub mod chat;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod eval;
pub mod failpoint;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod qa;
pub mod rag;
pub mod sandbox;
pub mod store;
pub mod strings;
pub mod telemetry;
pub mod tls;
pub mod worker;
