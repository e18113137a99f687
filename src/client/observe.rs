//! Owned `PerformanceObserver`s: each holds its callback and disconnects on
//! drop, and can be flushed (`takeRecords`) before a beacon is built so that
//! nothing queued in the browser is left out.

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{PerformanceObserver, PerformanceObserverEntryList};

use super::js;
use super::page_view::PageView;
use super::session::with_session;

/// What to do with one performance entry of an observed type.
pub type EntryHandler = fn(&mut PageView, &JsValue);

/// A buffered `PerformanceObserver` feeding one [`EntryHandler`].
pub struct Observer {
    observer: PerformanceObserver,
    handler: EntryHandler,
    _callback: Closure<dyn FnMut(PerformanceObserverEntryList)>,
}

impl Observer {
    /// Observes `entry_type` with `buffered: true`, so entries from before the
    /// module started are delivered too. `None` where the browser cannot.
    pub fn new(entry_type: &str, handler: EntryHandler) -> Option<Observer> {
        let callback =
            Closure::<dyn FnMut(PerformanceObserverEntryList)>::new(move |list: PerformanceObserverEntryList| {
                with_session(|session| {
                    feed(session.view_mut(), handler, list.get_entries());
                    // A slow interaction may be the moment to ask for feedback.
                    super::prompt::consider(session);
                });
            });
        let observer = PerformanceObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        // web-sys' PerformanceObserverInit lacks `type` and `buffered`.
        let init = Object::new();
        js::set(&init, "type", &JsValue::from_str(entry_type));
        js::set(&init, "buffered", &JsValue::TRUE);
        // Event Timing: the entries INP considers (ignored by other types).
        js::set(&init, "durationThreshold", &JsValue::from_f64(crate::vitals::inp::MIN_DURATION_MS));
        observer.observe(init.unchecked_ref());
        Some(Observer { observer, handler, _callback: callback })
    }

    /// Hands entries the browser has queued but not yet delivered.
    pub fn flush(&self, view: &mut PageView) {
        feed(view, self.handler, self.observer.take_records());
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

fn feed(view: &mut PageView, handler: EntryHandler, entries: Array) {
    for entry in entries.iter() {
        handler(view, &entry);
    }
}
