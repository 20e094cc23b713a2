//! A recording fake sink for tests and the delivery benchmark: records every call, and can be
//! down, rate-limit with a retry-after, answer slowly, find sent messages by key (Slack-like
//! reconciliation) or treat a repeated key as the same message (Matrix-like transaction ids).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::message::Rendered;
use super::sink::{Action, Capabilities, LimitScope, MessageId, Outgoing, Sink, SinkError};
use crate::domain::approver::Platform;

/// One call the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: Instant,
    pub key: String,
    pub target: String,
    /// `post`, `edit` or `reply`.
    pub kind: &'static str,
    /// The message edited, or the thread root replied in.
    pub of: Option<String>,
    pub message: Rendered,
    /// What the fake answered: the id, or the error.
    pub result: Result<String, SinkError>,
}

impl Call {
    pub fn ok(&self) -> bool {
        self.result.is_ok()
    }
}

/// Scripted behaviour of the fake.
#[derive(Default)]
struct Script {
    /// Answers taken one per call before the normal behaviour.
    next: VecDeque<SinkError>,
}

pub struct FakeSink {
    name: String,
    platform: Option<Platform>,
    caps: Capabilities,
    down: AtomicBool,
    delay_ms: AtomicU64,
    lookup_supported: AtomicBool,
    idempotent_keys: AtomicBool,
    script: Mutex<Script>,
    calls: Mutex<Vec<Call>>,
    /// Messages that exist on the "platform", by idempotency key.
    posted: Mutex<HashMap<String, String>>,
    seq: AtomicU64,
}

impl FakeSink {
    /// A chat-like fake named `name` (edits, threads).
    pub fn chat(name: &str) -> FakeSink {
        FakeSink {
            name: name.to_string(),
            platform: None,
            caps: Capabilities { edits: true, threads: true, chat: true },
            down: AtomicBool::new(false),
            delay_ms: AtomicU64::new(0),
            lookup_supported: AtomicBool::new(false),
            idempotent_keys: AtomicBool::new(false),
            script: Mutex::new(Script::default()),
            calls: Mutex::new(Vec::new()),
            posted: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
        }
    }

    /// Binds approvals to its messages as `platform` would.
    pub fn with_platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    pub fn with_capabilities(mut self, caps: Capabilities) -> Self {
        self.caps = caps;
        self
    }

    /// Every call fails as unavailable until `set_down(false)`.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// `lookup` finds messages by idempotency key (as Slack's message metadata allows).
    pub fn set_lookup(&self, on: bool) {
        self.lookup_supported.store(on, Ordering::SeqCst);
    }

    /// A repeated key is the same message, not a new one (Matrix transaction ids).
    pub fn set_idempotent_keys(&self, on: bool) {
        self.idempotent_keys.store(on, Ordering::SeqCst);
    }

    /// The next calls answer these errors, one each, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = SinkError>) {
        self.script.lock().unwrap().next.extend(errors);
    }

    /// The next call is rate limited for `retry_after`.
    pub fn rate_limit_next(&self, retry_after: Duration, scope: LimitScope) {
        self.fail_next([SinkError::RateLimited { retry_after, scope }]);
    }

    /// Pretends a message was delivered earlier (the "crash after send" half of B03).
    pub fn already_posted(&self, key: &str) -> String {
        let id = format!("{}-{}", self.name, self.seq.fetch_add(1, Ordering::SeqCst) + 1);
        self.posted.lock().unwrap().insert(key.to_string(), id.clone());
        id
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Successful calls only.
    pub fn delivered(&self) -> Vec<Call> {
        self.calls().into_iter().filter(Call::ok).collect()
    }
}

#[async_trait]
impl Sink for FakeSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn platform(&self) -> Option<Platform> {
        self.platform
    }

    fn capabilities(&self) -> Capabilities {
        self.caps
    }

    async fn send(&self, msg: &Outgoing<'_>) -> Result<MessageId, SinkError> {
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let scripted = self.script.lock().unwrap().next.pop_front();
        let result = match scripted {
            Some(err) => Err(err),
            None if self.down.load(Ordering::SeqCst) => Err(SinkError::Unavailable("fake sink is down".into())),
            None => {
                let mut posted = self.posted.lock().unwrap();
                match posted.get(msg.idempotency_key) {
                    Some(id) if self.idempotent_keys.load(Ordering::SeqCst) => Ok(id.clone()),
                    _ => {
                        let id = match msg.action {
                            Action::Edit { message } => message.to_string(),
                            _ => format!("{}-{}", self.name, self.seq.fetch_add(1, Ordering::SeqCst) + 1),
                        };
                        posted.insert(msg.idempotency_key.to_string(), id.clone());
                        Ok(id)
                    }
                }
            }
        };
        let (kind, of) = match msg.action {
            Action::Post => ("post", None),
            Action::Edit { message } => ("edit", Some(message.to_string())),
            Action::Reply { root, .. } => ("reply", Some(root.to_string())),
        };
        self.calls.lock().unwrap().push(Call {
            at: Instant::now(),
            key: msg.idempotency_key.to_string(),
            target: msg.target.to_string(),
            kind,
            of,
            message: msg.message.clone(),
            result: result.clone(),
        });
        result.map(MessageId)
    }

    async fn lookup(&self, msg: &Outgoing<'_>) -> Result<Option<MessageId>, SinkError> {
        if !self.lookup_supported.load(Ordering::SeqCst) {
            return Ok(None);
        }
        Ok(self.posted.lock().unwrap().get(msg.idempotency_key).cloned().map(MessageId))
    }
}
