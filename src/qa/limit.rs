//! A per-user rate limit for questions (token bucket), so one user cannot crowd out the others
//! (RELIABILITY G05). In memory: a restart forgives everyone, which is fine for a rate limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub(super) struct Limiter {
    per_minute: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    pub fn new(per_minute: u32) -> Self {
        let per_minute = f64::from(per_minute.max(1));
        Limiter { per_minute, burst: (per_minute / 2.0).max(1.0), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one question's token for `who`; false when they must wait.
    pub fn allow(&self, who: &str, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().expect("limiter lock");
        if buckets.len() > 10_000 {
            // Forget users idle for over a minute (their buckets are full again anyway).
            buckets.retain(|_, (_, at)| now.duration_since(*at).as_secs() < 60);
        }
        let (tokens, at) = buckets.entry(who.to_string()).or_insert((self.burst, now));
        let refill = now.duration_since(*at).as_secs_f64() * self.per_minute / 60.0;
        *tokens = (*tokens + refill).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn g05_one_user_is_limited_and_the_others_are_not() {
        let limiter = Limiter::new(10);
        let t0 = Instant::now();
        let allowed = (0..20).filter(|i| limiter.allow("slack:T1:U1", t0 + Duration::from_secs(*i * 3))).count();
        assert!((10..20).contains(&allowed), "20 questions in a minute: {allowed} answered");
        assert!(limiter.allow("slack:T1:U2", t0 + Duration::from_secs(57)), "another user is unaffected");
        assert!(limiter.allow("slack:T1:U1", t0 + Duration::from_secs(200)), "the bucket refills");
    }
}
