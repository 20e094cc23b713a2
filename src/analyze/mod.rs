//! Analyzers turn an incident's alerts and evidence into an [`Analysis`]: a diagnosis, the facts it
//! rests on, a confidence and proposed actions. They advise; the engine validates every proposal
//! (catalogue, target exists, policy, dry run) before anything can be approved.
//!
//! Implementations: `rules` (runbook rules, the default, no network) and `llm` (an
//! OpenAI-compatible model, falling back to the rules whenever it fails). `fake` answers what a
//! test tells it to.

pub mod fake;
pub mod fallback;
pub mod llm;
pub mod rules;

use async_trait::async_trait;

use crate::cluster::evidence::Evidence;
use crate::domain::action::ActionKind;
use crate::domain::analysis::{AlertView, Analysis, SimilarIncident};

pub use fallback::{WithFallback, from_settings};

/// Everything an analyzer may look at. All of it is untrusted data, never instructions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalysisInput {
    pub cluster: String,
    pub alerts: Vec<AlertView>,
    /// The structured evidence, when the cluster could be read.
    pub evidence: Option<Evidence>,
    /// The evidence as text, within the budget (what an LLM is shown).
    pub evidence_text: String,
    pub similar: Vec<SimilarIncident>,
    /// Runbook excerpts about this kind of incident (the knowledge base): reference text.
    pub runbooks: Vec<String>,
    /// What the alerting rule allows (`mimi_allowed_actions`); `None`: anything in the catalogue.
    pub allowed: Option<Vec<ActionKind>>,
}

/// Why an analyzer gave no analysis. The engine then falls back (to the rules) or says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyzeError {
    #[error("the analyzer did not answer in time")]
    Timeout,
    #[error("the analyzer is unavailable: {0}")]
    Unavailable(String),
    #[error("the analyzer's answer was not usable: {0}")]
    Invalid(String),
    #[error("the analyzer refused: {0}")]
    Refused(String),
    #[error("the analyzer's budget is used up: {0}")]
    OverBudget(String),
}

/// The analyzer the settings ask for: the runbook rules, behind the LLM (with fallback to the rules)
/// when `[llm]` is configured.
pub fn configured(settings: &crate::config::Settings) -> anyhow::Result<std::sync::Arc<dyn Analyzer>> {
    let rules: std::sync::Arc<dyn Analyzer> = std::sync::Arc::new(rules::RuleAnalyzer::from_settings(settings)?);
    fallback::from_settings(&settings.llm, rules)
}

#[async_trait]
pub trait Analyzer: Send + Sync {
    /// "rules", or "llm:<model>".
    fn name(&self) -> String;
    async fn analyze(&self, input: &AnalysisInput) -> Result<Analysis, AnalyzeError>;
}
