//! Socket Mode: Mimi connects out to Slack over a websocket with the app-level token, so no public
//! URL is needed. Envelopes carry the same payloads as the HTTP endpoints and go to the same
//! `Inbound` handlers.
//!
//! `apps.connections.open` (app token) gives a `wss://` URL; Slack says `hello`, then sends
//! envelopes (`events_api`, `interactive`, `slash_commands`), each acknowledged with its
//! `envelope_id` (and, for a command, the immediate answer). A `disconnect` (Slack refreshes
//! connections every few hours) reconnects at once; a dropped connection reconnects with capped
//! exponential backoff and jitter (B12). An envelope is acknowledged only once it is recorded, and
//! event ids and trigger ids are recorded once, so an envelope Slack sends again, on this
//! connection or the next, is not handled twice.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::inbound::{Ack, Inbound};
use crate::config::SlackSettings;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub struct SocketMode {
    inbound: Arc<Inbound>,
    http: reqwest::Client,
    open_url: String,
    app_token: String,
    tls: tokio_rustls::TlsConnector,
}

/// How a connection ended without an error.
enum Ended {
    /// Slack asked for a new connection (`disconnect`).
    Refresh,
    Shutdown,
}

impl SocketMode {
    pub fn new(settings: &SlackSettings, inbound: Arc<Inbound>) -> anyhow::Result<SocketMode> {
        crate::tls::install_crypto_provider();
        let app_token = settings.app_token.as_ref().context("slack.app_token is not set")?.expose().to_string();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_seconds))
            .build()
            .context("failed to build the Slack client")?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        let tls = crate::tls::client_config(roots).context("failed to set up TLS")?;
        Ok(SocketMode {
            inbound,
            http,
            open_url: format!("{}/apps.connections.open", settings.api_url.trim_end_matches('/')),
            app_token,
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
        })
    }

    /// Stays connected until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut failures: u32 = 0;
        loop {
            match self.session(&shutdown, &mut failures).await {
                Ok(Ended::Shutdown) => return,
                Ok(Ended::Refresh) => tracing::info!("Slack asked for a new Socket Mode connection"),
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let delay = backoff(failures);
                    tracing::warn!(
                        error = format!("{e:#}"),
                        retry_in_ms = delay.as_millis() as u64,
                        "Slack Socket Mode connection lost"
                    );
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    async fn session(&self, shutdown: &CancellationToken, failures: &mut u32) -> anyhow::Result<Ended> {
        let url = self.open().await?;
        let mut ws = self.connect(&url).await?;
        loop {
            let msg = tokio::select! {
                _ = shutdown.cancelled() => {
                    let _ = ws.close(None).await;
                    return Ok(Ended::Shutdown);
                }
                msg = ws.next() => msg,
            };
            let text = match msg {
                None => bail!("Slack closed the connection"),
                Some(Err(e)) => return Err(e).context("Socket Mode connection failed"),
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_))) => bail!("Slack closed the connection"),
                // Pings are answered by tungstenite on the next write or flush.
                Some(Ok(_)) => {
                    ws.flush().await.context("Socket Mode connection failed")?;
                    continue;
                }
            };
            let Ok(envelope) = serde_json::from_str::<Value>(text.as_str()) else { continue };
            match envelope["type"].as_str() {
                Some("hello") => *failures = 0,
                Some("disconnect") => {
                    let _ = ws.close(None).await;
                    return Ok(Ended::Refresh);
                }
                Some(kind) => {
                    let Some(id) = envelope["envelope_id"].as_str() else { continue };
                    let mut ack = json!({"envelope_id": id});
                    match self.dispatch(kind, envelope["payload"].clone()).await {
                        // Not recorded: no acknowledgement, Slack sends it again.
                        Ack::Unavailable => continue,
                        Ack::Json(payload) => ack["payload"] = payload,
                        Ack::Empty => {}
                        Ack::Malformed(why) => tracing::warn!(kind, why, "unexpected Socket Mode envelope"),
                    }
                    ws.send(Message::text(ack.to_string())).await.context("failed to acknowledge an envelope")?;
                }
                None => {}
            }
        }
    }

    async fn dispatch(&self, kind: &str, payload: Value) -> Ack {
        match kind {
            "events_api" => self.inbound.event_envelope(payload).await,
            "interactive" => self.inbound.interaction_payload(payload).await,
            "slash_commands" => {
                let fields: Vec<(String, String)> = payload
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect();
                self.inbound.command_fields(&fields).await
            }
            _ => Ack::Empty,
        }
    }

    /// `apps.connections.open`: a fresh websocket URL.
    async fn open(&self) -> anyhow::Result<String> {
        let resp = self
            .http
            .post(&self.open_url)
            .bearer_auth(&self.app_token)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .send()
            .await
            .map_err(reqwest::Error::without_url)
            .context("apps.connections.open failed")?;
        let answer: Value = resp.json().await.context("apps.connections.open answered something else")?;
        match answer["url"].as_str() {
            Some(url) if answer["ok"] == true => Ok(url.to_string()),
            _ => bail!("apps.connections.open answered {}", answer["error"].as_str().unwrap_or("no url")),
        }
    }

    async fn connect(&self, raw: &str) -> anyhow::Result<tokio_tungstenite::WebSocketStream<Box<dyn Io>>> {
        let url = url::Url::parse(raw).context("apps.connections.open gave a bad URL")?;
        let host = url.host_str().context("the Socket Mode URL has no host")?.to_string();
        let port = url.port_or_known_default().context("the Socket Mode URL has no port")?;
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.context("failed to connect")?;
        let stream: Box<dyn Io> = match url.scheme() {
            "wss" => {
                let name = rustls::pki_types::ServerName::try_from(host).context("bad Socket Mode host")?;
                Box::new(self.tls.connect(name, tcp).await.context("TLS to Slack failed")?)
            }
            "ws" => Box::new(tcp),
            other => bail!("unexpected Socket Mode URL scheme {other}"),
        };
        let (ws, _) = tokio_tungstenite::client_async(raw, stream).await.context("websocket handshake failed")?;
        Ok(ws)
    }
}

/// 1 s, 2 s, 4 s ... up to a minute, with up to 25 % jitter.
fn backoff(failures: u32) -> Duration {
    let base = 1000u64.saturating_mul(1 << failures.saturating_sub(1).min(6)).min(60_000);
    Duration::from_millis(base + fastrand::u64(0..=base / 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b12_backoff_grows_to_a_minute() {
        assert!((1000..=1250).contains(&(backoff(1).as_millis() as u64)));
        assert!((2000..=2500).contains(&(backoff(2).as_millis() as u64)));
        assert!((60_000..=75_000).contains(&(backoff(30).as_millis() as u64)));
    }
}
