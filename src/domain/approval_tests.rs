use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::*;
use crate::domain::action::ActionSpec;
use crate::domain::approver::{ApproverRule, ApproverRules, Platform};
use crate::domain::policy::{Confidence, Context, Policy, Verdict};

fn t(minute: i64) -> Timestamp {
    "2025-03-01T12:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(minute)
}

fn restart() -> Action {
    let spec: ActionSpec =
        serde_json::from_value(json!({"kind": "restart_deployment", "namespace": "shop", "name": "checkout"})).unwrap();
    Action::from_spec(&spec).unwrap()
}

fn drain() -> Action {
    Action::from_spec(&serde_json::from_value(json!({"kind": "drain_node", "name": "worker-1"})).unwrap()).unwrap()
}

/// Policy with auto-approve on; restart is medium (one approver or auto), drain high (two).
fn policy() -> Policy {
    let mut p = Policy::default();
    p.approvals.auto_approve = true;
    p
}

fn allowance(action: &Action, confidence: Option<f64>) -> Allowance {
    let ctx = Context {
        cluster: "prod",
        current_replicas: None,
        confidence: confidence.and_then(Confidence::new),
        recent_actions: &[],
        drain_running: false,
        now: t(0),
    };
    match policy().evaluate(action, &ctx) {
        Verdict::Allowed(a) => a,
        Verdict::Refused(r) => panic!("{r}"),
    }
}

fn msg(channel: &str, ts: &str) -> MessageRef {
    MessageRef { platform: Platform::Slack, channel: channel.into(), message: ts.into() }
}

fn pending(action: &Action, proposed_by: Proposer) -> PendingApproval {
    let mut p = PendingApproval::new(
        ProposalId::parse("p-42").unwrap(),
        &allowance(action, None),
        proposed_by,
        t(0),
        SignedDuration::from_mins(60),
    );
    p.messages.push(msg("C1", "1700000000.000100"));
    p.messages.push(MessageRef {
        platform: Platform::Matrix,
        channel: "!ops:example.org".into(),
        message: "$event1".into(),
    });
    p
}

fn rules() -> ApproverRules {
    let rule = |platform, channel: Option<&str>, users: &[&str]| ApproverRule {
        platform,
        channel: channel.map(str::to_string),
        team: (platform == Platform::Slack).then(|| "T1".to_string()),
        users: users.iter().map(|u| u.to_string()).collect(),
        groups: Default::default(),
    };
    ApproverRules::new(vec![
        rule(Platform::Slack, Some("C1"), &["U1", "U2", "U3"]),
        rule(Platform::Slack, Some("C9"), &["U1"]),
        rule(Platform::Matrix, Some("!ops:example.org"), &["@alice:example.org"]),
        rule(Platform::Web, None, &["alice"]),
    ])
}

fn user(id: &str) -> Approver {
    Approver::new(ApproverId::slack("T1", id).unwrap())
}

struct Req {
    choice: Choice,
    approver: Approver,
    origin: Origin,
    read_only: bool,
    incident_resolved: bool,
}

fn req(choice: Choice, approver: Approver) -> Req {
    Req {
        choice,
        approver,
        origin: Origin::Message(msg("C1", "1700000000.000100")),
        read_only: false,
        incident_resolved: false,
    }
}

fn run(p: &PendingApproval, r: &Req, now: Timestamp) -> Result<Decision, ApprovalRefusal> {
    let rules = rules();
    let request = DecisionRequest {
        choice: r.choice,
        approver: &r.approver,
        origin: &r.origin,
        rules: &rules,
        read_only: r.read_only,
        incident_resolved: r.incident_resolved,
    };
    decide(p, &request, now)
}

/// Applies an accepted decision the way the store must: only if nobody decided in between.
fn store(p: &mut PendingApproval, read_version: usize, d: &Decision) -> bool {
    if p.version() != read_version {
        return false;
    }
    let (Decision::Approved { record, .. } | Decision::NeedsAnotherApprover { record } | Decision::Rejected { record }) =
        d;
    p.decisions.push(record.clone());
    true
}

fn refused(p: &PendingApproval, r: &Req, now: Timestamp) -> &'static str {
    run(p, r, now).expect_err("must be refused").rule()
}

