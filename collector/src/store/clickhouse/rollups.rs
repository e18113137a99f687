//! The ClickHouse store's rollups, in ClickHouse itself, so that any number
//! of collectors share them and the planner ([`crate::rollup::query`])
//! answers from them as it does on the embedded store.
//!
//! - `changes (site, hour, version)`: the shipper adds a row for each hour
//!   of each batch it inserted, after the batch, with the server's clock
//!   (`now()`, seconds) as the version. The hour's latest change is its
//!   largest version.
//! - `rollups (site, span, start, dimension, valued, value, version, stats)`:
//!   an hour's (`span = 'hour'`) or a day's (`'day'`) rows, all written by
//!   one `INSERT` (one block: all or nothing) at the version of the latest
//!   change the builder saw before it read the page views. Rows of older
//!   builds stay until merges drop them and are never read: a span's rows
//!   are those of its newest build (the largest version of its `all` row),
//!   and two collectors that build the same span at once write the same
//!   rows, read once (`GROUP BY`).
//! - A span is clean while its newest build's version is at least its
//!   latest change's. A snapshot shipped after the build read its hour has
//!   a larger version (the builder takes only hours whose latest change is
//!   [`SETTLED_S`] old, and a later change is stamped later), so the hour
//!   is dirty again and answered from raw rows until it is rebuilt: counted
//!   once, with its final values, whichever collector builds it, and a
//!   builder that dies leaves either nothing or a whole build.

use super::http::{quote, ClickHouse};
use crate::error::{AppError, Result};
use crate::store::{DirtyHour, MergeRollups, RollupQuery, RollupRow, RollupSet, DAY_MS, HOUR_MS};

/// How old (s, by the server's clock) a span's latest change must be before
/// it is built: a change stamped in the same second as the build's read
/// would look built.
pub const SETTLED_S: i64 = 2;

/// The tables, for the schema's migration.
pub const TABLES: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS {db}.changes (site String, hour Int64, version Int64)
     ENGINE = ReplacingMergeTree(version) ORDER BY (site, hour)",
    "CREATE TABLE IF NOT EXISTS {db}.rollups (
        site String, span String, start Int64, dimension String, valued UInt8, value String,
        version Int64, stats String
    ) ENGINE = ReplacingMergeTree(version) ORDER BY (site, span, dimension, start, valued, value)
     SETTINGS index_granularity = 256",
];

/// The store's rollups in one database.
pub struct Rollups<'a> {
    /// The server.
    pub clickhouse: &'a ClickHouse,
    /// The database.
    pub db: &'a str,
}

/// `(site, hour)` of each hour the batch touched, for [`Rollups::changed`].
pub type Touched = Vec<(String, i64)>;

fn number(row: &serde_json::Value, key: &str) -> Result<i64> {
    let value = &row[key];
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| AppError::Internal(format!("ClickHouse row lacks {key}: {row}")))
}

fn text(row: &serde_json::Value, key: &str) -> Result<String> {
    row[key]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| AppError::Internal(format!("ClickHouse row lacks {key}: {row}")))
}

/// A rollup row of a `SELECT ... dimension, valued, value, stats`.
fn read_row(row: &serde_json::Value) -> Result<RollupRow> {
    let stats = hex::decode(text(row, "stats")?).map_err(|e| AppError::Internal(e.to_string()))?;
    let value = (number(row, "valued")? == 1).then(|| text(row, "value")).transpose()?;
    Ok(RollupRow { dimension: text(row, "dimension")?, value, stats })
}

