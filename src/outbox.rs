//! The outbox's rules: which beacons it keeps, which are due, how they are
//! batched, and the backoff after a failed try. Pure functions over its
//! entries; the browser client keeps the list in
//! `localStorage['palaute:outbox']` and does the sending.
//!
//! Every beacon goes into the outbox first and leaves it only when the
//! collector's answer says it is stored, or can never be. The outbox is
//! bounded ([`MAX_ENTRIES`], [`MAX_BYTES`], oldest dropped first, each kept
//! [`EXPIRES_MS`] at most) and holds beacons only, no visitor identifier.
//! Re-sends are batched (a JSON array) under the browser's 64 KiB keepalive
//! quota. The collector stores each (page view, seq) once: at-least-once
//! on the wire, exactly-once in the store.

use crate::wire::object::wire_object;

/// The `localStorage` key of the outbox (the loader writes it too).
pub const KEY: &str = "palaute:outbox";
/// Most beacons kept.
pub const MAX_ENTRIES: usize = 30;
/// Most bytes of beacon bodies kept.
pub const MAX_BYTES: usize = 48 * 1024;
/// How long a beacon is kept at most, ms (a day).
pub const EXPIRES_MS: f64 = 86_400_000.0;
/// Largest batch body: under the 64 KiB that a page's keepalive requests
/// may have in flight together.
pub const MAX_BATCH_BYTES: usize = 60 * 1024;
/// Most beacons in one batch (the collector's limit).
pub const MAX_BATCH: usize = 50;
/// The wait after the first failed try, ms; it doubles with each.
pub const FIRST_BACKOFF_MS: f64 = 2000.0;
/// The longest wait between tries, ms.
pub const MAX_BACKOFF_MS: f64 = 300_000.0;

wire_object! {
    /// One beacon waiting for the collector's acknowledgement. Times are epoch ms.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Entry {
        /// The page view's id.
        pub id: String,
        /// The snapshot's `seq`.
        pub seq: u32,
        /// The beacon's JSON.
        pub body: String,
        /// When it was queued.
        pub queued: f64,
        /// Failed tries so far.
        pub tries: u32,
        /// When it is due again (0: now).
        pub next: f64,
    }
}

/// A beacon sent: its page view and `seq`.
pub type Sent = (String, u32);

/// `list` without expired entries (queued over [`EXPIRES_MS`] before `now`).
pub fn live(mut list: Vec<Entry>, now: f64) -> Vec<Entry> {
    list.retain(|e| !e.id.is_empty() && !e.body.is_empty() && e.queued > now - EXPIRES_MS);
    list
}

/// `list` without its oldest entries beyond the bounds ([`MAX_ENTRIES`],
/// [`MAX_BYTES`] of bodies).
pub fn bounded(mut list: Vec<Entry>) -> Vec<Entry> {
    let mut bytes: usize = list.iter().map(|e| e.body.len()).sum();
    let mut drop = 0;
    while drop < list.len() && (list.len() - drop > MAX_ENTRIES || bytes > MAX_BYTES) {
        bytes -= list[drop].body.len();
        drop += 1;
    }
    list.drain(..drop);
    list
}

/// `list` with beacon `seq` of page view `id` queued at `now`, replacing an
/// older snapshot of the same page view (the later one carries
/// everything); a late, older snapshot is not kept.
pub fn queued(mut list: Vec<Entry>, id: &str, seq: u32, body: String, now: f64) -> Vec<Entry> {
    if list.iter().any(|e| e.id == id && e.seq > seq) {
        return list;
    }
    list.retain(|e| e.id != id);
    list.push(Entry { id: id.into(), seq, body, queued: now, tries: 0, next: 0.0 });
    list
}

/// `list` without the entries `sent` settled: those sent and older
/// snapshots of their page views.
pub fn settled(mut list: Vec<Entry>, sent: &[Sent]) -> Vec<Entry> {
    list.retain(|e| !sent.iter().any(|(id, seq)| *id == e.id && e.seq <= *seq));
    list
}

/// The wait after `tries` failed tries: 2 s, 4 s, 8 s … up to 5 minutes.
pub fn backoff(tries: u32) -> f64 {
    let doublings = tries.saturating_sub(1).min(20);
    (FIRST_BACKOFF_MS * f64::from(1u32 << doublings)).min(MAX_BACKOFF_MS)
}

/// Notes a failed try of `sent` at `now`; returns how long until the
/// earliest entry is due again, ms (infinite when the list is empty).
pub fn failed(list: &mut [Entry], sent: &[Sent], now: f64) -> f64 {
    for e in list.iter_mut() {
        if sent.iter().any(|(id, seq)| *id == e.id && *seq == e.seq) {
            e.tries += 1;
            e.next = now + backoff(e.tries);
        }
    }
    let earliest = list.iter().map(|e| e.next).fold(f64::INFINITY, f64::min);
    (earliest - now).max(0.0)
}

/// How long until the first entry still backing off at `now` is due, ms.
pub fn next_due_in(list: &[Entry], now: f64) -> Option<f64> {
    list.iter().map(|e| e.next - now).filter(|wait| *wait > 0.0).reduce(f64::min)
}

