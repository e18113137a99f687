//! The embedded store: one SQLite file (`DATA/palaute.db`) in WAL mode with
//! `synchronous = FULL`.
//!
//! Writes go through one writer thread that owns the write connection and
//! commits in groups: it takes every snapshot queued while the previous
//! commit ran (up to `max_batch`), writes them in one transaction, and only
//! then answers each caller. One fsync thus covers many beacons. The queue is
//! bounded: when it is full, `ingest` fails at once with `Unavailable` (503)
//! instead of growing memory. Reads open their own connections.

use std::path::{Path, PathBuf};
use std::thread;

use async_trait::async_trait;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use tokio::sync::{mpsc, oneshot};

use super::{
    sqlite_alert, sqlite_release, sqlite_rollup, sqlite_schema, AlertHook, Delivery, DirtyHour, Fields, MergeRollups,
    Merged, Release, RollupQuery, RollupRow, RollupSet, Selection, Site, Snapshot, Store, EXPORT_CHUNK, HOUR_MS,
    MAX_TAG_KEYS, TAG_KEYS_SCANNED,
};
use crate::error::{AppError, Result};
use crate::model::column::Cell;
use crate::model::{PageView, COLUMNS, FIELDS};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "palaute.db";

/// Tuning of the embedded store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Snapshots waiting for the writer before `ingest` answers 503.
    pub queue_capacity: usize,
    /// Most snapshots in one commit.
    pub max_batch: usize,
    /// Where to report each commit's duration.
    pub commit_seconds: Option<prometheus::Histogram>,
    /// Largest database size in bytes; beyond it ingest answers 503 as on a
    /// full disk.
    pub max_bytes: Option<u64>,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions { queue_capacity: 20_000, max_batch: 2_000, commit_seconds: None, max_bytes: None }
    }
}

type WriteJob = (Snapshot, oneshot::Sender<Result<(), String>>);

/// The embedded SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    writer: mpsc::Sender<WriteJob>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the store in `data_dir`, and
    /// starts its writer thread.
    pub fn open(data_dir: &Path, options: SqliteOptions) -> Result<SqliteStore> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| AppError::Unavailable(format!("cannot create {}: {e}", data_dir.display())))?;
        let path = data_dir.join(DB_FILE);
        let mut connection = connect(&path)?;
        sqlite_schema::migrate(&mut connection)?;
        apply_quota(&connection, options.max_bytes)?;
        warn_if_read_only(&connection, data_dir);
        let (writer, jobs) = mpsc::channel(options.queue_capacity.max(1));
        let writer_options = WriterOptions {
            path: path.clone(),
            max_batch: options.max_batch.max(1),
            commit_seconds: options.commit_seconds,
            quota: options.max_bytes,
        };
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_loop(connection, jobs, writer_options))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(SqliteStore { path, writer })
    }

    pub(super) async fn with_connection<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || work(&mut connect(&path)?))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(AppError::from)
    }
}

/// Sets the store quota, when there is one, on the writer's connection.
/// The WAL is on disk too: a quarter of the quota (at most the usual
/// checkpoint size) is kept for it, it is checkpointed at that size and
/// truncated back to it, and the database itself gets the rest.
fn apply_quota(connection: &Connection, quota: Option<u64>) -> rusqlite::Result<()> {
    let Some(max_bytes) = quota else { return Ok(()) };
    let page_size: u64 = connection.pragma_query_value(None, "page_size", |row| row.get(0))?;
    let wal_pages = (max_bytes / 4 / page_size).clamp(16, WAL_AUTOCHECKPOINT_PAGES as u64);
    connection.pragma_update(None, "wal_autocheckpoint", wal_pages)?;
    connection.pragma_update(None, "journal_size_limit", wal_pages * page_size)?;
    let database_pages = max_bytes.saturating_sub(wal_pages * page_size) / page_size;
    connection.pragma_update(None, "max_page_count", database_pages.max(1))
}

