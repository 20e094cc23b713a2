//! The cluster state: every stored object, the resourceVersion counter and the change log.
//!
//! Invariants:
//! - Every stored object has `kind`, `apiVersion`, `metadata.uid`, `metadata.resourceVersion` and
//!   `metadata.creationTimestamp`.
//! - Every change bumps the global resourceVersion by exactly one and is recorded once, in order, so
//!   watches can replay from any resourceVersion still in the history.
//! - Writing an object equal to the stored one is a no-op (no new resourceVersion, no event), which
//!   is what lets the controllers run to a fixpoint.
//! - No I/O, no clock: callers pass `now`; randomness comes from a seeded generator.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::object::{self, meta_mut};
use super::resources::{self, Kind};
use super::sim::SimState;

/// `(namespace, name)`; the namespace is empty for cluster-scoped kinds.
pub type Key = (String, String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// One recorded change, as a watch reports it.
#[derive(Clone, Debug)]
pub struct Change {
    pub rv: u64,
    pub kind: Kind,
    pub ty: ChangeType,
    pub object: Arc<Value>,
    /// The object before a modification (watches need it to tell "left the selection").
    pub old: Option<Arc<Value>>,
}

/// The namespaces whose objects changed since the controllers last looked (`all` when a
/// cluster-scoped object changed). Events change nothing a controller reads and are not counted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scope {
    pub all: bool,
    pub namespaces: BTreeSet<String>,
}

impl Scope {
    pub fn all() -> Self {
        Self { all: true, namespaces: BTreeSet::new() }
    }
}

pub struct Cluster {
    objects: BTreeMap<Kind, BTreeMap<Key, Arc<Value>>>,
    rv: u64,
    changes: Vec<Change>,
    dirty: Scope,
    /// Pods bound to each node (kept for the scheduler, which would otherwise scan every pod).
    node_load: HashMap<String, usize>,
    pub rng: fastrand::Rng,
    pub sim: SimState,
}

impl Cluster {
    pub fn new(seed: u64, sim: SimState) -> Self {
        Self {
            objects: BTreeMap::new(),
            rv: 0,
            changes: Vec::new(),
            dirty: Scope::default(),
            node_load: HashMap::new(),
            rng: fastrand::Rng::with_seed(seed),
            sim,
        }
    }

    /// The current (latest) resourceVersion.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// Takes the changes recorded since the last call, oldest first.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    /// Takes the scope of the changes since the last call.
    pub fn take_scope(&mut self) -> Scope {
        std::mem::take(&mut self.dirty)
    }

    /// Objects of a kind in the namespaces of `scope`.
    pub fn list_in(&self, kind: Kind, scope: &Scope) -> Vec<Arc<Value>> {
        if scope.all {
            return self.list(kind, None);
        }
        if !resources::native(kind).namespaced {
            // Cluster-scoped objects matter to any namespace that changed.
            return if scope.namespaces.is_empty() { Vec::new() } else { self.list(kind, None) };
        }
        scope.namespaces.iter().flat_map(|ns| self.list(kind, Some(ns))).collect()
    }

    /// How many pods are bound to `node`.
    pub fn pods_on(&self, node: &str) -> usize {
        self.node_load.get(node).copied().unwrap_or(0)
    }

    fn bind_count(&mut self, kind: Kind, old: Option<&Value>, new: Option<&Value>) {
        if kind != Kind::Pod {
            return;
        }
        let node = |o: Option<&Value>| {
            o.and_then(|o| object::str_at(o, "/spec/nodeName")).filter(|n| !n.is_empty()).map(String::from)
        };
        let (before, after) = (node(old), node(new));
        if before == after {
            return;
        }
        if let Some(b) = before
            && let Some(n) = self.node_load.get_mut(&b)
        {
            *n = n.saturating_sub(1);
        }
        if let Some(a) = after {
            *self.node_load.entry(a).or_default() += 1;
        }
    }

