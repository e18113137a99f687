//! The embedded store's rollup tables: hours changed since their rollup
//! (`dirty_hours`, versioned), hour rollups (`rollups`, `rolled_hours`) and
//! day rollups merged from them (`day_rollups`, `rolled_days`).
//!
//! An hour's rollup is used only while the hour is clean; a day's only
//! while none of its hours is dirty, and it is dropped whenever one of its
//! hours is rolled up again. Reads of what is clean and of its rows happen
//! in one transaction, so they agree.

use rusqlite::{params, Connection, Transaction, TransactionBehavior};

use super::{DirtyHour, MergeRollups, RollupQuery, RollupRow, RollupSet, DAY_MS, HOUR_MS};

/// Hours changed since their rollup that ended before `before_ms`.
pub fn dirty_hours(connection: &mut Connection, before_ms: i64, limit: usize) -> rusqlite::Result<Vec<DirtyHour>> {
    let mut statement = connection
        .prepare("SELECT site, hour, version FROM dirty_hours WHERE hour + ?1 <= ?2 ORDER BY hour, site LIMIT ?3")?;
    let hours = statement
        .query_map(params![HOUR_MS, before_ms, limit as i64], |row| {
            Ok(DirtyHour { site: row.get(0)?, hour_ms: row.get(1)?, version: row.get(2)? })
        })?
        .collect();
    hours
}

/// Replaces an hour's rollups, marks it clean at its version, and drops
/// its day's rollup.
pub fn put_rollups(connection: &mut Connection, hour: &DirtyHour, rows: &[RollupRow]) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    transaction.execute("DELETE FROM rollups WHERE site = ?1 AND hour = ?2", params![hour.site, hour.hour_ms])?;
    insert_rows(&transaction, "rollups", "hour", &hour.site, hour.hour_ms, rows)?;
    transaction
        .execute("INSERT OR IGNORE INTO rolled_hours (site, hour) VALUES (?1, ?2)", params![hour.site, hour.hour_ms])?;
    transaction.execute(
        "DELETE FROM dirty_hours WHERE site = ?1 AND hour = ?2 AND version = ?3",
        params![hour.site, hour.hour_ms, hour.version],
    )?;
    let day = hour.hour_ms - hour.hour_ms.rem_euclid(DAY_MS);
    transaction.execute("DELETE FROM day_rollups WHERE site = ?1 AND day = ?2", params![hour.site, day])?;
    transaction.execute("DELETE FROM rolled_days WHERE site = ?1 AND day = ?2", params![hour.site, day])?;
    transaction.commit()
}

fn insert_rows(
    transaction: &Transaction,
    table: &str,
    span: &str,
    site: &str,
    start: i64,
    rows: &[RollupRow],
) -> rusqlite::Result<()> {
    let mut insert = transaction
        .prepare(&format!("INSERT INTO {table} (site, dimension, {span}, value, stats) VALUES (?1, ?2, ?3, ?4, ?5)"))?;
    for row in rows {
        insert.execute(params![site, row.dimension, start, row.value, row.stats])?;
    }
    Ok(())
}

/// Days over before `before_ms` with rolled-up hours, none dirty, not yet
/// rolled up themselves.
pub fn days_to_roll(connection: &mut Connection, before_ms: i64, limit: usize) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut statement = connection.prepare(
        "SELECT DISTINCT site, hour - hour % ?1 AS day FROM rolled_hours r
         WHERE hour - hour % ?1 + ?1 <= ?2
         AND NOT EXISTS (SELECT 1 FROM rolled_days x WHERE x.site = r.site AND x.day = r.hour - r.hour % ?1)
         AND NOT EXISTS (SELECT 1 FROM dirty_hours d WHERE d.site = r.site
                         AND d.hour >= r.hour - r.hour % ?1 AND d.hour < r.hour - r.hour % ?1 + ?1)
         ORDER BY day, site LIMIT ?3",
    )?;
    let days =
        statement.query_map(params![DAY_MS, before_ms, limit as i64], |row| Ok((row.get(0)?, row.get(1)?)))?.collect();
    days
}

fn day_is_clean(transaction: &Transaction, site: &str, day: i64) -> rusqlite::Result<bool> {
    transaction.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM dirty_hours WHERE site = ?1 AND hour >= ?2 AND hour < ?2 + ?3)",
        params![site, day, DAY_MS],
        |row| row.get(0),
    )
}

