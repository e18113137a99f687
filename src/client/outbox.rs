//! The outbox: beacons not yet acknowledged by the collector, kept in
//! `localStorage` (key `palaute:outbox`, this origin only) so that none is
//! lost to a collector that is down, answers 5xx/429, or a browser offline.
//!
//! Every beacon is written here before it is sent and removed when the
//! collector's answer is read (2xx, or a 4xx other than 429: never worth
//! re-sending). A page that unloads before the answer arrives leaves its
//! entry behind; the next page view of the site re-sends it, batched, and
//! the collector stores each (page view, seq) once, so delivery is
//! at-least-once on the wire and exactly-once in the store.
//!
//! Bounded: at most [`MAX_ENTRIES`] entries and [`MAX_BYTES`] of bodies
//! (oldest dropped first), each kept [`EXPIRES_MS`] at most. Entries hold
//! the beacon only: no visitor identifier.

use alloc::{string::String, vec::Vec};
use js_sys::{Array, Object, JSON};
use wasm_bindgen::JsValue;

use super::js;

/// The `localStorage` key.
pub const KEY: &str = "palaute:outbox";
/// Most beacons kept.
pub const MAX_ENTRIES: usize = 30;
/// Most bytes of beacon bodies kept.
pub const MAX_BYTES: usize = 48 * 1024;
/// An entry older than this is dropped unsent: one day, ms.
pub const EXPIRES_MS: f64 = 86_400_000.0;
/// First wait before a failed beacon is tried again, ms; it doubles per try.
pub const FIRST_BACKOFF_MS: f64 = 2_000.0;
/// Longest wait between tries, ms.
pub const MAX_BACKOFF_MS: f64 = 300_000.0;

/// One beacon waiting for its acknowledgement.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Page-view id.
    pub id: String,
    /// The beacon's sequence number.
    pub seq: u32,
    /// The encoded beacon.
    pub body: String,
    /// When it was first queued, ms since the epoch.
    pub queued: f64,
    /// Failed tries so far.
    pub tries: u32,
    /// Not to be tried again before this time, ms since the epoch.
    pub next: f64,
}

/// Wall-clock time, ms since the epoch (entries outlive the page's clock).
pub fn now() -> f64 {
    js_sys::Date::now()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The entries, oldest first; unreadable or expired ones are left out.
pub fn load() -> Vec<Entry> {
    let Some(text) = storage().and_then(|s| s.get_item(KEY).ok()?) else {
        return Vec::new();
    };
    let Ok(list) = JSON::parse(&text) else { return Vec::new() };
    let oldest = now() - EXPIRES_MS;
    Array::from(&list)
        .iter()
        .filter_map(|item| {
            Some(Entry {
                id: js::text(&item, "id")?,
                seq: js::num(&item, "seq")? as u32,
                body: js::text(&item, "body")?,
                queued: js::num(&item, "queued")?,
                tries: js::num(&item, "tries").unwrap_or(0.0) as u32,
                next: js::num(&item, "next").unwrap_or(0.0),
            })
        })
        .filter(|entry| entry.queued > oldest)
        .collect()
}

/// Writes `entries`, dropping the oldest beyond the bounds. A full or
/// disabled storage keeps nothing, and the beacon is still sent.
pub fn save(mut entries: Vec<Entry>) {
    let Some(storage) = storage() else { return };
    let mut bytes: usize = entries.iter().map(|e| e.body.len()).sum();
    while !entries.is_empty() && (entries.len() > MAX_ENTRIES || bytes > MAX_BYTES) {
        bytes -= entries.remove(0).body.len();
    }
    if entries.is_empty() {
        let _ = storage.remove_item(KEY);
        return;
    }
    let list = Array::new();
    for entry in &entries {
        let item = Object::new();
        js::set(&item, "id", &JsValue::from_str(&entry.id));
        js::set(&item, "seq", &JsValue::from(entry.seq));
        js::set(&item, "body", &JsValue::from_str(&entry.body));
        js::set(&item, "queued", &JsValue::from(entry.queued));
        js::set(&item, "tries", &JsValue::from(entry.tries));
        js::set(&item, "next", &JsValue::from(entry.next));
        list.push(&item);
    }
    if let Some(text) = JSON::stringify(&list).ok().and_then(|t| t.as_string()) {
        let _ = storage.set_item(KEY, &text);
    }
}

/// Queues a beacon, replacing an older snapshot of the same page view (the
/// later one carries everything the earlier did).
pub fn put(id: &str, seq: u32, body: &str) {
    let mut entries = load();
    if entries.iter().any(|e| e.id == id && e.seq > seq) {
        return;
    }
    entries.retain(|e| e.id != id);
    entries.push(Entry { id: id.into(), seq, body: body.into(), queued: now(), tries: 0, next: 0.0 });
    save(entries);
}

/// Removes what the collector acknowledged: each page view's entry up to
/// the acknowledged `seq`.
pub fn acknowledge(sent: &[(String, u32)]) {
    let mut entries = load();
    entries.retain(|e| !sent.iter().any(|(id, seq)| *id == e.id && e.seq <= *seq));
    save(entries);
}

/// Notes a failed try of `sent`: each waits twice as long as before.
/// Returns how long until the earliest entry is due again, ms.
pub fn failed(sent: &[(String, u32)]) -> f64 {
    let mut entries = load();
    let at = now();
    for entry in entries.iter_mut().filter(|e| sent.iter().any(|(id, seq)| *id == e.id && e.seq == *seq)) {
        entry.tries += 1;
        entry.next = at + backoff_ms(entry.tries);
    }
    let earliest = entries.iter().map(|e| e.next).fold(f64::INFINITY, f64::min);
    save(entries);
    (earliest - at).max(0.0)
}

/// How long until the earliest of `entries` not yet due becomes due, ms, if any.
pub fn next_due_in(entries: &[Entry]) -> Option<f64> {
    let at = now();
    entries.iter().map(|e| e.next - at).filter(|wait| *wait > 0.0).reduce(f64::min)
}

/// The wait after `tries` failed tries: 2 s, 4 s, 8 s … up to 5 minutes.
pub fn backoff_ms(tries: u32) -> f64 {
    (FIRST_BACKOFF_MS * f64::from(1u32 << tries.saturating_sub(1).min(20))).min(MAX_BACKOFF_MS)
}

/// The `entries` due now, in batches whose joined bodies stay under
/// `max_bytes` (the browser's keepalive quota) and `max_count` beacons.
pub fn due_batches(entries: Vec<Entry>, max_bytes: usize, max_count: usize) -> Vec<Vec<Entry>> {
    let at = now();
    let mut batches: Vec<Vec<Entry>> = Vec::new();
    let mut size = 0;
    for entry in entries.into_iter().filter(|e| e.next <= at) {
        let fits = batches.last().is_some_and(|b| b.len() < max_count && size + entry.body.len() < max_bytes);
        if !fits {
            batches.push(Vec::new());
            size = 1;
        }
        size += entry.body.len() + 1;
        if let Some(batch) = batches.last_mut() {
            batch.push(entry);
        }
    }
    batches
}
