//! Whether the feedback prompt asks by itself now
//! ([`crate::feedback::policy`]), after what the current page view went
//! through. The JavaScript half draws it.
//!
//! The trigger mode (`data-feedback`) arrives as its code
//! ([`Mode::from_code`]); NaN stands for "none".

use wasm_bindgen::prelude::*;

use crate::feedback::policy::{Experience, Mode, Moment, Policy};
use crate::vitals::view::Metric;
use crate::wire::Scale;

use super::measure;

fn experience(visible: bool) -> Experience {
    measure::with(|view| Experience {
        lcp_ms: view.metric(Metric::Lcp),
        load_ms: view.metric(Metric::Load),
        inp_ms: view.metric(Metric::Inp),
        returned_after_abandoning: view.returned_after_abandoning(visible),
    })
}

/// Whether `rating` is an answer on the site's scale (`five`: 1 to 5, else
/// thumbs: 0 or 1): the rule the collector validates with.
#[wasm_bindgen]
pub fn accepts(five: bool, rating: f64) -> bool {
    let scale = if five { Scale::Five } else { Scale::Thumbs };
    rating == f64::from(rating as u8) && scale.accepts(rating as u8)
}

/// Whether the trigger mode wants to ask after this page view so far,
/// before the moment is looked at (so the page's storage is read only then).
#[wasm_bindgen]
pub fn wants(mode: u8, visible: bool) -> bool {
    Policy::new(Mode::from_code(mode), None).wants(&experience(visible))
}

/// Whether the prompt asks by itself now. `cap_days` is
/// `data-feedback-days` as `parseFloat` reads it; `last_asked_ms` (NaN:
/// never asked on this origin) and `now_ms` are epoch times.
#[wasm_bindgen]
pub fn asks(
    mode: u8,
    cap_days: f64,
    visible: bool,
    automated: bool,
    done_in_view: bool,
    last_asked_ms: f64,
    now_ms: f64,
) -> bool {
    let known = |value: f64| (!value.is_nan()).then_some(value);
    let moment =
        Moment { automated, done_in_view, visible, settled: true, last_asked_ms: known(last_asked_ms), now_ms };
    Policy::new(Mode::from_code(mode), known(cap_days)).asks(&experience(visible), &moment)
}
