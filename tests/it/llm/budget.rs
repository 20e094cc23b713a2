//! The budget governor (per-incident, hourly caps) and the cache (a re-firing alert with the same
//! evidence makes no new call), and the documented `[llm]` example.

use mimi::analyze::llm::LlmConfig;
use mimi::analyze::{AnalyzeError, Analyzer};
use mimi::config::Secret;
use serde_json::json;

use super::{answer, input, llm, restart_checkout, with_rules};
use crate::support::fake_llm::{FakeLlm, MODEL, Reply};

#[tokio::test]
async fn the_hourly_budget_sends_further_incidents_to_the_rules_without_a_call() {
    let fake = FakeLlm::start(Reply::Costly(answer(json!([restart_checkout()])), 19_000)).await;
    let mut config = fake.config();
    config.limits.per_hour = 20_000;
    let (analyzer, _) = with_rules(config);
    assert_eq!(analyzer.analyze(&input()).await.unwrap().analyzer, format!("llm:{MODEL}"));
    let mut other = input();
    other.alerts[0].labels.insert("pod".into(), "checkout-6d8f7c9b4-zzzzz".into());
    let a = analyzer.analyze(&other).await.unwrap();
    assert_eq!(a.analyzer, "rules");
    assert!(a.flags[0].contains("tokens_per_hour"), "{:?}", a.flags);
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn a_prompt_larger_than_the_incident_budget_is_never_sent() {
    let fake = FakeLlm::start(Reply::Answer(answer(json!([])))).await;
    let mut config = fake.config();
    config.limits.per_incident = 2_000;
    let err = llm(config).analyze(&input()).await.unwrap_err();
    assert!(matches!(&err, AnalyzeError::OverBudget(m) if m.contains("tokens_per_incident")), "{err:?}");
    assert_eq!(fake.calls(), 0);
}

#[tokio::test]
async fn a_re_firing_alert_with_the_same_evidence_makes_no_new_call() {
    let fake = FakeLlm::start(Reply::Answer(answer(json!([restart_checkout()])))).await;
    let analyzer = llm(LlmConfig { cache_entries: 16, ..fake.config() });
    let first = analyzer.analyze(&input()).await.unwrap();
    assert!(first.tokens.unwrap() > 0);
    let mut again = input();
    again.alerts[0].starts_at = "2026-11-21T10:00:00Z".into();
    let second = analyzer.analyze(&again).await.unwrap();
    assert_eq!(fake.calls(), 1, "same fingerprints, same evidence: no call");
    assert_eq!(second.proposals, first.proposals);
    assert_eq!(second.tokens, Some(0));
    assert!(second.flags.iter().any(|f| f.contains("reused")), "{:?}", second.flags);
    let mut changed = input();
    changed.evidence_text.push_str("Log of checkout/app (shop):\nstill failing\n");
    analyzer.analyze(&changed).await.unwrap();
    assert_eq!(fake.calls(), 2, "new evidence: a new call");
}

#[test]
fn the_commented_llm_example_is_a_valid_configuration() {
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/mimi.example.toml")).unwrap();
    let setting = regex::Regex::new(r"^# ?(\[llm(\.[a-z]+)?\]|[a-z_]+ = .+)$").unwrap();
    let start = example.lines().position(|l| l == "# [llm]").expect("the example documents [llm]");
    let block: Vec<&str> = example
        .lines()
        .skip(start)
        .take_while(|l| l.starts_with('#'))
        .filter(|l| setting.is_match(l) && !l.contains("api_key"))
        .map(|l| l.trim_start_matches('#').trim_start())
        .collect();
    assert!(block.len() >= 8, "{block:?}");
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, format!("[webhook]\nbearer_token = \"t\"\n{}\n", block.join("\n")).as_bytes())
        .unwrap();
    let env = vec![("MIMI__LLM__API_KEY".to_string(), "k".to_string())];
    let s = mimi::config::load_from(Some(f.path()), env).unwrap_or_else(|e| panic!("{e}\n{}", block.join("\n")));
    assert!(s.llm.enabled());
    assert_eq!(s.llm.api_key.as_ref().map(Secret::expose), Some("k"));
    let report = mimi::config::report(&s).to_string();
    assert!(report.contains("analyzer") && report.contains("then the runbook rules"), "{report}");
}
