//! The analyst API's answers, each read off mergeable [`Stats`]: the
//! summary, the abandonment curve, breakdown rows and time-series points.
//! Pure functions, so every store and both the rollups and raw rows give
//! the same answers.
//!
//! Percentiles are by nearest rank (p75 of n values is the value at rank
//! ⌈0.75·n⌉), read from DDSketches within 1% of the exact value.

use std::collections::BTreeMap;

use palaute::vitals::script;
use palaute::vitals::thresholds::Vital;
use serde::Serialize;
use utoipa::ToSchema;

use crate::stats::{FrustrationCounts, LeaveCounts, Stats, VitalStats, BUCKET_BOUNDS_MS};

/// `part / whole`, or `None` for an empty whole.
pub fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Customer satisfaction (CSAT): the share of satisfied answers (thumbs up,
/// or 4-5 of 5) with its 95% Wilson score interval.
#[derive(Serialize, Debug, Clone, PartialEq, ToSchema)]
pub struct Csat {
    /// Feedback answers.
    pub answers: u64,
    /// Satisfied answers.
    pub satisfied: u64,
    /// `satisfied / answers`.
    pub rate: Option<f64>,
    /// Lower bound of the 95% confidence interval.
    pub low: Option<f64>,
    /// Upper bound of the 95% confidence interval.
    pub high: Option<f64>,
}

impl Csat {
    /// CSAT of `satisfied` out of `answers`.
    pub fn of(answers: u64, satisfied: u64) -> Csat {
        let (low, high) = wilson(satisfied, answers).map_or((None, None), |(l, h)| (Some(l), Some(h)));
        Csat { answers, satisfied, rate: rate(satisfied, answers), low, high }
    }
}

/// The 95% Wilson score interval of a proportion `k / n`.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    crate::compare::wilson(k, n, crate::compare::Z_95)
}

/// One vital's distribution.
#[derive(Serialize, Debug, Clone, PartialEq, ToSchema)]
pub struct VitalSummary {
    /// Page views with a value.
    pub count: u64,
    /// Median.
    pub p50: Option<f64>,
    /// 75th percentile (the one Core Web Vitals are judged by).
    pub p75: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Share rated good.
    pub good: Option<f64>,
    /// Share rated needs improvement.
    pub needs_improvement: Option<f64>,
    /// Share rated poor.
    pub poor: Option<f64>,
}

impl VitalSummary {
    /// The distribution of `stats`.
    pub fn of(stats: &VitalStats) -> VitalSummary {
        let count = stats.count();
        VitalSummary {
            count,
            p50: stats.percentile(0.50),
            p75: stats.percentile(0.75),
            p95: stats.percentile(0.95),
            p99: stats.percentile(0.99),
            good: rate(stats.ratings[0], count),
            needs_improvement: rate(stats.ratings[1], count),
            poor: rate(stats.ratings[2], count),
        }
    }
}

/// Per vital (`ttfb_ms`, `fcp_ms`, `lcp_ms`, `inp_ms`, `cls`), its distribution.
pub fn vitals_of(stats: &Stats) -> BTreeMap<&'static str, VitalSummary> {
    Vital::ALL.iter().map(|vital| (vital.field(), VitalSummary::of(stats.vital(*vital)))).collect()
}

/// Feedback counts with string keys, for JSON: scale → rating → count.
fn feedback_of(stats: &Stats) -> BTreeMap<String, BTreeMap<String, u64>> {
    stats
        .feedback
        .iter()
        .map(|(scale, ratings)| (scale.clone(), ratings.iter().map(|(r, n)| (r.to_string(), *n)).collect()))
        .collect()
}

fn csat_of(stats: &Stats) -> Csat {
    let (answers, satisfied) = stats.answers();
    Csat::of(answers, satisfied)
}

/// `GET .../summary`.
#[derive(Serialize, Debug, Clone, PartialEq, ToSchema)]
pub struct Summary {
    /// Page views in the period.
    pub page_views: u64,
    /// Per vital: percentiles and good / needs-improvement / poor shares.
    #[schema(value_type = BTreeMap<String, VitalSummary>)]
    pub vitals: BTreeMap<&'static str, VitalSummary>,
    /// Abandoned / page views whose leaving is known.
    pub abandonment_rate: Option<f64>,
    /// Slow bounces / page views whose leaving is known.
    pub slow_bounce_rate: Option<f64>,
    /// Leaving counts.
    pub leaving: LeaveCounts,
    /// Feedback answers by scale and rating (`thumbs` → `"1"` → count).
    pub feedback: BTreeMap<String, BTreeMap<String, u64>>,
    /// Satisfaction over every scale.
    pub csat: Csat,
    /// Page views with a rage click or a dead click / page views whose
    /// clicks were watched.
    pub frustrated_rate: Option<f64>,
    /// Rage and dead clicks.
    pub frustration: FrustrationCounts,
}

