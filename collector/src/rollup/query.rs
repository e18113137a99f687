//! Answers a selection from rollups where they can, and from raw rows for
//! the rest, grouped as an endpoint needs.
//!
//! Rollups answer a selection without filters, or with one filter on a
//! rolled-up dimension when the grouping is by that dimension or by none
//! (a path's summary or time series reads the `path` rollups). Whole clean
//! hours come from rollups; the period's partial edge hours, the current
//! hour and hours changed since their rollup are folded from raw rows.
//! Anything else (several filters, tags) is folded from raw rows.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::{stream, StreamExt, TryStreamExt};
use tokio::sync::mpsc;

use super::{named, ALL, PAIR_SEPARATOR};
use crate::error::{AppError, Result};
use crate::grouping::{Dimension, OTHER};
use crate::metrics::Metrics;
use crate::model::PageView;
use crate::stats::{folded_hash, Stats};
use crate::store::{Fields, RolledRow, RollupQuery, Selection, Store, DAY_MS, HOUR_MS, WEEK_MS};

pub use crate::grouping::{GroupKey, Grouping};

/// Raw intervals of one answer read at the same time, at most.
const RAW_READS_AT_ONCE: usize = 4;

impl Grouping {
    /// The rolled-up dimension that answers this grouping, if any.
    fn rollup_dimension(&self) -> Option<&'static str> {
        match self {
            Grouping::Total | Grouping::Interval(_) | Grouping::By(Dimension::HourOfDay) => Some(ALL),
            Grouping::By(dimension) => dimension.named().filter(|n| n.rolled_up).map(|n| n.name),
        }
    }

    /// Whether whole spans of `length` ms (days, weeks) of rollups can
    /// answer it (it needs nothing shorter).
    fn takes(&self, length: i64) -> bool {
        match self {
            Grouping::Total => true,
            Grouping::By(dimension) => *dimension != Dimension::HourOfDay,
            Grouping::Interval(ms) => ms % length == 0,
        }
    }

    fn raw_key(&self, view: &PageView) -> GroupKey {
        match self {
            Grouping::Total => GroupKey::Total,
            Grouping::By(dimension) => GroupKey::Value(dimension.key(view)),
            Grouping::Interval(ms) => GroupKey::Start(view.started_at - view.started_at.rem_euclid(*ms)),
        }
    }

    /// The key of a rollup row of the span starting at `hour_ms` (an hour,
    /// or a day or a week when the grouping [`takes`](Self::takes) them).
    fn rollup_key(&self, hour_ms: i64, value: Option<String>) -> GroupKey {
        match self {
            Grouping::Total => GroupKey::Total,
            Grouping::By(Dimension::HourOfDay) => {
                GroupKey::Value(Some((hour_ms.rem_euclid(86_400_000) / HOUR_MS).to_string()))
            }
            Grouping::By(_) => GroupKey::Value(value),
            Grouping::Interval(ms) => GroupKey::Start(hour_ms - hour_ms.rem_euclid(*ms)),
        }
    }
}

/// A breakdown under a filter on another dimension, read from the rows of
/// every value of their pair's rollup: the filter's value, and whether the
/// breakdown's dimension is the pair's first part.
type Under = (String, bool);

/// Which rollups answer `selection` grouped by `grouping`: the rollup, the
/// value to keep and, for a breakdown under a filter on another dimension,
/// which of its pair's rows to keep ([`Under`]); `None` when only raw rows
/// can.
fn plan(selection: &Selection, grouping: &Grouping) -> Option<(&'static str, Option<String>, Option<Under>)> {
    let dimension = grouping.rollup_dimension()?;
    match selection.filter_columns().collect::<Vec<_>>().as_slice() {
        [] => Some((dimension, None, None)),
        // A filtered hour-of-day breakdown would need both; raw rows answer it.
        _ if matches!(grouping, Grouping::By(Dimension::HourOfDay)) => None,
        [(name, value)] if dimension == ALL || dimension == *name => Some((*name, Some(value.to_string()), None)),
        // A breakdown under a filter on another dimension (the paths of one
        // route): their pair's rows of that filter value.
        [(name, value)] => {
            let Grouping::By(by) = grouping else { return None };
            let by = by.column()?;
            let (pair, first) = [(format!("{by}+{name}"), true), (format!("{name}+{by}"), false)]
                .into_iter()
                .find_map(|(pair, first)| Some((named(&pair)?, first)))?;
            Some((pair.name.as_str(), None, Some((value.to_string(), first))))
        }
        // Two filters: their pair's rollups (a summary or a time series).
        [(a, first), (b, second)] if dimension == ALL => {
            let pair = named(&format!("{a}+{b}"))?;
            Some((pair.name.as_str(), Some([*first, *second].join(PAIR_SEPARATOR)), None))
        }
        _ => None,
    }
}

