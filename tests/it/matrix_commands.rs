//! Matrix commands against a real Synapse: `!mimi ...` answered in its thread, decisions by
//! command through the shared rules (D01), and `mimi check` / validation of `[matrix]`.

use std::time::Duration;

use matrix_sdk::ruma::events::room::member::MembershipState;
use serde_json::json;

use crate::matrix::{LONG, Login, World, incident_message, proposal_state, timeline_has, wait_incident};
use crate::support::synapse::SynapseOptions;

/// Mimi's answers in the thread started on (or answering) event `to`: their bodies.
async fn answers_to(w: &World, to: &str) -> Vec<String> {
    w.human
        .events_from(&w.room, &w.bot.user_id, "m.room.message")
        .await
        .into_iter()
        .filter(|e| {
            let r = &e["content"]["m.relates_to"];
            r["rel_type"] == "m.thread" && (r["event_id"] == to || r["m.in_reply_to"]["event_id"] == to)
        })
        .map(|e| e["content"]["body"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn wait_answer(w: &World, to: &str, what: &str) -> String {
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        if let Some(answer) = answers_to(w, to).await.into_iter().next() {
            return answer;
        }
        assert!(tokio::time::Instant::now() < deadline, "no answer to {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn d01_commands_are_answered_in_their_thread_and_only_approvers_decide() {
    let w = World::new(false, SynapseOptions::default()).await;
    let app = w.mimi(Login::Password).await;
    w.human.wait_membership(&w.room, &w.bot.user_id, MembershipState::Join).await;
    w.mallory_joins().await;
    assert_eq!(app.post_alerts(&w.alert).await.status(), 200);
    wait_incident(&app, &["awaiting_approval"]).await;
    let id = app.incident(1).await["proposals"][0]["id"].as_str().unwrap().to_string();

    let help = w.human.say(&w.room, "!mimi help").await;
    let answer = wait_answer(&w, help.as_str(), "!mimi help").await;
    assert!(answer.contains("approve"), "{answer}");

    // D01: a command from someone who may not approve is refused, audited, and answered.
    let txn = format!("m{}", fastrand::u64(..));
    let path = format!("/_matrix/client/v3/rooms/{}/send/m.room.message/{txn}", w.room);
    let body = json!({"msgtype": "m.text", "body": format!("!mimi approve {id}")});
    let (status, sent) = w.synapse.call(reqwest::Method::PUT, &path, &w.mallory.access_token, Some(body)).await;
    assert_eq!(status, 200, "{sent}");
    let refusal = wait_answer(&w, sent["event_id"].as_str().unwrap(), "mallory's approve").await;
    assert!(!refusal.contains("Approved"), "{refusal}");
    let detail = app.incident(1).await;
    assert!(timeline_has(&detail, "decision_refused", &format!("matrix:{}", w.mallory.user_id)));
    assert_eq!(proposal_state(&detail), "pending");

    // In the incident's thread, without addressing Mimi: chatter and "approve?" get no answer and
    // decide nothing; a plain read question is answered.
    let root = incident_message(&app, &w.room).await;
    let in_thread = |text: &str| {
        let txn = format!("t{}", fastrand::u64(..));
        let path = format!("/_matrix/client/v3/rooms/{}/send/m.room.message/{txn}", w.room);
        let relates = json!({"rel_type": "m.thread", "event_id": root, "is_falling_back": true,
                             "m.in_reply_to": {"event_id": root}});
        (path, json!({"msgtype": "m.text", "body": text, "m.relates_to": relates}))
    };
    let mut chatter = Vec::new();
    for text in ["looking at it now", "approve?", "should we restart payments?"] {
        let (path, body) = in_thread(text);
        let (status, sent) = w.synapse.call(reqwest::Method::PUT, &path, &w.alice.access_token, Some(body)).await;
        assert_eq!(status, 200, "{sent}");
        chatter.push(sent["event_id"].as_str().unwrap().to_string());
    }
    let (path, body) = in_thread("any problem pods in pay?");
    let (_, sent) = w.synapse.call(reqwest::Method::PUT, &path, &w.alice.access_token, Some(body)).await;
    let answer = wait_answer(&w, sent["event_id"].as_str().unwrap(), "the overheard question").await;
    assert!(answer.contains("problem pods in pay"), "{answer}");
    for event in &chatter {
        assert!(answers_to(&w, event).await.is_empty(), "chatter {event} was answered");
    }
    assert_eq!(proposal_state(&app.incident(1).await), "pending", "an overheard approve? decides nothing");

    // The approver's command decides, through the same rules.
    w.human.say(&w.room, &format!("!mimi approve {id}")).await;
    let detail = wait_incident(&app, &["resolved"]).await;
    assert_eq!(detail["runs"][0]["approvers"], json!([format!("matrix:{}", w.alice.user_id)]));
}

#[tokio::test]
async fn d01_a_rooms_power_level_also_gates_approvers_named_in_the_configuration() {
    let w = World::new(false, SynapseOptions::default()).await;
    // Mallory is a configured approver, but only alice (the room's creator, power 100) reaches 50.
    let mallory = w.mallory.user_id.clone();
    let app = w
        .mimi_with(Login::Password, |s| {
            s.matrix.rooms[0].approver_power_level = Some(50);
            s.policy.approvers[0].users.push(mallory);
        })
        .await;
    w.human.wait_membership(&w.room, &w.bot.user_id, MembershipState::Join).await;
    w.mallory_joins().await;
    assert_eq!(app.post_alerts(&w.alert).await.status(), 200);
    wait_incident(&app, &["awaiting_approval"]).await;
    let message = incident_message(&app, &w.room).await;

    // Her ✅ and her command are both refused for the power level, audited, and decide nothing.
    w.mallory_sends(
        "m.reaction",
        json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": message, "key": "✅"}}),
    )
    .await;
    let id = app.incident(1).await["proposals"][0]["id"].as_str().unwrap().to_string();
    let txn = format!("m{}", fastrand::u64(..));
    let path = format!("/_matrix/client/v3/rooms/{}/send/m.room.message/{txn}", w.room);
    let body = json!({"msgtype": "m.text", "body": format!("!mimi approve {id}")});
    let (_, sent) = w.synapse.call(reqwest::Method::PUT, &path, &w.mallory.access_token, Some(body)).await;
    let refusal = wait_answer(&w, sent["event_id"].as_str().unwrap(), "mallory's approve").await;
    assert!(refusal.contains("50"), "the refusal names the power level needed: {refusal}");
    let refused = |detail: &serde_json::Value| {
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "decision_refused" && e["detail"]["rule"] == "power_level")
            .count()
    };
    crate::support::wait_until(LONG, "both refusals audited", || async { refused(&app.incident(1).await) == 2 }).await;
    assert_eq!(proposal_state(&app.incident(1).await), "pending");

    // Alice is configured and powerful enough.
    w.human.say(&w.room, &format!("!mimi approve {id}")).await;
    let detail = wait_incident(&app, &["resolved"]).await;
    assert_eq!(detail["runs"][0]["approvers"], json!([format!("matrix:{}", w.alice.user_id)]));
}

#[test]
fn mimi_check_reports_matrix_and_a_route_to_a_room_mimi_does_not_serve_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("matrix-token");
    std::fs::write(&secret, "syt_secret_token\n").unwrap();
    let toml = |target: &str| {
        format!(
            "[webhook]\nallow_unauthenticated = true\n[api]\nallow_unauthenticated = true\n\
             [matrix]\nhomeserver_url = \"https://matrix.example.org\"\nuser_id = \"@mimi:example.org\"\n\
             access_token_file = \"{}\"\n[[matrix.rooms]]\nid = \"!ops:example.org\"\nnamespaces = [\"shop\"]\n\
             approver_power_level = 50\n[[notify.routes]]\nsink = \"matrix\"\ntarget = \"{target}\"\n",
            secret.display()
        )
    };
    let path = dir.path().join("mimi.toml");
    std::fs::write(&path, toml("!elsewhere:example.org")).unwrap();
    let errors = mimi::config::load_from(Some(&path), Vec::new()).unwrap_err().to_string();
    assert!(errors.contains("notify.routes[0].target"), "{errors}");
    std::fs::write(&path, toml("!ops:example.org")).unwrap();
    let s = mimi::config::load_from(Some(&path), Vec::new()).unwrap();
    assert_eq!(s.matrix.access_token.as_ref().unwrap().expose(), "syt_secret_token");
    let r = mimi::config::report(&s);
    let enabled: Vec<String> = r.enabled.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let line = enabled.iter().find(|e| e.starts_with("sink matrix: @mimi:example.org on https://matrix.example.org"));
    let line = line.unwrap_or_else(|| panic!("{enabled:?}"));
    assert!(
        line.contains("access token") && line.contains("!ops:example.org [shop; approvers need power 50]"),
        "{line}"
    );
    assert!(!format!("{r:?}{s:?}").contains("syt_secret_token"), "D08: the token never prints");
    assert!(!r.warnings.iter().any(|w| w.contains("sends to matrix")), "{:?}", r.warnings);
}