impl Summary {
    /// The summary of `stats`.
    pub fn of(stats: &Stats) -> Summary {
        Summary {
            page_views: stats.page_views,
            vitals: vitals_of(stats),
            abandonment_rate: rate(stats.leaving.abandoned, stats.leaving.known),
            slow_bounce_rate: rate(stats.leaving.slow_bounces, stats.leaving.known),
            leaving: stats.leaving,
            feedback: feedback_of(stats),
            csat: csat_of(stats),
            frustrated_rate: rate(stats.frustration.frustrated, stats.frustration.known),
            frustration: stats.frustration,
        }
    }
}

/// One load-time bucket of the abandonment curve.
#[derive(Serialize, Debug, Clone, PartialEq, ToSchema)]
pub struct AbandonmentBucket {
    /// Bucket start, ms (inclusive).
    pub from_ms: f64,
    /// Bucket end, ms (exclusive); `null` for the open last bucket.
    pub to_ms: Option<f64>,
    /// Page views whose wait (load time, or time until leaving before load)
    /// falls in the bucket.
    pub page_views: u64,
    /// Of those, left before the page loaded.
    pub abandoned: u64,
    /// `abandoned / page_views`.
    pub abandonment_rate: Option<f64>,
    /// Of those, loaded and then left within the slow-bounce dwell.
    pub slow_bounces: u64,
    /// `slow_bounces / page_views`.
    pub slow_bounce_rate: Option<f64>,
    /// Page views still waiting for the load at `from_ms`.
    pub still_waiting: u64,
    /// Of those still waiting at `from_ms`, the share that left before the
    /// page loaded: "after 3 s, 40% leave" reads off the bucket at 3000.
    pub left_while_waiting_rate: Option<f64>,
    /// Satisfaction of the feedback given on these page views: how
    /// satisfaction falls as pages slow down.
    pub csat: Csat,
}

/// `GET .../abandonment`.
#[derive(Serialize, Debug, Clone, PartialEq, ToSchema)]
pub struct Abandonment {
    /// Page views whose wait is known.
    pub page_views: u64,
    /// Buckets of 1 s up to 10 s, then 10 s and more.
    pub buckets: Vec<AbandonmentBucket>,
}

impl Abandonment {
    /// The curve of `stats`.
    pub fn of(stats: &Stats) -> Abandonment {
        let total: u64 = stats.curve.iter().map(|b| b.views).sum();
        let mut waiting = total;
        let mut abandoned_after: u64 = stats.curve.iter().map(|b| b.leaving.abandoned).sum();
        let mut buckets = Vec::with_capacity(stats.curve.len());
        for (index, bucket) in stats.curve.iter().enumerate() {
            let from_ms = if index == 0 { 0.0 } else { BUCKET_BOUNDS_MS[index - 1] };
            let counts = &bucket.leaving;
            buckets.push(AbandonmentBucket {
                from_ms,
                to_ms: BUCKET_BOUNDS_MS.get(index).copied(),
                page_views: bucket.views,
                abandoned: counts.abandoned,
                abandonment_rate: rate(counts.abandoned, bucket.views),
                slow_bounces: counts.slow_bounces,
                slow_bounce_rate: rate(counts.slow_bounces, bucket.views),
                still_waiting: waiting,
                left_while_waiting_rate: rate(abandoned_after, waiting),
                csat: Csat::of(bucket.answers, bucket.satisfied),
            });
            waiting -= bucket.views;
            abandoned_after -= counts.abandoned;
        }
        Abandonment { page_views: total, buckets }
    }
}

pub use crate::grouping::Dimension;

