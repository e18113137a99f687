//! Delivering beacons through the [`outbox`](crate::outbox), kept in
//! `localStorage` (`web_sys::Storage`). Bodies are JSON sent as
//! `text/plain`, so there is no CORS preflight.
//!
//! - While the page lives, beacons and re-sends use `fetch` with
//!   `keepalive` in CORS mode, so the answer can be read. 2xx and 4xx
//!   (other than 429) settle them. 5xx, 429 and network errors keep them,
//!   to be tried again with backoff, when the browser is back online, or on
//!   the next page view.
//! - When the page is being unloaded, the answer can never be read:
//!   `sendBeacon` sends the beacon (`fetch(keepalive)` when the browser
//!   refuses it), and the next page view re-sends the outbox copy.
//! - Offline, nothing is sent; the `online` event flushes the outbox.

use js_sys::Array;
use wasm_bindgen::prelude::*;
use web_sys::{RequestCredentials, RequestInit, RequestMode};

use super::dom::storage;
use super::js::{self, Timeout};
use super::session;
use crate::outbox::{self, Entry, Sent};

/// Beacons to the collector: where they go, and the one re-send timer
/// (cancelled when dropped).
pub struct Transport {
    /// `POST` URL of beacons.
    url: String,
    /// The re-send scheduled, if any (one at a time).
    retry: Option<Timeout>,
}

fn online() -> bool {
    js::window().navigator().on_line()
}

/// The outbox entries, oldest first; unreadable and expired ones left out.
fn load() -> Vec<Entry> {
    let stored = storage().and_then(|s| s.get_item(outbox::KEY).ok().flatten());
    let parsed = stored.and_then(|text| js_sys::JSON::parse(&text).ok());
    let Some(list) = parsed.and_then(|list| list.dyn_into::<Array>().ok()) else { return Vec::new() };
    let entries = list.iter().filter_map(|e| {
        Some(Entry {
            id: js::text(&e, "id")?,
            seq: js::num(&e, "seq")? as u32,
            body: js::text(&e, "body")?,
            queued: js::num(&e, "queued")?,
            tries: js::num(&e, "tries").unwrap_or(0.0) as u32,
            next: js::num(&e, "next").unwrap_or(0.0),
        })
    });
    outbox::live(entries.collect(), js_sys::Date::now())
}

/// Writes `list`, dropping the oldest beyond the bounds. Full or disabled
/// storage keeps nothing; the beacon is still sent.
fn save(list: Vec<Entry>) {
    let list = outbox::bounded(list);
    let Some(storage) = storage() else { return };
    let _ = match list.is_empty() {
        true => storage.remove_item(outbox::KEY),
        false => match encode(&list) {
            Some(text) => storage.set_item(outbox::KEY, &text),
            None => Ok(()),
        },
    };
}

/// A value as JSON, by its one definition (its `Serialize`: a
/// [`Beacon`](crate::wire::Beacon), the outbox's entries):
/// serde-wasm-bindgen makes the object (absent fields `undefined`, tags a
/// plain object), `JSON.stringify` the text, dropping what is `undefined`.
pub fn encode<T: serde::Serialize>(value: &T) -> Option<String> {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    let object = value.serialize(&serializer).ok()?;
    js_sys::JSON::stringify(&object).ok().map(String::from)
}

impl Transport {
    /// Beacons to the collector at `endpoint` (its origin).
    pub fn new(endpoint: &str) -> Transport {
        let mut url = String::from(endpoint);
        url.push_str("/b");
        Transport { url, retry: None }
    }

    /// Queues and sends page view `id`'s beacon `seq`; `unloading`: the page
    /// is going away.
    pub fn deliver(&mut self, id: &str, seq: u32, body: String, unloading: bool) {
        save(outbox::queued(load(), id, seq, body.clone(), js_sys::Date::now()));
        if !online() {
            return;
        }
        if unloading && js::window().navigator().send_beacon_with_opt_str(&self.url, Some(&body)).unwrap_or(false) {
            return;
        }
        post(&self.url, &body, vec![(id.into(), seq)]);
    }

