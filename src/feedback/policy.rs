//! When the prompt asks by itself: the site's trigger mode, what the visitor
//! went through, and the per-origin frequency cap.
//!
//! - `slow` (the default) asks after a slow or broken experience: LCP or
//!   `load` above the poor threshold, an interaction slower than INP's
//!   poor threshold, a rage click or a dead click, or a visitor who left
//!   while the page was loading and came back.
//! - `always` asks on every eligible view; `off` never asks by itself.
//! - Never for an automated browser, never twice in one page view, never
//!   while the page is hidden, and at most once per cap period per origin.
//!
//! `palaute.ask()` is the page's own decision and bypasses all of this.

use crate::vitals::thresholds::{Vital, SLOW_LOAD_MS};
use crate::wire::Trigger;

/// Default frequency cap: the prompt asks by itself at most once per this
/// many days on one origin (`data-feedback-days`).
pub const DEFAULT_CAP_DAYS: f64 = 30.0;

const DAY_MS: f64 = 86_400_000.0;

/// The site's trigger mode (`data-feedback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Ask after a slow experience.
    Slow,
    /// Ask on every eligible page view.
    Always,
    /// Never ask by itself; `palaute.ask()` still works.
    Off,
}

impl Mode {
    /// Reads `data-feedback`; missing or unknown values mean [`Mode::Slow`].
    pub fn parse(value: Option<&str>) -> Mode {
        match value {
            Some("always") => Mode::Always,
            Some("off") => Mode::Off,
            _ => Mode::Slow,
        }
    }

    /// The mode of a numeric code, as the browser module receives it
    /// (no strings cross into the module): 1 always, 2 off, else slow.
    pub fn from_code(code: u8) -> Mode {
        match code {
            1 => Mode::Always,
            2 => Mode::Off,
            _ => Mode::Slow,
        }
    }
}

/// What the visitor went through in this page view (ms from its start).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Experience {
    /// Largest contentful paint.
    pub lcp_ms: Option<f64>,
    /// `load` event start.
    pub load_ms: Option<f64>,
    /// Interaction to next paint so far.
    pub inp_ms: Option<f64>,
    /// The page was hidden before it finished loading (the visitor left
    /// while waiting) and is visible again.
    pub returned_after_abandoning: bool,
    /// The visitor rage-clicked or dead-clicked.
    pub frustrated: bool,
}

impl Experience {
    /// Why this view is worth asking about, the most pressing reason
    /// first: the visitor came back after leaving, fought with the page,
    /// waited for an interaction, waited for the load; `None` when it went
    /// well.
    pub fn reason(&self) -> Option<Trigger> {
        let (_, lcp_poor) = Vital::Lcp.thresholds();
        let (_, inp_poor) = Vital::Inp.thresholds();
        let slow_load = self.lcp_ms.is_some_and(|t| t > lcp_poor) || self.load_ms.is_some_and(|t| t > SLOW_LOAD_MS);
        [
            (self.returned_after_abandoning, Trigger::Returned),
            (self.frustrated, Trigger::Frustration),
            (self.inp_ms.is_some_and(|t| t > inp_poor), Trigger::Interaction),
            (slow_load, Trigger::Slow),
        ]
        .into_iter()
        .find_map(|(holds, trigger)| holds.then_some(trigger))
    }

    /// Whether this view was slow (or broken) enough to ask about.
    pub fn was_slow(&self) -> bool {
        self.reason().is_some()
    }
}

/// The site's prompt settings, from the script tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Trigger mode.
    pub mode: Mode,
    /// Days between two prompts on one origin.
    pub cap_days: f64,
}

/// The circumstances of one decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moment {
    /// The browser says it is automated (`navigator.webdriver`).
    pub automated: bool,
    /// The prompt was already shown, or feedback already given, in this view.
    pub done_in_view: bool,
    /// The page is visible now.
    pub visible: bool,
    /// The page has settled (loaded and quiet for a moment).
    pub settled: bool,
    /// When the prompt last asked on this origin, ms since the Unix epoch.
    pub last_asked_ms: Option<f64>,
    /// Now, ms since the Unix epoch.
    pub now_ms: f64,
}

impl Policy {
    /// Reads `data-feedback` and `data-feedback-days`, already parsed as a
    /// number (a missing, negative or non-finite cap means the default).
    pub fn from_attributes(mode: Option<&str>, cap_days: Option<f64>) -> Policy {
        Policy::new(Mode::parse(mode), cap_days)
    }

    /// The policy of `mode` with a cap of `cap_days` (a missing, negative
    /// or non-finite cap means the default).
    pub fn new(mode: Mode, cap_days: Option<f64>) -> Policy {
        let cap_days = cap_days.filter(|d| d.is_finite() && *d >= 0.0);
        Policy { mode, cap_days: cap_days.unwrap_or(DEFAULT_CAP_DAYS) }
    }

