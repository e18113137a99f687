//! Builds the rollups of changed hours in the background. An hour is
//! rolled up once it is over; ingest marks hours changed in the same
//! transaction that stores the page views, with a version, and a rollup
//! marks its hour clean only if no page view came in while it was built.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::query::fold_raw;
use super::ROLLUPS;
use crate::error::Result;
use crate::model::now_ms;
use crate::stats::Stats;
use crate::store::{DirtyHour, Fields, RollupRow, Selection, Store, HOUR_MS};
use crate::workers::Workers;

/// Hours rolled up per round.
const HOURS_PER_ROUND: usize = 64;

/// Rolls up every changed hour that ended before `before_ms`, then merges
/// the days that are over and whose hours are all rolled up; returns how
/// many hours it rolled up.
pub async fn catch_up(store: &Arc<dyn Store>, before_ms: i64) -> Result<usize> {
    let mut done = 0;
    loop {
        let hours = store.dirty_hours(before_ms, HOURS_PER_ROUND).await?;
        if hours.is_empty() {
            break;
        }
        for hour in hours {
            build_hour(store, hour).await?;
            done += 1;
        }
    }
    loop {
        let days = store.days_to_roll(before_ms, HOURS_PER_ROUND).await?;
        let mut merged = 0;
        for (site, day) in &days {
            merged += usize::from(store.roll_up_day(site, *day, merge_rows).await?);
        }
        // Days that changed meanwhile are left to the next round.
        if days.is_empty() || merged == 0 {
            return Ok(done);
        }
    }
}

/// Merges rows of the same dimension and value into one; `None` if a row
/// cannot be read.
fn merge_rows(rows: Vec<RollupRow>) -> Option<Vec<RollupRow>> {
    let mut merged: BTreeMap<(String, Option<String>), Stats> = BTreeMap::new();
    for row in rows {
        merged.entry((row.dimension, row.value)).or_default().merge(&Stats::decode(&row.stats)?);
    }
    Some(
        merged
            .into_iter()
            .map(|((dimension, value), stats)| RollupRow { dimension, value, stats: stats.encode() })
            .collect(),
    )
}

/// Rolls up changed hours every `every`, until the collector stops (between
/// two rounds: an hour is rolled up whole or not at all).
pub fn spawn(workers: &mut Workers, store: Arc<dyn Store>, every: Duration) {
    workers.spawn(|mut stop| async move {
        loop {
            match catch_up(&store, now_ms()).await {
                Ok(0) => {}
                Ok(hours) => tracing::debug!(message = "rolled up", hours),
                Err(error) => tracing::warn!(message = "rollup failed; will retry", %error),
            }
            if !stop.sleep(every).await {
                break;
            }
        }
    });
}

/// Folds one hour's page views into stats per dimension value and stores them.
async fn build_hour(store: &Arc<dyn Store>, hour: DirtyHour) -> Result<()> {
    let selection =
        Selection { fields: Fields::Aggregates, ..Selection::period(&hour.site, hour.hour_ms, hour.hour_ms + HOUR_MS) };
    let mut groups: BTreeMap<(&'static str, Option<String>), Stats> = BTreeMap::new();
    fold_raw(store, selection, |view| {
        for rollup in ROLLUPS.iter() {
            groups.entry((rollup.name.as_str(), rollup.key(view))).or_default().add(view);
        }
    })
    .await?;
    let rows = groups
        .into_iter()
        .map(|((dimension, value), stats)| RollupRow { dimension: dimension.to_string(), value, stats: stats.encode() })
        .collect();
    store.put_rollups(hour, rows).await
}
