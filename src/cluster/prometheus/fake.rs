//! A `MetricsSource` with canned answers, for tests of whatever consumes metrics evidence.
//!
//! An answer is chosen by the first rule whose text occurs in the query; a query no rule matches
//! gets an empty result (no data). Sample times of zero or less are relative to the evaluation
//! time (the range's end): `-60.0` is a minute before it. Every query is recorded.

use std::sync::Mutex;

use async_trait::async_trait;

use super::{MetricsError, MetricsSource, Series, TimeRange};

#[derive(Debug, Default)]
pub struct FakeMetrics {
    rules: Vec<(String, Result<Vec<Series>, MetricsError>)>,
    queries: Mutex<Vec<String>>,
    delay: Option<std::time::Duration>,
}

impl FakeMetrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queries containing `text` return `series`.
    pub fn answer(mut self, text: &str, series: Vec<Series>) -> Self {
        self.rules.push((text.to_string(), Ok(series)));
        self
    }

    /// Queries containing `text` fail with `error` (`""` matches every query).
    pub fn fail(mut self, text: &str, error: MetricsError) -> Self {
        self.rules.push((text.to_string(), Err(error)));
        self
    }

    /// Every answer takes `delay` (tokio time, so paused-clock tests stay instant).
    pub fn slow(mut self, delay: std::time::Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// The queries asked so far, in order.
    pub fn queries(&self) -> Vec<String> {
        self.queries.lock().expect("fake lock").clone()
    }

    fn answer_for(&self, promql: &str, at: f64) -> Result<Vec<Series>, MetricsError> {
        self.queries.lock().expect("fake lock").push(promql.to_string());
        let rule = self.rules.iter().find(|(text, _)| promql.contains(text.as_str()));
        let mut series = match rule {
            Some((_, answer)) => answer.clone()?,
            None => return Ok(Vec::new()),
        };
        for s in &mut series {
            for (t, _) in &mut s.samples {
                if *t <= 0.0 {
                    *t += at;
                }
            }
        }
        Ok(series)
    }
}

#[async_trait]
impl MetricsSource for FakeMetrics {
    async fn query(&self, promql: &str, at: f64) -> Result<Vec<Series>, MetricsError> {
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        self.answer_for(promql, at).map(|mut all| {
            // An instant query has one sample per series: the latest.
            for s in &mut all {
                s.samples = s.samples.last().map(|(_, v)| (at, *v)).into_iter().collect();
            }
            all
        })
    }

    async fn query_range(&self, promql: &str, range: TimeRange) -> Result<Vec<Series>, MetricsError> {
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        self.answer_for(promql, range.end)
    }
}
