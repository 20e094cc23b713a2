//! Metrics evidence against a real Prometheus (Debian `prometheus`, `/usr/bin/prometheus`) that
//! scrapes, every second, an exporter served by the test: kube-state-metrics and cAdvisor series of
//! a crash-looping, memory-starved pod and a node under memory pressure. Also: Prometheus down,
//! Prometheus over HTTPS with basic auth, and the exact requests Mimi sends (bearer token, params).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use mimi::cluster::evidence::{Subject, SubjectKind};
use mimi::cluster::prometheus::{AlertRef, MetricsSource, PrometheusHttp, gather_metrics, render_metrics};
use mimi::config::{PrometheusSettings, Secret};
use mimi::domain::names::{NamespaceName, ObjectName};
use tempfile::TempDir;

use crate::support::free_port;

const POD: &str = "checkout-6d8f7c9b4-q2x7m";
const OTHER_POD: &str = "payments-5c7d8f9b6-x8k2p";
const MIB: f64 = 1024.0 * 1024.0;
/// The crash-looping rule of the kubernetes-mixin, simplified.
const CRASH_EXPR: &str = r#"increase(kube_pod_container_status_restarts_total{job="kube-state-metrics"}[5m]) > 0"#;
/// bcrypt (cost 4) of "test-password", for Prometheus's web config.
const PASSWORD_HASH: &str = "$2b$04$6LA910ePYg2ZvVShqulbl.lg2nkxVabDFcPTP3o5Mil5O7qZSl29a";

