//! Pipeline steps as persisted jobs, and the retry policy (pure).
//!
//! Every arrow of the pipeline after the webhook is a row in the `jobs` table, so a restart resumes
//! where it stopped. Jobs that share a `key` (one alert group, or one incident) run one at a time, in
//! the order they were created; that keeps "firing" before "resolved" for a group.

use std::time::Duration;

/// One step of the incident pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Turn a committed webhook delivery into incident and alert rows.
    Ingest,
    /// Gather evidence from the cluster.
    Enrich,
    /// Diagnose and propose actions.
    Analyze,
    /// Post the incident to its channels.
    Notify,
    /// Run an approved action.
    Execute,
    /// Check whether an executed action worked (re-checked until it settles or times out).
    Verify,
    /// Expire an incident's proposals that nobody decided in time.
    Expire,
    /// Index the record of an incident that ended into memory (similar past incidents).
    Remember,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Ingest,
        Step::Enrich,
        Step::Analyze,
        Step::Notify,
        Step::Execute,
        Step::Verify,
        Step::Expire,
        Step::Remember,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Ingest => "ingest",
            Step::Enrich => "enrich",
            Step::Analyze => "analyze",
            Step::Notify => "notify",
            Step::Execute => "execute",
            Step::Verify => "verify",
            Step::Expire => "expire",
            Step::Remember => "remember",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|step| step.as_str() == s)
    }
}

/// How failed jobs are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

/// What to do with a job whose attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    RetryIn(Duration),
    GiveUp,
}

impl RetryPolicy {
    /// Capped exponential backoff: `base * 2^(attempt-1)`, at most `cap`, with up to 25% jitter
    /// taken off (`jitter` in [0, 1)) so that jobs that failed together do not retry together.
    pub fn after_failure(&self, attempt: u32, jitter: f64) -> AfterFailure {
        if attempt >= self.max_attempts {
            return AfterFailure::GiveUp;
        }
        let exp = attempt.saturating_sub(1).min(30);
        let raw = self.base.saturating_mul(1u32 << exp).min(self.cap);
        let jitter = jitter.clamp(0.0, 1.0) * 0.25;
        AfterFailure::RetryIn(raw.mul_f64(1.0 - jitter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy =
        RetryPolicy { max_attempts: 5, base: Duration::from_millis(500), cap: Duration::from_secs(3) };

    #[test]
    fn backoff_doubles_up_to_the_cap_then_gives_up() {
        let table = [
            (1, AfterFailure::RetryIn(Duration::from_millis(500))),
            (2, AfterFailure::RetryIn(Duration::from_millis(1000))),
            (3, AfterFailure::RetryIn(Duration::from_millis(2000))),
            (4, AfterFailure::RetryIn(Duration::from_millis(3000))),
            (5, AfterFailure::GiveUp),
            (9, AfterFailure::GiveUp),
        ];
        for (attempt, expected) in table {
            assert_eq!(POLICY.after_failure(attempt, 0.0), expected, "attempt {attempt}");
        }
    }

    #[test]
    fn jitter_only_shortens_and_by_at_most_a_quarter() {
        let AfterFailure::RetryIn(d) = POLICY.after_failure(2, 0.999) else { panic!() };
        assert!(d <= Duration::from_millis(1000) && d >= Duration::from_millis(750), "{d:?}");
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let p = RetryPolicy { max_attempts: u32::MAX, ..POLICY };
        assert_eq!(p.after_failure(1000, 0.0), AfterFailure::RetryIn(Duration::from_secs(3)));
    }

    #[test]
    fn step_names_round_trip() {
        for step in Step::ALL {
            assert_eq!(Step::parse(step.as_str()), Some(step));
        }
    }
}
