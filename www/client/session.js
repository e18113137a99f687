/**
 * The page view and the page lifecycle: what is measured, and when it is
 * sent. Hidden → send, visible again → the visitor is back, `pagehide` →
 * send, back/forward-cache restore → a new page view with its own id.
 *
 * Entry handlers follow the web-vitals library's rules so that the values
 * match it. CLS session windows and INP's interaction grouping, percentile
 * and sub-parts are the Rust module's (`rules`); everything here reads the
 * browser and keeps the beacon.
 */
import * as rules from 'palaute-rules';
import { selector } from './selector.js';
import { deliver, flush } from './transport.js';
import * as prompt from './prompt.js';

const w = window;
const d = document;
const P = performance;

/** The loader's hand-over object (`window.palaute.L`). */
export let L;
/** The current page view: its beacon `b` and what its values are measured against. */
export let view;
let beaconUrl;
/** Beacons sent for the current view (its `seq`), and the last one (with `seq` 0) to skip repeats. */
let sent = 0;
let lastSent;
/** Buffered observers and their handlers, flushed (`takeRecords`) before each snapshot. */
const observers = [];
/** The site's default feedback scale on the collector, once read (`true`: five). */
let siteFive;

/** A number the browser gave, else `undefined` (absent, never 0). */
const num = (x) => (typeof x == 'number' ? x : undefined);
/** `time` relative to the view's start, clamped at 0 as web-vitals does. */
const since = (time) => Math.max(time - view.origin, 0);
/** Whether something at `time` happened before the page was first hidden (background paints do not count). */
const seen = (time) => time < view.hid;
const interactionCount = () => P.interactionCount || 0;
/** Total visible time of the page up to `now` (the loader tracks it from the start). */
const visibleUntil = (now) => L.vis + (L.vs >= 0 ? Math.max(now - L.vs, 0) : 0);

/** The navigation entry when it is valid, as web-vitals: `responseStart` positive and not in the future. */
const navEntry = () => {
  const e = P.getEntriesByType('navigation')[0];
  return e && e.responseStart > 0 && e.responseStart < P.now() ? e : undefined;
};

/** A new page-view id as the loader makes them: the time in ms (12 hex digits), then 10 random bytes. */
const newId = () =>
  (Date.now() + 2 ** 48).toString(16).slice(1) +
  Array.from(crypto.getRandomValues(new Uint8Array(10)), (x) => (x | 256).toString(16).slice(1)).join('');

/**
 * A new page view starting at `origin` (`performance.now()` time), first
 * hidden at `hid`. A `restored` one (bfcache) counts interactions, visible
 * time and errors from its own start.
 */
const newView = (id, origin, hid, restored) => {
  rules.begin_view();
  const ref = d.referrer && new URL(d.referrer).host;
  view = {
    b: {
      v: 1,
      site: L.site,
      id,
      seq: 0,
      src: 'module',
      url: location.pathname + location.search,
      referrer_host: ref && ref != location.host ? ref : undefined,
      start: P.timeOrigin + origin,
    },
    origin,
    hid,
    // Custom dimensions (`palaute.tag`), in the order first set.
    tags: new Map(),
    // Event Timing entries that set an interaction's latency, by interaction id (INP's target).
    held: new Map(),
    lcpEntry: undefined,
    interactionsBefore: restored ? interactionCount() : 0,
    visibleBefore: restored ? visibleUntil(origin) : 0,
    errorsBefore: restored ? L.err : 0,
  };
};

/** Navigation Timing: TTFB, DOMContentLoaded, load, type and status of the page's own view. */
const readNav = () => {
  const e = navEntry();
  const b = view.b;
  if (!e || b.nav_type == 'back_forward_cache') return;
  const at = (key) => (e[key] > 0 ? since(e[key]) : undefined);
  b.ttfb_ms = at('responseStart');
  b.dcl_ms = at('domContentLoadedEventStart');
  b.load_ms = at('loadEventStart');
  b.response_status = e.responseStatus > 0 ? e.responseStatus : undefined;
  b.nav_type =
    view.origin > 0 || d.prerendering
      ? 'prerender'
      : d.wasDiscarded
        ? 'restore'
        : e.type == 'reload' || e.type == 'back_forward'
          ? e.type
          : 'navigate';
};