/// A real Prometheus on 127.0.0.1, killed when dropped.
struct RealPrometheus {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl RealPrometheus {
    /// Starts Prometheus scraping `target` (host:port) every second; `web_config` is the content
    /// of `--web.config.file` (TLS, basic auth), if any.
    fn start(target: &str, web_config: Option<&str>) -> RealPrometheus {
        let binary = std::env::var("MIMI_PROMETHEUS_BIN").map(PathBuf::from).unwrap_or("/usr/bin/prometheus".into());
        assert!(
            binary.is_file(),
            "the Prometheus binary {} is missing: install Debian's `prometheus` package (tests/run.sh does) \
             or set MIMI_PROMETHEUS_BIN",
            binary.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: kube-state-metrics\n    honor_labels: true\n    \
             static_configs:\n      - targets: ['{target}']\n"
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        let port = free_port();
        let mut cmd = Command::new(&binary);
        cmd.arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap());
        if let Some(web) = web_config {
            std::fs::write(dir.path().join("web.yml"), web).unwrap();
            cmd.arg(format!("--web.config.file={}", dir.path().join("web.yml").display()));
        }
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        RealPrometheus { child, port, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Waits until `check` passes against `source` (Prometheus is up and has the data).
    async fn wait_for(&mut self, source: &PrometheusHttp, what: &str, check: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("Prometheus exited ({status}) while waiting for {what}:\n{}", self.log());
            }
            match source.query(check, now()).await {
                Ok(series) if !series.is_empty() => return,
                Ok(_) => last = "no series yet".into(),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("Prometheus did not have {what} within 60 s ({last}); its log:\n{}", self.log());
    }
}

impl Drop for RealPrometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

/// How far back the exporter's history starts, and how much exporter time passes per scrape
/// until it has caught up with the wall clock: ten minutes of history in about ten seconds, so
/// 5-minute rates are what they would be in a cluster.
const HISTORY_MS: u64 = 10 * 60_000;
const CATCH_UP_MS_PER_SCRAPE: u64 = 60_000;

/// Serves `/metrics` in the text format with explicit timestamps: the starved pod's series.
async fn start_exporter() -> String {
    let origin = now_ms() - HISTORY_MS;
    let scrapes = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let n = scrapes.fetch_add(1, Ordering::SeqCst);
            let at = (origin + n * CATCH_UP_MS_PER_SCRAPE).min(now_ms());
            let body = exposition((at - origin) as f64 / 1000.0, n);
            // Every sample carries the exporter's time (Prometheus honours it by default).
            let lines: Vec<String> =
                body.lines().map(|l| if l.starts_with('#') { l.to_string() } else { format!("{l} {at}") }).collect();
            async move { lines.join("\n") + "\n" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr.to_string()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

/// The series at `t` seconds of exporter time, after `n` scrapes.
fn exposition(t: f64, n: u64) -> String {
    let c = |pod: &str, container: &str| format!(r#"namespace="shop",pod="{pod}",container="{container}""#);
    let app = c(POD, "app");
    let gib = 1024.0 * MIB;
    // The working set peaks at 255 MiB four minutes into the history, else 251-252 MiB, against a
    // 256 MiB limit; the container restarts every other scrape.
    let working_set = if n == 4 { 255.0 * MIB } else { 251.0 * MIB + (n % 2) as f64 * MIB };
    format!(
        "# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{{{app}}} {cpu}
container_cpu_usage_seconds_total{{{pause}}} {idle}
container_cpu_usage_seconds_total{{{cgroup}}} {cpu}
container_cpu_cfs_periods_total{{{app}}} {periods}
container_cpu_cfs_throttled_periods_total{{{app}}} {throttled}
container_memory_working_set_bytes{{{app}}} {working_set}
container_memory_working_set_bytes{{{pause}}} 1048576
kube_pod_container_resource_limits{{{app},resource=\"memory\",unit=\"byte\"}} {limit}
kube_pod_container_resource_limits{{{app},resource=\"cpu\",unit=\"core\"}} 0.5
kube_pod_container_status_restarts_total{{{app}}} {restarts}
kube_pod_container_status_restarts_total{{{other}}} {restarts}
kube_node_status_condition{{node=\"worker-1\",condition=\"Ready\",status=\"true\"}} 1
kube_node_status_condition{{node=\"worker-1\",condition=\"Ready\",status=\"false\"}} 0
kube_node_status_condition{{node=\"worker-1\",condition=\"MemoryPressure\",status=\"true\"}} 1
kube_node_status_condition{{node=\"worker-1\",condition=\"DiskPressure\",status=\"true\"}} 0
node_memory_MemAvailable_bytes{{instance=\"worker-1:9100\"}} {available}
node_memory_MemTotal_bytes{{instance=\"worker-1:9100\"}} {total}
",
        cpu = 0.45 * t,
        idle = 0.001 * t,
        periods = 10.0 * t,
        throttled = 4.0 * t,
        limit = 256.0 * MIB,
        restarts = 5 + n / 2,
        available = 0.07 * 16.0 * gib,
        total = 16.0 * gib,
        pause = c(POD, "POD"),
        cgroup = c(POD, ""),
        other = c(OTHER_POD, "app"),
    )
}

fn settings(url: String) -> PrometheusSettings {
    PrometheusSettings { url: Some(url), timeout_seconds: 5, ..Default::default() }
}

fn subject(kind: SubjectKind, namespace: Option<&str>, name: &str) -> Subject {
    Subject {
        kind,
        namespace: namespace.map(|n| NamespaceName::parse(n).unwrap()),
        name: ObjectName::parse(name).unwrap(),
        container: None,
        via: "test".into(),
    }
}

/// A `generatorURL` as Prometheus writes it (Go's `url.QueryEscape`).
fn generator_url(expr: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(expr.as_bytes()).collect();
    format!("http://prometheus-k8s-0:9090/graph?g0.expr={encoded}&g0.tab=1")
}

fn crash_alert() -> AlertRef {
    let labels = [("alertname", "KubePodCrashLooping"), ("namespace", "shop"), ("pod", POD), ("container", "app")];
    AlertRef {
        generator_url: generator_url(CRASH_EXPR),
        labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

#[tokio::test]
async fn real_prometheus_metrics_show_a_memory_starved_crash_looping_pod() {
    let target = start_exporter().await;
    let mut prometheus = RealPrometheus::start(&target, None);
    let settings = settings(format!("http://127.0.0.1:{}", prometheus.port));
    let source = PrometheusHttp::new(&settings).unwrap();
    // The exporter's history has caught up with the wall clock.
    let caught_up = r#"time() - timestamp(container_cpu_cfs_periods_total{container="app"}) < 5"#;
    prometheus.wait_for(&source, "ten minutes of history up to now", caught_up).await;

    let subjects = [
        subject(SubjectKind::Pod, Some("shop"), POD),
        subject(SubjectKind::Deployment, Some("shop"), "checkout"),
        subject(SubjectKind::Node, None, "worker-1"),
    ];
    let facts = gather_metrics(&source, &subjects, &[crash_alert()], &settings).await;
    let text = render_metrics(&facts);
    assert!(facts.notes.is_empty(), "{text}");

    // The alert's own expression, evaluated: both pods restart, this alert's pod is shown.
    let alert = &facts.alerts[0];
    assert_eq!((alert.alertname.as_str(), alert.total_series, alert.series.len()), ("KubePodCrashLooping", 2, 1));
    assert!(alert.series[0].labels.contains(POD), "{text}");
    assert!(alert.series[0].current && alert.series[0].value.last > 0.0, "{text}");

    // One container (not the pause container or the pod cgroup), reported once for two subjects.
    assert_eq!(facts.containers.len(), 1, "{text}");
    let c = &facts.containers[0];
    assert_eq!((c.pod.as_str(), c.container.as_str()), (POD, "app"));
    let memory = c.memory_working_set_bytes.unwrap();
    assert_eq!(c.memory_limit_bytes, Some(256.0 * MIB));
    assert!((251.0 * MIB..=252.0 * MIB).contains(&memory.last), "{text}");
    assert_eq!(memory.max, 255.0 * MIB, "{text}");
    assert!(c.restarts_in_window.unwrap() >= 3.0, "{text}");
    assert!(c.restarts_total.unwrap() >= 8.0, "{text}");
    let throttled = c.cpu_throttled_ratio.unwrap().last;
    assert!((0.39..0.41).contains(&throttled), "throttled {throttled}: {text}");
    let cpu = c.cpu_cores.unwrap().last;
    assert!((0.4..0.5).contains(&cpu), "cpu {cpu}: {text}");
    assert_eq!(c.cpu_limit_cores, Some(0.5));
    // The restart alert held for the last few minutes of the window.
    assert!(alert.series[0].value.points > 10, "{text}");

    let node = &facts.nodes[0];
    assert_eq!(node.conditions_true, ["MemoryPressure", "Ready"]);
    assert!((node.memory_used_ratio.unwrap().last - 0.93).abs() < 0.001, "{text}");

    assert!(text.contains(" of 256 MiB limit (98%), peak 255 MiB in the last hour (data for "), "{text}");
    assert!(text.contains("throttled in 40% of CFS periods"), "{text}");
    assert!(text.contains("node worker-1: conditions true now: MemoryPressure, Ready; Ready throughout"), "{text}");
}

#[tokio::test]
async fn prometheus_down_gives_a_note_not_a_failure() {
    let settings = settings(format!("http://127.0.0.1:{}", free_port()));
    let source = PrometheusHttp::new(&settings).unwrap();
    let subjects = [subject(SubjectKind::Pod, Some("shop"), POD), subject(SubjectKind::Node, None, "worker-1")];
    let facts = gather_metrics(&source, &subjects, &[crash_alert()], &settings).await;
    assert_eq!(facts.notes.len(), 1, "{:?}", facts.notes);
    assert!(facts.notes[0].starts_with("Prometheus could not be reached: "), "{:?}", facts.notes);
    assert!(facts.notes[0].contains("refused"), "{:?}", facts.notes);
    assert!(facts.alerts.is_empty() && facts.containers.is_empty() && facts.nodes.is_empty());
    assert!(render_metrics(&facts).contains("Note: Prometheus could not be reached"));
}

/// A CA and a server certificate for 127.0.0.1 (PEM: ca, cert, key).
pub(crate) fn test_certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    leaf.is_ca = IsCa::ExplicitNoCa;
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

#[tokio::test]
async fn real_prometheus_over_https_with_basic_auth_evaluates_the_alert_expression() {
    let (ca, cert, key) = test_certificates();
    let dir = tempfile::tempdir().unwrap();
    for (name, pem) in [("ca.pem", &ca), ("cert.pem", &cert), ("key.pem", &key)] {
        std::fs::write(dir.path().join(name), pem).unwrap();
    }
    let web = format!(
        "tls_server_config:\n  cert_file: {}\n  key_file: {}\nbasic_auth_users:\n  mimi: '{PASSWORD_HASH}'\n",
        dir.path().join("cert.pem").display(),
        dir.path().join("key.pem").display()
    );
    let target = start_exporter().await;
    let mut prometheus = RealPrometheus::start(&target, Some(&web));
    let mut settings = settings(format!("https://127.0.0.1:{}/", prometheus.port));
    settings.ca_file = Some(dir.path().join("ca.pem"));
    settings.basic_username = Some("mimi".into());
    settings.basic_password = Some(Secret::new("test-password"));
    let source = PrometheusHttp::new(&settings).unwrap();
    prometheus.wait_for(&source, "readiness over HTTPS", "vector(1)").await;

    let alert = AlertRef { generator_url: generator_url("vector(42)"), ..Default::default() };
    let facts = gather_metrics(&source, &[], std::slice::from_ref(&alert), &settings).await;
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);
    assert_eq!(facts.alerts[0].series[0].value.last, 42.0);

    // A wrong password is refused: one note, nothing else asked.
    settings.basic_password = Some(Secret::new("wrong"));
    let refused = PrometheusHttp::new(&settings).unwrap();
    let facts = gather_metrics(&refused, &[subject(SubjectKind::Node, None, "worker-1")], &[alert], &settings).await;
    assert_eq!(facts.notes.len(), 1, "{:?}", facts.notes);
    assert!(facts.notes[0].contains("HTTP 401"), "{:?}", facts.notes);
}

/// One request to the fake Prometheus: Authorization header, path, query parameters.
type Request = (Option<String>, String, Vec<(String, String)>);

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Request>>>);

#[tokio::test]
async fn queries_carry_the_bearer_token_and_the_expression_verbatim() {
    let seen = Seen::default();
    let record = |State(seen): State<Seen>,
                  uri: axum::http::Uri,
                  headers: HeaderMap,
                  Query(q): Query<Vec<(String, String)>>| async move {
        let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_string());
        seen.0.lock().unwrap().push((auth, uri.path().to_string(), q));
        axum::Json(serde_json::json!({"status": "success", "data": {"resultType": "matrix", "result": []}}))
    };
    let app = axum::Router::new().fallback(record).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut settings = settings(format!("http://{addr}/prometheus"));
    settings.bearer_token = Some(Secret::new("prom-token"));
    let source = PrometheusHttp::new(&settings).unwrap();
    let hostile = r#"sum(rate(x{a="b&c=d"}[5m])) > 0 # ?query=up"#;
    let alert = AlertRef { generator_url: generator_url(hostile), ..Default::default() };
    gather_metrics(&source, &[], &[alert], &settings).await;

    let seen = seen.0.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (auth, path, params) = &seen[0];
    assert_eq!(auth.as_deref(), Some("Bearer prom-token"));
    assert_eq!(path, "/prometheus/api/v1/query_range");
    let get = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str()).unwrap();
    assert_eq!(get("query"), hostile);
    assert_eq!(get("step"), "15");
    let span = get("end").parse::<f64>().unwrap() - get("start").parse::<f64>().unwrap();
    assert!((span - 3600.0).abs() < 0.01, "{span}");
    assert_eq!(params.iter().filter(|(k, _)| k == "query").count(), 1);
}

#[tokio::test]
async fn enrichment_puts_the_metrics_in_the_incident_evidence() {
    // The sandbox holds the cluster, the real Prometheus the same pod's series.
    let target = start_exporter().await;
    let mut prometheus = RealPrometheus::start(&target, None);
    let url = format!("http://127.0.0.1:{}", prometheus.port);
    let source = PrometheusHttp::new(&settings(url.clone())).unwrap();
    let caught_up = r#"time() - timestamp(container_cpu_cfs_periods_total{container="app"}) < 5"#;
    prometheus.wait_for(&source, "ten minutes of history up to now", caught_up).await;

    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/oomkilled-checkout");
    let opts = mimi::sandbox::SandboxOptions { ready_after: Duration::ZERO, ..Default::default() };
    let sandbox = mimi::sandbox::Sandbox::start(&scenario, opts).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig).unwrap();
    let app = crate::support::TestApp::spawn_with(move |s| {
        s.kubernetes.kubeconfig = Some(kubeconfig);
        s.prometheus.url = Some(url);
        s.prometheus.timeout_seconds = 5;
    })
    .await;
    let mut alert: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(scenario.join("alert.json")).unwrap()).unwrap();
    alert["alerts"][0]["generatorURL"] = serde_json::json!(generator_url(CRASH_EXPR));
    assert_eq!(app.post_alerts(&alert).await.status(), 200);
    app.settle().await;

    let detail = app.incident(1).await;
    let metrics = &detail["evidence"]["bundle"]["metrics"];
    assert_eq!(metrics["containers"][0]["memory_limit_bytes"], 256.0 * MIB, "{metrics}");
    let rendered = detail["evidence"]["rendered"].as_str().unwrap();
    let facts_end = rendered.find("Previous log of").unwrap_or(rendered.len());
    let metrics_at = rendered.find("Metrics (last 60 min):").unwrap_or_else(|| panic!("{rendered}"));
    assert!(metrics_at < facts_end, "metrics come with the facts, before the logs: {rendered}");
    assert!(rendered.contains("of 256 MiB limit"), "{rendered}");
}
