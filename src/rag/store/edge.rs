//! Embedded Qdrant (qdrant-edge 0.7.2): one shard folder per collection under the memory folder,
//! beside a `mimi-collection.json` naming the embedder that filled it.
//!
//! qdrant-edge 0.7.2 writes every update to its WAL but does not replay the WAL when a shard is
//! loaded, so each upsert is followed by a flush of the segments: what `upsert` acknowledged survives
//! a restart. Its `flush` takes the WAL and segment-holder locks with `try_lock().expect(..)`, so
//! every change to a shard (update, flush, optimize) goes through one mutex per collection; searches
//! and counts do not take it (they only read the segments, which qdrant lets run beside writes).
//!
//! qdrant-edge runs no background optimizer: after each upsert, Mimi runs the shard's optimizer
//! itself (it plans nothing until a segment outgrows the indexing threshold; then it builds the
//! HNSW index, while searches go on). The fields recall filters on ([`super::KEYWORD_FIELDS`]) get
//! keyword payload indexes, so filtered searches use the HNSW graph instead of a full scan.
//! All calls run on the blocking pool.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use qdrant_edge::external::ordered_float::OrderedFloat;
use qdrant_edge::{
    Condition, CreateIndex, DEFAULT_VECTOR_NAME, Distance, EdgeConfigBuilder, EdgeShard, EdgeVectorParamsBuilder,
    FieldCondition, FieldIndexOperations, Filter as QFilter, JsonPath, Match, NamedQuery, PayloadFieldSchema,
    PayloadSchemaType, PointId, PointInsertOperations, PointOperations, PointStruct, QueryEnum, QueryRequest,
    ScoringQuery, UpdateOperation, WalOptions, WithPayloadInterface, WithVector,
};
use serde_json::Value;

use super::{CollectionSpec, Filter, Hit, Point, StoreError, VectorStore};

const SPEC_FILE: &str = "mimi-collection.json";
const SHARD_DIR: &str = "shard";
/// Large enough for a batch of 256 points of 1,536 dimensions with their payloads.
const WAL_SEGMENT_BYTES: usize = 8 * 1024 * 1024;

/// One open collection: the shard, and the lock every change to it takes.
struct Collection {
    shard: Shard,
    writes: Mutex<()>,
}

impl Collection {
    /// Runs `change` then flushes; with `optimize`, then lets the optimizer index what outgrew the
    /// threshold (seconds, once in a while: only on the blocking pool).
    fn write(
        &self,
        change: impl FnOnce(&EdgeShard) -> Result<(), StoreError>,
        optimize: bool,
    ) -> Result<(), StoreError> {
        let _writing = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        change(&self.shard)?;
        self.shard.flush();
        if optimize {
            self.shard.optimize().map_err(failed)?;
        }
        Ok(())
    }
}

type Shared = Arc<Collection>;

/// A shard that does not panic when dropped: qdrant-edge flushes on drop and panics if its files
/// are gone (a deleted data directory, a test's temporary folder) or while a panic unwinds. Every
/// acknowledged upsert is already flushed, so such a drop skips the flush (and leaks the handle).
struct Shard {
    inner: std::mem::ManuallyDrop<EdgeShard>,
}

impl std::ops::Deref for Shard {
    type Target = EdgeShard;
    fn deref(&self) -> &EdgeShard {
        &self.inner
    }
}

impl Drop for Shard {
    fn drop(&mut self) {
        if std::thread::panicking() || !self.inner.path().join("segments").is_dir() {
            return;
        }
        // SAFETY: `inner` is never used again.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.inner) }
    }
}

pub struct EdgeStore {
    root: PathBuf,
    shards: Mutex<HashMap<String, Shared>>,
}

impl EdgeStore {
    /// A store under `root` (created when first needed).
    pub fn new(root: impl Into<PathBuf>) -> EdgeStore {
        EdgeStore { root: root.into(), shards: Mutex::new(HashMap::new()) }
    }

    /// How many of the collection's vectors are in an HNSW index (the rest are searched by a scan).
    pub async fn indexed_vectors(&self, collection: &str) -> Result<usize, StoreError> {
        let c = self.shard(collection)?;
        blocking(move || Ok(c.shard.info().indexed_vectors_count)).await
    }

    fn dir(&self, collection: &str) -> PathBuf {
        self.root.join(collection)
    }

    fn shard(&self, collection: &str) -> Result<Shared, StoreError> {
        self.shards
            .lock()
            .expect("not poisoned")
            .get(collection)
            .cloned()
            .ok_or_else(|| StoreError::Failed(format!("collection {collection:?} is not open")))
    }

    /// Opens (or creates) the collection's shard, checking what it was filled with.
    fn open(&self, collection: &str, spec: &CollectionSpec) -> Result<(), StoreError> {
        if self.shards.lock().expect("not poisoned").contains_key(collection) {
            return check_spec(&self.dir(collection), collection, spec);
        }
        let dir = self.dir(collection);
        std::fs::create_dir_all(&dir).map_err(|e| unavailable(&dir, &e))?;
        check_spec(&dir, collection, spec)?;
        let path = dir.join(SHARD_DIR);
        let shard = if path.join("edge_config.json").is_file() {
            EdgeShard::load(&path, None).map_err(failed)?
        } else {
            std::fs::create_dir_all(&path).map_err(|e| unavailable(&path, &e))?;
            let vector = EdgeVectorParamsBuilder::new(spec.dimension, Distance::Cosine).build();
            // The WAL is not replayed (see above): keep it small rather than qdrant's 32 MiB.
            let wal = WalOptions {
                segment_capacity: WAL_SEGMENT_BYTES,
                segment_queue_len: 0,
                retain_closed: std::num::NonZeroUsize::MIN,
            };
            let config = EdgeConfigBuilder::new().vector(DEFAULT_VECTOR_NAME, vector).wal_options(wal).build();
            EdgeShard::new(&path, config).map_err(failed)?
        };
        let spec_path = dir.join(SPEC_FILE);
        if !spec_path.is_file() {
            let text = serde_json::to_vec_pretty(spec).map_err(|e| StoreError::Failed(e.to_string()))?;
            std::fs::write(&spec_path, text).map_err(|e| unavailable(&spec_path, &e))?;
        }
        let collection_ =
            Collection { shard: Shard { inner: std::mem::ManuallyDrop::new(shard) }, writes: Mutex::new(()) };
        index_keyword_fields(&collection_)?;
        self.shards.lock().expect("not poisoned").insert(collection.to_string(), Arc::new(collection_));
        Ok(())
    }
}

