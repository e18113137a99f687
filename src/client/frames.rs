//! Long Animation Frames and INP's longest script (web-vitals'
//! `longestScript`, [`crate::vitals::script`]): the frames that may overlap
//! INP's interaction are kept, and the longest script among them chosen.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::js;
use super::view::View;
use crate::vitals::script::{self, MAX_PENDING_FRAMES};
use crate::wire::InpPart;

impl View {
    /// A Long Animation Frame: kept while it may overlap INP.
    pub fn on_frame(&mut self, e: JsValue) {
        let start = js::num(&e, "startTime").unwrap_or(0.0);
        let duration = js::num(&e, "duration").unwrap_or(0.0);
        self.frames.push((start, duration, e));
        // The recent frames, and those of INP's interaction.
        let (window, count) = (self.rules.inp_window(), self.frames.len());
        let mut index = 0;
        self.frames.retain(|(start, duration, _)| {
            index += 1;
            index + MAX_PENDING_FRAMES > count || window.is_some_and(|w| w.overlaps(*start, *duration))
        });
    }

    /// The longest script of INP's interaction, from the frames that
    /// overlap it: the script's entry, how long it ran, and where.
    pub fn inp_script(&self) -> Option<(JsValue, f64, InpPart)> {
        let window = self.rules.inp_window()?;
        let mut choice = script::Longest::new(window);
        let mut chosen = None;
        for (_, _, frame) in self.frames.iter().filter(|(start, duration, _)| window.overlaps(*start, *duration)) {
            let Ok(scripts) = js::get(frame, "scripts").dyn_into::<Array>() else { continue };
            for script in scripts.iter() {
                let time = |key| js::num(&script, key).unwrap_or(0.0);
                if choice.offer(time("startTime"), time("duration")) {
                    chosen = Some(script);
                }
            }
        }
        let (ms, part) = choice.best?;
        Some((chosen?, ms, part))
    }
}
