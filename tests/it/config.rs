//! Configuration: file, environment overrides, secret files, validation (RELIABILITY H01).

use std::io::Write;
use std::process::Command;

use mimi::config::{self, load_from};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

const MINIMAL: &str = "[webhook]\nbearer_token = \"from-file\"\n";

#[test]
fn environment_variables_override_the_file() {
    let f = file("[worker]\nconcurrency = 3\n[webhook]\nbearer_token = \"t\"\n");
    let s = load_from(Some(f.path()), env(&[("MIMI__WORKER__CONCURRENCY", "5"), ("MIMI__DATA_DIR", "/var/lib/mimi")]))
        .unwrap();
    assert_eq!(s.worker.concurrency, 5);
    assert_eq!(s.data_dir, std::path::PathBuf::from("/var/lib/mimi"));
    // Variables without the MIMI__ prefix are not configuration.
    let s = load_from(Some(f.path()), env(&[("WORKER__CONCURRENCY", "9"), ("HOME", "/root")])).unwrap();
    assert_eq!(s.worker.concurrency, 3);
}

#[test]
fn a_secret_can_come_from_a_file_and_never_prints() {
    let secret = file("token-from-a-mounted-secret\n");
    let path = secret.path().to_str().unwrap();
    let s = load_from(None, env(&[("MIMI__WEBHOOK__BEARER_TOKEN_FILE", path)])).unwrap();
    assert_eq!(s.webhook.bearer_token.as_ref().unwrap().expose(), "token-from-a-mounted-secret");
    let debug = format!("{s:?}");
    assert!(!debug.contains("token-from-a-mounted-secret"), "{debug}");
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("token-from-a-mounted-secret"));
}

#[test]
fn h01_every_problem_is_reported_with_the_key_to_fix() {
    type Case = (&'static str, Vec<(String, String)>, &'static str);
    let cases: Vec<Case> = vec![
        ("no webhook auth", env(&[]), "webhook"),
        (
            "both token and file",
            env(&[("MIMI__WEBHOOK__BEARER_TOKEN", "a"), ("MIMI__WEBHOOK__BEARER_TOKEN_FILE", "/x")]),
            "webhook.bearer_token",
        ),
        (
            "unreadable secret file",
            env(&[("MIMI__WEBHOOK__BEARER_TOKEN_FILE", "/nonexistent/token")]),
            "webhook.bearer_token_file",
        ),
        (
            "zero concurrency",
            env(&[("MIMI__WEBHOOK__BEARER_TOKEN", "a"), ("MIMI__WORKER__CONCURRENCY", "0")]),
            "worker.concurrency",
        ),
        (
            "not a number",
            env(&[("MIMI__WEBHOOK__BEARER_TOKEN", "a"), ("MIMI__SERVER__BODY_LIMIT_BYTES", "lots")]),
            "server.body_limit_bytes",
        ),
        (
            "bad listen address",
            env(&[("MIMI__WEBHOOK__BEARER_TOKEN", "a"), ("MIMI__SERVER__LISTEN", "port 80")]),
            "server.listen",
        ),
        ("unknown key", env(&[("MIMI__WEBHOOK__BEARER_TOKEN", "a"), ("MIMI__WORKER__CONCURENCY", "2")]), "concurency"),
        ("basic user without password", env(&[("MIMI__WEBHOOK__BASIC_USERNAME", "am")]), "webhook.basic_password"),
        (
            "bad cluster name",
            env(&[("MIMI__WEBHOOK__BEARER_TOKEN", "a"), ("MIMI__CLUSTER__NAME", "a b")]),
            "cluster.name",
        ),
        (
            "bad log filter",
            env(&[("MIMI__WEBHOOK__BEARER_TOKEN", "a"), ("MIMI__LOG__LEVEL", "mimi=loud")]),
            "log.level",
        ),
        (
            "backoff inverted",
            env(&[
                ("MIMI__WEBHOOK__BEARER_TOKEN", "a"),
                ("MIMI__WORKER__BACKOFF_BASE_MS", "9000"),
                ("MIMI__WORKER__BACKOFF_MAX_MS", "10"),
            ]),
            "worker.backoff_max_ms",
        ),
    ];
    for (name, vars, key) in cases {
        let err = load_from(None, vars).expect_err(name);
        let text = err.to_string();
        assert!(err.0.iter().any(|e| e.key.contains(key) || e.message.contains(key)), "{name}: {text}");
        assert!(!text.contains("/nonexistent/token") || key.ends_with("_file"), "{name}");
    }
    // The source of a bad value is named too.
    let err =
        load_from(None, env(&[("MIMI__WEBHOOK__BEARER_TOKEN", "a"), ("MIMI__SERVER__LISTEN", "nope")])).unwrap_err();
    assert!(err.to_string().contains("MIMI__SERVER__LISTEN"), "{err}");
    // Several problems at once are all reported.
    let err = load_from(None, env(&[("MIMI__WORKER__CONCURRENCY", "0"), ("MIMI__CLUSTER__NAME", "")])).unwrap_err();
    assert!(err.0.len() >= 3, "{err}");
}

