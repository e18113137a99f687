// How soon the feedback prompt shows, now that its interface is the module's
// second part (loaded only when the prompt is to ask): `palaute.ask()` until
// the prompt is on screen, in real headless Chromium on a throttled network
// (DevTools' "Slow 4G": 150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up), the
// client straight from the collector (compressed, as a site gets it), each run
// in a fresh browser context:
//   - part not fetched: the page asks before anything fetched the part (the
//     fetch and instantiation are in the measured time);
//   - part fetched: the part already there, as when the view turned slow
//     before the policy asked (the loader fetches it then) or the prompt
//     showed before: what the prompt costs once it is there.
// Prints a markdown table (median and worst of the runs) and writes it into
// BENCHMARKS.md.
//   node tests/bench/prompt-latency.mjs [runs]      (default 9)
import { execFileSync } from 'node:child_process';
import { launchBrowser, personContext, SLOW_4G, startCollector, startPageServer } from '../e2e/harness.mjs';

const runs = Number(process.argv[2] || 9);

const pages = await startPageServer();
const collector = await startCollector(pages.origin);
pages.useCollector(collector.url);
const browser = await launchBrowser();

/** One run: ms from `palaute.ask()` to the prompt's region visible. */
async function run(prefetched) {
  const context = await personContext(browser);
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
    await page.goto(pages.url('feedback.html?data-feedback=off&client=collector'));
    await page.waitForFunction(() => window.palaute && window.palaute.L && window.palaute.L.started, null, { timeout: 60000 });
    if (prefetched && (await page.evaluate(() => window.palaute.L.part())) !== 1) throw new Error('the part did not load');
    return await page.evaluate(
      () =>
        new Promise((done) => {
          const asked = performance.now();
          window.palaute.ask();
          const check = () => {
            const host = document.querySelector('palaute-prompt');
            const region = host && host.shadowRoot && host.shadowRoot.querySelector('section');
            if (region && region.getBoundingClientRect().height > 0) done(performance.now() - asked);
            else requestAnimationFrame(check);
          };
          check();
        }),
    );
  } finally {
    await context.close();
  }
}

const results = { cold: [], warm: [] };
try {
  for (let i = 0; i < runs; i++) {
    results.cold.push(await run(false));
    results.warm.push(await run(true));
  }
} finally {
  await browser.close();
  await collector.stop();
  await pages.close();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => Math.round(x);
const table = [
  '| `palaute.ask()` to the prompt on screen | median ms | worst ms |',
  '|---|---:|---:|',
  `| part not fetched (fetched and instantiated on the ask) | ${ms(median(results.cold))} | ${ms(Math.max(...results.cold))} |`,
  `| part fetched (the view turned slow first, or asked before) | ${ms(median(results.warm))} | ${ms(Math.max(...results.warm))} |`,
].join('\n');
console.log(table);
const block = `Measured ${new Date().toISOString().slice(0, 10)} by \`node tests/bench/prompt-latency.mjs\` (${runs} runs each, Slow 4G, headless Chromium).\n\n${table}`;
execFileSync('scripts/put-table.py', ['prompt-latency'], { input: block });
