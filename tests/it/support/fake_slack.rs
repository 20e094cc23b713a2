//! A fake Slack Web API (axum on 127.0.0.1:0) for the methods Mimi calls, checking what Slack
//! checks: the bot token (`invalid_auth`), the content type and JSON shape of every call (`channel`,
//! `text` or `blocks`, blocks with a `type`, section text within 3000 characters), that the channel
//! exists (`channel_not_found`), that an edited message or a thread root exists. It can answer 429
//! with `Retry-After` (once, or whenever a channel gets more than one post a second) and 5xx, keeps
//! the channels' messages (with metadata, for `conversations.history`/`replies`), records every
//! call, and serves `response_url`s. [`sign`] signs inbound payloads exactly as Slack does.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

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
        tokio::spawn(serve_socket(ws, inner.clone()));
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
    let (status, answer) = answer(&mut inner, &method, &headers, &body);
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

fn err(e: &str) -> (StatusCode, Value) {
    (StatusCode::OK, json!({"ok": false, "error": e}))
}

fn answer(inner: &mut Inner, method: &str, headers: &HeaderMap, body: &[u8]) -> (StatusCode, Value) {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if method == "apps.connections.open" {
        // Only the app-level token opens connections.
        if auth != Some(&format!("Bearer {APP_TOKEN}")) {
            return err("invalid_auth");
        }
        let url = format!("ws://127.0.0.1:{}/link/?ticket={}", inner.socket.port, inner.socket.connections + 1);
        return (StatusCode::OK, json!({"ok": true, "url": url}));
    }
    if auth != Some(&format!("Bearer {BOT_TOKEN}")) {
        return err(if auth.is_none() { "not_authed" } else { "invalid_auth" });
    }
    if let Some(secs) = inner.rate_limit_next.pop() {
        return (StatusCode::TOO_MANY_REQUESTS, json!({"retry_after": secs}));
    }
    if inner.fail_next_5xx > 0 {
        inner.fail_next_5xx -= 1;
        return (StatusCode::SERVICE_UNAVAILABLE, json!({"ok": false, "error": "service_unavailable"}));
    }
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if method == "usergroups.users.list" {
        let group = url::form_urlencoded::parse(body).find(|(k, _)| k == "usergroup").map(|(_, v)| v.into_owned());
        return match group.and_then(|g| inner.usergroups.get(&g).cloned()) {
            Some(users) => (StatusCode::OK, json!({"ok": true, "users": users})),
            None => err("no_such_subteam"),
        };
    }
    let args: Value = if ctype.starts_with("application/json") {
        match serde_json::from_slice(body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return err("invalid_json"),
        }
    } else if ctype.starts_with("application/x-www-form-urlencoded") {
        let pairs: serde_json::Map<String, Value> =
            url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), json!(v.into_owned()))).collect();
        Value::Object(pairs)
    } else {
        return err("invalid_form_data");
    };
    let Some(channel) = args["channel"].as_str().map(str::to_string) else { return err("channel_not_found") };
    if !inner.channels.contains(&channel) {
        return err("channel_not_found");
    }
    match method {
        "chat.postMessage" | "chat.update" => {
            if !ctype.starts_with("application/json") {
                return err("invalid_arguments");
            }
            if let Some(bad) = check_content(&args) {
                return err(bad);
            }
        }
        _ => {}
    }
    match method {
        "chat.postMessage" => {
            if let Some(secs) = inner.per_channel_retry_after {
                let now = Instant::now();
                if inner.last_post.get(&channel).is_some_and(|t| now.duration_since(*t) < Duration::from_secs(1)) {
                    return (StatusCode::TOO_MANY_REQUESTS, json!({"retry_after": secs}));
                }
                inner.last_post.insert(channel.clone(), now);
            }
            let thread_ts = args["thread_ts"].as_str().map(str::to_string);
            if let Some(root) = &thread_ts
                && !inner.messages.iter().any(|m| &m.ts == root && m.channel == channel)
            {
                return err("thread_not_found");
            }
            inner.seq += 1;
            let ts = format!("1700000000.{:06}", inner.seq);
            inner.messages.push(Message {
                channel: channel.clone(),
                ts: ts.clone(),
                thread_ts,
                text: args["text"].as_str().unwrap_or("").into(),
                blocks: args["blocks"].clone(),
                metadata: args["metadata"].clone(),
                edits: 0,
            });
            (StatusCode::OK, json!({"ok": true, "channel": channel, "ts": ts}))
        }
        "chat.update" => {
            let ts = args["ts"].as_str().unwrap_or("").to_string();
            let Some(m) = inner.messages.iter_mut().find(|m| m.ts == ts && m.channel == channel) else {
                return err("message_not_found");
            };
            m.text = args["text"].as_str().unwrap_or("").into();
            m.blocks = args["blocks"].clone();
            m.edits += 1;
            (StatusCode::OK, json!({"ok": true, "channel": channel, "ts": ts}))
        }
        "conversations.history" | "conversations.replies" => {
            let with_meta = args["include_all_metadata"] == "true";
            let root = args["ts"].as_str().map(str::to_string);
            let list: Vec<Value> = inner
                .messages
                .iter()
                .filter(|m| m.channel == channel)
                .filter(|m| match &root {
                    Some(r) => &m.ts == r || m.thread_ts.as_ref() == Some(r),
                    None => m.thread_ts.is_none(),
                })
                .map(|m| {
                    let mut v = json!({"type": "message", "ts": m.ts, "text": m.text});
                    if with_meta && !m.metadata.is_null() {
                        v["metadata"] = m.metadata.clone();
                    }
                    v
                })
                .collect();
            (StatusCode::OK, json!({"ok": true, "messages": list, "has_more": false}))
        }
        _ => err("unknown_method"),
    }
}

