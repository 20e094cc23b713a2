//! `[console]`: the web console at `/` — who may sign in (users with argon2 password hashes, or a
//! trusted reverse proxy's user header) and how long a session lasts. Whether a signed-in user may
//! approve is decided by `[[policy.approvers]]` with `platform = "web"`, as for API tokens.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Serve the console at `/` (the API is served either way).
    pub enabled: bool,
    /// People who sign in with a password.
    pub users: Vec<ConsoleUser>,
    /// A header set by a trusted reverse proxy that has already authenticated the user
    /// (e.g. `X-Forwarded-User` from oauth2-proxy). Honoured only from `trusted_proxies`.
    pub trusted_header: Option<String>,
    /// The proxies' addresses whose `trusted_header` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// A session ends this long after sign-in.
    pub session_hours: u64,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            enabled: true,
            users: Vec::new(),
            trusted_header: None,
            trusted_proxies: Vec::new(),
            session_hours: 12,
        }
    }
}

/// A console user; `password_hash` is an argon2 PHC string (`mimi console hash-password`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleUser {
    pub name: String,
    #[serde(default)]
    pub password_hash: Option<Secret>,
    #[serde(default)]
    pub password_hash_file: Option<PathBuf>,
}

impl ConsoleSettings {
    /// Anyone can sign in.
    pub fn sign_in_possible(&self) -> bool {
        !self.users.is_empty() || self.trusted_header.is_some()
    }
}

pub(super) fn validate(c: &ConsoleSettings, errors: &mut Vec<ConfigError>) {
    for (i, u) in c.users.iter().enumerate() {
        let key = format!("console.users[{i}]");
        if !valid_name(&u.name) {
            errors.push(ConfigError::new(
                format!("{key}.name"),
                format!("{:?} must be 1-64 letters, digits, '.', '_', '-' or '@'", u.name),
            ));
        }
        match &u.password_hash {
            None => errors.push(ConfigError::new(
                format!("{key}.password_hash"),
                "is required (an argon2 hash: run `mimi console hash-password`)",
            )),
            Some(h) if argon2::PasswordHash::new(h.expose()).is_err() => errors.push(ConfigError::new(
                format!("{key}.password_hash"),
                "is not an argon2 PHC string ($argon2id$v=19$...): run `mimi console hash-password`",
            )),
            Some(_) => {}
        }
        if c.users[..i].iter().any(|o| o.name == u.name) {
            errors.push(ConfigError::new(format!("{key}.name"), format!("{:?} is listed twice", u.name)));
        }
    }
    if let Some(h) = &c.trusted_header {
        if axum::http::HeaderName::try_from(h.as_str()).is_err() {
            errors.push(ConfigError::new("console.trusted_header", format!("{h:?} is not a valid header name")));
        }
        if c.trusted_proxies.is_empty() {
            errors.push(ConfigError::new(
                "console.trusted_proxies",
                "must list the reverse proxies' addresses when console.trusted_header is set \
                 (otherwise anyone could send the header)",
            ));
        }
    }
    if !(1..=720).contains(&c.session_hours) {
        errors.push(ConfigError::new(
            "console.session_hours",
            format!("must be between 1 and 720, got {}", c.session_hours),
        ));
    }
}

/// A user name the console accepts (also what `web:<name>` approvers are written with).
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}
