/*
 * palaute loader: the one script a site adds.
 *
 *   <script async src="https://COLLECTOR/palaute.js" data-site="shop"></script>
 *
 * It runs early and does only what cannot wait:
 * - reads the script tag's data-* attributes and decides sampling once (and
 *   measures nothing when `data-gpc="honor"` and the browser sends GPC);
 * - gives the page `window.palaute` at once (calls are queued);
 * - observes what the browser does not buffer in full (Event Timing entries
 *   under 104 ms), counts errors, and tracks visibility from the start;
 * - if the visitor leaves before the module runs, sends the page view itself
 *   (and keeps it in the outbox, which the module of a later view re-sends),
 *   from every event the engine gives: `pagehide`, `visibilitychange`, and
 *   `beforeunload` while the page loads (WebKit fires nothing else when a
 *   loading page is left);
 * - while the page loads, keeps a snapshot of the view in the outbox, for
 *   the next view on the origin to send if the visitor goes without any of
 *   those events;
 * - after the page's `load` event, in idle time, fetches the client module
 *   (the Rust/wasm module and its wasm-bindgen glue; so it never competes
 *   with the page's own resources) and hands it over; the module's second
 *   part (the prompt's interface) only when the module asks for it.
 *
 * `make build` minifies this file and replaces __GLUE__, __WASM__ and __PART__
 * with the content-hashed names of the module's files (and the __SRI__ marks
 * with their integrity hashes), and __OUTBOX_KEY__, __OUTBOX_ENTRIES__ and
 * __OUTBOX_BYTES__ with the outbox's key and bounds (src/outbox.rs: one
 * definition for both beacons).
 *
 * `L` (below) is the hand-over object; src/client/loader.rs is its one
 * typed reading in the module, key by key.
 */
