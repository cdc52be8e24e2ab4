import test from 'node:test';
import assert from 'node:assert/strict';
import { parseThemeChoice, resolveTheme, THEME_CHOICES } from '../../src/lib/theme.js';
import { pageTitle } from '../../src/lib/title.js';

test('theme: a stored choice read back; anything else follows the system', () => {
  assert.deepEqual(THEME_CHOICES, ['light', 'dark', 'system']);
  assert.equal(parseThemeChoice('dark'), 'dark');
  assert.equal(parseThemeChoice('light'), 'light');
  assert.equal(parseThemeChoice('system'), 'system');
  assert.equal(parseThemeChoice(null), 'system');
  assert.equal(parseThemeChoice('DARK'), 'system');
});

test('theme: "system" resolves to what the system prefers, a fixed choice does not', () => {
  assert.equal(resolveTheme('system', true), 'dark');
  assert.equal(resolveTheme('system', false), 'light');
  assert.equal(resolveTheme('light', true), 'light');
  assert.equal(resolveTheme('dark', false), 'dark');
});

test('page titles: screen, service, application, product', () => {
  assert.equal(pageTitle('/login'), 'Log In · Visage');
  assert.equal(pageTitle('/sign-up'), 'Sign Up · Visage');
  assert.equal(pageTitle('/'), 'Applications · Visage');
  assert.equal(pageTitle('/application', { app: 'Front door' }), 'Front door · Visage');
  assert.equal(pageTitle('/dashboard', { app: 'Front door', service: 'Staff' }), 'Dashboard · Staff · Front door · Visage');
  assert.equal(pageTitle('/test-model', { app: 'Front door', service: 'Staff' }), 'Test · Staff · Front door · Visage');
  assert.equal(pageTitle('/manage-collection', { app: 'Front door', service: 'Staff' }), 'Face Collection · Staff · Front door · Visage');
  assert.equal(pageTitle('/dashboard'), 'Dashboard · Visage', 'names not loaded yet');
  assert.equal(pageTitle('/dashboard', { starting: true }), 'Starting · Visage');
  assert.equal(pageTitle('/nowhere'), 'Visage');
});
