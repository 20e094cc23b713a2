//! `mimi eval`: incident scenarios (SCENARIOS.md) through the real pipeline, scored.
//!
//! For each scenario folder: a sandbox cluster serving its `cluster.yaml` and logs, a Mimi started
//! in-process on a temporary data directory (`app::start`, the configured analyzer — the runbook
//! rules unless `[llm]` says otherwise), the scenario's payloads POSTed to the real webhook, and
//! the outcome read from `GET /api/incidents/{id}` once analysed: what was offered for approval,
//! refused by policy, or dropped before rendering. [`score`] then compares it with `expect.yaml`.
//!
//! Codemap: `scenario` (finding and reading folders), `score` (pure scoring), `detail` (reading
//! the incident JSON), `run` (one scenario through the pipeline), `http` (a tiny client),
//! `report` (table and JSON), `direct` (a scenario's analysis input without the engine, for rule
//! tests and the benchmark).

mod detail;
pub mod direct;
mod http;
mod report;
mod run;
pub mod scenario;
pub mod score;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::StreamExt;

pub use report::{NotOffered, Report, Row, Totals};
pub use run::eval_settings;
pub use score::{Outcome, Proposal, Score, Verdict};

use crate::config::Settings;

/// How `mimi eval` runs.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// The configuration whose analyzer, policy and evidence settings are evaluated.
    pub settings: Settings,
    /// Upper bound on one scenario.
    pub timeout: Duration,
    /// Scenarios run at the same time.
    pub jobs: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions { settings: Settings::default(), timeout: Duration::from_secs(30), jobs: 4 }
    }
}

/// One scenario: read, run, scored. Never fails: a problem is the row's `error`.
pub async fn run_one(dir: PathBuf, options: &EvalOptions) -> (Row, Option<bool>) {
    let started = Instant::now();
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let files = match scenario::read(&dir) {
        Ok(f) => f,
        Err(e) => {
            let outcome = Outcome { error: Some(format!("{e:#}")), ..Outcome::default() };
            let s = score::score(None, &scenario::Objects::default(), &outcome);
            let score = Score { verdict: Verdict::Wrong, ..s };
            return (Row::new(name, outcome, score, 0), Some(false));
        }
    };
    let outcome = run::pipeline(&files, &options.settings, options.timeout).await;
    let score = score::score(files.expect.as_ref(), &files.objects, &outcome);
    let action = score.action_correct;
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    (Row::new(files.name, outcome, score, millis), action)
}

/// Every scenario under `dirs`, `options.jobs` at a time, in folder order.
pub async fn run(dirs: &[PathBuf], options: &EvalOptions) -> anyhow::Result<Report> {
    let started = Instant::now();
    let found = scenario::discover(dirs)?;
    let rows: Vec<(Row, Option<bool>)> =
        futures::stream::iter(found).map(|dir| run_one(dir, options)).buffered(options.jobs.max(1)).collect().await;
    let mut report = Report::new(rows);
    report.totals.wall_millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}
