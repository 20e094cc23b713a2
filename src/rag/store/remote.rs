//! A remote Qdrant server over gRPC (`qdrant-client`), with the embedded store's layout: one
//! collection per name, one unnamed dense vector (cosine) of the embedder's dimension, numeric point
//! ids, the JSON record as the payload, equality filters on keyword payload fields.
//!
//! The embedder that filled a collection is kept in the collection's own metadata
//! (`mimi_embedder`, `mimi_dimension`, Qdrant >= 1.16) and the vector size is read from its
//! configuration, so another Mimi (or this one after `[memory.embedder]` changed) opening it with
//! another embedder gets [`StoreError::EmbedderChanged`] before it mixes vectors. A collection made
//! by something else (no metadata) is accepted when its vector size and distance fit.
//!
//! The payload fields searches filter on get keyword payload indexes, as in the embedded store, so
//! filtered searches use the HNSW graph instead of a scan; `ensure` adds the ones a collection lacks.
//!
//! The client connects lazily (no version check at construction): a server that is down shows up
//! as [`StoreError::Unavailable`] on the first call, so memory degrades instead of blocking start-up.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use qdrant_client::qdrant::{
    Condition, CountPoints, CreateCollection, CreateFieldIndexCollection, DeleteCollection, Distance, FieldType,
    Filter as QFilter, GetCollectionInfoRequest, PointStruct, QueryPoints, UpsertPoints, Value as QValue, VectorParams,
    VectorsConfig, point_id::PointIdOptions, vectors_config,
};
use qdrant_client::{Payload, Qdrant, QdrantError};
use serde_json::Value;
use tonic::Code;

use super::{CollectionSpec, Filter, Hit, Point, StoreError, VectorStore};
use crate::config::Secret;
use crate::strings::memory as s;

/// Collection metadata keys naming what filled the collection.
const META_EMBEDDER: &str = "mimi_embedder";
const META_DIMENSION: &str = "mimi_dimension";

/// What the server says about an existing collection.
struct Found {
    embedder: Option<String>,
    dimension: usize,
    /// Payload fields with an index.
    indexed: Vec<String>,
}

pub struct RemoteStore {
    client: Qdrant,
    url: String,
}

impl RemoteStore {
    /// A client for the gRPC endpoint `url` (`http://qdrant:6334`; `https://` speaks TLS with the
    /// system's roots), sending `api_key` in the `api-key` header; every call (and connecting) is
    /// bounded by `timeout`. Nothing is contacted until the first call.
    pub fn new(url: &str, api_key: Option<&Secret>, timeout: Duration) -> Result<RemoteStore, StoreError> {
        crate::tls::install_crypto_provider();
        let client = Qdrant::from_url(url)
            .api_key(api_key.map(|k| k.expose().to_string()))
            .timeout(timeout)
            .connect_timeout(timeout)
            .skip_compatibility_check()
            .build()
            .map_err(|e| StoreError::Failed(s::remote_client(url, &e.to_string())))?;
        Ok(RemoteStore { client, url: url.to_string() })
    }

    /// The collection's spec as the server knows it; `None` when it does not exist.
    async fn existing(&self, collection: &str) -> Result<Option<Found>, StoreError> {
        let request = GetCollectionInfoRequest { collection_name: collection.to_string() };
        let info = match self.client.collection_info(request).await {
            Ok(r) => r.result.unwrap_or_default(),
            Err(e) if code(&e) == Some(Code::NotFound) => return Ok(None),
            Err(e) => return Err(store_error(e)),
        };
        let config = info.config.unwrap_or_default();
        let embedder = config.metadata.get(META_EMBEDDER).and_then(|v| v.as_str().cloned());
        let params = config.params.and_then(|p| p.vectors_config).and_then(|v| v.config);
        let Some(vectors_config::Config::Params(params)) = params else {
            return Err(StoreError::Failed(s::remote_layout(collection)));
        };
        if params.distance != Distance::Cosine as i32 {
            return Err(StoreError::Failed(s::remote_layout(collection)));
        }
        let indexed = info.payload_schema.into_keys().collect();
        Ok(Some(Found { embedder, dimension: params.size as usize, indexed }))
    }

    async fn create(&self, collection: &str, spec: &CollectionSpec) -> Result<(), QdrantError> {
        let metadata: HashMap<String, QValue> = [
            (META_EMBEDDER.to_string(), QValue::from(spec.embedder.clone())),
            (META_DIMENSION.to_string(), QValue::from(spec.dimension as i64)),
        ]
        .into();
        let vectors =
            VectorParams { size: spec.dimension as u64, distance: Distance::Cosine.into(), ..Default::default() };
        let request = CreateCollection {
            collection_name: collection.to_string(),
            vectors_config: Some(VectorsConfig { config: Some(vectors_config::Config::Params(vectors)) }),
            metadata,
            ..Default::default()
        };
        self.client.create_collection(request).await.map(drop)
    }

    async fn index_keywords(&self, collection: &str, indexed: &[String]) -> Result<(), StoreError> {
        for field in super::KEYWORD_FIELDS.into_iter().filter(|f| !indexed.iter().any(|i| i == f)) {
            let request = CreateFieldIndexCollection {
                collection_name: collection.to_string(),
                wait: Some(true),
                field_name: field.to_string(),
                field_type: Some(FieldType::Keyword.into()),
                ..Default::default()
            };
            self.client.create_field_index(request).await.map_err(store_error)?;
        }
        Ok(())
    }
}

