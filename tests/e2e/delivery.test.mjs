// The fault matrix of beacon delivery: real Chromium, a real collector
// process, and a fault-injecting proxy in front of it (Playwright cannot see
// or intercept beacons sent while a page unloads). Each case ends with the
// export compared to the page views the browser made; a table of sent,
// acknowledged, stored, duplicates and lost is printed at the end. The
// SIGKILL-under-wrk case is in collector/tests/durability.rs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, startFaultProxy, openTab, moduleStarted, rowOf, leave, eventually } from './harness.mjs';

let env;
let proxy;
const table = [];

before(async () => {
  env = await setup();
  proxy = await startFaultProxy(() => env.collector.url);
  env.pages.useEndpoint(proxy.url);
});
after(async () => {
  if (table.length) {
    console.log('\ncase'.padEnd(46) + 'sent  acked  stored  duplicates  lost');
    for (const r of table) {
      console.log(`${r.name.padEnd(45)}${String(r.sent).padStart(4)}${String(r.acked).padStart(7)}` +
        `${String(r.stored).padStart(8)}${String(r.duplicates).padStart(12)}${String(r.lost).padStart(6)}`);
    }
  }
  await proxy?.close();
  await env?.teardown();
});

/** Opens `path` in `context` and waits for the module; returns [page, page-view id]. */
async function open(context, path) {
  const page = await context.newPage();
  await page.goto(env.pages.url(path));
  await moduleStarted(page);
  return [page, await page.evaluate(() => window.palaute.L.id)];
}

const iso = (ms) => new Date(ms).toISOString();

/**
 * Compares what was stored with the page views `ids` the browser made, each
 * count taken apart from the others, so that a lost or a doubled page view
 * shows: `sent` and `acked` are the beacon requests the proxy carried and
 * those the collector answered 204; `stored` the ids in the export; `lost`
 * the page views made (or acknowledged) and not in the export; and
 * `duplicates` the summary's page views over the period of these views
 * against the distinct ids the export has in that period (a view stored
 * twice is counted twice by the summary, once in the ids). Waits up to 20 s
 * for every view to be acknowledged with its final values (`check`), then
 * counts whatever is there. Records the case's line of the table.
 */
async function expectDelivered(name, ids, check = () => true) {
  const done = async () => {
    const rows = (await env.collector.rows()).filter((r) => ids.includes(r.id));
    return ids.every((id) => proxy.acked(id) > 0 && rows.some((r) => r.id === id && check(r)));
  };
  await eventually(done, 20000, `${name}: ${ids.join(', ')} acknowledged and stored`).catch(() => {});
  const rows = (await env.collector.rows()).filter((r) => ids.includes(r.id));
  const stored = new Set(rows.map((r) => r.id));
  const starts = rows.map((r) => Date.parse(r.started_at));
  const [from, to] = [Math.min(...starts), Math.max(...starts) + 1];
  const [summary, all] = await Promise.all([env.collector.api(`summary?from=${iso(from)}&to=${iso(to)}`), env.collector.rows()]);
  const inPeriod = new Set(all.filter((r) => Date.parse(r.started_at) >= from && Date.parse(r.started_at) < to).map((r) => r.id));
  const line = {
    name,
    sent: ids.reduce((n, id) => n + proxy.seen(id), 0),
    acked: ids.reduce((n, id) => n + proxy.acked(id), 0),
    stored: stored.size,
    duplicates: rows.length ? summary.page_views - inPeriod.size : 0,
    lost: ids.filter((id) => !stored.has(id)).length,
  };
  table.push(line);
  assert.equal(line.duplicates, 0, `${name}: each page view counted once`);
  assert.equal(line.lost, 0, `${name}: every page view stored`);
  for (const id of ids) {
    assert.ok(proxy.acked(id) > 0, `${name}: ${id} acknowledged`);
    assert.ok(rows.some((r) => r.id === id && check(r)), `${name}: ${id} stored with its final values`);
  }
  return { rows, line };
}

test('collector stopped while the visitor browses, started, the visitor returns: all delivered', async () => {
  const context = await env.context();
  // Warm the client files (served from the collector) before it goes down.
  const [warm] = await open(context, 'text.html?warm');
  await warm.close();
  await env.collector.halt();
  const ids = [];
  try {
    for (const path of ['text.html?down=1', 'text.html?down=2']) {
      const [page, id] = await open(context, path);
      ids.push(id);
      await leave(page);
      await page.close();
    }
    const queued = await context.pages()[0]?.evaluate(() => localStorage.getItem('palaute:outbox'));
    assert.equal(queued === undefined || queued === null || queued.includes(ids[0]), true);
  } finally {
    await env.collector.resume();
  }
  const [page, id] = await open(context, 'text.html?down=3');
  ids.push(id);
  // The returning visit re-sends the two views the collector missed.
  const { rows } = await expectDelivered('collector down, then back', ids.slice(0, 2));
  await leave(page);
  await rowOf(env.collector, id);
  assert.ok(rows.every((r) => r.left_at_ms > 0), JSON.stringify(rows));
  const outbox = await eventually(() => page.evaluate(() => localStorage.getItem('palaute:outbox') || 'empty')
    .catch(() => 'empty'), 5000, 'outbox drained');
  assert.ok(outbox === 'empty' || !outbox.includes(ids[0]), `acknowledged entries leave the outbox: ${outbox}`);
  await context.close();
});

