//! Events the simulated controllers and kubelet emit, shaped as core/v1 Events.
//!
//! Invariant: an event names the object it is about (`involvedObject` with uid) and the component
//! that emitted it, so enrichment code reads them exactly like events from a real cluster.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::object;
use super::super::resources::Kind;
use super::super::store::Cluster;

/// Records a Normal or Warning event about `involved`.
pub fn record(
    c: &mut Cluster,
    now: Timestamp,
    involved: &Value,
    warning: bool,
    reason: &str,
    message: &str,
    component: &str,
) {
    let ns = match object::namespace(involved) {
        "" => "default",
        ns => ns,
    };
    let suffix = format!("{:016x}", c.rng.u64(..));
    let t = object::ts(now);
    let ev = json!({
        "metadata": {"name": format!("{}.{}", object::name(involved), suffix), "namespace": ns},
        "involvedObject": {
            "apiVersion": involved["apiVersion"],
            "kind": involved["kind"],
            "name": object::name(involved),
            "namespace": object::namespace(involved),
            "uid": object::uid(involved),
            "resourceVersion": object::resource_version(involved),
        },
        "reason": reason,
        "message": message,
        "type": if warning { "Warning" } else { "Normal" },
        "source": {"component": component},
        "firstTimestamp": t,
        "lastTimestamp": t,
        "count": 1,
        "reportingComponent": component,
        "reportingInstance": "",
    });
    c.create(Kind::Event, ev, now);
}
