//! The DaemonSet controller: one pod per fitting node (cordoned and not-ready nodes still fit, as
//! DaemonSet pods tolerate them), replaced one at a time when the template changes.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::object;
use super::super::resources::Kind;
use super::super::store::{Cluster, Scope};
use super::statefulset::{inherit_failure, pod_revision, revision_of};
use super::{events, pods, pods_by_owner};

pub fn run(c: &mut Cluster, now: Timestamp, scope: &Scope) {
    let by_owner = pods_by_owner(c, scope);
    let nodes = c.list(Kind::Node, None);
    for ds in c.list_in(Kind::DaemonSet, scope) {
        let (ns, name) = (object::namespace(&ds).to_string(), object::name(&ds).to_string());
        let rev = revision_of(&ds);
        let prev = c.sim.revisions.insert(object::uid(&ds).to_string(), rev.clone()).unwrap_or_default();
        inherit_failure(c, Kind::DaemonSet, &ds, &prev, &rev);
        let template = ds.pointer("/spec/template").cloned().unwrap_or(Value::Null);
        let probe = json!({"spec": template.get("spec").cloned().unwrap_or(Value::Null)});
        let fitting: Vec<String> =
            nodes.iter().filter(|n| pods::node_fits(n, &probe, true)).map(|n| object::name(n).to_string()).collect();
        let mut on_node: HashMap<String, Value> = HashMap::new();
        for p in by_owner.get(object::uid(&ds)).into_iter().flatten() {
            let node = object::str_at(p, "/spec/nodeName").unwrap_or_default().to_string();
            if fitting.contains(&node) && !on_node.contains_key(&node) {
                on_node.insert(node, (**p).clone());
            } else {
                c.remove(Kind::Pod, &ns, object::name(p));
            }
        }
        for node in &fitting {
            if on_node.contains_key(node) {
                continue;
            }
            let pod_name = format!("{name}-{}", object::random_suffix(&mut c.rng, 5));
            let mut pod = pods::from_template(
                "apps/v1",
                "DaemonSet",
                &ds,
                &template,
                &pod_name,
                &[("controller-revision-hash", &rev)],
            );
            pod["spec"]["nodeName"] = json!(node);
            pods::create(c, now, pod);
            events::record(
                c,
                now,
                &ds,
                false,
                "SuccessfulCreate",
                &format!("Created pod: {pod_name}"),
                "daemonset-controller",
            );
        }
        let updated_ready = on_node.values().filter(|p| pod_revision(p) == rev).all(object::pod_ready);
        if updated_ready && let Some(p) = on_node.values().find(|p| pod_revision(p) != rev) {
            c.remove(Kind::Pod, &ns, object::name(p));
        }
        write_status(c, &ds, &rev, fitting.len());
    }
}

fn write_status(c: &mut Cluster, ds: &Value, rev: &str, desired: usize) {
    let (ns, name) = (object::namespace(ds).to_string(), object::name(ds).to_string());
    let owned: Vec<_> = c
        .list(Kind::Pod, Some(&ns))
        .into_iter()
        .filter(|p| object::controller_of(p).is_some_and(|(_, _, u)| u == object::uid(ds)))
        .collect();
    let ready = owned.iter().filter(|p| object::pod_ready(p)).count();
    let updated = owned.iter().filter(|p| pod_revision(p) == rev).count();
    let status = json!({
        "observedGeneration": object::generation(ds),
        "desiredNumberScheduled": desired,
        "currentNumberScheduled": owned.len(),
        "numberMisscheduled": 0,
        "numberReady": ready,
        "numberAvailable": ready,
        "numberUnavailable": desired.saturating_sub(ready),
        "updatedNumberScheduled": updated,
    });
    c.update_with(Kind::DaemonSet, &ns, &name, |o| o["status"] = status);
}
