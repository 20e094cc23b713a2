//! Outbound messages: the durable outbox and its delivery (DESIGN invariant 6).
//!
//! ```text
//! engine step / ingest / decision --same transaction--> outbox rows (store::outbox)
//!                                                            |
//!      one lane per sink (lane.rs): token bucket per channel, Retry-After, backoff, ordering per
//!      incident thread, coalesced edits, roll-up of bursts; one sink down never delays another
//!                                                            |
//!                                  Sink port (sink.rs): email (lettre), fake; Slack, Matrix later
//!  sweep.rs: email fallback (chat overdue or every chat sink down), dead man's switch (deadman.rs)
//! ```
//!
//! The delivery runs in its own task set started by `app.rs` and stopped by the shared shutdown,
//! not in the job worker: the worker serialises by incident and backs off per job, while delivery
//! must pace per channel at sub-second precision, honour a platform's Retry-After for a whole sink
//! and keep a slow sink from holding a worker lane that other incidents' steps need.

pub mod bucket;
pub mod deadman;
pub mod email;
mod enqueue;
pub mod fake;
pub mod health;
mod lane;
pub mod message;
pub mod render;
pub mod route;
pub mod similar;
pub mod sink;
mod sweep;

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use enqueue::{action_text, incident_view};
pub use health::Health;
pub use sink::{Sink, SinkError};

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::store::{NewMessage, Store};
use route::{Destination, RouteInput, Router};
use sink::Capabilities;

/// What the engine needs to enqueue messages: the routes, the sinks that exist, and a bell that
/// wakes the lanes after a commit.
#[derive(Clone)]
pub struct Notifier {
    router: Router,
    sinks: BTreeMap<String, Capabilities>,
    pub public_url: Option<String>,
    wake: Arc<Notify>,
}

impl Notifier {
    pub fn new(settings: &Settings, sinks: &[Arc<dyn Sink>], wake: Arc<Notify>) -> Self {
        Notifier {
            router: Router::new(&settings.notify.routes, &settings.email),
            sinks: sinks.iter().map(|s| (s.name().to_string(), s.capabilities())).collect(),
            public_url: settings.server.public_url.clone(),
            wake,
        }
    }

    /// Where an incident goes, among the sinks that exist; and the routed sinks that do not.
    pub fn destinations(&self, input: &RouteInput<'_>) -> (Vec<Destination>, Vec<String>) {
        let (ok, missing): (Vec<Destination>, Vec<Destination>) =
            self.router.route(input).into_iter().partition(|d| self.sinks.contains_key(&d.sink));
        let email = self.sinks.contains_key("email");
        let ok = ok
            .into_iter()
            .map(|mut d| {
                if !email {
                    d.fallback_to.clear();
                }
                d
            })
            .collect();
        (ok, missing.into_iter().map(|d| d.sink).collect())
    }

    /// The incident's own message for one destination.
    pub fn incident_message(
        &self,
        incident_id: i64,
        d: &Destination,
        payload: message::Rendered,
        now: i64,
    ) -> NewMessage {
        let mut m = NewMessage::incident_post(incident_id, &d.sink, &d.target, payload, now);
        m.can_edit = self.sinks.get(&d.sink).is_some_and(|c| c.edits);
        m.fallback_to = (!d.fallback_to.is_empty()).then(|| d.fallback_to.join(", "));
        m
    }

    /// Every (sink, target) routes name, among existing sinks (the dead man's switch tells them all).
    pub fn all_destinations(&self) -> Vec<Destination> {
        self.router.all_destinations().into_iter().filter(|d| self.sinks.contains_key(&d.sink)).collect()
    }

    pub fn wake(&self) {
        self.wake.notify_waiters();
    }
}

/// Starts one delivery lane per sink and the sweep (fallback, dead man's switch). The returned
/// task ends when `shutdown` is cancelled and every lane has recorded its sends in flight.
pub fn start(
    store: Store,
    settings: &Settings,
    sinks: Vec<Arc<dyn Sink>>,
    notifier: Notifier,
    health: Arc<Health>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let mut set = tokio::task::JoinSet::new();
    for sink in &sinks {
        health.register(sink.name(), sink.capabilities().chat);
        let lane = lane::Lane::new(
            store.clone(),
            sink.clone(),
            &settings.notify,
            health.clone(),
            metrics.clone(),
            notifier.wake.clone(),
        );
        set.spawn(lane.run(shutdown.clone()));
    }
    let sweep = sweep::Sweep::new(store, settings, notifier, health, metrics);
    set.spawn(sweep.run(shutdown));
    tokio::spawn(async move { while set.join_next().await.is_some() {} })
}
