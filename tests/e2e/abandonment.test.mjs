// Visitors who leave before or right after a slow load: each phase of
// leaving, closing the tab, hiding it (mobile style), leaving before the
// module arrived, and slow bounces. The test server delays resources.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openTab, moduleStarted, imagePainted, pageTime, rowOf, leave, eventually } from './harness.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

/** Opens `path`, waits until the page's clock reads `dwell`, runs `go` (which leaves); returns [row, truth]. */
async function visit(path, dwell, go = leave) {
  const context = await env.context();
  const page = await context.newPage();
  await page.goto(env.pages.url(path), { waitUntil: 'commit' });
  await page.waitForFunction(() => window.palaute && window.palaute.L);
  const id = await page.evaluate(() => window.palaute.L.id);
  await pageTime(page, dwell);
  const truth = await go(page);
  const row = await rowOf(env.collector, id);
  await context.close();
  const rows = (await env.collector.rows()).filter((r) => r.id === id);
  assert.equal(rows.length, 1, 'one row per page view');
  if (truth !== undefined) {
    assert.ok(Math.abs(row.left_at_ms - truth) <= 100, `left_at_ms ${row.left_at_ms} within 100 ms of ${truth}`);
  }
  return row;
}

const cases = [
  // [name, page, leave at ms, abandoned, phase]
  ['before the first paint', 'stream.html?body=3000', 1000, true, 'before_fcp'],
  ['between FCP and LCP', 'hero.html?hero=3000', 1000, true, 'before_lcp'],
  ['between LCP and load', 'tracker.html', 1000, true, 'before_load'],
];
for (const [name, path, at, abandoned, phase] of cases) {
  test(`leaving ${name} is abandonment ${phase}`, async () => {
    const row = await visit(path, at);
    assert.equal(row.abandoned, abandoned, JSON.stringify(row));
    assert.equal(row.abandon_phase, phase, JSON.stringify(row));
    assert.equal(row.load_ms, null);
    assert.equal(row.slow_bounce, false);
  });
}

test('leaving after load is not abandonment', async () => {
  const context = await env.context();
  const page = await context.newPage();
  await page.goto(env.pages.url('text.html'));
  await moduleStarted(page);
  const id = await page.evaluate(() => window.palaute.L.id);
  const truth = await leave(page);
  const row = await rowOf(env.collector, id);
  await context.close();
  assert.equal(row.abandoned, false);
  assert.equal(row.abandon_phase, null);
  assert.ok(Math.abs(row.left_at_ms - truth) <= 100, `left_at ${row.left_at_ms} vs ${truth}`);
});

test('closing the tab before the main image is counted', async () => {
  const context = await env.context();
  const { tab, closeTab } = await openTab(context, 'hero.html?hero=3000');
  await tab.waitForFunction(() => window.palaute && window.palaute.L);
  const id = await tab.evaluate(() => window.palaute.L.id);
  await pageTime(tab, 1000);
  await closeTab();
  const row = await rowOf(env.collector, id);
  await context.close();
  assert.equal(row.abandoned, true, JSON.stringify(row));
  assert.equal(row.abandon_phase, 'before_lcp');
  assert.ok(row.left_at_ms >= 1000 && row.left_at_ms < 2500, `left_at ${row.left_at_ms}`);
});

test('hiding the page without unloading it (mobile style) is counted', async () => {
  const row = await visit('hero.html?hero=3000', 1000, async (page) => {
    return page.evaluate(() => {
      // What a phone does when the visitor switches apps: hidden, no unload.
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      Object.defineProperty(document, 'hidden', { value: true, configurable: true });
      const event = new Event('visibilitychange');
      document.dispatchEvent(event);
      return event.timeStamp;
    });
  });
  assert.equal(row.abandoned, true);
  assert.equal(row.abandon_phase, 'before_lcp');
});

test('a visitor who leaves before the wasm module could download is still counted', async () => {
  env.pages.delayModule(8000);
  try {
    const row = await visit('text.html', 2000);
    // The page had loaded; only the module was late. The loader reported it.
    assert.equal(row.abandoned, false, JSON.stringify(row));
    assert.equal(typeof row.load_ms, 'number');
    assert.equal(typeof row.fcp_ms, 'number');
  } finally {
    env.pages.delayModule(0);
  }
});

test('a slow page left 4 s after loading is a slow bounce; a fast one is not', async () => {
  const dwell = 4000;
  async function loadThenDwell(path, waitForImage) {
    const context = await env.context();
    const page = await context.newPage();
    await page.goto(env.pages.url(path));
    await moduleStarted(page);
    if (waitForImage) await imagePainted(page);
    const loaded = await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventStart);
    const id = await page.evaluate(() => window.palaute.L.id);
    await pageTime(page, loaded + dwell);
    await leave(page);
    const row = await rowOf(env.collector, id);
    await context.close();
    return row;
  }
  const [slow, fast] = await Promise.all([loadThenDwell('hero.html?hero=4500', true), loadThenDwell('text.html', false)]);
  assert.ok(slow.load_ms > 4000, `slow load ${slow.load_ms}`);
  assert.equal(slow.abandoned, false);
  assert.equal(slow.slow_bounce, true, JSON.stringify(slow));
  assert.equal(fast.slow_bounce, false, JSON.stringify(fast));
});

