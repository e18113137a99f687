//! Mergeable statistics of a set of page views: counts, leaving, the
//! abandonment curve's buckets, feedback counts, and per vital a DDSketch
//! (relative error under 1%) with good / needs-improvement / poor counts.
//!
//! One [`Stats`] answers the summary, a breakdown row, a time-series point
//! or the abandonment curve. Stats of disjoint sets merge into the stats of
//! their union, so rollups (one per site, hour and dimension value) add up
//! to any period, and raw rows folded on the fly give the same answers.

use std::collections::BTreeMap;

use palaute::vitals::thresholds::{Rating, Vital};
use serde::{Deserialize, Serialize};
use sketches_ddsketch::{Config, DDSketch};
use utoipa::ToSchema;

use crate::model::PageView;

/// Relative accuracy of the sketches: a percentile is within this fraction
/// of the exact value of the same rank (kept under the promised 1%).
pub const SKETCH_ACCURACY: f64 = 0.008;
/// Most bins per sketch (covers 1 µs .. hours at [`SKETCH_ACCURACY`]).
const SKETCH_MAX_BINS: u32 = 4096;
/// Smallest value a sketch tells apart from 0 (CLS is often 0).
const SKETCH_MIN_VALUE: f64 = 1e-6;

/// Upper bounds (ms, exclusive) of the load-time buckets; the last bucket is open.
pub const BUCKET_BOUNDS_MS: [f64; 10] = [1e3, 2e3, 3e3, 4e3, 5e3, 6e3, 7e3, 8e3, 9e3, 10e3];
/// Number of load-time buckets.
pub const BUCKETS: usize = BUCKET_BOUNDS_MS.len() + 1;

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

/// How long the visitor waited: the load time, or, when they left before
/// the page loaded, the time until they left. `None` while unknown.
pub fn wait_ms(view: &PageView) -> Option<f64> {
    match view.abandoned {
        Some(true) => view.left_at_ms,
        _ => view.load_ms,
    }
}

/// The load-time bucket of a wait.
pub fn bucket_of(wait: f64) -> usize {
    BUCKET_BOUNDS_MS.iter().position(|bound| wait < *bound).unwrap_or(BUCKET_BOUNDS_MS.len())
}

/// Leaving counts of a set of page views.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq, ToSchema)]
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

    /// Adds another set's counts.
    pub fn merge(&mut self, other: &LeaveCounts) {
        self.known += other.known;
        self.abandoned += other.abandoned;
        self.slow_bounces += other.slow_bounces;
    }

    /// Visitors lost to slowness: abandoned plus slow bounces.
    pub fn lost(&self) -> u64 {
        self.abandoned + self.slow_bounces
    }
}

/// Frustration signals of a set of page views.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq, ToSchema)]
pub struct FrustrationCounts {
    /// Page views whose signals are known (the module watched their clicks).
    pub known: u64,
    /// Of those, page views with a rage click or a dead click.
    pub frustrated: u64,
    /// Rage clicks, over every page view.
    pub rage_clicks: u64,
    /// Dead clicks, over every page view.
    pub dead_clicks: u64,
}

impl FrustrationCounts {
    /// Counts `view`.
    pub fn add(&mut self, view: &PageView) {
        if view.rage_clicks.is_none() && view.dead_clicks.is_none() {
            return;
        }
        let (rage, dead) = (view.rage_clicks.unwrap_or(0), view.dead_clicks.unwrap_or(0));
        self.known += 1;
        self.frustrated += u64::from(rage > 0 || dead > 0);
        self.rage_clicks += u64::from(rage);
        self.dead_clicks += u64::from(dead);
    }

    /// Adds another set's counts.
    pub fn merge(&mut self, other: &FrustrationCounts) {
        self.known += other.known;
        self.frustrated += other.frustrated;
        self.rage_clicks += other.rage_clicks;
        self.dead_clicks += other.dead_clicks;
    }
}

