use super::*;

const GOOD: &str = r#"{"diagnosis":"checkout is OOMKilled","facts":["5 restarts"],"confidence":0.7,
    "proposals":[{"kind":"restart_deployment","namespace":"shop","name":"checkout",
    "params":{"replicas":null,"to_revision":null},"reason":"clears the heap"}],"suspicious_input":[]}"#;

fn completion(content: &str) -> Completion {
    Completion { content: Some(content.into()), refusal: None, finish_reason: Some("stop".into()), tokens: Some(10) }
}

#[test]
fn a_well_formed_answer_parses() {
    let a = answer(&completion(GOOD)).unwrap();
    assert_eq!(a.diagnosis, "checkout is OOMKilled");
    assert_eq!(a.facts, vec!["5 restarts"]);
    assert_eq!(a.confidence, Some(0.7));
    assert_eq!(a.proposals.len(), 1);
    assert!(a.flags.is_empty());
}

#[test]
fn fences_and_reasoning_blocks_around_the_json_are_tolerated() {
    for wrapped in [format!("```json\n{GOOD}\n```"), format!("```\n{GOOD}\n```"), format!("<think>hmm</think>\n{GOOD}")]
    {
        assert!(parse_content(&wrapped).is_ok(), "{wrapped}");
    }
}

#[test]
fn malformed_answers_are_invalid() {
    let long = format!(r#"{{"diagnosis":"{}","facts":[],"confidence":1,"proposals":[]}}"#, "a".repeat(5000));
    let deep =
        format!(r#"{{"diagnosis":"d","facts":[],"confidence":1,"proposals":[{}1{}]}}"#, "[".repeat(20), "]".repeat(20));
    let cases: Vec<(&str, String)> = vec![
        ("not json", "The pod is crashing because of memory.".into()),
        ("truncated json", r#"{"diagnosis":"x","facts":["#.into()),
        ("an array", "[1,2,3]".into()),
        ("a string", "\"ok\"".into()),
        ("missing diagnosis", r#"{"facts":[],"confidence":0.5,"proposals":[]}"#.into()),
        ("empty diagnosis", r#"{"diagnosis":" ","facts":[],"confidence":0.5,"proposals":[]}"#.into()),
        ("diagnosis a number", r#"{"diagnosis":5,"facts":[],"confidence":0.5,"proposals":[]}"#.into()),
        ("facts not a list", r#"{"diagnosis":"d","facts":"x","confidence":0.5,"proposals":[]}"#.into()),
        ("facts of numbers", r#"{"diagnosis":"d","facts":[1],"confidence":0.5,"proposals":[]}"#.into()),
        ("missing facts", r#"{"diagnosis":"d","confidence":0.5,"proposals":[]}"#.into()),
        ("missing proposals", r#"{"diagnosis":"d","facts":[],"confidence":0.5}"#.into()),
        ("proposals an object", r#"{"diagnosis":"d","facts":[],"confidence":0.5,"proposals":{}}"#.into()),
        ("missing confidence", r#"{"diagnosis":"d","facts":[],"proposals":[]}"#.into()),
        ("a 5000-character string", long),
        ("deep nesting", deep),
    ];
    for (what, content) in cases {
        match answer(&completion(&content)) {
            Err(AnalyzeError::Invalid(_)) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
    let huge = completion(&"x".repeat(MAX_CONTENT_BYTES + 1));
    assert!(matches!(answer(&huge), Err(AnalyzeError::Invalid(_))));
    let cut = Completion { finish_reason: Some("length".into()), ..completion(GOOD) };
    assert!(matches!(answer(&cut), Err(AnalyzeError::Invalid(_))), "a cut-off answer is not trusted");
    let empty = Completion { content: None, ..completion(GOOD) };
    assert!(matches!(answer(&empty), Err(AnalyzeError::Invalid(_))));
}

#[test]
fn refusals_are_recognised() {
    let field =
        Completion { content: None, refusal: Some("I'm sorry, I can't help with that.".into()), ..completion("") };
    assert!(matches!(answer(&field), Err(AnalyzeError::Refused(_))));
    let filtered = Completion { finish_reason: Some("content_filter".into()), ..completion(GOOD) };
    assert!(matches!(answer(&filtered), Err(AnalyzeError::Refused(_))));
    for prose in ["I can't help with that.", "I’m sorry, but I cannot assist with this request.", "As an AI, I won't"]
    {
        assert!(matches!(answer(&completion(prose)), Err(AnalyzeError::Refused(_))), "{prose}");
    }
}

#[test]
fn confidence_is_clamped_or_dropped_never_guessed() {
    let with =
        |c: &str| parse_content(&format!(r#"{{"diagnosis":"d","facts":[],"confidence":{c},"proposals":[]}}"#)).unwrap();
    assert_eq!(with("1.7").confidence, Some(1.0));
    assert_eq!(with("1.7").flags, vec![s::FLAG_CONFIDENCE_CLAMPED.to_string()]);
    assert_eq!(with("-3").confidence, Some(0.0));
    assert_eq!(with("null").confidence, None);
    assert_eq!(with("\"0.99\"").confidence, None, "text is not a number");
    assert_eq!(with("\"0.99\"").flags, vec![s::FLAG_CONFIDENCE_NOT_A_NUMBER.to_string()]);
    assert_eq!(with("{\"value\":0.99}").confidence, None);
}
