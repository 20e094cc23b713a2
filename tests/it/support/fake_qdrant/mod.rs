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

use qdrant_client::qdrant::{self as q, collections_server::CollectionsServer, points_server::PointsServer};
use tonic::{Request, Status};

mod service;

pub const API_KEY: &str = "test-qdrant-key";

type Payload = HashMap<String, q::Value>;

struct Collection {
    params: q::VectorParams,
    metadata: HashMap<String, q::Value>,
    /// Payload fields with a keyword index.
    keyword_indexes: Vec<String>,
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

    /// The collection's payload fields with a keyword index, in the order they were made.
    pub fn keyword_indexes(&self, name: &str) -> Vec<String> {
        let collections = self.state.collections.lock().unwrap();
        collections.get(name).map(|c| c.keyword_indexes.clone()).unwrap_or_default()
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
        let c = Collection { params, metadata: HashMap::new(), keyword_indexes: Vec::new(), points: BTreeMap::new() };
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
