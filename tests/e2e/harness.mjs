// End-to-end test harness: a real collector process with a fresh data
// directory, a page server on another origin (so beacons are cross-origin,
// as on a real site) whose resources can be delayed, and headless Chromium.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const bin = process.env.PALAUTE_BIN || join(root, 'target', 'debug', 'palaute-collector');

/** A desktop Chrome user agent: the tests play real visitors. */
export const DESKTOP_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

/**
 * The Web Vitals fields compared with web-vitals in the same page load:
 * export field, web-vitals' name, largest difference allowed.
 */
/** DevTools' "Slow 4G" (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up), for CDP's `Network.emulateNetworkConditions`. */
export const SLOW_4G = { offline: false, latency: 150, downloadThroughput: (1.6e6 / 8) * 0.9, uploadThroughput: (750e3 / 8) * 0.9 };

export const VITALS = [
  ['ttfb_ms', 'TTFB', 1],
  ['fcp_ms', 'FCP', 1],
  ['lcp_ms', 'LCP', 1],
  ['cls', 'CLS', 0.0001],
  ['inp_ms', 'INP', 8],
];

const TYPES = { '.html': 'text/html; charset=utf-8', '.svg': 'image/svg+xml', '.js': 'text/javascript', '.css': 'text/css' };

/**
 * An SVG with enough detail to count for LCP: Chrome ignores images under
 * about 0.05 bits per pixel (placeholders, flat colours).
 */
