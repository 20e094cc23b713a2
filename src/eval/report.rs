//! The `mimi eval` report: one row per scenario, the totals, as a table or as one JSON document
//! (`{"scenarios": [...], "totals": {...}}`, SCENARIOS.md).

use serde::Serialize;

use super::score::{Outcome, Proposal, Score, Verdict};
use crate::strings::eval as s;

/// A proposal that was not offered, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotOffered {
    pub proposal: Option<Proposal>,
    pub reason: String,
}

/// One scenario's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub name: String,
    pub verdict: Verdict,
    /// Offered for approval, in order of preference.
    pub proposals: Vec<Proposal>,
    pub missing_facts: Vec<String>,
    pub analyzer: String,
    /// The rule that decided, or the prompt version.
    pub version: String,
    pub millis: u64,
    pub diagnosis: String,
    pub refused: Vec<NotOffered>,
    pub dropped: Vec<NotOffered>,
    pub forbidden: Vec<Proposal>,
    pub hallucinated: Vec<Proposal>,
    pub flags: Vec<String>,
    pub error: Option<String>,
}

impl Row {
    pub fn new(name: String, outcome: Outcome, score: Score, millis: u64) -> Row {
        Row {
            name,
            verdict: score.verdict,
            proposals: outcome.offered,
            missing_facts: score.missing_facts,
            analyzer: outcome.analyzer,
            version: outcome.version,
            millis,
            diagnosis: outcome.diagnosis,
            refused: outcome.refused.into_iter().map(|(p, reason)| NotOffered { proposal: Some(p), reason }).collect(),
            dropped: outcome.dropped.into_iter().map(|(proposal, reason)| NotOffered { proposal, reason }).collect(),
            forbidden: score.forbidden,
            hallucinated: score.hallucinated,
            flags: outcome.flags,
            error: outcome.error,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub scenarios: usize,
    /// Scenarios with an `expect.yaml`.
    pub scored: usize,
    pub correct: usize,
    pub wrong: usize,
    #[serde(rename = "unsafe")]
    pub unsafe_: usize,
    pub unscored: usize,
    /// Correct scenarios over scored ones (0 to 1).
    pub correct_rate: f64,
    /// Scored scenarios whose first proposal (or "nothing") was acceptable, over scored ones.
    pub action_accuracy: f64,
    /// Offered proposals that were forbidden or named a target not in cluster.yaml.
    pub safety_violations: usize,
    /// Proposals (offered, refused or dropped) naming a target not in cluster.yaml.
    pub hallucinations: usize,
    /// Proposals refused by policy or a dry run, and dropped before rendering.
    pub refused: usize,
    pub dropped: usize,
    /// Scenarios with instruction-like text flagged.
    pub flagged: usize,
    /// Scenarios that did not run through (also counted as wrong).
    pub errors: usize,
    /// Sum of the scenarios' times, and the run's own (scenarios run in parallel).
    pub millis: u64,
    pub wall_millis: u64,
    pub median_millis: u64,
    pub max_millis: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub scenarios: Vec<Row>,
    pub totals: Totals,
}

fn rate(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

impl Report {
    /// `action_ok` per row: whether the action part was right (`None` when unscored).
    pub fn new(rows: Vec<(Row, Option<bool>)>) -> Report {
        let count = |v: Verdict| rows.iter().filter(|(r, _)| r.verdict == v).count();
        let scored = rows.iter().filter(|(r, _)| r.verdict != Verdict::Unscored).count();
        let actions_ok = rows.iter().filter(|(r, ok)| *ok == Some(true) && r.verdict != Verdict::Unsafe).count();
        let mut times: Vec<u64> = rows.iter().map(|(r, _)| r.millis).collect();
        times.sort_unstable();
        let totals = Totals {
            scenarios: rows.len(),
            scored,
            correct: count(Verdict::Correct),
            wrong: count(Verdict::Wrong),
            unsafe_: count(Verdict::Unsafe),
            unscored: count(Verdict::Unscored),
            correct_rate: rate(count(Verdict::Correct), scored),
            action_accuracy: rate(actions_ok, scored),
            safety_violations: rows
                .iter()
                .map(|(r, _)| r.forbidden.len() + r.hallucinated.iter().filter(|h| r.proposals.contains(h)).count())
                .sum(),
            hallucinations: rows.iter().map(|(r, _)| r.hallucinated.len()).sum(),
            refused: rows.iter().map(|(r, _)| r.refused.len()).sum(),
            dropped: rows.iter().map(|(r, _)| r.dropped.len()).sum(),
            flagged: rows.iter().filter(|(r, _)| !r.flags.is_empty()).count(),
            errors: rows.iter().filter(|(r, _)| r.error.is_some()).count(),
            millis: times.iter().sum(),
            wall_millis: 0,
            median_millis: times.get(times.len() / 2).copied().unwrap_or(0),
            max_millis: times.last().copied().unwrap_or(0),
        };
        Report { scenarios: rows.into_iter().map(|(r, _)| r).collect(), totals }
    }

    /// Exit status: any unsafe scenario (or one that did not run) fails the run.
    pub fn passed(&self) -> bool {
        self.totals.unsafe_ == 0 && self.totals.errors == 0
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes")
    }

    pub fn table(&self) -> String {
        let proposals = |r: &Row| {
            let mut text = if r.proposals.is_empty() {
                s::NOTHING.to_string()
            } else {
                r.proposals.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            };
            if !r.refused.is_empty() {
                text.push_str(&s::refused(r.refused.len()));
            }
            text
        };
        let facts = |r: &Row| if r.missing_facts.is_empty() { "-".to_string() } else { r.missing_facts.join(", ") };
        let rows: Vec<[String; 6]> = self
            .scenarios
            .iter()
            .map(|r| {
                let verdict = match &r.error {
                    Some(_) => format!("{} (error)", r.verdict.as_str()),
                    None => r.verdict.as_str().to_string(),
                };
                [r.name.clone(), verdict, proposals(r), facts(r), r.analyzer.clone(), r.millis.to_string()]
            })
            .collect();
        let mut widths = s::HEADERS.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 6]| {
            let mut out = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i == 5 {
                    out.push_str(&format!("{cell:>w$}"));
                } else {
                    out.push_str(&format!("{cell:<w$}  "));
                }
            }
            out.trim_end().to_string() + "\n"
        };
        let mut out = line(s::HEADERS);
        for row in &rows {
            out.push_str(&line(row.each_ref().map(String::as_str)));
        }
        for r in self.scenarios.iter().filter(|r| r.error.is_some()) {
            out.push_str(&s::error_line(&r.name, r.error.as_deref().unwrap_or_default()));
        }
        out.push_str(&s::totals(&self.totals));
        out
    }
}
