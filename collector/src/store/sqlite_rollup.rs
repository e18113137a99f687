//! The embedded store's rollup tables: hours changed since their rollup
//! (`dirty_hours`, versioned), hour rollups (`rollups`, `rolled_hours`), day
//! rollups merged from them (`day_rollups`, `rolled_days`) and week rollups
//! merged from the days (`week_rollups`, `rolled_weeks`).
//!
//! An hour's rollup is used only while the hour is clean; a day's or a
//! week's only while none of its hours is dirty, and it is dropped whenever
//! one of its hours is rolled up again. Reads of what is clean and of its
//! rows happen in one transaction, so they agree.

use rusqlite::{params, Connection, Transaction, TransactionBehavior};

use super::{DirtyHour, MergeRollups, Merged, RolledRow, RollupQuery, RollupRow, RollupSet, HOUR_MS};
use crate::stats::Stats;

/// Where a [`Merged`] span's rollups live, and those of its parts.
struct Tables {
    /// Its rows.
    rows: &'static str,
    /// Its rolled-up spans.
    rolled: &'static str,
    /// The column of a span's start in both.
    column: &'static str,
    /// Its parts' rows, and their start column.
    parts: (&'static str, &'static str),
    /// Its parts' rolled-up spans.
    parts_rolled: &'static str,
}

fn tables(span: Merged) -> Tables {
    match span {
        Merged::Day => Tables {
            rows: "day_rollups",
            rolled: "rolled_days",
            column: "day",
            parts: ("rollups", "hour"),
            parts_rolled: "rolled_hours",
        },
        Merged::Week => Tables {
            rows: "week_rollups",
            rolled: "rolled_weeks",
            column: "week",
            parts: ("day_rollups", "day"),
            parts_rolled: "rolled_days",
        },
    }
}

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
/// the rollups of its day and week.
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
    for span in [Merged::Day, Merged::Week] {
        let Tables { rows, rolled, column, .. } = tables(span);
        let start = span.start(hour.hour_ms);
        transaction
            .execute(&format!("DELETE FROM {rows} WHERE site = ?1 AND {column} = ?2"), params![hour.site, start])?;
        transaction
            .execute(&format!("DELETE FROM {rolled} WHERE site = ?1 AND {column} = ?2"), params![hour.site, start])?;
    }
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

/// Spans of `span` over before `before_ms` whose parts are rolled up (a
/// day: its hours with page views; a week: all 7 days), none dirty, not
/// yet rolled up themselves.
pub fn to_roll(
    connection: &mut Connection,
    span: Merged,
    before_ms: i64,
    limit: usize,
) -> rusqlite::Result<Vec<(String, i64)>> {
    let Tables { rolled, column, parts: (_, part), parts_rolled, .. } = tables(span);
    // A week needs all its days: a day without a rollup may be one not
    // rolled up yet (a day without page views leaves its week to its days).
    let whole = match span {
        Merged::Day => String::new(),
        Merged::Week => format!("HAVING count(*) = {}", Merged::Week.ms() / Merged::Day.ms()),
    };
    let mut statement = connection.prepare(&format!(
        "SELECT site, start FROM (
            SELECT site, {part} - {part} % ?1 AS start FROM {parts_rolled} GROUP BY site, start {whole}
         ) s
         WHERE start + ?1 <= ?2
         AND NOT EXISTS (SELECT 1 FROM {rolled} x WHERE x.site = s.site AND x.{column} = s.start)
         AND NOT EXISTS (SELECT 1 FROM dirty_hours d WHERE d.site = s.site AND d.hour >= s.start AND d.hour < s.start + ?1)
         ORDER BY start, site LIMIT ?3"
    ))?;
    let spans = statement
        .query_map(params![span.ms(), before_ms, limit as i64], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect();
    spans
}

