//! Paint timing: FCP from `paint` entries, LCP from
//! `largest-contentful-paint` entries, and the paint of a page restored from
//! the back/forward cache.

use wasm_bindgen::JsValue;

use super::super::js;
use super::super::page_view::PageView;

/// `paint` entries: FCP, if the page had not been hidden before it.
pub fn on_paint(view: &mut PageView, entry: &JsValue) {
    if js::text(entry, "name").as_deref() != Some("first-contentful-paint") {
        return;
    }
    let Some(time) = js::num(entry, "startTime") else {
        return;
    };
    if view.seen(time) && view.beacon.fcp_ms.is_none() {
        view.beacon.fcp_ms = Some(view.since_start(time));
    }
}

/// `largest-contentful-paint` entries: the latest one painted while the page
/// was visible is LCP. The browser stops emitting them after the first input.
pub fn on_lcp(view: &mut PageView, entry: &JsValue) {
    let Some(time) = js::num(entry, "startTime") else {
        return;
    };
    if !view.seen(time) {
        return;
    }
    view.beacon.lcp_ms = Some(view.since_start(time));
    view.beacon.lcp_url = js::text(entry, "url");
    view.beacon.lcp_element = super::super::selector::of(&js::get(entry, "element"))
        .or_else(|| js::text(entry, "id").map(|id| super::super::selector::by_id(&id)));
    view.lcp_entry = Some(entry.clone());
}

/// A page restored from the back/forward cache paints on the second frame
/// after `pageshow`: that time is both its FCP and its LCP (as web-vitals).
pub fn on_restored_paint(view: &mut PageView, painted_at: f64) {
    let time = view.since_start(painted_at);
    view.beacon.fcp_ms = Some(time);
    view.beacon.lcp_ms = Some(time);
}