test('back then forward through the bfcache: the restored view is its own row, loaded, not abandoned', async () => {
  const context = await env.context();
  const page = await context.newPage();
  await page.goto(env.pages.url('text.html?bfcache'));
  await moduleStarted(page);
  const id = await page.evaluate(() => {
    // Survives in the bfcache: records when the page is restored.
    addEventListener('pageshow', (e) => { if (e.persisted) window.restoredAt = e.timeStamp; });
    return window.palaute.L.id;
  });
  await leave(page);
  await page.goBack({ waitUntil: 'commit' });
  const restoredAt = await page.waitForFunction(() => window.restoredAt).then((h) => h.jsonValue());
  const truth = (await leave(page)) - restoredAt;
  const rows = await eventually(async () => {
    const all = (await env.collector.rows()).filter((r) => r.url === '/text.html?bfcache');
    return all.length >= 2 && all.some((r) => r.nav_type === 'back_forward_cache' && r.left_at_ms !== null) && all;
  }, 10000, 'two rows');
  await context.close();
  assert.equal(rows.length, 2, JSON.stringify(rows));
  const first = rows.find((r) => r.id === id);
  const again = rows.find((r) => r.id !== id);
  assert.equal(first.nav_type, 'navigate');
  assert.equal(again.nav_type, 'back_forward_cache');
  assert.equal(again.ttfb_ms, 0, 'web-vitals: a restore has no network wait');
  assert.equal(typeof again.fcp_ms, 'number');
  assert.equal(again.abandoned, false);
  assert.equal(again.load_ms, null, 'a restore has no load event of its own');
  assert.ok(Math.abs(again.left_at_ms - truth) <= 100, `left_at ${again.left_at_ms} vs ${truth} after the restore`);
  assert.ok(again.visible_ms > 0 && again.visible_ms <= again.left_at_ms + 1, `visible ${again.visible_ms}`);
});

test("the loader's beacon and the module's read a page the same way: one definition of each field", async () => {
  // The same page, left once before the module could arrive (the loader's
  // beacon) and once after (the module's), first as a navigation, then as
  // a reload of it.
  const views = {};
  for (const nav of ['navigate', 'reload']) {
    for (const by of ['loader', 'module']) {
      env.pages.delayModule(by === 'loader' ? 8000 : 0);
      try {
        const context = await env.context();
        const page = await context.newPage();
        const open = async (go) => {
          await go();
          await page.waitForFunction(() => window.palaute && window.palaute.L);
          await pageTime(page, 1500);
        };
        await open(() => page.goto(env.pages.url('text.html?same=1'), { waitUntil: 'commit' }));
        if (nav === 'reload') await open(() => page.reload({ waitUntil: 'commit' }));
        const id = await page.evaluate(() => window.palaute.L.id);
        if (by === 'module') await moduleStarted(page);
        else assert.equal(await page.evaluate(() => window.palaute.L.started), 0, 'the module has not started');
        await leave(page);
        views[`${nav}/${by}`] = await rowOf(env.collector, id);
        await context.close();
      } finally {
        env.pages.delayModule(0);
      }
    }
  }
  const same = ['nav_type', 'url', 'route', 'release', 'referrer_host', 'response_status', 'abandoned', 'abandon_phase', 'slow_bounce', 'errors'];
  const present = ['ttfb_ms', 'fcp_ms', 'lcp_ms', 'dcl_ms', 'load_ms', 'visible_ms', 'left_at_ms'];
  for (const nav of ['navigate', 'reload']) {
    const [loader, module] = [views[`${nav}/loader`], views[`${nav}/module`]];
    assert.equal(loader.nav_type, nav, JSON.stringify(loader));
    for (const field of same) assert.deepEqual(loader[field], module[field], `${nav}: ${field} as the loader sends it, and the module`);
    for (const field of present) assert.equal(typeof loader[field], typeof module[field], `${nav}: ${field} ${loader[field]} (loader) vs ${module[field]} (module)`);
  }
});

test("the loader's own beacon keeps the outbox within the module's bounds (src/outbox.rs: 30 beacons, 48 KiB of bodies)", async () => {
  env.pages.delayModule(8000);
  try {
    const context = await env.context();
    const page = await context.newPage();
    await page.goto(env.pages.url('text.html?bounds=1'), { waitUntil: 'commit' });
    await page.waitForFunction(() => window.palaute && window.palaute.L);
    const id = await page.evaluate(() => window.palaute.L.id);
    // Forty beacons of 2,000 bytes that earlier views could not deliver, not due for a long time.
    await page.evaluate(() => {
      const now = Date.now();
      const waiting = Array.from({ length: 40 }, (_, i) => ({ id: `${String(i).padStart(2, '0')}${'f'.repeat(30)}`, seq: 1, body: 'x'.repeat(2000), queued: now, tries: 1, next: now + 1e9 }));
      localStorage.setItem('palaute:outbox', JSON.stringify(waiting));
    });
    await pageTime(page, 1500);
    assert.equal(await page.evaluate(() => window.palaute.L.started), 0, 'the module has not started');
    await leave(page);
    // The same origin, without palaute: the outbox as the loader left it.
    await page.goto(env.pages.url('pixel.svg'));
    const box = await page.evaluate(() => JSON.parse(localStorage.getItem('palaute:outbox')));
    await context.close();
    const bytes = box.reduce((n, e) => n + Buffer.byteLength(e.body), 0);
    assert.ok(box.length <= 30 && bytes <= 48 * 1024, `${box.length} beacons, ${bytes} bytes`);
    assert.equal(box.at(-1).id, id, "the loader's own beacon is kept, newest");
    // The newest that fit, as outbox::bounded keeps them: 24 of the 40, then this view's.
    const own = Buffer.byteLength(box.at(-1).body);
    const fit = Math.min(29, Math.floor((48 * 1024 - own) / 2000));
    assert.deepEqual(box.slice(0, -1).map((e) => e.id.slice(0, 2)), Array.from({ length: fit }, (_, i) => String(40 - fit + i).padStart(2, '0')));
  } finally {
    env.pages.delayModule(0);
  }
});
