//! The analyst API's aggregates as ClickHouse SQL: one query per answer,
//! grouped as the answer needs, read into the same [`Stats`] the embedded
//! store builds from rollups, so every endpoint answers alike on both.
//!
//! Percentiles are exact by nearest rank (the value at rank ⌈q·n⌉):
//! `quantilesExact` reads index ⌊q·n⌋ of the sorted values, so it is asked
//! for q − 10⁻¹⁰, which lands on ⌈q·n⌉ − 1 for up to 10⁸ values a group.

use std::collections::BTreeMap;

use palaute::vitals::thresholds::Vital;
use serde_json::Value;

use super::http::quote;
use crate::api::aggregate::Dimension;
use crate::error::{AppError, Result};
use crate::rollup::query::{GroupKey, Grouping};
use crate::stats::{LeaveCounts, Stats, VitalStats, BUCKETS, BUCKET_BOUNDS_MS, REPORTED_PERCENTILES};
use crate::store::Selection;

/// The feedback answers counted per scale and rating.
const ANSWERS: [(&str, u8); 7] =
    [("thumbs", 0), ("thumbs", 1), ("five", 1), ("five", 2), ("five", 3), ("five", 4), ("five", 5)];

/// The `WHERE` condition of a selection.
pub fn condition(selection: &Selection) -> String {
    let mut condition = format!(
        "site = {} AND started_at >= {} AND started_at < {}",
        quote(&selection.site),
        selection.from_ms,
        selection.to_ms
    );
    for (column, value) in selection.filters() {
        condition.push_str(&format!(" AND {column} = {}", quote(value)));
    }
    condition
}

/// The group key of a grouping, as an expression.
fn key(grouping: &Grouping) -> String {
    match grouping {
        Grouping::Total => "''".into(),
        Grouping::Interval(ms) => format!("started_at - started_at % {ms}"),
        Grouping::By(dimension) => match dimension {
            Dimension::Path => "path".into(),
            Dimension::Device => "device".into(),
            Dimension::Browser => "browser".into(),
            Dimension::Os => "os".into(),
            Dimension::EffectiveType => "effective_type".into(),
            Dimension::NavType => "nav_type".into(),
            Dimension::HourOfDay => "toString(intDiv(started_at % 86400000, 3600000))".into(),
            Dimension::ResponseStatus => "toString(response_status)".into(),
            Dimension::Tag(tag) => {
                let tag = quote(tag);
                format!("if(has(tag_keys, {tag}), tag_values[indexOf(tag_keys, {tag})], NULL)")
            }
        },
    }
}

