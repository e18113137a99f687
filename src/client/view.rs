//! One page view: its snapshot (a [`Beacon`]), its measurements
//! ([`PageView`], which gives the readings their meaning) and what is kept
//! for attribution. The handlers of its entry types live beside their
//! concern: [`super::lcp`], [`super::inp`], [`super::frames`]; paints,
//! layout shifts and Navigation Timing here.

use wasm_bindgen::prelude::*;
use web_sys::PerformanceEntry;

use super::dom::{self, path_of};
use super::js::{self, LcpEntry, ShiftEntry};
use super::loader::{Loader, NAMES};
use crate::vitals::frustration::Frustration;
use crate::vitals::view::{PageView, Start};
use crate::wire::{Beacon, NavType, Source, WIRE_VERSION};

/// What a view does with one entry of an observed type.
pub type Handler = fn(&mut View, JsValue);

/// One page view: its snapshot and what its values are measured against.
pub struct View {
    /// The snapshot to send, brought up to date by [`View::snapshot`].
    pub beacon: Beacon,
    /// The view's measurements.
    pub rules: PageView,
    /// The targets of the longest interactions, by interaction id: named
    /// when first seen, as web-vitals names them (the element may leave the
    /// document before the snapshot).
    pub held: Vec<(u64, String)>,
    /// Long Animation Frames that may overlap INP: `(startTime, duration, entry)`.
    pub frames: Vec<(f64, f64, JsValue)>,
    /// A soft view's `interactionId` (its contentful paints carry it).
    pub soft_interaction: Option<f64>,
    /// When the next soft navigation began, once it has: the view's
    /// visible time ends there (the next view's begins).
    pub ended_at: Option<f64>,
    /// Rage and dead clicks in the view.
    pub frustration: Frustration,
    /// The entry of the view's LCP, for its sub-parts.
    pub lcp_entry: Option<LcpEntry>,
    /// The page's visible time and errors before the view began.
    pub visible_before: f64,
    pub errors_before: f64,
}

/// The page's names for a view (`L.route`, `L.release`): taken when the
/// view starts (`starting`: the names hold for the views after their call),
/// else when they were named at the view's URL (the loader keeps the URL
/// the page showed beside each name), so that a router naming the route
/// after a URL change whose soft navigation has not begun yet names the
/// next view. The collector cuts a name past its limit.
pub fn take_names(loader: &Loader, b: &mut Beacon, starting: bool) {
    let [(route, route_at), (release, release_at)] = NAMES;
    for (key, at, field) in [(route, route_at, &mut b.route), (release, release_at, &mut b.release)] {
        if starting || loader.name(at).is_some_and(|url| url == b.url) {
            *field = loader.name(key);
        }
    }
}

impl View {
    /// A new page view measured by `rules` (which know its start);
    /// `soft_url`: a soft navigation's URL. A view
    /// that is not the page's own navigation counts visible time and errors
    /// from its own start, and a soft one has no referrer (the visitor came
    /// from the route before).
    pub fn new(loader: &Loader, id: String, rules: PageView, soft_url: Option<&str>) -> View {
        let (start, origin) = (rules.start(), rules.origin());
        let url = path_of(soft_url);
        let host = js::window().location().host().unwrap_or_default();
        let referrer_host = web_sys::Url::new(&dom::document().referrer())
            .ok()
            .map(|u| u.host())
            .filter(|h| !h.is_empty() && *h != host && start != Start::Soft);
        let mut beacon = Beacon {
            v: WIRE_VERSION,
            site: loader.site(),
            id,
            src: Source::Module,
            url,
            referrer_host,
            start: js::performance().time_origin() + origin,
            ..Beacon::default()
        };
        take_names(loader, &mut beacon, true);
        let own = start == Start::Navigation;
        View {
            beacon,
            rules,
            held: Vec::new(),
            frames: Vec::new(),
            soft_interaction: None,
            ended_at: None,
            frustration: Frustration::default(),
            lcp_entry: None,
            visible_before: if own { 0.0 } else { loader.visible_until(origin) },
            errors_before: if own { 0.0 } else { loader.errors() },
        }
    }

    /// A view restored from the back/forward cache paints on the second
    /// animation frame after `pageshow`: that time, which the loader takes
    /// in its own frame callbacks (`L.painted`, the closest reading to the
    /// paint, as web-vitals takes it), is its FCP and LCP once it is there.
    pub fn read_paint(&mut self, loader: &Loader) {
        if self.rules.start() != Start::Restore {
            return;
        }
        let painted = loader.painted();
        if painted > 0.0 {
            self.rules.restored_paint(painted);
        }
    }

    /// Navigation Timing of the page's own view: its times to the rules; type and status.
    pub fn read_nav(&mut self) {
        if !self.rules.loading() {
            return;
        }
        let Some(e) = dom::nav_entry() else { return };
        let (dcl, load) = (js::num(&e, "domContentLoadedEventStart"), js::num(&e, "loadEventStart"));
        self.rules.navigation_timing(e.response_start(), dcl.unwrap_or(0.0), load.unwrap_or(0.0));
        let b = &mut self.beacon;
        b.response_status = js::num(&e, "responseStatus").filter(|s| *s > 0.0).map(|s| s as u16);
        let d = dom::document();
        b.nav_type = Some(if self.rules.origin() > 0.0 || dom::prerendering(&d) {
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

    /// A `paint` entry.
    pub fn on_paint(&mut self, e: JsValue) {
        let e: PerformanceEntry = e.unchecked_into();
        if e.name() == "first-contentful-paint" {
            self.rules.first_contentful_paint(e.start_time());
        }
    }

    /// A `layout-shift` entry.
    pub fn on_shift(&mut self, e: JsValue) {
        let e: ShiftEntry = e.unchecked_into();
        self.rules.layout_shift(e.start_time(), e.value(), e.had_recent_input());
    }
}
