//! Small helpers to read JavaScript values that `web-sys` does not type
//! (Navigation Timing level 3 fields, Network Information, entry fields).

use alloc::string::String;
use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// `target[key]`, or `undefined` when it cannot be read.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `target[key]` as a number, when it is one.
pub fn num(target: &JsValue, key: &str) -> Option<f64> {
    get(target, key).as_f64()
}

/// `target[key]` as a non-empty string, when it is one.
pub fn text(target: &JsValue, key: &str) -> Option<String> {
    get(target, key).as_string().filter(|s| !s.is_empty())
}

/// Sets `target[key] = value`, ignoring failures (frozen objects).
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `promise.then(fulfilled, rejected)`, called by name (web-sys' `Promise`
/// bindings would pull in more glue). One-shot closures made with
/// `Closure::once_into_js` free themselves when called.
pub fn then(promise: &JsValue, fulfilled: &JsValue, rejected: &JsValue) {
    let then = js_sys::Function::from(get(promise, "then"));
    let _ = then.call2(promise, fulfilled, rejected);
}

/// The global `performance`.
pub fn performance() -> web_sys::Performance {
    web_sys::window().and_then(|w| w.performance()).expect("the loader checked `performance`")
}

/// `performance.now()`.
pub fn now() -> f64 {
    performance().now()
}

/// A new page-view id, as the loader makes them: the time in ms as 12 hex
/// digits, then 10 random bytes as 20 (32 hex digits in all). Ids that begin
/// with the time keep the collector's index of them growing near its end.
pub fn new_page_view_id() -> String {
    let mut bytes = [0u8; 10];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    let now = js_sys::Date::now() as u64;
    let mut id = String::with_capacity(32);
    let time_digits = (0..12).rev().map(|i| ((now >> (4 * i)) & 15) as u8);
    let random_digits = bytes.into_iter().flat_map(|byte| [byte >> 4, byte & 15]);
    for nibble in time_digits.chain(random_digits) {
        id.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
    }
    id
}
