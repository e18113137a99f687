//! The ClickHouse schema, created and migrated by the collector at start.
//!
//! Applied migrations are recorded in `palaute_schema`; each runs once and
//! uses only syntax that ClickHouse 18.16 (Debian's package) and current
//! releases both accept. Several collectors starting at once are safe: every
//! statement is `IF NOT EXISTS`.

use super::http::ClickHouse;
use super::{rollups, sql};
use crate::error::Result;
use crate::model::column::Kind;
use crate::model::COLUMNS;

/// The statements of each schema version, in order; `{db}` is the database.
const MIGRATIONS: [&[&str]; 6] = [
    &[
        // Page views: the snapshot with the highest `seq` per (site, id) wins
        // when parts merge, and every read uses FINAL, so a beacon stored twice
        // (a retried insert, a re-sent beacon) counts once. Partitioned by day
        // of the page view's start, so that reading an hour (a rollup's
        // build, the edges of a period) reads one day's parts; ordered by
        // site, then the hour of the start ([`sql::HOUR_KEY`]), so that a
        // site's period reads only its own granules of that period (a raw
        // hour at 10 million page views: 6,000 rows, not the 280,000 of its
        // day). The snapshots of a page view share their start, and so their
        // hour: the key still names one page view. (Databases made before
        // 2026-12-03 are ordered by (site, id): docs/clickhouse.md says how
        // to move one.) (FINAL
        // merges within a partition: a page view from a browser whose clock
        // is more than a day off, which starts at the beginning of the UTC
        // day its snapshot arrived in, and whose snapshots arrive on two
        // days, is stored twice. Databases made before 2026-12-02 are
        // partitioned by month.)
        "CREATE TABLE IF NOT EXISTS {db}.pageviews (
        site String, id String, seq UInt32, received_at Int64, path String, url String,
        referrer_host Nullable(String), started_at Int64, nav_type Nullable(String),
        ttfb_ms Nullable(Float64), fcp_ms Nullable(Float64), lcp_ms Nullable(Float64),
        inp_ms Nullable(Float64), cls Nullable(Float64), dcl_ms Nullable(Float64), load_ms Nullable(Float64),
        lcp_element Nullable(String), lcp_url Nullable(String), lcp_subparts Nullable(String),
        inp_target Nullable(String), inp_subparts Nullable(String), response_status Nullable(UInt16),
        visible_ms Nullable(Float64), left_at_ms Nullable(Float64), abandoned Nullable(UInt8),
        abandon_phase Nullable(String), slow_bounce Nullable(UInt8), device Nullable(String),
        browser Nullable(String), os Nullable(String), effective_type Nullable(String),
        downlink_mbps Nullable(Float64), rtt_ms Nullable(Float64), save_data Nullable(UInt8),
        device_memory Nullable(Float64), cpu_cores Nullable(UInt16), errors Nullable(UInt32),
        feedback_rating Nullable(UInt8), feedback_scale Nullable(String), feedback_comment Nullable(String),
        feedback_at_ms Nullable(Float64), tag_keys Array(String), tag_values Array(String)
    ) ENGINE = ReplacingMergeTree(seq)
    PARTITION BY toYYYYMMDD(toDate(intDiv(started_at, 1000)))
    ORDER BY (site, {hour_key}, id)",
        // Sites, shared by every collector: the row with the highest version
        // wins; a removed site is a row with `deleted = 1`.
        "CREATE TABLE IF NOT EXISTS {db}.sites (
        id String, origins String, token_hash String, created_at Int64, feedback_scale String,
        version UInt64, deleted UInt8
    ) ENGINE = ReplacingMergeTree(version) ORDER BY id",
    ],
    &rollups::TABLES,
    // Bounded rollups in a new format, with `route` and `release`: the old
    // rows are dropped and every hour with changes is built again (an hour
    // without a build is dirty).
    &["DROP TABLE IF EXISTS {db}.rollups", rollups::TABLES[1]],
    &[
        // Deploy markers, shared by every collector: per site and name, the
        // row with the highest version (the latest `release add`) wins.
        "CREATE TABLE IF NOT EXISTS {db}.releases (
        site String, name String, at Int64, version UInt64
    ) ENGINE = ReplacingMergeTree(version) ORDER BY (site, name)",
    ],
    // Day rollups mark a value some hour folded instead of listing every
    // folded value: rebuilt as in the third.
    &["DROP TABLE IF EXISTS {db}.rollups", rollups::TABLES[1]],
    // Rollup stats stored as their bytes (written and read in RowBinary),
    // not as hex text: rebuilt as in the third.
    &["DROP TABLE IF EXISTS {db}.rollups", rollups::TABLES[1]],
];

