//! Mimi: a Kubernetes incident ChatOps bot.
//!
//! Codemap (see docs/ARCHITECTURE.md for the invariants):
//! - `sandbox`: a Kubernetes-API-compatible simulated cluster for tests, the demo and evals.
#![recursion_limit = "256"]

pub mod sandbox;