/// Merges the rollups of a span's parts into its rollups, in one write
/// transaction (no hour can be rolled up again meanwhile); `false` if one
/// of its hours is dirty or (a week) one of its days is not rolled up.
pub fn roll_up(
    connection: &mut Connection,
    span: Merged,
    site: &str,
    start: i64,
    merge: MergeRollups,
) -> rusqlite::Result<bool> {
    let Tables { rows: table, rolled, column, parts: (parts, part), parts_rolled } = tables(span);
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let ready: bool = transaction.query_row(
        &format!(
            "SELECT NOT EXISTS (SELECT 1 FROM dirty_hours WHERE site = ?1 AND hour >= ?2 AND hour < ?2 + ?3)
             AND (?4 OR (SELECT count(*) FROM {parts_rolled} WHERE site = ?1 AND {part} >= ?2 AND {part} < ?2 + ?3) = 7)"
        ),
        params![site, start, span.ms(), span == Merged::Day],
        |row| row.get(0),
    )?;
    if !ready {
        return Ok(false);
    }
    let rows = {
        let mut statement = transaction.prepare(&format!(
            "SELECT dimension, value, stats FROM {parts} WHERE site = ?1 AND {part} >= ?2 AND {part} < ?2 + ?3"
        ))?;
        let rows = statement
            .query_map(params![site, start, span.ms()], |row| {
                Ok(RollupRow { dimension: row.get(0)?, value: row.get(1)?, stats: row.get(2)? })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows
    };
    let Some(merged) = merge(rows) else {
        tracing::error!(
            message = "unreadable rollup; the span is answered from its parts",
            site,
            start,
            span = span.name()
        );
        return Ok(false);
    };
    transaction.execute(&format!("DELETE FROM {table} WHERE site = ?1 AND {column} = ?2"), params![site, start])?;
    insert_rows(&transaction, table, column, site, start, &merged)?;
    transaction
        .execute(&format!("INSERT OR IGNORE INTO {rolled} (site, {column}) VALUES (?1, ?2)"), params![site, start])?;
    transaction.commit()?;
    Ok(true)
}

/// The clean spans of `span` that lie whole in `[from, to)`, sorted.
fn clean_spans(transaction: &Transaction, span: Merged, site: &str, from: i64, to: i64) -> rusqlite::Result<Vec<i64>> {
    let Tables { rolled, column, .. } = tables(span);
    let spans = transaction
        .prepare(&format!(
            "SELECT {column} FROM {rolled} r WHERE site = ?1 AND {column} >= ?2 AND {column} + ?4 <= ?3
             AND NOT EXISTS (SELECT 1 FROM dirty_hours d WHERE d.site = r.site AND d.hour >= r.{column}
                             AND d.hour < r.{column} + ?4)
             ORDER BY {column}"
        ))?
        .query_map(params![site, from, to, span.ms()], |row| row.get::<_, i64>(0))?
        .collect();
    spans
}

/// The clean spans of a period and their rows: whole clean weeks (when
/// `query.weeks`), whole clean days outside them (when `query.days`), then
/// clean hours outside both.
pub fn rollups(connection: &mut Connection, query: &RollupQuery) -> rusqlite::Result<RollupSet> {
    let transaction = connection.transaction()?;
    let RollupQuery { site, from_ms, to_ms, days, weeks, .. } = query;
    let mut rows = Vec::new();
    let mut covered = Vec::new();
    // Each span's rows, outside the longer spans read before it.
    let mut outside = |span: Option<Merged>, wanted: bool, covered: &mut Vec<(i64, i64)>| -> rusqlite::Result<()> {
        if !wanted {
            return Ok(());
        }
        let (starts, length, table, column): (Vec<i64>, i64, _, _) = match span {
            Some(span) => {
                let Tables { rows, column, .. } = tables(span);
                (clean_spans(&transaction, span, site, *from_ms, *to_ms)?, span.ms(), rows, column)
            }
            None => (clean_hours(&transaction, site, *from_ms, *to_ms)?, HOUR_MS, "rollups", "hour"),
        };
        let starts: Vec<i64> = starts.into_iter().filter(|s| !covered.iter().any(|(a, b)| a <= s && s < b)).collect();
        read_rows(&transaction, (table, column, length), query, &starts, &mut rows)?;
        covered.extend(starts.iter().map(|start| (*start, start + length)));
        covered.sort_unstable();
        Ok(())
    };
    outside(Some(Merged::Week), *weeks, &mut covered)?;
    outside(Some(Merged::Day), *days, &mut covered)?;
    outside(None, true, &mut covered)?;
    Ok(RollupSet { covered, rows })
}

/// The clean rolled-up hours of `[from, to)`, sorted.
fn clean_hours(transaction: &Transaction, site: &str, from: i64, to: i64) -> rusqlite::Result<Vec<i64>> {
    let hours = transaction
        .prepare(
            "SELECT hour FROM rolled_hours r WHERE site = ?1 AND hour >= ?2 AND hour < ?3
             AND NOT EXISTS (SELECT 1 FROM dirty_hours d WHERE d.site = r.site AND d.hour = r.hour)
             ORDER BY hour",
        )?
        .query_map(params![site, from, to], |row| row.get::<_, i64>(0))?
        .collect();
    hours
}

/// Appends the rows of `table` for the query's dimension (and value) whose
/// span start is one of the sorted `spans` (each `length` ms long), their
/// stats decoded in place. Each run of consecutive spans is one range read:
/// the hours at both ends of a month are two short reads, not the month's.
fn read_rows(
    transaction: &Transaction,
    (table, span, length): (&str, &str, i64),
    query: &RollupQuery,
    spans: &[i64],
    rows: &mut Vec<RolledRow>,
) -> rusqlite::Result<()> {
    let mut statement = transaction.prepare_cached(&format!(
        "SELECT {span}, value, stats FROM {table} WHERE site = ?1 AND dimension = ?2
         AND {span} >= ?3 AND {span} <= ?4 AND (?5 IS NULL OR value = ?5)"
    ))?;
    for run in spans.chunk_by(|a, b| b - a == length) {
        let (first, last) = (run[0], run[run.len() - 1]);
        let mut found = statement.query(params![query.site, query.dimension, first, last, query.value])?;
        while let Some(row) = found.next()? {
            let start = row.get::<_, i64>(0)?;
            let Some(stats) = Stats::decode(row.get_ref(2)?.as_blob()?) else {
                let unreadable = format!("unreadable {table} row of {start}");
                return Err(rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Blob,
                    unreadable.into(),
                ));
            };
            rows.push((start, row.get(1)?, stats));
        }
    }
    Ok(())
}
