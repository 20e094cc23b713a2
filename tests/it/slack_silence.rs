//! `/mimi silence` against a real Alertmanager (API v2): created by the Slack user, matching the
//! incident's shared labels or one alert's labels exactly; refused to non-approvers and outside
//! the channel's namespaces, with nothing created. Also: acknowledgements stay fast under a burst
//! of commands (C04).

use std::time::{Duration, Instant};

use mimi::config::ApproverSettings;
use mimi::domain::approver::Platform;
use serde_json::{Value, json};

use crate::slack::{CHANNEL, post_signed, with_slack};
use crate::support::alertmanager::Alertmanager;
use crate::support::fake_slack::{self, FakeSlack, SIGNING_SECRET, TEAM};
use crate::support::payload::{T0, firing, group};
use crate::support::{TestApp, wait_until};

const ALICE: &str = "UALICE1";

async fn command(app: &TestApp, fake: &FakeSlack, user: &str, text: &str) -> String {
    let url = fake.response_url();
    let body = fake_slack::command_body(TEAM, user, CHANNEL, text, &url, &format!("t-{url}"));
    let (status, immediate) = post_signed(app, "/slack/commands", &body, SIGNING_SECRET, None).await;
    assert_eq!(status, 200, "{immediate}");
    if !immediate.is_empty() {
        return immediate;
    }
    wait_until(Duration::from_secs(10), "the answer", || async { !fake.responses_to(&url).is_empty() }).await;
    fake.responses_to(&url)[0]["text"].as_str().unwrap().to_string()
}

async fn silences(am: &Alertmanager) -> Vec<Value> {
    let resp = crate::support::http().get(am.url("/api/v2/silences")).send().await.unwrap();
    resp.json::<Vec<Value>>().await.unwrap().into_iter().filter(|s| s["status"]["state"] == "active").collect()
}

fn in_namespace(ns: &str, fingerprint: &str, pod: &str) -> Value {
    let mut alert = firing(fingerprint, pod, T0);
    alert["labels"]["namespace"] = json!(ns);
    let mut payload = group(&format!("g-{ns}"), vec![alert]);
    payload["groupLabels"]["namespace"] = json!(ns);
    payload["commonLabels"]["namespace"] = json!(ns);
    payload
}

#[tokio::test]
async fn silences_are_created_in_alertmanager_by_the_slack_user_and_only_by_approvers_in_scope() {
    let am = Alertmanager::start("http://127.0.0.1:9/webhook").await;
    let fake = FakeSlack::start(&[CHANNEL]).await;
    let (f, am_url) = (fake.clone(), am.url(""));
    let app = TestApp::spawn_with(move |s| {
        with_slack(s, &f);
        s.alertmanager.url = Some(am_url);
        s.policy.approvers = vec![ApproverSettings {
            platform: Platform::Slack,
            channel: Some(CHANNEL.into()),
            team: Some(TEAM.into()),
            users: vec![ALICE.into()],
            groups: vec![],
        }];
    })
    .await;
    // Incident 1 in "pay" (the channel's namespace), incident 2 in "shop" (not the channel's).
    assert_eq!(app.post_alerts(&in_namespace("pay", "00000000000000a1", "payments-1")).await.status(), 200);
    app.settle().await;
    assert_eq!(app.post_alerts(&in_namespace("shop", "00000000000000b2", "checkout-1")).await.status(), 200);
    app.settle().await;

    let text = command(&app, &fake, "UMALLORY", "silence 1 2h not mine").await;
    assert!(text.contains("cannot silence"), "{text}");
    let text = command(&app, &fake, ALICE, "silence 2 1h other team's").await;
    assert!(text.contains("no incident with that id"), "out of the channel's scope: {text}");
    assert!(silences(&am).await.is_empty(), "nothing was created");

    let text = command(&app, &fake, ALICE, "silence 1 2h deploy in progress").await;
    assert!(text.starts_with("Silenced until"), "{text}");
    let made = silences(&am).await;
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0]["createdBy"], format!("slack:{TEAM}:{ALICE}"));
    assert_eq!(made[0]["comment"], "deploy in progress");
    let matchers: Vec<(String, String, bool)> = made[0]["matchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap().into(), m["value"].as_str().unwrap().into(), m["isRegex"] == true))
        .collect();
    assert!(matchers.contains(&("alertname".into(), "KubePodCrashLooping".into(), false)), "{matchers:?}");
    assert!(matchers.contains(&("namespace".into(), "pay".into(), false)), "{matchers:?}");
    let ends = made[0]["endsAt"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let hours = ends.duration_since(jiff::Timestamp::now()).as_secs_f64() / 3600.0;
    assert!((1.9..=2.01).contains(&hours), "two hours: {hours}");

    // By fingerprint: exactly that alert's labels, the pod included.
    let text = command(&app, &fake, ALICE, "silence 00000000000000a1 30m").await;
    assert!(text.starts_with("Silenced until"), "{text}");
    let made = silences(&am).await;
    assert_eq!(made.len(), 2);
    assert!(made.iter().any(|s| s["matchers"].to_string().contains("payments-1")), "{made:?}");
    let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incident_events WHERE kind = 'silenced'")
        .fetch_one(app.store().reader())
        .await
        .unwrap();
    assert_eq!(audit, 2, "each silence is in the incident's timeline");
}

#[tokio::test]
async fn c04_a_burst_of_commands_is_acknowledged_well_under_three_seconds() {
    let fake = FakeSlack::start(&[CHANNEL]).await;
    let f = fake.clone();
    let app = TestApp::spawn_with(move |s| with_slack(s, &f)).await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let body = fake_slack::command_body(
            TEAM,
            "UALICE1",
            CHANNEL,
            "incidents",
            &fake.response_url(),
            &format!("burst-{i}"),
        );
        let client = app.client.clone();
        let url = app.url("/slack/commands");
        tasks.push(tokio::spawn(async move {
            let (ts, sig) = fake_slack::sign(SIGNING_SECRET, jiff::Timestamp::now().as_second(), &body);
            let started = Instant::now();
            let resp = client
                .post(url)
                .header("x-slack-request-timestamp", ts)
                .header("x-slack-signature", sig)
                .body(body)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), started.elapsed())
        }));
    }
    for t in tasks {
        let (status, took) = t.await.unwrap();
        assert_eq!(status, 200);
        assert!(took < Duration::from_secs(3), "acknowledged in {took:?}");
    }
    wait_until(Duration::from_secs(30), "every answer", || async { fake.responses().len() == 100 }).await;
}