const onPaint = (e) => {
  if (e.name == 'first-contentful-paint' && seen(e.startTime) && view.b.fcp_ms === undefined) {
    view.b.fcp_ms = since(e.startTime);
  }
};

/** The latest LCP entry painted while the page was visible is LCP (the browser stops them at the first input). */
const onLcp = (e) => {
  if (!seen(e.startTime)) return;
  const b = view.b;
  b.lcp_ms = since(e.startTime);
  b.lcp_url = e.url || undefined;
  b.lcp_element = selector(e.element) || (e.id ? '#' + e.id : undefined);
  view.lcpEntry = e;
};

/** Entries of a view that began later (a bfcache restore) belong to it only. */
const onShift = (e) => {
  if (e.startTime >= view.origin) rules.layout_shift(e.startTime, e.value, !!e.hadRecentInput);
};

const onEvent = (e) => {
  const start = e.startTime;
  if (!(start >= view.origin)) return;
  const id = e.interactionId || 0;
  const held = view.held;
  if (rules.event_timing(id, start, e.duration, e.processingStart || start, e.processingEnd || start)) held.set(id, e);
  rules.update_inp(interactionCount() - view.interactionsBefore);
  // Only the entries of the longest interactions (and the reported one) are worth keeping.
  if (held.size > 20) held.forEach((_, key) => rules.kept(key) || key == rules.inp(1) || held.delete(key));
};

/** LCP's sub-parts from its resource's timing; without an entry (a restore) it is all render delay. */
const lcpSubparts = (lcp) => {
  const e = view.lcpEntry;
  const n = navEntry();
  if (!e || !n) return { ttfb: 0, load_delay: 0, load_duration: 0, render_delay: lcp };
  const requestStart = (r) => (r.requestStart > 0 ? r.requestStart : r.startTime) - view.origin;
  const ttfb = since(n.responseStart);
  // The latest resource entry that loaded the LCP entry's URL before it painted.
  const r = e.url && P.getEntriesByType('resource').reverse().find((r) => r.name == e.url && requestStart(r) + view.origin <= e.startTime);
  const start = Math.max(ttfb, r ? requestStart(r) : 0);
  const end = Math.min(lcp, Math.max(start, r ? r.responseEnd - view.origin : 0));
  return { ttfb, load_delay: start - ttfb, load_duration: end - start, render_delay: lcp - end };
};

/** Brings the fields that change over the view's life up to date, so that `view.b` is the snapshot to send. */
const refresh = () => {
  flushObservers();
  if (view.b.load_ms === undefined) readNav();
  const b = view.b;
  const n = navigator;
  const c = n.connection;
  b.visible_ms = Math.max(visibleUntil(P.now()) - view.visibleBefore, 0);
  b.errors = Math.max(L.err - view.errorsBefore, 0);
  // As web-vitals: CLS is reported once there was a first paint.
  b.cls = b.fcp_ms === undefined ? undefined : rules.cls();
  const inp = rules.inp(0);
  const entry = view.held.get(rules.inp(1));
  // A restored page with only quick interactions: web-vitals reports 8 ms.
  b.inp_ms = inp >= 0 ? inp : b.nav_type == 'back_forward_cache' && interactionCount() > view.interactionsBefore ? 8 : undefined;
  b.inp_target = entry && selector(entry.target);
  b.inp_subparts =
    inp >= 0
      ? { input_delay: rules.inp(2), processing: rules.inp(3), presentation: rules.inp(4) }
      : b.inp_ms && { input_delay: 0, processing: 0, presentation: b.inp_ms };
  b.lcp_subparts = b.lcp_ms === undefined ? undefined : lcpSubparts(b.lcp_ms);
  if (c) {
    b.effective_type = c.effectiveType || undefined;
    b.downlink_mbps = num(c.downlink);
    b.rtt_ms = num(c.rtt);
    b.save_data = typeof c.saveData == 'boolean' ? c.saveData : undefined;
  }
  b.device_memory = num(n.deviceMemory);
  b.cpu_cores = n.hardwareConcurrency > 0 ? n.hardwareConcurrency : undefined;
};

