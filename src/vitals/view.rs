//! One page view's measurements by the web-vitals library's rules, fed with
//! the browser's raw readings (`performance.now()` times, entry fields). The
//! browser client reads the entries; everything that decides what a reading
//! means for the page view is here: its time origin (activation start, or a
//! back/forward-cache restore), what happened before the page was first
//! hidden, CLS once there was a first paint, INP by its interactions, and
//! LCP's sub-parts.
//!
//! A view starts in one of three ways ([`Start`]): the page's own
//! navigation, a back/forward-cache restore, or a single-page app's soft
//! navigation (the Soft Navigation API, measured as web-vitals'
//! `reportSoftNavs`): FCP from the soft navigation entry's paint, LCP from
//! its `interaction-contentful-paint` entries, CLS and INP from what
//! happens after it, no TTFB.
//!
//! Not every engine observes every metric ([`Observable`]): Firefox has no
//! Layout Instability API, WebKit (to Safari 26.1) no Largest Contentful
//! Paint or Event Timing. As web-vitals checks
//! `PerformanceObserver.supportedEntryTypes` before it reports a metric, a
//! metric the engine cannot observe is `None` here, never 0 (a Firefox view
//! without layout shifts is unknown CLS, not good CLS).

use super::cls::SessionWindows;
use super::inp::{EventTiming, Interaction, Interactions};
use super::script::Window;

/// INP that web-vitals reports for a view restored from the back/forward
/// cache, or started by a soft navigation, whose interactions were all too
/// quick to be delivered, ms.
pub const RESTORED_QUICK_INP_MS: f64 = 8.0;

/// The metrics an engine can observe, from its
/// `PerformanceObserver.supportedEntryTypes` (web-vitals' `observe` checks
/// the same list before it creates an observer, and reports nothing
/// without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observable {
    /// `paint`: FCP (and a restored view's paint, which web-vitals reports
    /// only where it observes paints).
    pub fcp: bool,
    /// `largest-contentful-paint`: LCP (and a restored view's).
    pub lcp: bool,
    /// `layout-shift`: CLS.
    pub cls: bool,
    /// `event` (Event Timing): INP.
    pub inp: bool,
}

impl Observable {
    /// An engine that observes every metric.
    pub const ALL: Observable = Observable { fcp: true, lcp: true, cls: true, inp: true };

    /// What an engine observes, given whether `supported(entry_type)` is in
    /// its `PerformanceObserver.supportedEntryTypes`.
    pub fn from_entry_types(supported: impl Fn(&str) -> bool) -> Observable {
        Observable {
            fcp: supported("paint"),
            lcp: supported("largest-contentful-paint"),
            cls: supported("layout-shift"),
            inp: supported("event"),
        }
    }
}

/// How a page view started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The page's own navigation (or its prerender's activation).
    Navigation,
    /// A restore from the back/forward cache.
    Restore,
    /// A single-page app's route change (a `soft-navigation` entry).
    Soft,
}

/// A page view being measured. Times in and out of [`PageView::metric`] are
/// ms: readings on the `performance.now()` scale, results relative to the
/// view's start.
#[derive(Debug, Clone, PartialEq)]
pub struct PageView {
    origin: f64,
    first_hidden: f64,
    start: Start,
    observable: Observable,
    ttfb: Option<f64>,
    fcp: Option<f64>,
    lcp: Option<f64>,
    dcl: Option<f64>,
    load: Option<f64>,
    /// LCP came from an entry (not from a restore's paint): it has sub-parts.
    lcp_from_entry: bool,
    interactions_before: f64,
    interaction_count: f64,
    shifts: SessionWindows,
    interactions: Interactions,
}

/// What [`PageView::metric`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Time to first byte.
    Ttfb,
    /// First contentful paint.
    Fcp,
    /// Largest contentful paint.
    Lcp,
    /// `DOMContentLoaded` start.
    Dcl,
    /// `load` start.
    Load,
    /// Cumulative layout shift (once there was a first paint).
    Cls,
    /// Interaction to next paint.
    Inp,
    /// The `interactionId` of the interaction reported as INP.
    InpInteraction,
    /// INP's input delay.
    InpInputDelay,
    /// INP's processing time.
    InpProcessing,
    /// INP's presentation delay.
    InpPresentation,
}