/// Creates the database and brings its schema to the newest version.
pub async fn migrate(clickhouse: &ClickHouse, database: &str) -> Result<()> {
    clickhouse.execute(&format!("CREATE DATABASE IF NOT EXISTS {database}")).await?;
    clickhouse
        .execute(&format!(
            "CREATE TABLE IF NOT EXISTS {database}.palaute_schema (version UInt32, applied_at Int64) ENGINE = Log"
        ))
        .await?;
    let rows =
        clickhouse.rows(&format!("SELECT max(version) AS v FROM {database}.palaute_schema FORMAT JSONEachRow")).await?;
    let applied = rows.first().and_then(|row| row["v"].as_u64()).unwrap_or(0) as usize;
    for (index, statements) in MIGRATIONS.iter().enumerate().skip(applied) {
        for statement in *statements {
            clickhouse.execute(&statement.replace("{db}", database).replace("{hour_key}", sql::HOUR_KEY)).await?;
        }
        let version = index + 1;
        clickhouse
            .insert(
                &format!("{database}.palaute_schema"),
                serde_json::json!({ "version": version, "applied_at": crate::model::now_ms() }).to_string(),
            )
            .await?;
        tracing::info!(message = "ClickHouse schema migrated", database, version);
    }
    add_missing_columns(clickhouse, database).await?;
    warn_if_sorted_by_id(clickhouse, database).await
}

/// Warns when `pageviews` is still sorted by `(site, id)` (made before
/// 2026-12-03): its answers are right, but each raw hour reads the start
/// times of its whole day. Moving the table is the operator's step, with
/// the SQL in docs/clickhouse.md: copying it here could lose what other
/// collectors insert meanwhile.
async fn warn_if_sorted_by_id(clickhouse: &ClickHouse, database: &str) -> Result<()> {
    let rows = clickhouse
        .rows(&format!(
            "SELECT engine_full FROM system.tables WHERE database = '{database}' AND name = 'pageviews' FORMAT JSONEachRow"
        ))
        .await?;
    let engine = rows.first().and_then(|row| row["engine_full"].as_str()).unwrap_or_default();
    if !engine.contains(sql::HOUR_KEY) {
        tracing::warn!(
            database,
            engine,
            "pageviews is not sorted by the hour of the start: answers are slower than they need be; \
             docs/clickhouse.md (\"A database made before 2026-12-03\") says how to sort it"
        );
    }
    Ok(())
}

/// The `pageviews` columns the page view's fields need ([`COLUMNS`], its
/// one definition; tags as two arrays), with their ClickHouse types.
pub fn pageview_columns() -> Vec<(&'static str, &'static str)> {
    let mut columns = Vec::new();
    for column in &COLUMNS {
        match column.kind {
            Kind::Tags => columns.extend([("tag_keys", column.clickhouse), ("tag_values", column.clickhouse)]),
            _ => columns.push((column.name, column.clickhouse)),
        }
    }
    columns
}

/// Adds every column of [`pageview_columns`] that `pageviews` lacks (a
/// field added to the page view). ClickHouse 18.16 has no `ADD COLUMN IF
/// NOT EXISTS`: when another collector added the column at the same
/// moment, the failed statement is fine if the column is there now.
async fn add_missing_columns(clickhouse: &ClickHouse, database: &str) -> Result<()> {
    let existing = |rows: Vec<serde_json::Value>| -> Vec<String> {
        rows.iter().filter_map(|row| row["name"].as_str().map(str::to_string)).collect()
    };
    let query = format!(
        "SELECT name FROM system.columns WHERE database = '{database}' AND table = 'pageviews' FORMAT JSONEachRow"
    );
    let stored = existing(clickhouse.rows(&query).await?);
    for (name, kind) in pageview_columns().into_iter().filter(|(name, _)| !stored.iter().any(|s| s == name)) {
        let added = clickhouse.execute(&format!("ALTER TABLE {database}.pageviews ADD COLUMN {name} {kind}")).await;
        if let Err(error) = added {
            if !existing(clickhouse.rows(&query).await?).iter().any(|s| s == name) {
                return Err(error);
            }
        }
        tracing::info!(message = "ClickHouse column added", database, column = name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_schema_has_the_type_of_every_column_it_has() {
        // The columns created by the first migration keep the types the
        // page view's definition gives them (the rest are added).
        let created = MIGRATIONS[0][0];
        let mut checked = 0;
        for (name, kind) in pageview_columns() {
            if let Some(at) = created.find(&format!(" {name} ")) {
                let declared = created[at + name.len() + 2..].split([',', '\n']).next().unwrap().trim();
                assert_eq!(declared, kind, "column {name}");
                checked += 1;
            }
        }
        assert_eq!(checked, 40, "the 38 fields of the first schema and the two tag arrays");
    }
}
