//! The page's session and its lifecycle: the module's one [`Session`], the
//! observers and listeners it owns, and when a view's snapshot is sent.
//! Hidden → send, visible again → the visitor is back, `pagehide` → send,
//! back/forward-cache restore → a new page view with its own id, and so
//! does a soft navigation ([`super::soft`]).
//!
//! What the readings mean is [`PageView`]'s (time origin, paints before the
//! page was hidden, CLS windows, INP, LCP sub-parts, by the web-vitals
//! library's rules); each entry type's handler is a concern of the view
//! ([`super::view`], [`super::lcp`], [`super::inp`], [`super::frames`]).
//! Each observer callback pulls the readings once ([`Session::collect`]),
//! then lets the prompt decide.

use std::cell::RefCell;

use gloo_events::{EventListener, EventListenerOptions};
use js_sys::Array;
use wasm_bindgen::prelude::*;
use web_sys::{Event, EventTarget, PageTransitionEvent};

use super::clicks::Clicks;
use super::dom::{self, hidden, interaction_count};
use super::js;
use super::loader::Loader;
use super::observe::Observer;
use super::prompt;
use super::soft::Routing;
use super::transport::{self, encode, Transport};
use super::view::{Handler, View};
use crate::feedback::policy::Mode;
use crate::limits::cut;
use crate::vitals::view::{Observable, PageView};
use crate::wire::{NavType, Scale, Trigger};

/// The module's one session, in a `static` rather than a `thread_local!`
/// (whose every access carries a panic path: 0.3 KB brotli, measured).
struct Global(RefCell<Option<Session>>);

// SAFETY: the module runs on the page's one thread (wasm32 without the
// `atomics` feature has no threads), so the cell is never shared between
// threads.
unsafe impl Sync for Global {}

static SESSION: Global = Global(RefCell::new(None));

/// Runs `f` on the session, once the module has started. A call made while
/// the session is in use (a page's handler run synchronously by something
/// the module did) is dropped rather than panicking.
pub fn with<R>(f: impl FnOnce(&mut Session) -> R) -> Option<R> {
    SESSION.0.try_borrow_mut().ok()?.as_mut().map(f)
}

/// The entry types of a view, each with its handler.
const OBSERVED: [(&str, Handler); 7] = [
    ("paint", View::on_paint),
    ("largest-contentful-paint", View::on_lcp),
    ("layout-shift", View::on_shift),
    ("event", View::on_event),
    ("first-input", View::on_event),
    ("interaction-contentful-paint", View::on_icp),
    ("long-animation-frame", View::on_frame),
];

/// The script tag's settings, read once from the loader's hand-over object.
pub struct Settings {
    /// `data-feedback`.
    pub mode: Mode,
    /// `data-feedback-days` as `parseFloat` reads it.
    pub cap_days: Option<f64>,
    /// `data-lang`.
    pub lang: String,
    /// `data-feedback-scale`: the tag's choice of scale, if any.
    pub scale: Option<Scale>,
}

impl Settings {
    fn read(loader: &Loader) -> Settings {
        let scale = match loader.setting("scale").as_deref() {
            Some("five") => Some(Scale::Five),
            Some(_) => Some(Scale::Thumbs),
            None => None,
        };
        let days = loader.setting("days").map(|d| js_sys::parse_float(&d));
        Settings {
            mode: Mode::parse(loader.setting("feedback").as_deref()),
            cap_days: days.and_then(js::known),
            lang: loader.setting("lang").unwrap_or_default(),
            scale,
        }
    }
}

/// The page's session: the loader's hand-over, the current page view, and
/// everything the module holds while the page lives.
pub struct Session {
    /// The loader's hand-over object (`window.palaute.L`), shared for the
    /// page's lifetime: visibility, errors and early entries are its.
    pub loader: Loader,
    /// Beacons to the collector, and their re-sends.
    pub transport: Transport,
    /// The script tag's settings.
    pub settings: Settings,
    /// The current page view.
    pub view: View,
    /// The site's default scale on the collector is five-point.
    pub site_five: bool,
    /// The prompt's state.
    pub prompt: prompt::Prompt,
    /// The page's clicks and the one being watched.
    pub clicks: Clicks,
    /// Whose entries are whose (soft navigations).
    pub routing: Routing,
    /// What this engine observes (`PerformanceObserver.supportedEntryTypes`).
    pub observable: Observable,
    /// Beacons sent for the current view (its last `seq`).
    sent: u32,
    /// The last snapshot sent, encoded with `seq` 0, to skip repeats.
    last: Option<String>,
    /// The `soft-navigation` observer, flushed before the others.
    soft: Option<Observer>,
    observers: Vec<(Observer, Handler)>,
    _listeners: Vec<EventListener>,
}

