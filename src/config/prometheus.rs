//! `[prometheus]`: where the metrics evidence comes from. Without `url` there is none, and the
//! evidence says nothing about metrics. The URL is the only host Mimi ever sends a query to: the
//! host inside an alert's `generatorURL` is never contacted.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

/// How to reach the Prometheus HTTP API and how far back to look.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrometheusSettings {
    /// The Prometheus base URL, e.g. `http://prometheus-operated.monitoring.svc:9090` (a path prefix
    /// such as `/prometheus` is kept). `http` or `https`; credentials go in the keys below, never
    /// in the URL.
    pub url: Option<String>,
    pub bearer_token: Option<Secret>,
    pub bearer_token_file: Option<PathBuf>,
    pub basic_username: Option<String>,
    pub basic_password: Option<Secret>,
    pub basic_password_file: Option<PathBuf>,
    /// PEM file of the CA certificates to trust for an `https` URL, instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// Upper bound on one query, including connecting.
    pub timeout_seconds: u64,
    /// How far back the metrics evidence looks.
    pub lookback_minutes: u64,
}

impl Default for PrometheusSettings {
    fn default() -> Self {
        PrometheusSettings {
            url: None,
            bearer_token: None,
            bearer_token_file: None,
            basic_username: None,
            basic_password: None,
            basic_password_file: None,
            ca_file: None,
            timeout_seconds: 10,
            lookback_minutes: 60,
        }
    }
}

impl PrometheusSettings {
    pub fn enabled(&self) -> bool {
        self.url.is_some()
    }
}

/// Checks `[prometheus]`, naming the key to fix.
pub(super) fn validate(p: &PrometheusSettings, errors: &mut Vec<ConfigError>) {
    let mut err = |key: &str, msg: String| errors.push(ConfigError::new(format!("prometheus.{key}"), msg));
    match &p.url {
        Some(url) => {
            if let Err(why) = check_url(url) {
                err("url", why);
            }
        }
        None => {
            let configured = p.bearer_token.is_some() || p.basic_username.is_some() || p.basic_password.is_some();
            if configured || p.ca_file.is_some() {
                err("url", "credentials or ca_file are set but url is not; set url to enable metrics".into());
            }
        }
    }
    for (key, secret) in [("bearer_token", &p.bearer_token), ("basic_password", &p.basic_password)] {
        if secret.as_ref().is_some_and(Secret::is_empty) {
            err(key, "is empty".into());
        }
    }
    match (&p.basic_username, &p.basic_password) {
        (Some(u), _) if u.is_empty() || u.contains(':') => {
            err("basic_username", "must be non-empty without ':'".into())
        }
        (Some(_), None) => err("basic_password", "basic_username is set, so basic_password is needed".into()),
        (None, Some(_)) => err("basic_username", "basic_password is set, so basic_username is needed".into()),
        _ => {}
    }
    if p.bearer_token.is_some() && p.basic_username.is_some() {
        err("bearer_token", "set either bearer_token or basic_username/basic_password, not both".into());
    }
    if let Some(path) = &p.ca_file
        && !path.is_file()
    {
        err("ca_file", format!("{} does not exist or is not a file", path.display()));
    }
    if !(1..=120).contains(&p.timeout_seconds) {
        err("timeout_seconds", format!("must be between 1 and 120, got {}", p.timeout_seconds));
    }
    if !(5..=1440).contains(&p.lookback_minutes) {
        err("lookback_minutes", format!("must be between 5 and 1440, got {}", p.lookback_minutes));
    }
}

pub(super) fn check_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("must be an http or https URL, got scheme {:?}", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials; use basic_username and basic_password(_file)".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query string or fragment".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(p: &PrometheusSettings) -> Vec<String> {
        let mut errors = Vec::new();
        validate(p, &mut errors);
        errors.into_iter().map(|e| e.to_string()).collect()
    }

    fn with_url(url: &str) -> PrometheusSettings {
        PrometheusSettings { url: Some(url.into()), ..Default::default() }
    }

    #[test]
    fn the_default_is_off_and_valid() {
        assert!(!PrometheusSettings::default().enabled());
        assert!(errors_of(&PrometheusSettings::default()).is_empty());
    }

    #[test]
    fn urls_are_checked_naming_the_key() {
        for ok in ["http://prometheus:9090", "https://prom.example.com/prometheus/", "http://127.0.0.1:9090"] {
            assert!(errors_of(&with_url(ok)).is_empty(), "{ok}");
        }
        for bad in ["prometheus:9090/x", "ftp://prom", "http://u:p@prom:9090", "http://prom/?x=1", "not a url", ""] {
            let errors = errors_of(&with_url(bad));
            assert_eq!(errors.len(), 1, "{bad}: {errors:?}");
            assert!(errors[0].starts_with("prometheus.url: "), "{errors:?}");
        }
    }

    #[test]
    fn credentials_are_consistent() {
        let mut p = with_url("http://prom:9090");
        p.basic_username = Some("mimi".into());
        assert_eq!(errors_of(&p), ["prometheus.basic_password: basic_username is set, so basic_password is needed"]);
        p.basic_password = Some(Secret::new("pw"));
        assert!(errors_of(&p).is_empty());
        p.bearer_token = Some(Secret::new("t"));
        assert_eq!(
            errors_of(&p),
            ["prometheus.bearer_token: set either bearer_token or basic_username/basic_password, not both"]
        );
        let orphan = PrometheusSettings { bearer_token: Some(Secret::new("t")), ..Default::default() };
        assert!(errors_of(&orphan)[0].starts_with("prometheus.url: "));
    }

    #[test]
    fn the_section_loads_from_toml_env_and_secret_files() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("prom-token");
        std::fs::write(&token, "prom-secret\n").unwrap();
        let file = dir.path().join("mimi.toml");
        let toml = format!(
            "[webhook]\nallow_unauthenticated = true\n[prometheus]\nurl = \"http://prom:9090\"\nbearer_token_file = {:?}\n",
            token.display().to_string()
        );
        std::fs::write(&file, toml).unwrap();
        let env = [("MIMI__PROMETHEUS__LOOKBACK_MINUTES".to_string(), "90".to_string())];
        let s = super::super::load_from(Some(&file), env).unwrap();
        assert_eq!(s.prometheus.url.as_deref(), Some("http://prom:9090"));
        assert_eq!(s.prometheus.bearer_token.as_ref().map(Secret::expose), Some("prom-secret"));
        assert_eq!(s.prometheus.lookback_minutes, 90);
        assert!(!format!("{:?}", s.prometheus).contains("prom-secret"));
    }

    #[test]
    fn bounds_are_named() {
        let mut p = with_url("http://prom:9090");
        p.timeout_seconds = 0;
        p.lookback_minutes = 100_000;
        assert_eq!(
            errors_of(&p),
            [
                "prometheus.timeout_seconds: must be between 1 and 120, got 0",
                "prometheus.lookback_minutes: must be between 5 and 1440, got 100000"
            ]
        );
    }
}