/// Of a pair rollup row's value, the part of the breakdown's dimension when
/// the filter's part is the one wanted ([`Under`]); `None` for any other
/// row, the pair's other values ([`OTHER`], no separator) included.
fn picked(under: &Under, value: Option<String>) -> Option<String> {
    let (wanted, first) = under;
    let (a, b) = value.as_deref()?.split_once(PAIR_SEPARATOR)?;
    let (mine, theirs) = if *first { (a, b) } else { (b, a) };
    (theirs == wanted).then(|| mine.to_string())
}

/// The whole hours of `[from, to)`: the first hour that starts in it, and
/// the end of the last one that ends in it.
fn whole_hours(selection: &Selection) -> (i64, i64) {
    let (from, to) = (selection.from_ms, selection.to_ms);
    (from + (HOUR_MS - from.rem_euclid(HOUR_MS)) % HOUR_MS, to - to.rem_euclid(HOUR_MS))
}

/// The stats of the selected page views, per group. Counts the rolled-up
/// hours and raw rows it read in `metrics`.
///
/// The period's partial first and last hours are never rolled up: they are
/// read raw while the rollups are read; the hours the rollups leave out
/// (changed since their build) are read after.
pub async fn grouped(
    store: &Arc<dyn Store>,
    metrics: &Metrics,
    selection: &Selection,
    grouping: &Grouping,
) -> Result<BTreeMap<GroupKey, Stats>> {
    let (from, to) = (selection.from_ms, selection.to_ms);
    let (first_hour, end_hour) = whole_hours(selection);
    let planned = plan(selection, grouping).filter(|_| first_hour < end_hour);
    let edges: Vec<(i64, i64)> = match planned {
        Some(_) => [(from, first_hour), (end_hour, to)].into_iter().filter(|(a, b)| a < b).collect(),
        None => vec![(from, to)],
    };
    let under = planned.as_ref().and_then(|(.., under)| under.clone());
    let rollups = async {
        let Some((dimension, value, _)) = planned else { return Ok(None) };
        let site = selection.site.clone();
        let (days, weeks) = (grouping.takes(DAY_MS), grouping.takes(WEEK_MS) && value.is_none());
        let query = RollupQuery { site, dimension, value, from_ms: first_hour, to_ms: end_hour, days, weeks };
        read_rollups(store, metrics, query).await.map(Some)
    };
    let (rollups, mut folded) = tokio::try_join!(rollups, fold_parts(store, selection, grouping, edges))?;
    let mut groups: BTreeMap<GroupKey, Stats> = BTreeMap::new();
    if let Some(Rolled { covered, rows }) = rollups {
        for (start, value, mut stats) in rows {
            let value = match &under {
                Some(under) => match picked(under, value) {
                    Some(value) => Some(value),
                    None => continue,
                },
                None => value,
            };
            // What an hour folded matters only to the read above.
            stats.folded = Vec::new();
            match groups.entry(grouping.rollup_key(start, value)) {
                Entry::Vacant(entry) => drop(entry.insert(stats)),
                Entry::Occupied(mut entry) => entry.get_mut().merge(&stats),
            }
        }
        metrics.query_rollup_hours.inc_by(covered.iter().map(|(a, b)| ((b - a) / HOUR_MS) as u64).sum());
        let left_out = raw_intervals(first_hour, end_hour, &covered);
        folded.extend(fold_parts(store, selection, grouping, left_out).await?);
    }
    let mut raw_rows = 0;
    for (part, rows) in folded {
        raw_rows += rows;
        for (key, stats) in part {
            groups.entry(key).or_default().merge(&stats);
        }
    }
    metrics.query_raw_rows.inc_by(raw_rows);
    Ok(groups)
}

/// Rollups read and decoded: the spans they answer, and their rows.
struct Rolled {
    covered: Vec<(i64, i64)>,
    rows: Vec<RolledRow>,
}

