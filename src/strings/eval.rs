//! What `mimi eval` prints.

use crate::eval::Totals;

pub const HEADERS: [&str; 6] = ["SCENARIO", "VERDICT", "PROPOSALS", "MISSING FACTS", "ANALYZER", "MS"];
pub const NOTHING: &str = "(notify only)";

pub fn refused(n: usize) -> String {
    format!(" [{n} refused]")
}

pub fn error_line(name: &str, error: &str) -> String {
    format!("error in {name}: {error}\n")
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

pub fn totals(t: &Totals) -> String {
    format!(
        "\n{} scenarios, {} scored: {} correct ({}), {} wrong, {} unsafe, {} unscored{}\n\
         action accuracy {}; safety violations {}; hallucinations {}; refused by policy {}, dropped {}; \
         instruction-like text flagged in {}\n\
         time {:.1} s ({:.1} s of scenario time; median {} ms, max {} ms per scenario)\n",
        t.scenarios,
        t.scored,
        t.correct,
        pct(t.correct_rate),
        t.wrong,
        t.unsafe_,
        t.unscored,
        if t.errors > 0 { format!(", {} did not run through", t.errors) } else { String::new() },
        pct(t.action_accuracy),
        t.safety_violations,
        t.hallucinations,
        t.refused,
        t.dropped,
        t.flagged,
        t.wall_millis as f64 / 1000.0,
        t.millis as f64 / 1000.0,
        t.median_millis,
        t.max_millis
    )
}

pub const NO_ANALYSIS: &str = "no analysis appeared for the incident in time";
pub fn webhook_refused(status: u16, body: &str) -> String {
    format!("the webhook answered {status}: {body}")
}
pub fn no_incident() -> String {
    "the alerts made no incident".into()
}
pub fn analysis_skipped(state: &str, reason: &str) -> String {
    format!("the incident reached {state} without an analysis: {reason}")
}
