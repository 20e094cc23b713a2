//! Mimi's integration tests: the real HTTP server on port 0, a real temporary SQLite database,
//! the real binary for crash tests, real Alertmanager, and the sandbox cluster spoken to by kube-rs
//! and kubectl. Test names carry the RELIABILITY ids.

#![recursion_limit = "256"]

mod actions;
mod alertmanager_e2e;
mod api;
mod audit;
mod config;
mod console;
mod console_browser;
mod crash;
mod dedupe;
mod durability;
mod email;
mod email_server;
mod enrich;
mod eval;
mod eval_llm;
mod llm;
mod manifests;
mod matrix;
mod matrix_commands;
mod memory;
mod memory_flow;
mod memory_quality;
mod memory_remote;
mod notify;
mod notify_flow;
mod notify_outage;
mod observability;
mod prometheus;
mod qa;
mod qa_llm;
mod real_cluster;
mod remediation;
mod rules;
mod sandbox;
mod slack;
mod slack_config;
mod slack_flow;
mod slack_silence;
mod slack_socket;
mod support;
mod webhook;
mod worker;
