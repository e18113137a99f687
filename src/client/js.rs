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

/// A new random page-view id: 16 random bytes as 32 hex digits.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    let mut id = String::with_capacity(32);
    for byte in bytes {
        for nibble in [byte >> 4, byte & 15] {
            id.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    id
}
