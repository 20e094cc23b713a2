//! Who may approve, and where: platform-qualified identities and the per-channel approver rules
//! (RELIABILITY C05, C06, D01-D03).
//!
//! The chat adapters resolve who clicked, reacted or typed (Slack: a verified request's team and
//! user ids; Matrix: the event's full sender id; web: the signed-in user or the API token's name)
//! and the groups that person is in. Nothing here trusts a display name: a Matrix user is the full
//! `@user:server`, so a look-alike server is a different person (D03); a Slack user is a team and a
//! user id, and the team must be the one the rule names (or the workspace Mimi is installed in), so
//! someone from another organisation in a shared channel is refused (C06).

use std::collections::BTreeSet;
use std::fmt;

use super::approval::ApprovalRefusal;

/// Where an approval comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Slack,
    Matrix,
    /// The web console and the HTTP approval API.
    Web,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Slack => "slack",
            Platform::Matrix => "matrix",
            Platform::Web => "web",
        }
    }
}

/// A person, qualified by platform: `slack:T123:U456`, `matrix:@alice:example.org`, `web:alice`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApproverId {
    Slack { team: String, user: String },
    Matrix { user: String },
    Web { user: String },
}

/// Why an identity was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("{0:?} is not a Slack id (uppercase letters and digits, e.g. T0123ABCD or U0456EFGH)")]
    SlackId(String),
    #[error("{0:?} is not a full Matrix user id such as @alice:example.org")]
    MatrixUser(String),
    #[error("{0:?} is not a web user name (1-64 letters, digits, '.', '_', '-' or '@')")]
    WebUser(String),
    #[error("{0:?} is not an approver id (slack:TEAM:USER, matrix:@user:server or web:NAME)")]
    Format(String),
}

fn shown(text: &str) -> String {
    text.chars().take(80).collect()
}

/// A Slack team, enterprise, user, channel or user group id.
pub fn is_slack_id(text: &str) -> bool {
    (2..=32).contains(&text.len()) && text.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A full Matrix id with its sigil (`@` user, `!` room): `{sigil}localpart:server`.
pub fn is_matrix_id(text: &str, sigil: char) -> bool {
    let Some(rest) = text.strip_prefix(sigil) else { return false };
    let Some((local, server)) = rest.split_once(':') else { return false };
    text.len() <= 255
        && !local.is_empty()
        && !server.is_empty()
        && text.chars().all(|c| c.is_ascii_graphic())
        && server.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
}

fn is_web_user(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
}

impl ApproverId {
    pub fn slack(team: &str, user: &str) -> Result<Self, IdentityError> {
        for id in [team, user] {
            if !is_slack_id(id) {
                return Err(IdentityError::SlackId(shown(id)));
            }
        }
        Ok(ApproverId::Slack { team: team.to_string(), user: user.to_string() })
    }

    pub fn matrix(user: &str) -> Result<Self, IdentityError> {
        if !is_matrix_id(user, '@') {
            return Err(IdentityError::MatrixUser(shown(user)));
        }
        Ok(ApproverId::Matrix { user: user.to_string() })
    }

    pub fn web(user: &str) -> Result<Self, IdentityError> {
        if !is_web_user(user) {
            return Err(IdentityError::WebUser(shown(user)));
        }
        Ok(ApproverId::Web { user: user.to_string() })
    }

    /// Parses the qualified form written by `Display` (as stored in audit rows).
    pub fn parse(text: &str) -> Result<Self, IdentityError> {
        match text.split_once(':') {
            Some(("slack", rest)) => match rest.split_once(':') {
                Some((team, user)) => Self::slack(team, user),
                None => Err(IdentityError::Format(shown(text))),
            },
            Some(("matrix", user)) => Self::matrix(user),
            Some(("web", user)) => Self::web(user),
            _ => Err(IdentityError::Format(shown(text))),
        }
    }

    pub fn platform(&self) -> Platform {
        match self {
            ApproverId::Slack { .. } => Platform::Slack,
            ApproverId::Matrix { .. } => Platform::Matrix,
            ApproverId::Web { .. } => Platform::Web,
        }
    }

    /// The user part as written in `[[policy.approvers]] users`: the Slack user id, the full Matrix
    /// id, the web user name.
    pub fn user(&self) -> &str {
        match self {
            ApproverId::Slack { user, .. } | ApproverId::Matrix { user } | ApproverId::Web { user } => user,
        }
    }
}

impl fmt::Display for ApproverId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApproverId::Slack { team, user } => write!(f, "slack:{team}:{user}"),
            ApproverId::Matrix { user } => write!(f, "matrix:{user}"),
            ApproverId::Web { user } => write!(f, "web:{user}"),
        }
    }
}

