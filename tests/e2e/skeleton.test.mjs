// One script tag to one stored page view, end to end: real collector
// process, real headless Chromium, pages on another origin.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, eventually, moduleStarted, imagePainted, leave } from './harness.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

/** Visits `path`, lets the module take over, then leaves; returns the page view's row. */
async function visitAndLeave(path, { waitForImage = false } = {}) {
  const context = await env.context();
  const page = await context.newPage();
  await page.goto(env.pages.url(path));
  await moduleStarted(page);
  if (waitForImage) await imagePainted(page);
  const id = await page.evaluate(() => window.palaute.L.id);
  await leave(page);
  const row = await eventually(async () => (await env.collector.rows()).find((r) => r.id === id), 10000, `row ${id}`);
  await context.close();
  return row;
}

test('a text page yields one row with TTFB, FCP and LCP', async () => {
  const row = await visitAndLeave('text.html');
  assert.equal(row.site, 'test');
  assert.equal(row.url, '/text.html');
  assert.equal(row.nav_type, 'navigate');
  for (const field of ['ttfb_ms', 'fcp_ms', 'lcp_ms', 'dcl_ms', 'load_ms', 'visible_ms', 'left_at_ms']) {
    assert.equal(typeof row[field], 'number', `${field} is a number: ${JSON.stringify(row)}`);
  }
  assert.ok(row.ttfb_ms >= 0 && row.ttfb_ms < 2000, `ttfb ${row.ttfb_ms}`);
  assert.ok(row.fcp_ms >= row.ttfb_ms && row.fcp_ms < 5000, `fcp ${row.fcp_ms}`);
  assert.ok(row.lcp_ms >= row.fcp_ms, `lcp ${row.lcp_ms} >= fcp ${row.fcp_ms}`);
  assert.equal(row.response_status, 200);
  assert.equal(row.abandoned, false);
  assert.equal(row.device, 'desktop');
  assert.equal(row.inp_ms, null, 'no interaction: INP is null, never 0');
  assert.match(row.started_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const rows = (await env.collector.rows()).filter((r) => r.id === row.id);
  assert.equal(rows.length, 1, 'exactly one row per page view');
});

test('on a page whose hero image arrives late, LCP is at least the delay', async () => {
  const delay = 1500;
  const row = await visitAndLeave(`hero.html?hero=${delay}`, { waitForImage: true });
  assert.equal(row.url, `/hero.html?hero=${delay}`);
  assert.ok(row.lcp_ms >= delay, `lcp ${row.lcp_ms} >= ${delay}`);
  assert.ok(row.lcp_ms < delay + 3000, `lcp ${row.lcp_ms} plausible`);
  assert.ok(row.fcp_ms < delay, `fcp ${row.fcp_ms} came before the image`);
  assert.ok(row.lcp_url.endsWith('/hero.svg'), row.lcp_url);
  assert.ok(row.load_ms >= delay, `load ${row.load_ms} waits for the image`);
});

test('a visitor who leaves before the module arrives is still counted, by the loader', async () => {
  const context = await env.context();
  const page = await context.newPage();
  await page.goto(env.pages.url('hero.html?hero=4000'), { waitUntil: 'commit' });
  await page.waitForFunction(() => window.palaute && window.palaute.L && performance.now() > 800);
  const id = await page.evaluate(() => window.palaute.L.id);
  await page.goto('about:blank');
  const row = await eventually(async () => (await env.collector.rows()).find((r) => r.id === id), 10000, `row ${id}`);
  await context.close();
  assert.equal(row.abandoned, true);
  // The heading was painted, but the larger hero image was still loading: LCP had not happened.
  assert.equal(row.abandon_phase, 'before_lcp', JSON.stringify(row));
  assert.ok(row.fcp_ms < 800, `fcp ${row.fcp_ms}`);
  assert.equal(row.load_ms, null);
  assert.ok(row.left_at_ms >= 800 && row.left_at_ms < 4000, `left_at ${row.left_at_ms}`);
});

/** Opens `path` in a new context, recording Content-Security-Policy violations. */
async function openRecordingViolations(path) {
  const context = await env.context();
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.violatedDirective));
  });
  await page.goto(env.pages.url(path));
  return { context, page };
}

test('under a strict Content-Security-Policy the client measures, sends and shows its styled prompt', async () => {
  // script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' COLLECTOR: no inline code, no eval, no style-src.
  const { context, page } = await openRecordingViolations('text.html?csp=strict');
  await moduleStarted(page);
  await page.evaluate(() => window.palaute.ask());
  const button = page.locator('palaute-prompt button.up');
  await button.waitFor();
  const height = await button.evaluate((b) => parseFloat(getComputedStyle(b).minHeight));
  assert.equal(height, 44, 'the prompt is styled by its constructed stylesheet');
  const id = await page.evaluate(() => window.palaute.L.id);
  await leave(page);
  const row = await eventually(async () => (await env.collector.rows()).find((r) => r.id === id), 10000, `row ${id}`);
  assert.equal(typeof row.lcp_ms, 'number');
  assert.deepEqual(await page.evaluate(() => window.violations), [], 'no violation');
  await context.close();
});

test("without 'wasm-unsafe-eval' the module cannot start, and the loader still reports the page view", async () => {
  const { context, page } = await openRecordingViolations('text.html?csp=no-wasm');
  await eventually(async () => (await page.evaluate(() => window.violations)).length > 0, 10000, 'a violation');
  assert.ok((await page.evaluate(() => window.violations)).every((v) => v === 'script-src'), 'only the wasm compile');
  const id = await page.evaluate(() => window.palaute.L.id);
  await leave(page);
  const row = await eventually(async () => (await env.collector.rows()).find((r) => r.id === id), 10000, `row ${id}`);
  assert.equal(typeof row.ttfb_ms, 'number', 'the loader measured navigation timing');
  await context.close();
});

test('a module changed on its way is refused (Subresource Integrity), and the loader still reports', async () => {
  env.pages.tamperModule(true);
  try {
    const context = await env.context();
    const page = await context.newPage();
    const refused = [];
    page.on('console', (message) => message.text().includes('integrity') && refused.push(message.text()));
    await page.goto(env.pages.url('text.html'));
    await eventually(async () => refused.length > 0, 10000, 'the integrity check to refuse the module');
    assert.ok(!(await page.evaluate(() => window.palaute.L.started)), 'the module did not start');
    const id = await page.evaluate(() => window.palaute.L.id);
    await leave(page);
    const row = await eventually(async () => (await env.collector.rows()).find((r) => r.id === id), 10000, `row ${id}`);
    assert.equal(typeof row.ttfb_ms, 'number', 'the loader measured navigation timing');
    await context.close();
  } finally {
    env.pages.tamperModule(false);
  }
});
