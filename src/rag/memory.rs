//! [`Memory`]: the embedder and the vector store behind the two things Mimi remembers — past
//! incidents (one point per incident, id = incident id, so re-indexing one replaces it) and
//! runbook chunks ([`super::knowledge`]).
//!
//! Recall never fails its caller: it answers [`Recall::Unavailable`] with the reason (store down,
//! embedder down, timeout, embedder changed) and analysis goes on without it (DESIGN invariant 7).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::embed::{EmbedError, Embedder};
use super::record::IncidentRecord;
use super::store::edge::EdgeStore;
use super::store::remote::RemoteStore;
use super::store::{CollectionSpec, Filter, Hit, Point, StoreError, VectorStore};
use crate::config::MemorySettings;
use crate::domain::analysis::SimilarIncident;

/// How much a verified fix is preferred over a merely similar incident when ranking.
const VERIFIED_BONUS: f32 = 0.05;
/// Candidates fetched per wanted result, so that re-ranking has something to choose from.
const OVERFETCH: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("memory did not answer within {0} ms")]
    Timeout(u64),
}

/// What a recall found.
#[derive(Debug, Clone, PartialEq)]
pub enum Recall {
    Found(Vec<SimilarIncident>),
    /// Memory could not be asked; the reason is said in the incident's timeline and message.
    Unavailable(String),
}

pub struct Memory {
    embedder: Arc<dyn Embedder>,
    store: Arc<dyn VectorStore>,
    incidents: String,
    knowledge: String,
    cluster: String,
    /// Whether runbooks / cluster state were indexed by this process (else their lookups are empty
    /// without creating empty collections).
    has_knowledge: AtomicBool,
    has_cluster: AtomicBool,
    top_k: usize,
    min_score: f32,
    timeout: Duration,
    ensured: Mutex<HashSet<String>>,
}

impl Memory {
    /// `sandbox`: eval and sandbox runs, which must never write into the real memory.
    pub fn new(embedder: Arc<dyn Embedder>, store: Arc<dyn VectorStore>, s: &MemorySettings, sandbox: bool) -> Memory {
        let suffix = if sandbox { "-sandbox" } else { "" };
        Memory {
            embedder,
            store,
            incidents: format!("{}{suffix}", s.collection),
            knowledge: format!("{}-knowledge{suffix}", s.collection),
            cluster: format!("{}-cluster{suffix}", s.collection),
            has_knowledge: AtomicBool::new(false),
            has_cluster: AtomicBool::new(false),
            top_k: s.top_k,
            min_score: s.min_score,
            timeout: Duration::from_millis(s.timeout_ms),
            ensured: Mutex::new(HashSet::new()),
        }
    }

    /// The configured embedder with the remote Qdrant server (`memory.qdrant.url`) or else the
    /// embedded store under the data directory.
    pub fn from_settings(s: &crate::config::Settings, sandbox: bool) -> Result<Memory, MemoryError> {
        let embedder = super::embed::from_settings(&s.memory)?;
        let q = &s.memory.qdrant;
        let store: Arc<dyn VectorStore> = match &q.url {
            Some(url) => Arc::new(RemoteStore::new(url, q.api_key.as_ref(), Duration::from_millis(q.timeout_ms))?),
            None => Arc::new(EdgeStore::new(s.memory.store_path(&s.data_dir))),
        };
        Ok(Memory::new(embedder, store, &s.memory, sandbox))
    }

    pub fn incidents_collection(&self) -> &str {
        &self.incidents
    }

    pub fn knowledge_collection(&self) -> &str {
        &self.knowledge
    }

    pub fn cluster_collection(&self) -> &str {
        &self.cluster
    }

    pub(super) fn mark_cluster_synced(&self) {
        self.has_cluster.store(true, Ordering::SeqCst);
    }

    pub(super) fn cluster_synced(&self) -> bool {
        self.has_cluster.load(Ordering::SeqCst)
    }

    pub(super) fn mark_knowledge(&self) {
        self.has_knowledge.store(true, Ordering::SeqCst);
    }

    pub(super) fn has_knowledge(&self) -> bool {
        self.has_knowledge.load(Ordering::SeqCst)
    }

    pub(super) async fn embed_all(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(64) {
            out.extend(self.embedder.embed(chunk).await?);
        }
        Ok(out)
    }

    pub fn embedder_name(&self) -> String {
        self.embedder.name()
    }

    pub fn describe(&self) -> String {
        format!("{} with {} ({})", self.store.describe(), self.embedder.name(), self.incidents)
    }

    fn spec(&self) -> CollectionSpec {
        CollectionSpec { embedder: self.embedder.name(), dimension: self.embedder.dimension() }
    }

    pub(super) async fn ensure(&self, collection: &str) -> Result<(), StoreError> {
        if self.ensured.lock().expect("not poisoned").contains(collection) {
            return Ok(());
        }
        self.store.ensure(collection, &self.spec()).await?;
        self.ensured.lock().expect("not poisoned").insert(collection.to_string());
        Ok(())
    }

