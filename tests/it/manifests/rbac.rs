//! RELIABILITY F01: the read role reads what Mimi uses and nothing sensitive; the action role
//! grants exactly the verbs the action catalogue needs. The expected action grants are derived
//! from `ActionKind` with an exhaustive match, so a new kind in the catalogue does not compile
//! here until its permissions are decided.

use std::collections::BTreeSet;

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule};
use mimi::domain::action::ActionKind;

use super::{Doc, all_docs, the};

/// (API group, resource, verb); the core group is "".
type Grant = (String, String, String);

fn grant(group: &str, resource: &str, verb: &str) -> Grant {
    (group.to_string(), resource.to_string(), verb.to_string())
}

/// What one action of the catalogue does to the API (the cluster code must use only these).
fn needed(kind: ActionKind) -> Vec<Grant> {
    match kind {
        // A patch of the pod template annotation kubectl.kubernetes.io/restartedAt.
        ActionKind::RestartDeployment => vec![grant("apps", "deployments", "patch")],
        ActionKind::RestartStatefulset => vec![grant("apps", "statefulsets", "patch")],
        ActionKind::RestartDaemonset => vec![grant("apps", "daemonsets", "patch")],
        // The scale subresource: read it, then write it (patch, or update with resourceVersion).
        ActionKind::ScaleDeployment => {
            ["get", "patch", "update"].map(|v| grant("apps", "deployments/scale", v)).to_vec()
        }
        ActionKind::ScaleStatefulset => {
            ["get", "patch", "update"].map(|v| grant("apps", "statefulsets/scale", v)).to_vec()
        }
        // The older ReplicaSet's template is read through the read role, then patched in.
        ActionKind::RollbackDeployment => vec![grant("apps", "deployments", "patch")],
        ActionKind::DeletePod => vec![grant("", "pods", "delete")],
        ActionKind::CordonNode | ActionKind::UncordonNode => vec![grant("", "nodes", "patch")],
        // Cordon, then the Eviction API for each pod (listing the node's pods is a read).
        ActionKind::DrainNode => vec![grant("", "nodes", "patch"), grant("", "pods/eviction", "create")],
    }
}

/// Everything the read role grants: get/list/watch on what enrichment, verification and chat
/// answers read; only get on logs (the subresource has nothing else).
fn read_grants() -> BTreeSet<Grant> {
    let listed: [(&str, &[&str]); 6] = [
        ("", &["pods", "events", "services", "nodes", "namespaces"]),
        ("events.k8s.io", &["events"]),
        ("apps", &["deployments", "replicasets", "statefulsets", "daemonsets"]),
        ("batch", &["jobs", "cronjobs"]),
        ("autoscaling", &["horizontalpodautoscalers"]),
        ("policy", &["poddisruptionbudgets"]),
    ];
    let mut grants: BTreeSet<Grant> = listed
        .iter()
        .flat_map(|(group, resources)| {
            resources.iter().flat_map(move |r| ["get", "list", "watch"].map(|v| grant(group, r, v)))
        })
        .collect();
    grants.insert(grant("", "pods/log", "get"));
    grants
}

/// Every (group, resource, verb) a role's rules spell out.
fn grants(rules: &[PolicyRule]) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for rule in rules {
        for group in rule.api_groups.iter().flatten() {
            for resource in rule.resources.iter().flatten() {
                for verb in &rule.verbs {
                    out.insert(grant(group, resource, verb));
                }
            }
        }
    }
    out
}

/// What no Mimi role may ever grant, whatever the verb.
const NEVER: [&str; 12] = [
    "secrets",
    "configmaps",
    "pods/exec",
    "pods/attach",
    "pods/portforward",
    "pods/proxy",
    "services/proxy",
    "nodes/proxy",
    "serviceaccounts/token",
    "pods/ephemeralcontainers",
    "certificatesigningrequests",
    "tokenreviews",
];