fn code(e: &QdrantError) -> Option<Code> {
    match e {
        QdrantError::ResponseError { status } | QdrantError::ResourceExhaustedError { status, .. } => {
            Some(status.code())
        }
        _ => None,
    }
}

/// Unreachable, overloaded or too slow: [`StoreError::Unavailable`] (memory degrades and the
/// `remember` job retries); anything the server refused: [`StoreError::Failed`].
fn store_error(e: QdrantError) -> StoreError {
    let status = match e {
        QdrantError::ResponseError { status } | QdrantError::ResourceExhaustedError { status, .. } => status,
        QdrantError::Io(e) => return StoreError::Unavailable(e.to_string()),
        other => return StoreError::Failed(other.to_string()),
    };
    let message = status.message();
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::ResourceExhausted => {
            StoreError::Unavailable(s::remote_status(status.code().description(), message))
        }
        // qdrant-client reports a failed connection as Internal "Failed to connect to ...".
        Code::Internal if message.starts_with("Failed to connect") => {
            StoreError::Unavailable(s::remote_status("cannot connect", message))
        }
        Code::Unauthenticated | Code::PermissionDenied => StoreError::Failed(s::REMOTE_REFUSED_KEY.to_string()),
        c => StoreError::Failed(s::remote_status(c.description(), message)),
    }
}

fn to_filter(f: &Filter) -> Option<QFilter> {
    if f.must.is_empty() {
        return None;
    }
    Some(QFilter::must(f.must.iter().map(|(k, v)| Condition::matches(k.as_str(), v.clone()))))
}

fn to_payload(p: Value) -> HashMap<String, QValue> {
    match Payload::try_from(p) {
        Ok(payload) => payload.into(),
        // Not an object: stored without payload, as the embedded store does.
        Err(_) => HashMap::new(),
    }
}

fn from_payload(p: HashMap<String, QValue>) -> Value {
    Value::Object(p.into_iter().map(|(k, v)| (k, v.into_json())).collect())
}

#[async_trait]
impl VectorStore for RemoteStore {
    fn describe(&self) -> String {
        s::remote_describe(&self.url)
    }

    async fn ensure(&self, collection: &str, spec: &CollectionSpec) -> Result<(), StoreError> {
        let found = match self.existing(collection).await? {
            Some(found) => found,
            None => match self.create(collection, spec).await {
                Ok(()) => {
                    Found { embedder: Some(spec.embedder.clone()), dimension: spec.dimension, indexed: Vec::new() }
                }
                // Another Mimi created it in between: check what it was created for.
                Err(e) if code(&e) == Some(Code::AlreadyExists) => {
                    self.existing(collection).await?.ok_or_else(|| StoreError::Failed(s::remote_layout(collection)))?
                }
                Err(e) => return Err(store_error(e)),
            },
        };
        let embedder_differs = found.embedder.as_ref().is_some_and(|e| e != &spec.embedder);
        if embedder_differs || found.dimension != spec.dimension {
            return Err(StoreError::EmbedderChanged {
                collection: collection.into(),
                was: found.embedder.unwrap_or_else(|| s::REMOTE_UNKNOWN_EMBEDDER.to_string()),
                was_dim: found.dimension,
                now: spec.embedder.clone(),
                now_dim: spec.dimension,
            });
        }
        self.index_keywords(collection, &found.indexed).await
    }

    async fn upsert(&self, collection: &str, points: Vec<Point>) -> Result<(), StoreError> {
        let points = points
            .into_iter()
            .map(|p| PointStruct {
                id: Some(p.id.into()),
                payload: to_payload(p.payload),
                vectors: Some(p.vector.into()),
            })
            .collect();
        // `wait`: acknowledged only once applied, like the embedded store's flushed upsert.
        let request =
            UpsertPoints { collection_name: collection.to_string(), wait: Some(true), points, ..Default::default() };
        self.client.upsert_points(request).await.map(drop).map_err(store_error)
    }

    async fn search(
        &self,
        collection: &str,
        vector: Vec<f32>,
        filter: &Filter,
        limit: usize,
        min_score: f32,
    ) -> Result<Vec<Hit>, StoreError> {
        let request = QueryPoints {
            collection_name: collection.to_string(),
            query: Some(vector.into()),
            filter: to_filter(filter),
            score_threshold: Some(min_score),
            limit: Some(limit as u64),
            with_payload: Some(true.into()),
            ..Default::default()
        };
        let answer = self.client.query(request).await.map_err(store_error)?;
        Ok(answer
            .result
            .into_iter()
            .filter_map(|p| {
                let Some(PointIdOptions::Num(id)) = p.id.and_then(|i| i.point_id_options) else { return None };
                Some(Hit { id, score: p.score, payload: from_payload(p.payload) })
            })
            .collect())
    }

    async fn count(&self, collection: &str) -> Result<usize, StoreError> {
        let request = CountPoints { collection_name: collection.to_string(), exact: Some(true), ..Default::default() };
        let answer = self.client.count(request).await.map_err(store_error)?;
        Ok(answer.result.map(|r| r.count as usize).unwrap_or_default())
    }

    async fn drop_collection(&self, collection: &str) -> Result<(), StoreError> {
        let request = DeleteCollection { collection_name: collection.to_string(), ..Default::default() };
        match self.client.delete_collection(request).await {
            // Deleting a collection that does not exist answers `false` (or NotFound): already gone.
            Ok(_) => Ok(()),
            Err(e) if code(&e) == Some(Code::NotFound) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }
}