impl PageView {
    /// The page's own view: it starts at `activation_start` (0 unless
    /// prerendered) and was first hidden at `first_hidden` (infinite while
    /// it has always been visible).
    pub fn navigation(activation_start: f64, first_hidden: f64) -> PageView {
        PageView::new(activation_start, first_hidden, Start::Navigation, 0.0)
    }

    /// A view of the page restored from the back/forward cache at
    /// `restored_at`, when the page had seen `interaction_count`
    /// interactions. As web-vitals: no network wait (TTFB 0).
    pub fn restored(restored_at: f64, interaction_count: f64) -> PageView {
        let mut view = PageView::new(restored_at, f64::INFINITY, Start::Restore, interaction_count);
        view.ttfb = Some(0.0);
        view
    }

    /// A view started by a soft navigation whose entry has `start_time`,
    /// when the page had seen `interaction_count` interactions and is
    /// `hidden` or not. Its FCP is the entry's paint, `painted_at`
    /// (`presentationTime`, else `paintTime`), as web-vitals reports it
    /// (whatever the page's visibility); it has no TTFB.
    pub fn soft(start_time: f64, painted_at: f64, interaction_count: f64, hidden: bool) -> PageView {
        let first_hidden = if hidden { 0.0 } else { f64::INFINITY };
        let mut view = PageView::new(start_time, first_hidden, Start::Soft, interaction_count);
        view.fcp = Some(view.since_start(painted_at));
        view
    }

    fn new(origin: f64, first_hidden: f64, start: Start, interactions_before: f64) -> PageView {
        PageView {
            origin,
            first_hidden,
            start,
            observable: Observable::ALL,
            ttfb: None,
            fcp: None,
            lcp: None,
            dcl: None,
            load: None,
            lcp_from_entry: false,
            interactions_before,
            interaction_count: 0.0,
            shifts: SessionWindows::default(),
            interactions: Interactions::default(),
        }
    }

    /// The view as measured in an engine that observes only `observable`
    /// (every metric unless told otherwise).
    pub fn observing(mut self, observable: Observable) -> PageView {
        self.observable = observable;
        self
    }

    /// The view's start, `performance.now()` time.
    pub fn origin(&self) -> f64 {
        self.origin
    }

    /// `time` relative to the view's start, clamped at 0 as web-vitals does.
    pub fn since_start(&self, time: f64) -> f64 {
        (time - self.origin).max(0.0)
    }

    /// A reading relative to the view's start, when the browser gave one
    /// (positive).
    fn reading(&self, time: f64) -> Option<f64> {
        (time > 0.0).then(|| self.since_start(time))
    }

    /// Whether a paint at `time` belongs to this view: before the page was
    /// first hidden (paints in a background tab do not count), and, in a
    /// restored view, not from before the restore (those were the earlier
    /// view's; a prerendered page's paints before activation count, at 0).
    pub fn seen(&self, time: f64) -> bool {
        time < self.first_hidden && (self.start == Start::Navigation || time >= self.origin)
    }

    /// How the view started.
    pub fn start(&self) -> Start {
        self.start
    }

    /// The page was hidden at `time`.
    pub fn hidden(&mut self, time: f64) {
        self.first_hidden = self.first_hidden.min(time);
    }

    /// The navigation entry's `responseStart`, `domContentLoadedEventStart`
    /// and `loadEventStart` (0 until they happen). A restored view keeps
    /// its own (it has no navigation).
    pub fn navigation_timing(&mut self, response_start: f64, dcl_start: f64, load_start: f64) {
        if self.start != Start::Navigation {
            return;
        }
        self.ttfb = self.reading(response_start);
        self.dcl = self.reading(dcl_start);
        self.load = self.reading(load_start);
    }

