//! Aggregates over a stream of page views, computed in one pass with memory
//! bounded by the number of measured values (not rows): the summary, the
//! abandonment curve and breakdowns. Pure functions of the rows, so the
//! same code answers for every store.
//!
//! Percentiles are exact, by nearest rank: p75 of n values is the value at
//! rank ⌈0.75·n⌉.

use std::collections::BTreeMap;

use palaute::vitals::thresholds::{Rating, Vital};
use serde::Serialize;

use crate::model::PageView;

/// Upper bounds (ms, exclusive) of the load-time buckets; the last bucket is open.
pub const BUCKET_BOUNDS_MS: [f64; 10] = [1e3, 2e3, 3e3, 4e3, 5e3, 6e3, 7e3, 8e3, 9e3, 10e3];

/// Value of a vital in a page view.
pub fn vital_value(view: &PageView, vital: Vital) -> Option<f64> {
    match vital {
        Vital::Ttfb => view.ttfb_ms,
        Vital::Fcp => view.fcp_ms,
        Vital::Lcp => view.lcp_ms,
        Vital::Inp => view.inp_ms,
        Vital::Cls => view.cls,
    }
}

/// The `q` percentile (0 < q ≤ 1) of `values` by nearest rank; sorts them.
pub fn percentile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (q * values.len() as f64).ceil().max(1.0) as usize;
    Some(values[rank.min(values.len()) - 1])
}

/// `part / whole`, or `None` for an empty whole.
pub fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// One vital's distribution.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct VitalSummary {
    /// Page views with a value.
    pub count: u64,
    /// 75th percentile.
    pub p75: Option<f64>,
    /// Share rated good.
    pub good: Option<f64>,
    /// Share rated needs improvement.
    pub needs_improvement: Option<f64>,
    /// Share rated poor.
    pub poor: Option<f64>,
}

/// Collects one vital's values.
#[derive(Default, Debug, Clone)]
pub struct VitalValues {
    values: Vec<f64>,
    ratings: [u64; 3],
}

impl VitalValues {
    /// Adds a value of `vital`.
    pub fn add(&mut self, vital: Vital, value: f64) {
        self.values.push(value);
        self.ratings[match vital.rate(value) {
            Rating::Good => 0,
            Rating::NeedsImprovement => 1,
            Rating::Poor => 2,
        }] += 1;
    }

    /// The distribution.
    pub fn finish(mut self) -> VitalSummary {
        let count = self.values.len() as u64;
        VitalSummary {
            count,
            p75: percentile(&mut self.values, 0.75),
            good: rate(self.ratings[0], count),
            needs_improvement: rate(self.ratings[1], count),
            poor: rate(self.ratings[2], count),
        }
    }
}

/// Leaving counts of a set of page views.
#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq)]
pub struct LeaveCounts {
    /// Page views whose leaving is known (`abandoned` not null).
    pub known: u64,
    /// Left before the page loaded.
    pub abandoned: u64,
    /// Left within the dwell after a slow load.
    pub slow_bounces: u64,
}

impl LeaveCounts {
    /// Counts `view`.
    pub fn add(&mut self, view: &PageView) {
        if let Some(abandoned) = view.abandoned {
            self.known += 1;
            self.abandoned += u64::from(abandoned);
            self.slow_bounces += u64::from(view.slow_bounce == Some(true));
        }
    }

    /// Visitors lost to slowness: abandoned plus slow bounces.
    pub fn lost(&self) -> u64 {
        self.abandoned + self.slow_bounces
    }
}

/// `GET .../summary`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Summary {
    /// Page views in the period.
    pub page_views: u64,
    /// Per vital: p75 and good / needs-improvement / poor shares.
    pub vitals: BTreeMap<&'static str, VitalSummary>,
    /// Abandoned / page views whose leaving is known.
    pub abandonment_rate: Option<f64>,
    /// Slow bounces / page views whose leaving is known.
    pub slow_bounce_rate: Option<f64>,
    /// Leaving counts.
    pub leaving: LeaveCounts,
    /// Feedback answers by scale and rating (`thumbs` → `"1"` → count).
    pub feedback: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Builds a [`Summary`] one row at a time.
