//! The SQLite schema and its versioned migrations (`PRAGMA user_version`).

use rusqlite::Connection;

use crate::model::column::Kind;
use crate::model::COLUMNS;

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

/// The columns of `pageviews`, in their stored order (migrations 1 and 8).
macro_rules! pageview_columns {
    () => {
        "site TEXT NOT NULL,
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
        tags TEXT NOT NULL DEFAULT '{}',"
    };
}

/// Migrations in order; `user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: page views and sites.
    concat!(
        "CREATE TABLE pageviews (",
        pageview_columns!(),
        "PRIMARY KEY (site, id)
    ) WITHOUT ROWID;
    CREATE INDEX pageviews_by_time ON pageviews (site, started_at);
    CREATE TABLE sites (
        id TEXT PRIMARY KEY,
        origins TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );"
    ),
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
    // 8: page views in a rowid table, appended in arrival order, with (site, id)
    // a unique index: a beacon's insert writes the table's last page and one
    // small index entry instead of a whole row at a random place in the
    // table (ids are random): 27,800 -> 29,900 beacons/s on the benchmark.
    concat!(
        "CREATE TABLE pageviews_v8 (",
        pageview_columns!(),
        "UNIQUE (site, id)
    );
    INSERT INTO pageviews_v8 SELECT * FROM pageviews ORDER BY site, started_at;
    DROP TABLE pageviews;
    ALTER TABLE pageviews_v8 RENAME TO pageviews;
    CREATE INDEX pageviews_by_time ON pageviews (site, started_at);"
    ),
    // 9: a rolled-up dimension more (`inp_script_host`): every rollup rebuilt.
    rebuild_rollups!(),
    // 10: rollups count frustrated page views, `frustration_target` is
    // rolled up, and so is each pair of filters (`path+device`, ...):
    // every rollup rebuilt.
    rebuild_rollups!(),
    // 11: bounded rollups (the most viewed values of each hour and one row
    // of the others, few values kept exactly instead of a sketch), and
    // `route` and `release` rolled up: every rollup rebuilt.
    rebuild_rollups!(),
    // 12: deploy markers (`release add`, `POST .../releases`).
    "CREATE TABLE releases (
        site TEXT NOT NULL,
        name TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (site, name)
    ) WITHOUT ROWID;",
    // 13: day rollups mark a value some hour folded (`partial`) instead of
    // listing every folded value: every rollup rebuilt.
    rebuild_rollups!(),
    // 14: week rollups, merged from a week's day rollups (built from the
    // days already rolled up; a later rebuild of every rollup must also
    // empty these two tables).
    "CREATE TABLE rolled_weeks (
        site TEXT NOT NULL,
        week INTEGER NOT NULL,
        PRIMARY KEY (site, week)
    ) WITHOUT ROWID;
    CREATE TABLE week_rollups (
        site TEXT NOT NULL,
        dimension TEXT NOT NULL,
        week INTEGER NOT NULL,
        value TEXT,
        stats BLOB NOT NULL
    );
    CREATE INDEX week_rollups_by_dimension ON week_rollups (site, dimension, week);",
    // 15: the page views with a feedback answer, in the feedback list's
    // order: the list reads them, not every page view of its period.
    "CREATE INDEX pageviews_answered ON pageviews (site, started_at, id) WHERE feedback_rating IS NOT NULL;",
];

/// Brings the database to the latest schema, one transaction per step,
/// then adds the page view's columns the table lacks.
pub fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let applied: usize = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
        transaction.commit()?;
    }
    add_missing_columns(connection)
}