/// The entries of `list` due at `now`, in batches whose bodies joined as a
/// JSON array stay under [`MAX_BATCH_BYTES`] and [`MAX_BATCH`] beacons.
pub fn due_batches(list: &[Entry], now: f64) -> Vec<Vec<&Entry>> {
    let mut batches: Vec<Vec<&Entry>> = Vec::new();
    let mut size = 0;
    for e in list.iter().filter(|e| e.next <= now) {
        match batches.last_mut() {
            Some(last) if last.len() < MAX_BATCH && size + e.body.len() < MAX_BATCH_BYTES => last.push(e),
            _ => {
                batches.push(vec![e]);
                size = 1;
            }
        }
        size += e.body.len() + 1;
    }
    batches
}

/// The body of a batch: the one beacon, or all of them as a JSON array.
pub fn body(batch: &[&Entry]) -> String {
    if let [one] = batch {
        return one.body.clone();
    }
    let mut joined = String::with_capacity(batch.iter().map(|e| e.body.len() + 1).sum::<usize>() + 1);
    for (n, e) in batch.iter().enumerate() {
        joined.push(if n == 0 { '[' } else { ',' });
        joined.push_str(&e.body);
    }
    joined.push(']');
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, seq: u32, bytes: usize, next: f64) -> Entry {
        Entry { id: id.into(), seq, body: "x".repeat(bytes), queued: 1.0, tries: 0, next }
    }

    fn ids(list: &[Entry]) -> Vec<&str> {
        list.iter().map(|e| e.id.as_str()).collect()
    }

    #[test]
    fn a_later_snapshot_replaces_an_earlier_one_never_the_reverse() {
        let mut list = queued(vec![], "a", 1, "{\"seq\":1}".into(), 10.0);
        list = queued(list, "b", 1, "{\"seq\":1}".into(), 11.0);
        list = queued(list, "a", 2, "{\"seq\":2}".into(), 12.0);
        let summary: Vec<_> = list.iter().map(|e| (e.id.as_str(), e.seq, e.queued)).collect();
        assert_eq!(summary, [("b", 1, 11.0), ("a", 2, 12.0)]);
        assert_eq!(queued(list.clone(), "a", 1, "old".into(), 13.0), list, "a late, older snapshot is not kept");
    }

    #[test]
    fn bounded_to_30_entries_and_48_kib_oldest_dropped_first() {
        let many: Vec<_> = (0..35).map(|i| entry(&format!("p{i}"), 1, 10, 0.0)).collect();
        assert_eq!(bounded(many.clone()), many[5..]);
        let big = vec![entry("old", 1, 30000, 0.0), entry("mid", 1, 15000, 0.0), entry("new", 1, 10000, 0.0)];
        assert_eq!(ids(&bounded(big)), ["mid", "new"]);
        assert!(bounded(vec![entry("huge", 1, 60000, 0.0)]).is_empty(), "a body over the bound is not kept");
    }

    #[test]
    fn due_entries_go_in_batches_under_the_quota_and_entries_backing_off_wait() {
        let now = 1000.0;
        let mut list = vec![entry("wait", 1, 100, now + 1.0)];
        list.extend((0..120).map(|i| entry(&format!("p{i}"), 1, 100, 0.0)));
        let batches = due_batches(&list, now);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 20]);
        assert!(batches.iter().flatten().all(|e| e.id != "wait"));
        let heavy: Vec<_> = (0..5).map(|i| entry(&format!("h{i}"), 1, 20000, 0.0)).collect();
        let batches = due_batches(&heavy, now);
        // Three bodies of 20,000 B joined are 60,004 B, under 61,440; a fourth would not fit.
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [3, 2]);
        for batch in &batches {
            let joined = body(batch);
            assert!(joined.len() < MAX_BATCH_BYTES, "{}", joined.len());
            assert!(joined.starts_with('[') && joined.ends_with(']'));
        }
        assert_eq!(body(&[&heavy[0]]), heavy[0].body, "one beacon goes as it is");
    }

    #[test]
    fn backoff_doubles_from_2_s_to_at_most_5_minutes() {
        let waits: Vec<_> = [0, 1, 2, 3, 4, 8, 9, 40].into_iter().map(backoff).collect();
        assert_eq!(waits, [2000.0, 2000.0, 4000.0, 8000.0, 16000.0, 256000.0, 300000.0, 300000.0]);
    }

    #[test]
    fn a_failed_try_backs_off_and_an_answer_settles_older_snapshots_too() {
        let mut list = vec![entry("a", 2, 10, 0.0), entry("b", 1, 10, 0.0)];
        let wait = failed(&mut list, &[("a".into(), 2)], 100.0);
        assert_eq!((list[0].tries, list[0].next, list[1].tries), (1, 2100.0, 0));
        assert_eq!(wait, 0.0, "b is still due now");
        assert_eq!(next_due_in(&list, 100.0), Some(2000.0));
        assert_eq!(failed(&mut list[..1], &[("a".into(), 2)], 200.0), 4000.0);
        assert_eq!(ids(&settled(list.clone(), &[("a".into(), 3)])), ["b"], "a later seq settles an older one");
        assert_eq!(ids(&settled(list.clone(), &[("a".into(), 1)])), ["a", "b"], "an older seq does not");
        assert_eq!(failed(&mut [], &[], 0.0), f64::INFINITY);
    }

    #[test]
    fn expired_and_unreadable_entries_are_dropped() {
        let now = EXPIRES_MS + 10.0;
        let mut old = entry("old", 1, 10, 0.0);
        old.queued = 5.0;
        let mut fresh = entry("fresh", 1, 10, 0.0);
        fresh.queued = now - 1.0;
        let mut empty = fresh.clone();
        empty.id.clear();
        assert_eq!(ids(&live(vec![old, fresh, empty], now)), ["fresh"]);
    }
}