#[derive(Default)]
pub struct SummaryBuilder {
    page_views: u64,
    vitals: BTreeMap<&'static str, VitalValues>,
    leaving: LeaveCounts,
    feedback: BTreeMap<String, BTreeMap<String, u64>>,
}

impl SummaryBuilder {
    /// Adds a page view.
    pub fn add(&mut self, view: &PageView) {
        self.page_views += 1;
        for vital in Vital::ALL {
            if let Some(value) = vital_value(view, vital) {
                self.vitals.entry(vital.field()).or_default().add(vital, value);
            }
        }
        self.leaving.add(view);
        if let (Some(scale), Some(rating)) = (&view.feedback_scale, view.feedback_rating) {
            *self.feedback.entry(scale.clone()).or_default().entry(rating.to_string()).or_default() += 1;
        }
    }

    /// The summary.
    pub fn finish(self) -> Summary {
        let mut vitals: BTreeMap<&'static str, VitalSummary> =
            self.vitals.into_iter().map(|(name, values)| (name, values.finish())).collect();
        for vital in Vital::ALL {
            vitals.entry(vital.field()).or_insert_with(|| VitalValues::default().finish());
        }
        Summary {
            page_views: self.page_views,
            vitals,
            abandonment_rate: rate(self.leaving.abandoned, self.leaving.known),
            slow_bounce_rate: rate(self.leaving.slow_bounces, self.leaving.known),
            leaving: self.leaving,
            feedback: self.feedback,
        }
    }
}

/// One load-time bucket of the abandonment curve.
#[derive(Serialize, Debug, Clone, PartialEq)]
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
}

/// `GET .../abandonment`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Abandonment {
    /// Page views whose wait is known.
    pub page_views: u64,
    /// Buckets of 1 s up to 10 s, then 10 s and more.
    pub buckets: Vec<AbandonmentBucket>,
}

/// How long the visitor waited: the load time, or, when they left before
/// the page loaded, the time until they left. `None` while unknown.
pub fn wait_ms(view: &PageView) -> Option<f64> {
    match view.abandoned {
        Some(true) => view.left_at_ms,
        _ => view.load_ms,
    }
}

fn bucket_of(wait: f64) -> usize {
    BUCKET_BOUNDS_MS.iter().position(|bound| wait < *bound).unwrap_or(BUCKET_BOUNDS_MS.len())
}

/// Builds the [`Abandonment`] curve one row at a time.
#[derive(Default)]
pub struct AbandonmentBuilder {
    counts: [LeaveCounts; BUCKET_BOUNDS_MS.len() + 1],
    views: [u64; BUCKET_BOUNDS_MS.len() + 1],
}

impl AbandonmentBuilder {
    /// Adds a page view.
    pub fn add(&mut self, view: &PageView) {
        let Some(wait) = wait_ms(view) else { return };
        let bucket = bucket_of(wait);
        self.views[bucket] += 1;
        self.counts[bucket].add(view);
    }

    /// The curve.
    pub fn finish(self) -> Abandonment {
        let total: u64 = self.views.iter().sum();
        let mut waiting = total;
        let mut abandoned_after: u64 = self.counts.iter().map(|c| c.abandoned).sum();
        let mut buckets = Vec::with_capacity(self.views.len());
        for (index, (views, counts)) in self.views.iter().zip(self.counts.iter()).enumerate() {
            let from_ms = if index == 0 { 0.0 } else { BUCKET_BOUNDS_MS[index - 1] };
            buckets.push(AbandonmentBucket {
                from_ms,
                to_ms: BUCKET_BOUNDS_MS.get(index).copied(),
                page_views: *views,
                abandoned: counts.abandoned,
                abandonment_rate: rate(counts.abandoned, *views),
                slow_bounces: counts.slow_bounces,
                slow_bounce_rate: rate(counts.slow_bounces, *views),
                still_waiting: waiting,
                left_while_waiting_rate: rate(abandoned_after, waiting),
            });
            waiting -= views;
            abandoned_after -= counts.abandoned;
        }
        Abandonment { page_views: total, buckets }
    }
}

