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
use crate::error::{AppError, Result};
use crate::grouping::Dimension;
use crate::grouping::{GroupKey, Grouping};
use crate::stats::{FrustrationCounts, LeaveCounts, Stats, VitalStats, BUCKET_BOUNDS_MS, REPORTED_PERCENTILES};
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
    for (column, value) in selection.filter_columns() {
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
            Dimension::Path
            | Dimension::Device
            | Dimension::Browser
            | Dimension::Os
            | Dimension::EffectiveType
            | Dimension::NavType => dimension.column().map_or_else(String::new, str::to_string),
            Dimension::HourOfDay => "toString(intDiv(started_at % 86400000, 3600000))".into(),
            Dimension::ResponseStatus => "toString(response_status)".into(),
            Dimension::InpScriptHost => "nullIf(domain(inp_script_url), '')".into(),
            Dimension::FrustrationTarget => "frustration_target".into(),
            Dimension::Tag(tag) => {
                let tag = quote(tag);
                format!("if(has(tag_keys, {tag}), tag_values[indexOf(tag_keys, {tag})], NULL)")
            }
        },
    }
}

/// `countIf(ifNull(condition, 0)) AS alias`: over nullable columns alone,
/// `countIf` answers NULL rather than 0.
fn count(condition: &str, alias: &str) -> String {
    format!("countIf(ifNull({condition}, 0)) AS {alias}")
}

/// The query of the selected page views' stats per group of `grouping`,
/// all but the abandonment curve ([`curve`]).
pub fn totals(table: &str, selection: &Selection, grouping: &Grouping) -> String {
    let levels: Vec<String> = REPORTED_PERCENTILES.iter().map(|q| format!("{}", q - 1e-10)).collect();
    let mut columns = vec![
        "k".to_string(),
        "count() AS views".into(),
        count("abandoned IS NOT NULL", "known"),
        count("abandoned = 1", "abandoned_n"),
        count("abandoned IS NOT NULL AND slow_bounce = 1", "slow_bounces"),
        count("response_status IS NOT NULL", "statuses"),
        count("response_status >= 500", "server_errors"),
        count("rage_clicks IS NOT NULL OR dead_clicks IS NOT NULL", "frustration_known"),
        count("rage_clicks > 0 OR dead_clicks > 0", "frustrated"),
        "toUInt64(sum(ifNull(rage_clicks, 0))) AS rage".into(),
        "toUInt64(sum(ifNull(dead_clicks, 0))) AS dead".into(),
    ];
    for vital in Vital::ALL {
        let (good, poor) = vital.thresholds();
        let field = vital.field();
        columns.push(count(&format!("{field} <= {good}"), &format!("{field}_good")));
        columns.push(count(&format!("{field} > {good} AND {field} <= {poor}"), &format!("{field}_ni")));
        columns.push(count(&format!("{field} > {poor}"), &format!("{field}_poor")));
        columns.push(format!("quantilesExact({})({field}) AS {field}_q", levels.join(", ")));
    }
    for (scale, rating) in ANSWERS {
        columns.push(count(
            &format!("feedback_scale = '{scale}' AND feedback_rating = {rating}"),
            &format!("f_{scale}_{rating}"),
        ));
    }
    let vitals: Vec<&str> = Vital::ALL.iter().map(|v| v.field()).collect();
    format!(
        "SELECT {} FROM (SELECT {} AS k, abandoned, slow_bounce, response_status, feedback_scale, feedback_rating, \
         rage_clicks, dead_clicks, {} \
         FROM {table} FINAL WHERE {}) GROUP BY k FORMAT JSONEachRow",
        columns.join(", "),
        key(grouping),
        vitals.join(", "),
        condition(selection)
    )
}