export function detailedImage(width, height) {
  let seed = 7;
  const random = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  let shapes = '';
  for (let i = 0; i < 800; i++) {
    const colour = random(0xffffff).toString(16).padStart(6, '0');
    shapes += `<circle cx="${random(width)}" cy="${random(height)}" r="${6 + random(34)}" fill="#${colour}"/>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes}</svg>`;
}

/**
 * Serves tests/e2e/pages. `/hero.svg` is a generated detailed image.
 * A page with a `<!--STREAM` marker sends the rest `?body=MS` late.
 * `/c/...` proxies the client from the collector (`{{CLIENT}}` in a page). `{{COLLECTOR}}` in a page becomes the collector's
 * URL; `?data-NAME=VALUE` on a page adds that attribute to its script tag. `/delay/MS/FILE` serves FILE after MS milliseconds; `/broken.png` is
 * a 404. `?tag=blocking` drops the script tag's `async`; `?bfcache` serves
 * the page without `no-store`, so that every engine may keep it in its
 * back/forward cache.
 */
export async function startPageServer() {
  const state = { collector: '', endpoint: '', client: new Map(), moduleDelay: 0, left: new Map(), vitals: new Map() };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/oracle') {
      // The test's own record of when a page was left (see `leave`).
      state.left.set(url.searchParams.get('page'), Number(url.searchParams.get('left')));
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/wv') {
      // web-vitals' reports: the latest value per page view, metric and navigation type.
      // Latest as web-vitals reported them (`seq`), not as they arrived: each
      // report is a beacon of its own, and two beacons can overtake each other.
      const key = `${url.searchParams.get('t')}/${url.searchParams.get('nav')}`;
      const name = url.searchParams.get('name');
      const seq = Number(url.searchParams.get('seq'));
      const record = (key) => {
        const vitals = state.vitals.get(key) || {};
        if (vitals[`${name}_seq`] > seq) return;
        vitals[`${name}_seq`] = seq;
        vitals[name] = Number(url.searchParams.get('value'));
        vitals[`${name}_attribution`] = JSON.parse(url.searchParams.get('attribution') || '{}');
        vitals.navStart = Number(url.searchParams.get('navStart'));
        state.vitals.set(key, vitals);
      };
      record(key);
      // Each view of a single-page app by its navigationId, too.
      record(`${url.searchParams.get('t')}#${url.searchParams.get('navId')}`);
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/web-vitals.attribution.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(readFileSync(join(root, 'node_modules', 'web-vitals', 'dist', 'web-vitals.attribution.js')));
      return;
    }
    if (url.pathname.startsWith('/c/')) {
      // The client, proxied from the collector; the module can be delayed.
      if (url.pathname.startsWith('/c/m/')) await new Promise((ok) => setTimeout(ok, state.moduleDelay));
      // Kept once fetched, as a CDN or the browser cache would: the client
      // still loads while the collector is down.
      try {
        if (!state.client.has(url.pathname)) {
          const upstream = await fetch(state.collector + url.pathname.slice(2));
          const file = { status: upstream.status, type: upstream.headers.get('content-type') || '' };
          file.body = Buffer.from(await upstream.arrayBuffer());
          if (upstream.status === 200) state.client.set(url.pathname, file);
          else return res.writeHead(file.status, { 'content-type': file.type }).end(file.body);
        }
        const file = state.client.get(url.pathname);
        let body = file.body;
        if (url.pathname.endsWith('.wasm') && (state.tamper === true || (state.tamper && url.pathname.includes(state.tamper)))) {
          body = Buffer.from(body);
          body[body.length - 1] ^= 1;
        }
        res.writeHead(file.status, { 'content-type': file.type }).end(body);
      } catch {
        res.writeHead(502).end('collector unreachable');
      }
      return;
    }
    let path = url.pathname;
    let delay = 0;
    const delayed = path.match(/^\/delay\/(\d+)(\/.*)$/);
    if (delayed) {
      delay = Number(delayed[1]);
      path = delayed[2];
    }
    const file = join(here, 'pages', path.replace(/\.\./g, ''));
    setTimeout(() => {
      if (path === '/hero.svg') {
        res.writeHead(200, { 'content-type': TYPES['.svg'], 'cache-control': 'no-store' });
        res.end(detailedImage(Number(url.searchParams.get('w') || 1000), Number(url.searchParams.get('h') || 400)));
        return;
      }
      if (!existsSync(file) || path.endsWith('/')) {
        res.writeHead(404).end('not found');
        return;
      }
      let body = readFileSync(file);
      if (extname(file) === '.html') {
        // `?data-NAME=VALUE` adds that attribute to the script tag.
        // (`?data-site=` replaces the page's site.)
        const site = url.searchParams.get('data-site') || 'test';
        const attrs = [...url.searchParams].filter(([k]) => k.startsWith('data-') && k !== 'data-site').map(([k, v]) => ` ${k}="${v}"`);
        // `?client=collector`: the client straight from the collector (compressed, as a site gets it).
        const client = url.searchParams.get('client') === 'collector' ? state.collector : `${origin}/c`;
        // `{{OTHER_ORIGIN}}`: the page server under another name, a second origin (a third party's).
        const other = origin.replace('127.0.0.1', 'localhost');
        body = body.toString().replaceAll('{{CLIENT}}', client).replaceAll('{{COLLECTOR}}', state.endpoint || state.collector)
          .replaceAll('{{OTHER_ORIGIN}}', other)
          .replace('data-site="test"', `data-site="${site}"${attrs.join('')}`);
        // The impact benchmark's variants of the script tag: `?client=none`
        // (no palaute), `empty` (a cross-origin request that returns
        // nothing runnable), `inert` (the loader without a site: fetched and
        // parsed, returns at once).
        const tag = /<script async src="[^"]*palaute\.js"[^>]*><\/script>\n?/;
        const variant = {
          none: '',
          empty: `<script async src="${state.collector}/healthz"></script>\n`,
          inert: `<script async src="${state.collector}/palaute.js" data-site=""></script>\n`,
        }[url.searchParams.get('client')];
        if (variant !== undefined) body = body.replace(tag, variant);
        // `?tag=blocking`: the script tag without `async` (README: WebKit
        // holds an async script that is ready before the first paint).
        if (url.searchParams.get('tag') === 'blocking') body = body.replace('<script async src=', '<script src=');
      }
      // `?bfcache`: a page the back/forward cache may keep (Firefox keeps no `no-store` page).
      const store = url.searchParams.has('bfcache') ? 'no-cache' : 'no-store';
      const headers = { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': store };
      // Scripts may be loaded from the other origin with `crossorigin`, as a
      // third party's that shares its timing.
      if (extname(file) === '.js') Object.assign(headers, { 'access-control-allow-origin': '*', 'timing-allow-origin': '*' });
      // `?csp=strict`: the policy README asks for (no inline code, no eval;
      // WebAssembly compilation and the collector allowed). `?csp=no-wasm`:
      // the same without 'wasm-unsafe-eval'.
      const csp = url.searchParams.get('csp');
      if (extname(file) === '.html' && csp) {
        const collector = new URL(state.endpoint || state.collector).origin;
        const wasm = csp === 'strict' ? " 'wasm-unsafe-eval'" : '';
        headers['content-security-policy'] =
          `default-src 'none'; script-src 'self'${wasm}; connect-src 'self' ${collector}; img-src 'self'`;
      }
      res.writeHead(200, headers);
      const [head, rest] = body.toString().split('<!--STREAM');
      if (rest === undefined) {
        res.end(body);
        return;
      }
      // A document whose body arrives `?body=MS` late: nothing paints before.
      // WebKit parses nothing of a document until a few KB have arrived:
      // padding lets it parse the head as other engines do.
      res.write(`${head}<!--${' '.repeat(4096)}-->`);
      setTimeout(() => res.end('<!--STREAM' + rest), Number(url.searchParams.get('body') || 3000));
    }, delay);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    url: (path) => `${origin}/${path}`,
    useCollector(url) { state.collector = url; },
    /** Sends the pages' beacons to `url` (e.g. a fault proxy) instead of the collector. */
    useEndpoint(url) { state.endpoint = url; },
    /** What web-vitals reported for page view `tag` (`navigate`, `back-forward-cache`, ...). */
    webVitals: (tag, nav = 'navigate') => state.vitals.get(`${tag}/${nav}`),
    /** What web-vitals reported for each view of page load `tag`, in the order they started. */
    webVitalsViews: (tag) => [...state.vitals].filter(([key]) => key.startsWith(`${tag}#`))
      .map(([, values]) => values).sort((a, b) => a.navStart - b.navStart),
    /** When the page tagged `tag` was left, by its own clock, once known. */
    leftAt: (tag) => state.left.get(tag),
    /**
     * Serves the wasm files with one byte changed, as a tampered CDN would:
     * every one (`true`), those whose path contains a string (`'palaute_part.'`:
     * the prompt's part only), or none (`false`).
     */
    tamperModule(which) { state.tamper = which; },
    /** Holds the wasm module's files back by `ms` (0: not at all). */
    delayModule(ms) { state.moduleDelay = ms; },
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }),
  };
}

