//! The browser client, started by the loader once the page has loaded.
//!
//! The loader (`www/palaute.js`) owns the page view until [`start`] runs,
//! then this module does: it reads everything the browser buffered, keeps
//! observing, and sends a complete snapshot of the page view whenever the
//! visitor leaves (page hidden or unloaded). A back/forward-cache restore
//! starts a new page view with its own id.
//!
//! The page's `window.palaute` API calls [`tag`], [`feedback`] and `ask`
//! (the feedback prompt, [`prompt`]).

mod api;
mod events;
mod global;
mod js;
mod loader;
mod metrics;
mod observe;
mod outbox;
mod page_view;
mod prompt;
mod selector;
mod session;
mod site_config;
mod transport;

use wasm_bindgen::prelude::*;

/// Takes the page view over from the loader. `loader` is the loader's
/// hand-over object (`window.palaute.L`).
#[wasm_bindgen]
pub fn start(loader: JsValue) {
    session::Session::start(loader::Loader::new(loader));
}
