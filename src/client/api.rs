//! The page's `window.palaute` API: custom dimensions and feedback without UI.

use alloc::string::String;
use wasm_bindgen::prelude::*;

use crate::wire::{Feedback, Scale};

use super::js;
use super::session::{with_session, Session};

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
        let tags = &mut s.view_mut().tags;
        if let Some((_, old)) = tags.iter_mut().find(|(known, _)| *known == key) {
            *old = value;
        } else if tags.len() < MAX_TAGS {
            tags.push((key, value));
        }
    });
}

/// `palaute.feedback({rating, comment})`: records the visitor's answer
/// without UI and sends it at once. Ratings outside the site's scale are
/// ignored.
#[wasm_bindgen]
pub fn feedback(answer: JsValue) {
    let Some(rating) = js::num(&answer, "rating").filter(|r| (0.0..=5.0).contains(r) && *r == f64::from(*r as u8))
    else {
        return;
    };
    let comment = js::text(&answer, "comment");
    with_session(|s| {
        record(s, rating as u8, comment);
    });
}

/// Records the visitor's answer on the page view and sends it at once;
/// `false` when the rating is not on the site's scale. A comment for the
/// rating already given keeps the time of the rating.
pub fn record(s: &mut Session, rating: u8, comment: Option<String>) -> bool {
    let scale = if s.scale_is_five() { Scale::Five } else { Scale::Thumbs };
    if !scale.accepts(rating) {
        return false;
    }
    let comment = comment.map(|c| c.chars().take(MAX_COMMENT).collect());
    let view = s.view_mut();
    let at_ms = match &view.beacon.feedback {
        Some(earlier) if earlier.rating == rating && comment.is_some() => earlier.at_ms,
        _ => view.since_start(js::now()),
    };
    view.beacon.feedback = Some(Feedback { rating, scale, comment, at_ms });
    s.send();
    true
}