/** Runs `palaute-collector` with a fresh data dir; registers site `test` for `origin`. */
export async function startCollector(origin) {
  const data = mkdtempSync(join(tmpdir(), 'palaute-e2e-'));
  const common = ['--data', data];
  const added = execFileSync(bin, ['site', 'add', 'test', '--origin', origin, ...common], { encoding: 'utf8' });
  const token = added.trim().split('\n').pop();
  // A second site whose prompt uses the five-point scale by default.
  execFileSync(bin, ['site', 'add', 'five', '--origin', origin, '--feedback-scale', 'five', ...common], { encoding: 'utf8' });
  let child;
  let log = '';
  const serve = async (listen) => {
    child = spawn(bin, ['serve', '--listen', listen, '--www', join(root, 'www'), ...common], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
    });
    child.stderr.on('data', (chunk) => { log += chunk; });
    return new Promise((ok, fail) => {
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const match = out.match(/listening on (http:\/\/\S+)/);
        if (match) ok(match[1]);
      });
      child.on('exit', (code) => fail(new Error(`collector exited with ${code}: ${log}`)));
    });
  };
  const url = await serve('127.0.0.1:0');
  const halt = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((ok) => child.on('exit', ok));
      child.kill('SIGTERM');
      await exited;
    }
  };
  return {
    url,
    token,
    data,
    log: () => log,
    /** The site's raw export, parsed. */
    async rows() {
      const res = await fetch(`${url}/api/v1/sites/test/pageviews?format=ndjson`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.status !== 200) throw new Error(`export answered ${res.status}`);
      return (await res.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line));
    },
    /** `GET /api/v1/sites/test/{path}` with the analyst token, parsed. */
    async api(path) {
      const res = await fetch(`${url}/api/v1/sites/test/${path}`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
      return res.json();
    },
    /** Stops the process, keeping its data: `resume` starts it again. */
    halt,
    /** Starts the collector again on the same address and data. */
    async resume() { await serve(url.replace('http://', '')); },
    async stop() {
      await halt();
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/**
 * A fault-injecting proxy in front of the collector, on its own origin.
 * `mode`: `pass` forwards; `fail:N` answers the next N beacon requests with
 * 503 (CORS granted, so the client can read it) then passes; `triple`
 * forwards each beacon request three times. A collector that is down makes
 * the proxy drop the connection, as an unreachable server does. `seen`
 * counts, per page-view id, the beacon requests that reached the proxy,
 * `acked` those the collector answered `204`.
 */
export async function startFaultProxy(target) {
  const state = { mode: 'pass', failures: 0, seen: new Map(), acked: new Map(), answers: [] };
  const count = (map, ids) => { for (const id of ids) map.set(id, (map.get(id) || 0) + 1); };
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    // Only beacons (POST /b) are faulted and counted; anything else (the
    // site's settings, GET /s/...) is forwarded once, untouched.
    const beacon = req.method === 'POST' && req.url.startsWith('/b');
    const ids = beacon ? (body.toString().match(/"id":"[0-9a-f]{32}"/g) || []).map((id) => id.slice(6, -1)) : [];
    if (beacon) {
      count(state.seen, ids);
      if (state.failures > 0) {
        state.failures--;
        state.answers.push(503);
        res.writeHead(503, { 'access-control-allow-origin': req.headers.origin || '*', 'retry-after': '1' });
        res.end('injected 503');
        return;
      }
    }
    const forward = () => fetch(target() + req.url, {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] || 'text/plain', origin: req.headers.origin || '', 'user-agent': req.headers['user-agent'] || '' },
      body: req.method === 'POST' ? body : undefined,
    });
    try {
      let upstream = await forward();
      if (beacon && state.mode === 'triple') {
        await forward();
        upstream = await forward();
      }
      if (beacon) state.answers.push(upstream.status);
      if (beacon && upstream.status === 204) count(state.acked, ids);
      const headers = {};
      for (const name of ['access-control-allow-origin', 'vary', 'content-type']) {
        if (upstream.headers.get(name)) headers[name] = upstream.headers.get(name);
      }
      res.writeHead(upstream.status, headers);
      res.end(Buffer.from(await upstream.arrayBuffer()));
    } catch {
      if (beacon) state.answers.push(0);
      req.socket.destroy(); // the collector is unreachable: so is the proxy
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    setMode(mode) {
      state.mode = mode.startsWith('fail:') ? 'pass' : mode;
      state.failures = mode.startsWith('fail:') ? Number(mode.slice(5)) : 0;
    },
    seen: (id) => state.seen.get(id) || 0,
    /** Beacon requests with page view `id` that the collector answered 204 (stored). */
    acked: (id) => state.acked.get(id) || 0,
    answers: () => state.answers.slice(),
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }),
  };
}

