//! `MetricsSource` over the Prometheus HTTP API: `GET /api/v1/query` and `/api/v1/query_range`
//! with URL-encoded parameters, optional bearer or basic auth, a timeout on every request.
//!
//! Built on hyper-util with hyper-rustls (crates kube already builds) and the rustls ring provider
//! passed explicitly, so nothing depends on a process-wide rustls provider being installed.
//! Redirects are not followed: a query never leaves the configured host. Answers are read up to
//! `MAX_BODY_BYTES`.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{ACCEPT, AUTHORIZATION, HeaderValue, USER_AGENT};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::{MetricsError, MetricsSource, Series, TimeRange, response};
use crate::config::PrometheusSettings;

/// Largest answer read from Prometheus.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// A Prometheus server (or anything speaking its query API: Thanos, Mimir, VictoriaMetrics).
#[derive(Clone)]
pub struct PrometheusHttp {
    /// The base URL, ending in `/`.
    base: url::Url,
    auth: Option<HeaderValue>,
    timeout: Duration,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl std::fmt::Debug for PrometheusHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusHttp").field("base", &self.base.as_str()).field("timeout", &self.timeout).finish()
    }
}

impl PrometheusHttp {
    /// A client for `settings.url` (which validation has checked). Fails only on a TLS setup
    /// problem: an unreadable `ca_file`, or no trusted CA at all for an `https` URL.
    pub fn new(settings: &PrometheusSettings) -> anyhow::Result<PrometheusHttp> {
        use anyhow::Context;
        let raw = settings.url.as_deref().context("prometheus.url is not set")?;
        let mut base = url::Url::parse(raw).context("prometheus.url is not a URL")?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let auth = match (&settings.bearer_token, &settings.basic_username, &settings.basic_password) {
            (Some(token), _, _) => Some(format!("Bearer {}", token.expose())),
            (None, Some(user), Some(password)) => {
                let pair = format!("{user}:{}", password.expose());
                Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)))
            }
            _ => None,
        };
        let auth = auth
            .map(|v| {
                let mut v = HeaderValue::from_str(&v).context("prometheus credentials are not valid header text")?;
                v.set_sensitive(true);
                anyhow::Ok(v)
            })
            .transpose()?;
        let roots = root_store(settings, base.scheme() == "https")?;
        let tls = crate::tls::client_config(roots).context("failed to set up TLS")?;
        let timeout = Duration::from_secs(settings.timeout_seconds);
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector);
        Ok(PrometheusHttp { base, auth, timeout, client })
    }

    /// The base URL (no credentials: validation refuses them in the URL).
    pub fn url(&self) -> &str {
        self.base.as_str()
    }

    async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Vec<Series>, MetricsError> {
        let mut url = self.base.join(path).map_err(|e| MetricsError::Decode(e.to_string()))?;
        url.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        let mut request = hyper::Request::get(url.as_str())
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, concat!("mimi/", env!("CARGO_PKG_VERSION")));
        if let Some(auth) = &self.auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let request = request.body(Empty::new()).map_err(|e| MetricsError::Decode(e.to_string()))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| MetricsError::Unreachable(cause(&e)))?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| MetricsError::Decode(format!("failed to read the answer: {e}")))?
                .to_bytes();
            Ok::<_, MetricsError>((status, body))
        };
        let (status, body) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| MetricsError::Timeout(self.timeout.as_secs()))??;
        response::parse(status, &body)
    }

    /// Prometheus's own evaluation timeout, a little under ours so it answers before we give up.
    fn server_timeout(&self) -> String {
        format!("{}s", self.timeout.as_secs().saturating_sub(1).max(1))
    }
}

#[async_trait]
impl MetricsSource for PrometheusHttp {
    async fn query(&self, promql: &str, at: f64) -> Result<Vec<Series>, MetricsError> {
        let params = [("query", promql.to_string()), ("time", format!("{at:.3}")), ("timeout", self.server_timeout())];
        self.get("api/v1/query", &params).await
    }

    async fn query_range(&self, promql: &str, range: TimeRange) -> Result<Vec<Series>, MetricsError> {
        let params = [
            ("query", promql.to_string()),
            ("start", format!("{:.3}", range.start)),
            ("end", format!("{:.3}", range.end)),
            ("step", range.step_seconds.to_string()),
            ("timeout", self.server_timeout()),
        ];
        self.get("api/v1/query_range", &params).await
    }
}

/// The CAs to trust: `ca_file` alone when set, else the system's (needed only for https).
fn root_store(settings: &PrometheusSettings, https: bool) -> anyhow::Result<rustls::RootCertStore> {
    use anyhow::Context;
    let mut roots = rustls::RootCertStore::empty();
    if let Some(path) = &settings.ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect())
            .with_context(|| format!("prometheus.ca_file: cannot read certificates from {}", path.display()))?;
        let (added, _) = roots.add_parsable_certificates(certs);
        anyhow::ensure!(added > 0, "prometheus.ca_file: {} holds no usable certificate", path.display());
    } else if https {
        let found = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(found.certs);
        anyhow::ensure!(
            !roots.is_empty(),
            "no system CA certificates found for prometheus.url (https); set prometheus.ca_file"
        );
    }
    Ok(roots)
}

/// The innermost cause of a connection error ("Connection refused (os error 111)").
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    let text = inner.to_string();
    if text == e.to_string() { text } else { format!("{e}: {text}") }
}