#[test]
fn a_missing_config_file_is_an_error_naming_it() {
    let err = load_from(Some(std::path::Path::new("/nonexistent/mimi.toml")), env(&[])).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/mimi.toml"), "{err}");
}

#[test]
fn the_example_configuration_is_accepted_by_mimi_check() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/mimi.example.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_mimi")).args(["check", "--config", example]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("configuration OK"), "{stdout}");
    assert!(stdout.contains("webhook auth"), "{stdout}");
    // The parsed example also loads through the library with every documented section.
    let s = config::load_from(Some(std::path::Path::new(example)), env(&[])).unwrap();
    assert_eq!(s.server.body_limit_bytes, 1024 * 1024);
    assert!(!s.policy.approvers.is_empty(), "the example shows approver rules");
}

#[test]
fn h01_mimi_serve_refuses_to_start_on_a_bad_config_and_names_the_key() {
    let f = file(MINIMAL);
    let out = Command::new(env!("CARGO_BIN_EXE_mimi"))
        .args(["serve", "--config", f.path().to_str().unwrap()])
        .env("MIMI__WORKER__MAX_ATTEMPTS", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("worker.max_attempts"), "{stderr}");
}

#[test]
fn help_and_version_explain_themselves() {
    let help = Command::new(env!("CARGO_BIN_EXE_mimi")).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for word in ["serve", "check", "audit"] {
        assert!(text.contains(word), "{text}");
    }
    let version = Command::new(env!("CARGO_BIN_EXE_mimi")).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")));
}

// --- [policy] ------------------------------------------------------------------------------------

use mimi::domain::action::{ActionKind, Risk};
use mimi::domain::policy::ApprovalRequirement;

#[test]
fn the_policy_section_loads_into_the_domain_policy() {
    let f = file(concat!(
        "[webhook]\nbearer_token = \"t\"\n",
        "[policy]\nread_only = true\nauto_approve = true\nconfidence_threshold = 0.9\n",
        "require_approval_for = [\"medium\", \"high\"]\nprotected_namespaces = [\"kube-system\", \"payments\"]\n",
        "own_namespace = \"ops-bots\"\napproval_expiry_minutes = 15\nmax_actions_per_hour = 4\n",
        "max_actions_per_target_per_hour = 2\n",
        "[policy.approvers_needed]\nlow = 1\nmedium = 2\nhigh = 2\n",
        "[policy.risk]\nrestart_deployment = \"low\"\n",
        "[policy.scale]\nmin_replicas = 2\nmax_replicas = 8\nmax_factor = 2.0\n",
        "[[policy.approvers]]\nplatform = \"slack\"\nchannel = \"C0123ABCD\"\nteam = \"T0123ABCD\"\nusers = [\"U0456EFGH\"]\ngroups = [\"S0789IJKL\"]\n",
        "[[policy.approvers]]\nplatform = \"matrix\"\nchannel = \"!ops:example.org\"\nusers = [\"@alice:example.org\"]\n",
        "[[policy.approvers]]\nplatform = \"web\"\nusers = [\"alice\"]\n",
    ));
    let s = load_from(Some(f.path()), env(&[])).unwrap();
    let p = s.policy.policy();
    assert!(p.read_only && p.approvals.auto_approve);
    assert_eq!(p.approvals.confidence_threshold, 0.9);
    assert_eq!(p.approvals.require_human_for, [Risk::Medium, Risk::High].into());
    assert_eq!(p.approvals.two_approvers_for, [Risk::Medium, Risk::High].into());
    assert_eq!(p.risk_of(ActionKind::RestartDeployment), Risk::Low);
    assert_eq!(p.risk_of(ActionKind::DrainNode), Risk::High);
    let protected: Vec<&str> = p.protected_namespaces.iter().map(|n| n.as_str()).collect();
    assert_eq!(protected, ["kube-system", "payments"]);
    assert_eq!(p.own_namespace.as_ref().unwrap().as_str(), "ops-bots");
    assert_eq!((p.scale.min_replicas, p.scale.max_replicas, p.scale.max_factor), (2, 8, 2.0));
    assert_eq!((p.budget.per_cluster_per_hour, p.budget.per_target_per_hour), (4, 2));
    assert_eq!(s.policy.approval_ttl(), jiff::SignedDuration::from_mins(15));
    assert_eq!(s.policy.approver_rules().rules().len(), 3);
    assert_eq!(p.approval_for(Risk::Low, None), ApprovalRequirement::One);
    assert_eq!(p.approval_for(Risk::Medium, None), ApprovalRequirement::Two);
}

