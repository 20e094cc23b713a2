//! The read API: filters, pagination, errors, authentication.

use serde_json::{Value, json};

use crate::support::payload::{T0, T1, firing, group, resolved};
use crate::support::{API_TOKEN, TestApp};

async fn seeded() -> TestApp {
    let app = TestApp::spawn().await;
    for i in 0..7 {
        let mut p = group(&format!("g{i}"), vec![firing(&format!("fp{i}"), "p", T0)]);
        let ns = if i % 2 == 0 { "shop" } else { "hr" };
        p["commonLabels"]["namespace"] = json!(ns);
        p["commonLabels"]["severity"] = json!(if i < 3 { "critical" } else { "warning" });
        app.post_alerts(&p).await;
    }
    app.post_alerts(&group("g0", vec![resolved("fp0", "p", T0, T1)])).await;
    app.settle().await;
    app
}

fn ids(body: &Value) -> Vec<i64> {
    body["incidents"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn incidents_are_listed_newest_first_and_filtered() {
    let app = seeded().await;
    let (_, all) = app.api("/api/incidents").await;
    assert_eq!(ids(&all), [7, 6, 5, 4, 3, 2, 1]);
    let cases = [
        ("/api/incidents?namespace=hr", vec![6, 4, 2]),
        ("/api/incidents?severity=critical", vec![3, 2, 1]),
        ("/api/incidents?state=resolved", vec![1]),
        ("/api/incidents?state=notified&namespace=shop", vec![7, 5, 3]),
        ("/api/incidents?since=1h", vec![7, 6, 5, 4, 3, 2, 1]),
        ("/api/incidents?since=2099-01-01T00:00:00Z", vec![]),
        ("/incidents?namespace=hr", vec![6, 4, 2]),
    ];
    for (path, expected) in cases {
        let (status, body) = app.api(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(ids(&body), expected, "{path}");
    }
}

#[tokio::test]
async fn pages_follow_the_next_cursor_without_gaps_or_repeats() {
    let app = seeded().await;
    let mut seen = Vec::new();
    let mut path = "/api/incidents?limit=3".to_string();
    loop {
        let (_, body) = app.api(&path).await;
        seen.extend(ids(&body));
        match body["next"].as_i64() {
            Some(next) => path = format!("/api/incidents?limit=3&before={next}"),
            None => break,
        }
    }
    assert_eq!(seen, [7, 6, 5, 4, 3, 2, 1]);
}

#[tokio::test]
async fn one_incident_has_its_alerts_timeline_and_jobs() {
    let app = seeded().await;
    let detail = app.incident(1).await;
    assert_eq!(detail["state"], "resolved");
    assert_eq!(detail["alerts"][0]["status"], "resolved");
    assert_eq!(detail["alerts"][0]["ends_at"], T1);
    let kinds: Vec<&str> = detail["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"opened"));
    assert!(kinds.contains(&"state"));
    assert_eq!(detail["jobs"], json!([]), "no job left once the pipeline is done");
}

#[tokio::test]
async fn bad_requests_name_the_parameter() {
    let app = seeded().await;
    let cases = [
        ("/api/incidents?state=on_fire", "state"),
        ("/api/incidents?limit=0", "limit"),
        ("/api/incidents?limit=abc", "limit"),
        ("/api/incidents?since=yesterday", "since"),
        ("/api/incidents?colour=red", "colour"),
        ("/api/incidents/abc", "id"),
    ];
    for (path, word) in cases {
        let (status, body) = app.api(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["message"].as_str().unwrap().contains(word), "{path}: {body}");
    }
    let (status, body) = app.api("/api/incidents/999").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
    let (status, _) = app.api("/api/nothing-here").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_api_needs_a_token_and_the_webhook_token_is_not_one() {
    let app = seeded().await;
    for path in ["/api/incidents", "/api/incidents/1", "/incidents", "/api/jobs/dead"] {
        let anon = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(anon.status(), 401, "{path}");
        let wrong = app.client.get(app.url(path)).bearer_auth(crate::support::WEBHOOK_TOKEN).send().await.unwrap();
        assert_eq!(wrong.status(), 401, "{path}");
        let ok = app.client.get(app.url(path)).bearer_auth(API_TOKEN).send().await.unwrap();
        assert_eq!(ok.status(), 200, "{path}");
    }
    // Health and metrics are open (probes and scrapers carry no token).
    for path in ["/health", "/healthz", "/readyz", "/metrics"] {
        assert_eq!(app.client.get(app.url(path)).send().await.unwrap().status(), 200, "{path}");
    }
}
