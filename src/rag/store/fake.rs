//! An in-memory [`VectorStore`]: brute-force cosine search, for tests. `set_down(true)` makes every
//! call fail as an unreachable server would.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;

use super::{CollectionSpec, Filter, Hit, Point, StoreError, VectorStore};
use crate::rag::embed::dot;

/// A collection: what filled it, and its points by id.
type Collection = (CollectionSpec, BTreeMap<u64, Point>);

#[derive(Default)]
pub struct MemoryStore {
    collections: Mutex<BTreeMap<String, Collection>>,
    down: AtomicBool,
}

impl MemoryStore {
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn up(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("connection refused (test store is down)".into()));
        }
        Ok(())
    }

    fn with<T>(&self, collection: &str, f: impl FnOnce(&mut Collection) -> T) -> Result<T, StoreError> {
        self.up()?;
        let mut all = self.collections.lock().expect("not poisoned");
        let c = all.get_mut(collection).ok_or_else(|| StoreError::Failed(format!("no collection {collection:?}")))?;
        Ok(f(c))
    }
}

#[async_trait]
impl VectorStore for MemoryStore {
    fn describe(&self) -> String {
        "in-memory test store".into()
    }

    async fn ensure(&self, collection: &str, spec: &CollectionSpec) -> Result<(), StoreError> {
        self.up()?;
        let mut all = self.collections.lock().expect("not poisoned");
        let (have, _) = all.entry(collection.to_string()).or_insert_with(|| (spec.clone(), BTreeMap::new()));
        if *have != *spec {
            return Err(StoreError::EmbedderChanged {
                collection: collection.into(),
                was: have.embedder.clone(),
                was_dim: have.dimension,
                now: spec.embedder.clone(),
                now_dim: spec.dimension,
            });
        }
        Ok(())
    }

    async fn upsert(&self, collection: &str, points: Vec<Point>) -> Result<(), StoreError> {
        self.with(collection, |(spec, c)| {
            for p in points {
                if p.vector.len() != spec.dimension {
                    return Err(StoreError::Failed(format!("vector of {} dimensions", p.vector.len())));
                }
                c.insert(p.id, p);
            }
            Ok(())
        })?
    }

    async fn search(
        &self,
        collection: &str,
        vector: Vec<f32>,
        filter: &Filter,
        limit: usize,
        min_score: f32,
    ) -> Result<Vec<Hit>, StoreError> {
        self.with(collection, |(_, c)| {
            let mut hits: Vec<Hit> = c
                .values()
                .filter(|p| filter.matches(&p.payload))
                .map(|p| Hit { id: p.id, score: dot(&vector, &p.vector), payload: p.payload.clone() })
                .filter(|h| h.score >= min_score)
                .collect();
            hits.sort_by(|a, b| b.score.total_cmp(&a.score));
            hits.truncate(limit);
            hits
        })
    }

    async fn count(&self, collection: &str) -> Result<usize, StoreError> {
        self.with(collection, |(_, c)| c.len())
    }

    async fn drop_collection(&self, collection: &str) -> Result<(), StoreError> {
        self.up()?;
        self.collections.lock().expect("not poisoned").remove(collection);
        Ok(())
    }
}
