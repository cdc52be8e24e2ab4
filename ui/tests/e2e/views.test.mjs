// The screen tour, after the walk-through (ui.test.mjs), with what it made (STATE_FILE): every
// screen in the light and the dark theme, on a desktop (1280×900) and a phone (390×844). Each
// screen is checked for its document title, for sideways scrolling (also at 360×740 on phones)
// and with axe-core (serious or critical violations fail), and saved as
// tour-<screen>-<light|dark>-<desktop|phone>.png. Then the keyboard: the skip link, the drawer on
// a phone, the user menu, a dialog's focus, and the theme switch kept across a reload.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { BASE_URL, STATE_FILE, launch, newPage, logIn, waitReady, screenshot, seriousA11yViolations, sidewaysOverflow } from './browser.mjs';

const skip = BASE_URL ? false : 'VISAGE_URL is not set';
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const SMALL_PHONE = { width: 360, height: 740 };

/** @type {import('playwright-core').Browser} */
let browser;
/** @type {{ owner: {email: string, password: string, firstName: string, lastName: string}, member: {firstName: string}, app: {id: string, name: string}, recognition: {id: string, name: string} }} */
let state;
/** Test pages of the services, by type, read from the application page. */
/** @type {Record<string, string>} */
const testPages = {};

before(async () => {
  if (skip) return;
  assert.ok(fs.existsSync(STATE_FILE), `${STATE_FILE} is written by ui.test.mjs, which runs first`);
  state = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/**
 * Checks the screen shown now and saves it. Sideways scrolling and axe's findings are collected
 * in `problems` (the tour goes on, and its test fails at the end with all of them).
 * @param {import('playwright-core').Page} page
 * @param {{ name: string, title?: string | RegExp, theme: string, device: 'desktop' | 'phone', small?: boolean, problems: string[] }} s
 */
async function check(page, { name, title, theme, device, small = false, problems }) {
  const where = `${name} (${theme}, ${device})`;
  if (title !== undefined) {
    if (typeof title === 'string') await page.waitForFunction((t) => document.title === t, title).catch(() => {});
    const actual = await page.title();
    if (typeof title === 'string') assert.equal(actual, title, `title of ${where}`);
    else assert.match(actual, title, `title of ${where}`);
  }
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme, `data-theme of ${where}`);
  assert.equal(await page.locator('main').count(), 1, `one main landmark on ${where}`);
  const wide = await sidewaysOverflow(page);
  if (wide > 0) problems.push(`${where} scrolls sideways by ${wide} px`);
  if (small) {
    await page.setViewportSize(SMALL_PHONE);
    const overflow = await sidewaysOverflow(page);
    await page.setViewportSize(PHONE);
    if (overflow > 0) problems.push(`${name} (${theme}) scrolls sideways by ${overflow} px at 360×740`);
  }
  const violations = await seriousA11yViolations(page);
  for (const v of violations) problems.push(`axe on ${where}: ${v}`);
  await screenshot(page, `tour-${name}-${theme}-${device}`);
}

/** @param {import('playwright-core').Page} page @param {string} label */
async function openDialog(page, label) {
  await page.getByRole('button', { name: label, exact: true }).click();
  await page.locator('dialog[open]').waitFor();
}

/** @param {import('playwright-core').Page} page */
async function closeDialog(page) {
  await page.keyboard.press('Escape');
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
}

for (const theme of /** @type {const} */ (['light', 'dark'])) {
  for (const device of /** @type {const} */ (['desktop', 'phone'])) {
    test(`screen tour: ${theme}, ${device}`, { skip }, async () => {
      const { context, page, errors } = await newPage(browser, { viewport: device === 'phone' ? PHONE : DESKTOP, colorScheme: theme });
      const phone = device === 'phone';
      /** @type {string[]} */
      const problems = [];
      const at = { theme, device, problems };
      const app = state.app.name;
      const svc = state.recognition.name;
      const q = `app=${state.app.id}&model=${state.recognition.id}&type=RECOGNITION`;

      // The start-up screen, while the core node does not answer.
      await page.route('**/core/status', (r) => r.fulfill({ status: 502, body: '' }));
      await page.goto('/login');
      await page.locator('[data-node=node_core][data-state=error]').waitFor();
      await check(page, { name: 'starting', title: 'Starting · Visage', ...at });
      await page.unroute('**/core/status');

      await page.goto('/login');
      await waitReady(page);
      await page.locator('#login-email').waitFor();
      await check(page, { name: 'login', title: 'Log In · Visage', small: phone, ...at });
      await page.goto('/sign-up');
      await page.locator('#su-email').waitFor();
      await check(page, { name: 'sign-up', title: 'Sign Up · Visage', small: phone, ...at });
      await page.goto('/sign-up/confirm?email=someone%40example.com');
      await page.getByRole('heading', { name: 'Confirm your e-mail' }).waitFor();
      await check(page, { name: 'sign-up-confirm', title: 'Confirm your e-mail · Visage', ...at });
      await page.goto('/reset-password?token=0123456789abcdef');
      await page.getByRole('heading', { name: 'Set a new password' }).waitFor();
      await check(page, { name: 'reset-password', title: 'Set a new password · Visage', small: phone, ...at });
      // The demo, while its key works (it sends the visitor elsewhere when it does not).
      await page.goto('/demo');
      await page.locator('[data-testid^=drop-]').or(page.locator('#login-email')).first().waitFor();
      if (new URL(page.url()).pathname === '/demo') await check(page, { name: 'demo', title: 'Demo · Visage', small: phone, ...at });

      await logIn(page, state.owner);
      await page.goto('/');
      await page.locator(`a[title="${app}"]`).waitFor();
      await check(page, { name: 'applications', title: 'Applications · Visage', small: phone, ...at });
      await page.getByRole('button', { name: 'User menu' }).click();
      await page.getByRole('menu').waitFor();
      await check(page, { name: 'user-menu', ...at });
      await page.keyboard.press('Escape');
      await openDialog(page, 'Manage Users');
      await page.getByTestId('user-row').first().waitFor();
      await check(page, { name: 'manage-users', ...at });
      await closeDialog(page);

      await page.goto('/create-application');
      await page.locator('#wz-app, #wz-svc').first().waitFor();
      await check(page, { name: 'wizard', title: 'Create Application · Visage', ...at });

      await page.goto(`/application?app=${state.app.id}`);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=service-row]').length >= 3);
      await page.waitForFunction((name) => document.title.startsWith(name), app);
      await check(page, { name: 'application', title: `${app} · Visage`, small: phone, ...at });
      for (const row of await page.getByTestId('service-row').all()) {
        const href = (await row.getByRole('link', { name: 'Test', exact: true }).getAttribute('href')) ?? '';
        testPages[new URL(href, BASE_URL).searchParams.get('type') ?? ''] = href;
      }
      await openDialog(page, 'Application members');
      await page.getByTestId('member-row').first().waitFor();
      await check(page, { name: 'members', ...at });
      await closeDialog(page);
      await openDialog(page, 'Application settings');
      await page.getByTestId('app-key').waitFor();
      await check(page, { name: 'app-settings', ...at });
      await closeDialog(page);

      await page.goto(`/dashboard?${q}`);
      await page.getByTestId('image-count').waitFor();
      await page.getByTestId('chart-days').or(page.getByTestId('no-data')).first().waitFor();
      await check(page, { name: 'dashboard', title: `Dashboard · ${svc} · ${app} · Visage`, small: phone, ...at });
      if (phone) {
        await page.getByRole('button', { name: 'Service menu' }).click();
        await page.locator('#service-menu a').first().waitFor();
        await check(page, { name: 'drawer', ...at });
        await page.keyboard.press('Escape');
      }

      for (const type of ['RECOGNITION', 'VERIFY', 'DETECTION']) {
        assert.ok(testPages[type], `a ${type} service on the application page`);
        await page.goto(testPages[type]);
        await page.locator('[data-testid^=drop-]').first().waitFor();
        await check(page, { name: `test-${type.toLowerCase()}`, title: new RegExp(`^Test · .+ · ${app.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} · Visage$`), small: phone, ...at });
      }

      await page.goto(`/manage-collection?${q}`);
      await page.getByTestId('subject').first().waitFor();
      // Thumbnails load as they scroll into view: bring the grid's end into view so that a
      // full-page screenshot shows them all.
      await page.locator('[data-testid=images] li').last().scrollIntoViewIfNeeded();
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid=images] [data-testid=thumb] img').length === document.querySelectorAll('[data-testid=images] [data-testid=thumb]').length,
        null,
        { timeout: 15_000 },
      );
      await check(page, { name: 'collection', title: `Face Collection · ${svc} · ${app} · Visage`, small: phone, ...at });
      // The lightbox over the collection: the first face, large, with its box.
      await page.locator('[data-testid=images] button.open').first().click();
      await page.getByTestId('lightbox-box').waitFor({ timeout: 15_000 });
      await check(page, { name: 'lightbox', small: phone, ...at });
      await closeDialog(page);

      assert.deepEqual(problems, [], problems.join('\n'));
      assert.deepEqual(errors, []);
      await context.close();
    });
  }
}