/// The rollups of `query`, decoded. For one value (a filter): an hour
/// row of the value holds it whole, and so does a day row unless it is
/// [`partial`](Stats::partial). A span without a whole row of the value
/// either did not see it or folded it into its other values ([`OTHER`]):
/// without an other row it did not see it; an hour's other row lists what
/// it folded, and an hour that may hold the value is left out (read raw); a
/// day with an other row is answered from its hours. A popular value reads
/// only its own rows; a value that is nowhere reads the other rows once.
async fn read_rollups(store: &Arc<dyn Store>, metrics: &Metrics, query: RollupQuery) -> Result<Rolled> {
    let set = store.rollups(query.clone()).await?;
    let mut rows = set.rows;
    let mut covered = set.covered;
    let Some(value) = query.value.clone() else { return Ok(Rolled { covered, rows }) };
    let lacking = |rows: &[RolledRow], covered: &[(i64, i64)]| -> Vec<(i64, i64)> {
        covered.iter().filter(|(a, _)| !rows.iter().any(|r| r.0 == *a && !r.2.partial)).copied().collect()
    };
    let mut unsure = lacking(&rows, &covered);
    if unsure.is_empty() {
        return Ok(Rolled { covered, rows });
    }
    let hash = folded_hash(&value);
    let others = |from_ms, to_ms, days| {
        let query = RollupQuery { value: Some(OTHER.to_string()), from_ms, to_ms, days, ..query.clone() };
        async move { Ok::<_, AppError>(store.rollups(query).await?.rows) }
    };
    let mut other_rows = others(query.from_ms, query.to_ms, query.days).await?;
    let mut partial = 0u64;
    for _ in 0..2 {
        let folding = |start: i64| other_rows.iter().find(|r| r.0 == start).map(|r| &r.2);
        let mut days = Vec::new();
        let mut left_out = Vec::new();
        for (start, end) in &unsure {
            match folding(*start) {
                // Nothing folded here: the value was not seen.
                None => {}
                // An hour lists what it folded.
                Some(other) if end - start == HOUR_MS && other.may_hold(hash) => left_out.push(*start),
                Some(_) if end - start == HOUR_MS => {}
                Some(_) => days.push(*start),
            }
        }
        partial += (days.len() + left_out.len()) as u64;
        rows.retain(|(start, ..)| !days.contains(start) && !left_out.contains(start));
        covered.retain(|(start, _)| !days.contains(start) && !left_out.contains(start));
        if days.is_empty() {
            break;
        }
        // The days' hours instead, and their other rows.
        let mut hours_covered = Vec::new();
        for day in &days {
            let hours = RollupQuery { from_ms: *day, to_ms: day + DAY_MS, days: false, ..query.clone() };
            let set = store.rollups(hours).await?;
            let hour_rows = set.rows;
            hours_covered.extend(lacking(&hour_rows, &set.covered));
            rows.extend(hour_rows);
            covered.extend(set.covered);
        }
        unsure = hours_covered;
        let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else { break };
        other_rows = others(*first, last + DAY_MS, false).await?;
    }
    metrics.query_partial_spans.inc_by(partial);
    covered.sort_unstable();
    Ok(Rolled { covered, rows })
}

/// The raw page views of each interval of `intervals`, grouped, with how
/// many there were: the intervals read at the same time (on ClickHouse
/// each is a query of its own), each into stats of its own.
async fn fold_parts(
    store: &Arc<dyn Store>,
    selection: &Selection,
    grouping: &Grouping,
    intervals: Vec<(i64, i64)>,
) -> Result<Vec<(BTreeMap<GroupKey, Stats>, u64)>> {
    // What the stats read, and the grouping's key.
    let fields = Fields::Stats(match grouping {
        Grouping::By(dimension) => dimension.key_columns(),
        Grouping::Total | Grouping::Interval(_) => &[],
    });
    let parts = intervals.into_iter().map(|(from_ms, to_ms)| {
        let part = Selection { from_ms, to_ms, fields, ..selection.clone() };
        async move {
            let (mut groups, mut rows) = (BTreeMap::<GroupKey, Stats>::new(), 0u64);
            fold_raw(store, part, |view| {
                rows += 1;
                groups.entry(grouping.raw_key(view)).or_default().add(view)
            })
            .await?;
            Ok::<_, AppError>((groups, rows))
        }
    });
    stream::iter(parts).buffer_unordered(RAW_READS_AT_ONCE).try_collect().await
}

/// The stats of every selected page view together.
pub async fn total(store: &Arc<dyn Store>, metrics: &Metrics, selection: &Selection) -> Result<Stats> {
    let mut groups = grouped(store, metrics, selection, &Grouping::Total).await?;
    Ok(groups.remove(&GroupKey::Total).unwrap_or_default())
}

