//! The client's state for the page's lifetime and the page lifecycle:
//! hidden → send, visible again → the visitor is back, `pagehide` → send,
//! back/forward-cache restore → a new page view.

use alloc::{string::String, vec, vec::Vec};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::events::Listener;
use super::global::Global;
use super::js;
use super::loader::Loader;
use super::metrics::{self, nav, paint, responsiveness};
use super::observe::Observer;
use super::page_view::PageView;
use super::prompt::{self, PromptState};
use super::transport;

static SESSION: Global<Option<Session>> = Global::new(None);

/// Runs `f` on the session, if it has started. Event callbacks never nest,
/// so the borrow cannot fail; if it ever did, the event is skipped rather
/// than aborting the module.
pub fn with_session(f: impl FnOnce(&mut Session)) {
    SESSION.with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            if let Some(session) = slot.as_mut() {
                f(session);
            }
        }
    });
}

/// The client: the current page view, its observers and listeners.
pub struct Session {
    loader: Loader,
    view: PageView,
    beacon_url: String,
    observers: Vec<Observer>,
    /// Beacons sent so far for the current view (its `seq`).
    sent: u32,
    /// The last snapshot sent, encoded with `seq` 0, to skip sending it again.
    last_sent: Option<String>,
    /// The feedback prompt's state for the current view.
    pub prompt: PromptState,
    /// The site's default scale on the collector, once read (`Some(true)`: five).
    site_scale_five: Option<bool>,
    _listeners: Vec<Listener>,
}

impl Session {
    /// Starts measuring, once the page is no longer prerendering (nothing is
    /// sent for a prerendered page that is never shown).
    pub fn start(loader: Loader) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if js::get(&document, "prerendering").is_truthy() {
            // Fired once, when the page is shown.
            let mut loader = Some(loader);
            Listener::new(&document, "prerenderingchange", false, move |_| {
                if let Some(loader) = loader.take() {
                    Session::start(loader);
                }
            })
            .forget();
            return;
        }
        let mut view = PageView::navigation(&loader, nav::activation_start());
        nav::read(&mut view);
        // Interactions shorter than 104 ms are not buffered: the loader kept them.
        for entry in loader.early_event_entries().iter() {
            responsiveness::on_event(&mut view, &entry);
        }
        let beacon_url = loader.beacon_url();
        let session = Session {
            beacon_url: beacon_url.clone(),
            sent: loader.sent(),
            view,
            loader,
            observers: metrics::observers(),
            last_sent: None,
            prompt: PromptState::default(),
            site_scale_five: None,
            _listeners: listeners(&document, beacon_url.clone()),
        };
        SESSION.with(|cell| *cell.borrow_mut() = Some(session));
        // Beacons earlier page views could not deliver.
        transport::flush(&beacon_url);
        with_session(|s| {
            if s.loader.tag_scale_is_five().is_none() {
                super::site_config::fetch(&s.loader.endpoint(), &s.loader.site());
            }
        });
        prompt::schedule_settle();
        // The visitor may already have gone while the module loaded.
        if document.hidden() {
            with_session(|s| s.send());
        }
    }

    /// The page view being measured.
    pub fn view_mut(&mut self) -> &mut PageView {
        &mut self.view
    }

    /// The loader's hand-over object: the script tag's settings.
    pub fn loader(&self) -> &Loader {
        &self.loader
    }

    /// Hands every observer's queued entries to the page view.
    pub fn flush_observers(&mut self) {
        for observer in &self.observers {
            observer.flush(&mut self.view);
        }
    }

    /// Whether the site asks for ratings on the five-point scale: the
    /// script tag's choice, else the site's on the collector, else thumbs.
    pub fn scale_is_five(&self) -> bool {
        self.loader.tag_scale_is_five().or(self.site_scale_five).unwrap_or(false)
    }

    /// Records the site's default scale read from the collector.
    pub fn set_site_scale_five(&mut self, five: bool) {
        self.site_scale_five = Some(five);
    }

    /// Sends the current snapshot of the page view, unless it was just sent.
    pub fn send(&mut self) {
        self.send_snapshot(false);
    }

    /// Like [`send`](Self::send); `unloading` when the page is going away.
    fn send_snapshot(&mut self, unloading: bool) {
        self.flush_observers();
        nav::refresh(&mut self.view);
        self.view.refresh(&self.loader);
        let (beacon, tags) = (&mut self.view.beacon, &self.view.tags);
        beacon.seq = 0;
        let unchanged = transport::encode(beacon, tags);
        if unchanged.is_none() || self.last_sent == unchanged {
            return;
        }
        self.sent += 1;
        beacon.seq = self.sent;
        if let Some(body) = transport::encode(beacon, tags) {
            transport::deliver(&self.beacon_url, &beacon.id, beacon.seq, &body, unloading);
        }
        self.last_sent = unchanged;
    }

    fn on_hidden(&mut self, at: f64, unloading: bool) {
        self.view.beacon.left_at_ms = Some(self.view.since_start(at));
        self.send_snapshot(unloading);
    }

    fn on_visible(&mut self) {
        self.view.beacon.left_at_ms = None;
        prompt::on_visible();
    }

    fn on_restore(&mut self, restored_at: f64) {
        self.view = PageView::restored(&self.loader, restored_at);
        self.sent = 0;
        self.last_sent = None;
        self.prompt = self.prompt.for_new_view();
        after_next_paint(move || {
            with_session(|s| {
                let painted = s.loader.restored_paint().unwrap_or_else(js::now);
                paint::on_restored_paint(&mut s.view, painted)
            });
        });
    }
}

fn listeners(document: &web_sys::Document, beacon_url: String) -> Vec<Listener> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let visibility = {
        let document = document.clone();
        Listener::new(&document.clone(), "visibilitychange", true, move |event| {
            let hidden = document.hidden();
            let at = event.time_stamp();
            with_session(|s| if hidden { s.on_hidden(at, false) } else { s.on_visible() });
        })
    };
    let pagehide = Listener::new(&window, "pagehide", true, |event| {
        let at = event.time_stamp();
        let kept = event.dyn_ref::<web_sys::PageTransitionEvent>().is_some_and(|e| e.persisted());
        with_session(|s| s.on_hidden(at, !kept));
    });
    let online = Listener::new(&window, "online", false, move |_| transport::flush(&beacon_url));
    let pageshow = Listener::new(&window, "pageshow", true, |event| {
        let persisted = event.dyn_ref::<web_sys::PageTransitionEvent>().is_some_and(|e| e.persisted());
        let at = event.time_stamp();
        if persisted {
            with_session(|s| s.on_restore(at));
        }
    });
    vec![visibility, pagehide, pageshow, online]
}

/// Calls `f` once the next frame has been presented (two animation frames;
/// the loader's own, registered earlier, have run by then).
fn after_next_paint(f: impl FnOnce() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let second = Closure::once_into_js(f);
    let first = Closure::once_into_js(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.request_animation_frame(second.unchecked_ref());
        }
    });
    let _ = window.request_animation_frame(first.unchecked_ref());
}
