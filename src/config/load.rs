//! Loading: defaults <- TOML file <- `MIMI__SECTION__KEY` environment, then `*_file` secrets, then
//! validation. Every problem found is reported, each with the key to fix.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Toml};

use super::{Secret, Settings, validate};

/// One problem with the configuration: the key (e.g. `webhook.bearer_token`) and what is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { key: key.into(), message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.key, self.message) }
    }
}

/// Every problem found, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "the configuration has {n} problem{}:", if n == 1 { "" } else { "s" })?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Loads the configuration from `file` (if any) and the process environment.
pub fn load(file: Option<&Path>) -> Result<Settings, ConfigErrors> {
    load_from(file, std::env::vars())
}

/// Loads from `file` and the given environment (tests pass their own).
pub fn load_from(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigErrors> {
    let mut figment = Figment::new();
    if let Some(path) = file {
        if !path.is_file() {
            let msg = format!("configuration file {} does not exist or is not a file", path.display());
            return Err(ConfigErrors(vec![ConfigError::new("", msg)]));
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    // Figment reads the real environment; copy the chosen variables into a provider of their own.
    let env: Vec<(String, String)> = env.into_iter().collect();
    let legacy = env.iter().filter(|(k, _)| LEGACY_POLICY_ENV.iter().any(|(name, _)| name == k)).cloned().collect();
    let vars: Vec<(String, String)> = env.into_iter().filter(|(k, _)| k.starts_with(ENV_PREFIX)).collect();
    // Legacy aliases override the file; MIMI__ variables override both.
    figment = figment.merge(LegacyPolicyEnv(legacy)).merge(EnvSnapshot(vars));
    let mut settings: Settings = figment.extract().map_err(|e| ConfigErrors(figment_errors(e)))?;

    let mut errors = Vec::new();
    resolve_secrets(&mut settings, &mut errors);
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    super::slack::apply_defaults(&mut settings);
    validate_settings(&settings)?;
    Ok(settings)
}

/// The environment's settings (`MIMI__...`, secrets from files) before validation, for callers that
/// complete them in code and then call [`validate_settings`] (`mimi demo`).
pub fn load_env_unvalidated() -> Result<Settings, ConfigErrors> {
    let vars: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with(ENV_PREFIX)).collect();
    let figment = Figment::new().merge(EnvSnapshot(vars));
    let mut settings: Settings = figment.extract().map_err(|e| ConfigErrors(figment_errors(e)))?;
    let mut errors = Vec::new();
    resolve_secrets(&mut settings, &mut errors);
    super::slack::apply_defaults(&mut settings);
    if errors.is_empty() { Ok(settings) } else { Err(ConfigErrors(errors)) }
}

/// Validates settings built in code (`mimi demo`), with the same rules as a loaded file.
pub fn validate_settings(settings: &Settings) -> Result<(), ConfigErrors> {
    let mut errors = Vec::new();
    validate::validate(settings, &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(ConfigErrors(errors)) }
}

const ENV_PREFIX: &str = "MIMI__";

/// A frozen set of `MIMI__...` variables: `MIMI__WEBHOOK__BEARER_TOKEN` sets `webhook.bearer_token`.
/// Values parse as figment's `Env` provider parses them (numbers, booleans, `[arrays]`, else text).
struct EnvSnapshot(Vec<(String, String)>);

impl figment::Provider for EnvSnapshot {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named("environment variable")
            .interpolater(|_, keys| format!("{ENV_PREFIX}{}", keys.join("__").to_ascii_uppercase()))
    }

    fn data(&self) -> figment::Result<figment::value::Map<figment::Profile, figment::value::Dict>> {
        use figment::value::{Dict, Value};
        let mut dict = Dict::new();
        for (key, raw) in &self.0 {
            let path = key[ENV_PREFIX.len()..].to_ascii_lowercase().replace("__", ".");
            let value: Value = raw.parse().unwrap_or_else(|never| match never {});
            if let Value::Dict(_, nested) = figment::util::nest(&path, value) {
                dict = merge(dict, nested);
            }
        }
        Ok(figment::Profile::Default.collect(dict))
    }
}

// --- Legacy policy variables (the AI SRE agent Mimi replaces) ---------------------------------

/// The legacy environment variables read as aliases, and the key each one sets.
pub const LEGACY_POLICY_ENV: [(&str, &str); 3] = [
    ("AUTO_ACTION_ENABLED", "policy.auto_approve"),
    ("CONFIDENCE_THRESHOLD", "policy.confidence_threshold"),
    ("REQUIRE_APPROVAL_FOR", "policy.require_approval_for"),
];

/// `AUTO_ACTION_ENABLED=true|false` (also 1/0, yes/no, on/off, any case), `CONFIDENCE_THRESHOLD=0.8`,
/// `REQUIRE_APPROVAL_FOR=high,medium` (or `[high, medium]`; `critical`, a level Mimi does not
/// have, means `high`). A value that does not parse is passed on as text, so the error names the
/// variable and what was expected.
struct LegacyPolicyEnv(Vec<(String, String)>);

impl figment::Provider for LegacyPolicyEnv {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named("legacy environment variable").interpolater(|_, keys| {
            let path = keys.join(".");
            let legacy = LEGACY_POLICY_ENV.iter().find(|(_, key)| path.starts_with(key));
            legacy.map_or(path.clone(), |(name, _)| (*name).to_string())
        })
    }

    fn data(&self) -> figment::Result<figment::value::Map<figment::Profile, figment::value::Dict>> {
        use figment::value::{Dict, Value};
        let mut dict = Dict::new();
        for (name, raw) in &self.0 {
            let Some((_, key)) = LEGACY_POLICY_ENV.iter().find(|(n, _)| n == name) else { continue };
            let text = raw.trim();
            let value = match name.as_str() {
                "AUTO_ACTION_ENABLED" => match text.to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" => Value::from(true),
                    "false" | "0" | "no" | "off" | "" => Value::from(false),
                    _ => Value::from(text.to_string()),
                },
                "CONFIDENCE_THRESHOLD" => {
                    text.parse::<f64>().map_or_else(|_| Value::from(text.to_string()), Value::from)
                }
                _ => Value::from(legacy_risks(text)),
            };
            if let Value::Dict(_, nested) = figment::util::nest(key, value) {
                dict = merge(dict, nested);
            }
        }
        Ok(figment::Profile::Default.collect(dict))
    }
}