((w, d) => {
  const s = d.currentScript;
  const P = w.performance;
  if (!s || (w.palaute && w.palaute.L) || !P || !w.PerformanceObserver) return;
  const attr = (n) => s.getAttribute('data-' + n);
  const queue = [];
  const api = (w.palaute = {});
  // The hand-over state, shared with the module for the page's lifetime;
  // unset when this page view is not measured (calls are then dropped).
  let L;
  for (const m of ['ask', 'feedback', 'tag']) {
    api[m] = (...args) => {
      if (L) queue.push([m, args]);
    };
  }
  // The route and the release live in the hand-over itself, with the URL
  // the page showed when they were named: the loader's beacon and the
  // module's read them (that view and the views after it).
  for (const m of ['route', 'release']) {
    api[m] = (name) => {
      if (L) {
        L[m] = String(name);
        L[m + 'At'] = location.pathname + location.search;
      }
    };
  }
  const site = attr('site');
  if (!site || !(Math.random() < +(attr('sample') || 1))) return;
  // Global Privacy Control, when the site asks for it to be honoured.
  if (attr('gpc') == 'honor' && navigator.globalPrivacyControl) return;

  // The page view's id: the time in ms (12 hex digits), then 10 random
  // bytes. Ids that begin with the time reach the collector roughly in
  // order, so its index of them grows near its end instead of at random
  // places (on a store holding a week of page views, about 5% more beacons
  // per second; BENCHMARKS.md). The time adds nothing: the page view's
  // start is sent anyway. The module makes the id of a page view restored
  // from the back/forward cache with it too (`L.newId`).
  const newId = () => {
    let made = (Date.now() + 2 ** 48).toString(16).slice(1);
    for (const byte of crypto.getRandomValues(new Uint8Array(10))) made += (byte | 256).toString(16).slice(1);
    return made;
  };
  const id = newId();
  const hidden = () => d.visibilityState == 'hidden';
  // Uncaught errors and failed resource loads: what the listeners saw, plus
  // failed loads (status >= 400 in Resource Timing) that ended before the
  // loader ran and whose error event it did not see.
  let caught = 0;
  const seen = {};
  const begun = P.now();
  // The latest largest-contentful-paint entry, and whether an image that
  // would replace it is still loading.
  let lcp;
  let pending = false;

  L = api.L = {
    site,
    endpoint: (attr('endpoint') || new URL(s.src).origin).replace(/\/+$/, ''),
    id,
    newId,
    seq: 0,
    feedback: attr('feedback') || 'slow',
    scale: attr('feedback-scale') || '',
    lang: attr('lang') || '',
    days: attr('feedback-days') || '',
    // The page's route and the site's release (`data-route`, `data-release`,
    // then `palaute.route()`, `palaute.release()`).
    route: attr('route'),
    release: attr('release'),
    // Set once the module has taken the page view over.
    started: 0,
    // Event Timing and first-input entries seen before the module ran (the
    // browser buffers only those of 104 ms or more; INP counts from 40 ms).
    ev: [],
    // First time the page was hidden (0: hidden from the start).
    hid: hidden() && !d.prerendering ? 0 : Infinity,
    // Visible time accumulated before `vs`, and when the page last became
    // visible (-1 while hidden).
    vis: 0,
    vs: hidden() ? -1 : 0,
    get err() {
      return caught + P.getEntriesByType('resource').filter((e) => e.responseStatus >= 400 && e.responseEnd <= begun && !seen[e.name]).length;
    },
  };

  const observers = [];
  const observe = (type, cb) => {
    try {
      const po = new PerformanceObserver((list) => list.getEntries().forEach(cb));
      // The threshold applies to Event Timing only.
      po.observe({ type, buffered: true, durationThreshold: 40 });
      observers.push([po, cb]);
    } catch (e) { /* entry type not supported here */ }
  };
  const keep = (e) => {
    if (L.ev.length < 2000) L.ev.push(e);
  };
  observe('event', keep);
  observe('first-input', keep);

  const countError = (e) => {
    const t = e.target;
    const url = t && t !== w && (t.currentSrc || t.src || t.href);
    if (url) seen[url] = 1;
    caught++;
  };
  w.addEventListener('error', countError, true);
  w.addEventListener('unhandledrejection', countError);

  // Whether an image in the viewport, larger than the LCP candidate so far,
  // is still loading: then the page's real LCP has not happened yet.
  const lcpPending = () => {
    for (const img of d.images) {
      if (img.complete) continue;
      const r = img.getBoundingClientRect();
      const width = Math.min(r.right, innerWidth) - Math.max(r.left, 0);
      const height = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
      if (width > 0 && height > 0 && width * height > (lcp ? lcp.size : 0)) return true;
    }
    return false;
  };
  // Kept up to date while loading, because a closing tab cancels its images
  // before `pagehide`. Re-checked on resource loads only while it is set,
  // and only until the module takes over.
  const checkPending = () => (pending = lcpPending());
  const onResourceLoad = () => pending && checkPending();
  observe('largest-contentful-paint', (e) => {
    lcp = e;
    checkPending();
  });
  d.addEventListener('DOMContentLoaded', checkPending);
  w.addEventListener('load', onResourceLoad, true);

  // What the engine observes: without an entry type, a missing milestone
  // says nothing (web-vitals checks the same list).
  const types = PerformanceObserver.supportedEntryTypes || [];
  const key = __OUTBOX_KEY__;
  // Puts `entry` in the outbox in place of this view's, or removes this
  // view's (no entry), unless the outbox holds a later snapshot of it.
  // Bounded as the module bounds it (`outbox::bounded`): the newest
  // entries, as many as fit in the count and the bytes of their bodies.
  const store = (entry) => {
    try {
      const box = JSON.parse(localStorage.getItem(key) || '[]');
      const mine = box.find((x) => x.id == id);
      if (mine && mine.seq > (entry ? entry.seq : 0)) return;
      const rest = box.filter((x) => x.id != id);
      if (entry) rest.push(entry);
      let bytes = 0;
      localStorage.setItem(key, JSON.stringify(rest.reverse().filter((x, i) => i < __OUTBOX_ENTRIES__ && (bytes += new Blob([x.body]).size) <= __OUTBOX_BYTES__).reverse()));
    } catch (x) { /* storage disabled or full: the beacon is still sent */ }
  };
  // The page view as the loader alone knows it, left at `at`: snapshot
  // `seq` (0: the provisional one kept while the page loads).
  const snap = (at, seq) => {
    const n = P.getEntriesByType('navigation')[0] || {};
    const act = n.activationStart || 0;
    const rel = (t) => (t > 0 ? Math.max(t - act, 0) : undefined);
    const before = (entry) => (entry && entry.startTime < L.hid ? rel(entry.startTime) || 0 : undefined);
    const ref = d.referrer && new URL(d.referrer).host;
    return JSON.stringify({
      v: 1, site, id, seq, src: 'loader',
      url: location.pathname + location.search,
      route: L.route,
      release: L.release,
      referrer_host: ref && ref != location.host ? ref : undefined,
      start: P.timeOrigin + act,
      // In the module's order (the client's `View::read_nav`, web-vitals'
      // `getNavigationType`): prerendered, else discarded, else the entry's type.
      nav_type: act > 0 ? 'prerender' : d.wasDiscarded ? 'restore' : n.type,
      ttfb_ms: n.responseStart > 0 && n.responseStart < P.now() ? rel(n.responseStart) || 0 : undefined,
      fcp_ms: before(P.getEntriesByName('first-contentful-paint')[0]),
      lcp_ms: before(lcp),
      dcl_ms: rel(n.domContentLoadedEventStart),
      load_ms: rel(n.loadEventStart),
      response_status: n.responseStatus || undefined,
      visible_ms: L.vis + (L.vs < 0 ? 0 : at - L.vs),
      left_at_ms: Math.max(at - act, 0),
      // Layout is read again only when the visitor leaves.
      lcp_pending: pending || (seq > 0 && lcpPending()) || undefined,
      errors: L.err,
      fcp_observable: types.includes('paint'),
      lcp_observable: types.includes('largest-contentful-paint'),
    });
  };
  // When the visitor leaves before the module has started.
  const leave = (e) => {
    if (L.started || d.prerendering) return;
    const body = snap(e.timeStamp, ++L.seq);
    // Kept until the module of a later page view has it acknowledged: the
    // collector may be down, and this page cannot read the answer.
    store({ id, seq: L.seq, body, queued: Date.now(), tries: 0, next: 0 });
    // No fetch(keepalive) fallback: it shares sendBeacon's in-flight quota,
    // so it would fail whenever sendBeacon does; the outbox copy remains.
    navigator.sendBeacon(L.endpoint + '/b', body);
  };
  // While the page loads, the view's snapshot waits in the outbox, renewed
  // every second and due 3 s after its last renewal: if the visitor goes
  // and no event fires (iOS Safari may fire none), the next view on the
  // origin sends it; any later snapshot (seq 1 on) replaces it.
  const provisional = () => {
    if (L.started || d.readyState == 'complete') return;
    if (!d.prerendering) store({ id, seq: 0, body: snap(P.now(), 0), queued: Date.now(), tries: 0, next: Date.now() + 3000 });
    setTimeout(provisional, 1000);
  };

  d.addEventListener('visibilitychange', (e) => {
    if (hidden()) {
      if (L.hid == Infinity) L.hid = e.timeStamp;
      if (L.vs >= 0) L.vis += e.timeStamp - L.vs;
      L.vs = -1;
      leave(e);
    } else if (L.vs < 0) {
      L.vs = e.timeStamp;
    }
  }, true);
  w.addEventListener('pagehide', (e) => {
    if (L.vs >= 0) L.vis += e.timeStamp - L.vs;
    L.vs = -1;
    leave(e);
  }, true);

  // A page restored from the back/forward cache paints on the second frame
  // after `pageshow`. The loader's frame callbacks run first in that frame,
  // so its clock reading is the closest to the paint.
  w.addEventListener('pageshow', (e) => {
    if (!e.persisted) return;
    L.painted = 0;
    requestAnimationFrame(() => requestAnimationFrame(() => (L.painted = P.now())));
  }, true);

  const dir = s.src.replace(/[^/]*$/, '');
  // A file of the module, pinned by its Subresource Integrity hash.
  const bytes = (file, integrity) => fetch(dir + 'm/' + file, { integrity }).then((r) => r.arrayBuffer());
  const boot = () =>
    // The glue, and the module compiled here (instantiated by the glue's
    // `initSync`).
    Promise.all([import(dir + 'm/__GLUE__'), bytes('__WASM__', '__WASM_SRI__').then(WebAssembly.compile)])
      .then(([m, module]) => {
        const x = m.initSync({ module });
        // The module's second part, the prompt's interface: fetched once,
        // when the prompt is about to ask; it imports the module's memory,
        // table and functions from its exports (`p`). A promise of whether
        // it is there.
        let part;
        L.part = () =>
          part ||
          (part = bytes('__PART__', '__PART_SRI__')
            .then((b) => WebAssembly.instantiate(b, { p: x }))
            .then(() => 1, () => (part = 0)));
        // Entries queued but not yet delivered are handed over too.
        for (const [po, cb] of observers) {
          po.takeRecords().forEach(cb);
          po.disconnect();
        }
        w.removeEventListener('load', onResourceLoad, true);
        m.start(L);
        L.started = 1;
        api.feedback = m.feedback;
        api.tag = (key, value) => m.tag(String(key), String(value));
        if (m.ask) api.ask = m.ask;
        for (const [name, args] of queue) api[name](...args);
        queue.length = 0;
      })
      .catch(() => { /* the loader's own beacon still covers this view */ });
  const idle = () => (w.requestIdleCallback ? requestIdleCallback(boot, { timeout: 2000 }) : setTimeout(boot, 50));
  provisional();
  if (d.readyState == 'complete') idle();
  else {
    // Only while loading: once loaded, leaving fires `pagehide` in every
    // engine, and a `beforeunload` listener would keep the page out of
    // Firefox's back/forward cache.
    w.addEventListener('beforeunload', leave, true);
    w.addEventListener('load', () => {
      w.removeEventListener('beforeunload', leave, true);
      store();
      setTimeout(idle);
    });
  }
})(window, document);