#[test]
fn one_approver_approves_and_gets_an_approved_action() {
    let p = pending(&restart(), Proposer::Analyzer("rules".into()));
    assert_eq!(p.status(), Status::Open { approvals: 0, needed: 1 });
    let Ok(Decision::Approved { record, action }) = run(&p, &req(Choice::Approve, user("U1")), t(5)) else {
        panic!("approved")
    };
    assert_eq!(record.by, Decider::Person(ApproverId::slack("T1", "U1").unwrap()));
    assert_eq!(action.action(), &restart());
    assert_eq!(action.approvers(), &[ApproverId::slack("T1", "U1").unwrap()]);
    assert_eq!((action.approved_at(), action.is_automatic(), action.risk()), (t(5), false, Risk::Medium));
}

#[test]
fn c03_c08_single_use_exactly_one_approval_even_when_two_click_at_once() {
    let mut p = pending(&restart(), Proposer::Analyzer("rules".into()));
    // Two approvers read the same version and both get an answer...
    let v = p.version();
    let first = run(&p, &req(Choice::Approve, user("U1")), t(1)).unwrap();
    let second = run(&p, &req(Choice::Approve, user("U2")), t(1)).unwrap();
    // ...but only the first store wins; the loser decides again on fresh state and is refused.
    assert!(store(&mut p, v, &first));
    assert!(!store(&mut p, v, &second));
    assert_eq!(refused(&p, &req(Choice::Approve, user("U2")), t(1)), "already_approved");
    // A replayed request (C03), a double click, or a late reject change nothing.
    assert_eq!(refused(&p, &req(Choice::Approve, user("U1")), t(2)), "already_approved");
    assert_eq!(refused(&p, &req(Choice::Reject, user("U3")), t(2)), "already_approved");
    assert_eq!(p.decisions.len(), 1);
    assert_eq!(p.status(), Status::Approved { at: t(1) });
}

#[test]
fn c05_c06_d01_unauthorised_people_are_refused_and_the_proposal_stays_pending() {
    let p = pending(&restart(), Proposer::Analyzer("rules".into()));
    let cases = [
        ("c05 not an approver", req(Choice::Approve, user("U7")), "not_an_approver"),
        ("c05 cannot reject either", req(Choice::Reject, user("U7")), "not_an_approver"),
        ("c06 other team", req(Choice::Approve, Approver::new(ApproverId::slack("T2", "U1").unwrap())), "wrong_team"),
        (
            "d01 matrix non-approver",
            Req {
                origin: Origin::Message(p.messages[1].clone()),
                ..req(Choice::Approve, Approver::new(ApproverId::matrix("@mallory:example.org").unwrap()))
            },
            "not_an_approver",
        ),
    ];
    for (name, r, rule) in cases {
        let err = run(&p, &r, t(1)).expect_err(name);
        assert_eq!(err.rule(), rule, "{name}");
        assert!(err.still_pending(), "{name}");
        assert!(!err.to_string().is_empty());
    }
    assert_eq!(p.status(), Status::Open { approvals: 0, needed: 1 });
}

#[test]
fn c07_d02_a_decision_is_bound_to_the_messages_the_proposal_was_posted_in() {
    let p = pending(&restart(), Proposer::Analyzer("rules".into()));
    let from = |origin: Origin| Req { origin, ..req(Choice::Approve, user("U1")) };
    let slack_cmd = |channel: &str| Origin::Command { platform: Platform::Slack, channel: channel.into() };
    // The button value (proposal id) reused on another message or in another channel.
    assert_eq!(refused(&p, &from(Origin::Message(msg("C1", "1700000099.000200"))), t(1)), "not_posted_here");
    assert_eq!(refused(&p, &from(Origin::Message(msg("C9", "1700000000.000100"))), t(1)), "not_posted_here");
    // A command in a channel the proposal was never posted in, even one where U1 may approve.
    assert_eq!(refused(&p, &from(slack_cmd("C9")), t(1)), "not_posted_here");
    // A DM (D02).
    assert_eq!(refused(&p, &from(slack_cmd("D123")), t(1)), "not_posted_here");
    // The same message, or a command in its channel, works.
    assert!(run(&p, &from(slack_cmd("C1")), t(1)).is_ok());
    assert!(run(&p, &from(Origin::Message(msg("C1", "1700000000.000100"))), t(1)).is_ok());
    // A Matrix reaction on the posted event by a configured user; the web console by a web approver.
    let alice = Approver::new(ApproverId::matrix("@alice:example.org").unwrap());
    assert!(
        run(&p, &Req { origin: Origin::Message(p.messages[1].clone()), ..req(Choice::Approve, alice) }, t(1)).is_ok()
    );
    let web = Approver::new(ApproverId::web("alice").unwrap());
    assert!(run(&p, &Req { origin: Origin::Console, ..req(Choice::Approve, web) }, t(1)).is_ok());
}

