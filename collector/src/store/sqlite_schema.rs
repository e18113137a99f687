//! The SQLite schema and its versioned migrations (`PRAGMA user_version`).

use rusqlite::Connection;

/// Drops every rollup and marks every hour with page views changed, so
/// that the rollups are rebuilt (after `Stats` gained a field).
macro_rules! rebuild_rollups {
    () => {
        "DELETE FROM rollups;
        DELETE FROM rolled_hours;
        DELETE FROM day_rollups;
        DELETE FROM rolled_days;
        INSERT INTO dirty_hours (site, hour, version)
            SELECT DISTINCT site, started_at - started_at % 3600000, 1 FROM pageviews WHERE true
            ON CONFLICT (site, hour) DO UPDATE SET version = version + 1;"
    };
}

/// Migrations in order; `user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: page views and sites.
    "CREATE TABLE pageviews (
        site TEXT NOT NULL,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        url TEXT NOT NULL,
        path TEXT NOT NULL,
        referrer_host TEXT,
        started_at INTEGER NOT NULL,
        nav_type TEXT,
        ttfb_ms REAL, fcp_ms REAL, lcp_ms REAL, inp_ms REAL, cls REAL,
        dcl_ms REAL, load_ms REAL,
        lcp_element TEXT, lcp_url TEXT, lcp_subparts TEXT,
        inp_target TEXT, inp_subparts TEXT,
        response_status INTEGER,
        visible_ms REAL, left_at_ms REAL,
        abandoned INTEGER, abandon_phase TEXT, slow_bounce INTEGER,
        device TEXT, browser TEXT, os TEXT,
        effective_type TEXT, downlink_mbps REAL, rtt_ms REAL, save_data INTEGER,
        device_memory REAL, cpu_cores INTEGER,
        errors INTEGER,
        feedback_rating INTEGER, feedback_scale TEXT, feedback_comment TEXT, feedback_at_ms REAL,
        tags TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (site, id)
    ) WITHOUT ROWID;
    CREATE INDEX pageviews_by_time ON pageviews (site, started_at);
    CREATE TABLE sites (
        id TEXT PRIMARY KEY,
        origins TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );",
    // 2: rollups (hourly stats per dimension value) and the hours to redo.
    "CREATE TABLE dirty_hours (
        site TEXT NOT NULL,
        hour INTEGER NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (site, hour)
    ) WITHOUT ROWID;
    INSERT INTO dirty_hours (site, hour, version)
        SELECT DISTINCT site, started_at - started_at % 3600000, 1 FROM pageviews;
    CREATE TABLE rolled_hours (
        site TEXT NOT NULL,
        hour INTEGER NOT NULL,
        PRIMARY KEY (site, hour)
    ) WITHOUT ROWID;
    CREATE TABLE rollups (
        site TEXT NOT NULL,
        dimension TEXT NOT NULL,
        hour INTEGER NOT NULL,
        value TEXT,
        stats BLOB NOT NULL
    );
    CREATE INDEX rollups_by_dimension ON rollups (site, dimension, hour);
    CREATE INDEX rollups_by_hour ON rollups (site, hour);",
    // 3: day rollups, merged from a day's hour rollups.
    "CREATE TABLE rolled_days (
        site TEXT NOT NULL,
        day INTEGER NOT NULL,
        PRIMARY KEY (site, day)
    ) WITHOUT ROWID;
    CREATE TABLE day_rollups (
        site TEXT NOT NULL,
        dimension TEXT NOT NULL,
        day INTEGER NOT NULL,
        value TEXT,
        stats BLOB NOT NULL
    );
    CREATE INDEX day_rollups_by_dimension ON day_rollups (site, dimension, day);
    CREATE INDEX day_rollups_by_day ON day_rollups (site, day);",
    // 4: rollups carry satisfaction per load-time bucket: rebuild them all.
    rebuild_rollups!(),
    // 5: alert hooks, what was alerted, and the delivery queue.
    "CREATE TABLE alert_hooks (
        id INTEGER PRIMARY KEY,
        site TEXT NOT NULL,
        url TEXT NOT NULL,
        format TEXT NOT NULL
    );
    CREATE TABLE alerted (key TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE alert_queue (
        key TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_at INTEGER NOT NULL,
        queued_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX alert_queue_due ON alert_queue (next_at);",
    // 6: rollups count server errors (outage alerts): rebuild them; open incidents.
    concat!(
        rebuild_rollups!(),
        "
    CREATE TABLE incidents (
        site TEXT PRIMARY KEY,
        opened_at INTEGER NOT NULL,
        reason TEXT NOT NULL
    );"
    ),
    // 7: a site's default feedback scale.
    "ALTER TABLE sites ADD COLUMN feedback_scale TEXT NOT NULL DEFAULT 'thumbs';",
];

/// Brings the database to the latest schema, one transaction per step.
pub fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let applied: usize = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
        transaction.commit()?;
    }
    Ok(())
}
