//! What Slack sends Mimi (Events API callbacks, interactions, slash commands), after the signature
//! was verified: parsed, checked against the workspace, deduplicated, and handled in a task of its
//! own so that the HTTP answer goes back at once (Slack wants one within 3 s, C04).
//!
//! - Button clicks decide through `Responder::decide` with `Origin::Message` bound to the message
//!   clicked (channel + ts, C07); the clicking user is `slack:{their team}:{user}`, so a person
//!   from another organisation in a shared channel meets the approval rules' team check (C06).
//! - Slash commands and app mentions run through the shared command layer.
//! - Every event id, interaction and command trigger id is handled once (C03, C13).

use std::sync::Arc;

use serde_json::{Value, json};

use super::client::Client;
use super::groups::UserGroups;
use super::payload::{Interaction, ephemeral, form_pairs, strip_mentions};
use super::render::{self, APPROVE, REJECT};
use crate::chat::command::{self, Command};
use crate::chat::overheard;
use crate::chat::respond::{Caller, Reply, Responder};
use crate::config::{ApproverSettings, Secret, SlackSettings};
use crate::domain::approval::{Choice, ProposalId};
use crate::domain::approver::{Approver, ApproverId, MessageRef, Origin, Platform};
use crate::qa::Scope;
use crate::store::{Store, now_ms};
use crate::strings::slack as s;

/// The Slack side of Mimi's HTTP endpoints.
pub struct Inbound {
    team_id: String,
    secrets: Vec<Secret>,
    channels: Vec<(String, Option<Vec<String>>)>,
    client: Client,
    responder: Responder,
    store: Store,
    groups: UserGroups,
}

/// What the endpoint answers right away.
#[derive(Debug, PartialEq)]
pub enum Ack {
    /// 200 with an empty body.
    Empty,
    /// 200 with this JSON (a url_verification challenge, an immediate ephemeral answer).
    Json(Value),
    /// 400: not something Slack sends.
    Malformed(&'static str),
    /// 503: could not be recorded now; Slack sends it again.
    Unavailable,
}

impl Inbound {
    pub fn new(
        settings: &SlackSettings,
        approvers: &[ApproverSettings],
        client: Client,
        responder: Responder,
        store: Store,
    ) -> Self {
        Inbound {
            team_id: settings.team_id.clone().unwrap_or_default(),
            secrets: settings.signing_secrets().into_iter().cloned().collect(),
            channels: settings.channels.iter().map(|c| (c.id.clone(), c.namespaces.clone())).collect(),
            groups: UserGroups::new(approvers, client.clone()),
            client,
            responder,
            store,
        }
    }

    /// The person, with the approver user groups of this channel they are in.
    async fn person(&self, id: ApproverId, channel: &str) -> Approver {
        let mut person = Approver::new(id);
        person.groups = self.groups.of(person.id.user(), channel).await;
        person
    }

    pub fn secrets(&self) -> Vec<&Secret> {
        self.secrets.iter().collect()
    }

    /// What a channel may ask about: its configured namespaces, all if none are listed, nothing
    /// for a channel that is not configured.
    fn scope(&self, channel: &str) -> Scope {
        match self.channels.iter().find(|(id, _)| id == channel) {
            Some((_, Some(list))) => Scope::only(list.iter().cloned()),
            Some((_, None)) => Scope::all(),
            None => Scope::only(Vec::new()),
        }
    }

    /// True the first time `key` is seen. When it cannot be recorded the delivery is not handled
    /// and Slack is asked to send it again (`Ack::Unavailable`): never handled twice.
    async fn first(&self, key: String) -> Result<bool, Ack> {
        self.store.first_sighting(&key, now_ms()).await.map_err(|e| {
            tracing::error!(error = format!("{e:#}"), "failed to record a Slack delivery");
            Ack::Unavailable
        })
    }

    /// `POST /slack/events` (JSON).
    pub async fn event(self: &Arc<Self>, body: &[u8]) -> Ack {
        let Ok(envelope) = serde_json::from_slice::<Value>(body) else { return Ack::Malformed("not JSON") };
        self.event_envelope(envelope).await
    }

