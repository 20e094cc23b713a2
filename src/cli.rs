//! The command line (clap). Each subcommand is a thin call into the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Mimi: Kubernetes incidents from Alertmanager, diagnosed, posted to chat, fixed on approval.
#[derive(Debug, Parser)]
#[command(name = "mimi", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run Mimi: the Alertmanager webhook, the incident pipeline and the API.
    Serve(ConfigArgs),
    /// Validate the configuration and print what is enabled and what is missing (exit 2 on error).
    Check(ConfigArgs),
    /// Inspect the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Serve a scenario folder as a simulated Kubernetes cluster (for kubectl, tests and demos).
    Sandbox(crate::sandbox::cli::SandboxArgs),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain of the incident timeline and report the first tampered row (exit 1).
    Verify(ConfigArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Configuration file (TOML). Every key can be overridden by MIMI__SECTION__KEY variables.
    #[arg(long, short, env = "MIMI_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}
