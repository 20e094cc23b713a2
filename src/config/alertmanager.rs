//! `[alertmanager]`: the Alertmanager API Mimi creates silences in (`silence` chat command). Without
//! `url` there are no silences from chat.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertmanagerSettings {
    /// The Alertmanager base URL, e.g. `http://alertmanager-operated.monitoring.svc:9093`; the API
    /// v2 is under `/api/v2` of it.
    pub url: Option<String>,
    /// Sent as `Authorization: Bearer` (a proxy in front of Alertmanager).
    pub bearer_token: Option<Secret>,
    pub bearer_token_file: Option<PathBuf>,
    /// Upper bound on one API call.
    pub timeout_seconds: u64,
}

impl Default for AlertmanagerSettings {
    fn default() -> Self {
        AlertmanagerSettings { url: None, bearer_token: None, bearer_token_file: None, timeout_seconds: 10 }
    }
}

impl AlertmanagerSettings {
    pub fn enabled(&self) -> bool {
        self.url.is_some()
    }
}

pub(super) fn validate(a: &AlertmanagerSettings, errors: &mut Vec<ConfigError>) {
    let mut err = |key: &str, msg: String| errors.push(ConfigError::new(format!("alertmanager.{key}"), msg));
    match &a.url {
        Some(url) => {
            if let Err(why) = super::prometheus::check_url(url) {
                err("url", why);
            }
        }
        None if a.bearer_token.is_some() => err("url", "bearer_token is set but url is not".into()),
        None => {}
    }
    if a.bearer_token.as_ref().is_some_and(Secret::is_empty) {
        err("bearer_token", "is empty".into());
    }
    if !(1..=120).contains(&a.timeout_seconds) {
        err("timeout_seconds", format!("must be between 1 and 120, got {}", a.timeout_seconds));
    }
}