    /// An Events API envelope (HTTP body, or a Socket Mode `events_api` payload).
    pub async fn event_envelope(self: &Arc<Self>, envelope: Value) -> Ack {
        match envelope["type"].as_str() {
            Some("url_verification") => Ack::Json(json!({"challenge": envelope["challenge"]})),
            Some("event_callback") => {
                if envelope["team_id"] != self.team_id.as_str() {
                    return Ack::Empty;
                }
                let Some(id) = envelope["event_id"].as_str() else { return Ack::Malformed("no event_id") };
                // A retry (X-Slack-Retry-Num) of a handled event is answered, not handled (C13).
                match self.first(format!("slack:event:{id}")).await {
                    Ok(true) => {}
                    Ok(false) => return Ack::Empty,
                    Err(ack) => return ack,
                }
                let this = self.clone();
                tokio::spawn(async move {
                    // Mimi's own user id (its mentions are answered as `app_mention`).
                    let me = envelope["authorizations"][0]["user_id"].as_str().unwrap_or_default();
                    this.handle_event(&envelope["event"], &envelope["team_id"], me).await
                });
                Ack::Empty
            }
            _ => Ack::Empty,
        }
    }

    /// A mention of Mimi, or a thread reply that does not mention it (`message` events; answered
    /// only when it is plainly a read question in Mimi's thread: `chat::overheard`).
    async fn handle_event(&self, event: &Value, team: &Value, me: &str) {
        let mention = event["type"] == "app_mention";
        let in_thread = event["thread_ts"].is_string() && event["thread_ts"] != event["ts"];
        let reply = event["type"] == "message" && event.get("subtype").is_none() && in_thread;
        if !(mention || reply) || event.get("bot_id").is_some() {
            return;
        }
        let (Some(user), Some(channel), Some(ts)) =
            (event["user"].as_str(), event["channel"].as_str(), event["ts"].as_str())
        else {
            return;
        };
        let team = event["user_team"].as_str().or(team.as_str()).unwrap_or_default();
        let Ok(id) = ApproverId::slack(team, user) else { return };
        let root = event["thread_ts"].as_str().unwrap_or(ts);
        let raw = event["text"].as_str().unwrap_or_default();
        let text = if mention {
            strip_mentions(raw)
        } else {
            // A reply that mentions Mimi (or anyone, when Mimi's id is unknown) is an `app_mention` too.
            let mentions_me = if me.is_empty() { raw.contains("<@") } else { raw.contains(&format!("<@{me}")) };
            if mentions_me {
                return;
            }
            let thread = format!("slack:{channel}:{root}");
            match overheard::heard(&self.store, raw, "slack", channel, root, &thread).await {
                Some(question) => format!("ask {question}"),
                None => return,
            }
        };
        let person = self.person(id, channel).await;
        // A mention in the thread of an incident's message is about that incident.
        let incident = match event["thread_ts"].as_str() {
            Some(root) => self.store.incident_of_message("slack", channel, root).await.unwrap_or_else(|e| {
                tracing::warn!(error = format!("{e:#}"), "failed to find the incident of a Slack thread");
                None
            }),
            None => None,
        };
        let reply = self.run(&text, &person, channel, Some(&format!("slack:{channel}:{root}")), incident).await;
        let (text, blocks) = render::answer(&reply.text);
        if let Err(e) = self.client.post_message(channel, &text, &blocks, Some(root), None).await {
            tracing::warn!(error = %e, "failed to answer a Slack mention");
        }
    }

    async fn run(
        &self,
        text: &str,
        person: &Approver,
        channel: &str,
        thread: Option<&str>,
        incident: Option<i64>,
    ) -> Reply {
        let scope = self.scope(channel);
        let caller = Caller { person, platform: Platform::Slack, channel, scope: &scope, thread };
        match command::parse(text) {
            Ok(cmd) => self.responder.respond_in_thread(cmd, &caller, incident).await,
            Err(e) => Reply::private(e.to_string()),
        }
    }

    /// `POST /slack/commands` (form): `/mimi TEXT`.
    pub async fn command(self: &Arc<Self>, body: &[u8]) -> Ack {
        let Ok(form) = form_pairs(body) else { return Ack::Malformed("not a form") };
        self.command_fields(&form).await
    }

