use super::*;
use serde_json::json;

fn payload() -> serde_json::Value {
    json!({
        "version": "4",
        "groupKey": "{}:{alertname=\"KubePodCrashLooping\"}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "mimi",
        "groupLabels": {"alertname": "KubePodCrashLooping"},
        "commonLabels": {"alertname": "KubePodCrashLooping", "namespace": "shop"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "KubePodCrashLooping", "pod": "checkout-1"},
            "annotations": {"summary": "Pod is crash looping."},
            "startsAt": "2026-11-20T09:20:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus/graph",
            "fingerprint": "8f3c2a1b9d7e6f50"
        }]
    })
}

fn parse(v: &serde_json::Value) -> Result<Delivery, PayloadError> {
    parse_payload(&serde_json::to_vec(v).unwrap())
}

#[test]
fn a_valid_v4_payload_parses_with_zero_end_time_as_none() {
    let d = parse(&payload()).unwrap();
    assert_eq!(d.status, AlertStatus::Firing);
    assert_eq!(d.alerts.len(), 1);
    assert_eq!(d.alerts[0].ends_at, None);
    assert_eq!(d.alerts[0].fingerprint, "8f3c2a1b9d7e6f50");
    assert_eq!(d.alerts[0].starts_at.to_string(), "2026-11-20T09:20:00Z");
}

#[test]
fn a12_unknown_fields_are_accepted() {
    let mut v = payload();
    v["notification_reason"] = json!("repeat");
    v["alerts"][0]["silencedBy"] = json!(["x"]);
    assert!(parse(&v).is_ok());
}

#[test]
fn a10_invalid_payloads_name_what_is_wrong() {
    type Case = (&'static str, fn(&mut serde_json::Value), &'static str);
    let cases: &[Case] = &[
        ("unknown version", |v| v["version"] = json!("3"), "version \"3\""),
        ("missing version", |v| drop(v.as_object_mut().unwrap().remove("version")), "`version` is missing"),
        ("empty alerts", |v| v["alerts"] = json!([]), "`alerts` is empty"),
        ("missing alerts", |v| drop(v.as_object_mut().unwrap().remove("alerts")), "`alerts` is missing"),
        ("missing groupKey", |v| drop(v.as_object_mut().unwrap().remove("groupKey")), "`groupKey`"),
        ("bad status", |v| v["alerts"][0]["status"] = json!("burning"), "alerts[0].status"),
        ("bad time", |v| v["alerts"][0]["startsAt"] = json!("yesterday"), "alerts[0].startsAt"),
        ("zero start", |v| v["alerts"][0]["startsAt"] = json!("0001-01-01T00:00:00Z"), "alerts[0].startsAt"),
        ("bad endsAt", |v| v["alerts"][0]["endsAt"] = json!("soon"), "alerts[0].endsAt"),
        ("label not a string", |v| v["alerts"][0]["labels"]["x"] = json!(5), "alerts[0].labels.x"),
        ("alerts not a list", |v| v["alerts"] = json!({}), "alerts"),
        ("negative truncated", |v| v["truncatedAlerts"] = json!(-1), "truncatedAlerts"),
    ];
    for (name, mutate, expected) in cases {
        let mut v = payload();
        mutate(&mut v);
        let err = parse(&v).expect_err(name).to_string();
        assert!(err.contains(expected), "{name}: {err:?} should mention {expected:?}");
    }
}

#[test]
fn a10_malformed_json_is_a_syntax_error() {
    for body in [&b"{not json"[..], b"", b"[1,2]", b"\"text\"", b"null"] {
        let err = parse_payload(body).expect_err("must fail");
        assert!(matches!(err, PayloadError::Syntax(_) | PayloadError::Shape { .. }), "{body:?} -> {err:?}");
    }
}

#[test]
fn missing_fingerprint_is_derived_from_labels_deterministically() {
    let mut v = payload();
    v["alerts"][0]["fingerprint"] = json!("");
    let a = parse(&v).unwrap();
    let b = parse(&v).unwrap();
    assert_eq!(a.alerts[0].fingerprint.len(), 16);
    assert_eq!(a.alerts[0].fingerprint, b.alerts[0].fingerprint);
    v["alerts"][0]["labels"]["pod"] = json!("checkout-2");
    assert_ne!(parse(&v).unwrap().alerts[0].fingerprint, a.alerts[0].fingerprint);
}

#[test]
fn digest_ignores_alert_order_and_a_firing_alerts_end_time() {
    let mut v = payload();
    let second = json!({
        "status": "firing", "labels": {"pod": "b"}, "startsAt": "2026-11-20T09:21:00Z",
        "fingerprint": "bbbb"
    });
    v["alerts"].as_array_mut().unwrap().push(second);
    let d1 = parse(&v).unwrap().digest("prod");
    v["alerts"].as_array_mut().unwrap().reverse();
    v["alerts"][0]["endsAt"] = json!("2026-11-20T10:00:00Z");
    let d2 = parse(&v).unwrap().digest("prod");
    assert_eq!(d1, d2);
}

#[test]
fn digest_changes_with_status_start_cluster_and_group() {
    let base = parse(&payload()).unwrap();
    let d = base.digest("prod");
    assert_ne!(d, base.digest("staging"));

    let mut v = payload();
    v["groupKey"] = json!("other");
    assert_ne!(d, parse(&v).unwrap().digest("prod"));

    let mut v = payload();
    v["alerts"][0]["status"] = json!("resolved");
    v["alerts"][0]["endsAt"] = json!("2026-11-20T09:40:00Z");
    let resolved = parse(&v).unwrap().digest("prod");
    assert_ne!(d, resolved);
    v["alerts"][0]["endsAt"] = json!("2026-11-20T09:41:00Z");
    assert_ne!(resolved, parse(&v).unwrap().digest("prod"), "a resolved alert's end time counts");

    let mut v = payload();
    v["alerts"][0]["startsAt"] = json!("2026-11-21T09:20:00Z");
    assert_ne!(d, parse(&v).unwrap().digest("prod"), "A08: a re-fire is a new delivery");
}

#[test]
fn cluster_comes_from_the_common_label_or_the_default() {
    let mut v = payload();
    assert_eq!(parse(&v).unwrap().cluster("cluster", "default"), "default");
    v["commonLabels"]["cluster"] = json!("eu-1");
    assert_eq!(parse(&v).unwrap().cluster("cluster", "default"), "eu-1");
}

#[test]
fn long_hostile_values_are_truncated_in_error_messages() {
    let mut v = payload();
    v["version"] = json!("x".repeat(100_000));
    let err = parse(&v).unwrap_err().to_string();
    assert!(err.len() < 300, "error message must stay short, got {} bytes", err.len());
}
