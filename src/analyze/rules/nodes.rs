//! Nodes: NotReady (cordon, then drain — both high risk, approved by people) and memory, disk or
//! PID pressure (cordon, so no new pods land there while people free it up).

use super::Finding;
use super::context::Ctx;
use super::propose;
use crate::cluster::evidence::NodeFacts;
use crate::strings::rules as s;

fn node_facts(ctx: &Ctx<'_>, n: &NodeFacts) -> Vec<String> {
    let mut facts: Vec<String> = n.conditions.iter().map(|c| s::condition(&format!("Node {}", n.name), c)).collect();
    if n.unschedulable {
        facts.push(s::node_cordoned(&n.name));
    }
    let pods: Vec<String> = ctx
        .ev
        .pods
        .iter()
        .filter(|p| p.node.as_deref() == Some(n.name.as_str()))
        .map(|p| format!("{}/{}", p.namespace, p.name))
        .collect();
    if !pods.is_empty() {
        facts.push(s::pods_on_node(&n.name, &pods));
    }
    for e in ctx.events_about("Node", &n.name).take(2) {
        facts.push(s::event(&e.object, &e.reason, e.count, &e.message));
    }
    facts
}

/// A node that is not Ready: cordon it (unless it is already), then drain it.
pub(crate) fn not_ready(ctx: &Ctx<'_>) -> Option<Finding> {
    let n = ctx.ev.nodes.iter().find(|n| n.ready != "True")?;
    let mut facts = node_facts(ctx, n);
    facts.push(s::node_actions_are_high_risk().to_string());
    let mut proposals = Vec::new();
    if !n.unschedulable {
        proposals.push(propose::cordon(&n.name, s::reason_cordon_not_ready()));
    }
    proposals.push(propose::drain(&n.name, s::reason_drain_not_ready()));
    Some(Finding { diagnosis: s::diag_node_not_ready(&n.name, &n.ready), facts, proposals })
}

const PRESSURES: &[&str] = &["MemoryPressure=True", "DiskPressure=True", "PIDPressure=True"];

/// A node under memory, disk or PID pressure: cordon it; evicted pods are in the facts.
pub(crate) fn pressure(ctx: &Ctx<'_>) -> Option<Finding> {
    let (n, condition) = ctx.ev.nodes.iter().find_map(|n| {
        n.conditions.iter().find(|c| PRESSURES.iter().any(|p| c.starts_with(p))).map(|c| (n, c.as_str()))
    })?;
    let kind = condition.split('=').next().unwrap_or(condition);
    let mut facts = node_facts(ctx, n);
    let evicted: Vec<_> = ctx.ev.events.iter().filter(|e| e.reason == "Evicted").take(3).collect();
    for e in evicted {
        facts.push(s::event(&e.object, &e.reason, e.count, &e.message));
    }
    facts.push(s::pressure_needs_people(kind).to_string());
    let mut proposals = Vec::new();
    if !n.unschedulable {
        proposals.push(propose::cordon(&n.name, s::reason_cordon_pressure(kind)));
    }
    Some(Finding { diagnosis: s::diag_node_pressure(&n.name, kind), facts, proposals })
}
