//! A fake OpenAI-compatible chat completions server (axum on 127.0.0.1:0).
//!
//! It checks each request the way the real APIs do — bearer key, JSON content type, known model,
//! `messages` with roles and text, `temperature`, `max_tokens`, a well-formed `response_format` —
//! and refuses a bad one with the provider's 4xx error shape (recording the violation). Then it
//! answers with the next scripted [`Reply`]: a realistic completion, a recorded provider body, a
//! refusal, an HTTP error (429 with `Retry-After`, 5xx), a malformed body, or no answer at all.
//! It counts calls and keeps every request for assertions.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use mimi::analyze::llm::{Breaker, Limits, LlmConfig};
use mimi::config::{Secret, StructuredOutput};
use serde_json::{Value, json};

pub const KEY: &str = "test-llm-key-0123456789";
pub const MODEL: &str = "test-model";

/// What the fake answers to one (valid) request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A completion whose message content is this text.
    Answer(String),
    /// The same, reporting this many tokens used in total.
    Costly(String, u64),
    /// A full 200 body recorded from a provider (see [`recorded`]).
    Recorded(&'static str),
    /// `message.refusal` set, content null (OpenAI structured outputs).
    Refusal(String),
    /// An HTTP error with the provider's error body.
    Status { status: u16, retry_after: Option<&'static str> },
    /// 200 with a body that is not a completion.
    Malformed(String),
    /// Never answers (the client times out).
    Hang,
    /// The model calls these tools: (function name, arguments as the JSON text it wrote).
    ToolCalls(Vec<(String, String)>),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Captured {
    pub authorization: Option<String>,
    pub body: Value,
}

impl Captured {
    pub fn system(&self) -> String {
        self.body["messages"][0]["content"].as_str().unwrap_or_default().to_string()
    }
    pub fn user(&self) -> String {
        self.body["messages"][1]["content"].as_str().unwrap_or_default().to_string()
    }
}

struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    requests: Mutex<Vec<Captured>>,
    violations: Mutex<Vec<String>>,
    calls: AtomicUsize,
    /// Refuse `json_schema` the way Groq does for models without structured outputs.
    no_schemas: std::sync::atomic::AtomicBool,
}

pub struct FakeLlm {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeLlm {
    /// A fake that answers `default` to every request not scripted with [`FakeLlm::then`].
    pub async fn start(default: Reply) -> FakeLlm {
        let shared = Arc::new(Shared {
            replies: Mutex::new(VecDeque::new()),
            default: Mutex::new(default),
            requests: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            calls: AtomicUsize::new(0),
            no_schemas: Default::default(),
        });
        let app = Router::new().route("/v1/chat/completions", post(handle)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeLlm { addr, shared, task }
    }

    /// Answers `reply` to the next request (before the default).
    pub fn then(&self, reply: Reply) -> &Self {
        self.shared.replies.lock().unwrap().push_back(reply);
        self
    }

    /// From now on, refuse `response_format: json_schema` with 400 (JSON mode still works).
    pub fn without_schema_support(&self) {
        self.shared.no_schemas.store(true, Ordering::SeqCst);
    }

    /// Answers `reply` to every request from now on (after any scripted ones).
    pub fn always(&self, reply: Reply) {
        *self.shared.default.lock().unwrap() = reply;
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Valid requests answered (or left hanging).
    pub fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn last(&self) -> Captured {
        self.requests().pop().expect("the fake LLM got a request")
    }

    /// Requests refused because they were not what the real API accepts.
    pub fn violations(&self) -> Vec<String> {
        self.shared.violations.lock().unwrap().clone()
    }

    /// An analyzer configuration pointing at this fake: a 1 s timeout, no budget limits, no cache.
    pub fn config(&self) -> LlmConfig {
        LlmConfig {
            endpoint: format!("{}/chat/completions", self.base_url()),
            model: MODEL.into(),
            api_key: Some(Secret::new(KEY)),
            timeout: Duration::from_secs(1),
            max_tokens: 1024,
            structured_output: StructuredOutput::JsonSchema,
            limits: Limits { per_incident: 1 << 40, per_hour: 1 << 40, per_day: 1 << 40 },
            breaker: Breaker { failures: 1000, pause: Duration::from_secs(60) },
            cache_entries: 0,
            cache_ttl: Duration::from_secs(3600),
            max_retry_wait: Duration::from_secs(2),
        }
    }
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": null}});
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    if let Some(body) = &parsed {
        shared.requests.lock().unwrap().push(Captured { authorization: authorization.clone(), body: body.clone() });
    }
    let violate = |status: StatusCode, kind: &str, message: String| {
        shared.violations.lock().unwrap().push(message.clone());
        error(status, kind, &message)
    };
    if authorization.as_deref() != Some(&format!("Bearer {KEY}")) {
        return violate(StatusCode::UNAUTHORIZED, "invalid_request_error", "Incorrect API key provided".into());
    }
    let json_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if !json_type.is_some_and(|t| t.starts_with("application/json")) {
        return violate(StatusCode::BAD_REQUEST, "invalid_request_error", format!("content type {json_type:?}"));
    }
    let Some(body) = parsed else {
        return violate(StatusCode::BAD_REQUEST, "invalid_request_error", "the body is not JSON".into());
    };
    if shared.no_schemas.load(Ordering::SeqCst) && body["response_format"]["type"] == "json_schema" {
        let message = "This model does not support response format `json_schema`. See supported models at \
                       https://console.groq.com/docs/structured-outputs#supported-models";
        return error(StatusCode::BAD_REQUEST, "invalid_request_error", message);
    }
    if let Err(problem) = check(&body) {
        let status = if problem.contains("does not exist") { StatusCode::NOT_FOUND } else { StatusCode::BAD_REQUEST };
        return violate(status, "invalid_request_error", problem);
    }
    let n = shared.calls.fetch_add(1, Ordering::SeqCst) + 1;
    let reply = shared.replies.lock().unwrap().pop_front().unwrap_or_else(|| shared.default.lock().unwrap().clone());
    let prompt_tokens = body.to_string().len() / 4;
    match reply {
        Reply::Answer(content) => {
            let completion_tokens = content.len() / 4 + 1;
            completion(n, Some(&content), None, (prompt_tokens, completion_tokens))
        }
        Reply::Costly(content, total) => completion(n, Some(&content), None, (total as usize - 100, 100)),
        Reply::Refusal(text) => completion(n, None, Some(&text), (prompt_tokens, 12)),
        Reply::Recorded(raw) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], raw).into_response(),
        Reply::Malformed(raw) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], raw).into_response(),
        Reply::Status { status, retry_after } => {
            let code = StatusCode::from_u16(status).unwrap();
            let mut resp = error(code, if status == 429 { "rate_limit_exceeded" } else { "server_error" }, "try again");
            if let Some(after) = retry_after {
                resp.headers_mut().insert(header::RETRY_AFTER, after.parse().unwrap());
            }
            resp
        }
        Reply::ToolCalls(calls) => tool_calls(n, &calls, prompt_tokens),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
    }
}