impl serde::Serialize for ApproverId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ApproverId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        ApproverId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A message a proposal was posted in: Slack channel id + message ts, Matrix room id + event id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct MessageRef {
    pub platform: Platform,
    pub channel: String,
    pub message: String,
}

/// Where a decision was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A button or reaction on a message.
    Message(MessageRef),
    /// A command naming the proposal (`/mimi approve ID`, `!mimi approve ID`) in a channel or room.
    Command { platform: Platform, channel: String },
    /// The web console or the HTTP approval API.
    Console,
}

impl Origin {
    pub fn platform(&self) -> Platform {
        match self {
            Origin::Message(m) => m.platform,
            Origin::Command { platform, .. } => *platform,
            Origin::Console => Platform::Web,
        }
    }

    pub fn channel(&self) -> Option<&str> {
        match self {
            Origin::Message(m) => Some(&m.channel),
            Origin::Command { channel, .. } => Some(channel),
            Origin::Console => None,
        }
    }
}

/// A resolved person: who, and the groups the adapter found them in (Slack user group ids, web
/// console groups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approver {
    pub id: ApproverId,
    pub groups: BTreeSet<String>,
}

impl Approver {
    pub fn new(id: ApproverId) -> Self {
        Approver { id, groups: BTreeSet::new() }
    }
}

/// One `[[policy.approvers]]` entry: who may approve in one channel or room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproverRule {
    pub platform: Platform,
    /// Slack channel id or Matrix room id; `None` for the web console.
    pub channel: Option<String>,
    /// Slack only: the team the users must belong to; default: the workspace Mimi is installed in.
    pub team: Option<String>,
    /// Slack user ids, full Matrix user ids, or web user names.
    pub users: BTreeSet<String>,
    /// Group ids; a member of any of them may approve.
    pub groups: BTreeSet<String>,
}

/// All approver rules. Fails closed: no rule for a channel means nobody approves there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApproverRules {
    rules: Vec<ApproverRule>,
    home_slack_team: Option<String>,
}

impl ApproverRules {
    pub fn new(rules: Vec<ApproverRule>) -> Self {
        ApproverRules { rules, home_slack_team: None }
    }

    /// The team id of the Slack workspace Mimi is installed in: Slack rules without a `team` accept
    /// only its members. Without it, such rules accept nobody.
    pub fn with_home_slack_team(mut self, team: impl Into<String>) -> Self {
        self.home_slack_team = Some(team.into());
        self
    }

    pub fn rules(&self) -> &[ApproverRule] {
        &self.rules
    }

    /// Whether `approver` may decide where `origin` is (its platform and channel or room).
    pub fn check(&self, approver: &Approver, origin: &Origin) -> Result<(), ApprovalRefusal> {
        let (platform, channel) = (origin.platform(), origin.channel());
        if approver.id.platform() != platform {
            return Err(ApprovalRefusal::NotAnApprover);
        }
        let here: Vec<&ApproverRule> =
            self.rules.iter().filter(|r| r.platform == platform && r.channel.as_deref() == channel).collect();
        if here.is_empty() {
            return Err(ApprovalRefusal::ChannelNotConfigured);
        }
        let same_team: Vec<&ApproverRule> = match &approver.id {
            ApproverId::Slack { team, .. } => {
                here.into_iter().filter(|r| r.team.as_ref().or(self.home_slack_team.as_ref()) == Some(team)).collect()
            }
            _ => here,
        };
        if same_team.is_empty() {
            return Err(ApprovalRefusal::WrongTeam);
        }
        let allowed =
            same_team.iter().any(|r| r.users.contains(approver.id.user()) || !r.groups.is_disjoint(&approver.groups));
        if allowed { Ok(()) } else { Err(ApprovalRefusal::NotAnApprover) }
    }
}

#[cfg(test)]
#[path = "approver_tests.rs"]
mod tests;
