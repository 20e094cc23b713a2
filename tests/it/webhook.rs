//! POST /webhook: authentication, validation, limits (RELIABILITY A01-A03, A10-A13).

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::payload::{self, T0, firing, group};
use crate::support::{TestApp, WEBHOOK_TOKEN};

async fn deliveries(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM deliveries").fetch_one(app.store().reader()).await.unwrap()
}

#[tokio::test]
async fn a01_missing_or_wrong_credentials_get_401_and_store_nothing() {
    let app = TestApp::spawn().await;
    let body = payload::one("g").to_string();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("mimi:{WEBHOOK_TOKEN}"));
    let attempts: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("wrong bearer", Some("Bearer wrong-token".into())),
        ("bearer with a suffix", Some(format!("Bearer {WEBHOOK_TOKEN}x"))),
        ("bearer prefix only", Some(format!("Bearer {}", &WEBHOOK_TOKEN[..5]))),
        ("empty bearer", Some("Bearer ".into())),
        ("basic when only bearer is configured", Some(format!("Basic {basic}"))),
        ("unknown scheme", Some(format!("Token {WEBHOOK_TOKEN}"))),
    ];
    for (name, header) in attempts {
        let mut req =
            app.client.post(app.url("/webhook")).header("content-type", "application/json").body(body.clone());
        if let Some(h) = header {
            req = req.header("authorization", h);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{name}");
        let json: Value = resp.json().await.unwrap();
        assert_eq!(json["error"], "unauthorized", "{name}");
    }
    assert_eq!(deliveries(&app).await, 0);
    assert_eq!(app.metric("mimi_webhook_deliveries_total{result=\"unauthorized\"}").await, 7.0);
}

#[tokio::test]
async fn a01_basic_auth_is_accepted_when_configured_and_checked_exactly() {
    let app = TestApp::spawn_with(|s| {
        s.webhook.bearer_token = None;
        s.webhook.basic_username = Some("alertmanager".into());
        s.webhook.basic_password = Some(mimi::config::Secret::new("pa:ss w0rd"));
    })
    .await;
    let enc = |user: &str, pass: &str| base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    let post = |auth: String| {
        app.client
            .post(app.url("/webhook"))
            .header("content-type", "application/json")
            .header("authorization", auth)
            .body(payload::one("g").to_string())
            .send()
    };
    assert_eq!(post(format!("Basic {}", enc("alertmanager", "pa:ss w0rd"))).await.unwrap().status(), 200);
    assert_eq!(post(format!("Basic {}", enc("alertmanager", "pa:ss w0rd!"))).await.unwrap().status(), 401);
    assert_eq!(post(format!("Basic {}", enc("someone", "pa:ss w0rd"))).await.unwrap().status(), 401);
    assert_eq!(post(format!("Bearer {WEBHOOK_TOKEN}")).await.unwrap().status(), 401);
}

#[tokio::test]
async fn a02_a_token_in_the_query_string_is_refused() {
    let app = TestApp::spawn().await;
    for query in [format!("token={WEBHOOK_TOKEN}"), format!("access_token={WEBHOOK_TOKEN}"), "api_key=x".into()] {
        // Even with a valid header: the query string ends up in proxy logs, so refuse and say why.
        let resp = app
            .client
            .post(app.url(&format!("/webhook?{query}")))
            .bearer_auth(WEBHOOK_TOKEN)
            .header("content-type", "application/json")
            .body(payload::one("g").to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{query}");
        let json: Value = resp.json().await.unwrap();
        assert!(json["message"].as_str().unwrap().contains("query string"), "{json}");
    }
    assert_eq!(deliveries(&app).await, 0);
}

#[tokio::test]
async fn a03_a_valid_payload_is_acknowledged_after_it_is_stored_raw_and_becomes_one_incident() {
    let app = TestApp::spawn().await;
    let p = payload::one("g1");
    let resp = app.post_alerts(&p).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "accepted");
    let id = body["delivery_id"].as_i64().unwrap();

    // The 2xx came after the commit: the raw payload is already there, byte for byte.
    let raw: Vec<u8> = sqlx::query_scalar("SELECT payload FROM deliveries WHERE id = ?")
        .bind(id)
        .fetch_one(app.store().reader())
        .await
        .unwrap();
    assert_eq!(raw, p.to_string().into_bytes());

    app.settle().await;
    let incidents = app.incidents().await;
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0]["alertname"], "KubePodCrashLooping");
    assert_eq!(incidents[0]["namespace"], "shop");
    assert_eq!(incidents[0]["firing_alerts"], 1);
}

