//! The page view and the page lifecycle: what is read from the browser, and
//! when it is sent. Hidden → send, visible again → the visitor is back,
//! `pagehide` → send, back/forward-cache restore → a new page view with its
//! own id, and so does a single-page app's soft navigation (the Soft
//! Navigation API): the view before is finalised and sent at that moment,
//! entries go to the view of their `navigationId` ([`Navigations`]), and
//! the view's tags carry over. Browsers without the API see one view per
//! page load, as before.
//!
//! What the readings mean is [`PageView`]'s (time origin, paints before the
//! page was hidden, CLS windows, INP, LCP sub-parts, by the web-vitals
//! library's rules). Here: the observers and listeners, the strings (URL,
//! selectors, navigation type) and the snapshot, a [`Beacon`].

use std::cell::RefCell;

use gloo_events::{EventListener, EventListenerOptions};
use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, Node, PageTransitionEvent, PerformanceEntry, PerformanceResourceTiming};

use super::clicks::Clicks;
use super::js::{self, EventEntry, LcpEntry, ShiftEntry};
use super::observe::{Handler, Observer};
use super::{prompt, transport};
use crate::feedback::policy::Mode;
use crate::limits::{cut, MAX_FUNCTION_CHARS, MAX_SELECTOR_CHARS, MAX_URL_CHARS, MAX_WORD_CHARS};
use crate::vitals::frustration::Frustration;
use crate::vitals::inp::EventTiming;
use crate::vitals::navigations::{Navigations, Owner};
use crate::vitals::script::{self, MAX_PENDING_FRAMES};
use crate::vitals::selector::{self, Part};
use crate::vitals::view::{Metric, Observable, PageView, Start};
use crate::wire::{Beacon, InpSubparts, LcpSubparts, NavType, Scale, Source, WIRE_VERSION};

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

/// Interaction targets kept for INP, at most (pruned to the
/// longest interactions past it).
const MAX_HELD: usize = 20;

/// Entries that wait for a soft navigation's view to start, at most.
const MAX_WAITING: usize = 100;

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

/// One page view: its snapshot and what its values are measured against.
pub struct View {
    /// The snapshot to send, brought up to date by [`Session::refresh`].
    pub beacon: Beacon,
    /// The view's measurements.
    pub rules: PageView,
    /// The targets of the longest interactions, by interaction id: named
    /// when first seen, as web-vitals names them (the element may leave the
    /// document before the snapshot).
    held: Vec<(u64, String)>,
    /// Long Animation Frames that may overlap INP: `(startTime, duration, entry)`.
    frames: Vec<(f64, f64, JsValue)>,
    /// A soft view's `interactionId` (its contentful paints carry it).
    soft_interaction: Option<f64>,
    /// When the next soft navigation began, once it has: the view's
    /// visible time ends there (the next view's begins).
    ended_at: Option<f64>,
    /// Rage and dead clicks in the view.
    pub frustration: Frustration,
    lcp_entry: Option<LcpEntry>,
    visible_before: f64,
    errors_before: f64,
}

/// The page's session: the loader's hand-over, the current page view, and
/// everything the module holds while the page lives.
pub struct Session {
    /// The loader's hand-over object (`window.palaute.L`), shared for the
    /// page's lifetime: visibility, errors and early entries are its.
    pub loader: JsValue,
    /// `POST` URL of beacons.
    pub beacon_url: String,
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
    /// Beacons sent for the current view (its last `seq`).
    sent: u32,
    /// The last snapshot sent, encoded with `seq` 0, to skip repeats.
    last: Option<String>,
    /// Whose entries are whose.
    navs: Navigations,
    /// What this engine observes (`PerformanceObserver.supportedEntryTypes`).
    observable: Observable,
    /// `soft-navigation` entries whose views are to start.
    soft_pending: Vec<JsValue>,
    /// Entries waiting for their soft navigation's view: `(navigationId, handler, entry)`.
    waiting: Vec<(f64, Handler, JsValue)>,
    /// The `soft-navigation` observer, flushed before the others.
    soft: Option<Observer>,
    observers: Vec<Observer>,
    _listeners: Vec<EventListener>,
}

fn document() -> Document {
    js::window().document().unwrap_throw()
}

/// Whether the page is hidden now.
pub fn hidden() -> bool {
    document().hidden()
}

fn prerendering(d: &Document) -> bool {
    js::flag(d, "prerendering") == Some(true)
}

