//! SQLite through sqlx: the inbox of deliveries, incidents, alerts, the audit timeline and jobs.
//!
//! Concrete, no trait: tests use a real temporary database. One write connection serializes every
//! write in this process (no lock contention between our own writers; group commit keeps it fast);
//! a small pool of read-only connections serves the API. WAL mode. Webhook deliveries are committed
//! with `synchronous=FULL` (on disk before the 2xx); other writes use `NORMAL`, which survives a
//! process crash, and whose last commits an OS crash may undo — harmless, because every step is
//! replayed from the durable inbox and jobs. (A FULL commit syncs the WAL with everything before
//! it, so nothing is ever durable out of order.) An exclusive lock file beside the database keeps a
//! second Mimi from opening it (RELIABILITY B10).

mod chat;
mod committer;
mod events;
mod evidence;
mod inbox;
mod incidents;
mod ingest;
mod jobs;
mod lock;
mod matrix;
mod outbox;
mod outbox_lane;
mod outbox_sweep;
mod proposals;
mod qa;
mod runs;
mod seen;
mod steps;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use committer::{CommitError, Committer, Receipt};
pub use events::{ChainReport, NewEvent};
pub use evidence::EvidenceRow;
pub use inbox::{CommitOutcome, NewDelivery};
pub use incidents::{AlertRow, EventRow, IncidentDetail, IncidentFilter, IncidentPage, IncidentRow, JobRow};
pub use ingest::IngestOutcome;
pub use jobs::{Job, QueueStats, group_key_of, incident_key};
pub use lock::LockError;
pub use outbox::{NewMessage, thread_key};
pub use outbox_lane::{OutboxRow, OutboxStats};
pub use outbox_sweep::Heartbeat;
pub use proposals::{NewProposal, ProposalRow, ProposalState, Saved};
pub use runs::{NewRun, RunRow};
pub use steps::{Finished, StepResult, StepTx};

/// The embedded migrations (`migrations/`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub path: PathBuf,
    pub busy_timeout: Duration,
    /// Cap on the database size in bytes (SQLite `max_page_count`); writes past it fail as "full".
    pub max_size_bytes: Option<u64>,
    pub read_connections: u32,
}

impl StoreOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StoreOptions {
            path: path.into(),
            busy_timeout: Duration::from_secs(5),
            max_size_bytes: None,
            read_connections: 4,
        }
    }
}

/// The database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    write: SqlitePool,
    read: SqlitePool,
    _lock: Option<std::sync::Arc<lock::InstanceLock>>,
}

const PAGE_SIZE: u64 = 4096;

impl Store {
    /// Opens (creating if needed) the database, takes the instance lock and runs migrations.
    pub async fn open(opts: &StoreOptions) -> anyhow::Result<Store> {
        if let Some(dir) = opts.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
        }
        let lock = lock::InstanceLock::acquire(&lock_path(&opts.path))?;
        let url = format!("sqlite://{}", opts.path.display());
        let base = SqliteConnectOptions::from_str(&url)
            .with_context(|| format!("invalid database path {}", opts.path.display()))?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(opts.busy_timeout)
            .foreign_keys(true)
            .pragma("page_size", PAGE_SIZE.to_string());
        let mut write_opts = base.clone().create_if_missing(true);
        if let Some(bytes) = opts.max_size_bytes {
            write_opts = write_opts.pragma("max_page_count", (bytes / PAGE_SIZE).max(16).to_string());
        }
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(opts.busy_timeout + Duration::from_secs(5))
            .connect_with(write_opts)
            .await
            .with_context(|| format!("failed to open database {}", opts.path.display()))?;
        MIGRATOR.run(&write).await.with_context(|| format!("failed to migrate database {}", opts.path.display()))?;
        let read = SqlitePoolOptions::new()
            .max_connections(opts.read_connections.max(1))
            .connect_with(base.read_only(true))
            .await
            .with_context(|| format!("failed to open database {} for reading", opts.path.display()))?;
        Ok(Store { write, read, _lock: Some(std::sync::Arc::new(lock)) })
    }

    /// Opens an existing database read-only, without the instance lock or migrations, for
    /// inspection while Mimi runs (`mimi audit verify`).
    pub async fn open_read_only(path: &Path) -> anyhow::Result<Store> {
        if !path.is_file() {
            anyhow::bail!("no database at {}", path.display());
        }
        let url = format!("sqlite://{}", path.display());
        let opts = SqliteConnectOptions::from_str(&url)
            .with_context(|| format!("invalid database path {}", path.display()))?
            .read_only(true)
            .busy_timeout(Duration::from_secs(5));
        let read = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await
            .with_context(|| format!("failed to open database {}", path.display()))?;
        Ok(Store { write: read.clone(), read, _lock: None })
    }

    /// The single write connection (pool of one).
    pub fn writer(&self) -> &SqlitePool {
        &self.write
    }

    /// Read-only connections.
    pub fn reader(&self) -> &SqlitePool {
        &self.read
    }

    /// A quick liveness probe of the database (used by /health and /readyz).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&self.read).await.map(drop)
    }

    /// `PRAGMA integrity_check`; `Ok(())` when the database is intact.
    pub async fn integrity_check(&self) -> anyhow::Result<()> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&self.write).await?;
        if rows == ["ok"] { Ok(()) } else { anyhow::bail!("integrity check failed: {}", rows.join("; ")) }
    }

    /// Closes both pools (checkpointing the WAL) and releases the instance lock.
    pub async fn close(self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// The lock file that keeps a second instance off this database.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    db.with_file_name(name)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// True when an error means "cannot write right now" (locked, busy, full, I/O): answer 503.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0) & 0xff;
            // SQLITE_BUSY 5, SQLITE_LOCKED 6, SQLITE_NOMEM 7, SQLITE_READONLY 8, SQLITE_IOERR 10,
            // SQLITE_FULL 13, SQLITE_CANTOPEN 14
            matches!(code, 5 | 6 | 7 | 8 | 10 | 13 | 14)
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}
