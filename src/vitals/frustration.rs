//! Frustration signals, counted per page view: rage clicks and dead clicks.
//! Pure rules; the browser client reads the clicks and what the page did
//! after them, and hands both here.
//!
//! **Rage click**: at least [`RAGE_CLICKS`] clicks within [`RAGE_WINDOW_MS`]
//! of the first, each within [`RAGE_RADIUS_PX`] of the first, on the same
//! element. One burst is one rage click, however many clicks it has; a
//! click after the window starts a new burst. These are PostHog's defaults
//! (`rageclick`: `click_count` 3, `threshold_px` 30, `timeout_ms` 1000
//! between the first and the last click); Microsoft Clarity describes the
//! same thing ("rapidly clicking in the same small area") without numbers,
//! and Sentry's replay calls clicks within 1 s of each other a "multi
//! click". The same element as well as the same spot: a visitor hammering
//! one control, not three quick clicks on neighbouring list items. Clicks
//! that select text (a double or triple click on a word or paragraph, with
//! the selection non-empty afterwards) or that land in a text field are
//! not counted: they are the browser's own gestures (PostHog ignores text
//! editing surfaces for the same reason).
//!
//! **Dead click**: a click on an interactive element (a link with `href`,
//! a button, `[role=button]`, an `<input>` button, an element with an
//! `onclick` attribute) after which nothing happens within
//! [`DEAD_WAIT_MS`]: no DOM mutation, no navigation (the page unloading,
//! the URL changing, a soft navigation), no scroll, no focus moving
//! elsewhere, no request started. Clicks with a modifier key, on a
//! disabled control, or that select text are not candidates. While one
//! click on an element is watched, more clicks on the same element are
//! not watched again: hammering a dead button is one dead click (and a
//! rage click). A request still in flight at the deadline is invisible to
//! the page (Resource Timing reports requests when they end), so a click
//! whose only effect is a request slower than 2 s counts as dead; the
//! watch does not wrap `fetch` to see it.

/// Clicks that make a rage click.
pub const RAGE_CLICKS: u32 = 3;
/// The window of a rage click from its first click, ms.
pub const RAGE_WINDOW_MS: f64 = 1000.0;
/// How far from the first click the others may land, CSS px.
pub const RAGE_RADIUS_PX: f64 = 30.0;
/// How long a dead click is watched for a reaction, ms.
pub const DEAD_WAIT_MS: u32 = 2000;

/// One click, as the client read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Click<'a> {
    /// When, ms from the page view's start.
    pub at_ms: f64,
    /// Where, CSS px in the viewport.
    pub x: f64,
    /// Where, CSS px in the viewport.
    pub y: f64,
    /// The selector of the element clicked (the same rules as `inp_target`).
    pub target: &'a str,
    /// The element is (inside) a link, button or other control.
    pub interactive: bool,
    /// The control is disabled (`:disabled` or `aria-disabled="true"`).
    pub disabled: bool,
    /// Alt, Ctrl, Meta or Shift was held.
    pub modifier: bool,
    /// The click left a non-empty text selection, or landed in a text field.
    pub selecting: bool,
}

/// What the page did after a watched click, as the client observed it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reaction {
    /// The document's DOM changed (nodes, attributes or text).
    pub mutated: bool,
    /// The page started unloading, its URL changed, or a soft navigation began.
    pub navigated: bool,
    /// The page or an element in it scrolled.
    pub scrolled: bool,
    /// Focus moved to another element after the click.
    pub focus_moved: bool,
    /// A request started after the click (and ended before the deadline).
    pub requested: bool,
}

impl Reaction {
    /// Whether anything happened: a click followed by any of these did something.
    pub fn any(&self) -> bool {
        self.mutated || self.navigated || self.scrolled || self.focus_moved || self.requested
    }
}

/// The first burst of clicks being counted.
#[derive(Debug, Clone, PartialEq)]
struct Burst {
    at_ms: f64,
    x: f64,
    y: f64,
    target: String,
    clicks: u32,
}

