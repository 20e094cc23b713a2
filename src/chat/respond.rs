//! Runs a parsed chat command for a resolved person and answers in platform-neutral text.
//!
//! Decisions go through `engine::decide_proposal` (the shared approval rules, compare-and-set,
//! audit); lookups and questions through the read-only `QaEngine` with the caller's namespace
//! scope and rate limit; silences through the Alertmanager API, allowed to the people who may
//! approve in that channel. Nothing here decides policy, and nothing here mutates the cluster.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::Notify;

use super::command::{Command, SilenceRequest, SilenceTarget};
use super::silence::{self, Alertmanager};
use crate::config::PolicySettings;
use crate::domain::alert::Labels;
use crate::domain::approval::Choice;
use crate::domain::approver::{Approver, Origin, Platform};
use crate::engine::{DecideError, Decided, decide_proposal};
use crate::qa::intent::Intent;
use crate::qa::{Asker, QaEngine, Scope};
use crate::store::{NewEvent, Store};
use crate::strings::chat as s;

/// Who asks, and where.
#[derive(Debug, Clone)]
pub struct Caller<'a> {
    /// Resolved by the adapter from a verified request or event (never a display name).
    pub person: &'a Approver,
    pub platform: Platform,
    /// The channel or room the command was given in.
    pub channel: &'a str,
    /// The namespaces this channel or room may see.
    pub scope: &'a Scope,
    /// A stable id of the conversation thread, for follow-up questions.
    pub thread: Option<&'a str>,
}

impl Caller<'_> {
    fn origin(&self) -> Origin {
        Origin::Command { platform: self.platform, channel: self.channel.to_string() }
    }
}

/// An answer, as plain text (the adapter escapes it for its platform).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    /// Better shown only to the person (refusals, usage): Slack ephemeral messages.
    pub private: bool,
}

impl Reply {
    pub fn public(text: impl Into<String>) -> Reply {
        Reply { text: text.into(), private: false }
    }

    pub fn private(text: impl Into<String>) -> Reply {
        Reply { text: text.into(), private: true }
    }
}

/// Runs commands; cheap to clone.
#[derive(Clone)]
pub struct Responder {
    store: Store,
    policy: Arc<PolicySettings>,
    wake: Arc<Notify>,
    qa: QaEngine,
    alertmanager: Option<Alertmanager>,
}

impl Responder {
    pub fn new(
        store: Store,
        policy: Arc<PolicySettings>,
        wake: Arc<Notify>,
        qa: QaEngine,
        alertmanager: Option<Alertmanager>,
    ) -> Self {
        Responder { store, policy, wake, qa, alertmanager }
    }

    /// Runs one command.
    pub async fn respond(&self, command: Command, caller: &Caller<'_>) -> Reply {
        let intent = match command {
            Command::Help => return Reply::private(s::HELP),
            Command::Approve(id) => {
                return self.decide(id.as_str(), caller.person, &caller.origin(), Choice::Approve).await;
            }
            Command::Reject(id) => {
                return self.decide(id.as_str(), caller.person, &caller.origin(), Choice::Reject).await;
            }
            Command::Silence(req) => return self.silence(&req, caller).await,
            Command::Ask(question) => {
                return self.answer(self.qa.ask(&question, &asker(caller), caller.scope, caller.thread).await);
            }
            Command::Incidents { open_only } => Intent::Incidents { open_only },
            Command::Incident { id } => Intent::Incident { id },
            Command::Pods { namespace } => Intent::PodList { namespace: namespace.map(|n| n.to_string()), phase: None },
            Command::Problems { namespace } => Intent::Problems { namespace: namespace.map(|n| n.to_string()) },
            Command::Logs { pod, namespace } => {
                Intent::Logs { namespace: namespace.map(|n| n.to_string()), pod: pod.to_string(), previous: false }
            }
        };
        self.answer(self.qa.ask_intent(intent, &asker(caller), caller.scope, caller.thread).await)
    }