/// What OpenAI's API refuses with 400 / 404.
fn check(body: &Value) -> Result<(), String> {
    if body["model"] != MODEL {
        return Err(format!("The model `{}` does not exist or you do not have access to it.", body["model"]));
    }
    let messages = body["messages"].as_array().ok_or("messages must be an array")?;
    if messages.is_empty() {
        return Err("messages must not be empty".into());
    }
    let mut call_ids: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or_default();
        if !["system", "developer", "user", "assistant", "tool"].contains(&role) {
            return Err(format!("messages[{i}].role {role:?} is not a role"));
        }
        let calls = m["tool_calls"].as_array();
        if role == "assistant" && calls.is_some_and(|c| !c.is_empty()) {
            for c in calls.unwrap() {
                let id = c["id"].as_str().ok_or(format!("messages[{i}].tool_calls[].id is required"))?;
                if c["type"] != "function"
                    || !c["function"]["name"].is_string()
                    || !c["function"]["arguments"].is_string()
                {
                    return Err(format!("messages[{i}].tool_calls[] needs type function, a name and arguments text"));
                }
                call_ids.push(id.to_string());
            }
            if !(m["content"].is_string() || m["content"].is_null()) {
                return Err(format!("messages[{i}].content must be a string or null"));
            }
            continue;
        }
        if role == "tool" {
            let id = m["tool_call_id"].as_str().unwrap_or_default();
            if !call_ids.iter().any(|c| c == id) {
                return Err(format!("messages[{i}]: tool_call_id {id:?} answers no tool call"));
            }
        }
        if !m["content"].is_string() {
            return Err(format!("messages[{i}].content must be a string"));
        }
    }
    let last = messages.last().unwrap()["role"].as_str().unwrap_or_default();
    if messages[0]["role"] != "system" || !["user", "tool"].contains(&last) {
        return Err("expected a system message first and a user or tool message last".into());
    }
    if let Some(tools) = body.get("tools") {
        let tools = tools.as_array().ok_or("tools must be an array")?;
        for t in tools {
            let name = t["function"]["name"].as_str().unwrap_or_default();
            let name_ok = (1..=64).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if t["type"] != "function" || !name_ok || t["function"]["parameters"]["type"] != "object" {
                return Err(format!("tools[]: invalid function definition {t}"));
            }
        }
        if let Some(choice) = body.get("tool_choice").and_then(Value::as_str)
            && !["auto", "none", "required"].contains(&choice)
        {
            return Err(format!("tool_choice {choice:?} is not valid"));
        }
    }
    let temperature = body["temperature"].as_f64().ok_or("temperature must be a number")?;
    if !(0.0..=2.0).contains(&temperature) {
        return Err("temperature must be between 0 and 2".into());
    }
    match body["max_tokens"].as_u64() {
        Some(n) if n > 0 => {}
        _ => return Err("max_tokens must be a positive integer".into()),
    }
    if body.get("stream").is_some_and(|s| s != false) {
        return Err("this fake does not stream".into());
    }
    match body.get("response_format") {
        None => Ok(()),
        Some(f) if f["type"] == "json_object" => {
            let says_json = messages.iter().any(|m| m["content"].as_str().unwrap_or_default().contains("JSON"));
            if says_json { Ok(()) } else { Err("'messages' must contain the word 'json' to use json_object".into()) }
        }
        Some(f) if f["type"] == "json_schema" => {
            let s = &f["json_schema"];
            let name_ok = s["name"].as_str().is_some_and(|n| !n.is_empty() && n.len() <= 64);
            if !name_ok || !s["schema"].is_object() || s["schema"]["type"] != "object" {
                return Err("response_format.json_schema needs a name and an object schema".into());
            }
            if s["strict"] == true && s["schema"]["additionalProperties"] != false {
                return Err("strict schemas must set additionalProperties: false".into());
            }
            Ok(())
        }
        Some(f) => Err(format!("response_format.type {} is not supported", f["type"])),
    }
}

