use super::*;
use crate::cluster::evidence::{ContainerFacts, EventFacts, LogExcerpt, PodFacts};

fn sample(log_bytes: usize) -> Evidence {
    let crash = "2026-11-20T09:14:10Z ERROR java.lang.OutOfMemoryError: Java heap space";
    let mut log = "2026-11-20T09:14:02Z INFO  warming price cache entries=1200000\n".repeat(log_bytes / 62 + 1);
    log.push_str(crash);
    Evidence {
        pods: vec![PodFacts {
            namespace: "shop".into(),
            name: "checkout-6d8f7c9b4-q2x7m".into(),
            phase: "Running".into(),
            ready: false,
            node: Some("worker-1".into()),
            owners: vec!["ReplicaSet checkout-6d8f7c9b4".into(), "Deployment checkout".into()],
            conditions: vec!["Ready=False".into()],
            containers: vec![ContainerFacts {
                name: "app".into(),
                image: "registry.example.com/shop/checkout:1.42.0".into(),
                ready: false,
                restarts: 7,
                state: "waiting: CrashLoopBackOff".into(),
                last_termination: Some("OOMKilled (exit 137)".into()),
                resources: Some("limits memory=256Mi".into()),
            }],
        }],
        events: vec![EventFacts {
            object: "Pod/checkout-6d8f7c9b4-q2x7m".into(),
            reason: "BackOff".into(),
            message: "Back-off restarting failed container".into(),
            count: 12,
            last_seen: None,
        }],
        logs: vec![
            LogExcerpt {
                namespace: "shop".into(),
                pod: "checkout-6d8f7c9b4-q2x7m".into(),
                container: "app".into(),
                previous: false,
                text: "current instance starting\n".into(),
                truncated: false,
            },
            LogExcerpt {
                namespace: "shop".into(),
                pod: "checkout-6d8f7c9b4-q2x7m".into(),
                container: "app".into(),
                previous: true,
                text: log,
                truncated: false,
            },
        ],
        ..Evidence::default()
    }
}

#[test]
fn facts_come_first_then_the_previous_log_then_the_current_one() {
    let text = render(&sample(200), 4096);
    let pod = text.find("Pod shop/checkout-6d8f7c9b4-q2x7m").unwrap();
    let prev = text.find("Previous log of").unwrap();
    let cur = text.find("Log of").unwrap();
    assert!(pod < prev && prev < cur, "{text}");
    assert!(text.contains("last terminated OOMKilled (exit 137)"));
    assert!(text.contains("ReplicaSet checkout-6d8f7c9b4 <- Deployment checkout"));
    assert!(text.contains("BackOff x12"));
}

#[test]
fn e14_a_huge_log_is_cut_from_its_start_with_a_marker_and_the_crash_kept() {
    let ev = sample(10 * 1024 * 1024);
    for budget in [1024, 4096, 16 * 1024] {
        let text = render(&ev, budget);
        assert!(text.len() <= budget + 120, "budget {budget}: {} bytes", text.len());
        assert!(text.contains("bytes cut …]"), "budget {budget}: a marker says what was cut");
        assert!(text.contains("OutOfMemoryError"), "budget {budget}: the last lines survive");
        assert!(text.contains("CrashLoopBackOff"), "budget {budget}: facts survive");
    }
}

#[test]
fn facts_larger_than_the_budget_are_cut_with_a_marker() {
    let mut ev = sample(10);
    ev.notes = (0..200).map(|i| format!("note number {i} with some words in it")).collect();
    let text = render(&ev, 600);
    assert!(text.len() < 700);
    assert!(text.contains("bytes of facts cut"), "{text}");
}

#[test]
fn cuts_respect_character_boundaries() {
    let mut ev = sample(10);
    ev.logs[1].text = "é".repeat(5000);
    let text = render(&ev, 1024);
    assert!(text.is_char_boundary(text.len()));
}

#[test]
fn autoscalers_claims_and_services_are_one_line_each() {
    use crate::cluster::evidence::{AutoscalerFacts, ClaimFacts, ServiceFacts};
    let ev = Evidence {
        autoscalers: vec![AutoscalerFacts {
            namespace: "shop".into(),
            name: "checkout".into(),
            target: "Deployment checkout".into(),
            min_replicas: 2,
            max_replicas: 6,
            current_replicas: 6,
            desired_replicas: 6,
            conditions: vec!["ScalingLimited=True: TooManyReplicas".into()],
        }],
        claims: vec![ClaimFacts {
            namespace: "db".into(),
            name: "data-pg-0".into(),
            phase: "Pending".into(),
            storage_class: Some("fast-ssd".into()),
            requested: Some("20Gi".into()),
            volume: None,
            used_by: vec!["pg-0".into()],
        }],
        services: vec![ServiceFacts {
            namespace: "pay".into(),
            name: "payments".into(),
            selector: "app=payments".into(),
            pods: 2,
            ready_pods: 0,
        }],
        ..Evidence::default()
    };
    let text = render(&ev, 4096);
    assert!(
        text.contains("HorizontalPodAutoscaler shop/checkout for Deployment checkout: 6 current, 6 desired, bounds 2..6\n  condition ScalingLimited=True: TooManyReplicas"),
        "{text}"
    );
    assert!(
        text.contains(
            "PersistentVolumeClaim db/data-pg-0: Pending, storage class fast-ssd, 20Gi requested, used by pg-0"
        ),
        "{text}"
    );
    assert!(text.contains("Service pay/payments (selector app=payments): 0 of 2 pods ready"), "{text}");
}