    /// A slash command's fields (the HTTP form, or a Socket Mode `slash_commands` payload).
    pub async fn command_fields(self: &Arc<Self>, form: &[(String, String)]) -> Ack {
        let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let (Some(team), Some(user), Some(channel)) = (get("team_id"), get("user_id"), get("channel_id")) else {
            return Ack::Malformed("missing team_id, user_id or channel_id");
        };
        if team != self.team_id {
            return Ack::Json(ephemeral(s::OTHER_WORKSPACE));
        }
        let Ok(id) = ApproverId::slack(team, user) else { return Ack::Malformed("bad user id") };
        let text = get("text").unwrap_or_default().to_string();
        // Usage errors answer at once; everything else in a task, through response_url.
        let parsed = match command::parse(&text) {
            Ok(Command::Help) => return Ack::Json(ephemeral(crate::strings::chat::HELP)),
            Ok(cmd) => cmd,
            Err(e) => return Ack::Json(ephemeral(&e.to_string())),
        };
        if let Some(trigger) = get("trigger_id") {
            match self.first(format!("slack:trigger:{trigger}")).await {
                Ok(true) => {}
                Ok(false) => return Ack::Empty,
                Err(ack) => return ack,
            }
        }
        let Some(response_url) = get("response_url").filter(|u| self.response_url_ok(u)).map(str::to_string) else {
            return Ack::Malformed("missing or foreign response_url");
        };
        let (this, channel) = (self.clone(), channel.to_string());
        tokio::spawn(async move {
            let scope = this.scope(&channel);
            let person = this.person(id, &channel).await;
            let caller =
                Caller { person: &person, platform: Platform::Slack, channel: &channel, scope: &scope, thread: None };
            let reply = this.responder.respond(parsed, &caller).await;
            this.answer(&response_url, &reply).await;
        });
        Ack::Empty
    }

    /// `POST /slack/interactions` (form with a JSON `payload`): button clicks.
    pub async fn interaction(self: &Arc<Self>, body: &[u8]) -> Ack {
        let Ok(form) = form_pairs(body) else { return Ack::Malformed("not a form") };
        let Some((_, payload)) = form.iter().find(|(k, _)| k == "payload") else { return Ack::Malformed("no payload") };
        let Ok(payload) = serde_json::from_str::<Value>(payload) else { return Ack::Malformed("payload is not JSON") };
        self.interaction_payload(payload).await
    }

    /// An interaction payload (from the HTTP form, or a Socket Mode `interactive` payload).
    pub async fn interaction_payload(self: &Arc<Self>, payload: Value) -> Ack {
        let Ok(p) = serde_json::from_value::<Interaction>(payload) else { return Ack::Malformed("unexpected payload") };
        if p.kind != "block_actions" {
            return Ack::Empty;
        }
        if p.team.id != self.team_id {
            return Ack::Json(ephemeral(s::OTHER_WORKSPACE));
        }
        match self.first(format!("slack:trigger:{}", p.trigger_id)).await {
            Ok(true) => {}
            Ok(false) => return Ack::Empty,
            Err(ack) => return ack,
        }
        let this = self.clone();
        tokio::spawn(async move { this.click(p).await });
        Ack::Empty
    }

    async fn click(&self, p: Interaction) {
        let Some(url) = p.response_url.as_deref().filter(|u| self.response_url_ok(u)) else { return };
        let (Some(container), Some(action)) = (&p.container, p.actions.first()) else { return };
        let choice = match action.action_id.as_str() {
            APPROVE => Choice::Approve,
            REJECT => Choice::Reject,
            _ => return self.answer(url, &Reply::private(s::UNKNOWN_ACTION)).await,
        };
        let team = p.user.team_id.as_deref().unwrap_or(&p.team.id);
        let (Ok(id), Some(proposal)) =
            (ApproverId::slack(team, &p.user.id), action.value.as_deref().and_then(ProposalId::parse))
        else {
            return self.answer(url, &Reply::private(s::UNKNOWN_ACTION)).await;
        };
        let (Some(channel), Some(ts)) = (&container.channel_id, &container.message_ts) else { return };
        // The decision is bound to the message the button is on (C07).
        let origin =
            Origin::Message(MessageRef { platform: Platform::Slack, channel: channel.clone(), message: ts.clone() });
        let person = self.person(id, channel).await;
        let reply = self.responder.decide(proposal.as_str(), &person, &origin, choice).await;
        self.answer(url, &Reply::private(reply.text)).await;
    }

    /// Answers through `response_url`: ephemeral unless the reply is for everyone.
    async fn answer(&self, response_url: &str, reply: &Reply) {
        let mut body = ephemeral(&reply.text);
        if !reply.private {
            body["response_type"] = json!("in_channel");
        }
        if let Err(e) = self.client.respond(response_url, &body).await {
            tracing::warn!(error = %e, "failed to answer through Slack's response_url");
        }
    }

    /// `response_url`s are Slack's own (`https://hooks.slack.com/`), or under the configured API
    /// base (tests): never another host.
    fn response_url_ok(&self, url: &str) -> bool {
        url.starts_with("https://hooks.slack.com/") || url.starts_with(&format!("{}/", self.client.base()))
    }
}
