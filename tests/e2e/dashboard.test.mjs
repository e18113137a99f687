// The analyst dashboard in real headless Chromium over a real collector
// holding generated page views (rolled up) and a few hostile ones: sign-in,
// the cards against the API, every chart drawn, tables, a filter, switching
// the breakdown, an XSS payload in a URL and in a comment shown as text
// under the strict CSP, and screenshots saved to target/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setup, bin, root, DESKTOP_UA } from './harness.mjs';

const artifacts = join(root, 'target', 'artifacts');
const HOSTILE_PATH = '/<img src=x onerror="window.pwned=1">';
const HOSTILE_COMMENT = '<script>window.pwned=2</script><img src=x onerror="window.pwned=3"> & "slow"';

let env;
before(async () => {
  env = await setup();
  mkdirSync(artifacts, { recursive: true });
  // A week of a realistic site, written and rolled up while the collector is
  // stopped, so that the collector starts on it as on a site's history.
  // (Commands beside a live collector: collector/tests/durability.rs.)
  await env.collector.halt();
  execFileSync(bin, ['generate', '--site', 'test', '--views', '4000', '--days', '7', '--data', env.collector.data], { stdio: 'ignore' });
  await env.collector.resume();
  // And a visitor with a hostile URL and comment.
  const beacon = {
    v: 1, site: 'test', id: 'f'.repeat(32), seq: 1, url: `${HOSTILE_PATH}?q=<b>bold</b>`, start: Date.now() - 60_000,
    ttfb_ms: 300, fcp_ms: 900, lcp_ms: 5200, load_ms: 5600, left_at_ms: 9000,
    feedback: { rating: 0, scale: 'thumbs', comment: HOSTILE_COMMENT, at_ms: 8000 },
  };
  const answer = await fetch(`${env.collector.url}/b`, {
    method: 'POST', body: JSON.stringify(beacon), headers: { 'content-type': 'text/plain', 'user-agent': DESKTOP_UA },
  });
  assert.equal(answer.status, 204);
});
after(async () => { await env?.teardown(); });