/// Adds every column of the page view ([`COLUMNS`], its one definition)
/// that `pageviews` does not have yet: a field added to the page view gets
/// its column here, absent (NULL) in the rows stored before.
fn add_missing_columns(connection: &mut Connection) -> rusqlite::Result<()> {
    let existing = stored_columns(connection)?;
    let transaction = connection.transaction()?;
    for column in COLUMNS.iter().filter(|c| !existing.iter().any(|(name, _)| name == c.name)) {
        let default = match (column.nullable, column.kind) {
            (true, _) => "",
            (false, Kind::Tags) => " NOT NULL DEFAULT '{}'",
            (false, Kind::Int | Kind::Flag | Kind::Real) => " NOT NULL DEFAULT 0",
            (false, _) => " NOT NULL DEFAULT ''",
        };
        transaction.execute_batch(&format!(
            "ALTER TABLE pageviews ADD COLUMN {} {}{default}",
            column.name,
            column.sqlite()
        ))?;
    }
    transaction.commit()
}

/// The columns of `pageviews` and their declared types.
fn stored_columns(connection: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut statement = connection.prepare("SELECT name, type FROM pragma_table_info('pageviews')")?;
    let columns = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect();
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database at `version` (the first `version` migrations applied).
    fn database_at(version: usize) -> Connection {
        let connection = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..version] {
            connection.execute_batch(sql).unwrap();
        }
        connection.pragma_update(None, "user_version", version).unwrap();
        connection
    }

    #[test]
    fn every_column_of_the_page_view_is_stored_with_its_type() {
        let mut connection = Connection::open_in_memory().unwrap();
        migrate(&mut connection).unwrap();
        let stored = stored_columns(&connection).unwrap();
        for column in &COLUMNS {
            let found = stored.iter().find(|(name, _)| name == column.name);
            assert_eq!(found.map(|(_, t)| t.as_str()), Some(column.sqlite()), "column {}", column.name);
        }
        let internal = ["site", "id", "seq", "received_at", "path"];
        for (name, _) in &stored {
            assert!(COLUMNS.iter().any(|c| c.name == name) || internal.contains(&name.as_str()), "{name} is no field");
        }
        // Idempotent: a second start adds nothing.
        migrate(&mut connection).unwrap();
        assert_eq!(stored_columns(&connection).unwrap(), stored);
    }

    #[test]
    fn a_database_from_before_a_field_existed_gets_its_column_and_keeps_its_rows() {
        let mut connection = database_at(MIGRATIONS.len());
        connection
            .execute_batch(
                "INSERT INTO pageviews (site, id, seq, received_at, url, path, started_at, inp_ms)
                 VALUES ('shop', 'a', 1, 10, '/', '/', 1000, 250);",
            )
            .unwrap();
        migrate(&mut connection).unwrap();
        let (inp, script): (f64, Option<String>) = connection
            .query_row("SELECT inp_ms, inp_script_url FROM pageviews", [], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap();
        assert_eq!((inp, script), (250.0, None));
    }

    #[test]
    fn page_views_survive_the_move_to_a_rowid_table() {
        let mut connection = database_at(7);
        connection
            .execute_batch(
                "INSERT INTO pageviews (site, id, seq, received_at, url, path, started_at, lcp_ms)
                 VALUES ('shop', 'b', 1, 10, 'https://shop.example/', '/', 2000, 1234.5),
                        ('shop', 'a', 2, 10, 'https://shop.example/cart', '/cart', 1000, NULL);",
            )
            .unwrap();
        migrate(&mut connection).unwrap();

        let version: usize = connection.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len());
        let rows: Vec<(i64, String, u32, Option<f64>)> = connection
            .prepare("SELECT rowid, id, seq, lcp_ms FROM pageviews ORDER BY rowid")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        // Copied in time order, every column kept.
        assert_eq!(rows, vec![(1, "a".into(), 2, None), (2, "b".into(), 1, Some(1234.5))]);
        // (site, id) is still unique, so the ingest upsert still replaces.
        let duplicate = connection.execute(
            "INSERT INTO pageviews (site, id, seq, received_at, url, path, started_at)
             VALUES ('shop', 'a', 3, 10, 'https://shop.example/', '/', 1000)",
            [],
        );
        assert!(duplicate.is_err(), "a second row for one page view");
        let indexes: Vec<String> = connection
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'pageviews' ORDER BY name")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(indexes, vec!["pageviews_answered", "pageviews_by_time", "sqlite_autoindex_pageviews_1"]);
    }
}