/// Warns at start when the store cannot be written (SQLite then opens the
/// database read-only, without an error): reads work, but beacons are
/// answered 503 until it can be, when the writer opens it anew.
///
/// SQLite itself says whether the database is writable: the file must not
/// be opened outside it. POSIX locks belong to the process, and closing any
/// descriptor of the file drops every lock the process holds on it; a
/// command run beside the collector then finds the database unlocked and
/// deletes the WAL the collector still writes to
/// (`tests/durability.rs`, admin commands beside a live collector).
fn warn_if_read_only(connection: &Connection, data_dir: &Path) {
    let probe = data_dir.join(".palaute-write-check");
    let directory = std::fs::write(&probe, b"").and_then(|()| std::fs::remove_file(&probe));
    let error = match (directory, connection.is_readonly(rusqlite::MAIN_DB)) {
        (Err(error), _) => error.to_string(),
        (Ok(()), Ok(true)) => "the database file is read-only".to_string(),
        (Ok(()), Err(error)) => error.to_string(),
        (Ok(()), Ok(false)) => return,
    };
    tracing::warn!(data = %data_dir.display(), %error, "the store is not writable: beacons are answered 503 until it is");
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(connection)
}

/// WAL size (4 KiB pages) at which a committing connection checkpoints.
/// SQLite's default is 1,000; a larger WAL lets a page changed by many
/// commits be copied back once: more beacons per second for a longer tail
/// (BENCHMARKS.md, ingest). The WAL resets after each checkpoint, so it
/// stays bounded (about 8 MiB) under constant ingest.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 2_000;

/// One group commit's worth of a writer's queue: waits for the first item,
/// then takes every item already queued behind it, up to `max`. `None` once
/// the queue is closed and empty.
pub fn next_group<T>(queue: &mut mpsc::Receiver<T>, max: usize) -> Option<Vec<T>> {
    let mut group = vec![queue.blocking_recv()?];
    while group.len() < max {
        match queue.try_recv() {
            Ok(item) => group.push(item),
            Err(_) => break,
        }
    }
    Some(group)
}

/// What the writer thread needs besides its connection and queue.
struct WriterOptions {
    path: PathBuf,
    max_batch: usize,
    commit_seconds: Option<prometheus::Histogram>,
    quota: Option<u64>,
}

/// After a failed group, the writer opens its connection anew before the
/// next one, at most this often: a connection that failed on a read-only
/// or vanished file keeps failing after the disk is writable again.
const REOPEN_AFTER_FAILURE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

fn write_loop(connection: Connection, mut jobs: mpsc::Receiver<WriteJob>, options: WriterOptions) {
    let mut connection = Some(connection);
    let mut failed_at: Option<std::time::Instant> = None;
    while let Some(batch) = next_group(&mut jobs, options.max_batch) {
        if let Some(at) = failed_at.filter(|at| at.elapsed() >= REOPEN_AFTER_FAILURE_EVERY) {
            // Closed first: SQLite shares a file's WAL index among the
            // connections of a process, so a new one opened beside the old
            // would inherit its read-only state.
            drop(connection.take());
            let reopened = connect(&options.path).and_then(|c| apply_quota(&c, options.quota).map(|()| c));
            match reopened {
                Ok(fresh) => {
                    connection = Some(fresh);
                    failed_at = None;
                    tracing::info!("the store's writer reopened its connection after a failure");
                }
                Err(error) => {
                    failed_at = Some(std::time::Instant::now());
                    tracing::warn!(%error, since_ms = at.elapsed().as_millis() as u64, "the store cannot be reopened yet");
                }
            }
        }
        let started = std::time::Instant::now();
        let outcomes = match connection.as_mut() {
            Some(connection) => write_batch(connection, &batch, options.quota),
            None => vec![Err("the store cannot be opened".to_string()); batch.len()],
        };
        if outcomes.iter().all(|o| o.is_err()) && failed_at.is_none() {
            failed_at = Some(started);
        }
        if let Some(histogram) = &options.commit_seconds {
            histogram.observe(started.elapsed().as_secs_f64());
        }
        for ((_, reply), outcome) in batch.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
    }
}

