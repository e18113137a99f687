//! The `WHERE` condition of a selection, as ClickHouse SQL: the period and
//! the filters by their columns ([`Selection::filter_columns`]).

use super::http::quote;
use crate::store::Selection;

/// The selection's period alone, for `PREWHERE`: ClickHouse 18.16 does not
/// move conditions there by itself under `FINAL`, and reading an hour of a
/// day's partition then reads the period's column first (a raw hour of
/// 10 million page views: 370 → 60 ms). Filtering before `FINAL` merges is
/// right because every snapshot of a page view has the same start (see
/// `MAX_CLOCK_SKEW_MS` in `ingest::validate`).
pub fn period(selection: &Selection) -> String {
    format!("started_at >= {} AND started_at < {}", selection.from_ms, selection.to_ms)
}

/// The `WHERE` condition of a selection.
pub fn condition(selection: &Selection) -> String {
    let mut condition = format!(
        "site = {} AND started_at >= {} AND started_at < {}",
        quote(&selection.site),
        selection.from_ms,
        selection.to_ms
    );
    for (column, value) in selection.filter_columns() {
        condition.push_str(&format!(" AND {column} = {}", quote(value)));
    }
    condition
}
