//! A fake Qdrant gRPC server built from qdrant-client's generated service traits, for the remote
//! vector store. It implements only the RPCs `RemoteStore` uses (collections: get, create, delete;
//! points: upsert, query, count); every other RPC, and any request shape it cannot honour exactly
//! (named vectors, `should` filters, non-keyword matches...), answers `Unimplemented`, so a change
//! in what the adapter sends fails the tests instead of passing silently.
//!
//! It checks what the real server checks: the `api-key` header (`Unauthenticated`), that the
//! collection exists (`NotFound`), that vectors have the collection's dimension
//! (`InvalidArgument`); it searches by brute-force cosine over normalised vectors (as Qdrant stores
//! them for cosine), with keyword `must` filters (a string or an array containing it), the score
//! threshold (at least), the limit (default 10) and payloads only when asked for. It can serve
//! TLS ([`FakeQdrant::start_tls`]). It stops when dropped; [`FakeQdrant::stop`] also waits until its connections are closed.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qdrant_client::qdrant::{self as q, points_server::PointsServer};
use qdrant_client::qdrant::{collections_server::CollectionsServer, point_id::PointIdOptions};
use qdrant_client::qdrant::{vector, vector_input, vectors, vectors_config, with_payload_selector};
use tonic::{Request, Response, Status};

pub const API_KEY: &str = "test-qdrant-key";

type Payload = HashMap<String, q::Value>;

struct Collection {
    params: q::VectorParams,
    metadata: HashMap<String, q::Value>,
    points: BTreeMap<u64, (Vec<f32>, Payload)>,
}

#[derive(Default)]
struct State {
    collections: Mutex<HashMap<String, Collection>>,
    /// How long every RPC takes (to test the client's timeout).
    delay: Mutex<Duration>,
}

#[derive(Clone)]
struct Svc(Arc<State>);