/// One load-time bucket: page views whose wait fell in it, and how they left.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketCounts {
    /// Page views whose wait falls in the bucket.
    pub views: u64,
    /// How they left.
    pub leaving: LeaveCounts,
    /// Feedback answers given on them.
    pub answers: u64,
    /// Of those, satisfied ones (see [`is_satisfied`]).
    pub satisfied: u64,
}

/// Whether a rating is a satisfied answer: thumbs up, or 4 or 5 of 5.
pub fn is_satisfied(scale: &str, rating: u8) -> bool {
    match scale {
        "five" => rating >= 4,
        _ => rating == 1,
    }
}

/// Values a [`VitalStats`] keeps exactly before it turns them into a
/// sketch: a rollup row of a value seen a few times costs bytes, not the
/// kilobyte of a sketch's bins.
pub const EXACT_VALUES: usize = 16;

/// One vital's values: exactly while there are few, then a DDSketch.
#[derive(Serialize, Deserialize, Clone)]
enum Values {
    Exact(Vec<f64>),
    Sketch(DDSketch),
}

fn sketch_of(values: &[f64]) -> DDSketch {
    let mut sketch = DDSketch::new(Config::new(SKETCH_ACCURACY, SKETCH_MAX_BINS, SKETCH_MIN_VALUE));
    for value in values {
        sketch.add(*value);
    }
    sketch
}

/// One vital's distribution: its values (exact while few, else a sketch)
/// and the rating counts.
#[derive(Serialize, Deserialize, Clone)]
pub struct VitalStats {
    values: Values,
    /// Values rated good, needs improvement, poor.
    pub ratings: [u64; 3],
}

impl Default for VitalStats {
    fn default() -> Self {
        VitalStats { values: Values::Exact(Vec::new()), ratings: [0; 3] }
    }
}

impl std::fmt::Debug for VitalStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VitalStats").field("count", &self.count()).field("ratings", &self.ratings).finish()
    }
}

impl VitalStats {
    /// Adds a value of `vital`.
    pub fn add(&mut self, vital: Vital, value: f64) {
        match &mut self.values {
            Values::Exact(values) if values.len() < EXACT_VALUES => values.push(value),
            Values::Exact(values) => {
                let mut sketch = sketch_of(values);
                sketch.add(value);
                self.values = Values::Sketch(sketch);
            }
            Values::Sketch(sketch) => sketch.add(value),
        }
        self.ratings[match vital.rate(value) {
            Rating::Good => 0,
            Rating::NeedsImprovement => 1,
            Rating::Poor => 2,
        }] += 1;
    }

    /// Adds another set's values.
    pub fn merge(&mut self, other: &VitalStats) {
        match (&mut self.values, &other.values) {
            (Values::Exact(mine), Values::Exact(theirs)) if mine.len() + theirs.len() <= EXACT_VALUES => {
                mine.extend_from_slice(theirs);
            }
            (Values::Exact(mine), theirs) => {
                let mut sketch = sketch_of(mine);
                merge_into(&mut sketch, theirs);
                self.values = Values::Sketch(sketch);
            }
            (Values::Sketch(sketch), theirs) => merge_into(sketch, theirs),
        }
        for (mine, theirs) in self.ratings.iter_mut().zip(other.ratings) {
            *mine += theirs;
        }
    }

    /// Values counted.
    pub fn count(&self) -> u64 {
        self.ratings.iter().sum()
    }

    /// The `q` percentile (0 < q ≤ 1) by nearest rank (the value at rank
    /// ⌈q·n⌉): exact while the values are few, else within
    /// [`SKETCH_ACCURACY`] of the exact one.
    pub fn percentile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        self.at_rank((q * n as f64).ceil() as u64)
    }

    /// The value at `rank` (1 = the smallest, clamped to 1..=n) in sorted
    /// order: exact while the values are few, else within
    /// [`SKETCH_ACCURACY`] of the exact one; `None` when empty, and when
    /// not every counted value is known (a [`Stats::remainder`]'s).
    pub fn at_rank(&self, rank: u64) -> Option<f64> {
        let n = self.count();
        let known = match &self.values {
            Values::Exact(values) => values.len() as u64,
            Values::Sketch(sketch) => sketch.count() as u64,
        };
        if n == 0 || known != n {
            return None;
        }
        let rank = rank.clamp(1, n) - 1;
        let sketch = match &self.values {
            Values::Exact(values) => {
                let mut sorted = values.clone();
                sorted.sort_by(f64::total_cmp);
                return sorted.get(rank as usize).copied();
            }
            Values::Sketch(sketch) => sketch,
        };
        if rank + 1 == n {
            return sketch.max();
        }
        // The sketch reads rank ⌊q'·(n−1)⌋; aim at the middle of ours.
        let q = (rank as f64 + 0.5) / (n - 1) as f64;
        sketch.quantile(q.min(1.0)).ok().flatten()
    }
}