    fn touch(&mut self, kind: Kind, ns: &str) {
        match kind {
            Kind::Event => {}
            _ if !resources::native(kind).namespaced => self.dirty.all = true,
            _ => {
                if !self.dirty.all && !self.dirty.namespaces.contains(ns) {
                    self.dirty.namespaces.insert(ns.to_string());
                }
            }
        }
    }

    pub fn get(&self, kind: Kind, ns: &str, name: &str) -> Option<&Arc<Value>> {
        self.objects.get(&kind)?.get(&(ns.to_string(), name.to_string()))
    }

    /// All objects of a kind (in one namespace, or all when `ns` is `None`), ordered by namespace
    /// then name like etcd keys.
    pub fn list(&self, kind: Kind, ns: Option<&str>) -> Vec<Arc<Value>> {
        let Some(m) = self.objects.get(&kind) else {
            return Vec::new();
        };
        match ns {
            None => m.values().cloned().collect(),
            Some(ns) => m
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }

    /// Objects of a kind after `after` (exclusive) in list order, optionally in one namespace.
    pub fn iter_after<'a>(
        &'a self,
        kind: Kind,
        ns: Option<&'a str>,
        after: Option<&Key>,
    ) -> impl Iterator<Item = &'a Arc<Value>> + 'a {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let start = match (after, ns) {
            (Some(k), _) => Excluded(k.clone()),
            (None, Some(ns)) => Included((ns.to_string(), String::new())),
            (None, None) => Unbounded,
        };
        self.objects
            .get(&kind)
            .into_iter()
            .flat_map(move |m| m.range((start.clone(), Unbounded)))
            .take_while(move |((n, _), _)| ns.is_none_or(|ns| n == ns))
            .map(|(_, v)| v)
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.objects.get(&kind).map_or(0, BTreeMap::len)
    }

