// The same visits in every engine, through W3C WebDriver (webdriver.mjs):
// Chromium (the control), Firefox ESR (geckodriver) and WebKitGTK
// (WebKitWebDriver under Xvfb, Safari's engine). A real collector, the page
// server on another origin, web-vitals in the same page as the reference.
// Each `engine-*.test.mjs` runs `suite(engine)`.
//
// What the engines differ in (README, "Browsers"): Firefox observes no
// layout shifts (CLS null); WebKitGTK 2.50 no LCP or Event Timing (LCP and
// INP null, and an abandonment phase never `before_lcp`), delivers buffered
// entries synchronously inside `observe()`, fires only `beforeunload` when
// a loading page is left, and holds an `async` script that is ready before
// the first paint until that paint.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPageServer, startCollector, eventually, VITALS } from './harness.mjs';
import { startBrowser } from './webdriver.mjs';

/** Polls the collector for page view `id`'s row until `check(row)` holds. */
async function rowWhere(collector, id, check = () => true, what = `row ${id}`, ms = 15000) {
  return eventually(async () => {
    const row = (await collector.rows()).find((r) => r.id === id);
    return row && check(row) && row;
  }, ms, what);
}

export function suite(engine) {
  let pages;
  let collector;
  let browser;
  let tags = 0;

  before(async () => {
    pages = await startPageServer();
    collector = await startCollector(pages.origin);
    pages.useCollector(collector.url);
    browser = await startBrowser(engine, { pageLoad: 'none' });
  });
  after(async () => {
    await browser?.quit();
    await collector?.stop();
    await pages?.close();
  });

  /**
   * Opens `path` (tagged for web-vitals' reports); returns the tag once the
   * loader has run. `from`: the page view id of the page it is opened
   * from (else it is opened from a blank page, so that nothing below reads
   * the page before).
   */
  async function open(path, from) {
    const tag = `${engine}-${++tags}`;
    if (!from && (await browser.url()) !== 'about:blank') {
      await browser.go('about:blank');
      await browser.until(() => location.href === 'about:blank', 10000, 'a blank page');
    }
    await browser.go(pages.url(`${path}${path.includes('?') ? '&' : '?'}t=${tag}`));
    await browser.until((from) => window.palaute && window.palaute.L && window.palaute.L.id !== from, 15000, `the loader in ${path}`, from);
    return tag;
  }
  const id = () => browser.run(() => window.palaute.L.id);
  const started = () => browser.until(() => window.palaute.L.started === 1, 20000, 'the module');
  const pageTime = (ms) => browser.until((t) => performance.now() >= t, 15000, `page time ${ms}`, ms);

  /**
   * Leaves the page by navigating away from within it, as a link does;
   * returns the truth: the left page's own clock when it was unloaded
   * (`pagehide`), or, where the engine fires only `beforeunload` (WebKit,
   * a loading page), then. `truth` false: a page whose events nobody sees.
   */
  async function leave(truth = true) {
    const tag = `${engine}-leave-${++tags}`;
    await browser.run((tag) => {
      const report = (e) => navigator.sendBeacon(`/oracle?page=${tag}-${e.type}&left=${performance.now()}`);
      addEventListener('beforeunload', report, true);
      addEventListener('pagehide', report, true);
      setTimeout(() => { location.href = 'about:blank'; });
    }, tag);
    await browser.until(() => location.href === 'about:blank', 10000, 'the next page');
    if (!truth) return undefined;
    return eventually(() => pages.leftAt(`${tag}-pagehide`) ?? pages.leftAt(`${tag}-beforeunload`), 5000, `the oracle ${tag}`);
  }

  test(`${engine}: a view agrees with web-vitals in the same page; what the engine cannot measure is null`, async () => {
    const tag = await open('clicks.html?n=1&ms=150');
    await started();
    // Some engines (WebKit) report no INP: the click is still a real one.
    await browser.click(() => document.getElementById('b0'));
    await browser.until(() => document.getElementById('out').textContent === 'Clicked 0');
    await pageTime(1500);
    const view = await id();
    const truth = await leave();
    const row = await rowWhere(collector, view, (r) => r.left_at_ms !== null);
    const oracle = await eventually(() => {
      const values = pages.webVitals(tag);
      return values && 'TTFB' in values && 'FCP' in values && values;
    }, 5000, `web-vitals for ${tag}`);
    for (const [field, name, tolerance] of VITALS) {
      if (oracle[name] === undefined) {
        assert.equal(row[field], null, `web-vitals reports no ${name} in ${engine}, so ${field} is null: ${JSON.stringify(row)}`);
      } else {
        assert.equal(typeof row[field], 'number', `${field} missing in ${engine}, web-vitals says ${oracle[name]}`);
        assert.ok(Math.abs(row[field] - oracle[name]) <= tolerance, `${field} ${row[field]} vs web-vitals ${oracle[name]} (±${tolerance})`);
      }
    }
    // Every engine here paints and times its navigation.
    for (const field of ['ttfb_ms', 'fcp_ms', 'dcl_ms', 'load_ms']) assert.equal(typeof row[field], 'number', `${field}: ${JSON.stringify(row)}`);
    assert.equal(row.abandoned, false);
    assert.ok(Math.abs(row.left_at_ms - truth) <= 100, `left_at_ms ${row.left_at_ms} vs ${truth}`);
  });

  // [what, page, leave at (page clock), phase where LCP is observable, phase where it is not]
  const leaving = [
    // WebKit runs an async loader only after the first paint: the README's
    // blocking tag is what lets it see a visitor who leaves before it.
    ['before the first paint', 'stream.html?body=3000&tag=blocking', 1000, 'before_fcp', 'before_fcp'],
    ['while the main image loads', 'hero.html?hero=3000', 1000, 'before_lcp', 'before_load'],
    ['after the paint, before load', 'tracker.html', 1000, 'before_load', 'before_load'],
  ];
  for (const [what, path, at, observed, unobserved] of leaving) {
    test(`${engine}: leaving ${what} is abandonment`, async () => {
      await open(path);
      const view = await id();
      const lcp = await browser.run(() => PerformanceObserver.supportedEntryTypes.includes('largest-contentful-paint'));
      await pageTime(at);
      const truth = await leave();
      const row = await rowWhere(collector, view);
      assert.equal(row.abandoned, true, JSON.stringify(row));
      assert.equal(row.abandon_phase, lcp ? observed : unobserved, JSON.stringify(row));
      assert.equal(row.load_ms, null);
      assert.ok(Math.abs(row.left_at_ms - truth) <= 100, `left_at_ms ${row.left_at_ms} vs ${truth}`);
    });
  }

  test(`${engine}: going back from a page that is still loading is abandonment`, async () => {
    await open('text.html?from');
    await started();
    await open('hero.html?hero=3000&back', await id());
    const view = await id();
    const lcp = await browser.run(() => PerformanceObserver.supportedEntryTypes.includes('largest-contentful-paint'));
    await pageTime(1000);
    await browser.back();
    await browser.until(() => location.search.startsWith('?from'), 10000, 'the page before');
    const row = await rowWhere(collector, view);
    assert.equal(row.abandoned, true, JSON.stringify(row));
    assert.equal(row.abandon_phase, lcp ? 'before_lcp' : 'before_load', JSON.stringify(row));
    assert.ok(row.left_at_ms >= 1000 && row.left_at_ms < 2500, `left_at_ms ${row.left_at_ms}`);
    await leave();
  });

  test(`${engine}: an async loader runs before the first paint, except in WebKit; a blocking one everywhere`, async () => {
    const engineHolds = await browser.run(() => !/Chrome|Firefox/.test(navigator.userAgent));
    for (const [form, held] of [['', engineHolds], ['&tag=blocking', false]]) {
      // The document's body comes 3 s late: nothing paints, parsing goes on.
      await browser.go(pages.url(`stream.html?body=3000${form}`));
      await browser.until(() => document.querySelector('script[src*="palaute.js"]'), 10000, 'the head');
      await pageTime(1500);
      const ran = await browser.run(() => Boolean(window.palaute && window.palaute.L));
      assert.equal(ran, !held, `${form || 'async'}: the loader ${held ? 'is held (WebKit: until DOMContentLoaded or the first paint)' : 'ran'} at 1.5 s`);
      await leave();
    }
  });

  test(`${engine}: leaving after load is not abandonment`, async () => {
    await open('text.html');
    await started();
    const view = await id();
    const truth = await leave();
    const row = await rowWhere(collector, view, (r) => r.left_at_ms !== null);
    assert.equal(row.abandoned, false, JSON.stringify(row));
    assert.equal(row.abandon_phase, null);
    assert.ok(Math.abs(row.left_at_ms - truth) <= 100, `left_at_ms ${row.left_at_ms} vs ${truth}`);
  });

  test(`${engine}: a loading page left without any event is sent by the next view on the origin`, async () => {
    // The blocking tag: WebKit may hold an async loader until
    // DOMContentLoaded here (its first paint needs more than this text).
    await open('silent.html?body=8000&tag=blocking');
    const view = await id();
    await pageTime(2200);
    const leftAt = await browser.run(() => performance.now());
    await leave(false);
    // Nothing reached the loader: the next view finds the snapshot kept while the page loaded.
    await new Promise((ok) => setTimeout(ok, 500));
    assert.equal((await collector.rows()).find((r) => r.id === view), undefined, 'no beacon from the left page');
    await open('text.html?next');
    const outbox = await browser.run(() => localStorage.getItem('palaute:outbox'));
    await started();
    const row = await rowWhere(collector, view, () => true, `the left view, sent by the next one (outbox: ${outbox})`, 15000);
    assert.equal(row.abandoned, true, JSON.stringify(row));
    assert.equal(row.abandon_phase, 'before_load', JSON.stringify(row));
    // Its last renewal: at most a second (and a busy machine's timer delay) before the leave.
    assert.ok(row.left_at_ms <= leftAt + 100 && row.left_at_ms >= leftAt - 1500, `left_at_ms ${row.left_at_ms}: its last renewal before ${leftAt}`);
    await leave();
  });

  test(`${engine}: the prompt asks on palaute.ask() and a click stores the rating`, async () => {
    await open('text.html?prompt');
    await started();
    const view = await id();
    await browser.run(() => window.palaute.ask());
    const good = () => {
      const host = document.querySelector('palaute-prompt');
      return host && host.shadowRoot && host.shadowRoot.querySelector('button[data-a=r1]');
    };
    await browser.until(good, 5000, 'the prompt');
    await browser.click(good);
    const row = await rowWhere(collector, view, (r) => r.feedback_rating !== null, 'the rating');
    assert.equal(row.feedback_rating, 1);
    assert.equal(row.feedback_trigger, 'api');
    await leave();
  });

  test(`${engine}: a view left while the collector restarts is delivered by the next view`, async () => {
    await open('text.html?restart');
    await started();
    const view = await id();
    await collector.halt();
    await leave();
    await collector.resume();
    await open('text.html?after-restart');
    await started();
    const row = await rowWhere(collector, view, (r) => r.left_at_ms !== null, 'the view left while the collector was down');
    assert.equal(row.abandoned, false);
    const rows = (await collector.rows()).filter((r) => r.id === view);
    assert.equal(rows.length, 1, 'stored once');
    await leave();
  });

  test(`${engine}: back to a page in the back/forward cache is a view of its own`, async (t) => {
    const tag = await open('text.html?bfcache');
    await started();
    const first = await id();
    await browser.run(() => addEventListener('pageshow', (e) => { if (e.persisted) window.restoredAt = e.timeStamp; }));
    await leave();
    await browser.back();
    // Not asked while the restore is under way (WebKitWebDriver once left
    // a command asked then unanswered).
    await new Promise((ok) => setTimeout(ok, 500));
    const restored = await browser.until(() => document.readyState === 'complete' && window.palaute && ({ at: window.restoredAt ?? null }), 20000, 'the page again');
    if (restored.at === null) {
      t.skip(`${engine} did not restore the page from a back/forward cache`);
      await leave();
      return;
    }
    await pageTime(restored.at + 300);
    await leave();
    const view = await eventually(async () => {
      const all = (await collector.rows()).filter((r) => r.url === `/text.html?bfcache&t=${tag}`);
      return all.some((r) => r.id === first) && all.find((r) => r.nav_type === 'back_forward_cache' && r.left_at_ms !== null);
    }, 10000, 'both views');
    assert.notEqual(view.id, first);
    assert.equal(view.ttfb_ms, 0);
    assert.equal(view.abandoned, false);
    assert.equal(view.load_ms, null);
    const observes = await browser.run(() => PerformanceObserver.supportedEntryTypes);
    assert.equal(typeof view.fcp_ms, observes.includes('paint') ? 'number' : 'object', `fcp_ms ${view.fcp_ms}`);
    // web-vitals reports a restore's paint as LCP only where it observes LCP.
    assert.equal(typeof view.lcp_ms, observes.includes('largest-contentful-paint') ? 'number' : 'object', `lcp_ms ${view.lcp_ms}`);
    assert.equal(view.cls === null, !observes.includes('layout-shift'), `cls ${view.cls}`);
  });
}
