//! A fake Slack Web API (axum on 127.0.0.1:0) for the methods Mimi calls, checking what Slack
//! checks: the bot token (`invalid_auth`), the content type and JSON shape of every call (`channel`,
//! `text` or `blocks`, blocks with a `type`, section text within 3000 characters), that the channel
//! exists (`channel_not_found`), that an edited message or a thread root exists. It can answer 429
//! with `Retry-After` (once, or whenever a channel gets more than one post a second) and 5xx, keeps
//! the channels' messages (with metadata, for `conversations.history`/`replies`), records every
//! call, serves `response_url`s, user groups, and a Socket Mode websocket (`socket.rs`). [`sign`]
//! signs inbound payloads exactly as Slack does (`signed.rs`).

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

mod api;
mod signed;
mod socket;

pub use signed::{Click, command_body, sign};

pub const BOT_TOKEN: &str = "xoxb-test-0123456789";
pub const SIGNING_SECRET: &str = "test-signing-secret-0123";
pub const TEAM: &str = "TTEAM01";
pub const APP_TOKEN: &str = "xapp-test-0123456789";

/// One Web API call as received.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: Instant,
    pub method: String,
    pub body: Value,
    /// `ok` or the error / HTTP status answered.
    pub outcome: String,
}

/// A message in a channel.
#[derive(Debug, Clone)]
pub struct Message {
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    pub text: String,
    pub blocks: Value,
    pub metadata: Value,
    pub edits: usize,
}

impl Message {
    /// The `(action_id, value)` of every button.
    pub fn buttons(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for b in self.blocks.as_array().into_iter().flatten().filter(|b| b["type"] == "actions") {
            for e in b["elements"].as_array().into_iter().flatten() {
                out.push((e["action_id"].as_str().unwrap_or("").into(), e["value"].as_str().unwrap_or("").into()));
            }
        }
        out
    }

    /// All the text of the message (fallback and blocks).
    pub fn all_text(&self) -> String {
        format!("{}\n{}", self.text, self.blocks)
    }
}

#[derive(Default)]
struct Inner {
    channels: BTreeSet<String>,
    messages: Vec<Message>,
    calls: Vec<Call>,
    responses: Vec<(String, Value)>,
    seq: u64,
    /// Answer the next N calls with 429 and this Retry-After.
    rate_limit_next: Vec<u64>,
    /// Per-channel posting limit: more than one post per second answers 429 + this Retry-After.
    per_channel_retry_after: Option<u64>,
    last_post: HashMap<String, Instant>,
    fail_next_5xx: usize,
    socket: Socket,
    /// User group id -> members.
    usergroups: HashMap<String, Vec<String>>,
}

/// The Socket Mode side: connections made, the current one's command channel, acks received.
#[derive(Default)]
struct Socket {
    port: u16,
    connections: usize,
    current: Option<tokio::sync::mpsc::UnboundedSender<SocketCmd>>,
    acks: Vec<Value>,
}

enum SocketCmd {
    Send(Value),
    /// Drop the TCP connection without a close frame.
    Drop,
}

