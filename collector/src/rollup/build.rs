//! Builds the rollups of changed hours in the background. An hour is
//! rolled up once it is over; ingest marks hours changed in the same
//! transaction that stores the page views, with a version, and a rollup
//! marks its hour clean only if no page view came in while it was built.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::query::fold_raw;
use super::ROLLUPS;
use crate::error::Result;
use crate::grouping::OTHER;
use crate::metrics::Metrics;
use crate::model::now_ms;
use crate::stats::{folded_hash, value_hash, Stats};
use crate::store::{DirtyHour, Fields, Merged, RollupRow, Selection, Store, HOUR_MS};
use crate::workers::Workers;

/// Hours rolled up per round.
const HOURS_PER_ROUND: usize = 64;

/// Rolls up every changed hour that ended before `before_ms`, then merges
/// the days that are over and whose hours are all rolled up; returns how
/// many hours it rolled up.
pub async fn catch_up(store: &Arc<dyn Store>, before_ms: i64) -> Result<usize> {
    catch_up_paced(store, before_ms, &mut Pacing::none()).await
}

/// When hours were last built, so that an hour changed again soon after
/// its build (late beacons dated in a past hour) is built again at most
/// once per `gap`: until then it is answered from raw rows, exactly.
#[derive(Debug)]
pub struct Pacing {
    gap: Duration,
    built: HashMap<(String, i64), Instant>,
}

impl Pacing {
    /// Every hour is built as soon as it changed (the `rollup` command).
    pub fn none() -> Pacing {
        Pacing { gap: Duration::ZERO, built: HashMap::new() }
    }

    /// Hours are built again at most once per `gap`.
    pub fn every(gap: Duration) -> Pacing {
        Pacing { gap, built: HashMap::new() }
    }

    fn waits(&self, hour: &DirtyHour) -> bool {
        self.built.get(&(hour.site.clone(), hour.hour_ms)).is_some_and(|at| at.elapsed() < self.gap)
    }

    fn record(&mut self, hour: &DirtyHour) {
        if !self.gap.is_zero() {
            let gap = self.gap;
            self.built.retain(|_, at| at.elapsed() < gap);
            self.built.insert((hour.site.clone(), hour.hour_ms), Instant::now());
        }
    }
}

/// [`catch_up`], building no hour again within `pacing`'s gap. When every
/// changed hour of a round waits, the round ends (they are built once
/// their gap has passed; newer changed hours wait as long at most).
async fn catch_up_paced(store: &Arc<dyn Store>, before_ms: i64, pacing: &mut Pacing) -> Result<usize> {
    let mut done = 0;
    loop {
        let hours = store.dirty_hours(before_ms, HOURS_PER_ROUND).await?;
        let due: Vec<DirtyHour> = hours.into_iter().filter(|hour| !pacing.waits(hour)).collect();
        if due.is_empty() {
            break;
        }
        for hour in due {
            pacing.record(&hour);
            build_hour(store, hour).await?;
            done += 1;
        }
    }
    // Then the days of the hours, then the weeks of the days.
    for span in [Merged::Day, Merged::Week] {
        loop {
            let spans = store.to_roll(span, before_ms, HOURS_PER_ROUND).await?;
            let mut merged = 0;
            for (site, start) in &spans {
                merged += usize::from(store.roll_up(span, site, *start, merge_rows).await?);
            }
            // Spans that changed meanwhile are left to the next round.
            if spans.is_empty() || merged == 0 {
                break;
            }
        }
    }
    Ok(done)
}

/// Values of each rollup a day (or a week) keeps, the most viewed of its
/// parts' kept values; the rest join the span's [`OTHER`] row.
pub const KEPT_DAY_VALUES: usize = 200;

/// Merges rows of the same dimension and value into one, marks the values
/// some hour folded as [`partial`](Stats::partial), then keeps the
/// [`KEPT_DAY_VALUES`] most viewed values of each dimension and folds the
/// rest into its [`OTHER`] row (which lists no hashes: a query for a value
/// without a whole day row reads the day's hours); `None` if a row cannot
/// be read. A week merges its days' rows the same way; its rows answer
/// only queries of every value (see [`RollupQuery::weeks`](crate::store::RollupQuery::weeks)),
/// so that no week needs to know which values are whole.
fn merge_rows(rows: Vec<RollupRow>) -> Option<Vec<RollupRow>> {
    let mut merged: BTreeMap<(String, Option<String>), Stats> = BTreeMap::new();
    for row in rows {
        merged.entry((row.dimension, row.value)).or_default().merge(&Stats::decode(&row.stats)?);
    }
    let mut by_dimension: BTreeMap<String, Vec<(Option<String>, Stats)>> = BTreeMap::new();
    for ((dimension, value), stats) in merged {
        by_dimension.entry(dimension).or_default().push((value, stats));
    }
    let mut out = Vec::new();
    for (dimension, mut values) in by_dimension {
        let other_at = values.iter().position(|(v, _)| v.as_deref() == Some(OTHER));
        let mut other = other_at.map(|at| values.swap_remove(at).1);
        // A value some hour folded is not whole in its day row. The day
        // keeps no list of its own: a query for a value without a whole day
        // row reads the day's hours, which have theirs.
        if let Some(other) = &mut other {
            let folded = std::mem::take(&mut other.folded);
            for (value, stats) in &mut values {
                if let Some(value) = value {
                    stats.partial = folded.binary_search(&folded_hash(value)).is_ok();
                }
            }
        }
        // Page views without a value are a group of their own, always kept.
        let none_at = values.iter().position(|(v, _)| v.is_none());
        let none = none_at.map(|at| values.swap_remove(at));
        if values.len() > KEPT_DAY_VALUES {
            values.sort_by(|a, b| b.1.page_views.cmp(&a.1.page_views).then_with(|| a.0.cmp(&b.0)));
            let other = other.get_or_insert_with(Stats::default);
            for (_, stats) in values.drain(KEPT_DAY_VALUES..) {
                other.merge(&stats);
            }
            other.partial = false;
        }
        let other = other.map(|stats| (Some(OTHER.to_string()), stats));
        out.extend(values.into_iter().chain(none).chain(other).map(|(value, stats)| RollupRow {
            dimension: dimension.clone(),
            value,
            stats: stats.encode(),
        }));
    }
    Some(out)
}

