//! Email through a real SMTP server (aiosmtpd, STARTTLS or implicit TLS with a test CA, AUTH):
//! headers, both parts, escaping, threading, and a crash between the SMTP server taking a mail and
//! Mimi recording it (RELIABILITY B03, with the real binary).

use std::time::Duration;

use mimi::config::{RouteSettings, Secret, Settings, SmtpTls};
use serde_json::{Value, json};

use crate::email_server::{PASSWORD, SmtpServer, USER};
use crate::support::TestApp;
use crate::support::binary::{self, post};
use crate::support::payload::{self, T0, T1, group, resolved};

fn email_to(server: &SmtpServer, mode: SmtpTls) -> impl FnOnce(&mut Settings) + use<> {
    let (port, ca) = (server.port, server.ca_file.clone());
    move |s: &mut Settings| {
        s.email.smtp_host = Some("127.0.0.1".into());
        s.email.smtp_port = Some(port);
        s.email.tls = mode;
        s.email.username = Some(USER.into());
        s.email.password = Some(Secret::new(PASSWORD));
        s.email.ca_file = Some(ca);
        s.email.from = Some("Mimi <mimi@example.com>".into());
        s.email.to = vec!["oncall@example.com".into()];
        s.server.public_url = Some("https://mimi.example.com".into());
        s.notify.routes = vec![RouteSettings {
            sink: "email".into(),
            namespace: vec!["shop".into()],
            email_to: vec!["Shop Team <shop@example.com>".into()],
            ..Default::default()
        }];
    }
}

fn hostile() -> Value {
    let mut p = payload::one("mail");
    p["alerts"][0]["annotations"]["summary"] = json!("<b>checkout</b> & <!channel> <https://evil|ok> crash-loops");
    p["commonAnnotations"] = json!({});
    p
}

#[tokio::test]
async fn mail_arrives_over_starttls_with_auth_the_right_headers_both_parts_escaped_and_threaded() {
    let server = SmtpServer::start("starttls");
    let app = TestApp::spawn_with(email_to(&server, SmtpTls::Starttls)).await;
    app.post_alerts(&hostile()).await;
    let mail = &server.wait_for(1).await[0];
    assert_eq!(mail["tls"], true, "STARTTLS was used");
    assert_eq!(mail["auth"], true, "AUTH was used");
    assert_eq!(mail["rcpt"], json!(["shop@example.com"]), "the route chose the recipients");
    let h = &mail["headers"];
    assert_eq!(h["subject"], "[FIRING] KubePodCrashLooping shop/checkout-1");
    assert_eq!(h["from"], "Mimi <mimi@example.com>");
    assert!(h["message-id"].as_str().unwrap().ends_with("@example.com>"), "{h}");
    assert_eq!(mail["content_type"], "multipart/alternative");
    let text = mail["parts"]["text/plain"].as_str().unwrap();
    let html = mail["parts"]["text/html"].as_str().unwrap();
    assert!(text.contains("<b>checkout</b> & <!channel>"), "the text part is plain text: {text}");
    assert!(text.contains("https://mimi.example.com/incidents/1"), "{text}");
    assert!(html.contains("&lt;b&gt;checkout&lt;/b&gt; &amp; &lt;!channel&gt; &lt;https://evil|ok&gt;"), "{html}");
    assert!(!html.contains("<b>checkout"), "alert text is escaped in HTML");
    assert!(html.contains("<a href=\"https://mimi.example.com/incidents/1\">"), "{html}");
    assert!(!text.to_lowercase().contains("approve by"), "no approving by email");

    // The resolution is a reply in the same thread.
    app.post_alerts(&group("mail", vec![resolved("fp-mail", "checkout-1", T0, T1)])).await;
    let mails = server.wait_for(2).await;
    let reply = &mails[1]["headers"];
    assert_eq!(reply["in-reply-to"], h["message-id"], "{reply}");
    assert!(reply["subject"].as_str().unwrap().starts_with("[RESOLVED] KubePodCrashLooping"), "{reply}");
    let health: Value = app.client.get(app.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["checks"]["email"]["sinks"]["email"]["status"], "ok", "{health}");
}

#[tokio::test]
async fn implicit_tls_works_too() {
    let server = SmtpServer::start("implicit");
    let app = TestApp::spawn_with(email_to(&server, SmtpTls::Implicit)).await;
    app.post_alerts(&payload::one("tls")).await;
    let mail = &server.wait_for(1).await[0];
    assert_eq!(mail["tls"], true);
    assert_eq!(mail["headers"]["subject"], "[FIRING] KubePodCrashLooping shop/checkout-1");
}

#[tokio::test]
async fn a_wrong_password_delivers_nothing_and_health_says_why_without_the_password() {
    let server = SmtpServer::start("starttls");
    let app = TestApp::spawn_with(|s| {
        email_to(&server, SmtpTls::Starttls)(s);
        s.email.password = Some(Secret::new("wrong"));
        s.notify.down_after_failures = 1;
    })
    .await;
    app.post_alerts(&payload::one("bad")).await;
    crate::support::wait_until(Duration::from_secs(20), "email to count as down", || async {
        let h: Value = app.client.get(app.url("/health")).send().await.unwrap().json().await.unwrap();
        h["checks"]["email"]["status"] == "down"
    })
    .await;
    let h: Value = app.client.get(app.url("/health")).send().await.unwrap().json().await.unwrap();
    let error = h["checks"]["email"]["sinks"]["email"]["last_error"].as_str().unwrap().to_string();
    assert!(!error.contains("wrong"), "the password never shows: {error}");
    assert!(server.mails().is_empty());
}

#[tokio::test]
async fn b03_killed_after_the_server_took_the_mail_it_is_sent_again_once_with_the_same_message_id() {
    let server = SmtpServer::start("starttls");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mimi.toml");
    let toml = format!(
        "[email]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\ntls = \"starttls\"\nusername = \"{USER}\"\npassword = \"{PASSWORD}\"\n\
         ca_file = {:?}\nfrom = \"mimi@example.com\"\nto = [\"oncall@example.com\"]\n",
        server.port,
        server.ca_file.display().to_string()
    );
    std::fs::write(&config, toml).unwrap();
    let data = dir.path().join("data");
    let env = [("MIMI_CONFIG", config.to_str().unwrap())];
    let client = reqwest::Client::new();

    let mut mimi = binary::spawn(&data, "after_send", &env);
    mimi.ready().await;
    assert_eq!(post(&client, &mimi, &payload::one("crash")).await.unwrap().status(), 200);
    assert!(!mimi.exited(Duration::from_secs(30)).await.success(), "died between the send and its record");
    assert_eq!(server.wait_for(1).await.len(), 1);

    let mut mimi = binary::spawn(&data, "", &env);
    mimi.ready().await;
    let mails = server.wait_for(2).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails_after = server.mails();
    assert_eq!(mails_after.len(), 2, "exactly one duplicate");
    assert_eq!(mails[0]["headers"]["message-id"], mails[1]["headers"]["message-id"], "the resend is the same message");
    drop(mimi);
}
