//! What the module reads from JavaScript beyond web-sys' types: a small
//! `extern` block for the performance entries web-sys does not type
//! (`largest-contentful-paint`, `layout-shift`, Event Timing) and
//! `Reflect.get` / `Reflect.set`, bound here with a string key, for fields
//! that only some browsers have (Network Information, `deviceMemory`,
//! `activationStart`, `prerendering`) and for the loader's hand-over
//! object. Also the module's one way to listen ([`listen`]) and to set a
//! timer ([`after`], an owned [`Timeout`]).

use gloo_events::{EventListener, EventListenerOptions};
pub use gloo_timers::callback::Timeout;
use wasm_bindgen::prelude::*;
use web_sys::{Event, EventTarget, Node, Performance, PerformanceEntry, Window};

#[wasm_bindgen]
extern "C" {
    /// A `largest-contentful-paint` entry.
    #[wasm_bindgen(extends = PerformanceEntry)]
    pub type LcpEntry;
    /// The image's URL (empty for text).
    #[wasm_bindgen(method, getter)]
    pub fn url(this: &LcpEntry) -> String;
    /// The element, while it is in the document.
    #[wasm_bindgen(method, getter)]
    pub fn element(this: &LcpEntry) -> Option<Node>;
    /// The element's id attribute at the time of the paint.
    #[wasm_bindgen(method, getter)]
    pub fn id(this: &LcpEntry) -> String;

    /// A `layout-shift` entry.
    #[wasm_bindgen(extends = PerformanceEntry)]
    pub type ShiftEntry;
    /// The shift's score.
    #[wasm_bindgen(method, getter)]
    pub fn value(this: &ShiftEntry) -> f64;
    /// Whether it followed an input within 500 ms.
    #[wasm_bindgen(method, getter, js_name = hadRecentInput)]
    pub fn had_recent_input(this: &ShiftEntry) -> bool;

    /// An `event` or `first-input` entry (Event Timing).
    #[wasm_bindgen(extends = PerformanceEntry)]
    pub type EventEntry;
    /// The interaction it belongs to (0 or absent: none).
    #[wasm_bindgen(method, getter, js_name = interactionId)]
    pub fn interaction_id(this: &EventEntry) -> f64;
    /// When its handlers started.
    #[wasm_bindgen(method, getter, js_name = processingStart)]
    pub fn processing_start(this: &EventEntry) -> f64;
    /// When its handlers ended.
    #[wasm_bindgen(method, getter, js_name = processingEnd)]
    pub fn processing_end(this: &EventEntry) -> f64;
    /// The event's target, while it is in the document.
    #[wasm_bindgen(method, getter)]
    pub fn target(this: &EventEntry) -> Option<Node>;
}

#[wasm_bindgen]
extern "C" {
    /// The page's `window` (the loader only starts the module in one),
    /// read once: `js_sys::global()` tries four names for the global object.
    #[wasm_bindgen(thread_local_v2, js_name = window)]
    static WINDOW: Window;
}

/// The page's window.
pub fn window() -> Window {
    WINDOW.with(Window::clone)
}

/// The page's `performance` (the loader checked it exists).
pub fn performance() -> Performance {
    get(&window(), "performance").unchecked_into()
}

/// `performance.now()`.
pub fn now() -> f64 {
    performance().now()
}

#[wasm_bindgen]
extern "C" {
    /// `Reflect.get` with the key passed as a string (js-sys' takes a
    /// `JsValue`, which each call site would have to make and drop).
    #[wasm_bindgen(js_namespace = Reflect, js_name = get, catch)]
    fn reflect_get(target: &JsValue, key: &str) -> Result<JsValue, JsValue>;
    /// `Reflect.set`, likewise.
    #[wasm_bindgen(js_namespace = Reflect, js_name = set, catch)]
    fn reflect_set(target: &JsValue, key: &str, value: &JsValue) -> Result<bool, JsValue>;
}

/// `target[key]`, `undefined` when it cannot be read.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    reflect_get(target, key).unwrap_or(JsValue::UNDEFINED)
}

/// `target[key]` as a number, when it is one (not NaN).
pub fn num(target: &JsValue, key: &str) -> Option<f64> {
    get(target, key).as_f64().filter(|n| !n.is_nan())
}

/// `target[key]` as a non-empty string, when it is one.
pub fn text(target: &JsValue, key: &str) -> Option<String> {
    get(target, key).as_string().filter(|s| !s.is_empty())
}

/// `target[key]` as a boolean, when it is one.
pub fn flag(target: &JsValue, key: &str) -> Option<bool> {
    get(target, key).as_bool()
}

/// Sets `target[key] = value`, ignoring failures.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = reflect_set(target, key, value);
}

/// A number the browser gave, `None` for NaN (an absent field read as a number).
pub fn known(value: f64) -> Option<f64> {
    (!value.is_nan()).then_some(value)
}

#[wasm_bindgen]
extern "C" {
    /// A promise, for `then` with plain functions (js-sys' `then2` takes
    /// closures that must outlive the call; the module's are one-shot and
    /// free themselves once called).
    pub type Thenable;
    /// `promise.then(fulfilled, rejected)`.
    #[wasm_bindgen(method)]
    pub fn then(this: &Thenable, fulfilled: &JsValue, rejected: &JsValue);

    /// A `PerformanceObserver`, for `observe` with its init as a plain
    /// object (web-sys' `PerformanceObserverInit` has no `type`,
    /// `buffered` or `durationThreshold`) and its error caught.
    pub type Observing;
    /// `observer.observe(init)`.
    #[wasm_bindgen(method, catch)]
    pub fn observe(this: &Observing, init: &js_sys::Object) -> Result<(), JsValue>;
}

/// Runs `settled` once `promise` settles, with its value or its error
/// (one function for both, so nothing is left behind either way). Boxed,
/// as [`after`]'s, so that every callback shares one closure shim.
pub fn when_settled(promise: &js_sys::Promise, settled: Box<dyn FnOnce(JsValue)>) {
    let callback = Closure::once_into_js(settled);
    promise.unchecked_ref::<Thenable>().then(&callback, &callback);
}

/// A timer that runs `f` once, `ms` from now, unless it is dropped first:
/// a gloo-timers `Timeout`, held by whoever set it (dropping it cancels).
/// Boxed: every timer of the module shares one closure shim.
pub fn after(ms: u32, f: Box<dyn FnOnce()>) -> Timeout {
    Timeout::new(ms, f)
}

/// Listens to `event` on `target` with `on` until the listener is dropped.
/// A plain function, not a closure: every listener of the module shares
/// one closure shim (gloo-events boxes each closure type apart).
pub fn listen(
    target: &EventTarget,
    event: &'static str,
    options: EventListenerOptions,
    on: fn(&Event),
) -> EventListener {
    EventListener::new_with_options(target, event, options, on)
}
