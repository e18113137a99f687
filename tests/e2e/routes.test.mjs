// A single-page app names its routes and its release: `data-route` and
// `data-release` on the script tag, then `palaute.route()` on each route
// change and `palaute.release()` when the app updates in place. Each soft
// navigation's row carries the names it had; a page that names nothing
// gets the collector's derived route.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, eventually, moduleStarted, pageTime, leave } from './harness.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

test('a single-page app names its routes and its release', async () => {
  const context = await env.context();
  const page = await context.newPage();
  const prefix = `/spa.html?t=routes&name=1`;
  await page.goto(env.pages.url(prefix.slice(1)));
  await moduleStarted(page);
  const step = async (act) => {
    const at = await page.evaluate(() => performance.now());
    await act();
    await pageTime(page, at + 1200);
  };
  await step(() => page.click('#to-products'));
  // The app is updated in place while the products route shows.
  await page.evaluate(() => window.palaute.release('v2'));
  await step(() => page.click('#to-about'));
  await leave(page);
  const rows = await eventually(async () => {
    const mine = (await env.collector.rows()).filter((r) => r.url.startsWith(prefix));
    return mine.length === 3 && mine.every((r) => r.visible_ms !== null) && mine;
  }, 10000, 'three views of the single-page app');
  await context.close();
  rows.sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
  assert.deepEqual(rows.map((r) => r.nav_type), ['navigate', 'soft_navigation', 'soft_navigation']);
  assert.deepEqual(rows.map((r) => r.route), ['/spa/home', '/spa/products', '/spa/about'], 'each view its own route');
  assert.deepEqual(rows.map((r) => r.release), ['v1', 'v2', 'v2'], 'the release from the view that saw it on');
});

test('a visitor who leaves before the module keeps the names; a page without names gets a derived route', async () => {
  const context = await env.context();
  const page = await context.newPage();
  env.pages.delayModule(5000);
  try {
    await page.goto(env.pages.url('spa.html?t=early&name=1'));
    await page.evaluate(() => window.palaute.release('v3'));
    await leave(page);
  } finally {
    env.pages.delayModule(0);
  }
  const early = await eventually(async () => (await env.collector.rows()).find((r) => r.url.includes('t=early')), 10000, 'the loader\'s row');
  assert.deepEqual([early.route, early.release], ['/spa/home', 'v3'], 'the loader sends the names it holds');

  const plain = await context.newPage();
  await plain.goto(env.pages.url('text.html?t=derived'));
  await moduleStarted(plain);
  await leave(plain);
  const row = await eventually(async () => (await env.collector.rows()).find((r) => r.url.includes('t=derived')), 10000, 'the plain page\'s row');
  assert.deepEqual([row.route, row.release], ['/text.html', null], 'derived from the path; no release');
  await context.close();
});
