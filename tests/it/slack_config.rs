//! `[slack]` and `[alertmanager]` loading: secrets from files, the workspace as the default team of
//! Slack approvers, and every problem named by its key (H01); `mimi check` reports them.

use std::io::Write;

use mimi::config::{self, load_from};

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

const BASE: &str = "[webhook]\nallow_unauthenticated = true\n";

#[test]
fn slack_loads_with_secret_files_and_gives_approvers_its_workspace() {
    let token = file("xoxb-1-2-3\n");
    let secret = file("s3cret\n");
    let toml = format!(
        "{BASE}[slack]\nbot_token_file = {:?}\nsigning_secret_file = {:?}\nprevious_signing_secret = \"old\"\n\
         team_id = \"T0123ABCD\"\nmode = \"http\"\n[[slack.channels]]\nid = \"C0PAY\"\nnamespaces = [\"pay\"]\n\
         [[notify.routes]]\nsink = \"slack\"\ntarget = \"C0PAY\"\n\
         [[policy.approvers]]\nplatform = \"slack\"\nchannel = \"C0PAY\"\nusers = [\"U1\"]\n\
         [alertmanager]\nurl = \"http://am:9093\"\n",
        token.path(),
        secret.path()
    );
    let f = file(&toml);
    let s = load_from(Some(f.path()), Vec::new()).unwrap();
    assert_eq!(s.slack.bot_token.as_ref().unwrap().expose(), "xoxb-1-2-3");
    assert_eq!(s.slack.signing_secrets().len(), 2);
    assert_eq!(s.policy.approvers[0].team.as_deref(), Some("T0123ABCD"), "the workspace is the default team");
    let report = config::report(&s).to_string();
    assert!(report.contains("workspace T0123ABCD"), "{report}");
    assert!(report.contains("C0PAY sees pay"), "{report}");
    assert!(report.contains("accepting the previous signing secret"), "{report}");
    assert!(report.contains("Alertmanager at http://am:9093"), "{report}");
    assert!(!report.contains("s3cret") && !report.contains("xoxb-1"), "no secret in the report");
}

#[test]
fn h01_slack_problems_name_the_key() {
    let cases = [
        ("[slack]\nteam_id = \"T1\"\n", "slack.bot_token"),
        ("[slack]\nbot_token = \"xoxp-user\"\nsigning_secret = \"s\"\nteam_id = \"T1\"\n", "slack.bot_token"),
        ("[slack]\nbot_token = \"xoxb-1\"\nteam_id = \"T1\"\nmode = \"http\"\n", "slack.signing_secret"),
        ("[slack]\nbot_token = \"xoxb-1\"\nteam_id = \"T1\"\n", "slack.app_token"),
        ("[slack]\nbot_token = \"xoxb-1\"\nsigning_secret = \"s\"\n", "slack.team_id"),
        ("[slack]\nbot_token = \"xoxb-1\"\nsigning_secret = \"s\"\nteam_id = \"acme\"\n", "slack.team_id"),
        (
            "[slack]\nbot_token = \"xoxb-1\"\nsigning_secret = \"s\"\nteam_id = \"T1\"\nmode = \"socket\"\n",
            "slack.app_token",
        ),
        (
            "[slack]\nbot_token = \"xoxb-1\"\nsigning_secret = \"s\"\nteam_id = \"T1\"\napp_token = \"xoxb-2\"\n",
            "slack.app_token",
        ),
        (
            "[slack]\nbot_token = \"xoxb-1\"\nsigning_secret = \"s\"\nteam_id = \"T1\"\napi_url = \"ftp://x\"\n",
            "slack.api_url",
        ),
        (
            "[slack]\nbot_token = \"xoxb-1\"\nsigning_secret = \"s\"\nteam_id = \"T1\"\n[[slack.channels]]\nid = \"#ops\"\n",
            "slack.channels[0].id",
        ),
        (
            "[slack]\nbot_token = \"xoxb-1\"\nsigning_secret = \"s\"\nteam_id = \"T1\"\n[[slack.channels]]\nid = \"C1\"\nnamespaces = [\"Bad_NS\"]\n",
            "slack.channels[0].namespaces[0]",
        ),
        (
            "[slack]\nbot_token = \"xoxb-1\"\nsigning_secret = \"s\"\nsigning_secret_file = \"/x\"\nteam_id = \"T1\"\n",
            "slack.signing_secret",
        ),
        ("[[notify.routes]]\nsink = \"slack\"\ntarget = \"C1\"\n", "notify.routes"),
        ("[alertmanager]\nurl = \"http://user:pw@am:9093\"\n", "alertmanager.url"),
        ("[alertmanager]\nbearer_token = \"t\"\n", "alertmanager.url"),
    ];
    for (toml, key) in cases {
        let f = file(&format!("{BASE}{toml}"));
        let err = load_from(Some(f.path()), Vec::new()).expect_err(toml);
        assert!(err.0.iter().any(|e| e.key.starts_with(key)), "{toml:?} should name {key}: {err}");
    }
}
