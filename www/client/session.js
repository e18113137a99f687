/**
 * The page view and the page lifecycle: what is read from the browser, and
 * when it is sent. Hidden → send, visible again → the visitor is back,
 * `pagehide` → send, back/forward-cache restore → a new page view with its
 * own id.
 *
 * What the readings mean is the Rust module's (`rules`, `PageView` in
 * `src/vitals/view.rs`): each entry's raw times go there, and the metrics
 * come back from there, by the web-vitals library's rules (time origin,
 * paints before the page was hidden, CLS windows, INP, LCP sub-parts).
 * Here: the observers, the strings (URL, selectors, navigation type), the
 * beacon and its delivery.
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
const num = (x) => (typeof x == 'number' && x == x ? x : undefined);
const interactionCount = () => P.interactionCount || 0;
/** Total visible time of the page up to `now` (the loader tracks it from the start). */
const visibleUntil = (now) => L.vis + (L.vs >= 0 ? Math.max(now - L.vs, 0) : 0);

/** The navigation entry when it is valid, as web-vitals: `responseStart` positive and not in the future. */
const navEntry = () => {
  const e = P.getEntriesByType('navigation')[0];
  return e && e.responseStart > 0 && e.responseStart < P.now() ? e : undefined;
};

/**
 * A new page view starting at `origin` (`performance.now()` time), first
 * hidden at `hid`. A `restored` one (bfcache) counts interactions, visible
 * time and errors from its own start.
 */
const newView = (id, origin, hid, restored) => {
  rules.begin_view(origin, hid, restored, interactionCount());
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
    // Custom dimensions (`palaute.tag`), in the order first set.
    tags: new Map(),
    // Event Timing entries that set an interaction's latency, by interaction id (INP's target).
    held: new Map(),
    lcpEntry: undefined,
    visibleBefore: restored ? visibleUntil(origin) : 0,
    errorsBefore: restored ? L.err : 0,
  };
};

/** Navigation Timing of the page's own view: its times to the rules; type and status. */
const readNav = () => {
  const e = rules.loading() && navEntry();
  const b = view.b;
  if (!e) return;
  rules.navigation_timing(e.responseStart, e.domContentLoadedEventStart || 0, e.loadEventStart || 0);
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

const onPaint = (e) => e.name == 'first-contentful-paint' && rules.first_contentful_paint(e.startTime);

/** An LCP candidate; when the rules take it (painted while visible), its element and URL are the attribution. */
const onLcp = (e) => {
  if (!rules.largest_contentful_paint(e.startTime)) return;
  view.b.lcp_url = e.url || undefined;
  view.b.lcp_element = selector(e.element) || (e.id ? '#' + e.id : undefined);
  view.lcpEntry = e;
};

const onShift = (e) => rules.layout_shift(e.startTime, e.value, !!e.hadRecentInput);

const onEvent = (e) => {
  const start = e.startTime;
  const id = e.interactionId || 0;
  const held = view.held;
  if (rules.event_timing(id, start, e.duration, e.processingStart || start, e.processingEnd || start)) held.set(id, e);
  rules.interaction_count(interactionCount());
  // Only the entries of the longest interactions (and the reported one) are worth keeping.
  if (held.size > 20) held.forEach((_, key) => rules.keeps(key) || held.delete(key));
};

/** LCP's sub-parts, from the navigation and the latest resource entry that loaded the LCP's URL before it painted. */
const lcpSubparts = () => {
  const e = view.lcpEntry;
  const n = navEntry();
  const requestStart = (r) => (r.requestStart > 0 ? r.requestStart : r.startTime);
  const r = e && e.url && P.getEntriesByType('resource').reverse().find((r) => r.name == e.url && requestStart(r) <= e.startTime);
  const part = (i) => rules.lcp_subpart(i, n ? n.responseStart : 0, r ? requestStart(r) : NaN, r ? r.responseEnd : NaN);
  return { ttfb: part(0), load_delay: part(1), load_duration: part(2), render_delay: part(3) };
};

/** Hands the rules every reading the browser has queued (before a decision or a snapshot). */
export const measure = () => {
  observers.forEach(([po, handler]) => po.takeRecords().forEach(handler));
  readNav();
  rules.interaction_count(interactionCount());
};

/** Brings the fields that change over the view's life up to date, so that `view.b` is the snapshot to send. */
const refresh = () => {
  measure();
  const b = view.b;
  const n = navigator;
  const c = n.connection;
  const metric = (i) => num(rules.metric(i));
  b.ttfb_ms = metric(0);
  b.fcp_ms = metric(1);
  b.lcp_ms = metric(2);
  b.dcl_ms = metric(3);
  b.load_ms = metric(4);
  b.cls = metric(5);
  b.inp_ms = metric(6);
  b.visible_ms = Math.max(visibleUntil(P.now()) - view.visibleBefore, 0);
  b.errors = Math.max(L.err - view.errorsBefore, 0);
  const entry = view.held.get(metric(7));
  b.inp_target = entry && selector(entry.target);
  b.inp_subparts = b.inp_ms === undefined ? undefined : { input_delay: metric(8), processing: metric(9), presentation: metric(10) };
  b.lcp_subparts = b.lcp_ms === undefined ? undefined : lcpSubparts();
  if (c) {
    b.effective_type = c.effectiveType || undefined;
    b.downlink_mbps = num(c.downlink);
    b.rtt_ms = num(c.rtt);
    b.save_data = typeof c.saveData == 'boolean' ? c.saveData : undefined;
  }
  b.device_memory = num(n.deviceMemory);
  b.cpu_cores = n.hardwareConcurrency > 0 ? n.hardwareConcurrency : undefined;
};

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
  rules.hidden(at);
  view.b.left_at_ms = rules.since_start(at);
  send(unloading);
};

/** A restore from the back/forward cache at `at`: a new page view, which paints on the second frame after `pageshow`. */
const onRestore = (at) => {
  newView(L.newId(), at, Infinity, true);
  view.b.nav_type = 'back_forward_cache';
  sent = 0;
  lastSent = undefined;
  prompt.newView();
  const restored = view;
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      // The loader's own frame callbacks ran first: its reading is the closest to the paint.
      if (view == restored) rules.restored_paint(L.painted > 0 ? L.painted : P.now());
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
  newView(L.id, activation, L.hid, false);
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