/// Writes a batch in one transaction; one outcome per snapshot. A snapshot
/// that fails alone does not fail the others; a failed commit fails all,
/// and so does an error after which SQLite rolled the transaction back (a
/// full disk or quota): then nothing of the batch is stored, and every
/// snapshot is answered with that error, its real cause.
fn write_batch(connection: &mut Connection, batch: &[WriteJob], quota: Option<u64>) -> Vec<Result<(), String>> {
    let mut attempt = || -> rusqlite::Result<Vec<Result<(), String>>> {
        let transaction = connection.transaction()?;
        let mut outcomes = Vec::with_capacity(batch.len());
        {
            let mut upsert = transaction.prepare_cached(&upsert_sql())?;
            for (snapshot, _) in batch {
                match upsert.execute(rusqlite::params_from_iter(row_values(snapshot))) {
                    Ok(_) => outcomes.push(Ok(())),
                    // Rolled back: the statements after it would run outside any transaction.
                    Err(error) if transaction.is_autocommit() => return Err(error),
                    Err(error) => outcomes.push(Err(cause(&error, quota))),
                }
            }
        }
        // The hours these page views fall in need their rollups redone.
        let mut hours: Vec<(&str, i64)> = batch
            .iter()
            .map(|(s, _)| (s.view.site.as_str(), s.view.started_at - s.view.started_at.rem_euclid(HOUR_MS)))
            .collect();
        hours.sort_unstable();
        hours.dedup();
        {
            let mut dirty = transaction.prepare_cached(
                "INSERT INTO dirty_hours (site, hour, version) VALUES (?1, ?2, 1)
                 ON CONFLICT (site, hour) DO UPDATE SET version = version + 1",
            )?;
            for (site, hour) in hours {
                dirty.execute(params![site, hour])?;
            }
        }
        transaction.commit()?;
        Ok(outcomes)
    };
    let outcomes = attempt().unwrap_or_else(|error| vec![Err(cause(&error, quota)); batch.len()]);
    let failed = outcomes.iter().filter(|o| o.is_err()).count();
    if let Some(Err(error)) = outcomes.iter().find(|o| o.is_err()) {
        // A full disk (or store quota) and a read-only data directory are the
        // common causes; clients get 503 and retry.
        tracing::error!(message = "beacons not stored, answered 503", %error, failed, batch = batch.len());
    }
    outcomes
}

/// What a failed write says: a full store names its quota.
fn cause(error: &rusqlite::Error, quota: Option<u64>) -> String {
    match (error.sqlite_error_code(), quota) {
        (Some(rusqlite::ErrorCode::DiskFull), Some(bytes)) => {
            format!("store full: max_store_mb ({} MB) or the disk is full", bytes / 1024 / 1024)
        }
        (Some(rusqlite::ErrorCode::DiskFull), None) => "store full: the disk is full".into(),
        _ => error.to_string(),
    }
}

/// Columns stored besides the exported [`FIELDS`], in insert order after them.
const INTERNAL_COLUMNS: [&str; 3] = ["path", "seq", "received_at"];

fn upsert_sql() -> String {
    let columns: Vec<&str> = FIELDS.iter().chain(INTERNAL_COLUMNS.iter()).copied().collect();
    let placeholders = vec!["?"; columns.len()].join(", ");
    let updates: Vec<String> =
        columns.iter().filter(|c| !matches!(**c, "site" | "id")).map(|c| format!("{c} = excluded.{c}")).collect();
    format!(
        "INSERT INTO pageviews ({}) VALUES ({placeholders})
         ON CONFLICT (site, id) DO UPDATE SET {} WHERE excluded.seq > pageviews.seq",
        columns.join(", "),
        updates.join(", ")
    )
}

