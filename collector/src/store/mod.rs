//! Where page views and sites live. One [`Store`] trait, implemented by the
//! embedded SQLite store ([`sqlite`]); every implementation passes the same
//! test suite (`tests/store.rs`).
//!
//! Contract of every store:
//! - [`Store::ingest`] returns only once the snapshot is durable (it survives
//!   `kill -9`), or fails with `AppError::Unavailable` (→ 503, the client
//!   retries). Many concurrent calls share one commit.
//! - Per page view (site + id) the snapshot with the highest `seq` wins; the
//!   same snapshot stored twice counts once.

pub mod sqlite;
mod sqlite_schema;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::model::PageView;

/// A page-view snapshot to store, with its sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Sequence number within the page view; higher replaces lower.
    pub seq: u32,
    /// When the collector received it, ms since the Unix epoch.
    pub received_at: i64,
    /// The page view as of this snapshot.
    pub view: PageView,
}

/// Which page views a query covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Site id.
    pub site: String,
    /// Start of the period (inclusive), ms since the Unix epoch.
    pub from_ms: i64,
    /// End of the period (exclusive), ms since the Unix epoch.
    pub to_ms: i64,
    /// Only this path (URL without query), when set.
    pub path: Option<String>,
    /// Only this device class, when set.
    pub device: Option<String>,
    /// Only this browser family, when set.
    pub browser: Option<String>,
    /// Only this OS family, when set.
    pub os: Option<String>,
    /// Only this effective connection type, when set.
    pub effective_type: Option<String>,
    /// Only this navigation type, when set.
    pub nav_type: Option<String>,
}

/// A registered site.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Site id, as in `data-site`.
    pub id: String,
    /// Origins allowed to send beacons (`https://shop.example`).
    pub origins: Vec<String>,
    /// SHA-256 of the analyst token, hex.
    pub token_hash: String,
    /// When it was registered, ms since the Unix epoch.
    pub created_at: i64,
}

/// Durable storage of page views and sites.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores a snapshot durably (see the module docs).
    async fn ingest(&self, snapshot: Snapshot) -> Result<()>;

    /// Streams the selected page views, oldest first, into `sink`. Stops
    /// early, without error, when the receiver is dropped.
    async fn export(&self, selection: Selection, sink: mpsc::Sender<PageView>) -> Result<()>;

    /// Every registered site.
    async fn sites(&self) -> Result<Vec<Site>>;

    /// Adds or replaces a site.
    async fn put_site(&self, site: Site) -> Result<()>;

    /// Removes a site; `false` when there was none. Its page views stay.
    async fn remove_site(&self, id: &str) -> Result<bool>;

    /// Snapshots waiting to be stored.
    fn queue_depth(&self) -> usize {
        0
    }

    /// Bytes the store takes on disk, where it knows.
    fn size_bytes(&self) -> Option<u64> {
        None
    }
}
