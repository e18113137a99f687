//! Did B change against A? Two sets of page views compared measure by
//! measure, from their mergeable [`Stats`] alone (so rollups answer it as
//! raw rows do), with an interval for the difference B − A and a verdict
//! that is `better` or `worse` only when the interval excludes no change.
//!
//! The measures ([`MEASURES`], one table): each vital's p75, and the
//! abandonment, slow-bounce and frustrated rates and CSAT. The methods
//! (docs/compare.md says more, with their assumptions):
//!
//! - **p75 of a vital**: a distribution-free interval for each side's
//!   quantile from two order statistics: with n values, the count below
//!   the true p75 is Binomial(n, 0.75), so the values at ranks
//!   ⌊0.75n − z·√(n·0.75·0.25)⌋ and ⌈0.75n + z·√(n·0.75·0.25)⌉ + 1 bracket
//!   it with at least the asked confidence, for any continuous
//!   distribution, however skewed. The ranks are read off the DDSketch and
//!   widened by its relative error ([`SKETCH_ACCURACY`]). Each side's
//!   interval gives a standard error (its width / 2z) and the difference's
//!   interval combines them as independent errors: Price & Bonett's
//!   interval for a difference of medians (2002), at the 75th percentile.
//! - **rates** (and CSAT): Wilson's score interval for each side, and
//!   Newcombe's hybrid score interval (his method 10, 1998) for the
//!   difference of two independent proportions.
//!
//! A side with fewer than the [`Minimums`] gets no interval and the verdict
//! `no_clear_change`, with the reason: too few values are never a verdict.

use palaute::vitals::thresholds::Vital;
use serde::Serialize;
use utoipa::ToSchema;

use crate::stats::{Stats, VitalStats, SKETCH_ACCURACY};

/// z for a two-sided 95% interval: the intervals the compare endpoint shows.
pub const Z_95: f64 = 1.959_963_984_540_054;
/// z for a two-sided 99% interval: the regression alert's, which judges
/// five measures at once (Bonferroni: 5 × 1% keeps the chance that an
/// unchanged release raises any alert under 5%).
pub const Z_99: f64 = 2.575_829_303_548_901;

/// The quantile compared for each vital: p75, as Core Web Vitals judge.
pub const QUANTILE: f64 = 0.75;

/// The fewest values each side needs before a measure gets an interval
/// and a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minimums {
    /// Values of a vital.
    pub values: u64,
    /// Page views whose leaving (or frustration) is known.
    pub known: u64,
    /// Feedback answers, for CSAT.
    pub answers: u64,
}

/// The minimums the API and the alert use: the normal approximation of the
/// binomial ranks and of the rates is sound at these sizes.
pub const MINIMUMS: Minimums = Minimums { values: 100, known: 100, answers: 30 };

/// Whether B is better, worse, or not clearly different from A.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The interval of B − A lies wholly on the better side of 0.
    Better,
    /// The interval of B − A lies wholly on the worse side of 0.
    Worse,
    /// The interval includes 0, or a side has too few values.
    NoClearChange,
}

/// Which direction is better for a measure.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Lower is better (times, CLS, abandonment, slow bounce, frustration).
    Lower,
    /// Higher is better (CSAT).
    Higher,
}

/// How a measure is read off [`Stats`].
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// A vital's p75.
    Vital(Vital),
    /// A proportion: `(part, whole)`.
    Rate(fn(&Stats) -> (u64, u64)),
}

/// One measure the comparison reports.
#[derive(Debug, Clone, Copy)]
pub struct MeasureDef {
    /// Its name in the answer (`lcp_ms`, `abandonment_rate`, ...).
    pub name: &'static str,
    /// Where its values come from.
    pub source: Source,
    /// Which direction is better.
    pub better: Better,
    /// Whether a `worse` verdict raises the regression alert.
    pub alerts: bool,
    /// How a person reads it (`p75 LCP`, `CSAT`).
    pub label: &'static str,
}