    /// Sends the outbox entries that are due, in batches; those backing off
    /// are tried when due.
    pub fn flush(&mut self) {
        if !online() {
            return;
        }
        let now = js_sys::Date::now();
        let list = load();
        for batch in outbox::due_batches(&list, now) {
            let sent = batch.iter().map(|e| (e.id.clone(), e.seq)).collect();
            post(&self.url, &outbox::body(&batch), sent);
        }
        if let Some(wait) = outbox::next_due_in(&list, now) {
            self.retry_later(wait);
        }
    }

    /// Flushes again after `wait` ms, one timer at a time.
    fn retry_later(&mut self, wait: f64) {
        if self.retry.is_some() || !wait.is_finite() {
            return;
        }
        self.retry = Some(js::after(
            wait as u32 + 51,
            Box::new(|| {
                session::with(|s| {
                    s.transport.retry = None;
                    s.transport.flush();
                });
            }),
        ));
    }
}

/// `fetch` in CORS mode without credentials; `keepalive` lets it outlive the page.
fn request(method: &str, body: Option<&str>) -> RequestInit {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&body.into());
        // web-sys' RequestInit has no `keepalive`.
        js::set(&init, "keepalive", &JsValue::TRUE);
    }
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init
}

/// `fetch(keepalive)`; the answer settles the `sent` entries, or they are
/// tried again later.
fn post(url: &str, body: &str, sent: Vec<Sent>) {
    let answer = js::window().fetch_with_str_and_init(url, &request("POST", Some(body)));
    js::when_settled(
        &answer,
        Box::new(move |response| {
            // A network error settles the promise with an error, which has no status.
            let status = js::num(&response, "status").unwrap_or(0.0);
            if status > 0.0 && (status < 400.0 || (status < 500.0 && status != 429.0)) {
                save(outbox::settled(load(), &sent));
            } else {
                let mut list = load();
                let wait = outbox::failed(&mut list, &sent, js_sys::Date::now());
                save(list);
                session::with(|s| s.transport.retry_later(wait));
            }
        }),
    );
}

/// `GET url` as JSON, without credentials; `done` gets the value (or the
/// parse error); nothing on a network error or a non-2xx answer.
pub fn get_json(url: &str, done: Box<dyn FnOnce(JsValue)>) {
    let answer = js::window().fetch_with_str_and_init(url, &request("GET", None));
    js::when_settled(
        &answer,
        Box::new(move |response| {
            if js::flag(&response, "ok") != Some(true) {
                return;
            }
            if let Ok(json) = response.unchecked_into::<web_sys::Response>().json() {
                js::when_settled(&json, done);
            }
        }),
    );
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::*;

    use super::encode;
    use crate::wire::object::Fields;
    use crate::wire::{sample, Beacon};

    wasm_bindgen_test_configure!(run_in_browser);

    /// The client's encoder (serde-wasm-bindgen, then `JSON.stringify`)
    /// writes every field so that the collector's decoder (`serde_json`)
    /// reads the same beacon back.
    #[wasm_bindgen_test]
    fn the_client_encodes_every_field_as_the_collector_decodes_it() {
        let beacon = sample::every_field("shop", "0123456789abcdef0123", 1_700_000_000_000.5);
        let json = encode(&beacon).expect("encoded");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value.as_object().unwrap().len(), beacon.fields().len(), "{json}");
        assert_eq!(value["tags"], serde_json::json!({"ab": "b", "plan": "pro"}), "tags are an object");
        assert_eq!(serde_json::from_str::<Beacon>(&json).unwrap(), beacon);
        // Absent fields are left out, not sent as null.
        let minimal = Beacon { site: "shop".into(), ..Beacon::default() };
        let json = encode(&minimal).expect("encoded");
        assert!(!json.contains("null") && !json.contains("lcp_ms"), "{json}");
        assert_eq!(serde_json::from_str::<Beacon>(&json).unwrap(), minimal);
    }
}
