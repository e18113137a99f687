//! Where page views and sites live. One [`Store`] trait, implemented by the
//! embedded SQLite store ([`sqlite`]) and by ClickHouse ([`clickhouse`]);
//! both pass the same test suites (`tests/store.rs`, `tests/analytics.rs`).
//!
//! Contract of every store:
//! - [`Store::ingest`] returns only once the snapshot is durable (it survives
//!   `kill -9`), or fails with `AppError::Unavailable` (→ 503, the client
//!   retries). Many concurrent calls share one commit.
//! - Per page view (site + id) the snapshot with the highest `seq` wins; the
//!   same snapshot stored twice counts once.

mod bulk;
pub mod clickhouse;
pub mod sqlite;
mod sqlite_alert;
mod sqlite_release;
mod sqlite_rollup;
mod sqlite_schema;
mod sqlite_spool;

pub use bulk::BulkIngest;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::error::Result;
pub use crate::grouping::{Fields, Selection, DAY_MS, HOUR_MS, WEEK_MS};
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
    /// The prompt's rating scale when the script tag does not set one:
    /// `thumbs` or `five`.
    pub feedback_scale: String,
}

/// Most page views per chunk of [`Store::export`]: one hand-over between
/// threads per chunk, not per row.
pub const EXPORT_CHUNK: usize = 512;

/// An hour of a site whose page views changed since it was last rolled up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyHour {
    /// Site id.
    pub site: String,
    /// Start of the hour, ms since the Unix epoch.
    pub hour_ms: i64,
    /// Changes so far; a rollup built from what it read at this version
    /// marks the hour clean only if no change came in meanwhile.
    pub version: i64,
}

/// The rolled-up stats of one hour, dimension and value.
#[derive(Debug, Clone, PartialEq)]
pub struct RollupRow {
    /// Dimension name (`all`, `path`, `device`, ...).
    pub dimension: String,
    /// The dimension's value (`None`: page views without one; `all` has none).
    pub value: Option<String>,
    /// [`Stats::encode`](crate::stats::Stats::encode)d statistics.
    pub stats: Vec<u8>,
}

/// One rollup row as a query reads it: its span's start, the value, and
/// its stats, decoded as they are read (no copy of the stored bytes).
pub type RolledRow = (i64, Option<String>, crate::stats::Stats);

/// Rollups of a period, for one dimension.
#[derive(Debug, Clone, Default)]
pub struct RollupSet {
    /// The spans `[start, end)` these rows answer (clean hours, and clean
    /// days when asked for), sorted.
    pub covered: Vec<(i64, i64)>,
    /// The rows of every covered span.
    pub rows: Vec<RolledRow>,
}

/// What [`Store::rollups`] reads.
#[derive(Debug, Clone, PartialEq)]
pub struct RollupQuery {
    /// Site id.
    pub site: String,
    /// Dimension name.
    pub dimension: &'static str,
    /// Only rows with this value, when set.
    pub value: Option<String>,
    /// Start of the period, on an hour.
    pub from_ms: i64,
    /// End of the period, on an hour.
    pub to_ms: i64,
    /// Whole days may be answered by day rollups (the grouping does not
    /// need hours).
    pub days: bool,
    /// Whole weeks may be answered by week rollups (the grouping does not
    /// need days, and no value is asked for: a week row does not say
    /// whether it holds a value whole).
    pub weeks: bool,
}

/// A span of rollups merged from the span below: a day's from its hours,
/// a week's from its days. A query for a long period merges a few week
/// rows per value instead of a row per day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merged {
    /// A day ([`DAY_MS`]), from its 24 hours.
    Day,
    /// A week ([`WEEK_MS`]), from its 7 days.
    Week,
}

impl Merged {
    /// Its length, in ms.
    pub const fn ms(self) -> i64 {
        match self {
            Merged::Day => DAY_MS,
            Merged::Week => WEEK_MS,
        }
    }

    /// The start of the span that holds `ms`.
    pub const fn start(self, ms: i64) -> i64 {
        ms - ms.rem_euclid(self.ms())
    }

    /// Its name in the stores (`day`, `week`).
    pub const fn name(self) -> &'static str {
        match self {
            Merged::Day => "day",
            Merged::Week => "week",
        }
    }
}

/// Merges the rollups of the spans below a [`Merged`] span into its rollups
/// (same dimension and value: one row); `None` if a row cannot be read.
pub type MergeRollups = fn(Vec<RollupRow>) -> Option<Vec<RollupRow>>;

/// A site's webhook for alerts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct AlertHook {
    /// Id (0 for hooks from the config file).
    #[serde(default)]
    pub id: i64,
    /// Site id.
    pub site: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// `json` (the default) or `slack` (a `{"text": ...}` message).
    #[serde(default = "default_format")]
    pub format: String,
}

fn default_format() -> String {
    "json".into()
}

/// An alert waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Unique key: the same alert is queued once.
    pub key: String,
    /// Where to POST it.
    pub url: String,
    /// The body (JSON).
    pub body: String,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// A deploy marker: a release of a site and when it went out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Release {
    /// Its name (a version, a git tag): what `data-release` would say.
    pub name: String,
    /// When it went out, ms since the Unix epoch.
    pub at_ms: i64,
}

