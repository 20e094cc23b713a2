//! The sandbox cluster, spoken to by the real kube-rs client and the real kubectl.
//!
//! Every test starts its own sandbox on port 0 from a scenario folder with zero readiness time,
//! so tests are independent and the controllers settle before each API call returns.

mod cli;
mod kube_client;
mod kube_writes;
mod kubectl;
mod scenarios;
mod simulation;
mod support;