/// The stats of the selected page views per value of `dimension`
/// (`None`: page views without one). A breakdown under a filter on another
/// dimension (the paths of one route) reads their pair's rollups, whose
/// rows leave out what an hour folded into the pair's other values and the
/// page views without a value of the dimension: the filter's total less the
/// groups holds them, under [`OTHER`], in counts only
/// ([`Stats::remainder`]): the breakdown's other row then has shares but no
/// percentiles.
pub async fn by_value(
    store: &Arc<dyn Store>,
    metrics: &Metrics,
    selection: &Selection,
    dimension: Dimension,
) -> Result<BTreeMap<Option<String>, Stats>> {
    let grouping = Grouping::By(dimension);
    let (first_hour, end_hour) = whole_hours(selection);
    let under = first_hour < end_hour && plan(selection, &grouping).is_some_and(|(.., under)| under.is_some());
    let whole = async {
        match under {
            true => total(store, metrics, selection).await.map(Some),
            false => Ok(None),
        }
    };
    let (groups, whole) = tokio::try_join!(grouped(store, metrics, selection, &grouping), whole)?;
    let mut groups: BTreeMap<Option<String>, Stats> = groups
        .into_iter()
        .filter_map(|(key, stats)| match key {
            GroupKey::Value(value) => Some((value, stats)),
            _ => None,
        })
        .collect();
    if let Some(whole) = whole {
        let rest = Stats::remainder(&whole, groups.values());
        if rest.page_views > 0 {
            groups.insert(Some(OTHER.to_string()), rest);
        }
    }
    Ok(groups)
}

/// The parts of `[from, to)` not covered by the sorted, disjoint `covered` spans.
fn raw_intervals(from: i64, to: i64, covered: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut intervals = Vec::new();
    let mut start = from;
    for &(span_start, span_end) in covered {
        if start < span_start {
            intervals.push((start, span_start));
        }
        start = start.max(span_end);
    }
    if start < to {
        intervals.push((start, to));
    }
    intervals
}

/// Feeds every selected raw page view to `add`.
pub async fn fold_raw(store: &Arc<dyn Store>, selection: Selection, mut add: impl FnMut(&PageView)) -> Result<()> {
    let (sink, mut chunks) = mpsc::channel::<Vec<PageView>>(4);
    let reader = {
        let store = store.clone();
        tokio::spawn(async move { store.export(selection, sink).await })
    };
    while let Some(chunk) = chunks.recv().await {
        chunk.iter().for_each(&mut add);
    }
    reader.await.map_err(|e| AppError::Internal(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_rows_cover_what_clean_hours_do_not() {
        let h = HOUR_MS;
        let hours = |starts: &[i64]| starts.iter().map(|s| (*s, s + h)).collect::<Vec<_>>();
        assert_eq!(raw_intervals(0, 5 * h, &[]), [(0, 5 * h)]);
        assert_eq!(raw_intervals(10, 5 * h, &hours(&[h, 2 * h, 4 * h])), [(10, h), (3 * h, 4 * h)]);
        assert_eq!(raw_intervals(h, 3 * h, &hours(&[h, 2 * h])), []);
        assert_eq!(raw_intervals(0, 30 * h, &[(0, 24 * h), (25 * h, 26 * h)]), [(24 * h, 25 * h), (26 * h, 30 * h)]);
    }

    #[test]
    fn rollups_answer_no_filter_or_one_matching_filter() {
        let mut selection = Selection::period("s", 0, HOUR_MS);
        assert_eq!(plan(&selection, &Grouping::Total), Some((ALL, None, None)));
        assert_eq!(plan(&selection, &Grouping::By(Dimension::Device)), Some(("device", None, None)));
        assert_eq!(plan(&selection, &Grouping::By(Dimension::Tag("ab".into()))), None);
        selection = selection.with(Dimension::Path, "/cart").unwrap();
        assert_eq!(plan(&selection, &Grouping::Interval(HOUR_MS)), Some(("path", Some("/cart".into()), None)));
        assert_eq!(plan(&selection, &Grouping::By(Dimension::Path)), Some(("path", Some("/cart".into()), None)));
        let under = Some(("path+device", None, Some(("/cart".to_string(), false))));
        assert_eq!(plan(&selection, &Grouping::By(Dimension::Device)), under, "devices of a path: the pair's rows");
        assert_eq!(picked(&("/cart".into(), false), Some("/cart\u{1f}mobile".into())), Some("mobile".into()));
        assert_eq!(picked(&("/cart".into(), false), Some("/home\u{1f}mobile".into())), None, "another path");
        assert_eq!(picked(&("/cart".into(), false), Some(OTHER.into())), None, "the pair's other values");
        selection = selection.with(Dimension::Device, "mobile").unwrap();
        let pair = Some(("path+device", Some("/cart\u{1f}mobile".to_string()), None));
        assert_eq!(plan(&selection, &Grouping::Total), pair, "two filters: their pair's rollups");
        assert_eq!(plan(&selection, &Grouping::Interval(DAY_MS)), pair);
        assert_eq!(plan(&selection, &Grouping::By(Dimension::Device)), None, "a breakdown under two filters: raw");
        selection = selection.with(Dimension::Os, "iOS").unwrap();
        assert_eq!(plan(&selection, &Grouping::Total), None, "three filters: raw");
    }
}