    fn answer(&self, answer: anyhow::Result<crate::qa::Answer>) -> Reply {
        match answer {
            Ok(a) => Reply { text: a.answer, private: a.refused },
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "failed to answer a chat question");
                Reply::private(s::INTERNAL)
            }
        }
    }

    /// Approves or rejects a proposal (a command, or a button on a message: `origin`).
    pub async fn decide(&self, id: &str, person: &Approver, origin: &Origin, choice: Choice) -> Reply {
        let by = person.id.to_string();
        match decide_proposal(&self.store, &self.policy, &self.wake, id, person, origin, choice).await {
            Ok(Decided::Approved) => Reply::public(s::approved(id, &by)),
            Ok(Decided::NeedsAnotherApprover) => Reply::public(s::needs_another(id, &by)),
            Ok(Decided::Rejected) => Reply::public(s::rejected(id, &by)),
            Err(DecideError::NotFound) => Reply::private(s::NO_PROPOSAL),
            Err(DecideError::NotOpen { state, .. }) => Reply::private(s::not_open(id, &state)),
            Err(DecideError::Refused(refusal)) => Reply::private(capitalised(&refusal.to_string())),
            Err(DecideError::Conflict) => Reply::private(s::CONFLICT),
            Err(DecideError::Internal(e)) => {
                tracing::error!(error = format!("{e:#}"), proposal = id, "failed to decide a proposal from chat");
                Reply::private(s::INTERNAL)
            }
        }
    }

    async fn silence(&self, req: &SilenceRequest, caller: &Caller<'_>) -> Reply {
        let Some(am) = &self.alertmanager else { return Reply::private(s::SILENCE_OFF) };
        // The people who may approve in this channel may silence from it.
        if let Err(refusal) = self.policy.approver_rules().check(caller.person, &caller.origin()) {
            return Reply::private(s::silence_refused(&refusal.to_string()));
        }
        let found = match self.silence_target(&req.target).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "failed to look up a silence target");
                return Reply::private(s::INTERNAL);
            }
        };
        let (incident_id, labels) = match found {
            Found::Labels(id, labels) => (id, labels),
            Found::Reply(reply) => return reply,
        };
        // Same answer whether the alert exists or is out of this channel's scope.
        let in_scope = labels.get("namespace").map_or(caller.scope.allows_everything(), |ns| caller.scope.allows(ns));
        if !in_scope {
            return Reply::private(match req.target {
                SilenceTarget::Incident(_) => s::SILENCE_NO_INCIDENT,
                SilenceTarget::Fingerprint(_) => s::SILENCE_NO_ALERT,
            });
        }
        let who = caller.person.id.to_string();
        let target = match &req.target {
            SilenceTarget::Incident(id) => format!("incident {id}"),
            SilenceTarget::Fingerprint(fp) => format!("alert {fp}"),
        };
        let comment = req.reason.clone().unwrap_or_else(|| s::silence_comment(&who, &target));
        match am.silence(&labels, req.duration, &who, &comment).await {
            Ok(created) => {
                let detail = json!({"silence": created.id, "ends_at": created.ends_at.to_string(), "matchers": labels, "comment": comment});
                if let Err(e) = self.store.append_events(&[NewEvent::new(incident_id, "silenced", &who, detail)]).await
                {
                    tracing::error!(error = %e, "failed to record a silence in the timeline");
                }
                Reply::public(s::silenced(&created.id, &created.ends_at.to_string(), &silence::describe(&labels)))
            }
            Err(e) => Reply::private(s::silence_failed(&e.to_string())),
        }
    }

    async fn silence_target(&self, target: &SilenceTarget) -> anyhow::Result<Found> {
        Ok(match target {
            SilenceTarget::Incident(id) => {
                let (sets, common) = self.store.alert_labels(*id).await?;
                if sets.is_empty() {
                    Found::Reply(Reply::private(s::SILENCE_NO_INCIDENT))
                } else if common.is_empty() {
                    Found::Reply(Reply::private(s::SILENCE_NO_LABELS))
                } else {
                    Found::Labels(*id, common)
                }
            }
            SilenceTarget::Fingerprint(fp) => match self.store.alert_by_fingerprint(fp).await? {
                Some((id, labels)) if !labels.is_empty() => Found::Labels(id, labels),
                _ => Found::Reply(Reply::private(s::SILENCE_NO_ALERT)),
            },
        })
    }
}

enum Found {
    Labels(i64, Labels),
    Reply(Reply),
}

fn asker(caller: &Caller<'_>) -> Asker {
    Asker(caller.person.id.to_string())
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