/// Values in the order of [`FIELDS`] then [`INTERNAL_COLUMNS`].
fn row_values(snapshot: &Snapshot) -> Vec<Value> {
    let v = &snapshot.view;
    let mut values: Vec<Value> = v.cells().into_iter().map(value).collect();
    values.push(Value::Text(v.path().to_string()));
    values.push(Value::Integer(snapshot.seq.into()));
    values.push(Value::Integer(snapshot.received_at));
    values
}

fn value(cell: Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Text(text) => Value::Text(text),
        Cell::Real(x) => Value::Real(x),
        Cell::Int(n) => Value::Integer(n),
    }
}

/// The columns of [`FIELDS`] that `fields` reads, in order, then `extra`
/// ones (at [`Fields::columns_read`]'s count of `true`).
pub(super) fn select_sql(fields: Fields, extra: &[&str]) -> String {
    let columns: Vec<&str> = COLUMNS
        .iter()
        .filter(|column| fields.reads(column))
        .map(|column| column.name)
        .chain(extra.iter().copied())
        .collect();
    format!("SELECT {} FROM pageviews", columns.join(", "))
}

/// A row of [`select_sql`]: the fields of `read` ([`Fields::columns_read`]), in
/// order, by index (looking a column up by name is a string search).
pub(super) fn read_view(row: &Row, read: &[bool]) -> rusqlite::Result<PageView> {
    let mut cells = Vec::with_capacity(read.len());
    let mut index = 0;
    for read in read {
        if !read {
            cells.push(Cell::Null);
            continue;
        }
        cells.push(match row.get_ref(index)? {
            ValueRef::Null | ValueRef::Blob(_) => Cell::Null,
            ValueRef::Text(text) => Cell::Text(String::from_utf8_lossy(text).into_owned()),
            ValueRef::Real(x) => Cell::Real(x),
            ValueRef::Integer(n) => Cell::Int(n),
        });
        index += 1;
    }
    Ok(PageView::from_cells(cells))
}

fn read_site(row: &Row) -> rusqlite::Result<Site> {
    Ok(Site {
        id: row.get(0)?,
        origins: serde_json::from_str(&row.get::<_, String>(1)?).unwrap_or_default(),
        token_hash: row.get(2)?,
        created_at: row.get(3)?,
        feedback_scale: row.get(4)?,
    })
}

/// Most rows of one read of [`Store::export`]: each is its own read
/// transaction, handed over before the next.
const EXPORT_PAGE: usize = 8 * EXPORT_CHUNK;

/// The `WHERE` condition of a selection and its parameters.
fn condition(selection: &Selection) -> (String, Vec<Value>) {
    let mut condition = String::from("site = ? AND started_at >= ? AND started_at < ?");
    let mut values =
        vec![Value::Text(selection.site.clone()), Value::Integer(selection.from_ms), Value::Integer(selection.to_ms)];
    for (column, value) in selection.filter_columns() {
        condition.push_str(&format!(" AND {column} = ?"));
        values.push(Value::Text(value.to_string()));
    }
    if selection.answered {
        // As `pageviews_answered`'s condition is written, so that it is used.
        condition.push_str(" AND feedback_rating IS NOT NULL");
    }
    (condition, values)
}

