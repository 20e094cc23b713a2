//! `mimi sandbox`: serve a scenario as a Kubernetes API until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::{Sandbox, SandboxOptions};

/// Arguments of `mimi sandbox`.
#[derive(Clone, Debug, clap::Args)]
pub struct SandboxArgs {
    /// Scenario folder (cluster.yaml, logs/) to serve.
    #[arg(long, value_name = "DIR")]
    pub scenario: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Write a kubeconfig for kubectl and Mimi to this file.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Milliseconds from a pod being scheduled to it running.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub ready_after_ms: u64,
}

/// Runs the sandbox until Ctrl-C or SIGTERM.
pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let opts = SandboxOptions {
        listen: args.listen,
        ready_after: Duration::from_millis(args.ready_after_ms),
        ..SandboxOptions::default()
    };
    let sandbox = Sandbox::start(&args.scenario, opts)
        .await
        .with_context(|| format!("failed to start the sandbox for {}", args.scenario.display()))?;
    println!("sandbox listening on {}", sandbox.url());
    if let Some(path) = &args.kubeconfig_out {
        sandbox.write_kubeconfig(path)?;
        println!("kubeconfig written to {} (kubectl --kubeconfig {} get pods -A)", path.display(), path.display());
    } else {
        println!("token: {}", sandbox.token());
    }
    stopped().await;
    println!("sandbox stopping");
    sandbox.shutdown().await;
    Ok(())
}

async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