impl Session {
    /// Hands the rules every reading the browser has queued (before a
    /// decision or a snapshot), and starts the views of soft navigations.
    pub fn measure(&mut self) {
        self.collect(None);
        self.start_soft_views();
    }

    /// An observer's callback: its `entries`, then every other reading
    /// queued (one pull), then whether the prompt asks.
    fn observed(&mut self, entries: Option<(Handler, Array)>) {
        self.collect(entries);
        self.start_soft_views();
        // A slow interaction may be the moment to ask for feedback.
        prompt::decide(self, None);
    }

    /// Hands the current view every reading queued for it (`first`: a
    /// callback's own entries): soft navigations first, so that the entries
    /// of their views wait for them.
    pub fn collect(&mut self, first: Option<(Handler, Array)>) {
        if let Some(soft) = self.soft.as_ref().map(Observer::records) {
            self.on_soft_navigations(soft);
        }
        if let Some((handler, entries)) = first {
            self.take(handler, entries);
        }
        let observers = std::mem::take(&mut self.observers);
        for (observer, handler) in &observers {
            self.take(*handler, observer.records());
        }
        self.observers = observers;
        self.view.read_nav();
        self.view.read_paint(&self.loader);
        self.view.rules.interaction_count(interaction_count());
    }

    /// Sends the current snapshot of the page view (from the readings
    /// collected), unless it was just sent; `unloading`: the page is going away.
    pub fn send(&mut self, unloading: bool) {
        self.view.snapshot(&self.loader);
        let b = &mut self.view.beacon;
        b.seq = 0;
        let unchanged = encode(b);
        if unchanged.is_none() || unchanged == self.last {
            return;
        }
        self.sent += 1;
        b.seq = self.sent;
        if let Some(body) = encode(b) {
            self.transport.deliver(&b.id, b.seq, body, unloading);
            self.last = unchanged;
        }
    }

    /// Whether ratings are on the five-point scale: the script tag's
    /// choice, else the site's, else thumbs.
    pub fn scale(&self) -> Scale {
        match self.settings.scale {
            Some(scale) => scale,
            None if self.site_five => Scale::Five,
            None => Scale::Thumbs,
        }
    }

    /// `palaute.tag(key, value)`: a custom dimension of the page view.
    /// Past [`MAX_TAGS`](crate::limits::MAX_TAGS) keys, new keys are ignored.
    pub fn tag(&mut self, key: &str, value: &str) {
        use crate::limits::{MAX_TAGS, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS};
        let key = cut(key, MAX_TAG_KEY_CHARS);
        if !key.is_empty() {
            self.view.beacon.tags.set(key, cut(value, MAX_TAG_VALUE_CHARS), MAX_TAGS);
        }
    }

    /// A rage or dead click: the prompt may ask about it.
    pub fn frustrated(&mut self) {
        prompt::consider(self, Some(Trigger::Frustration));
    }

    fn on_hidden(&mut self, at: f64, unloading: bool) {
        // A click watched while the page goes did something: it left.
        self.clicks.unwatch();
        self.view.frustration.forget();
        self.measure();
        self.view.rules.hidden(at);
        self.view.beacon.left_at_ms = Some(self.view.rules.since_start(at));
        self.send(unloading);
    }

    /// A restore from the back/forward cache at `at`: a new page view.
    fn on_restore(&mut self, at: f64) {
        let id = self.loader.new_id();
        let rules = PageView::restored(at, interaction_count()).observing(self.observable);
        let mut view = View::new(&self.loader, id, rules, None);
        view.beacon.nav_type = Some(NavType::BackForwardCache);
        // Its entries may carry the page's navigationId still: the rules
        // leave out what happened before the restore, by time.
        // Its paint is the loader's reading (`L.painted`), taken with the
        // others (`View::read_paint`): no frame callback of its own.
        self.begin(view);
    }

    /// Makes `view` the current page view: its beacons count from 1 and
    /// the prompt may ask in it.
    pub fn begin(&mut self, view: View) {
        self.view = view;
        self.sent = 0;
        self.last = None;
        self.prompt.new_view();
    }
}

/// A lifecycle listener: in the capture phase, before the page's own.
fn listen(target: &EventTarget, event: &'static str, on: fn(&Event)) -> EventListener {
    js::listen(target, event, EventListenerOptions::run_in_capture_phase(), on)
}

