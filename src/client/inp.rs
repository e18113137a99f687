//! INP and its target (web-vitals' `onINP` and `attribution/onINP.ts`):
//! each Event Timing entry to the rules ([`crate::vitals::inp`]), and the
//! target of each of the longest interactions named when it is first seen.

use wasm_bindgen::prelude::*;

use super::dom::{self, selector_of};
use super::js::{self, EventEntry};
use super::view::View;
use crate::vitals::inp::EventTiming;
use crate::vitals::view::Metric;

/// Interaction targets kept for INP, at most (pruned to the longest
/// interactions past it).
const MAX_HELD: usize = 20;

impl View {
    /// An `event` or `first-input` entry.
    pub fn on_event(&mut self, e: JsValue) {
        let e: EventEntry = e.unchecked_into();
        let start = e.start_time();
        let id = js::known(e.interaction_id()).unwrap_or(0.0) as u64;
        let processing = |t: f64| js::known(t).filter(|t| *t > 0.0).unwrap_or(start);
        let timing = EventTiming {
            interaction_id: id,
            start_time: start,
            duration: e.duration(),
            processing_start: processing(e.processing_start()),
            processing_end: processing(e.processing_end()),
        };
        self.rules.event_timing(timing);
        if self.rules.keeps(id) && !self.held.iter().any(|(held, _)| *held == id) {
            if let Some(target) = selector_of(e.target()) {
                self.held.push((id, target));
            }
        }
        self.rules.interaction_count(dom::interaction_count());
        // Only the targets of the longest interactions (and the reported one) are worth keeping.
        if self.held.len() > MAX_HELD {
            let rules = &self.rules;
            self.held.retain(|(id, _)| rules.keeps(*id));
        }
    }

    /// The target of the interaction reported as INP.
    pub fn inp_target(&self) -> Option<String> {
        let id = self.rules.metric(Metric::InpInteraction)? as u64;
        self.held.iter().find(|(held, _)| *held == id).map(|(_, target)| target.clone())
    }
}
