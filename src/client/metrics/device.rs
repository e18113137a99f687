//! Connection and device hints: Network Information, device memory and CPU
//! cores, where the browser exposes them.

use wasm_bindgen::JsValue;

use crate::wire::Beacon;

use super::super::js;

/// Fills the connection and device fields of `beacon`.
pub fn read(beacon: &mut Beacon) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = JsValue::from(window.navigator());
    let connection = js::get(&navigator, "connection");
    if connection.is_object() {
        beacon.effective_type = js::text(&connection, "effectiveType");
        beacon.downlink_mbps = js::num(&connection, "downlink");
        beacon.rtt_ms = js::num(&connection, "rtt");
        beacon.save_data = js::get(&connection, "saveData").as_bool();
    }
    beacon.device_memory = js::num(&navigator, "deviceMemory");
    beacon.cpu_cores = js::num(&navigator, "hardwareConcurrency").filter(|n| *n > 0.0).map(|n| n as u16);
}
