use super::*;

/// A command typed in `channel`, or the web console when there is none.
fn at(platform: Platform, channel: Option<&str>) -> Origin {
    match channel {
        Some(c) => Origin::Command { platform, channel: c.to_string() },
        None => Origin::Console,
    }
}

type Case = (&'static str, Approver, Platform, Option<&'static str>, Result<(), ApprovalRefusal>);

fn rule(
    platform: Platform,
    channel: Option<&str>,
    team: Option<&str>,
    users: &[&str],
    groups: &[&str],
) -> ApproverRule {
    ApproverRule {
        platform,
        channel: channel.map(str::to_string),
        team: team.map(str::to_string),
        users: users.iter().map(|u| u.to_string()).collect(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

fn rules() -> ApproverRules {
    ApproverRules::new(vec![
        rule(Platform::Slack, Some("C1"), Some("T1"), &["U1"], &["S9"]),
        rule(Platform::Slack, Some("C2"), None, &["U1"], &[]),
        rule(Platform::Matrix, Some("!ops:example.org"), None, &["@alice:example.org"], &[]),
        rule(Platform::Web, None, None, &["alice"], &["sre"]),
    ])
}

fn slack(team: &str, user: &str, groups: &[&str]) -> Approver {
    let mut a = Approver::new(ApproverId::slack(team, user).unwrap());
    a.groups = groups.iter().map(|g| g.to_string()).collect();
    a
}

#[test]
fn c05_c06_d01_d02_d03_only_configured_people_in_configured_places() {
    use ApprovalRefusal as R;
    let matrix = |u: &str| Approver::new(ApproverId::matrix(u).unwrap());
    let web = |u: &str, g: &[&str]| Approver {
        id: ApproverId::web(u).unwrap(),
        groups: g.iter().map(|s| s.to_string()).collect(),
    };
    let r = rules();
    let cases: Vec<Case> = vec![
        ("listed user", slack("T1", "U1", &[]), Platform::Slack, Some("C1"), Ok(())),
        ("member of a listed group", slack("T1", "U7", &["S9"]), Platform::Slack, Some("C1"), Ok(())),
        ("c05 not listed", slack("T1", "U7", &["S8"]), Platform::Slack, Some("C1"), Err(R::NotAnApprover)),
        ("c06 same user id, other team", slack("T2", "U1", &[]), Platform::Slack, Some("C1"), Err(R::WrongTeam)),
        ("c06 other team, group", slack("T2", "U7", &["S9"]), Platform::Slack, Some("C1"), Err(R::WrongTeam)),
        ("no team known: fail closed", slack("T1", "U1", &[]), Platform::Slack, Some("C2"), Err(R::WrongTeam)),
        (
            "d02 unconfigured channel / DM",
            slack("T1", "U1", &[]),
            Platform::Slack,
            Some("D5"),
            Err(R::ChannelNotConfigured),
        ),
        ("matrix user in room", matrix("@alice:example.org"), Platform::Matrix, Some("!ops:example.org"), Ok(())),
        (
            "d01 other user",
            matrix("@bob:example.org"),
            Platform::Matrix,
            Some("!ops:example.org"),
            Err(R::NotAnApprover),
        ),
        (
            "d03 look-alike server",
            matrix("@alice:examp1e.org"),
            Platform::Matrix,
            Some("!ops:example.org"),
            Err(R::NotAnApprover),
        ),
        (
            "d03 subdomain server",
            matrix("@alice:example.org.evil"),
            Platform::Matrix,
            Some("!ops:example.org"),
            Err(R::NotAnApprover),
        ),
        (
            "d02 other room",
            matrix("@alice:example.org"),
            Platform::Matrix,
            Some("!dm:example.org"),
            Err(R::ChannelNotConfigured),
        ),
        ("web user", web("alice", &[]), Platform::Web, None, Ok(())),
        ("web group", web("carol", &["sre"]), Platform::Web, None, Ok(())),
        ("web stranger", web("mallory", &["dev"]), Platform::Web, None, Err(R::NotAnApprover)),
        ("platform mismatch", web("alice", &[]), Platform::Slack, Some("C1"), Err(R::NotAnApprover)),
    ];
    for (name, approver, platform, channel, expected) in cases {
        assert_eq!(r.check(&approver, &at(platform, channel)), expected, "{name}");
    }
    // With the home workspace known, a rule without a team accepts its members only.
    let r = rules().with_home_slack_team("T1");
    assert_eq!(r.check(&slack("T1", "U1", &[]), &at(Platform::Slack, Some("C2"))), Ok(()));
    assert_eq!(r.check(&slack("T2", "U1", &[]), &at(Platform::Slack, Some("C2"))), Err(ApprovalRefusal::WrongTeam));
    // No rules at all: nobody approves anywhere.
    let none = ApproverRules::default();
    assert_eq!(none.check(&slack("T1", "U1", &[]), &at(Platform::Slack, Some("C1"))), Err(R::ChannelNotConfigured));
}

#[test]
fn d03_identities_are_full_ids_never_display_names() {
    for bad in ["alice", "@alice", "Alice Smith", "@:example.org", "@alice:", "@al ice:example.org", "@alice:ex/ample"]
    {
        assert!(ApproverId::matrix(bad).is_err(), "{bad:?}");
    }
    for bad in ["u123", "", "U 1", "<@U123>", "U1;"] {
        assert!(ApproverId::slack("T1", bad).is_err(), "{bad:?}");
    }
    assert!(ApproverId::web("a b").is_err());
    for text in ["slack:T123:U456", "matrix:@alice:example.org", "web:alice", "matrix:@bob:[::1]:8448"] {
        let id = ApproverId::parse(text).unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(serde_json::to_value(&id).unwrap(), text);
    }
    for bad in ["slack:T123", "irc:alice", "alice", "matrix:alice"] {
        assert!(ApproverId::parse(bad).is_err(), "{bad:?}");
    }
}
