//! `[matrix]`: the Matrix account Mimi runs as (homeserver, user, access token or password), where
//! its device and encryption keys live, and the rooms it serves (`[[matrix.rooms]]`: the namespaces
//! each room may ask about, an optional power-level threshold for its approvers). Without
//! `homeserver_url` there is no Matrix. docs/matrix.md walks through creating the bot user.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};
use crate::domain::approver::is_matrix_id;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatrixSettings {
    /// The client-server API base, e.g. `https://matrix.example.org`; without it there is no Matrix.
    pub homeserver_url: Option<String>,
    /// The bot's full user id, e.g. `@mimi:example.org`.
    pub user_id: Option<String>,
    /// An access token of the bot's device (kept only in memory: never logged or stored).
    pub access_token: Option<Secret>,
    pub access_token_file: Option<PathBuf>,
    /// Or the bot's password: Mimi logs in once per start, always as the same device.
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    /// The display name of Mimi's device (what other users see when they verify it).
    pub device_name: String,
    /// Encrypts the state and crypto stores on disk (recommended when the data directory is shared).
    pub store_passphrase: Option<Secret>,
    pub store_passphrase_file: Option<PathBuf>,
    /// Where the device id and the SQLite state and crypto stores live; default `matrix/` in `data_dir`.
    pub store_dir: Option<PathBuf>,
    /// Upper bound on one API call (sends, joins); a sync long-polls for `sync_timeout_seconds` more.
    pub timeout_seconds: u64,
    /// How long one sync request waits for new events.
    pub sync_timeout_seconds: u64,
    /// The rooms Mimi serves. It joins these when invited and leaves any other room.
    pub rooms: Vec<MatrixRoom>,
}

/// One room Mimi serves.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixRoom {
    /// The room id, e.g. `!abc:example.org` (not an alias).
    pub id: String,
    /// The namespaces questions from this room may see; omitted: all.
    #[serde(default)]
    pub namespaces: Option<Vec<String>>,
    /// Approvers (`[[policy.approvers]]` for this room) must also hold at least this power level
    /// in the room when they decide (e.g. 50, moderator); omitted: no such requirement.
    #[serde(default)]
    pub approver_power_level: Option<i64>,
}

impl Default for MatrixSettings {
    fn default() -> Self {
        MatrixSettings {
            homeserver_url: None,
            user_id: None,
            access_token: None,
            access_token_file: None,
            password: None,
            password_file: None,
            device_name: "Mimi".into(),
            store_passphrase: None,
            store_passphrase_file: None,
            store_dir: None,
            timeout_seconds: 30,
            sync_timeout_seconds: 30,
            rooms: Vec::new(),
        }
    }
}

impl MatrixSettings {
    pub fn enabled(&self) -> bool {
        self.homeserver_url.is_some()
    }

    /// The configured room with this id.
    pub fn room(&self, id: &str) -> Option<&MatrixRoom> {
        self.rooms.iter().find(|r| r.id == id)
    }
}

