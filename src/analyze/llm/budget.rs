//! The budget governor: how many tokens the LLM may spend, and when not to call it at all.
//!
//! Before a call, its cost is reserved (an estimate: the prompt's bytes / 3 plus `max_tokens`)
//! against three sliding windows — the incident's last 24 hours (keyed by its alert
//! fingerprints), the last hour and the last day; if any would overflow, the call is not made
//! ([`AnalyzeError::OverBudget`], and the rules answer). After the call the reservation is
//! corrected to what the server reports. The governor also holds a pause: after a 429 with a long
//! `Retry-After`, or several failed analyses in a row (a circuit breaker), calls are skipped until
//! the pause ends, so a dead provider does not slow every incident down. Time is passed in, so the
//! rules are tested without waiting.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::analyze::AnalyzeError;
use crate::strings::llm as s;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);
/// Incidents tracked at most; the oldest are forgotten first.
const MAX_INCIDENTS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_incident: u64,
    pub per_hour: u64,
    pub per_day: u64,
}

/// The circuit breaker: after `failures` failed analyses in a row, skip the LLM for `pause`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breaker {
    pub failures: u32,
    pub pause: Duration,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker { failures: 3, pause: Duration::from_secs(60) }
    }
}

pub(super) struct Governor {
    limits: Limits,
    breaker: Breaker,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    hour: Window,
    day: Window,
    incidents: HashMap<u64, Window>,
    paused_until: Option<(Instant, String)>,
    failures_in_a_row: u32,
}

/// Token spending over a sliding span: (when, tokens) entries; corrections may be negative.
#[derive(Default)]
struct Window {
    entries: VecDeque<(Instant, i64)>,
}

impl Window {
    fn used(&mut self, now: Instant, span: Duration) -> u64 {
        while self.entries.front().is_some_and(|(at, _)| now.saturating_duration_since(*at) >= span) {
            self.entries.pop_front();
        }
        self.entries.iter().map(|(_, n)| n).sum::<i64>().max(0) as u64
    }

    fn add(&mut self, at: Instant, tokens: i64) {
        self.entries.push_back((at, tokens));
    }
}

/// Tokens reserved for one call; give it back to [`Governor::settle`].
#[derive(Debug)]
pub(super) struct Reservation {
    incident: u64,
    at: Instant,
    estimate: u64,
}

