//! Create, update (main resource or `status`), patch and delete, with the API server's checks:
//! name and namespace agreement, resourceVersion and uid preconditions (409), validation (422),
//! immutable fields, status/spec separation, dry run.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::error::ApiError;
use super::super::object::{self, meta_mut};
use super::super::patch::{self, PatchType};
use super::super::resources::{Kind, ResourceDef, Sub, View};
use super::super::sim::{self, events, fix, pods};
use super::super::store::Cluster;
use super::super::validate;
use super::{get, is_workload, scoped_ns};

fn writable(def: &ResourceDef) -> Result<(), ApiError> {
    if def.view == View::EventsV1 {
        return Err(ApiError::MethodNotAllowed);
    }
    Ok(())
}

/// Creates an object posted to a collection.
pub fn create(
    c: &mut Cluster,
    now: Timestamp,
    def: &ResourceDef,
    ns: Option<&str>,
    mut body: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    writable(def)?;
    let ns = scoped_ns(def, ns).to_string();
    {
        let meta = meta_mut(&mut body);
        if meta.get("name").and_then(Value::as_str).is_none_or(str::is_empty)
            && let Some(prefix) = meta.get("generateName").and_then(Value::as_str).map(String::from)
        {
            let suffix = object::random_suffix(&mut c.rng, 5);
            meta.insert("name".into(), json!(format!("{prefix}{suffix}")));
        }
        if def.namespaced {
            match meta.get("namespace").and_then(Value::as_str) {
                Some(n) if !n.is_empty() && n != ns => {
                    return Err(ApiError::BadRequest(
                        "the namespace of the provided object does not match the namespace sent on the request".into(),
                    ));
                }
                _ => {
                    meta.insert("namespace".into(), json!(ns));
                }
            }
        }
        for k in ["uid", "resourceVersion", "creationTimestamp", "generation"] {
            meta.remove(k);
        }
    }
    body["apiVersion"] = json!(def.api_version());
    body["kind"] = json!(def.kind_name);
    validate::validate(def, &body)?;
    let name = object::name(&body).to_string();
    if c.get(def.kind, &ns, &name).is_some() {
        return Err(ApiError::AlreadyExists { resource: def.qualified(), name });
    }
    if def.namespaced && c.get(Kind::Namespace, "", &ns).is_none() {
        return Err(ApiError::NotFound { resource: "namespaces".into(), name: ns });
    }
    if dry_run {
        return Ok(body);
    }
    let stored = if def.kind == Kind::Pod {
        pods::create(c, now, body);
        c.get(Kind::Pod, &ns, &name).cloned().expect("just created")
    } else {
        c.create(def.kind, body, now)
    };
    sim::reconcile(c, now);
    Ok((*stored).clone())
}

/// The annotation that makes admission refuse every write to an object (and its pods), with its
/// value as the reason — a stand-in for a validating webhook, for tests of refused actions (F02).
pub const DENY_WRITES: &str = "sandbox.mimi.dev/deny-writes";

/// Admission: refuses writes to an object carrying [`DENY_WRITES`]. Dry runs are refused too, as a
/// real webhook sees dry-run requests.
pub fn admit(stored: &Value) -> Result<(), ApiError> {
    match object::annotation(stored, DENY_WRITES) {
        Some(reason) => Err(ApiError::Forbidden(reason.to_string())),
        None => Ok(()),
    }
}

/// Checks the preconditions a body or DeleteOptions carries against the stored object.
fn preconditions(def: &ResourceDef, stored: &Value, uid: Option<&str>, rv: Option<&str>) -> Result<(), ApiError> {
    let name = object::name(stored);
    if let Some(uid) = uid.filter(|u| !u.is_empty())
        && uid != object::uid(stored)
    {
        return Err(ApiError::conflict(
            def,
            name,
            format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {}", object::uid(stored)),
        ));
    }
    if let Some(rv) = rv.filter(|r| !r.is_empty())
        && rv != object::resource_version(stored)
    {
        return Err(ApiError::modified(def, name));
    }
    Ok(())
}

/// Stores `new` in place of `old` after every check; the shared tail of update and patch.
fn commit(
    c: &mut Cluster,
    now: Timestamp,
    def: &ResourceDef,
    old: &Arc<Value>,
    mut new: Value,
    sub: Option<Sub>,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let name = object::name(old).to_string();
    if object::name(&new) != name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            object::name(&new)
        )));
    }
    if def.namespaced && !object::namespace(&new).is_empty() && object::namespace(&new) != object::namespace(old) {
        return Err(ApiError::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request".into(),
        ));
    }
    preconditions(def, old, Some(object::uid(&new)), Some(object::resource_version(&new)))?;
    if sub != Some(Sub::Status) {
        admit(old)?;
    }
    if def.has(Sub::Status) {
        match sub {
            Some(Sub::Status) => {
                let status = new.get("status").cloned();
                new = (**old).clone();
                match status {
                    Some(s) => new["status"] = s,
                    None => {
                        new.as_object_mut().map(|m| m.remove("status"));
                    }
                }
            }
            _ => match old.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    new.as_object_mut().map(|m| m.remove("status"));
                }
            },
        }
    }
    {
        let meta = meta_mut(&mut new);
        meta.insert("namespace".into(), json!(object::namespace(old)));
        if !def.namespaced {
            meta.remove("namespace");
        }
        for k in ["uid", "creationTimestamp", "resourceVersion", "generation"] {
            if let Some(v) = old["metadata"].get(k) {
                meta.insert(k.into(), v.clone());
            }
        }
    }
    new["apiVersion"] = old["apiVersion"].clone();
    new["kind"] = old["kind"].clone();
    validate::validate(def, &new)?;
    validate::immutable(def, old, &new)?;
    if dry_run {
        return Ok(new);
    }
    let stored = c.replace(def.kind, new);
    if is_workload(def.kind) {
        fix::on_workload_update(c, def.kind, old, &stored);
    }
    if def.kind == Kind::Node {
        node_changed(c, now, old, &stored);
    }
    sim::reconcile(c, now);
    Ok((*stored).clone())
}

