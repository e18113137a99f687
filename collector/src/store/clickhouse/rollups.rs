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
use super::rows::{bytes, take};
use crate::error::{AppError, Result};
use crate::stats::Stats;
use crate::store::{
    DirtyHour, MergeRollups, Merged, RolledRow, RollupQuery, RollupRow, RollupSet, DAY_MS, HOUR_MS, WEEK_MS,
};

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

/// One row of a rollup `SELECT start, dimension, valued, value, stats`
/// answered in RowBinary: `(start, dimension, value, stats)`, the stats as
/// stored ([`Stats::encode`]d bytes); `Ok(None)` when `input` ends first.
#[allow(clippy::type_complexity)]
fn binary_row<'a>(input: &mut &'a [u8]) -> Result<Option<(i64, &'a [u8], Option<&'a [u8]>, &'a [u8])>> {
    let Some(start) = take(input, 8) else { return Ok(None) };
    let start = i64::from_le_bytes(start.try_into().map_err(|_| AppError::Internal("unreadable rollup row".into()))?);
    let (Some(dimension), Some(valued), Some(value), Some(stats)) =
        (bytes(input), take(input, 1), bytes(input), bytes(input))
    else {
        return Ok(None);
    };
    Ok(Some((start, dimension, (valued[0] == 1).then_some(value), stats)))
}

