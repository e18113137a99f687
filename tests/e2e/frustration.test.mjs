// Rage clicks and dead clicks in real headless Chromium, on a page of our
// own: a button never wired and one whose handler throws (dead clicks), a
// slow button clicked four times (a rage click), and what must not count
// (a menu that opens, a disabled button, double and triple clicks that
// select text, a link that navigates); each count read from the exported
// row. Then the prompt asking at that moment, in English and in Finnish,
// with no layout shift, and the answer saying what asked.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, moduleStarted, leave, eventually, personContext } from './harness.mjs';

/** The module's settle time before the prompt may ask (SETTLE_MS) plus a margin. */
const SETTLED = 2000 + 500;
/** A dead click's wait (DEAD_WAIT_MS) plus a margin. */
const DEAD = 2000 + 700;

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

const visitor = () => personContext(env.browser);

async function open(context, query = '') {
  const page = await context.newPage();
  await page.goto(env.pages.url(`frustration.html${query}`));
  await moduleStarted(page);
  return { page, id: await page.evaluate(() => window.palaute.L.id) };
}

/** The page view's final row, once the visitor left. */
async function finalRow(page, id) {
  await leave(page);
  return eventually(async () => {
    const row = (await env.collector.rows()).find((r) => r.id === id);
    return row && row.left_at_ms !== null && row;
  }, 10000, `the final row of ${id}`);
}

const prompt = (page) => page.locator('palaute-prompt');

test('a button never wired and one that throws: two dead clicks, the first one named', async () => {
  const context = await env.context();
  const { page, id } = await open(context, '?data-feedback=off');
  await page.click('#coupon');
  await page.waitForTimeout(DEAD);
  await page.click('#pay');
  await page.waitForTimeout(DEAD);
  const row = await finalRow(page, id);
  assert.equal(row.dead_clicks, 2, JSON.stringify(row));
  assert.equal(row.rage_clicks, 0);
  assert.equal(row.frustration_target, '#coupon');
  const clickedAt = row.frustration_at_ms;
  assert.ok(clickedAt > 0 && clickedAt < row.left_at_ms, `when: ${clickedAt}`);
  assert.ok(row.errors >= 1, 'the throwing handler is an error too');
  await context.close();
});

test('a slow button clicked four times in anger: one rage click, not a dead one', async () => {
  const context = await env.context();
  const { page, id } = await open(context, '?data-feedback=off');
  for (let i = 0; i < 4; i++) await page.click('#save', { delay: 20 });
  await page.waitForFunction(() => document.getElementById('out').textContent === 'Saved.');
  await page.waitForTimeout(DEAD);
  const row = await finalRow(page, id);
  assert.equal(row.rage_clicks, 1, JSON.stringify(row));
  assert.equal(row.dead_clicks, 0, 'it answered within 2 s');
  assert.equal(row.frustration_target, '#save');
  await context.close();
});

test('what must not count: a menu, a disabled button, text selection by double and triple click, a link that navigates', async () => {
  const context = await env.context();
  const { page, id } = await open(context, '?data-feedback=off');
  await page.click('#menu');
  await page.click('#off', { force: true });
  await page.dblclick('#text');
  await page.click('#text', { clickCount: 3 });
  assert.ok((await page.evaluate(() => String(getSelection()))).length > 10, 'the triple click selected the paragraph');
  await page.waitForTimeout(DEAD);
  await page.evaluate(() => getSelection().removeAllRanges());
  // A link that navigates: the page view ends with it.
  await Promise.all([page.waitForURL(/from=frustration/), page.click('#away')]);
  const row = await eventually(async () => {
    const found = (await env.collector.rows()).find((r) => r.id === id);
    return found && found.left_at_ms !== null && found;
  }, 10000, 'the row of the page left by the link');
  assert.equal(row.rage_clicks, 0, JSON.stringify(row));
  assert.equal(row.dead_clicks, 0, JSON.stringify(row));
  assert.equal(row.frustration_target, null);
  await context.close();
});

test('the prompt asks at a dead click in Finnish and at a rage click in English, shifts nothing, and the answer says why', async () => {
  for (const [lang, act, question] of [
    ['fi', async (page) => page.click('#coupon'), 'Eikö jokin toimi täällä?'],
    ['en', async (page) => { for (let i = 0; i < 4; i++) await page.click('#save', { delay: 20 }); }, 'Something not working here?'],
  ]) {
    const context = await visitor();
    const { page, id } = await open(context, `?data-lang=${lang}`);
    await page.waitForTimeout(SETTLED);
    assert.equal(await prompt(page).count(), 0, `${lang}: a fast page with no trouble is not asked about`);
    await act(page);
    const region = prompt(page).getByRole('region');
    await region.waitFor({ timeout: DEAD + 2000 });
    assert.match(await region.innerText(), new RegExp(question.replace('?', '\\?')), lang);
    assert.equal(await prompt(page).getAttribute('lang') ?? await region.getAttribute('lang'), lang === 'fi' ? 'fi' : 'en');
    await prompt(page).getByRole('button', { name: lang === 'fi' ? 'Huono' : 'Poor' }).click();
    const row = await eventually(async () => {
      const found = (await env.collector.rows()).find((r) => r.id === id);
      return found && found.feedback_rating !== null && found;
    }, 10000, `${lang}: the answer`);
    assert.equal(row.feedback_trigger, 'frustration', JSON.stringify(row));
    assert.equal(row.feedback_rating, 0);
    assert.deepEqual(await page.evaluate(() => window.shifts), [], `${lang}: the prompt caused no layout shift`);
    await context.close();
  }
});