pub struct FakeQdrant {
    pub url: String,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeQdrant {
    /// Serves on 127.0.0.1 (a free port), requiring [`API_KEY`].
    pub async fn start() -> FakeQdrant {
        Self::start_on(0).await
    }

    /// Serves on 127.0.0.1:`port` (a server coming back after [`FakeQdrant::stop`]), empty.
    pub async fn start_on(port: u16) -> FakeQdrant {
        Self::serve(port, None).await
    }

    /// Serves TLS (gRPC over HTTP/2 with ALPN `h2`, as Qdrant does) with the PEM certificate and key.
    pub async fn start_tls(cert_pem: &str, key_pem: &str) -> FakeQdrant {
        Self::serve(0, Some(tonic::transport::Identity::from_pem(cert_pem, key_pem))).await
    }

    async fn serve(port: u16, tls: Option<tonic::transport::Identity>) -> FakeQdrant {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
        let state = Arc::new(State::default());
        let check = |req: Request<()>| match req.metadata().get("api-key").and_then(|v| v.to_str().ok()) {
            Some(API_KEY) => Ok(req),
            Some(_) => Err(Status::unauthenticated("Invalid API key or JWT")),
            None => Err(Status::unauthenticated("Must provide an API key or an Authorization bearer token")),
        };
        let mut server = tonic::transport::Server::builder();
        if let Some(identity) = tls {
            // tonic's server TLS takes the process's provider (ring and aws-lc are both compiled in).
            mimi::tls::install_crypto_provider();
            let config = tonic::transport::ServerTlsConfig::new().identity(identity);
            server = server.tls_config(config).unwrap();
        }
        let router = server
            .add_service(CollectionsServer::with_interceptor(Svc(state.clone()), check))
            .add_service(PointsServer::with_interceptor(Svc(state.clone()), check));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        let task = tokio::spawn(async move {
            let _ = router
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
        });
        FakeQdrant { url, state, stop: Some(stop), task: Some(task) }
    }

    /// Stops serving and waits until the port is closed and the connections are gone.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }

    pub fn set_delay(&self, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    /// The collection's vector size and metadata (as JSON), if it exists.
    pub fn collection(&self, name: &str) -> Option<(u64, serde_json::Value)> {
        let collections = self.state.collections.lock().unwrap();
        let c = collections.get(name)?;
        let meta = c.metadata.iter().map(|(k, v)| (k.clone(), v.clone().into_json())).collect();
        Some((c.params.size, serde_json::Value::Object(meta)))
    }

    /// Creates a collection the way another tool would (no Mimi metadata).
    pub fn create_foreign(&self, name: &str, size: u64) {
        let params = q::VectorParams { size, distance: q::Distance::Cosine.into(), ..Default::default() };
        let c = Collection { params, metadata: HashMap::new(), points: BTreeMap::new() };
        self.state.collections.lock().unwrap().insert(name.to_string(), c);
    }
}

impl Drop for FakeQdrant {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn not_found(name: &str) -> Status {
    Status::not_found(format!("Not found: Collection `{name}` doesn't exist!"))
}

fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

fn check_dim(c: &Collection, v: &[f32]) -> Result<(), Status> {
    if v.len() as u64 != c.params.size {
        return Err(Status::invalid_argument(format!(
            "Wrong input: Vector dimension error: expected dim: {}, got {}",
            c.params.size,
            v.len()
        )));
    }
    Ok(())
}

/// Only `must` keyword matches: a payload string equal to it, or an array holding it.
fn passes(filter: &Option<q::Filter>, payload: &Payload) -> Result<bool, Status> {
    let Some(f) = filter else { return Ok(true) };
    if !f.should.is_empty() || !f.must_not.is_empty() || f.min_should.is_some() {
        return Err(Status::unimplemented("the fake Qdrant supports only `must` filters"));
    }
    let mut all = true;
    for c in &f.must {
        let Some(q::condition::ConditionOneOf::Field(field)) = &c.condition_one_of else {
            return Err(Status::unimplemented("the fake Qdrant supports only field conditions"));
        };
        let Some(q::r#match::MatchValue::Keyword(want)) = field.r#match.as_ref().and_then(|m| m.match_value.clone())
        else {
            return Err(Status::unimplemented("the fake Qdrant supports only keyword matches"));
        };
        let have = payload.get(&field.key).cloned().map(q::Value::into_json);
        all &= match have {
            Some(serde_json::Value::String(s)) => s == want,
            Some(serde_json::Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(want.as_str())),
            _ => false,
        };
    }
    Ok(all)
}

#[allow(deprecated)]
fn dense(v: Option<q::Vectors>) -> Result<Vec<f32>, Status> {
    match v.and_then(|v| v.vectors_options) {
        Some(vectors::VectorsOptions::Vector(v)) => match v.vector {
            Some(vector::Vector::Dense(d)) => Ok(d.data),
            None if !v.data.is_empty() => Ok(v.data),
            _ => Err(Status::unimplemented("the fake Qdrant stores only dense vectors")),
        },
        Some(vectors::VectorsOptions::Vectors(_)) => {
            Err(Status::invalid_argument("Wrong input: Not existing vector name error: named vectors"))
        }
        None => Err(Status::invalid_argument("Wrong input: the point has no vector")),
    }
}

impl Svc {
    async fn pause(&self) {
        let delay = *self.0.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

/// Implements `$trait` with the given methods; every RPC listed after `unimplemented` answers
/// `Unimplemented`.
macro_rules! service {
    (impl $trait:path { $($body:tt)* } unimplemented { $($name:ident: $req:ident => $resp:ident;)* }) => {
        #[tonic::async_trait]
        impl $trait for Svc {
            $($body)*
            $(
                async fn $name(&self, _: Request<q::$req>) -> Result<Response<q::$resp>, Status> {
                    Err(Status::unimplemented(concat!("the fake Qdrant does not implement ", stringify!($name))))
                }
            )*
        }
    };
}

service! {
    impl q::collections_server::Collections {
        async fn get(&self, r: Request<q::GetCollectionInfoRequest>) -> Result<Response<q::GetCollectionInfoResponse>, Status> {
            self.pause().await;
            let name = r.into_inner().collection_name;
            let collections = self.0.collections.lock().unwrap();
            let c = collections.get(&name).ok_or_else(|| not_found(&name))?;
            let vectors_config = Some(q::VectorsConfig { config: Some(vectors_config::Config::Params(c.params)) });
            let params = q::CollectionParams { shard_number: 1, vectors_config, ..Default::default() };
            let config = q::CollectionConfig { params: Some(params), metadata: c.metadata.clone(), ..Default::default() };
            let info = q::CollectionInfo {
                status: q::CollectionStatus::Green.into(),
                config: Some(config),
                points_count: Some(c.points.len() as u64),
                ..Default::default()
            };
            Ok(Response::new(q::GetCollectionInfoResponse { result: Some(info), time: 0.0 }))
        }

        async fn create(&self, r: Request<q::CreateCollection>) -> Result<Response<q::CollectionOperationResponse>, Status> {
            self.pause().await;
            let r = r.into_inner();
            let Some(vectors_config::Config::Params(params)) = r.vectors_config.and_then(|v| v.config) else {
                return Err(Status::unimplemented("the fake Qdrant creates only collections of one unnamed vector"));
            };
            if params.size == 0 {
                return Err(Status::invalid_argument("Validation error: size must be at least 1"));
            }
            let mut collections = self.0.collections.lock().unwrap();
            if collections.contains_key(&r.collection_name) {
                let msg = format!("Wrong input: Collection `{}` already exists!", r.collection_name);
                return Err(Status::already_exists(msg));
            }
            let c = Collection { params, metadata: r.metadata, points: BTreeMap::new() };
            collections.insert(r.collection_name, c);
            Ok(Response::new(q::CollectionOperationResponse { result: true, time: 0.0 }))
        }

        async fn delete(&self, r: Request<q::DeleteCollection>) -> Result<Response<q::CollectionOperationResponse>, Status> {
            self.pause().await;
            let removed = self.0.collections.lock().unwrap().remove(&r.into_inner().collection_name);
            Ok(Response::new(q::CollectionOperationResponse { result: removed.is_some(), time: 0.0 }))
        }
    }
    unimplemented {
        list: ListCollectionsRequest => ListCollectionsResponse;
        update: UpdateCollection => CollectionOperationResponse;
        update_aliases: ChangeAliases => CollectionOperationResponse;
        list_collection_aliases: ListCollectionAliasesRequest => ListAliasesResponse;
        list_aliases: ListAliasesRequest => ListAliasesResponse;
        collection_cluster_info: CollectionClusterInfoRequest => CollectionClusterInfoResponse;
        collection_exists: CollectionExistsRequest => CollectionExistsResponse;
        update_collection_cluster_setup: UpdateCollectionClusterSetupRequest => UpdateCollectionClusterSetupResponse;
        create_shard_key: CreateShardKeyRequest => CreateShardKeyResponse;
        delete_shard_key: DeleteShardKeyRequest => DeleteShardKeyResponse;
        list_shard_keys: ListShardKeysRequest => ListShardKeysResponse;
    }
}

service! {
    impl q::points_server::Points {
        async fn upsert(&self, r: Request<q::UpsertPoints>) -> Result<Response<q::PointsOperationResponse>, Status> {
            self.pause().await;
            let r = r.into_inner();
            let mut collections = self.0.collections.lock().unwrap();
            let c = collections.get_mut(&r.collection_name).ok_or_else(|| not_found(&r.collection_name))?;
            // Validated as a batch first: a bad point applies nothing.
            let mut batch = Vec::with_capacity(r.points.len());
            for p in r.points {
                let Some(PointIdOptions::Num(id)) = p.id.and_then(|i| i.point_id_options) else {
                    return Err(Status::unimplemented("the fake Qdrant supports only numeric point ids"));
                };
                let v = dense(p.vectors)?;
                check_dim(c, &v)?;
                batch.push((id, normalised(v), p.payload));
            }
            for (id, v, payload) in batch {
                c.points.insert(id, (v, payload));
            }
            let status = if r.wait == Some(true) { q::UpdateStatus::Completed } else { q::UpdateStatus::Acknowledged };
            let result = q::UpdateResult { operation_id: Some(1), status: status.into() };
            Ok(Response::new(q::PointsOperationResponse { result: Some(result), time: 0.0, usage: None }))
        }

        async fn query(&self, r: Request<q::QueryPoints>) -> Result<Response<q::QueryResponse>, Status> {
            self.pause().await;
            let r = r.into_inner();
            if !r.prefetch.is_empty() || r.using.as_deref().is_some_and(|u| !u.is_empty()) || r.offset.unwrap_or(0) != 0 {
                return Err(Status::unimplemented("the fake Qdrant answers only plain nearest queries"));
            }
            let Some(q::query::Variant::Nearest(input)) = r.query.and_then(|q| q.variant) else {
                return Err(Status::unimplemented("the fake Qdrant answers only nearest queries"));
            };
            let Some(vector_input::Variant::Dense(query)) = input.variant else {
                return Err(Status::unimplemented("the fake Qdrant answers only dense vector queries"));
            };
            let collections = self.0.collections.lock().unwrap();
            let c = collections.get(&r.collection_name).ok_or_else(|| not_found(&r.collection_name))?;
            check_dim(c, &query.data)?;
            let query = normalised(query.data);
            let with_payload =
                matches!(r.with_payload.and_then(|w| w.selector_options), Some(with_payload_selector::SelectorOptions::Enable(true)));
            let mut hits = Vec::new();
            for (id, (v, payload)) in &c.points {
                if !passes(&r.filter, payload)? {
                    continue;
                }
                let score: f32 = v.iter().zip(&query).map(|(a, b)| a * b).sum();
                if r.score_threshold.is_some_and(|t| score < t) {
                    continue;
                }
                hits.push(q::ScoredPoint {
                    id: Some((*id).into()),
                    payload: if with_payload { payload.clone() } else { HashMap::new() },
                    score,
                    ..Default::default()
                });
            }
            hits.sort_by(|a, b| b.score.total_cmp(&a.score));
            hits.truncate(r.limit.unwrap_or(10) as usize);
            Ok(Response::new(q::QueryResponse { result: hits, time: 0.0, usage: None }))
        }

        async fn count(&self, r: Request<q::CountPoints>) -> Result<Response<q::CountResponse>, Status> {
            self.pause().await;
            let r = r.into_inner();
            let collections = self.0.collections.lock().unwrap();
            let c = collections.get(&r.collection_name).ok_or_else(|| not_found(&r.collection_name))?;
            let mut count = 0;
            for (_, payload) in c.points.values() {
                count += u64::from(passes(&r.filter, payload)?);
            }
            let result = Some(q::CountResult { count });
            Ok(Response::new(q::CountResponse { result, time: 0.0, usage: None }))
        }
    }
    unimplemented {
        delete: DeletePoints => PointsOperationResponse;
        get: GetPoints => GetResponse;
        update_vectors: UpdatePointVectors => PointsOperationResponse;
        delete_vectors: DeletePointVectors => PointsOperationResponse;
        set_payload: SetPayloadPoints => PointsOperationResponse;
        overwrite_payload: SetPayloadPoints => PointsOperationResponse;
        delete_payload: DeletePayloadPoints => PointsOperationResponse;
        clear_payload: ClearPayloadPoints => PointsOperationResponse;
        create_field_index: CreateFieldIndexCollection => PointsOperationResponse;
        delete_field_index: DeleteFieldIndexCollection => PointsOperationResponse;
        create_vector_name: CreateVectorNameRequest => PointsOperationResponse;
        delete_vector_name: DeleteVectorNameRequest => PointsOperationResponse;
        search: SearchPoints => SearchResponse;
        search_batch: SearchBatchPoints => SearchBatchResponse;
        search_groups: SearchPointGroups => SearchGroupsResponse;
        scroll: ScrollPoints => ScrollResponse;
        recommend: RecommendPoints => RecommendResponse;
        recommend_batch: RecommendBatchPoints => RecommendBatchResponse;
        recommend_groups: RecommendPointGroups => RecommendGroupsResponse;
        discover: DiscoverPoints => DiscoverResponse;
        discover_batch: DiscoverBatchPoints => DiscoverBatchResponse;
        update_batch: UpdateBatchPoints => UpdateBatchResponse;
        query_batch: QueryBatchPoints => QueryBatchResponse;
        query_groups: QueryPointGroups => QueryGroupsResponse;
        facet: FacetCounts => FacetResponse;
        search_matrix_pairs: SearchMatrixPoints => SearchMatrixPairsResponse;
        search_matrix_offsets: SearchMatrixPoints => SearchMatrixOffsetsResponse;
    }
}
