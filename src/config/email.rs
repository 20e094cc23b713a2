//! `[email]`: the SMTP sink — a sink in its own right (routes with `sink = "email"`) and the
//! fallback when an incident's chat delivery has not succeeded in time or every chat sink is down.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required; port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS: only to a relay on the loopback address.
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    /// The SMTP server; without it there is no email.
    pub smtp_host: Option<String>,
    /// Default: 587 (starttls), 465 (implicit), 25 (none).
    pub smtp_port: Option<u16>,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    /// PEM file of the CAs to trust instead of the system's (a private relay).
    pub ca_file: Option<PathBuf>,
    /// The sender, e.g. `Mimi <mimi@example.com>`.
    pub from: Option<String>,
    /// Default recipients: of routes with `sink = "email"` that name none, of the fallback, and of
    /// the dead man's switch.
    pub to: Vec<String>,
    /// An incident whose chat message has not been delivered after this long is emailed.
    pub fallback_after_seconds: u64,
    /// Upper bound on one SMTP conversation.
    pub timeout_seconds: u64,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            smtp_host: None,
            smtp_port: None,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            password_file: None,
            ca_file: None,
            from: None,
            to: Vec::new(),
            fallback_after_seconds: 120,
            timeout_seconds: 30,
        }
    }
}

impl EmailSettings {
    pub fn enabled(&self) -> bool {
        self.smtp_host.is_some()
    }

    pub fn port(&self) -> u16 {
        self.smtp_port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Implicit => 465,
            SmtpTls::None => 25,
        })
    }
}

/// An address as `a@example.com` or `Name <a@example.com>`.
pub fn check_address(addr: &str) -> Result<(), String> {
    addr.parse::<lettre::message::Mailbox>().map(drop).map_err(|e| format!("{addr:?} is not an email address ({e})"))
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "::1" | "[::1]" | "localhost")
}

pub(super) fn validate(e: &EmailSettings, errors: &mut Vec<ConfigError>) {
    let mut err = |key: &str, msg: String| errors.push(ConfigError::new(format!("email.{key}"), msg));
    let Some(host) = &e.smtp_host else {
        if e.username.is_some() || e.password.is_some() || e.from.is_some() || !e.to.is_empty() {
            err("smtp_host", "email settings are given but smtp_host is not; set it to enable email".into());
        }
        return;
    };
    if host.trim().is_empty() || host.contains(['/', ' ', '@']) {
        err("smtp_host", format!("{host:?} is not a host name or address"));
    }
    if e.tls == SmtpTls::None && !is_loopback(host) {
        err("tls", format!("\"none\" sends mail and passwords in clear text: only allowed to 127.0.0.1, not {host:?}"));
    }
    if e.smtp_port == Some(0) {
        err("smtp_port", "must be between 1 and 65535".into());
    }
    match (&e.username, &e.password) {
        (Some(u), None) if !u.is_empty() => {
            err("password", "username is set, so password (or password_file) is needed".into())
        }
        (None, Some(_)) => err("username", "password is set, so username is needed".into()),
        (Some(u), _) if u.is_empty() => err("username", "is empty".into()),
        _ => {}
    }
    if e.password.as_ref().is_some_and(Secret::is_empty) {
        err("password", "is empty".into());
    }
    match &e.from {
        None => err("from", "is needed to send email, e.g. \"Mimi <mimi@example.com>\"".into()),
        Some(from) => {
            if let Err(why) = check_address(from) {
                err("from", why);
            }
        }
    }
    if e.to.is_empty() {
        err("to", "needs at least one default recipient (fallback and dead man's switch)".into());
    }
    for (i, addr) in e.to.iter().enumerate() {
        if let Err(why) = check_address(addr) {
            err(&format!("to[{i}]"), why);
        }
    }
    if let Some(path) = &e.ca_file
        && !path.is_file()
    {
        err("ca_file", format!("{} does not exist or is not a file", path.display()));
    }
    if !(10..=86_400).contains(&e.fallback_after_seconds) {
        err("fallback_after_seconds", format!("must be between 10 and 86400, got {}", e.fallback_after_seconds));
    }
    if !(1..=600).contains(&e.timeout_seconds) {
        err("timeout_seconds", format!("must be between 1 and 600, got {}", e.timeout_seconds));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(e: &EmailSettings) -> Vec<String> {
        let mut errors = Vec::new();
        validate(e, &mut errors);
        errors.into_iter().map(|e| e.to_string()).collect()
    }

    fn on(host: &str) -> EmailSettings {
        EmailSettings {
            smtp_host: Some(host.into()),
            from: Some("Mimi <mimi@example.com>".into()),
            to: vec!["oncall@example.com".into()],
            ..EmailSettings::default()
        }
    }

    #[test]
    fn off_by_default_and_valid_when_complete() {
        assert!(!EmailSettings::default().enabled());
        assert!(errors_of(&EmailSettings::default()).is_empty());
        assert!(errors_of(&on("smtp.example.com")).is_empty());
        assert_eq!(on("x").port(), 587);
    }

    #[test]
    fn clear_text_only_to_loopback_and_keys_are_named() {
        let mut e = on("smtp.example.com");
        e.tls = SmtpTls::None;
        assert!(errors_of(&e)[0].starts_with("email.tls: "));
        let mut e = on("127.0.0.1");
        e.tls = SmtpTls::None;
        assert!(errors_of(&e).is_empty());
        let mut e = on("smtp.example.com");
        e.from = Some("not an address".into());
        e.to = vec!["x@y".into(), "nope".into()];
        e.username = Some("mimi".into());
        let errors = errors_of(&e);
        assert!(errors.iter().any(|m| m.starts_with("email.from: ")), "{errors:?}");
        assert!(errors.iter().any(|m| m.starts_with("email.to[1]: ")), "{errors:?}");
        assert!(errors.iter().any(|m| m.starts_with("email.password: ")), "{errors:?}");
    }
}