fn interaction_count() -> f64 {
    js::num(&js::performance(), "interactionCount").unwrap_or(0.0)
}

/// The navigation entry when it is valid, as web-vitals: `responseStart`
/// positive and not in the future.
fn nav_entry() -> Option<PerformanceResourceTiming> {
    let p = js::performance();
    let entry: PerformanceResourceTiming = p.get_entries_by_type("navigation").get(0).dyn_into().ok()?;
    let start = entry.response_start();
    (start > 0.0 && start < p.now()).then_some(entry)
}

/// The page's path and query now.
pub fn location() -> String {
    path_of(None)
}

/// The short selector of `node` and its ancestors ([`selector::selector`]).
pub fn selector_of(node: Option<Node>) -> Option<String> {
    let mut node = node;
    selector::selector(|| {
        let here = node.take().filter(|n| n.node_type() != Node::DOCUMENT_NODE)?;
        let element = here.node_type() == Node::ELEMENT_NODE;
        let mut part = Part { element, name: here.node_name(), ..Part::default() };
        if element {
            let el: &Element = here.unchecked_ref();
            part.id = el.id();
            // `classList.value` is the attribute's value, as web-vitals reads it.
            part.classes = el.get_attribute("class").unwrap_or_default();
        }
        node = here.parent_node();
        Some(part)
    })
}

/// A number the loader keeps (`L[key]`), 0 when it has none.
fn loader_num(loader: &JsValue, key: &str) -> f64 {
    js::num(loader, key).unwrap_or(0.0)
}

/// Total visible time of the page up to `now` (the loader tracks it from the start).
fn visible_until(loader: &JsValue, now: f64) -> f64 {
    let since = loader_num(loader, "vs");
    loader_num(loader, "vis") + if since >= 0.0 { (now - since).max(0.0) } else { 0.0 }
}

/// The path and query of `url` (absolute), else of the page's location.
fn path_of(url: Option<&str>) -> String {
    let location = js::window().location();
    let (mut path, search) = match url.and_then(|u| web_sys::Url::new(u).ok()) {
        Some(u) => (u.pathname(), u.search()),
        None => (location.pathname().unwrap_or_default(), location.search().unwrap_or_default()),
    };
    path.push_str(&search);
    limited(path, MAX_URL_CHARS)
}

/// The page's names for a view (`L.route`, `L.release`): taken when the
/// view starts (`starting`: the names hold for the views after their call),
/// else when they were named at the view's URL (the loader keeps the URL
/// the page showed beside each name), so that a router naming the route
/// after a URL change whose soft navigation has not begun yet names the
/// next view. The collector cuts a name past its limit.
fn take_names(loader: &JsValue, b: &mut Beacon, starting: bool) {
    for (key, at, field) in [("route", "routeAt", &mut b.route), ("release", "releaseAt", &mut b.release)] {
        if starting || js::text(loader, at).is_some_and(|url| url == b.url) {
            *field = js::text(loader, key);
        }
    }
}

/// `text` cut to `max` characters, as the collector accepts it.
fn limited(text: String, max: usize) -> String {
    if text.len() <= max {
        text
    } else {
        String::from(cut(&text, max))
    }
}

impl View {
    /// A new page view measured by `rules` (which know its start);
    /// `soft_url`: a soft navigation's URL. A view
    /// that is not the page's own navigation counts visible time and errors
    /// from its own start, and a soft one has no referrer (the visitor came
    /// from the route before).
    fn new(loader: &JsValue, id: String, rules: PageView, soft_url: Option<&str>) -> View {
        let (start, origin) = (rules.start(), rules.origin());
        let url = path_of(soft_url);
        let host = js::window().location().host().unwrap_or_default();
        let referrer_host = web_sys::Url::new(&document().referrer())
            .ok()
            .map(|u| u.host())
            .filter(|h| !h.is_empty() && *h != host && start != Start::Soft);
        let mut beacon = Beacon {
            v: WIRE_VERSION,
            site: js::text(loader, "site").unwrap_or_default(),
            id,
            src: Source::Module,
            url,
            referrer_host,
            start: js::performance().time_origin() + origin,
            ..Beacon::default()
        };
        take_names(loader, &mut beacon, true);
        View {
            beacon,
            rules,
            held: Vec::new(),
            frames: Vec::new(),
            soft_interaction: None,
            ended_at: None,
            frustration: Frustration::default(),
            lcp_entry: None,
            visible_before: if start == Start::Navigation { 0.0 } else { visible_until(loader, origin) },
            errors_before: if start == Start::Navigation { 0.0 } else { loader_num(loader, "err") },
        }
    }
}

