//! The OpenAI-compatible chat completions call: one request, one classified outcome.
//!
//! `POST {base_url}/chat/completions` with a bearer key (when there is one), the model, a system
//! and a user message, `temperature: 0`, `max_tokens` and a `response_format`. This works against
//! OpenAI, Groq, Ollama, vLLM and llama.cpp's server. The answer body is read up to a cap; errors
//! are sorted into what the caller branches on (retry, wait, give up), and a provider's error text
//! is redacted and shortened before it goes anywhere. TLS is rustls with the ring provider.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::Secret;
use crate::domain::redact::redact;

/// Largest answer body read; a bigger one is malformed (no model answer to Mimi is that long).
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

pub(crate) struct ChatClient {
    pub(super) http: reqwest::Client,
    pub(super) endpoint: String,
    pub(super) model: String,
    pub(super) api_key: Option<Secret>,
    pub(super) timeout: Duration,
}

/// What one call asks.
pub(super) struct ChatRequest<'a> {
    pub system: &'a str,
    pub user: &'a str,
    pub max_tokens: u32,
    pub response_format: Option<Value>,
}

/// What one call answered.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Completion {
    pub content: Option<String>,
    pub refusal: Option<String>,
    pub finish_reason: Option<String>,
    /// Tokens the server says it used (prompt + completion), when it says.
    pub tokens: Option<u64>,
}

/// Why a call gave no completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallError {
    Timeout,
    /// No HTTP answer: connection refused, reset, DNS.
    Connect(String),
    /// 429; wait at least `retry_after` before calling again.
    RateLimited {
        retry_after: Option<Duration>,
    },
    /// 5xx.
    Server {
        status: u16,
    },
    /// Another 4xx: a configuration problem (key, model, request shape); retrying will not help.
    Rejected {
        status: u16,
        message: String,
    },
    /// 2xx whose body is not a chat completion.
    Malformed(String),
}

impl ChatClient {
    pub(crate) fn new(
        endpoint: String,
        model: String,
        api_key: Option<Secret>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        // reqwest is built without a default crypto provider (no aws-lc); use ring, once per process.
        crate::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mimi/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(ChatClient { http, endpoint, model, api_key, timeout })
    }

    pub(super) fn model(&self) -> &str {
        &self.model
    }

    /// The request body as sent (also used by tests of the prompt).
    pub(super) fn body(&self, req: &ChatRequest<'_>) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": req.system},
                {"role": "user", "content": req.user},
            ],
            "temperature": 0,
            "max_tokens": req.max_tokens,
            "stream": false,
        });
        if let Some(format) = &req.response_format {
            body["response_format"] = format.clone();
        }
        body
    }

    pub(super) async fn complete(&self, req: &ChatRequest<'_>) -> Result<Completion, CallError> {
        // reqwest's own timeout covers connect, send and body; this one is a backstop.
        let call = self.call(req);
        match tokio::time::timeout(self.timeout + Duration::from_millis(250), call).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Timeout),
        }
    }

    async fn call(&self, req: &ChatRequest<'_>) -> Result<Completion, CallError> {
        let body = self.post(&self.body(req)).await?;
        parse_completion(&body)
    }

    /// POSTs `body` to the endpoint and returns the 2xx answer body (read up to a cap), or the
    /// classified failure. Shared by single completions and tool conversations.
    pub(super) async fn post(&self, body: &Value) -> Result<Vec<u8>, CallError> {
        let mut request = self.http.post(&self.endpoint).json(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose());
        }
        let mut resp = request.send().await.map_err(|e| self.transport(&e))?;
        let status = resp.status().as_u16();
        if status == 429 {
            return Err(CallError::RateLimited { retry_after: retry_after(resp.headers()) });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(&e))? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_BODY_BYTES {
                return Err(CallError::Malformed(format!("answer body larger than {MAX_BODY_BYTES} bytes")));
            }
        }
        match status {
            200..=299 => Ok(bytes),
            500..=599 => Err(CallError::Server { status }),
            _ => Err(CallError::Rejected { status, message: self.error_message(&bytes) }),
        }
    }

    fn transport(&self, e: &reqwest::Error) -> CallError {
        if e.is_timeout() {
            CallError::Timeout
        } else if e.is_connect() {
            CallError::Connect("could not connect to the LLM server".into())
        } else {
            CallError::Connect("the connection to the LLM server failed".into())
        }
    }

    /// The provider's `{"error": {"message": ...}}`, shortened, redacted, the key never repeated.
    fn error_message(&self, body: &[u8]) -> String {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let text = parsed
            .as_ref()
            .and_then(|v| v.pointer("/error/message").or_else(|| v.get("error")).or_else(|| v.get("message")))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
        let mut text: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
        if let Some(key) = self.api_key.as_ref().filter(|k| k.expose().len() >= 4) {
            text = text.replace(key.expose(), "[REDACTED:api_key]");
        }
        redact(&text).0
    }
}

