use super::*;
use crate::notify::message::{Field, Link, ProposalView};

fn proposal(id: &str, state: &str) -> ProposalView {
    ProposalView {
        id: id.into(),
        action: "restart_deployment shop/checkout".into(),
        reason: "crash loop after <!here> rollout".into(),
        risk: Some("medium".into()),
        approval: Some("one".into()),
        state: state.into(),
        refused: None,
        diff: vec!["spec.template.metadata.annotations: none -> ```<!channel>```".into()],
    }
}

fn hostile() -> Rendered {
    Rendered {
        title: "[FIRING] <!channel> KubePodCrashLooping shop/checkout".into(),
        status: "firing".into(),
        severity: Some("critical".into()),
        incident_id: Some(7),
        lines: vec!["see <https://evil.example|grafana> & <@U999> <script>".into()],
        facts: vec!["<!everyone> fact".into()],
        fields: vec![Field { name: "pod<".into(), value: "<!subteam^S1>".into() }],
        links: vec![
            Link { label: "Alertmanager|<!channel>".into(), url: "https://am.example/#/alerts?x=<1>".into() },
            Link { label: "bad".into(), url: "javascript:alert(1)".into() },
        ],
        proposals: vec![proposal("p-1", "pending"), proposal("p-2", "rejected")],
        updates: vec!["Approved by <!channel>".into()],
        note: Some("late <b>".into()),
        ..Rendered::default()
    }
}

/// Every string in the rendered JSON.
fn texts(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| texts(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| texts(x, out)),
        _ => {}
    }
}

#[test]
fn a13_e13_alert_and_model_text_is_escaped_no_mention_no_disguised_link() {
    let (text, blocks) = message(&hostile());
    let mut all = vec![text];
    texts(&serde_json::Value::Array(blocks), &mut all);
    let joined = all.join("\n");
    for bad in
        ["<!channel>", "<!here>", "<!everyone>", "<!subteam", "<https://evil", "<@U999>", "<script>", "javascript:"]
    {
        assert!(!joined.contains(bad), "{bad} survived:\n{joined}");
    }
    assert!(joined.contains("&lt;!channel&gt;"), "the text is shown, escaped");
    assert!(joined.contains("&lt;https://evil.example|grafana&gt;"));
    // The message's own link is a link, its label and URL escaped, no label injection.
    assert!(joined.contains("<https://am.example/#/alerts?x=&lt;1&gt;|Alertmanager/&lt;!channel&gt;>"), "{joined}");
    // The diff cannot close its code block.
    assert!(!joined.contains("``````"));
}

#[test]
fn buttons_carry_only_the_proposal_id_and_only_for_open_proposals() {
    let (_, blocks) = message(&hostile());
    let actions: Vec<&serde_json::Value> = blocks.iter().filter(|b| b["type"] == "actions").collect();
    assert_eq!(actions.len(), 1, "only the pending proposal has controls");
    let elements = actions[0]["elements"].as_array().unwrap();
    let got: Vec<(&str, &str)> =
        elements.iter().map(|e| (e["action_id"].as_str().unwrap(), e["value"].as_str().unwrap())).collect();
    assert_eq!(got, [(APPROVE, "p-1"), (REJECT, "p-1")]);
}

#[test]
fn huge_text_is_clipped_to_slack_limits() {
    let msg = Rendered { title: "t".into(), lines: vec!["&".repeat(10_000)], ..Rendered::default() };
    let (text, blocks) = message(&msg);
    assert!(text.chars().count() <= MAX_TEXT + 1);
    for b in &blocks {
        if let Some(t) = b["text"]["text"].as_str() {
            assert!(t.chars().count() <= MAX_SECTION + 1);
            assert!(!t.trim_end_matches('…').ends_with("&am"), "no cut entity");
        }
    }
}
