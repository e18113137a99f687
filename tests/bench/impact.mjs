// Page impact of palaute: the same article page loaded with and without the
// script tag in real headless Chromium, interleaved, on a throttled network
// (DevTools' "Slow 4G": 150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up), each run
// in a fresh browser context. Per run: the page's FCP and LCP, main-thread
// script and task time (CDP Performance.getMetrics, from navigation until 3 s
// after `load`, by when palaute's module has started), long tasks, and the
// time palaute's own scripts spent inside long animation frames.
// Prints a markdown table and writes it into BENCHMARKS.md.
//   node tests/bench/impact.mjs [pairs]      (default 20)
import { readFileSync, writeFileSync } from 'node:fs';
import { launchBrowser, SLOW_4G, startCollector, startPageServer } from '../e2e/harness.mjs';

const pairs = Number(process.argv[2] || 20);

const pages = await startPageServer();
const collector = await startCollector(pages.origin);
pages.useCollector(collector.url);
const browser = await launchBrowser();

/** The page variants, each loaded once per round (rotating order). */
const VARIANTS = [
  ['without', 'article.html?client=none'],
  // Where the cost comes from: a request that returns nothing, and the loader's
  // bytes parsed but not run (no data-site: it returns at once).
  ['empty request', 'article.html?client=empty'],
  ['loader bytes only', 'article.html?client=inert'],
  // palaute as a site runs it: the client from the collector, compressed.
  ['palaute', 'article.html?client=collector'],
  // A visitor's later page: the client's files are in the browser's cache
  // (the loader for 5 minutes, the module for a year), the page and its
  // image are not (they are served `no-store`).
  ['palaute, cached', 'article.html?client=collector', { warm: true }],
];

async function load(path, { warm = false } = {}) {
  const context = await browser.newContext();
  if (warm) {
    // An earlier page view in the same context fills its HTTP cache.
    const first = await context.newPage();
    await first.goto(pages.url(path), { waitUntil: 'load' });
    await first.waitForFunction(() => window.palaute && window.palaute.L && window.palaute.L.started === 1);
    await first.close();
  }
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: !warm });
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  await cdp.send('Performance.enable');
  await page.addInitScript(() => {
    const seen = (window.__impact = { fcp: null, lcp: null, longTasks: 0, palauteInLongFrames: 0 });
    const watch = (type, each) => {
      try {
        new PerformanceObserver((list) => list.getEntries().forEach(each)).observe({ type, buffered: true });
      } catch { /* not supported */ }
    };
    watch('paint', (e) => { if (e.name === 'first-contentful-paint') seen.fcp = e.startTime; });
    watch('largest-contentful-paint', (e) => { seen.lcp = e.startTime; });
    watch('longtask', () => { seen.longTasks += 1; });
    watch('long-animation-frame', (frame) => {
      for (const script of frame.scripts || []) {
        if (/palaute/.test(script.sourceURL)) seen.palauteInLongFrames += script.duration;
      }
    });
  });
  await page.goto(pages.url(path), { waitUntil: 'load' });
  await page.waitForTimeout(3000);
  const started = await page.evaluate(() => Boolean(window.palaute && window.palaute.L && window.palaute.L.started));
  if (path.includes('client=collector') && !started) throw new Error('the module did not start within 3 s of load');
  const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const seen = await page.evaluate(() => window.__impact);
  await context.close();
  return { ...seen, script: metrics.ScriptDuration * 1000, task: metrics.TaskDuration * 1000 };
}

const runs = Object.fromEntries(VARIANTS.map(([name]) => [name, []]));
for (let round = 0; round < pairs; round++) {
  for (let k = 0; k < VARIANTS.length; k++) {
    const [name, path, options] = VARIANTS[(round + k) % VARIANTS.length];
    runs[name].push(await load(path, options));
  }
}
await browser.close();
await collector.stop();
await pages.close();

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (value) => value.toFixed(1);
const base = runs.without;
const cell = (name, field) => {
  const value = median(runs[name].map((r) => r[field]));
  if (name === 'without') return fmt(value);
  const diff = median(runs[name].map((run, i) => run[field] - base[i][field]));
  return `${fmt(value)} (${diff >= 0 ? '+' : ''}${fmt(diff)})`;
};
const names = VARIANTS.map(([name]) => name);

// How sure a difference is: the median of paired differences (same round)
// and its 95% bootstrap interval (percentiles of 10,000 resamples, from a
// fixed seed so a run's table is reproducible from its data).
let seed = 0x9e3779b9;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const interval = (diffs) => {
  const medians = Array.from({ length: 10000 }, () => median(diffs.map(() => diffs[Math.floor(random() * diffs.length)])));
  medians.sort((a, b) => a - b);
  return [medians[249], medians[9749]];
};
const signed = (value) => `${value >= 0 ? '+' : ''}${fmt(value)}`;
const compare = (label, name, against, field) => {
  const diffs = runs[name].map((run, i) => run[field] - runs[against][i][field]);
  const [low, high] = interval(diffs);
  const verdict = low <= 0 && high >= 0 ? 'no measurable difference' : 'measurable';
  return `| ${label} | ${signed(median(diffs))} | ${signed(low)} to ${signed(high)} | ${verdict} |`;
};
const row = (label, field) => `| ${label} | ${names.map((name) => cell(name, field)).join(' | ')} |`;
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} by \`node tests/bench/impact.mjs ${pairs}\`: ${pairs} rounds, each loading every variant once in rotating order; Slow 4G; fresh context each load, its cache empty except in "palaute, cached" (the client's files cached by an earlier page view). Medians, and in brackets the median paired difference to the page without palaute.`,
  '',
  `| median | ${names.join(' | ')} |`,
  `|---|${names.map(() => '---:').join('|')}|`,
  row('FCP, ms', 'fcp'),
  row('LCP, ms', 'lcp'),
  row('main-thread script time to 3 s after load, ms', 'script'),
  row('main-thread task time to 3 s after load, ms', 'task'),
  row('long tasks', 'longTasks'),
  '',
  'Paired differences in the same round, with their 95% bootstrap intervals. "empty request" is the price of any script tag pointing at another origin (its response is empty); what palaute adds beyond it is its own cost.',
  '',
  '| difference, ms | median | 95% interval | |',
  '|---|---:|---:|---|',
  compare('LCP: palaute − without', 'palaute', 'without', 'lcp'),
  compare('LCP: empty request − without', 'empty request', 'without', 'lcp'),
  compare('LCP: palaute − empty request', 'palaute', 'empty request', 'lcp'),
  compare('LCP: loader bytes only − empty request', 'loader bytes only', 'empty request', 'lcp'),
  compare('LCP: palaute, cached − without', 'palaute, cached', 'without', 'lcp'),
  compare('FCP: palaute − without', 'palaute', 'without', 'fcp'),
  '',
  `Time palaute's scripts spent inside long animation frames, all ${2 * pairs} palaute loads together: ${fmt([...runs.palaute, ...runs['palaute, cached']].reduce((sum, r) => sum + r.palauteInLongFrames, 0))} ms.`,
].join('\n');
console.log(table);
const marked = /<!-- impact-table:start.*?<!-- impact-table:end -->/s;
const text = readFileSync('BENCHMARKS.md', 'utf8');
if (!marked.test(text)) throw new Error('BENCHMARKS.md lacks the impact-table markers');
writeFileSync('BENCHMARKS.md', text.replace(marked, `<!-- impact-table:start (tests/bench/impact.mjs writes this table) -->\n${table}\n<!-- impact-table:end -->`));