    pub(super) async fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let mut v = self.embedder.embed(&[text.to_string()]).await?;
        v.pop().ok_or_else(|| EmbedError::Invalid("no vector".into()))
    }

    pub(super) async fn put(&self, collection: &str, points: Vec<Point>) -> Result<(), MemoryError> {
        self.ensure(collection).await?;
        Ok(self.store.upsert(collection, points).await?)
    }

    pub(super) async fn find(
        &self,
        collection: &str,
        text: &str,
        filter: &Filter,
        limit: usize,
        min_score: f32,
    ) -> Result<Vec<Hit>, MemoryError> {
        let work = async {
            self.ensure(collection).await?;
            let v = self.embed_one(text).await?;
            Ok::<_, MemoryError>(self.store.search(collection, v, filter, limit, min_score).await?)
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or_else(|_| Err(MemoryError::Timeout(self.timeout.as_millis() as u64)))
    }

    /// Indexes (or re-indexes) an incident that ended.
    pub async fn remember(&self, record: &IncidentRecord) -> Result<(), MemoryError> {
        let vector = self.embed_one(&record.text).await?;
        let id = u64::try_from(record.incident_id).unwrap_or_default();
        self.put(&self.incidents, vec![Point { id, vector, payload: record.payload() }]).await
    }

    /// Indexes many records at once (re-indexing, benchmarks).
    pub async fn remember_all(&self, records: &[IncidentRecord]) -> Result<(), MemoryError> {
        for chunk in records.chunks(256) {
            let texts: Vec<String> = chunk.iter().map(|r| r.text.clone()).collect();
            let vectors = self.embedder.embed(&texts).await?;
            let points = chunk
                .iter()
                .zip(vectors)
                .map(|(r, vector)| Point {
                    id: u64::try_from(r.incident_id).unwrap_or_default(),
                    vector,
                    payload: r.payload(),
                })
                .collect();
            self.put(&self.incidents, points).await?;
        }
        Ok(())
    }

    /// Past incidents of `cluster` similar to `text` (not `exclude` itself), verified fixes first
    /// among near-equals.
    pub async fn recall(&self, cluster: &str, text: &str, exclude: i64) -> Recall {
        let filter = Filter::default().field("cluster", cluster);
        let limit = self.top_k * OVERFETCH + 1;
        match self.find(&self.incidents, text, &filter, limit, self.min_score).await {
            Ok(hits) => Recall::Found(rank(hits, exclude, self.top_k)),
            Err(e) => {
                tracing::warn!(error = %e, "memory recall skipped");
                Recall::Unavailable(e.to_string())
            }
        }
    }

    /// Past incidents of an alert (any cluster), closest to `alertname target` first, with their
    /// namespace (for the asker's scope).
    pub async fn recall_named(
        &self,
        alertname: &str,
        target: Option<&str>,
    ) -> Result<Vec<(Option<String>, SimilarIncident)>, MemoryError> {
        let filter = Filter::default().field("alertname", alertname);
        let text = format!("{alertname}. {}", target.unwrap_or_default());
        let hits = self.find(&self.incidents, &text, &filter, self.top_k * OVERFETCH, -1.0).await?;
        let mut out: Vec<(f32, Option<String>, SimilarIncident)> = hits
            .into_iter()
            .filter_map(|h| {
                let r = IncidentRecord::from_payload(&h.payload)?;
                let bonus = if r.verified == Some(true) { VERIFIED_BONUS } else { 0.0 };
                Some((h.score + bonus, r.namespace.clone(), r.similar(h.score)))
            })
            .collect();
        out.sort_by(|a, b| b.0.total_cmp(&a.0));
        Ok(out.into_iter().take(self.top_k).map(|(_, ns, s)| (ns, s)).collect())
    }

    /// Empties the incident collection (for `mimi memory reindex`, which then indexes every ended
    /// incident again from the database).
    pub async fn reset_incidents(&self) -> Result<(), StoreError> {
        self.ensured.lock().expect("not poisoned").remove(&self.incidents);
        self.store.drop_collection(&self.incidents).await
    }

    pub async fn count_incidents(&self) -> Result<usize, MemoryError> {
        self.ensure(&self.incidents).await?;
        Ok(self.store.count(&self.incidents).await?)
    }

    pub(super) async fn reset(&self, collection: &str) -> Result<(), StoreError> {
        self.ensured.lock().expect("not poisoned").remove(collection);
        self.store.drop_collection(collection).await
    }
}

/// Re-ranks hits: a verified fix gets a small bonus, a fix that did not hold a small malus.
fn rank(hits: Vec<Hit>, exclude: i64, top_k: usize) -> Vec<SimilarIncident> {
    let mut found: Vec<(f32, SimilarIncident)> = hits
        .into_iter()
        .filter(|h| i64::try_from(h.id).ok() != Some(exclude))
        .filter_map(|h| {
            let r = IncidentRecord::from_payload(&h.payload)?;
            let bonus = match r.verified {
                Some(true) => VERIFIED_BONUS,
                Some(false) => -VERIFIED_BONUS,
                None => 0.0,
            };
            Some((h.score + bonus, r.similar(h.score)))
        })
        .collect();
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    found.into_iter().take(top_k).map(|(_, s)| s).collect()
}