    /// Whether `load` is still to come (the navigation entry is worth
    /// reading again).
    pub fn loading(&self) -> bool {
        self.start == Start::Navigation && self.load.is_none()
    }

    /// The `first-contentful-paint` entry's `startTime`.
    pub fn first_contentful_paint(&mut self, start_time: f64) {
        if self.seen(start_time) && self.fcp.is_none() {
            self.fcp = Some(self.since_start(start_time));
        }
    }

    /// A `largest-contentful-paint` entry's `startTime` (in a soft view,
    /// an `interaction-contentful-paint` entry's `renderTime`): the latest
    /// one painted while the page was visible is LCP. `true` when it is now
    /// LCP (its element and URL are the attribution).
    pub fn largest_contentful_paint(&mut self, start_time: f64) -> bool {
        if !self.seen(start_time) {
            return false;
        }
        self.lcp = Some(self.since_start(start_time));
        self.lcp_from_entry = true;
        true
    }

    /// A restored page paints on the second frame after `pageshow`: that
    /// time is both its FCP and its LCP (as web-vitals).
    /// (Only where the engine observes paints, and LCP: web-vitals reports
    /// a restore's metric only from a metric it observes.)
    pub fn restored_paint(&mut self, painted_at: f64) {
        let time = Some(self.since_start(painted_at));
        let o = self.observable;
        self.fcp = time.filter(|_| o.fcp);
        self.lcp = time.filter(|_| o.lcp);
    }

    /// A `layout-shift` entry. Shifts from before the view began (a restore)
    /// belong to the earlier view.
    pub fn layout_shift(&mut self, start_time: f64, value: f64, had_recent_input: bool) {
        if start_time >= self.origin {
            self.shifts.add(start_time, value, had_recent_input);
        }
    }

    /// An `event` or `first-input` entry. `true` when it now sets its
    /// interaction's latency.
    pub fn event_timing(&mut self, timing: EventTiming) -> bool {
        timing.start_time >= self.origin && self.interactions.add(timing)
    }

    /// `performance.interactionCount` now: re-evaluates INP.
    pub fn interaction_count(&mut self, count: f64) {
        self.interaction_count = (count - self.interactions_before).max(0.0);
        self.interactions.update(self.interaction_count as u64);
    }

    /// Whether interaction `id` is among the longest (worth keeping its
    /// entry) or is the one reported.
    pub fn keeps(&self, id: u64) -> bool {
        self.interactions.longest().any(|i| i.id == id) || self.interactions.reported().is_some_and(|i| i.id == id)
    }

    fn reported(&self) -> Option<&Interaction> {
        self.interactions.reported()
    }

    /// The reported interaction's time span, for its longest script.
    pub fn inp_window(&self) -> Option<Window> {
        self.reported().map(window)
    }

    /// INP so far: the reported interaction's latency; in a restored or
    /// soft view with only quick interactions, [`RESTORED_QUICK_INP_MS`].
    pub fn inp(&self) -> Option<f64> {
        let quick = self.start != Start::Navigation && self.interaction_count > 0.0 && self.observable.inp;
        self.reported().map(|i| i.latency).or_else(|| quick.then_some(RESTORED_QUICK_INP_MS))
    }

    /// INP's input delay, processing and presentation. Without a delivered
    /// interaction INP is all presentation.
    pub fn inp_subparts(&self) -> Option<(f64, f64, f64)> {
        match self.reported() {
            Some(reported) => Some(reported.subparts()),
            None => self.inp().map(|inp| (0.0, 0.0, inp)),
        }
    }