impl Session {
    /// Navigation Timing of the page's own view: its times to the rules; type and status.
    fn read_nav(&mut self) {
        let view = &mut self.view;
        if !view.rules.loading() {
            return;
        }
        let Some(e) = nav_entry() else { return };
        let (dcl, load) = (js::num(&e, "domContentLoadedEventStart"), js::num(&e, "loadEventStart"));
        view.rules.navigation_timing(e.response_start(), dcl.unwrap_or(0.0), load.unwrap_or(0.0));
        let b = &mut view.beacon;
        b.response_status = js::num(&e, "responseStatus").filter(|s| *s > 0.0).map(|s| s as u16);
        let d = document();
        b.nav_type = Some(if view.rules.origin() > 0.0 || prerendering(&d) {
            NavType::Prerender
        } else if js::flag(&d, "wasDiscarded") == Some(true) {
            NavType::Restore
        } else {
            match js::text(&e, "type").as_deref() {
                Some("reload") => NavType::Reload,
                Some("back_forward") => NavType::BackForward,
                _ => NavType::Navigate,
            }
        });
    }

    fn on_paint(&mut self, e: JsValue) {
        let e: PerformanceEntry = e.unchecked_into();
        if e.name() == "first-contentful-paint" {
            self.view.rules.first_contentful_paint(e.start_time());
        }
    }

    /// An LCP candidate of the page's own view or a restore's.
    fn on_lcp(&mut self, e: JsValue) {
        if self.view.rules.start() != Start::Soft {
            let e: LcpEntry = e.unchecked_into();
            self.take_lcp(e.start_time(), e);
        }
    }

    /// An `interaction-contentful-paint` entry: a soft view's LCP candidate
    /// when it belongs to the view's interaction (as web-vitals).
    fn on_icp(&mut self, e: JsValue) {
        let ours = self.view.soft_interaction.is_some_and(|id| js::num(&e, "interactionId") == Some(id));
        let lcp = js::get(&e, "largestContentfulPaint");
        if ours && lcp.is_object() {
            let render = js::num(&lcp, "renderTime").unwrap_or(0.0);
            self.take_lcp(render, lcp.unchecked_into());
        }
    }

    /// An LCP candidate painted at `time`; when the rules take it (painted
    /// while visible), its element and URL are the attribution.
    fn take_lcp(&mut self, time: f64, e: LcpEntry) {
        let view = &mut self.view;
        if !view.rules.largest_contentful_paint(time) {
            return;
        }
        let b = &mut view.beacon;
        b.lcp_url = Some(e.url()).filter(|u| !u.is_empty()).map(|u| limited(u, MAX_URL_CHARS));
        b.lcp_element = selector_of(e.element()).or_else(|| {
            let id = e.id();
            (!id.is_empty()).then(|| {
                let mut sel = String::from("#");
                sel.push_str(&id);
                limited(sel, MAX_SELECTOR_CHARS)
            })
        });
        view.lcp_entry = Some(e);
    }

    fn on_shift(&mut self, e: JsValue) {
        let e: ShiftEntry = e.unchecked_into();
        self.view.rules.layout_shift(e.start_time(), e.value(), e.had_recent_input());
    }

    fn on_event(&mut self, e: JsValue) {
        let e: EventEntry = e.unchecked_into();
        let start = e.start_time();
        let id = js::known(e.interaction_id()).unwrap_or(0.0) as u64;
        let processing = |t: f64| js::known(t).filter(|t| *t > 0.0).unwrap_or(start);
        let timing = EventTiming {
            interaction_id: id,
            duration: e.duration(),
            processing_start: processing(e.processing_start()),
            processing_end: processing(e.processing_end()),
        };
        let view = &mut self.view;
        view.rules.event_timing(timing, start);
        if view.rules.keeps(id) && !view.held.iter().any(|(held, _)| *held == id) {
            if let Some(target) = selector_of(e.target()) {
                view.held.push((id, target));
            }
        }
        view.rules.interaction_count(interaction_count());
        // Only the targets of the longest interactions (and the reported one) are worth keeping.
        if view.held.len() > MAX_HELD {
            let rules = &view.rules;
            view.held.retain(|(id, _)| rules.keeps(*id));
        }
    }