/// Rule shapes that widen a role beyond what its (group, resource, verb) list shows.
fn shape_problems(role: &ClusterRole) -> Vec<String> {
    let mut problems = Vec::new();
    if role.aggregation_rule.is_some() {
        problems.push("has an aggregationRule (other roles could add to it)".to_string());
    }
    for (i, rule) in role.rules.iter().flatten().enumerate() {
        let all = rule.api_groups.iter().flatten().chain(rule.resources.iter().flatten()).chain(&rule.verbs);
        if all.clone().any(|s| s.contains('*')) {
            problems.push(format!("rule {i} uses a wildcard"));
        }
        if rule.non_resource_urls.is_some() {
            problems.push(format!("rule {i} grants non-resource URLs"));
        }
        if rule.api_groups.as_ref().is_none_or(Vec::is_empty) || rule.resources.as_ref().is_none_or(Vec::is_empty) {
            problems.push(format!("rule {i} names no API group or no resource"));
        }
    }
    problems
}

/// F01 for the read role. Empty when the role is right.
fn read_role_problems(role: &ClusterRole) -> Vec<String> {
    let mut problems = shape_problems(role);
    let granted = grants(role.rules.as_deref().unwrap_or_default());
    for (group, resource, verb) in &granted {
        if NEVER.contains(&resource.as_str()) {
            problems.push(format!("grants {verb} on {resource}"));
        }
        if !["get", "list", "watch"].contains(&verb.as_str()) {
            problems.push(format!("grants {verb} on {group}/{resource}: the read role only reads"));
        }
    }
    let expected = read_grants();
    for (group, resource, verb) in granted.difference(&expected) {
        problems.push(format!("grants {verb} on {group:?}/{resource}, which Mimi does not read"));
    }
    for (group, resource, verb) in expected.difference(&granted) {
        problems.push(format!("lacks {verb} on {group:?}/{resource}, which Mimi reads"));
    }
    problems
}

/// F01 for the action role: exactly the catalogue's needs. Empty when the role is right.
fn action_role_problems(role: &ClusterRole) -> Vec<String> {
    let mut problems = shape_problems(role);
    for (i, rule) in role.rules.iter().flatten().enumerate() {
        if rule.resource_names.is_some() {
            problems.push(format!("rule {i} is limited to resourceNames, which no action target can be"));
        }
    }
    let granted = grants(role.rules.as_deref().unwrap_or_default());
    let expected: BTreeSet<Grant> = ActionKind::ALL.into_iter().flat_map(needed).collect();
    for (group, resource, verb) in granted.difference(&expected) {
        problems.push(format!("grants {verb} on {group:?}/{resource}, which no action in the catalogue needs"));
    }
    for (group, resource, verb) in expected.difference(&granted) {
        problems.push(format!("lacks {verb} on {group:?}/{resource}, which the catalogue needs"));
    }
    problems
}

fn role(docs: &[Doc], name: &str) -> ClusterRole {
    the(docs, "ClusterRole", name).typed()
}

#[test]
fn f01_the_read_role_cannot_read_secrets_exec_or_use_wildcards() {
    let read = role(&all_docs(), "mimi-read");
    let problems = read_role_problems(&read);
    assert!(problems.is_empty(), "k8s/rbac.yaml mimi-read:\n  {}", problems.join("\n  "));
}

#[test]
fn f01_the_action_role_grants_exactly_the_verbs_the_catalogue_needs() {
    let actions = role(&all_docs(), "mimi-actions");
    let problems = action_role_problems(&actions);
    assert!(problems.is_empty(), "k8s/rbac.yaml mimi-actions:\n  {}", problems.join("\n  "));
    // Nothing in it reads or writes anything sensitive either.
    let sensitive: Vec<Grant> = grants(actions.rules.as_deref().unwrap_or_default())
        .into_iter()
        .filter(|(_, resource, _)| NEVER.contains(&resource.as_str()))
        .collect();
    assert!(sensitive.is_empty(), "{sensitive:?}");
}