impl Governor {
    pub(super) fn new(limits: Limits, breaker: Breaker) -> Self {
        Governor { limits, breaker, state: Mutex::new(State::default()) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a call may be made now at all (no pause in force).
    pub(super) fn admit(&self, now: Instant) -> Result<(), AnalyzeError> {
        let mut st = self.state();
        match &st.paused_until {
            Some((until, why)) if *until > now => {
                Err(AnalyzeError::Unavailable(s::paused(why, until.saturating_duration_since(now).as_secs() + 1)))
            }
            Some(_) => {
                st.paused_until = None;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Reserves `estimate` tokens for `incident`, or says which budget is used up.
    pub(super) fn reserve(&self, now: Instant, incident: u64, estimate: u64) -> Result<Reservation, AnalyzeError> {
        let mut st = self.state();
        let l = self.limits;
        let over = |used: u64, limit: u64| used.saturating_add(estimate) > limit;
        let incident_used = st.incidents.get_mut(&incident).map_or(0, |w| w.used(now, DAY));
        if over(incident_used, l.per_incident) {
            return Err(AnalyzeError::OverBudget(s::over_incident(incident_used, estimate, l.per_incident)));
        }
        let hour_used = st.hour.used(now, HOUR);
        if over(hour_used, l.per_hour) {
            return Err(AnalyzeError::OverBudget(s::over_window("hour", hour_used, l.per_hour)));
        }
        let day_used = st.day.used(now, DAY);
        if over(day_used, l.per_day) {
            return Err(AnalyzeError::OverBudget(s::over_window("day", day_used, l.per_day)));
        }
        let add = i64::try_from(estimate).unwrap_or(i64::MAX);
        st.hour.add(now, add);
        st.day.add(now, add);
        if st.incidents.len() >= MAX_INCIDENTS && !st.incidents.contains_key(&incident) {
            st.incidents.retain(|_, w| w.used(now, DAY) > 0);
            if st.incidents.len() >= MAX_INCIDENTS {
                st.incidents.clear();
            }
        }
        st.incidents.entry(incident).or_default().add(now, add);
        Ok(Reservation { incident, at: now, estimate })
    }

    /// Corrects a reservation to the tokens actually used.
    pub(super) fn settle(&self, r: Reservation, used: u64) {
        let delta = i64::try_from(used).unwrap_or(i64::MAX) - i64::try_from(r.estimate).unwrap_or(i64::MAX);
        if delta == 0 {
            return;
        }
        let mut st = self.state();
        st.hour.add(r.at, delta);
        st.day.add(r.at, delta);
        st.incidents.entry(r.incident).or_default().add(r.at, delta);
    }

    /// No calls until `until` (a 429's Retry-After).
    pub(super) fn pause(&self, until: Instant, why: String) {
        let mut st = self.state();
        if st.paused_until.as_ref().is_none_or(|(current, _)| *current < until) {
            st.paused_until = Some((until, why));
        }
    }

    /// Counts an analysis's outcome for the circuit breaker: only the provider being unreachable,
    /// slow or failing counts; bad answers do not (they depend on the incident).
    pub(super) fn outcome(&self, now: Instant, provider_failed: bool) {
        let mut st = self.state();
        if !provider_failed {
            st.failures_in_a_row = 0;
            return;
        }
        st.failures_in_a_row += 1;
        if st.failures_in_a_row >= self.breaker.failures {
            st.failures_in_a_row = 0;
            let until = now + self.breaker.pause;
            if st.paused_until.as_ref().is_none_or(|(current, _)| *current < until) {
                st.paused_until = Some((until, s::breaker(self.breaker.failures)));
            }
        }
    }
}

/// The tokens a prompt of `prompt_bytes` may cost, answer included (about 3 bytes per token for
/// logs and JSON, which tokenise worse than prose).
pub(super) fn estimate(prompt_bytes: usize, max_tokens: u32) -> u64 {
    (prompt_bytes as u64).div_ceil(3) + u64::from(max_tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn governor() -> Governor {
        Governor::new(Limits { per_incident: 1000, per_hour: 2500, per_day: 3500 }, Breaker::default())
    }

    #[test]
    fn the_incident_cap_counts_retries_and_settles_to_real_usage() {
        let g = governor();
        let t = Instant::now();
        let r = g.reserve(t, 1, 600).unwrap();
        g.settle(r, 300);
        let r = g.reserve(t, 1, 600).unwrap();
        g.settle(r, 600);
        assert!(matches!(g.reserve(t, 1, 200), Err(AnalyzeError::OverBudget(m)) if m.contains("tokens_per_incident")));
        assert!(g.reserve(t, 2, 600).is_ok(), "another incident has its own cap");
        assert!(g.reserve(t + DAY, 1, 600).is_ok(), "a day later the incident may spend again");
    }

    #[test]
    fn hourly_and_daily_caps_slide() {
        let g = governor();
        let t = Instant::now();
        for i in 0..2 {
            g.reserve(t, i, 1000).unwrap();
        }
        assert!(matches!(g.reserve(t, 9, 1000), Err(AnalyzeError::OverBudget(m)) if m.contains("tokens_per_hour")));
        let later = t + HOUR;
        g.reserve(later, 10, 1000).unwrap();
        assert!(matches!(g.reserve(later, 11, 1000), Err(AnalyzeError::OverBudget(m)) if m.contains("tokens_per_day")));
        assert!(g.reserve(t + DAY + HOUR, 12, 1000).is_ok());
    }

    #[test]
    fn a_pause_holds_calls_until_it_ends() {
        let g = governor();
        let t = Instant::now();
        assert!(g.admit(t).is_ok());
        g.pause(t + Duration::from_secs(30), "rate limited".into());
        assert!(matches!(g.admit(t + Duration::from_secs(29)), Err(AnalyzeError::Unavailable(_))));
        assert!(g.admit(t + Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn the_breaker_opens_after_failures_in_a_row_only() {
        let g = governor();
        let t = Instant::now();
        g.outcome(t, true);
        g.outcome(t, true);
        g.outcome(t, false);
        g.outcome(t, true);
        assert!(g.admit(t).is_ok(), "a success resets the count");
        g.outcome(t, true);
        g.outcome(t, true);
        assert!(g.admit(t).is_err(), "three in a row");
        assert!(g.admit(t + Duration::from_secs(60)).is_ok());
    }
}
