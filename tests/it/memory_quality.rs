//! Recall quality: 50 past incidents (5 kinds of failure x 10 workloads); for each, a new incident of
//! the same kind on the same workload, worded differently (other pods, other summaries). The right
//! past incident must be in the top 3 for at least 90% of the queries, with MiniLM and with the
//! lexical fallback. The figures are printed (docs/memory.md quotes them).

use std::sync::Arc;

use mimi::config::MemorySettings;
use mimi::domain::alert::Labels;
use mimi::domain::analysis::AlertView;
use mimi::rag::embed::Embedder;
use mimi::rag::embed::lexical::Lexical;
use mimi::rag::embed::minilm::MiniLm;
use mimi::rag::record::describe;
use mimi::rag::store::edge::EdgeStore;
use mimi::rag::{IncidentRecord, Memory, Recall};

const WORKLOADS: [(&str, &str); 10] = [
    ("shop", "checkout"),
    ("shop", "cart"),
    ("pay", "payments"),
    ("pay", "ledger"),
    ("search", "indexer"),
    ("auth", "login"),
    ("mail", "mailer"),
    ("ml", "recommender"),
    ("edge", "gateway"),
    ("data", "warehouse-sync"),
];

/// (alertname, how the past one was described, how the new one is described)
const KINDS: [(&str, &str, &str); 5] = [
    (
        "KubePodCrashLooping",
        "Pod {w} is crash looping (CrashLoopBackOff), exit code 1",
        "{w} container keeps restarting: back-off restarting failed container",
    ),
    (
        "KubeContainerOOMKilled",
        "Container {w} was OOMKilled, memory limit reached",
        "{w} terminated with reason OOMKilled (exit 137)",
    ),
    (
        "KubePodNotReady",
        "Pod {w} stuck pending: ImagePullBackOff, manifest unknown",
        "{w} cannot pull its image: ErrImagePull not found",
    ),
    (
        "KubeDeploymentReplicasMismatch",
        "Deployment {w} has not matched the expected number of replicas",
        "{w} replicas unavailable for 15 minutes",
    ),
    (
        "KubePersistentVolumeFillingUp",
        "The PersistentVolume claimed by {w} is almost full",
        "volume of {w} has less than 3% free space",
    ),
];

fn alert(name: &str, ns: &str, workload: &str, pod: &str, text: &str) -> AlertView {
    let mut labels = Labels::new();
    labels.insert("alertname".into(), name.into());
    labels.insert("namespace".into(), ns.into());
    labels.insert("pod".into(), pod.into());
    let mut annotations = Labels::new();
    annotations.insert("summary".into(), text.replace("{w}", workload));
    AlertView { status: "firing".into(), labels, annotations, starts_at: String::new() }
}

fn record(id: i64, a: &AlertView) -> IncidentRecord {
    IncidentRecord {
        incident_id: id,
        cluster: "prod".into(),
        namespace: a.labels.get("namespace").cloned(),
        alertname: a.name().into(),
        workload: None,
        text: describe(std::slice::from_ref(a), None),
        diagnosis: None,
        action: None,
        outcome: "resolved".into(),
        verified: None,
        resolve_seconds: Some(600),
        ended_at: 0,
        sandbox: false,
    }
}

/// The share of queries whose past incident is in the top 3.
async fn top3_rate(embedder: Arc<dyn Embedder>) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let settings = MemorySettings { min_score: -1.0, ..MemorySettings::default() };
    let memory = Memory::new(embedder, Arc::new(EdgeStore::new(dir.path())), &settings, false);
    let mut past = Vec::new();
    let mut queries = Vec::new();
    for (k, (name, then, now)) in KINDS.iter().enumerate() {
        for (w, (ns, workload)) in WORKLOADS.iter().enumerate() {
            let id = (k * WORKLOADS.len() + w + 1) as i64;
            past.push(record(id, &alert(name, ns, workload, &format!("{workload}-6d8f7c9b4-q2x7m"), then)));
            queries
                .push((id, describe(&[alert(name, ns, workload, &format!("{workload}-5f4c7d8e9-zz81k"), now)], None)));
        }
    }
    assert_eq!(past.len(), 50);
    memory.remember_all(&past).await.unwrap();
    let mut hits = 0;
    for (id, text) in &queries {
        let Recall::Found(found) = memory.recall("prod", text, -1).await else { panic!("memory unavailable") };
        if found.iter().take(3).any(|s| s.incident_id == *id) {
            hits += 1;
        }
    }
    hits as f64 / queries.len() as f64
}

#[tokio::test]
async fn the_right_past_incident_is_in_the_top_three_for_nine_queries_in_ten() {
    let lexical = top3_rate(Arc::new(Lexical)).await;
    let minilm = top3_rate(Arc::new(MiniLm::load(&crate::memory::minilm_dir()).unwrap())).await;
    eprintln!("recall@3 over 50 past incidents: lexical {:.0}%, MiniLM {:.0}%", lexical * 100.0, minilm * 100.0);
    assert!(lexical >= 0.9, "lexical fallback: {lexical}");
    assert!(minilm >= 0.9, "MiniLM: {minilm}");
}
