// When does a script tag's script run, per engine? (README, "Browsers":
// WebKit holds an async script that is ready before the first paint.) A
// page whose head comes at once (padded past WebKit's first parse, 4 KB)
// and whose body 2 s later; each form of the tag visited twice (from the
// network, then from the cache). Prints, per engine and form, when the
// script ran, FCP and DOMContentLoaded, in ms of the page's clock.
//
//   node tests/bench/tag-forms.mjs [webkit] [firefox] [chromium]

import { createServer } from 'node:http';
import { startBrowser } from '../e2e/webdriver.mjs';

const FORMS = {
  async: '<script async src="/s.js"></script>',
  'async + preload': '<link rel="preload" href="/s.js" as="script"><script async src="/s.js"></script>',
  'module async': '<script type="module" async src="/s.js"></script>',
  defer: '<script defer src="/s.js"></script>',
  'async after body text': '</head><body><p>.</p><script async src="/s.js"></script>',
  blocking: '<script src="/s.js"></script>',
};

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/s.js') {
    res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'public, max-age=600' });
    res.end('window.ran = performance.now();');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
  res.write(`<!doctype html><html><head><meta charset=utf-8>${FORMS[url.searchParams.get('form')]}<!--${' '.repeat(4096)}-->`);
  setTimeout(() => res.end('</head><body><h1>Body</h1><p>text</p></body></html>'), 2000);
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;
const engines = process.argv.slice(2);
for (const engine of engines.length ? engines : ['webkit', 'firefox', 'chromium']) {
  const browser = await startBrowser(engine);
  try {
    for (const form of Object.keys(FORMS)) {
      const visits = [];
      for (const visit of ['network', 'cache']) {
        await browser.go(`${origin}/?form=${encodeURIComponent(form)}&visit=${visit}`);
        const r = await browser.run(() => ({
          ran: window.ran,
          fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,
          dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventStart,
        }));
        const ms = (t) => (t === undefined ? '-' : Math.round(t));
        visits.push(`${visit}: ran ${ms(r.ran)}, FCP ${ms(r.fcp)}, DCL ${ms(r.dcl)}`);
      }
      console.log(`${engine.padEnd(8)} ${form.padEnd(22)} ${visits.join(' | ')}`);
    }
  } finally {
    await browser.quit();
  }
}
server.close();
