//! The console over plain HTTP: sign-in, sessions, CSRF, cross-site refusal, escaping, the trusted
//! proxy header, and the legacy endpoints (`/pending`, `/approve`, `/config`, `/trigger-test`).

use mimi::config::{ConsoleUser, Secret};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::support::payload::{T0, firing, group};
use crate::support::{API_TOKEN, TestApp, WEBHOOK_TOKEN};

const PASSWORD: &str = "s3cret-pass";

async fn app() -> TestApp {
    let hash = mimi::http::console::hash_password(PASSWORD).unwrap();
    TestApp::spawn_with(move |s| {
        s.console.users = vec![ConsoleUser {
            name: "alice".into(),
            password_hash: Some(Secret::new(hash)),
            password_hash_file: None,
        }];
        s.console.trusted_header = Some("X-Forwarded-User".into());
        s.console.trusted_proxies = vec!["10.9.9.9".parse().unwrap()];
    })
    .await
}

/// A browser-like client: keeps cookies, does not follow redirects.
fn browser() -> reqwest::Client {
    mimi::tls::install_crypto_provider();
    reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in:\n{html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

async fn sign_in(app: &TestApp, c: &reqwest::Client, password: &str) -> reqwest::Response {
    let page = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    c.post(app.url("/login")).form(&[("user", "alice"), ("password", password), ("csrf", &csrf)]).send().await.unwrap()
}

#[tokio::test]
async fn pages_need_a_session_and_a_wrong_password_gets_none() {
    let app = app().await;
    let c = browser();
    for path in ["/", "/incident/1", "/question", "/settings", "/live"] {
        let r = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()["location"], "/login", "{path}");
    }
    let r = sign_in(&app, &c, "wrong").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(c.get(app.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER);

    let r = sign_in(&app, &c, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
    assert!(
        cookie
            .iter()
            .any(|c| c.starts_with("mimi_session=") && c.contains("HttpOnly") && c.contains("SameSite=Strict")),
        "{cookie:?}"
    );
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert!(r.text().await.unwrap().contains("Signed in as alice"));
}

#[tokio::test]
async fn the_sign_in_form_needs_its_own_csrf_cookie() {
    let app = app().await;
    let c = browser();
    let r = c
        .post(app.url("/login"))
        .form(&[("user", "alice"), ("password", PASSWORD), ("csrf", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(c.get(app.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER, "no session was made");
}

#[tokio::test]
async fn forms_without_the_session_token_or_from_another_site_are_refused() {
    let app = app().await;
    let c = browser();
    sign_in(&app, &c, PASSWORD).await;
    let page = c.get(app.url("/question")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");

    let r =
        c.post(app.url("/question")).form(&[("question", "any problem pods?"), ("csrf", "nope")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(app.url("/question"))
        .header("Origin", "https://evil.example")
        .form(&[("question", "any problem pods?"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(app.url("/question"))
        .form(&[("question", "any problem pods?"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("id=\"answer\""));

    // Signing out ends the session for good.
    let r = c.post(app.url("/logout")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(c.get(app.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn alert_text_is_escaped_on_the_pages() {
    let app = app().await;
    let mut alert = firing("fp-x", "checkout-1", T0);
    alert["annotations"]["description"] = json!("<script>alert(1)</script><img src=x onerror=alert(2)>");
    alert["labels"]["namespace"] = json!("<b>shop</b>");
    assert_eq!(app.post_alerts(&group("xss", vec![alert])).await.status(), 200);
    app.settle().await;
    let c = browser();
    sign_in(&app, &c, PASSWORD).await;
    let page = c.get(app.url("/incident/1")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("<b>shop</b>"));
}

#[tokio::test]
async fn the_proxy_header_counts_only_from_a_trusted_proxy() {
    let app = app().await;
    // The test connects from 127.0.0.1, which is not in trusted_proxies.
    let r = browser().get(app.url("/")).header("X-Forwarded-User", "alice").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login");
}

#[tokio::test]
async fn the_legacy_endpoints_need_a_token_and_keep_secrets_out() {
    let app = app().await;
    let client = crate::support::http();
    for (method, path) in [("GET", "/pending"), ("GET", "/config"), ("POST", "/trigger-test"), ("POST", "/approve/p-x")]
    {
        let req = client.request(method.parse().unwrap(), app.url(path));
        assert_eq!(req.send().await.unwrap().status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let config: Value =
        client.get(app.url("/config")).bearer_auth(API_TOKEN).send().await.unwrap().json().await.unwrap();
    let text = config.to_string();
    assert!(!text.contains(WEBHOOK_TOKEN) && !text.contains(API_TOKEN), "{text}");
    assert!(!text.contains("$argon2"), "password hashes are redacted too");
    assert_eq!(config["webhook"]["bearer_token"], "[redacted]");

    let r = client.post(app.url("/trigger-test")).bearer_auth(API_TOKEN).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.settle().await;
    let incidents = app.incidents().await;
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0]["alertname"], "MimiTestAlert");
    let pending: Value =
        client.get(app.url("/pending")).bearer_auth(API_TOKEN).send().await.unwrap().json().await.unwrap();
    assert!(pending["proposals"].as_array().unwrap().is_empty());
    let r = client.post(app.url("/approve/p-unknown")).bearer_auth(API_TOKEN).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
