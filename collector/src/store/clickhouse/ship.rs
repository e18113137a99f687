//! Ships spooled snapshots to ClickHouse, oldest first, in batches. A batch
//! leaves the spool only once ClickHouse has acknowledged its insert; while
//! ClickHouse is slow or down the spool grows on local disk and the batch is
//! retried with backoff. A batch inserted twice (its answer lost) is stored
//! once: the table keeps one row per page view, the highest `seq`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::http::ClickHouse;
use super::rollups::{Rollups, Touched};
use super::{rows, schema};
use crate::store::sqlite::SqliteStore;
use crate::store::HOUR_MS;

/// Most snapshots per insert.
pub const SHIP_BATCH: usize = 5_000;
/// First wait after a failed insert; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Longest sleep while nothing is spooled (a safety net for a lost wake-up).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Least time between two counts of a non-empty spool: a count reads the
/// whole spool, which is large exactly while ClickHouse falls behind.
const COUNT_EVERY: Duration = Duration::from_secs(1);

/// What the shipper shares with the store.
#[derive(Default)]
pub struct Shipping {
    /// Woken by every acknowledged ingest.
    wake: Notify,
    /// Snapshots acknowledged so far.
    ingested: AtomicU64,
    /// Snapshots in the spool: as last counted, plus those ingested since
    /// (it may count a snapshot twice for a moment, never miss one).
    spooled: AtomicU64,
    /// The store is closing: the shipper stops after its batch.
    stopping: AtomicBool,
}

impl Shipping {
    /// Called after each acknowledged ingest.
    pub fn ingested(&self) {
        self.ingested.fetch_add(1, Ordering::SeqCst);
        self.spooled.fetch_add(1, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Has the shipper look at the spool now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Has the shipper stop after the batch it is shipping.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Snapshots not yet in ClickHouse (0 only once all are).
    pub fn spooled(&self) -> u64 {
        self.spooled.load(Ordering::SeqCst)
    }

    /// Records a count of the spool taken after `since` ingests.
    fn counted(&self, count: u64, since: u64) {
        let later = self.ingested.load(Ordering::SeqCst) - since;
        self.spooled.store(count + later, Ordering::SeqCst);
    }
}

/// Where the shipper inserts.
pub struct Target {
    /// The server.
    pub clickhouse: ClickHouse,
    /// The database.
    pub database: String,
    /// Whether its schema is known to be current.
    pub migrated: bool,
}

/// Moves `spool`'s snapshots into the target's page views until the store
/// is dropped, migrating the schema first if that could not be done at start.
pub async fn run(spool: Arc<SqliteStore>, mut target: Target, shipping: Arc<Shipping>) {
    let database = target.database.clone();
    let clickhouse = target.clickhouse.clone();
    let mut backoff = FIRST_BACKOFF;
    let mut last_count = Instant::now() - COUNT_EVERY;
    // The store holds the other reference.
    while Arc::strong_count(&shipping) > 1 && !shipping.stopping.load(Ordering::SeqCst) {
        let since = shipping.ingested.load(Ordering::SeqCst);
        let outcome = match target.migrated {
            true => ship_batch(&spool, &clickhouse, &database).await,
            false => schema::migrate(&clickhouse, &target.database).await.map(|()| {
                target.migrated = true;
                1 // look again at once
            }),
        };
        // An empty spool is known without counting. Between counts the gauge
        // only grows with ingests: it may run high, never low.
        let count = match outcome {
            Ok(0) => Some(Ok(0)),
            _ if last_count.elapsed() >= COUNT_EVERY => Some(spool.spooled_count().await),
            _ => None,
        };
        if let Some(Ok(count)) = count {
            shipping.counted(count, since);
            last_count = Instant::now();
        }
        match outcome {
            Ok(0) => {
                let _ = tokio::time::timeout(IDLE_POLL, shipping.wake.notified()).await;
            }
            Ok(_) => backoff = FIRST_BACKOFF,
            Err(error) => {
                tracing::warn!(message = "ClickHouse insert failed; beacons stay spooled", %error, retry_in_ms = backoff.as_millis() as u64);
                // A wake-up (the store closing) cuts the wait short.
                let _ = tokio::time::timeout(backoff, shipping.wake.notified()).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Ships the oldest batch into `db`, then records the hours it changed;
/// how many snapshots it shipped.
async fn ship_batch(spool: &SqliteStore, clickhouse: &ClickHouse, db: &str) -> crate::error::Result<usize> {
    let batch = spool.spooled(SHIP_BATCH).await?;
    if batch.is_empty() {
        return Ok(0);
    }
    let mut body = String::with_capacity(batch.len() * 600);
    for snapshot in &batch {
        body.push_str(&rows::row(snapshot));
        body.push('\n');
    }
    clickhouse.insert(&format!("{db}.pageviews"), body).await?;
    // Then the hours it changed: their rollups are stale from now on.
    let mut touched: Touched = batch
        .iter()
        .map(|s| (s.view.site.clone(), s.view.started_at - s.view.started_at.rem_euclid(HOUR_MS)))
        .collect();
    touched.sort_unstable();
    touched.dedup();
    Rollups { clickhouse, db }.changed(&touched).await?;
    let shipped = batch.iter().map(|s| (s.view.site.clone(), s.view.id.clone(), s.seq)).collect();
    spool.unspool(shipped).await?;
    Ok(batch.len())
}