    /// A Long Animation Frame: kept while it may overlap INP.
    fn on_frame(&mut self, e: JsValue) {
        let start = js::num(&e, "startTime").unwrap_or(0.0);
        let duration = js::num(&e, "duration").unwrap_or(0.0);
        let view = &mut self.view;
        view.frames.push((start, duration, e));
        // The recent frames, and those of INP's interaction.
        let (window, count) = (view.rules.inp_window(), view.frames.len());
        let mut index = 0;
        view.frames.retain(|(start, duration, _)| {
            index += 1;
            index + MAX_PENDING_FRAMES > count || window.is_some_and(|w| w.overlaps(*start, *duration))
        });
    }

    /// A `soft-navigation` entry: its view starts once the entries queued
    /// for the view before have been handed to it ([`Session::measure`]).
    fn on_soft_navigation(&mut self, e: JsValue) {
        if let Some(id) = js::num(&e, "navigationId") {
            self.navs.announce(id);
        }
        self.soft_pending.push(e);
    }

    /// Hands `entries` of one observed type to `handler`, each to the view
    /// it belongs to.
    pub fn take(&mut self, handler: Handler, entries: Array) {
        for entry in entries.iter() {
            let nav = js::num(&entry, "navigationId");
            match self.navs.owner(nav) {
                Owner::Current => handler(self, entry),
                Owner::Next if self.waiting.len() < MAX_WAITING => {
                    self.waiting.push((nav.unwrap_or(0.0), handler, entry));
                }
                Owner::Next | Owner::Ended => {}
            }
        }
    }

    /// Starts the views of the soft navigations announced, in order: the
    /// view before gets its final snapshot sent, the new one the entries
    /// that waited for it and its largest contentful paint so far.
    fn start_soft_views(&mut self) {
        while !self.soft_pending.is_empty() {
            let soft = self.soft_pending.remove(0);
            let start = js::num(&soft, "startTime").unwrap_or_else(js::now);
            self.view.ended_at = Some(start);
            self.send(false);
            let nav = js::num(&soft, "navigationId");
            self.navs.begin(nav);
            let painted = js::num(&soft, "presentationTime").filter(|t| *t > 0.0);
            let painted = painted.or_else(|| js::num(&soft, "paintTime")).unwrap_or(0.0);
            let rules = PageView::soft(start, painted, interaction_count(), hidden()).observing(self.observable);
            let id = self.new_id();
            let mut view = View::new(&self.loader, id, rules, js::text(&soft, "name").as_deref());
            view.beacon.nav_type = Some(NavType::SoftNavigation);
            view.soft_interaction = js::num(&soft, "interactionId");
            view.beacon.tags = std::mem::take(&mut self.view.beacon.tags);
            self.begin(view);
            let waiting = std::mem::take(&mut self.waiting);
            for (id, handler, entry) in waiting {
                if Some(id) == nav {
                    handler(self, entry);
                } else {
                    self.waiting.push((id, handler, entry));
                }
            }
            let largest = js::get(&soft, "getLargestInteractionContentfulPaint");
            if let Some(largest) = largest.dyn_ref::<Function>() {
                if let Ok(icp) = largest.call0(&soft) {
                    self.on_icp(icp);
                }
            }
        }
    }

    /// Makes `view` the current page view: its beacons count from 1 and
    /// the prompt may ask in it.
    fn begin(&mut self, view: View) {
        self.view = view;
        self.sent = 0;
        self.last = None;
        self.prompt.new_view();
    }

    /// A new page-view id, from the loader (the one source of ids).
    fn new_id(&self) -> String {
        let new_id = js::get(&self.loader, "newId").unchecked_into::<Function>().call0(&self.loader);
        new_id.ok().and_then(|id| id.as_string()).unwrap_or_default()
    }

    /// The longest script of INP's interaction, from the frames that
    /// overlap it: the script's entry, how long it ran, and where.
    fn inp_script(&self) -> Option<(JsValue, f64, crate::wire::InpPart)> {
        let window = self.view.rules.inp_window()?;
        let mut choice = script::Longest::new(window);
        let mut chosen = None;
        for (_, _, frame) in self.view.frames.iter().filter(|(start, duration, _)| window.overlaps(*start, *duration)) {
            let Ok(scripts) = js::get(frame, "scripts").dyn_into::<Array>() else { continue };
            for script in scripts.iter() {
                let time = |key| js::num(&script, key).unwrap_or(0.0);
                if choice.offer(time("startTime"), time("duration")) {
                    chosen = Some(script);
                }
            }
        }
        let (ms, part) = choice.best?;
        Some((chosen?, ms, part))
    }

