//! `[llm]`: an OpenAI-compatible chat completions server that analyses incidents (docs/llm.md).
//!
//! Off unless `base_url` and `model` are set; the runbook rules analyse every incident then. When
//! it is on, the rules still answer whenever the model fails (timeout, 5xx/429, invalid or refused
//! output, budget used up). The API key is a [`Secret`], from the file, `MIMI__LLM__API_KEY`, or
//! `api_key_file`; servers without authentication (Ollama, llama.cpp, vLLM) need none.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Secret;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    /// The API root, e.g. `https://api.groq.com/openai/v1`; `/chat/completions` is appended.
    pub base_url: Option<String>,
    /// The model name as the server knows it, e.g. `llama-3.3-70b-versatile`.
    pub model: Option<String>,
    pub api_key: Option<Secret>,
    pub api_key_file: Option<PathBuf>,
    /// Upper bound on one request; a failed request is retried once, so the runbook rules answer
    /// after at most twice this (RELIABILITY B08 expects 10 s).
    pub timeout_seconds: u64,
    /// Most tokens the model may write in one answer.
    pub max_tokens: u32,
    /// How the answer's shape is enforced: `json_schema` (strict schema), `json_object` (JSON mode,
    /// for servers without schema support) or `none`.
    pub structured_output: StructuredOutput,
    pub budget: LlmBudgetSettings,
    /// Analyses remembered, keyed by (alert fingerprints, evidence hash); 0 turns the cache off.
    pub cache_entries: usize,
    /// How long a remembered analysis is reused.
    pub cache_ttl_minutes: u64,
}

impl Default for LlmSettings {
    fn default() -> Self {
        LlmSettings {
            base_url: None,
            model: None,
            api_key: None,
            api_key_file: None,
            timeout_seconds: 4,
            max_tokens: 1024,
            structured_output: StructuredOutput::JsonSchema,
            budget: LlmBudgetSettings::default(),
            cache_entries: 256,
            cache_ttl_minutes: 24 * 60,
        }
    }
}

/// Token budgets; past any of them the runbook rules answer instead (no call is made).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmBudgetSettings {
    /// Tokens one incident (its alert fingerprints) may use in 24 hours, retries included.
    pub tokens_per_incident: u64,
    /// Tokens in any sliding hour.
    pub tokens_per_hour: u64,
    /// Tokens in any sliding 24 hours.
    pub tokens_per_day: u64,
}

impl Default for LlmBudgetSettings {
    fn default() -> Self {
        LlmBudgetSettings { tokens_per_incident: 16_000, tokens_per_hour: 200_000, tokens_per_day: 1_000_000 }
    }
}

/// How the answer's JSON shape is requested (`response_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutput {
    /// `{"type": "json_schema", "json_schema": {"strict": true, ...}}` (OpenAI, Groq, vLLM, llama.cpp, Ollama).
    JsonSchema,
    /// `{"type": "json_object"}`: any JSON object; Mimi checks the shape itself.
    JsonObject,
    /// No `response_format` at all (old servers); the prompt alone asks for JSON.
    None,
}

impl StructuredOutput {
    pub fn as_str(self) -> &'static str {
        match self {
            StructuredOutput::JsonSchema => "json_schema",
            StructuredOutput::JsonObject => "json_object",
            StructuredOutput::None => "none",
        }
    }
}

impl LlmSettings {
    /// Whether an LLM is configured (either key set; validation insists on both).
    pub fn enabled(&self) -> bool {
        self.base_url.is_some() || self.model.is_some()
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> Option<String> {
        self.base_url.as_deref().map(|b| format!("{}/chat/completions", b.trim_end_matches('/')))
    }

    /// What `mimi check` says about the analyzer.
    pub fn describe(&self) -> String {
        match (self.model.as_deref(), self.base_url.as_deref()) {
            (Some(model), Some(base)) => crate::strings::llm::check_llm(
                model,
                base,
                self.structured_output.as_str(),
                self.worst_case_seconds(),
                self.budget.tokens_per_hour,
            ),
            _ => crate::strings::llm::check_rules_only(),
        }
    }

    /// Warnings for `mimi check`: a slow fallback, a key sent in clear text.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.enabled() && self.worst_case_seconds() > 10 {
            w.push(crate::strings::llm::warn_slow_fallback(self.worst_case_seconds()));
        }
        if sends_key_in_clear(self) {
            w.push(crate::strings::llm::WARN_KEY_IN_CLEAR.to_string());
        }
        w
    }

    /// The longest the LLM can hold an analysis up before the rules answer: two attempts and the
    /// longest wait for a rate limit between them.
    pub fn worst_case_seconds(&self) -> u64 {
        2 * self.timeout_seconds + MAX_RETRY_WAIT_SECONDS
    }
}

