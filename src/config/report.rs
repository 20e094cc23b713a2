//! What `mimi check` prints: what is enabled, what is missing, and warnings about risky choices.

use super::Settings;
use crate::strings::check as s;

/// A checked configuration, described for a human.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// (what, how it is set up)
    pub enabled: Vec<(String, String)>,
    /// (what, why it is off and how to turn it on)
    pub missing: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

pub fn report(c: &Settings) -> Report {
    let mut r = Report::default();
    let mut on = |what: &str, how: String| r.enabled.push((what.to_string(), how));

    on(s::LISTEN, c.server.listen.to_string());
    on(s::DATA_DIR, format!("{} (database {})", c.data_dir.display(), c.database_path().display()));
    on(s::CLUSTER, s::cluster(&c.cluster.name, &c.cluster.label));

    let w = &c.webhook;
    let mut auth = Vec::new();
    if w.bearer_token.is_some() {
        auth.push(s::BEARER.to_string());
    }
    if let (Some(user), Some(_)) = (&w.basic_username, &w.basic_password) {
        auth.push(s::basic(user));
    }
    if auth.is_empty() {
        on(s::WEBHOOK_AUTH, s::NONE.to_string());
        r.warnings.push(s::WARN_WEBHOOK_OPEN.to_string());
    } else {
        on(s::WEBHOOK_AUTH, auth.join(", "));
    }

    if c.api.tokens.is_empty() {
        if c.api.allow_unauthenticated {
            on(s::API_AUTH, s::NONE.to_string());
            r.warnings.push(s::WARN_API_OPEN.to_string());
        } else {
            r.missing.push((s::API_AUTH.to_string(), s::API_NO_TOKENS.to_string()));
        }
    } else {
        let names: Vec<&str> = c.api.tokens.iter().map(|t| t.name.as_str()).collect();
        on(s::API_AUTH, s::tokens(&names));
    }

    on(s::WORKER, s::worker(&c.worker));
    on(s::INGEST, s::INGEST_ON.to_string());
    let k = &c.kubernetes;
    match (&k.kubeconfig, k.in_cluster) {
        (Some(path), _) => {
            on(s::ENRICH, s::enrich_kubeconfig(&path.display().to_string(), k.context.as_deref(), &c.evidence))
        }
        (None, true) => on(s::ENRICH, s::enrich_in_cluster(&c.evidence)),
        (None, false) => r.missing.push((s::ENRICH.to_string(), s::ENRICH_OFF.to_string())),
    }
    match &c.prometheus.url {
        Some(url) => on(s::METRICS, s::metrics(url, c.prometheus.lookback_minutes)),
        None => r.missing.push((s::METRICS.to_string(), s::METRICS_OFF.to_string())),
    }
    on(s::ANALYZER, c.llm.describe());
    r.warnings.extend(c.llm.warnings());
    if c.memory.enabled {
        on(s::MEMORY, c.memory.describe(&c.data_dir));
    } else {
        r.missing.push((s::MEMORY.to_string(), s::MEMORY_OFF.to_string()));
    }
    notify(c, &mut r);
    r
}

/// Which sinks are active, where routes send incidents, the fallback and the dead man's switch.
fn notify(c: &Settings, r: &mut Report) {
    let e = &c.email;
    let mut active = Vec::new();
    if let Some(host) = &e.smtp_host {
        active.push("email");
        let tls = match e.tls {
            super::SmtpTls::Starttls => "STARTTLS",
            super::SmtpTls::Implicit => "implicit TLS",
            super::SmtpTls::None => "no TLS",
        };
        let auth = e.username.as_deref().map(|u| format!(", AUTH as {u}")).unwrap_or_default();
        r.enabled.push((
            s::SINK_EMAIL.to_string(),
            s::email(host, e.port(), tls, &auth, &e.to.join(", "), e.fallback_after_seconds),
        ));
    } else {
        r.missing.push((s::SINK_EMAIL.to_string(), s::EMAIL_OFF.to_string()));
    }
    let sl = &c.slack;
    if let (true, Some(team)) = (sl.enabled(), &sl.team_id) {
        active.push("slack");
        let channels = sl.channels.iter().map(|ch| s::slack_channel(&ch.id, ch.namespaces.as_deref())).collect();
        r.enabled.push((
            s::SINK_SLACK.to_string(),
            s::slack(team, sl.mode == super::SlackMode::Http, sl.previous_signing_secret.is_some(), channels),
        ));
    } else {
        r.missing.push((s::SINK_SLACK.to_string(), s::SLACK_OFF.to_string()));
    }
    let mx = &c.matrix;
    if let (Some(url), Some(user)) = (&mx.homeserver_url, &mx.user_id) {
        active.push("matrix");
        let login = if mx.access_token.is_some() { "access token" } else { "password" };
        let rooms: Vec<String> = mx
            .rooms
            .iter()
            .map(|r| crate::strings::matrix::check::room(&r.id, r.namespaces.as_deref(), r.approver_power_level))
            .collect();
        let how = crate::strings::matrix::check::matrix(url, user, login, &rooms, mx.store_passphrase.is_some());
        r.enabled.push((crate::strings::matrix::check::SINK_MATRIX.to_string(), how));
    } else {
        let off = crate::strings::matrix::check::MATRIX_OFF;
        r.missing.push((crate::strings::matrix::check::SINK_MATRIX.to_string(), off.to_string()));
    }
    match &c.alertmanager.url {
        Some(url) => r.enabled.push((s::SILENCES.to_string(), s::silences(url))),
        None => r.missing.push((s::SILENCES.to_string(), s::SILENCES_OFF.to_string())),
    }
    // A route to a sink this instance does not have is accepted and reported, not used.
    for (i, route) in c.notify.routes.iter().enumerate() {
        if !active.contains(&route.sink.as_str()) && route.sink != "email" {
            r.warnings.push(s::sink_not_in_build(i, &route.sink));
        }
    }
    if active.is_empty() {
        r.missing.push((s::NOTIFY.to_string(), s::NOTIFY_OFF.to_string()));
    } else {
        r.enabled.push((s::NOTIFY.to_string(), s::notify(&active, c.notify.routes.len())));
    }
    if c.deadman.enabled && !active.is_empty() {
        r.enabled.push((s::DEADMAN.to_string(), s::deadman(&c.deadman.alertname, c.deadman.expect_every_minutes)));
    } else {
        r.missing.push((s::DEADMAN.to_string(), s::DEADMAN_OFF.to_string()));
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = self.enabled.iter().chain(&self.missing).map(|(k, _)| k.len()).max().unwrap_or(0);
        writeln!(f, "{}", s::ENABLED)?;
        for (k, v) in &self.enabled {
            writeln!(f, "  {k:width$}  {v}")?;
        }
        if !self.missing.is_empty() {
            writeln!(f, "{}", s::MISSING)?;
            for (k, v) in &self.missing {
                writeln!(f, "  {k:width$}  {v}")?;
            }
        }
        for w in &self.warnings {
            writeln!(f, "{} {w}", s::WARNING)?;
        }
        Ok(())
    }
}
