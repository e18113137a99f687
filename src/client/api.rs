//! The page's `window.palaute` API: custom dimensions and feedback without UI.

use wasm_bindgen::prelude::*;

use crate::wire::{Feedback, Scale};

use super::js;
use super::session::with_session;

/// Most custom dimensions per page view.
pub const MAX_TAGS: usize = 20;
/// Longest tag key, in characters.
pub const MAX_TAG_KEY: usize = 40;
/// Longest tag value, in characters.
pub const MAX_TAG_VALUE: usize = 200;
/// Longest feedback comment, in characters.
pub const MAX_COMMENT: usize = 1000;

/// `palaute.tag(key, value)`: adds a custom dimension to the page view.
/// The loader turns both arguments into strings. Keys and values are cut to their maximum length; past [`MAX_TAGS`]
/// distinct keys, new keys are ignored.
#[wasm_bindgen]
pub fn tag(key: String, value: String) {
    let key: String = key.chars().take(MAX_TAG_KEY).collect();
    let value: String = value.chars().take(MAX_TAG_VALUE).collect();
    if key.is_empty() {
        return;
    }
    with_session(|s| {
        let tags = &mut s.view_mut().beacon.tags;
        if tags.len() < MAX_TAGS || tags.contains_key(&key) {
            tags.insert(key, value);
        }
    });
}

/// `palaute.feedback({rating, comment})`: records the visitor's answer
/// without UI and sends it at once. Ratings outside the site's scale are
/// ignored.
#[wasm_bindgen]
pub fn feedback(answer: JsValue) {
    let Some(rating) = js::num(&answer, "rating").filter(|r| r.fract() == 0.0 && *r >= 0.0 && *r <= 5.0) else {
        return;
    };
    let comment = js::text(&answer, "comment").map(|c| c.chars().take(MAX_COMMENT).collect());
    with_session(|s| {
        let scale = if s.scale_is_five() { Scale::Five } else { Scale::Thumbs };
        if !scale.accepts(rating as u8) {
            return;
        }
        let at_ms = s.view_mut().since_start(js::now());
        s.view_mut().beacon.feedback = Some(Feedback { rating: rating as u8, scale, comment, at_ms });
        s.send();
    });
}