    /// A measurement so far; `None` when there is none (never 0 for "unknown").
    /// A metric the engine cannot observe ([`Observable`]) is `None`: it
    /// has no entries of it, and what needs none (CLS once painted, a
    /// restore's paint, the quick INP of a restore) waits for the
    /// engine's support too.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Ttfb => self.ttfb,
            Metric::Fcp => self.fcp,
            Metric::Lcp => self.lcp,
            Metric::Dcl => self.dcl,
            Metric::Load => self.load,
            // As web-vitals: CLS is reported once there was a first paint.
            Metric::Cls => self.fcp.filter(|_| self.observable.cls).map(|_| self.shifts.value()),
            Metric::Inp => self.inp(),
            Metric::InpInteraction => self.reported().map(|i| i.id as f64),
            Metric::InpInputDelay => self.inp_subparts().map(|p| p.0),
            Metric::InpProcessing => self.inp_subparts().map(|p| p.1),
            Metric::InpPresentation => self.inp_subparts().map(|p| p.2),
        }
    }

    /// LCP's sub-parts (TTFB, resource load delay, load duration, render
    /// delay) from the navigation's `responseStart` and the LCP resource's
    /// `requestStart` (else its `startTime`) and `responseEnd` (`None` for
    /// a text LCP), by web-vitals' `attribution/onLCP.ts`: without an LCP
    /// entry or a navigation (a restore) LCP is all render delay; a soft
    /// view's TTFB is 0 and its resource's times count from the soft
    /// navigation's start (`responseStart` is not its own).
    pub fn lcp_subparts(&self, response_start: f64, resource: Option<(f64, f64)>) -> Option<[f64; 4]> {
        let lcp = self.lcp?;
        let ttfb = if self.start == Start::Soft { Some(0.0) } else { self.reading(response_start) };
        let Some(ttfb) = ttfb.filter(|_| self.lcp_from_entry) else {
            return Some([0.0, 0.0, 0.0, lcp]);
        };
        let request_start = ttfb.max(resource.map_or(0.0, |(start, _)| start - self.origin));
        let response_end = lcp.min(request_start.max(resource.map_or(0.0, |(_, end)| end - self.origin)));
        Some([ttfb, request_start - ttfb, response_end - request_start, lcp - response_end])
    }

    /// Whether the visitor left while the page was loading (hidden before
    /// `load`) and is back now that it is `visible`.
    pub fn returned_after_abandoning(&self, visible: bool) -> bool {
        let hidden_while_loading = self.load.is_none_or(|load| self.first_hidden < self.origin + load);
        hidden_while_loading && self.first_hidden.is_finite() && visible
    }
}

