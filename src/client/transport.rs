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

use alloc::{string::String, string::ToString, vec, vec::Vec};
use js_sys::Object;
use wasm_bindgen::prelude::*;
use web_sys::{RequestCredentials, RequestInit, RequestMode};

use super::events::after;
use super::global::Global;
use super::{js, outbox};
use crate::wire::Beacon;

/// Largest batch body: under the 64 KiB that keepalive requests of a page
/// may have in flight together.
pub const MAX_BATCH_BYTES: usize = 60 * 1024;
/// Most beacons in one batch (the collector's limit).
pub const MAX_BATCH: usize = 50;

static RETRY_PENDING: Global<bool> = Global::new(false);

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
    // Past the wait (rounded up), whatever the timer's rounding.
    after(wait_ms as u32 + 51, move || {
        RETRY_PENDING.with(|pending| pending.replace(false));
        flush(&url);
    });
}

/// The beacon with `tags` (the page view's custom dimensions) as JSON.
/// Absent fields are left out, not sent as `null`. Built as a JavaScript
/// object and serialised by `JSON.stringify`, so the module carries no
/// number formatting or JSON writer of its own.
pub fn encode(beacon: &Beacon, tags: &[(String, String)]) -> Option<String> {
    let json = Object::new();
    let b = beacon;
    let number = |key: &str, value: f64| js::set(&json, key, &JsValue::from_f64(value));
    let text = |key: &str, value: &str| js::set(&json, key, &JsValue::from_str(value));
    number("v", f64::from(b.v));
    text("site", &b.site);
    text("id", &b.id);
    number("seq", f64::from(b.seq));
    text("src", b.src.as_str());
    text("url", &b.url);
    number("start", b.start);
    if let Some(nav_type) = b.nav_type {
        text("nav_type", nav_type.as_str());
    }
    for (key, value) in [
        ("ttfb_ms", b.ttfb_ms),
        ("fcp_ms", b.fcp_ms),
        ("lcp_ms", b.lcp_ms),
        ("inp_ms", b.inp_ms),
        ("cls", b.cls),
        ("dcl_ms", b.dcl_ms),
        ("load_ms", b.load_ms),
        ("visible_ms", b.visible_ms),
        ("left_at_ms", b.left_at_ms),
        ("downlink_mbps", b.downlink_mbps),
        ("rtt_ms", b.rtt_ms),
        ("device_memory", b.device_memory),
        ("response_status", b.response_status.map(f64::from)),
        ("cpu_cores", b.cpu_cores.map(f64::from)),
        ("errors", b.errors.map(f64::from)),
    ] {
        if let Some(value) = value {
            number(key, value);
        }
    }
    for (key, value) in [
        ("referrer_host", &b.referrer_host),
        ("lcp_element", &b.lcp_element),
        ("lcp_url", &b.lcp_url),
        ("inp_target", &b.inp_target),
        ("effective_type", &b.effective_type),
    ] {
        if let Some(value) = value {
            text(key, value);
        }
    }
    for (key, value) in [("lcp_pending", b.lcp_pending), ("save_data", b.save_data)] {
        if let Some(value) = value {
            js::set(&json, key, &JsValue::from_bool(value));
        }
    }
    if let Some(parts) = &b.lcp_subparts {
        let fields = [
            ("ttfb", parts.ttfb),
            ("load_delay", parts.load_delay),
            ("load_duration", parts.load_duration),
            ("render_delay", parts.render_delay),
        ];
        js::set(&json, "lcp_subparts", &numbers(&fields));
    }
    if let Some(parts) = &b.inp_subparts {
        let fields = [
            ("input_delay", parts.input_delay),
            ("processing", parts.processing),
            ("presentation", parts.presentation),
        ];
        js::set(&json, "inp_subparts", &numbers(&fields));
    }
    if let Some(feedback) = &b.feedback {
        let answer = numbers(&[("rating", f64::from(feedback.rating)), ("at_ms", feedback.at_ms)]);
        js::set(&answer, "scale", &JsValue::from_str(feedback.scale.as_str()));
        if let Some(comment) = &feedback.comment {
            js::set(&answer, "comment", &JsValue::from_str(comment));
        }
        js::set(&json, "feedback", &answer);
    }
    let dimensions = Object::new();
    for (key, value) in tags {
        js::set(&dimensions, key, &JsValue::from_str(value));
    }
    js::set(&json, "tags", &dimensions);
    js_sys::JSON::stringify(&json).ok()?.as_string()
}

/// An object of number fields.
fn numbers(fields: &[(&str, f64)]) -> JsValue {
    let object = Object::new().into();
    for (key, value) in fields {
        js::set(&object, key, &JsValue::from_f64(*value));
    }
    object
}
