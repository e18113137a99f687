//! Rage clicks and dead clicks on the page ([`crate::vitals::frustration`]
//! has the rules): one capture-phase `click` listener reads each click;
//! a click worth watching is watched for [`DEAD_WAIT_MS`] by a
//! `MutationObserver` on the document, a `scroll` listener and the deadline's
//! timer, which the watch owns (dropping it disconnects, removes and
//! cancels them), and at the deadline by the URL, the focused element and
//! the requests started since. A page nobody clicks pays for the one
//! listener.

use gloo_events::{EventListener, EventListenerOptions};
use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, MouseEvent, MutationObserver, MutationObserverInit, PerformanceEntry};

use super::dom::{location, selector_of};
use super::js::{self, Timeout};
use super::session::{self, Session};
use crate::vitals::frustration::{Click, Reaction, DEAD_WAIT_MS};

/// The controls a click on which is expected to do something: links that
/// stay in the page's hands (not downloads, mail or phone links), buttons,
/// and elements that say they handle clicks.
const INTERACTIVE: &str = "a[href]:not([download]):not([href^=mailto]):not([href^=tel]),button,[role=button],\
input[type=submit],input[type=button],input[type=reset],input[type=image],summary,[onclick]";
/// Controls that are switched off.
const DISABLED: &str = ":disabled,[aria-disabled=true]";
/// Where clicks place a caret or select text: the browser's own gestures.
const TEXT_FIELDS: &str = "textarea,select,[contenteditable],input:not([type=submit]):not([type=button]):not([type=reset]):not([type=image]):not([type=checkbox]):not([type=radio])";

/// A click being watched for a reaction.
struct Watch {
    /// When, ms from the view's start (the rules' key of the watch).
    at_ms: f64,
    /// When, on the page's clock.
    since: f64,
    /// The path and query at the click.
    url: String,
    /// The focused element just after the click.
    focus: Option<Element>,
    /// Something changed in the DOM.
    mutated: bool,
    /// Something scrolled.
    scrolled: bool,
    _scroll: EventListener,
    _mutations: Option<Mutations>,
    _deadline: Timeout,
}

/// A `MutationObserver` with its callback, disconnected on drop.
struct Mutations {
    observer: MutationObserver,
    _callback: Closure<dyn FnMut()>,
}

impl Drop for Mutations {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

/// The page's clicks: the listener, and the click being watched.
pub struct Clicks {
    watch: Option<Watch>,
    _click: EventListener,
}

impl Clicks {
    /// Starts listening to the page's clicks.
    pub fn new() -> Clicks {
        let options = EventListenerOptions::run_in_capture_phase();
        let click = js::listen(&js::window(), "click", options, |e| {
            session::with(|s| on_click(s, e));
        });
        Clicks { watch: None, _click: click }
    }

    /// Stops watching without a verdict (the view ends, the page goes).
    pub fn unwatch(&mut self) {
        self.watch = None;
    }
}

fn on_click(s: &mut Session, e: &Event) {
    let Some(target) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
    let control = target.closest(INTERACTIVE).ok().flatten();
    let element = control.clone().unwrap_or_else(|| target.clone());
    let Some(selector) = selector_of(Some(element.clone().into())) else { return };
    let mouse: &MouseEvent = e.unchecked_ref();
    let w = js::window();
    let selected = w.get_selection().ok().flatten().is_some_and(|s| !s.is_collapsed());
    let click = Click {
        at_ms: s.view.rules.since_start(e.time_stamp()),
        x: f64::from(mouse.client_x()),
        y: f64::from(mouse.client_y()),
        target: &selector,
        interactive: control.is_some(),
        disabled: element.matches(DISABLED).unwrap_or(false),
        modifier: mouse.alt_key() || mouse.ctrl_key() || mouse.meta_key() || mouse.shift_key(),
        selecting: selected || target.closest(TEXT_FIELDS).ok().flatten().is_some(),
    };
    let outcome = s.view.frustration.click(&click);
    if outcome.watch {
        watch(s, click.at_ms, e.time_stamp());
    }
    if outcome.rage {
        s.frustrated();
    }
}

/// Watches the click at `at_ms` (view time) made at `clicked` (page clock),
/// in place of any watched before (its deadline cancelled).
fn watch(s: &mut Session, at_ms: f64, clicked: f64) {
    let options = EventListenerOptions { passive: true, ..EventListenerOptions::run_in_capture_phase() };
    let scroll = js::listen(&js::window(), "scroll", options, |_| {
        session::with(|s| {
            if let Some(w) = &mut s.clicks.watch {
                w.scrolled = true;
            }
        });
    });
    let d = js::window().document();
    let mutations = d.as_ref().and_then(|d| {
        let callback: Closure<dyn FnMut()> = Closure::new(|| {
            session::with(|s| {
                if let Some(w) = &mut s.clicks.watch {
                    w.mutated = true;
                }
            });
        });
        let observer = MutationObserver::new(callback.as_ref().unchecked_ref::<Function>()).ok()?;
        let init = MutationObserverInit::new();
        init.set_subtree(true);
        init.set_child_list(true);
        init.set_attributes(true);
        init.set_character_data(true);
        let _ = observer.observe_with_options(d, &init);
        Some(Mutations { observer, _callback: callback })
    });
    let deadline = js::after(
        DEAD_WAIT_MS,
        Box::new(move || {
            session::with(settle);
        }),
    );
    s.clicks.watch = Some(Watch {
        at_ms,
        since: clicked,
        url: location(),
        focus: d.as_ref().and_then(|d| d.active_element()),
        mutated: false,
        scrolled: false,
        _scroll: scroll,
        _mutations: mutations,
        _deadline: deadline,
    });
}

/// The deadline of the click watched: was it a dead click?
fn settle(s: &mut Session) {
    let Some(watch) = s.clicks.watch.take() else { return };
    let d = js::window().document();
    let requested = js::performance()
        .get_entries_by_type("resource")
        .iter()
        .any(|r| r.unchecked_into::<PerformanceEntry>().start_time() >= watch.since);
    let reaction = Reaction {
        mutated: watch.mutated,
        navigated: location() != watch.url,
        scrolled: watch.scrolled,
        focus_moved: d.and_then(|d| d.active_element()) != watch.focus,
        requested,
    };
    if s.view.frustration.settle(watch.at_ms, reaction) {
        s.frustrated();
    }
}
