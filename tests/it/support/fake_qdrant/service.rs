//! The fake's RPCs: the ones `RemoteStore` uses, with Qdrant's checks; every other one answers
//! `Unimplemented`.

use std::collections::{BTreeMap, HashMap};

use qdrant_client::qdrant::{self as q, point_id::PointIdOptions};
use qdrant_client::qdrant::{vector, vector_input, vectors, vectors_config, with_payload_selector};
use tonic::{Request, Response, Status};

use super::{Collection, Payload, Svc};

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
            let keyword = q::PayloadSchemaInfo { data_type: q::PayloadSchemaType::Keyword.into(), ..Default::default() };
            let info = q::CollectionInfo {
                status: q::CollectionStatus::Green.into(),
                config: Some(config),
                payload_schema: c.keyword_indexes.iter().map(|f| (f.clone(), keyword.clone())).collect(),
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
            let c = Collection { params, metadata: r.metadata, keyword_indexes: Vec::new(), points: BTreeMap::new() };
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

        async fn create_field_index(&self, r: Request<q::CreateFieldIndexCollection>) -> Result<Response<q::PointsOperationResponse>, Status> {
            self.pause().await;
            let r = r.into_inner();
            if r.field_type != Some(q::FieldType::Keyword.into()) || r.field_index_params.is_some() {
                return Err(Status::unimplemented("the fake Qdrant makes only plain keyword indexes"));
            }
            let mut collections = self.0.collections.lock().unwrap();
            let c = collections.get_mut(&r.collection_name).ok_or_else(|| not_found(&r.collection_name))?;
            if !c.keyword_indexes.contains(&r.field_name) {
                c.keyword_indexes.push(r.field_name);
            }
            let result = q::UpdateResult { operation_id: Some(1), status: q::UpdateStatus::Completed.into() };
            Ok(Response::new(q::PointsOperationResponse { result: Some(result), time: 0.0, usage: None }))
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