test('keyboard: the skip link moves focus to the page', { skip }, async () => {
  const { context, page } = await newPage(browser, { viewport: DESKTOP, colorScheme: 'light' });
  await logIn(page, state.owner);
  await page.goto(`/application?app=${state.app.id}`);
  await page.getByTestId('service-row').first().waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  assert.ok(await page.getByRole('link', { name: 'Skip to content' }).isVisible(), 'visible while focused');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'MAIN');
  // The next Tab lands inside the page, past the toolbar.
  await page.keyboard.press('Tab');
  assert.ok(await page.evaluate(() => !!document.activeElement?.closest('main')));
  await context.close();
});

test('keyboard: the service menu is a drawer on a phone', { skip }, async () => {
  const { context, page } = await newPage(browser, { viewport: PHONE, colorScheme: 'light' });
  await logIn(page, state.owner);
  await page.goto(`/dashboard?app=${state.app.id}&model=${state.recognition.id}&type=RECOGNITION`);
  await page.getByTestId('image-count').waitFor();
  const button = page.getByRole('button', { name: 'Service menu' });
  const nav = page.locator('#service-menu');
  assert.equal(await button.getAttribute('aria-controls'), 'service-menu');
  assert.equal(await button.getAttribute('aria-expanded'), 'false');
  assert.equal(await nav.isVisible(), false, 'closed, the menu takes no room');
  assert.equal((await page.locator('main').boundingBox())?.width, PHONE.width, 'the page has the whole width');

  await button.focus();
  await page.keyboard.press('Enter');
  assert.equal(await button.getAttribute('aria-expanded'), 'true');
  assert.ok(await nav.isVisible());
  await page.waitForFunction(() => document.activeElement?.closest('#service-menu') !== null);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Dashboard');
  await page.keyboard.press('Escape');
  assert.equal(await button.getAttribute('aria-expanded'), 'false');
  assert.equal(await nav.isVisible(), false);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-controls')), 'service-menu', 'focus is back on the button');

  // A click beside it closes it; a link in it goes there and closes it.
  await page.keyboard.press('Enter');
  assert.ok(await nav.isVisible());
  await page.mouse.click(PHONE.width - 10, PHONE.height / 2);
  assert.equal(await nav.isVisible(), false);
  await button.click();
  await nav.getByRole('link', { name: 'Test' }).click();
  await page.waitForURL(/\/test-model\?/);
  assert.equal(await nav.isVisible(), false);
  assert.equal(await button.getAttribute('aria-expanded'), 'false');
  await context.close();
});