/// Every measure, in the answer's order: the one list (the API, the alert
/// and the dashboard read it).
pub static MEASURES: [MeasureDef; 9] = [
    vital("ttfb_ms", Vital::Ttfb, false, "p75 TTFB"),
    vital("fcp_ms", Vital::Fcp, false, "p75 FCP"),
    vital("lcp_ms", Vital::Lcp, true, "p75 LCP"),
    vital("inp_ms", Vital::Inp, true, "p75 INP"),
    vital("cls", Vital::Cls, true, "p75 CLS"),
    MeasureDef {
        name: "abandonment_rate",
        source: Source::Rate(|s| (s.leaving.abandoned, s.leaving.known)),
        better: Better::Lower,
        alerts: true,
        label: "abandonment",
    },
    MeasureDef {
        name: "slow_bounce_rate",
        source: Source::Rate(|s| (s.leaving.slow_bounces, s.leaving.known)),
        better: Better::Lower,
        alerts: false,
        label: "slow bounces",
    },
    MeasureDef {
        name: "frustrated_rate",
        source: Source::Rate(|s| (s.frustration.frustrated, s.frustration.known)),
        better: Better::Lower,
        alerts: false,
        label: "frustrated page views",
    },
    MeasureDef { name: "csat", source: Source::Rate(answers), better: Better::Higher, alerts: true, label: "CSAT" },
];

const fn vital(name: &'static str, vital: Vital, alerts: bool, label: &'static str) -> MeasureDef {
    MeasureDef { name, source: Source::Vital(vital), better: Better::Lower, alerts, label }
}

fn answers(stats: &Stats) -> (u64, u64) {
    let (answers, satisfied) = stats.answers();
    (satisfied, answers)
}

