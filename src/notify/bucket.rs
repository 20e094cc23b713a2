//! A token bucket per channel: `per_second` messages on average, at most `burst` at once. Pure
//! (time is passed in), so the pacing is table-tested without sleeping.

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct TokenBucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// Starts full.
    pub fn new(per_second: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket { per_second: per_second.max(0.001), burst, tokens: burst, at: now }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.at = now;
    }

    /// Takes a token, or says how long until one is there.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.per_second))
        }
    }

    /// How long until a token is there (zero: now), without taking it.
    pub fn ready_in(&mut self, now: Instant) -> Duration {
        self.refill(now);
        if self.tokens >= 1.0 - 1e-9 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_second)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_second_with_no_burst() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(1.0, 1, t0);
        assert!(b.try_take(t0).is_ok());
        let wait = b.try_take(t0).unwrap_err();
        assert!(wait > Duration::from_millis(990) && wait <= Duration::from_secs(1), "{wait:?}");
        assert!(b.try_take(t0 + Duration::from_millis(500)).is_err());
        assert!(b.try_take(t0 + Duration::from_millis(1000)).is_ok());
        assert!(b.try_take(t0 + Duration::from_millis(1999)).is_err());
    }

    #[test]
    fn a_burst_then_the_average() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(2.0, 3, t0);
        for _ in 0..3 {
            assert!(b.try_take(t0).is_ok());
        }
        assert!(b.try_take(t0).is_err());
        assert!(b.try_take(t0 + Duration::from_millis(500)).is_ok());
        // Idle for a long time: never more than the burst.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(b.try_take(later).is_ok());
        }
        assert!(b.try_take(later).is_err());
    }
}