test('keyboard: the user menu and a dialog', { skip }, async () => {
  const { context, page } = await newPage(browser, { viewport: DESKTOP, colorScheme: 'light' });
  await logIn(page, state.owner);
  await page.goto(`/application?app=${state.app.id}`);
  await page.getByTestId('service-row').first().waitFor();
  const user = page.getByRole('button', { name: 'User menu' });
  const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');

  await user.focus();
  await page.keyboard.press('ArrowDown');
  assert.equal(await user.getAttribute('aria-expanded'), 'true');
  assert.equal(await focused(), 'Change profile');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(), 'Change Password');
  await page.keyboard.press('End');
  assert.equal(await focused(), 'Logout');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(), 'Change profile', 'the arrows wrap around');
  await page.keyboard.press('ArrowUp');
  assert.equal(await focused(), 'Logout');
  await page.keyboard.press('Home');
  assert.equal(await focused(), 'Change profile');
  await page.keyboard.press('Escape');
  assert.equal(await page.getByRole('menu').count(), 0);
  assert.equal(await user.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-controls')), 'user-menu', 'focus is back on the button');
  await page.keyboard.press('Enter');
  assert.equal(await focused(), 'Change profile');
  await page.keyboard.press('Tab');
  assert.equal(await page.getByRole('menu').count(), 0, 'Tab leaves the menu and closes it');

  // A dialog: focus moves in and stays there; Escape closes it and gives focus back.
  const members = page.getByRole('button', { name: 'Application members', exact: true });
  await members.focus();
  await page.keyboard.press('Enter');
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press('Tab');
    assert.ok(await page.evaluate(() => !!document.activeElement?.closest('dialog[open]')), `focus left the dialog after ${i + 1} Tab`);
  }
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Application members');
  // From the user menu, a dialog gives focus back to the menu's button.
  await user.click();
  await page.getByRole('menuitem', { name: 'Change Password' }).click();
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-controls')), 'user-menu');
  await context.close();
});

