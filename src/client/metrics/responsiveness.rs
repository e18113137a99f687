//! Layout stability and responsiveness: `layout-shift` entries into CLS
//! session windows, `event` and `first-input` entries into INP
//! interactions (rules in `crate::vitals::{cls, inp}`).

use wasm_bindgen::JsValue;

use crate::vitals::inp::EventTiming;

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
        let timing = EventTiming {
            interaction_id: id as u64,
            duration,
            processing_start: js::num(entry, "processingStart").unwrap_or(start),
            processing_end: js::num(entry, "processingEnd").unwrap_or(start),
        };
        view.interactions.add(timing, entry);
        view.update_inp();
    }
}

/// `performance.interactionCount`, where the browser has it.
pub fn interaction_count() -> f64 {
    js::num(&js::performance(), "interactionCount").unwrap_or(0.0)
}