/** A dashboard tab that records CSP violations and page errors. */
async function openDashboard(options = {}) {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(String(error)));
  await page.addInitScript(() => {
    window.violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const response = await page.goto(`${env.collector.url}/dashboard/`);
  return { context, page, problems, response };
}

async function signIn(page, token = env.collector.token) {
  await page.fill('#site', 'test');
  await page.fill('#token', token);
  await page.click('form.signin button[type=submit]');
}

/** Waits for the next complete load of every panel. */
async function loaded(page, after = 0) {
  try {
    await page.waitForFunction((t) => Number(document.body.dataset.loaded || 0) > t, after, { timeout: 20000 });
  } catch (error) {
    // What the page shows instead: an error it printed, or a panel still loading.
    const shown = await page.evaluate(() => document.getElementById('app')?.innerText.slice(0, 2000));
    throw new Error(`${error.message}\nthe dashboard shows:\n${shown}\nthe collector logged:\n${env.collector.log().slice(-3000)}`);
  }
  return page.evaluate(() => Number(document.body.dataset.loaded));
}

/** How many pixels of the panel's chart canvas were drawn on. */
function inked(page, panel) {
  return page.evaluate((panel) => {
    const canvas = document.querySelector(`#${panel} canvas`);
    if (!canvas || !canvas.width) return 0;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  }, panel);
}

const text = (page, selector) => page.locator(selector).first().innerText();

test('sign in, read the cards, charts and tables; filter; switch the breakdown; screenshots', async () => {
  const { context, page, problems, response } = await openDashboard();
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);

  await signIn(page, 'not-the-token');
  await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
  await signIn(page);
  const first = await loaded(page);

  const summary = await env.collector.api('summary');
  assert.equal(await text(page, '#page-views .value'), summary.page_views.toLocaleString('en-US'));
  assert.ok(summary.page_views > 4000, `generated views and the hostile one: ${summary.page_views}`);
  const lcp = summary.vitals.lcp_ms;
  const shown = await text(page, '[data-vital=lcp_ms] .value');
  assert.equal(shown, lcp.p75 >= 1000 ? `${(lcp.p75 / 1000).toFixed(2)} s` : `${Math.round(lcp.p75)} ms`);
  const bar = await page.locator('[data-vital=lcp_ms] .bar').getAttribute('aria-label');
  assert.match(bar, new RegExp(`good ${(lcp.good * 100).toFixed(1)}%`));

  // CSAT with its interval, as the API computes it.
  const pct = (r) => `${(r * 100).toFixed(1)}%`;
  assert.equal(await text(page, '#csat .value'), pct(summary.csat.rate));
  assert.match(await text(page, '#csat .muted'), new RegExp(`95% CI ${pct(summary.csat.low).replace('.', '\\.')}`));
  for (const panel of ['timeseries', 'abandonment', 'satisfaction', 'hours']) {
    assert.ok((await inked(page, panel)) > 2000, `${panel}: chart drawn`);
  }
  // Pages by route, the most viewed first, as the API ranks them (at most 15 and the others).
  const routes = await env.collector.api('breakdown?by=route&limit=15');
  const routeNames = routes.map((r) => (r.other ? '(all others)' : r.key));
  assert.deepEqual(await page.locator('#pages tbody tr td:first-child').allInnerTexts(), routeNames);
  assert.ok(routes[0].page_views >= routes[1].page_views, 'the most viewed route first');
  const named = (rows) => rows.filter((r) => !r.other && r.key !== null);
  // The elements visitors fight with, most frustrated first, and the share of frustrated views.
  const elements = named(await env.collector.api('breakdown?by=frustration_target&limit=10'));
  assert.ok(elements.length >= 2 && elements[0].frustrated >= elements[1].frustrated, 'ranked by frustrated views');
  assert.deepEqual(await page.locator('#frustration tbody tr td:first-child').allInnerTexts(), elements.map((r) => r.key));
  assert.equal(await text(page, '#frustrated-rate .value'), pct(summary.frustrated_rate));
  // The script hosts that slow interactions down, worst first (the site's own marked: vitals.test.mjs).
  const scripts = named(await env.collector.api('breakdown?by=inp_script_host&limit=15'));
  assert.ok(scripts.length >= 3 && scripts[0].poor_inp >= scripts[1].poor_inp, 'ranked by poor INP');
  const host = (row) => (row.own_host ? `${row.key} (this site)` : row.key);
  assert.deepEqual(await page.locator('#scripts tbody tr td:first-child').allInnerTexts(), scripts.map(host));
  // Soft navigations beside page loads.
  const navigations = await page.locator('#navigations tbody tr td:first-child').allInnerTexts();
  assert.ok(navigations.includes('soft navigation (route change)') && navigations.includes('navigate'), navigations.join());
  // The unhappy comments to answer first.
  const toAnswer = (await env.collector.api('feedback?limit=20&comment=true')).feedback.filter((f) => !f.satisfied);
  assert.ok(toAnswer.length > 0);
  assert.equal(await page.locator('#answer li').count(), toAnswer.length);
  assert.equal(await text(page, '#answer li .comment'), toAnswer[0].feedback_comment);
  const feedback = await env.collector.api('feedback?limit=50');
  assert.equal(await page.locator('#feedback tbody tr').count(), feedback.feedback.length);
  await page.screenshot({ path: join(artifacts, 'dashboard-light-desktop.png'), fullPage: true });

  // A route opens its own paths, the most viewed first; and back.
  const route = named(routes)[0].key;
  const paths = await env.collector.api(`breakdown?by=path&route=${encodeURIComponent(route)}&limit=15`);
  await page.locator('#pages tbody tr td button', { hasText: route }).first().click();
  await page.waitForFunction((caption) => document.querySelector('#pages caption')?.textContent === caption, `Paths of ${route}, the most viewed first`);
  assert.deepEqual(await page.locator('#pages tbody tr td:first-child').allInnerTexts(), paths.map((r) => (r.other ? '(all others)' : r.key)));
  await page.click('#pages button.link');
  await page.waitForFunction(() => document.querySelector('#pages caption')?.textContent.startsWith('Routes'));

  // A filter applies to every panel.
  // A load may still be in flight (the full-page screenshot resizes the
  // page): wait for a load that completed after the click, with the
  // filtered numbers in it.
  const checkout = await env.collector.api('summary?path=/checkout');
  await page.fill('#filter-path', '/checkout');
  const clicked = await page.evaluate(() => Date.now());
  await page.click('form.toolbar button[type=submit]');
  await loaded(page, Math.max(first, clicked));
  await page.waitForFunction(
    (expected) =>
      document.querySelector('#page-views .value')?.innerText === expected &&
      document.querySelectorAll('#pages tbody tr').length === 1,
    checkout.page_views.toLocaleString('en-US'),
    { timeout: 20000 },
  );
  assert.ok(checkout.page_views > 0 && checkout.page_views < summary.page_views);
  assert.equal(await page.locator('#pages tbody tr').count(), 1);

  // A date range: from two days ago, up to today included.
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
  const today = new Date().toISOString().slice(0, 10);
  const filtered = await page.evaluate(() => Number(document.body.dataset.loaded));
  await page.fill('#from', twoDaysAgo);
  await page.fill('#to', today);
  await page.click('form.toolbar button[type=submit]');
  await loaded(page, filtered);
  const tomorrow = new Date(Date.parse(today) + 86_400_000).toISOString().slice(0, 10);
  const ranged = await env.collector.api(`summary?path=/checkout&from=${twoDaysAgo}&to=${tomorrow}`);
  assert.equal(await text(page, '#page-views .value'), ranged.page_views.toLocaleString('en-US'));
  assert.ok(ranged.page_views < checkout.page_views, 'a shorter range has fewer views');

  // The breakdowns and filters on offer are the API's, tags included.
  const vocabulary = await env.collector.api('dimensions');
  assert.ok(vocabulary.breakdowns.includes('tag:ab') && vocabulary.filters.includes('path'), JSON.stringify(vocabulary));
  assert.deepEqual(await page.locator('#by option').evaluateAll((options) => options.map((o) => o.value)), vocabulary.breakdowns);
  assert.deepEqual(await page.locator('form.toolbar input[id^=filter-]').evaluateAll((inputs) => inputs.map((i) => i.name)), vocabulary.filters);

  // Another breakdown.
  const browsersQuery = `breakdown?by=browser&path=/checkout&from=${twoDaysAgo}&to=${tomorrow}`;
  await page.selectOption('#by', 'browser');
  await page.waitForFunction(() => document.querySelector('#breakdown thead th')?.textContent === 'browser');
  const browsers = await env.collector.api(browsersQuery);
  assert.equal(await page.locator('#breakdown tbody tr').count(), browsers.length);

  assert.deepEqual(await page.evaluate(() => window.violations), [], 'no CSP violations');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a hostile URL and comment are shown as text, nothing runs, nothing is blocked', async () => {
  const { context, page, problems } = await openDashboard();
  await signIn(page);
  const first = await loaded(page);
  const comment = page.locator('#feedback td.comment', { hasText: 'window.pwned=2' });
  assert.equal(await comment.innerText(), HOSTILE_COMMENT);
  const toAnswer = page.locator('#answer li .comment', { hasText: 'window.pwned=2' });
  assert.equal(await toAnswer.innerText(), HOSTILE_COMMENT);
  const url = page.locator('#feedback td.key', { hasText: 'onerror' });
  assert.equal(await url.innerText(), `${HOSTILE_PATH}?q=<b>bold</b>`);
  // The hostile page is slow and lost its visitor: it ranks among the pages.
  await page.fill('#filter-path', HOSTILE_PATH);
  await page.click('form.toolbar button[type=submit]');
  await loaded(page, first);
  assert.equal(await text(page, '#page-views .value'), '1');
  assert.equal(await text(page, '#pages tbody tr td'), HOSTILE_PATH);
  assert.equal(await page.evaluate(() => window.pwned), undefined, 'no script ran');
  assert.equal(await page.locator('img[src=x], b').count(), 0, 'no markup was created');
  assert.deepEqual(await page.evaluate(() => window.violations), []);
  assert.deepEqual(problems, []);
  await context.close();
});

