//! The dead man's switch, decided: from a cluster's Watchdog heartbeat and the time, raise the
//! alarm (the alert pipeline is silent), clear it (it is back), or stay quiet. Pure, table-tested;
//! the sweep acts on it. Armed by the first heartbeat: a cluster never heard from raises nothing.

use crate::store::Heartbeat;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Quiet,
    /// No heartbeat for this many minutes.
    Raise {
        silent_minutes: i64,
    },
    Clear,
}

pub fn judge(hb: &Heartbeat, now: i64, expect_ms: i64) -> Verdict {
    match hb.silent_since {
        None if now - hb.last_seen > expect_ms => Verdict::Raise { silent_minutes: (now - hb.last_seen) / 60_000 },
        Some(since) if hb.last_seen > since => Verdict::Clear,
        _ => Verdict::Quiet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hb(last_seen: i64, silent_since: Option<i64>) -> Heartbeat {
        Heartbeat { cluster: "prod".into(), first_seen: 0, last_seen, beats: 3, silent_since }
    }

    #[test]
    fn the_switch_table() {
        const MIN: i64 = 60_000;
        let table = [
            (hb(0, None), 5 * MIN, Verdict::Quiet),
            (hb(0, None), 10 * MIN, Verdict::Quiet),
            (hb(0, None), 12 * MIN, Verdict::Raise { silent_minutes: 12 }),
            (hb(0, Some(11 * MIN)), 30 * MIN, Verdict::Quiet),
            (hb(31 * MIN, Some(11 * MIN)), 31 * MIN, Verdict::Clear),
        ];
        for (h, now, want) in table {
            assert_eq!(judge(&h, now, 10 * MIN), want, "{h:?} at {now}");
        }
    }
}