    /// Whether the mode wants to ask after `experience`, before the
    /// circumstances of the moment are looked at.
    pub fn wants(&self, experience: &Experience) -> bool {
        match self.mode {
            Mode::Off => false,
            Mode::Always => true,
            Mode::Slow => experience.was_slow(),
        }
    }

    /// Whether the prompt should ask by itself now.
    pub fn asks(&self, experience: &Experience, moment: &Moment) -> bool {
        let wanted = self.wants(experience);
        let capped = moment.last_asked_ms.is_some_and(|last| moment.now_ms - last < self.cap_days * DAY_MS);
        wanted && !capped && !moment.automated && !moment.done_in_view && moment.visible && moment.settled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_800_000_000_000.0;

    fn moment() -> Moment {
        Moment { automated: false, done_in_view: false, visible: true, settled: true, last_asked_ms: None, now_ms: NOW }
    }

    fn check(mode: &str, experience: Experience, change: impl Fn(&mut Moment), expected: bool) {
        let policy = Policy::from_attributes(Some(mode), None);
        let mut m = moment();
        change(&mut m);
        assert_eq!(policy.asks(&experience, &m), expected, "{mode} {experience:?} {m:?}");
    }

    #[test]
    fn slow_mode_asks_after_each_kind_of_slow_experience() {
        let fast =
            Experience { lcp_ms: Some(1200.0), load_ms: Some(1500.0), inp_ms: Some(120.0), ..Default::default() };
        check("slow", fast, |_| {}, false);
        check("slow", Experience { lcp_ms: Some(4001.0), ..fast }, |_| {}, true);
        check("slow", Experience { lcp_ms: Some(4000.0), ..fast }, |_| {}, false);
        check("slow", Experience { load_ms: Some(4500.0), ..fast }, |_| {}, true);
        check("slow", Experience { inp_ms: Some(501.0), ..fast }, |_| {}, true);
        check("slow", Experience { returned_after_abandoning: true, ..fast }, |_| {}, true);
        check("slow", Experience { frustrated: true, ..fast }, |_| {}, true);
        check("unknown-mode", Experience { inp_ms: Some(600.0), ..fast }, |_| {}, true);
    }

    #[test]
    fn the_reason_is_the_most_pressing_one() {
        let reason = |e: Experience| e.reason();
        assert_eq!(reason(Experience { lcp_ms: Some(5000.0), ..Default::default() }), Some(Trigger::Slow));
        assert_eq!(
            reason(Experience { load_ms: Some(5000.0), inp_ms: Some(600.0), ..Default::default() }),
            Some(Trigger::Interaction)
        );
        let fought = Experience { frustrated: true, inp_ms: Some(600.0), ..Default::default() };
        assert_eq!(reason(fought), Some(Trigger::Frustration));
        assert_eq!(reason(Experience { returned_after_abandoning: true, ..fought }), Some(Trigger::Returned));
        assert_eq!(reason(Experience { lcp_ms: Some(1000.0), ..Default::default() }), None);
    }

    #[test]
    fn always_and_off() {
        check("always", Experience::default(), |_| {}, true);
        check("off", Experience { lcp_ms: Some(9000.0), ..Default::default() }, |_| {}, false);
    }

    #[test]
    fn never_for_robots_twice_hidden_or_unsettled() {
        check("always", Experience::default(), |m| m.automated = true, false);
        check("always", Experience::default(), |m| m.done_in_view = true, false);
        check("always", Experience::default(), |m| m.visible = false, false);
        check("always", Experience::default(), |m| m.settled = false, false);
    }

    #[test]
    fn the_frequency_cap_holds_for_its_days() {
        check("always", Experience::default(), |m| m.last_asked_ms = Some(NOW - 29.0 * DAY_MS), false);
        check("always", Experience::default(), |m| m.last_asked_ms = Some(NOW - 31.0 * DAY_MS), true);
        let weekly = Policy::from_attributes(Some("always"), Some(7.0));
        let m = Moment { last_asked_ms: Some(NOW - 8.0 * DAY_MS), ..moment() };
        assert!(weekly.asks(&Experience::default(), &m));
        let every_view = Policy::from_attributes(Some("always"), Some(0.0));
        assert!(every_view.asks(&Experience::default(), &Moment { last_asked_ms: Some(NOW), ..moment() }));
        assert_eq!(Policy::from_attributes(None, Some(-3.0)).cap_days, DEFAULT_CAP_DAYS);
        assert_eq!(Policy::from_attributes(None, Some(f64::NAN)).cap_days, DEFAULT_CAP_DAYS);
    }
}
