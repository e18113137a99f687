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
 *   (and keeps it in the outbox, which the module of a later view re-sends);
 * - after the page's `load` event, in idle time, fetches the client module
 *   (`www/client/`, bundled with the glue of its Rust/wasm rules; so it
 *   never competes with the page's own resources) and hands it over.
 *
 * `make build` minifies this file and replaces __GLUE__ and __WASM__ with the
 * content-hashed names of the module's files.
 */
(function (w, d) {
  var s = d.currentScript;
  var P = w.performance;
  if (!s || (w.palaute && w.palaute.L) || !P || !w.PerformanceObserver) return;
  var attr = function (n) { return s.getAttribute('data-' + n); };
  var queue = [];
  var api = (w.palaute = {});
  ['ask', 'feedback', 'tag'].forEach(function (m) {
    api[m] = function () { if (L) queue.push([m, [].slice.call(arguments)]); };
  });
  var site = attr('site');
  var sample = parseFloat(attr('sample') || '1');
  if (!site || !(Math.random() < sample)) return;
  // Global Privacy Control, when the site asks for it to be honoured.
  if (attr('gpc') == 'honor' && navigator.globalPrivacyControl) return;

  // The page view's id: the time in ms (12 hex digits), then 10 random
  // bytes. Ids that begin with the time reach the collector roughly in
  // order, so its index of them grows near its end instead of at random
  // places (on a store holding a week of page views, about 5% more beacons
  // per second; BENCHMARKS.md). The time adds nothing: the page view's
  // start is sent anyway. The module makes the id of a page view restored
  // from the back/forward cache with it too (`L.newId`).
  var newId = function () {
    var bytes = crypto.getRandomValues(new Uint8Array(10));
    var made = (Date.now() + 0x1000000000000).toString(16).slice(1);
    for (var i = 0; i < 10; i++) made += (bytes[i] | 256).toString(16).slice(1);
    return made;
  };
  var id = newId();
  var hidden = function () { return d.visibilityState == 'hidden'; };

  // The hand-over state, shared with the module for the page's lifetime.
  var L = (api.L = {
    site: site,
    endpoint: (attr('endpoint') || new URL(s.src).origin).replace(/\/+$/, ''),
    id: id,
    newId: newId,
    seq: 0,
    feedback: attr('feedback') || 'slow',
    scale: attr('feedback-scale') || '',
    lang: attr('lang') || '',
    days: attr('feedback-days') || '',
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
    // The latest largest-contentful-paint entry.
    lcp: null,
  });

  var observers = [];
  var observe = function (type, cb, extra) {
    try {
      var po = new PerformanceObserver(function (list) { list.getEntries().forEach(cb); });
      po.observe(Object.assign({ type: type, buffered: true }, extra));
      observers.push([po, cb]);
    } catch (e) { /* entry type not supported here */ }
  };
  var keep = function (e) { if (L.ev.length < 2000) L.ev.push(e); };
  observe('event', keep, { durationThreshold: 40 });
  observe('first-input', keep);

  // Uncaught errors and failed resource loads: what the listeners saw, plus
  // failed loads (status >= 400 in Resource Timing) that ended before the
  // loader ran and whose error event it did not see.
  var caught = 0;
  var seen = {};
  var started = P.now();
  Object.defineProperty(L, 'err', {
    enumerable: true,
    get: function () {
      return caught + P.getEntriesByType('resource').filter(function (e) {
        return e.responseStatus >= 400 && e.responseEnd <= started && !seen[e.name];
      }).length;
    },
  });
  var countError = function (e) {
    var target = e.target;
    var url = target && target !== w && (target.currentSrc || target.src || target.href);
    if (url) seen[url] = 1;
    caught++;
  };
  w.addEventListener('error', countError, true);
  w.addEventListener('unhandledrejection', countError);

  var nav = function () { return P.getEntriesByType('navigation')[0] || {}; };

  // Whether an image in the viewport, larger than the LCP candidate so far,
  // is still loading: then the page's real LCP has not happened yet.
  var lcpPending = function () {
    var size = L.lcp ? L.lcp.size : 0;
    for (var i = 0; i < d.images.length; i++) {
      var img = d.images[i];
      if (img.complete) continue;
      var r = img.getBoundingClientRect();
      var width = Math.min(r.right, innerWidth) - Math.max(r.left, 0);
      var height = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
      if (width > 0 && height > 0 && width * height > size) return true;
    }
    return false;
  };
  // Kept up to date while loading, because a closing tab cancels its images
  // before `pagehide`. Re-checked on resource loads only while it is set,
  // and only until the module takes over.
  var pending = false;
  var checkPending = function () { pending = lcpPending(); };
  var onResourceLoad = function () { if (pending) checkPending(); };
  observe('largest-contentful-paint', function (e) { L.lcp = e; checkPending(); });
  d.addEventListener('DOMContentLoaded', checkPending);
  w.addEventListener('load', onResourceLoad, true);

  // The page view as the loader alone knows it, when the visitor leaves
  // before the module has started.
  var leave = function (e) {
    if (L.started || d.prerendering) return;
    var n = nav();
    var act = n.activationStart || 0;
    var rel = function (t) { return t > 0 ? Math.max(t - act, 0) : undefined; };
    var fcp = P.getEntriesByName('first-contentful-paint')[0];
    var before = function (entry) { return entry && entry.startTime < L.hid ? rel(entry.startTime) || 0 : undefined; };
    var type = d.wasDiscarded ? 'restore' : act > 0 ? 'prerender' : n.type;
    var ref = d.referrer && new URL(d.referrer).host;
    var body = JSON.stringify({
      v: 1, site: site, id: id, seq: ++L.seq, src: 'loader',
      url: location.pathname + location.search,
      referrer_host: ref && ref != location.host ? ref : undefined,
      start: P.timeOrigin + act,
      nav_type: type,
      ttfb_ms: n.responseStart > 0 && n.responseStart < P.now() ? rel(n.responseStart) || 0 : undefined,
      fcp_ms: before(fcp),
      lcp_ms: before(L.lcp),
      dcl_ms: rel(n.domContentLoadedEventStart),
      load_ms: rel(n.loadEventStart),
      response_status: n.responseStatus || undefined,
      visible_ms: L.vis,
      left_at_ms: Math.max(e.timeStamp - act, 0),
      lcp_pending: pending || lcpPending() || undefined,
      errors: L.err,
    });
    // Kept until the module of a later page view has it acknowledged: the
    // collector may be down, and this page cannot read the answer.
    try {
      var key = 'palaute:outbox';
      var box = JSON.parse(localStorage.getItem(key) || '[]').filter(function (x) { return x.id != id; });
      box.push({ id: id, seq: L.seq, body: body, queued: Date.now(), tries: 0, next: 0 });
      localStorage.setItem(key, JSON.stringify(box.slice(-30)));
    } catch (x) { /* storage disabled or full: the beacon is still sent */ }
    var url = L.endpoint + '/b';
    if (!navigator.onLine) return;
    if (!navigator.sendBeacon(url, body)) {
      fetch(url, { method: 'POST', body: body, keepalive: true, mode: 'no-cors', credentials: 'omit' }).catch(function () {});
    }
  };

  d.addEventListener('visibilitychange', function (e) {
    if (hidden()) {
      if (L.hid == Infinity) L.hid = e.timeStamp;
      if (L.vs >= 0) L.vis += e.timeStamp - L.vs;
      L.vs = -1;
      leave(e);
    } else if (L.vs < 0) {
      L.vs = e.timeStamp;
    }
  }, true);
  w.addEventListener('pagehide', function (e) {
    if (L.vs >= 0) L.vis += e.timeStamp - L.vs;
    L.vs = -1;
    leave(e);
  }, true);

  // A page restored from the back/forward cache paints on the second frame
  // after `pageshow`. The loader's frame callbacks run first in that frame,
  // so its clock reading is the closest to the paint.
  w.addEventListener('pageshow', function (e) {
    if (!e.persisted) return;
    L.painted = 0;
    requestAnimationFrame(function () { requestAnimationFrame(function () { L.painted = P.now(); }); });
  }, true);

  var dir = s.src.replace(/[^/]*$/, '');
  var boot = function () {
    import(dir + 'm/__GLUE__')
      .then(function (m) {
        // The module is pinned by its Subresource Integrity hash.
        return m.default({ module_or_path: fetch(dir + 'm/__WASM__', { integrity: '__WASM_SRI__' }) }).then(function () {
          // Entries queued but not yet delivered are handed over too.
          observers.forEach(function (o) { o[0].takeRecords().forEach(o[1]); o[0].disconnect(); });
          w.removeEventListener('load', onResourceLoad, true);
          m.start(L);
          L.started = 1;
          api.feedback = m.feedback;
          api.tag = function (key, value) { m.tag(String(key), String(value)); };
          if (m.ask) api.ask = m.ask;
          queue.forEach(function (call) { api[call[0]].apply(null, call[1]); });
          queue.length = 0;
        });
      })
      .catch(function () { /* the loader's own beacon still covers this view */ });
  };
  var idle = function () { w.requestIdleCallback ? requestIdleCallback(boot, { timeout: 2000 }) : setTimeout(boot, 50); };
  if (d.readyState == 'complete') idle();
  else w.addEventListener('load', function () { setTimeout(idle); });
})(window, document);
