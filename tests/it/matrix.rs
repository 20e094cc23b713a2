//! Matrix against a real Synapse (tests/it/support/synapse.rs): people driven by matrix-sdk react
//! and type; Mimi posts through the outbox, decides through the shared approval rules, and acts on
//! the sandbox cluster. RELIABILITY D01-D08, B07.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::{OwnedRoomId, RoomId};
use mimi::analyze::fake::FakeAnalyzer;
use mimi::config::{ApproverSettings, MatrixRoom, RateLimit, RouteSettings, Secret, Settings};
use mimi::domain::approver::Platform;
use serde_json::{Value, json};

use crate::support::matrix_human::Human;
use crate::support::scenario::{PaymentsCluster, crashloop_payments, restart_payments};
use crate::support::synapse::{Synapse, SynapseOptions, User};
use crate::support::{TestApp, wait_until};

pub(crate) const LONG: Duration = Duration::from_secs(90);

/// How the bot logs in.
pub(crate) enum Login {
    Password,
    Token,
}

pub(crate) struct World {
    pub(crate) synapse: Synapse,
    pub(crate) bot: User,
    pub(crate) alice: User,
    pub(crate) mallory: User,
    pub(crate) human: Human,
    pub(crate) room: OwnedRoomId,
    cluster: PaymentsCluster,
    pub(crate) alert: Value,
}

impl World {
    /// Synapse, the bot's account, alice (approver, admin) in a room she created and invited the
    /// bot and mallory to, and the crashloop-payments sandbox.
    pub(crate) async fn new(encrypted: bool, opts: SynapseOptions) -> World {
        let synapse = Synapse::start(opts).await;
        let bot = synapse.register("mimi", false).await;
        let alice = synapse.register("alice", true).await;
        let mallory = synapse.register("mallory", false).await;
        let human = Human::login(&synapse, &alice).await;
        let room = human.create_room(&[&bot.user_id, &mallory.user_id], encrypted).await;
        let cluster = crashloop_payments().await;
        let alert = cluster.alert.clone();
        World { synapse, bot, alice, mallory, human, room, cluster, alert }
    }

    pub(crate) fn configure(&self, s: &mut Settings, login: Login) {
        let m = &mut s.matrix;
        m.homeserver_url = Some(self.synapse.url.clone());
        m.user_id = Some(self.bot.user_id.clone());
        match login {
            Login::Password => m.password = Some(Secret::new(self.bot.password.clone())),
            Login::Token => m.access_token = Some(Secret::new(self.bot.access_token.clone())),
        }
        m.sync_timeout_seconds = 2;
        m.rooms = vec![MatrixRoom { id: self.room.to_string(), namespaces: None, approver_power_level: None }];
        s.notify.routes = vec![RouteSettings {
            sink: "matrix".into(),
            target: Some(self.room.to_string()),
            ..RouteSettings::default()
        }];
        s.notify.limits.insert("matrix".into(), RateLimit { per_second: 100.0, burst: 100 });
        s.policy.approvers = vec![ApproverSettings {
            platform: Platform::Matrix,
            channel: Some(self.room.to_string()),
            team: None,
            users: vec![self.alice.user_id.clone()],
            groups: vec![],
        }];
        s.kubernetes.kubeconfig = Some(self.cluster.kubeconfig.clone());
        s.kubernetes.cache = false;
        s.verification.settle_seconds = 0;
        s.verification.interval_seconds = 1;
    }

    pub(crate) async fn mimi(&self, login: Login) -> TestApp {
        self.mimi_with(login, |_| {}).await
    }

    /// Mimi configured for this world, then changed by `more`.
    pub(crate) async fn mimi_with(&self, login: Login, more: impl FnOnce(&mut Settings)) -> TestApp {
        let analyzer = Arc::new(FakeAnalyzer::answering(Ok(restart_payments())));
        let overrides = mimi::app::Overrides { analyzer: Some(analyzer), ..Default::default() };
        TestApp::spawn_full(
            |s| {
                self.configure(s, login);
                more(s)
            },
            overrides,
        )
        .await
    }