/**
 * A browser context as a person's browser looks to the page:
 * `navigator.webdriver` reads false (automation sets it, and the prompt
 * never asks a robot).
 */
export async function personContext(browser, options = {}) {
  const context = await browser.newContext(options);
  await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false }));
  return context;
}

/** Headless Chromium with the back/forward cache left on. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      // Global, so that beacons sent while a page unloads carry it too.
      `--user-agent=${DESKTOP_UA}`,
    ],
    ignoreDefaultArgs: ['--disable-back-forward-cache'],
  });
}

/** Polls `check` until it returns a truthy value or `ms` pass. */
export async function eventually(check, ms = 10000, what = 'condition') {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

/**
 * Opens `path` in a tab that an opener page opened, so the test can close it
 * for real with `closeTab()`. Playwright's page.close() kills a page that has
 * no beforeunload handler without the lifecycle events a real tab close
 * fires; window.close() from the opener goes through the real closing path.
 */
export async function openTab(context, path) {
  const opener = await context.newPage();
  await opener.goto(env.pages.url('text.html?opener'));
  const [tab] = await Promise.all([
    context.waitForEvent('page'),
    opener.evaluate((url) => { window.tab = window.open(url); }, env.pages.url(path)),
  ]);
  return { tab, closeTab: () => opener.evaluate(() => window.tab.close()) };
}

/** Waits until the wasm module has taken the page view over from the loader. */
export async function moduleStarted(page) {
  await page.waitForFunction(() => window.palaute && window.palaute.L && window.palaute.L.started === 1, null, {
    timeout: 15000,
  });
}

/** Waits until the page has painted an LCP candidate that is an image. */
export async function imagePainted(page) {
  await page.evaluate(
    () => new Promise((painted) => {
      new PerformanceObserver((list) => {
        if (list.getEntries().some((entry) => entry.url)) painted();
      }).observe({ type: 'largest-contentful-paint', buffered: true });
    }),
  );
}

/** Waits until the page's own clock reaches `ms` (the visitor's dwell). */
export async function pageTime(page, ms) {
  await page.waitForFunction((t) => performance.now() >= t, ms, { polling: 10 });
}

/** Finds the row of page view `id` once it is stored. */
export async function rowOf(collector, id) {
  return eventually(async () => (await collector.rows()).find((r) => r.id === id), 10000, `row ${id}`);
}

/**
 * Leaves the page by navigating away. Returns the truth: the left page's
 * own clock when it was hidden or unloaded, recorded by an independent
 * `pagehide` listener and reported to the page server (a page is "left"
 * some time after the visitor's click, when the next page takes over).
 */
let leaves = 0;
export async function leave(page) {
  const tag = `leave-${++leaves}`;
  const clicked = await page.evaluate((tag) => {
    addEventListener('pagehide', () => {
      navigator.sendBeacon(`/oracle?page=${tag}&left=${performance.now()}`);
    }, true);
    return performance.now();
  }, tag);
  // Navigate from within the page, as a visitor following a link does (a
  // browser-initiated navigation can wait for a still-loading document).
  await Promise.all([
    page.waitForURL('about:blank'),
    page.evaluate(() => { location.href = 'about:blank'; }).catch(() => { /* the page went away */ }),
  ]);
  const left = await eventually(() => env.pages.leftAt(tag), 5000, `the oracle for ${tag}`);
  if (!(left >= clicked)) throw new Error(`page left at ${left}, before the click at ${clicked}`);
  return left;
}

/** Sets up collector, page server and browser for a test file. */
let env;
export async function setup() {
  const pages = await startPageServer();
  const collector = await startCollector(pages.origin);
  pages.useCollector(collector.url);
  const browser = await launchBrowser();
  const context = () => browser.newContext();
  env = {
    pages, collector, browser, context,
    async teardown() {
      await browser.close();
      await collector.stop();
      await pages.close();
    },
  };
  return env;
}
