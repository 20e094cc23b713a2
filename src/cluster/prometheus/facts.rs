//! What the metrics say, as plain numbers with their units in the field names, and the number
//! formatting the human lines use (pure). Every number kept is finite, so the facts survive a
//! JSON round trip (serde_json writes NaN as null).

use serde::{Deserialize, Serialize};

/// Metrics evidence for one incident.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsFacts {
    /// The window looked at, in minutes.
    pub lookback_minutes: u64,
    /// The alerts' own expressions, evaluated.
    pub alerts: Vec<AlertExprFacts>,
    pub containers: Vec<ContainerMetrics>,
    pub nodes: Vec<NodeMetrics>,
    /// What could not be read, or was left out, and why.
    pub notes: Vec<String>,
    /// How many secrets were redacted from what came back.
    pub redactions: usize,
}

/// The last, lowest and highest value of a series over the window, and how much of it had data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub last: f64,
    pub min: f64,
    pub max: f64,
    /// Evaluation points with a value (for a range query; 1 for an instant one).
    pub points: usize,
    /// Seconds between the first and the last point with a value.
    pub covered_seconds: u64,
}

impl Stat {
    /// The statistics of `samples`, ignoring NaN and infinite values; `None` if none is left.
    pub fn of(samples: &[(f64, f64)]) -> Option<Stat> {
        let finite: Vec<(f64, f64)> = samples.iter().copied().filter(|(t, v)| v.is_finite() && t.is_finite()).collect();
        let (&(first_t, _), &(last_t, last)) = (finite.first()?, finite.last()?);
        let (min, max) =
            finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| (lo.min(*v), hi.max(*v)));
        Some(Stat { last, min, max, points: finite.len(), covered_seconds: (last_t - first_t).max(0.0) as u64 })
    }
}

/// One alert's expression and the series it returned that belong to this alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertExprFacts {
    pub alertname: String,
    /// The expression (redacted; clipped for display).
    pub expr: String,
    /// Series whose labels agree with the alert's labels (all series if none does), at most a few.
    pub series: Vec<ExprSeries>,
    /// How many series the expression returned in all.
    pub total_series: usize,
    /// Evaluation points in the window.
    pub window_points: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExprSeries {
    /// `{namespace="shop", pod="x"}` (redacted, long values clipped).
    pub labels: String,
    pub value: Stat,
    /// The expression has a value for this series at the end of the window (for an alerting
    /// condition: it still holds).
    pub current: bool,
}

/// Key series of one container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerMetrics {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub cpu_cores: Option<Stat>,
    pub cpu_limit_cores: Option<f64>,
    /// Share (0..1) of CFS periods in which the container was throttled.
    pub cpu_throttled_ratio: Option<Stat>,
    pub memory_working_set_bytes: Option<Stat>,
    pub memory_limit_bytes: Option<f64>,
    /// Restarts within the window (counter increase).
    pub restarts_in_window: Option<f64>,
    pub restarts_total: Option<f64>,
}

/// What Prometheus says about one node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeMetrics {
    pub name: String,
    /// kube-state-metrics conditions that are true now, e.g. ["Ready", "MemoryPressure"].
    pub conditions_true: Vec<String>,
    /// 1 while Ready, 0 when not: `min` 0 means it was not Ready at some point in the window.
    pub ready: Option<Stat>,
    /// Share (0..1) of memory in use (node-exporter).
    pub memory_used_ratio: Option<Stat>,
    /// Share (0..1) of the root filesystem in use (node-exporter).
    pub root_fs_used_ratio: Option<Stat>,
}

/// Bytes in binary units: "900 B", "1.5 KiB", "251 MiB", "2.0 GiB".
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{value:.0} B") } else { format!("{} {}", short(value), UNITS[unit]) }
}

/// A ratio as a percentage: "98%", "0.5%", "0%".
pub fn percent(ratio: f64) -> String {
    let p = ratio * 100.0;
    if p != 0.0 && p.abs() < 1.0 { format!("{p:.1}%") } else { format!("{p:.0}%") }
}

/// CPU cores: "0", "0.45", "0.5", "1.2", "12", "0.003".
pub fn cores(n: f64) -> String {
    let s = if n != 0.0 && n.abs() < 0.01 {
        format!("{n:.3}")
    } else if n.abs() < 1.0 {
        format!("{n:.2}")
    } else {
        return short(n);
    };
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A count or plain value: "12", "2.5", "1235" (large values are rounded).
pub fn number(n: f64) -> String {
    if n.fract() == 0.0 || n.abs() >= 100.0 { format!("{n:.0}") } else { short(n) }
}

/// One decimal below 10, none above: "1.5", "251".
fn short(n: f64) -> String {
    if n.abs() < 10.0 {
        let s = format!("{n:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    } else {
        format!("{n:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_a_person_wrote_them() {
        let mib = 1024.0 * 1024.0;
        let cases: Vec<(String, &str)> = vec![
            (bytes(0.0), "0 B"),
            (bytes(900.0), "900 B"),
            (bytes(1536.0), "1.5 KiB"),
            (bytes(251.3 * mib), "251 MiB"),
            (bytes(256.0 * mib), "256 MiB"),
            (bytes(2048.0 * mib), "2 GiB"),
            (bytes(1.25 * 1024.0 * 1024.0 * mib), "1.2 TiB"),
            (percent(0.98), "98%"),
            (percent(0.9849), "98%"),
            (percent(1.0), "100%"),
            (percent(0.004), "0.4%"),
            (percent(0.0), "0%"),
            (percent(1.5), "150%"),
            (cores(0.45), "0.45"),
            (cores(0.002), "0.002"),
            (cores(1.24), "1.2"),
            (cores(16.0), "16"),
            (cores(0.5), "0.5"),
            (cores(-0.5), "-0.5"),
            (cores(0.0), "0"),
            (number(12.0), "12"),
            (number(2.5), "2.5"),
            (number(1234.56), "1235"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn stats_ignore_missing_values_and_survive_json() {
        assert_eq!(Stat::of(&[]), None);
        assert_eq!(Stat::of(&[(1.0, f64::NAN), (2.0, f64::INFINITY)]), None);
        let s = Stat::of(&[(100.0, 3.0), (115.0, f64::NAN), (130.0, 1.0), (145.0, 2.0)]).unwrap();
        assert_eq!(s, Stat { last: 2.0, min: 1.0, max: 3.0, points: 3, covered_seconds: 45 });
        let facts = MetricsFacts {
            containers: vec![ContainerMetrics { memory_working_set_bytes: Some(s), ..Default::default() }],
            ..Default::default()
        };
        let json = serde_json::to_string(&facts).unwrap();
        assert_eq!(serde_json::from_str::<MetricsFacts>(&json).unwrap(), facts);
    }
}
