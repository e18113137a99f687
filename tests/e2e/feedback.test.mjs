// The one-click feedback prompt in real headless Chromium: each trigger, the
// comment and skip paths, Esc, the frequency cap, automated browsers, the
// five-point scale by keyboard, no layout shift, an axe-core scan, hostile
// site CSS, an HTML comment stored verbatim, and screenshots (light/dark,
// desktop/mobile, two languages) saved to target/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setup, moduleStarted, rowOf, leave, eventually, root, personContext } from './harness.mjs';

const artifacts = join(root, 'target', 'artifacts');
const axeSource = readFileSync(join(root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
/** The prompt waits this long after the module starts (SETTLE_MS), plus a margin. */
const SETTLED = 2000 + 1500;

let env;
before(async () => {
  env = await setup();
  mkdirSync(artifacts, { recursive: true });
});
after(async () => { await env?.teardown(); });

/**
 * A visitor's browser: `navigator.webdriver` reads false, as in a browser a
 * person uses (automation sets it, and the prompt never asks a robot).
 */
async function visitor(options = {}, { automated = false } = {}) {
  return automated ? env.browser.newContext(options) : personContext(env.browser, options);
}

/** Opens the feedback page with `query`; returns the page and its page-view id once the module runs. */
async function open(context, query = '') {
  const page = await context.newPage();
  await page.goto(env.pages.url(`feedback.html${query}`));
  await moduleStarted(page);
  const id = await page.evaluate(() => window.palaute.L.id);
  return { page, id };
}

const prompt = (page) => page.locator('palaute-prompt');
const shown = (page, timeout = 8000) => prompt(page).getByRole('region').waitFor({ timeout });
const gone = (page) => prompt(page).waitFor({ state: 'detached', timeout: 8000 });

/** Waits until the page view's row satisfies `check`. */
async function rowWhere(id, check, what) {
  return eventually(async () => {
    const row = (await env.collector.rows()).find((r) => r.id === id);
    return row && check(row) && row;
  }, 10000, what);
}

/** Nothing asked by itself: the prompt is absent once the page settled (and `extra` ms more). */
async function notShown(page, extra = 0) {
  await page.waitForTimeout(SETTLED + extra);
  assert.equal(await prompt(page).count(), 0, 'no prompt');
}

test('always: asks once settled, without focus or layout shift; rating then comment reach the same page view', async () => {
  const context = await visitor();
  const { page, id } = await open(context, '?data-feedback=always');
  assert.equal(await prompt(page).count(), 0, 'not before the page has settled');
  await page.focus('#search');
  await page.keyboard.type('shoes');
  await shown(page);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'search', 'focus stays where the visitor was');
  await page.keyboard.type(' red');
  assert.equal(await page.inputValue('#search'), 'shoes red', 'typing is not taken over');

  const clickedAt = await page.evaluate(() => performance.now());
  await prompt(page).getByRole('button', { name: 'Good' }).click();
  const rated = await rowWhere(id, (r) => r.feedback_rating !== null, 'the rating, sent at once');
  assert.equal(rated.feedback_rating, 1);
  assert.equal(rated.feedback_scale, 'thumbs');
  assert.equal(rated.feedback_comment, null);
  assert.ok(Math.abs(rated.feedback_at_ms - clickedAt) < 1000, `feedback_at_ms ${rated.feedback_at_ms} near ${clickedAt}`);

  await prompt(page).getByLabel('Anything to add? (optional)').fill('  Fast enough, thanks  ');
  await page.screenshot({ path: join(artifacts, 'prompt-en-light-desktop-comment.png') });
  await prompt(page).getByRole('button', { name: 'Send' }).click();
  await prompt(page).getByRole('status').filter({ hasText: 'Thank you' }).waitFor();
  const commented = await rowWhere(id, (r) => r.feedback_comment !== null, 'the comment');
  assert.equal(commented.feedback_comment, 'Fast enough, thanks');
  assert.equal(commented.feedback_rating, 1);
  assert.equal(commented.feedback_at_ms, rated.feedback_at_ms, 'the answer keeps the time of the rating');
  assert.equal(typeof commented.fcp_ms, 'number', 'with the page view\'s metrics');
  await gone(page);
  assert.deepEqual(await page.evaluate(() => window.shifts), [], 'the prompt caused no layout shift');
  await context.close();
  assert.equal((await env.collector.rows()).filter((r) => r.id === id).length, 1, 'one page view');
});

test('skipping the comment keeps the rating alone', async () => {
  const context = await visitor();
  const { page, id } = await open(context, '?data-feedback=always');
  await shown(page);
  await prompt(page).getByRole('button', { name: 'Poor' }).click();
  await prompt(page).getByRole('button', { name: 'Skip' }).click();
  await gone(page);
  await leave(page);
  const row = await rowWhere(id, (r) => r.left_at_ms !== null, 'the final beacon');
  assert.equal(row.feedback_rating, 0);
  assert.equal(row.feedback_comment, null);
  await context.close();
});

test('Esc dismisses the prompt and records nothing', async () => {
  const context = await visitor();
  const { page, id } = await open(context, '?data-feedback=always');
  await shown(page);
  await page.keyboard.press('Escape');
  await gone(page);
  await leave(page);
  const row = await rowOf(env.collector, id);
  assert.equal(row.feedback_rating, null);
  await context.close();
});

/** Records the page's requests for the prompt's part (the module's second wasm file). */
function partRequests(page) {
  const requests = [];
  page.on('request', (request) => request.url().includes('/palaute_part.') && requests.push(request.url()));
  return requests;
}

test('slow (the default): a fast page is not asked about; a slow interaction is', async () => {
  const context = await visitor();
  const { page, id } = await open(context);
  await notShown(page);
  await page.click('#slow');
  await shown(page);
  await prompt(page).getByRole('button', { name: 'Poor' }).click();
  const row = await rowWhere(id, (r) => r.feedback_rating === 0, 'the rating');
  assert.ok(row.inp_ms > 500, `asked after a slow interaction (INP ${row.inp_ms})`);
  await context.close();
});

test('slow: a page whose main image arrives after 4.5 s is asked about', async () => {
  const context = await visitor();
  const { page, id } = await open(context, '?hero=4500');
  await shown(page);
  await prompt(page).getByRole('button', { name: 'Poor' }).click();
  const row = await rowWhere(id, (r) => r.feedback_rating === 0, 'the rating');
  assert.ok(row.lcp_ms > 4000 || row.load_ms > 4000, `slow (LCP ${row.lcp_ms}, load ${row.load_ms})`);
  await context.close();
});

test('slow: a visitor who left while the page loaded and came back is asked', async () => {
  const context = await visitor();
  const page = await context.newPage();
  await page.goto(env.pages.url('feedback.html?hero=2500'), { waitUntil: 'commit' });
  await page.waitForFunction(() => window.palaute && window.palaute.L);
  const setVisibility = (state) => page.evaluate((state) => {
    // What a phone does when the visitor switches apps and back.
    Object.defineProperty(document, 'visibilityState', { value: state, configurable: true });
    Object.defineProperty(document, 'hidden', { value: state === 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
  await page.waitForFunction(() => performance.now() > 500);
  await setVisibility('hidden');
  await moduleStarted(page);
  await setVisibility('visible');
  await shown(page);
  await context.close();
});

test("the prompt's part is fetched only for a view that asks: not on one that never does, once on palaute.ask()", async () => {
  const context = await visitor();
  // The default policy on a fast page: nothing to ask about.
  const fast = await context.newPage();
  const fastParts = partRequests(fast);
  await fast.goto(env.pages.url('feedback.html'));
  await moduleStarted(fast);
  await notShown(fast);
  assert.deepEqual(fastParts, [], 'a fast view does not fetch the part');
  // Asking off, on a view that turned slow: the policy never asks.
  const { page } = await open(context, '?data-feedback=off');
  const parts = partRequests(page);
  await page.click('#slow');
  await notShown(page);
  assert.deepEqual(parts, [], 'a view whose policy never asks does not fetch the part');
  // The page asks: fetched then, and once for the view's life.
  await page.evaluate(() => window.palaute.ask());
  await shown(page);
  assert.equal(parts.length, 1, 'palaute.ask() fetched the part');
  await page.keyboard.press('Escape');
  await gone(page);
  await page.evaluate(() => window.palaute.ask());
  await shown(page);
  assert.equal(parts.length, 1, 'asking again reuses it');
  await context.close();
});

test('a view that turns slow fetches the prompt\'s part before the prompt may ask, which then shows it', async () => {
  const context = await visitor();
  const page = await context.newPage();
  const parts = partRequests(page);
  await page.goto(env.pages.url('feedback.html'));
  await moduleStarted(page);
  const started = await page.evaluate(() => performance.now());
  // Slow at once (a 600 ms handler), before the page has settled (SETTLE_MS after the module started).
  await page.click('#slow');
  await shown(page);
  assert.equal(parts.length, 1, 'fetched once');
  // When the part's request began: without the prefetch it would begin only
  // when the prompt asks, 2 s after the module started.
  const fetched = await page.evaluate(() => performance.getEntriesByType('resource').find((e) => e.name.includes('/palaute_part.')).startTime);
  assert.ok(fetched - started < 1500, `fetched ${Math.round(fetched - started)} ms after the module started, before the prompt may ask`);
  await context.close();
});

test("a prompt's part changed on its way is refused (Subresource Integrity): no prompt; the view is still measured", async () => {
  env.pages.tamperModule('palaute_part.');
  try {
    const context = await visitor();
    const { page, id } = await open(context, '?data-feedback=off');
    const refused = [];
    page.on('console', (message) => message.text().includes('integrity') && refused.push(message.text()));
    assert.equal(await page.evaluate(() => window.palaute.L.part()), 0, 'the loader reports the part missing');
    await page.evaluate(() => window.palaute.ask());
    await page.waitForTimeout(1500);
    assert.equal(await prompt(page).count(), 0, 'no prompt from a tampered part');
    assert.ok(refused.length > 0, 'refused for its integrity');
    assert.equal(await page.evaluate(() => localStorage.getItem('palaute:asked')), null, 'a prompt that never showed does not count for the cap');
    // The module itself runs on: the API's answer is still recorded.
    await page.evaluate(() => window.palaute.feedback({ rating: 1 }));
    await rowWhere(id, (r) => r.feedback_rating === 1, 'the API rating');
    await context.close();
  } finally {
    env.pages.tamperModule(false);
  }
});

test('off: never asks by itself, even after a slow interaction; palaute.ask() still shows it', async () => {
  const context = await visitor();
  const { page } = await open(context, '?data-feedback=off');
  await page.click('#slow');
  await notShown(page);
  await page.evaluate(() => window.palaute.ask());
  await shown(page);
  await context.close();
});

test('the frequency cap: once per origin per period; palaute.ask() is not capped; data-feedback-days=0 lifts it', async () => {
  const context = await visitor();
  const first = await open(context, '?data-feedback=always');
  await shown(first.page);
  await first.page.keyboard.press('Escape');
  const again = await open(context, '?data-feedback=always');
  await notShown(again.page);
  await again.page.evaluate(() => window.palaute.ask());
  await shown(again.page);
  const uncapped = await open(context, '?data-feedback=always&data-feedback-days=0');
  await shown(uncapped.page);
  await context.close();
});

test('an automated browser (navigator.webdriver) is never asked by itself', async () => {
  const context = await visitor({}, { automated: true });
  const { page } = await open(context, '?data-feedback=always');
  assert.equal(await page.evaluate(() => navigator.webdriver), true);
  await notShown(page);
  await context.close();
});

test('the five-point scale works from the keyboard', async () => {
  const context = await visitor();
  const { page, id } = await open(context, '?data-feedback=always&data-feedback-scale=five');
  await shown(page);
  await page.focus('#slow');
  // Past the page's last control: the prompt's close button, then the faces.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'PALAUTE-PROMPT');
  for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.querySelector('palaute-prompt').shadowRoot.activeElement.getAttribute('aria-label'));
  assert.equal(focused, 'Good');
  await page.keyboard.press('Enter');
  const row = await rowWhere(id, (r) => r.feedback_rating !== null, 'the rating');
  assert.equal(row.feedback_rating, 4);
  assert.equal(row.feedback_scale, 'five');
  // Keyboard rating moves on into the comment box.
  assert.equal(await page.evaluate(() => document.querySelector('palaute-prompt').shadowRoot.activeElement.id), 'c');
  await context.close();
});

test('the five-point scale works with a click on a face', async () => {
  const context = await visitor();
  const { page, id } = await open(context, '?data-feedback=always&data-feedback-scale=five&data-lang=fi');
  await shown(page);
  const faces = prompt(page).getByRole('group').getByRole('button');
  assert.equal(await faces.count(), 5);
  assert.deepEqual(await faces.evaluateAll((b) => b.map((x) => x.getAttribute('aria-label'))),
    ['Erittäin huono', 'Huono', 'Kohtalainen', 'Hyvä', 'Erittäin hyvä']);
  await prompt(page).getByRole('button', { name: 'Huono', exact: true }).click();
  const row = await rowWhere(id, (r) => r.feedback_rating !== null, 'the rating');
  assert.equal(row.feedback_rating, 2);
  assert.equal(row.feedback_scale, 'five');
  await prompt(page).getByRole('button', { name: 'Ohita' }).click();
  await prompt(page).getByRole('status').filter({ hasText: 'Kiitos' }).waitFor();
  await context.close();
});

test("the site's scale on the collector applies when the script tag sets none; the tag wins", async () => {
  const context = await visitor();
  const faces = async (query) => {
    const { page } = await open(context, query);
    await shown(page);
    return prompt(page).getByRole('group').getByRole('button').count();
  };
  assert.equal(await faces('?data-site=five&data-feedback=always&data-feedback-days=0'), 5, 'the collector says five');
  assert.equal(await faces('?data-site=five&data-feedback=always&data-feedback-days=0&data-feedback-scale=thumbs'), 2, 'the tag wins');
  assert.equal(await faces('?data-feedback=always&data-feedback-days=0'), 2, 'a thumbs site');
  await context.close();
});

test('axe-core finds no accessibility violations with the prompt open (both steps)', async () => {
  for (const scheme of ['light', 'dark']) {
    const context = await visitor({ colorScheme: scheme });
    const { page } = await open(context, '?data-feedback=always');
    await shown(page);
    await page.addScriptTag({ content: axeSource });
    const scan = () => page.evaluate(async () => {
      const results = await window.axe.run(document, { resultTypes: ['violations'] });
      return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    assert.deepEqual(await scan(), [], `${scheme}: rating step`);
    await prompt(page).getByRole('button', { name: 'Good' }).click();
    await prompt(page).getByRole('textbox').waitFor();
    assert.deepEqual(await scan(), [], `${scheme}: comment step`);
    await context.close();
  }
});

test('hostile site CSS cannot hide or restyle the prompt, and the prompt does not restyle the site', async () => {
  const context = await visitor();
  const { page } = await open(context, '?data-feedback=always&hostile');
  const pageButton = () => page.evaluate(() => getComputedStyle(document.getElementById('slow')).backgroundColor);
  const before = await pageButton();
  await shown(page);
  const good = prompt(page).getByRole('button', { name: 'Good' });
  await good.waitFor({ state: 'visible' });
  const style = await good.evaluate((b) => {
    const s = getComputedStyle(b);
    return { color: s.color, fontSize: s.fontSize, minHeight: s.minHeight };
  });
  assert.notEqual(style.color, 'rgb(255, 0, 0)');
  assert.equal(style.fontSize, '15px');
  assert.equal(style.minHeight, '44px');
  const box = await prompt(page).getByRole('region').boundingBox();
  const viewport = page.viewportSize();
  assert.ok(box.x + box.width <= viewport.width && box.y + box.height <= viewport.height, 'fixed in the corner');
  assert.equal(await pageButton(), before, 'the site keeps its own styles');
  await context.close();
});

test('a comment with HTML and script is stored verbatim and never run', async () => {
  const context = await visitor();
  const { page, id } = await open(context, '?data-feedback=always');
  await shown(page);
  await prompt(page).getByRole('button', { name: 'Poor' }).click();
  const hostile = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> & "slow"';
  await prompt(page).getByRole('textbox').fill(hostile);
  await prompt(page).getByRole('button', { name: 'Send' }).click();
  const row = await rowWhere(id, (r) => r.feedback_comment !== null, 'the comment');
  assert.equal(row.feedback_comment, hostile);
  const listed = await env.collector.api('feedback?comment=true');
  assert.equal(listed.feedback.find((f) => f.id === id).feedback_comment, hostile);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  await context.close();
});

test('screenshots: light and dark, desktop and mobile, English, Finnish and German', async () => {
  const shots = [
    // [name, context options, query]
    ['en-light-desktop', { viewport: { width: 1280, height: 800 }, colorScheme: 'light', locale: 'en-US' }, ''],
    ['en-dark-desktop', { viewport: { width: 1280, height: 800 }, colorScheme: 'dark', locale: 'en-US' }, ''],
    ['fi-light-mobile', { viewport: { width: 390, height: 844 }, colorScheme: 'light', locale: 'fi-FI', isMobile: true, hasTouch: true }, ''],
    ['fi-dark-mobile', { viewport: { width: 390, height: 844 }, colorScheme: 'dark', locale: 'fi-FI', isMobile: true, hasTouch: true }, ''],
    ['de-five-light-desktop', { viewport: { width: 1280, height: 800 }, colorScheme: 'light', locale: 'en-US' }, '&data-lang=de&data-feedback-scale=five'],
  ];
  const words = { en: 'How was the speed of this page?', fi: 'Miltä sivun nopeus tuntui?', de: 'Wie schnell war diese Seite für Sie?' };
  for (const [name, options, query] of shots) {
    const context = await visitor(options);
    const { page } = await open(context, `?data-feedback=always${query}`);
    await shown(page);
    await page.waitForTimeout(300); // the entrance animation
    const region = prompt(page).getByRole('region');
    assert.equal(await region.locator('p').first().textContent(), words[name.slice(0, 2)], name);
    const box = await region.boundingBox();
    const width = options.viewport.width;
    if (width < 480) assert.ok(Math.abs(box.width - (width - 16)) <= 1, `${name}: full width on a phone (${box.width})`);
    else assert.equal(box.width, 320, name);
    const file = join(artifacts, `prompt-${name}.png`);
    await page.screenshot({ path: file });
    assert.ok(statSync(file).size > 5000, `${file} written`);
    await context.close();
  }
});

test('palaute.feedback ignores ratings off the scale or not numbers; a valid one is stored', async () => {
  const context = await visitor({}, { automated: true });
  const { page, id } = await open(context, '?data-feedback=off');
  // Thumbs: 0 or 1 only, as numbers.
  for (const rating of ['1', 2, 0.5, -1, null]) {
    await page.evaluate((r) => window.palaute.feedback({ rating: r, comment: 'ignored' }), rating);
  }
  await page.waitForTimeout(500);
  assert.equal((await env.collector.rows()).find((r) => r.id === id), undefined, 'nothing was sent for them');
  await page.evaluate(() => window.palaute.feedback({ rating: 1, comment: 'kept' }));
  const row = await rowWhere(id, (r) => r.feedback_rating === 1, 'the valid rating stored');
  assert.equal(row.feedback_comment, 'kept');
  await context.close();
});
