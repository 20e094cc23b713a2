use super::*;
use crate::cluster::prometheus::{FakeMetrics, MetricsError, render_metrics};
use crate::domain::names::{NamespaceName, ObjectName};

const MIB: f64 = 1024.0 * 1024.0;
const POD: &str = "checkout-6d8f7c9b4-q2x7m";
const CRASH_URL: &str = "http://prometheus-k8s-0:9090/graph?g0.expr=increase%28kube_pod_container_status_restarts_total%5B10m%5D%29+%3E+0&g0.tab=1";

fn pod_subject() -> Subject {
    Subject {
        kind: SubjectKind::Pod,
        namespace: Some(NamespaceName::parse("shop").unwrap()),
        name: ObjectName::parse(POD).unwrap(),
        container: Some("app".into()),
        via: "alert label pod".into(),
    }
}

fn node_subject() -> Subject {
    Subject {
        kind: SubjectKind::Node,
        namespace: None,
        name: ObjectName::parse("worker-1").unwrap(),
        container: None,
        via: "alert label node".into(),
    }
}

fn alert(url: &str, labels: &[(&str, &str)]) -> AlertRef {
    AlertRef { generator_url: url.into(), labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
}

fn crash_alert() -> AlertRef {
    alert(CRASH_URL, &[("alertname", "KubePodCrashLooping"), ("namespace", "shop"), ("pod", POD), ("container", "app")])
}

fn settings() -> PrometheusSettings {
    PrometheusSettings { url: Some("http://prometheus:9090".into()), ..Default::default() }
}

fn app(extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut l = vec![("namespace", "shop".to_string()), ("pod", POD.to_string()), ("container", "app".to_string())];
    l.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    l
}

fn s(labels: Vec<(&'static str, String)>, samples: &[(f64, f64)]) -> Series {
    let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Series::new(&pairs, samples)
}

/// A crash-looping, memory-starved container as Prometheus would describe it.
fn starved_pod() -> FakeMetrics {
    FakeMetrics::new()
        .answer(
            "increase(kube_pod_container_status_restarts_total[10m]) > 0",
            vec![
                s(app(&[]), &[(-600.0, 1.0), (-300.0, 2.0), (0.0, 3.0)]),
                s(vec![("namespace", "shop".into()), ("pod", "other-pod".into())], &[(0.0, 9.0)]),
            ],
        )
        .answer(
            "container_cpu_cfs_throttled_periods_total",
            vec![s(app(&[]), &[(-3600.0, 0.1), (-60.0, 0.52), (0.0, 0.4)])],
        )
        .answer("container_cpu_usage_seconds_total", vec![s(app(&[]), &[(-3600.0, 0.1), (-60.0, 0.52), (0.0, 0.45)])])
        .answer(
            "container_memory_working_set_bytes",
            vec![s(app(&[]), &[(-3600.0, 120.0 * MIB), (-60.0, 255.0 * MIB), (0.0, 251.0 * MIB)])],
        )
        .answer(
            "kube_pod_container_resource_limits",
            vec![
                s(app(&[("resource", "memory")]), &[(0.0, 256.0 * MIB)]),
                s(app(&[("resource", "cpu")]), &[(0.0, 0.5)]),
            ],
        )
        .answer("increase(kube_pod_container_status_restarts_total{", vec![s(app(&[]), &[(0.0, 12.0)])])
        .answer("(kube_pod_container_status_restarts_total{", vec![s(app(&[]), &[(0.0, 31.0)])])
}

#[tokio::test]
async fn a_memory_starved_crash_looping_pod_is_summarised_in_numbers() {
    let fake = starved_pod();
    let m = gather_metrics(&fake, &[pod_subject()], &[crash_alert()], &settings()).await;
    assert!(m.notes.is_empty(), "{:?}", m.notes);
    let c = &m.containers[0];
    assert_eq!((c.pod.as_str(), c.container.as_str()), (POD, "app"));
    assert_eq!(c.memory_limit_bytes, Some(256.0 * MIB));
    assert_eq!(c.cpu_limit_cores, Some(0.5));
    assert_eq!(c.restarts_in_window, Some(12.0));
    assert_eq!(c.memory_working_set_bytes.unwrap().max, 255.0 * MIB);
    // The alert's own series is picked out by its labels; the other pod's is counted, not shown.
    let a = &m.alerts[0];
    assert_eq!((a.alertname.as_str(), a.total_series, a.series.len()), ("KubePodCrashLooping", 2, 1));
    assert!(a.series[0].current);
    assert_eq!(a.window_points, 241);

    let text = render_metrics(&m);
    for line in [
        "memory working set app: 251 MiB of 256 MiB limit (98%), peak 255 MiB in the last hour",
        "CPU app: 0.45 cores of 0.5 limit (90%), peak 0.52 in the last hour; throttled in 40% of CFS periods (peak 52%)",
        "restarts app: 12 in the last hour, 31 in total",
        "now 3, min 1, max 3 in the last hour",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    // The expression went to Prometheus verbatim, once.
    let asked = fake.queries();
    assert_eq!(
        asked.iter().filter(|q| q.as_str() == "increase(kube_pod_container_status_restarts_total[10m]) > 0").count(),
        1
    );
    assert_eq!(asked.len(), 7);
}

#[tokio::test]
async fn prometheus_down_is_one_note_and_no_more_queries() {
    let fake = FakeMetrics::new().fail("", MetricsError::Unreachable("Connection refused (os error 111)".into()));
    let m = gather_metrics(&fake, &[pod_subject(), node_subject()], &[crash_alert()], &settings()).await;
    assert_eq!(
        m.notes,
        ["Prometheus could not be reached: Connection refused (os error 111); metrics were not gathered"]
    );
    assert!(m.alerts.is_empty() && m.containers.is_empty() && m.nodes.is_empty());
    assert_eq!(fake.queries().len(), 1, "{:?}", fake.queries());
}

#[tokio::test]
async fn a_bad_query_is_a_note_and_the_rest_is_still_gathered() {
    let fake = FakeMetrics::new()
        .fail("> 0", MetricsError::Query { kind: "bad_data".into(), message: "parse error".into() })
        .answer("container_memory_working_set_bytes", vec![s(app(&[]), &[(0.0, 10.0 * MIB)])]);
    let m = gather_metrics(&fake, &[pod_subject()], &[crash_alert()], &settings()).await;
    assert_eq!(
        m.notes,
        ["alert KubePodCrashLooping expression: Prometheus could not evaluate the query (bad_data): parse error"]
    );
    assert_eq!(m.containers[0].memory_working_set_bytes.unwrap().last, 10.0 * MIB);
}

#[tokio::test]
async fn what_comes_back_is_redacted() {
    let leaky = r#"postgres://app:hunter2@db:5432/shop"#;
    let fake = FakeMetrics::new()
        .fail(
            "container_cpu_usage",
            MetricsError::Query { kind: "execution".into(), message: "password=hunter2".into() },
        )
        .answer("app_info", vec![s(vec![("namespace", "shop".into()), ("dsn", leaky.into())], &[(0.0, 1.0)])]);
    let a = alert("http://p/graph?g0.expr=app_info", &[("alertname", "X"), ("namespace", "shop")]);
    let m = gather_metrics(&fake, &[pod_subject()], &[a], &settings()).await;
    let json = serde_json::to_string(&m).unwrap();
    assert!(!json.contains("hunter2"), "{json}");
    assert!(m.redactions >= 2, "{}", m.redactions);
    assert!(m.alerts[0].series[0].labels.contains("[REDACTED:url_credentials]"), "{:?}", m.alerts[0].series);
}

#[tokio::test]
async fn hostile_generator_urls_are_notes_and_only_their_expression_is_ever_sent() {
    let long = format!("http://p/graph?g0.expr={}", "a".repeat(5000));
    let alerts = [
        alert("https://attacker.example/graph?g0.expr=up", &[("alertname", "A")]),
        alert(&long, &[("alertname", "B")]),
        alert("", &[("alertname", "C")]),
        alert("http://p/graph?g0.expr=up%00", &[("alertname", "D")]),
    ];
    let fake = FakeMetrics::new();
    let m = gather_metrics(&fake, &[], &alerts, &settings()).await;
    assert_eq!(fake.queries(), ["up"]);
    assert_eq!(
        m.notes,
        [
            "alert B: expression not evaluated: its expression is 5000 bytes, more than the 4096 allowed",
            "alert C: expression not evaluated: the alert has no generatorURL",
            "alert D: expression not evaluated: its expression contains control characters",
        ]
    );
    // No series: the alert is listed with none (the condition returned nothing in the window).
    assert_eq!(m.alerts[0].total_series, 0);
}

#[tokio::test]
async fn no_data_is_said_not_hidden() {
    let fake = FakeMetrics::new();
    let m = gather_metrics(&fake, &[pod_subject(), node_subject()], &[], &settings()).await;
    assert_eq!(
        m.notes,
        [
            format!("Pod shop/{POD}: no container series in Prometheus (cAdvisor, kube-state-metrics)"),
            "Node worker-1: no node series in Prometheus (kube-state-metrics, node-exporter)".to_string(),
        ]
    );
}

#[tokio::test]
async fn a_node_shows_its_conditions_and_pressure() {
    let fake = FakeMetrics::new()
        .answer(
            r#"status="true"} == 1"#,
            vec![
                Series::new(&[("node", "worker-1"), ("condition", "Ready")], &[(0.0, 1.0)]),
                Series::new(&[("node", "worker-1"), ("condition", "MemoryPressure")], &[(0.0, 1.0)]),
            ],
        )
        .answer(r#"condition="Ready""#, vec![Series::new(&[], &[(-3600.0, 1.0), (-1800.0, 0.0), (0.0, 1.0)])])
        .answer("node_memory_MemAvailable_bytes", vec![Series::new(&[], &[(-3600.0, 0.5), (0.0, 0.93)])]);
    let m = gather_metrics(&fake, &[node_subject()], &[], &settings()).await;
    let n = &m.nodes[0];
    assert_eq!(n.conditions_true, ["MemoryPressure", "Ready"]);
    let text = render_metrics(&m);
    assert!(
        text.contains("node worker-1: conditions true now: MemoryPressure, Ready; not Ready at some point in the last hour; memory 93% used (peak 93%)"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_prometheus_cannot_hold_the_step_beyond_the_budget() {
    // Each batch of queries takes 11 s; the budget is three 10 s timeouts.
    let fake = FakeMetrics::new().slow(std::time::Duration::from_secs(11));
    let deployment = Subject { kind: SubjectKind::Deployment, container: None, ..pod_subject() };
    let started = tokio::time::Instant::now();
    let m = gather_metrics(&fake, &[pod_subject(), node_subject(), deployment], &[crash_alert()], &settings()).await;
    assert_eq!(started.elapsed().as_secs(), 33);
    assert_eq!(fake.queries().len(), 1 + 6 + 4, "the deployment was not asked about");
    assert_eq!(m.notes.last().unwrap(), "metrics gathering stopped after 30 s; the rest was not asked");
}

#[tokio::test]
async fn identical_failures_make_one_note() {
    let fake = FakeMetrics::new()
        .fail("", MetricsError::Query { kind: "execution".into(), message: "too many samples".into() });
    let m = gather_metrics(&fake, &[pod_subject()], &[], &settings()).await;
    assert_eq!(
        m.notes,
        [format!("Pod shop/{POD}: Prometheus could not evaluate the query (execution): too many samples")]
    );
}