/// A click watched for a reaction.
#[derive(Debug, Clone, PartialEq)]
struct Watch {
    at_ms: f64,
    target: String,
}

/// A page view's frustration signals so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frustration {
    /// Rage clicks (bursts).
    pub rage_clicks: u32,
    /// Dead clicks.
    pub dead_clicks: u32,
    /// The first frustrated element's selector and when (ms from the view's
    /// start): the first click of its burst, or the dead click.
    pub first: Option<(String, f64)>,
    burst: Option<Burst>,
    watch: Option<Watch>,
}

/// What a click means, for the client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// It completed a rage click (the moment to ask, once).
    pub rage: bool,
    /// Watch it for a reaction: call [`Frustration::settle`] after
    /// [`DEAD_WAIT_MS`].
    pub watch: bool,
}

impl Frustration {
    /// Counts a click.
    pub fn click(&mut self, click: &Click) -> Outcome {
        let mut outcome = Outcome::default();
        if !click.selecting {
            outcome.rage = self.burst(click);
        }
        let candidate = click.interactive && !click.disabled && !click.modifier && !click.selecting;
        if candidate && self.watch.as_ref().is_none_or(|w| w.target != click.target) {
            self.watch = Some(Watch { at_ms: click.at_ms, target: click.target.into() });
            outcome.watch = true;
        }
        outcome
    }

    /// Adds the click to the current burst or starts one; whether it makes
    /// the burst a rage click.
    fn burst(&mut self, click: &Click) -> bool {
        let near = |b: &Burst| {
            let (dx, dy) = (click.x - b.x, click.y - b.y);
            b.target == click.target
                && click.at_ms - b.at_ms <= RAGE_WINDOW_MS
                && dx * dx + dy * dy <= RAGE_RADIUS_PX * RAGE_RADIUS_PX
        };
        let burst = match &mut self.burst {
            Some(b) if near(b) => b,
            _ => self.burst.insert(Burst {
                at_ms: click.at_ms,
                x: click.x,
                y: click.y,
                target: click.target.into(),
                clicks: 0,
            }),
        };
        burst.clicks += 1;
        if burst.clicks != RAGE_CLICKS {
            return false;
        }
        let (target, at_ms) = (burst.target.clone(), burst.at_ms);
        self.rage_clicks += 1;
        self.first.get_or_insert((target, at_ms));
        true
    }

    /// The watch of the click at `at_ms` ends with what the page did since
    /// (a newer watch is left alone); whether it was a dead click.
    pub fn settle(&mut self, at_ms: f64, reaction: Reaction) -> bool {
        let Some(watch) = self.watch.take_if(|w| w.at_ms == at_ms) else { return false };
        if reaction.any() {
            return false;
        }
        self.dead_clicks += 1;
        self.first.get_or_insert((watch.target, watch.at_ms));
        true
    }

    /// Stops watching without a verdict: the page went away, so the click
    /// (a link, a new tab) did something.
    pub fn forget(&mut self) {
        self.watch = None;
    }

    /// Whether a click is being watched.
    pub fn watching(&self) -> bool {
        self.watch.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn click(at_ms: f64, x: f64, target: &str) -> Click<'_> {
        Click { at_ms, x, y: 100.0, target, interactive: true, disabled: false, modifier: false, selecting: false }
    }

    fn clicks(f: &mut Frustration, list: &[Click]) -> Vec<bool> {
        list.iter().map(|c| f.click(c).rage).collect()
    }