    fn key_of(kind: Kind, o: &Value) -> Key {
        let ns = if resources::native(kind).namespaced { object::namespace(o).to_string() } else { String::new() };
        (ns, object::name(o).to_string())
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Stores a new object, filling in the metadata the API server owns. The caller has checked
    /// that it does not exist yet.
    pub fn create(&mut self, kind: Kind, mut o: Value, now: Timestamp) -> Arc<Value> {
        let def = resources::native(kind);
        o["apiVersion"] = json!(def.api_version());
        o["kind"] = json!(def.kind_name);
        let uid = object::random_uid(&mut self.rng);
        let rv = self.next_rv();
        let meta = meta_mut(&mut o);
        if !def.namespaced {
            meta.remove("namespace");
        }
        meta.entry("uid").or_insert_with(|| json!(uid));
        meta.entry("creationTimestamp").or_insert_with(|| json!(object::ts(now)));
        if resources::has_generation(kind) {
            meta.entry("generation").or_insert(json!(1));
        }
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        let o = Arc::new(o);
        let key = Self::key_of(kind, &o);
        self.touch(kind, &key.0);
        self.bind_count(kind, None, Some(&o));
        self.objects.entry(kind).or_default().insert(key, o.clone());
        self.changes.push(Change { rv, kind, ty: ChangeType::Added, object: o.clone(), old: None });
        o
    }

    /// Replaces a stored object. Server-owned metadata is kept from the stored version; the
    /// generation is bumped when the spec changed. Returns the stored object unchanged (and records
    /// nothing) when the write changes nothing.
    pub fn replace(&mut self, kind: Kind, mut o: Value) -> Arc<Value> {
        let key = Self::key_of(kind, &o);
        let old = self
            .objects
            .get(&kind)
            .and_then(|m| m.get(&key))
            .cloned()
            .expect("replace is only called for stored objects");
        {
            let om = old["metadata"].as_object().cloned().unwrap_or_default();
            let meta = meta_mut(&mut o);
            for k in ["uid", "creationTimestamp", "resourceVersion", "generation"] {
                match om.get(k) {
                    Some(v) => meta.insert(k.into(), v.clone()),
                    None => meta.remove(k),
                };
            }
        }
        o["apiVersion"] = old["apiVersion"].clone();
        o["kind"] = old["kind"].clone();
        if o == *old {
            return old;
        }
        if resources::has_generation(kind) && o.get("spec") != old.get("spec") {
            let g = object::generation(&old) + 1;
            meta_mut(&mut o).insert("generation".into(), json!(g));
        }
        let rv = self.next_rv();
        meta_mut(&mut o).insert("resourceVersion".into(), json!(rv.to_string()));
        let o = Arc::new(o);
        self.touch(kind, &key.0);
        self.bind_count(kind, Some(&old), Some(&o));
        self.objects.entry(kind).or_default().insert(key, o.clone());
        self.changes.push(Change { rv, kind, ty: ChangeType::Modified, object: o.clone(), old: Some(old) });
        o
    }

    /// Applies `f` to a copy of a stored object and stores the result (a no-op if nothing changed).
    pub fn update_with(&mut self, kind: Kind, ns: &str, name: &str, f: impl FnOnce(&mut Value)) -> Option<Arc<Value>> {
        let mut o = (**self.get(kind, ns, name)?).clone();
        f(&mut o);
        Some(self.replace(kind, o))
    }

    /// Removes an object; the DELETED change carries a new resourceVersion as on a real server.
    pub fn remove(&mut self, kind: Kind, ns: &str, name: &str) -> Option<Arc<Value>> {
        let old = self.objects.get_mut(&kind)?.remove(&(ns.to_string(), name.to_string()))?;
        let rv = self.next_rv();
        self.touch(kind, ns);
        self.bind_count(kind, Some(&old), None);
        let mut gone = (*old).clone();
        meta_mut(&mut gone).insert("resourceVersion".into(), json!(rv.to_string()));
        let gone = Arc::new(gone);
        self.sim.forget(kind, ns, name);
        self.changes.push(Change { rv, kind, ty: ChangeType::Deleted, object: gone.clone(), old: Some(old) });
        Some(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Cluster {
        Cluster::new(7, SimState::default())
    }

    #[test]
    fn writes_bump_the_resource_version_once_and_noops_do_not() {
        let mut c = cluster();
        let now = Timestamp::UNIX_EPOCH;
        let d = c.create(
            Kind::Deployment,
            json!({"metadata": {"name": "d", "namespace": "n"}, "spec": {"replicas": 1}}),
            now,
        );
        assert_eq!(object::resource_version(&d), "1");
        assert_eq!(object::generation(&d), 1);
        let same = c.replace(Kind::Deployment, (*d).clone());
        assert_eq!(object::resource_version(&same), "1");
        let scaled = c.update_with(Kind::Deployment, "n", "d", |o| o["spec"]["replicas"] = json!(3)).unwrap();
        assert_eq!(object::resource_version(&scaled), "2");
        assert_eq!(object::generation(&scaled), 2);
        let status = c.update_with(Kind::Deployment, "n", "d", |o| o["status"] = json!({"replicas": 3})).unwrap();
        assert_eq!(object::generation(&status), 2, "status changes keep the generation");
        let gone = c.remove(Kind::Deployment, "n", "d").unwrap();
        assert_eq!(object::resource_version(&gone), "4");
        let types: Vec<_> = c.take_changes().iter().map(|ch| (ch.rv, ch.ty)).collect();
        assert_eq!(
            types,
            vec![
                (1, ChangeType::Added),
                (2, ChangeType::Modified),
                (3, ChangeType::Modified),
                (4, ChangeType::Deleted)
            ]
        );
    }

    #[test]
    fn list_is_ordered_and_scoped_by_namespace() {
        let mut c = cluster();
        let now = Timestamp::UNIX_EPOCH;
        for (ns, n) in [("b", "x"), ("a", "z"), ("a", "y"), ("ab", "w")] {
            c.create(Kind::Pod, json!({"metadata": {"name": n, "namespace": ns}}), now);
        }
        let names = |v: Vec<Arc<Value>>| v.iter().map(|o| object::name(o).to_string()).collect::<Vec<_>>();
        assert_eq!(names(c.list(Kind::Pod, None)), ["y", "z", "w", "x"]);
        assert_eq!(names(c.list(Kind::Pod, Some("a"))), ["y", "z"]);
        assert!(c.list(Kind::Node, None).is_empty());
    }
}
