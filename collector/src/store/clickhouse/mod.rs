//! The ClickHouse store (`--store clickhouse`): page views and sites in
//! ClickHouse, shared by any number of collectors; aggregates computed by
//! ClickHouse SQL ([`sql`]).
//!
//! Ingest keeps the embedded store's promise: a beacon is acknowledged once
//! it is durable on local disk (a spool in `DATA/palaute.db`), and a
//! background task ([`ship`]) inserts the spool into ClickHouse in order,
//! removing what ClickHouse acknowledged. ClickHouse being slow or down
//! delays page views' arrival, never loses them, and a snapshot shipped
//! twice counts once (`ReplacingMergeTree(seq)` read with `FINAL`).
//!
//! Node-local, in the data directory: the spool, alert hooks added with
//! `alert add`, the alert delivery queue and open incidents. Everything an
//! analyst reads is in ClickHouse.

mod http;
mod rollups;
mod rows;
mod schema;
mod ship;
mod sql;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::json;
use tokio::sync::mpsc;

pub use self::http::ClickHouse;
use self::ship::Shipping;
use super::sqlite::{SqliteOptions, SqliteStore};
use super::{
    AlertHook, Delivery, DirtyHour, MergeRollups, Merged, Release, RollupQuery, RollupRow, RollupSet, Selection, Site,
    Snapshot, Store, EXPORT_CHUNK, MAX_TAG_KEYS, TAG_KEYS_SCANNED,
};
use crate::error::{AppError, Result};
use crate::model::{now_ms, PageView};

/// Where the ClickHouse store keeps its data.
#[derive(Debug, Clone)]
pub struct ClickhouseOptions {
    /// HTTP interface URL (`http://127.0.0.1:8123`).
    pub url: String,
    /// Database (created if missing): letters, digits and `_`.
    pub database: String,
}

/// Page views and sites in ClickHouse, with a local durable spool.
pub struct ClickhouseStore {
    clickhouse: ClickHouse,
    database: String,
    local: Arc<SqliteStore>,
    shipping: Arc<Shipping>,
    /// The shipper's task, awaited by [`Store::close`].
    shipper: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The site list last copied into the local store.
    mirrored: Mutex<Option<Vec<Site>>>,
}

impl ClickhouseStore {
    /// Connects, creates or migrates the schema, opens the local spool in
    /// `data_dir` and starts shipping it.
    pub async fn open(options: &ClickhouseOptions, data_dir: &Path, local: SqliteOptions) -> Result<ClickhouseStore> {
        let database = &options.database;
        if database.is_empty() || !database.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(AppError::Invalid(format!("clickhouse_database: {database:?} is not a plain name")));
        }
        let clickhouse = ClickHouse::new(&options.url)?;
        // ClickHouse being down does not stop the collector: beacons are
        // spooled and the shipper migrates the schema once it is back.
        let migrated = match schema::migrate(&clickhouse, database).await {
            Ok(()) => true,
            Err(AppError::Unavailable(error)) => {
                tracing::warn!(message = "ClickHouse unavailable at start; spooling beacons until it is back", %error);
                false
            }
            Err(error) => return Err(error),
        };
        let local = Arc::new(SqliteStore::open(data_dir, local)?);
        let shipping = Arc::new(Shipping::default());
        let target = ship::Target { clickhouse: clickhouse.clone(), database: database.clone(), migrated };
        let shipper = Mutex::new(Some(tokio::spawn(ship::run(local.clone(), target, shipping.clone()))));
        Ok(ClickhouseStore {
            clickhouse,
            database: database.clone(),
            local,
            shipping,
            shipper,
            mirrored: Mutex::new(None),
        })
    }

    fn table(&self, name: &str) -> String {
        format!("{}.{name}", self.database)
    }

    fn rollups(&self) -> rollups::Rollups<'_> {
        rollups::Rollups { clickhouse: &self.clickhouse, db: &self.database }
    }
}

#[async_trait]
impl Store for ClickhouseStore {
    async fn ingest(&self, snapshot: Snapshot) -> Result<()> {
        self.local.ingest(snapshot).await?;
        self.shipping.ingested();
        Ok(())
    }

