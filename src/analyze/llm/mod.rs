//! The LLM analyzer: an OpenAI-compatible chat completions model (OpenAI, Groq, Ollama, vLLM,
//! llama.cpp) turns an incident's alerts and evidence into an [`Analysis`] (docs/llm.md).
//!
//! One analysis: look in the cache (same alerts, same evidence: no call) -> ask the governor
//! (pauses, token budgets) -> build the prompt (`prompt`: untrusted data fenced by a random id,
//! redacted again) -> call (`client`) -> parse strictly (`parse`) -> validate each proposal
//! (`proposals`) and clean every word (`text`) -> flag planted instructions (`injection`).
//! A timeout, 5xx, 429 with a short `Retry-After`, malformed or refused answer is retried once;
//! then the error goes to the caller, normally [`crate::analyze::WithFallback`], which asks the
//! runbook rules. The model advises only: the engine still checks targets, policy and dry runs.

mod budget;
mod cache;
mod client;
mod converse;
mod injection;
mod parse;
mod prompt;
mod proposals;
mod schema;
mod text;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

pub use budget::{Breaker, Limits};
pub use cache::fingerprint;
pub use prompt::PROMPT_VERSION;

use self::client::ChatRequest;
pub(crate) use self::client::{CallError, ChatClient};
use self::text::{Cleaner, quote};
use super::{AnalysisInput, AnalyzeError, Analyzer};
use crate::config::{LlmSettings, MAX_RETRY_WAIT_SECONDS, Secret, StructuredOutput};
use crate::domain::analysis::Analysis;
use crate::strings::llm as s;

const MAX_DIAGNOSIS_CHARS: usize = 800;
const MAX_FACTS: usize = 12;
const MAX_FACT_CHARS: usize = 300;
const MAX_FLAGS: usize = 16;

/// Everything the LLM analyzer needs; [`LlmConfig::from_settings`] makes one from `[llm]`.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// The full URL of the chat completions endpoint.
    pub endpoint: String,
    pub model: String,
    pub api_key: Option<Secret>,
    /// Upper bound on one request.
    pub timeout: Duration,
    pub max_tokens: u32,
    pub structured_output: StructuredOutput,
    pub limits: Limits,
    pub breaker: Breaker,
    pub cache_entries: usize,
    pub cache_ttl: Duration,
    /// The longest 429 `Retry-After` waited out before the one retry.
    pub max_retry_wait: Duration,
}

impl LlmConfig {
    /// The configuration of validated `[llm]` settings; `None` when no LLM is configured.
    pub fn from_settings(l: &LlmSettings) -> Option<LlmConfig> {
        Some(LlmConfig {
            endpoint: l.endpoint()?,
            model: l.model.clone()?,
            api_key: l.api_key.clone(),
            timeout: Duration::from_secs(l.timeout_seconds),
            max_tokens: l.max_tokens,
            structured_output: l.structured_output,
            limits: Limits {
                per_incident: l.budget.tokens_per_incident,
                per_hour: l.budget.tokens_per_hour,
                per_day: l.budget.tokens_per_day,
            },
            breaker: Breaker::default(),
            cache_entries: l.cache_entries,
            cache_ttl: Duration::from_secs(l.cache_ttl_minutes * 60),
            max_retry_wait: Duration::from_secs(MAX_RETRY_WAIT_SECONDS),
        })
    }

    /// The longest one analysis can take: two attempts and the wait between them.
    pub fn worst_case(&self) -> Duration {
        2 * (self.timeout + Duration::from_millis(250)) + self.max_retry_wait
    }
}

pub struct LlmAnalyzer {
    config: LlmConfig,
    client: ChatClient,
    governor: budget::Governor,
    cache: cache::Cache,
    /// Set when the server refused `json_schema`: JSON mode from then on.
    schema_unsupported: AtomicBool,
}

/// How one attempt went wrong.
enum Failure {
    Call(CallError),
    Answer(AnalyzeError),
}

