//! RELIABILITY B08: whatever goes wrong with the provider, the incident gets the rules' analysis
//! within 10 s, after exactly one retry, saying why the LLM was not used; and the provider's own
//! signals (Retry-After, a rejected key, repeated failures) are honoured.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mimi::analyze::Analyzer;
use mimi::analyze::fake::FakeAnalyzer;
use mimi::analyze::llm::LlmConfig;
use mimi::config::{LlmSettings, Secret};
use serde_json::json;

use super::{answer, input, restart_checkout, rules_analysis, with_rules};
use crate::support::fake_llm::{FakeLlm, KEY, MODEL, Reply};

#[tokio::test]
async fn b08_every_failure_kind_gives_the_rules_analysis_after_exactly_one_retry() {
    let cases: Vec<(&str, Reply, &str)> = vec![
        ("timeout", Reply::Hang, "did not answer in time"),
        ("500", Reply::Status { status: 500, retry_after: None }, "HTTP 500"),
        ("503", Reply::Status { status: 503, retry_after: None }, "HTTP 503"),
        ("429 with a short Retry-After", Reply::Status { status: 429, retry_after: Some("1") }, "rate limiting"),
        ("malformed body", Reply::Malformed("<html>502 Bad Gateway</html>".into()), "not a chat completion"),
        ("content not JSON", Reply::Answer("The checkout pod is out of memory.".into()), "not JSON"),
        (
            "wrong types",
            Reply::Answer(r#"{"diagnosis":1,"facts":[],"confidence":1,"proposals":[]}"#.into()),
            "not text",
        ),
        ("refusal field", Reply::Refusal("I'm sorry, I can't assist with that.".into()), "refused"),
        ("refusal prose", Reply::Answer("I can't help with that.".into()), "refused"),
    ];
    for (what, reply, why) in cases {
        let fake = FakeLlm::start(reply).await;
        let (analyzer, rules) = with_rules(fake.config());
        let started = Instant::now();
        let a = analyzer.analyze(&input()).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(started.elapsed() < Duration::from_secs(10), "{what}: {:?}", started.elapsed());
        assert_eq!(a.analyzer, "rules", "{what}");
        assert_eq!(a.proposals, rules_analysis().proposals, "{what}: only the rules' proposals");
        assert!(a.flags[0].contains(&format!("llm:{MODEL} was not used")), "{what}: {:?}", a.flags);
        assert!(a.flags[0].contains(why), "{what}: {:?} should say {why:?}", a.flags);
        assert_eq!(fake.calls(), 2, "{what}: one call and exactly one retry");
        assert_eq!(rules.seen().len(), 1, "{what}");
        assert!(fake.violations().is_empty(), "{what}: {:?}", fake.violations());
    }
}

#[tokio::test]
async fn b08_a_usable_retry_answers_and_says_the_first_answer_was_not_used() {
    let fake = FakeLlm::start(Reply::Answer(answer(json!([restart_checkout()])))).await;
    fake.then(Reply::Status { status: 502, retry_after: None });
    let (analyzer, rules) = with_rules(fake.config());
    let a = analyzer.analyze(&input()).await.unwrap();
    assert_eq!(a.analyzer, format!("llm:{MODEL}"));
    assert!(a.flags.iter().any(|f| f.contains("first answer was not used")), "{:?}", a.flags);
    assert_eq!(fake.calls(), 2);
    assert!(rules.seen().is_empty());
}

#[tokio::test]
async fn b08_with_the_default_settings_a_hanging_llm_gives_the_rules_within_10_seconds() {
    let fake = FakeLlm::start(Reply::Hang).await;
    let settings = LlmSettings {
        base_url: Some(fake.base_url()),
        model: Some(MODEL.into()),
        api_key: Some(Secret::new(KEY)),
        ..LlmSettings::default()
    };
    let rules = Arc::new(FakeAnalyzer::answering(Ok(rules_analysis())));
    let analyzer = mimi::analyze::from_settings(&settings, rules).unwrap();
    assert_eq!(analyzer.name(), format!("llm:{MODEL}"));
    let started = Instant::now();
    let a = analyzer.analyze(&input()).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(a.analyzer, "rules");
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn a_long_retry_after_is_honoured_no_retry_and_no_call_until_it_passes() {
    let fake = FakeLlm::start(Reply::Status { status: 429, retry_after: Some("30") }).await;
    let (analyzer, _) = with_rules(fake.config());
    let a = analyzer.analyze(&input()).await.unwrap();
    assert_eq!(a.analyzer, "rules");
    assert!(a.flags[0].contains("Retry-After 30 s"), "{:?}", a.flags);
    assert_eq!(fake.calls(), 1, "no retry inside the Retry-After");
    let mut other = input();
    other.evidence_text.push_str("\nmore\n");
    let a = analyzer.analyze(&other).await.unwrap();
    assert_eq!(a.analyzer, "rules");
    assert_eq!(fake.calls(), 1, "the provider is not called again before Retry-After passes");
}

#[tokio::test]
async fn a_rejected_request_is_not_retried_and_says_what_the_provider_said() {
    let fake = FakeLlm::start(Reply::Answer(answer(json!([])))).await;
    let config = LlmConfig { api_key: Some(Secret::new("sk-wrong-key-0123456789abcdef")), ..fake.config() };
    let (analyzer, _) = with_rules(config);
    let a = analyzer.analyze(&input()).await.unwrap();
    assert_eq!(a.analyzer, "rules");
    assert!(a.flags[0].contains("HTTP 401") && a.flags[0].contains("Incorrect API key"), "{:?}", a.flags);
    assert!(!a.flags[0].contains("sk-wrong-key"), "the key is never repeated");
    assert_eq!(fake.requests().len(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn after_failures_in_a_row_the_llm_is_skipped_for_a_while() {
    let fake = FakeLlm::start(Reply::Status { status: 500, retry_after: None }).await;
    let config = LlmConfig {
        breaker: mimi::analyze::llm::Breaker { failures: 2, pause: Duration::from_secs(60) },
        ..fake.config()
    };
    let (analyzer, _) = with_rules(config);
    for _ in 0..3 {
        assert_eq!(analyzer.analyze(&input()).await.unwrap().analyzer, "rules");
    }
    assert_eq!(fake.calls(), 4, "two analyses of two calls each, then none");
}
