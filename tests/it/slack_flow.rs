//! The whole Slack approval flow against the sandbox cluster and the fake Slack: alert -> incident
//! message with Approve / Reject buttons -> signed clicks (refused ones answered ephemerally and
//! audited) -> the action executed in the sandbox -> the message edited in place, the timeline in
//! its thread. C03, C05, C06, C07, C08, C09, C11, C12; approvers by Slack user group.

use std::sync::Arc;
use std::time::Duration;

use mimi::analyze::fake::FakeAnalyzer;
use mimi::app::Overrides;
use mimi::config::ApproverSettings;
use mimi::domain::approver::Platform;
use serde_json::json;

use crate::slack::{CHANNEL, post_signed, with_slack};
use crate::support::fake_slack::{Click, FakeSlack, SIGNING_SECRET, TEAM};
use crate::support::scenario::{PaymentsCluster, crashloop_payments, restart_payments};
use crate::support::{TestApp, wait_until};

const ALICE: &str = "UALICE1";
const BOB: &str = "UBOB01";
const CAROL: &str = "UCAROL1";
const MALLORY: &str = "UMALLORY";
/// A user group of approvers, and a member who is approver through it only.
const ONCALL: &str = "S0ONCALL";
const DAVE: &str = "UDAVE01";

struct Flow {
    app: TestApp,
    fake: FakeSlack,
    /// The sandbox and the scenario's alert.
    cluster: PaymentsCluster,
    /// The incident message's ts and its proposal id.
    ts: String,
    proposal: String,
}

async fn start(approvals_needed: u8) -> Flow {
    let cluster = crashloop_payments().await;
    let kubeconfig = cluster.kubeconfig.clone();
    let analysis = restart_payments();
    let overrides =
        Overrides { analyzer: Some(Arc::new(FakeAnalyzer::answering(Ok(analysis)))), ..Overrides::default() };
    let fake = FakeSlack::start(&[CHANNEL, "COTHER1"]).await;
    fake.usergroup(ONCALL, &[DAVE]);
    let f = fake.clone();
    let app = TestApp::spawn_full(
        move |s| {
            with_slack(s, &f);
            s.kubernetes.kubeconfig = Some(kubeconfig);
            s.kubernetes.cache = false;
            s.verification.settle_seconds = 0;
            s.verification.interval_seconds = 1;
            s.policy.approvers_needed.medium = approvals_needed;
            s.policy.approvers = vec![ApproverSettings {
                platform: Platform::Slack,
                channel: Some(CHANNEL.into()),
                team: Some(TEAM.into()),
                users: vec![ALICE.into(), BOB.into(), CAROL.into()],
                groups: vec![ONCALL.into()],
            }];
        },
        overrides,
    )
    .await;
    assert_eq!(app.post_alerts(&cluster.alert).await.status(), 200);
    let with_buttons = || fake.top_level(CHANNEL).into_iter().find(|m| !m.buttons().is_empty());
    wait_until(Duration::from_secs(30), "the incident message with buttons", || async { with_buttons().is_some() })
        .await;
    let post = with_buttons().unwrap();
    let buttons = post.buttons();
    let proposal = buttons[0].1.clone();
    assert_eq!(
        buttons,
        [("mimi_approve".to_string(), proposal.clone()), ("mimi_reject".to_string(), proposal.clone())]
    );
    assert!(proposal.starts_with("p-"), "the value is the proposal id only: {proposal}");
    // The proposal is bound to the message once its post is recorded (C07).
    wait_until(Duration::from_secs(10), "the message bound to the proposal", || async {
        let pending: String = sqlx::query_scalar("SELECT pending FROM proposals WHERE public_id = ?")
            .bind(&proposal)
            .fetch_one(app.store().reader())
            .await
            .unwrap();
        pending.contains(&post.ts)
    })
    .await;
    Flow { app, fake, cluster, ts: post.ts, proposal }
}

impl Flow {
    /// A signed click; returns the ephemeral answer's text.
    async fn click(&self, user_team: &str, user: &str, channel: &str, ts: &str, action: &str) -> String {
        let url = self.fake.response_url();
        let trigger = format!("trigger-{url}");
        let body = Click {
            team: TEAM,
            user_team,
            user,
            channel,
            ts,
            action,
            value: &self.proposal,
            response_url: &url,
            trigger: &trigger,
        }
        .body();
        let started = std::time::Instant::now();
        let (status, text) = post_signed(&self.app, "/slack/interactions", &body, SIGNING_SECRET, None).await;
        assert_eq!((status, text.as_str()), (200, ""), "acknowledged with an empty 200");
        assert!(started.elapsed() < Duration::from_secs(3), "acknowledged within Slack's 3 s");
        wait_until(Duration::from_secs(10), "the ephemeral answer", || async {
            !self.fake.responses_to(&url).is_empty()
        })
        .await;
        let answer = self.fake.responses_to(&url).remove(0);
        assert_eq!(answer["response_type"], "ephemeral", "{answer}");
        answer["text"].as_str().unwrap().to_string()
    }

