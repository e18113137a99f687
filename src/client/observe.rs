//! Owned, buffered `PerformanceObserver`s, as web-vitals' `lib/observe.ts`:
//! each takes a callback for the entries delivered, holds it, and
//! disconnects on drop; [`Observer::records`] takes what the browser has
//! queued but not delivered yet. It knows no metric and no session.

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use web_sys::{PerformanceObserver, PerformanceObserverEntryList};

use super::js;
use crate::vitals::inp::MIN_DURATION_MS;

/// A buffered `PerformanceObserver` of one entry type.
pub struct Observer {
    observer: PerformanceObserver,
    _callback: Closure<dyn FnMut(PerformanceObserverEntryList)>,
}

impl Observer {
    /// Observes `entry_type` with `buffered: true`, so entries from before
    /// the module started are delivered too, each batch to `on`; `None`
    /// where the browser cannot observe it.
    pub fn new(entry_type: &str, mut on: Box<dyn FnMut(Array)>) -> Option<Observer> {
        let callback = Closure::new(move |list: PerformanceObserverEntryList| on(list.get_entries()));
        let observer = PerformanceObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        // web-sys' PerformanceObserverInit has no `type`, `buffered` or
        // `durationThreshold`; the threshold applies to Event Timing only.
        let init = Object::new();
        js::set(&init, "type", &entry_type.into());
        js::set(&init, "buffered", &JsValue::TRUE);
        js::set(&init, "durationThreshold", &MIN_DURATION_MS.into());
        observer.unchecked_ref::<js::Observing>().observe(&init).ok()?;
        Some(Observer { observer, _callback: callback })
    }

    /// The entries the browser has queued but not yet delivered (`takeRecords`).
    pub fn records(&self) -> Array {
        self.observer.take_records()
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}
