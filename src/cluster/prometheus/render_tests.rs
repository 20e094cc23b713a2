use super::*;
use crate::cluster::prometheus::{AlertExprFacts, ExprSeries};

const MIB: f64 = 1024.0 * 1024.0;

fn stat(last: f64, min: f64, max: f64) -> Stat {
    Stat { last, min, max, points: 241, covered_seconds: 3600 }
}

fn crash_looping() -> MetricsFacts {
    MetricsFacts {
        lookback_minutes: 60,
        alerts: vec![AlertExprFacts {
            alertname: "KubePodCrashLooping".into(),
            expr: "increase(kube_pod_container_status_restarts_total[10m]) > 0".into(),
            series: vec![ExprSeries {
                labels: r#"{container="app", namespace="shop", pod="checkout-1"}"#.into(),
                value: Stat { last: 3.0, min: 1.0, max: 4.0, points: 40, covered_seconds: 600 },
                current: true,
            }],
            total_series: 1,
            window_points: 241,
        }],
        containers: vec![ContainerMetrics {
            namespace: "shop".into(),
            pod: "checkout-1".into(),
            container: "app".into(),
            cpu_cores: Some(stat(0.45, 0.1, 0.52)),
            cpu_limit_cores: Some(0.5),
            cpu_throttled_ratio: Some(stat(0.4, 0.1, 0.52)),
            memory_working_set_bytes: Some(stat(251.0 * MIB, 120.0 * MIB, 255.0 * MIB)),
            memory_limit_bytes: Some(256.0 * MIB),
            restarts_in_window: Some(11.97),
            restarts_total: Some(31.0),
        }],
        nodes: vec![NodeMetrics {
            name: "worker-1".into(),
            conditions_true: vec!["MemoryPressure".into(), "Ready".into()],
            ready: Some(stat(1.0, 0.0, 1.0)),
            memory_used_ratio: Some(stat(0.93, 0.6, 0.97)),
            root_fs_used_ratio: None,
        }],
        notes: vec!["Deployment shop/web: no container series in Prometheus (cAdvisor, kube-state-metrics)".into()],
        redactions: 0,
    }
}

#[test]
fn metrics_read_as_short_lines_of_numbers() {
    let text = render_metrics(&crash_looping());
    let expected = "\
Metrics (Prometheus, the last hour):
alert KubePodCrashLooping expression `increase(kube_pod_container_status_restarts_total[10m]) > 0`: 1 series
  {container=\"app\", namespace=\"shop\", pod=\"checkout-1\"}: now 3, min 1, max 4 in the last hour; a value at 40 of 241 points (data for 10 min only)
pod shop/checkout-1:
  memory working set app: 251 MiB of 256 MiB limit (98%), peak 255 MiB in the last hour
  CPU app: 0.45 cores of 0.5 limit (90%), peak 0.52 in the last hour; throttled in 40% of CFS periods (peak 52%)
  restarts app: 12 in the last hour, 31 in total
node worker-1: conditions true now: MemoryPressure, Ready; not Ready at some point in the last hour; memory 93% used (peak 97%)
Note: Deployment shop/web: no container series in Prometheus (cAdvisor, kube-state-metrics)
";
    assert_eq!(text, expected);
}

#[test]
fn missing_limits_and_partial_data_are_said() {
    let mut m = crash_looping();
    m.alerts.clear();
    m.nodes.clear();
    m.notes.clear();
    m.lookback_minutes = 120;
    let c = &mut m.containers[0];
    c.memory_limit_bytes = None;
    c.cpu_limit_cores = None;
    c.cpu_throttled_ratio = None;
    c.restarts_in_window = None;
    c.memory_working_set_bytes =
        Some(Stat { last: 1.5 * 1024.0 * MIB, min: 0.0, max: 2.0 * 1024.0 * MIB, points: 9, covered_seconds: 90 });
    let text = render_metrics(&m);
    assert!(
        text.contains(
            "memory working set app: 1.5 GiB (no memory limit), peak 2 GiB in the last 2 hours (data for 90 s only)"
        ),
        "{text}"
    );
    assert!(text.contains("CPU app: 0.45 cores, peak 0.52 in the last 2 hours (data for 60 min only)\n"), "{text}");
    assert!(text.contains("restarts app: 31 in total"), "{text}");
}

#[test]
fn nothing_to_say_renders_nothing() {
    assert_eq!(render_metrics(&MetricsFacts { lookback_minutes: 60, ..Default::default() }), "");
    let only_note = MetricsFacts {
        lookback_minutes: 60,
        notes: vec!["Prometheus could not be reached".into()],
        ..Default::default()
    };
    assert_eq!(
        render_metrics(&only_note),
        "Metrics (Prometheus, the last hour):\nNote: Prometheus could not be reached\n"
    );
}
