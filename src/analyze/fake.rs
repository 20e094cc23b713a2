//! An analyzer that answers what it is told (tests of the engine, independent of any rule set).

use std::sync::Mutex;

use async_trait::async_trait;

use super::{AnalysisInput, AnalyzeError, Analyzer};
use crate::domain::analysis::Analysis;

/// Answers with a copy of `answer`, and remembers every input it was given.
pub struct FakeAnalyzer {
    answer: Result<Analysis, AnalyzeError>,
    seen: Mutex<Vec<AnalysisInput>>,
}

impl FakeAnalyzer {
    pub fn answering(answer: Result<Analysis, AnalyzeError>) -> Self {
        FakeAnalyzer { answer, seen: Mutex::new(Vec::new()) }
    }

    /// The inputs received so far.
    pub fn seen(&self) -> Vec<AnalysisInput> {
        self.seen.lock().expect("fake analyzer lock").clone()
    }
}

#[async_trait]
impl Analyzer for FakeAnalyzer {
    fn name(&self) -> String {
        "fake".into()
    }

    async fn analyze(&self, input: &AnalysisInput) -> Result<Analysis, AnalyzeError> {
        self.seen.lock().expect("fake analyzer lock").push(input.clone());
        self.answer.clone()
    }
}
