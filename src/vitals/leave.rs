//! When the visitor left, relative to the page's loading milestones:
//! abandonment (left before `load`) and slow bounce (a slow load, then gone
//! within a short dwell).
//!
//! A milestone the browser cannot observe (LCP in WebKit before Safari
//! 26.2) is skipped: its absence says nothing about whether the visitor
//! reached it, so a WebKit visitor who left after the first paint left
//! `before_load`, not `before_lcp`.

use serde::{Deserialize, Serialize};

use super::thresholds::{Vital, SLOW_LOAD_MS};

/// Default dwell after a slow load within which leaving is a slow bounce (ms).
pub const DEFAULT_SLOW_BOUNCE_DWELL_MS: f64 = 10_000.0;

/// The loading milestone a visitor had not reached when they left.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum AbandonPhase {
    /// Nothing had been painted yet.
    BeforeFcp,
    /// Something was painted, but not yet the largest content.
    BeforeLcp,
    /// The main content was painted, but the `load` event had not fired.
    BeforeLoad,
}

impl AbandonPhase {
    /// The name used in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            AbandonPhase::BeforeFcp => "before_fcp",
            AbandonPhase::BeforeLcp => "before_lcp",
            AbandonPhase::BeforeLoad => "before_load",
        }
    }
}

/// The loading milestones of a page view and when its visitor left (ms).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Milestones {
    /// First contentful paint.
    pub fcp_ms: Option<f64>,
    /// Largest contentful paint.
    pub lcp_ms: Option<f64>,
    /// `load` event start.
    pub load_ms: Option<f64>,
    /// When the visitor left; `None` while unknown.
    pub left_at_ms: Option<f64>,
    /// A larger image was still loading when the visitor left, so LCP had
    /// not really been reached.
    pub lcp_pending: bool,
    /// The browser cannot observe FCP (no `paint` entries): the milestone is skipped.
    pub fcp_unobservable: bool,
    /// The browser cannot observe LCP (no `largest-contentful-paint`
    /// entries): the milestone is skipped, `lcp_pending` too.
    pub lcp_unobservable: bool,
    /// The view is a restore from the back/forward cache: already loaded.
    pub restored: bool,
    /// The view is a single-page app's soft navigation: the visitor stayed
    /// in the app, so it is never an abandonment.
    pub soft: bool,
}

/// How a visit ended, derived from its [`Milestones`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leave {
    /// Left before the page finished loading.
    pub abandoned: bool,
    /// Which milestone was still missing, when abandoned.
    pub phase: Option<AbandonPhase>,
    /// Loaded slowly, then left within the dwell.
    pub slow_bounce: bool,
}

impl Milestones {
    /// Whether the page loaded slowly: `load` or LCP above the poor threshold.
    pub fn is_slow(&self) -> bool {
        let (_, lcp_poor) = Vital::Lcp.thresholds();
        self.load_ms.is_some_and(|t| t > SLOW_LOAD_MS) || self.lcp_ms.is_some_and(|t| t > lcp_poor)
    }

    /// Classifies the visit, or `None` while it is not known when the visitor
    /// left. `dwell_ms` is the slow-bounce dwell.
    ///
    /// A soft navigation's view is never abandoned, whether its visitor
    /// left the page or moved on to the next route: [`Milestones::abandoned`].
    pub fn leave(&self, dwell_ms: f64) -> Option<Leave> {
        let left = self.left_at_ms?;
        let reached = |milestone: Option<f64>| milestone.is_some_and(|t| t <= left);
        if !self.restored && !self.soft && !reached(self.load_ms) {
            let phase = if !self.fcp_unobservable && !reached(self.fcp_ms) {
                AbandonPhase::BeforeFcp
            } else if !self.lcp_unobservable && (self.lcp_pending || !reached(self.lcp_ms)) {
                AbandonPhase::BeforeLcp
            } else {
                AbandonPhase::BeforeLoad
            };
            return Some(Leave { abandoned: true, phase: Some(phase), slow_bounce: false });
        }
        let loaded_at = self.load_ms.into_iter().chain(self.lcp_ms).fold(0.0, f64::max);
        let slow_bounce = self.is_slow() && left - loaded_at <= dwell_ms;
        Some(Leave { abandoned: false, phase: None, slow_bounce })
    }