/// The query of the selected page views' stats per group of `grouping`.
/// Every `countIf` condition is wrapped in `ifNull(..., 0)`: over nullable
/// columns alone, ClickHouse answers NULL rather than 0.
pub fn aggregate(table: &str, selection: &Selection, grouping: &Grouping) -> String {
    let levels: Vec<String> = REPORTED_PERCENTILES.iter().map(|q| format!("{}", q - 1e-10)).collect();
    let mut columns = vec!["k".to_string(), "count() AS views".into()];
    let mut count = |condition: &str, alias: &str| columns.push(format!("countIf(ifNull({condition}, 0)) AS {alias}"));
    count("abandoned IS NOT NULL", "known");
    count("abandoned = 1", "abandoned_n");
    count("abandoned IS NOT NULL AND slow_bounce = 1", "slow_bounces");
    count("response_status IS NOT NULL", "statuses");
    count("response_status >= 500", "server_errors");
    for vital in Vital::ALL {
        let (good, poor) = vital.thresholds();
        let field = vital.field();
        count(&format!("{field} <= {good}"), &format!("{field}_good"));
        count(&format!("{field} > {good} AND {field} <= {poor}"), &format!("{field}_ni"));
        count(&format!("{field} > {poor}"), &format!("{field}_poor"));
    }
    let satisfied =
        "(feedback_scale = 'five' AND feedback_rating >= 4 OR feedback_scale != 'five' AND feedback_rating = 1)";
    for bucket in 0..BUCKETS {
        let b = format!("bucket = {bucket}");
        count(&b, &format!("b{bucket}_views"));
        count(&format!("{b} AND abandoned IS NOT NULL"), &format!("b{bucket}_known"));
        count(&format!("{b} AND abandoned = 1"), &format!("b{bucket}_abandoned"));
        count(&format!("{b} AND abandoned IS NOT NULL AND slow_bounce = 1"), &format!("b{bucket}_slow"));
        count(
            &format!("{b} AND feedback_scale IS NOT NULL AND feedback_rating IS NOT NULL"),
            &format!("b{bucket}_answers"),
        );
        count(&format!("{b} AND {satisfied}"), &format!("b{bucket}_satisfied"));
    }
    for (scale, rating) in ANSWERS {
        count(&format!("feedback_scale = '{scale}' AND feedback_rating = {rating}"), &format!("f_{scale}_{rating}"));
    }
    for vital in Vital::ALL {
        let field = vital.field();
        columns.push(format!("quantilesExact({})({field}) AS {field}_q", levels.join(", ")));
    }
    // The load-time bucket of the wait (load, or leaving before it), -1 without one.
    let wait = "if(abandoned = 1, left_at_ms, load_ms)";
    let bounds: Vec<String> =
        BUCKET_BOUNDS_MS.iter().enumerate().map(|(i, bound)| format!("assumeNotNull({wait}) < {bound}, {i}")).collect();
    let bucket = format!("if(isNull({wait}), -1, multiIf({}, {}))", bounds.join(", "), BUCKET_BOUNDS_MS.len());
    let vitals: Vec<&str> = Vital::ALL.iter().map(|v| v.field()).collect();
    format!(
        "SELECT {} FROM (SELECT {} AS k, {bucket} AS bucket, abandoned, slow_bounce, response_status, \
         feedback_scale, feedback_rating, {} FROM {table} FINAL WHERE {}) GROUP BY k FORMAT JSONEachRow",
        columns.join(", "),
        key(grouping),
        vitals.join(", "),
        condition(selection)
    )
}

/// One row of [`aggregate`]'s answer as its group key and stats.
pub fn group(row: &Value, grouping: &Grouping) -> Result<(GroupKey, Stats)> {
    let count = |name: &str| -> Result<u64> {
        row.get(name).and_then(Value::as_u64).ok_or_else(|| AppError::Internal(format!("ClickHouse row lacks {name}")))
    };
    let key = match grouping {
        Grouping::Total => GroupKey::Total,
        Grouping::By(_) => GroupKey::Value(row.get("k").and_then(Value::as_str).map(str::to_string)),
        Grouping::Interval(_) => GroupKey::Start(row.get("k").and_then(Value::as_i64).unwrap_or_default()),
    };
    let mut stats = Stats {
        page_views: count("views")?,
        leaving: LeaveCounts {
            known: count("known")?,
            abandoned: count("abandoned_n")?,
            slow_bounces: count("slow_bounces")?,
        },
        statuses: count("statuses")?,
        server_errors: count("server_errors")?,
        ..Stats::default()
    };
    for (stats, vital) in stats.vitals.iter_mut().zip(Vital::ALL) {
        let field = vital.field();
        let ratings =
            [count(&format!("{field}_good"))?, count(&format!("{field}_ni"))?, count(&format!("{field}_poor"))?];
        let quantiles = row.get(format!("{field}_q")).and_then(Value::as_array);
        let mut percentiles = [0.0; 4];
        for (slot, value) in percentiles.iter_mut().zip(quantiles.into_iter().flatten()) {
            *slot = value.as_f64().unwrap_or_default();
        }
        *stats = VitalStats::exact(ratings, percentiles);
    }
    for (index, bucket) in stats.curve.iter_mut().enumerate() {
        bucket.views = count(&format!("b{index}_views"))?;
        bucket.leaving = LeaveCounts {
            known: count(&format!("b{index}_known"))?,
            abandoned: count(&format!("b{index}_abandoned"))?,
            slow_bounces: count(&format!("b{index}_slow"))?,
        };
        bucket.answers = count(&format!("b{index}_answers"))?;
        bucket.satisfied = count(&format!("b{index}_satisfied"))?;
    }
    let mut feedback: BTreeMap<String, BTreeMap<u8, u64>> = BTreeMap::new();
    for (scale, rating) in ANSWERS {
        let n = count(&format!("f_{scale}_{rating}"))?;
        if n > 0 {
            feedback.entry(scale.to_string()).or_default().insert(rating, n);
        }
    }
    stats.feedback = feedback;
    Ok((key, stats))
}
