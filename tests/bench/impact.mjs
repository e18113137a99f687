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
import { launchBrowser, startCollector, startPageServer } from '../e2e/harness.mjs';

const pairs = Number(process.argv[2] || 20);
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: (1.6e6 / 8) * 0.9, uploadThroughput: (750e3 / 8) * 0.9 };

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
];

async function load(path) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
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
    const [name, path] = VARIANTS[(round + k) % VARIANTS.length];
    runs[name].push(await load(path));
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
const row = (label, field) => `| ${label} | ${names.map((name) => cell(name, field)).join(' | ')} |`;
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} by \`node tests/bench/impact.mjs ${pairs}\`: ${pairs} rounds, each loading every variant once in rotating order; Slow 4G; fresh context and empty cache each load. Medians, and in brackets the median paired difference to the page without palaute.`,
  '',
  `| median | ${names.join(' | ')} |`,
  `|---|${names.map(() => '---:').join('|')}|`,
  row('FCP, ms', 'fcp'),
  row('LCP, ms', 'lcp'),
  row('main-thread script time to 3 s after load, ms', 'script'),
  row('main-thread task time to 3 s after load, ms', 'task'),
  row('long tasks', 'longTasks'),
  '',
  `Time palaute's scripts spent inside long animation frames, all ${pairs} palaute loads together: ${fmt(runs.palaute.reduce((sum, r) => sum + r.palauteInLongFrames, 0))} ms.`,
].join('\n');
console.log(table);
const marked = /<!-- impact-table:start.*?<!-- impact-table:end -->/s;
const text = readFileSync('BENCHMARKS.md', 'utf8');
if (!marked.test(text)) throw new Error('BENCHMARKS.md lacks the impact-table markers');
writeFileSync('BENCHMARKS.md', text.replace(marked, `<!-- impact-table:start (tests/bench/impact.mjs writes this table) -->\n${table}\n<!-- impact-table:end -->`));