test('theme switch: light, dark, the system; kept across a reload', { skip }, async () => {
  const { context, page } = await newPage(browser, { viewport: DESKTOP, colorScheme: 'dark' });
  await logIn(page, state.owner);
  await page.goto('/');
  await page.locator(`a[title="${state.app.name}"]`).waitFor();
  const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const choose = async (/** @type {string} */ name) => {
    await page.getByRole('button', { name: 'User menu' }).click();
    await page.getByRole('menuitemradio', { name }).click();
  };
  assert.equal(await theme(), 'dark', 'a dark system, nothing chosen');
  assert.equal(await background(), 'rgb(18, 22, 29)');

  await choose('Light');
  assert.equal(await theme(), 'light');
  assert.equal(await background(), 'rgb(244, 246, 250)');
  assert.equal(await page.evaluate(() => localStorage.getItem('visage.theme')), 'light');
  await page.reload();
  await page.locator(`a[title="${state.app.name}"]`).waitFor();
  assert.equal(await theme(), 'light', 'kept across a reload');
  assert.equal(await background(), 'rgb(244, 246, 250)');
  await page.getByRole('button', { name: 'User menu' }).click();
  assert.equal(await page.getByRole('menuitemradio', { name: 'Light' }).getAttribute('aria-checked'), 'true');
  assert.equal(await page.getByRole('menuitemradio', { name: 'Dark' }).getAttribute('aria-checked'), 'false');
  await page.keyboard.press('Escape');

  await choose('Same as the system');
  assert.equal(await theme(), 'dark');
  assert.equal(await page.evaluate(() => localStorage.getItem('visage.theme')), null);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
  await choose('Dark');
  assert.equal(await theme(), 'dark');
  await page.reload();
  await page.locator(`a[title="${state.app.name}"]`).waitFor();
  assert.equal(await theme(), 'dark', 'a light system, dark chosen');
  assert.equal(await background(), 'rgb(18, 22, 29)');
  await context.close();
});
