// Shared set-up of the browser tests: Debian's Chromium driven by playwright-core, one
// screenshot per step into $VISAGE_SCREENSHOTS (default ui/test-results/screenshots).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..', '..');
export const FIXTURES = path.join(REPO, 'tests', 'fixtures');
export const BASE_URL = (process.env.VISAGE_URL ?? '').replace(/\/$/, '');
export const SHOTS = process.env.VISAGE_SCREENSHOTS ?? path.resolve(here, '..', '..', 'test-results', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** @returns {Promise<import('playwright-core').Browser>} */
export async function launch() {
  fs.mkdirSync(SHOTS, { recursive: true });
  // playwright-core starts every browser on a fresh temporary profile (its own --user-data-dir).
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * A page whose uncaught errors and Content-Security-Policy violations (the front door's policy)
 * are collected, in a fresh context: desktop size unless a viewport is given, and the system's
 * colour scheme when one is given (the UI's theme choice is left at "system", so it follows it).
 * @param {import('playwright-core').Browser} browser
 * @param {{viewport?: {width: number, height: number}, colorScheme?: 'light' | 'dark'}} [opts]
 */
export async function newPage(browser, { viewport = { width: 1280, height: 900 }, colorScheme } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, baseURL: BASE_URL });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && m.text().includes('Content Security Policy')) errors.push(m.text());
  });
  return { context, page, errors };
}

/** Waits out the start-up screen, which stays until admin, api and core are all ready. @param {import('playwright-core').Page} page */
export async function waitReady(page) {
  await page.waitForFunction(() => !document.querySelector('[data-node]'), null, { timeout: 60_000 });
}

/** Logs in through the login form. @param {import('playwright-core').Page} page @param {{email: string, password: string}} who */
export async function logIn(page, who) {
  await page.goto('/login');
  await waitReady(page);
  await page.fill('#login-email', who.email);
  await page.fill('#login-password', who.password);
  await page.click('form button[type=submit]');
  await page.waitForURL((u) => u.pathname !== '/login');
}

/** @param {import('playwright-core').Page} page @param {string} name */
export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/**
 * Drops a folder on an element the way a browser does (DataTransferItem.webkitGetAsEntry with
 * directory entries), built in the page from files read here.
 * @param {import('playwright-core').Page} page
 * @param {string} selector
 * @param {string} rootName name of the dropped folder
 * @param {Record<string, string[]>} tree sub-folder name → file paths on this machine
 */
export async function dropFolder(page, selector, rootName, tree) {
  /** @type {Record<string, Array<{name: string, b64: string, type: string}>>} */
  const payload = {};
  for (const [dir, files] of Object.entries(tree)) {
    payload[dir] = files.map((f) => ({ name: path.basename(f), b64: fs.readFileSync(f).toString('base64'), type: 'image/jpeg' }));
  }
  await page.locator(selector).evaluate(
    (el, { rootName, payload }) => {
      /** @param {string} b64 */
      const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      /** @param {string} name @param {any[]} children */
      const dirEntry = (name, children) => ({
        isFile: false,
        isDirectory: true,
        name,
        createReader() {
          let done = false;
          return {
            /** @param {(e: any[]) => void} ok */
            readEntries(ok) {
              const batch = done ? [] : children;
              done = true;
              setTimeout(() => ok(batch), 0);
            },
          };
        },
      });
      /** @param {File} file */
      const fileEntry = (file) => ({
        isFile: true,
        isDirectory: false,
        name: file.name,
        /** @param {(f: File) => void} ok */
        file(ok) {
          ok(file);
        },
      });
      const subdirs = Object.entries(payload).map(([dir, files]) =>
        dirEntry(dir, files.map((f) => fileEntry(new File([bytes(f.b64)], f.name, { type: f.type })))),
      );
      const root = dirEntry(rootName, subdirs);
      const ev = new Event('drop', { bubbles: true, cancelable: true });
      Object.defineProperty(ev, 'dataTransfer', {
        value: { items: [{ kind: 'file', webkitGetAsEntry: () => root }], files: [] },
      });
      el.dispatchEvent(ev);
    },
    { rootName, payload },
  );
}

/** Chooses a file through the file picker a drop zone opens. @param {import('playwright-core').Page} page @param {string} selector @param {string} file */
export async function chooseFile(page, selector, file) {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click(selector)]);
  await chooser.setFiles(file);
}

/**
 * Where the walk-through (ui.test.mjs) leaves what it made for the screen tour (views.test.mjs):
 * the owner's credentials, the application and its services, the second user.
 */
export const STATE_FILE = process.env.VISAGE_E2E_STATE ?? path.join(SHOTS, 'walk-through-state.json');

const AXE_SOURCE = fs.readFileSync(path.resolve(here, '..', '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page and returns its serious and critical violations, one line each.
 * axe is evaluated through the DevTools protocol, which the front door's Content-Security-Policy
 * (script-src 'self', no inline scripts) does not govern: no `bypassCSP` is needed, and the page
 * is checked under the policy it really runs with.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<string[]>}
 */
export async function seriousA11yViolations(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    // @ts-expect-error axe is defined by the script evaluated above
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((/** @type {any} */ v) => v.impact === 'serious' || v.impact === 'critical')
      .map((/** @type {any} */ v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 4).map((/** @type {any} */ n) => n.target.join(' ')).join(' | ')}`);
  });
}

/**
 * How far the page scrolls sideways (0 when it fits its viewport).
 * @param {import('playwright-core').Page} page
 */
export async function sidewaysOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}
