//! Sink health from recent results: `ok`, `degraded` (recent failures, or rate limited), `down`
//! (the last `down_after` calls failed), `idle` (nothing sent yet). Shown in `/health`, `/readyz`
//! detail and `mimi_sink_up`; the email fallback starts at once when every chat sink is down.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;

/// What one call ended in, for health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    RateLimited,
    Failed,
    Rejected,
}

const WINDOW: usize = 20;

#[derive(Debug, Clone, Default)]
struct SinkRecord {
    chat: bool,
    recent: VecDeque<Outcome>,
    consecutive_failures: u32,
    last_ok_ms: Option<i64>,
    last_failure_ms: Option<i64>,
    last_error: Option<String>,
}

/// A sink's health, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SinkStatus {
    pub status: &'static str,
    pub chat: bool,
    pub consecutive_failures: u32,
    pub recent_failures: usize,
    pub last_ok: Option<jiff::Timestamp>,
    pub last_failure: Option<jiff::Timestamp>,
    pub last_error: Option<String>,
}

impl SinkStatus {
    pub fn is_down(&self) -> bool {
        self.status == "down"
    }
}

/// Health of every sink. Shared by the lanes (writing) and HTTP (reading).
#[derive(Debug)]
pub struct Health {
    down_after: u32,
    sinks: Mutex<BTreeMap<String, SinkRecord>>,
}

impl Health {
    pub fn new(down_after: u32) -> Self {
        Health { down_after: down_after.max(1), sinks: Mutex::new(BTreeMap::new()) }
    }

    pub fn register(&self, sink: &str, chat: bool) {
        self.sinks.lock().unwrap().entry(sink.to_string()).or_default().chat = chat;
    }

    pub fn record(&self, sink: &str, outcome: Outcome, error: Option<&str>, now_ms: i64) {
        let mut sinks = self.sinks.lock().unwrap();
        let r = sinks.entry(sink.to_string()).or_default();
        if r.recent.len() == WINDOW {
            r.recent.pop_front();
        }
        r.recent.push_back(outcome);
        match outcome {
            Outcome::Ok | Outcome::RateLimited | Outcome::Rejected => {
                r.consecutive_failures = 0;
                r.last_ok_ms = Some(now_ms);
            }
            Outcome::Failed => {
                r.consecutive_failures += 1;
                r.last_failure_ms = Some(now_ms);
                r.last_error = error.map(|e| e.chars().take(300).collect());
            }
        }
    }

    pub fn status(&self, sink: &str) -> Option<SinkStatus> {
        self.sinks.lock().unwrap().get(sink).map(|r| self.describe(r))
    }

    pub fn all(&self) -> BTreeMap<String, SinkStatus> {
        self.sinks.lock().unwrap().iter().map(|(k, r)| (k.clone(), self.describe(r))).collect()
    }

    /// True when there is at least one chat sink and every one is down.
    pub fn every_chat_sink_down(&self) -> bool {
        let all = self.all();
        let chat: Vec<&SinkStatus> = all.values().filter(|s| s.chat).collect();
        !chat.is_empty() && chat.iter().all(|s| s.is_down())
    }

    fn describe(&self, r: &SinkRecord) -> SinkStatus {
        let failures = r.recent.iter().filter(|o| **o == Outcome::Failed).count();
        let limited = r.recent.back() == Some(&Outcome::RateLimited);
        let status = if r.recent.is_empty() {
            "idle"
        } else if r.consecutive_failures >= self.down_after {
            "down"
        } else if failures > 0 || limited {
            "degraded"
        } else {
            "ok"
        };
        let ts = |ms: Option<i64>| ms.and_then(|m| jiff::Timestamp::from_millisecond(m).ok());
        SinkStatus {
            status,
            chat: r.chat,
            consecutive_failures: r.consecutive_failures,
            recent_failures: failures,
            last_ok: ts(r.last_ok_ms),
            last_failure: ts(r.last_failure_ms),
            last_error: r.last_error.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_recent_results() {
        let h = Health::new(3);
        h.register("slack", true);
        h.register("email", false);
        assert_eq!(h.status("slack").unwrap().status, "idle");
        h.record("slack", Outcome::Ok, None, 1);
        assert_eq!(h.status("slack").unwrap().status, "ok");
        h.record("slack", Outcome::Failed, Some("503"), 2);
        assert_eq!(h.status("slack").unwrap().status, "degraded");
        h.record("slack", Outcome::Failed, Some("503"), 3);
        assert!(!h.every_chat_sink_down());
        h.record("slack", Outcome::Failed, Some("503"), 4);
        assert_eq!(h.status("slack").unwrap().status, "down");
        assert!(h.every_chat_sink_down(), "email does not count as chat");
        h.record("slack", Outcome::RateLimited, None, 5);
        assert_eq!(h.status("slack").unwrap().status, "degraded", "a rate limit means the platform is up");
    }
}