/// The longest Mimi waits on a 429's `Retry-After` before its one retry; longer: the rules answer.
pub const MAX_RETRY_WAIT_SECONDS: u64 = 2;

/// Checks `[llm]`, naming the key of every problem.
pub(super) fn validate(l: &LlmSettings, err: &mut impl FnMut(&str, String)) {
    if !l.enabled() {
        if l.api_key.is_some() {
            err("llm.base_url", "llm.api_key is set but no llm.base_url / llm.model: set both to use an LLM".into());
        }
        return;
    }
    match l.base_url.as_deref() {
        None => err("llm.base_url", "is required with llm.model, e.g. \"https://api.openai.com/v1\"".into()),
        Some(url) => {
            if let Err(msg) = check_base_url(url) {
                err("llm.base_url", msg);
            }
        }
    }
    match l.model.as_deref() {
        None => err("llm.model", "is required with llm.base_url, e.g. \"gpt-4o-mini\"".into()),
        Some(m) if m.trim().is_empty() || m.len() > 200 || m.chars().any(char::is_control) => {
            err("llm.model", format!("{m:?} is not a model name (1-200 printable characters)"))
        }
        Some(_) => {}
    }
    if l.api_key.as_ref().is_some_and(Secret::is_empty) {
        err("llm.api_key", "is empty (leave it out for servers without authentication)".into());
    }
    range(err, "llm.timeout_seconds", l.timeout_seconds, 1, 300);
    range(err, "llm.max_tokens", l.max_tokens.into(), 128, 32_768);
    range(err, "llm.cache_entries", l.cache_entries as u64, 0, 100_000);
    range(err, "llm.cache_ttl_minutes", l.cache_ttl_minutes, 1, 7 * 24 * 60);
    let b = &l.budget;
    if b.tokens_per_incident < 2 * u64::from(l.max_tokens) {
        err(
            "llm.budget.tokens_per_incident",
            format!(
                "must be at least twice llm.max_tokens ({}), to leave room for the prompt; got {}",
                2 * u64::from(l.max_tokens),
                b.tokens_per_incident
            ),
        );
    }
    if b.tokens_per_hour < b.tokens_per_incident {
        err("llm.budget.tokens_per_hour", format!("must be at least tokens_per_incident ({})", b.tokens_per_incident));
    }
    if b.tokens_per_day < b.tokens_per_hour {
        err("llm.budget.tokens_per_day", format!("must be at least tokens_per_hour ({})", b.tokens_per_hour));
    }
}

/// `http(s)://host[:port][/path]`, without credentials, query or fragment.
fn check_base_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?} must start with https:// (or http:// for a local server)"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials; put the key in llm.api_key or llm.api_key_file".into());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("{url:?} must not have a query or fragment; give the API root, e.g. .../v1"));
    }
    if parsed.path().trim_end_matches('/').ends_with("/chat/completions") {
        return Err("give the API root (e.g. https://api.openai.com/v1); Mimi appends /chat/completions".into());
    }
    Ok(())
}

/// True when the key would travel in clear text to another machine (`mimi check` warns).
pub fn sends_key_in_clear(l: &LlmSettings) -> bool {
    let Some(url) = l.base_url.as_deref().and_then(|u| reqwest::Url::parse(u).ok()) else { return false };
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    url.scheme() == "http" && !loopback && l.api_key.is_some()
}

