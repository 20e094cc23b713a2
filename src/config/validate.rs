//! Validation after loading: each rule names the key to fix and what is expected.

use super::{ConfigError, Secret, Settings};

pub(super) fn validate(s: &Settings, errors: &mut Vec<ConfigError>) {
    let mut err = |key: &str, msg: String| errors.push(ConfigError::new(key, msg));

    if s.data_dir.as_os_str().is_empty() {
        err("data_dir", "must be a directory path".into());
    }
    if !is_cluster_name(&s.cluster.name) {
        err(
            "cluster.name",
            format!("{:?} is not a usable cluster name: 1-63 letters, digits, '-', '_' or '.'", s.cluster.name),
        );
    }
    if s.cluster.label.trim().is_empty() {
        err("cluster.label", "must name an alert label, e.g. \"cluster\"".into());
    }

    range(&mut err, "server.body_limit_bytes", s.server.body_limit_bytes as u64, 1024, 64 * 1024 * 1024);
    range(&mut err, "server.shutdown_grace_seconds", s.server.shutdown_grace_seconds, 1, 600);
    range(&mut err, "server.request_timeout_seconds", s.server.request_timeout_seconds, 1, 600);

    let w = &s.webhook;
    check_secret(&mut err, "webhook.bearer_token", w.bearer_token.as_ref());
    check_secret(&mut err, "webhook.basic_password", w.basic_password.as_ref());
    match (&w.basic_username, &w.basic_password) {
        (Some(u), None) if !u.is_empty() => err(
            "webhook.basic_password",
            "basic_username is set, so basic_password (or basic_password_file) is needed".into(),
        ),
        (None, Some(_)) => err("webhook.basic_username", "basic_password is set, so basic_username is needed".into()),
        (Some(u), _) if u.is_empty() || u.contains(':') => {
            err("webhook.basic_username", "must be non-empty and must not contain ':'".into())
        }
        _ => {}
    }
    let has_auth = w.bearer_token.is_some() || w.basic_password.is_some();
    if !has_auth && !w.allow_unauthenticated {
        err(
            "webhook",
            "no authentication configured: set webhook.bearer_token (or bearer_token_file), or \
             webhook.basic_username with basic_password, or webhook.allow_unauthenticated = true \
             on a trusted network"
                .into(),
        );
    }

    let mut names = std::collections::HashSet::new();
    for (i, t) in s.api.tokens.iter().enumerate() {
        if t.name.trim().is_empty() {
            err(&format!("api.tokens[{i}].name"), "must name who holds the token".into());
        } else if !names.insert(t.name.as_str()) {
            err(&format!("api.tokens[{i}].name"), format!("{:?} is used by two tokens", t.name));
        }
        match &t.token {
            None => err(&format!("api.tokens[{i}].token"), "is missing (set token or token_file)".into()),
            Some(secret) => check_secret(&mut err, &format!("api.tokens[{i}].token"), Some(secret)),
        }
    }

    range(&mut err, "store.busy_timeout_ms", s.store.busy_timeout_ms, 1, 600_000);
    range(&mut err, "store.commit_batch_max", s.store.commit_batch_max as u64, 1, 4096);
    if let Some(mb) = s.store.max_size_mb {
        range(&mut err, "store.max_size_mb", mb, 1, 16 * 1024 * 1024);
    }

    let wk = &s.worker;
    range(&mut err, "worker.concurrency", wk.concurrency as u64, 1, 64);
    range(&mut err, "worker.max_attempts", u64::from(wk.max_attempts), 1, 1000);
    range(&mut err, "worker.backoff_base_ms", wk.backoff_base_ms, 1, 3_600_000);
    range(&mut err, "worker.backoff_max_ms", wk.backoff_max_ms, 1, 86_400_000);
    if wk.backoff_base_ms > wk.backoff_max_ms {
        err("worker.backoff_max_ms", format!("must be at least worker.backoff_base_ms ({})", wk.backoff_base_ms));
    }
    range(&mut err, "worker.step_timeout_seconds", wk.step_timeout_seconds, 1, 3600);
    range(&mut err, "worker.poll_interval_ms", wk.poll_interval_ms, 10, 60_000);

    let k = &s.kubernetes;
    if k.in_cluster && k.kubeconfig.is_some() {
        err("kubernetes.kubeconfig", "set either kubernetes.in_cluster or kubernetes.kubeconfig, not both".into());
    }
    if let Some(path) = &k.kubeconfig
        && !path.is_file()
    {
        err("kubernetes.kubeconfig", format!("{} does not exist or is not a file", path.display()));
    }
    if k.context.is_some() && k.kubeconfig.is_none() {
        err("kubernetes.context", "only applies with kubernetes.kubeconfig".into());
    }
    range(&mut err, "kubernetes.request_timeout_seconds", k.request_timeout_seconds, 1, 300);
    let e = &s.evidence;
    range(&mut err, "evidence.budget_bytes", e.budget_bytes as u64, 512, 1024 * 1024);
    range(&mut err, "evidence.log_tail_lines", u64::from(e.log_tail_lines), 1, 10_000);
    range(&mut err, "evidence.log_limit_bytes", u64::from(e.log_limit_bytes), 1024, 16 * 1024 * 1024);
    range(&mut err, "evidence.max_events", e.max_events as u64, 0, 1000);
    range(&mut err, "evidence.max_pods", e.max_pods as u64, 1, 100);

    range(&mut err, "qa.questions_per_minute", u64::from(s.qa.questions_per_minute), 1, 10_000);
    for (i, ns) in s.qa.api_namespaces.iter().flatten().enumerate() {
        if let Err(e) = crate::domain::names::NamespaceName::parse(ns) {
            err(&format!("qa.api_namespaces[{i}]"), e.to_string());
        }
    }
    let v = &s.verification;
    range(&mut err, "verification.timeout_seconds", v.timeout_seconds, 1, 86_400);
    range(&mut err, "verification.settle_seconds", v.settle_seconds, 0, 3600);
    range(&mut err, "verification.interval_seconds", v.interval_seconds, 1, 600);

    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&s.log.level) {
        err("log.level", format!("{:?} is not a log filter ({e}); try \"info\" or \"mimi=debug,info\"", s.log.level));
    }

    super::policy::validate(&s.policy, &mut err);
    super::analyzer::validate(&s.analyzer, &mut err);
    super::llm::validate(&s.llm, &mut err);
    super::prometheus::validate(&s.prometheus, errors);
    if let Some(url) = &s.server.public_url {
        let ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            errors.push(ConfigError::new("server.public_url", format!("{url:?} is not an http(s) URL")));
        }
    }
    super::notify::validate(&s.notify, s.email.enabled(), errors);
    super::email::validate(&s.email, errors);
    super::deadman::validate(&s.deadman, errors);
    super::console::validate(&s.console, errors);
    super::matrix::validate(&s.matrix, errors);
    if s.notify.routes.iter().any(|r| r.sink == "matrix") && !s.matrix.enabled() {
        errors
            .push(ConfigError::new("notify.routes", "a route sends to matrix, but [matrix] homeserver_url is not set"));
    }
    for (i, r) in s.notify.routes.iter().enumerate() {
        // Mimi leaves rooms it does not serve, so a route to one could never be delivered.
        if let ("matrix", Some(room), true) = (r.sink.as_str(), r.target.as_deref(), s.matrix.enabled())
            && s.matrix.room(room).is_none()
        {
            let msg = format!("{room:?} is not one of the [[matrix.rooms]]; add it there");
            errors.push(ConfigError::new(format!("notify.routes[{i}].target"), msg));
        }
    }
    super::alertmanager::validate(&s.alertmanager, errors);
    super::slack::validate(&s.slack, errors);
    if s.notify.routes.iter().any(|r| r.sink == "slack") && !s.slack.enabled() {
        errors.push(ConfigError::new("notify.routes", "a route sends to slack, but [slack] bot_token is not set"));
    }
    s.memory.validate(errors);
}

fn range(err: &mut impl FnMut(&str, String), key: &str, value: u64, min: u64, max: u64) {
    if value < min || value > max {
        err(key, format!("must be between {min} and {max}, got {value}"));
    }
}

fn check_secret(err: &mut impl FnMut(&str, String), key: &str, secret: Option<&Secret>) {
    if secret.is_some_and(Secret::is_empty) {
        err(key, "is empty".into());
    }
}

fn is_cluster_name(name: &str) -> bool {
    (1..=63).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}