#[test]
fn the_policy_defaults_are_safe() {
    let s = load_from(None, env(&[("MIMI__WEBHOOK__BEARER_TOKEN", "a")])).unwrap();
    let p = s.policy.policy();
    assert!(!p.read_only);
    assert!(!p.approvals.auto_approve, "auto-approve is off unless explicitly enabled");
    assert_eq!(p.approvals.confidence_threshold, 0.8);
    assert!(p.protected_namespaces.iter().any(|n| n.as_str() == "kube-system"));
    assert_eq!(p.own_namespace.as_ref().unwrap().as_str(), "mimi");
    assert_eq!(p.scale.min_replicas, 1, "never scale to zero");
    assert!(s.policy.approver_rules().rules().is_empty(), "nobody approves until configured");
}

#[test]
fn h01_policy_problems_name_the_key() {
    let cases: &[(&str, &str)] = &[
        ("[policy]\nconfidence_threshold = 1.5\n", "policy.confidence_threshold"),
        ("[policy]\nconfidence_threshold = -0.1\n", "policy.confidence_threshold"),
        ("[policy]\nrequire_approval_for = [\"urgent\"]\n", "policy.require_approval_for"),
        ("[policy.approvers_needed]\nhigh = 3\n", "policy.approvers_needed.high"),
        ("[policy.approvers_needed]\nlow = 0\n", "policy.approvers_needed.low"),
        ("[policy.risk]\nexec_pod = \"low\"\n", "policy.risk.exec_pod"),
        ("[policy.risk]\ndrain_node = \"extreme\"\n", "policy.risk"),
        ("[policy]\nprotected_namespaces = [\"kube-system\", \"Kube System\"]\n", "policy.protected_namespaces[1]"),
        ("[policy]\nown_namespace = \"\"\n", "policy.own_namespace"),
        ("[policy]\napproval_expiry_minutes = 0\n", "policy.approval_expiry_minutes"),
        ("[policy]\nmax_actions_per_hour = 0\n", "policy.max_actions_per_hour"),
        ("[policy]\nmax_actions_per_target_per_hour = 0\n", "policy.max_actions_per_target_per_hour"),
        ("[policy.scale]\nmin_replicas = 0\n", "policy.scale.min_replicas"),
        ("[policy.scale]\nmin_replicas = 5\nmax_replicas = 3\n", "policy.scale.max_replicas"),
        ("[policy.scale]\nmax_factor = 0.5\n", "policy.scale.max_factor"),
        ("[policy]\nauto_aprove = true\n", "auto_aprove"),
        ("[[policy.approvers]]\nplatform = \"irc\"\nusers = [\"a\"]\n", "policy.approvers"),
        (
            "[[policy.approvers]]\nplatform = \"slack\"\nchannel = \"#ops\"\nusers = [\"U1\"]\n",
            "policy.approvers[0].channel",
        ),
        ("[[policy.approvers]]\nplatform = \"slack\"\nusers = [\"U1\"]\n", "policy.approvers[0].channel"),
        (
            "[[policy.approvers]]\nplatform = \"slack\"\nchannel = \"C1\"\nusers = [\"alice\"]\n",
            "policy.approvers[0].users[0]",
        ),
        (
            "[[policy.approvers]]\nplatform = \"slack\"\nchannel = \"C1\"\nteam = \"acme\"\nusers = [\"U1\"]\n",
            "policy.approvers[0].team",
        ),
        ("[[policy.approvers]]\nplatform = \"slack\"\nchannel = \"C1\"\n", "policy.approvers[0]"),
        (
            "[[policy.approvers]]\nplatform = \"matrix\"\nchannel = \"#ops:example.org\"\nusers = [\"@a:b\"]\n",
            "policy.approvers[0].channel",
        ),
        (
            "[[policy.approvers]]\nplatform = \"matrix\"\nchannel = \"!ops:example.org\"\nusers = [\"alice\"]\n",
            "policy.approvers[0].users[0]",
        ),
        (
            "[[policy.approvers]]\nplatform = \"matrix\"\nchannel = \"!o:e.org\"\nusers = [\"@a:e.org\"]\ngroups = [\"x\"]\n",
            "policy.approvers[0].groups",
        ),
        (
            "[[policy.approvers]]\nplatform = \"web\"\nchannel = \"C1\"\nusers = [\"alice\"]\n",
            "policy.approvers[0].channel",
        ),
    ];
    for (toml, key) in cases {
        let f = file(&format!("[webhook]\nbearer_token = \"t\"\n{toml}"));
        let err = load_from(Some(f.path()), env(&[])).expect_err(toml);
        assert!(err.0.iter().any(|e| e.key.contains(key) || e.message.contains(key)), "{toml}: {err}");
    }
    let f = file("[webhook]\nbearer_token = \"t\"\n[policy]\nconfidence_threshold = 1.5\n");
    let err = load_from(Some(f.path()), env(&[])).unwrap_err().to_string();
    assert!(err.contains("policy.confidence_threshold: must be between 0 and 1"), "{err}");
}

