//! Delivering beacons: every beacon goes through the [`outbox`] first and
//! leaves it only when the collector's answer says it is stored (or can
//! never be). Bodies are JSON sent as `text/plain` (no CORS preflight).
//!
//! - While the page lives, beacons and re-sends use `fetch` with
//!   `keepalive` in CORS mode, so the answer can be read: 2xx and 4xx (other
//!   than 429) settle them; 5xx, 429 and network errors keep them, to be
//!   tried again with backoff, when the browser comes back online, or on the
//!   next page view.
//! - When the page is being unloaded, the answer can never be read:
//!   `sendBeacon` sends it (falling back to `fetch(keepalive)` when the
//!   browser refuses), and the outbox copy is re-sent by the next page view.
//! - Offline, nothing is sent; the `online` event flushes the outbox.
//!
//! Re-sends are batched (a JSON array) under the browser's 64 KiB keepalive
//! quota. The collector stores each (page view, seq) once.

use std::cell::Cell;

use serde::Serialize;
use serde_wasm_bindgen::Serializer;
use wasm_bindgen::prelude::*;
use web_sys::{RequestCredentials, RequestInit, RequestMode};

use super::{js, outbox};
use crate::wire::Beacon;

/// Largest batch body: under the 64 KiB that keepalive requests of a page
/// may have in flight together.
pub const MAX_BATCH_BYTES: usize = 60 * 1024;
/// Most beacons in one batch (the collector's limit).
pub const MAX_BATCH: usize = 50;

thread_local! {
    static RETRY_PENDING: Cell<bool> = const { Cell::new(false) };
}

/// Queues and sends page view `id`'s beacon `seq`. `unloading`: the page is
/// going away (its answer cannot be read).
pub fn deliver(url: &str, id: &str, seq: u32, body: &str, unloading: bool) {
    outbox::put(id, seq, body);
    if !online() {
        return;
    }
    if unloading && send_beacon(url, body) {
        return;
    }
    post(url, body, vec![(id.to_string(), seq)]);
}

/// Sends the outbox entries that are due, in batches.
pub fn flush(url: &str) {
    if !online() {
        return;
    }
    let entries = outbox::load();
    let backing_off = outbox::next_due_in(&entries);
    for batch in outbox::due_batches(entries, MAX_BATCH_BYTES, MAX_BATCH) {
        let sent: Vec<(String, u32)> = batch.iter().map(|e| (e.id.clone(), e.seq)).collect();
        let body = match batch.as_slice() {
            [one] => one.body.clone(),
            many => {
                let mut joined = String::from("[");
                for (n, entry) in many.iter().enumerate() {
                    if n > 0 {
                        joined.push(',');
                    }
                    joined.push_str(&entry.body);
                }
                joined.push(']');
                joined
            }
        };
        post(url, &body, sent);
    }
    // Entries still backing off are tried when due, while the page lives.
    if let Some(wait) = backing_off {
        retry_later(url, wait);
    }
}

/// Whether the browser believes it is online.
fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

fn send_beacon(url: &str, body: &str) -> bool {
    web_sys::window().is_some_and(|w| w.navigator().send_beacon_with_opt_str(url, Some(body)).unwrap_or(false))
}

/// `fetch(keepalive)` in CORS mode; the answer settles the `sent` entries.
fn post(url: &str, body: &str, sent: Vec<(String, u32)>) {
    let Some(window) = web_sys::window() else { return };
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    // web-sys lacks `keepalive`.
    js::set(&init, "keepalive", &JsValue::TRUE);
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    let url_for_retry = url.to_string();
    let failed_sent = sent.clone();
    let answered = Closure::once_into_js(move |response: JsValue| {
        let status = js::num(&response, "status").unwrap_or(0.0) as u16;
        if status < 400 || (status < 500 && status != 429) {
            outbox::acknowledge(&sent);
        } else {
            retry_later(&url_for_retry, outbox::failed(&sent));
        }
    });
    let url_for_retry = url.to_string();
    let unreachable = Closure::once_into_js(move |_: JsValue| {
        retry_later(&url_for_retry, outbox::failed(&failed_sent));
    });
    js::then(&window.fetch_with_str_and_init(url, &init), &answered, &unreachable);
}

/// Flushes again after `wait_ms`, once at a time.
fn retry_later(url: &str, wait_ms: f64) {
    if RETRY_PENDING.with(|pending| pending.replace(true)) || !wait_ms.is_finite() {
        return;
    }
    let url = url.to_string();
    gloo_timers::callback::Timeout::new(wait_ms.ceil() as u32 + 50, move || {
        RETRY_PENDING.with(|pending| pending.set(false));
        flush(&url);
    })
    .forget();
}

/// The beacon as JSON. Absent fields are left out, not sent as `null`.
pub fn encode(beacon: &Beacon) -> Option<String> {
    let value = beacon.serialize(&Serializer::new().serialize_maps_as_objects(true)).ok()?;
    js_sys::JSON::stringify(&value).ok()?.as_string()
}
