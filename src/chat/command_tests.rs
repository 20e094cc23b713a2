use std::time::Duration;

use super::*;

fn ns(n: &str) -> Option<NamespaceName> {
    Some(NamespaceName::parse(n).unwrap())
}

fn pid(id: &str) -> ProposalId {
    ProposalId::parse(id).unwrap()
}

#[test]
fn commands_parse_to_what_they_say() {
    let cases: Vec<(&str, Command)> = vec![
        ("", Command::Help),
        ("   ", Command::Help),
        ("help", Command::Help),
        ("HELP", Command::Help),
        ("incidents", Command::Incidents { open_only: true }),
        ("incidents open", Command::Incidents { open_only: true }),
        ("incidents recent", Command::Incidents { open_only: false }),
        ("incident 42", Command::Incident { id: 42 }),
        ("incident #7", Command::Incident { id: 7 }),
        ("pods", Command::Pods { namespace: None }),
        ("pods -n shop", Command::Pods { namespace: ns("shop") }),
        ("pods --namespace=shop", Command::Pods { namespace: ns("shop") }),
        ("pods in hr", Command::Pods { namespace: ns("hr") }),
        ("problems -n kube-system", Command::Problems { namespace: ns("kube-system") }),
        ("problems", Command::Problems { namespace: None }),
        (
            "logs checkout-6d8f7c9b4-q2x7m -n shop",
            Command::Logs { pod: ObjectName::parse("checkout-6d8f7c9b4-q2x7m").unwrap(), namespace: ns("shop") },
        ),
        ("logs -n shop web-1", Command::Logs { pod: ObjectName::parse("web-1").unwrap(), namespace: ns("shop") }),
        ("approve p-12", Command::Approve(pid("p-12"))),
        ("Reject p-12", Command::Reject(pid("p-12"))),
        (
            "silence 42 2h deploy in progress",
            Command::Silence(SilenceRequest {
                target: SilenceTarget::Incident(42),
                duration: Duration::from_secs(7200),
                reason: Some("deploy in progress".into()),
            }),
        ),
        (
            "silence 0123456789ABCDEF 1h30m",
            Command::Silence(SilenceRequest {
                target: SilenceTarget::Fingerprint("0123456789abcdef".into()),
                duration: Duration::from_secs(5400),
                reason: None,
            }),
        ),
        ("ask how many pods in hr?", Command::Ask("how many pods in hr?".into())),
        ("how many pods in hr?", Command::Ask("how many pods in hr?".into())),
        ("is checkout healthy", Command::Ask("is checkout healthy".into())),
        // A request to act is a question: the question engine refuses it (E10).
        ("restart checkout now", Command::Ask("restart checkout now".into())),
    ];
    for (input, want) in cases {
        assert_eq!(parse(input), Ok(want), "{input:?}");
    }
}

#[test]
fn hostile_or_malformed_commands_are_usage_errors_never_guesses() {
    let cases: Vec<(&str, Verb)> = vec![
        ("help me", Verb::Help),
        ("incidents everything", Verb::Incidents),
        ("incident", Verb::Incident),
        ("incident 0", Verb::Incident),
        ("incident -3", Verb::Incident),
        ("incident 99999999999999999999", Verb::Incident),
        ("incident 4 2", Verb::Incident),
        ("pods -n", Verb::Pods),
        ("pods -n Shop", Verb::Pods),
        ("pods -n shop -n hr", Verb::Pods),
        ("pods -n $(id)", Verb::Pods),
        ("pods -A", Verb::Pods),
        ("pods web", Verb::Pods),
        ("problems -n ../etc", Verb::Problems),
        ("logs", Verb::Logs),
        ("logs --server=https://x", Verb::Logs),
        ("logs a;rm -rf /", Verb::Logs),
        ("logs $(id)", Verb::Logs),
        ("logs ../../etc/passwd", Verb::Logs),
        ("logs a b", Verb::Logs),
        ("approve", Verb::Approve),
        ("approve p-1 p-2", Verb::Approve),
        ("approve p-1;drop", Verb::Approve),
        ("approve <@U123>", Verb::Approve),
        ("reject", Verb::Reject),
        ("silence", Verb::Silence),
        ("silence 42", Verb::Silence),
        ("silence 42 forever", Verb::Silence),
        ("silence 42 0m", Verb::Silence),
        ("silence 42 30s", Verb::Silence),
        ("silence 42 31d", Verb::Silence),
        ("silence 42 30m1h", Verb::Silence),
        ("silence 42 1h1h", Verb::Silence),
        ("silence 42 h", Verb::Silence),
        ("silence 42 99999999999999d", Verb::Silence),
        ("silence checkout 1h", Verb::Silence),
        ("silence 0123456789abcdeg 1h", Verb::Silence),
        ("ask", Verb::Ask),
        ("ask   ", Verb::Ask),
    ];
    for (input, verb) in cases {
        assert_eq!(parse(input), Err(ParseError::Usage(verb)), "{input:?}");
    }
    let names = ["a".repeat(300), format!("{}-x", "b".repeat(253))];
    for name in names {
        assert_eq!(parse(&format!("logs {name}")), Err(ParseError::Usage(Verb::Logs)));
    }
}

#[test]
fn input_over_the_limit_is_refused() {
    let long = format!("ask {}", "x".repeat(MAX_INPUT));
    assert_eq!(parse(&long), Err(ParseError::TooLong));
}

#[test]
fn a_silence_reason_is_cleaned_and_clipped() {
    let input = format!("silence 4 1h \u{202E}evil\u{200B} {}", "r".repeat(500));
    let Ok(Command::Silence(req)) = parse(&input) else { panic!("not a silence") };
    let reason = req.reason.unwrap();
    assert!(reason.starts_with("evil "), "{reason:?}");
    assert_eq!(reason.chars().count(), MAX_REASON);
}

#[test]
fn usage_errors_say_the_form() {
    let text = parse("silence 1").unwrap_err().to_string();
    assert!(text.contains("silence INCIDENT_ID|FINGERPRINT DURATION"), "{text}");
}

#[test]
fn durations_parse_within_bounds() {
    assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
    assert_eq!(parse_duration("1w"), Some(Duration::from_secs(7 * 86_400)));
    assert_eq!(parse_duration("1d12h"), Some(Duration::from_secs(36 * 3600)));
    assert_eq!(parse_duration("30d"), Some(MAX_SILENCE));
    for bad in ["", "1", "m", "1x", "1.5h", "-1h", "1H", "5w"] {
        assert_eq!(parse_duration(bad), None, "{bad:?}");
    }
}