#[test]
fn legacy_policy_variables_are_aliases_and_mimi_variables_win() {
    let token = ("MIMI__WEBHOOK__BEARER_TOKEN", "a");
    let s = load_from(
        None,
        env(&[
            token,
            ("AUTO_ACTION_ENABLED", "True"),
            ("CONFIDENCE_THRESHOLD", "0.9"),
            ("REQUIRE_APPROVAL_FOR", "high, critical,medium"),
        ]),
    )
    .unwrap();
    assert!(s.policy.auto_approve);
    assert_eq!(s.policy.confidence_threshold, 0.9);
    assert_eq!(s.policy.require_approval_for, [Risk::High, Risk::Medium]);
    // Other spellings the legacy agent accepted.
    for (raw, expected) in [("1", true), ("yes", true), ("false", false), ("0", false), ("OFF", false)] {
        let s = load_from(None, env(&[token, ("AUTO_ACTION_ENABLED", raw)])).unwrap();
        assert_eq!(s.policy.auto_approve, expected, "{raw}");
    }
    let s = load_from(None, env(&[token, ("REQUIRE_APPROVAL_FOR", "[\"low\", \"high\"]")])).unwrap();
    assert_eq!(s.policy.require_approval_for, [Risk::Low, Risk::High]);
    // MIMI__POLICY__* wins over the alias; the alias wins over the file.
    let f = file("[webhook]\nbearer_token = \"t\"\n[policy]\nconfidence_threshold = 0.7\nauto_approve = false\n");
    let s = load_from(
        Some(f.path()),
        env(&[
            ("CONFIDENCE_THRESHOLD", "0.9"),
            ("MIMI__POLICY__CONFIDENCE_THRESHOLD", "0.95"),
            ("AUTO_ACTION_ENABLED", "true"),
            ("REQUIRE_APPROVAL_FOR", "low"),
            ("MIMI__POLICY__REQUIRE_APPROVAL_FOR", "[medium, high]"),
        ]),
    )
    .unwrap();
    assert_eq!(s.policy.confidence_threshold, 0.95);
    assert!(s.policy.auto_approve);
    assert_eq!(s.policy.require_approval_for, [Risk::Medium, Risk::High]);
    let s = load_from(Some(f.path()), env(&[])).unwrap();
    assert_eq!(s.policy.confidence_threshold, 0.7);
    // Bad legacy values are reported with the variable's name, or the key it sets.
    let bad: &[(&str, &str, &str)] = &[
        ("AUTO_ACTION_ENABLED", "maybe", "AUTO_ACTION_ENABLED"),
        ("CONFIDENCE_THRESHOLD", "high", "CONFIDENCE_THRESHOLD"),
        ("CONFIDENCE_THRESHOLD", "1.5", "policy.confidence_threshold"),
        ("REQUIRE_APPROVAL_FOR", "urgent", "REQUIRE_APPROVAL_FOR"),
    ];
    for (name, value, named) in bad {
        let err = load_from(None, env(&[token, (name, value)])).expect_err(name).to_string();
        assert!(err.contains(named), "{name}={value}: {err}");
    }
}