    async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(self.app.store().reader()).await.unwrap()
    }

    async fn state(&self) -> String {
        sqlx::query_scalar::<_, String>("SELECT state FROM proposals WHERE public_id = ?")
            .bind(&self.proposal)
            .fetch_one(self.app.store().reader())
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn c03_c05_c06_c07_c08_a_signed_click_by_an_approver_runs_once_and_the_message_is_updated() {
    let f = start(1).await;
    // A question in the incident's thread is about that incident.
    let mention = json!({
        "token": "x", "team_id": TEAM, "api_app_id": "A0APP", "type": "event_callback", "event_id": "Ev-thread",
        "event": {"type": "app_mention", "user": MALLORY, "text": "<@UMIMI> what is going on?", "ts": "1700000099.000001",
                  "thread_ts": f.ts, "channel": CHANNEL},
    });
    assert_eq!(post_signed(&f.app, "/slack/events", &mention.to_string(), SIGNING_SECRET, None).await.0, 200);
    wait_until(Duration::from_secs(10), "the answer in the thread", || async {
        // Answers carry no outbox key in their metadata; the incident's own updates do.
        f.fake.replies(&f.ts).iter().any(|m| m.metadata.is_null() && m.text.contains("KubePodCrashLooping"))
    })
    .await;
    // C07: the same button value on another message or in another channel.
    let other = f.fake.user_message(CHANNEL, "a message of someone else");
    let text = f.click(TEAM, ALICE, CHANNEL, &other, "mimi_approve").await;
    assert!(text.contains("was not posted here"), "{text}");
    let text = f.click(TEAM, ALICE, "COTHER1", &f.ts, "mimi_approve").await;
    assert!(text.contains("was not posted here"), "{text}");
    // C06: a user of another organisation in the shared channel, even with an approver's user id.
    let text = f.click("TOTHER1", ALICE, CHANNEL, &f.ts, "mimi_approve").await;
    assert!(text.contains("not a member of the Slack workspace"), "{text}");
    // C05: not an approver.
    let text = f.click(TEAM, MALLORY, CHANNEL, &f.ts, "mimi_approve").await;
    assert!(text.contains("not an approver"), "{text}");
    assert_eq!(f.state().await, "pending", "refusals change nothing");
    assert_eq!(
        f.count("SELECT COUNT(*) FROM incident_events WHERE kind = 'decision_refused'").await,
        4,
        "each audited"
    );

    // The approver's click; then a replay of that very request (C03) and a second approver's click (C08).
    let url = f.fake.response_url();
    let body = Click {
        team: TEAM,
        user_team: TEAM,
        user: ALICE,
        channel: CHANNEL,
        ts: &f.ts,
        action: "mimi_approve",
        value: &f.proposal,
        response_url: &url,
        trigger: "trig-alice",
    }
    .body();
    assert_eq!(post_signed(&f.app, "/slack/interactions", &body, SIGNING_SECRET, None).await.0, 200);
    wait_until(Duration::from_secs(10), "the approval's answer", || async { !f.fake.responses_to(&url).is_empty() })
        .await;
    let answer = f.fake.responses_to(&url)[0]["text"].as_str().unwrap().to_string();
    assert!(answer.contains(&format!("Approved {}", f.proposal)), "{answer}");
    assert_eq!(post_signed(&f.app, "/slack/interactions", &body, SIGNING_SECRET, None).await.0, 200);
    let text = f.click(TEAM, BOB, CHANNEL, &f.ts, "mimi_approve").await;
    assert!(text.contains("cannot be decided"), "{text}");

    wait_until(Duration::from_secs(60), "the incident to resolve after the fix", || async {
        f.app.incident(1).await["state"] == "resolved"
    })
    .await;
    assert_eq!(f.count("SELECT COUNT(*) FROM action_runs").await, 1, "exactly one execution");
    assert_eq!(f.fake.responses_to(&url).len(), 1, "the replayed request was answered once");
    // The message was edited in place: no controls any more, and the timeline is in its thread.
    wait_until(Duration::from_secs(20), "the final edit and replies", || async {
        let m = f.fake.messages().into_iter().find(|m| m.ts == f.ts).unwrap();
        let replies = f.fake.replies(&f.ts);
        m.edits >= 1
            && m.buttons().is_empty()
            && m.all_text().contains("resolved")
            && replies.iter().any(|r| r.text.contains("Verified"))
    })
    .await;
    let replies: Vec<String> = f.fake.replies(&f.ts).into_iter().map(|m| m.text).collect();
    assert!(replies.iter().any(|r| r.contains(&format!("Approved by slack:{TEAM}:{ALICE}"))), "{replies:?}");
    assert!(replies.iter().any(|r| r.contains("Verified")), "{replies:?}");
}

#[tokio::test]
async fn c11_c12_two_approvers_are_needed_and_a_rejection_is_final() {
    let f = start(2).await;
    let text = f.click(TEAM, ALICE, CHANNEL, &f.ts, "mimi_approve").await;
    assert!(text.contains("needs a second approver"), "{text}");
    let text = f.click(TEAM, ALICE, CHANNEL, &f.ts, "mimi_approve").await;
    assert!(text.contains("already approved this"), "the same approver twice: {text}");
    // DAVE may decide through the approvers' user group.
    let text = f.click(TEAM, DAVE, CHANNEL, &f.ts, "mimi_reject").await;
    assert!(text.contains(&format!("Rejected {}", f.proposal)), "{text}");
    let text = f.click(TEAM, CAROL, CHANNEL, &f.ts, "mimi_approve").await;
    assert!(text.contains("cannot be decided: it is rejected"), "{text}");
    assert_eq!(f.state().await, "rejected");
    assert_eq!(f.count("SELECT COUNT(*) FROM action_runs").await, 0, "nothing ran");
    wait_until(Duration::from_secs(20), "the buttons to go", || async {
        f.fake.messages().into_iter().find(|m| m.ts == f.ts).is_some_and(|m| m.buttons().is_empty())
    })
    .await;
}

#[tokio::test]
async fn c09_once_the_incident_resolves_its_proposal_cannot_be_approved() {
    let f = start(1).await;
    let mut resolved = f.cluster.alert.clone();
    resolved["status"] = json!("resolved");
    for alert in resolved["alerts"].as_array_mut().unwrap() {
        alert["status"] = json!("resolved");
        alert["endsAt"] = json!("2026-11-20T10:30:00Z");
    }
    assert_eq!(f.app.post_alerts(&resolved).await.status(), 200);
    wait_until(Duration::from_secs(20), "the incident to resolve", || async {
        f.app.incident(1).await["state"] == "resolved"
    })
    .await;
    let text = f.click(TEAM, ALICE, CHANNEL, &f.ts, "mimi_approve").await;
    assert!(text.contains("cannot be decided: it is expired"), "{text}");
    assert!(text.contains("ask for it again"), "offers a way forward: {text}");
    assert_eq!(f.count("SELECT COUNT(*) FROM action_runs").await, 0, "nothing ran");
}

#[tokio::test]
async fn an_unaddressed_read_question_in_mimis_thread_is_answered_and_chatter_is_left_alone() {
    let f = start(1).await;
    let event = |id: &str, ts: &str, thread: &str, text: &str| {
        json!({
            "token": "x", "team_id": TEAM, "api_app_id": "A0APP", "type": "event_callback", "event_id": id,
            "authorizations": [{"user_id": "UMIMI", "is_bot": true}],
            "event": {"type": "message", "user": ALICE, "text": text, "ts": ts, "thread_ts": thread,
                      "channel": CHANNEL},
        })
        .to_string()
    };
    let answers = |thread: &str| f.fake.replies(thread).into_iter().filter(|m| m.metadata.is_null()).count();
    let before = answers(&f.ts);
    // People talking to each other, a command, a request to act, and a mention (answered as an
    // app_mention, not here): no reply, nothing done.
    let chatter = ["looking at it now", "should we restart payments?", "approve?", "is it ok now?", "<@UMIMI> ok?"];
    for (i, text) in chatter.iter().enumerate() {
        let body = event(&format!("Ev-chat-{i}"), &format!("1700000100.00000{i}"), &f.ts, text);
        assert_eq!(post_signed(&f.app, "/slack/events", &body, SIGNING_SECRET, None).await.0, 200);
    }
    // A read question in a thread that is not Mimi's: no reply.
    let other = f.fake.user_message(CHANNEL, "lunch?");
    let body = event("Ev-other", "1700000101.000001", &other, "any problem pods in pay?");
    assert_eq!(post_signed(&f.app, "/slack/events", &body, SIGNING_SECRET, None).await.0, 200);
    // A plain read question in the incident's thread, not addressed to Mimi: answered there.
    let body = event("Ev-question", "1700000102.000001", &f.ts, "any problem pods in pay?");
    assert_eq!(post_signed(&f.app, "/slack/events", &body, SIGNING_SECRET, None).await.0, 200);
    wait_until(Duration::from_secs(10), "the answer in the incident's thread", || async {
        f.fake.replies(&f.ts).iter().any(|m| m.metadata.is_null() && m.text.contains("problem pods in pay"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(answers(&f.ts), before + 1, "only the question was answered: {:?}", f.fake.replies(&f.ts));
    assert_eq!(answers(&other), 0, "not Mimi's thread");
    assert_eq!(f.state().await, "pending", "nothing approved or run");
}
