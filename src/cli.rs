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
    /// Run incident scenarios through the real pipeline and score the proposals (exit 1 if any is unsafe).
    Eval(EvalArgs),
    /// See Mimi work end to end: a sandbox cluster with four incidents, Mimi on the embedded
    /// defaults, and the web console to approve a fix in. No cluster, chat or LLM needed.
    Demo(DemoArgs),
    /// Web console helpers.
    #[command(subcommand)]
    Console(ConsoleCommand),
    /// Manage memory (similar past incidents).
    #[command(subcommand)]
    Memory(MemoryCommand),
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Where the demo keeps its database and sandbox files (cleared at start if a demo made it).
    #[arg(long, default_value = "mimi-demo-data", value_name = "DIR")]
    pub data_dir: PathBuf,
    /// The console's address.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Password of the console users `admin` and `viewer` (default: a random one, printed).
    #[arg(long, env = "MIMI_DEMO_PASSWORD", value_name = "PASSWORD")]
    pub password: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConsoleCommand {
    /// Read a password from standard input and print its argon2id hash for
    /// `[[console.users]] password_hash`.
    HashPassword,
}

#[derive(Debug, Subcommand)]
pub enum MemoryCommand {
    /// Rebuild the incident memory from the database with the configured embedder (after changing
    /// `[memory.embedder]`); stop Mimi first.
    Reindex(ConfigArgs),
    /// Say how many incidents memory holds, and with which embedder.
    Status(ConfigArgs),
}

#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// Print one JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Configuration whose [analyzer], [llm], [policy] and [evidence] sections are evaluated
    /// (default: the built-in rules and the default policy). Nothing else of it is used.
    #[arg(long, short, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Scenarios run at the same time.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub jobs: usize,
    /// Upper bound on one scenario.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub timeout_seconds: u64,
    /// Scenario folders, or folders holding scenario folders.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
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