/// One group of a breakdown.
#[derive(Serialize, Debug, Clone, PartialEq, ToSchema)]
pub struct BreakdownRow {
    /// The group's value (`null`: page views without one).
    pub key: Option<String>,
    /// Page views.
    pub page_views: u64,
    /// Visitors lost to slowness: abandoned plus slow bounces.
    pub lost: u64,
    /// `lost` / page views whose leaving is known.
    pub lost_rate: Option<f64>,
    /// Abandonment rate.
    pub abandonment_rate: Option<f64>,
    /// Slow-bounce rate.
    pub slow_bounce_rate: Option<f64>,
    /// Leaving counts.
    pub leaving: LeaveCounts,
    /// Per vital: percentiles and shares.
    #[schema(value_type = BTreeMap<String, VitalSummary>)]
    pub vitals: BTreeMap<&'static str, VitalSummary>,
    /// Satisfaction in the group.
    pub csat: Csat,
    /// Page views of the group with poor INP.
    pub poor_inp: u64,
    /// Page views of the group with a rage click or a dead click.
    pub frustrated: u64,
    /// By `inp_script_host`: whether the host is the site's own (one of
    /// its origins); `null` for other dimensions.
    pub own_host: Option<bool>,
    /// The row of every group past `limit` (and of values the rollups
    /// folded together); its `key` is null.
    pub other: bool,
}

/// Most groups a breakdown answers when not asked (`limit`).
pub const DEFAULT_BREAKDOWN_LIMIT: usize = 100;
/// Most groups a breakdown answers at all.
pub const MAX_BREAKDOWN_LIMIT: usize = 1000;

/// How a breakdown's rows are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranking {
    /// Most page views first.
    PageViews,
    /// Most page views with poor INP first (`inp_script_host`).
    PoorInp,
    /// Most frustrated page views first (`frustration_target`).
    Frustrated,
}

fn row_of(key: Option<String>, stats: &Stats) -> BreakdownRow {
    BreakdownRow {
        poor_inp: stats.vital(Vital::Inp).ratings[2],
        frustrated: stats.frustration.frustrated,
        own_host: None,
        other: false,
        key,
        page_views: stats.page_views,
        lost: stats.leaving.lost(),
        lost_rate: rate(stats.leaving.lost(), stats.leaving.known),
        abandonment_rate: rate(stats.leaving.abandoned, stats.leaving.known),
        slow_bounce_rate: rate(stats.leaving.slow_bounces, stats.leaving.known),
        leaving: stats.leaving,
        vitals: vitals_of(stats),
        csat: csat_of(stats),
    }
}

/// Breakdown rows from each group's stats: the `limit` groups with the
/// most page views (page views without a value are a group too, `key`
/// null), ordered by `ranking`, then one row `other: true` (`key` null)
/// that holds every other group and the rollups' other values
/// ([`OTHER`](crate::grouping::OTHER)), so that the rows add up to the
/// period's page views.
pub fn breakdown(mut groups: BTreeMap<Option<String>, Stats>, limit: usize, ranking: Ranking) -> Vec<BreakdownRow> {
    let mut other = groups.remove(&Some(crate::grouping::OTHER.to_string())).unwrap_or_default();
    let mut ranked: Vec<(Option<String>, Stats)> = groups.into_iter().collect();
    ranked.sort_by(|a, b| b.1.page_views.cmp(&a.1.page_views).then_with(|| a.0.cmp(&b.0)));
    for (_, stats) in ranked.drain(limit.min(ranked.len())..) {
        other.merge(&stats);
    }
    let mut rows: Vec<BreakdownRow> = ranked.iter().map(|(key, stats)| row_of(key.clone(), stats)).collect();
    rows.sort_by(|a, b| {
        let first = match ranking {
            Ranking::PageViews => std::cmp::Ordering::Equal,
            Ranking::PoorInp => b.poor_inp.cmp(&a.poor_inp),
            Ranking::Frustrated => b.frustrated.cmp(&a.frustrated),
        };
        first.then(b.page_views.cmp(&a.page_views)).then(a.key.cmp(&b.key))
    });
    if other.page_views > 0 {
        rows.push(BreakdownRow { other: true, ..row_of(None, &other) });
    }
    rows
}

/// Marks each row of a breakdown by the host of INP's longest script
/// whose host is the host of one of the site's `origins` as its own.
pub fn mark_own_hosts(rows: &mut [BreakdownRow], origins: &[String]) {
    for row in rows.iter_mut().filter(|row| !row.other && row.key.is_some()) {
        row.own_host = Some(origins.iter().any(|origin| script::host(origin) == row.key.as_deref()));
    }
}

/// One interval of a time series.
#[derive(Serialize, Debug, Clone, PartialEq, ToSchema)]
pub struct TimeseriesPoint {
    /// Interval start, ISO-8601 UTC.
    pub t: String,
    /// Page views in the interval.
    pub page_views: u64,
    /// Abandonment rate in the interval.
    pub abandonment_rate: Option<f64>,
    /// Slow-bounce rate in the interval.
    pub slow_bounce_rate: Option<f64>,
    /// The requested vital's distribution in the interval.
    pub vital: VitalSummary,
    /// Satisfaction in the interval.
    pub csat: Csat,
}

