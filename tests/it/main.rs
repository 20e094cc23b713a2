//! Mimi's integration tests: the real HTTP server on port 0, a real temporary SQLite database,
//! the real binary for crash tests, real Alertmanager, and the sandbox cluster spoken to by kube-rs
//! and kubectl. Test names carry the RELIABILITY ids.

mod actions;
mod alertmanager_e2e;
mod api;
mod audit;
mod config;
mod crash;
mod dedupe;
mod durability;
mod email;
mod email_server;
mod enrich;
mod eval;
mod llm;
mod manifests;
mod memory;
mod memory_flow;
mod memory_quality;
mod notify;
mod notify_flow;
mod observability;
mod prometheus;
mod qa;
mod real_cluster;
mod remediation;
mod rules;
mod sandbox;
mod support;
mod webhook;
mod worker;
