//! The `mimi` binary: parse the command line, load the configuration, run.

use std::process::ExitCode;

use clap::Parser;
use mimi::cli::{AuditCommand, Cli, Command, ConfigArgs, ConsoleCommand, DemoArgs, EvalArgs, MemoryCommand};
use mimi::config::{self, Settings};

fn main() -> ExitCode {
    mimi::tls::install_crypto_provider();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mimi: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Check(args) => check(args),
            Command::Audit(AuditCommand::Verify(args)) => audit_verify(args).await,
            Command::Sandbox(args) => sandbox(args).await,
            Command::Eval(args) => eval(args).await,
            Command::Demo(args) => demo(args).await,
            Command::Console(ConsoleCommand::HashPassword) => hash_password(),
            Command::Memory(MemoryCommand::Reindex(args)) => memory(args, true).await,
            Command::Memory(MemoryCommand::Status(args)) => memory(args, false).await,
        }
    })
}

/// Exit code for configuration errors, distinct from runtime failures.
const BAD_CONFIG: u8 = 2;

fn load(args: &ConfigArgs) -> Result<Settings, ExitCode> {
    config::load(args.config.as_deref()).map_err(|errors| {
        eprint!("mimi: {errors}");
        ExitCode::from(BAD_CONFIG)
    })
}

fn check(args: ConfigArgs) -> ExitCode {
    let settings = match load(&args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    println!("{}", mimi::strings::check::ok(args.config.as_deref()));
    print!("{}", config::report(&settings));
    ExitCode::SUCCESS
}

async fn serve(args: ConfigArgs) -> ExitCode {
    let settings = match load(&args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    mimi::telemetry::init(&settings.log);
    let running = match mimi::app::start(settings, None).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "failed to start");
            eprintln!("mimi: failed to start: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = running.shutdown_signal();
    tokio::select! {
        _ = wait_for_signal() => running.shutdown(),
        _ = shutdown.cancelled() => {}
    }
    match running.wait().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "mimi stopped with an error");
            eprintln!("mimi: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("received SIGINT"),
        _ = term.recv() => tracing::info!("received SIGTERM"),
    }
}

async fn sandbox(args: mimi::sandbox::cli::SandboxArgs) -> ExitCode {
    mimi::telemetry::init(&config::LogSettings::default());
    match mimi::sandbox::cli::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mimi: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn eval(args: EvalArgs) -> ExitCode {
    let settings = match &args.config {
        Some(path) => match config::load(Some(path)) {
            Ok(s) => s,
            Err(errors) => {
                eprint!("mimi: {errors}");
                return ExitCode::from(BAD_CONFIG);
            }
        },
        None => Settings::default(),
    };
    mimi::telemetry::init(&config::LogSettings { level: "warn".into(), ..config::LogSettings::default() });
    let options = mimi::eval::EvalOptions {
        settings,
        timeout: std::time::Duration::from_secs(args.timeout_seconds.max(1)),
        jobs: args.jobs.max(1),
    };
    let report = match mimi::eval::run(&args.dirs, &options).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mimi: eval failed: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.table());
    }
    if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

async fn demo(args: DemoArgs) -> ExitCode {
    // The environment's settings (MIMI__...) bring chat sinks along; the demo sets the rest.
    let base = match config::load_env_unvalidated() {
        Ok(s) => s,
        Err(errors) => {
            eprint!("mimi: {errors}");
            return ExitCode::from(BAD_CONFIG);
        }
    };
    mimi::telemetry::init(&config::LogSettings { level: "warn".into(), ..base.log.clone() });
    let options = mimi::demo::DemoOptions { data_dir: args.data_dir, listen: args.listen, password: args.password };
    let demo = match mimi::demo::start(base, options, |line| eprintln!("demo: {line}")).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("mimi: the demo did not start: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", mimi::demo::banner(&demo));
    let shutdown = demo.running.shutdown_signal();
    tokio::select! {
        _ = wait_for_signal() => demo.running.shutdown(),
        _ = shutdown.cancelled() => {}
    }
    let result = demo.running.wait().await;
    demo.sandbox.shutdown().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mimi: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn hash_password() -> ExitCode {
    let mut password = String::new();
    if std::io::stdin().read_line(&mut password).is_err() || password.trim_end_matches(['\n', '\r']).is_empty() {
        eprintln!("mimi: give the password on standard input, e.g. `mimi console hash-password < file`");
        return ExitCode::from(BAD_CONFIG);
    }
    match mimi::http::console::hash_password(password.trim_end_matches(['\n', '\r'])) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mimi: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `mimi memory reindex|status`.
async fn memory(args: ConfigArgs, reindex: bool) -> ExitCode {
    let settings = match load(&args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let result = async {
        let memory = mimi::rag::Memory::from_settings(&settings, false)?;
        if !reindex {
            let n = memory.count_incidents().await?;
            return anyhow::Ok(format!("memory holds {n} incidents ({})", memory.describe()));
        }
        let store = mimi::store::Store::open_read_only(&settings.database_path()).await?;
        let n = mimi::rag::reindex::reindex(&store, &memory).await;
        store.close().await;
        anyhow::Ok(format!("re-indexed {} incidents ({})", n?, memory.describe()))
    }
    .await;
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mimi: memory: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn audit_verify(args: ConfigArgs) -> ExitCode {
    let settings = match load(&args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let path = settings.database_path();
    let result = async {
        let store = mimi::store::Store::open_read_only(&path).await?;
        let report = store.verify_chain().await?;
        store.close().await;
        anyhow::Ok(report)
    }
    .await;
    match result {
        Ok(report) => match report.first_broken {
            None => {
                println!("audit trail intact: {} rows verified in {}", report.rows, path.display());
                ExitCode::SUCCESS
            }
            Some((id, why)) => {
                println!("audit trail BROKEN at row {id}: {why} ({} rows read, {})", report.rows, path.display());
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("mimi: audit verify failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}