fn completion(n: usize, content: Option<&str>, refusal: Option<&str>, usage: (usize, usize)) -> Response {
    let (prompt_tokens, completion_tokens) = usage;
    let body = json!({
        "id": format!("chatcmpl-fake{n:04}"),
        "object": "chat.completion",
        "created": 1_763_625_600,
        "model": MODEL,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0}
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake0001"
    });
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn tool_calls(n: usize, calls: &[(String, String)], prompt_tokens: usize) -> Response {
    let calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (name, args))| json!({"id": format!("call_{n}_{i}"), "type": "function", "function": {"name": name, "arguments": args}}))
        .collect();
    let body = json!({
        "id": format!("chatcmpl-fake{n:04}"),
        "object": "chat.completion",
        "created": 1_763_625_600,
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": calls},
                     "logprobs": null, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 20, "total_tokens": prompt_tokens + 20}
    });
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// Completion bodies in the shapes real servers send (fields beyond OpenAI's included).
pub mod recorded {
    /// Groq (`x_groq`, queue and timing fields in `usage`).
    pub const GROQ: &str = r#"{"id":"chatcmpl-7f3c","object":"chat.completion","created":1763625600,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":"{\"diagnosis\":\"Container app of Deployment shop/checkout is OOMKilled: the 256Mi memory limit is too low.\",\"facts\":[\"last terminated OOMKilled (exit 137)\",\"java.lang.OutOfMemoryError: Java heap space\"],\"confidence\":0.72,\"proposals\":[{\"kind\":\"restart_deployment\",\"namespace\":\"shop\",\"name\":\"checkout\",\"params\":{\"replicas\":null,\"to_revision\":null},\"reason\":\"A restart frees the heap until the limit is raised.\"}],\"suspicious_input\":[]}"},"logprobs":null,"finish_reason":"stop"}],"usage":{"queue_time":0.021,"prompt_tokens":1893,"prompt_time":0.11,"completion_tokens":121,"completion_time":0.44,"total_tokens":2014,"total_time":0.55},"system_fingerprint":"fp_9a8b91ba77","x_groq":{"id":"req_01jf"}}"#;

