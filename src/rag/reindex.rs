//! `mimi memory reindex`: rebuilds the incident collection from the database (every incident that
//! ended), with the embedder configured now. Needed after changing the embedder (another model or
//! dimension), which memory detects and refuses to mix.

use super::memory::Memory;
use super::record::IncidentRecord;
use super::store::StoreError;
use crate::store::{IncidentFilter, Store};

/// Incidents read per page.
const PAGE: i64 = 200;

/// Empties the incident collection and indexes every ended incident again; returns how many.
pub async fn reindex(store: &Store, memory: &Memory) -> anyhow::Result<usize> {
    memory.reset_incidents().await.map_err(|e: StoreError| anyhow::anyhow!("failed to empty memory: {e}"))?;
    let mut before = None;
    let mut records = Vec::new();
    loop {
        let page =
            store.list_incidents(&IncidentFilter { before_id: before, limit: PAGE, ..Default::default() }).await?;
        for row in &page.incidents {
            if !matches!(row.state.as_str(), "resolved" | "failed" | "expired" | "rejected") {
                continue;
            }
            if let Some(d) = store.incident_detail(row.id).await? {
                records.push(IncidentRecord::from_detail(&d));
            }
        }
        match page.next {
            Some(n) => before = Some(n),
            None => break,
        }
    }
    memory.remember_all(&records).await.map_err(|e| anyhow::anyhow!("failed to index: {e}"))?;
    Ok(records.len())
}
