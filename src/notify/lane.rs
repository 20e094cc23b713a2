//! One sink's delivery lane: the only code that calls a sink.
//!
//! Each turn it rolls up bursts, asks the store for each channel's next sendable row (due, its
//! thread's earlier rows done, its parent sent), and hands a row to the sink when the channel is
//! not busy, not paused by a Retry-After, and its token bucket has a token — at most one call per
//! channel in flight (order), `max_in_flight` per sink. Every row is marked `sending` before the
//! call; the result is recorded after it. A rate limit pauses the channel (or the whole sink) for
//! exactly the time asked (B06, B07); a failure backs the sink off exponentially (a circuit
//! breaker: one probe at a time while it is down, B05). Lanes share nothing, so one sink down or
//! slow never delays another.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::bucket::TokenBucket;
use super::health::{Health, Outcome};
use super::sink::{Action, LimitScope, MessageId, Outgoing, Sink, SinkError};
use crate::config::{NotifySettings, RateLimit};
use crate::metrics::Metrics;
use crate::store::{OutboxRow, Store, now_ms};

/// Longest idle wait before the lane looks again (new rows also wake it at once).
const POLL: Duration = Duration::from_millis(250);

struct Channel {
    /// Taken by the sending task right before the call, so the pacing holds at the platform.
    bucket: Arc<std::sync::Mutex<TokenBucket>>,
    paused_until: Option<Instant>,
    busy: bool,
}

type Sent = (OutboxRow, Result<MessageId, SinkError>);

pub(super) struct Lane {
    store: Store,
    sink: Arc<dyn Sink>,
    name: String,
    limit: RateLimit,
    settings: NotifySettings,
    health: Arc<Health>,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
    channels: HashMap<String, Channel>,
    paused_until: Option<Instant>,
    failures: u32,
    in_doubt: bool,
}

impl Lane {
    pub(super) fn new(
        store: Store,
        sink: Arc<dyn Sink>,
        settings: &NotifySettings,
        health: Arc<Health>,
        metrics: Arc<Metrics>,
        wake: Arc<Notify>,
    ) -> Self {
        let name = sink.name().to_string();
        Lane {
            store,
            limit: settings.limit_for(&name),
            name,
            sink,
            settings: settings.clone(),
            health,
            metrics,
            wake,
            channels: HashMap::new(),
            paused_until: None,
            failures: 0,
            in_doubt: true,
        }
    }