/// Rolls up changed hours every `every`, until the collector stops (between
/// two rounds: an hour is rolled up whole or not at all); an hour is built
/// again at most once per `rebuild_gap` (see [`Pacing`]). Counts the hours
/// built in `metrics`.
pub fn spawn(
    workers: &mut Workers,
    store: Arc<dyn Store>,
    every: Duration,
    rebuild_gap: Duration,
    metrics: Arc<Metrics>,
) {
    workers.spawn(|mut stop| async move {
        let mut pacing = Pacing::every(rebuild_gap);
        loop {
            match catch_up_paced(&store, now_ms(), &mut pacing).await {
                Ok(0) => {}
                Ok(hours) => {
                    metrics.rollup_hours_built.inc_by(hours as u64);
                    tracing::debug!(message = "rolled up", hours)
                }
                Err(error) => tracing::warn!(message = "rollup failed; will retry", %error),
            }
            if !stop.sleep(every).await {
                break;
            }
        }
    });
}

/// Values of each rollup kept exactly per hour, the most viewed first; the
/// others are folded into one [`OTHER`] row. So an hour's rollups take at
/// most `(KEPT_VALUES + 2) × ROLLUPS.len()` rows, whatever the number of
/// distinct paths (or routes, releases, tag-like values) it saw.
pub const KEPT_VALUES: usize = 200;

/// Folds one hour's page views into stats per rollup value and stores them,
/// in two reads of the hour: the first counts each rollup's values (a hash
/// and a count each: bytes per distinct value), the second folds the
/// [`KEPT_VALUES`] most viewed of each into stats of their own and the rest
/// into the rollup's [`OTHER`] row, which lists their [`folded_hash`]es.
/// Memory holds at most `KEPT_VALUES + 2` stats per rollup.
async fn build_hour(store: &Arc<dyn Store>, hour: DirtyHour) -> Result<()> {
    let selection =
        Selection { fields: Fields::Aggregates, ..Selection::period(&hour.site, hour.hour_ms, hour.hour_ms + HOUR_MS) };
    let mut counts: Vec<HashMap<u64, u64>> = vec![HashMap::new(); ROLLUPS.len()];
    fold_raw(store, selection.clone(), |view| {
        for (rollup, counts) in ROLLUPS.iter().zip(&mut counts) {
            if let Some(key) = rollup.key(view) {
                *counts.entry(value_hash(&key)).or_default() += 1;
            }
        }
    })
    .await?;
    let kept: Vec<HashSet<u64>> = counts.into_iter().map(most_viewed).collect();
    let mut groups: BTreeMap<(usize, Option<String>), Stats> = BTreeMap::new();
    let mut others: Vec<Option<(Stats, HashSet<u32>)>> = vec![None; ROLLUPS.len()];
    fold_raw(store, selection, |view| {
        for (index, rollup) in ROLLUPS.iter().enumerate() {
            match rollup.key(view) {
                Some(key) if !kept[index].contains(&value_hash(&key)) => {
                    let (stats, folded) = others[index].get_or_insert_with(Default::default);
                    stats.add(view);
                    folded.insert(folded_hash(&key));
                }
                key => groups.entry((index, key)).or_default().add(view),
            }
        }
    })
    .await?;
    let others = others.into_iter().enumerate().filter_map(|(index, other)| {
        let (mut stats, folded) = other?;
        stats.folded = folded.into_iter().collect();
        stats.folded.sort_unstable();
        Some(((index, Some(OTHER.to_string())), stats))
    });
    let rows = groups
        .into_iter()
        .chain(others)
        .map(|((index, value), stats)| RollupRow {
            dimension: ROLLUPS[index].name.clone(),
            value,
            stats: stats.encode(),
        })
        .collect();
    store.put_rollups(hour, rows).await
}

/// The [`KEPT_VALUES`] most counted of `counts` (ties by hash, so every
/// build keeps the same).
fn most_viewed(counts: HashMap<u64, u64>) -> HashSet<u64> {
    if counts.len() <= KEPT_VALUES {
        return counts.into_keys().collect();
    }
    let mut ranked: Vec<(u64, u64)> = counts.into_iter().collect();
    ranked.select_nth_unstable_by(KEPT_VALUES - 1, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(KEPT_VALUES);
    ranked.into_iter().map(|(hash, _)| hash).collect()
}