    #[test]
    fn three_clicks_within_a_second_and_30_px_on_one_element_are_one_rage_click() {
        let mut f = Frustration::default();
        let burst = [
            click(0.0, 10.0, "#buy"),
            click(300.0, 30.0, "#buy"),
            click(900.0, 39.0, "#buy"),
            click(950.0, 20.0, "#buy"),
        ];
        assert_eq!(clicks(&mut f, &burst), [false, false, true, false], "the fourth is the same burst");
        assert_eq!((f.rage_clicks, f.first.clone()), (1, Some(("#buy".to_string(), 0.0))));
        // After the window, a new burst.
        assert_eq!(
            clicks(&mut f, &[click(1100.0, 10.0, "#buy"), click(1200.0, 10.0, "#buy"), click(1300.0, 10.0, "#buy")]),
            [false, false, true]
        );
        assert_eq!(f.rage_clicks, 2);
        assert_eq!(f.first.as_ref().map(|(_, at)| *at), Some(0.0), "the first one stays");
    }

    #[test]
    fn too_slow_too_far_or_on_another_element_is_no_rage_click() {
        let cases: [[Click; 3]; 4] = [
            [click(0.0, 10.0, "#a"), click(500.0, 10.0, "#a"), click(1001.0, 10.0, "#a")],
            [click(0.0, 10.0, "#a"), click(100.0, 10.0, "#a"), click(200.0, 41.0, "#a")],
            [click(0.0, 10.0, "li.x"), click(100.0, 12.0, "li.y"), click(200.0, 14.0, "li.z")],
            [click(0.0, 10.0, "#a"), click(100.0, 10.0, "#a"), Click { selecting: true, ..click(200.0, 10.0, "#a") }],
        ];
        for case in cases {
            let mut f = Frustration::default();
            assert_eq!(clicks(&mut f, &case), [false; 3], "{case:?}");
            assert_eq!(f.rage_clicks, 0);
        }
        // The distance is from the first click, in both directions.
        let mut f = Frustration::default();
        let diagonal = Click { y: 121.0, ..click(200.0, 31.0, "#a") };
        assert_eq!(clicks(&mut f, &[click(0.0, 10.0, "#a"), click(100.0, 10.0, "#a"), diagonal]), [false, false, true]);
    }

    #[test]
    fn a_watched_click_is_dead_only_if_nothing_at_all_happened() {
        let happened = [
            Reaction { mutated: true, ..Reaction::default() },
            Reaction { navigated: true, ..Reaction::default() },
            Reaction { scrolled: true, ..Reaction::default() },
            Reaction { focus_moved: true, ..Reaction::default() },
            Reaction { requested: true, ..Reaction::default() },
        ];
        for reaction in happened {
            let mut f = Frustration::default();
            assert!(f.click(&click(10.0, 0.0, "#menu")).watch);
            assert!(!f.settle(10.0, reaction), "{reaction:?}");
            assert_eq!((f.dead_clicks, f.first.clone()), (0, None));
        }
        let mut f = Frustration::default();
        assert!(f.click(&click(10.0, 0.0, "#broken")).watch);
        assert!(f.settle(10.0, Reaction::default()));
        assert_eq!((f.dead_clicks, f.first.clone()), (1, Some(("#broken".to_string(), 10.0))));
        assert!(!f.watching() && !f.settle(10.0, Reaction::default()), "settled once");
    }

    #[test]
    fn only_plain_clicks_on_enabled_controls_are_watched_once_per_element() {
        let plain = click(0.0, 0.0, "#b");
        for not in [
            Click { interactive: false, ..plain },
            Click { disabled: true, ..plain },
            Click { modifier: true, ..plain },
            Click { selecting: true, ..plain },
        ] {
            assert!(!Frustration::default().click(&not).watch, "{not:?}");
        }
        let mut f = Frustration::default();
        assert!(f.click(&plain).watch);
        assert!(!f.click(&click(300.0, 0.0, "#b")).watch, "the same element is watched once");
        assert!(f.click(&click(400.0, 0.0, "#other")).watch, "another element replaces the watch");
        assert!(!f.settle(0.0, Reaction::default()), "the replaced watch ends without a count");
        assert!(f.settle(400.0, Reaction::default()));
        assert_eq!(f.dead_clicks, 1);
    }
}