/// Page views with tags that [`Store::tag_keys`] reads, newest first.
pub const TAG_KEYS_SCANNED: usize = 10_000;

/// Most tag keys [`Store::tag_keys`] answers.
pub const MAX_TAG_KEYS: usize = 100;

/// Durable storage of page views and sites.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores a snapshot durably (see the module docs).
    async fn ingest(&self, snapshot: Snapshot) -> Result<()>;

    /// Streams the selected page views, oldest first, into `sink` in chunks
    /// of at most [`EXPORT_CHUNK`]. Stops early, without error, when the
    /// receiver is dropped.
    async fn export(&self, selection: Selection, sink: mpsc::Sender<Vec<PageView>>) -> Result<()>;

    /// The tag keys of the newest [`TAG_KEYS_SCANNED`] selected page views
    /// (with tags), in order, at most [`MAX_TAG_KEYS`].
    async fn tag_keys(&self, selection: Selection) -> Result<Vec<String>>;

    /// Every registered site.
    async fn sites(&self) -> Result<Vec<Site>>;

    /// Adds or replaces a site.
    async fn put_site(&self, site: Site) -> Result<()>;

    /// Removes a site; `false` when there was none. Its page views stay.
    async fn remove_site(&self, id: &str) -> Result<bool>;

    /// Hours changed since they were last rolled up that ended before
    /// `before_ms`, oldest first, at most `limit`.
    async fn dirty_hours(&self, before_ms: i64, limit: usize) -> Result<Vec<DirtyHour>>;

    /// Replaces the rollups of an hour with `rows`, and marks the hour clean
    /// if it is still at `hour.version`. The day and week rollups that hold
    /// it, if any, are dropped (they are rebuilt from the hours).
    async fn put_rollups(&self, hour: DirtyHour, rows: Vec<RollupRow>) -> Result<()>;

    /// `(site, start)` of the spans of `span` that ended before `before_ms`
    /// whose parts are all rolled up (a day: its hours with page views; a
    /// week: all its 7 days), none changed since, and that have no rollup
    /// of their own yet, oldest first, at most `limit`.
    async fn to_roll(&self, span: Merged, before_ms: i64, limit: usize) -> Result<Vec<(String, i64)>>;

    /// Builds the rollup of `site`'s span of `span` starting at `start_ms`
    /// from the rollups of its parts with `merge`, atomically; `false` if a
    /// part changed meanwhile.
    async fn roll_up(&self, span: Merged, site: &str, start_ms: i64, merge: MergeRollups) -> Result<bool>;

    /// The clean rollups of a period (see [`RollupQuery`]).
    async fn rollups(&self, query: RollupQuery) -> Result<RollupSet>;

    /// Every alert hook stored by `alert add`.
    async fn alert_hooks(&self) -> Result<Vec<AlertHook>>;

    /// Stores a hook; returns its id.
    async fn put_alert_hook(&self, hook: AlertHook) -> Result<i64>;

    /// Removes a hook; `false` when there was none.
    async fn remove_alert_hook(&self, id: i64) -> Result<bool>;

    /// Records `keys` as alerted; returns those seen for the first time.
    async fn first_alerted(&self, keys: Vec<String>) -> Result<Vec<String>>;

    /// Queues deliveries (a key already queued is ignored).
    async fn queue_alerts(&self, deliveries: Vec<Delivery>, now_ms: i64) -> Result<()>;

    /// Deliveries due at `now_ms`, oldest first, at most `limit`.
    async fn due_alerts(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>>;

    /// Settles a delivery: removed when delivered, else retried at `retry_at`.
    async fn settle_alert(&self, key: String, delivered: bool, retry_at: i64) -> Result<()>;

    /// The open incident of `site` (an outage or slowdown alerted, not yet
    /// recovered): when it opened and why.
    async fn incident(&self, site: &str) -> Result<Option<(i64, String)>>;

    /// Opens (`Some`) or closes (`None`) `site`'s incident.
    async fn set_incident(&self, site: &str, incident: Option<(i64, String)>) -> Result<()>;

    /// The deploy markers of `site`, oldest first (by time, then name).
    async fn releases(&self, site: &str) -> Result<Vec<Release>>;

    /// Records a deploy marker; a release of the same name is moved to
    /// the new time.
    async fn put_release(&self, site: &str, release: Release) -> Result<()>;

    /// Waits until every acknowledged snapshot is where queries read it
    /// (the ClickHouse store ships its spool in the background).
    async fn settle(&self) -> Result<()> {
        Ok(())
    }

    /// Snapshots waiting to be stored.
    fn queue_depth(&self) -> usize {
        0
    }

    /// Stops what the store runs in the background (the ClickHouse
    /// shipper, after the batch it is shipping) and waits for it; what is
    /// not shipped yet stays spooled for the next start.
    async fn close(&self) {}

    /// Bytes the store takes on disk, where it knows.
    fn size_bytes(&self) -> Option<u64> {
        None
    }
}
