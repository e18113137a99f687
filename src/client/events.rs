//! Event listeners that are removed when dropped, and one-shot timers: the
//! little of `gloo` the client needs, without its `std` dependency (the
//! module is `no_std` to stay small).

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventTarget};

/// A listener on `target` for events of one type; removed when dropped.
pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    capture: bool,
    callback: Closure<dyn FnMut(Event)>,
}

impl Listener {
    /// Listens for `kind` events on `target` (in the capture phase when
    /// `capture`), calling `on_event` with each.
    pub fn new(target: &EventTarget, kind: &'static str, capture: bool, on_event: impl FnMut(Event) + 'static) -> Self {
        let callback = Closure::<dyn FnMut(Event)>::new(on_event);
        let _ = target.add_event_listener_with_callback_and_bool(kind, callback.as_ref().unchecked_ref(), capture);
        Listener { target: target.clone(), kind, capture, callback }
    }

    /// Keeps listening for the page's whole life.
    pub fn forget(self) {
        core::mem::forget(self);
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let callback = self.callback.as_ref().unchecked_ref();
        let _ = self.target.remove_event_listener_with_callback_and_bool(self.kind, callback, self.capture);
    }
}

/// Calls `f` once, `ms` milliseconds from now.
pub fn after(ms: u32, f: impl FnOnce() + 'static) {
    if let Some(window) = web_sys::window() {
        let callback = Closure::once_into_js(f);
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), ms as i32);
    }
}