    /// Ollama's OpenAI-compatible endpoint.
    pub const OLLAMA: &str = r#"{"id":"chatcmpl-412","object":"chat.completion","created":1763625600,"model":"test-model","system_fingerprint":"fp_ollama","choices":[{"index":0,"message":{"role":"assistant","content":"{\"diagnosis\":\"checkout is being OOMKilled\",\"facts\":[\"OOMKilled (exit 137)\"],\"confidence\":0.6,\"proposals\":[{\"kind\":\"restart_deployment\",\"namespace\":\"shop\",\"name\":\"checkout\",\"params\":{\"replicas\":null,\"to_revision\":null},\"reason\":\"restart\"}],\"suspicious_input\":[]}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1500,"completion_tokens":80,"total_tokens":1580}}"#;

    /// llama.cpp's `llama-server` (`timings`, no `system_fingerprint`, content in a code fence).
    pub const LLAMA_CPP: &str = r#"{"choices":[{"finish_reason":"stop","index":0,"message":{"role":"assistant","content":"```json\n{\"diagnosis\":\"checkout OOMKilled\",\"facts\":[],\"confidence\":0.5,\"proposals\":[{\"kind\":\"restart_deployment\",\"namespace\":\"shop\",\"name\":\"checkout\",\"params\":{\"replicas\":null,\"to_revision\":null},\"reason\":\"restart\"}],\"suspicious_input\":[]}\n```"}}],"created":1763625600,"model":"test-model","object":"chat.completion","usage":{"completion_tokens":70,"prompt_tokens":1400,"total_tokens":1470},"id":"chatcmpl-Xy","timings":{"prompt_n":1400,"prompt_ms":900.1,"predicted_n":70,"predicted_ms":2100.5}}"#;

    /// vLLM (`reasoning_content`, `stop_reason`, `prompt_logprobs`).
    pub const VLLM: &str = r#"{"id":"chatcmpl-b1","object":"chat.completion","created":1763625600,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant","reasoning_content":null,"content":"{\"diagnosis\":\"checkout is OOMKilled\",\"facts\":[\"exit 137\"],\"confidence\":0.66,\"proposals\":[{\"kind\":\"restart_deployment\",\"namespace\":\"shop\",\"name\":\"checkout\",\"params\":{\"replicas\":null,\"to_revision\":null},\"reason\":\"restart\"}],\"suspicious_input\":[]}","tool_calls":[]},"logprobs":null,"finish_reason":"stop","stop_reason":null}],"usage":{"prompt_tokens":1601,"total_tokens":1690,"completion_tokens":89,"prompt_tokens_details":null},"prompt_logprobs":null}"#;
}