fn window(interaction: &Interaction) -> Window {
    let (input_delay, processing, _) = interaction.subparts();
    Window { start: interaction.start_time, input_delay, processing }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_relative_to_the_activation_and_clamped() {
        let mut view = PageView::navigation(100.0, f64::INFINITY);
        // A prerendered page painted before its activation: LCP 0, as web-vitals.
        assert!(view.largest_contentful_paint(60.0));
        assert_eq!(view.metric(Metric::Lcp), Some(0.0));
        view.navigation_timing(80.0, 300.0, 0.0);
        assert_eq!(view.metric(Metric::Ttfb), Some(0.0), "before activation: 0");
        assert_eq!(view.metric(Metric::Dcl), Some(200.0));
        assert_eq!(view.metric(Metric::Load), None, "load not yet: absent, not 0");
        assert!(view.loading());
        view.navigation_timing(80.0, 300.0, 900.0);
        assert_eq!(view.metric(Metric::Load), Some(800.0));
        assert!(!view.loading());
    }

    #[test]
    fn paints_after_the_page_was_hidden_do_not_count() {
        let mut view = PageView::navigation(0.0, f64::INFINITY);
        view.first_contentful_paint(120.0);
        assert!(view.largest_contentful_paint(150.0));
        view.hidden(400.0);
        assert!(!view.largest_contentful_paint(500.0));
        assert_eq!((view.metric(Metric::Fcp), view.metric(Metric::Lcp)), (Some(120.0), Some(150.0)));
        view.first_contentful_paint(130.0);
        assert_eq!(view.metric(Metric::Fcp), Some(120.0), "the first one stays");
        // A background tab: hidden from the start, no FCP or LCP.
        let mut background = PageView::navigation(0.0, 0.0);
        background.first_contentful_paint(50.0);
        assert!(!background.largest_contentful_paint(60.0));
        assert_eq!((background.metric(Metric::Fcp), background.metric(Metric::Lcp)), (None, None));
    }

    #[test]
    fn cls_is_reported_once_there_was_a_first_paint() {
        let mut view = PageView::navigation(0.0, f64::INFINITY);
        view.layout_shift(10.0, 0.05, false);
        assert_eq!(view.metric(Metric::Cls), None);
        view.first_contentful_paint(20.0);
        assert_eq!(view.metric(Metric::Cls), Some(0.05));
    }

    #[test]
    fn a_metric_the_engine_cannot_observe_is_none_never_0() {
        // Firefox: no `layout-shift`. Its CLS is unknown, not 0.
        let firefox = Observable::from_entry_types(|t| t != "layout-shift");
        assert_eq!(firefox, Observable { cls: false, ..Observable::ALL });
        let mut view = PageView::navigation(0.0, f64::INFINITY).observing(firefox);
        view.first_contentful_paint(20.0);
        assert_eq!(view.metric(Metric::Fcp), Some(20.0));
        assert_eq!(view.metric(Metric::Cls), None);
        // WebKitGTK 2.50: paints, navigation and resources only.
        let webkit =
            Observable::from_entry_types(|t| ["mark", "measure", "navigation", "paint", "resource"].contains(&t));
        assert_eq!(webkit, Observable { fcp: true, lcp: false, cls: false, inp: false });
        let mut restored = PageView::restored(5000.0, 0.0).observing(webkit);
        restored.restored_paint(5032.0);
        restored.interaction_count(2.0);
        assert_eq!(
            restored.metric(Metric::Fcp),
            Some(32.0),
            "web-vitals reports a restore's paint where it observes paints"
        );
        assert_eq!(restored.metric(Metric::Lcp), None, "but not as LCP without the LCP API");
        assert_eq!(restored.lcp_subparts(0.0, None), None);
        assert_eq!((restored.metric(Metric::Cls), restored.metric(Metric::Inp)), (None, None));
        assert_eq!(restored.metric(Metric::InpPresentation), None);
        assert_eq!(restored.metric(Metric::Ttfb), Some(0.0), "TTFB needs no observer");
    }

    #[test]
    fn a_soft_view_has_its_own_paints_and_no_ttfb() {
        let mut view = PageView::soft(1565.9, 1592.0, 4.0, false);
        assert_eq!(view.start(), Start::Soft);
        assert_eq!(view.metric(Metric::Ttfb), None);
        assert!((view.metric(Metric::Fcp).unwrap() - 26.1).abs() < 1e-9);
        view.navigation_timing(10.0, 20.0, 30.0);
        assert_eq!(view.metric(Metric::Load), None, "a soft view has no navigation timing");
        assert!(!view.largest_contentful_paint(1000.0), "a paint from before the soft navigation is not its own");
        assert!(view.largest_contentful_paint(1624.0));
        assert!((view.metric(Metric::Lcp).unwrap() - 58.1).abs() < 1e-9);
        // As web-vitals: TTFB 0, the image's times from the soft navigation's start.
        let parts = view.lcp_subparts(5.0, Some((1570.0, 1600.0))).unwrap();
        let expected = [0.0, 4.1, 30.0, 24.0];
        assert!(parts.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-9), "{parts:?}");
        let text = view.lcp_subparts(5.0, None).unwrap();
        assert!(text[..3] == [0.0; 3] && (text[3] - 58.1).abs() < 1e-9, "a text LCP is all render delay: {text:?}");
        view.layout_shift(1500.0, 0.5, false);
        view.layout_shift(1900.0, 0.02, false);
        assert!((view.metric(Metric::Cls).unwrap() - 0.02).abs() < 1e-12, "only shifts after it");
        view.interaction_count(5.0);
        assert_eq!(view.metric(Metric::Inp), Some(RESTORED_QUICK_INP_MS), "one quick interaction since it began");
        let hidden = PageView::soft(100.0, 120.0, 0.0, true);
        assert!(!hidden.seen(130.0), "a soft view started while hidden paints nothing that counts for LCP");
    }

    #[test]
    fn a_restored_view_has_its_own_metrics() {
        let mut view = PageView::restored(5000.0, 3.0);
        view.navigation_timing(80.0, 300.0, 900.0);
        assert_eq!(view.metric(Metric::Ttfb), Some(0.0));
        assert_eq!(view.metric(Metric::Load), None, "the navigation belongs to the first view");
        view.layout_shift(4000.0, 0.3, false);
        // A paint of the earlier view, delivered late, is not this view's.
        assert!(!view.largest_contentful_paint(4500.0));
        view.first_contentful_paint(4400.0);
        assert_eq!(view.metric(Metric::Fcp), None);
        view.restored_paint(5032.0);
        assert_eq!((view.metric(Metric::Fcp), view.metric(Metric::Lcp)), (Some(32.0), Some(32.0)));
        assert_eq!(view.metric(Metric::Cls), Some(0.0), "an earlier view's shift is not this one's");
        assert_eq!(view.lcp_subparts(10.0, None), Some([0.0, 0.0, 0.0, 32.0]));
        // Quick interactions only (none delivered): web-vitals reports 8 ms.
        view.interaction_count(3.0);
        assert_eq!(view.metric(Metric::Inp), None);
        view.interaction_count(4.0);
        assert_eq!(view.metric(Metric::Inp), Some(8.0));
        assert_eq!(view.metric(Metric::InpPresentation), Some(8.0));
        assert_eq!(view.metric(Metric::InpInteraction), None);
    }

    #[test]
    fn inp_and_its_subparts() {
        let mut view = PageView::navigation(0.0, f64::INFINITY);
        let timing = EventTiming {
            interaction_id: 7,
            start_time: 100.0,
            duration: 200.0,
            processing_start: 110.0,
            processing_end: 230.0,
        };
        assert!(view.event_timing(timing));
        view.interaction_count(1.0);
        assert_eq!(view.metric(Metric::Inp), Some(200.0));
        assert_eq!(view.metric(Metric::InpInteraction), Some(7.0));
        assert_eq!(view.inp_subparts(), Some((10.0, 120.0, 70.0)));
        assert!(view.keeps(7) && !view.keeps(8));
        // An equally long entry of the same interaction does not take over.
        assert!(!view.event_timing(EventTiming { start_time: 104.0, ..timing }));
    }

    #[test]
    fn lcp_subparts_add_up_to_lcp() {
        let mut view = PageView::navigation(0.0, f64::INFINITY);
        assert!(view.largest_contentful_paint(900.0));
        // TTFB 100, the image requested at 300 and loaded by 700.
        assert_eq!(view.lcp_subparts(100.0, Some((300.0, 700.0))), Some([100.0, 200.0, 400.0, 200.0]));
        // Text: no resource, everything after TTFB is render delay.
        assert_eq!(view.lcp_subparts(100.0, None), Some([100.0, 0.0, 0.0, 800.0]));
        assert_eq!(PageView::navigation(0.0, f64::INFINITY).lcp_subparts(100.0, None), None);
    }

    #[test]
    fn a_visitor_who_left_while_loading_and_came_back() {
        let mut view = PageView::navigation(0.0, f64::INFINITY);
        assert!(!view.returned_after_abandoning(true));
        view.hidden(500.0);
        view.navigation_timing(50.0, 400.0, 2000.0);
        assert!(view.returned_after_abandoning(true));
        assert!(!view.returned_after_abandoning(false));
        let mut after_load = PageView::navigation(0.0, f64::INFINITY);
        after_load.navigation_timing(50.0, 400.0, 2000.0);
        after_load.hidden(3000.0);
        assert!(!after_load.returned_after_abandoning(true));
    }
}
