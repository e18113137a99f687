//! The browser client: what the loader imports once the page has loaded.
//! The loader instantiates the module (wasm-bindgen's `default` export),
//! calls [`start`] with its hand-over object, and routes
//! `window.palaute`'s calls here: [`tag`], [`feedback`], [`ask`].
//!
//! Organised by concern, as web-vitals organises its `onLCP` / `onINP` /
//! `lib/`:
//!
//! - [`session`]: the page view and the page lifecycle (observers,
//!   `visibilitychange` / `pagehide` / `pageshow` / `online` listeners,
//!   bfcache restores), and the snapshot it sends, a [`crate::wire::Beacon`].
//! - [`observe`]: owned, buffered `PerformanceObserver`s.
//! - [`transport`]: the outbox in `localStorage`, `fetch(keepalive)` and
//!   `sendBeacon`, re-sends with backoff.
//! - [`prompt`]: when the feedback prompt asks, and its Shadow DOM.
//! - [`clicks`]: rage clicks and dead clicks.
//! - [`js`]: the few JavaScript values web-sys does not type.
//!
//! The rules that give the readings their meaning are the crate's pure,
//! natively tested modules: [`crate::vitals`], [`crate::feedback`],
//! [`crate::outbox`].

pub mod clicks;
pub mod js;
pub mod observe;
pub mod prompt;
pub mod session;
pub mod transport;

use wasm_bindgen::prelude::*;

/// Takes the page view over from the loader (`window.palaute.L`).
#[wasm_bindgen]
pub fn start(loader: JsValue) {
    session::start(loader);
}

/// `palaute.tag(key, value)` (the loader makes both strings): a custom
/// dimension of the page view.
#[wasm_bindgen]
pub fn tag(key: String, value: String) {
    session::with(|s| s.tag(&key, &value));
}

/// `palaute.feedback({rating, comment})`: the visitor's answer without UI,
/// sent at once. Ratings off the site's scale, and ratings that are not
/// numbers, are ignored.
#[wasm_bindgen]
pub fn feedback(answer: JsValue) {
    let rating = js::get(&answer, "rating").as_f64();
    let comment = js::text(&answer, "comment");
    if let Some(rating) = rating {
        session::with(|s| prompt::record(s, rating, comment.as_deref(), Some(crate::wire::Trigger::Api)));
    }
}

/// `palaute.ask()`: shows the feedback prompt now.
#[wasm_bindgen]
pub fn ask() {
    session::with(prompt::ask);
}