#[test]
fn c09_no_decision_after_expiry_or_once_the_incident_resolved() {
    let p = pending(&restart(), Proposer::Analyzer("rules".into()));
    assert_eq!(refused(&p, &req(Choice::Approve, user("U1")), t(60)), "expired");
    assert_eq!(refused(&p, &req(Choice::Approve, user("U1")), t(600)), "expired");
    assert!(run(&p, &req(Choice::Approve, user("U1")), t(59)).is_ok());
    let resolved = Req { incident_resolved: true, ..req(Choice::Approve, user("U1")) };
    let err = run(&p, &resolved, t(1)).unwrap_err();
    assert_eq!(err, ApprovalRefusal::IncidentResolved);
    assert!(err.offer_to_propose_again() && !err.still_pending());
    let err = run(&p, &req(Choice::Approve, user("U1")), t(61)).unwrap_err();
    assert!(err.offer_to_propose_again());
    assert!(err.to_string().contains("2025-03-01T13:00:00Z") && err.to_string().contains("propose"), "{err}");
}

#[test]
fn c11_two_person_actions_need_two_distinct_approvers_other_than_the_requester() {
    let requester = ApproverId::slack("T1", "U1").unwrap();
    let mut p = pending(&drain(), Proposer::Person(requester.clone()));
    assert_eq!(p.requirement, ApprovalRequirement::Two);
    // The requester cannot approve their own two-person action.
    let err = run(&p, &req(Choice::Approve, user("U1")), t(1)).unwrap_err();
    assert_eq!(err, ApprovalRefusal::OwnRequest);
    assert!(err.still_pending());
    // The first other approver is recorded; the action still waits.
    let d = run(&p, &req(Choice::Approve, user("U2")), t(2)).unwrap();
    assert!(matches!(d, Decision::NeedsAnotherApprover { .. }), "{d:?}");
    assert!(store(&mut p, 0, &d));
    assert_eq!(p.status(), Status::Open { approvals: 1, needed: 2 });
    assert_eq!(p.approved_action(), None);
    // The same person again is not a second approver; nor is the requester.
    assert_eq!(refused(&p, &req(Choice::Approve, user("U2")), t(3)), "same_approver");
    assert_eq!(refused(&p, &req(Choice::Approve, user("U1")), t(3)), "own_request");
    // A second, different approver completes it.
    let Ok(Decision::Approved { action, .. }) = run(&p, &req(Choice::Approve, user("U3")), t(4)) else { panic!() };
    let ids: Vec<String> = action.approvers().iter().map(ToString::to_string).collect();
    assert_eq!(ids, ["slack:T1:U2", "slack:T1:U3"]);
    assert_eq!(action.approved_at(), t(4));
    // A stored requester approval (say, from an older version) never counts either.
    let mut forged = pending(&drain(), Proposer::Person(requester.clone()));
    for (who, at) in [("U1", 1), ("U2", 2)] {
        let by = Decider::Person(ApproverId::slack("T1", who).unwrap());
        forged.decisions.push(DecisionRecord { by, choice: Choice::Approve, at: t(at) });
    }
    assert_eq!(forged.approved_action(), None);
    // Nor does the same approver stored twice.
    let mut twice = pending(&drain(), Proposer::Analyzer("model".into()));
    for at in [1, 2] {
        let by = Decider::Person(ApproverId::slack("T1", "U2").unwrap());
        twice.decisions.push(DecisionRecord { by, choice: Choice::Approve, at: t(at) });
    }
    assert_eq!(twice.status(), Status::Open { approvals: 1, needed: 2 });
    // For a one-person action, someone who asked for it may confirm it themselves.
    let own = pending(&restart(), Proposer::Person(requester));
    assert!(matches!(run(&own, &req(Choice::Approve, user("U1")), t(1)), Ok(Decision::Approved { .. })));
}

#[test]
fn c12_reject_is_final() {
    let mut p = pending(&drain(), Proposer::Analyzer("model".into()));
    let first = run(&p, &req(Choice::Approve, user("U1")), t(1)).unwrap();
    assert!(store(&mut p, 0, &first));
    let reject = run(&p, &req(Choice::Reject, user("U2")), t(2)).unwrap();
    assert!(matches!(reject, Decision::Rejected { .. }));
    assert!(store(&mut p, 1, &reject));
    assert!(matches!(p.status(), Status::Rejected { at, .. } if at == t(2)));
    for (choice, who) in [(Choice::Approve, "U3"), (Choice::Approve, "U2"), (Choice::Reject, "U1")] {
        let err = run(&p, &req(choice, user(who)), t(3)).unwrap_err();
        assert_eq!(err, ApprovalRefusal::AlreadyRejected);
        assert!(!err.still_pending());
    }
    assert_eq!(p.approved_action(), None);
}

