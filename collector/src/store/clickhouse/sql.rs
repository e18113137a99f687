//! The `WHERE` condition of a selection, as ClickHouse SQL: the period and
//! the filters by their columns ([`Selection::filter_columns`]).

use super::http::quote;
use crate::store::{Selection, HOUR_MS};

/// The selection's period alone, for `PREWHERE`: ClickHouse 18.16 does not
/// move conditions there by itself under `FINAL`, and reading an hour of a
/// day's partition then reads the period's column first (a raw hour of
/// 10 million page views: 370 → 60 ms). Filtering before `FINAL` merges is
/// right because every snapshot of a page view has the same start (see
/// `MAX_CLOCK_SKEW_MS` in `ingest::validate`).
///
/// With the hours of the period in the terms of the sorting key: ClickHouse
/// 18.16 does not read a condition on `started_at` through the key's
/// `intDiv`, and would read every granule of the period's days.
pub fn period(selection: &Selection) -> String {
    let (from, to) = (selection.from_ms, selection.to_ms);
    let hour = |ms: i64| ms.div_euclid(HOUR_MS);
    format!(
        "started_at >= {from} AND started_at < {to} AND {HOUR_KEY} >= {} AND {HOUR_KEY} <= {}",
        hour(from),
        hour(to.max(from + 1) - 1)
    )
}

/// The hour of a page view's start, as `pageviews` is sorted by it (after
/// the site). Part of the table's definition: never change it.
pub const HOUR_KEY: &str = "intDiv(started_at, 3600000)";

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
    if selection.answered {
        condition.push_str(" AND feedback_rating IS NOT NULL");
    }
    condition
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_names_the_hours_of_the_sorting_key_it_reads() {
        let within_two_hours = Selection::period("s", 2 * HOUR_MS + 5, 4 * HOUR_MS);
        assert_eq!(
            period(&within_two_hours),
            "started_at >= 7200005 AND started_at < 14400000 \
             AND intDiv(started_at, 3600000) >= 2 AND intDiv(started_at, 3600000) <= 3"
        );
        let empty = Selection::period("s", HOUR_MS, HOUR_MS);
        assert!(period(&empty).ends_with(">= 1 AND intDiv(started_at, 3600000) <= 1"), "{}", period(&empty));
    }
}
