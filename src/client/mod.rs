//! The browser client: what the loader imports once the page has loaded.
//! The loader instantiates the module (wasm-bindgen's `default` export),
//! calls [`start`] with its hand-over object, and routes
//! `window.palaute`'s calls here: [`tag`], [`feedback`], [`ask`].
//!
//! Organised as web-vitals organises its `onLCP` / `onINP` / `lib/`: leaves
//! that know no metric, one file per concern of the page view, and the
//! session that wires them:
//!
//! - leaves: [`js`] (the few JavaScript values web-sys does not type, the
//!   one way to listen and to set a timer), [`dom`] (the document, the
//!   location, selectors, the navigation entry, `localStorage`), [`loader`]
//!   (the loader's hand-over object, one typed binding of `palaute.L`),
//!   [`observe`] (an owned, buffered `PerformanceObserver` taking a callback);
//! - the page view ([`view`]: its [`crate::wire::Beacon`], its
//!   [`crate::vitals::view::PageView`], paints, shifts and Navigation
//!   Timing), [`lcp`] (LCP and its attribution), [`inp`] (INP and its
//!   targets), [`frames`] (Long Animation Frames and INP's script),
//!   [`snapshot`] (the beacon brought up to date before it is sent);
//! - [`session`]: the module's one session and the page lifecycle
//!   (observers, `visibilitychange` / `pagehide` / `pageshow` / `online`
//!   listeners, bfcache restores), and [`soft`]: soft navigations, each
//!   entry to its view;
//! - [`transport`]: the serializer, the outbox in `localStorage`,
//!   `fetch(keepalive)` and `sendBeacon`, re-sends with backoff;
//! - [`prompt`]: when the feedback prompt asks, and its Shadow DOM;
//! - [`clicks`]: rage clicks and dead clicks.
//!
//! Imports go down that list, but for four pairs: [`session`] with
//! [`soft`], [`prompt`], [`clicks`] and [`transport`], whose callbacks
//! reach the session (`session::with`) and which the session owns.
//!
//! The rules that give the readings their meaning are the crate's pure,
//! natively tested modules: [`crate::vitals`], [`crate::feedback`],
//! [`crate::outbox`].

pub mod clicks;
pub mod dom;
pub mod frames;
pub mod inp;
pub mod js;
pub mod lcp;
pub mod loader;
pub mod observe;
pub mod prompt;
pub mod session;
pub mod snapshot;
pub mod soft;
pub mod transport;
pub mod view;

use wasm_bindgen::prelude::*;

/// Takes the page view over from the loader (`window.palaute.L`).
#[wasm_bindgen]
pub fn start(loader: JsValue) {
    session::start(loader::Loader::new(loader));
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
