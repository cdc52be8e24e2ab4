// The API browsers behind the front door ($VISAGE_URL): Swagger UI of the admin API at
// /admin/docs and of the public API at /api/v1/docs render their documents (title, operations,
// the Authorize button), and keep no credentials in the browser. They only read: the stack stays
// fresh for the walk-through of ui.test.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, launch, newPage, screenshot } from './browser.mjs';

const skip = BASE_URL ? false : 'VISAGE_URL is not set';

/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  if (skip) return;
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/**
 * Opens `path` and checks Swagger UI shows `title`, the operation `method path` with its
 * summary, and the Authorize button.
 * @param {string} path @param {string} title @param {string} method @param {string} operation @param {string} summary
 * @param {string} shot
 */
async function rendersDocs(path, title, method, operation, summary, shot) {
  const { context, page, errors } = await newPage(browser);
  try {
    const answer = await page.goto(path);
    assert.equal(answer?.status(), 200);
    await page.locator('.swagger-ui .info .title').getByText(title).waitFor();
    const op = page.locator(`.opblock-${method.toLowerCase()}`, { has: page.locator(`[data-path="${operation}"]`) });
    await op.first().waitFor();
    assert.match(await op.first().innerText(), new RegExp(summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await page.getByRole('button', { name: 'Authorize' }).first().waitFor();
    await screenshot(page, shot);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
}

test('the admin API browser at /admin/docs shows the document and its operations', { skip }, async () => {
  await rendersDocs(
    '/admin/docs',
    'Visage admin API',
    'POST',
    '/admin/oauth/token',
    'Log in or refresh the session',
    'docs-admin',
  );
});

test('the public API browser at /api/v1/docs shows the document and its operations', { skip }, async () => {
  await rendersDocs(
    '/api/v1/docs',
    'Visage public API',
    'POST',
    '/api/v1/recognition/subjects',
    'Add a subject',
    'docs-api',
  );
});

test('Swagger UI keeps no credentials in the browser: after Authorize and a reload, localStorage holds no key', { skip }, async () => {
  const { context, page, errors } = await newPage(browser);
  const key = '00000000-0000-0000-0000-00000000c0de';
  try {
    await page.goto('/api/v1/docs');
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    const dialog = page.locator('.dialog-ux .modal-ux');
    await dialog.locator('input').first().fill(key);
    await dialog.locator('.auth-btn-wrapper button.authorize').first().click();
    // Authorised: the form shows the scheme as such, its value hidden.
    await dialog.getByText('Authorized', { exact: true }).first().waitFor();
    await screenshot(page, 'docs-authorized');
    await dialog.locator('.auth-btn-wrapper button.btn-done').first().click();
    await page.reload();
    await page.getByRole('button', { name: 'Authorize' }).first().waitFor();
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    assert.ok(!stored.includes(key), `the key is kept in the browser: ${stored}`);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