fn range(err: &mut impl FnMut(&str, String), key: &str, value: u64, min: u64, max: u64) {
    if value < min || value > max {
        err(key, format!("must be between {min} and {max}, got {value}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(l: &LlmSettings) -> Vec<String> {
        let mut out = Vec::new();
        validate(l, &mut |k: &str, m: String| out.push(format!("{k}: {m}")));
        out
    }

    fn on() -> LlmSettings {
        LlmSettings {
            base_url: Some("https://api.groq.com/openai/v1".into()),
            model: Some("llama-3.3-70b-versatile".into()),
            ..LlmSettings::default()
        }
    }

    #[test]
    fn off_by_default_and_valid_when_configured() {
        assert!(!LlmSettings::default().enabled());
        assert!(problems(&LlmSettings::default()).is_empty());
        assert!(problems(&on()).is_empty(), "{:?}", problems(&on()));
        assert_eq!(on().endpoint().unwrap(), "https://api.groq.com/openai/v1/chat/completions");
        assert_eq!(on().worst_case_seconds(), 10, "B08: rules within 10 s with the defaults");
        assert!(on().warnings().is_empty());
        assert!(on().describe().contains("llama-3.3-70b-versatile"));
        assert!(LlmSettings::default().describe().contains("runbook rules"));
        assert_eq!(LlmSettings { timeout_seconds: 30, ..on() }.warnings().len(), 1);
    }

    #[test]
    fn every_problem_names_its_key() {
        let cases: Vec<(LlmSettings, &str)> = vec![
            (LlmSettings { model: None, ..on() }, "llm.model"),
            (LlmSettings { base_url: None, ..on() }, "llm.base_url"),
            (LlmSettings { base_url: Some("ftp://x/v1".into()), ..on() }, "llm.base_url"),
            (LlmSettings { base_url: Some("not a url".into()), ..on() }, "llm.base_url"),
            (LlmSettings { base_url: Some("https://u:p@h/v1".into()), ..on() }, "llm.base_url"),
            (LlmSettings { base_url: Some("https://h/v1?key=x".into()), ..on() }, "llm.base_url"),
            (LlmSettings { base_url: Some("https://h/v1/chat/completions".into()), ..on() }, "llm.base_url"),
            (LlmSettings { model: Some(" ".into()), ..on() }, "llm.model"),
            (LlmSettings { api_key: Some(Secret::new(" ")), ..on() }, "llm.api_key"),
            (LlmSettings { timeout_seconds: 0, ..on() }, "llm.timeout_seconds"),
            (LlmSettings { max_tokens: 5, ..on() }, "llm.max_tokens"),
            (LlmSettings { cache_ttl_minutes: 0, ..on() }, "llm.cache_ttl_minutes"),
            (
                LlmSettings { budget: LlmBudgetSettings { tokens_per_incident: 100, ..Default::default() }, ..on() },
                "llm.budget.tokens_per_incident",
            ),
            (
                LlmSettings { budget: LlmBudgetSettings { tokens_per_hour: 1, ..Default::default() }, ..on() },
                "llm.budget.tokens_per_hour",
            ),
            (
                LlmSettings { budget: LlmBudgetSettings { tokens_per_day: 1, ..Default::default() }, ..on() },
                "llm.budget.tokens_per_day",
            ),
            (LlmSettings { api_key: Some(Secret::new("k")), ..LlmSettings::default() }, "llm.base_url"),
        ];
        for (settings, key) in cases {
            let found = problems(&settings);
            assert!(found.iter().any(|p| p.starts_with(&format!("{key}:"))), "{key}: {found:?}");
        }
    }

    #[test]
    fn a_key_over_plain_http_to_another_host_is_noticed() {
        let key = Some(Secret::new("k"));
        let remote = LlmSettings { base_url: Some("http://10.0.0.5:8000/v1".into()), api_key: key.clone(), ..on() };
        assert!(sends_key_in_clear(&remote));
        let local = LlmSettings { base_url: Some("http://127.0.0.1:11434/v1".into()), api_key: key.clone(), ..on() };
        assert!(!sends_key_in_clear(&local));
        let tls = LlmSettings { api_key: key, ..on() };
        assert!(!sends_key_in_clear(&tls));
    }
}