impl Rollups<'_> {
    /// The newest build of each span of `site` in `[from, to)`: `(start, version)`.
    fn builds(&self, site: &str, span: &str, from: i64, to: i64) -> String {
        format!(
            "SELECT start, max(version) AS built FROM {db}.rollups WHERE site = {site} AND span = '{span}' \
             AND dimension = 'all' AND start >= {from} AND start < {to} GROUP BY start",
            db = self.db,
            site = quote(site),
        )
    }

    /// Records that the hours in `touched` changed (after their page views
    /// were inserted).
    pub async fn changed(&self, touched: &Touched) -> Result<()> {
        if touched.is_empty() {
            return Ok(());
        }
        let values: Vec<String> =
            touched.iter().map(|(site, hour)| format!("({}, {hour}, toInt64(now()))", quote(site))).collect();
        let sql = format!("INSERT INTO {}.changes (site, hour, version) VALUES {}", self.db, values.join(", "));
        self.clickhouse.execute(&sql).await.map(drop)
    }

    /// Hours over before `before_ms` whose latest change is settled and
    /// newer than their newest build, oldest first.
    pub async fn dirty_hours(&self, before_ms: i64, limit: usize) -> Result<Vec<DirtyHour>> {
        let sql = format!(
            "SELECT site, hour, changed FROM (
                SELECT site, hour, max(version) AS changed FROM {db}.changes WHERE hour + {HOUR_MS} <= {before_ms}
                GROUP BY site, hour HAVING changed <= toInt64(now()) - {SETTLED_S}
             ) ANY LEFT JOIN (
                SELECT site, start AS hour, max(version) AS built FROM {db}.rollups
                WHERE span = 'hour' AND dimension = 'all' GROUP BY site, hour
             ) USING site, hour
             WHERE built < changed ORDER BY hour, site LIMIT {limit} FORMAT JSONEachRow",
            db = self.db
        );
        let rows = self.clickhouse.rows(&sql).await?;
        rows.iter()
            .map(|row| {
                Ok(DirtyHour {
                    site: text(row, "site")?,
                    hour_ms: number(row, "hour")?,
                    version: number(row, "changed")?,
                })
            })
            .collect()
    }

    /// Writes a build of a span: every row in one insert, at `version`.
    async fn put(&self, site: &str, span: &str, start: i64, version: i64, rows: &[RollupRow]) -> Result<()> {
        let mut body = String::new();
        for row in rows {
            let line = serde_json::json!({
                "site": site, "span": span, "start": start, "dimension": row.dimension,
                "valued": u8::from(row.value.is_some()), "value": row.value.as_deref().unwrap_or_default(),
                "version": version, "stats": hex::encode(&row.stats),
            });
            body.push_str(&line.to_string());
            body.push('\n');
        }
        self.clickhouse.insert(&format!("{}.rollups", self.db), body).await
    }

    /// Stores an hour's rollups at the version its builder read.
    pub async fn put_hour(&self, hour: &DirtyHour, rows: &[RollupRow]) -> Result<()> {
        self.put(&hour.site, "hour", hour.hour_ms, hour.version, rows).await
    }

    /// Days over before `before_ms` whose changed hours are all built,
    /// with changes settled and newer than the day's newest build.
    pub async fn days_to_roll(&self, before_ms: i64, limit: usize) -> Result<Vec<(String, i64)>> {
        let sql = format!(
            "SELECT site, day FROM ({days}) ANY LEFT JOIN (
                SELECT site, start AS day, max(version) AS day_built FROM {db}.rollups
                WHERE span = 'day' AND dimension = 'all' GROUP BY site, day
             ) USING site, day
             WHERE clean = 1 AND day + {DAY_MS} <= {before_ms} AND day_built < day_changed
             AND day_changed <= toInt64(now()) - {SETTLED_S}
             ORDER BY day, site LIMIT {limit} FORMAT JSONEachRow",
            days = self.days("1", before_ms),
            db = self.db
        );
        let rows = self.clickhouse.rows(&sql).await?;
        rows.iter().map(|row| Ok((text(row, "site")?, number(row, "day")?))).collect()
    }

    /// Per site and day before `before_ms` (and matching `condition`): its
    /// latest change (`day_changed`), and whether each of its changed hours
    /// is built at its latest change (`clean`).
    fn days(&self, condition: &str, before_ms: i64) -> String {
        format!(
            "SELECT site, intDiv(hour, {DAY_MS}) * {DAY_MS} AS day, max(changed) AS day_changed,
                min(built >= changed) AS clean FROM (
                SELECT site, hour, max(version) AS changed FROM {db}.changes
                WHERE hour < {before_ms} AND {condition} GROUP BY site, hour
             ) ANY LEFT JOIN (
                SELECT site, start AS hour, max(version) AS built FROM {db}.rollups
                WHERE span = 'hour' AND dimension = 'all' AND {condition} GROUP BY site, hour
             ) USING site, hour GROUP BY site, day",
            db = self.db
        )
    }

    /// Merges a day's hour rollups into its day rollups; `false` when one
    /// of its hours is not built at its latest change.
    pub async fn roll_up_day(&self, site: &str, day_ms: i64, merge: MergeRollups) -> Result<bool> {
        let condition = format!("site = {} AND hour >= {day_ms}", quote(site));
        let state = format!(
            "SELECT day_changed, clean FROM ({}) WHERE day = {day_ms} FORMAT JSONEachRow",
            self.days(&condition, day_ms + DAY_MS)
        );
        let Some(day) = self.clickhouse.rows(&state).await?.into_iter().next() else { return Ok(false) };
        if number(&day, "clean")? != 1 {
            return Ok(false);
        }
        let version = number(&day, "day_changed")?;
        let hours: Vec<i64> = (0..24).map(|h| day_ms + h * HOUR_MS).collect();
        let Some(merged) = merge(self.hour_rows(site, &hours).await?) else {
            tracing::error!(message = "unreadable hour rollup; the day is answered from its hours", site, day_ms);
            return Ok(false);
        };
        self.put(site, "day", day_ms, version, &merged).await?;
        Ok(true)
    }

    /// Every row of the newest builds of the hours starting at `starts`
    /// (sorted): what a day's merge reads.
    async fn hour_rows(&self, site: &str, starts: &[i64]) -> Result<Vec<RollupRow>> {
        let (Some(first), Some(last)) = (starts.first(), starts.last()) else { return Ok(Vec::new()) };
        let listed: Vec<String> = starts.iter().map(i64::to_string).collect();
        let listed = listed.join(", ");
        let sql = format!(
            "SELECT start, dimension, valued, value, any(stats) AS stats FROM {db}.rollups
             WHERE site = {site} AND span = 'hour' AND start IN ({listed})
             AND (start, version) IN ({builds} HAVING start IN ({listed}))
             GROUP BY start, dimension, valued, value FORMAT JSONEachRow",
            db = self.db,
            site = quote(site),
            builds = self.builds(site, "hour", *first, last + 1),
        );
        let rows = self.clickhouse.rows(&sql).await?;
        rows.iter().map(read_row).collect()
    }

    /// The clean spans of `span` (whole spans within `ranges`, each
    /// `[from, to)` on span boundaries) with the rows of one dimension (and
    /// value) of their newest builds, in one query: a span is clean when
    /// its newest build is at least its latest change, and listed by its
    /// `all` row (every build has one; a value may have none).
    async fn clean_rows(
        &self,
        span: &str,
        site: &str,
        dimension: &str,
        value: Option<&str>,
        ranges: &[(i64, i64)],
    ) -> Result<(Vec<i64>, Vec<(i64, RollupRow)>)> {
        if ranges.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let length = if span == "day" { DAY_MS } else { HOUR_MS };
        let within = |column: &str| {
            let parts: Vec<String> =
                ranges.iter().map(|(from, to)| format!("{column} >= {from} AND {column} < {to}")).collect();
            format!("({})", parts.join(" OR "))
        };
        let wanted = match value {
            Some(value) => format!("dimension = {} AND valued = 1 AND value = {}", quote(dimension), quote(value)),
            None => format!("dimension = {}", quote(dimension)),
        };
        let sql = format!(
            "SELECT start, dimension, valued, value, any(stats) AS stats FROM {db}.rollups
             WHERE site = {site} AND span = '{span}' AND ({wanted} OR dimension = 'all') AND {starts}
             AND (start, version) IN (
                SELECT start, built FROM (
                    SELECT start, max(version) AS built FROM {db}.rollups
                    WHERE site = {site} AND span = '{span}' AND dimension = 'all' AND {starts} GROUP BY start
                ) ANY LEFT JOIN (
                    SELECT intDiv(hour, {length}) * {length} AS start, max(version) AS changed FROM {db}.changes
                    WHERE site = {site} AND {hours} GROUP BY start
                ) USING start WHERE built >= changed
             )
             GROUP BY start, dimension, valued, value FORMAT JSONEachRow",
            db = self.db,
            site = quote(site),
            starts = within("start"),
            hours = within("hour"),
        );
        let (mut clean, mut rows) = (Vec::new(), Vec::new());
        for row in self.clickhouse.rows(&sql).await? {
            let start = number(&row, "start")?;
            let found = text(&row, "dimension")?;
            if found == "all" {
                clean.push(start);
            }
            if found == dimension {
                rows.push((start, read_row(&row)?));
            }
        }
        clean.sort_unstable();
        Ok((clean, rows))
    }

    /// The clean spans of a period and their rows: whole clean days (when
    /// `query.days`), then clean hours outside them. Hours in whole days
    /// are read only when their day is not clean.
    pub async fn read(&self, query: &RollupQuery) -> Result<RollupSet> {
        let RollupQuery { site, dimension, from_ms, to_ms, days, .. } = query;
        let value = query.value.as_deref();
        let first_day = from_ms + (DAY_MS - from_ms.rem_euclid(DAY_MS)) % DAY_MS;
        let end_day = to_ms - to_ms.rem_euclid(DAY_MS);
        let whole_days: Vec<(i64, i64)> =
            if *days && first_day < end_day { vec![(first_day, end_day)] } else { Vec::new() };
        // The hours of the period outside its whole days, with the days.
        let edges: Vec<(i64, i64)> = match whole_days.first() {
            Some(_) => [(*from_ms, first_day), (end_day, *to_ms)].into_iter().filter(|(a, b)| a < b).collect(),
            None => vec![(*from_ms, *to_ms)],
        };
        let ((day_spans, day_rows), (mut hour_spans, mut hour_rows)) = tokio::try_join!(
            self.clean_rows("day", site, dimension, value, &whole_days),
            self.clean_rows("hour", site, dimension, value, &edges)
        )?;
        // Then the hours of the whole days that are not clean: the gaps
        // between clean days, as ranges (a query's size does not grow with
        // the period: "all time" is one range when no day is rolled up).
        let dirty_days = if whole_days.is_empty() { Vec::new() } else { gaps(first_day, end_day, &day_spans) };
        if !dirty_days.is_empty() {
            // Past a few ranges, the one range around them all, its hours in
            // clean days left out here.
            let asked = if dirty_days.len() > MAX_RANGES {
                vec![(dirty_days[0].0, dirty_days[dirty_days.len() - 1].1)]
            } else {
                dirty_days.clone()
            };
            let (spans, rows) = self.clean_rows("hour", site, dimension, value, &asked).await?;
            let dirty = |start: &i64| within(&dirty_days, *start);
            hour_spans.extend(spans.into_iter().filter(dirty));
            hour_rows.extend(rows.into_iter().filter(|(start, _)| dirty(start)));
        }
        let mut set = RollupSet { covered: Vec::new(), rows: day_rows };
        set.rows.extend(hour_rows);
        set.covered.extend(day_spans.iter().map(|day| (*day, day + DAY_MS)));
        set.covered.extend(hour_spans.iter().map(|hour| (*hour, hour + HOUR_MS)));
        set.covered.sort_unstable();
        Ok(set)
    }
}