/// The page's lifecycle: visibility, `pagehide`, `pageshow` (a restore), `online`.
fn lifecycle() -> Vec<EventListener> {
    let w = js::window();
    vec![
        listen(&dom::document(), "visibilitychange", |e| {
            let at = e.time_stamp();
            with(|s| {
                if hidden() {
                    s.on_hidden(at, false);
                } else {
                    s.view.beacon.left_at_ms = None;
                    prompt::on_visible(s);
                }
            });
        }),
        listen(&w, "pagehide", |e| {
            let persisted = e.unchecked_ref::<PageTransitionEvent>().persisted();
            with(|s| s.on_hidden(e.time_stamp(), !persisted));
        }),
        listen(&w, "pageshow", |e| {
            if e.unchecked_ref::<PageTransitionEvent>().persisted() {
                with(|s| s.on_restore(e.time_stamp()));
            }
        }),
        js::listen(&w, "online", EventListenerOptions::default(), |_| {
            with(|s| s.transport.flush());
        }),
    ]
}

/// The observers of the view's entry types, and of soft navigations
/// (`kind` [`OBSERVED`]'s length). One callback for all: each observer's
/// entries go to its kind's handler.
fn observers() -> (Vec<(Observer, Handler)>, Option<Observer>) {
    let observe = |kind: usize, entry_type| {
        let on = Box::new(move |entries| {
            with(|s| match OBSERVED.get(kind) {
                Some(&(_, handler)) => s.observed(Some((handler, entries))),
                None => {
                    s.on_soft_navigations(entries);
                    s.observed(None);
                }
            });
        });
        Observer::new(entry_type, on)
    };
    let observers = OBSERVED
        .iter()
        .enumerate()
        .filter_map(|(kind, &(entry_type, handler))| observe(kind, entry_type).map(|o| (o, handler)));
    (observers.collect(), observe(OBSERVED.len(), "soft-navigation"))
}

/// Takes the page view over from the loader. Nothing is measured while the
/// page is prerendering: it starts when the page is shown.
pub fn start(loader: Loader) {
    let d = dom::document();
    if dom::prerendering(&d) {
        // The page fires it once, and the module has nothing to drop the
        // listener with before then: it stays with the page (`forget`).
        let options = EventListenerOptions::default();
        js::listen(&d, "prerenderingchange", options, |_| start(Loader::of_page())).forget();
        return;
    }
    let settings = Settings::read(&loader);
    let endpoint = loader.endpoint();
    let nav = dom::nav_entry();
    let activation = nav.as_ref().and_then(|n| js::num(n, "activationStart")).unwrap_or(0.0);
    let observable = dom::observable();
    let rules = PageView::navigation(activation, loader.first_hidden()).observing(observable);
    let mut session = Session {
        transport: Transport::new(&endpoint),
        settings,
        view: View::new(&loader, loader.id(), rules, None),
        site_five: false,
        prompt: prompt::Prompt::default(),
        clicks: Clicks::new(),
        routing: Routing::new(nav.and_then(|n| js::num(&n, "navigationId"))),
        observable,
        sent: loader.seq(),
        last: None,
        soft: None,
        observers: Vec::new(),
        _listeners: lifecycle(),
        loader,
    };
    session.view.read_nav();
    // Interactions shorter than 104 ms are not buffered: the loader kept them.
    for entry in session.loader.early_events().iter().flat_map(Array::iter) {
        session.view.on_event(entry);
    }
    let site_scale = session.settings.scale.is_none().then(|| {
        let mut url = endpoint;
        url.push_str("/s/");
        url.push_str(&session.view.beacon.site);
        url
    });
    if let Ok(mut cell) = SESSION.0.try_borrow_mut() {
        *cell = Some(session);
    }
    // The session exists before its observers: WebKit runs an observer's
    // callback for the entries already buffered synchronously, inside
    // `observe({buffered: true})` (web-vitals defers its callbacks by a
    // microtask for the same reason, GoogleChrome/web-vitals#277), and
    // `takeRecords()` has nothing left for them afterwards.
    let (observers, soft) = observers();
    with(|s| {
        s.observers = observers;
        s.soft = soft;
        // Beacons earlier page views could not deliver.
        s.transport.flush();
        prompt::schedule_settle(s);
        // The visitor may already have gone while the module loaded.
        if hidden() {
            s.measure();
            s.send(false);
        }
    });
    // The site's default scale (`GET /s/{site}`), when the script tag leaves it to the collector.
    if let Some(url) = site_scale {
        transport::get_json(
            &url,
            Box::new(|settings| {
                let five = js::text(&settings, "feedback_scale").as_deref() == Some("five");
                with(|s| s.site_five = five);
            }),
        );
    }
}