/// The query of the abandonment curve per group of `grouping`: one row per
/// group and load-time bucket.
pub fn curve(table: &str, selection: &Selection, grouping: &Grouping) -> String {
    // The wait: the load, or leaving before it.
    let wait = "if(abandoned = 1, left_at_ms, load_ms)";
    let bounds: Vec<String> =
        BUCKET_BOUNDS_MS.iter().enumerate().map(|(i, bound)| format!("assumeNotNull({wait}) < {bound}, {i}")).collect();
    let satisfied =
        "feedback_scale = 'five' AND feedback_rating >= 4 OR feedback_scale != 'five' AND feedback_rating = 1";
    let columns = [
        "k".to_string(),
        "bucket".into(),
        "count() AS views".into(),
        count("abandoned IS NOT NULL", "known"),
        count("abandoned = 1", "abandoned_n"),
        count("abandoned IS NOT NULL AND slow_bounce = 1", "slow_bounces"),
        count("feedback_scale IS NOT NULL AND feedback_rating IS NOT NULL", "answers"),
        count(satisfied, "satisfied"),
    ];
    format!(
        "SELECT {} FROM (SELECT {} AS k, multiIf({}, {}) AS bucket, abandoned, slow_bounce, feedback_scale, \
         feedback_rating FROM {table} FINAL WHERE {} AND isNotNull({wait})) GROUP BY k, bucket FORMAT JSONEachRow",
        columns.join(", "),
        key(grouping),
        bounds.join(", "),
        BUCKET_BOUNDS_MS.len(),
        condition(selection)
    )
}

/// The group key of a row of either query.
fn group_key(row: &Value, grouping: &Grouping) -> GroupKey {
    match grouping {
        Grouping::Total => GroupKey::Total,
        Grouping::By(_) => GroupKey::Value(row.get("k").and_then(Value::as_str).map(str::to_string)),
        Grouping::Interval(_) => GroupKey::Start(row.get("k").and_then(Value::as_i64).unwrap_or_default()),
    }
}

/// A count column of a row.
fn counted(row: &Value, name: &str) -> Result<u64> {
    row.get(name).and_then(Value::as_u64).ok_or_else(|| AppError::Internal(format!("ClickHouse row lacks {name}")))
}

/// The leaving counts of a row of either query.
fn leaving(row: &Value) -> Result<LeaveCounts> {
    Ok(LeaveCounts {
        known: counted(row, "known")?,
        abandoned: counted(row, "abandoned_n")?,
        slow_bounces: counted(row, "slow_bounces")?,
    })
}

/// The stats per group from the answers of [`totals`] and [`curve`].
pub fn groups(totals: &[Value], curve: &[Value], grouping: &Grouping) -> Result<BTreeMap<GroupKey, Stats>> {
    let mut groups = BTreeMap::new();
    for row in totals {
        let mut stats = Stats {
            page_views: counted(row, "views")?,
            leaving: leaving(row)?,
            statuses: counted(row, "statuses")?,
            server_errors: counted(row, "server_errors")?,
            frustration: FrustrationCounts {
                known: counted(row, "frustration_known")?,
                frustrated: counted(row, "frustrated")?,
                rage_clicks: counted(row, "rage")?,
                dead_clicks: counted(row, "dead")?,
            },
            ..Stats::default()
        };
        for (stats, vital) in stats.vitals.iter_mut().zip(Vital::ALL) {
            let field = vital.field();
            let ratings = [
                counted(row, &format!("{field}_good"))?,
                counted(row, &format!("{field}_ni"))?,
                counted(row, &format!("{field}_poor"))?,
            ];
            let mut percentiles = [0.0; 4];
            let quantiles = row.get(format!("{field}_q")).and_then(Value::as_array);
            for (slot, value) in percentiles.iter_mut().zip(quantiles.into_iter().flatten()) {
                *slot = value.as_f64().unwrap_or_default();
            }
            *stats = VitalStats::exact(ratings, percentiles);
        }
        for (scale, rating) in ANSWERS {
            let n = counted(row, &format!("f_{scale}_{rating}"))?;
            if n > 0 {
                stats.feedback.entry(scale.to_string()).or_default().insert(rating, n);
            }
        }
        groups.insert(group_key(row, grouping), stats);
    }
    for row in curve {
        let index = row.get("bucket").and_then(Value::as_u64).unwrap_or_default() as usize;
        let stats: &mut Stats = groups.entry(group_key(row, grouping)).or_default();
        let Some(bucket) = stats.curve.get_mut(index) else { continue };
        bucket.views = counted(row, "views")?;
        bucket.leaving = leaving(row)?;
        bucket.answers = counted(row, "answers")?;
        bucket.satisfied = counted(row, "satisfied")?;
    }
    Ok(groups)
}