fn check_spec(dir: &Path, collection: &str, spec: &CollectionSpec) -> Result<(), StoreError> {
    let Ok(text) = std::fs::read(dir.join(SPEC_FILE)) else { return Ok(()) };
    let have: CollectionSpec =
        serde_json::from_slice(&text).map_err(|e| StoreError::Failed(format!("{SPEC_FILE}: {e}")))?;
    if &have != spec {
        return Err(StoreError::EmbedderChanged {
            collection: collection.into(),
            was: have.embedder,
            was_dim: have.dimension,
            now: spec.embedder.clone(),
            now_dim: spec.dimension,
        });
    }
    Ok(())
}

/// Keyword payload indexes on the fields searches filter by (collections made before had none).
fn index_keyword_fields(c: &Collection) -> Result<(), StoreError> {
    let have = c.shard.info().payload_schema;
    let missing: Vec<&str> =
        super::KEYWORD_FIELDS.iter().copied().filter(|f| !have.keys().any(|k| k.to_string() == *f)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    // At open, on the caller's thread: no optimizing here (the next upsert does it).
    c.write(
        |shard| {
            for field in missing {
                let field_name = JsonPath::try_from(field).map_err(|_| failed(format!("bad field name {field:?}")))?;
                let index = CreateIndex {
                    field_name,
                    field_schema: Some(PayloadFieldSchema::FieldType(PayloadSchemaType::Keyword)),
                };
                shard
                    .update(UpdateOperation::FieldIndexOperation(FieldIndexOperations::CreateIndex(index)))
                    .map_err(failed)?;
            }
            Ok(())
        },
        false,
    )
}

fn unavailable(path: &Path, e: &std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{}: {e}", path.display()))
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError::Failed(e.to_string())
}

fn to_filter(f: &Filter) -> Option<QFilter> {
    if f.must.is_empty() {
        return None;
    }
    let conditions = f
        .must
        .iter()
        .filter_map(|(k, v)| {
            let key = JsonPath::try_from(k.as_str()).ok()?;
            Some(Condition::Field(FieldCondition::new_match(key, Match::from(v.clone()))))
        })
        .collect();
    Some(QFilter { should: None, min_should: None, must: Some(conditions), must_not: None })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| StoreError::Failed(format!("store task: {e}")))?
}

#[async_trait]
impl VectorStore for EdgeStore {
    fn describe(&self) -> String {
        format!("embedded Qdrant at {}", self.root.display())
    }

    async fn ensure(&self, collection: &str, spec: &CollectionSpec) -> Result<(), StoreError> {
        // Opening reads a few small files and maps the segments: done in place (once per collection).
        self.open(collection, spec)
    }

    async fn upsert(&self, collection: &str, points: Vec<Point>) -> Result<(), StoreError> {
        let collection = self.shard(collection)?;
        blocking(move || {
            let list = points
                .into_iter()
                .map(|p| {
                    let payload = if p.payload.is_object() { p.payload } else { Value::Object(Default::default()) };
                    PointStruct::new(p.id, p.vector, payload).into()
                })
                .collect();
            let op =
                UpdateOperation::PointOperation(PointOperations::UpsertPoints(PointInsertOperations::PointsList(list)));
            collection.write(|shard| shard.update(op).map_err(failed), true)
        })
        .await
    }

    async fn search(
        &self,
        collection: &str,
        vector: Vec<f32>,
        filter: &Filter,
        limit: usize,
        min_score: f32,
    ) -> Result<Vec<Hit>, StoreError> {
        let shard = self.shard(collection)?;
        let filter = to_filter(filter);
        blocking(move || {
            let request = QueryRequest {
                prefetches: Vec::new(),
                query: Some(ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery::default_dense(vector)))),
                filter,
                score_threshold: Some(OrderedFloat(min_score)),
                limit,
                offset: 0,
                params: None,
                with_vector: WithVector::Bool(false),
                with_payload: WithPayloadInterface::Bool(true),
            };
            let points = shard.shard.query(request).map_err(failed)?;
            Ok(points
                .into_iter()
                .filter_map(|p| {
                    let PointId::NumId(id) = p.id else { return None };
                    let payload = Value::Object(p.payload.map(|x| x.0).unwrap_or_default());
                    Some(Hit { id, score: p.score, payload })
                })
                .collect())
        })
        .await
    }

    async fn count(&self, collection: &str) -> Result<usize, StoreError> {
        let shard = self.shard(collection)?;
        blocking(move || Ok(shard.shard.info().points_count)).await
    }

    async fn drop_collection(&self, collection: &str) -> Result<(), StoreError> {
        let removed = self.shards.lock().expect("not poisoned").remove(collection);
        drop(removed);
        let dir = self.dir(collection);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| unavailable(&dir, &e))?;
        }
        Ok(())
    }
}
