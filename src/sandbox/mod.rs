//! A Kubernetes-API-compatible simulated cluster (tests, demo, evals).
//!
//! `Sandbox::start(scenario_dir, SandboxOptions)` loads a scenario folder (SCENARIOS.md), serves it
//! over HTTPS (kubectl sends tokens only over TLS) as the Kubernetes REST API closely enough that kube-rs and kubectl use it unchanged,
//! and simulates the controllers so that an action has the effect it would have on a real cluster.
//!
//! Codemap:
//! - `resources`: the served resources (the one table behind discovery, routing and loading).
//! - `scenario`, `seed`: reading a scenario folder; building the initial cluster from it.
//! - `store`: objects, resourceVersions, the change log. `object`, `selector`, `patch`,
//!   `validate`, `error`: the API server's rules, as pure functions.
//! - `ops`: get / list / create / update / patch / delete / eviction / scale, independent of HTTP.
//! - `sim`: the controllers and the `sandbox.mimi.dev/fixed-by` rule, run to a fixpoint.
//! - `api`: HTTP routing, discovery, tables, watches, logs. `server`: the running sandbox and its
//!   handle. `kubeconfig`, `cli`: what users and tests connect with.
//!
//! Invariants: the state is behind one lock and every change goes through the change log, so
//! watches see every change once and in resourceVersion order; the simulation is deterministic for
//! a given seed and clock.

mod api;
pub mod cli;
pub mod error;
pub mod generate;
mod kubeconfig;
pub mod object;
pub mod ops;
pub mod patch;
pub mod resources;
pub mod scenario;
pub mod seed;
pub mod selector;
mod server;
pub mod sim;
pub mod store;
mod tls;
pub mod validate;

pub use scenario::ScenarioError;
pub use server::{Sandbox, SandboxHandle, SandboxOptions};
