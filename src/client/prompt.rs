//! Whether the feedback prompt asks by itself now
//! ([`crate::feedback::policy`]). The JavaScript half draws it.
//!
//! Times are ms from the page view's start, NaN when not measured; the
//! trigger mode (`data-feedback`) arrives as its code ([`Mode::from_code`]).

use wasm_bindgen::prelude::*;

use crate::feedback::policy::{Experience, Mode, Moment, Policy};

/// `None` for NaN (what JavaScript passes for "not measured").
fn known(value: f64) -> Option<f64> {
    (!value.is_nan()).then_some(value)
}

fn experience(lcp_ms: f64, load_ms: f64, inp_ms: f64, returned_after_abandoning: bool) -> Experience {
    Experience { lcp_ms: known(lcp_ms), load_ms: known(load_ms), inp_ms: known(inp_ms), returned_after_abandoning }
}

/// Whether the trigger mode wants to ask after this experience, before the
/// moment is looked at (so the page's storage is read only then).
#[wasm_bindgen]
pub fn wants(mode: u8, lcp_ms: f64, load_ms: f64, inp_ms: f64, returned_after_abandoning: bool) -> bool {
    Policy::new(Mode::from_code(mode), None).wants(&experience(lcp_ms, load_ms, inp_ms, returned_after_abandoning))
}

/// Whether the prompt asks by itself now. `cap_days` is
/// `data-feedback-days` as `parseFloat` reads it; `last_asked_ms` (NaN:
/// never asked on this origin) and `now_ms` are epoch times.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn asks(
    mode: u8,
    cap_days: f64,
    lcp_ms: f64,
    load_ms: f64,
    inp_ms: f64,
    returned_after_abandoning: bool,
    automated: bool,
    done_in_view: bool,
    visible: bool,
    last_asked_ms: f64,
    now_ms: f64,
) -> bool {
    let moment =
        Moment { automated, done_in_view, visible, settled: true, last_asked_ms: known(last_asked_ms), now_ms };
    let experience = experience(lcp_ms, load_ms, inp_ms, returned_after_abandoning);
    Policy::new(Mode::from_code(mode), known(cap_days)).asks(&experience, &moment)
}
