//! The ReplicaSet controller: keeps `spec.replicas` pods, replaces deleted ones, removes extras
//! (unready and newest first), and writes the ReplicaSet status from its pods.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::object;
use super::super::resources::Kind;
use super::super::store::{Cluster, Scope};
use super::{events, pods, pods_by_owner};

pub fn run(c: &mut Cluster, now: Timestamp, scope: &Scope) {
    let by_owner = pods_by_owner(c, scope);
    for rs in c.list_in(Kind::ReplicaSet, scope) {
        let owned = by_owner.get(object::uid(&rs)).cloned().unwrap_or_default();
        let want = object::replicas(&rs).max(0) as usize;
        let ns = object::namespace(&rs).to_string();
        if owned.len() < want {
            let template = rs.pointer("/spec/template").cloned().unwrap_or(Value::Null);
            for _ in owned.len()..want {
                let name = format!("{}-{}", object::name(&rs), object::random_suffix(&mut c.rng, 5));
                let pod = pods::from_template("apps/v1", "ReplicaSet", &rs, &template, &name, &[]);
                pods::create(c, now, pod);
                let msg = format!("Created pod: {name}");
                events::record(c, now, &rs, false, "SuccessfulCreate", &msg, "replicaset-controller");
            }
        } else if owned.len() > want {
            let mut victims = owned.clone();
            // Unscheduled, then unready, then newest go first, as the real controller ranks them.
            victims.sort_by_key(|p| {
                let bound = object::str_at(p, "/spec/nodeName").is_some_and(|n| !n.is_empty());
                let created = object::str_at(p, "/metadata/creationTimestamp").unwrap_or_default().to_string();
                (bound, object::pod_ready(p), std::cmp::Reverse(created))
            });
            for p in victims.iter().take(owned.len() - want) {
                let name = object::name(p).to_string();
                c.remove(Kind::Pod, &ns, &name);
                let msg = format!("Deleted pod: {name}");
                events::record(c, now, &rs, false, "SuccessfulDelete", &msg, "replicaset-controller");
            }
        }
        write_status(c, &rs);
    }
}

fn write_status(c: &mut Cluster, rs: &Value) {
    let ns = object::namespace(rs).to_string();
    let name = object::name(rs).to_string();
    let owned: Vec<_> = c
        .list(Kind::Pod, Some(&ns))
        .into_iter()
        .filter(|p| object::controller_of(p).is_some_and(|(_, _, u)| u == object::uid(rs)))
        .collect();
    let ready = owned.iter().filter(|p| object::pod_ready(p)).count();
    let mut status = json!({
        "replicas": owned.len(),
        "observedGeneration": object::generation(rs),
    });
    if !owned.is_empty() {
        status["fullyLabeledReplicas"] = json!(owned.len());
    }
    if ready > 0 {
        status["readyReplicas"] = json!(ready);
        status["availableReplicas"] = json!(ready);
    }
    c.update_with(Kind::ReplicaSet, &ns, &name, |o| o["status"] = status);
}