    /// LCP's sub-parts, from the navigation and the latest resource entry
    /// that loaded the LCP's URL before it painted.
    fn lcp_subparts(&self) -> Option<LcpSubparts> {
        let view = &self.view;
        let response_start = nav_entry().map_or(0.0, |n| n.response_start());
        let request_start = |r: &PerformanceResourceTiming| {
            let start = r.request_start();
            if start > 0.0 {
                start
            } else {
                r.start_time()
            }
        };
        let resource = view.lcp_entry.as_ref().and_then(|e| {
            let url = e.url();
            if url.is_empty() {
                return None;
            }
            let resources = js::performance().get_entries_by_type("resource");
            resources
                .iter()
                .rev()
                .map(|r| r.unchecked_into::<PerformanceResourceTiming>())
                .find(|r| r.name() == url && request_start(r) <= e.start_time())
                .map(|r| (request_start(&r), r.response_end()))
        });
        let [ttfb, load_delay, load_duration, render_delay] = view.rules.lcp_subparts(response_start, resource)?;
        Some(LcpSubparts { ttfb, load_delay, load_duration, render_delay })
    }

    /// Hands the rules every reading the browser has queued (before a
    /// decision or a snapshot), and starts the views of soft navigations.
    pub fn measure(&mut self) {
        self.collect();
        self.start_soft_views();
    }

    /// Hands the current view every reading queued for it: soft
    /// navigations first, so that the entries of their views wait for them.
    fn collect(&mut self) {
        self.flush_soft();
        let observers = std::mem::take(&mut self.observers);
        for observer in &observers {
            observer.flush(self);
        }
        self.observers = observers;
        self.read_nav();
        self.view.rules.interaction_count(interaction_count());
    }

    /// Takes the queued `soft-navigation` entries (before any other kind).
    pub fn flush_soft(&mut self) {
        if let Some(soft) = self.soft.take() {
            soft.flush(self);
            self.soft = Some(soft);
        }
    }

    /// Brings the fields that change over the view's life up to date, so
    /// that the view's beacon is the snapshot to send.
    fn refresh(&mut self) {
        self.collect();
        let until = self.view.ended_at.unwrap_or_else(js::now);
        let visible = (visible_until(&self.loader, until) - self.view.visible_before).max(0.0);
        let errors = (loader_num(&self.loader, "err") - self.view.errors_before).max(0.0);
        let lcp_subparts = self.lcp_subparts();
        let view = &mut self.view;
        let metric = |m| view.rules.metric(m);
        let inp_target = metric(Metric::InpInteraction)
            .and_then(|id| view.held.iter().find(|(held, _)| *held == id as u64))
            .map(|(_, target)| target.clone());
        let inp_subparts = metric(Metric::InpInputDelay).map(|input_delay| InpSubparts {
            input_delay,
            processing: metric(Metric::InpProcessing).unwrap_or(0.0),
            presentation: metric(Metric::InpPresentation).unwrap_or(0.0),
        });
        let b = &mut view.beacon;
        b.ttfb_ms = metric(Metric::Ttfb);
        b.fcp_ms = metric(Metric::Fcp);
        b.lcp_ms = metric(Metric::Lcp);
        b.dcl_ms = metric(Metric::Dcl);
        b.load_ms = metric(Metric::Load);
        b.cls = metric(Metric::Cls);
        b.inp_ms = metric(Metric::Inp);
        b.inp_target = inp_target;
        b.inp_subparts = inp_subparts;
        let script = self.inp_script();
        let b = &mut self.view.beacon;
        let text = |key| script.as_ref().and_then(|(s, ..)| js::text(s, key));
        b.inp_script_url = text("sourceURL")
            .map(|url| String::from(cut(script::source_url(&url), MAX_URL_CHARS)))
            .filter(|u| !u.is_empty());
        b.inp_script_function = text("sourceFunctionName").map(|f| limited(f, MAX_FUNCTION_CHARS));
        b.inp_script_invoker = text("invokerType").map(|i| limited(i, MAX_WORD_CHARS));
        b.inp_script_ms = script.as_ref().map(|s| s.1);
        b.inp_script_subpart = script.as_ref().map(|s| s.2);
        b.lcp_subparts = lcp_subparts.filter(|_| b.lcp_ms.is_some());
        b.visible_ms = Some(visible);
        b.errors = Some(errors as u32);
        take_names(&self.loader, b, false);
        let n = js::window().navigator();
        let c = js::get(&n, "connection");
        if !c.is_undefined() {
            b.effective_type = js::text(&c, "effectiveType");
            b.downlink_mbps = js::num(&c, "downlink");
            b.rtt_ms = js::num(&c, "rtt");
            b.save_data = js::flag(&c, "saveData");
        }
        b.device_memory = js::num(&n, "deviceMemory");
        b.cpu_cores = Some(n.hardware_concurrency()).filter(|c| *c > 0.0).map(|c| c as u16);
        let f = &self.view.frustration;
        b.rage_clicks = Some(f.rage_clicks);
        b.dead_clicks = Some(f.dead_clicks);
        b.frustration_target = f.first.as_ref().map(|(target, _)| target.clone());
        b.frustration_at_ms = f.first.as_ref().map(|(_, at)| *at);
    }

