//! The page view's layout shifts and interactions, fed entry by entry:
//! CLS and INP by the rules of [`crate::vitals::cls`] and
//! [`crate::vitals::inp`].

use wasm_bindgen::prelude::*;

use crate::vitals::cls::SessionWindows;
use crate::vitals::inp::{EventTiming, Interactions};

use super::global::Global;

/// The current page view's shifts and interactions. Each interaction keeps
/// the `startTime` of the entry that set its latency (for its sub-parts).
#[derive(Default)]
struct Measures {
    shifts: SessionWindows,
    interactions: Interactions<f64>,
}

static MEASURES: Global<Option<Measures>> = Global::new(None);

fn with<R>(f: impl FnOnce(&mut Measures) -> R) -> R {
    MEASURES.with(|cell| f(cell.borrow_mut().get_or_insert_with(Measures::default)))
}

/// Starts a new page view (the page's own, or a back/forward-cache restore):
/// no shifts, no interactions.
#[wasm_bindgen]
pub fn begin_view() {
    with(|m| *m = Measures::default());
}

/// A `layout-shift` entry.
#[wasm_bindgen]
pub fn layout_shift(start_time: f64, value: f64, had_recent_input: bool) {
    with(|m| m.shifts.add(start_time, value, had_recent_input));
}

/// CLS so far: the largest session window's total.
#[wasm_bindgen]
pub fn cls() -> f64 {
    with(|m| m.shifts.value())
}

/// An `event` or `first-input` entry. `true` when it is now the entry that
/// sets its interaction's latency (the one INP's attribution reads).
#[wasm_bindgen]
pub fn event_timing(
    interaction_id: f64,
    start_time: f64,
    duration: f64,
    processing_start: f64,
    processing_end: f64,
) -> bool {
    let timing = EventTiming { interaction_id: interaction_id as u64, duration, processing_start, processing_end };
    with(|m| m.interactions.add(timing, &start_time))
}

/// Re-evaluates INP after entries were added, given the page view's
/// interaction count (`performance.interactionCount` since it began).
#[wasm_bindgen]
pub fn update_inp(interaction_count: f64) {
    with(|m| m.interactions.update(interaction_count.max(0.0) as u64));
}

/// Whether interaction `interaction_id` is still among the longest (its
/// entry is worth keeping for attribution).
#[wasm_bindgen]
pub fn kept(interaction_id: f64) -> bool {
    with(|m| m.interactions.longest().any(|i| i.id == interaction_id as u64))
}

/// INP as reported, part by part: 0 the latency, 1 the interaction's id,
/// 2 input delay, 3 processing, 4 presentation (ms). NaN before any
/// interaction. One number per call: no array crosses the boundary.
#[wasm_bindgen]
pub fn inp(part: u32) -> f64 {
    with(|m| {
        let Some(reported) = m.interactions.reported() else { return f64::NAN };
        let (input_delay, processing, presentation) = reported.subparts(reported.entry);
        match part {
            0 => reported.latency,
            1 => reported.id as f64,
            2 => input_delay,
            3 => processing,
            4 => presentation,
            _ => f64::NAN,
        }
    })
}