test('collector answering 503: the beacon is retried with backoff and stored once', async () => {
  const context = await env.context();
  const [page, id] = await open(context, 'text.html?fail');
  const answersBefore = proxy.answers().length;
  proxy.setMode('fail:2');
  await page.evaluate(() => window.palaute.feedback({ rating: 0, comment: 'slow' }));
  await expectDelivered('503 twice, then stored', [id], (r) => r.feedback_rating === 0);
  assert.deepEqual(proxy.answers().slice(answersBefore, answersBefore + 2), [503, 503]);
  assert.ok(proxy.seen(id) >= 3, `two refusals and a delivery: ${proxy.seen(id)}`);
  await context.close();
});

test('browser offline: the beacon waits in the outbox and goes when the browser is online', async () => {
  const context = await env.context();
  const [page, id] = await open(context, 'text.html?offline');
  await context.setOffline(true);
  await page.evaluate(() => window.palaute.feedback({ rating: 1 }));
  const queued = await page.evaluate(() => localStorage.getItem('palaute:outbox'));
  assert.ok(queued && queued.includes(id), `queued while offline: ${queued}`);
  await new Promise((ok) => setTimeout(ok, 1000));
  assert.equal(proxy.seen(id), 0, 'nothing sent while offline');
  await context.setOffline(false);
  await expectDelivered('offline, then online', [id], (r) => r.feedback_rating === 1);
  await eventually(() => page.evaluate(() => localStorage.getItem('palaute:outbox') === null), 5000, 'outbox empty');
  await context.close();
});

test('tab closed right after load: delivered', async () => {
  const context = await env.context();
  const { tab, closeTab } = await openTab(context, 'text.html?closed');
  await tab.waitForFunction(() => document.readyState === 'complete' && window.palaute && window.palaute.L);
  const id = await tab.evaluate(() => window.palaute.L.id);
  await closeTab();
  await expectDelivered('tab closed right after load', [id]);
  await context.close();
});

test('away and back through the bfcache: both page views delivered', async () => {
  const context = await env.context();
  const [page, id] = await open(context, 'text.html?bfcache-delivery');
  await page.evaluate(() => addEventListener('pageshow', (e) => { if (e.persisted) window.restored = 1; }));
  await leave(page);
  await page.goBack({ waitUntil: 'commit' });
  await page.waitForFunction(() => window.restored === 1);
  await page.waitForTimeout(100);
  await leave(page);
  const restored = await eventually(async () => (await env.collector.rows())
    .find((r) => r.url === '/text.html?bfcache-delivery' && r.nav_type === 'back_forward_cache'), 10000, 'restored row');
  await expectDelivered('bfcache away and back', [id, restored.id]);
  assert.notEqual(restored.id, id, 'the restore is a page view of its own');
  await context.close();
});

test('the same beacon delivered three times is stored once', async () => {
  const context = await env.context();
  proxy.setMode('triple');
  try {
    const [page, id] = await open(context, 'text.html?triple');
    await leave(page);
    const { line } = await expectDelivered('each beacon delivered 3 times', [id]);
    line.sent *= 3; // each request the proxy saw went to the collector three times
    const rows = (await env.collector.rows()).filter((r) => r.id === id);
    assert.equal(rows.length, 1);
  } finally {
    proxy.setMode('pass');
  }
  await context.close();
});

test('nothing is sent for an unsampled view, nor under Global Privacy Control when the site honours it', async () => {
  const context = await env.context();
  await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
  const answersBefore = proxy.answers().length;
  for (const path of ['text.html?data-sample=0', 'text.html?data-gpc=honor']) {
    const page = await context.newPage();
    await page.goto(env.pages.url(path));
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => window.palaute && window.palaute.L), undefined, `${path}: not measured`);
    await leave(page);
  }
  // The same GPC browser on a page that does not ask: measured as usual.
  const [page, id] = await open(context, 'text.html?gpc-not-asked');
  await leave(page);
  await rowOf(env.collector, id);
  const beacons = proxy.answers().slice(answersBefore);
  assert.ok(beacons.length >= 1 && beacons.length <= 2, `only the third page's beacons: ${beacons}`);
  await context.close();
});