/// One measure of A and B, and their difference.
#[derive(Serialize, Debug, Clone, PartialEq, ToSchema)]
pub struct Measure {
    /// How a person reads it (`p75 LCP`, `CSAT`).
    pub label: &'static str,
    /// A's value (a p75 or a rate); null when A has none.
    pub a: Option<f64>,
    /// B's value.
    pub b: Option<f64>,
    /// B − A.
    pub difference: Option<f64>,
    /// Lower bound of the interval of B − A (95% in the API).
    pub low: Option<f64>,
    /// Upper bound of the interval of B − A.
    pub high: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
    /// Which direction is better.
    pub better: Better,
    /// A's sample size: values of the vital, page views whose leaving or
    /// frustration is known, or feedback answers.
    pub a_count: u64,
    /// B's sample size.
    pub b_count: u64,
    /// A's own interval, `[low, high]`.
    pub a_interval: Option<[f64; 2]>,
    /// B's own interval.
    pub b_interval: Option<[f64; 2]>,
    /// For a vital: A's share of good values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a_good: Option<f64>,
    /// For a vital: B's share of good values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b_good: Option<f64>,
    /// Why there is no verdict, when a side has too few values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One side's estimate and interval.
struct Side {
    value: Option<f64>,
    count: u64,
    /// `(low, high)` when the side has enough values.
    interval: Option<(f64, f64)>,
    good: Option<f64>,
}

/// Compares every measure of `b` against `a`, with intervals at `z`
/// ([`Z_95`] in the API) and at least `minimums` values per side.
pub fn compare(a: &Stats, b: &Stats, z: f64, minimums: &Minimums) -> Vec<(&'static str, Measure)> {
    MEASURES.iter().map(|def| (def.name, measure(def, a, b, z, minimums))).collect()
}

/// One measure of `b` against `a`.
pub fn measure(def: &MeasureDef, a: &Stats, b: &Stats, z: f64, minimums: &Minimums) -> Measure {
    let (side_a, side_b, needed, unit) = match def.source {
        Source::Vital(vital) => {
            let side = |stats: &Stats| quantile_side(stats.vital(vital), z, minimums.values);
            (side(a), side(b), minimums.values, "values")
        }
        Source::Rate(read) => {
            let needed = if def.name == "csat" { minimums.answers } else { minimums.known };
            let side = |stats: &Stats| {
                let (part, whole) = read(stats);
                rate_side(part, whole, z, needed)
            };
            let unit = if def.name == "csat" { "answers" } else { "page views" };
            (side(a), side(b), needed, unit)
        }
    };
    let difference = side_a.value.zip(side_b.value).map(|(a, b)| b - a);
    let interval = match (def.source, side_a.interval, side_b.interval, difference) {
        (_, Some(ia), Some(ib), Some(d)) => Some(match def.source {
            Source::Vital(_) => price_bonett(d, ia, ib, z),
            Source::Rate(_) => newcombe(side_a.value.unwrap_or(0.0), ia, side_b.value.unwrap_or(0.0), ib),
        }),
        _ => None,
    };
    let verdict = match interval {
        Some((low, _)) if low > 0.0 => worse_if(def.better == Better::Lower),
        Some((_, high)) if high < 0.0 => worse_if(def.better == Better::Higher),
        _ => Verdict::NoClearChange,
    };
    let reason = interval.is_none().then(|| {
        format!(
            "too few to tell: A has {} {unit}, B {}; a verdict needs {needed} on each side",
            side_a.count, side_b.count
        )
    });
    Measure {
        label: def.label,
        a: side_a.value,
        b: side_b.value,
        difference,
        low: interval.map(|(low, _)| low),
        high: interval.map(|(_, high)| high),
        verdict,
        better: def.better,
        a_count: side_a.count,
        b_count: side_b.count,
        a_interval: side_a.interval.map(|(l, h)| [l, h]),
        b_interval: side_b.interval.map(|(l, h)| [l, h]),
        a_good: side_a.good,
        b_good: side_b.good,
        reason,
    }
}

fn worse_if(worse: bool) -> Verdict {
    if worse {
        Verdict::Worse
    } else {
        Verdict::Better
    }
}

/// A vital's p75 and its order-statistic interval (see the module docs).
fn quantile_side(stats: &VitalStats, z: f64, needed: u64) -> Side {
    let count = stats.count();
    let good = (count > 0).then(|| stats.ratings[0] as f64 / count as f64);
    let interval = (count >= needed.max(2)).then(|| quantile_interval(stats, QUANTILE, z)).flatten();
    Side { value: stats.percentile(QUANTILE), count, interval, good }
}

/// The ranks `(l, u)` (1-based) of the order statistics that bracket the
/// `q` quantile of `n` values with confidence at least that of `z`: the
/// normal approximation of Binomial(n, q), rounded outwards.
pub fn quantile_ranks(n: u64, q: f64, z: f64) -> (u64, u64) {
    let (n_f, centre) = (n as f64, q * n as f64);
    let spread = z * (n_f * q * (1.0 - q)).sqrt();
    let low = ((centre - spread).floor().max(1.0)) as u64;
    let high = ((centre + spread).ceil() + 1.0).min(n_f) as u64;
    (low.min(n), high.max(1))
}

/// The interval of the `q` quantile of `stats`, widened by the sketch's
/// relative error.
fn quantile_interval(stats: &VitalStats, q: f64, z: f64) -> Option<(f64, f64)> {
    let (low, high) = quantile_ranks(stats.count(), q, z);
    Some((stats.at_rank(low)? * (1.0 - SKETCH_ACCURACY), stats.at_rank(high)? * (1.0 + SKETCH_ACCURACY)))
}

/// The interval of `d` = B − A from each side's interval, as independent
/// normal errors with standard error (width / 2z) (Price & Bonett 2002).
fn price_bonett(d: f64, (a_low, a_high): (f64, f64), (b_low, b_high): (f64, f64), z: f64) -> (f64, f64) {
    let (se_a, se_b) = ((a_high - a_low) / (2.0 * z), (b_high - b_low) / (2.0 * z));
    let margin = z * (se_a * se_a + se_b * se_b).sqrt();
    (d - margin, d + margin)
}

/// A proportion and its continuity-corrected Wilson interval.
fn rate_side(part: u64, whole: u64, z: f64, needed: u64) -> Side {
    let value = (whole > 0).then(|| part as f64 / whole as f64);
    let interval = (whole >= needed.max(1)).then(|| wilson_corrected(part, whole, z)).flatten();
    Side { value, count: whole, interval, good: None }
}

/// The Wilson score interval of `k / n` at `z` with continuity correction
/// (Newcombe 1998, method 4): a little wider than [`wilson`], so that its
/// coverage stays at or above the nominal level for small rates, as the
/// order-statistic interval of the vitals does.
pub fn wilson_corrected(k: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let (p, q, zz) = (k / n, 1.0 - k / n, z * z);
    let denominator = 2.0 * (n + zz);
    let low = if k == 0.0 {
        0.0
    } else {
        ((2.0 * n * p + zz - 1.0 - z * (zz - 2.0 - 1.0 / n + 4.0 * p * (n * q + 1.0)).max(0.0).sqrt()) / denominator)
            .max(0.0)
    };
    let high = if k == n {
        1.0
    } else {
        ((2.0 * n * p + zz + 1.0 + z * (zz + 2.0 - 1.0 / n + 4.0 * p * (n * q - 1.0)).max(0.0).sqrt()) / denominator)
            .min(1.0)
    };
    Some((low, high))
}

/// The Wilson score interval of `k / n` at `z`; `None` when `n` is 0.
pub fn wilson(k: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let margin = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    // At 0 or n the bound is exactly 0 or 1 (rounding would leave a trace).
    let low = if k == 0.0 { 0.0 } else { (centre - margin).max(0.0) };
    let high = if k == n { 1.0 } else { (centre + margin).min(1.0) };
    Some((low, high))
}

/// Newcombe's hybrid score interval of `p_b − p_a` from each side's Wilson
/// interval (Newcombe, Statistics in Medicine 17, 1998: method 10 with
/// plain Wilson intervals, method 11 with continuity-corrected ones, which
/// the comparison uses).
pub fn newcombe(p_a: f64, (a_low, a_high): (f64, f64), p_b: f64, (b_low, b_high): (f64, f64)) -> (f64, f64) {
    let d = p_b - p_a;
    let low = d - ((p_b - b_low).powi(2) + (a_high - p_a).powi(2)).sqrt();
    let high = d + ((b_high - p_b).powi(2) + (p_a - a_low).powi(2)).sqrt();
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PageView;

    /// Draws page views whose p75 LCP is `lcp_p75` (drawn with `lcp_rng`)
    /// and whose other measures come from one distribution (drawn with
    /// `rng`): log-normal times (skewed, as real ones are), Bernoulli
    /// leaving, frustration and satisfaction.
    fn views(lcp_rng: &mut fastrand::Rng, rng: &mut fastrand::Rng, n: usize, lcp_p75: f64) -> Stats {
        // p75 of a log-normal: median · e^(0.6745 σ).
        let log_normal = |rng: &mut fastrand::Rng, p75: f64, sigma: f64| {
            let normal = (-2.0 * (1.0 - rng.f64()).ln()).sqrt() * (std::f64::consts::TAU * rng.f64()).cos();
            p75 / (0.674_49 * sigma).exp() * (sigma * normal).exp()
        };
        let mut stats = Stats::default();
        for _ in 0..n {
            let answered = rng.f64() < 0.2;
            let frustration_known = rng.f64() < 0.9;
            stats.add(&PageView {
                ttfb_ms: Some(log_normal(rng, 600.0, 0.7)),
                fcp_ms: Some(log_normal(rng, 1200.0, 0.6)),
                lcp_ms: Some(log_normal(lcp_rng, lcp_p75, 0.6)),
                inp_ms: (rng.f64() < 0.6).then(|| log_normal(rng, 180.0, 0.8)),
                cls: Some(if rng.f64() < 0.4 { 0.0 } else { log_normal(rng, 0.08, 1.0) }),
                abandoned: Some(rng.f64() < 0.06),
                slow_bounce: Some(rng.f64() < 0.04),
                rage_clicks: frustration_known.then(|| u32::from(rng.f64() < 0.05)),
                dead_clicks: frustration_known.then(|| u32::from(rng.f64() < 0.05)),
                feedback_scale: answered.then(|| "thumbs".to_string()),
                feedback_rating: answered.then(|| u8::from(rng.f64() < 0.8)),
                ..PageView::default()
            });
        }
        stats
    }

    fn verdicts(measures: &[(&'static str, Measure)]) -> Vec<(&'static str, Verdict)> {
        measures.iter().map(|(name, m)| (*name, m.verdict)).collect()
    }

    #[test]
    fn a_known_lcp_shift_is_worse_and_the_unchanged_measures_are_not() {
        // The measures left equal are equal: the same draws on both sides.
        let mut lcp = fastrand::Rng::with_seed(36);
        let rest = || fastrand::Rng::with_seed(5);
        let (a, b) = (views(&mut lcp, &mut rest(), 2000, 1600.0), views(&mut lcp, &mut rest(), 2000, 2400.0));
        let measures = compare(&a, &b, Z_95, &MINIMUMS);
        let lcp = &measures.iter().find(|(name, _)| *name == "lcp_ms").unwrap().1;
        assert_eq!(lcp.verdict, Verdict::Worse, "{lcp:?}");
        assert!((lcp.a.unwrap() - 1600.0).abs() < 80.0 && (lcp.b.unwrap() - 2400.0).abs() < 120.0, "{lcp:?}");
        assert!(lcp.low.unwrap() < 800.0 && 800.0 < lcp.high.unwrap(), "the interval holds the true 800 ms: {lcp:?}");
        assert_eq!((lcp.a_count, lcp.b_count), (2000, 2000));
        assert!(lcp.a_good.unwrap() > lcp.b_good.unwrap());
        for (name, verdict) in verdicts(&measures) {
            if name != "lcp_ms" {
                assert_eq!(verdict, Verdict::NoClearChange, "{name}: {measures:?}");
            }
        }
        // And the other way round: B faster is better.
        let reversed = compare(&b, &a, Z_95, &MINIMUMS);
        assert_eq!(reversed.iter().find(|(n, _)| *n == "lcp_ms").unwrap().1.verdict, Verdict::Better);
    }

    /// The false-alarm rate the intervals promise, measured: 200 pairs of
    /// samples of one distribution, each pair compared; `better` or `worse`
    /// must come out in at most 5% of pairs for every measure (and the
    /// regression alert, at Z_99 over its five measures, in at most 5% of
    /// pairs for any of them).
    #[test]
    fn an_a_a_test_gives_a_verdict_in_at_most_five_percent_of_pairs() {
        const PAIRS: usize = 200;
        let (mut rng, mut lcp) = (fastrand::Rng::with_seed(2026), fastrand::Rng::with_seed(2027));
        let mut false_alarms = vec![0usize; MEASURES.len()];
        let mut alerting_pairs = 0;
        for _ in 0..PAIRS {
            let (a, b) = (views(&mut lcp, &mut rng, 1000, 2000.0), views(&mut lcp, &mut rng, 1000, 2000.0));
            for (count, (_, verdict)) in false_alarms.iter_mut().zip(verdicts(&compare(&a, &b, Z_95, &MINIMUMS))) {
                *count += usize::from(verdict != Verdict::NoClearChange);
            }
            let alerted = MEASURES
                .iter()
                .filter(|def| def.alerts)
                .any(|def| measure(def, &a, &b, Z_99, &MINIMUMS).verdict == Verdict::Worse);
            alerting_pairs += usize::from(alerted);
        }
        let total: usize = false_alarms.iter().sum();
        println!(
            "A/A, {PAIRS} pairs of 1,000 page views: a verdict in {:.1}% of all {} comparisons",
            100.0 * total as f64 / (PAIRS * MEASURES.len()) as f64,
            PAIRS * MEASURES.len()
        );
        for (def, &count) in MEASURES.iter().zip(&false_alarms) {
            println!("  {:<17} {count:>3} of {PAIRS} ({:.1}%)", def.name, 100.0 * count as f64 / PAIRS as f64);
            assert!(count * 20 <= PAIRS, "{}: {count} false alarms in {PAIRS} pairs", def.name);
        }
        println!(
            "  regression alert (Z_99, any of five): {alerting_pairs} of {PAIRS} ({:.1}%)",
            100.0 * alerting_pairs as f64 / PAIRS as f64
        );
        assert!(alerting_pairs * 20 <= PAIRS, "{alerting_pairs} alerting pairs");
    }

    #[test]
    fn too_few_values_are_never_a_verdict() {
        let mut rng = fastrand::Rng::with_seed(1);
        let mut other = fastrand::Rng::with_seed(2);
        let (a, b) = (views(&mut rng, &mut other, 60, 1000.0), views(&mut rng, &mut other, 2000, 6000.0));
        for (name, measure) in compare(&a, &b, Z_95, &MINIMUMS) {
            assert_eq!(measure.verdict, Verdict::NoClearChange, "{name}");
            assert_eq!((measure.low, measure.high), (None, None), "{name}");
            let reason = measure.reason.unwrap();
            assert!(reason.starts_with("too few to tell: A has"), "{reason}");
        }
        let empty = compare(&Stats::default(), &Stats::default(), Z_95, &MINIMUMS);
        assert!(empty.iter().all(|(_, m)| m.verdict == Verdict::NoClearChange && m.a.is_none()));
    }

    #[test]
    fn rate_intervals_are_the_textbook_ones() {
        // Newcombe (1998), table II, example (a): 56/70 vs 48/80 → method 10: 0.0524 .. 0.3339.
        let (a, b) = ((48.0 / 80.0, wilson(48, 80, Z_95).unwrap()), (56.0 / 70.0, wilson(56, 70, Z_95).unwrap()));
        let (low, high) = newcombe(a.0, a.1, b.0, b.1);
        assert!((low - 0.0524).abs() < 5e-4 && (high - 0.3339).abs() < 5e-4, "{low} {high}");
        // Method 11 (continuity-corrected): 0.0428 .. 0.3422.
        let (a, b) = (
            (48.0 / 80.0, wilson_corrected(48, 80, Z_95).unwrap()),
            (56.0 / 70.0, wilson_corrected(56, 70, Z_95).unwrap()),
        );
        let (low, high) = newcombe(a.0, a.1, b.0, b.1);
        assert!((low - 0.0428).abs() < 5e-4 && (high - 0.3422).abs() < 5e-4, "{low} {high}");
        // Corrected Wilson, 8 of 10 (Newcombe's method 4): 0.4422 .. 0.9646.
        let (low, high) = wilson_corrected(8, 10, Z_95).unwrap();
        assert!((low - 0.4422).abs() < 1e-3 && (high - 0.9646).abs() < 1e-3, "{low} {high}");
        // Wilson, 8 of 10: 0.490 .. 0.943.
        let (low, high) = wilson(8, 10, Z_95).unwrap();
        assert!((low - 0.490).abs() < 1e-3 && (high - 0.943).abs() < 1e-3);
    }

    #[test]
    fn quantile_ranks_bracket_the_binomial_spread() {
        // 1,000 values: 750 ± 1.96·√187.5 = 723.2 .. 776.8 → ranks 723 and 778.
        assert_eq!(quantile_ranks(1000, 0.75, Z_95), (723, 778));
        assert_eq!(quantile_ranks(1, 0.75, Z_95), (1, 1));
        let mut stats = VitalStats::default();
        for v in 1..=1000 {
            stats.add(Vital::Lcp, f64::from(v));
        }
        let (low, high) = quantile_interval(&stats, 0.75, Z_95).unwrap();
        assert!((low - 723.0).abs() <= 723.0 * 0.02 && (high - 778.0).abs() <= 778.0 * 0.02, "{low} {high}");
    }
}
