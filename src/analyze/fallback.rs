//! Precedence between analyzers (RELIABILITY B08): the LLM when it is configured and answers,
//! the runbook rules otherwise.
//!
//! [`WithFallback`] asks its primary (the LLM analyzer, which retries once by itself) within a
//! deadline; on any error — timeout, 5xx/429, invalid or refused output, budget used up — it asks
//! the fallback (the rules) and puts first among the flags why the primary was not used. The
//! analysis keeps the fallback's `analyzer` name, so it says which analyzer produced it, and the
//! time taken counts both. [`from_settings`] builds the analyzer the engine uses: the rules alone
//! when `[llm]` is not configured.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::llm::{LlmAnalyzer, LlmConfig};
use super::{AnalysisInput, AnalyzeError, Analyzer};
use crate::config::LlmSettings;
use crate::domain::analysis::Analysis;
use crate::strings::llm as s;

pub struct WithFallback {
    primary: Arc<dyn Analyzer>,
    fallback: Arc<dyn Analyzer>,
    deadline: Option<Duration>,
}

impl WithFallback {
    pub fn new(primary: Arc<dyn Analyzer>, fallback: Arc<dyn Analyzer>) -> Self {
        WithFallback { primary, fallback, deadline: None }
    }

    /// Gives up on the primary after `deadline` whatever it is doing.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }
}

#[async_trait]
impl Analyzer for WithFallback {
    fn name(&self) -> String {
        self.primary.name()
    }

    async fn analyze(&self, input: &AnalysisInput) -> Result<Analysis, AnalyzeError> {
        let started = tokio::time::Instant::now();
        let primary = match self.deadline {
            Some(d) => tokio::time::timeout(d, self.primary.analyze(input)).await.unwrap_or(Err(AnalyzeError::Timeout)),
            None => self.primary.analyze(input).await,
        };
        let why = match primary {
            Ok(analysis) => return Ok(analysis),
            Err(e) => e,
        };
        tracing::warn!(primary = %self.primary.name(), error = %why, "falling back to {}", self.fallback.name());
        let mut analysis = self.fallback.analyze(input).await?;
        analysis.flags.insert(0, s::not_used(&self.primary.name(), &why.to_string()));
        analysis.millis = started.elapsed().as_millis() as u64;
        Ok(analysis)
    }
}

/// The analyzer `[llm]` asks for: the LLM with `rules` as its fallback, or `rules` alone when no
/// LLM is configured. Call with validated settings.
pub fn from_settings(llm: &LlmSettings, rules: Arc<dyn Analyzer>) -> anyhow::Result<Arc<dyn Analyzer>> {
    let Some(config) = LlmConfig::from_settings(llm) else { return Ok(rules) };
    let deadline = config.worst_case() + Duration::from_millis(500);
    let primary = Arc::new(LlmAnalyzer::new(config)?);
    Ok(Arc::new(WithFallback::new(primary, rules).with_deadline(deadline)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::fake::FakeAnalyzer;

    fn analysis(analyzer: &str) -> Analysis {
        Analysis {
            diagnosis: "d".into(),
            facts: vec![],
            confidence: None,
            proposals: vec![],
            flags: vec![],
            analyzer: analyzer.into(),
            version: "v".into(),
            tokens: None,
            millis: 0,
        }
    }

    #[tokio::test]
    async fn the_primary_answers_when_it_can() {
        let rules = Arc::new(FakeAnalyzer::answering(Ok(analysis("rules"))));
        let llm = Arc::new(FakeAnalyzer::answering(Ok(analysis("llm:m"))));
        let a = WithFallback::new(llm, rules.clone()).analyze(&AnalysisInput::default()).await.unwrap();
        assert_eq!(a.analyzer, "llm:m");
        assert!(rules.seen().is_empty());
    }

    #[tokio::test]
    async fn b08_any_failure_gives_the_rules_analysis_saying_why() {
        for err in [
            AnalyzeError::Timeout,
            AnalyzeError::Unavailable("HTTP 503".into()),
            AnalyzeError::Invalid("not JSON".into()),
            AnalyzeError::Refused("no".into()),
            AnalyzeError::OverBudget("tokens_per_hour".into()),
        ] {
            let rules = Arc::new(FakeAnalyzer::answering(Ok(analysis("rules"))));
            let llm = Arc::new(FakeAnalyzer::answering(Err(err.clone())));
            let a = WithFallback::new(llm, rules.clone()).analyze(&AnalysisInput::default()).await.unwrap();
            assert_eq!(a.analyzer, "rules");
            assert!(a.flags[0].contains(&err.to_string()), "{:?}", a.flags);
            assert_eq!(rules.seen().len(), 1);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_primary_past_its_deadline_is_abandoned() {
        struct Stuck;
        #[async_trait]
        impl Analyzer for Stuck {
            fn name(&self) -> String {
                "llm:stuck".into()
            }
            async fn analyze(&self, _: &AnalysisInput) -> Result<Analysis, AnalyzeError> {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Err(AnalyzeError::Timeout)
            }
        }
        let rules = Arc::new(FakeAnalyzer::answering(Ok(analysis("rules"))));
        let a = WithFallback::new(Arc::new(Stuck), rules).with_deadline(Duration::from_secs(9));
        let started = tokio::time::Instant::now();
        let out = a.analyze(&AnalysisInput::default()).await.unwrap();
        assert_eq!(out.analyzer, "rules");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn without_llm_settings_the_rules_run_alone() {
        let rules: Arc<dyn Analyzer> = Arc::new(FakeAnalyzer::answering(Ok(analysis("rules"))));
        let built = from_settings(&LlmSettings::default(), rules).unwrap();
        assert_eq!(built.name(), "fake");
    }
}
