//! Rule analysis, timed (docs/benchmarks.md, "Analysis").
//!
//! 1. For every public scenario, the evidence is gathered once (a sandbox and the real gatherer),
//!    then `RuleAnalyzer::analyze_now` runs `ITERATIONS` times: the time of one analysis, per
//!    incident, without any network.
//! 2. The size of the evidence text the analyzer (and an LLM prompt) gets, over the suite.
//! 3. The whole suite through the real pipeline (`mimi eval tests/scenarios`), 4 at a time and 1 at
//!    a time.
//!
//! `cargo run --release --example analysis_bench`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mimi::analyze::rules::RuleAnalyzer;
use mimi::config::EvidenceSettings;
use mimi::eval::direct::analysis_input;
use mimi::eval::{EvalOptions, run, scenario};

const ITERATIONS: u32 = 2000;

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let dirs = scenario::discover(std::slice::from_ref(&root))?;
    let rules = RuleAnalyzer::default();
    let settings = EvidenceSettings::default();
    let mut per_incident = Vec::new();
    let mut sizes = Vec::new();
    let mut slowest = (0.0, String::new());
    for dir in &dirs {
        let files = scenario::read(dir)?;
        let input = analysis_input(&files, &settings).await?;
        sizes.push(input.evidence_text.len());
        for _ in 0..50 {
            std::hint::black_box(rules.analyze_now(&input));
        }
        let started = Instant::now();
        for _ in 0..ITERATIONS {
            std::hint::black_box(rules.analyze_now(std::hint::black_box(&input)));
        }
        let each = micros(started.elapsed()) / f64::from(ITERATIONS);
        if each > slowest.0 {
            slowest = (each, files.name.clone());
        }
        per_incident.push(each);
    }
    per_incident.sort_by(f64::total_cmp);
    sizes.sort_unstable();
    println!("rule analysis of one incident ({} scenarios, {ITERATIONS} runs each):", per_incident.len());
    println!(
        "  median {:.1} µs, p90 {:.1} µs, max {:.1} µs ({})",
        percentile(&per_incident, 0.5),
        percentile(&per_incident, 0.9),
        slowest.0,
        slowest.1
    );
    println!(
        "evidence text per incident (budget {} bytes): median {} bytes, max {} bytes",
        settings.budget_bytes,
        sizes[sizes.len() / 2],
        sizes[sizes.len() - 1]
    );
    for jobs in [4, 1] {
        let options = EvalOptions { jobs, ..EvalOptions::default() };
        let started = Instant::now();
        let report = run(std::slice::from_ref(&root), &options).await?;
        let t = &report.totals;
        println!(
            "eval suite, {jobs} at a time: {:.2} s wall for {} scenarios ({} correct, {} unsafe); per scenario median {} ms, max {} ms",
            started.elapsed().as_secs_f64(),
            t.scenarios,
            t.correct,
            t.unsafe_,
            t.median_millis,
            t.max_millis
        );
    }
    Ok(())
}