#[tokio::test]
async fn a10_bad_input_gets_400_with_a_message_naming_the_problem() {
    let app = TestApp::spawn().await;
    let mut no_alerts = payload::one("g");
    no_alerts["alerts"] = json!([]);
    let mut v3 = payload::one("g");
    v3["version"] = json!("3");
    let mut bad_time = payload::one("g");
    bad_time["alerts"][0]["startsAt"] = json!("last tuesday");
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("malformed JSON", "application/json", b"{\"version\": \"4\",".to_vec(), "not valid JSON"),
        ("wrong content type", "text/plain", payload::one("g").to_string().into_bytes(), "Content-Type"),
        ("form content type", "application/x-www-form-urlencoded", b"a=b".to_vec(), "Content-Type"),
        ("empty alerts", "application/json", no_alerts.to_string().into_bytes(), "`alerts` is empty"),
        ("unknown version", "application/json", v3.to_string().into_bytes(), "version \"3\""),
        ("bad time", "application/json", bad_time.to_string().into_bytes(), "alerts[0].startsAt"),
        ("empty body", "application/json", Vec::new(), "not valid JSON"),
    ];
    for (name, content_type, body, expected) in cases {
        let resp = app
            .client
            .post(app.url("/webhook"))
            .bearer_auth(WEBHOOK_TOKEN)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{name}");
        let json: Value = resp.json().await.unwrap();
        assert_eq!(json["error"], "bad_request", "{name}");
        let message = json["message"].as_str().unwrap();
        assert!(message.contains(expected), "{name}: {message:?} should mention {expected:?}");
    }
    // Charset parameters are fine.
    let ok = app
        .client
        .post(app.url("/webhook"))
        .bearer_auth(WEBHOOK_TOKEN)
        .header("content-type", "application/json; charset=utf-8")
        .body(payload::one("g").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(deliveries(&app).await, 1);
}

#[tokio::test]
async fn a11_a_body_over_the_limit_gets_413_and_nothing_is_stored() {
    let app = TestApp::spawn_with(|s| s.server.body_limit_bytes = 64 * 1024).await;
    let mut p = payload::one("big");
    p["alerts"][0]["annotations"]["description"] = json!("x".repeat(70 * 1024));
    let resp = app.post_alerts(&p).await;
    assert_eq!(resp.status(), 413);
    let json: Value = resp.json().await.unwrap();
    assert_eq!(json["error"], "too_large");

    let mut fits = payload::one("small");
    fits["alerts"][0]["annotations"]["description"] = json!("x".repeat(60 * 1024));
    assert_eq!(app.post_alerts(&fits).await.status(), 200);
    assert_eq!(deliveries(&app).await, 1);
    assert_eq!(app.metric("mimi_webhook_deliveries_total{result=\"too_large\"}").await, 1.0);
}

#[tokio::test]
async fn a12_unknown_extra_fields_are_accepted() {
    let app = TestApp::spawn().await;
    let mut p = payload::one("g");
    p["notification_reason"] = json!("repeat_interval");
    p["alerts"][0]["silencedBy"] = json!([]);
    p["alerts"][0]["somethingNew"] = json!({"nested": [1, 2, 3]});
    assert_eq!(app.post_alerts(&p).await.status(), 200);
}

#[tokio::test]
async fn a13_hostile_label_text_is_stored_verbatim_and_served_as_escaped_json() {
    let app = TestApp::spawn().await;
    let hostile = "<!channel> <https://evil.example|ok> <script>alert(1)</script> \u{200b}\u{202e}gnp.exe";
    let mut alert = firing("fp-hostile", "checkout-1", T0);
    alert["labels"]["pod"] = json!(hostile);
    alert["annotations"]["summary"] = json!(hostile);
    alert["annotations"]["description"] = json!("y".repeat(100 * 1024));
    assert_eq!(app.post_alerts(&group("hostile", vec![alert])).await.status(), 200);
    app.settle().await;

    let resp = app.client.get(app.url("/api/incidents/1")).bearer_auth(crate::support::API_TOKEN).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let detail: Value = resp.json().await.unwrap();
    // Data stays data: exactly what Alertmanager sent, never interpreted.
    assert_eq!(detail["alerts"][0]["labels"]["pod"], hostile);
    // The incident summary is clipped so one alert cannot bloat every list.
    let summary = detail["summary"].as_str().unwrap();
    assert!(summary.chars().count() <= 500);
}
