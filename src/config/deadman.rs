//! `[deadman]`: the dead man's switch. Alertmanager's always-firing `Watchdog` alert is a heartbeat
//! (never an incident); when it stops arriving, every healthy sink and email hear that the alert
//! pipeline is broken, and again when it is back.

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeadmanSettings {
    pub enabled: bool,
    /// The `alertname` of the always-firing alert.
    pub alertname: String,
    /// Raise the alarm when no Watchdog notification arrived for this long. Alertmanager repeats a
    /// firing group every `repeat_interval` (4h by default!): route the Watchdog with a short
    /// `repeat_interval` (e.g. 1m) and set this to a few times that.
    pub expect_every_minutes: u64,
}

impl Default for DeadmanSettings {
    fn default() -> Self {
        DeadmanSettings { enabled: true, alertname: "Watchdog".into(), expect_every_minutes: 10 }
    }
}

impl DeadmanSettings {
    /// The alert name that is a heartbeat, when the switch is on.
    pub fn watchdog(&self) -> Option<&str> {
        self.enabled.then_some(self.alertname.as_str())
    }
}

pub(super) fn validate(d: &DeadmanSettings, errors: &mut Vec<ConfigError>) {
    if d.alertname.trim().is_empty() {
        errors.push(ConfigError::new("deadman.alertname", "must name the always-firing alert, e.g. \"Watchdog\""));
    }
    if !(1..=1440).contains(&d.expect_every_minutes) {
        errors.push(ConfigError::new(
            "deadman.expect_every_minutes",
            format!("must be between 1 and 1440, got {}", d.expect_every_minutes),
        ));
    }
}
