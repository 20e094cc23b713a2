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
