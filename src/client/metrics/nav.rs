//! Navigation Timing: TTFB, `DOMContentLoaded`, `load`, the navigation type,
//! the response status and the activation start of prerendered pages.

use wasm_bindgen::JsValue;

use crate::wire::NavType;

use super::super::js;
use super::super::page_view::PageView;

/// The page's navigation entry, when the browser gives a valid one (as
/// web-vitals: `responseStart` present, positive, and not in the future).
pub fn entry() -> Option<JsValue> {
    let entry = js::performance().get_entries_by_type("navigation").get(0);
    let response_start = js::num(&entry, "responseStart")?;
    (response_start > 0.0 && response_start < js::now()).then_some(entry)
}

/// `activationStart` of a prerendered page, else 0.
pub fn activation_start() -> f64 {
    entry().and_then(|e| js::num(&e, "activationStart")).unwrap_or(0.0)
}

/// Fills the navigation fields of the page's first view.
pub fn read(view: &mut PageView) {
    let Some(entry) = entry() else { return };
    let origin = view.origin;
    let at = |key: &str| js::num(&entry, key).filter(|t| *t > 0.0).map(|t| (t - origin).max(0.0));
    let beacon = &mut view.beacon;
    beacon.ttfb_ms = at("responseStart");
    beacon.dcl_ms = at("domContentLoadedEventStart");
    beacon.load_ms = at("loadEventStart");
    beacon.response_status = js::num(&entry, "responseStatus").filter(|s| *s > 0.0).map(|s| s as u16);
    let document = web_sys::window().and_then(|w| w.document()).map(JsValue::from).unwrap_or_default();
    beacon.nav_type = Some(if origin > 0.0 || js::get(&document, "prerendering").is_truthy() {
        NavType::Prerender
    } else if js::get(&document, "wasDiscarded").is_truthy() {
        NavType::Restore
    } else {
        match js::text(&entry, "type").as_deref() {
            Some("reload") => NavType::Reload,
            Some("back_forward") => NavType::BackForward,
            _ => NavType::Navigate,
        }
    });
}

/// Fills `load_ms` and `dcl_ms` if they happened after the module started.
pub fn refresh(view: &mut PageView) {
    if view.beacon.load_ms.is_none() && view.beacon.nav_type != Some(NavType::BackForwardCache) {
        read(view);
    }
}