/** Hands every observer's queued entries to the page view (before a decision or a snapshot). */
export const flushObservers = () => observers.forEach(([po, handler]) => po.takeRecords().forEach(handler));

/** The beacon as JSON; absent fields are left out (`JSON.stringify` drops `undefined`). */
const encode = () => JSON.stringify(Object.assign({}, view.b, { tags: Object.fromEntries(view.tags) }));

/** Sends the current snapshot of the page view, unless it was just sent; `unloading`: the page is going away. */
export const send = (unloading) => {
  refresh();
  const b = view.b;
  b.seq = 0;
  const unchanged = encode();
  if (unchanged == lastSent) return;
  b.seq = ++sent;
  deliver(beaconUrl, b.id, b.seq, encode(), unloading);
  lastSent = unchanged;
};

/** Whether ratings are on the five-point scale: the script tag's choice, else the site's, else thumbs. */
export const scaleIsFive = () => (L.scale ? L.scale == 'five' : !!siteFive);

const observe = (type, handler) => {
  try {
    const po = new PerformanceObserver((list) => {
      list.getEntries().forEach(handler);
      // A slow interaction may be the moment to ask for feedback.
      prompt.consider();
    });
    po.observe({ type, buffered: true, durationThreshold: 40 });
    observers.push([po, handler]);
  } catch (e) {
    /* entry type not supported here */
  }
};

const onHidden = (at, unloading) => {
  view.hid = Math.min(view.hid, at);
  view.b.left_at_ms = since(at);
  send(unloading);
};

/** A restore from the back/forward cache at `at`: a new page view, which paints on the second frame after `pageshow`. */
const onRestore = (at) => {
  newView(newId(), at, Infinity, true);
  // As web-vitals: a restored page has no network wait; its paint is both FCP and LCP.
  Object.assign(view.b, { nav_type: 'back_forward_cache', ttfb_ms: 0 });
  sent = 0;
  lastSent = undefined;
  prompt.newView();
  const restored = view;
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      // The loader's own frame callbacks ran first: its reading is the closest to the paint.
      restored.b.fcp_ms = restored.b.lcp_ms = Math.max((L.painted > 0 ? L.painted : P.now()) - restored.origin, 0);
    }),
  );
};

/**
 * Takes the page view over from the loader. Nothing is measured while the
 * page is prerendering: it starts when the page is shown.
 */
export const start = (loader) => {
  if (d.prerendering) {
    d.addEventListener('prerenderingchange', () => start(loader), { once: true });
    return;
  }
  L = loader;
  beaconUrl = L.endpoint + '/b';
  sent = L.seq || 0;
  const activation = (navEntry() || {}).activationStart || 0;
  newView(L.id || newId(), activation, L.hid, false);
  readNav();
  // Interactions shorter than 104 ms are not buffered: the loader kept them.
  (L.ev || []).forEach(onEvent);
  observe('paint', onPaint);
  observe('largest-contentful-paint', onLcp);
  observe('layout-shift', onShift);
  observe('event', onEvent);
  observe('first-input', onEvent);
  d.addEventListener(
    'visibilitychange',
    (e) => {
      if (d.hidden) {
        onHidden(e.timeStamp, false);
      } else {
        view.b.left_at_ms = undefined;
        prompt.onVisible();
      }
    },
    true,
  );
  w.addEventListener('pagehide', (e) => onHidden(e.timeStamp, !e.persisted), true);
  w.addEventListener('pageshow', (e) => e.persisted && onRestore(e.timeStamp), true);
  w.addEventListener('online', () => flush(beaconUrl));
  // Beacons earlier page views could not deliver.
  flush(beaconUrl);
  // The site's default scale (`GET /s/{site}`), when the script tag leaves it to the collector.
  if (!L.scale) {
    fetch(L.endpoint + '/s/' + L.site, { mode: 'cors', credentials: 'omit' })
      .then((r) => r.ok && r.json())
      .then((s) => {
        if (s) siteFive = s.feedback_scale == 'five';
      })
      .catch(() => {});
  }
  prompt.scheduleSettle();
  // The visitor may already have gone while the module loaded.
  if (d.hidden) send();
};