    /// A reaction or message by mallory, over the client-server API.
    pub(crate) async fn mallory_sends(&self, kind: &str, content: Value) {
        let txn = format!("m{}", fastrand::u64(..));
        let path = format!("/_matrix/client/v3/rooms/{}/send/{kind}/{txn}", self.room);
        let (status, body) =
            self.synapse.call(reqwest::Method::PUT, &path, &self.mallory.access_token, Some(content)).await;
        assert_eq!(status, 200, "{body}");
    }

    pub(crate) async fn mallory_joins(&self) {
        let path = format!("/_matrix/client/v3/rooms/{}/join", self.room);
        let (status, body) =
            self.synapse.call(reqwest::Method::POST, &path, &self.mallory.access_token, Some(json!({}))).await;
        assert_eq!(status, 200, "{body}");
    }
}

/// The event id of the incident message Mimi posted in `room`.
pub(crate) async fn incident_message(app: &TestApp, room: &RoomId) -> String {
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let found = sqlx::query_scalar::<_, String>(
            "SELECT message_ref FROM outbox WHERE sink = 'matrix' AND target = ? AND subject = 'incident' \
             AND kind = 'post' AND state = 'sent'",
        )
        .bind(room.as_str())
        .fetch_optional(app.store().reader())
        .await
        .unwrap();
        if let Some(found) = found {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for the incident message");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn wait_incident(app: &TestApp, states: &[&str]) -> Value {
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let (_, detail) = app.api("/api/incidents/1").await;
        if states.iter().any(|s| detail["state"] == *s) {
            return detail;
        }
        assert!(tokio::time::Instant::now() < deadline, "waiting for {states:?}; incident: {detail:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) fn proposal_state(detail: &Value) -> String {
    detail["proposals"][0]["state"].as_str().unwrap_or_default().to_string()
}

pub(crate) fn timeline_has(detail: &Value, kind: &str, actor: &str) -> bool {
    detail["timeline"].as_array().unwrap().iter().any(|e| e["kind"] == kind && e["actor"] == actor)
}

/// The bot's `m.replace` edits of `message` (their new bodies).
async fn edits_of(human: &Human, room: &RoomId, bot: &str, message: &str) -> Vec<String> {
    human
        .events_from(room, bot, "m.room.message")
        .await
        .into_iter()
        .filter(|e| {
            e["content"]["m.relates_to"]["rel_type"] == "m.replace"
                && e["content"]["m.relates_to"]["event_id"] == message
        })
        .map(|e| e["content"]["m.new_content"]["body"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn d01_d06_an_approver_reacts_and_the_fix_runs_others_and_edits_do_not_count() {
    let w = World::new(false, SynapseOptions::default()).await;
    // D06: a room Mimi does not serve: invited, it leaves without posting.
    let stranger_room = w.human.create_room(&[&w.bot.user_id], false).await;
    let app = w.mimi(Login::Password).await;
    w.human.wait_membership(&w.room, &w.bot.user_id, MembershipState::Join).await;
    w.human.wait_membership(&stranger_room, &w.bot.user_id, MembershipState::Leave).await;
    assert!(w.human.events_from(&stranger_room, &w.bot.user_id, "m.room.message").await.is_empty());
    w.mallory_joins().await;

    assert_eq!(app.post_alerts(&w.alert).await.status(), 200);
    wait_incident(&app, &["awaiting_approval"]).await;
    let message = incident_message(&app, &w.room).await;
    let posted = w.human.events_from(&w.room, &w.bot.user_id, "m.room.message").await;
    let post = posted.iter().find(|e| e["event_id"] == message.as_str()).expect("the message is in the room");
    let body = post["content"]["body"].as_str().unwrap();
    assert!(body.contains("restart_deployment pay/payments") && body.contains("✅"), "{body}");
    assert!(post["content"]["formatted_body"].as_str().unwrap().contains("<h2>"));

    // D04: a reaction by someone who may not approve is refused (audited) and changes nothing; a ✅
    // on another event is ignored.
    let relates = |on: &str| json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": on, "key": "✅"}});
    w.mallory_sends("m.reaction", relates(&message)).await;
    let refused_by = format!("matrix:{}", w.mallory.user_id);
    wait_until(LONG, "mallory's reaction to be refused", || async {
        timeline_has(&app.incident(1).await, "decision_refused", &refused_by)
    })
    .await;
    let chatter = w.human.say(&w.room, "looking into it").await;
    w.human.react(&w.room, chatter.as_str(), "✅").await;
    // D05: a command edited into a rejection is not one (a rejection would be final).
    let typo = w.human.say(&w.room, "!mimi hello").await;
    let id = app.incident(1).await["proposals"][0]["id"].as_str().unwrap().to_string();
    w.human.edit(&w.room, &typo, &format!("!mimi reject {id}")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(proposal_state(&app.incident(1).await), "pending");

    // D01..D03: the approver's ✅ on the incident message approves; the action runs and is verified.
    w.human.react(&w.room, &message, "✅").await;
    let detail = wait_incident(&app, &["resolved"]).await;
    let run = &detail["runs"][0];
    assert_eq!(run["approvers"], json!([format!("matrix:{}", w.alice.user_id)]));
    assert_eq!(run["verified"], "verified", "{run}");
    wait_until(LONG, "the message to be edited to verified", || async {
        edits_of(&w.human, &w.room, &w.bot.user_id, &message).await.iter().any(|b| b.contains("Verified"))
    })
    .await;
    let thread: Vec<Value> = w
        .human
        .events_from(&w.room, &w.bot.user_id, "m.room.message")
        .await
        .into_iter()
        .filter(|e| {
            e["content"]["m.relates_to"]["rel_type"] == "m.thread"
                && e["content"]["m.relates_to"]["event_id"] == message.as_str()
        })
        .collect();
    assert!(thread.len() >= 2, "the timeline is in the message's thread: {thread:#?}");

    // A restart keeps the device (and so its keys): same id, no second device.
    let dir = mimi::chat::matrix::session::store_dir(&app.settings);
    let before = mimi::chat::matrix::session::saved_device(&dir).unwrap().expect("device.json");
    let devices = w.synapse.devices(&w.alice.access_token, &w.bot.user_id).await;
    assert!(devices.contains(&before.device_id), "{devices:?}");
    let app = app.restart().await;
    // Answering a command proves the restarted Mimi has logged in and syncs.
    let help = w.human.say(&w.room, "!mimi help").await;
    wait_until(LONG, "the restarted bot to answer", || async {
        w.human.events_from(&w.room, &w.bot.user_id, "m.room.message").await.iter().any(|e| {
            e["content"]["m.relates_to"]["rel_type"] == "m.thread"
                && e["content"]["m.relates_to"]["event_id"] == help.as_str()
        })
    })
    .await;
    let after = mimi::chat::matrix::session::saved_device(&dir).unwrap().unwrap();
    assert_eq!(before, after, "the same device after a restart");
    assert_eq!(w.synapse.devices(&w.alice.access_token, &w.bot.user_id).await, devices, "no new device");
    drop(app);
}

#[tokio::test]
async fn d04_d05_d07_d08_an_encrypted_room_works_refusals_too_and_the_token_is_never_stored() {
    // D08: everything logged, down to trace level (Mimi's and matrix-sdk's), is kept to be searched.
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber in this test's process");
    let w = World::new(true, SynapseOptions::default()).await;
    let app = w.mimi(Login::Token).await;
    w.human.wait_membership(&w.room, &w.bot.user_id, MembershipState::Join).await;
    assert_eq!(app.post_alerts(&w.alert).await.status(), 200);
    wait_incident(&app, &["awaiting_approval"]).await;
    let message = incident_message(&app, &w.room).await;
    // The human's client decrypts the message: it was encrypted for her device.
    wait_until(LONG, "alice to decrypt the incident message", || async {
        w.human.events(&w.room).await.iter().any(|e| {
            e["event_id"] == message.as_str()
                && e["content"]["body"].as_str().is_some_and(|b| b.contains("pay/payments"))
        })
    })
    .await;
    // D07: an event nobody can decrypt is never a command.
    w.mallory_joins().await;
    let garbage = json!({"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEpABqOCAaP", "sender_key": "x",
                         "session_id": "nosuchsession", "device_id": "NODEVICE"});
    w.mallory_sends("m.room.encrypted", garbage).await;
    // D04 in an encrypted room: mallory, with a client that encrypts, reacts ✅ and types the
    // command; Mimi decrypts both and refuses both (she may not approve).
    let mallory = Human::login(&w.synapse, &w.mallory).await;
    mallory.react(&w.room, &message, "✅").await;
    let id = app.incident(1).await["proposals"][0]["id"].as_str().unwrap().to_string();
    mallory.say(&w.room, &format!("!mimi approve {id}")).await;
    let refused_by = format!("matrix:{}", w.mallory.user_id);
    let refusals = |detail: &Value| {
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "decision_refused" && e["actor"] == refused_by.as_str())
            .count()
    };
    wait_until(LONG, "mallory's encrypted reaction and command to be refused", || async {
        refusals(&app.incident(1).await) == 2
    })
    .await;
    // D05 in an encrypted room: alice's message edited into a rejection is not one.
    let typo = w.human.say(&w.room, "!mimi hello").await;
    w.human.edit(&w.room, &typo, &format!("!mimi reject {id}")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(proposal_state(&app.incident(1).await), "pending");
    w.human.react(&w.room, &message, "✅").await;
    let detail = wait_incident(&app, &["resolved"]).await;
    assert_eq!(detail["runs"][0]["verified"], "verified");
    assert_eq!(refusals(&detail), 2, "the undecryptable event was nothing at all");

    // D08: the access token is in no file Mimi wrote (database, Matrix stores, device.json).
    let data = app.settings.data_dir.clone();
    let stopped = app.stop().await;
    let token = w.bot.access_token.as_bytes();
    for entry in walk(&data) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!bytes.windows(token.len()).any(|w| w == token), "the access token is in {}", entry.display());
    }
    drop(stopped);
    // Nor in any log line.
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    assert!(logged.contains("matrix"), "the logs were captured ({} bytes)", logged.len());
    assert!(!logged.contains(w.bot.access_token.as_str()), "the access token was logged");
}

/// Log output kept in memory.
#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

#[tokio::test]
async fn b07_rate_limited_sends_wait_and_are_never_duplicated() {
    // Synapse lets the bot send one message every 2 seconds after a burst of 2.
    let w = World::new(false, SynapseOptions { messages_per_second: 0.5, message_burst: 2 }).await;
    let app = w.mimi(Login::Password).await;
    w.human.wait_membership(&w.room, &w.bot.user_id, MembershipState::Join).await;
    for i in 0..4 {
        let mut alert = w.alert.clone();
        alert["groupKey"] = json!(format!("{{}}:{{alertname=\"B07-{i}\"}}"));
        for (j, a) in alert["alerts"].as_array_mut().unwrap().iter_mut().enumerate() {
            a["fingerprint"] = json!(format!("b0700000000000{i}{j}"));
            a["labels"]["alertname"] = json!(format!("B07-{i}"));
        }
        alert["groupLabels"] = json!({"alertname": format!("B07-{i}")});
        assert_eq!(app.post_alerts(&alert).await.status(), 200);
    }
    let sent = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM outbox WHERE sink = 'matrix' AND kind = 'post' AND state = 'sent'",
        )
        .fetch_one(app.store().reader())
        .await
        .unwrap()
    };
    wait_until(LONG, "the four incident messages to be delivered", || async { sent().await == 4 }).await;
    assert!(app.metric("mimi_outbox_failures_total{sink=\"matrix\",reason=\"rate_limited\"}").await >= 1.0);
    // Every post is in the room exactly once.
    let posts: Vec<Value> = w
        .human
        .events_from(&w.room, &w.bot.user_id, "m.room.message")
        .await
        .into_iter()
        .filter(|e| e["content"]["m.relates_to"].is_null())
        .collect();
    assert_eq!(posts.len(), 4, "{posts:#?}");
}