/// A dimension page views can be broken down by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dimension {
    /// URL path (without query).
    Path,
    /// Device class.
    Device,
    /// Browser family.
    Browser,
    /// OS family.
    Os,
    /// Effective connection type.
    EffectiveType,
    /// Navigation type.
    NavType,
    /// UTC hour of the page view's start (0-23).
    HourOfDay,
    /// HTTP status of the navigation.
    ResponseStatus,
    /// A custom tag, by key.
    Tag(String),
}

impl Dimension {
    /// Parses `by=`: a dimension name, or `tag:KEY` (also a bare tag key).
    pub fn parse(by: &str) -> Option<Dimension> {
        Some(match by {
            "path" => Dimension::Path,
            "device" => Dimension::Device,
            "browser" => Dimension::Browser,
            "os" => Dimension::Os,
            "effective_type" => Dimension::EffectiveType,
            "nav_type" => Dimension::NavType,
            "hour_of_day" => Dimension::HourOfDay,
            "response_status" => Dimension::ResponseStatus,
            other => {
                let key = other.strip_prefix("tag:").unwrap_or(other);
                if key.is_empty() || key.len() > 40 {
                    return None;
                }
                Dimension::Tag(key.to_string())
            }
        })
    }

    /// The group `view` falls in; `None` when it has no value.
    pub fn key(&self, view: &PageView) -> Option<String> {
        match self {
            Dimension::Path => Some(view.path().to_string()),
            Dimension::Device => view.device.clone(),
            Dimension::Browser => view.browser.clone(),
            Dimension::Os => view.os.clone(),
            Dimension::EffectiveType => view.effective_type.clone(),
            Dimension::NavType => view.nav_type.clone(),
            Dimension::HourOfDay => Some(((view.started_at.rem_euclid(86_400_000)) / 3_600_000).to_string()),
            Dimension::ResponseStatus => view.response_status.map(|s| s.to_string()),
            Dimension::Tag(key) => view.tags.get(key).cloned(),
        }
    }
}

/// One group of a breakdown.
#[derive(Serialize, Debug, Clone, PartialEq)]
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
    /// Per vital: p75 and shares.
    pub vitals: BTreeMap<&'static str, VitalSummary>,
}

/// Builds a breakdown by one [`Dimension`].
pub struct BreakdownBuilder {
    dimension: Dimension,
    groups: BTreeMap<Option<String>, SummaryBuilder>,
}

impl BreakdownBuilder {
    /// A breakdown by `dimension`.
    pub fn new(dimension: Dimension) -> Self {
        BreakdownBuilder { dimension, groups: BTreeMap::new() }
    }

    /// Adds a page view.
    pub fn add(&mut self, view: &PageView) {
        self.groups.entry(self.dimension.key(view)).or_default().add(view);
    }