/// Cordon bookkeeping a real node lifecycle controller does: the unschedulable taint and an event.
fn node_changed(c: &mut Cluster, now: Timestamp, old: &Value, new: &Value) {
    let flag = |o: &Value| o.pointer("/spec/unschedulable").and_then(Value::as_bool).unwrap_or(false);
    if flag(old) == flag(new) {
        return;
    }
    let cordoned = flag(new);
    let updated = c.update_with(Kind::Node, "", object::name(new), |n| {
        let taints = n["spec"]["taints"].as_array().cloned().unwrap_or_default();
        let mut taints: Vec<Value> = taints.into_iter().filter(|t| t["key"] != "node.kubernetes.io/unschedulable").collect();
        if cordoned {
            taints.push(json!({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": object::ts(now)}));
        }
        if taints.is_empty() {
            n["spec"].as_object_mut().map(|m| m.remove("taints"));
        } else {
            n["spec"]["taints"] = json!(taints);
        }
    });
    if let Some(node) = updated {
        let state = if cordoned { "NodeNotSchedulable" } else { "NodeSchedulable" };
        let msg = format!("Node {} status is now: {state}", object::name(&node));
        events::record(c, now, &node, false, state, &msg, "node-controller");
    }
}

/// PUT of a whole object (main resource or `status`).
#[allow(clippy::too_many_arguments)]
pub fn update(
    c: &mut Cluster,
    now: Timestamp,
    def: &ResourceDef,
    ns: Option<&str>,
    name: &str,
    body: Value,
    sub: Option<Sub>,
    dry_run: bool,
) -> Result<Value, ApiError> {
    writable(def)?;
    let old = get(c, def, ns, name)?;
    commit(c, now, def, &old, body, sub, dry_run)
}

/// PATCH in any of the supported formats.
#[allow(clippy::too_many_arguments)]
pub fn patch(
    c: &mut Cluster,
    now: Timestamp,
    def: &ResourceDef,
    ns: Option<&str>,
    name: &str,
    ty: PatchType,
    body: &Value,
    sub: Option<Sub>,
    dry_run: bool,
) -> Result<Value, ApiError> {
    writable(def)?;
    let old = get(c, def, ns, name)?;
    let mut new = (*old).clone();
    // A patch that names no resourceVersion must not trip the precondition check.
    meta_mut(&mut new).remove("resourceVersion");
    patch::apply(ty, &mut new, body)?;
    commit(c, now, def, &old, new, sub, dry_run)
}

/// DeleteOptions, from the body or the query.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    pub dry_run: bool,
    pub orphan: bool,
}

impl DeleteOptions {
    pub fn from_body(body: &Value) -> Self {
        let s = |p: &str| body.pointer(p).and_then(Value::as_str).map(String::from);
        Self {
            uid: s("/preconditions/uid"),
            resource_version: s("/preconditions/resourceVersion"),
            dry_run: body.get("dryRun").and_then(Value::as_array).is_some_and(|a| a.iter().any(|v| v == "All")),
            orphan: s("/propagationPolicy").as_deref() == Some("Orphan")
                || body.get("orphanDependents") == Some(&json!(true)),
        }
    }
}

/// DELETE of one object: the answer is the object as it was when deleted.
pub fn delete(
    c: &mut Cluster,
    now: Timestamp,
    def: &ResourceDef,
    ns: Option<&str>,
    name: &str,
    opts: &DeleteOptions,
) -> Result<Value, ApiError> {
    writable(def)?;
    let stored = get(c, def, ns, name)?;
    preconditions(def, &stored, opts.uid.as_deref(), opts.resource_version.as_deref())?;
    admit(&stored)?;
    if opts.dry_run {
        return Ok((*stored).clone());
    }
    remove_with_hooks(c, def.kind, &stored, opts.orphan);
    if def.kind == Kind::Namespace {
        for kind in
            super::super::resources::RESOURCES.iter().filter(|r| r.namespaced && r.view == View::Native).map(|r| r.kind)
        {
            for o in c.list(kind, Some(name)) {
                c.remove(kind, name, object::name(&o));
            }
        }
    }
    sim::reconcile(c, now);
    Ok((*stored).clone())
}

/// Removes an object the way a delete does: the `delete-pod` fix hook, optional orphaning.
pub fn remove_with_hooks(c: &mut Cluster, kind: Kind, stored: &Value, orphan: bool) {
    let ns = object::namespace(stored).to_string();
    if kind == Kind::Pod {
        fix::on_pod_delete(c, stored);
    }
    if orphan {
        let uid = object::uid(stored).to_string();
        for dk in [Kind::ReplicaSet, Kind::Pod, Kind::Job] {
            for d in c.list(dk, Some(&ns)) {
                if object::controller_of(&d).is_some_and(|(_, _, u)| u == uid) {
                    c.update_with(dk, &ns, object::name(&d), |o| {
                        meta_mut(o).remove("ownerReferences");
                    });
                }
            }
        }
    }
    c.remove(kind, &ns, object::name(stored));
}