impl LlmAnalyzer {
    pub fn new(config: LlmConfig) -> anyhow::Result<Self> {
        let client =
            ChatClient::new(config.endpoint.clone(), config.model.clone(), config.api_key.clone(), config.timeout)
                .map_err(|e| anyhow::anyhow!("failed to build the HTTP client for the LLM: {e}"))?;
        Ok(LlmAnalyzer {
            governor: budget::Governor::new(config.limits, config.breaker),
            cache: cache::Cache::new(config.cache_entries, config.cache_ttl),
            schema_unsupported: AtomicBool::new(false),
            client,
            config,
        })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// The configured mode, or JSON mode once the server has refused schemas.
    fn structured_output(&self) -> StructuredOutput {
        match self.config.structured_output {
            StructuredOutput::JsonSchema if self.schema_unsupported.load(Ordering::Relaxed) => {
                StructuredOutput::JsonObject
            }
            mode => mode,
        }
    }

    /// The analysis of one usable answer, or why it is not usable.
    fn analysis(&self, completion: &client::Completion, input: &AnalysisInput) -> Result<Analysis, AnalyzeError> {
        let answer = parse::answer(completion)?;
        let mut cleaner = Cleaner::default();
        let mut flags = answer.flags;
        let diagnosis = cleaner.clean(&answer.diagnosis, MAX_DIAGNOSIS_CHARS);
        if diagnosis.trim().is_empty() {
            return Err(AnalyzeError::Invalid(s::field_problem("diagnosis", "is empty")));
        }
        let facts = answer
            .facts
            .iter()
            .map(|f| cleaner.clean(f, MAX_FACT_CHARS))
            .filter(|f| !f.trim().is_empty())
            .take(MAX_FACTS)
            .collect();
        let proposals = proposals::validate(&answer.proposals, input, &mut cleaner, &mut flags);
        flags.extend(injection::planted_instructions(input).iter().map(|q| s::flag_planted(q)));
        flags.extend(answer.suspicious.iter().take(3).map(|q| s::flag_model_noticed(&quote(q, 100))));
        flags.extend(cleaner.flags());
        flags.truncate(MAX_FLAGS);
        Ok(Analysis {
            diagnosis,
            facts,
            confidence: answer.confidence,
            proposals,
            flags,
            analyzer: self.name(),
            version: PROMPT_VERSION.to_string(),
            tokens: None,
            millis: 0,
        })
    }

    /// The error a failed attempt means for the caller.
    fn error_of(failure: &Failure) -> AnalyzeError {
        match failure {
            Failure::Answer(e) => e.clone(),
            Failure::Call(CallError::Timeout) => AnalyzeError::Timeout,
            Failure::Call(CallError::Connect(m)) => AnalyzeError::Unavailable(m.clone()),
            Failure::Call(CallError::Server { status }) => AnalyzeError::Unavailable(s::http_status(*status)),
            Failure::Call(CallError::Rejected { status, message }) => {
                AnalyzeError::Unavailable(s::rejected(*status, message))
            }
            Failure::Call(CallError::Malformed(m)) => AnalyzeError::Invalid(m.clone()),
            Failure::Call(CallError::RateLimited { retry_after }) => {
                AnalyzeError::Unavailable(s::rate_limited(retry_after.unwrap_or_default().as_secs()))
            }
        }
    }

    /// After a first failed attempt: how long to wait before the one retry, or `None` for no retry
    /// (a rejected request, or a rate limit longer than `max_retry_wait`, which pauses the LLM).
    fn retry_after(&self, failure: &Failure, mode: StructuredOutput) -> Option<Duration> {
        match failure {
            Failure::Call(CallError::Rejected { status: 400, message })
                if mode == StructuredOutput::JsonSchema
                    && (message.contains("json_schema") || message.contains("response_format")) =>
            {
                tracing::warn!(model = %self.config.model, "the LLM server does not support JSON schemas; \
                    using JSON mode (set llm.structured_output = \"json_object\")");
                self.schema_unsupported.store(true, Ordering::Relaxed);
                Some(Duration::ZERO)
            }
            Failure::Call(CallError::Rejected { .. }) => None,
            Failure::Call(CallError::RateLimited { retry_after }) => {
                let wait = retry_after.unwrap_or(Duration::from_secs(1));
                if wait <= self.config.max_retry_wait {
                    return Some(wait);
                }
                self.governor.pause(Instant::now() + wait, s::rate_limited(wait.as_secs()));
                None
            }
            _ => Some(Duration::ZERO),
        }
    }

    /// After the retry failed too: a rate limit still pauses the LLM.
    fn give_up(&self, failure: &Failure) -> Option<Duration> {
        if let Failure::Call(CallError::RateLimited { retry_after }) = failure {
            let wait = retry_after.unwrap_or(Duration::from_secs(1));
            self.governor.pause(Instant::now() + wait, s::rate_limited(wait.as_secs()));
        }
        None
    }
}

/// Tokens one call cost: what the server reports, else an estimate; a timed-out call counts as
/// fully spent (the server may have worked on it), a refused one as free.
fn tokens_used(call: &Result<client::Completion, CallError>, prompt_bytes: usize, estimate: u64) -> u64 {
    match call {
        Ok(c) => c.tokens.unwrap_or_else(|| {
            budget::estimate(prompt_bytes, 0) + (c.content.as_ref().map_or(0, String::len) as u64).div_ceil(3)
        }),
        Err(CallError::Timeout) => estimate,
        Err(_) => 0,
    }
}

#[async_trait]
impl Analyzer for LlmAnalyzer {
    fn name(&self) -> String {
        format!("llm:{}", self.client.model())
    }

