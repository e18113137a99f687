//! Sending a beacon: `navigator.sendBeacon` with a `text/plain` body (no
//! CORS preflight), falling back to `fetch(keepalive)` when the browser
//! refuses it.

use serde::Serialize;
use serde_wasm_bindgen::Serializer;
use web_sys::{RequestCredentials, RequestInit, RequestMode};

use crate::wire::Beacon;

/// Posts an encoded beacon to `url` without blocking the page's unload.
pub fn post(url: &str, body: &str) {
    let Some(window) = web_sys::window() else { return };
    if window.navigator().send_beacon_with_opt_str(url, Some(body)).unwrap_or(false) {
        return;
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&wasm_bindgen::JsValue::from_str(body));
    // web-sys lacks `keepalive`.
    crate::client::js::set(&init, "keepalive", &wasm_bindgen::JsValue::TRUE);
    init.set_mode(RequestMode::NoCors);
    init.set_credentials(RequestCredentials::Omit);
    let _ = window.fetch_with_str_and_init(url, &init);
}

/// The beacon as JSON. Absent fields are left out, not sent as `null`.
pub fn encode(beacon: &Beacon) -> Option<String> {
    let value = beacon.serialize(&Serializer::new().serialize_maps_as_objects(true)).ok()?;
    js_sys::JSON::stringify(&value).ok()?.as_string()
}