    /// Groups, most visitors lost first, then most page views.
    pub fn finish(self) -> Vec<BreakdownRow> {
        let mut rows: Vec<BreakdownRow> = self
            .groups
            .into_iter()
            .map(|(key, builder)| {
                let summary = builder.finish();
                BreakdownRow {
                    key,
                    page_views: summary.page_views,
                    lost: summary.leaving.lost(),
                    lost_rate: rate(summary.leaving.lost(), summary.leaving.known),
                    abandonment_rate: summary.abandonment_rate,
                    slow_bounce_rate: summary.slow_bounce_rate,
                    leaving: summary.leaving,
                    vitals: summary.vitals,
                }
            })
            .collect();
        rows.sort_by(|a, b| b.lost.cmp(&a.lost).then(b.page_views.cmp(&a.page_views)).then(a.key.cmp(&b.key)));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(load: Option<f64>, left: Option<f64>, abandoned: Option<bool>, slow_bounce: bool) -> PageView {
        PageView { load_ms: load, left_at_ms: left, abandoned, slow_bounce: Some(slow_bounce), ..PageView::default() }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let check = |values: &[f64], q: f64, expected: Option<f64>| {
            assert_eq!(percentile(&mut values.to_vec(), q), expected, "{values:?} q={q}");
        };
        check(&[], 0.75, None);
        check(&[5.0], 0.75, Some(5.0));
        check(&[4.0, 1.0, 3.0, 2.0], 0.75, Some(3.0));
        check(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.75, Some(4.0));
        check(&[1.0, 2.0, 3.0, 4.0, 5.0], 1.0, Some(5.0));
    }

    #[test]
    fn the_curve_buckets_waits_and_follows_those_still_waiting() {
        let mut curve = AbandonmentBuilder::default();
        // Loaded at 0.5 s, 1.5 s and 3.5 s (the last one counted as a slow bounce).
        curve.add(&view(Some(500.0), Some(9000.0), Some(false), false));
        curve.add(&view(Some(1500.0), Some(9000.0), Some(false), false));
        curve.add(&view(Some(3500.0), Some(4000.0), Some(false), true));
        // Left before load at 3.2 s and at 12 s.
        curve.add(&view(None, Some(3200.0), Some(true), false));
        curve.add(&view(None, Some(12_000.0), Some(true), false));
        // Unknown wait: ignored.
        curve.add(&view(None, None, None, false));
        let curve = curve.finish();
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
    fn breakdowns_rank_by_visitors_lost() {
        let at = |url: &str, abandoned: bool| PageView {
            url: url.into(),
            abandoned: Some(abandoned),
            slow_bounce: Some(false),
            lcp_ms: Some(1000.0),
            ..PageView::default()
        };
        let mut by_path = BreakdownBuilder::new(Dimension::parse("path").unwrap());
        for view in
            [at("/a?x=1", false), at("/a", false), at("/a", false), at("/b", true), at("/b", true), at("/c", true)]
        {
            by_path.add(&view);
        }
        let rows = by_path.finish();
        let keys: Vec<_> = rows.iter().map(|r| (r.key.clone().unwrap(), r.lost, r.page_views)).collect();
        assert_eq!(keys, [("/b".into(), 2, 2), ("/c".into(), 1, 1), ("/a".into(), 0, 3)]);
        assert_eq!(rows[0].lost_rate, Some(1.0));
        assert_eq!(rows[0].vitals["lcp_ms"].p75, Some(1000.0));
        assert_eq!(Dimension::parse("tag:variant"), Some(Dimension::Tag("variant".into())));
        assert_eq!(
            Dimension::parse("hour_of_day")
                .unwrap()
                .key(&PageView { started_at: 3_600_000 * 25, ..PageView::default() }),
            Some("1".into())
        );
    }

    #[test]
    fn the_summary_counts_rates_shares_and_feedback() {
        let mut summary = SummaryBuilder::default();
        for (lcp, abandoned, slow) in
            [(1000.0, false, false), (3000.0, false, true), (5000.0, true, false), (2000.0, false, false)]
        {
            summary.add(&PageView {
                lcp_ms: Some(lcp),
                abandoned: Some(abandoned),
                slow_bounce: Some(slow),
                feedback_scale: Some("thumbs".into()),
                feedback_rating: Some(u8::from(!abandoned)),
                ..PageView::default()
            });
        }
        let summary = summary.finish();
        assert_eq!(summary.page_views, 4);
        assert_eq!(summary.abandonment_rate, Some(0.25));
        assert_eq!(summary.slow_bounce_rate, Some(0.25));
        let lcp = &summary.vitals["lcp_ms"];
        assert_eq!((lcp.count, lcp.p75), (4, Some(3000.0)));
        assert_eq!((lcp.good, lcp.needs_improvement, lcp.poor), (Some(0.5), Some(0.25), Some(0.25)));
        assert_eq!(summary.vitals["inp_ms"].count, 0);
        assert_eq!(summary.feedback["thumbs"]["1"], 3);
    }
}
