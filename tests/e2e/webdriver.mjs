// A small W3C WebDriver client (HTTP, https://www.w3.org/TR/webdriver2/)
// for the engines Playwright does not drive from apt packages: Firefox ESR
// through geckodriver, WebKitGTK through WebKitWebDriver (under Xvfb), and
// Chromium through chromedriver for the same tests as a control. Each engine
// is a real browser process; nothing is downloaded.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DESKTOP_UA } from './harness.mjs';

/** The W3C key of a web element in a script's result. */
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

const MINIBROWSER = ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/libexec/webkit2gtk-4.1/MiniBrowser']
  .find((path) => existsSync(path));

/**
 * The engines: how to start each one's driver and which capabilities open a
 * session. `display`: the engine needs an X server (Xvfb).
 */
export const ENGINES = {
  firefox: {
    driver: () => process.env.GECKODRIVER || [join(homedir(), '.cargo', 'bin', 'geckodriver'), '/usr/local/bin/geckodriver'].find(existsSync) || 'geckodriver',
    args: (port) => ['--port', String(port), '--log', 'error'],
    capabilities: () => ({
      browserName: 'firefox',
      'moz:firefoxOptions': {
        binary: process.env.FIREFOX || '/usr/bin/firefox-esr',
        args: ['-headless'],
        prefs: { 'browser.shell.checkDefaultBrowser': false, 'datareporting.policy.dataSubmissionEnabled': false },
      },
    }),
  },
  webkit: {
    driver: () => process.env.WEBKIT_WEBDRIVER || '/usr/bin/WebKitWebDriver',
    args: (port) => [`--port=${port}`],
    display: true,
    capabilities: () => ({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: process.env.MINIBROWSER || MINIBROWSER, args: ['--automation'] },
    }),
  },
  chromium: {
    driver: () => process.env.CHROMEDRIVER || '/usr/bin/chromedriver',
    args: (port) => [`--port=${port}`],
    capabilities: () => ({
      browserName: 'chrome',
      'goog:chromeOptions': {
        binary: process.env.CHROMIUM || '/usr/bin/chromium',
        args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--user-agent=${DESKTOP_UA}`],
      },
    }),
  },
};

async function freePort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

/** An X server of our own (Xvfb picks a free display); `stop()` ends it. */
async function startXvfb() {
  const child = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const display = await new Promise((ok, fail) => {
    child.stdout.once('data', (chunk) => ok(`:${String(chunk).trim()}`));
    child.once('exit', (code) => fail(new Error(`Xvfb exited with ${code}`)));
  });
  return { display, stop: () => child.kill('SIGTERM') };
}

/** An error WebDriver answered with (its `error` code and message). */
export class WebDriverError extends Error {
  constructor(value) {
    super(`${value.error}: ${value.message}`);
    this.code = value.error;
  }
}

/**
 * Starts `engine`'s driver and opens a session. `pageLoad`: the page load
 * strategy (`normal` waits for `load`, `none` returns at once).
 */
export async function startBrowser(engine, { pageLoad = 'normal' } = {}) {
  const spec = ENGINES[engine];
  if (!spec) throw new Error(`unknown engine ${engine}`);
  const xvfb = spec.display && !process.env.PALAUTE_DISPLAY ? await startXvfb() : null;
  const port = await freePort();
  const env = { ...process.env };
  if (spec.display) env.DISPLAY = process.env.PALAUTE_DISPLAY || xvfb.display;
  // Its own process group: the driver and the browser it starts end together.
  const child = spawn(spec.driver(), spec.args(port), { stdio: ['ignore', 'ignore', 'pipe'], env, detached: true });
  let log = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body, ms = 60000) => {
    const res = await fetch(base + path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(ms),
    });
    const json = await res.json();
    if (json.value && json.value.error) throw new WebDriverError(json.value);
    return json.value;
  };
  // The driver listens once it is up.
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      await call('GET', '/status');
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${engine} driver did not start: ${e.message}\n${log}`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
  const capabilities = { ...spec.capabilities(), pageLoadStrategy: pageLoad, unhandledPromptBehavior: 'accept' };
  const { sessionId } = await call('POST', '/session', { capabilities: { alwaysMatch: capabilities } });
  const s = (path) => `/session/${sessionId}${path}`;
  const browser = {
    engine,
    /** Runs `fn(...args)` in the page (a function's source), returns its result. */
    run: (fn, ...args) => browser.runWithin(60000, fn, ...args),
    /** `run`, answered within `ms` or failed (the command is abandoned, not the session). */
    runWithin: (ms, fn, ...args) =>
      call('POST', s('/execute/sync'), { script: `return (${fn}).apply(null, arguments)`, args }, ms),
    go: (url) => call('POST', s('/url'), { url }),
    back: () => call('POST', s('/back'), {}),
    url: () => call('GET', s('/url')),
    /** Clicks the element `fn(...args)` returns in the page (a WebDriver Element Click). */
    async click(fn, ...args) {
      const element = await browser.run(fn, ...args);
      if (!element || !element[ELEMENT]) throw new Error(`no element to click: ${fn}`);
      await call('POST', s(`/element/${element[ELEMENT]}/click`), {});
    },
    setTimeouts: (t) => call('POST', s('/timeouts'), t),
    /**
     * Polls `fn(...args)` in the page until it is truthy. Each poll gets at
     * most 5 s and is then tried again: WebKitWebDriver, asked just after a
     * page came back from the back/forward cache, once in several runs
     * under load never answered (the test waited out the whole minute of
     * one command).
     */
    async until(fn, ms = 15000, what = String(fn), ...args) {
      const end = Date.now() + ms;
      let last;
      while (Date.now() < end) {
        try {
          last = await browser.runWithin(Math.max(1000, Math.min(5000, end - Date.now())), fn, ...args);
          if (last) return last;
        } catch (e) {
          last = e.message; // the page may be between documents
        }
        await new Promise((ok) => setTimeout(ok, 50));
      }
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    },
    /** Ends the session (a browser that does not close in 5 s is ended with its driver). */
    async quit() {
      try {
        await call('DELETE', s(''), undefined, 5000);
      } catch { /* already gone, or stuck */ }
      const exited = new Promise((ok) => child.once('exit', ok));
      const group = (signal) => {
        try {
          process.kill(-child.pid, signal);
        } catch { /* already gone */ }
      };
      group('SIGTERM');
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 3000))]);
      if (child.exitCode === null && child.signalCode === null) group('SIGKILL');
      xvfb?.stop();
    },
  };
  await browser.setTimeouts({ script: 30000, pageLoad: 30000 });
  return browser;
}
