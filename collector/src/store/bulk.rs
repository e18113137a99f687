//! [`BulkIngest`]: many snapshots into a store at once (`generate`,
//! `import`), through the same durable `ingest` as beacons.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::{Snapshot, Store};
use crate::error::{AppError, Result};

/// Snapshots in flight at once: enough to fill the store's group commits,
/// and no more.
const IN_FLIGHT: usize = 4096;

/// Ingests snapshots concurrently, a bounded number at a time; the first
/// failure is returned.
pub struct BulkIngest {
    store: Arc<dyn Store>,
    in_flight: JoinSet<Result<()>>,
}

impl BulkIngest {
    /// Bulk ingest into `store`.
    pub fn new(store: &Arc<dyn Store>) -> BulkIngest {
        BulkIngest { store: store.clone(), in_flight: JoinSet::new() }
    }

    /// Starts ingesting `snapshot`, first waiting while too many are in flight.
    pub async fn add(&mut self, snapshot: Snapshot) -> Result<()> {
        while self.in_flight.len() >= IN_FLIGHT {
            self.join_one().await?;
        }
        let store = self.store.clone();
        self.in_flight.spawn(async move { store.ingest(snapshot).await });
        Ok(())
    }

    /// Waits until every snapshot added is stored.
    pub async fn finish(mut self) -> Result<()> {
        while !self.in_flight.is_empty() {
            self.join_one().await?;
        }
        Ok(())
    }

    async fn join_one(&mut self) -> Result<()> {
        match self.in_flight.join_next().await {
            Some(done) => done.map_err(|e| AppError::Internal(e.to_string()))?,
            None => Ok(()),
        }
    }
}