    async fn export(&self, selection: Selection, sink: mpsc::Sender<Vec<PageView>>) -> Result<()> {
        let order = if selection.fields.in_order() { " ORDER BY started_at, id" } else { "" };
        let sql = format!(
            "SELECT {} FROM {} FINAL PREWHERE {} WHERE {}{order} FORMAT RowBinary",
            rows::columns(selection.fields),
            self.table("pageviews"),
            sql::period(&selection),
            sql::condition(&selection)
        );
        let reader = rows::BinaryRows::new(selection.fields);
        let mut answer = self.clickhouse.answer(&sql).await?;
        let (mut pending, mut chunk) = (Vec::new(), Vec::with_capacity(EXPORT_CHUNK));
        while answer.append_to(&mut pending).await? {
            let (views, used) = reader
                .views(&pending)
                .map_err(|e| AppError::Internal(format!("unreadable ClickHouse page view: {e}")))?;
            pending.drain(..used);
            for view in views {
                chunk.push(view);
                if chunk.len() == EXPORT_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(EXPORT_CHUNK));
                    if sink.send(full).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
        if !pending.is_empty() {
            // An error after the first rows is written after them, as text.
            let tail = String::from_utf8_lossy(&pending[..pending.len().min(300)]).into_owned();
            return Err(AppError::Unavailable(format!("ClickHouse answer cut short: {tail}")));
        }
        if !chunk.is_empty() {
            let _ = sink.send(chunk).await;
        }
        Ok(())
    }

    async fn tag_keys(&self, selection: Selection) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT DISTINCT arrayJoin(tag_keys) AS key FROM (SELECT tag_keys FROM {} WHERE {} AND notEmpty(tag_keys)
             ORDER BY started_at DESC LIMIT {TAG_KEYS_SCANNED}) ORDER BY key LIMIT {MAX_TAG_KEYS} FORMAT JSONEachRow",
            self.table("pageviews"),
            sql::condition(&selection)
        );
        let rows = self.clickhouse.rows(&sql).await?;
        Ok(rows.iter().filter_map(|row| row["key"].as_str().map(str::to_string)).collect())
    }

    /// Sites from ClickHouse, copied into the local store; while ClickHouse
    /// is unreachable, the last copy (so beacons are still accepted).
    async fn sites(&self) -> Result<Vec<Site>> {
        match self.shared_sites().await {
            Ok(sites) => {
                self.mirror(&sites).await?;
                Ok(sites)
            }
            Err(AppError::Unavailable(error)) => {
                tracing::warn!(message = "ClickHouse unavailable; using the local copy of the sites", %error);
                self.local.sites().await
            }
            Err(error) => Err(error),
        }
    }

    async fn put_site(&self, site: Site) -> Result<()> {
        self.write_site(&site, false).await
    }

    async fn remove_site(&self, id: &str) -> Result<bool> {
        let Some(site) = self.shared_sites().await?.into_iter().find(|site| site.id == id) else {
            return Ok(false);
        };
        self.write_site(&site, true).await?;
        Ok(true)
    }

    // ClickHouse aggregates raw rows itself: no rollups to build or read.
    async fn dirty_hours(&self, before_ms: i64, limit: usize) -> Result<Vec<DirtyHour>> {
        self.rollups().dirty_hours(before_ms, limit).await
    }

    async fn put_rollups(&self, hour: DirtyHour, rows: Vec<RollupRow>) -> Result<()> {
        self.rollups().put_hour(&hour, &rows).await
    }

    async fn to_roll(&self, span: Merged, before_ms: i64, limit: usize) -> Result<Vec<(String, i64)>> {
        self.rollups().to_roll(span, before_ms, limit).await
    }

    async fn roll_up(&self, span: Merged, site: &str, start_ms: i64, merge: MergeRollups) -> Result<bool> {
        self.rollups().roll_up(span, site, start_ms, merge).await
    }

    async fn rollups(&self, query: RollupQuery) -> Result<RollupSet> {
        self.rollups().read(&query).await
    }

    async fn alert_hooks(&self) -> Result<Vec<AlertHook>> {
        self.local.alert_hooks().await
    }

    async fn put_alert_hook(&self, hook: AlertHook) -> Result<i64> {
        self.local.put_alert_hook(hook).await
    }

    async fn remove_alert_hook(&self, id: i64) -> Result<bool> {
        self.local.remove_alert_hook(id).await
    }

    async fn first_alerted(&self, keys: Vec<String>) -> Result<Vec<String>> {
        self.local.first_alerted(keys).await
    }

    async fn queue_alerts(&self, deliveries: Vec<Delivery>, now_ms: i64) -> Result<()> {
        self.local.queue_alerts(deliveries, now_ms).await
    }

    async fn due_alerts(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>> {
        self.local.due_alerts(now_ms, limit).await
    }

    async fn settle_alert(&self, key: String, delivered: bool, retry_at: i64) -> Result<()> {
        self.local.settle_alert(key, delivered, retry_at).await
    }

    async fn incident(&self, site: &str) -> Result<Option<(i64, String)>> {
        self.local.incident(site).await
    }

    async fn set_incident(&self, site: &str, incident: Option<(i64, String)>) -> Result<()> {
        self.local.set_incident(site, incident).await
    }

    async fn releases(&self, site: &str) -> Result<Vec<Release>> {
        let rows = self
            .clickhouse
            .rows(&format!(
                "SELECT name, at FROM {} FINAL WHERE site = {} ORDER BY at, name FORMAT JSONEachRow",
                self.table("releases"),
                http::quote(site)
            ))
            .await?;
        Ok(rows
            .iter()
            .filter_map(|row| Some(Release { name: row["name"].as_str()?.to_string(), at_ms: json_i64(&row["at"])? }))
            .collect())
    }

    async fn put_release(&self, site: &str, release: Release) -> Result<()> {
        let row = json!({ "site": site, "name": release.name, "at": release.at_ms, "version": version_now() });
        self.clickhouse.insert(&self.table("releases"), row.to_string()).await
    }

    async fn settle(&self) -> Result<()> {
        while self.shipping.spooled() > 0 {
            self.shipping.wake();
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok(())
    }

    fn queue_depth(&self) -> usize {
        self.local.queue_depth() + self.shipping.spooled() as usize
    }

    async fn close(&self) {
        self.shipping.stop();
        let shipper = self.shipper.lock().ok().and_then(|mut shipper| shipper.take());
        if let Some(shipper) = shipper {
            let _ = shipper.await;
        }
    }

    fn size_bytes(&self) -> Option<u64> {
        self.local.size_bytes()
    }
}

impl ClickhouseStore {
    /// The sites in ClickHouse.
    async fn shared_sites(&self) -> Result<Vec<Site>> {
        let rows = self
            .clickhouse
            .rows(&format!(
                "SELECT id, origins, token_hash, created_at, feedback_scale FROM {} FINAL WHERE deleted = 0 \
                 ORDER BY id FORMAT JSONEachRow",
                self.table("sites")
            ))
            .await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                Some(Site {
                    id: row["id"].as_str()?.to_string(),
                    origins: serde_json::from_str(row["origins"].as_str()?).unwrap_or_default(),
                    token_hash: row["token_hash"].as_str()?.to_string(),
                    created_at: row["created_at"].as_i64()?,
                    feedback_scale: row["feedback_scale"].as_str()?.to_string(),
                })
            })
            .collect())
    }

    /// Copies `sites` into the local store when they changed since the last copy.
    async fn mirror(&self, sites: &[Site]) -> Result<()> {
        if self.mirrored.lock().map(|last| last.as_deref() == Some(sites)).unwrap_or(false) {
            return Ok(());
        }
        for stale in self.local.sites().await? {
            if !sites.iter().any(|site| site.id == stale.id) {
                self.local.remove_site(&stale.id).await?;
            }
        }
        for site in sites {
            self.local.put_site(site.clone()).await?;
        }
        if let Ok(mut last) = self.mirrored.lock() {
            *last = Some(sites.to_vec());
        }
        Ok(())
    }

    async fn write_site(&self, site: &Site, deleted: bool) -> Result<()> {
        let version = version_now();
        let row = json!({
            "id": site.id,
            "origins": serde_json::to_string(&site.origins).unwrap_or_else(|_| "[]".into()),
            "token_hash": site.token_hash,
            "created_at": site.created_at,
            "feedback_scale": site.feedback_scale,
            "version": version,
            "deleted": u8::from(deleted),
        });
        self.clickhouse.insert(&self.table("sites"), row.to_string()).await
    }
}

/// A row version for a `ReplacingMergeTree(version)` table: microseconds,
/// so that a later write wins even within the same millisecond.
fn version_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_else(|_| now_ms() as u64 * 1000)
}

/// An `Int64` of a JSONEachRow answer (a number, or a string as ClickHouse
/// writes 64-bit integers by default).
fn json_i64(value: &serde_json::Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_str()?.parse().ok())
}
