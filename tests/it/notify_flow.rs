//! The incident message through a whole remediation (sandbox cluster, fake analyzer, Slack-like
//! fake sink): posted with its proposal (id, action, risk, dry-run diff) and bound to the proposal
//! for approvals (C07); approval, execution and verification edit it and reply in its thread — and
//! while Slack is down those edits coalesce: one edit with the latest state, the replies in order.

use std::sync::Arc;
use std::time::Duration;

use mimi::analyze::fake::FakeAnalyzer;
use serde_json::{Value, json};

use crate::notify::{SLACK_CHANNEL, Sinks, route, routed};
use crate::support::scenario::{alice_approves_on, crashloop_payments, restart_payments};
use crate::support::{TestApp, wait_until};

#[tokio::test]
async fn the_incident_message_follows_the_remediation_and_edits_coalesce_while_slack_is_down() {
    let cluster = crashloop_payments().await;
    let kubeconfig = cluster.kubeconfig.clone();
    let analysis = restart_payments();
    let sinks = Sinks::new();
    let mut overrides = sinks.overrides();
    overrides.analyzer = Some(Arc::new(FakeAnalyzer::answering(Ok(analysis))));
    let app = TestApp::spawn_full(
        move |s| {
            routed(s);
            s.notify.routes = vec![route("slack", SLACK_CHANNEL)];
            alice_approves_on(s, kubeconfig);
        },
        overrides,
    )
    .await;
    app.post_alerts(&cluster.alert).await;

    wait_until(Duration::from_secs(30), "the incident message", || async { !sinks.slack.delivered().is_empty() }).await;
    let post = sinks.slack.delivered().remove(0);
    let proposal = &post.message.proposals[0];
    assert_eq!(proposal.action, "restart_deployment pay/payments");
    assert_eq!(proposal.risk.as_deref(), Some("medium"));
    assert!(proposal.diff.iter().any(|d| d.contains("restartedAt")), "{:?}", proposal.diff);
    assert_eq!(post.message.buttons(), [proposal.id.as_str()], "Approve / Reject carry the proposal id only");
    let ts = post.result.clone().unwrap();
    // C07: the proposal knows the message it was posted in (recorded right after the send).
    let read_pending = || async {
        let text: String = sqlx::query_scalar("SELECT pending FROM proposals WHERE public_id = ?")
            .bind(&proposal.id)
            .fetch_one(app.store().reader())
            .await
            .unwrap();
        serde_json::from_str::<Value>(&text).unwrap()
    };
    wait_until(Duration::from_secs(10), "the message bound to the proposal", || async {
        !read_pending().await["messages"].as_array().unwrap().is_empty()
    })
    .await;
    let pending = read_pending().await;
    assert_eq!(pending["messages"], json!([{"platform": "slack", "channel": SLACK_CHANNEL, "message": ts}]));

    sinks.slack.set_down(true);
    let resp = app
        .client
        .post(app.url(&format!("/api/proposals/{}/approve", proposal.id)))
        .bearer_auth("alice-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    wait_until(Duration::from_secs(30), "the incident to resolve", || async {
        app.incident(1).await["state"] == "resolved"
    })
    .await;
    let superseded: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'edit' AND state = 'superseded'")
            .fetch_one(app.store().reader())
            .await
            .unwrap();
    assert!(superseded >= 1, "older edits were superseded while Slack was down");

    let before = sinks.slack.delivered().len();
    sinks.slack.set_down(false);
    wait_until(Duration::from_secs(30), "the outbox to drain", || async {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')")
            .fetch_one(app.store().reader())
            .await
            .unwrap();
        n == 0
    })
    .await;
    let after: Vec<_> = sinks.slack.delivered().into_iter().skip(before).collect();
    let edits: Vec<_> = after.iter().filter(|c| c.kind == "edit").collect();
    assert_eq!(edits.len(), 1, "only the latest state is sent: {:?}", after.iter().map(|c| c.kind).collect::<Vec<_>>());
    assert_eq!(edits[0].of.as_deref(), Some(ts.as_str()));
    assert_eq!(edits[0].message.state.as_deref(), Some("resolved"));
    assert!(edits[0].message.buttons().is_empty(), "no controls after the decision");
    let replies: Vec<&str> = after.iter().filter(|c| c.kind == "reply").map(|c| c.message.lines[0].as_str()).collect();
    assert_eq!(replies.len(), 3, "{replies:?}");
    assert!(replies[0].starts_with("Approved by web:alice"), "{replies:?}");
    assert!(replies[1].starts_with("Executed: restart_deployment pay/payments"), "{replies:?}");
    assert!(replies[2].starts_with("Verified"), "{replies:?}");
    assert!(
        after.iter().filter(|c| c.kind == "reply").all(|c| c.of.as_deref() == Some(ts.as_str())),
        "in the message's thread"
    );
}
