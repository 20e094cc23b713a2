//! The console in a real browser (headless Chromium through chromedriver) against `mimi demo`:
//! sign in, see the demo incidents, approve the restart, see it verified; a user who may not
//! approve is refused.

use std::time::Duration;

use mimi::config::Settings;
use mimi::demo::{Demo, DemoOptions};

use crate::support::free_port;
use crate::support::webdriver::Browser;

const PASSWORD: &str = "correct horse battery";

async fn demo(dir: &std::path::Path) -> Demo {
    let listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let options = DemoOptions { data_dir: dir.join("demo"), listen, password: Some(PASSWORD.into()) };
    mimi::demo::start(Settings::default(), options, |_| {}).await.expect("the demo starts")
}

async fn sign_in(b: &Browser, base: &str, user: &str, password: &str) {
    b.goto(&format!("{base}login")).await;
    b.type_into("#user", user).await;
    b.type_into("#password", password).await;
    b.click("#sign-in").await;
}

#[tokio::test]
async fn an_approver_signs_in_approves_the_demo_restart_and_sees_it_verified() {
    let dir = tempfile::tempdir().unwrap();
    let d = demo(dir.path()).await;
    let base = d.console_url.clone();
    let b = Browser::start().await;

    // Not signed in: the console sends you to the sign-in page; a wrong password is refused.
    b.goto(&base).await;
    assert!(b.url().await.ends_with("/login"), "{}", b.url().await);
    sign_in(&b, &base, "admin", "wrong").await;
    b.wait_for_text(".notice.error", "Wrong user name or password", Duration::from_secs(5)).await;

    sign_in(&b, &base, "admin", PASSWORD).await;
    b.wait_for("#incidents").await;
    let list = b.text("#incidents").await;
    for alert in ["KubePodCrashLooping", "KubeNodeNotReady", "KubeDeploymentRolloutStuck"] {
        assert!(list.contains(alert), "{alert} missing from the list:\n{list}");
    }

    // crashloop-payments is the second bundled scenario.
    let payments = d.incidents[1];
    b.goto(&format!("{base}incident/{payments}")).await;
    let diagnosis = b.text("#diagnosis").await;
    assert!(diagnosis.contains("payments"), "{diagnosis}");
    b.click("#proposals button.approve").await;
    b.accept_dialog().await;
    b.wait_for_text(".notice.ok", "Approved", Duration::from_secs(10)).await;
    // The page refreshes itself as the pipeline moves: executed, then verified.
    b.wait_for_text("#runs", "verified: verified", Duration::from_secs(90)).await;
    b.quit().await;

    let detail = d.running.store.incident_detail(payments).await.unwrap().unwrap();
    assert_eq!(detail.runs[0].verified.as_deref(), Some("verified"));
    let by = &detail.proposals[0].decisions[0].by;
    assert!(matches!(by, mimi::domain::approval::Decider::Person(p) if p.to_string() == "web:admin"), "{by:?}");
    d.running.stop().await.unwrap();
    d.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_user_who_may_not_approve_is_refused_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = demo(dir.path()).await;
    let base = d.console_url.clone();
    let b = Browser::start().await;
    sign_in(&b, &base, "viewer", PASSWORD).await;
    b.wait_for("#incidents").await;

    let payments = d.incidents[1];
    b.goto(&format!("{base}incident/{payments}")).await;
    b.click("#proposals button.approve").await;
    b.accept_dialog().await;
    b.wait_for_text(".notice.error", "Not done", Duration::from_secs(10)).await;
    let text = b.text(".notice.error").await;
    assert!(text.contains("not an approver"), "the refusal says why: {text}");

    // The Ask box answers from the sandbox.
    b.goto(&format!("{base}question")).await;
    b.type_into("#question", "what's wrong in namespace pay?").await;
    b.click("#ask button").await;
    b.wait_for_text("#answer", "payments", Duration::from_secs(10)).await;
    b.quit().await;

    let detail = d.running.store.incident_detail(payments).await.unwrap().unwrap();
    assert!(detail.runs.is_empty(), "nothing ran");
    assert_eq!(detail.proposals[0].state, "pending");
    d.running.stop().await.unwrap();
    d.sandbox.shutdown().await;
}
