/**
 * Delivering beacons. Every beacon goes into the outbox first and leaves it
 * only when the collector's answer says it is stored, or can never be.
 * Bodies are JSON sent as `text/plain`, so there is no CORS preflight.
 *
 * - While the page lives, beacons and re-sends use `fetch` with `keepalive`
 *   in CORS mode, so the answer can be read. 2xx and 4xx (other than 429)
 *   settle them. 5xx, 429 and network errors keep them, to be tried again
 *   with backoff, when the browser is back online, or on the next page view.
 * - When the page is being unloaded, the answer can never be read.
 *   `sendBeacon` sends the beacon (`fetch(keepalive)` when the browser
 *   refuses it), and the next page view re-sends the outbox copy.
 * - Offline, nothing is sent; the `online` event flushes the outbox.
 *
 * The outbox is `localStorage['palaute:outbox']`, this origin only, bounded
 * (`MAX_ENTRIES`, `MAX_BYTES`, oldest dropped first, each kept `EXPIRES_MS`
 * at most) and holds beacons only, no visitor identifier. Re-sends are
 * batched (a JSON array) under the browser's 64 KiB keepalive quota. The
 * collector stores each (page view, seq) once: at-least-once on the wire,
 * exactly-once in the store.
 */
const KEY = 'palaute:outbox';
const MAX_ENTRIES = 30;
const MAX_BYTES = 48 * 1024;
const EXPIRES_MS = 864e5;
/** Largest batch body, under the 64 KiB that a page's keepalive requests may have in flight. */
const MAX_BATCH_BYTES = 60 * 1024;
/** Most beacons in one batch (the collector's limit). */
const MAX_BATCH = 50;
const FIRST_BACKOFF_MS = 2000;
const MAX_BACKOFF_MS = 3e5;

/** The outbox entries, oldest first; unreadable and expired ones left out. */
const load = () => {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) || '[]');
    const oldest = Date.now() - EXPIRES_MS;
    return (Array.isArray(list) ? list : []).filter(
      (e) => e && e.id && e.body && typeof e.seq == 'number' && e.queued > oldest,
    );
  } catch (e) {
    return [];
  }
};

/** `list` without its oldest entries beyond the bounds (`MAX_ENTRIES`, `MAX_BYTES` of bodies). */
export const bounded = (list) => {
  let bytes = list.reduce((n, e) => n + e.body.length, 0);
  let drop = 0;
  while (drop < list.length && (list.length - drop > MAX_ENTRIES || bytes > MAX_BYTES)) bytes -= list[drop++].body.length;
  return list.slice(drop);
};

/** Writes `list`, dropping the oldest beyond the bounds. Full or disabled storage keeps nothing; the beacon is still sent. */
const save = (list) => {
  list = bounded(list);
  try {
    list.length ? localStorage.setItem(KEY, JSON.stringify(list)) : localStorage.removeItem(KEY);
  } catch (e) {
    /* storage disabled or full */
  }
};

/** Whether outbox entry `e` is one of `sent` ([id, seq] pairs), or (`upTo`) an older snapshot of one. */
const among = (sent, e, upTo) => sent.some(([id, seq]) => id == e.id && (upTo ? e.seq <= seq : e.seq == seq));

/** `list` with a beacon queued at `now`, replacing an older snapshot of the same page view (the later one carries everything). */
export const queued = (list, id, seq, body, now) =>
  list.some((e) => e.id == id && e.seq > seq)
    ? list
    : list.filter((e) => e.id != id).concat({ id, seq, body, queued: now, tries: 0, next: 0 });

/** The wait after `tries` failed tries: 2 s, 4 s, 8 s … up to 5 minutes. */
export const backoff = (tries) => Math.min(FIRST_BACKOFF_MS * 2 ** Math.min(Math.max(tries - 1, 0), 20), MAX_BACKOFF_MS);

/** Notes a failed try of `sent`; returns how long until the earliest entry is due again, ms. */
const failed = (sent) => {
  const list = load();
  const now = Date.now();
  list.forEach((e) => {
    if (among(sent, e)) e.next = now + backoff(++e.tries);
  });
  save(list);
  return Math.max(Math.min(...list.map((e) => e.next)) - now, 0);
};

let retryPending = false;

/** Flushes again after `wait` ms, one timer at a time. */
const retryLater = (url, wait) => {
  if (retryPending || !isFinite(wait)) return;
  retryPending = true;
  setTimeout(() => {
    retryPending = false;
    flush(url);
  }, wait + 51);
};

/** `fetch(keepalive)` in CORS mode; the answer settles the `sent` entries. */
const post = (url, body, sent) => {
  const retry = () => retryLater(url, failed(sent));
  fetch(url, { method: 'POST', body, keepalive: true, mode: 'cors', credentials: 'omit' }).then((r) => {
    if (r.status < 400 || (r.status < 500 && r.status != 429)) {
      save(load().filter((e) => !among(sent, e, true)));
    } else {
      retry();
    }
  }, retry);
};

/** Queues and sends page view `id`'s beacon `seq`; `unloading`: the page is going away. */
export const deliver = (url, id, seq, body, unloading) => {
  save(queued(load(), id, seq, body, Date.now()));
  if (!navigator.onLine) return;
  try {
    if (unloading && navigator.sendBeacon(url, body)) return;
  } catch (e) {
    /* refused: fetch below */
  }
  post(url, body, [[id, seq]]);
};

/**
 * The entries of `list` due at `now`, in batches whose bodies joined as a
 * JSON array stay under `MAX_BATCH_BYTES` (the keepalive quota) and
 * `MAX_BATCH` beacons.
 */
export const dueBatches = (list, now) => {
  const batches = [];
  let size = 0;
  list.forEach((e) => {
    if (e.next > now) return;
    const last = batches[batches.length - 1];
    if (last && last.length < MAX_BATCH && size + e.body.length < MAX_BATCH_BYTES) {
      last.push(e);
    } else {
      batches.push([e]);
      size = 1;
    }
    size += e.body.length + 1;
  });
  return batches;
};

/** Sends the outbox entries that are due, in batches; those backing off are tried when due. */
export const flush = (url) => {
  if (!navigator.onLine) return;
  const now = Date.now();
  const list = load();
  dueBatches(list, now).forEach((batch) => {
    const body = batch.length == 1 ? batch[0].body : '[' + batch.map((e) => e.body).join() + ']';
    post(url, body, batch.map((e) => [e.id, e.seq]));
  });
  const waits = list.map((e) => e.next - now).filter((wait) => wait > 0);
  if (waits.length) retryLater(url, Math.min(...waits));
};