test('screenshots: dark desktop and a phone', async () => {
  for (const [name, options] of [
    ['dark-desktop', { colorScheme: 'dark' }],
    ['light-mobile', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }],
  ]) {
    const { context, page, problems } = await openDashboard(options);
    await signIn(page);
    await loaded(page);
    assert.ok((await inked(page, 'abandonment')) > 1000, `${name}: chart drawn`);
    const file = join(artifacts, `dashboard-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(statSync(file).size > 20_000, `${file} written`);
    assert.deepEqual(problems, []);
    await context.close();
  }
});

test('what changed: the latest release against the one before, the cards against the last period, release markers', async () => {
  // Two deploys, and after the second a burst of slow page views: LCP got worse.
  const post = (name, at) => fetch(`${env.collector.url}/api/v1/sites/test/releases`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.collector.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, at: new Date(at).toISOString() }),
  });
  const now = Date.now();
  for (const [name, at] of [['v1.0', now - 3 * 86_400_000], ['v1.1', now - 86_400_000]]) {
    assert.equal((await post(name, at)).status, 201);
  }
  const slow = Array.from({ length: 400 }, (_, i) => ({
    v: 1, site: 'test', id: `e${String(i).padStart(31, '0')}`, seq: 1, url: '/slow', start: now - 3_600_000 + i * 1000,
    ttfb_ms: 900, fcp_ms: 2500, lcp_ms: 9000 + i, load_ms: 9500 + i, left_at_ms: 60_000,
  }));
  for (let i = 0; i < slow.length; i += 50) {
    const answer = await fetch(`${env.collector.url}/b`, {
      method: 'POST', body: JSON.stringify(slow.slice(i, i + 50)), headers: { 'content-type': 'text/plain', 'user-agent': DESKTOP_UA },
    });
    assert.equal(answer.status, 204);
  }

  const { context, page, problems } = await openDashboard();
  await signIn(page);
  await loaded(page);
  // The panel says what the API says, measure by measure, coloured only with a verdict.
  const compared = await env.collector.api('compare');
  assert.equal(compared.b.release, 'v1.1');
  assert.equal(compared.a.release, 'v1.0');
  assert.equal(compared.measures.lcp_ms.verdict, 'worse', JSON.stringify(compared.measures.lcp_ms));
  const rows = await page.locator('#changed tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    measure: tr.dataset.measure, verdict: tr.dataset.verdict, classes: tr.className, text: tr.querySelector('.verdict-text').textContent,
  })));
  assert.deepEqual(rows.map((r) => [r.measure, r.verdict]), Object.entries(compared.measures).map(([name, m]) => [name, m.verdict]));
  for (const row of rows) {
    if (row.verdict === 'no_clear_change') assert.equal(row.classes, '', `${row.measure} is not coloured`);
    else assert.equal(row.classes, `verdict ${row.verdict}`, row.measure);
  }
  const lcpRow = page.locator('#changed tr[data-measure=lcp_ms]');
  assert.equal(await lcpRow.locator('.verdict-text').innerText(), 'worse');
  const colour = await lcpRow.locator('.verdict-text').evaluate((node) => getComputedStyle(node).color);
  const plain = await page.locator('#changed tr[data-verdict=no_clear_change] .verdict-text').first().evaluate((node) => getComputedStyle(node).color);
  assert.notEqual(colour, plain, 'a worse verdict stands out');
  assert.match(await text(page, '#changed .panel-body p'), /release v1\.1 \(/);

  // The cards: the change against the previous period of equal length, as the API answers it.
  const query = await page.locator('#cards').getAttribute('data-compare');
  const previous = await env.collector.api(`compare?${query}`);
  for (const [selector, field] of [['[data-vital=lcp_ms]', 'lcp_ms'], ['#abandonment-rate', 'abandonment_rate'], ['#csat', 'csat']]) {
    const change = page.locator(`${selector} .change`);
    assert.equal(await change.getAttribute('data-verdict'), previous.measures[field].verdict, field);
    assert.match(await change.innerText(), previous.measures[field].difference === null ? /nothing to compare|not enough to compare/ : /vs previous period/);
  }

  // The last 24 hours against the 24 before: both have page views, so each card shows a change.
  const shown = await page.evaluate(() => Number(document.body.dataset.loaded));
  await page.selectOption('#period', '24h');
  await page.click('form.toolbar button[type=submit]');
  await loaded(page, shown);
  const day = await env.collector.api(`compare?${await page.locator('#cards').getAttribute('data-compare')}`);
  assert.ok(day.a.page_views > 0 && day.b.page_views > 0, JSON.stringify([day.a, day.b]));
  assert.equal(day.measures.lcp_ms.verdict, 'worse', 'the slow burst is in the last 24 hours');
  const lcpChange = page.locator('[data-vital=lcp_ms] .change');
  assert.equal(await lcpChange.getAttribute('data-verdict'), 'worse');
  assert.match(await lcpChange.innerText(), /^\+\d.* vs previous period \(worse\)$/);
  assert.equal(await lcpChange.getAttribute('class'), 'change worse');
  await page.locator('#cards').screenshot({ path: join(artifacts, 'dashboard-cards-change.png') });
  await page.selectOption('#period', '7d');
  const day24 = await page.evaluate(() => Number(document.body.dataset.loaded));
  await page.click('form.toolbar button[type=submit]');
  await loaded(page, day24);

  // Release markers on the time series, named, inside the plot.
  const markers = page.locator('#timeseries .release-marker');
  assert.equal(await markers.count(), 2);
  assert.deepEqual(await markers.evaluateAll((nodes) => nodes.map((n) => n.dataset.release)), ['v1.0', 'v1.1']);
  const [plot, marker] = await Promise.all([page.locator('#timeseries .u-over').boundingBox(), markers.last().boundingBox()]);
  assert.ok(marker.x > plot.x + plot.width * 0.7 && marker.x < plot.x + plot.width, 'v1.1, a day ago, sits near the right end of 7 days');

  await page.locator('#changed').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(artifacts, 'dashboard-what-changed.png'), fullPage: true });
  await page.locator('#changed').screenshot({ path: join(artifacts, 'dashboard-what-changed-panel.png') });
  await page.locator('#timeseries').screenshot({ path: join(artifacts, 'dashboard-release-markers.png') });
  assert.deepEqual(await page.evaluate(() => window.violations), [], 'no CSP violations');
  assert.deepEqual(problems, []);
  await context.close();
});
