//! Layout stability and responsiveness: `layout-shift` entries into CLS
//! session windows, `event` and `first-input` entries into INP
//! interactions (rules in `crate::vitals::{cls, inp}`).

use wasm_bindgen::JsValue;

use super::super::js;
use super::super::page_view::PageView;

/// `layout-shift` entries.
pub fn on_layout_shift(view: &mut PageView, entry: &JsValue) {
    let (Some(start), Some(value)) = (js::num(entry, "startTime"), js::num(entry, "value")) else { return };
    // Shifts of a page view that began later (a bfcache restore) belong to it only.
    if start >= view.origin {
        view.shifts.add(start, value, js::get(entry, "hadRecentInput").is_truthy());
    }
}

/// `event` and `first-input` entries.
pub fn on_event(view: &mut PageView, entry: &JsValue) {
    let (Some(id), Some(duration), Some(start)) =
        (js::num(entry, "interactionId"), js::num(entry, "duration"), js::num(entry, "startTime"))
    else {
        return;
    };
    if start >= view.origin {
        view.interactions.add(id as u64, duration, entry);
    }
}

/// `performance.interactionCount`, where the browser has it.
pub fn interaction_count() -> f64 {
    js::num(&js::performance(), "interactionCount").unwrap_or(0.0)
}