    /// Sends the current snapshot of the page view, unless it was just
    /// sent; `unloading`: the page is going away.
    pub fn send(&mut self, unloading: bool) {
        self.refresh();
        let b = &mut self.view.beacon;
        b.seq = 0;
        let unchanged = encode(b);
        if unchanged.is_none() || unchanged == self.last {
            return;
        }
        self.sent += 1;
        b.seq = self.sent;
        if let Some(body) = encode(b) {
            transport::deliver(&self.beacon_url, &b.id, b.seq, body, unloading);
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

    fn on_hidden(&mut self, at: f64, unloading: bool) {
        // A click watched while the page goes did something: it left.
        self.clicks.forget();
        self.view.frustration.forget();
        self.measure();
        self.view.rules.hidden(at);
        self.view.beacon.left_at_ms = Some(self.view.rules.since_start(at));
        self.send(unloading);
    }

    /// A restore from the back/forward cache at `at`: a new page view,
    /// which paints on the second frame after `pageshow`.
    fn on_restore(&mut self, at: f64) {
        let id = self.new_id();
        let rules = PageView::restored(at, interaction_count()).observing(self.observable);
        let mut view = View::new(&self.loader, id.clone(), rules, None);
        view.beacon.nav_type = Some(NavType::BackForwardCache);
        // Its entries may carry the page's navigationId still: the rules
        // leave out what happened before the restore, by time.
        self.begin(view);
        js::after_two_frames(Box::new(move || {
            with(|s| {
                // The loader's own frame callbacks ran first: its reading is the closest to the paint.
                if s.view.beacon.id == id {
                    let painted = loader_num(&s.loader, "painted");
                    s.view.rules.restored_paint(if painted > 0.0 { painted } else { js::now() });
                }
            });
        }));
    }
}

/// The beacon as JSON, by its one definition ([`Beacon`]'s `Serialize`):
/// serde-wasm-bindgen makes the object (absent fields `undefined`, tags a
/// plain object), `JSON.stringify` the text, dropping what is `undefined`.
pub fn encode<T: serde::Serialize>(value: &T) -> Option<String> {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    let object = value.serialize(&serializer).ok()?;
    js_sys::JSON::stringify(&object).ok().map(String::from)
}

/// What this engine observes: `PerformanceObserver.supportedEntryTypes`.
fn observable() -> Observable {
    let types = js::get(&js::get(&js::window(), "PerformanceObserver"), "supportedEntryTypes");
    let types: Array = types.dyn_into().unwrap_or_else(|_| Array::new());
    Observable::from_entry_types(|t| types.includes(&JsValue::from_str(t), 0))
}

/// A lifecycle listener: in the capture phase, before the page's own.
fn listen(target: &web_sys::EventTarget, event: &'static str, on: fn(&Event)) -> EventListener {
    js::listen(target, event, EventListenerOptions::run_in_capture_phase(), on)
}

/// Takes the page view over from the loader. Nothing is measured while the
/// page is prerendering: it starts when the page is shown.
pub fn start(loader: JsValue) {
    let d = document();
    if prerendering(&d) {
        // The page fires it once; the loader's hand-over is `palaute.L`.
        let options = EventListenerOptions::default();
        js::listen(&d, "prerenderingchange", options, |_| start(js::get(&js::get(&js::window(), "palaute"), "L")))
            .forget();
        return;
    }
    let scale = match js::text(&loader, "scale").as_deref() {
        Some("five") => Some(Scale::Five),
        Some(_) => Some(Scale::Thumbs),
        None => None,
    };
    let days = js::text(&loader, "days").map(|d| js_sys::parse_float(&d));
    let settings = Settings {
        mode: Mode::parse(js::text(&loader, "feedback").as_deref()),
        cap_days: days.and_then(js::known),
        lang: js::text(&loader, "lang").unwrap_or_default(),
        scale,
    };
    let endpoint = js::text(&loader, "endpoint").unwrap_or_default();
    let mut beacon_url = endpoint.clone();
    beacon_url.push_str("/b");
    let activation = nav_entry().and_then(|n| js::num(&n, "activationStart")).unwrap_or(0.0);
    let w = js::window();
    let listeners = vec![
        listen(&d, "visibilitychange", |e| {
            let at = e.time_stamp();
            with(|s| {
                if hidden() {
                    s.on_hidden(at, false);
                } else {
                    s.view.beacon.left_at_ms = None;
                    prompt::on_visible();
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
            with(|s| transport::flush(&s.beacon_url));
        }),
    ];
    let id = js::text(&loader, "id").unwrap_or_default();
    let hid = js::num(&loader, "hid").unwrap_or(f64::INFINITY);
    let observable = observable();
    let rules = PageView::navigation(activation, hid).observing(observable);
    let mut session = Session {
        beacon_url,
        settings,
        view: View::new(&loader, id, rules, None),
        site_five: false,
        prompt: prompt::Prompt::default(),
        clicks: Clicks::new(),
        sent: js::num(&loader, "seq").unwrap_or(0.0) as u32,
        last: None,
        navs: Navigations::current(nav_entry().and_then(|n| js::num(&n, "navigationId"))),
        observable,
        soft_pending: Vec::new(),
        waiting: Vec::new(),
        soft: None,
        observers: Vec::new(),
        _listeners: listeners,
        loader,
    };
    session.read_nav();
    // Interactions shorter than 104 ms are not buffered: the loader kept them.
    if let Ok(early) = js::get(&session.loader, "ev").dyn_into::<Array>() {
        for entry in early.iter() {
            session.on_event(entry);
        }
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
    let observed: [(&str, Handler); 7] = [
        ("paint", Session::on_paint),
        ("largest-contentful-paint", Session::on_lcp),
        ("layout-shift", Session::on_shift),
        ("event", Session::on_event),
        ("first-input", Session::on_event),
        ("interaction-contentful-paint", Session::on_icp),
        ("long-animation-frame", Session::on_frame),
    ];
    let observers = observed.into_iter().filter_map(|(kind, handler)| Observer::new(kind, handler)).collect();
    let soft = Observer::new("soft-navigation", Session::on_soft_navigation);
    with(|s| {
        s.observers = observers;
        s.soft = soft;
    });
    // Beacons earlier page views could not deliver.
    with(|s| transport::flush(&s.beacon_url));
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
    prompt::schedule_settle();
    // The visitor may already have gone while the module loaded.
    if hidden() {
        with(|s| s.send(false));
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::*;

    use super::encode;
    use crate::wire::object::Fields;
    use crate::wire::{sample, Beacon};

    wasm_bindgen_test_configure!(run_in_browser);

    /// The client's encoder (serde-wasm-bindgen, then `JSON.stringify`)
    /// writes every field so that the collector's decoder (`serde_json`)
    /// reads the same beacon back.
    #[wasm_bindgen_test]
    fn the_client_encodes_every_field_as_the_collector_decodes_it() {
        let beacon = sample::every_field("shop", "0123456789abcdef0123", 1_700_000_000_000.5);
        let json = encode(&beacon).expect("encoded");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value.as_object().unwrap().len(), beacon.fields().len(), "{json}");
        assert_eq!(value["tags"], serde_json::json!({"ab": "b", "plan": "pro"}), "tags are an object");
        assert_eq!(serde_json::from_str::<Beacon>(&json).unwrap(), beacon);
        // Absent fields are left out, not sent as null.
        let minimal = Beacon { site: "shop".into(), ..Beacon::default() };
        let json = encode(&minimal).expect("encoded");
        assert!(!json.contains("null") && !json.contains("lcp_ms"), "{json}");
        assert_eq!(serde_json::from_str::<Beacon>(&json).unwrap(), minimal);
    }
}