/// What Slack refuses in a message: no text and no blocks, blocks without a type, oversized text.
fn check_content(args: &Value) -> Option<&'static str> {
    let text = args["text"].as_str().unwrap_or("");
    let blocks = &args["blocks"];
    if text.is_empty() && blocks.as_array().is_none_or(Vec::is_empty) {
        return Some("no_text");
    }
    if text.chars().count() > 40_000 {
        return Some("msg_too_long");
    }
    if let Some(list) = blocks.as_array() {
        if list.len() > 50 {
            return Some("invalid_blocks");
        }
        for b in list {
            if b["type"].as_str().is_none() {
                return Some("invalid_blocks");
            }
            if b["text"]["text"].as_str().is_some_and(|t| t.chars().count() > 3000) {
                return Some("invalid_blocks");
            }
            if b["type"] == "actions"
                && b["elements"]
                    .as_array()
                    .is_none_or(|e| e.iter().any(|e| e["value"].as_str().is_some_and(|v| v.len() > 2000)))
            {
                return Some("invalid_blocks");
            }
        }
    } else if !blocks.is_null() {
        return Some("invalid_blocks");
    }
    None
}

/// Slack's signature headers for `body` at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> (String, String) {
    (timestamp.to_string(), mimi::chat::slack::verify::sign(secret, timestamp, body.as_bytes()))
}

/// A button click as Slack describes it.
pub struct Click<'a> {
    /// The workspace the app is installed in (`team.id`).
    pub team: &'a str,
    /// The clicking user's own workspace (`user.team_id`; another one for Slack Connect guests).
    pub user_team: &'a str,
    pub user: &'a str,
    pub channel: &'a str,
    /// The message the button is on.
    pub ts: &'a str,
    pub action: &'a str,
    pub value: &'a str,
    pub response_url: &'a str,
    pub trigger: &'a str,
}

impl Click<'_> {
    /// The `block_actions` payload, form-encoded as Slack posts it to the interactivity URL.
    pub fn body(&self) -> String {
        let payload = json!({
            "type": "block_actions",
            "team": {"id": self.team, "domain": "acme"},
            "user": {"id": self.user, "username": "someone", "team_id": self.user_team},
            "api_app_id": "A0APP",
            "trigger_id": self.trigger,
            "container": {"type": "message", "message_ts": self.ts, "channel_id": self.channel, "is_ephemeral": false},
            "channel": {"id": self.channel, "name": "ops"},
            "message": {"type": "message", "ts": self.ts, "text": "..."},
            "response_url": self.response_url,
            "actions": [{"type": "button", "action_id": self.action, "block_id": format!("mimi_proposal_{}", self.value),
                         "value": self.value, "action_ts": "1700000001.000001"}],
        });
        url::form_urlencoded::Serializer::new(String::new()).append_pair("payload", &payload.to_string()).finish()
    }
}

/// A `/mimi` slash command body.
pub fn command_body(team: &str, user: &str, channel: &str, text: &str, response_url: &str, trigger: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("token", "deprecated-verification-token"),
            ("team_id", team),
            ("team_domain", "acme"),
            ("channel_id", channel),
            ("channel_name", "ops"),
            ("user_id", user),
            ("user_name", "someone"),
            ("command", "/mimi"),
            ("text", text),
            ("api_app_id", "A0APP"),
            ("response_url", response_url),
            ("trigger_id", trigger),
        ])
        .finish()
}

/// Accepts Socket Mode websockets: says hello, forwards envelopes the test sends, records acks.
async fn serve_socket(listener: tokio::net::TcpListener, inner: Arc<Mutex<Inner>>) {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Ws;
    loop {
        let Ok((tcp, _)) = listener.accept().await else { return };
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else { continue };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        {
            let mut inner = inner.lock().unwrap();
            inner.socket.connections += 1;
            inner.socket.current = Some(tx);
        }
        let hello = json!({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}});
        if ws.send(Ws::text(hello.to_string())).await.is_err() {
            continue;
        }
        let inner = inner.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    cmd = rx.recv() => match cmd {
                        Some(SocketCmd::Send(v)) => { if ws.send(Ws::text(v.to_string())).await.is_err() { return } }
                        Some(SocketCmd::Drop) | None => return,
                    },
                    msg = ws.next() => match msg {
                        Some(Ok(Ws::Text(text))) => {
                            if let Ok(v) = serde_json::from_str::<Value>(text.as_str()) {
                                inner.lock().unwrap().socket.acks.push(v);
                            }
                        }
                        Some(Ok(Ws::Close(_))) | None | Some(Err(_)) => return,
                        Some(Ok(_)) => {}
                    },
                }
            }
        });
    }
}