impl TimeseriesPoint {
    /// The point for the interval starting at `start_ms`, for `vital`.
    pub fn of(start_ms: i64, stats: &Stats, vital: Vital) -> TimeseriesPoint {
        TimeseriesPoint {
            t: crate::model::format_time(start_ms),
            page_views: stats.page_views,
            abandonment_rate: rate(stats.leaving.abandoned, stats.leaving.known),
            slow_bounce_rate: rate(stats.leaving.slow_bounces, stats.leaving.known),
            vital: VitalSummary::of(stats.vital(vital)),
            csat: csat_of(stats),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PageView;

    fn view(load: Option<f64>, left: Option<f64>, abandoned: Option<bool>, slow_bounce: bool) -> PageView {
        PageView { load_ms: load, left_at_ms: left, abandoned, slow_bounce: Some(slow_bounce), ..PageView::default() }
    }

    fn stats_of<'a>(views: impl IntoIterator<Item = &'a PageView>) -> Stats {
        let mut stats = Stats::default();
        for view in views {
            stats.add(view);
        }
        stats
    }

    fn near(actual: Option<f64>, expected: f64) -> bool {
        actual.is_some_and(|a| (a - expected).abs() <= 0.01 * expected)
    }

    #[test]
    fn breakdowns_keep_the_most_viewed_rank_them_and_fold_the_rest() {
        let view = |url: Option<&str>, inp: f64| PageView {
            inp_script_url: url.map(str::to_string),
            inp_ms: Some(inp),
            ..PageView::default()
        };
        let views = [
            view(Some("https://cdn.widget.example/w.js"), 600.0),
            view(Some("https://cdn.widget.example/w.js"), 700.0),
            view(Some("https://shop.example:8443/app.js"), 900.0),
            view(Some("https://shop.example/app.js"), 100.0),
            view(Some("https://shop.example/app.js"), 120.0),
            view(None, 800.0),
        ];
        let mut groups: BTreeMap<Option<String>, Stats> = BTreeMap::new();
        for v in &views {
            groups.entry(Dimension::InpScriptHost.key(v)).or_default().add(v);
        }
        let mut rows = breakdown(groups.clone(), 10, Ranking::PoorInp);
        mark_own_hosts(&mut rows, &["https://shop.example".to_string()]);
        let ranked: Vec<_> =
            rows.iter().map(|r| (r.key.as_deref(), r.poor_inp, r.page_views, r.own_host, r.other)).collect();
        assert_eq!(
            ranked,
            [
                (Some("cdn.widget.example"), 2, 2, Some(false), false),
                (Some("shop.example"), 1, 3, Some(true), false),
                (None, 1, 1, None, false)
            ],
            "most poor-INP views first, then most views; views without a script are a row too"
        );
        let top: Vec<_> = breakdown(groups, 1, Ranking::PoorInp).iter().map(|r| (r.page_views, r.other)).collect();
        assert_eq!(top, [(3, false), (3, true)], "the rest is one other row: the rows add up");
    }

    #[test]
    fn the_curve_buckets_waits_and_follows_those_still_waiting() {
        let curve = Abandonment::of(&stats_of(&[
            // Loaded at 0.5 s, 1.5 s and 3.5 s (the last one counted as a slow bounce).
            view(Some(500.0), Some(9000.0), Some(false), false),
            view(Some(1500.0), Some(9000.0), Some(false), false),
            view(Some(3500.0), Some(4000.0), Some(false), true),
            // Left before load at 3.2 s and at 12 s.
            view(None, Some(3200.0), Some(true), false),
            view(None, Some(12_000.0), Some(true), false),
            // Unknown wait: ignored.
            view(None, None, None, false),
        ]));
        assert_eq!(curve.page_views, 5);
        assert_eq!(curve.buckets.len(), 11);
        let b = |i: usize| &curve.buckets[i];
        assert_eq!((b(0).page_views, b(1).page_views, b(3).page_views, b(10).page_views), (1, 1, 2, 1));
        assert_eq!((b(3).abandoned, b(3).slow_bounces), (1, 1));
        assert_eq!(b(3).abandonment_rate, Some(0.5));
        // At 3 s, three visitors were still waiting and two of them left before load.
        assert_eq!(b(3).still_waiting, 3);
        assert_eq!(b(3).left_while_waiting_rate, Some(2.0 / 3.0));
        assert_eq!((b(10).from_ms, b(10).to_ms, b(10).still_waiting), (10_000.0, None, 1));
        assert_eq!(b(10).left_while_waiting_rate, Some(1.0));
        assert_eq!(b(5).left_while_waiting_rate, Some(1.0), "only the 12 s visitor waits past 5 s");
    }

    #[test]
    fn breakdowns_rank_by_page_views() {
        let at = |url: &str, abandoned: bool| PageView {
            url: url.into(),
            abandoned: Some(abandoned),
            slow_bounce: Some(false),
            lcp_ms: Some(1000.0),
            ..PageView::default()
        };
        let path = Dimension::parse("path").unwrap();
        let mut groups: BTreeMap<Option<String>, Stats> = BTreeMap::new();
        for view in
            [at("/a?x=1", false), at("/a", false), at("/a", false), at("/b", true), at("/b", true), at("/c", true)]
        {
            groups.entry(path.key(&view)).or_default().add(&view);
        }
        let rows = breakdown(groups, 100, Ranking::PageViews);
        let keys: Vec<_> = rows.iter().map(|r| (r.key.clone().unwrap(), r.lost, r.page_views)).collect();
        assert_eq!(keys, [("/a".into(), 0, 3), ("/b".into(), 2, 2), ("/c".into(), 1, 1)]);
        assert_eq!(rows[1].lost_rate, Some(1.0));
        assert!(near(rows[0].vitals["lcp_ms"].p75, 1000.0));
        assert_eq!(Dimension::parse("tag:variant"), Ok(Dimension::Tag("variant".into())));
        assert_eq!(
            Dimension::parse("hour_of_day")
                .unwrap()
                .key(&PageView { started_at: 3_600_000 * 25, ..PageView::default() }),
            Some("1".into())
        );
    }

    #[test]
    fn the_summary_counts_rates_shares_and_feedback() {
        let views: Vec<PageView> =
            [(1000.0, false, false), (3000.0, false, true), (5000.0, true, false), (2000.0, false, false)]
                .into_iter()
                .map(|(lcp, abandoned, slow)| PageView {
                    lcp_ms: Some(lcp),
                    abandoned: Some(abandoned),
                    slow_bounce: Some(slow),
                    feedback_scale: Some("thumbs".into()),
                    feedback_rating: Some(u8::from(!abandoned)),
                    ..PageView::default()
                })
                .collect();
        let summary = Summary::of(&stats_of(&views));
        assert_eq!(summary.page_views, 4);
        assert_eq!(summary.abandonment_rate, Some(0.25));
        assert_eq!(summary.slow_bounce_rate, Some(0.25));
        let lcp = &summary.vitals["lcp_ms"];
        assert_eq!(lcp.count, 4);
        assert!(near(lcp.p75, 3000.0) && near(lcp.p50, 2000.0) && lcp.p99 == Some(5000.0), "{lcp:?}");
        assert_eq!((lcp.good, lcp.needs_improvement, lcp.poor), (Some(0.5), Some(0.25), Some(0.25)));
        assert_eq!(summary.vitals["inp_ms"].count, 0);
        assert_eq!(summary.vitals["inp_ms"].p75, None);
        assert_eq!(summary.feedback["thumbs"]["1"], 3);
        assert_eq!((summary.csat.answers, summary.csat.satisfied, summary.csat.rate), (4, 3, Some(0.75)));
    }

    #[test]
    fn csat_counts_both_scales_with_a_wilson_interval() {
        let answer = |scale: &str, rating: u8| PageView {
            feedback_scale: Some(scale.into()),
            feedback_rating: Some(rating),
            ..PageView::default()
        };
        let views = [answer("thumbs", 1), answer("thumbs", 0), answer("five", 5), answer("five", 4), answer("five", 3)];
        let csat = Summary::of(&stats_of(&views)).csat;
        assert_eq!((csat.answers, csat.satisfied), (5, 3));
        // 8 of 10: the textbook Wilson interval is [0.490, 0.943].
        let (low, high) = wilson(8, 10).unwrap();
        assert!((low - 0.4902).abs() < 1e-3 && (high - 0.9433).abs() < 1e-3, "{low} {high}");
        assert_eq!(wilson(0, 0), None);
        assert_eq!(wilson(0, 20).unwrap().0, 0.0);
        assert_eq!(Csat::of(0, 0).rate, None);
    }
}
