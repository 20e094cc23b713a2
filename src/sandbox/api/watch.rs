//! Watches: a newline-delimited stream of `{"type","object"}` events, as kube-runtime reflectors
//! and `kubectl get -w` consume them.
//!
//! Semantics kept from the real API server:
//! - `resourceVersion` unset or `"0"`: synthetic ADDED events for the current state, then changes.
//!   `sendInitialEvents=true` does the same and ends the initial state with a BOOKMARK annotated
//!   `k8s.io/initial-events-end` (streaming lists).
//! - `resourceVersion=N`: every change after N, or one ERROR event with 410 Expired when N is older
//!   than the kept history (the client then relists).
//! - An object leaving the selection (labels or fields) is a DELETED event, entering it is ADDED.
//! - The stream ends after `timeoutSeconds` (default 30 minutes) or when the sandbox stops.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use super::super::error::ApiError;
use super::super::object;
use super::super::ops::{ListOptions, present, selected};
use super::super::resources::{ResourceDef, View};
use super::super::server::Shared;
use super::super::store::{Change, ChangeType};
use super::Params;
use super::table::{table, wants_table};

struct Watcher {
    shared: Arc<Shared>,
    def: &'static ResourceDef,
    ns: Option<String>,
    opts: ListOptions,
    table: bool,
    pos: u64,
    rx: watch::Receiver<u64>,
    shutdown: watch::Receiver<bool>,
    deadline: Instant,
    bookmarks: bool,
    pending: Option<Bytes>,
    done: bool,
}

impl Watcher {
    fn line(&self, ty: &str, o: &Value) -> String {
        let shown = present(self.def, o);
        let obj = if self.table && self.def.view == View::Native {
            table(self.def, &[&shown], object::resource_version(&shown), None)
        } else {
            shown
        };
        let mut s = json!({"type": ty, "object": obj}).to_string();
        s.push('\n');
        s
    }

    fn in_scope(&self, o: &Value) -> bool {
        self.ns.as_deref().is_none_or(|ns| object::namespace(o) == ns)
    }

    /// The event a change shows as to this watch, if any.
    fn event(&self, ch: &Change) -> Option<String> {
        if ch.kind != self.def.kind || !self.in_scope(&ch.object) {
            return None;
        }
        let now_in = selected(&self.opts, &ch.object);
        let was_in = ch.old.as_ref().is_some_and(|o| selected(&self.opts, o));
        let ty = match (ch.ty, was_in, now_in) {
            (ChangeType::Added, _, true) => "ADDED",
            (ChangeType::Modified, true, true) => "MODIFIED",
            (ChangeType::Modified, false, true) => "ADDED",
            (ChangeType::Modified, true, false) => "DELETED",
            (ChangeType::Deleted, true, _) => "DELETED",
            _ => return None,
        };
        Some(self.line(ty, &ch.object))
    }

    fn bookmark(&self, initial_end: bool) -> String {
        let mut meta = json!({"resourceVersion": self.pos.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let o = json!({"kind": self.def.kind_name, "apiVersion": self.def.api_version(), "metadata": meta});
        format!("{}\n", json!({"type": "BOOKMARK", "object": o}))
    }

    /// Collects the events after `pos`; `Err` when the history no longer has them.
    fn drain(&mut self) -> Result<String, ()> {
        let changes = self.shared.read(|st| st.history.since(self.pos)).ok_or(())?;
        let mut out = String::new();
        for ch in &changes {
            if let Some(line) = self.event(ch) {
                out.push_str(&line);
            }
            self.pos = ch.rv;
        }
        Ok(out)
    }

    async fn next_chunk(&mut self) -> Option<Bytes> {
        if let Some(b) = self.pending.take() {
            return Some(b);
        }
        loop {
            if self.done {
                return None;
            }
            match self.drain() {
                Err(()) => {
                    self.done = true;
                    let status = ApiError::Gone(format!(
                        "too old resource version: {} ({})",
                        self.pos,
                        self.shared.read(|st| st.history.dropped_through)
                    ))
                    .to_status();
                    return Some(Bytes::from(format!("{}\n", json!({"type": "ERROR", "object": status}))));
                }
                Ok(s) if !s.is_empty() => return Some(Bytes::from(s)),
                Ok(_) => {}
            }
            let bookmark_every = if self.bookmarks { Duration::from_secs(30) } else { Duration::from_secs(3600) };
            let mut bookmark = false;
            tokio::select! {
                r = self.rx.changed() => if r.is_err() { self.done = true },
                _ = tokio::time::sleep_until(self.deadline) => self.done = true,
                _ = self.shutdown.wait_for(|s| *s) => self.done = true,
                _ = tokio::time::sleep(bookmark_every) => bookmark = true,
            }
            if bookmark {
                return Some(Bytes::from(self.bookmark(false)));
            }
        }
    }
}

pub fn serve(
    shared: Arc<Shared>,
    def: &'static ResourceDef,
    ns: Option<&str>,
    params: &Params,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let opts = params.list_options(def)?;
    let ns = if def.namespaced { ns.map(String::from) } else { None };
    let rv_param = params.get("resourceVersion").unwrap_or_default().to_string();
    let initial = params.flag("sendInitialEvents") || rv_param.is_empty() || rv_param == "0";
    let timeout = params.get("timeoutSeconds").and_then(|t| t.parse().ok()).unwrap_or(1800u64);
    let start = if initial {
        None
    } else {
        Some(
            rv_param
                .parse::<u64>()
                .map_err(|_| ApiError::BadRequest(format!("invalid resource version: {rv_param}")))?,
        )
    };
    // Subscribe and snapshot under one lock so no change falls between them.
    let rx = shared.subscribe();
    let (pos, snapshot) = shared.read(|st| {
        let pos = start.unwrap_or(st.cluster.rv());
        let snapshot = if initial {
            st.cluster
                .list(def.kind, if def.namespaced { ns.as_deref() } else { None })
                .into_iter()
                .filter(|o| selected(&opts, o))
                .collect()
        } else {
            Vec::new()
        };
        (pos, snapshot)
    });
    let mut w = Watcher {
        shutdown: shared.shutdown.clone(),
        shared,
        def,
        ns,
        opts,
        table: wants_table(headers),
        pos,
        rx,
        deadline: Instant::now() + Duration::from_secs(timeout),
        bookmarks: params.flag("allowWatchBookmarks"),
        pending: None,
        done: false,
    };
    let mut first = String::new();
    for o in &snapshot {
        first.push_str(&w.line("ADDED", o));
    }
    if params.flag("sendInitialEvents") {
        first.push_str(&w.bookmark(true));
    }
    if !first.is_empty() {
        w.pending = Some(Bytes::from(first));
    }
    let stream = futures::stream::unfold(w, |mut w| async move {
        w.next_chunk().await.map(|b| (Ok::<Bytes, std::convert::Infallible>(b), w))
    });
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], Body::from_stream(stream)).into_response())
}
