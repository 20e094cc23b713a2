//! Once a second: the email fallback (an incident's chat message undelivered after
//! `email.fallback_after_seconds`, or at once when every chat sink is down; B05, B09) and the dead
//! man's switch (tell every healthy sink and email that the Watchdog stopped, and when it is back).

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Notifier;
use super::deadman::{Verdict, judge};
use super::health::Health;
use crate::config::{DeadmanSettings, Settings};
use crate::metrics::Metrics;
use crate::store::{NewMessage, Store, now_ms};
use crate::strings::notify as s;

const TICK: Duration = Duration::from_millis(500);

pub(super) struct Sweep {
    store: Store,
    notifier: Notifier,
    health: Arc<Health>,
    metrics: Arc<Metrics>,
    fallback_after_ms: i64,
    deadman: DeadmanSettings,
}

impl Sweep {
    pub(super) fn new(
        store: Store,
        settings: &Settings,
        notifier: Notifier,
        health: Arc<Health>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Sweep {
            store,
            notifier,
            health,
            metrics,
            fallback_after_ms: settings.email.fallback_after_seconds as i64 * 1000,
            deadman: settings.deadman.clone(),
        }
    }

    pub(super) async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            if let Err(e) = self.tick().await {
                self.metrics.error(crate::metrics::ErrorKind::Store);
                tracing::error!(error = format!("{e:#}"), "outbox sweep failed");
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(TICK) => {}
            }
        }
    }

    async fn tick(&self) -> anyhow::Result<()> {
        let now = now_ms();
        if self.notifier.sinks.contains_key("email") {
            let cutoff = if self.health.every_chat_sink_down() { now } else { now - self.fallback_after_ms };
            let queued = self.store.outbox_fallback(cutoff, s::FALLBACK_NOTE, now).await?;
            if queued > 0 {
                tracing::warn!(incidents = queued, "chat delivery overdue: sending the incidents by email");
                self.metrics.outbox_fallbacks(queued as u64);
                self.notifier.wake();
            }
        }
        if self.deadman.enabled {
            self.dead_man(now).await?;
        }
        Ok(())
    }

    async fn dead_man(&self, now: i64) -> anyhow::Result<()> {
        let expect_ms = self.deadman.expect_every_minutes as i64 * 60_000;
        let mut silent = 0;
        for hb in self.store.heartbeats().await? {
            let (since, raise) = match judge(&hb, now, expect_ms) {
                Verdict::Quiet => {
                    silent += i64::from(hb.silent_since.is_some());
                    continue;
                }
                Verdict::Raise { .. } => (Some(now), true),
                Verdict::Clear => (None, false),
            };
            let episode = hb.silent_since.unwrap_or(now);
            let minutes = (now - hb.last_seen) / 60_000;
            let payload = super::render::deadman(&hb.cluster, raise, minutes);
            let messages: Vec<NewMessage> = self
                .notifier
                .all_destinations()
                .into_iter()
                .filter(|d| d.sink == "email" || self.health.status(&d.sink).is_none_or(|st| !st.is_down()))
                .map(|d| NewMessage {
                    idem_key: format!(
                        "{}|{}|deadman|{}|{episode}|{}",
                        d.sink,
                        d.target,
                        hb.cluster,
                        if raise { "raise" } else { "clear" }
                    ),
                    thread: format!("{}|{}|deadman|{}", d.sink, d.target, hb.cluster),
                    sink: d.sink,
                    target: d.target,
                    incident_id: None,
                    kind: "post",
                    subject: "deadman",
                    parent_id: None,
                    payload: payload.clone(),
                    can_edit: false,
                    fallback_to: None,
                    original_at: now,
                })
                .collect();
            if self.store.set_deadman(&hb.cluster, since, &messages, now).await? {
                silent += i64::from(raise);
                if raise {
                    tracing::error!(cluster = %hb.cluster, minutes, "no Watchdog alert: the alert pipeline is broken");
                } else {
                    tracing::warn!(cluster = %hb.cluster, "the Watchdog alert arrives again");
                }
                self.notifier.wake();
            }
        }
        self.metrics.set_deadman_silent(silent);
        Ok(())
    }
}
