//! Crash points for the kill -9 tests (RELIABILITY B01, B02), compiled into debug builds only.
//!
//! `MIMI_FAILPOINTS=after_commit,before_step` makes a debug build abort (as kill -9 would stop it)
//! the first time it passes a named point; `before_step:300` waits 300 ms first (so that, say, an
//! HTTP answer already under way goes out). Release builds compile `hit` to nothing.

/// Aborts the process if `name` is listed in `MIMI_FAILPOINTS` (debug builds only).
#[inline]
pub fn hit(name: &str) {
    #[cfg(debug_assertions)]
    {
        use std::sync::OnceLock;
        static POINTS: OnceLock<Vec<String>> = OnceLock::new();
        let points = POINTS.get_or_init(|| {
            std::env::var("MIMI_FAILPOINTS")
                .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default()
        });
        for point in points {
            let (point_name, delay_ms) = match point.split_once(':') {
                Some((n, d)) => (n, d.parse().unwrap_or(0)),
                None => (point.as_str(), 0),
            };
            if point_name == name {
                std::thread::sleep(std::time::Duration::from_millis(delay_ms));
                eprintln!("failpoint {name}: aborting");
                std::process::abort();
            }
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