fn merge_into(sketch: &mut DDSketch, values: &Values) {
    match values {
        Values::Exact(values) => values.iter().for_each(|v| sketch.add(*v)),
        // Same configuration by construction, so merging cannot fail.
        Values::Sketch(other) => drop(sketch.merge(other)),
    }
}

/// The page-view columns [`Stats::add`] reads (a test strips every other
/// one and finds the same stats): what an answer's raw rows are read with.
pub const STATS_COLUMNS: [&str; 15] = [
    "ttfb_ms",
    "fcp_ms",
    "lcp_ms",
    "inp_ms",
    "cls",
    "load_ms",
    "left_at_ms",
    "abandoned",
    "slow_bounce",
    "response_status",
    "feedback_scale",
    "feedback_rating",
    "rage_clicks",
    "dead_clicks",
    "started_at",
];

/// Statistics of a set of page views (see the module docs).
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Stats {
    /// Page views.
    pub page_views: u64,
    /// How visitors left.
    pub leaving: LeaveCounts,
    /// Per vital, in [`Vital::ALL`] order. (This and the curve on the
    /// heap: a query moves thousands of `Stats` around, 100 B each rather
    /// than 1.6 KB; the encoded form is the same.)
    pub vitals: Box<[VitalStats; 5]>,
    /// The abandonment curve's buckets.
    pub curve: Box<[BucketCounts; BUCKETS]>,
    /// Feedback answers by scale, then rating.
    pub feedback: BTreeMap<String, BTreeMap<u8, u64>>,
    /// Page views whose navigation response status is known.
    pub statuses: u64,
    /// Of those, answered with a server error (5xx).
    pub server_errors: u64,
    /// Rage and dead clicks.
    pub frustration: FrustrationCounts,
    /// Only on an hour rollup's row of its other values
    /// ([`OTHER`](crate::grouping::OTHER)): the sorted [`folded_hash`]es of
    /// the values folded into it, so that a query for one value knows
    /// whether the hour holds it whole.
    pub folded: Vec<u32>,
    /// Only on a day rollup's row of one value: some of the value's page
    /// views that day are in an hour's other values, so the row is not the
    /// value's whole day (a query for it reads the day's hours).
    pub partial: bool,
}