    async fn analyze(&self, input: &AnalysisInput) -> Result<Analysis, AnalyzeError> {
        let started = Instant::now();
        let key = cache::key(input, &self.config.model, PROMPT_VERSION);
        if let Some(mut hit) = self.cache.get(&key, started) {
            hit.tokens = Some(0);
            hit.millis = started.elapsed().as_millis() as u64;
            hit.flags.push(s::FLAG_CACHED.to_string());
            return Ok(hit);
        }
        self.governor.admit(started)?;

        let user = prompt::user(input, &prompt::block_id());
        let prompt_bytes = prompt::system().len() + user.len();
        let estimate = budget::estimate(prompt_bytes, self.config.max_tokens);
        let incident = cache::incident(input);
        let mut tokens = 0u64;
        let mut first_error: Option<AnalyzeError> = None;

        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let reservation = self.governor.reserve(Instant::now(), incident, estimate)?;
            let mode = self.structured_output();
            let request = ChatRequest {
                system: prompt::system(),
                user: &user,
                max_tokens: self.config.max_tokens,
                response_format: schema::response_format(mode),
            };
            let call = self.client.complete(&request).await;
            let used = tokens_used(&call, prompt_bytes, estimate);
            self.governor.settle(reservation, used);
            tokens += used;

            let failure = match call {
                Ok(completion) => match self.analysis(&completion, input) {
                    Ok(mut analysis) => {
                        self.governor.outcome(Instant::now(), false);
                        if let Some(first) = &first_error {
                            analysis.flags.push(s::flag_retried(&first.to_string()));
                        }
                        analysis.tokens = Some(u32::try_from(tokens).unwrap_or(u32::MAX));
                        analysis.millis = started.elapsed().as_millis() as u64;
                        self.cache.put(key, Instant::now(), analysis.clone());
                        tracing::info!(model = %self.config.model, attempt, tokens, millis = analysis.millis,
                            proposals = analysis.proposals.len(), flags = analysis.flags.len(), "LLM analysis");
                        return Ok(analysis);
                    }
                    Err(e) => Failure::Answer(e),
                },
                Err(e) => Failure::Call(e),
            };
            let error = Self::error_of(&failure);
            tracing::warn!(model = %self.config.model, attempt, error = %error, "LLM analysis failed");
            let provider_failed = matches!(
                failure,
                Failure::Call(
                    CallError::Timeout | CallError::Connect(_) | CallError::Server { .. } | CallError::Rejected { .. }
                )
            );
            let retry = if attempt == 1 { self.retry_after(&failure, mode) } else { self.give_up(&failure) };
            match retry {
                Some(wait) => {
                    tokio::time::sleep(wait).await;
                    first_error = Some(error);
                }
                _ => {
                    self.governor.outcome(Instant::now(), provider_failed);
                    return Err(error);
                }
            }
        }
    }
}
