//! Serves a scenario like `mimi sandbox` does, until Ctrl-C:
//! `cargo run --example sandbox_serve -- --scenario DIR --kubeconfig-out /tmp/kc`.

use clap::Parser;
use mimi::sandbox::cli::{SandboxArgs, run};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: SandboxArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    run(Cli::parse().args).await
}
