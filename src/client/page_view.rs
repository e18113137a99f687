//! One page view: its identity, its time origin and the measured fields,
//! accumulated in the [`Beacon`] it will be reported as.

use crate::vitals::cls::SessionWindows;
use crate::vitals::inp::Interactions;
use crate::wire::{Beacon, InpSubparts, NavType, Source, WIRE_VERSION};
use alloc::{string::String, string::ToString, vec::Vec};

use super::js;
use super::loader::Loader;
use super::metrics::{attribution, device, responsiveness};

/// A page view being measured.
pub struct PageView {
    /// The measured fields so far; identity fields are set at creation.
    pub beacon: Beacon,
    /// `performance.now()` time this view's times are relative to: the
    /// activation start, or the back/forward-cache restore.
    pub origin: f64,
    /// `performance.now()` time the page was first hidden during this view.
    pub first_hidden: f64,
    /// The entry that set LCP (for attribution).
    pub lcp_entry: Option<wasm_bindgen::JsValue>,
    /// Layout shifts so far (CLS).
    pub shifts: SessionWindows,
    /// The longest interactions so far (INP), with their entries.
    pub interactions: Interactions<wasm_bindgen::JsValue>,
    /// Custom dimensions from `palaute.tag`, in the order first set (sent as
    /// the beacon's `tags`).
    pub tags: Vec<(String, String)>,
    /// `performance.interactionCount` when this view began.
    interactions_before: f64,
    /// Visible time and error count of the page before this view began.
    visible_before: f64,
    errors_before: u32,
}

impl PageView {
    /// The view of the page's own navigation, with the loader's id.
    pub fn navigation(loader: &Loader, activation_start: f64) -> PageView {
        PageView {
            beacon: identity(loader.site(), loader.page_view_id(), activation_start),
            origin: activation_start,
            first_hidden: loader.first_hidden(),
            lcp_entry: None,
            shifts: SessionWindows::default(),
            interactions: Interactions::default(),
            tags: Vec::new(),
            interactions_before: 0.0,
            visible_before: 0.0,
            errors_before: 0,
        }
    }

    /// A new view for a restore from the back/forward cache at `restored_at`.
    pub fn restored(loader: &Loader, restored_at: f64) -> PageView {
        let mut beacon = identity(loader.site(), js::new_page_view_id(), restored_at);
        beacon.nav_type = Some(NavType::BackForwardCache);
        // As web-vitals: a restored page has no network wait.
        beacon.ttfb_ms = Some(0.0);
        PageView {
            beacon,
            origin: restored_at,
            first_hidden: f64::INFINITY,
            lcp_entry: None,
            shifts: SessionWindows::default(),
            interactions: Interactions::default(),
            tags: Vec::new(),
            interactions_before: responsiveness::interaction_count(),
            visible_before: loader.visible_until(restored_at),
            errors_before: loader.errors(),
        }
    }

    /// `time` (in `performance.now()` time) relative to this view's start,
    /// clamped at 0 as web-vitals does.
    pub fn since_start(&self, time: f64) -> f64 {
        (time - self.origin).max(0.0)
    }

    /// Whether something at `time` happened while the page had never been
    /// hidden (paints in background tabs do not count).
    pub fn seen(&self, time: f64) -> bool {
        time < self.first_hidden
    }

    /// Interactions during this view (`performance.interactionCount`).
    pub fn interaction_count(&self) -> u64 {
        (responsiveness::interaction_count() - self.interactions_before).max(0.0) as u64
    }

    /// Re-evaluates INP after new Event Timing entries.
    pub fn update_inp(&mut self) {
        let count = self.interaction_count();
        self.interactions.update(count);
    }

    /// Brings the fields that change over the view's life up to date
    /// (visible time, errors, CLS, INP, attribution, connection), so that
    /// `beacon` is the snapshot to send.
    pub fn refresh(&mut self, loader: &Loader) {
        let now = js::now();
        let mut beacon = core::mem::take(&mut self.beacon);
        beacon.visible_ms = Some((loader.visible_until(now) - self.visible_before).max(0.0));
        beacon.errors = Some(loader.errors().saturating_sub(self.errors_before));
        // As web-vitals: CLS is reported once there was a first paint.
        beacon.cls = beacon.fcp_ms.map(|_| self.shifts.value());
        (beacon.inp_target, beacon.inp_subparts) = attribution::inp(self);
        beacon.inp_ms = self.interactions.reported().map(|i| i.latency).or_else(|| {
            // A restored page with only quick interactions: web-vitals reports 8 ms.
            let restored = beacon.nav_type == Some(NavType::BackForwardCache);
            (restored && self.interaction_count() > 0).then_some(8.0)
        });
        if beacon.inp_subparts.is_none() {
            beacon.inp_subparts = beacon.inp_ms.map(|inp| InpSubparts { presentation: inp, ..InpSubparts::default() });
        }
        beacon.lcp_subparts = beacon.lcp_ms.map(|lcp| attribution::lcp_subparts(self, lcp));
        device::read(&mut beacon);
        self.beacon = beacon;
    }
}

fn identity(site: String, id: String, origin: f64) -> Beacon {
    let location = web_sys::window().map(|w| w.location());
    let path = location.as_ref().and_then(|l| l.pathname().ok()).unwrap_or_default();
    let query = location.as_ref().and_then(|l| l.search().ok()).unwrap_or_default();
    Beacon {
        v: WIRE_VERSION,
        site,
        id,
        src: Source::Module,
        url: path + &query,
        referrer_host: referrer_host(),
        start: js::performance().time_origin() + origin,
        ..Beacon::default()
    }
}

/// Host of `document.referrer` when it is another site's.
fn referrer_host() -> Option<String> {
    let document = web_sys::window()?.document()?;
    let referrer = document.referrer();
    // The text between "scheme://" and the path, query or fragment.
    let after_scheme = referrer.split_once(':')?.1.trim_start_matches('/');
    let host = after_scheme.split(['/', '?', '#']).next()?;
    let own = web_sys::window()?.location().host().ok()?;
    (!host.is_empty() && host != own).then(|| host.to_string())
}