/// Reads a rollup `SELECT` answered in RowBinary as it arrives, calling
/// `each` with every row (see [`binary_row`]).
async fn read_binary(
    clickhouse: &ClickHouse,
    sql: &str,
    mut each: impl FnMut(i64, &[u8], Option<&[u8]>, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut answer = clickhouse.answer(sql).await?;
    let mut pending = Vec::new();
    let mut more = true;
    while more {
        more = answer.append_to(&mut pending).await?;
        let mut input = pending.as_slice();
        let mut used = 0;
        while let Some((start, dimension, value, stats)) = binary_row(&mut input)? {
            used = pending.len() - input.len();
            each(start, dimension, value, stats)?;
        }
        pending.drain(..used);
    }
    if pending.is_empty() {
        return Ok(());
    }
    let tail = String::from_utf8_lossy(&pending[..pending.len().min(300)]).into_owned();
    Err(AppError::Unavailable(format!("ClickHouse rollup answer cut short: {tail}")))
}

fn unreadable(start: i64) -> AppError {
    AppError::Internal(format!("unreadable ClickHouse rollup row of {start}"))
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
        // RowBinary, in the table's column order: the stats as they are,
        // not as text (half the bytes to store, read and send).
        fn string(body: &mut Vec<u8>, bytes: &[u8]) {
            let mut n = bytes.len();
            while n >= 0x80 {
                body.push((n as u8) | 0x80);
                n >>= 7;
            }
            body.push(n as u8);
            body.extend_from_slice(bytes);
        }
        let mut body = Vec::new();
        for row in rows {
            string(&mut body, site.as_bytes());
            string(&mut body, span.as_bytes());
            body.extend_from_slice(&start.to_le_bytes());
            string(&mut body, row.dimension.as_bytes());
            body.push(u8::from(row.value.is_some()));
            string(&mut body, row.value.as_deref().unwrap_or_default().as_bytes());
            body.extend_from_slice(&version.to_le_bytes());
            string(&mut body, &row.stats);
        }
        self.clickhouse.insert_binary(&format!("{}.rollups", self.db), body).await
    }

    /// Stores an hour's rollups at the version its builder read.
    pub async fn put_hour(&self, hour: &DirtyHour, rows: &[RollupRow]) -> Result<()> {
        self.put(&hour.site, "hour", hour.hour_ms, hour.version, rows).await
    }

    /// Spans of `span` over before `before_ms` ready to build: a day whose
    /// changed hours are all built, a week whose 7 days are all built, with
    /// changes settled and newer than the span's newest build.
    pub async fn to_roll(&self, span: Merged, before_ms: i64, limit: usize) -> Result<Vec<(String, i64)>> {
        let sql = format!(
            "SELECT site, start FROM ({spans}) ANY LEFT JOIN (
                SELECT site, start, max(version) AS span_built FROM {db}.rollups
                WHERE span = '{name}' AND dimension = 'all' GROUP BY site, start
             ) USING site, start
             WHERE ready = 1 AND start + {length} <= {before_ms} AND span_built < span_changed
             AND span_changed <= toInt64(now()) - {SETTLED_S}
             ORDER BY start, site LIMIT {limit} FORMAT JSONEachRow",
            spans = self.spans(span, "1", before_ms),
            db = self.db,
            name = span.name(),
            length = span.ms(),
        );
        let rows = self.clickhouse.rows(&sql).await?;
        rows.iter().map(|row| Ok((text(row, "site")?, number(row, "start")?))).collect()
    }

    /// Per site and span of `span` before `before_ms` (and matching
    /// `condition`, on `hour`): its latest change (`span_changed`), and
    /// whether it is ready to build (`ready`): a day when each of its
    /// changed hours is built at its latest change, a week when each of its
    /// 7 days is (a week of a day without changes is left to its days).
    fn spans(&self, span: Merged, condition: &str, before_ms: i64) -> String {
        let days = format!(
            "SELECT site, intDiv(hour, {DAY_MS}) * {DAY_MS} AS day, max(changed) AS day_changed,
                min(built >= changed) AS clean FROM (
                SELECT site, hour, max(version) AS changed FROM {db}.changes
                WHERE hour < {before_ms} AND {condition} GROUP BY site, hour
             ) ANY LEFT JOIN (
                SELECT site, start AS hour, max(version) AS built FROM {db}.rollups
                WHERE span = 'hour' AND dimension = 'all' AND {condition} GROUP BY site, hour
             ) USING site, hour GROUP BY site, day",
            db = self.db
        );
        match span {
            Merged::Day => {
                format!("SELECT site, day AS start, day_changed AS span_changed, clean AS ready FROM ({days})")
            }
            Merged::Week => format!(
                "SELECT site, intDiv(day, {WEEK_MS}) * {WEEK_MS} AS start, max(day_changed) AS span_changed,
                    min(clean AND day_built >= day_changed) * (count() = 7) AS ready
                 FROM ({days}) ANY LEFT JOIN (
                    SELECT site, start AS day, max(version) AS day_built FROM {db}.rollups
                    WHERE span = 'day' AND dimension = 'all' GROUP BY site, day
                 ) USING site, day GROUP BY site, start",
                db = self.db
            ),
        }
    }

    /// Merges a span's parts' rollups into its rollups; `false` when one of
    /// its parts is not built at its latest change.
    pub async fn roll_up(&self, span: Merged, site: &str, start: i64, merge: MergeRollups) -> Result<bool> {
        let condition = format!("site = {} AND hour >= {start}", quote(site));
        let state = format!(
            "SELECT span_changed, ready FROM ({}) WHERE start = {start} FORMAT JSONEachRow",
            self.spans(span, &condition, start + span.ms())
        );
        let Some(state) = self.clickhouse.rows(&state).await?.into_iter().next() else { return Ok(false) };
        if number(&state, "ready")? != 1 {
            return Ok(false);
        }
        let version = number(&state, "span_changed")?;
        let (part, length) = match span {
            Merged::Day => ("hour", HOUR_MS),
            Merged::Week => ("day", DAY_MS),
        };
        let parts: Vec<i64> = (0..span.ms() / length).map(|n| start + n * length).collect();
        let Some(merged) = merge(self.span_rows(part, site, &parts).await?) else {
            tracing::error!(
                message = "unreadable rollup; the span is answered from its parts",
                site,
                start,
                span = span.name()
            );
            return Ok(false);
        };
        self.put(site, span.name(), start, version, &merged).await?;
        Ok(true)
    }

    /// Every row of the newest builds of the spans of `span` (`hour`,
    /// `day`) starting at `starts` (sorted): what a merge reads.
    async fn span_rows(&self, span: &str, site: &str, starts: &[i64]) -> Result<Vec<RollupRow>> {
        let (Some(first), Some(last)) = (starts.first(), starts.last()) else { return Ok(Vec::new()) };
        let listed: Vec<String> = starts.iter().map(i64::to_string).collect();
        let listed = listed.join(", ");
        let sql = format!(
            "SELECT start, dimension, valued, value, any(stats) AS stats FROM {db}.rollups
             WHERE site = {site} AND span = '{span}' AND start IN ({listed})
             AND (start, version) IN ({builds} HAVING start IN ({listed}))
             GROUP BY start, dimension, valued, value FORMAT RowBinary",
            db = self.db,
            site = quote(site),
            builds = self.builds(site, span, *first, last + 1),
        );
        let mut rows = Vec::new();
        read_binary(self.clickhouse, &sql, |_, dimension, value, stats| {
            let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
            rows.push(RollupRow { dimension: text(dimension), value: value.map(text), stats: stats.to_vec() });
            Ok(())
        })
        .await?;
        Ok(rows)
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
    ) -> Result<(Vec<i64>, Vec<RolledRow>)> {
        if ranges.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let length = match span {
            "week" => WEEK_MS,
            "day" => DAY_MS,
            _ => HOUR_MS,
        };
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
             GROUP BY start, dimension, valued, value FORMAT RowBinary",
            db = self.db,
            site = quote(site),
            starts = within("start"),
            hours = within("hour"),
        );
        // Read as bytes and decoded as they arrive: no text form of a
        // hundred thousand sketches to parse.
        let (mut clean, mut rows) = (Vec::new(), Vec::new());
        read_binary(self.clickhouse, &sql, |start, found, value, stats| {
            if found == b"all" {
                clean.push(start);
            }
            if found == dimension.as_bytes() {
                let stats = Stats::decode(stats).ok_or_else(|| unreadable(start))?;
                rows.push((start, value.map(|v| String::from_utf8_lossy(v).into_owned()), stats));
            }
            Ok(())
        })
        .await?;
        clean.sort_unstable();
        Ok((clean, rows))
    }

    /// The clean spans of a period and their rows: whole clean weeks (when
    /// `query.weeks`), whole clean days outside them (when `query.days`),
    /// then clean hours outside both. The spans of a longer kind that are
    /// not clean are read as the spans of the next kind: first the edges of
    /// each kind at once, then the parts of what was not clean.
    pub async fn read(&self, query: &RollupQuery) -> Result<RollupSet> {
        let RollupQuery { site, dimension, from_ms, to_ms, days, weeks, .. } = query;
        let value = query.value.as_deref();
        let whole = |length: i64, from: i64, to: i64| {
            let (first, end) = (from + (length - from.rem_euclid(length)) % length, to - to.rem_euclid(length));
            (first < end).then_some((first, end))
        };
        let day_range = whole(DAY_MS, *from_ms, *to_ms).filter(|_| *days);
        let week_range = day_range.and_then(|(first, end)| whole(WEEK_MS, first, end)).filter(|_| *weeks);
        // The parts of `outer` outside `inner` (both `[from, to)`).
        let around = |outer: (i64, i64), inner: Option<(i64, i64)>| -> Vec<(i64, i64)> {
            match inner {
                Some((first, end)) => [(outer.0, first), (end, outer.1)].into_iter().filter(|(a, b)| a < b).collect(),
                None => vec![outer],
            }
        };
        let day_edges = day_range.map(|range| around(range, week_range)).unwrap_or_default();
        let hour_edges = around((*from_ms, *to_ms), day_range);
        let ((week_spans, week_rows), (mut day_spans, mut day_rows), (mut hour_spans, mut hour_rows)) = tokio::try_join!(
            self.clean_rows("week", site, dimension, value, week_range.as_slice()),
            self.clean_rows("day", site, dimension, value, &day_edges),
            self.clean_rows("hour", site, dimension, value, &hour_edges)
        )?;
        let weeks_covered: Vec<(i64, i64)> = week_spans.iter().map(|w| (*w, w + WEEK_MS)).collect();
        // The days of the weeks that are not clean.
        if let Some((first, end)) = week_range {
            let dirty_weeks = gaps(first, end, &weeks_covered);
            let (spans, rows) = self.clean_rows("day", site, dimension, value, &dirty_weeks).await?;
            day_spans.extend(spans);
            day_rows.extend(rows);
            day_spans.sort_unstable();
        }
        // Then the hours of the days that are not clean, outside clean
        // weeks: the gaps between them, as ranges (a query's size does not
        // grow with the period: "all time" is one range when nothing is
        // rolled up).
        let mut covered: Vec<(i64, i64)> = day_spans.iter().map(|d| (*d, d + DAY_MS)).collect();
        covered.extend(&weeks_covered);
        covered.sort_unstable();
        let dirty_days = day_range.map(|(first, end)| gaps(first, end, &covered)).unwrap_or_default();
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
            hour_rows.extend(rows.into_iter().filter(|(start, ..)| dirty(start)));
        }
        covered.extend(hour_spans.iter().map(|hour| (*hour, hour + HOUR_MS)));
        covered.sort_unstable();
        let mut rows = week_rows;
        rows.extend(day_rows);
        rows.extend(hour_rows);
        Ok(RollupSet { covered, rows })
    }
}