#[derive(Clone)]
pub struct FakeSlack {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl FakeSlack {
    pub async fn start(channels: &[&str]) -> FakeSlack {
        let inner = Arc::new(Mutex::new(Inner {
            channels: channels.iter().map(|c| c.to_string()).collect(),
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/api/response/{id}", post(response_url))
            .route("/api/{method}", post(api))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        inner.lock().unwrap().socket.port = ws.local_addr().unwrap().port();
        tokio::spawn(socket::serve(ws, inner.clone()));
        FakeSlack { addr, inner }
    }

    /// `[slack] api_url`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// A fresh `response_url` for one interaction or command.
    pub fn response_url(&self) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.seq += 1;
        format!("http://{}/api/response/{}", self.addr, inner.seq)
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// Top-level messages and thread replies, in the order posted.
    pub fn messages(&self) -> Vec<Message> {
        self.inner.lock().unwrap().messages.clone()
    }

    pub fn top_level(&self, channel: &str) -> Vec<Message> {
        self.messages().into_iter().filter(|m| m.channel == channel && m.thread_ts.is_none()).collect()
    }

    pub fn replies(&self, root: &str) -> Vec<Message> {
        self.messages().into_iter().filter(|m| m.thread_ts.as_deref() == Some(root)).collect()
    }

    /// Bodies posted to `response_url`s (url, body).
    pub fn responses(&self) -> Vec<(String, Value)> {
        self.inner.lock().unwrap().responses.clone()
    }

    pub fn responses_to(&self, url: &str) -> Vec<Value> {
        self.responses().into_iter().filter(|(u, _)| u == url).map(|(_, b)| b).collect()
    }

    /// A message a person posted (e.g. the one mentioning Mimi); returns its ts.
    pub fn user_message(&self, channel: &str, text: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.seq += 1;
        let ts = format!("1700000000.{:06}", inner.seq);
        let m = Message {
            channel: channel.into(),
            ts: ts.clone(),
            thread_ts: None,
            text: text.into(),
            blocks: Value::Null,
            metadata: Value::Null,
            edits: 0,
        };
        inner.messages.push(m);
        ts
    }

    /// Socket Mode connections made so far.
    pub fn socket_connections(&self) -> usize {
        self.inner.lock().unwrap().socket.connections
    }

    /// Sends an envelope on the current Socket Mode connection.
    pub fn socket_send(&self, envelope: Value) {
        let inner = self.inner.lock().unwrap();
        inner.socket.current.as_ref().expect("a Socket Mode connection").send(SocketCmd::Send(envelope)).unwrap();
    }

    /// Drops the current connection abruptly.
    pub fn socket_drop(&self) {
        let inner = self.inner.lock().unwrap();
        let _ = inner.socket.current.as_ref().expect("a Socket Mode connection").send(SocketCmd::Drop);
    }

    /// Acknowledgements received (`{"envelope_id", "payload"?}`).
    pub fn socket_acks(&self) -> Vec<Value> {
        self.inner.lock().unwrap().socket.acks.clone()
    }

    /// A user group and its members.
    pub fn usergroup(&self, id: &str, members: &[&str]) {
        self.inner.lock().unwrap().usergroups.insert(id.into(), members.iter().map(|m| m.to_string()).collect());
    }

    pub fn rate_limit_next(&self, retry_after_seconds: u64) {
        self.inner.lock().unwrap().rate_limit_next.push(retry_after_seconds);
    }

    pub fn limit_posts_per_channel(&self, retry_after_seconds: u64) {
        self.inner.lock().unwrap().per_channel_retry_after = Some(retry_after_seconds);
    }

    pub fn fail_next_with_5xx(&self, n: usize) {
        self.inner.lock().unwrap().fail_next_5xx = n;
    }
}

async fn response_url(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let url =
        format!("http://{}/api/response/{id}", headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or(""));
    let Ok(body) = serde_json::from_slice::<Value>(&body) else { return StatusCode::BAD_REQUEST.into_response() };
    inner.lock().unwrap().responses.push((url, body));
    StatusCode::OK.into_response()
}

async fn api(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let (status, answer) = api::answer(&mut inner, &method, &headers, &body);
    let outcome = match (status.as_u16(), answer["ok"].as_bool()) {
        (200, Some(true)) => "ok".to_string(),
        (200, _) => answer["error"].as_str().unwrap_or("?").to_string(),
        (code, _) => code.to_string(),
    };
    let recorded = serde_json::from_slice(&body).unwrap_or_else(|_| json!(String::from_utf8_lossy(&body)));
    inner.calls.push(Call { at: Instant::now(), method, body: recorded, outcome });
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry = answer["retry_after"].to_string();
        return (status, [(header::RETRY_AFTER, retry)], axum::Json(json!({"ok": false, "error": "ratelimited"})))
            .into_response();
    }
    (status, axum::Json(answer)).into_response()
}
