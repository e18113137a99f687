//! Owned, buffered `PerformanceObserver`s: each holds its callback and
//! disconnects on drop, and is flushed (`takeRecords`) before each snapshot
//! and decision so that nothing the browser has queued is left out.

use js_sys::Object;
use wasm_bindgen::prelude::*;
use web_sys::{PerformanceObserver, PerformanceObserverEntryList};

use super::session::{self, Session};
use super::{js, prompt};
use crate::vitals::inp::MIN_DURATION_MS;

/// What the session does with one entry of an observed type.
pub type Handler = fn(&mut Session, JsValue);

/// A buffered `PerformanceObserver` feeding one [`Handler`].
pub struct Observer {
    observer: PerformanceObserver,
    handler: Handler,
    _callback: Closure<dyn FnMut(PerformanceObserverEntryList)>,
}

impl Observer {
    /// Observes `entry_type` with `buffered: true`, so entries from before
    /// the module started are delivered too; `None` where the browser
    /// cannot observe it.
    pub fn new(entry_type: &str, handler: Handler) -> Option<Observer> {
        let callback = Closure::new(move |list: PerformanceObserverEntryList| {
            session::with(|s| {
                // Soft navigations first: entries of their views wait for them.
                s.flush_soft();
                s.take(handler, list.get_entries());
                s.measure();
                // A slow interaction may be the moment to ask for feedback.
                prompt::consider(s);
            });
        });
        let observer = PerformanceObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        // web-sys' PerformanceObserverInit has no `type`, `buffered` or
        // `durationThreshold`; the threshold applies to Event Timing only.
        let init = Object::new();
        js::set(&init, "type", &entry_type.into());
        js::set(&init, "buffered", &JsValue::TRUE);
        js::set(&init, "durationThreshold", &MIN_DURATION_MS.into());
        observer.unchecked_ref::<js::Observing>().observe(&init).ok()?;
        Some(Observer { observer, handler, _callback: callback })
    }

    /// Hands `session` the entries the browser has queued but not yet delivered.
    pub fn flush(&self, session: &mut Session) {
        session.take(self.handler, self.observer.take_records());
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}