/// Most ranges of a period one rollup query lists; past it, it reads the
/// range around them.
const MAX_RANGES: usize = 16;

/// The days of `[first_day, end_day)` that are not among the sorted `clean`
/// days, as ranges of consecutive days.
fn gaps(first_day: i64, end_day: i64, clean: &[i64]) -> Vec<(i64, i64)> {
    let mut gaps = Vec::new();
    let mut at = first_day;
    for &day in clean.iter().filter(|day| (first_day..end_day).contains(*day)) {
        if day > at {
            gaps.push((at, day));
        }
        at = at.max(day + DAY_MS);
    }
    if at < end_day {
        gaps.push((at, end_day));
    }
    gaps
}

/// Whether `at` is within one of the sorted, disjoint `ranges`.
fn within(ranges: &[(i64, i64)], at: i64) -> bool {
    let next = ranges.partition_point(|(from, _)| *from <= at);
    next > 0 && at < ranges[next - 1].1
}

#[cfg(test)]
mod range_tests {
    use super::*;

    #[test]
    fn dirty_days_are_ranges_between_clean_ones() {
        let day = |n: i64| n * DAY_MS;
        assert_eq!(gaps(day(0), day(10_000), &[]), vec![(day(0), day(10_000))]);
        assert_eq!(gaps(day(0), day(5), &[day(1), day(2), day(4)]), vec![(day(0), day(1)), (day(3), day(4))]);
        assert_eq!(gaps(day(0), day(3), &[day(0), day(1), day(2)]), vec![]);
        let ranges = [(day(0), day(1)), (day(3), day(4))];
        assert!(within(&ranges, day(0)) && within(&ranges, day(3) + 5));
        assert!(!within(&ranges, day(1)) && !within(&ranges, day(4)) && !within(&ranges, -1));
    }
}