#[derive(Deserialize)]
struct Response {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

fn parse_completion(body: &[u8]) -> Result<Completion, CallError> {
    let resp: Response = serde_json::from_slice(body)
        .map_err(|e| CallError::Malformed(format!("not a chat completion: {}", short(&e.to_string()))))?;
    let Some(choice) = resp.choices.into_iter().next() else {
        return Err(CallError::Malformed("the completion has no choices".into()));
    };
    let tokens = resp
        .usage
        .and_then(|u| u.total_tokens.or_else(|| Some(u.prompt_tokens.unwrap_or(0) + u.completion_tokens.unwrap_or(0))));
    Ok(Completion {
        content: choice.message.content,
        refusal: choice.message.refusal.filter(|r| !r.trim().is_empty()),
        finish_reason: choice.finish_reason,
        tokens: tokens.filter(|t| *t > 0),
    })
}

/// `Retry-After` (seconds or an HTTP date) or OpenAI's `retry-after-ms`.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite()) {
        return Some(Duration::from_millis(ms.clamp(0.0, 86_400_000.0) as u64));
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
    {
        return Some(Duration::from_millis((secs.clamp(0.0, 86_400.0) * 1000.0) as u64));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?;
    let wait = at.timestamp().duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

fn short(s: &str) -> String {
    s.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completion_with_extra_fields_parses() {
        // Groq adds x_groq; llama.cpp adds timings; OpenAI adds system_fingerprint and logprobs.
        let body = br#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m",
            "choices":[{"index":0,"message":{"role":"assistant","content":"{}","refusal":null},
            "logprobs":null,"finish_reason":"stop"}],
            "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15},
            "system_fingerprint":"fp_1","x_groq":{"id":"req_1"},"timings":{"predicted_ms":1.0}}"#;
        let c = parse_completion(body).unwrap();
        assert_eq!(c.content.as_deref(), Some("{}"));
        assert_eq!(c.refusal, None);
        assert_eq!(c.tokens, Some(15));
        assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn bodies_that_are_not_completions_are_malformed() {
        for body in [&b"<html>bad gateway</html>"[..], b"{}", b"{\"choices\":[]}", b"{\"choices\":[{}]}"] {
            assert!(matches!(parse_completion(body), Err(CallError::Malformed(_))), "{body:?}");
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds_milliseconds_or_as_a_date() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", "30".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(30)));
        h.insert("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::ZERO), "a date in the past: no wait");
        h.insert("retry-after-ms", "1500".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn the_request_has_the_openai_shape() {
        let client =
            ChatClient::new("http://127.0.0.1:1/v1/chat/completions".into(), "m".into(), None, Duration::from_secs(1))
                .unwrap();
        let format = json!({"type": "json_object"});
        let req = ChatRequest { system: "s", user: "u", max_tokens: 512, response_format: Some(format.clone()) };
        let body = client.body(&req);
        assert_eq!(body["model"], "m");
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][1]["role"], "user");
        assert_eq!(body["temperature"], 0);
        assert_eq!(body["max_tokens"], 512);
        assert_eq!(body["response_format"], format);
    }
}