    /// Whether the visitor abandoned the view: [`Leave::abandoned`] once
    /// known; `false` for a soft navigation's view even before (it may end
    /// with the next route, not with the visitor leaving).
    pub fn abandoned(&self, leave: Option<&Leave>) -> Option<bool> {
        leave.map(|l| l.abandoned).or(self.soft.then_some(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        fcp: Option<f64>,
        lcp: Option<f64>,
        load: Option<f64>,
        left: Option<f64>,
        expected: Option<(bool, Option<AbandonPhase>, bool)>,
    ) {
        let milestones =
            Milestones { fcp_ms: fcp, lcp_ms: lcp, load_ms: load, left_at_ms: left, ..Milestones::default() };
        let got = milestones.leave(DEFAULT_SLOW_BOUNCE_DWELL_MS).map(|l| (l.abandoned, l.phase, l.slow_bounce));
        assert_eq!(got, expected, "{milestones:?}");
    }

    #[test]
    fn classifies_leaving_at_each_phase() {
        use AbandonPhase::*;
        // Left at 1 s, first paint would have come at 3 s.
        check(None, None, None, Some(1000.0), Some((true, Some(BeforeFcp), false)));
        check(Some(500.0), None, None, Some(1000.0), Some((true, Some(BeforeLcp), false)));
        check(Some(500.0), Some(800.0), None, Some(1000.0), Some((true, Some(BeforeLoad), false)));
        // A milestone reported after the leave does not count as reached.
        check(Some(1500.0), Some(1500.0), Some(1600.0), Some(1000.0), Some((true, Some(BeforeFcp), false)));
        check(Some(500.0), Some(800.0), Some(900.0), Some(1000.0), Some((false, None, false)));
        check(Some(500.0), Some(800.0), Some(900.0), None, None);
    }

    #[test]
    fn a_pending_larger_image_means_lcp_was_not_reached_and_a_restore_is_loaded() {
        let text_then_image = Milestones {
            fcp_ms: Some(100.0),
            lcp_ms: Some(100.0),
            left_at_ms: Some(1000.0),
            lcp_pending: true,
            ..Milestones::default()
        };
        let leave = text_then_image.leave(DEFAULT_SLOW_BOUNCE_DWELL_MS).unwrap();
        assert_eq!((leave.abandoned, leave.phase), (true, Some(AbandonPhase::BeforeLcp)));
        let restored =
            Milestones { fcp_ms: Some(20.0), left_at_ms: Some(900.0), restored: true, ..Milestones::default() };
        assert!(!restored.leave(DEFAULT_SLOW_BOUNCE_DWELL_MS).unwrap().abandoned);
        let soft = Milestones { fcp_ms: Some(20.0), soft: true, ..Milestones::default() };
        assert_eq!(soft.abandoned(soft.leave(DEFAULT_SLOW_BOUNCE_DWELL_MS).as_ref()), Some(false), "not left yet");
        let left = Milestones { left_at_ms: Some(10.0), ..soft };
        assert_eq!(left.abandoned(left.leave(DEFAULT_SLOW_BOUNCE_DWELL_MS).as_ref()), Some(false), "left before LCP");
    }

    #[test]
    fn a_milestone_the_browser_cannot_observe_is_skipped() {
        use AbandonPhase::*;
        // WebKit without LCP: painted, left before load. Its `lcp_pending`
        // (an image still loading) says nothing without an LCP candidate.
        let webkit = Milestones {
            fcp_ms: Some(300.0),
            left_at_ms: Some(1000.0),
            lcp_pending: true,
            lcp_unobservable: true,
            ..Milestones::default()
        };
        let phase = |m: Milestones| m.leave(DEFAULT_SLOW_BOUNCE_DWELL_MS).and_then(|l| l.phase);
        assert_eq!(phase(webkit), Some(BeforeLoad));
        assert_eq!(phase(Milestones { fcp_ms: None, ..webkit }), Some(BeforeFcp), "FCP is observed there");
        assert_eq!(phase(Milestones { lcp_unobservable: false, ..webkit }), Some(BeforeLcp), "where LCP is observed");
        let blind = Milestones { fcp_ms: None, fcp_unobservable: true, ..webkit };
        assert_eq!(phase(blind), Some(BeforeLoad), "no paint timing at all: only load is known");
    }

    #[test]
    fn slow_bounce_needs_a_slow_load_and_a_short_dwell() {
        // Slow load (5 s), left 4 s later: a slow bounce.
        check(Some(4500.0), Some(4800.0), Some(5000.0), Some(9000.0), Some((false, None, true)));
        // Same dwell after a fast load: not.
        check(Some(300.0), Some(400.0), Some(500.0), Some(4500.0), Some((false, None, false)));
        // Slow LCP alone is slow; dwell counts from the later milestone.
        check(Some(300.0), Some(4500.0), Some(900.0), Some(14_400.0), Some((false, None, true)));
        // Stayed longer than the dwell.
        check(Some(4500.0), Some(4800.0), Some(5000.0), Some(15_001.0), Some((false, None, false)));
    }
}