#[async_trait]
impl Store for SqliteStore {
    async fn ingest(&self, snapshot: Snapshot) -> Result<()> {
        let (reply, outcome) = oneshot::channel();
        self.writer.try_send((snapshot, reply)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => AppError::Unavailable("ingest queue full".into()),
            mpsc::error::TrySendError::Closed(_) => AppError::Unavailable("writer stopped".into()),
        })?;
        outcome.await.map_err(|_| AppError::Unavailable("writer stopped".into()))?.map_err(AppError::Unavailable)
    }

    /// Reads in keyset pages of [`EXPORT_PAGE`] rows, each its own short read
    /// transaction, and hands them over between pages: a reader that takes
    /// its chunks slowly (or never) holds no transaction, so the WAL keeps
    /// being checkpointed and reset, and waits on no thread of the blocking
    /// pool.
    async fn export(&self, selection: Selection, sink: mpsc::Sender<Vec<PageView>>) -> Result<()> {
        let (condition, values) = condition(&selection);
        // In the order of the (site, started_at) index; the ties in an
        // export's order (by id) too, else by rowid, which the index holds.
        // Each page starts where the last ended: its `started_at >= ?` (the
        // index's range) is the last row's, the ties after its key.
        let tie = if selection.fields.in_order() { "id" } else { "rowid" };
        let sql = format!(
            "{} WHERE {condition} AND (started_at > ? OR {tie} > ?) ORDER BY started_at, {tie} LIMIT {EXPORT_PAGE}",
            select_sql(selection.fields, &["started_at", tie])
        );
        let read = selection.fields.columns_read();
        let keys_at = read.iter().filter(|r| **r).count();
        let mut after = (Value::Integer(i64::MIN), Value::Integer(i64::MIN));
        loop {
            let mut values = values.clone();
            if after.0 != Value::Integer(i64::MIN) {
                // `condition` puts the period's start second.
                values[1] = after.0.clone();
            }
            values.extend([after.0.clone(), after.1.clone()]);
            let (sql, read) = (sql.clone(), read.clone());
            let (page, last) = self
                .with_connection(move |connection| {
                    let mut statement = connection.prepare(&sql)?;
                    let mut rows = statement.query(params_from_iter(values))?;
                    let (mut page, mut last) = (Vec::new(), None);
                    while let Some(row) = rows.next()? {
                        page.push(read_view(row, &read)?);
                        last = Some((row.get::<_, Value>(keys_at)?, row.get::<_, Value>(keys_at + 1)?));
                    }
                    Ok((page, last))
                })
                .await?;
            let full = page.len() == EXPORT_PAGE;
            let mut page = page.into_iter().peekable();
            while page.peek().is_some() {
                if sink.send(page.by_ref().take(EXPORT_CHUNK).collect()).await.is_err() {
                    return Ok(());
                }
            }
            match last {
                Some(last) if full => after = last,
                _ => return Ok(()),
            }
        }
    }

    async fn tag_keys(&self, selection: Selection) -> Result<Vec<String>> {
        self.with_connection(move |connection| {
            let (condition, values) = condition(&selection);
            let sql = format!(
                "SELECT DISTINCT tag.key FROM (SELECT tags FROM pageviews WHERE {condition} AND tags != '{{}}'
                 ORDER BY started_at DESC LIMIT {TAG_KEYS_SCANNED}) AS view, json_each(view.tags) AS tag
                 ORDER BY tag.key LIMIT {MAX_TAG_KEYS}"
            );
            let mut statement = connection.prepare(&sql)?;
            let keys = statement.query_map(params_from_iter(values), |row| row.get(0))?;
            keys.collect::<rusqlite::Result<Vec<String>>>()
        })
        .await
    }

    async fn dirty_hours(&self, before_ms: i64, limit: usize) -> Result<Vec<DirtyHour>> {
        self.with_connection(move |connection| sqlite_rollup::dirty_hours(connection, before_ms, limit)).await
    }

    async fn put_rollups(&self, hour: DirtyHour, rows: Vec<RollupRow>) -> Result<()> {
        self.with_connection(move |connection| sqlite_rollup::put_rollups(connection, &hour, &rows)).await
    }

    async fn to_roll(&self, span: Merged, before_ms: i64, limit: usize) -> Result<Vec<(String, i64)>> {
        self.with_connection(move |connection| sqlite_rollup::to_roll(connection, span, before_ms, limit)).await
    }

    async fn roll_up(&self, span: Merged, site: &str, start_ms: i64, merge: MergeRollups) -> Result<bool> {
        let site = site.to_string();
        self.with_connection(move |connection| sqlite_rollup::roll_up(connection, span, &site, start_ms, merge)).await
    }

    async fn rollups(&self, query: RollupQuery) -> Result<RollupSet> {
        self.with_connection(move |connection| sqlite_rollup::rollups(connection, &query)).await
    }

    async fn alert_hooks(&self) -> Result<Vec<AlertHook>> {
        self.with_connection(sqlite_alert::hooks).await
    }

    async fn put_alert_hook(&self, hook: AlertHook) -> Result<i64> {
        self.with_connection(move |connection| sqlite_alert::put_hook(connection, &hook)).await
    }

    async fn remove_alert_hook(&self, id: i64) -> Result<bool> {
        self.with_connection(move |connection| sqlite_alert::remove_hook(connection, id)).await
    }

    async fn first_alerted(&self, keys: Vec<String>) -> Result<Vec<String>> {
        let now = crate::model::now_ms();
        self.with_connection(move |connection| sqlite_alert::first_alerted(connection, &keys, now)).await
    }

    async fn queue_alerts(&self, deliveries: Vec<Delivery>, now_ms: i64) -> Result<()> {
        self.with_connection(move |connection| sqlite_alert::queue(connection, &deliveries, now_ms)).await
    }

    async fn due_alerts(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>> {
        self.with_connection(move |connection| sqlite_alert::due(connection, now_ms, limit)).await
    }

    async fn settle_alert(&self, key: String, delivered: bool, retry_at: i64) -> Result<()> {
        self.with_connection(move |connection| sqlite_alert::settle(connection, &key, delivered, retry_at)).await
    }

    async fn incident(&self, site: &str) -> Result<Option<(i64, String)>> {
        let site = site.to_string();
        self.with_connection(move |connection| sqlite_alert::incident(connection, &site)).await
    }

    async fn set_incident(&self, site: &str, incident: Option<(i64, String)>) -> Result<()> {
        let site = site.to_string();
        self.with_connection(move |connection| sqlite_alert::set_incident(connection, &site, incident.as_ref())).await
    }

    async fn releases(&self, site: &str) -> Result<Vec<Release>> {
        let site = site.to_string();
        self.with_connection(move |connection| sqlite_release::releases(connection, &site)).await
    }

    async fn put_release(&self, site: &str, release: Release) -> Result<()> {
        let site = site.to_string();
        self.with_connection(move |connection| sqlite_release::put(connection, &site, &release)).await
    }

    async fn sites(&self) -> Result<Vec<Site>> {
        self.with_connection(|connection| {
            let mut statement = connection
                .prepare("SELECT id, origins, token_hash, created_at, feedback_scale FROM sites ORDER BY id")?;
            let sites = statement.query_map([], read_site)?.collect();
            sites
        })
        .await
    }

    async fn put_site(&self, site: Site) -> Result<()> {
        self.with_connection(move |connection| {
            let origins = serde_json::to_string(&site.origins).unwrap_or_else(|_| "[]".into());
            connection.execute(
                "INSERT INTO sites (id, origins, token_hash, created_at, feedback_scale) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET origins = excluded.origins, token_hash = excluded.token_hash,
                 feedback_scale = excluded.feedback_scale",
                params![site.id, origins, site.token_hash, site.created_at, site.feedback_scale],
            )?;
            Ok(())
        })
        .await
    }

    fn queue_depth(&self) -> usize {
        self.writer.max_capacity() - self.writer.capacity()
    }

    fn size_bytes(&self) -> Option<u64> {
        let size = |suffix: &str| {
            let mut path = self.path.clone().into_os_string();
            path.push(suffix);
            std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
        };
        Some(size("") + size("-wal"))
    }

    async fn remove_site(&self, id: &str) -> Result<bool> {
        let id = id.to_string();
        self.with_connection(move |connection| {
            let existed = connection.query_row("SELECT 1 FROM sites WHERE id = ?1", [&id], |_| Ok(())).optional()?;
            connection.execute("DELETE FROM sites WHERE id = ?1", [&id])?;
            Ok(existed.is_some())
        })
        .await
    }
}