    pub(super) async fn run(mut self, shutdown: CancellationToken) {
        let mut inflight: JoinSet<Sent> = JoinSet::new();
        let wake = self.wake.clone();
        while !shutdown.is_cancelled() {
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.in_doubt && inflight.is_empty() {
                self.reconcile().await;
            }
            let wait = match self.turn(&mut inflight).await {
                Ok(wait) => wait,
                Err(e) => {
                    self.metrics.error(crate::metrics::ErrorKind::Store);
                    tracing::error!(sink = %self.name, error = format!("{e:#}"), "outbox: could not read the queue");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(Ok(done)) = inflight.join_next(), if !inflight.is_empty() => self.done(done).await,
                _ = &mut notified => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        // Record what is in flight (bounded by the send timeout); anything left stays `sending`
        // and is reconciled at the next start.
        while let Some(done) = inflight.join_next().await {
            if let Ok(done) = done {
                self.done(done).await;
            }
        }
    }

    /// Starts what can start now; returns how long to wait before looking again.
    async fn turn(&mut self, inflight: &mut JoinSet<Sent>) -> anyhow::Result<Duration> {
        let now = Instant::now();
        if let Some(until) = self.paused_until.filter(|t| *t > now) {
            return Ok(until - now);
        }
        if self.sink.capabilities().chat {
            self.roll_up().await?;
        }
        let mut wait = POLL;
        let rows = self.store.outbox_due(&self.name, now_ms()).await?;
        for row in rows {
            if inflight.len() >= self.settings.max_in_flight || self.paused_until.is_some_and(|t| t > now) {
                break;
            }
            let limit = self.limit;
            let ch = self.channels.entry(row.target.clone()).or_insert_with(|| Channel {
                bucket: Arc::new(std::sync::Mutex::new(TokenBucket::new(limit.per_second, limit.burst, now))),
                paused_until: None,
                busy: false,
            });
            if ch.busy {
                continue;
            }
            if let Some(until) = ch.paused_until.filter(|t| *t > now) {
                wait = wait.min(until - now);
                continue;
            }
            let ready_in = ch.bucket.lock().unwrap().ready_in(now);
            if !ready_in.is_zero() {
                wait = wait.min(ready_in);
                continue;
            }
            self.store.outbox_mark_sending(row.id, now_ms()).await?;
            ch.busy = true;
            let bucket = ch.bucket.clone();
            let (sink, timeout) = (self.sink.clone(), Duration::from_secs(self.settings.send_timeout_seconds));
            let late_ms = self.settings.late_after_seconds as i64 * 1000;
            inflight.spawn(async move {
                // One task per channel at a time: the token is there or due within a moment.
                loop {
                    let taken = bucket.lock().unwrap().try_take(Instant::now());
                    match taken {
                        Ok(()) => break,
                        Err(d) => tokio::time::sleep(d).await,
                    }
                }
                // A panicking sink is a failed call, not a lost row.
                let call = std::panic::AssertUnwindSafe(send(sink.as_ref(), &row, late_ms)).catch_unwind();
                let result = match tokio::time::timeout(timeout, call).await {
                    Ok(Ok(r)) => r,
                    Ok(Err(_)) => Err(SinkError::Unavailable("the sink panicked".into())),
                    Err(_) => Err(SinkError::Unavailable(format!("no answer within {} s", timeout.as_secs()))),
                };
                (row, result)
            });
        }
        Ok(wait.max(Duration::from_millis(1)))
    }

    async fn roll_up(&mut self) -> anyhow::Result<()> {
        let threshold = self.settings.rollup_threshold as i64;
        let window = self.settings.rollup_window_seconds as i64 * 1000;
        for target in self.store.outbox_bursts(&self.name, threshold, window, now_ms()).await? {
            if let Some((_, n)) = self.store.outbox_roll_up(&self.name, &target, window, now_ms()).await? {
                self.metrics.outbox_rolled_up(&self.name, n as u64);
            }
        }
        Ok(())
    }

    /// Records one finished call.
    async fn done(&mut self, (row, result): Sent) {
        let now = Instant::now();
        if let Some(ch) = self.channels.get_mut(&row.target) {
            ch.busy = false;
        }
        let kind = row.kind.clone();
        let recorded = match &result {
            Ok(id) => {
                // Crash tests (B03): die after the sink took the message, before it is recorded.
                crate::failpoint::hit("after_send");
                self.failures = 0;
                self.health.record(&self.name, Outcome::Ok, None, now_ms());
                self.metrics.outbox_sent(&self.name, &kind, (now_ms() - row.created_at).max(0) as f64 / 1000.0);
                self.store.outbox_mark_sent(&row, &id.0, self.sink.platform(), now_ms()).await
            }
            Err(SinkError::RateLimited { retry_after, scope }) => {
                self.health.record(&self.name, Outcome::RateLimited, None, now_ms());
                self.metrics.outbox_failed(&self.name, "rate_limited");
                let until = now + *retry_after;
                match scope {
                    LimitScope::Sink => self.paused_until = Some(until),
                    LimitScope::Channel => {
                        if let Some(ch) = self.channels.get_mut(&row.target) {
                            ch.paused_until = Some(until);
                        }
                    }
                }
                tracing::info!(sink = %self.name, retry_after_ms = retry_after.as_millis() as u64, "outbox: rate limited; waiting as asked");
                let next = now_ms() + retry_after.as_millis() as i64;
                self.store.outbox_retry(row.id, next, Some("rate limited"), now_ms()).await
            }
            Err(SinkError::Unavailable(why)) => {
                self.failures += 1;
                self.health.record(&self.name, Outcome::Failed, Some(why), now_ms());
                self.metrics.outbox_failed(&self.name, "unavailable");
                let delay = self.backoff();
                self.paused_until = Some(now + delay);
                tracing::warn!(sink = %self.name, attempt = row.attempts + 1, retry_in_ms = delay.as_millis() as u64, error = %why, "outbox: delivery failed");
                if now_ms() - row.created_at > self.settings.give_up_after_hours as i64 * 3_600_000 {
                    self.metrics.outbox_failed(&self.name, "gave_up");
                    self.store.outbox_give_up(row.id, why, now_ms()).await
                } else {
                    self.store.outbox_retry(row.id, now_ms() + delay.as_millis() as i64, Some(why), now_ms()).await
                }
            }
            Err(SinkError::Rejected(why)) => {
                self.health.record(&self.name, Outcome::Rejected, Some(why), now_ms());
                self.metrics.outbox_failed(&self.name, "rejected");
                tracing::error!(sink = %self.name, row = row.id, error = %why, "outbox: the sink rejected a message; giving it up");
                self.store.outbox_give_up(row.id, why, now_ms()).await
            }
        };
        if let Err(e) = recorded {
            // The row stays `sending`; it is reconciled like after a crash.
            self.in_doubt = true;
            self.metrics.error(crate::metrics::ErrorKind::Store);
            tracing::error!(sink = %self.name, row = row.id, error = format!("{e:#}"), "outbox: could not record a delivery");
        }
    }

    /// Capped exponential backoff with up to 25% jitter taken off.
    fn backoff(&self) -> Duration {
        let base = Duration::from_millis(self.settings.backoff_base_ms);
        let raw = base.saturating_mul(1u32 << self.failures.saturating_sub(1).min(20));
        raw.min(Duration::from_millis(self.settings.backoff_max_ms)).mul_f64(1.0 - fastrand::f64() * 0.25)
    }

    /// Rows left `sending` by a crash: recorded if the sink finds them, else sent again (B03).
    async fn reconcile(&mut self) {
        let rows = match self.store.outbox_in_doubt(&self.name).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(sink = %self.name, error = format!("{e:#}"), "outbox: could not read rows in doubt");
                return;
            }
        };
        self.in_doubt = false;
        for row in rows {
            let found = match outgoing(&row, &row.payload) {
                Some(out) => self.sink.lookup(&out).await.ok().flatten(),
                None => None,
            };
            let result = match &found {
                Some(id) => self.store.outbox_mark_sent(&row, &id.0, self.sink.platform(), now_ms()).await,
                None => {
                    self.store
                        .outbox_retry(
                            row.id,
                            now_ms(),
                            Some("outcome unknown after a restart: sending again"),
                            now_ms(),
                        )
                        .await
                }
            };
            tracing::warn!(sink = %self.name, row = row.id, found = found.is_some(), "outbox: reconciled a message whose delivery was not recorded");
            if let Err(e) = result {
                self.in_doubt = true;
                tracing::error!(sink = %self.name, error = format!("{e:#}"), "outbox: could not reconcile");
            }
        }
    }
}

/// The call for a row (`None` when its parent has no platform id, which cannot happen for a row
/// the store handed out).
fn outgoing<'a>(row: &'a OutboxRow, message: &'a super::message::Rendered) -> Option<Outgoing<'a>> {
    let action = match row.kind.as_str() {
        "edit" => Action::Edit { message: row.parent_ref.as_deref()? },
        "reply" => {
            let parent = row.parent_ref.as_deref()?;
            Action::Reply { root: row.parent_root.as_deref().unwrap_or(parent), parent }
        }
        _ => Action::Post,
    };
    Some(Outgoing {
        idempotency_key: &row.idem_key,
        target: &row.target,
        action,
        message,
        original_at: jiff::Timestamp::from_millisecond(row.original_at).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        attempt: u32::try_from(row.attempts + 1).unwrap_or(u32::MAX),
    })
}

async fn send(sink: &dyn Sink, row: &OutboxRow, late_ms: i64) -> Result<MessageId, SinkError> {
    let mut message = row.payload.clone();
    if now_ms() - row.original_at > late_ms {
        super::render::note_late(
            &mut message,
            jiff::Timestamp::from_millisecond(row.original_at).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        );
    }
    let Some(out) = outgoing(row, &message) else {
        return Err(SinkError::Rejected("the message it belongs to has no platform id".into()));
    };
    sink.send(&out).await
}