pub(super) fn validate(m: &MatrixSettings, errors: &mut Vec<ConfigError>) {
    let mut err = |key: &str, msg: String| errors.push(ConfigError::new(format!("matrix.{key}"), msg));
    let Some(url) = &m.homeserver_url else {
        if m.user_id.is_some() || m.access_token.is_some() || m.password.is_some() || !m.rooms.is_empty() {
            err("homeserver_url", "the [matrix] section is set but homeserver_url is not".into());
        }
        return;
    };
    if let Err(why) = super::prometheus::check_url(url) {
        err("homeserver_url", why);
    }
    match m.user_id.as_deref() {
        None => err("user_id", "is needed: the bot's full user id, e.g. \"@mimi:example.org\"".into()),
        Some(u) if !is_matrix_id(u, '@') => {
            err("user_id", format!("{u:?} is not a full Matrix user id such as \"@mimi:example.org\""))
        }
        _ => {}
    }
    match (&m.access_token, &m.password) {
        (None, None) => {
            err("access_token", "set access_token (or access_token_file) or password (or password_file)".into())
        }
        (Some(_), Some(_)) => err("password", "set either access_token or password, not both".into()),
        _ => {}
    }
    for (key, secret) in
        [("access_token", &m.access_token), ("password", &m.password), ("store_passphrase", &m.store_passphrase)]
    {
        if secret.as_ref().is_some_and(Secret::is_empty) {
            err(key, "is empty".into());
        }
    }
    if m.device_name.trim().is_empty() || m.device_name.chars().count() > 100 {
        err("device_name", "must be 1 to 100 characters".into());
    }
    if !(1..=300).contains(&m.timeout_seconds) {
        err("timeout_seconds", format!("must be between 1 and 300, got {}", m.timeout_seconds));
    }
    if !(1..=300).contains(&m.sync_timeout_seconds) {
        err("sync_timeout_seconds", format!("must be between 1 and 300, got {}", m.sync_timeout_seconds));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, r) in m.rooms.iter().enumerate() {
        if !is_matrix_id(&r.id, '!') {
            err(
                &format!("rooms[{i}].id"),
                format!("{:?} is not a room id such as \"!abc:example.org\" (aliases are not accepted)", r.id),
            );
        } else if !seen.insert(r.id.as_str()) {
            err(&format!("rooms[{i}].id"), format!("{:?} is listed twice", r.id));
        }
        for (j, ns) in r.namespaces.iter().flatten().enumerate() {
            if crate::domain::names::NamespaceName::parse(ns).is_err() {
                err(&format!("rooms[{i}].namespaces[{j}]"), format!("{ns:?} is not a namespace name"));
            }
        }
        if let Some(level) = r.approver_power_level
            && !(0..=100).contains(&level)
        {
            err(&format!("rooms[{i}].approver_power_level"), format!("must be between 0 and 100, got {level}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(m: &MatrixSettings) -> Vec<String> {
        let mut errors = Vec::new();
        validate(m, &mut errors);
        errors.iter().map(|e| e.to_string()).collect()
    }

    fn good() -> MatrixSettings {
        MatrixSettings {
            homeserver_url: Some("https://matrix.example.org".into()),
            user_id: Some("@mimi:example.org".into()),
            access_token: Some(Secret::new("syt_abc")),
            rooms: vec![MatrixRoom {
                id: "!ops:example.org".into(),
                namespaces: Some(vec!["shop".into()]),
                approver_power_level: Some(50),
            }],
            ..MatrixSettings::default()
        }
    }

    #[test]
    fn a_complete_section_validates_and_an_absent_one_is_off() {
        assert!(errors_of(&good()).is_empty(), "{:?}", errors_of(&good()));
        assert!(errors_of(&MatrixSettings::default()).is_empty());
        assert!(!MatrixSettings::default().enabled());
    }

    #[test]
    fn every_mistake_names_its_key() {
        type Case = (&'static str, fn(&mut MatrixSettings));
        let cases: &[Case] = &[
            ("matrix.homeserver_url", |m| m.homeserver_url = Some("ftp://x".into())),
            ("matrix.user_id", |m| m.user_id = Some("mimi".into())),
            ("matrix.user_id", |m| m.user_id = None),
            ("matrix.access_token", |m| m.access_token = None),
            ("matrix.password", |m| m.password = Some(Secret::new("pw"))),
            ("matrix.access_token", |m| m.access_token = Some(Secret::new(" "))),
            ("matrix.device_name", |m| m.device_name = String::new()),
            ("matrix.timeout_seconds", |m| m.timeout_seconds = 0),
            ("matrix.rooms[0].id", |m| m.rooms[0].id = "#ops:example.org".into()),
            ("matrix.rooms[1].id", |m| m.rooms.push(m.rooms[0].clone())),
            ("matrix.rooms[0].namespaces[0]", |m| m.rooms[0].namespaces = Some(vec!["../x".into()])),
            ("matrix.rooms[0].approver_power_level", |m| m.rooms[0].approver_power_level = Some(101)),
        ];
        for (key, change) in cases {
            let mut m = good();
            change(&mut m);
            let errors = errors_of(&m);
            assert!(errors.iter().any(|e| e.starts_with(key)), "{key}: {errors:?}");
        }
        let half = MatrixSettings { user_id: Some("@mimi:x.org".into()), ..MatrixSettings::default() };
        assert!(errors_of(&half)[0].starts_with("matrix.homeserver_url"));
    }
}