fn legacy_risks(text: &str) -> Vec<String> {
    let mut risks: Vec<String> = Vec::new();
    let inner = text.trim_start_matches('[').trim_end_matches(']');
    for item in inner.split(',').map(|s| s.trim().trim_matches(['"', '\'']).to_ascii_lowercase()) {
        let risk = if item == "critical" { "high".to_string() } else { item };
        if !risk.is_empty() && !risks.contains(&risk) {
            risks.push(risk);
        }
    }
    risks
}

fn merge(mut base: figment::value::Dict, other: figment::value::Dict) -> figment::value::Dict {
    use figment::value::Value;
    for (k, v) in other {
        let merged = match (base.remove(&k), v) {
            (Some(Value::Dict(_, a)), Value::Dict(tag, b)) => Value::Dict(tag, merge(a, b)),
            (_, v) => v,
        };
        base.insert(k, merged);
    }
    base
}

fn figment_errors(err: figment::Error) -> Vec<ConfigError> {
    err.into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let source = e.metadata.as_ref().map(|m| match &m.source {
                Some(figment::Source::File(path)) => format!("{} {}", m.name, path.display()),
                _ => {
                    let keys: Vec<&str> = e.path.iter().map(String::as_str).collect();
                    m.interpolate(&e.profile.clone().unwrap_or_default(), &keys)
                }
            });
            let message = match source {
                Some(source) => format!("{} (in {source})", e.kind),
                None => e.kind.to_string(),
            };
            ConfigError::new(key, message)
        })
        .collect()
}

/// Fills every secret given as `x_file` from its file; `x` and `x_file` together is an error.
fn resolve_secrets(s: &mut Settings, errors: &mut Vec<ConfigError>) {
    resolve(&mut s.webhook.bearer_token, &mut s.webhook.bearer_token_file, "webhook.bearer_token", errors);
    resolve(&mut s.webhook.basic_password, &mut s.webhook.basic_password_file, "webhook.basic_password", errors);
    let p = &mut s.prometheus;
    resolve(&mut p.bearer_token, &mut p.bearer_token_file, "prometheus.bearer_token", errors);
    resolve(&mut p.basic_password, &mut p.basic_password_file, "prometheus.basic_password", errors);
    resolve(&mut s.email.password, &mut s.email.password_file, "email.password", errors);
    for (i, t) in s.api.tokens.iter_mut().enumerate() {
        resolve(&mut t.token, &mut t.token_file, &format!("api.tokens[{i}].token"), errors);
    }
    resolve(&mut s.llm.api_key, &mut s.llm.api_key_file, "llm.api_key", errors);
    for (i, u) in s.console.users.iter_mut().enumerate() {
        let key = format!("console.users[{i}].password_hash");
        resolve(&mut u.password_hash, &mut u.password_hash_file, &key, errors);
    }
    let mx = &mut s.matrix;
    resolve(&mut mx.access_token, &mut mx.access_token_file, "matrix.access_token", errors);
    resolve(&mut mx.password, &mut mx.password_file, "matrix.password", errors);
    resolve(&mut mx.store_passphrase, &mut mx.store_passphrase_file, "matrix.store_passphrase", errors);
    let am = &mut s.alertmanager;
    resolve(&mut am.bearer_token, &mut am.bearer_token_file, "alertmanager.bearer_token", errors);
    let sl = &mut s.slack;
    resolve(&mut sl.bot_token, &mut sl.bot_token_file, "slack.bot_token", errors);
    resolve(&mut sl.signing_secret, &mut sl.signing_secret_file, "slack.signing_secret", errors);
    let key = "slack.previous_signing_secret";
    resolve(&mut sl.previous_signing_secret, &mut sl.previous_signing_secret_file, key, errors);
    resolve(&mut sl.app_token, &mut sl.app_token_file, "slack.app_token", errors);
    let e = &mut s.memory.embedder;
    resolve(&mut e.api_key, &mut e.api_key_file, "memory.embedder.api_key", errors);
    let q = &mut s.memory.qdrant;
    resolve(&mut q.api_key, &mut q.api_key_file, "memory.qdrant.api_key", errors);
}

fn resolve(value: &mut Option<Secret>, file: &mut Option<PathBuf>, key: &str, errors: &mut Vec<ConfigError>) {
    let Some(path) = file.take() else { return };
    if value.is_some() {
        errors.push(ConfigError::new(key, format!("set either {key} or {key}_file, not both")));
        return;
    }
    match std::fs::read_to_string(&path) {
        Ok(text) => *value = Some(Secret::new(text.trim_end_matches(['\n', '\r']))),
        Err(e) => errors.push(ConfigError::new(format!("{key}_file"), format!("cannot read {}: {e}", path.display()))),
    }
}