/// Most ranges of a period one rollup query lists; past it, it reads the
/// range around them.
const MAX_RANGES: usize = 16;

/// The parts of `[from, to)` outside the sorted, disjoint `clean` spans,
/// as ranges.
fn gaps(from: i64, to: i64, clean: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut gaps = Vec::new();
    let mut at = from;
    for &(start, end) in clean.iter().filter(|(start, _)| (from..to).contains(start)) {
        if start > at {
            gaps.push((at, start));
        }
        at = at.max(end);
    }
    if at < to {
        gaps.push((at, to));
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
        let days = |starts: &[i64]| starts.iter().map(|n| (day(*n), day(n + 1))).collect::<Vec<_>>();
        assert_eq!(gaps(day(0), day(10_000), &[]), vec![(day(0), day(10_000))]);
        assert_eq!(gaps(day(0), day(5), &days(&[1, 2, 4])), vec![(day(0), day(1)), (day(3), day(4))]);
        assert_eq!(gaps(day(0), day(3), &days(&[0, 1, 2])), vec![]);
        assert_eq!(
            gaps(day(0), day(21), &[(day(7), day(14)), (day(15), day(16))]),
            vec![(day(0), day(7)), (day(14), day(15)), (day(16), day(21))]
        );
        let ranges = [(day(0), day(1)), (day(3), day(4))];
        assert!(within(&ranges, day(0)) && within(&ranges, day(3) + 5));
        assert!(!within(&ranges, day(1)) && !within(&ranges, day(4)) && !within(&ranges, -1));
    }
}