/// A value's stable 64-bit hash (FNV-1a): the same in every build and on
/// every collector, since rollups store it.
pub fn value_hash(value: &str) -> u64 {
    value.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// [`value_hash`] in 32 bits, as [`Stats::folded`] keeps it (a collision
/// only makes a query read a span's raw rows).
pub fn folded_hash(value: &str) -> u32 {
    let hash = value_hash(value);
    (hash ^ (hash >> 32)) as u32
}

impl Stats {
    /// Counts a page view.
    pub fn add(&mut self, view: &PageView) {
        self.page_views += 1;
        for (stats, vital) in self.vitals.iter_mut().zip(Vital::ALL) {
            if let Some(value) = vital_value(view, vital) {
                stats.add(vital, value);
            }
        }
        self.leaving.add(view);
        self.frustration.add(view);
        if let Some(status) = view.response_status {
            self.statuses += 1;
            self.server_errors += u64::from(status >= 500);
        }
        let answer = view.feedback_scale.as_deref().zip(view.feedback_rating);
        if let Some(wait) = wait_ms(view) {
            let bucket = &mut self.curve[bucket_of(wait)];
            bucket.views += 1;
            bucket.leaving.add(view);
            if let Some((scale, rating)) = answer {
                bucket.answers += 1;
                bucket.satisfied += u64::from(is_satisfied(scale, rating));
            }
        }
        if let (Some(scale), Some(rating)) = (&view.feedback_scale, view.feedback_rating) {
            *self.feedback.entry(scale.clone()).or_default().entry(rating).or_default() += 1;
        }
    }

    /// Adds the stats of a disjoint set of page views.
    pub fn merge(&mut self, other: &Stats) {
        self.page_views += other.page_views;
        self.leaving.merge(&other.leaving);
        self.frustration.merge(&other.frustration);
        self.statuses += other.statuses;
        self.server_errors += other.server_errors;
        for (mine, theirs) in self.vitals.iter_mut().zip(other.vitals.iter()) {
            mine.merge(theirs);
        }
        for (mine, theirs) in self.curve.iter_mut().zip(other.curve.iter()) {
            mine.views += theirs.views;
            mine.leaving.merge(&theirs.leaving);
            mine.answers += theirs.answers;
            mine.satisfied += theirs.satisfied;
        }
        self.partial |= other.partial;
        if !other.folded.is_empty() {
            self.folded.extend_from_slice(&other.folded);
            self.folded.sort_unstable();
            self.folded.dedup();
        }
        for (scale, ratings) in &other.feedback {
            let mine = self.feedback.entry(scale.clone()).or_default();
            for (rating, count) in ratings {
                *mine.entry(*rating).or_default() += count;
            }
        }
    }

    /// What `total` holds beyond `parts` (a subset of its page views), in
    /// counts only: page views, leaving, frustration, statuses, the curve,
    /// feedback and each vital's ratings, but none of the vitals' values
    /// (their shares are known, their percentiles are not: `None`).
    pub fn remainder<'a>(total: &Stats, parts: impl IntoIterator<Item = &'a Stats>) -> Stats {
        let mut rest = Stats {
            page_views: total.page_views,
            leaving: total.leaving,
            frustration: total.frustration,
            statuses: total.statuses,
            server_errors: total.server_errors,
            curve: total.curve.clone(),
            feedback: total.feedback.clone(),
            ..Stats::default()
        };
        for (rest, total) in rest.vitals.iter_mut().zip(total.vitals.iter()) {
            rest.ratings = total.ratings;
        }
        let less = |a: &mut u64, b: u64| *a = a.saturating_sub(b);
        let less_leaving = |a: &mut LeaveCounts, b: &LeaveCounts| {
            less(&mut a.known, b.known);
            less(&mut a.abandoned, b.abandoned);
            less(&mut a.slow_bounces, b.slow_bounces);
        };
        for part in parts {
            less(&mut rest.page_views, part.page_views);
            less_leaving(&mut rest.leaving, &part.leaving);
            less(&mut rest.frustration.known, part.frustration.known);
            less(&mut rest.frustration.frustrated, part.frustration.frustrated);
            less(&mut rest.frustration.rage_clicks, part.frustration.rage_clicks);
            less(&mut rest.frustration.dead_clicks, part.frustration.dead_clicks);
            less(&mut rest.statuses, part.statuses);
            less(&mut rest.server_errors, part.server_errors);
            for (rest, part) in rest.vitals.iter_mut().zip(part.vitals.iter()) {
                rest.ratings.iter_mut().zip(part.ratings).for_each(|(a, b)| less(a, b));
            }
            for (rest, part) in rest.curve.iter_mut().zip(part.curve.iter()) {
                less(&mut rest.views, part.views);
                less_leaving(&mut rest.leaving, &part.leaving);
                less(&mut rest.answers, part.answers);
                less(&mut rest.satisfied, part.satisfied);
            }
            for (scale, ratings) in &part.feedback {
                if let Some(rest) = rest.feedback.get_mut(scale) {
                    for (rating, count) in ratings {
                        rest.entry(*rating).and_modify(|n| less(n, *count));
                    }
                }
            }
        }
        rest
    }

    /// Feedback answers, and how many were satisfied, over every scale.
    pub fn answers(&self) -> (u64, u64) {
        self.feedback.iter().fold((0, 0), |(answers, satisfied), (scale, ratings)| {
            ratings.iter().fold((answers, satisfied), |(a, s), (rating, n)| {
                (a + n, s + if is_satisfied(scale, *rating) { *n } else { 0 })
            })
        })
    }

    /// Whether a value with this [`folded_hash`] may be among those
    /// folded into this row.
    pub fn may_hold(&self, hash: u32) -> bool {
        self.folded.binary_search(&hash).is_ok()
    }

    /// The stats of one vital.
    pub fn vital(&self, vital: Vital) -> &VitalStats {
        let index = Vital::ALL.iter().position(|v| *v == vital).unwrap_or(0);
        &self.vitals[index]
    }

    /// A compact binary form, for rollups.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Reads [`encode`](Self::encode)'s form; `None` if it is not one.
    pub fn decode(bytes: &[u8]) -> Option<Stats> {
        postcard::from_bytes(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(values: &mut [f64], q: f64) -> f64 {
        values.sort_by(f64::total_cmp);
        values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1]
    }

    #[test]
    fn sketch_percentiles_are_within_one_percent_of_nearest_rank() {
        let mut seed: u64 = 7;
        for n in [1usize, 2, 3, 4, 10, 11, 97, 1000, 20_000] {
            let mut values: Vec<f64> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    // Log-normal-ish load times: 50 ms .. 30 s.
                    50.0 * (((seed >> 11) as f64 / (1u64 << 53) as f64) * 6.4).exp()
                })
                .collect();
            let mut stats = VitalStats::default();
            for v in &values {
                stats.add(Vital::Lcp, *v);
            }
            for q in [0.5, 0.75, 0.95, 0.99, 1.0] {
                let truth = exact(&mut values, q);
                let estimate = stats.percentile(q).unwrap();
                assert!((estimate - truth).abs() <= 0.01 * truth, "n={n} q={q}: {estimate} vs {truth}");
            }
        }
        assert_eq!(VitalStats::default().percentile(0.75), None);
    }

    #[test]
    fn merged_stats_equal_the_stats_of_the_union_and_survive_encoding() {
        let views: Vec<PageView> = (0..500)
            .map(|i| PageView {
                lcp_ms: Some(100.0 + (i * 37 % 5000) as f64),
                cls: Some(if i % 3 == 0 { 0.0 } else { (i % 40) as f64 / 100.0 }),
                load_ms: Some((i * 53 % 12_000) as f64),
                left_at_ms: Some(20_000.0),
                abandoned: Some(i % 7 == 0),
                slow_bounce: Some(i % 11 == 0),
                feedback_scale: (i % 5 == 0).then(|| "thumbs".to_string()),
                feedback_rating: (i % 5 == 0).then_some((i % 2) as u8),
                ..PageView::default()
            })
            .collect();
        let mut whole = Stats::default();
        let mut halves = [Stats::default(), Stats::default()];
        for (i, view) in views.iter().enumerate() {
            whole.add(view);
            halves[i % 2].add(view);
        }
        let mut merged = Stats::decode(&halves[0].encode()).unwrap();
        merged.merge(&Stats::decode(&halves[1].encode()).unwrap());
        assert_eq!(merged.page_views, whole.page_views);
        assert_eq!(merged.leaving, whole.leaving);
        assert_eq!(merged.curve, whole.curve);
        assert_eq!(merged.feedback, whole.feedback);
        for vital in Vital::ALL {
            assert_eq!(merged.vital(vital).ratings, whole.vital(vital).ratings);
            for q in [0.5, 0.75, 0.95, 0.99] {
                assert_eq!(merged.vital(vital).percentile(q), whole.vital(vital).percentile(q), "{vital:?} {q}");
            }
        }
        assert!(merged.encode().len() < 4096, "compact: {} bytes", merged.encode().len());
        assert!(Stats::decode(b"not stats").is_none());
    }
}
