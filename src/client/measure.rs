//! The current page view ([`crate::vitals::view::PageView`]), fed with the
//! browser's readings by the JavaScript half and read back metric by
//! metric. NaN stands for "none" in both directions.

use wasm_bindgen::prelude::*;

use crate::vitals::inp::EventTiming;
use crate::vitals::view::{Metric, PageView};

use super::global::Global;

static VIEW: Global<Option<PageView>> = Global::new(None);

/// Runs `f` on the current page view (an empty one before [`begin_view`]).
pub fn with<R>(f: impl FnOnce(&mut PageView) -> R) -> R {
    VIEW.with(|cell| f(cell.borrow_mut().get_or_insert_with(|| PageView::navigation(0.0, f64::INFINITY))))
}

/// Starts a page view at `origin` (`performance.now()` time): the page's own
/// (first hidden at `first_hidden`), or a back/forward-cache restore
/// (`restored`, when the page had seen `interaction_count` interactions).
#[wasm_bindgen]
pub fn begin_view(origin: f64, first_hidden: f64, restored: bool, interaction_count: f64) {
    let view = if restored {
        PageView::restored(origin, interaction_count)
    } else {
        PageView::navigation(origin, first_hidden)
    };
    VIEW.with(|cell| *cell.borrow_mut() = Some(view));
}

/// `time` relative to the view's start, clamped at 0.
#[wasm_bindgen]
pub fn since_start(time: f64) -> f64 {
    with(|view| view.since_start(time))
}

/// The page was hidden at `time`.
#[wasm_bindgen]
pub fn hidden(time: f64) {
    with(|view| view.hidden(time));
}

/// The navigation entry's `responseStart`, `domContentLoadedEventStart`,
/// `loadEventStart` (0 until they happen).
#[wasm_bindgen]
pub fn navigation_timing(response_start: f64, dcl_start: f64, load_start: f64) {
    with(|view| view.navigation_timing(response_start, dcl_start, load_start));
}

/// Whether `load` is still to come (read the navigation entry again).
#[wasm_bindgen]
pub fn loading() -> bool {
    with(|view| view.loading())
}

/// The `first-contentful-paint` entry's `startTime`.
#[wasm_bindgen]
pub fn first_contentful_paint(start_time: f64) {
    with(|view| view.first_contentful_paint(start_time));
}

/// A `largest-contentful-paint` entry's `startTime`; `true` when it is LCP now.
#[wasm_bindgen]
pub fn largest_contentful_paint(start_time: f64) -> bool {
    with(|view| view.largest_contentful_paint(start_time))
}

/// When a page restored from the back/forward cache painted.
#[wasm_bindgen]
pub fn restored_paint(painted_at: f64) {
    with(|view| view.restored_paint(painted_at));
}

/// A `layout-shift` entry.
#[wasm_bindgen]
pub fn layout_shift(start_time: f64, value: f64, had_recent_input: bool) {
    with(|view| view.layout_shift(start_time, value, had_recent_input));
}

/// An `event` or `first-input` entry; `true` when it now sets its
/// interaction's latency (keep it for INP's target).
#[wasm_bindgen]
pub fn event_timing(
    interaction_id: f64,
    start_time: f64,
    duration: f64,
    processing_start: f64,
    processing_end: f64,
) -> bool {
    let timing = EventTiming { interaction_id: interaction_id as u64, duration, processing_start, processing_end };
    with(|view| view.event_timing(timing, start_time))
}

/// `performance.interactionCount` now (0 where the browser lacks it).
#[wasm_bindgen]
pub fn interaction_count(count: f64) {
    with(|view| view.interaction_count(count));
}

/// Whether interaction `interaction_id`'s entry is still worth keeping.
#[wasm_bindgen]
pub fn keeps(interaction_id: f64) -> bool {
    with(|view| view.keeps(interaction_id as u64))
}

/// A measurement by its [`Metric`] index: TTFB, FCP, LCP, DCL, load, CLS,
/// INP, INP's interaction id, input delay, processing, presentation
/// (`tests/unit/metric-order.test.mjs` checks the JavaScript against it).
#[wasm_bindgen]
pub fn metric(index: u32) -> f64 {
    with(|view| Metric::from_index(index).and_then(|m| view.metric(m)).unwrap_or(f64::NAN))
}

/// LCP's sub-part `part` (0 TTFB, 1 load delay, 2 load duration, 3 render
/// delay) from the navigation's `responseStart` (0 without a valid one) and
/// the LCP resource's request start and `responseEnd` (NaN: no resource).
#[wasm_bindgen]
pub fn lcp_subpart(part: u32, response_start: f64, request_start: f64, response_end: f64) -> f64 {
    let resource = (!request_start.is_nan()).then_some((request_start, response_end));
    with(|view| view.lcp_subparts(response_start, resource))
        .and_then(|parts| parts.get(part as usize).copied())
        .unwrap_or(f64::NAN)
}