/// Merges a day's hour rollups into its day rollups, in one write
/// transaction (no hour can be rolled up again meanwhile).
pub fn roll_up_day(connection: &mut Connection, site: &str, day: i64, merge: MergeRollups) -> rusqlite::Result<bool> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !day_is_clean(&transaction, site, day)? {
        return Ok(false);
    }
    let hours = {
        let mut statement = transaction
            .prepare("SELECT dimension, value, stats FROM rollups WHERE site = ?1 AND hour >= ?2 AND hour < ?2 + ?3")?;
        let rows = statement
            .query_map(params![site, day, DAY_MS], |row| {
                Ok(RollupRow { dimension: row.get(0)?, value: row.get(1)?, stats: row.get(2)? })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows
    };
    let Some(merged) = merge(hours) else {
        tracing::error!(message = "unreadable hour rollup; the day is answered from its hours", site, day);
        return Ok(false);
    };
    transaction.execute("DELETE FROM day_rollups WHERE site = ?1 AND day = ?2", params![site, day])?;
    insert_rows(&transaction, "day_rollups", "day", site, day, &merged)?;
    transaction.execute("INSERT OR IGNORE INTO rolled_days (site, day) VALUES (?1, ?2)", params![site, day])?;
    transaction.commit()?;
    Ok(true)
}

/// The clean spans of a period and their rows: whole clean days (when
/// `query.days`), then clean hours outside them.
pub fn rollups(connection: &mut Connection, query: &RollupQuery) -> rusqlite::Result<RollupSet> {
    let transaction = connection.transaction()?;
    let RollupQuery { site, from_ms, to_ms, days, .. } = query;
    let mut covered = Vec::new();
    let mut rows = Vec::new();
    let mut day_spans = Vec::new();
    if *days {
        day_spans = transaction
            .prepare(
                "SELECT day FROM rolled_days r WHERE site = ?1 AND day >= ?2 AND day + ?4 <= ?3
                 AND NOT EXISTS (SELECT 1 FROM dirty_hours d WHERE d.site = r.site AND d.hour >= r.day AND d.hour < r.day + ?4)
                 ORDER BY day",
            )?
            .query_map(params![site, from_ms, to_ms, DAY_MS], |row| row.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        read_rows(&transaction, "day_rollups", "day", query, &day_spans, &mut rows)?;
    }
    let in_a_day = |hour: i64| day_spans.binary_search(&(hour - hour.rem_euclid(DAY_MS))).is_ok();
    let hour_spans: Vec<i64> = transaction
        .prepare(
            "SELECT hour FROM rolled_hours r WHERE site = ?1 AND hour >= ?2 AND hour < ?3
             AND NOT EXISTS (SELECT 1 FROM dirty_hours d WHERE d.site = r.site AND d.hour = r.hour)
             ORDER BY hour",
        )?
        .query_map(params![site, from_ms, to_ms], |row| row.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?
        .into_iter()
        .filter(|hour| !in_a_day(*hour))
        .collect();
    read_rows(&transaction, "rollups", "hour", query, &hour_spans, &mut rows)?;
    covered.extend(day_spans.iter().map(|day| (*day, day + DAY_MS)));
    covered.extend(hour_spans.iter().map(|hour| (*hour, hour + HOUR_MS)));
    covered.sort_unstable();
    Ok(RollupSet { covered, rows })
}

/// Appends the rows of `table` for the query's dimension (and value) whose
/// span start is one of the sorted `spans`.
fn read_rows(
    transaction: &Transaction,
    table: &str,
    span: &str,
    query: &RollupQuery,
    spans: &[i64],
    rows: &mut Vec<(i64, RollupRow)>,
) -> rusqlite::Result<()> {
    let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
        return Ok(());
    };
    let mut statement = transaction.prepare(&format!(
        "SELECT {span}, value, stats FROM {table} WHERE site = ?1 AND dimension = ?2
         AND {span} >= ?3 AND {span} <= ?4 AND (?5 IS NULL OR value = ?5)"
    ))?;
    let found = statement.query_map(params![query.site, query.dimension, first, last, query.value], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            RollupRow { dimension: query.dimension.to_string(), value: row.get(1)?, stats: row.get(2)? },
        ))
    })?;
    for row in found {
        let row = row?;
        if spans.binary_search(&row.0).is_ok() {
            rows.push(row);
        }
    }
    Ok(())
}
