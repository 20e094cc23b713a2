//! The garbage collector: deletes objects whose owner (by uid) no longer exists, the default
//! background cascade of a real cluster.

use super::super::object;
use super::super::resources::{self, Kind};
use super::super::store::{Cluster, Scope};

fn owner_exists(c: &Cluster, ns: &str, kind: &str, name: &str, uid: &str) -> bool {
    let Some(def) = resources::RESOURCES.iter().find(|r| r.kind_name == kind) else {
        // An owner of a kind the sandbox does not serve is left alone.
        return true;
    };
    let ns = if def.namespaced { ns } else { "" };
    c.get(def.kind, ns, name).is_some_and(|o| object::uid(o) == uid || uid.is_empty())
}

pub fn run(c: &mut Cluster, scope: &Scope) {
    for kind in [Kind::ReplicaSet, Kind::Job, Kind::Pod] {
        for o in c.list_in(kind, scope) {
            let Some(refs) = o.pointer("/metadata/ownerReferences").and_then(|r| r.as_array()) else {
                continue;
            };
            let ns = object::namespace(&o);
            let orphaned = !refs.is_empty()
                && refs.iter().all(|r| {
                    let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or_default();
                    !owner_exists(c, ns, s("kind"), s("name"), s("uid"))
                });
            if orphaned {
                c.remove(kind, ns, object::name(&o));
            }
        }
    }
}