#[test]
fn h02_read_only_freezes_approvals_without_consuming_them() {
    let p = pending(&restart(), Proposer::Analyzer("rules".into()));
    for choice in [Choice::Approve, Choice::Reject] {
        let frozen = Req { read_only: true, ..req(choice, user("U1")) };
        let err = run(&p, &frozen, t(1)).unwrap_err();
        assert_eq!(err, ApprovalRefusal::Frozen);
        assert!(err.still_pending() && err.to_string().contains("read-only"), "{err}");
    }
    assert!(run(&p, &req(Choice::Approve, user("U1")), t(2)).is_ok(), "works again once read-only is off");
}

#[test]
fn auto_approval_only_on_a_policy_verdict_of_auto_for_the_same_action() {
    let confident = allowance(&restart(), Some(0.9));
    assert_eq!(confident.approval(), ApprovalRequirement::Auto);
    let mut p = PendingApproval::new(
        ProposalId::parse("p-7").unwrap(),
        &confident,
        Proposer::Analyzer("model".into()),
        t(0),
        SignedDuration::from_mins(60),
    );
    let Ok(Decision::Approved { record, action }) = approve_automatically(&p, confident, t(0)) else { panic!() };
    assert!(action.is_automatic() && action.approvers().is_empty());
    assert_eq!(record.by, Decider::Policy);
    p.decisions.push(record);
    assert_eq!(p.approved_action(), Some(action), "replay gives the same approved action");
    // Not confident enough, or a high-risk action: no automatic approval.
    let unsure = allowance(&restart(), Some(0.5));
    let p1 = PendingApproval::new(
        ProposalId::parse("p-8").unwrap(),
        &unsure,
        Proposer::Analyzer("m".into()),
        t(0),
        SignedDuration::from_mins(60),
    );
    assert_eq!(approve_automatically(&p1, unsure, t(0)).unwrap_err(), ApprovalRefusal::NotAutomatic);
    let risky = allowance(&drain(), Some(1.0));
    let p2 = pending(&drain(), Proposer::Analyzer("m".into()));
    assert_eq!(approve_automatically(&p2, risky, t(0)).unwrap_err(), ApprovalRefusal::NotAutomatic);
    // An Auto verdict for one action cannot approve another.
    let mut p3 = pending(&restart(), Proposer::Analyzer("m".into()));
    p3.requirement = ApprovalRequirement::Auto;
    p3.action = drain();
    let err = approve_automatically(&p3, allowance(&restart(), Some(0.9)), t(0)).unwrap_err();
    assert_eq!(err, ApprovalRefusal::DifferentAction);
    // A stored policy approval counts only where policy allowed auto-approval.
    let mut p4 = pending(&restart(), Proposer::Analyzer("m".into()));
    p4.decisions.push(DecisionRecord { by: Decider::Policy, choice: Choice::Approve, at: t(1) });
    assert_eq!(p4.approved_action(), None);
}

#[test]
fn f04_the_restart_token_is_derived_from_the_stored_approval() {
    let mut p = pending(&restart(), Proposer::Analyzer("rules".into()));
    let at = t(3) + SignedDuration::from_millis(250);
    let Ok(d @ Decision::Approved { .. }) = run(&p, &req(Choice::Approve, user("U1")), at) else { panic!() };
    assert!(store(&mut p, 0, &d));
    let Decision::Approved { action, .. } = d else { unreachable!() };
    assert_eq!(action.restart_token(), "2025-03-01T12:03:00Z/p-42");
    // After a restart the store rebuilds the pending approval; the token is the same.
    let replayed = p.clone().approved_action().unwrap();
    assert_eq!(replayed.restart_token(), action.restart_token());
    assert_eq!(replayed, action);
    // Another proposal approved in the same second gets another token.
    let mut other = p.clone();
    other.proposal = ProposalId::parse("p-43").unwrap();
    assert_ne!(other.approved_action().unwrap().restart_token(), action.restart_token());
}

#[test]
fn proposal_ids_from_buttons_are_checked() {
    for bad in ["", "p 1", "p-1;drop", "../x", "<!channel>", &"x".repeat(65)] {
        assert_eq!(ProposalId::parse(bad), None, "{bad:?}");
    }
    assert_eq!(ProposalId::parse("p-42_a").unwrap().as_str(), "p-42_a");
}