#[test]
fn f01_the_checks_catch_roles_that_grant_too_much_or_too_little() {
    let docs = all_docs();
    let (read, actions) = (role(&docs, "mimi-read"), role(&docs, "mimi-actions"));
    let rule = |groups: &[&str], resources: &[&str], verbs: &[&str]| PolicyRule {
        api_groups: Some(groups.iter().map(|s| s.to_string()).collect()),
        resources: Some(resources.iter().map(|s| s.to_string()).collect()),
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        ..PolicyRule::default()
    };
    let with = |base: &ClusterRole, extra: PolicyRule| {
        let mut r = base.clone();
        r.rules.get_or_insert_with(Vec::new).push(extra);
        r
    };
    let without_first = |base: &ClusterRole| {
        let mut r = base.clone();
        r.rules.as_mut().unwrap().remove(0);
        r
    };
    let read_cases = [
        ("secrets", with(&read, rule(&[""], &["secrets"], &["get"]))),
        ("configmaps", with(&read, rule(&[""], &["configmaps"], &["list"]))),
        ("pods/exec", with(&read, rule(&[""], &["pods/exec"], &["get"]))),
        ("pods/attach", with(&read, rule(&[""], &["pods/attach"], &["get"]))),
        ("pods/portforward", with(&read, rule(&[""], &["pods/portforward"], &["get"]))),
        ("wildcard resource", with(&read, rule(&["apps"], &["*"], &["get"]))),
        ("wildcard group", with(&read, rule(&["*"], &["deployments"], &["get"]))),
        ("wildcard verb", with(&read, rule(&[""], &["pods"], &["*"]))),
        ("a write verb", with(&read, rule(&[""], &["pods"], &["delete"]))),
        ("something unread", with(&read, rule(&["networking.k8s.io"], &["ingresses"], &["get"]))),
        ("a missing read", without_first(&read)),
    ];
    for (what, bad) in read_cases {
        assert!(!read_role_problems(&bad).is_empty(), "the read-role check missed {what}");
    }
    let action_cases = [
        ("create deployments", with(&actions, rule(&["apps"], &["deployments"], &["create"]))),
        ("delete namespaces", with(&actions, rule(&[""], &["namespaces"], &["delete"]))),
        ("update pods", with(&actions, rule(&[""], &["pods"], &["update"]))),
        ("wildcard verb", with(&actions, rule(&["apps"], &["deployments"], &["*"]))),
        ("a missing grant", without_first(&actions)),
    ];
    for (what, bad) in action_cases {
        assert!(!action_role_problems(&bad).is_empty(), "the action-role check missed {what}");
    }
}

#[test]
fn f01_mimi_holds_no_other_role_and_both_roles_are_bound_to_its_service_account() {
    let docs = all_docs();
    let roles: BTreeSet<&str> = docs.iter().filter(|d| d.kind() == "ClusterRole").map(Doc::name).collect();
    assert_eq!(roles, BTreeSet::from(["mimi-actions", "mimi-read"]));
    let namespaced: Vec<String> =
        docs.iter().filter(|d| ["Role", "RoleBinding"].contains(&d.kind())).map(Doc::at).collect();
    assert!(namespaced.is_empty(), "{namespaced:?}");

    let service_account = the(&docs, "ServiceAccount", "mimi");
    let namespace = service_account.value["metadata"]["namespace"].as_str().unwrap();
    let mut bound = BTreeSet::new();
    for doc in docs.iter().filter(|d| d.kind() == "ClusterRoleBinding") {
        let binding: ClusterRoleBinding = doc.typed();
        assert_eq!(binding.role_ref.kind, "ClusterRole", "{}", doc.at());
        assert_eq!(binding.role_ref.api_group.as_deref(), Some("rbac.authorization.k8s.io"), "{}", doc.at());
        let subjects = binding.subjects.unwrap_or_default();
        assert_eq!(subjects.len(), 1, "{}: bound to {subjects:?}", doc.at());
        let subject = &subjects[0];
        assert_eq!(
            (subject.kind.as_str(), subject.name.as_str(), subject.namespace.as_deref()),
            ("ServiceAccount", "mimi", Some(namespace)),
            "{}",
            doc.at()
        );
        bound.insert(binding.role_ref.name);
    }
    assert_eq!(bound, BTreeSet::from(["mimi-actions".to_string(), "mimi-read".to_string()]));

    // The Deployment runs as that ServiceAccount, in its namespace.
    let deployment = the(&docs, "Deployment", "mimi");
    assert_eq!(deployment.value["metadata"]["namespace"].as_str(), Some(namespace));
    assert_eq!(deployment.value["spec"]["template"]["spec"]["serviceAccountName"].as_str(), Some("mimi"));
}
